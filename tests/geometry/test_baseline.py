"""Perpendicular / parallel baselines against a secondary orbit displaced by a known vector."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.core import Orbit
from sarbd.errors import GeometryError
from sarbd.geometry import baselines, rdr2geo


def _shifted(orbit: Orbit, radial: float, along: float = 0.0, dt: float = 0.0) -> Orbit:
    """The same orbit displaced radially (m), along track (m), and in time (s)."""
    up = orbit.positions / np.linalg.norm(orbit.positions, axis=1, keepdims=True)
    fwd = orbit.velocities / np.linalg.norm(orbit.velocities, axis=1, keepdims=True)
    times = orbit.times + np.timedelta64(int(dt * 1e9), "ns")
    return Orbit(times, orbit.positions + radial * up + along * fwd, orbit.velocities,
                 reference_epoch=orbit.reference_epoch, source="simulated")


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
    np.testing.assert_allclose(bpar, 100.0 * np.cos(look), rtol=2e-3)
    assert np.all(bperp > 0) and np.all(np.diff(bperp) > 0)  # grows with the look angle
    # to first order the parallel baseline is the range difference R2 - R1
    from sarbd.geometry import geo2rdr

    _, r2, _ = geo2rdr(lat, lon, h, sec)
    np.testing.assert_allclose(bpar, r2 - r, atol=0.02)


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
