"""rdr2geo_grid / geo2rdr_grid on a synthetic scene: DEM iteration, angles, layover/shadow, chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from rasterio.transform import from_origin
from scipy.optimize import brentq

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.errors import InputError, NoOverlapError
from sarbd.geometry import Dem, annotation_height_model, geo2rdr_grid, geoid_height, rdr2geo_grid
from sarbd.geometry.height_model import HeightModel

_TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)

RIDGE_H, FRONT_W, BACK_W = 1500.0, 600.0, 400.0  # m: peak height, front/back slope widths


@pytest.fixture(scope="module")
def small_grid(burst_grid):
    return burst_grid.window(600, 0, 160, 600)


@pytest.fixture(scope="module")
def footprint(small_grid, kepler_orbit):
    ds = rdr2geo_grid(small_grid, kepler_orbit, height=0.0, coarse_step=(40, 100)).compute()
    return ds


def _ridge_dem(footprint, lon_c):
    """A north-south ridge (steep front facing the radar, steeper back) on flat ground at 0 m."""
    w, e = float(footprint.longitude.min()) - 0.3, float(footprint.longitude.max()) + 0.3
    s, n = float(footprint.latitude.min()) - 0.1, float(footprint.latitude.max()) + 0.1
    step = 0.001
    lon = w + step * (np.arange(int((e - w) / step)) + 0.5)
    lat = n - step * (np.arange(int((n - s) / step)) + 0.5)
    lat_c = 0.5 * (s + n)
    m_per_deg = np.pi / 180 * 6.39e6 * np.cos(np.radians(lat_c))
    x = (lon - lon_c) * m_per_deg  # metres east of the crest
    prof = np.where(x < 0, RIDGE_H * (1 + x / FRONT_W), RIDGE_H * (1 - x / BACK_W))
    prof = np.clip(prof, 0.0, None)
    data = np.broadcast_to(prof, (lat.size, lon.size)).copy()
    return Dem.from_array(
        data,
        from_origin(w, n, step, step),
        "EPSG:4326",
        description="synthetic ridge (ellipsoidal)",
    ), m_per_deg


@pytest.fixture(scope="module")
def ridge(footprint, small_grid, kepler_orbit):
    lon_c = float(footprint.longitude[:, 300].mean())
    dem, m_per_deg = _ridge_dem(footprint, lon_c)
    ds = rdr2geo_grid(small_grid, kepler_orbit, dem=dem).compute()
    return ds, dem, lon_c, m_per_deg


def test_no_height_model_is_an_error(small_grid, kepler_orbit):
    with pytest.raises(InputError, match="no height model"):
        rdr2geo_grid(small_grid, kepler_orbit)


def test_dem_outside_footprint_is_an_error(small_grid, kepler_orbit):
    far = Dem.from_array(np.zeros((10, 10)), from_origin(-60.0, -30.0, 0.01, 0.01))
    with pytest.raises(NoOverlapError, match="outside the DEM"):
        rdr2geo_grid(small_grid, kepler_orbit, dem=far)


def test_dem_iteration_lands_on_the_dem(ridge, small_grid, kepler_orbit):
    ds, dem, _, _ = ridge
    ok = ds.converged.values
    assert ok.mean() > 0.99
    lat, lon, h = ds.latitude.values, ds.longitude.values, ds.height.values
    np.testing.assert_allclose(dem.height_at(lat[ok], lon[ok]), h[ok], atol=2e-3)
    assert ds.attrs["height_model"] == "synthetic ridge (ellipsoidal)"
    # the range equation holds (independent ECEF conversion)
    x, y, z = _TO_ECEF.transform(lon[ok], lat[ok], h[ok])
    lines = np.broadcast_to(np.arange(small_grid.length)[:, None], ok.shape)[ok]
    pixels = np.broadcast_to(np.arange(small_grid.width)[None, :], ok.shape)[ok]
    pos = kepler_orbit.position(small_grid.line_to_azimuth_time(lines))
    r = np.linalg.norm(np.stack([x, y, z], -1) - pos, axis=-1)
    np.testing.assert_allclose(r, small_grid.pixel_to_slant_range(pixels), atol=1e-4)


def _zero_doppler_point(kepler_orbit, t, lon, h, lat_guess):
    """The point of the meridian ``lon`` at height ``h`` seen at zero Doppler at time t."""
    pos, vel, _ = kepler_orbit.interpolate(t)

    def f(lat):
        return float(np.dot(vel, llh_to_ecef(lat, lon, h) - pos))

    lat = brentq(f, lat_guess - 1.0, lat_guess + 1.0, xtol=1e-12)
    return np.linalg.norm(llh_to_ecef(lat, lon, h) - pos)


def test_layover_and_shadow_where_geometry_says(ridge, small_grid, kepler_orbit):
    ds, _, lon_c, m_per_deg = ridge
    mask = ds.layover_shadow_mask.values
    assert set(np.unique(mask)) <= {0, 1, 2, 3}
    assert (mask & 1).any() and (mask & 2).any()
    # nothing is flagged on the flat ground far (> 3 km) from the ridge
    dist = np.abs(ds.longitude.values - lon_c) * m_per_deg
    assert not mask[dist > 3000].any()
    # layover spans slant ranges from the crest to the foot of the front slope (the
    # independent zero-Doppler solution on the crest and foot lines), to 2 pixels
    for i in (10, 80, 150):
        t = float(small_grid.line_to_azimuth_time(i))
        lat0 = float(ds.latitude[i, 300])
        r_peak = _zero_doppler_point(kepler_orbit, t, lon_c, RIDGE_H, lat0)
        r_foot = _zero_doppler_point(kepler_orbit, t, lon_c - FRONT_W / m_per_deg, 0.0, lat0)
        lay = np.flatnonzero(mask[i] & 1)
        r = small_grid.pixel_to_slant_range(lay)
        assert r_peak < r_foot  # the crest is nearer than its foot: that is layover
        assert abs(r.min() - r_peak) < 2 * small_grid.range_pixel_spacing
        assert abs(r.max() - r_foot) < 2 * small_grid.range_pixel_spacing
        assert np.all(np.diff(lay) == 1)  # one contiguous band
        shadow = np.flatnonzero(mask[i] & 2)
        assert shadow.size and shadow.min() > lay.max()  # shadow lies behind the crest


def test_chunking_leaves_no_trace(ridge, small_grid, kepler_orbit):
    ds, dem, _, _ = ridge
    dc = rdr2geo_grid(small_grid, kepler_orbit, dem=dem, chunks=(37, 151)).compute()
    np.testing.assert_allclose(dc.latitude.values, ds.latitude.values, atol=1e-10, equal_nan=True)
    np.testing.assert_allclose(dc.longitude.values, ds.longitude.values, atol=1e-10, equal_nan=True)
    np.testing.assert_array_equal(dc.layover_shadow_mask.values, ds.layover_shadow_mask.values)


def test_local_incidence_on_a_tilted_plane(footprint, small_grid, kepler_orbit):
    """Terrain rising to the east with slope s: local incidence = angle(LOS, terrain normal)."""
    slope = 0.15
    w, e = float(footprint.longitude.min()) - 0.3, float(footprint.longitude.max()) + 0.3
    s, n = float(footprint.latitude.min()) - 0.1, float(footprint.latitude.max()) + 0.1
    step = 0.002
    lon = w + step * (np.arange(int((e - w) / step)) + 0.5)
    lat = n - step * (np.arange(int((n - s) / step)) + 0.5)
    from sarbd.core.ellipsoid import WGS84_A, WGS84_E2

    phi = np.radians(lat)[:, None]
    rn = WGS84_A / np.sqrt(1 - WGS84_E2 * np.sin(phi) ** 2)
    east = np.radians(lon - w)[None, :] * rn * np.cos(phi)  # metres east along each parallel
    dem = Dem.from_array(500.0 + slope * east, from_origin(w, n, step, step))
    ds = rdr2geo_grid(small_grid, kepler_orbit, dem=dem, coarse_step=(20, 50)).compute()
    sel = (slice(10, 150, 35), slice(20, 580, 70))
    la, lo, h = (ds[v].values[sel] for v in ("latitude", "longitude", "height"))
    lines = np.arange(small_grid.length)[sel[0]][:, None] + 0 * la
    x, y, z = _TO_ECEF.transform(lo, la, h)
    pos = kepler_orbit.position(small_grid.line_to_azimuth_time(lines))
    los = pos - np.stack([x, y, z], -1)
    los /= np.linalg.norm(los, axis=-1, keepdims=True)
    p, q = np.radians(la), np.radians(lo)
    e_hat = np.stack([-np.sin(q), np.cos(q), 0 * p], -1)
    u_hat = np.stack([np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)], -1)
    n_hat = np.stack([-np.sin(p) * np.cos(q), -np.sin(p) * np.sin(q), np.cos(p)], -1)
    # h = slope * (lon - w) * rn * cos(lat); on the surface at height h, metric distances
    # scale by (rn + h) / rn east and (rm + h) / rm north (the slopes reach 15 km of relief)
    rn_t = WGS84_A / np.sqrt(1 - WGS84_E2 * np.sin(p) ** 2)
    rm_t = rn_t * (1 - WGS84_E2) / (1 - WGS84_E2 * np.sin(p) ** 2)
    dhde = slope * rn_t / (rn_t + h)
    dhdn = -slope * np.radians(lo - w) * np.sin(p) * rm_t / (rm_t + h)
    normal = -dhde[..., None] * e_hat - dhdn[..., None] * n_hat + u_hat
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    expected = np.degrees(np.arccos(np.sum(los * normal, -1)))
    np.testing.assert_allclose(ds.local_incidence_angle.values[sel], expected, atol=0.01)
    inc = np.degrees(np.arccos(np.sum(los * u_hat, -1)))
    np.testing.assert_allclose(ds.incidence_angle.values[sel], inc, atol=1e-4)
    assert np.all(expected < inc)  # facing the radar: smaller local incidence


def test_coarse_grid_reports_and_bounds_its_error(small_grid, kepler_orbit):
    exact = rdr2geo_grid(small_grid, kepler_orbit, height=250.0).compute()
    coarse = rdr2geo_grid(
        small_grid, kepler_orbit, height=250.0, coarse_step=(64, 128), max_interpolation_error=0.01
    ).compute()
    err_reported = coarse.attrs["interpolation_max_horizontal_error_m"]
    assert err_reported <= 0.01
    a = llh_to_ecef(exact.latitude.values, exact.longitude.values, 250.0)
    b = llh_to_ecef(coarse.latitude.values, coarse.longitude.values, 250.0)
    assert np.linalg.norm(a - b, axis=-1).max() < 0.02
    np.testing.assert_allclose(coarse.incidence_angle, exact.incidence_angle, atol=1e-4)


def test_geo2rdr_grid_inverts_rdr2geo_grid(ridge, small_grid, kepler_orbit):
    ds, _, _, _ = ridge
    g = geo2rdr_grid(
        ds.latitude, ds.longitude, ds.height, small_grid, kepler_orbit, chunks=(50, 200)
    ).compute()
    ok = ds.converged.values
    assert g.converged.values[ok].all()
    line = np.broadcast_to(ds.line.values[:, None], ok.shape)
    pixel = np.broadcast_to(ds.pixel.values[None, :], ok.shape)
    assert np.abs(g.radar_line.values[ok] - line[ok]).max() < 1e-5
    assert np.abs(g.radar_pixel.values[ok] - pixel[ok]).max() < 1e-5
    # a coarse solve of a smooth surface is within its stated error
    flat = rdr2geo_grid(small_grid, kepler_orbit, height=0.0).compute()
    gc = geo2rdr_grid(
        flat.latitude,
        flat.longitude,
        flat.height,
        small_grid,
        kepler_orbit,
        coarse_step=(32, 64),
        max_interpolation_error=1e-3,
    ).compute()
    assert gc.attrs["interpolation_max_error_pixels"] <= 1e-3
    assert np.abs(gc.radar_line.values - line).max() < 2e-3
    assert np.abs(gc.radar_pixel.values - pixel).max() < 2e-3


def test_annotation_height_model_floors_at_the_geoid():
    # a 3 x 3 geolocation grid over the sea off Terceira: 0 m above the ellipsoid
    lines, pixels = np.meshgrid([0, 100, 200], [0, 500, 1000], indexing="ij")
    t0 = np.datetime64("2022-09-18T07:49:21", "ns")
    times = t0 + (lines * 2_055_556).astype("timedelta64[ns]")
    times[:, 1] += np.timedelta64(3000, "ns")  # microsecond jitter along a row, as ESA's
    srt = 2 * (900e3 + pixels * 2.33) / 299_792_458.0
    lat = 38.6 + lines * 1e-4
    lon = -27.2 + pixels * 1e-4
    h = np.zeros(lines.shape)
    h[0, 0] = 300.0  # a hill above the geoid
    grid = pd.DataFrame(
        {
            "line": lines.ravel(),
            "pixel": pixels.ravel(),
            "azimuth_time": times.ravel(),
            "slant_range_time": srt.ravel(),
            "latitude": lat.ravel(),
            "longitude": lon.ravel(),
            "height": h.ravel(),
        }
    )
    model = annotation_height_model(grid)
    assert "floored at the geoid" in model.description
    n = geoid_height(lat, lon)
    assert n.mean() > 40  # the geoid is ~50 m above the ellipsoid there
    r = 900e3 + pixels * 2.33
    at = t0 + (lines * 2_055_556).astype("timedelta64[ns]")
    np.testing.assert_allclose(model.heights(at, r)[1:, 1:], n[1:, 1:], atol=1e-3)
    assert model.heights(at[0, 0], r[0, 0]) == pytest.approx(300.0)
    # halfway between two nodes of a row: the mean of their heights
    mid = model.heights(at[0, 0], 0.5 * (r[0, 0] + r[0, 1]))
    assert mid == pytest.approx(0.5 * (300.0 + n[0, 1]), abs=0.01)
    raw = annotation_height_model(grid, floor_at_geoid=False)
    assert raw.heights(at[2, 2], r[2, 2]) == pytest.approx(0.0, abs=1e-9)
    const = HeightModel.ellipsoidal(3.0).heights(at, r)
    assert const.shape == (3, 3) and np.all(const == 3.0)


def test_annotation_height_model_on_a_real_swath(shared_data):
    import sarbd

    scene = sarbd.open_product(
        shared_data
        / "s1_terceira"
        / "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml"
    )
    model = annotation_height_model(scene)
    g = scene.product.geolocation_grid
    n = geoid_height(g["latitude"].to_numpy(), g["longitude"].to_numpy())
    got = model.heights(
        g["azimuth_time"].to_numpy(), g["slant_range_time"].to_numpy() * 299_792_458.0 / 2
    )
    np.testing.assert_allclose(got, np.maximum(g["height"].to_numpy(), n), atol=0.05)
    assert (g["height"].to_numpy() < n).any()  # the open sea sits below the geoid in the grid


def test_point_rdr2geo_on_a_dem_matches_the_grid(ridge, small_grid, kepler_orbit):
    from sarbd.geometry import rdr2geo

    ds, dem, _, _ = ridge
    lines = np.array([5, 60, 140])
    pixels = np.array([50, 300, 550])
    lat, lon, h, ok = rdr2geo(
        small_grid.line_to_azimuth_time(lines),
        small_grid.pixel_to_slant_range(pixels),
        kepler_orbit,
        height=dem,
        return_converged=True,
    )
    assert ok.all()
    np.testing.assert_allclose(dem.height_at(lat, lon), h, atol=2e-3)
    # away from the ridge the DEM solution is unique: point and grid agree
    np.testing.assert_allclose(lat[[0, 2]], ds.latitude.values[lines, pixels][[0, 2]], atol=1e-9)
    np.testing.assert_allclose(lon[[0, 2]], ds.longitude.values[lines, pixels][[0, 2]], atol=1e-9)


def test_non_convergence_is_flagged_and_logged(small_grid, kepler_orbit, caplog):
    # a DEM covering only part of the scene: pixels outside have no solution
    import logging

    ds = rdr2geo_grid(small_grid, kepler_orbit, height=0.0, coarse_step=(40, 100)).compute()
    mid = float(ds.longitude[:, 300].mean())
    w, n = float(ds.longitude.min()) - 0.2, float(ds.latitude.max()) + 0.1
    step = 0.01
    nx = int((mid - w) / step)
    ny = int((n - float(ds.latitude.min()) + 0.1) / step)
    dem = Dem.from_array(np.full((ny, nx), 10.0), from_origin(w, n, step, step))
    with caplog.at_level(logging.WARNING, logger="sarbd"):
        part = rdr2geo_grid(small_grid, kepler_orbit, dem=dem, layover_shadow=False).compute()
    conv = part.converged.values
    assert 0.2 < conv.mean() < 0.8
    assert (
        np.isnan(part.latitude.values[~conv]).all()
        and np.isfinite(part.latitude.values[conv]).all()
    )
    assert "have no solution" in caplog.text


def test_terrain_layers(ridge, small_grid, kepler_orbit):
    from sarbd.geometry import terrain_layers

    ds, dem, _, _ = ridge
    with_dem = terrain_layers(small_grid, kepler_orbit, dem=dem)
    np.testing.assert_array_equal(
        with_dem["layover_shadow_mask"].values, ds.layover_shadow_mask.values
    )
    from_geo = terrain_layers(small_grid, kepler_orbit, ds)
    inc = from_geo["incidence_angle"].values
    np.testing.assert_allclose(inc, ds.incidence_angle.values, atol=1e-3)
    assert not from_geo["layover_shadow_mask"].values.any()
    with pytest.raises(InputError):
        terrain_layers(small_grid, kepler_orbit)


def test_point_rdr2geo_grid_path_on_a_dem(ridge, small_grid, kepler_orbit):
    from sarbd.geometry import rdr2geo

    ds, dem, _, _ = ridge
    t = small_grid.line_to_azimuth_time(np.arange(0, 160, 20))[:, None]
    r = small_grid.pixel_to_slant_range(np.arange(600))[None, :]
    lat, lon, h, ok = rdr2geo(
        np.broadcast_to(t, (8, 600)),
        np.broadcast_to(r, (8, 600)),
        kepler_orbit,
        height=dem,
        return_converged=True,
    )
    assert ok.all()
    np.testing.assert_allclose(lat, ds.latitude.values[::20], atol=1e-12)
    np.testing.assert_allclose(lon, ds.longitude.values[::20], atol=1e-12)
    np.testing.assert_allclose(h, ds.height.values[::20], atol=1e-9)
