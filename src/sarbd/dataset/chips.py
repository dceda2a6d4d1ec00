"""Fixed-size chips inside one split's region, and the per-pixel table of labelled pixels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from sarbd.dataset.classes import SPLIT_NAMES, check_classes
from sarbd.errors import ConfigError

__all__ = ["make_chips", "pixel_table"]


class _Taken:
    """Corners of the chips kept so far, hashed by ``size`` cells (overlap test in O(1))."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.cells: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def overlaps(self, l0: int, p0: int) -> bool:
        ci, cj = l0 // self.size, p0 // self.size
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for a, b in self.cells.get((ci + di, cj + dj), ()):
                    if abs(a - l0) < self.size and abs(b - p0) < self.size:
                        return True
        return False

    def add(self, l0: int, p0: int) -> None:
        self.cells.setdefault((l0 // self.size, p0 // self.size), []).append((l0, p0))


class _Candidates:
    def __init__(self, split: np.ndarray, counts: dict[tuple[int, int], np.ndarray]) -> None:
        self.split = split  # (candidate lines, candidate pixels): the one split of the window, or 0
        self.counts = (
            counts  # label counts (of the ids asked for) of each window lying in one split
        )


def _candidates(
    split: xr.DataArray,
    labels: xr.DataArray | None,
    size: int,
    cand_l: np.ndarray,
    cand_p: np.ndarray,
    ids: Sequence[int],
) -> _Candidates:
    """The split of every candidate window (0 when it holds several or the buffer) and the
    counts of label values ``ids`` in it, reading the rasters in bands of lines (bounded memory)."""
    take = np.asarray(ids, np.int64)
    s_data = split.data
    lab_data = None if labels is None else labels.data
    band = int(s_data.chunks[0][0]) if isinstance(s_data, da.Array) else int(split.sizes["line"])
    band = max(band, size)
    out = np.zeros((cand_l.size, cand_p.size), np.uint8)
    counts: dict[tuple[int, int], np.ndarray] = {}
    i = 0
    while i < cand_l.size:
        first = int(cand_l[i])
        sel = np.flatnonzero((cand_l >= first) & (cand_l < first + band))
        last = int(cand_l[sel[-1]]) + size
        s = np.asarray(s_data[first:last]).astype(np.uint8)
        lab = None if lab_data is None else np.asarray(lab_data[first:last])
        for ii in sel:
            r0 = int(cand_l[ii]) - first
            rows = s[r0 : r0 + size]
            lo, hi = rows.min(axis=0), rows.max(axis=0)
            col = np.where(lo == hi, lo, 0)  # the split of each column of the window rows, or 0
            for sid in (1, 2, 3):
                c = np.zeros(col.size + 1, np.int64)
                c[1:] = np.cumsum(col == sid)
                ok = (c[cand_p + size] - c[cand_p]) == size
                out[ii, ok] = sid
            if lab is not None:
                for jj in np.flatnonzero(out[ii]):
                    p0 = int(cand_p[jj])
                    window = lab[r0 : r0 + size, p0 : p0 + size]
                    counts[(int(ii), int(jj))] = np.bincount(
                        window.ravel().astype(np.int64), minlength=256
                    )[take]
        i = int(sel[-1]) + 1
    return _Candidates(out, counts)


def make_chips(
    split: xr.DataArray,
    size: int,
    labels: xr.DataArray | None = None,
    classes: Sequence[Mapping[str, Any]] | None = None,
    stride: int | None = None,
    min_labelled: float = 0.0,
) -> pd.DataFrame:
    """Non-overlapping ``size x size`` chips lying entirely inside one split's region.

    Candidate corners lie on a grid of step ``stride`` (default ``size // 4``); a
    candidate is kept when all its pixels belong to one split (never the unassigned
    buffer) and it does not overlap a chip kept before it (raster order, greedy).

    Parameters
    ----------
    split
        The ``split`` raster from :func:`sarbd.dataset.splits.assign_splits`.
    size
        Chip side, pixels.
    labels, classes
        Optional label raster and class list: class counts per chip are added and
        chips with fewer than ``min_labelled`` (fraction of pixels) labelled are dropped.
    stride
        Step between candidate corners, pixels.
    min_labelled
        Minimum fraction of labelled (non-zero) pixels in a chip.

    Returns
    -------
    pandas.DataFrame
        ``chip_id``, ``line0``, ``pixel0`` (absolute indices of the top-left pixel),
        ``size``, ``split`` (name), ``n_labelled`` and one ``count_<class>`` column per class.
    """
    if size < 1:
        raise ConfigError(f"chip size must be >= 1, got {size}")
    stride = max(1, size // 4) if stride is None else int(stride)
    split = split.transpose("line", "pixel")
    shape = (split.sizes["line"], split.sizes["pixel"])
    rows: list[dict[str, Any]] = []
    columns = ["chip_id", "line0", "pixel0", "size", "split", "n_labelled"]
    if labels is not None and classes is not None:
        classes = check_classes(classes)
        columns += [f"count_{c['name']}" for c in classes]
    if shape[0] < size or shape[1] < size:
        return pd.DataFrame(columns=columns)
    line_coord = np.asarray(split["line"].values) if "line" in split.coords else np.arange(shape[0])
    pixel_coord = (
        np.asarray(split["pixel"].values) if "pixel" in split.coords else np.arange(shape[1])
    )
    full = size * size
    # candidate corners on the stride grid, plus the last possible corner of each axis
    cand_l = np.unique(np.r_[np.arange(0, shape[0] - size + 1, stride), shape[0] - size])
    cand_p = np.unique(np.r_[np.arange(0, shape[1] - size + 1, stride), shape[1] - size])
    ids = [0, *(c["id"] for c in classes)] if labels is not None and classes is not None else [0]
    cand = _candidates(
        split,
        None if labels is None else labels.transpose("line", "pixel"),
        size,
        cand_l,
        cand_p,
        ids,
    )
    taken = _Taken(size)
    for sid in (1, 2, 3):
        for i, j in zip(*np.nonzero(cand.split == sid), strict=True):
            l0, p0 = int(cand_l[i]), int(cand_p[j])
            if taken.overlaps(l0, p0):
                continue
            row: dict[str, Any] = {
                "line0": int(line_coord[l0]),
                "pixel0": int(pixel_coord[p0]),
                "size": size,
                "split": SPLIT_NAMES[sid],
            }
            if labels is not None:
                counts = cand.counts[(i, j)]
                n_lab = int(full - counts[0])
                if n_lab < min_labelled * full:
                    continue
                row["n_labelled"] = n_lab
                if classes is not None:
                    row.update(
                        {f"count_{c['name']}": int(counts[k + 1]) for k, c in enumerate(classes)}
                    )
            else:
                row["n_labelled"] = 0
            taken.add(l0, p0)
            rows.append(row)
    df = pd.DataFrame(rows, columns=[c for c in columns if c != "chip_id"])
    df = df.sort_values(["line0", "pixel0"], kind="stable").reset_index(drop=True)
    df.insert(0, "chip_id", [f"c{size}_{i:06d}" for i in range(len(df))])
    return df


def pixel_table(
    ds: xr.Dataset,
    variables: Sequence[str] | None = None,
    label_vars: Sequence[str] = ("label_l1", "label_l2", "label_l3"),
) -> pd.DataFrame:
    """One row per labelled pixel (any label level non-zero).

    Columns: ``line``, ``pixel`` (absolute), ``latitude``/``longitude`` when present,
    ``split``, ``quality_flags``, the label levels, and the signatures: a per-date
    variable ``v`` gives one column per date, ``v_YYYYMMDD``.

    Parameters
    ----------
    ds
        The assembled dataset (``docs/formats.md``: SARbd dataset).
    variables
        Signature variables to include (default: every ``float`` variable on the grid
        that is not a coordinate, label, flag or fraction).
    """
    present = [v for v in label_vars if v in ds]
    if not present:
        raise ConfigError("the dataset has no label variable", hint="run the label stage first")
    mask = np.zeros((ds.sizes["line"], ds.sizes["pixel"]), bool)
    for v in present:
        mask |= np.asarray(ds[v].transpose("line", "pixel").values) > 0
    li, pi = np.nonzero(mask)
    out: dict[str, Any] = {
        "line": np.asarray(ds["line"].values)[li],
        "pixel": np.asarray(ds["pixel"].values)[pi],
    }
    for c in ("latitude", "longitude"):
        if c in ds.coords or c in ds:
            out[c] = np.asarray(ds[c].transpose("line", "pixel").values)[li, pi]
    for v in ("split", "quality_flags", *present):
        if v in ds:
            out[v] = np.asarray(ds[v].transpose("line", "pixel").values)[li, pi]
    if variables is None:
        skip = set(present) | {"split", "quality_flags", "latitude", "longitude"}
        variables = [
            str(k)
            for k, v in ds.data_vars.items()
            if k not in skip
            and not str(k).startswith("fraction_")
            and {"line", "pixel"} <= set(v.dims)
            and np.issubdtype(v.dtype, np.floating)
        ]
    for v in variables:
        da = ds[v]
        if "time" in da.dims:
            vals = np.asarray(da.transpose("time", "line", "pixel").values)
            for k, t in enumerate(np.asarray(ds["time"].values)):
                out[f"{v}_{np.datetime_as_string(t, unit='D').replace('-', '')}"] = vals[k][li, pi]
        else:
            out[v] = np.asarray(da.transpose("line", "pixel").values)[li, pi]
    return pd.DataFrame(out)
