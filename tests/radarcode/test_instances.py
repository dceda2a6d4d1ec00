"""Instance rasters: each feature its own object, pixels to the feature covering most of them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from sarbd.radarcode.instances import radarcode_instances

from .conftest import radar_rectangle_polygon

#: (l0, l1, p0, p1): two rectangles sharing the edge p = 180.3 (pixel 180: 0.8 A, 0.2 B)
A = (20.25, 60.75, 100.5, 180.3)
B = (30.5, 70.5, 180.3, 250.7)


def _gdf(scene):
    grid, orbit = scene
    polys = [radar_rectangle_polygon(grid, orbit, *r) for r in (A, B)]
    return gpd.GeoDataFrame({"oid": [7, 3]}, geometry=polys, crs="EPSG:4326")


def test_instances_follow_the_largest_cover(scene):
    grid, orbit = scene
    inst = radarcode_instances(_gdf(scene), grid, orbit=orbit, id_field="oid", dem=0.0).values
    assert set(np.unique(inst)) == {0, 3, 7}
    # pixel centres inside a rectangle (cover >= 0.5) get its id; the shared edge pixel goes to A
    assert (inst[21:60, 101:180] == 7).all() and inst[40, 180] == 7 and inst[40, 181] == 3
    assert (inst[31:70, 181:250] == 3).all()
    # lines 20 and 61 are covered 0.25 (edges at 20.25 and 60.75): not A; line 60 is whole
    assert (inst[20, 101:180] == 0).all() and (inst[61, 101:180] == 0).all()
    assert (inst[60, 101:180] == 7).all()
    assert (inst[:, :100] == 0).all() and (inst[75:] == 0).all()
    # the blocks of a fine chunking give the same raster
    fine = radarcode_instances(
        _gdf(scene), grid, orbit=orbit, id_field="oid", dem=0.0, chunks=(37, 53)
    ).values
    np.testing.assert_array_equal(fine, inst)


def test_grow_dilates_one_instance(scene):
    grid, orbit = scene
    base = radarcode_instances(_gdf(scene), grid, orbit=orbit, id_field="oid", dem=0.0).values
    grown = radarcode_instances(
        _gdf(scene), grid, orbit=orbit, id_field="oid", dem=0.0, grow={3: (0.0, 3.0)}
    ).values
    cols = np.flatnonzero((base == 3).any(axis=0))
    gcols = np.flatnonzero((grown == 3).any(axis=0))
    assert gcols[-1] == cols[-1] + 3  # 250.7 + 3 -> last pixel 253 instead of 250
    # A keeps the pixels it covers most (B grown by 3 pixels now covers pixel 180 whole)
    assert (grown == 7).sum() < (base == 7).sum()
    assert (grown[base == 0] != 7).all()
