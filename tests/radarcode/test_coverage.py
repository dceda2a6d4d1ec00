"""Exact area-coverage rasteriser, checked pixel by pixel against shapely intersections."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from sarbd.radarcode.coverage import RingSet, coverage, rings_from_polygons


def _pixel_boxes(line0: int, pixel0: int, nl: int, npx: int) -> np.ndarray:
    ll, pp = np.meshgrid(
        np.arange(line0, line0 + nl), np.arange(pixel0, pixel0 + npx), indexing="ij"
    )
    return shapely.box(ll - 0.5, pp - 0.5, ll + 0.5, pp + 0.5)


def _truth(geom, window) -> np.ndarray:
    boxes = _pixel_boxes(*window)
    return shapely.area(shapely.intersection(boxes, geom))


def _random_polygon(rng, centre, radius, n=9) -> shapely.Polygon:
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = radius * rng.uniform(0.3, 1.0, n)
    return shapely.Polygon(np.c_[centre[0] + rad * np.cos(ang), centre[1] + rad * np.sin(ang)])


def test_unit_square_aligned_to_pixels_is_exactly_one():
    sq = shapely.box(1.5, 2.5, 3.5, 4.5)  # lines 2-3, pixels 3-4 exactly
    cov = coverage(rings_from_polygons(np.array([sq])), 1, (0, 0, 6, 7))[0]
    expect = np.zeros((6, 7))
    expect[2:4, 3:5] = 1.0
    np.testing.assert_array_equal(cov, expect)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_polygons_with_holes_match_shapely_area(seed):
    rng = np.random.default_rng(seed)
    outer = _random_polygon(rng, (10.3, 12.7), 8.0, n=15)
    hole = shapely.affinity.scale(outer, 0.3, 0.3)
    geom = shapely.Polygon(outer.exterior.coords, [hole.exterior.coords[::-1]])
    # reverse orientation of the input must not matter
    geom_rev = shapely.Polygon(outer.exterior.coords[::-1], [hole.exterior.coords])
    window = (0, 2, 22, 24)
    for g in (geom, geom_rev):
        cov = coverage(rings_from_polygons(np.array([g])), 1, window)[0]
        np.testing.assert_allclose(cov, _truth(g, window), atol=1e-12)


def test_multipolygon_classes_weights_and_windows():
    rng = np.random.default_rng(5)
    geoms = np.array(
        [_random_polygon(rng, rng.uniform(0, 30, 2), rng.uniform(1, 6)) for _ in range(12)]
    )
    classes = np.arange(12) % 3
    # polygons of one class may touch but must not overlap: dissolve per class for the truth
    window = (-2, -3, 36, 35)
    rings = rings_from_polygons(geoms, classes)
    for k in range(3):
        merged = shapely.union_all(geoms[classes == k])
        want = _truth(merged, window)
        # the kernel adds overlaps; compare on the additive truth, then on the dissolved one
        add = sum(_truth(g, window) for g in geoms[classes == k])
        got = coverage(rings, 3, window, clip=False)[k]
        np.testing.assert_allclose(got, add, atol=1e-11)
        dissolved = coverage(rings_from_polygons(np.array([merged])), 1, window)[0]
        np.testing.assert_allclose(dissolved, want, atol=1e-11)
    # weights scale the deposited area
    w = coverage(rings_from_polygons(geoms[:1], 0, 2.5), 1, window, clip=False)[0]
    np.testing.assert_allclose(w, 2.5 * _truth(geoms[0], window), atol=1e-11)


def test_chunks_equal_whole_grid_including_edges_outside_the_window():
    rng = np.random.default_rng(7)
    geoms = np.array(
        [_random_polygon(rng, rng.uniform(-5, 45, 2), rng.uniform(2, 15)) for _ in range(6)]
    )
    rings = rings_from_polygons(geoms, np.arange(6) % 2)
    whole = coverage(rings, 2, (0, 0, 40, 40), clip=False)
    for l0, p0, nl, npx in [(0, 0, 13, 17), (13, 17, 13, 17), (26, 34, 14, 6), (5, 20, 1, 1)]:
        part = coverage(rings, 2, (l0, p0, nl, npx), clip=False)
        np.testing.assert_allclose(part, whole[:, l0 : l0 + nl, p0 : p0 + npx], atol=1e-11)


def test_degenerate_and_empty_input():
    empty = rings_from_polygons(
        np.array([shapely.Polygon(), None, shapely.Point(1, 1)], dtype=object)
    )
    assert empty.n_rings == 0
    assert not coverage(empty, 2, (0, 0, 3, 4)).any()
    line_like = shapely.Polygon([(1, 1), (2, 2), (3, 3)])  # zero area
    assert not coverage(rings_from_polygons(np.array([line_like])), 1, (0, 0, 5, 5)).any()


def test_ringset_subset_and_concat_preserve_rings():
    rng = np.random.default_rng(3)
    geoms = np.array([_random_polygon(rng, rng.uniform(0, 20, 2), 3.0) for _ in range(5)])
    rings = rings_from_polygons(geoms, np.arange(5))
    keep = np.array([True, False, True, False, True])
    sub = rings.subset(keep)
    both = RingSet.concat([sub, rings.subset(~keep)])
    a = coverage(rings, 5, (0, 0, 25, 25), clip=False)
    b = coverage(both, 5, (0, 0, 25, 25), clip=False)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_splitting_into_tiles_preserves_coverage():
    from sarbd.radarcode.project import split_by_tiles

    rng = np.random.default_rng(0)
    geoms = np.array(
        [
            shapely.LineString(rng.uniform(0, 2000, (30, 2))).buffer(5.0),
            shapely.box(0, 0, 512, 256),
            shapely.box(10, 10, 20, 20),
        ]
    )
    classes = np.array([0, 1, 0])
    pieces, pc = split_by_tiles(geoms, classes, tile=256.0)
    assert pieces.size > 20
    b = shapely.bounds(pieces)
    assert np.all(np.ceil(b[:, 2] / 256) - np.floor(b[:, 0] / 256) <= 1)  # one square each
    whole = coverage(rings_from_polygons(geoms, classes), 2, (0, 0, 600, 600), clip=False)
    split = coverage(rings_from_polygons(pieces, pc), 2, (0, 0, 600, 600), clip=False)
    np.testing.assert_allclose(split, whole, atol=1e-9)
