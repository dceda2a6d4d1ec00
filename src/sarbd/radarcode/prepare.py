"""Map-side preparation: any CRS -> local metric frame, clip to the scene, lines/points -> areas.

Steps, in order (why each is where it is):

1. densify in the *source* CRS, so a straight edge keeps the meaning its author gave it
   (straight in that CRS) before reprojection bends it;
2. reproject to a local transverse Mercator frame centred on the scene
   (:class:`~sarbd.radarcode.target.LocalFrame`), where lengths are ground metres;
3. clip to the scene footprint plus a margin (large polygons such as lakes or
   land-cover parcels would otherwise send vertices far outside the orbit's span);
4. buffer lines and points by half their width (round joins, flat caps for lines so
   a road ends where its centre line ends);
5. densify again to ``max_segment`` metres, so that edges follow the terrain height
   and the curvature of the map -> radar transformation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from sarbd.radarcode.shapes import POLYGON_IDS, polygonal, union_groups
from sarbd.radarcode.target import LocalFrame
from sarbd.radarcode.vectors import DEFAULT_WIDTHS, VectorFeatures
from sarbd.utils.log import get_logger

__all__ = ["LocalFeatures", "polygonal", "to_local"]

log = get_logger(__name__)

_POLYGON_IDS = POLYGON_IDS
_LINE_IDS = (1, 2, 5)  # LineString, LinearRing, MultiLineString
_POINT_IDS = (0, 4)  # Point, MultiPoint


@dataclass
class LocalFeatures:
    """Areal features in the local metric frame.

    Attributes
    ----------
    geometry
        (Multi)Polygons, metres in ``frame``.
    classes
        Class name of each feature.
    heights
        Height above terrain, m.
    frame
        The local frame.
    """

    geometry: NDArray[np.object_]
    classes: NDArray[np.str_]
    heights: NDArray[np.float64]
    frame: LocalFrame


def _source_length(crs: Any, metres: float) -> float:
    """``metres`` expressed in the source CRS's horizontal unit (degrees for geographic)."""
    if crs.is_geographic:
        return metres / 111_320.0
    try:
        factor = float(crs.axis_info[0].unit_conversion_factor)
    except (IndexError, AttributeError, TypeError):
        factor = 1.0
    return metres / factor if factor > 0 else metres


def to_local(
    layers: list[VectorFeatures],
    frame: LocalFrame,
    region_ll: shapely.Geometry,
    *,
    margin: float,
    max_segment: float,
    widths: dict[str, float] | None = None,
) -> LocalFeatures:
    """Bring layers to the local frame as areas clipped to ``region_ll`` + ``margin``.

    Parameters
    ----------
    layers
        Features read by :func:`~sarbd.radarcode.vectors.read_reference`.
    frame
        The local transverse Mercator frame.
    region_ll
        Scene footprint, longitude/latitude polygon.
    margin
        Kept distance around the footprint, m (covers layover shifts of tall features).
    max_segment
        Longest edge after densification, m.
    widths
        Per-class widths (m) for lines/points, overriding :data:`DEFAULT_WIDTHS`.
    """
    from pyproj import Transformer

    wmap = {**DEFAULT_WIDTHS, **(widths or {})}
    fx, fy = frame.from_lonlat(*np.asarray(region_ll.exterior.coords).T)
    region = shapely.Polygon(np.c_[fx, fy]).buffer(margin)
    shapely.prepare(region)
    geoms_all, classes_all, heights_all = [], [], []
    for layer in layers:
        g = layer.geometry
        seg = _source_length(layer.crs, max_segment)
        g = shapely.segmentize(g, seg)
        tr = Transformer.from_crs(layer.crs, frame.crs, always_xy=True)
        g = shapely.transform(
            g, lambda xy, tr=tr: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
        )
        hit = shapely.intersects(region, g)
        if not hit.any():
            continue
        g, cls, hgt, wid = g[hit], layer.classes[hit], layer.heights[hit], layer.widths[hit]
        tid = shapely.get_type_id(g)  # before clipping, which can change types
        is_line = np.isin(tid, _LINE_IDS)
        is_point = np.isin(tid, _POINT_IDS)
        inside = shapely.contains_properly(region, g)
        if not inside.all():
            g = g.copy()
            g[~inside] = shapely.intersection(g[~inside], region)
        if is_line.any() or is_point.any():
            w = wid.copy()
            default = np.array([wmap.get(c, wmap["*"]) for c in cls])
            w = np.where(np.isfinite(w) & (w > 0), w, default)
            w = np.where(is_point & ~(np.isfinite(wid) & (wid > 0)), wmap["point"], w)
            g = g.copy()
            g[is_line] = shapely.buffer(
                g[is_line], w[is_line] / 2.0, quad_segs=8, cap_style="flat", join_style="round"
            )
            g[is_point] = shapely.buffer(g[is_point], w[is_point] / 2.0, quad_segs=8)
        g = polygonal(g)
        keep = ~shapely.is_empty(g) & (shapely.area(g) > 0)
        geoms_all.append(g[keep])
        classes_all.append(cls[keep])
        heights_all.append(hgt[keep])
    if not geoms_all:
        return LocalFeatures(np.zeros(0, dtype=object), np.zeros(0, dtype=str), np.zeros(0), frame)
    geoms = np.concatenate(geoms_all)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        log.debug("%d invalid polygons repaired (make_valid)", int(invalid.sum()))
        geoms[invalid] = polygonal(shapely.make_valid(geoms[invalid]))
    geoms = shapely.segmentize(geoms, max_segment)
    return LocalFeatures(geoms, np.concatenate(classes_all), np.concatenate(heights_all), frame)


def resolve_priority(features: LocalFeatures, order: list[str]) -> LocalFeatures:
    """Make overlapping classes exclusive on the ground: earlier classes in ``order`` win.

    Every feature of a class loses the parts covered by features of classes before it
    (as a topographic map drawn layer over layer: a road on a field, a building on a
    parcel). Classes not in ``order`` are left as they are, after the listed ones.
    The simulator's truth class map is built the same way (first class wins).
    """
    rank = {c: i for i, c in enumerate(order)}
    r = np.array([rank.get(c, len(order)) for c in features.classes])
    geoms = features.geometry.copy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms)  # candidate pairs (bounding boxes)
    sel = (r[b] < r[a]) & (r[a] < len(order))  # b is stronger than a
    a, b = a[sel], b[sel]
    if a.size:
        sel = shapely.relate_pattern(geoms[a], geoms[b], "T********")
        a, b = a[sel], b[sel]
    if a.size:
        order_a = np.argsort(a, kind="stable")
        a, b = a[order_a], b[order_a]
        losers, group = np.unique(a, return_inverse=True)
        cover = union_groups(geoms[b], group, losers.size)
        geoms[losers] = polygonal(shapely.difference(geoms[losers], cover))
    keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
    return LocalFeatures(
        geoms[keep], features.classes[keep], features.heights[keep], features.frame
    )
