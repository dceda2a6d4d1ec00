"""PyTorch datasets over a SARbd dataset folder: pixels, chips, and a TorchGeo-style class.

Conventions shared by every dataset here:

- inputs are normalised by a :class:`~sarbd.ml.preprocess.Preprocessor` fitted on the
  training split only (:func:`fit_preprocessor`);
- label masks hold the dataset's class ids (``int64``; 0 = unlabelled *or* outside the
  requested split), so TorchGeo users set ``ignore_index=0`` and ``num_classes = max id + 1``;
  :func:`class_index` maps ids to 0..K-1 with -100 (PyTorch's default ``ignore_index``);
- class balance is obtained by sampling (:func:`balanced_sampler`) or loss weights
  (:func:`class_weights`), never by discarding pixels.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, WeightedRandomSampler

from sarbd.errors import InputError
from sarbd.ml.data import (
    SPLIT_TEST,
    SPLIT_TRAIN,
    SPLIT_VALIDATION,
    ClassInfo,
    Pixels,
    SarbdData,
    chip_windows,
    open_sarbd,
)
from sarbd.ml.preprocess import Preprocessor

__all__ = [
    "ChipDataset",
    "PixelDataset",
    "SARbdSegmentation",
    "balanced_sampler",
    "class_index",
    "class_weights",
    "fit_preprocessor",
]

IGNORE_INDEX = -100


def fit_preprocessor(
    data: SarbdData, level: str, train_pixels: Pixels | None = None
) -> Preprocessor:
    """Normalisation statistics from the labelled pixels of the training split (split == 1) only."""
    px = train_pixels if train_pixels is not None else data.pixels(level, splits=[SPLIT_TRAIN])
    if len(px) == 0:
        raise InputError(f"no labelled training pixels at {level}", path=data.zarr)
    return Preprocessor.fit(px.X, px.features)


def class_index(ids: np.ndarray | torch.Tensor, classes: ClassInfo) -> torch.Tensor:
    """Class ids -> class indices 0..K-1 (int64), unlabelled/unknown -> -100."""
    table = torch.from_numpy(classes.lookup())
    table[table < 0] = IGNORE_INDEX
    t = torch.as_tensor(ids).long()
    return table[t]


def class_weights(labels: np.ndarray, classes: ClassInfo) -> torch.Tensor:
    """Inverse-frequency weights ``n / (K * n_k)`` per class (1 for absent classes)."""
    counts = np.array([(labels == i).sum() for i in classes.ids], np.float64)
    w = np.where(counts > 0, counts.sum() / (classes.n * np.maximum(counts, 1)), 1.0)
    return torch.tensor(w, dtype=torch.float32)


def balanced_sampler(
    labels: np.ndarray, seed: int, num_samples: int | None = None
) -> WeightedRandomSampler:
    """Sample pixels with probability ``1 / n_class`` so every class is drawn equally often.

    Nothing is discarded: over an epoch of ``len(labels)`` draws (with replacement) rare
    classes repeat and frequent ones are subsampled.
    """
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    weights = (1.0 / counts)[inverse]
    gen = torch.Generator().manual_seed(int(seed))
    return WeightedRandomSampler(
        weights.tolist(), num_samples or len(labels), replacement=True, generator=gen
    )


class PixelDataset(Dataset):
    """Per-pixel signature vectors: item ``i`` is ``(x, y)``, ``x`` float32 (C,), ``y`` class index.

    Parameters
    ----------
    pixels
        Raw pixels (:meth:`SarbdData.pixels`), from the Zarr store or the Parquet table.
    preprocessor
        Training-split normalisation.
    classes
        Classes of the level (maps ids to indices).
    """

    def __init__(self, pixels: Pixels, preprocessor: Preprocessor, classes: ClassInfo) -> None:
        self.pixels = pixels
        self.x = torch.from_numpy(preprocessor.transform(pixels.X))
        self.y = class_index(pixels.labels, classes)

    def __len__(self) -> int:
        return int(self.y.numel())

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


class ChipDataset(Dataset):
    """Chips read lazily from ``dataset.zarr``: item ``i`` is a dict

    ``{"image": float32 (C, S, S), "mask": int64 (S, S) class ids, "bounds": (line0, line1, pixel0, pixel1)}``.

    Parameters
    ----------
    data
        The opened dataset.
    windows
        ``(row0, col0)`` array positions of the chips (see :func:`sarbd.ml.data.chip_windows`).
    size
        Chip size S, pixels.
    labels
        Class ids over the scene (uint8); pixels where ``label_mask`` is false read as 0.
    preprocessor
        Training-split normalisation.
    label_mask
        Boolean (line, pixel) mask of the pixels whose labels this dataset may expose
        (e.g. the training split for a training set); None: all.
    cache
        Keep chips in memory after the first read (for multi-epoch training).
    """

    def __init__(
        self,
        data: SarbdData,
        windows: Sequence[tuple[int, int]],
        size: int,
        labels: np.ndarray,
        preprocessor: Preprocessor,
        label_mask: np.ndarray | None = None,
        *,
        cache: bool = False,
    ) -> None:
        self.data = data
        self.windows = [(int(r), int(c)) for r, c in windows]
        self.size = int(size)
        self.labels = (
            labels if label_mask is None else np.where(label_mask, labels, 0).astype(np.uint8)
        )
        self.preprocessor = preprocessor
        self.reader = data.reader()
        self._cache: dict[int, dict[str, Any]] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        r0, c0 = self.windows[i]
        r1, c1 = r0 + self.size, c0 + self.size
        image = self.preprocessor.transform_image(self.reader.read(r0, r1, c0, c1))
        sample = {
            "image": torch.from_numpy(image),
            "mask": torch.from_numpy(self.labels[r0:r1, c0:c1].astype(np.int64)),
            "bounds": (
                int(self.data.line[r0]),
                int(self.data.line[r1 - 1]) + 1,
                int(self.data.pixel[c0]),
                int(self.data.pixel[c1 - 1]) + 1,
            ),
        }
        if self._cache is not None:
            self._cache[i] = sample
        return sample


_SPLITS = {
    "train": SPLIT_TRAIN,
    "val": SPLIT_VALIDATION,
    "validation": SPLIT_VALIDATION,
    "test": SPLIT_TEST,
}


class SARbdSegmentation(Dataset):
    """TorchGeo-compatible semantic-segmentation dataset over a SARbd folder (no torchgeo needed).

    It follows TorchGeo's ``NonGeoDataset`` protocol: ``SARbdSegmentation(root, split=...)``,
    ``len()``, and ``ds[i]`` returning ``{"image": float32 (C, H, W), "mask": int64 (H, W)}``
    (plus ``"bounds"``), with an optional ``transforms`` callable on that dict -- so it drops
    into ``torchgeo.datamodules.NonGeoDataModule`` and ``SemanticSegmentationTask``.

    Radar geometry has no map CRS, so there is no ``crs``/``res``: ``bounds`` is the window in
    absolute radar coordinates, ``(line_start, line_stop, pixel_start, pixel_stop)``
    (half-open, root-grid indices); :meth:`window` reads an arbitrary such window, the way a
    TorchGeo ``GeoDataset`` answers a bounding-box query. Geolocate with the dataset's
    ``latitude``/``longitude`` layers.

    Parameters
    ----------
    root
        SARbd dataset folder.
    split
        ``"train"``, ``"val"`` or ``"test"``: chips of that split (chip index ``split`` column),
        and labels only on pixels of that split.
    level
        Label level, ``L1``/``L2``/``L3``.
    chip_size
        Which ``chips/chips_<size>.parquet`` to use (default: smallest).
    features
        Feature names (default: all signatures).
    transforms
        Callable applied to each sample dict (TorchGeo convention).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        level: str = "L3",
        chip_size: int | None = None,
        features: Sequence[str] | str | None = None,
        transforms: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        preprocessor: Preprocessor | None = None,
    ) -> None:
        if split not in _SPLITS:
            raise InputError(f"unknown split {split!r}", hint="use train, val or test")
        self.data = open_sarbd(root, features)
        self.level = level
        self.classes = self.data.classes(level)
        self.preprocessor = preprocessor or fit_preprocessor(self.data, level)
        code = _SPLITS[split]
        size, windows = chip_windows(self.data, chip_size)
        self._chips = ChipDataset(
            self.data,
            [(r, c) for r, c, s in windows if s == code],
            size,
            self.data.labels(level),
            self.preprocessor,
            self.data.split() == code,
        )
        self.transforms = transforms

    @property
    def num_classes(self) -> int:
        """``max class id + 1`` (id 0 is the ignored "unlabelled")."""
        return max(self.classes.ids) + 1

    @property
    def in_channels(self) -> int:
        return len(self.preprocessor.channels)

    def __len__(self) -> int:
        return len(self._chips)

    def __getitem__(self, i: int) -> dict[str, Any]:
        sample = dict(self._chips[i])
        return self.transforms(sample) if self.transforms is not None else sample

    def window(self, line: slice, pixel: slice) -> dict[str, Any]:
        """Read any window given in absolute radar coordinates (half-open slices)."""
        rows, cols = self.data.positions(
            np.array([line.start, line.stop - 1]), np.array([pixel.start, pixel.stop - 1])
        )
        r0, c0, r1, c1 = int(rows[0]), int(cols[0]), int(rows[1]) + 1, int(cols[1]) + 1
        image = self.preprocessor.transform_image(self._chips.reader.read(r0, r1, c0, c1))
        sample = {
            "image": torch.from_numpy(image),
            "mask": torch.from_numpy(self._chips.labels[r0:r1, c0:c1].astype(np.int64)),
            "bounds": (line.start, line.stop, pixel.start, pixel.stop),
        }
        return self.transforms(sample) if self.transforms is not None else sample
