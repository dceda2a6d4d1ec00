"""Sequence models on ``timeseries.zarr``: a PyTorch dataset of per-pixel ``(time, features)``
series and a small temporal 1-D CNN trained from scratch.

- :class:`SequenceData` opens the layout (:mod:`sarbd.dataset.timeseries`) lazily and gathers
  the series of chosen pixels by chunk rows, so memory is bounded by the pixels asked for.
- :class:`SequenceDataset` yields ``(x, y)``: ``x`` float32 ``(time, features)`` standardised
  with the training split's per-feature mean and std (over pixels and dates, NaN ignored),
  NaN then replaced by 0 (the training mean); ``y`` int64 class index (0..n-1).
- :class:`SequenceChipDataset` yields chips of series, ``(time, features, S, S)``, with their
  class mask, for spatio-temporal models.
- :class:`TemporalCNN`: two 1-D convolutions over time (kernel 3, ReLU) and a global
  average + max pooling over time, then a linear layer; a 1-D CNN of the kind used as
  baseline for SAR/optical time-series classification (Pelletier, Webb & Petitjean 2019,
  "Temporal Convolutional Neural Network for the Classification of Satellite Image Time
  Series", Remote Sensing 11(5):523), shrunk for CPU. Pooling over time makes it accept
  any number of dates.
- :func:`fit_sequence_model`: Adam, class-weighted cross-entropy (weights ``n / (K n_k)``),
  the epoch with the best validation macro F1 kept; deterministic under :func:`deterministic`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import nn
from torch.utils.data import Dataset

from sarbd.errors import InputError
from sarbd.ml.data import ClassInfo
from sarbd.ml.fit import deterministic

__all__ = [
    "SequenceChipDataset",
    "SequenceData",
    "SequenceDataset",
    "SequenceNorm",
    "TemporalCNN",
    "fit_sequence_model",
    "predict_sequences",
]


class SequenceData:
    """``timeseries.zarr`` opened lazily: features, days, labels, split, series gathering."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        self.zarr = p if p.suffix == ".zarr" else p / "timeseries.zarr"
        if not self.zarr.exists():
            raise InputError(
                "no timeseries.zarr",
                path=self.zarr,
                hint="write it with sarbd.dataset.timeseries.write_timeseries(DATASET)",
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*consolidated metadata.*")
            self.ds = xr.open_dataset(self.zarr, engine="zarr", chunks=None, cache=False)
        if "x" not in self.ds or self.ds["x"].dims != ("line", "pixel", "time", "feature"):
            raise InputError(
                "not a SARbd time-series store (no x(line, pixel, time, feature))", path=self.zarr
            )
        self.features = [str(f) for f in self.ds["feature"].values]
        self.days = np.asarray(self.ds["days"].values, np.float32)
        self.shape = (self.ds.sizes["line"], self.ds.sizes["pixel"])
        self.chunk_lines = int((self.ds["x"].encoding.get("chunks") or (64,))[0])

    def labels(self, level: str) -> np.ndarray:
        var = f"label_{level.lower()}"
        if var not in self.ds:
            raise InputError(f"timeseries.zarr has no {var}", path=self.zarr)
        return np.asarray(self.ds[var].values, np.uint8)

    def split(self) -> np.ndarray:
        return np.asarray(self.ds["split"].values, np.uint8)

    def gather(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Series ``(n, time, feature)`` float32 of array positions, read by bands of chunk rows."""
        out = np.empty((rows.size, self.days.size, len(self.features)), np.float32)
        step = max(1, self.chunk_lines)
        for r0 in range(0, self.shape[0], step):
            sel = np.nonzero((rows >= r0) & (rows < r0 + step))[0]
            if sel.size == 0:
                continue
            c0, c1 = int(cols[sel].min()), int(cols[sel].max()) + 1
            band = np.asarray(
                self.ds["x"].isel(line=slice(r0, r0 + step), pixel=slice(c0, c1)).values, np.float32
            )
            out[sel] = band[rows[sel] - r0, cols[sel] - c0]
        return out


@dataclass
class SequenceNorm:
    """Per-feature mean and std (training pixels, all dates, NaN ignored)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> SequenceNorm:
        flat = X.reshape(-1, X.shape[-1]).astype(np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN feature: mean 0, std 1
            mean = np.nanmean(flat, axis=0)
            std = np.nanstd(flat, axis=0)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = (X - self.mean) / self.std
        return np.where(np.isfinite(Z), Z, 0.0).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> SequenceNorm:
        return cls(np.asarray(d["mean"], np.float32), np.asarray(d["std"], np.float32))


def class_index_of(labels: np.ndarray, classes: ClassInfo) -> np.ndarray:
    """Class ids -> indices 0..n-1 (error on an id outside ``classes``)."""
    idx = classes.lookup()[labels.astype(np.int64)]
    if (idx < 0).any():
        raise InputError(f"labels outside the class list: {sorted(set(labels[idx < 0].tolist()))}")
    return idx


class SequenceDataset(Dataset):
    """Per-pixel series: item ``i`` is ``(x float32 (time, features), y int64 class index)``.

    Parameters
    ----------
    data
        The opened layout.
    level
        Label level (``L1``/``L2``/``L3``); pixels with label 0 are left out.
    split
        Split code (1 train, 2 validation, 3 test) -- the same spatial split as the
        land-cover task (``dataset.zarr``'s ``split``).
    classes
        The level's classes (row order of the outputs).
    norm
        Standardisation (fitted on the training split; None: fit on this set).
    """

    def __init__(
        self,
        data: SequenceData,
        level: str,
        split: int,
        classes: ClassInfo,
        norm: SequenceNorm | None = None,
    ) -> None:
        labels = data.labels(level)
        rows, cols = np.nonzero((labels > 0) & (data.split() == split))
        raw = data.gather(rows, cols)
        self.rows, self.cols = rows, cols
        self.raw = raw
        self.norm = norm or SequenceNorm.fit(raw)
        self.x = torch.from_numpy(self.norm.transform(raw))
        self.labels = labels[rows, cols]
        self.y = torch.from_numpy(class_index_of(self.labels, classes))

    def __len__(self) -> int:
        return int(self.y.numel())

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


class SequenceChipDataset(Dataset):
    """Chips of series: item ``i`` is ``{"x": float32 (time, features, S, S), "mask": int64 (S, S)}``.

    ``mask`` holds class ids (0 = unlabelled or outside ``split``), so a chip's labels never
    leak pixels of another split. Windows are ``(row0, col0)`` array positions, e.g. the
    chips of one split from :func:`sarbd.ml.data.chip_windows` (the land-cover chip index).
    Standardised with ``norm`` (fit it on the training pixels: :class:`SequenceDataset`).
    """

    def __init__(
        self,
        data: SequenceData,
        level: str,
        split: int,
        windows: list[tuple[int, int]],
        size: int,
        norm: SequenceNorm,
    ) -> None:
        self.data, self.size, self.norm = data, int(size), norm
        self.windows = [(int(r), int(c)) for r, c in windows]
        self.labels = np.where(data.split() == split, data.labels(level), 0).astype(np.int64)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        r0, c0 = self.windows[i]
        s = self.size
        raw = np.asarray(
            self.data.ds["x"].isel(line=slice(r0, r0 + s), pixel=slice(c0, c0 + s)).values,
            np.float32,
        )
        x = self.norm.transform(raw).transpose(2, 3, 0, 1)  # (S, S, T, F) -> (T, F, S, S)
        return {
            "x": torch.from_numpy(np.ascontiguousarray(x)),
            "mask": torch.from_numpy(self.labels[r0 : r0 + s, c0 : c0 + s].copy()),
        }


class TemporalCNN(nn.Module):
    """1-D CNN over time: ``(batch, time, features)`` -> logits ``(batch, n_classes)``.

    Parameters
    ----------
    n_features, n_classes
        Input features per date and output classes.
    width
        Channels of both convolutions.
    dropout
        Dropout before the linear layer.
    """

    def __init__(
        self, n_features: int, n_classes: int, width: int = 32, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(n_features, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(width, width, 3, padding=1),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * width, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x.transpose(1, 2))  # (batch, width, time)
        return self.head(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))


SEQ_DEFAULTS: dict[str, Any] = {
    "epochs": 15,
    "batch_size": 256,
    "lr": 2e-3,
    "width": 32,
    "dropout": 0.2,
    "samples_per_epoch": 50_000,
}


@dataclass
class FittedSequence:
    net: TemporalCNN
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    hparams: dict[str, Any] = field(default_factory=dict)


def predict_sequences(net: nn.Module, x: torch.Tensor, batch: int = 4096) -> np.ndarray:
    """Class indices ``(n,)`` of standardised series ``x (n, time, features)``."""
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out.append(net(x[i : i + batch]).argmax(1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def _macro_f1(ref: np.ndarray, pred: np.ndarray, n: int) -> float:
    from sklearn.metrics import f1_score

    return (
        float(f1_score(ref, pred, labels=list(range(n)), average="macro", zero_division=0))
        if ref.size
        else 0.0
    )


def fit_sequence_model(
    train: SequenceDataset | tuple[torch.Tensor, torch.Tensor],
    val: SequenceDataset | tuple[torch.Tensor, torch.Tensor] | None,
    n_classes: int,
    *,
    seed: int = 0,
    threads: int = 1,
    **hparams: Any,
) -> FittedSequence:
    """Train a :class:`TemporalCNN` from scratch; keep the epoch of best validation macro F1.

    ``train``/``val`` are datasets or ``(x (n, T, F) float32, y (n,) int64)`` tensors.
    Each epoch draws ``samples_per_epoch`` series (with replacement, seeded; at most the
    training set size ... times one) and weights the loss by inverse class frequency.
    """
    hp = {**SEQ_DEFAULTS, **{k: v for k, v in hparams.items() if v is not None}}
    xt, yt = (train.x, train.y) if isinstance(train, SequenceDataset) else train
    xv, yv = (
        (val.x, val.y)
        if isinstance(val, SequenceDataset)
        else (val if val is not None else (None, None))
    )
    if yt.numel() == 0:
        raise InputError("no training series")
    with deterministic(seed, threads):
        net = TemporalCNN(xt.shape[2], n_classes, int(hp["width"]), float(hp["dropout"]))
        counts = torch.bincount(yt, minlength=n_classes).double()
        weight = torch.where(
            counts > 0, counts.sum() / (n_classes * counts.clamp(min=1)), torch.zeros_like(counts)
        )
        loss_fn = nn.CrossEntropyLoss(weight=weight.float())
        opt = torch.optim.Adam(net.parameters(), lr=float(hp["lr"]))
        gen = torch.Generator().manual_seed(seed)
        draws = min(int(hp["samples_per_epoch"]), int(yt.numel()))
        best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        history: list[dict[str, float]] = []
        for epoch in range(1, int(hp["epochs"]) + 1):
            net.train()
            order = torch.randperm(int(yt.numel()), generator=gen)[:draws]
            bs = int(hp["batch_size"])
            total = 0.0
            for idx in order.split(bs):
                opt.zero_grad()
                loss = loss_fn(net(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * idx.numel()
            rec = {"epoch": epoch, "train_loss": total / max(draws, 1)}
            if xv is not None and yv is not None and yv.numel():
                rec["val_macro_f1"] = _macro_f1(yv.numpy(), predict_sequences(net, xv), n_classes)
            history.append(rec)
            score = rec.get("val_macro_f1", -rec["train_loss"])
            if best is None or score > best[0]:
                best = (score, epoch, {k: v.clone() for k, v in net.state_dict().items()})
        assert best is not None
        net.load_state_dict(best[2])
        net.eval()
    return FittedSequence(net, history, best[1], hp)
