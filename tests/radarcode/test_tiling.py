"""Bounded-memory radarcoding: batches of features and small output blocks give the whole-grid result."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
from pyproj import Transformer

from sarbd.radarcode import radarcode
from sarbd.radarcode.target import Target
from sarbd.radarcode.tiling import PieceStore, estimate_vertices, feature_batches, vertex_estimates
from sarbd.radarcode.vectors import read_reference

from .conftest import radar_rectangle_polygon


def _layers(scene):
    """Rectangles straddling 16-pixel block edges, overlapping tall buildings, and a road across the grid."""
    grid, orbit = scene
    rects = [
        (14.3, 49.6, 30.2, 95.7),
        (40.5, 80.5, 60.1, 70.4),
        (33.0, 47.0, 30.0, 47.0),
        (100.2, 180.9, 5.5, 390.5),
        (150.1, 199.3, 200.3, 260.6),
        (-5.0, 20.0, 300.0, 420.0),
    ]
    water = gpd.GeoDataFrame(
        geometry=[radar_rectangle_polygon(grid, orbit, *r) for r in rects], crs="EPSG:4326"
    )
    b1 = radar_rectangle_polygon(grid, orbit, 60.2, 75.8, 150.2, 170.9)
    b2 = radar_rectangle_polygon(grid, orbit, 70.1, 90.4, 160.3, 185.2)  # overlaps b1
    b3 = radar_rectangle_polygon(grid, orbit, 15.5, 33.5, 240.5, 290.5)
    buildings = gpd.GeoDataFrame(
        {"height": [12.0, 25.0, 8.0]}, geometry=[b1, b2, b3], crs="EPSG:4326"
    ).to_crs("EPSG:32632")
    t = Target(grid, orbit)
    g = grid.with_epoch(orbit.reference_epoch)
    from sarbd.geometry import rdr2geo

    lines, pixels = np.linspace(-10, 210, 25), np.linspace(20, 380, 25)
    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(lines), g.pixel_to_slant_range(pixels), orbit, height=0.0
    )
    road = gpd.GeoDataFrame(
        {"width": [9.0]}, geometry=[shapely.LineString(np.c_[lon, lat])], crs="EPSG:4326"
    )
    assert t.grid.shape == (200, 400)
    return {"water": water, "building": buildings, "road": road}


def test_small_blocks_and_batches_equal_the_whole_grid(scene):
    grid, orbit = scene
    layers = _layers(scene)
    feats = read_reference(layers)
    assert estimate_vertices(feats, 10.0) > 20_000  # the scene-wide geo2rdr lookup table is used
    whole = radarcode(
        layers, grid, orbit=orbit, dem=5.0, chunks=(200, 400), batch_features=10**6
    ).compute()
    tiled = radarcode(
        layers, grid, orbit=orbit, dem=5.0, chunks=(16, 16), batch_features=2
    ).compute()
    assert tiled["fraction_water"].data.shape == (200, 400)
    for name in ("water", "building", "road"):
        a, b = whole[f"fraction_{name}"].values, tiled[f"fraction_{name}"].values
        assert a.max() > 0.99 and (a > 0).sum() > 100, name  # not an empty comparison
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6, err_msg=name)
    # the first rectangle straddles the block edges at lines 16, 32, 48 and pixels 48, 64, 80
    water = whole["fraction_water"].values
    assert np.all(water[15:17, 40:85] > 0.99) and np.all(water[20:45, 47:49] > 0.99)
    np.testing.assert_array_equal(tiled["label"].values, whole["label"].values)
    np.testing.assert_allclose(
        tiled["boundary_distance"].values, whole["boundary_distance"].values, atol=1e-3
    )
    np.testing.assert_array_equal(tiled["boundary_mask"].values, whole["boundary_mask"].values)
    # the two tall buildings overlap in radar geometry: dissolved, the fraction never exceeds 1
    bld = whole["fraction_building"].values
    assert bld.max() <= 1.0 and (bld == 1.0).sum() > 200


def test_feature_batches_cover_every_feature_once_in_order(scene):
    feats = read_reference(_layers(scene))
    batches = list(feature_batches(feats, features=2, vertices=3000, max_segment=10.0))
    got = np.concatenate([b[0].geometry for b in batches])
    want = np.concatenate([f.geometry for f in feats])
    assert got.size == want.size and all(x is y for x, y in zip(got, want, strict=True))
    assert all(b[0].geometry.size <= 2 for b in batches)
    # a batch stops at the vertex cap unless one feature alone exceeds it
    for b in batches:
        n = vertex_estimates(b[0], 10.0)
        assert n.sum() <= 3000 or n.size == 1
    # the road (9 m wide, ~ 4 km long) counts two sides of 10 m segments (an estimate: in a
    # geographic CRS a degree of longitude is taken as long as one of latitude)
    road = next(f for f in feats if f.classes[0] == "road")
    length = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True).transform
    xy = np.column_stack(length(*shapely.get_coordinates(road.geometry).T))
    metres = float(np.sum(np.hypot(*np.diff(xy, axis=0).T)))
    np.testing.assert_allclose(vertex_estimates(road, 10.0)[0], 25 + 2 * metres / 10.0, rtol=0.1)


def test_piece_store_window_selects_the_pieces_meeting_a_block():
    store = PieceStore()
    polys = np.array(
        [
            shapely.box(0.0, 0.0, 10.0, 10.0),
            shapely.box(20.0, 20.0, 30.0, 30.0),
            shapely.box(0.0, 0.0, 5.0, 5.0).difference(shapely.box(1, 1, 2, 2)),
            shapely.MultiPolygon([shapely.box(40, 40, 41, 41), shapely.box(50, 50, 51, 51)]),
        ]
    )
    store.add(polys, np.array([0, 1, 0, 1]))
    store.add(np.array([shapely.box(9.6, 9.6, 12.0, 12.0)]), np.array([1]))
    assert store.n_pieces == 6  # the multipolygon is exploded
    geoms, cls = store.window(10, 10, 10, 10)  # pixels 10..19: covers [9.5, 19.5]
    assert cls.tolist() == [0, 1]
    assert shapely.equals(geoms[0], polys[0]) and shapely.equals(
        geoms[1], shapely.box(9.6, 9.6, 12.0, 12.0)
    )
    geoms, cls = store.window(0, 0, 6, 6)
    assert cls.tolist() == [0, 0] and shapely.equals(geoms[1], polys[2])  # the hole survives
    assert store.touches((60, 60)) and not PieceStore().touches((60, 60))
    assert store.window(100, 100, 5, 5)[0].size == 0


def test_files_are_read_near_the_scene_only(scene, tmp_path):
    grid, orbit = scene
    near = radar_rectangle_polygon(grid, orbit, 20.5, 60.5, 50.5, 150.5)
    far = shapely.affinity.translate(near, xoff=1.5)  # 1.5 deg east: about 100 km away
    gdf = gpd.GeoDataFrame(
        {"kind": ["water", "water"]}, geometry=[near, far], crs="EPSG:4326"
    ).to_crs("EPSG:28992")
    gdf.to_file(tmp_path / "ref.gpkg", layer="water", engine="pyogrio")
    lon0, lat0, lon1, lat1 = near.bounds
    box = (lon0 - 0.1, lat0 - 0.1, lon1 + 0.1, lat1 + 0.1)
    assert read_reference(tmp_path / "ref.gpkg", bbox=box)[0].geometry.size == 1
    assert read_reference(tmp_path / "ref.gpkg")[0].geometry.size == 2
    from_file = radarcode(tmp_path / "ref.gpkg", grid, orbit=orbit, dem=0.0)[
        "fraction_water"
    ].values
    from_frame = radarcode(gdf.iloc[:1], grid, orbit=orbit, dem=0.0, class_field="kind")[
        "fraction_water"
    ].values
    np.testing.assert_allclose(from_file, from_frame, atol=1e-9)
    assert from_file.sum() > 3000
