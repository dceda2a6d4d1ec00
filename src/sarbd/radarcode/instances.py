"""Instance rasters: every reference feature radarcoded as its own object (detection labels).

:func:`radarcode_instances` places each feature exactly as :func:`sarbd.radarcode.radarcode`
does (same reading, local frame, terrain + feature height, building layover, scene-wide
geo2rdr lookup: :func:`sarbd.radarcode.api.project_reference`), but keeps one class per
*feature* and returns an instance-id raster instead of per-class fraction layers: a pixel
takes the id of the feature covering the largest part of it, if that part is at least
``min_fraction``; 0 elsewhere.

Memory: the projected pieces are kept compact (:class:`~sarbd.radarcode.tiling.PieceStore`)
and each Dask block rasterises only the features whose pieces meet it, one at a time
against a running maximum, so a block costs two ``lines x pixels`` layers whatever the
number of features.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd.core.chunks import ChunksLike, as_chunks
from sarbd.core.orbit import Orbit
from sarbd.radarcode.coverage import coverage, rings_from_polygons
from sarbd.radarcode.project import dissolve_overlaps
from sarbd.radarcode.target import GridSource, resolve_target
from sarbd.radarcode.tiling import PieceStore

__all__ = ["radarcode_instances"]

#: Column holding each feature's instance id while it is radarcoded as its own class.
_ID_CLASS = "sarbd_instance"


def instance_block(
    store: PieceStore,
    ids: NDArray[np.int64],
    min_fraction: float,
    block_info: dict[object, object] | None = None,
) -> NDArray[np.int64]:
    """Instance ids of one ``(lines, pixels)`` block: the feature covering most of each pixel (>= min_fraction)."""
    assert block_info is not None
    info = block_info[None]
    assert isinstance(info, dict)
    (l0, l1), (p0, p1) = info["array-location"]
    out = np.zeros((l1 - l0, p1 - p0), dtype=np.int64)
    geoms, classes = store.window(l0, p0, l1 - l0, p1 - p0)
    if geoms.size == 0:
        return out
    local, inverse = np.unique(classes, return_inverse=True)  # only the features in this block
    geoms, cls = dissolve_overlaps(geoms, inverse.astype(np.int64))
    window = (l0, p0, l1 - l0, p1 - p0)
    # one feature at a time with a running maximum: memory is two block-sized layers, not
    # (features in the block) x the block; ties go to the earlier feature, as argmax would
    top = np.zeros(out.shape, dtype=np.float64)
    for k in range(local.size):
        sel = cls == k
        frac = coverage(rings_from_polygons(geoms[sel], 0), 1, window)[0]
        better = frac > top
        top[better] = frac[better]
        out[better] = ids[local[k]]
    out[top < min_fraction] = 0
    return out


def radarcode_instances(
    reference: Any,
    grid: GridSource,
    *,
    id_field: str,
    dem: Any = None,
    height_field: str | None = None,
    width_field: str | None = None,
    grow: Mapping[int, tuple[float, float]] | None = None,
    min_fraction: float = 0.5,
    chunks: ChunksLike = None,
    orbit: Orbit | None = None,
) -> xr.DataArray:
    """Radarcode every feature of ``reference`` as its own instance; returns ``instance_id(line, pixel)``.

    Parameters
    ----------
    reference
        A GeoDataFrame (any CRS) with a positive integer ``id_field``, unique per feature.
    grid
        The target radar grid (a stack, Scene, ... as for :func:`sarbd.radarcode.radarcode`).
    dem, height_field, width_field
        As for :func:`sarbd.radarcode.radarcode` (feature heights give layover, volume model).
    grow
        ``{instance id: (lines, pixels)}``: elliptical dilation of a feature's radar
        polygon, in samples (e.g. the impulse response's main-lobe half-width around a
        ship, whose image is wider than its hull).
    min_fraction
        Least covered share of a pixel for it to belong to an instance (0.5: about the
        pixel centre inside the feature).
    chunks
        Output Dask chunks.
    orbit
        Orbit of a bare RadarGrid ``grid``.

    Returns
    -------
    Lazy int64 DataArray on ``(line, pixel)`` (absolute coordinates of the root grid),
    0 where no instance covers ``min_fraction`` of the pixel.
    """
    from sarbd.radarcode.api import project_reference

    gdf = reference.copy()
    ids = gdf[id_field].astype("int64")
    if (ids <= 0).any() or ids.duplicated().any():
        raise ValueError(f"{id_field!r} must hold unique positive integers")
    gdf[_ID_CLASS] = ids.astype(str)
    target = resolve_target(grid, orbit)
    proj = project_reference(
        gdf,
        target,
        class_field=_ID_CLASS,
        dem=dem,
        height_field=height_field,
        width_field=width_field,
        grow={str(k): v for k, v in (grow or {}).items()},
    )
    id_of_class = np.array([int(n) for n in proj.classes], dtype=np.int64)
    L, W = target.grid.shape
    cl, cp = as_chunks(chunks)
    template = da.zeros((L, W), dtype=np.int64, chunks=(cl, cp))
    inst = da.map_blocks(
        instance_block,
        proj.store,
        id_of_class,
        float(min_fraction),
        dtype=np.int64,
        chunks=template.chunks,
        meta=np.zeros((0, 0), np.int64),
    )
    lines = np.arange(L) + target.grid.first_line
    pixels = np.arange(W) + target.grid.first_pixel
    return xr.DataArray(
        inst,
        dims=("line", "pixel"),
        coords={"line": lines, "pixel": pixels},
        name="instance_id",
        attrs={
            "long_name": "reference feature (instance) covering most of the pixel",
            "sarbd_id_field": id_field,
            "sarbd_min_fraction": float(min_fraction),
        },
    )
