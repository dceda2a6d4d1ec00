"""End-to-end radarcoding against polygons whose radar footprint is known exactly.

The polygons are built the other way round: a rectangle in (line, pixel), densely
sampled on its outline, goes through rdr2geo to longitude/latitude. Radarcoding must
give fraction 1 inside the rectangle, 0 outside and the exact covered area on the
pixels its (fractional) edges cut.
"""

from __future__ import annotations

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr

import sarbd
from sarbd.errors import InputError, NoOverlapError
from sarbd.radarcode import radarcode

from .conftest import radar_rectangle_polygon, stack_dataset


def rectangle_truth(shape, l0, l1, p0, p1):
    """Exact fraction of each pixel covered by the rectangle lines l0..l1, pixels p0..p1."""
    lines = np.arange(shape[0])
    pixels = np.arange(shape[1])
    fl = np.clip(np.minimum(lines + 0.5, l1) - np.maximum(lines - 0.5, l0), 0, 1)
    fp = np.clip(np.minimum(pixels + 0.5, p1) - np.maximum(pixels - 0.5, p0), 0, 1)
    return fl[:, None] * fp[None, :]


RECT = (20.25, 60.75, 100.5, 180.3)


@pytest.fixture(scope="module")
def rect_gdf(scene):
    grid, orbit = scene
    poly = radar_rectangle_polygon(grid, orbit, *RECT)
    return gpd.GeoDataFrame({"kind": ["water"]}, geometry=[poly], crs="EPSG:4326")


def test_rectangle_is_reproduced_exactly(scene, rect_gdf):
    grid, orbit = scene
    ds = sarbd.radarcode(rect_gdf, grid, orbit=orbit, dem=0.0, class_field="kind")
    frac = ds["fraction_water"].values
    truth = rectangle_truth(grid.shape, *RECT)
    assert np.max(np.abs(frac - truth)) < 1e-3
    assert abs(frac.sum() - truth.sum()) < 1e-2 * 1e-1 * truth.sum()
    assert ds["fraction_water"].attrs["units"] == "1"
    # hard label: class code 1 where the fraction is >= 0.5
    lab = ds["label"].values
    assert set(np.unique(lab)) <= {0, 1, 255}
    np.testing.assert_array_equal(lab == 1, truth >= 0.5 - 1e-6)
    assert ds["label"].attrs["flag_meanings"] == "uncharted water mixed"


def test_any_crs_gives_the_same_fractions(scene, rect_gdf):
    grid, orbit = scene
    ref = sarbd.radarcode(rect_gdf, grid, orbit=orbit, dem=0.0)["fraction_reference"].values
    for crs in ("EPSG:32632", "EPSG:28992", "EPSG:3035"):  # UTM 32N, Dutch RD New, ETRS89-LAEA
        other = sarbd.radarcode(rect_gdf.to_crs(crs), grid, orbit=orbit, dem=0.0)[
            "fraction_reference"
        ].values
        assert np.max(np.abs(other - ref)) < 1e-3, crs


def test_height_layer_of_a_stack_and_chunks(scene):
    """A dataset with the stack layout: heights come from its own height layer."""
    grid, orbit = scene
    h = 47.0  # ellipsoidal terrain height everywhere
    poly = radar_rectangle_polygon(grid, orbit, 30.5, 150.5, 10.2, 390.8, height=h)
    gdf = gpd.GeoDataFrame(geometry=[poly], crs="EPSG:4326")
    ds_in = stack_dataset(grid, orbit, h)
    out = radarcode(gdf, ds_in, chunks=(37, 53))
    frac = out["fraction_reference"]
    assert frac.data.chunks[0][0] == 37
    truth = rectangle_truth(grid.shape, 30.5, 150.5, 10.2, 390.8)
    assert np.max(np.abs(frac.values - truth)) < 1e-3
    assert "layover_shadow_mask" in out
    # at height 0 instead of 47 m the outline moves ~ h cos(theta) / 2.33 m ~ 16 pixels
    wrong = radarcode(gdf, ds_in, dem=0.0)["fraction_reference"].values
    shift = np.argmax(wrong[90] > 0.5) - np.argmax(truth[90] > 0.5)
    assert 12 <= shift <= 20


def test_building_roof_layover(scene):
    grid, orbit = scene
    H = 40.0
    # footprint whose roof (at H over flat terrain at 0 m) images onto a known rectangle
    roof_rect = (80.5, 100.5, 200.5, 230.5)
    footprint = radar_rectangle_polygon(grid, orbit, *roof_rect, height=H)
    gdf = gpd.GeoDataFrame({"height": [H]}, geometry=[footprint], crs="EPSG:4326")
    roof = radarcode({"building": gdf}, grid, orbit=orbit, dem=0.0, building_model="roof")
    truth = rectangle_truth(grid.shape, *roof_rect)
    np.testing.assert_allclose(roof["fraction_building"].values, truth, atol=1e-3)
    foot = radarcode({"building": gdf}, grid, orbit=orbit, dem=0.0, building_model="footprint")[
        "fraction_building"
    ].values
    vol = radarcode({"building": gdf}, grid, orbit=orbit, dem=0.0)["fraction_building"].values
    # roof towards near range: the ground outline lies H cos(theta) / dr pixels further
    cols = np.arange(grid.width)
    c_roof = (truth.sum(0) * cols).sum() / truth.sum()
    c_foot = (foot.sum(0) * cols).sum() / foot.sum()
    sat = orbit.interpolate(np.array([60.0 + 90 * grid.azimuth_time_interval]))[0][0]
    # incidence at the target from the ECEF geometry (ellipsoid normal)
    from sarbd.geometry import rdr2geo

    g = grid.with_epoch(orbit.reference_epoch)
    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(90.0), g.pixel_to_slant_range(215.0), orbit, height=0.0
    )
    from sarbd.core.ellipsoid import llh_to_ecef

    p = llh_to_ecef(lat, lon, 0.0)
    normal = np.array(
        [
            np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
            np.cos(np.radians(lat)) * np.sin(np.radians(lon)),
            np.sin(np.radians(lat)),
        ]
    )
    look = sat - p
    cos_inc = float(look @ normal / np.linalg.norm(look))
    expected = H * cos_inc / grid.range_pixel_spacing
    assert abs((c_foot - c_roof) - expected) < 0.02 * expected
    # the volume covers roof, walls and footprint; for a box swept by the layover shift
    # (range direction) its image is the roof rectangle stretched by that shift
    assert np.all(vol >= np.maximum(truth, foot) - 1e-6)
    n_lines = roof_rect[1] - roof_rect[0]
    assert abs(vol.sum() - (truth.sum() + n_lines * (c_foot - c_roof))) < 0.01 * vol.sum()


def test_lines_points_widths_and_overlaps(scene):
    grid, orbit = scene
    g = grid.with_epoch(orbit.reference_epoch)
    from sarbd.geometry import rdr2geo

    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(np.array([20.0, 180.0, 100.0])),
        g.pixel_to_slant_range(np.array([200.0, 200.0, 300.0])),
        orbit,
        height=0.0,
    )
    road = shapely.LineString([(lon[0], lat[0]), (lon[1], lat[1])])
    crossing = shapely.LineString([(lon[0], lat[0]), (lon[2], lat[2])])  # shares a start: overlaps
    gdf = gpd.GeoDataFrame(
        {"cls": ["road", "road", "tree"]},
        geometry=[road, crossing, shapely.Point(lon[2], lat[2])],
        crs="EPSG:4326",
    )
    utm = gdf.to_crs("EPSG:32632")
    length_road = utm.geometry.length.to_numpy()
    ds = radarcode(
        gdf, grid, orbit=orbit, dem=0.0, class_field="cls", widths={"road": 8.0, "point": 5.0}
    )
    d_az, d_rg = 13.5156, 3.9841  # ground pixel size from the grid (see Target.ground_spacing)
    pix_area = d_az * d_rg
    road_area = ds["fraction_road"].values.sum() * pix_area
    union = shapely.union_all(utm.geometry[:2].buffer(4.0, cap_style="flat")).area
    assert abs(road_area - union) < 0.03 * union
    assert road_area < 8.0 * length_road.sum()  # the shared start is not counted twice
    assert ds["fraction_road"].values.max() <= 1.0
    tree_area = ds["fraction_tree"].values.sum() * pix_area
    assert abs(tree_area - np.pi * 2.5**2) < 0.05 * np.pi * 2.5**2


def test_boundary_distance_and_mask(scene):
    grid, orbit = scene
    # left part of the grid (pixels < 200) is one class: a straight boundary at pixel 199.5
    poly = radar_rectangle_polygon(grid, orbit, -5.0, 205.0, -5.0, 199.5, step=0.5)
    gdf = gpd.GeoDataFrame(geometry=[poly], crs="EPSG:4326")
    ds = radarcode(gdf, grid, orbit=orbit, dem=0.0, buffer=20.0, max_distance=100.0)
    dist = ds["boundary_distance"].values
    d_rg = float(ds["boundary_distance"].attrs["comment"].split("and ")[1].split(" m")[0])
    row = dist[100]
    # the outline runs along the edge between pixels 199 and 200: both centres are half a
    # ground-range step from it, and the distance grows by d_rg per pixel
    np.testing.assert_allclose(row[[199, 200]], 0.5 * d_rg, rtol=1e-4)
    np.testing.assert_allclose(row[205], 5.5 * d_rg, rtol=1e-4)
    np.testing.assert_allclose(row[180], 19.5 * d_rg, rtol=1e-4)
    assert row[0] == pytest.approx(100.0)  # capped
    mask = ds["boundary_mask"].values[100]
    assert mask[199] == 1 and mask[204] == 1 and mask[205] == 0  # 4.5 * 3.98 < 20 < 5.5 * 3.98


def test_outline_distance_analytic():
    """Centre-to-outline distances on a half-step grid against hand-computed values."""
    from sarbd.radarcode.derived import boundary_distance, hard_label, outline_distance

    a, r = 14.0, 4.0  # azimuth and ground-range steps, m
    f = np.zeros((2, 40, 50), np.float32)
    f[0, :, :20] = 1.0
    f[1, :, 20:] = 1.0
    f[0, 30, 40], f[1, 30, 40] = 0.4, 0.6  # an outline crosses pixel (30, 40)
    crossed = np.any((f > 1e-6) & (f < 1 - 1e-6), axis=0)
    lab = np.where(f[0] >= 0.5, 1, 2)
    d = outline_distance(crossed, lab, (a, r), cap=100.0)
    # straight edge between pixels 19 and 20: half a step, then one step per pixel
    np.testing.assert_allclose(d[5, [19, 20, 21, 15]], [0.5 * r, 0.5 * r, 1.5 * r, 4.5 * r])
    # the crossed pixel is at 0; its neighbours at half a step; a diagonal one at the corner
    assert d[30, 40] == 0.0
    np.testing.assert_allclose(
        [d[29, 40], d[30, 41], d[31, 42]], [0.5 * a, 0.5 * r, np.hypot(0.5 * a, 1.5 * r)]
    )
    # Dask blocks with a halo give the same result for any chunking
    for chunks in [(2, 7, 9), (2, 16, 16), (2, 40, 50)]:
        fr = da.from_array(f, chunks=chunks)
        _, dist = boundary_distance(
            fr, hard_label(fr, np.array([1, 2])), (a, r), max_distance=100.0
        )
        np.testing.assert_array_equal(dist.compute(), d)


def test_file_formats_layers_and_class_map(scene, rect_gdf, tmp_path):
    grid, orbit = scene
    other = rect_gdf.copy()
    other["geometry"] = [radar_rectangle_polygon(grid, orbit, 100.0, 120.0, 10.0, 20.0)]
    gpkg = tmp_path / "ref.gpkg"
    rect_gdf.to_file(gpkg, layer="waterdeel_vlak", engine="pyogrio")
    other.to_file(gpkg, layer="gebouw_vlak", engine="pyogrio")
    ds = radarcode(
        gpkg,
        grid,
        orbit=orbit,
        dem=0.0,
        class_map={"waterdeel_vlak": "water", "gebouw_vlak": "building"},
    )
    assert {"fraction_water", "fraction_building"} <= set(ds.data_vars)
    ref = ds["fraction_water"].values
    one = radarcode(gpkg, grid, orbit=orbit, dem=0.0, layers=["waterdeel_vlak"])
    np.testing.assert_allclose(one["fraction_waterdeel_vlak"].values, ref, atol=1e-6)
    for name, kw in [("ref.shp", {}), ("ref.geojson", {}), ("ref.fgb", {}), ("ref.parquet", None)]:
        path = tmp_path / name
        if kw is None:
            rect_gdf.to_parquet(path)
        else:
            rect_gdf.to_file(path, engine="pyogrio")
        out = radarcode(path, grid, orbit=orbit, dem=0.0, class_field="kind")
        np.testing.assert_allclose(out["fraction_water"].values, ref, atol=1e-3, err_msg=name)


def test_bad_input_gives_one_line_errors(scene, rect_gdf, tmp_path):
    grid, orbit = scene
    far = gpd.GeoDataFrame(geometry=[shapely.box(10.0, 40.0, 10.1, 40.1)], crs="EPSG:4326")
    path = tmp_path / "far.gpkg"
    far.to_file(path, engine="pyogrio")
    with pytest.raises(NoOverlapError) as err:
        radarcode(path, grid, orbit=orbit, dem=0.0)
    msg = str(err.value)
    assert (
        "far.gpkg" in msg
        and "lon 10.0000..10.1000" in msg
        and "lat 55.9" in msg
        and "\n" not in msg
    )
    with pytest.raises(
        InputError, match=r"ref.gpkg: class field 'nope' is not in layer .*fields: kind"
    ):
        rect_gdf.to_file(tmp_path / "ref.gpkg", engine="pyogrio")
        radarcode(tmp_path / "ref.gpkg", grid, orbit=orbit, dem=0.0, class_field="nope")
    empty = rect_gdf.iloc[:0]
    empty.to_file(tmp_path / "empty.gpkg", engine="pyogrio")
    with pytest.raises(InputError, match=r"empty.gpkg: layer 'empty' has no features"):
        radarcode(tmp_path / "empty.gpkg", grid, orbit=orbit, dem=0.0)
    nocrs = gpd.GeoDataFrame(geometry=list(rect_gdf.geometry), crs=None)
    nocrs.to_file(tmp_path / "nocrs.shp", engine="pyogrio")  # no .prj
    with pytest.raises(InputError, match=r"nocrs.shp: layer .* has no coordinate reference system"):
        radarcode(tmp_path / "nocrs.shp", grid, orbit=orbit, dem=0.0)
    with pytest.raises(InputError, match="no DEM was given"):
        radarcode(rect_gdf, grid, orbit=orbit)
    with pytest.raises(InputError, match="not found"):
        radarcode(tmp_path / "missing.gpkg", grid, orbit=orbit, dem=0.0)


def test_dataset_round_trip_to_netcdf(scene, rect_gdf, tmp_path):
    grid, orbit = scene
    ds = radarcode(rect_gdf, grid, orbit=orbit, dem=0.0)
    ds.to_netcdf(tmp_path / "rc.nc", engine="h5netcdf")
    back = xr.open_dataset(tmp_path / "rc.nc", engine="h5netcdf")
    np.testing.assert_array_equal(back["label"].values, ds["label"].values)
    assert list(back["label"].attrs["flag_values"]) == [0, 1, 255]


def test_non_convex_building_volume_is_the_swept_union(scene):
    """An L-shaped building: the volume is footprint ∪ roof ∪ walls, not their convex hull."""
    grid, orbit = scene
    from sarbd.geometry import rdr2geo

    H = 30.0
    g = grid.with_epoch(orbit.reference_epoch)
    # L shape in radar coordinates of the roof (lines x pixels), mapped to the ground at H
    ring = np.array([(100, 100), (100, 160), (110, 160), (110, 115), (140, 115), (140, 100)], float)
    dense = np.concatenate(
        [np.linspace(ring[i], ring[(i + 1) % 6], 40, endpoint=False) for i in range(6)]
    )
    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(dense[:, 0]), g.pixel_to_slant_range(dense[:, 1]), orbit, height=H
    )
    gdf = gpd.GeoDataFrame(
        {"height": [H]}, geometry=[shapely.Polygon(np.c_[lon, lat])], crs="EPSG:4326"
    )
    kw = dict(orbit=orbit, dem=0.0)
    roof = radarcode({"b": gdf}, grid, building_model="roof", **kw)["fraction_b"].values
    foot = radarcode({"b": gdf}, grid, building_model="footprint", **kw)["fraction_b"].values
    vol = radarcode({"b": gdf}, grid, **kw)["fraction_b"].values
    assert abs(roof.sum() - (60 * 10 + 30 * 15)) < 0.5  # the L's area in pixels
    assert np.all(vol >= np.maximum(roof, foot) - 1e-6)
    shift = (foot.sum(0) * np.arange(grid.width)).sum() / foot.sum() - (
        roof.sum(0) * np.arange(grid.width)
    ).sum() / roof.sum()
    # sweep of the L along the range shift: its area grows by (azimuth extent) x shift
    assert abs(vol.sum() - (roof.sum() + 40 * shift)) < 0.01 * vol.sum()
    hull = shapely.convex_hull(shapely.MultiPoint(np.argwhere(np.maximum(roof, foot) > 0)))
    assert vol.sum() < hull.area  # the notch of the L stays open


def test_width_attribute_wins_over_class_default(scene):
    grid, orbit = scene
    g = grid.with_epoch(orbit.reference_epoch)
    from sarbd.geometry import rdr2geo

    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(np.array([30.0, 170.0])),
        g.pixel_to_slant_range(np.array([150.0, 150.0])),
        orbit,
        height=0.0,
    )
    line = shapely.LineString(np.c_[lon, lat])
    gdf = gpd.GeoDataFrame({"width": [12.0, np.nan]}, geometry=[line, line], crs="EPSG:4326")
    utm_len = gdf.to_crs("EPSG:32632").geometry.length.iloc[0]
    wide = radarcode({"road": gdf.iloc[:1]}, grid, orbit=orbit, dem=0.0)[
        "fraction_road"
    ].values.sum()
    default = radarcode({"road": gdf.iloc[1:]}, grid, orbit=orbit, dem=0.0)[
        "fraction_road"
    ].values.sum()
    assert wide / default == pytest.approx(
        12.0 / 7.0, rel=0.01
    )  # attribute 12 m vs road default 7 m
    assert wide * 13.5156 * 3.9841 == pytest.approx(12.0 * utm_len, rel=0.03)
