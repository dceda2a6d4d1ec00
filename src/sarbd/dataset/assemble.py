"""Assemble the SARbd dataset (``docs/formats.md``) from the stages' outputs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from sarbd.dataset.classes import check_classes

__all__ = ["assemble_dataset", "mask_undefined_dates"]

#: Stack variables that go into the dataset (geometry and per-date metadata; no SLCs).
STACK_VARIABLES = (
    "height",
    "incidence_angle",
    "local_incidence_angle",
    "layover_shadow_mask",
    "perpendicular_baseline",
    "parallel_baseline",
    "temporal_baseline",
    "orbit_source",
    "orbit_position",
    "orbit_velocity",
)


def assemble_dataset(
    stack: xr.Dataset,
    signatures: xr.Dataset,
    radarcoded: xr.Dataset,
    labels: Sequence[xr.DataArray | xr.Dataset],
    classes: Sequence[Mapping[str, Any]],
    split: xr.DataArray | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Merge geometry, signatures, fractions, labels and the split into one dataset.

    Parameters
    ----------
    stack
        Coregistered stack (only :data:`STACK_VARIABLES`, coordinates and attributes are used).
    signatures
        Signature dataset.
    radarcoded
        The radarcode output; its ``fraction_<class>`` and ``boundary_distance`` layers are
        taken (its own hard ``label`` and ``boundary_mask`` are superseded by the SARbd levels).
    labels
        ``label_l1``, ``label_l2`` DataArrays and the ``label_l3`` + ``quality_flags`` Dataset.
    classes
        ``[{"id", "name"}, ...]`` (stored as the JSON attribute ``sarbd_classes``).
    split
        The ``split`` raster (its block/seed attributes are copied to the globals).
    attrs
        Further global attributes (label rules, provenance, ...).
    """
    reference = [
        str(v)
        for v in radarcoded.data_vars
        if str(v).startswith("fraction_") or v == "boundary_distance"
    ]
    parts: list[xr.Dataset] = [
        stack[[v for v in STACK_VARIABLES if v in stack]],
        signatures,
        radarcoded[reference],
    ]
    for lab in labels:
        parts.append(lab.to_dataset() if isinstance(lab, xr.DataArray) else lab)
    if split is not None:
        parts.append(split.rename("split").to_dataset())
    ds = xr.merge(parts, compat="override", join="exact", combine_attrs="drop_conflicts")
    for c in ("latitude", "longitude"):
        if c in stack.variables and c not in ds.variables:
            ds = ds.assign_coords({c: stack[c]})
    ds.attrs = dict(stack.attrs)
    ds.attrs["sarbd_classes"] = json.dumps(check_classes(classes))
    if split is not None:
        for k in (
            "sarbd_split_block",
            "sarbd_split_buffer",
            "sarbd_split_seed",
            "sarbd_split_fractions",
        ):
            if k in split.attrs:
                ds.attrs[k] = split.attrs[k]
    if "label_l1" in ds and "sarbd_rules" in ds["label_l1"].attrs:
        ds.attrs["sarbd_label_rules"] = ds["label_l1"].attrs["sarbd_rules"]
    ds.attrs.update(dict(attrs or {}))
    return mask_undefined_dates(ds)


def mask_undefined_dates(ds: xr.Dataset, rtol: float = 1e-6) -> xr.Dataset:
    """NaN for per-date signature layers that are constant over the scene at a date.

    A per-date interferometric layer at the reference date compares the reference with
    itself: its coherence is 1 and its phase 0 everywhere by construction. Such a layer
    is not a signature (a model would learn nothing from it, and a quicklook of it only
    shows a constant), so it becomes NaN at that date; ``sarbd_undefined_dates`` (space
    separated ``YYYY-MM-DD``) and ``sarbd_undefined_reason`` say which and why, and
    :class:`sarbd.ml.data.SarbdData` leaves those dates out of its feature list.

    Parameters
    ----------
    ds
        The assembled dataset; variables with ``sarbd_category`` and dims
        ``(time, line, pixel)`` are examined (lazily reduced per date).
    rtol
        A layer is constant when ``max - min <= rtol * max(1, |max|)`` over its finite values.
    """
    reference = str(ds.attrs.get("reference_date", ds.attrs.get("sar_master_date_time", "")))[:10]
    for name in [str(k) for k in ds.data_vars]:
        da = ds[name]
        if (
            "sarbd_category" not in da.attrs
            or da.dims != ("time", "line", "pixel")
            or da.sizes["time"] < 2
        ):
            continue
        parts = [np.real(da), np.imag(da)] if np.iscomplexobj(da.dtype.type(0)) else [da]
        constant = np.ones(da.sizes["time"], bool)
        for part in parts:
            lo = np.asarray(part.min(("line", "pixel")).values, float)
            hi = np.asarray(part.max(("line", "pixel")).values, float)
            constant &= (
                np.isfinite(lo) & np.isfinite(hi) & (hi - lo <= rtol * np.maximum(1.0, np.abs(hi)))
            )
        if not constant.any():
            continue
        days = np.datetime_as_string(
            np.asarray(ds["time"].values, "datetime64[ns]")[constant], unit="D"
        )
        keep = xr.DataArray(~constant, dims="time", coords={"time": ds["time"]})
        attrs = dict(da.attrs)
        attrs["sarbd_undefined_dates"] = " ".join(str(d) for d in days)
        attrs["sarbd_undefined_reason"] = (
            "reference date: the layer compares the reference acquisition with itself (coherence 1, phase 0 by "
            "construction), not a signature"
            if set(days) <= {reference} and reference
            else "constant over the scene at these dates: no information, not a signature"
        )
        ds[name] = da.where(keep).assign_attrs(attrs)
    return ds
