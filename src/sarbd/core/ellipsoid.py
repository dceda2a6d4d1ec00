"""The WGS84 ellipsoid: geodetic <-> ECEF conversions.

Latitude and longitude are geodetic, in degrees at the API edge and radians
inside kernels; heights are ellipsoidal, in metres.

References
----------
NIMA TR8350.2 (2000), *Department of Defense World Geodetic System 1984*, 3rd ed.
(constants). Bowring, B. R. (1976), Survey Review 23(181), 323-327, and
Vermeille, H. (2002), J. Geodesy 76, 451-454 (closed-form ECEF -> geodetic; we use
Vermeille's exact solution).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["WGS84_A", "WGS84_E2", "WGS84_F", "ecef_to_llh", "llh_to_ecef"]

#: WGS84 semi-major axis, m.
WGS84_A = 6378137.0
#: WGS84 flattening.
WGS84_F = 1.0 / 298.257223563
#: WGS84 first eccentricity squared.
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
#: WGS84 semi-minor axis, m.
WGS84_B = WGS84_A * (1.0 - WGS84_F)


@numba.njit(cache=True, nogil=True)
def llh_to_xyz(lat: float, lon: float, h: float, out: NDArray[np.float64]) -> None:
    """Geodetic (radians, radians, m) -> ECEF (m), written into ``out[0:3]`` (Numba kernel)."""
    slat = math.sin(lat)
    clat = math.cos(lat)
    n = WGS84_A / math.sqrt(1.0 - WGS84_E2 * slat * slat)
    out[0] = (n + h) * clat * math.cos(lon)
    out[1] = (n + h) * clat * math.sin(lon)
    out[2] = (n * (1.0 - WGS84_E2) + h) * slat


@numba.njit(cache=True, nogil=True)
def xyz_to_llh(x: float, y: float, z: float, out: NDArray[np.float64]) -> None:
    """ECEF (m) -> geodetic (radians, radians, m) into ``out[0:3]``; Vermeille (2002), exact."""
    a2 = WGS84_A * WGS84_A
    e4 = WGS84_E2 * WGS84_E2
    p = (x * x + y * y) / a2
    q = (1.0 - WGS84_E2) / a2 * z * z
    r = (p + q - e4) / 6.0
    s = e4 * p * q / (4.0 * r * r * r)
    t = (1.0 + s + math.sqrt(s * (2.0 + s))) ** (1.0 / 3.0)
    u = r * (1.0 + t + 1.0 / t)
    v = math.sqrt(u * u + e4 * q)
    w = WGS84_E2 * (u + v - q) / (2.0 * v)
    k = math.sqrt(u + v + w * w) - w
    d = k * math.sqrt(x * x + y * y) / (k + WGS84_E2)
    out[0] = 2.0 * math.atan2(z, d + math.sqrt(d * d + z * z))
    out[1] = math.atan2(y, x)
    out[2] = (k + WGS84_E2 - 1.0) / k * math.sqrt(d * d + z * z)


@numba.njit(cache=True, parallel=True)
def _llh_to_ecef_many(
    lat: NDArray[np.float64], lon: NDArray[np.float64], h: NDArray[np.float64]
) -> NDArray[np.float64]:
    out = np.empty((lat.shape[0], 3))
    for i in numba.prange(lat.shape[0]):
        llh_to_xyz(lat[i], lon[i], h[i], out[i])
    return out


@numba.njit(cache=True, parallel=True)
def _ecef_to_llh_many(xyz: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.empty((xyz.shape[0], 3))
    for i in numba.prange(xyz.shape[0]):
        xyz_to_llh(xyz[i, 0], xyz[i, 1], xyz[i, 2], out[i])
    return out


def llh_to_ecef(lat_deg: ArrayLike, lon_deg: ArrayLike, height: ArrayLike) -> NDArray[np.float64]:
    """Geodetic latitude/longitude (degrees) and ellipsoidal height (m) -> ECEF (m), shape ``(..., 3)``."""
    lat, lon, h = np.broadcast_arrays(
        np.asarray(lat_deg, dtype=np.float64),
        np.asarray(lon_deg, dtype=np.float64),
        np.asarray(height, dtype=np.float64),
    )
    shape = lat.shape
    out = _llh_to_ecef_many(
        np.ascontiguousarray(np.radians(lat).ravel()),
        np.ascontiguousarray(np.radians(lon).ravel()),
        np.ascontiguousarray(h.ravel()),
    )
    return out.reshape((*shape, 3))


def ecef_to_llh(
    xyz: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """ECEF (m), shape ``(..., 3)`` -> latitude (deg), longitude (deg), ellipsoidal height (m)."""
    arr = np.asarray(xyz, dtype=np.float64)
    shape = arr.shape[:-1]
    out = _ecef_to_llh_many(np.ascontiguousarray(arr.reshape(-1, 3)))
    return (
        np.degrees(out[:, 0]).reshape(shape),
        np.degrees(out[:, 1]).reshape(shape),
        out[:, 2].reshape(shape),
    )
