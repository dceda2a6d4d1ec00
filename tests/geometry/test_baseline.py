"""Perpendicular / parallel baselines against a secondary orbit displaced by a known vector."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.core import Orbit
from sarbd.errors import GeometryError
from sarbd.geometry import baselines, rdr2geo
from sarbd.geometry.baseline import baseline_components, centre_baselines


def _shifted(orbit: Orbit, radial: float, along: float = 0.0, dt: float = 0.0) -> Orbit:
    """The same orbit displaced radially (m), along track (m), and in time (s)."""
    up = orbit.positions / np.linalg.norm(orbit.positions, axis=1, keepdims=True)
    fwd = orbit.velocities / np.linalg.norm(orbit.velocities, axis=1, keepdims=True)
    times = orbit.times + np.timedelta64(int(dt * 1e9), "ns")
    return Orbit(
        times,
        orbit.positions + radial * up + along * fwd,
        orbit.velocities,
        reference_epoch=orbit.reference_epoch,
        source="simulated",
    )


def test_radial_offset_splits_by_the_look_angle(kepler_orbit, burst_grid):
    sec = _shifted(kepler_orbit, 100.0)  # the same track, 100 m higher
    pixels = np.array([0.0, 300.0, 599.0])
    bperp, bpar = baselines(burst_grid, kepler_orbit, sec, pixels=pixels, lines=700.0)
    t = burst_grid.line_to_azimuth_time(700.0)
    r = burst_grid.pixel_to_slant_range(pixels)
    lat, lon, h = rdr2geo(t, r, kepler_orbit)
    from sarbd.core.ellipsoid import llh_to_ecef

    pos = kepler_orbit.position(np.full(3, t))
    los = pos - llh_to_ecef(lat, lon, h)
    los /= np.linalg.norm(los, axis=-1, keepdims=True)
    up = pos / np.linalg.norm(pos, axis=-1, keepdims=True)
    look = np.arccos(np.sum(los * up, -1))  # angle at the satellite between up and the LOS
    np.testing.assert_allclose(bperp, 100.0 * np.sin(look), rtol=2e-3)
    # Hanssen (2001) sec. 2.4: B_par = B sin(theta - alpha) = -B cos(theta) for alpha = 90 deg
    np.testing.assert_allclose(bpar, -100.0 * np.cos(look), rtol=2e-3)
    assert np.all(bperp > 0) and np.all(np.diff(bperp) > 0)  # grows with the look angle
    # to first order the parallel baseline is the range difference R1 - R2 (< 0: the
    # higher secondary is farther from the target)
    from sarbd.geometry import geo2rdr

    _, r2, _ = geo2rdr(lat, lon, h, sec)
    np.testing.assert_allclose(bpar, r - r2, atol=0.02)
    assert np.all(bpar < 0)


def test_same_track_has_zero_baseline_whatever_the_time_labels(kepler_orbit, burst_grid):
    bperp, bpar = baselines(burst_grid, kepler_orbit, kepler_orbit)
    assert abs(bperp) < 1e-6 and abs(bpar) < 1e-6
    # the same ECEF track flown 30 s later (another epoch): still no baseline
    later = _shifted(kepler_orbit, 0.0, dt=30.0)
    bperp, bpar = baselines(burst_grid, kepler_orbit, later)
    assert abs(bperp) < 1e-5 and abs(bpar) < 1e-5


def test_secondary_orbit_not_covering_is_an_error(kepler_orbit, burst_grid):
    from tests.geometry.conftest import EPOCH, kepler_states

    t = np.arange(1500.0, 1700.0 + 1e-9, 10.0)  # another stretch of the orbit
    pos, vel = kepler_states(t)
    far = Orbit(EPOCH + (t * 1e9).astype("timedelta64[ns]"), pos, vel, reference_epoch=EPOCH)
    with pytest.raises(GeometryError, match="secondary orbit"):
        baselines(burst_grid, kepler_orbit, far)
    # a stack's per-date baseline: NaN for such a date rather than no stack
    assert np.isnan(centre_baselines(burst_grid, kepler_orbit, far)).all()


def test_centre_baselines_are_the_scene_centre_baselines_at_height_zero(kepler_orbit, burst_grid):
    sec = _shifted(kepler_orbit, 100.0)
    perp, par = centre_baselines(burst_grid, kepler_orbit, sec)
    want = baselines(
        burst_grid,
        kepler_orbit,
        sec,
        lines=(burst_grid.length - 1) / 2,
        pixels=(burst_grid.width - 1) / 2,
        height=0.0,
    )
    assert isinstance(perp, float) and isinstance(par, float)
    np.testing.assert_allclose((perp, par), want, rtol=0, atol=1e-9)
    assert 0 < perp < 100.0 and par < 0  # the radial offset split by the look angle


@pytest.mark.parametrize("alpha_deg", [-60.0, 0.0, 35.0, 90.0, 150.0])
@pytest.mark.parametrize("look_sign", [1.0, -1.0])
def test_components_are_hanssens_b_sin_and_b_cos_of_theta_minus_alpha(alpha_deg, look_sign):
    """Hanssen (2001) sec. 2.4: B_par = B sin(theta - alpha), B_perp = B cos(theta - alpha).

    Local frame at the reference: x along track (velocity), z up (away from the Earth),
    the target at look angle theta on the +y side (or the -y side: left looking).
    ``alpha`` is the baseline's angle from the horizontal, towards the target's side.
    """
    theta, alpha, b, r1 = np.radians(30.0), np.radians(alpha_deg), 150.0, 850e3
    s1 = np.array([0.0, 0.0, 7.07e6])
    v1 = np.array([7.6e3, 0.0, 0.0])
    p = s1 + r1 * np.array([0.0, look_sign * np.sin(theta), -np.cos(theta)])
    s2 = s1 + b * np.array([0.0, look_sign * np.cos(alpha), np.sin(alpha)])
    perp, par = baseline_components(s1, v1, s2, p)
    np.testing.assert_allclose(par, b * np.sin(theta - alpha), atol=1e-9)
    np.testing.assert_allclose(perp, b * np.cos(theta - alpha), atol=1e-9)
    # far field: the parallel baseline is the range difference R1 - R2
    r2 = np.linalg.norm(p - s2)
    np.testing.assert_allclose(par, r1 - r2, atol=b**2 / r1)
