"""Bounded-memory vector radarcoding: features projected in batches, rasterised per output block.

The chain of :mod:`sarbd.radarcode.api` runs in two passes:

1. **Projection, in batches of features** (:func:`feature_batches`): each batch goes
   to the local frame (:func:`~sarbd.radarcode.prepare.to_local`), to radar
   coordinates (:func:`~sarbd.radarcode.project.radar_polygons`, vertices placed by
   one scene-wide :class:`~sarbd.radarcode.target.RadarLookup`, so a vertex's
   coordinates do not depend on its batch) and is cut into pieces of at most one
   256 x 256 pixel square (:func:`~sarbd.radarcode.project.split_by_tiles`). Only the
   pieces are kept, as flat coordinate arrays (:class:`PieceStore`: 16 bytes per
   vertex, no GEOS objects); the batch's map and radar geometries are freed.
2. **Rasterisation, per output block** (:func:`coverage_block`, one Dask task each):
   the pieces whose (line, pixel) bounding box meets the block are selected, rebuilt
   as polygons, their overlaps within one class dissolved
   (:func:`~sarbd.radarcode.project.dissolve_overlaps`) and rasterised exactly
   (:func:`~sarbd.radarcode.coverage.coverage`) on the block only.

Why per-block dissolving gives the whole-grid fractions: a piece that does not meet
the block's bounding box contributes no area to it, and an overlap of two pieces lies
inside both, so every overlap that falls in the block is between pieces the block
selects; the connected groups of overlapping pieces among those are unioned, and
pieces of different groups have disjoint interiors, so their areas add. The fractions
therefore equal those of one dissolve over all pieces, up to floating-point
round-off of the GEOS unions (tested: ``tests/radarcode/test_tiling.py``).

Peak memory: the input features, the pieces (compact), one batch in flight and the
blocks Dask holds; not all map and radar geometries at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import shapely
from numpy.typing import NDArray

from sarbd.radarcode.coverage import coverage, rings_from_polygons
from sarbd.radarcode.prepare import _source_length
from sarbd.radarcode.project import dissolve_overlaps
from sarbd.radarcode.vectors import VectorFeatures

__all__ = [
    "BATCH_FEATURES",
    "BATCH_VERTICES",
    "PieceStore",
    "coverage_block",
    "estimate_vertices",
    "feature_batches",
    "vertex_estimates",
]

#: Most features projected together (bounds the transient GEOS geometries of one batch).
BATCH_FEATURES = 25_000
#: About the most vertices (densified, buffered) projected together: a batch of long roads
#: or large land-cover parcels stops earlier.
BATCH_VERTICES = 500_000


def vertex_estimates(layer: VectorFeatures, max_segment: float) -> NDArray[np.float64]:
    """Rough number of vertices of each feature once densified and buffered.

    Source vertices plus one per ``max_segment`` of outline (polygons: the perimeter;
    lines twice their length, for the two sides of their buffer) plus 33 per point (a
    buffered disc, ``quad_segs=8``).
    """
    g = layer.geometry
    tid = shapely.get_type_id(g)
    seg = _source_length(layer.crs, max_segment)
    length = np.nan_to_num(shapely.length(g))  # polygons: the perimeter (GEOS), holes included
    sides = np.where(np.isin(tid, (1, 2, 5)), 2.0, 1.0)
    points = np.where(np.isin(tid, (0, 4)), 33.0, 0.0)
    return shapely.get_num_coordinates(g) + sides * length / seg + points


def estimate_vertices(layers: list[VectorFeatures], max_segment: float) -> int:
    """Rough number of vertices of all features once densified and buffered (:func:`vertex_estimates`).

    It decides, once per run and independently of batching, whether a geo2rdr lookup
    table pays off.
    """
    return int(sum(float(np.sum(vertex_estimates(layer, max_segment))) for layer in layers))


def feature_batches(
    layers: list[VectorFeatures],
    features: int = BATCH_FEATURES,
    vertices: int = BATCH_VERTICES,
    max_segment: float = 10.0,
) -> Iterator[list[VectorFeatures]]:
    """Consecutive slices of the layers, in order, each of at most ``features`` features
    and (unless one feature alone has more) about ``vertices`` vertices once densified
    to ``max_segment`` m (:func:`vertex_estimates`): a road network of long lines is
    projected a few roads at a time."""
    features = max(int(features), 1)
    for layer in layers:
        n = layer.geometry.size
        cum = np.cumsum(vertex_estimates(layer, max_segment))
        start = 0
        while start < n:
            before = float(cum[start - 1]) if start else 0.0
            end = min(
                start + features, int(np.searchsorted(cum, before + vertices, side="right")), n
            )
            end = max(end, start + 1)
            yield [
                replace(
                    layer,
                    geometry=layer.geometry[start:end],
                    classes=layer.classes[start:end],
                    widths=layer.widths[start:end],
                    heights=layer.heights[start:end],
                )
            ]
            start = end


def _take_ranges(
    offsets: NDArray[np.int64], idx: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Flat indices of the ranges ``offsets[i]:offsets[i + 1]`` for ``i`` in ``idx``, and their new offsets."""
    lengths = offsets[idx + 1] - offsets[idx]
    new = np.zeros(idx.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new[1:])
    flat = np.repeat(offsets[idx] - new[:-1], lengths) + np.arange(new[-1])
    return flat, new


class PieceStore:
    """Radar-geometry polygon pieces (x = line, y = pixel), kept as flat arrays per batch.

    Each batch holds ``coords`` ``(N, 2)`` float64, ``rings`` (ring offsets into
    ``coords``), ``polys`` (polygon offsets into the rings; the first ring of a polygon
    is its exterior), the class index and the bounding box
    ``(line_min, pixel_min, line_max, pixel_max)`` of each polygon.
    """

    def __init__(self) -> None:
        self._batches: list[
            tuple[
                NDArray[np.float64],
                NDArray[np.int64],
                NDArray[np.int64],
                NDArray[np.int64],
                NDArray[np.float64],
            ]
        ] = []
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> str:
        # one token per store: Dask must not hash (or pickle) the coordinates to name tasks
        return self._token

    def add(self, geoms: NDArray[np.object_], classes: NDArray[np.int64]) -> None:
        """Append (Multi)Polygons with their class indices (exploded to Polygons)."""
        parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
        keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
        parts, owner = parts[keep], owner[keep]
        if parts.size == 0:
            return
        _, coords, (rings, polys) = shapely.to_ragged_array(parts)
        self._batches.append(
            (
                np.ascontiguousarray(coords, dtype=np.float64),
                rings.astype(np.int64),
                polys.astype(np.int64),
                np.asarray(classes, dtype=np.int64)[owner],
                shapely.bounds(parts),
            )
        )

    @property
    def n_pieces(self) -> int:
        return sum(b[3].size for b in self._batches)

    @property
    def nbytes(self) -> int:
        return sum(sum(a.nbytes for a in b) for b in self._batches)

    def touches(self, shape: tuple[int, int]) -> bool:
        """Whether any piece meets the grid of ``shape`` (lines, pixels)."""
        return any(self._meets(b[4], 0, 0, shape[0], shape[1]).any() for b in self._batches)

    @staticmethod
    def _meets(
        bounds: NDArray[np.float64], l0: int, p0: int, nl: int, npx: int
    ) -> NDArray[np.bool_]:
        # pixel (i, j) covers [i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]; strict, as the kernel's own test
        return (
            (bounds[:, 2] > l0 - 0.5)
            & (bounds[:, 0] < l0 + nl - 0.5)
            & (bounds[:, 3] > p0 - 0.5)
            & (bounds[:, 1] < p0 + npx - 0.5)
        )

    def window(
        self, l0: int, p0: int, nl: int, npx: int
    ) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
        """The pieces whose bounding box meets lines ``l0..l0+nl-1``, pixels ``p0..p0+npx-1``, in order."""
        geoms, classes = [], []
        for coords, rings, polys, cls, bounds in self._batches:
            idx = np.flatnonzero(self._meets(bounds, l0, p0, nl, npx))
            if idx.size == 0:
                continue
            ring_idx, poly_off = _take_ranges(polys, idx)
            coord_idx, ring_off = _take_ranges(rings, ring_idx)
            geoms.append(
                shapely.from_ragged_array(
                    shapely.GeometryType.POLYGON, coords[coord_idx], (ring_off, poly_off)
                )
            )
            classes.append(cls[idx])
        if not geoms:
            return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
        return np.concatenate(geoms), np.concatenate(classes)


def coverage_block(
    store: PieceStore, nclass: int, block_info: dict[object, object] | None = None
) -> NDArray[np.float32]:
    """Per-class exact area fractions of one ``(nclass, lines, pixels)`` Dask block (see the module docstring)."""
    assert block_info is not None
    info = block_info[None]
    assert isinstance(info, dict)
    _, (l0, l1), (p0, p1) = info["array-location"]
    geoms, classes = store.window(l0, p0, l1 - l0, p1 - p0)
    if geoms.size == 0:
        return np.zeros((nclass, l1 - l0, p1 - p0), dtype=np.float32)
    geoms, classes = dissolve_overlaps(geoms, classes)
    rings = rings_from_polygons(geoms, classes)
    return coverage(rings, nclass, (l0, p0, l1 - l0, p1 - p0)).astype(np.float32)
