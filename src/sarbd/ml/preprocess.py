"""Feature normalisation fitted on the training split only, stored with the model.

Steps, in order (fitted on training pixels, then applied unchanged to every pixel):

1. non-finite values become NaN (the dataset contract allows NaN for undefined values);
2. strictly positive features spanning more than two decades (99th/1st percentile
   > 100, e.g. sigma0 or intensities in linear power) are converted to decibels,
   ``10 log10(x)``, as the AlignSAR recipe does for amplitudes (Zhang et al. 2025) --
   standardising a heavy-tailed linear power crushes most pixels into a few values;
3. NaN are imputed with the training median of the (transformed) feature, and for each
   feature that had NaN in training a 0/1 "missing" channel ``<feature>:missing`` is
   appended, so a model can tell an imputed value from a measured one;
4. z-score: ``(x - mean) / std`` with the training mean and standard deviation
   (after imputation); a constant feature gets ``std = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Preprocessor"]

_LOG_RATIO = 100.0


@dataclass
class Preprocessor:
    """Training-split statistics and the transform they define (see the module docstring)."""

    features: list[str]
    log_features: list[str] = field(default_factory=list)
    median: list[float] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    mask_features: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, X: np.ndarray, features: list[str]) -> Preprocessor:
        """Fit on raw training features ``X`` (n, F)."""
        X = np.array(X, np.float64, copy=True)
        X[~np.isfinite(X)] = np.nan
        log_features = []
        for k, name in enumerate(features):
            col = X[:, k]
            col = col[np.isfinite(col)]
            if col.size and col.min() > 0:
                lo, hi = np.percentile(col, [1, 99])
                if hi / lo > _LOG_RATIO:
                    log_features.append(name)
        p = cls(list(features), log_features)
        Z = p._log(X)
        missing = np.isnan(Z)
        median = (
            np.nanmedian(np.where(np.all(missing, axis=0), 0.0, Z), axis=0)
            if Z.size
            else np.zeros(len(features))
        )
        median = np.where(np.isfinite(median), median, 0.0)
        Z = np.where(missing, median, Z)
        mean = Z.mean(axis=0) if Z.shape[0] else np.zeros(len(features))
        std = Z.std(axis=0) if Z.shape[0] else np.ones(len(features))
        std = np.where(std > 0, std, 1.0)
        p.median, p.mean, p.std = median.tolist(), mean.tolist(), std.tolist()
        p.mask_features = [f for f, m in zip(features, missing.any(axis=0), strict=True) if m]
        return p

    def _log(self, X: np.ndarray) -> np.ndarray:
        Z = np.array(X, np.float64, copy=True)
        Z[~np.isfinite(Z)] = np.nan
        for name in self.log_features:
            k = self.features.index(name)
            col = Z[:, k]
            with np.errstate(divide="ignore", invalid="ignore"):
                Z[:, k] = np.where(col > 0, 10.0 * np.log10(np.where(col > 0, col, 1.0)), np.nan)
        return Z

    @property
    def channels(self) -> list[str]:
        """Names of the model inputs: the features, then the missing-value channels."""
        return [*self.features, *(f"{f}:missing" for f in self.mask_features)]

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Raw features (n, F) -> model inputs (n, C) float32."""
        Z = self._log(X)
        missing = np.isnan(Z)
        Z = np.where(missing, np.asarray(self.median), Z)
        Z = (Z - np.asarray(self.mean)) / np.asarray(self.std)
        if self.mask_features:
            idx = [self.features.index(f) for f in self.mask_features]
            Z = np.concatenate([Z, missing[:, idx].astype(np.float64)], axis=1)
        return Z.astype(np.float32)

    def transform_image(self, image: np.ndarray) -> np.ndarray:
        """Raw features (F, H, W) -> model inputs (C, H, W) float32."""
        f, h, w = image.shape
        flat = self.transform(image.reshape(f, h * w).T)
        return np.ascontiguousarray(flat.T.reshape(-1, h, w))

    def to_dict(self) -> dict:
        return {
            "features": self.features,
            "log_features": self.log_features,
            "median": self.median,
            "mean": self.mean,
            "std": self.std,
            "mask_features": self.mask_features,
            "channels": self.channels,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessor:
        return cls(
            list(d["features"]),
            list(d["log_features"]),
            list(d["median"]),
            list(d["mean"]),
            list(d["std"]),
            list(d["mask_features"]),
        )
