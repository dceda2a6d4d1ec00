"""Spatially blocked train / validation / test splits.

Random pixel splits leak: neighbouring pixels share speckle filtering windows,
coherence estimation windows and parcels, so a model is tested on what it trained on
(Roberts et al. 2017, Ecography 40:913, "Cross-validation strategies for data with
temporal, spatial, hierarchical, or phylogenetic structure"). Here the grid is cut into
``block x block`` pixel blocks; a seeded shuffle assigns whole blocks to the splits in
proportion to the target fractions; then every pixel whose Chebyshev (chessboard)
distance to a pixel of another split is at most ``ceil(buffer / 2)`` becomes
*unassigned* (0). Both sides of a split border lose ``ceil(buffer/2)`` pixels, so any
two pixels of different splits end at least ``buffer + 1`` pixels apart: no window of
half-width ``buffer`` (a filter, a chip, a coherence estimator) straddles two splits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from sarbd.dataset.blocks import as_blocks, grid_chunks
from sarbd.dataset.classes import SPLIT_NAMES, check_classes, split_attrs
from sarbd.errors import ConfigError

__all__ = ["DEFAULT_FRACTIONS", "assign_splits", "split_class_balance"]

#: Default target fractions of the blocks.
DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.7, "validation": 0.15, "test": 0.15}
_SPLIT_IDS = {name: k for k, name in SPLIT_NAMES.items() if k}


def _block_counts(n_blocks: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Blocks per split by largest remainders, every split with a positive fraction getting >= 1."""
    names = [n for n in ("train", "validation", "test") if fractions.get(n, 0.0) > 0]
    raw = np.array([fractions[n] for n in names], float)
    raw = raw / raw.sum() * n_blocks
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts))[: n_blocks - counts.sum()]:
        counts[i] += 1
    for i in range(len(names)):  # no empty split when there are enough blocks
        if counts[i] == 0 and n_blocks >= len(names):
            counts[i] = 1
            counts[np.argmax(counts)] -= 1
    return dict(zip(names, counts.tolist(), strict=True))


def assign_splits(
    template: xr.DataArray | tuple[int, int],
    block: int,
    buffer: int,
    fractions: Mapping[str, float] | None = None,
    seed: int = 0,
) -> xr.DataArray:
    """The ``split`` raster: 0 unassigned (buffer), 1 train, 2 validation, 3 test.

    Parameters
    ----------
    template
        A ``(line, pixel)`` DataArray whose coordinates the result takes, or a shape.
    block
        Block size B, pixels (blocks are B x B, aligned to the grid's first pixel).
    buffer
        Minimum number of unassigned pixels between pixels of different splits.
    fractions
        Target fractions of blocks for ``train``, ``validation``, ``test`` (normalised;
        a split may be left out with 0).
    seed
        Seed of the block shuffle (NumPy ``default_rng``).
    """
    fractions = dict(DEFAULT_FRACTIONS if fractions is None else fractions)
    unknown = set(fractions) - set(_SPLIT_IDS)
    if unknown:
        raise ConfigError(
            f"unknown split name(s) {sorted(unknown)}", hint="use train, validation, test"
        )
    if any(v < 0 for v in fractions.values()) or sum(fractions.values()) <= 0:
        raise ConfigError(f"split fractions must be >= 0 and not all 0, got {fractions}")
    if block < 1 or buffer < 0:
        raise ConfigError(f"split block must be >= 1 and buffer >= 0, got {block}, {buffer}")
    if buffer >= block:
        raise ConfigError(
            f"split buffer ({buffer}) must be smaller than the block ({block})",
            hint="larger blocks or a smaller buffer",
        )
    if isinstance(template, xr.DataArray):
        shape = (template.sizes["line"], template.sizes["pixel"])
        coords = {k: v for k, v in template.coords.items() if set(v.dims) <= {"line", "pixel"}}
        chunks = grid_chunks(shape, template.transpose("line", "pixel"))
    else:
        shape, coords = (int(template[0]), int(template[1])), {}
        chunks = grid_chunks(shape)
    nb = (math.ceil(shape[0] / block), math.ceil(shape[1] / block))
    n_blocks = nb[0] * nb[1]
    counts = _block_counts(n_blocks, fractions)
    order = np.random.default_rng(seed).permutation(n_blocks)
    block_split = np.zeros(n_blocks, np.uint8)
    start = 0
    for name, n in counts.items():
        block_split[order[start : start + n]] = _SPLIT_IDS[name]
        start += n
    grid = block_split.reshape(nb)
    half = math.ceil(buffer / 2)
    out = da.map_blocks(
        _split_block, chunks=chunks, dtype=np.uint8, grid=grid, block=block, half=half, shape=shape
    )
    if not isinstance(template, xr.DataArray) or not isinstance(template.data, da.Array):
        out = out.compute()
    attrs = split_attrs()
    attrs.update(
        {
            "sarbd_split_block": int(block),
            "sarbd_split_buffer": int(buffer),
            "sarbd_split_seed": int(seed),
            "sarbd_split_fractions": json.dumps(
                {str(k): float(v) for k, v in dict(fractions).items()}
            ),
        }
    )
    return xr.DataArray(out, dims=("line", "pixel"), coords=coords, name="split", attrs=attrs)


def _split_block(
    *, grid: np.ndarray, block: int, half: int, shape: tuple[int, int], block_info: Any = None
) -> np.ndarray:
    """One block of the split raster: the block grid, less the pixels within chessboard
    distance ``half`` of a pixel of another split.

    A pixel has a pixel of another split within ``half`` exactly when the split's minimum
    and maximum over the ``(2 half + 1)^2`` window around it (clipped to the image) differ;
    the window reads the grid ``half`` pixels beyond the block, so blocks join seamlessly.
    """
    from scipy import ndimage

    (l0, l1), (p0, p1) = block_info[None]["array-location"]
    e0, e1 = max(l0 - half, 0), min(l1 + half, shape[0])
    f0, f1 = max(p0 - half, 0), min(p1 + half, shape[1])
    split = grid[np.arange(e0, e1)[:, None] // block, np.arange(f0, f1)[None, :] // block]
    if half > 0:
        size = 2 * half + 1  # "nearest" repeats edge pixels, which the clipped window holds anyway
        mixed = ndimage.maximum_filter(split, size, mode="nearest") != ndimage.minimum_filter(
            split, size, mode="nearest"
        )
        split = np.where(mixed, 0, split).astype(np.uint8)
    return np.ascontiguousarray(split[l0 - e0 : l1 - e0, p0 - f0 : p1 - f0])


def split_class_balance(
    split: xr.DataArray, labels: xr.DataArray, classes: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """Pixels per class (columns) and split (rows), with each split's share of every class."""
    classes = check_classes(classes)
    s = split.transpose("line", "pixel")
    chunks = grid_chunks((s.sizes["line"], s.sizes["pixel"]), s, labels.transpose("line", "pixel"))
    code = as_blocks(s, chunks).astype(np.int64) * 256 + as_blocks(
        labels.transpose("line", "pixel"), chunks
    ).astype(np.int64)
    table = np.asarray(da.bincount(code.ravel(), minlength=4 * 256).compute())[: 4 * 256].reshape(
        4, 256
    )
    df = pd.DataFrame(
        {c["name"]: table[1:, c["id"]] for c in classes},
        index=pd.Index([SPLIT_NAMES[k] for k in (1, 2, 3)], name="split"),
    )
    df["total"] = df.sum(axis=1)
    return df
