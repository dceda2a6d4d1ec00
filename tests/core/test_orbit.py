"""Orbit interpolation against an analytic Keplerian orbit, and its error handling."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.core import Orbit
from sarbd.errors import OrbitError

GM = 3.986004418e14  # m^3/s^2, WGS84 gravitational constant
OMEGA_E = 7.2921151467e-5  # rad/s, WGS84 Earth rotation rate


def kepler_ecef(
    t: np.ndarray,
    a: float = 7.07e6,
    e: float = 1.2e-3,
    inc: float = np.radians(98.18),
    raan: float = 0.3,
    argp: float = 1.1,
    m0: float = 0.2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Analytic Keplerian orbit rotated into ECEF: position, velocity, acceleration."""
    n = np.sqrt(GM / a**3)
    m = m0 + n * t
    big_e = m.copy()
    for _ in range(30):  # Newton on Kepler's equation
        big_e -= (big_e - e * np.sin(big_e) - m) / (1 - e * np.cos(big_e))
    nu = 2 * np.arctan2(np.sqrt(1 + e) * np.sin(big_e / 2), np.sqrt(1 - e) * np.cos(big_e / 2))
    r = a * (1 - e * np.cos(big_e))
    p = a * (1 - e**2)
    h = np.sqrt(GM * p)
    # perifocal position and velocity
    r_pf = np.stack([r * np.cos(nu), r * np.sin(nu), np.zeros_like(r)], -1)
    v_pf = np.stack([-GM / h * np.sin(nu), GM / h * (e + np.cos(nu)), np.zeros_like(r)], -1)

    def rot3(x):
        c, s = np.cos(x), np.sin(x)
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])

    def rot1(x):
        c, s = np.cos(x), np.sin(x)
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])

    q = rot3(raan) @ rot1(inc) @ rot3(argp)
    r_i = r_pf @ q.T
    v_i = v_pf @ q.T
    a_i = -GM * r_i / np.linalg.norm(r_i, axis=-1, keepdims=True) ** 3
    # inertial -> ECEF: rotate by -omega t; v_e = R(v_i) - w x r_e; a_e = R(a_i) - 2 w x v_e - w x (w x r_e)
    th = -OMEGA_E * t
    c, s = np.cos(th), np.sin(th)

    def rz(vec):
        return np.stack(
            [c * vec[:, 0] - s * vec[:, 1], s * vec[:, 0] + c * vec[:, 1], vec[:, 2]], -1
        )

    w = np.array([0.0, 0.0, OMEGA_E])
    r_e = rz(r_i)
    v_e = rz(v_i) - np.cross(w, r_e)
    a_e = rz(a_i) - 2 * np.cross(w, v_e) - np.cross(w, np.cross(w, r_e))
    return r_e, v_e, a_e


@pytest.fixture(scope="module")
def orbit_and_truth():
    epoch = np.datetime64("2022-09-18T07:49:00", "ns")
    t = np.arange(0.0, 300.0 + 1e-9, 10.0)
    pos, vel, _ = kepler_ecef(t)
    times = epoch + (t * 1e9).astype("timedelta64[ns]")
    return Orbit(times, pos, vel, source="analytic"), epoch


def test_interpolation_matches_kepler_between_samples(orbit_and_truth):
    orbit, _ = orbit_and_truth
    tq = np.linspace(0.0, 300.0, 1237)  # many points between the 10-s samples, including ends
    pos, vel, acc = orbit.interpolate(tq)
    p_true, v_true, a_true = kepler_ecef(tq)
    assert np.max(np.linalg.norm(pos - p_true, axis=-1)) < 1e-3  # < 1 mm
    assert np.max(np.linalg.norm(vel - v_true, axis=-1)) < 1e-5  # < 1e-5 m/s
    assert np.max(np.linalg.norm(acc - a_true, axis=-1)) < 1e-4  # acceleration, m/s^2


def test_interpolation_reproduces_samples_exactly(orbit_and_truth):
    orbit, _ = orbit_and_truth
    pos, vel, _ = orbit.interpolate(orbit.time)
    np.testing.assert_allclose(pos, orbit.positions, atol=1e-6)
    np.testing.assert_allclose(vel, orbit.velocities, atol=1e-9)


def test_time_outside_span_is_an_error(orbit_and_truth):
    orbit, _ = orbit_and_truth
    with pytest.raises(OrbitError, match="outside the orbit's span"):
        orbit.position(300.5)
    with pytest.raises(OrbitError, match="outside"):
        orbit.position(np.array([10.0, -0.1]))


def test_shapes_and_epochs(orbit_and_truth):
    orbit, epoch = orbit_and_truth
    pos = orbit.position(np.full((4, 5), 12.5))
    assert pos.shape == (4, 5, 3)
    shifted = orbit.with_epoch(epoch + np.timedelta64(100, "s"))
    np.testing.assert_allclose(shifted.position(0.0), orbit.position(100.0), atol=1e-9)
    assert orbit.seconds_since_epoch(orbit.to_datetime(123.456)) == pytest.approx(123.456, abs=1e-9)


def test_crop_and_covers(orbit_and_truth):
    orbit, epoch = orbit_and_truth
    sub = orbit.crop(
        epoch + np.timedelta64(100, "s"), epoch + np.timedelta64(150, "s"), margin_vectors=2
    )
    assert sub.covers(epoch + np.timedelta64(100, "s"), epoch + np.timedelta64(150, "s"))
    np.testing.assert_allclose(sub.position(125.0), orbit.position(125.0), atol=1e-4)
    with pytest.raises(OrbitError, match="does not cover"):
        orbit.crop(epoch - np.timedelta64(10, "s"), epoch + np.timedelta64(10, "s"))


def test_bad_state_vectors_are_rejected():
    t = np.array(["2020-01-01T00:00:00", "2020-01-01T00:00:00"], dtype="datetime64[ns]")
    with pytest.raises(OrbitError, match="strictly increasing"):
        Orbit(t, np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(OrbitError, match="at least 2"):
        Orbit(t[:1], np.zeros((1, 3)), np.zeros((1, 3)))


def test_one_hermite_implementation_for_tables_and_single_states(orbit_and_truth):
    """The precomputed table (geo2rdr's per-pixel path) is the same polynomial, bit for bit."""
    from sarbd.core.orbit import eval_state, hermite_table, interpolate_state
    from sarbd.geometry import kernels

    assert kernels.eval_state is eval_state and kernels.hermite_table is hermite_table
    orbit, _ = orbit_and_truth
    z, coef, tc, h = hermite_table(orbit.time, orbit.positions, orbit.velocities)
    t = np.linspace(orbit.time[0], orbit.time[-1], 201)
    a, b = np.empty((3, 3)), np.empty((3, 3))
    for tk in t:
        interpolate_state(orbit.time, orbit.positions, orbit.velocities, tk, a)
        eval_state(orbit.time, z, coef, tc, h, tk, b)
        np.testing.assert_array_equal(a, b)
    # and the vectorised API is the same kernel
    pos, vel, acc = orbit.interpolate(t[100:101])
    interpolate_state(orbit.time, orbit.positions, orbit.velocities, t[100], a)
    np.testing.assert_array_equal(np.stack([pos[0], vel[0], acc[0]]), a)


def test_orbit_arrays_bundle_the_state_vectors(orbit_and_truth):
    orbit, _ = orbit_and_truth
    arr = orbit.arrays
    assert (
        arr.time is orbit.time
        and arr.position is orbit.positions
        and arr.velocity is orbit.velocities
    )
    later = orbit.with_epoch(orbit.reference_epoch + np.timedelta64(5, "s")).arrays
    np.testing.assert_allclose(later.time, orbit.time - 5.0)
