"""Geoid undulations and DEM reading: vertical datums, CRSs, interpolation, errors."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from pyproj import CRS, Transformer
from rasterio.transform import from_origin

from sarbd.errors import DependencyError, InputError, NoOverlapError
from sarbd.geometry import Dem, geoid_height
from sarbd.geometry import geoid as geoid_mod

# EGM96 undulations published with NGA's reference implementation (F477 test points,
# also GeographicLib's "geoidtest"): latitude, longitude, N (m, spherical harmonics).
NGA_EGM96 = np.array(
    [
        [38.6281550, 269.7791550, -31.628],
        [-14.6212170, 305.0211140, -2.969],
        [46.8743190, 102.4487290, -43.575],
        [-23.6174460, 133.8747120, 15.868],
        [38.6254730, 359.9995000, 50.066],
        [-0.4667440, 0.0023000, 17.329],
    ]
)


def test_geoid_matches_published_egm96_values():
    n = geoid_height(NGA_EGM96[:, 0], NGA_EGM96[:, 1])
    # the 15' grid interpolated bilinearly departs from the full expansion by a few cm
    np.testing.assert_allclose(n, NGA_EGM96[:, 2], atol=0.08)
    # longitudes in [-180, 180) and [0, 360) are the same place
    np.testing.assert_allclose(geoid_height(NGA_EGM96[:, 0], NGA_EGM96[:, 1] - 360.0), n, atol=1e-9)


def test_geoid_matches_proj_vgridshift():
    grid = geoid_mod.load_geoid("egm96")
    tr = Transformer.from_pipeline(f"+proj=vgridshift +grids={grid.path} +multiplier=1")
    rng = np.random.default_rng(3)
    lat = rng.uniform(-80, 80, 200)
    lon = rng.uniform(-180, 180, 200)
    _, _, n_proj = tr.transform(lon, lat, np.zeros(200))
    np.testing.assert_allclose(geoid_height(lat, lon), n_proj, atol=1e-4)


def test_missing_geoid_grid_is_a_dependency_error(monkeypatch, tmp_path):
    monkeypatch.setattr(geoid_mod, "_search_dirs", lambda: [tmp_path])
    geoid_mod.load_geoid.cache_clear()
    try:
        with pytest.raises(DependencyError, match=r"ensure-geoid\.sh"):
            geoid_height(0.0, 0.0)
    finally:
        monkeypatch.undo()
        geoid_mod.load_geoid.cache_clear()


def test_rome_dem_is_converted_from_egm96(shared_data):
    path = shared_data / "dem_rome" / "Rome-30m-DEM.tif"
    dem = Dem.open(path)
    assert "EGM96 -> ellipsoid, from the CRS" in dem.description  # EPSG:9707 = WGS 84 + EGM96
    with rasterio.open(path) as src:
        raw = src.read(1).astype(float)
        t = src.transform
    i, j = 100, 200
    lat = t.f + t.e * (i + 0.5)
    lon = t.c + t.a * (j + 0.5)
    n = float(geoid_height(lat, lon))
    assert 45.0 < n < 52.0  # the geoid is ~48 m above the ellipsoid around Rome
    np.testing.assert_allclose(dem.height_at(lat, lon), raw[i, j] + n, atol=1e-6)
    flat = Dem.open(path, vertical_datum="ellipsoid")
    np.testing.assert_allclose(flat.height_at(lat, lon), raw[i, j], atol=1e-6)


def _write_tif(path, data, transform, crs):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype="float32",
        transform=transform,
        crs=crs,
    ) as dst:
        dst.write(data.astype(np.float32), 1)


def test_dem_without_crs_is_rejected(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32"
    ) as dst:
        dst.write(np.zeros((4, 4), np.float32), 1)
    with pytest.raises(InputError, match="no coordinate reference system") as err:
        Dem.open(path)
    assert "nocrs.tif" in str(err.value)


def test_projected_dem_samples_in_its_own_crs(tmp_path):
    """A plane in UTM coordinates is reproduced exactly by bilinear sampling in UTM."""
    crs = CRS.from_epsg(32633)
    x0, y0, step = 290000.0, 4650000.0, 30.0
    n = 200
    xs = x0 + step * (np.arange(n) + 0.5)
    ys = y0 - step * (np.arange(n) + 0.5)
    plane = 100.0 + 0.02 * (xs[None, :] - x0) - 0.01 * (ys[:, None] - y0)
    path = tmp_path / "utm.tif"
    _write_tif(path, plane, from_origin(x0, y0, step, step), crs)
    dem = Dem.open(path, vertical_datum="ellipsoid")
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    px = np.array([x0 + 1234.5, x0 + 4321.0])
    py = np.array([y0 - 2500.25, y0 - 5000.0])
    lon, lat = to_ll.transform(px, py)
    expected = 100.0 + 0.02 * (px - x0) - 0.01 * (py - y0)
    np.testing.assert_allclose(dem.height_at(lat, lon), expected, atol=2e-3)  # float32 storage
    # the geographic copy used by the kernels agrees to within the warp's interpolation
    g = dem.geographic()
    from sarbd.geometry.kernels import dem_height

    vals = [
        dem_height(g.data, g.x0, g.y0, g.dx, g.dy, lo, la) for lo, la in zip(lon, lat, strict=True)
    ]
    np.testing.assert_allclose(vals, expected, atol=0.05)
    assert np.isnan(dem.height_at(0.0, 0.0))
    with pytest.raises(NoOverlapError):
        Dem.open(path, vertical_datum="ellipsoid", bounds=(100.0, 10.0, 101.0, 11.0))


def test_biquintic_reproduces_linear_and_beats_bilinear(tmp_path):
    x0, y0, step = 10.0, 45.0, 0.001
    n = 60
    lon = x0 + step * (np.arange(n) + 0.5)
    lat = y0 - step * (np.arange(n) + 0.5)
    smooth = 300.0 * np.sin(lon[None, :] * 900.0) * np.cos(lat[:, None] * 700.0)
    path = tmp_path / "geo.tif"
    _write_tif(path, smooth, from_origin(x0, y0, step, step), "EPSG:4326")
    bil = Dem.open(path, vertical_datum="ellipsoid")
    biq = Dem.open(path, vertical_datum="ellipsoid", interpolation="biquintic")
    rng = np.random.default_rng(0)
    qlon = rng.uniform(lon[5], lon[-6], 300)
    qlat = rng.uniform(lat[-6], lat[5], 300)
    truth = 300.0 * np.sin(qlon * 900.0) * np.cos(qlat * 700.0)
    err_bil = np.abs(bil.height_at(qlat, qlon) - truth).max()
    err_biq = np.abs(biq.height_at(qlat, qlon) - truth).max()
    assert err_biq < 0.2 * err_bil
    # nodes are reproduced exactly
    np.testing.assert_allclose(biq.height_at(lat[10], lon[20]), smooth[10, 20], atol=1e-3)
    with pytest.raises(InputError, match="interpolation"):
        Dem.open(path, interpolation="cubic")


def test_geoid_surface_is_geoid_plus_constant():
    dem = Dem.geoid_surface((12.0, 41.0, 13.0, 42.0), 5.0)
    assert dem.description == "constant 5 m above EGM96"
    np.testing.assert_allclose(dem.height_at(41.5, 12.5), geoid_height(41.5, 12.5) + 5.0, atol=0.02)
