"""WGS84 geodetic <-> ECEF against known values and round trips."""

from __future__ import annotations

import numpy as np

from sarbd.core.ellipsoid import WGS84_A, WGS84_B, ecef_to_llh, llh_to_ecef


def test_known_points():
    np.testing.assert_allclose(llh_to_ecef(0.0, 0.0, 0.0), [WGS84_A, 0, 0], atol=1e-6)
    np.testing.assert_allclose(llh_to_ecef(90.0, 0.0, 100.0), [0, 0, WGS84_B + 100], atol=1e-6)
    np.testing.assert_allclose(llh_to_ecef(0.0, 90.0, -50.0), [0, WGS84_A - 50, 0], atol=1e-6)


def test_round_trip_everywhere():
    rng = np.random.default_rng(0)
    lat = rng.uniform(-89.9, 89.9, 2000)
    lon = rng.uniform(-180, 180, 2000)
    h = rng.uniform(-500, 9000, 2000)
    la, lo, hh = ecef_to_llh(llh_to_ecef(lat, lon, h))
    np.testing.assert_allclose(la, lat, atol=1e-10)
    np.testing.assert_allclose(lo, lon, atol=1e-10)
    np.testing.assert_allclose(hh, h, atol=1e-6)
