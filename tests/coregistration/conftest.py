"""Synthetic band-limited test images with analytic values at any position."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray


class ToneImage:
    """A sum of complex exponentials: band-limited, known exactly at fractional positions."""

    def __init__(self, n_tones: int, max_freq: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.fy = rng.uniform(-max_freq, max_freq, n_tones)
        self.fx = rng.uniform(-max_freq, max_freq, n_tones)
        self.amp = rng.standard_normal(n_tones) + 1j * rng.standard_normal(n_tones)

    def __call__(self, y: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.complex128]:
        y = np.asarray(y, dtype=np.float64)[..., None]
        x = np.asarray(x, dtype=np.float64)[..., None]
        return np.sum(self.amp * np.exp(2j * np.pi * (self.fy * y + self.fx * x)), axis=-1)

    def grid(self, shape: tuple[int, int]) -> NDArray[np.complex64]:
        yy, xx = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
        return self(yy, xx).astype(np.complex64)


@pytest.fixture
def tone_image() -> ToneImage:
    # |f| < 0.3 cycles/sample: 60 % relative bandwidth (signal oversampled by 1.67)
    return ToneImage(n_tones=24, max_freq=0.3, seed=7)


# -- a Sentinel-1-like repeat-pass geometry ------------------------------------------------
from sarbd.core import Orbit, RadarGrid  # noqa: E402

_GM = 3.986004418e14
_OMEGA_E = 7.2921151467e-5
EPOCH = np.datetime64("2022-09-18T07:49:00", "ns")


def circular_orbit_states(
    t: np.ndarray, a: float, inc: float = np.radians(98.18), raan: float = 0.3, u0: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """ECEF position and velocity of a circular Keplerian orbit (rotating Earth)."""
    n = np.sqrt(_GM / a**3)
    u = u0 + n * t
    ci, si, cr, sr = np.cos(inc), np.sin(inc), np.cos(raan), np.sin(raan)
    p_hat = np.array([cr, sr, 0.0])
    q_hat = np.array([-sr * ci, cr * ci, si])
    r_i = a * (np.cos(u)[:, None] * p_hat + np.sin(u)[:, None] * q_hat)
    v_i = a * n * (-np.sin(u)[:, None] * p_hat + np.cos(u)[:, None] * q_hat)
    th = -_OMEGA_E * t
    c, s = np.cos(th)[:, None], np.sin(th)[:, None]
    r_e = np.concatenate(
        [c * r_i[:, :1] - s * r_i[:, 1:2], s * r_i[:, :1] + c * r_i[:, 1:2], r_i[:, 2:]], 1
    )
    v_r = np.concatenate(
        [c * v_i[:, :1] - s * v_i[:, 1:2], s * v_i[:, :1] + c * v_i[:, 1:2], v_i[:, 2:]], 1
    )
    v_e = v_r - np.cross([0.0, 0.0, _OMEGA_E], r_e)
    return r_e, v_e


def make_orbit(a: float = 7.07e6, raan: float = 0.3, time_shift: float = 0.0) -> Orbit:
    t = np.arange(0.0, 200.0 + 1e-9, 10.0)
    pos, vel = circular_orbit_states(t + time_shift, a=a, raan=raan)
    times = EPOCH + (t * 1e9).astype("timedelta64[ns]")
    return Orbit(times, pos, vel, reference_epoch=EPOCH, source="simulated")


@pytest.fixture(scope="session")
def repeat_pass() -> tuple[Orbit, RadarGrid, Orbit, RadarGrid]:
    """Reference and secondary orbits ~150 m apart, with IW-like grids (coarse in range)."""
    ref_orbit = make_orbit()
    sec_orbit = make_orbit(a=7.07e6 + 120.0, raan=0.3 + 1.2e-5, time_shift=0.0)
    grid = RadarGrid(
        reference_epoch=EPOCH,
        sensing_start=80.0,
        azimuth_time_interval=2.055556e-3,
        starting_range=850_000.0,
        range_pixel_spacing=2.329562 * 8,
        length=1500,
        width=2000,
        wavelength=0.05546576,
    )
    sec_grid = RadarGrid(
        reference_epoch=EPOCH,
        sensing_start=80.0 + 3.1 * 2.055556e-3,
        azimuth_time_interval=2.055556e-3,
        starting_range=850_000.0 - 5.4 * 2.329562 * 8,
        range_pixel_spacing=2.329562 * 8,
        length=1500,
        width=2000,
        wavelength=0.05546576,
    )
    return ref_orbit, grid, sec_orbit, sec_grid
