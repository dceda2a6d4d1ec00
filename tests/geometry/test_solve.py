"""rdr2geo / geo2rdr against analytic cases and the range-Doppler equations themselves."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

import sarbd
from sarbd.core.ellipsoid import WGS84_A
from sarbd.errors import InputError
from sarbd.geometry import geo2rdr, rdr2geo

# An independent geodetic -> ECEF conversion (PROJ) to check the equations with.
_TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def ecef(lat, lon, h):
    x, y, z = _TO_ECEF.transform(np.asarray(lon), np.asarray(lat), np.asarray(h))
    return np.stack([x, y, z], -1)


def test_public_names_are_wired():
    assert sarbd.rdr2geo is rdr2geo and sarbd.geo2rdr is geo2rdr


@pytest.mark.parametrize("side", ["right", "left"])
def test_rdr2geo_equatorial_analytic(line_orbit, side):
    """Zero-Doppler plane = equator: the target solves a circle-circle intersection exactly."""
    r0, h = 7.07e6, np.array([0.0, 250.0, -30.0, 4000.0])
    rng = np.array([800e3, 850e3, 900e3, 950e3])
    lat, lon, hh = rdr2geo(0.0, rng, line_orbit, height=h, look_side=side)
    rt = WGS84_A + h  # on the equator geodetic height is radial distance minus a
    x = (r0**2 + rt**2 - rng**2) / (2 * r0)
    y = np.sqrt(rt**2 - x**2)
    expected_lon = np.degrees(np.arctan2(y, x)) * (1 if side == "right" else -1)  # flying north
    np.testing.assert_allclose(lat, 0.0, atol=1e-11)
    np.testing.assert_allclose(lon, expected_lon, rtol=0, atol=1e-10)  # 1e-10 deg ~ 1 cm
    np.testing.assert_allclose(hh, h, atol=1e-6)


def test_rdr2geo_satisfies_range_doppler_equations(kepler_orbit):
    t = np.linspace(60.0, 140.0, 7)[:, None]
    r = np.linspace(800e3, 950e3, 5)[None, :]
    h = np.array([[-50.0, 0.0, 120.0, 2500.0, 8000.0]])
    lat, lon, hh = rdr2geo(t, r, kepler_orbit, height=h)
    assert lat.shape == (7, 5) and np.all(np.isfinite(lat))
    p = ecef(lat, lon, hh)
    pos, vel, _ = kepler_orbit.interpolate(np.broadcast_to(t, lat.shape))
    d = p - pos
    np.testing.assert_allclose(np.linalg.norm(d, axis=-1), np.broadcast_to(r, lat.shape), atol=1e-5)
    # zero Doppler: the line of sight is orthogonal to the velocity (< 1e-9 rad)
    cosang = np.sum(d * vel, -1) / np.linalg.norm(d, axis=-1) / np.linalg.norm(vel, axis=-1)
    assert np.max(np.abs(cosang)) < 1e-9
    np.testing.assert_allclose(hh, np.broadcast_to(h, lat.shape), atol=1e-5)
    # right-looking: target to the right of the velocity, i.e. (v x d) points to the Earth
    assert np.all(np.sum(np.cross(vel, d) * pos, -1) < 0)


def test_nonzero_doppler(kepler_orbit):
    wl, fd = 0.0555, np.array([-800.0, 0.0, 450.0, 2000.0])
    t, r = 100.0, 880e3
    lat, lon, h = rdr2geo(t, r, kepler_orbit, height=30.0, wavelength=wl, doppler=fd)
    p = ecef(lat, lon, h)
    pos, vel, _ = kepler_orbit.interpolate(np.full(fd.shape, t))
    d = p - pos
    rr = np.linalg.norm(d, axis=-1)
    np.testing.assert_allclose(rr, r, atol=1e-5)
    np.testing.assert_allclose(2.0 / wl * np.sum(vel * d, -1) / rr, fd, atol=1e-6)
    # geo2rdr with the same Doppler returns the same time and range
    tt, rr2, ok = geo2rdr(lat, lon, h, kepler_orbit, wavelength=wl, doppler=fd)
    assert ok.all()
    np.testing.assert_allclose(tt, t, atol=1e-9)
    np.testing.assert_allclose(rr2, r, atol=1e-5)
    with pytest.raises(InputError, match="wavelength"):
        rdr2geo(t, r, kepler_orbit, doppler=100.0)


def test_geo2rdr_roundtrip_and_equations(kepler_orbit):
    rng = np.random.default_rng(1)
    t = rng.uniform(30.0, 170.0, 500)
    r = rng.uniform(780e3, 960e3, 500)
    h = rng.uniform(-100.0, 6000.0, 500)
    lat, lon, hh = rdr2geo(t, r, kepler_orbit, height=h)
    tt, rr, ok = geo2rdr(lat, lon, hh, kepler_orbit)
    assert ok.all()
    assert np.max(np.abs(tt - t)) < 1e-8  # s  (7.5 m/s * 1e-8 s = 0.1 mm along track)
    assert np.max(np.abs(rr - r)) < 1e-5  # m
    # and rdr2geo of geo2rdr's answer is the same place
    lat2, lon2, _ = rdr2geo(tt, rr, kepler_orbit, height=hh)
    assert np.max(np.abs(lat2 - lat)) < 1e-10 and np.max(np.abs(lon2 - lon)) < 1e-10


def test_geo2rdr_flags_non_convergence(kepler_orbit):
    lat, lon, h = rdr2geo(100.0, 850e3, kepler_orbit)
    # a point on the other side of the Earth has no zero-Doppler time within the orbit span
    tt, rr, ok = geo2rdr([lat, -lat], [lon, lon + 180.0], [h, 0.0], kepler_orbit, max_iterations=20)
    assert ok.tolist() == [True, False]
    assert np.isnan(tt[1]) and np.isnan(rr[1]) and np.isfinite(tt[0])
    # too few iterations is also flagged, never returned as an answer
    lat, lon, h = rdr2geo(104.7, 850e3, kepler_orbit)
    _, _, ok1 = geo2rdr(lat, lon, h, kepler_orbit, max_iterations=1)
    assert not ok1


def test_rdr2geo_no_solution_is_nan(kepler_orbit):
    # slant range shorter than the altitude, and a time outside the orbit
    lat, _lon, h, ok = rdr2geo([100.0, 500.0], [300e3, 850e3], kepler_orbit, return_converged=True)
    assert not ok.any() and np.isnan(lat).all() and np.isnan(h).all()


def test_geo2rdr_rejects_wrong_look_side(kepler_orbit):
    lat, lon, h = rdr2geo(100.0, 850e3, kepler_orbit, look_side="right")
    _, _, ok_r = geo2rdr(lat, lon, h, kepler_orbit, look_side="right")
    _, _, ok_l = geo2rdr(lat, lon, h, kepler_orbit, look_side="left")
    assert ok_r and not ok_l


def test_hermite_table_is_the_core_interpolation(kepler_orbit):
    from sarbd.geometry.kernels import eval_state, hermite_table

    z, coef, tc, h = hermite_table(
        kepler_orbit.time, kepler_orbit.positions, kepler_orbit.velocities
    )
    t = np.linspace(0.0, 200.0, 97)
    pos, vel, acc = kepler_orbit.interpolate(t)
    out = np.empty((3, 3))
    for k, tk in enumerate(t):
        eval_state(kepler_orbit.time, z, coef, tc, h, tk, out)
        np.testing.assert_allclose(out[0], pos[k], rtol=0, atol=1e-6)
        np.testing.assert_allclose(out[1], vel[k], rtol=0, atol=1e-9)
        np.testing.assert_allclose(out[2], acc[k], rtol=0, atol=1e-9)


def test_grid_fast_paths_equal_the_point_paths(kepler_orbit):
    """Grids of (time x range) take the per-line kernels; the answer is the same."""
    rng = np.random.default_rng(7)
    t = np.linspace(60.0, 140.0, 20)[:, None]
    r = np.linspace(800e3, 950e3, 30)[None, :]
    h = rng.uniform(-50.0, 3000.0, (20, 30))
    lat, lon, hh = rdr2geo(t, r, kepler_orbit, height=h)  # grid path
    tt, rr = np.broadcast_arrays(t, r)
    lat1, lon1, _hh1 = rdr2geo(tt.ravel().copy(), rr.ravel().copy(), kepler_orbit, height=h.ravel())
    np.testing.assert_allclose(lat, lat1.reshape(lat.shape), atol=1e-10)
    np.testing.assert_allclose(lon, lon1.reshape(lon.shape), atol=1e-10)
    np.testing.assert_allclose(hh, h, atol=1e-5)
    # geo2rdr: rows with neighbour warm starts vs per-point cold starts
    ta, ra, ok = geo2rdr(lat, lon, hh, kepler_orbit)
    tb, rb, okb = geo2rdr(lat, lon, hh, kepler_orbit, azimuth_time_guess=np.full(lat.shape, 100.0))
    assert ok.all() and okb.all()
    np.testing.assert_allclose(ta, np.broadcast_to(t, ta.shape), atol=1e-8)
    np.testing.assert_allclose(ta, tb, atol=1e-9)
    np.testing.assert_allclose(ra, rb, atol=1e-6)
