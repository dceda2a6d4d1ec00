"""Assemble the SARbd dataset (``docs/formats.md``) from the stages' outputs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import xarray as xr

from sarbd.dataset.classes import check_classes

__all__ = ["assemble_dataset"]

#: Stack variables that go into the dataset (geometry and per-date metadata; no SLCs).
STACK_VARIABLES = (
    "height", "incidence_angle", "local_incidence_angle", "layover_shadow_mask",
    "perpendicular_baseline", "parallel_baseline", "temporal_baseline", "orbit_source",
    "orbit_position", "orbit_velocity",
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
    reference = [str(v) for v in radarcoded.data_vars if str(v).startswith("fraction_") or v == "boundary_distance"]
    parts: list[xr.Dataset] = [stack[[v for v in STACK_VARIABLES if v in stack]], signatures, radarcoded[reference]]
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
        for k in ("sarbd_split_block", "sarbd_split_buffer", "sarbd_split_seed", "sarbd_split_fractions"):
            if k in split.attrs:
                ds.attrs[k] = split.attrs[k]
    if "label_l1" in ds and "sarbd_rules" in ds["label_l1"].attrs:
        ds.attrs["sarbd_label_rules"] = ds["label_l1"].attrs["sarbd_rules"]
    ds.attrs.update(dict(attrs or {}))
    return ds
