"""Map -> radar: place every vertex at its ellipsoidal height and solve geo2rdr for it.

Ground features: each (densified) vertex sits on the terrain, ``h = h_terrain(lat, lon)``
(ellipsoidal: DEM + geoid, see :mod:`sarbd.geometry.dem`), and goes to fractional
(line, pixel) through the zero-Doppler equations (:func:`sarbd.geometry.geo2rdr`).

Features with a height ``H`` above the terrain (buildings, elevated structures) are
prisms: the footprint at the terrain, a flat roof at ``h_base + H`` with ``h_base`` the
mean terrain height under the footprint's vertices, and vertical walls between them.
What the radar sees of a prism is the image of all its surfaces. Three models:

* ``"volume"`` (default): the union of the footprint's image, the roof's image and
  the image of every wall (one quadrilateral per footprint edge between its ground
  and roof images) -- every radar pixel that receives echoes from the building.
  Roofs move towards near range by about ``H cos(theta)`` in slant range (layover),
  so the class covers the layover band, the roof, and the ground-level footprint;
* ``"roof"``: only the roof outline at its true height (the layover-displaced roof);
* ``"footprint"``: only the ground outline (what height-less radarcoding gives).

In layover on steep terrain one ground polygon can fold over itself in radar
geometry; :func:`shapely.make_valid` turns the fold into the union of the imaged
parts, which is again "every pixel that receives echoes from the feature".
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import shapely
from numpy.typing import NDArray

from sarbd.radarcode.prepare import LocalFeatures
from sarbd.radarcode.shapes import polygonal, union_groups
from sarbd.radarcode.target import HeightSource, RadarLookup, Target
from sarbd.utils.log import get_logger

__all__ = ["BuildingModel", "dissolve_overlaps", "radar_polygons", "split_by_tiles"]

log = get_logger(__name__)

BuildingModel = Literal["volume", "roof", "footprint"]


def split_by_tiles(
    geoms: NDArray[np.object_], classes: NDArray[np.int64], tile: float = 256.0
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Cut polygons that span several ``tile`` x ``tile`` pixel squares into one piece per square.

    Pieces of one polygon only share edges, which the rasteriser adds exactly, and
    every later overlay (overlap test, union) then works on small pieces: a road
    network 80 km long is dissolved square by square instead of in one GEOS overlay.
    """
    if geoms.size == 0:
        return geoms, classes
    done_g, done_c = [], []
    g, c = geoms, classes
    # halve every multi-square polygon along its longer square span until each lies in one
    # square: O(n log(span)) instead of one overlay per square
    while g.size:
        b = shapely.bounds(g)
        # squares [k tile, (k+1) tile); a piece ending exactly on a square edge is inside
        i0 = np.floor(b[:, 0] / tile)
        i1 = np.maximum(np.ceil(b[:, 2] / tile) - 1, i0)
        j0 = np.floor(b[:, 1] / tile)
        j1 = np.maximum(np.ceil(b[:, 3] / tile) - 1, j0)
        one = (i1 == i0) & (j1 == j0)
        done_g.append(g[one])
        done_c.append(c[one])
        g, c, b = g[~one], c[~one], b[~one]
        if g.size == 0:
            break
        i0, i1, j0, j1 = i0[~one], i1[~one], j0[~one], j1[~one]
        along_i = (i1 - i0) >= (j1 - j0)
        cut = np.where(
            along_i,
            (i0 + np.ceil((i1 - i0 + 1) / 2)) * tile,
            (j0 + np.ceil((j1 - j0 + 1) / 2)) * tile,
        )
        lo = shapely.box(
            b[:, 0] - 1,
            b[:, 1] - 1,
            np.where(along_i, cut, b[:, 2] + 1),
            np.where(along_i, b[:, 3] + 1, cut),
        )
        hi = shapely.box(
            np.where(along_i, cut, b[:, 0] - 1),
            np.where(along_i, b[:, 1] - 1, cut),
            b[:, 2] + 1,
            b[:, 3] + 1,
        )
        halves = polygonal(shapely.intersection(np.concatenate([g, g]), np.concatenate([lo, hi])))
        cls2 = np.concatenate([c, c])
        keep = ~shapely.is_empty(halves) & (shapely.area(halves) > 0)
        g, c = halves[keep], cls2[keep]
    return np.concatenate(done_g), np.concatenate(done_c)


def dissolve_overlaps(
    geoms: NDArray[np.object_], classes: NDArray[np.int64]
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Merge polygons of one class whose interiors overlap, so areas are not counted twice.

    Polygons that only touch (shared edges of a land-cover tessellation, adjacent road
    segments) add exactly in the rasteriser and are left alone; only connected groups
    of overlapping polygons are unioned.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = geoms.size
    if n < 2:
        return geoms, classes
    pairs_a, pairs_b = [], []
    for k in np.unique(classes):
        idx = np.flatnonzero(classes == k)
        if idx.size < 2:
            continue
        sub = geoms[idx]
        tree = shapely.STRtree(sub)
        a, b = tree.query(sub)  # bounding boxes only: cheap, then an exact test on candidates
        sel = a < b
        a, b = a[sel], b[sel]
        if a.size:
            # interiors intersect (DE-9IM "T********"): overlap, not mere touching
            sel = shapely.relate_pattern(sub[a], sub[b], "T********")
            pairs_a.append(idx[a[sel]])
            pairs_b.append(idx[b[sel]])
    if not pairs_a:
        return geoms, classes
    a = np.concatenate(pairs_a)
    b = np.concatenate(pairs_b)
    if a.size == 0:
        return geoms, classes
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    ncomp, label = connected_components(graph, directed=False)
    size = np.bincount(label, minlength=ncomp)
    single = size[label] == 1
    multi_labels = np.unique(label[~single])
    remap = np.full(ncomp, -1)
    remap[multi_labels] = np.arange(multi_labels.size)
    members = np.flatnonzero(~single)
    merged = union_groups(geoms[members], remap[label[members]], multi_labels.size)
    first = np.zeros(multi_labels.size, dtype=np.int64)
    first[remap[label[members]]] = members  # any member gives the class
    log.debug("dissolved %d overlapping polygons into %d", members.size, multi_labels.size)
    return (
        np.concatenate([geoms[single], merged]),
        np.concatenate([classes[single], classes[first]]),
    )


def _with_coords(
    geoms: NDArray[np.object_], line: NDArray[np.float64], pixel: NDArray[np.float64]
) -> NDArray[np.object_]:
    """The same geometries with their vertices replaced by (line, pixel) (x = line, y = pixel)."""
    # set_coordinates writes new geometries into the array it is given: give it a copy
    return shapely.set_coordinates(
        np.array(geoms, dtype=object, copy=True), np.column_stack([line, pixel])
    )


def _walls(
    ground: NDArray[np.object_], roof: NDArray[np.object_]
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """One quadrilateral per edge between its ground and roof images, with the owner index."""
    rings_g, owner = shapely.get_rings(ground, return_index=True)
    rings_r = shapely.get_rings(roof)
    cg, ring_id = shapely.get_coordinates(rings_g, return_index=True)
    cr = shapely.get_coordinates(rings_r)
    same = ring_id[:-1] == ring_id[1:]
    k = np.flatnonzero(same)
    quads = np.stack([cg[k], cg[k + 1], cr[k + 1], cr[k], cg[k]], axis=1)
    walls = shapely.polygons(quads)
    return walls, owner[ring_id[k]]


def _volumes(
    ground: NDArray[np.object_], roof: NDArray[np.object_], footprint_map: NDArray[np.object_]
) -> NDArray[np.object_]:
    """Image of each prism: footprint ∪ roof ∪ walls (see the module docstring).

    For a convex footprint this is the convex hull of the ground and roof images (the
    sweep of a convex polygon along a segment is convex), computed in one vectorised
    call; other footprints are unioned with one quadrilateral per wall.
    """
    area = shapely.area(footprint_map)
    # relative 1e-6: densified collinear vertices move by ~1e-9 m in reprojection
    convex = shapely.area(shapely.convex_hull(footprint_map)) - area <= 1e-6 * area
    out = np.empty(ground.size, dtype=object)
    if convex.any():
        cg, ig = shapely.get_coordinates(ground[convex], return_index=True)
        cr, ir = shapely.get_coordinates(roof[convex], return_index=True)
        ids = np.concatenate([ig, ir])
        order = np.argsort(ids, kind="stable")
        # one line string through all ground and roof vertices of a building: its hull is theirs
        pts = shapely.linestrings(np.concatenate([cg, cr])[order], indices=ids[order])
        out[convex] = shapely.convex_hull(pts)
    other = np.flatnonzero(~convex)
    if other.size:
        walls, owner = _walls(ground[other], roof[other])
        parts = np.concatenate([ground[other], roof[other], walls])
        group = np.concatenate([np.arange(other.size), np.arange(other.size), owner])
        valid = shapely.is_valid(parts)
        parts[~valid] = polygonal(shapely.make_valid(parts[~valid]))
        out[other] = union_groups(parts, group, other.size)
    return polygonal(out)


def radar_polygons(
    features: LocalFeatures,
    target: Target,
    terrain: HeightSource,
    *,
    building_model: BuildingModel = "volume",
    lookup: RadarLookup | None = None,
) -> tuple[NDArray[np.object_], NDArray[np.int64], NDArray[np.bool_]]:
    """Transform features to (line, pixel) polygons of the target grid.

    ``lookup`` (a scene-wide :class:`~sarbd.radarcode.target.RadarLookup`) places the
    vertices when given; otherwise :meth:`Target.to_radar` does, choosing between exact
    geo2rdr and a table over these features' own extent. With one table for the scene
    every vertex gets the same coordinates whichever batch of features it comes in.

    Returns
    -------
    polygons
        Shapely (Multi)Polygons with x = line, y = pixel, relative to the grid's first
        line/pixel, one per feature.
    owner
        Index of the feature each polygon belongs to.
    tall
        Whether each polygon belongs to a feature with a height (building-like).
    """
    geoms = features.geometry
    if geoms.size == 0:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    lon, lat = features.frame.to_lonlat(xy[:, 0], xy[:, 1])
    h_t = np.asarray(terrain.height_at(lat, lon), dtype=np.float64)
    bad_h = ~np.isfinite(h_t)
    if bad_h.any():
        fill = float(np.nanmedian(h_t)) if np.isfinite(h_t).any() else 0.0
        log.warning(
            "%d vertices lie outside the DEM; their terrain height is set to %.1f m",
            int(bad_h.sum()),
            fill,
        )
        h_t = np.where(bad_h, fill, h_t)
    to_radar = lookup.to_radar if lookup is not None else target.to_radar
    line, pixel = to_radar(lat, lon, h_t)
    ground = _with_coords(geoms, line, pixel)
    ok = np.ones(geoms.size, dtype=bool)
    nan_vertex = ~(np.isfinite(line) & np.isfinite(pixel))
    if nan_vertex.any():
        ok[np.unique(idx[nan_vertex])] = False
    H = features.heights
    tall = (H > 0) & ok
    out = ground.copy()
    if building_model != "footprint" and tall.any():
        counts = np.bincount(idx, minlength=geoms.size)
        base = np.bincount(idx, weights=h_t, minlength=geoms.size) / np.maximum(counts, 1)
        tv = tall[idx]
        lr, pr = to_radar(lat[tv], lon[tv], base[idx[tv]] + H[idx[tv]])
        roof = _with_coords(geoms[tall], lr, pr)
        roof_bad = ~(np.isfinite(lr) & np.isfinite(pr))
        if building_model == "roof":
            out[tall] = roof
        else:
            out[tall] = _volumes(ground[tall], roof, features.geometry[tall])
        if roof_bad.any():
            ok[
                np.flatnonzero(tall)[
                    np.unique(
                        np.searchsorted(
                            np.cumsum(counts[tall]), np.flatnonzero(roof_bad), side="right"
                        )
                    )
                ]
            ] = False
    if (~ok).any():
        log.warning(
            "%d features could not be placed in the radar grid (geo2rdr did not converge); "
            "left out",
            int((~ok).sum()),
        )
    invalid = ok & ~shapely.is_valid(out)
    if invalid.any():
        out[invalid] = polygonal(shapely.make_valid(out[invalid]))
    keep = np.flatnonzero(ok)
    return out[keep], keep, tall[keep]
