"""Fixed-size chips inside one split's region, and the per-pixel table of labelled pixels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sarbd.dataset.classes import SPLIT_NAMES, check_classes
from sarbd.errors import ConfigError

__all__ = ["make_chips", "pixel_table"]


def _window_sums(mask: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``mask`` over every ``size x size`` window, indexed by its top-left corner."""
    c = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int64)
    c[1:, 1:] = np.cumsum(np.cumsum(mask, axis=0, dtype=np.int64), axis=1)
    return c[size:, size:] - c[:-size, size:] - c[size:, :-size] + c[:-size, :-size]


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
    s = np.asarray(split.transpose("line", "pixel").values).astype(np.uint8)
    rows: list[dict[str, Any]] = []
    columns = ["chip_id", "line0", "pixel0", "size", "split", "n_labelled"]
    if labels is not None and classes is not None:
        classes = check_classes(classes)
        columns += [f"count_{c['name']}" for c in classes]
    if s.shape[0] < size or s.shape[1] < size:
        return pd.DataFrame(columns=columns)
    line_coord = np.asarray(split["line"].values) if "line" in split.coords else np.arange(s.shape[0])
    pixel_coord = np.asarray(split["pixel"].values) if "pixel" in split.coords else np.arange(s.shape[1])
    lab = None if labels is None else np.asarray(labels.transpose("line", "pixel").values)
    taken = np.zeros(s.shape, bool)
    full = size * size
    sums = {sid: _window_sums(s == sid, size) for sid in (1, 2, 3)}
    # candidate corners on the stride grid, plus the last possible corner of each axis
    cand_l = np.unique(np.r_[np.arange(0, s.shape[0] - size + 1, stride), s.shape[0] - size])
    cand_p = np.unique(np.r_[np.arange(0, s.shape[1] - size + 1, stride), s.shape[1] - size])
    for sid in (1, 2, 3):
        ok = sums[sid][np.ix_(cand_l, cand_p)] == full
        for i, j in zip(*np.nonzero(ok), strict=True):
            l0, p0 = cand_l[i], cand_p[j]
            if taken[l0:l0 + size, p0:p0 + size].any():
                continue
            row: dict[str, Any] = {"line0": int(line_coord[l0]), "pixel0": int(pixel_coord[p0]),
                                   "size": size, "split": SPLIT_NAMES[sid]}
            if lab is not None:
                window = lab[l0:l0 + size, p0:p0 + size]
                n_lab = int(np.count_nonzero(window))
                if n_lab < min_labelled * full:
                    continue
                row["n_labelled"] = n_lab
                if classes is not None:
                    counts = np.bincount(window.ravel().astype(np.int64), minlength=256)
                    row.update({f"count_{c['name']}": int(counts[c["id"]]) for c in classes})
            else:
                row["n_labelled"] = 0
            taken[l0:l0 + size, p0:p0 + size] = True
            rows.append(row)
    df = pd.DataFrame(rows, columns=[c for c in columns if c != "chip_id"])
    df = df.sort_values(["line0", "pixel0"], kind="stable").reset_index(drop=True)
    df.insert(0, "chip_id", [f"c{size}_{i:06d}" for i in range(len(df))])
    return df


def pixel_table(ds: xr.Dataset, variables: Sequence[str] | None = None,
                label_vars: Sequence[str] = ("label_l1", "label_l2", "label_l3")) -> pd.DataFrame:
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
            str(k) for k, v in ds.data_vars.items()
            if k not in skip and not str(k).startswith("fraction_") and {"line", "pixel"} <= set(v.dims)
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
