"""Stack radarcoded reference layers: the first on top, each next one filling what is left.

A build may mix vectors (buildings, roads, water) with a land-cover raster that covers
everything. On the ground the vectors are the finer, more specific source, so they keep
their area and the raster only describes the rest of each pixel:

    f_c = f_c^top + (1 - sum_k f_k^top) * f_c^below

(fractions clipped to [0, 1] first). The boundary distance is the smaller of the two
(an outline of either source is an outline), the boundary mask their union, the hard
label is recomputed from the merged fractions, and the layover/shadow mask of the top
layer is kept (both come from the same terrain model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dask.array as da
import numpy as np
import xarray as xr

from sarbd.radarcode.derived import MIXED, UNCHARTED, hard_label

__all__ = ["stack_reference_layers"]


def _fractions(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    return {str(k): ds[k].clip(0.0, 1.0) for k in ds.data_vars if str(k).startswith("fraction_")}


def stack_reference_layers(
    layers: Sequence[xr.Dataset],
    threshold: float = 0.5,
    class_codes: Mapping[str, int] | None = None,
) -> xr.Dataset:
    """Merge radarcoded layers (outputs of :func:`sarbd.radarcode.radarcode` /
    :func:`sarbd.radarcode.radarcode_raster`, categorical) on one grid, first on top.

    Parameters
    ----------
    layers
        Radarcoded datasets on the same (line, pixel) grid, in priority order.
    threshold
        Fraction threshold of the recomputed hard label.
    class_codes
        ``{class name: code}`` of the merged label (default: 1..N in fraction order); each
        layer numbers its own classes from 1, so merged codes must be assigned anew.

    Returns
    -------
    xarray.Dataset
        ``fraction_<class>`` for the union of classes, ``label``, ``boundary_distance``,
        ``boundary_mask``, and the top layer's ``layover_shadow_mask`` when present.
    """
    if not layers:
        raise ValueError("no radarcoded layer to merge")
    out = layers[0]
    for below in layers[1:]:
        top_f, low_f = _fractions(out), _fractions(below)
        covered = sum(top_f.values(), xr.zeros_like(out["boundary_distance"], dtype=np.float32))
        free = (1.0 - covered).clip(0.0, 1.0)
        merged: dict[str, xr.DataArray] = {}
        for name in sorted(set(top_f) | set(low_f), key=lambda n: (n not in top_f, n)):
            value = top_f.get(name, 0.0) + free * low_f.get(name, 0.0)
            attrs = dict((out if name in top_f else below)[name].attrs)
            merged[name] = xr.DataArray(value).astype(np.float32).assign_attrs(attrs)
        new = xr.Dataset(merged)
        new["boundary_distance"] = xr.where(
            below["boundary_distance"] < out["boundary_distance"],
            below["boundary_distance"],
            out["boundary_distance"],
        ).assign_attrs(out["boundary_distance"].attrs)
        new["boundary_mask"] = (
            ((out["boundary_mask"] > 0) | (below["boundary_mask"] > 0))
            .astype(np.uint8)
            .assign_attrs(out["boundary_mask"].attrs)
        )
        if "layover_shadow_mask" in out:
            new["layover_shadow_mask"] = out["layover_shadow_mask"]
        new.attrs = {**below.attrs, **out.attrs}
        out = new
    names = [str(k) for k in out.data_vars if str(k).startswith("fraction_")]
    classes = [str(out[k].attrs.get("sarbd_class", k[len("fraction_") :])) for k in names]
    known = dict(class_codes or {})
    spare = iter(c for c in range(1, 255) if c not in known.values())
    codes = np.array([known[c] if c in known else next(spare) for c in classes], np.int64)
    for k, code in zip(names, codes, strict=True):
        out[k].attrs["sarbd_class_code"] = int(code)
    frac = xr.concat([out[k] for k in names], dim="class").transpose("class", "line", "pixel")
    data = frac.data if isinstance(frac.data, da.Array) else da.from_array(np.asarray(frac.values))
    out["label"] = xr.DataArray(
        hard_label(data, codes, threshold),
        dims=("line", "pixel"),
        coords={"line": out["line"], "pixel": out["pixel"]},
        attrs={
            "long_name": f"hard class label (largest fraction >= {threshold:g})",
            "threshold": threshold,
            "flag_values": np.array([UNCHARTED, *codes.tolist(), MIXED], np.uint8),
            "flag_meanings": " ".join(["uncharted", *classes, "mixed"]),
        },
    )
    return out
