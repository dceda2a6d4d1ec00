"""Fixtures for the geometry tests: analytic orbits (Keplerian, straight line)."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.core import Orbit, RadarGrid

GM = 3.986004418e14  # m^3/s^2 (WGS84)
OMEGA_E = 7.2921151467e-5  # rad/s (WGS84)
EPOCH = np.datetime64("2022-09-18T07:49:00", "ns")


def kepler_states(
    t: np.ndarray,
    a: float = 7.07e6,
    inc: float = np.radians(98.18),
    raan: float = 0.3,
    u0: float = 0.9,
) -> tuple[np.ndarray, np.ndarray]:
    """A circular Keplerian orbit (Sentinel-1-like), rotated into ECEF: position, velocity."""
    n = np.sqrt(GM / a**3)
    u = u0 + n * t  # argument of latitude
    r_pf = np.stack([a * np.cos(u), a * np.sin(u), np.zeros_like(u)], -1)
    v_pf = np.stack([-a * n * np.sin(u), a * n * np.cos(u), np.zeros_like(u)], -1)
    ci, si, cr, sr = np.cos(inc), np.sin(inc), np.cos(raan), np.sin(raan)
    q = np.array([[cr, -sr * ci, sr * si], [sr, cr * ci, -cr * si], [0.0, si, ci]])
    r_i, v_i = r_pf @ q.T, v_pf @ q.T
    th = -OMEGA_E * t
    c, s = np.cos(th), np.sin(th)

    def rz(vec: np.ndarray) -> np.ndarray:
        return np.stack(
            [c * vec[:, 0] - s * vec[:, 1], s * vec[:, 0] + c * vec[:, 1], vec[:, 2]], -1
        )

    r_e = rz(r_i)
    v_e = rz(v_i) - np.cross([0.0, 0.0, OMEGA_E], r_e)
    return r_e, v_e


@pytest.fixture(scope="session")
def kepler_orbit() -> Orbit:
    """A Sentinel-1-like orbit sampled every 10 s over 200 s, epoch :data:`EPOCH`."""
    t = np.arange(0.0, 200.0 + 1e-9, 10.0)
    pos, vel = kepler_states(t)
    times = EPOCH + (t * 1e9).astype("timedelta64[ns]")
    return Orbit(times, pos, vel, reference_epoch=EPOCH, source="simulated")


@pytest.fixture(scope="session")
def line_orbit() -> Orbit:
    """A straight-line 'orbit' above the equator at longitude 0, flying north at 7 km/s.

    Hermite interpolation reproduces linear motion exactly, and the zero-Doppler plane
    is the equatorial plane, where the ellipsoid is a circle: an exact analytic case.
    """
    t = np.arange(-50.0, 50.0 + 1e-9, 10.0)
    r0 = 7.07e6
    pos = np.stack([np.full_like(t, r0), np.zeros_like(t), 7000.0 * t], -1)
    vel = np.tile([0.0, 0.0, 7000.0], (t.size, 1))
    times = EPOCH + (t * 1e9).astype("timedelta64[ns]")
    return Orbit(times, pos, vel, reference_epoch=EPOCH, source="simulated")


@pytest.fixture(scope="session")
def burst_grid() -> RadarGrid:
    """An IW-like radar grid (downsampled in range) on :func:`kepler_orbit`."""
    return RadarGrid(
        reference_epoch=EPOCH,
        sensing_start=80.0,
        azimuth_time_interval=2.055556e-3,
        starting_range=800_000.0,
        range_pixel_spacing=2.329562 * 40,
        length=1500,
        width=600,
        wavelength=0.05546576,
        look_side="right",
    )
