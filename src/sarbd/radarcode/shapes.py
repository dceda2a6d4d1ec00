"""Shapely helpers every radarcoding step shares: polygonal parts and grouped unions.

The lowest layer of the vector chain: it imports nothing from :mod:`sarbd.radarcode`,
so that the map-side step (:mod:`~sarbd.radarcode.prepare`), the radar-side step
(:mod:`~sarbd.radarcode.project`) and the per-block rasterisation
(:mod:`~sarbd.radarcode.tiling`) can all use it without importing each other.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["polygonal", "union_groups"]

POLYGON_IDS = (3, 6)  # Polygon, MultiPolygon


def polygonal(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Keep only the polygonal part of each geometry (empty polygon if none)."""
    geoms = np.asarray(geoms, dtype=object)
    tid = shapely.get_type_id(geoms)
    ok = np.isin(tid, POLYGON_IDS)
    out = geoms.copy()
    bad = np.flatnonzero(~ok)
    if bad.size:
        parts, idx = shapely.get_parts(geoms[bad], return_index=True)
        keep = np.isin(shapely.get_type_id(parts), POLYGON_IDS)
        merged = np.full(bad.size, shapely.Polygon(), dtype=object)
        if keep.any():
            # entries without polygonal parts keep the empty polygon
            shapely.multipolygons(parts[keep], indices=idx[keep], out=merged)
        out[bad] = merged
    return out


def union_groups(
    parts: NDArray[np.object_], group: NDArray[np.int64], n: int
) -> NDArray[np.object_]:
    """Union of ``parts`` within each group ``0..n-1`` (vectorised over groups in GEOS)."""
    order = np.argsort(group, kind="stable")
    out = np.full(n, shapely.Polygon(), dtype=object)
    colls = np.full(n, None, dtype=object)
    shapely.geometrycollections(parts[order], indices=group[order], out=colls)
    has = np.array([c is not None for c in colls])
    unary = getattr(shapely.lib, "unary_union", None)
    if unary is not None:
        out[has] = unary(colls[has])
    else:  # pragma: no cover - older shapely
        out[has] = [shapely.union_all(shapely.get_parts(c)) for c in colls[has]]
    return polygonal(out)
