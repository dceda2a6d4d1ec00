"""Raster radarcoding: categorical fractions agree with vector radarcoding; continuous means
of a linear field equal the field at each pixel's ground position; nodata propagates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin

from sarbd.errors import NoOverlapError
from sarbd.geometry import rdr2geo
from sarbd.radarcode import radarcode, radarcode_raster

UTM = "EPSG:32632"


@pytest.fixture(scope="module")
def utm_box(scene):
    grid, orbit = scene
    g = grid.with_epoch(orbit.reference_epoch)
    ll, pp = np.meshgrid([-10.0, grid.length + 10.0], [-10.0, grid.width + 10.0])
    lat, lon, _ = rdr2geo(g.line_to_azimuth_time(ll), g.pixel_to_slant_range(pp), orbit, height=0.0)
    x, y = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lon, lat)
    return float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))


def _write(path, data, x0, y1, res, nodata=None):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=data.dtype,
        crs=UTM,
        transform=from_origin(x0, y1, res, res),
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)


def test_categorical_raster_matches_vector(scene, utm_box, tmp_path):
    grid, orbit = scene
    x0, y0, x1, y1 = utm_box
    res = 5.0
    nx, ny = int((x1 - x0) / res) + 2, int((y1 - y0) / res) + 2
    xb = x0 + res * (nx // 2) + 0.0  # class boundary on a cell edge
    cols = np.arange(nx)
    data = np.where(x0 + res * cols[None, :] < xb, 3, 7).astype(np.uint8) * np.ones(
        (ny, 1), np.uint8
    )
    _write(tmp_path / "lc.tif", data, x0, y0 + res * ny, res)
    ds = radarcode_raster(
        tmp_path / "lc.tif",
        grid,
        orbit=orbit,
        dem=0.0,
        classes={3: "field", 7: "water"},
        chunks=(64, 150),
    )
    poly = shapely.box(x0, y0 + res * ny - res * ny, xb, y0 + res * ny)
    vec = radarcode(
        gpd.GeoDataFrame({"c": ["field"]}, geometry=[poly], crs=UTM),
        grid,
        orbit=orbit,
        dem=0.0,
        class_field="c",
    )
    np.testing.assert_allclose(ds["fraction_field"].values, vec["fraction_field"].values, atol=2e-3)
    total = ds["fraction_field"].values + ds["fraction_water"].values
    np.testing.assert_allclose(total, 1.0, atol=2e-3)  # a tessellation covers every pixel once
    assert ds["label"].attrs["flag_meanings"] == "uncharted field water mixed"


def test_continuous_mean_of_linear_field_and_nodata(scene, utm_box, tmp_path):
    grid, orbit = scene
    x0, y0, x1, y1 = utm_box
    res = 3.0
    nx, ny = int((x1 - x0) / res) + 2, int((y1 - y0) / res) + 2
    xc = x0 + res * (np.arange(nx) + 0.5)
    yc = y0 + res * ny - res * (np.arange(ny) + 0.5)
    a, b = 0.01, -0.02  # value = a x + b y (linear: the area mean is the value at the centroid)
    field = (a * (xc[None, :] - x0) + b * (yc[:, None] - y0)).astype(np.float32)
    field[: ny // 3, : nx // 3] = -9999.0
    _write(tmp_path / "temp.tif", field, x0, y0 + res * ny, res, nodata=-9999.0)
    ds = radarcode_raster(tmp_path / "temp.tif", grid, orbit=orbit, dem=0.0, name="temperature")
    val = ds["temperature"].values
    # brute force: average the raster over each pixel's footprint, sampled 30 x 30 times
    g = grid.with_epoch(orbit.reference_epoch)
    rng = np.random.default_rng(0)
    pl, pp = rng.integers(0, grid.length, 40), rng.integers(0, grid.width, 40)
    sub = (np.arange(30) + 0.5) / 30 - 0.5
    ll = pl[:, None, None] + sub[None, :, None]
    qq = pp[:, None, None] + sub[None, None, :]
    ll, qq = np.broadcast_arrays(ll, qq)
    lat, lon, _ = rdr2geo(g.line_to_azimuth_time(ll), g.pixel_to_slant_range(qq), orbit, height=0.0)
    x, y = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lon, lat)
    col = np.floor((x - x0) / res).astype(int)
    row = np.floor((y0 + res * ny - y) / res).astype(int)
    samples = field[row, col].astype(np.float64)
    bad = (samples == -9999.0).any(axis=(1, 2))
    expect = samples.mean(axis=(1, 2))
    got = val[pl, pp]
    ok = np.isfinite(got)
    assert np.all(ok[~bad])
    # 30 x 30 sampling of 3-m cells inside a 4 x 13.5 m footprint: sampling error < 0.01 * 3 m slope
    np.testing.assert_allclose(got[~bad], expect[~bad], atol=3e-3)
    assert np.isnan(val).mean() > 0.02  # the nodata corner propagates
    ll, pp = np.meshgrid(np.arange(0, grid.length, 7), np.arange(0, grid.width, 13), indexing="ij")
    lat, lon, _ = rdr2geo(g.line_to_azimuth_time(ll), g.pixel_to_slant_range(pp), orbit, height=0.0)
    x, y = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lon, lat)
    ok = np.isfinite(val[ll, pp])
    inside_nodata = (x < x0 + res * (nx // 3) - 20) & (y > y0 + res * ny - res * (ny // 3) + 20)
    assert np.all(~ok[inside_nodata]) and inside_nodata.any()
    vf = ds["temperature_valid_fraction"].values
    assert vf.min() == 0.0 and vf.max() == pytest.approx(1.0, abs=1e-5)


def test_raster_outside_the_grid(scene, tmp_path):
    grid, orbit = scene
    _write(tmp_path / "far.tif", np.ones((10, 10), np.uint8), 100_000.0, 4_000_000.0, 10.0)
    with pytest.raises(
        NoOverlapError, match=r"far.tif: the raster .* does not overlap the radar grid"
    ):
        radarcode_raster(tmp_path / "far.tif", grid, orbit=orbit, dem=0.0)
