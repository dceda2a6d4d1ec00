"""Point-wise radar geometry on arrays: :func:`rdr2geo` and :func:`geo2rdr`.

The equations are in :mod:`sarbd.geometry.kernels`; this module broadcasts arrays,
checks the inputs and runs the kernels in parallel (Numba ``prange``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.core.orbit import Orbit, interpolate_state
from sarbd.errors import InputError
from sarbd.geometry.dem import NO_DEM
from sarbd.geometry.kernels import geo2rdr_point, rdr2geo_state, rdr2geo_state_dem
from sarbd.utils.log import get_logger

if TYPE_CHECKING:
    from sarbd.geometry.dem import Dem

__all__ = ["geo2rdr", "incidence_angle", "look_sign_of", "rdr2geo"]

log = get_logger(__name__)

#: Defaults shared by the point and grid functions.
RDR2GEO_MAX_ITER = 30
RDR2GEO_TOL = 1e-6  # m of height residual (horizontal error ~ tol / tan(incidence))
DEM_MAX_ITER = 60
DEM_TOL = 1e-4  # m


def look_sign_of(look_side: str) -> float:
    """+1.0 for ``"right"``, -1.0 for ``"left"``; InputError otherwise."""
    side = str(look_side).lower()
    if side not in ("right", "left"):
        raise InputError(f"look side must be 'right' or 'left', got {look_side!r}")
    return 1.0 if side == "right" else -1.0


def _check_doppler(doppler: ArrayLike, wavelength: float | None) -> float:
    dop = np.asarray(doppler, dtype=np.float64)
    if np.any(dop != 0.0) and (wavelength is None or not wavelength > 0):
        raise InputError(
            "a non-zero Doppler needs the radar wavelength",
            hint="pass wavelength= (m), e.g. radar_grid.wavelength",
        )
    return float(wavelength) if wavelength is not None else 0.0


@numba.njit(cache=True, parallel=True)
def _rdr2geo_many(t, r, h, dop, orbit, wavelength, look_sign, max_iter, tol):  # type: ignore[no-untyped-def]
    otime, opos, ovel = orbit.time, orbit.position, orbit.velocity
    n = t.shape[0]
    out = np.empty((n, 3))
    ok = np.zeros(n, dtype=np.bool_)
    for i in numba.prange(n):
        tmp = np.empty(4)
        if not (otime[0] <= t[i] <= otime[-1]):
            out[i, :] = math.nan
            continue
        state = np.empty((3, 3))
        interpolate_state(otime, opos, ovel, t[i], state)
        ok[i] = rdr2geo_state(
            state[0],
            state[1],
            r[i],
            h[i],
            wavelength,
            dop[i],
            look_sign,
            math.nan,
            max_iter,
            tol,
            tmp,
        )
        out[i, 0] = tmp[0]
        out[i, 1] = tmp[1]
        out[i, 2] = tmp[2]
    return out, ok


@numba.njit(cache=True, parallel=True)
def _rdr2geo_many_dem(
    t,
    r,
    h0,
    dop,
    orbit,
    wavelength,
    look_sign,
    max_iter,
    tol,  # type: ignore[no-untyped-def]
    dem_arrays,
    dem_max_iter,
    dem_tol,
    h_lo,
    h_hi,
):
    otime, opos, ovel = orbit.time, orbit.position, orbit.velocity
    dem, x0, y0, dx, dy, method = (
        dem_arrays.data,
        dem_arrays.x0,
        dem_arrays.y0,
        dem_arrays.dx,
        dem_arrays.dy,
        dem_arrays.method,
    )
    n = t.shape[0]
    out = np.empty((n, 3))
    ok = np.zeros(n, dtype=np.bool_)
    for i in numba.prange(n):
        tmp = np.empty(4)
        if not (otime[0] <= t[i] <= otime[-1]):
            out[i, :] = math.nan
            continue
        state = np.empty((3, 3))
        interpolate_state(otime, opos, ovel, t[i], state)
        ok[i] = rdr2geo_state_dem(
            state[0],
            state[1],
            r[i],
            dem,
            x0,
            y0,
            dx,
            dy,
            h0,
            wavelength,
            dop[i],
            look_sign,
            math.nan,
            max_iter,
            tol,
            dem_max_iter,
            dem_tol,
            tmp,
            method,
            h_lo,
            h_hi,
        )
        out[i, 0] = tmp[0]
        out[i, 1] = tmp[1]
        out[i, 2] = tmp[2]
    return out, ok


@numba.njit(cache=True, parallel=True)
def _geo2rdr_many(xyz, tguess, dop, orbit, wavelength, max_iter, tol):  # type: ignore[no-untyped-def]
    otime, opos, ovel = orbit.time, orbit.position, orbit.velocity
    n = xyz.shape[0]
    out = np.empty((n, 2))
    ok = np.zeros(n, dtype=np.bool_)
    for i in numba.prange(n):
        ok[i] = geo2rdr_point(
            xyz[i], otime, opos, ovel, tguess[i], wavelength, dop[i], max_iter, tol, out[i]
        )
    return out, ok


def _flat(a: NDArray[Any]) -> NDArray[np.float64]:
    return np.ascontiguousarray(a, dtype=np.float64).reshape(-1)


def rdr2geo(
    azimuth_time: ArrayLike,
    slant_range: ArrayLike,
    orbit: Orbit,
    *,
    height: ArrayLike | Dem = 0.0,
    look_side: str = "right",
    wavelength: float | None = None,
    doppler: ArrayLike = 0.0,
    max_iterations: int = RDR2GEO_MAX_ITER,
    tolerance: float = RDR2GEO_TOL,
    return_converged: bool = False,
) -> tuple[NDArray[np.float64], ...]:
    """Radar coordinates -> geodetic coordinates (isce3 ``rdr2geo``).

    Parameters
    ----------
    azimuth_time
        Azimuth times, seconds since ``orbit.reference_epoch`` (zero-Doppler times
        for a zero-Doppler grid).
    slant_range
        One-way slant ranges, m.
    orbit
        The satellite orbit.
    height
        Ellipsoidal heights of the targets (m, scalar or array), or a
        :class:`~sarbd.geometry.dem.Dem` (then each point iterates on the DEM height).
    look_side
        ``"right"`` or ``"left"``.
    wavelength
        Radar wavelength, m; needed when ``doppler`` is non-zero.
    doppler
        Doppler centroid of the grid, Hz (0 for zero-Doppler geometry).
    max_iterations, tolerance
        Newton iterations and tolerance on the height residual (m).
    return_converged
        Also return a boolean ``converged`` array.

    Returns
    -------
    latitude, longitude, height
        Degrees, degrees, metres (ellipsoidal); NaN where no solution was found
        (range shorter than the altitude, time outside the orbit, outside the DEM).
        With ``return_converged``, a fourth boolean array.

    References
    ----------
    Curlander & McDonough (1991), *Synthetic Aperture Radar*, ch. 8 (range-Doppler
    location); isce3 ``isce3::geometry::rdr2geo``.
    """
    from sarbd.geometry.dem import Dem

    sign = look_sign_of(look_side)
    wl = _check_doppler(doppler, wavelength)
    is_dem = isinstance(height, Dem)
    arrays = [
        np.asarray(azimuth_time, dtype=np.float64),
        np.asarray(slant_range, dtype=np.float64),
        np.asarray(doppler, dtype=np.float64),
    ]
    if not is_dem:
        arrays.append(np.asarray(height, dtype=np.float64))
    b = np.broadcast_arrays(*arrays)
    shape = b[0].shape
    if _is_grid(b[0], b[1], b[2]):
        # a (time x range) grid: one orbit state and basis per line, neighbour warm starts
        lat, lon, h, ok2 = _rdr2geo_grid_path(
            b, height if is_dem else None, orbit, wl, sign, max_iterations, tolerance
        )
        if return_converged:
            return lat, lon, h, ok2
        return lat, lon, h
    t, r, dop = _flat(b[0]), _flat(b[1]), _flat(b[2])
    if is_dem:
        g = height.geographic()  # type: ignore[union-attr]
        finite = g.data[np.isfinite(g.data)]
        h0 = float(finite.mean()) if finite.size else 0.0
        h_lo = float(finite.min()) - 1.0 if finite.size else np.nan
        h_hi = float(finite.max()) + 1.0 if finite.size else np.nan
        out, ok = _rdr2geo_many_dem(
            t,
            r,
            h0,
            dop,
            orbit.arrays,
            wl,
            sign,
            max_iterations,
            tolerance,
            g.arrays,
            DEM_MAX_ITER,
            DEM_TOL,
            h_lo,
            h_hi,
        )
    else:
        out, ok = _rdr2geo_many(
            t, r, _flat(b[3]), dop, orbit.arrays, wl, sign, max_iterations, tolerance
        )
    n_bad = int(ok.size - ok.sum())
    if n_bad:
        log.debug("rdr2geo: %d of %d points have no solution (NaN)", n_bad, ok.size)
    lat = np.degrees(out[:, 0]).reshape(shape)
    lon = np.degrees(out[:, 1]).reshape(shape)
    h = out[:, 2].reshape(shape)
    if return_converged:
        return lat, lon, h, ok.reshape(shape)
    return lat, lon, h


def _is_grid(t: NDArray[np.float64], r: NDArray[np.float64], dop: NDArray[np.float64]) -> bool:
    """Whether broadcast 2-D arrays are a (line x pixel) grid: time per row, range per column."""
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 8:
        return False
    if not (t.strides[1] == 0 or bool(np.all(t == t[:, :1]))):
        return False
    if not (r.strides[0] == 0 or bool(np.all(r == r[:1, :]))):
        return False
    return bool(np.all(dop == dop.flat[0]))


def _rdr2geo_grid_path(b, dem, orbit, wl, sign, max_iterations, tolerance):  # type: ignore[no-untyped-def]
    from sarbd.geometry.grid_kernels import rdr2geo_block

    times = np.ascontiguousarray(b[0][:, 0])
    ranges = np.ascontiguousarray(b[1][0, :])
    dop = float(b[2].flat[0])
    if dem is not None:
        g = dem.geographic()
        finite = g.data[np.isfinite(g.data)]
        h0 = float(finite.mean()) if finite.size else 0.0
        h_lo = float(finite.min()) - 1.0 if finite.size else np.nan
        h_hi = float(finite.max()) + 1.0 if finite.size else np.nan
        res = rdr2geo_block(
            times,
            ranges,
            orbit.arrays,
            wl,
            dop,
            sign,
            np.zeros((1, 1)),
            True,
            g.arrays,
            h0,
            h_lo,
            h_hi,
            max_iterations,
            tolerance,
            DEM_MAX_ITER,
            DEM_TOL,
        )
    else:
        heights = np.ascontiguousarray(b[3], dtype=np.float64)
        res = rdr2geo_block(
            times,
            ranges,
            orbit.arrays,
            wl,
            dop,
            sign,
            heights,
            False,
            NO_DEM,
            0.0,
            0.0,
            0.0,
            max_iterations,
            tolerance,
            DEM_MAX_ITER,
            DEM_TOL,
        )
    return res[0], res[1], res[2], res[-1] > 0.5


def geo2rdr(
    latitude: ArrayLike,
    longitude: ArrayLike,
    height: ArrayLike,
    orbit: Orbit,
    *,
    look_side: str = "right",
    wavelength: float | None = None,
    doppler: ArrayLike = 0.0,
    max_iterations: int = 50,
    tolerance: float = 1e-10,
    azimuth_time_guess: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Geodetic coordinates -> radar coordinates (isce3 ``geo2rdr``, Doris ``xyz2t``).

    Parameters
    ----------
    latitude, longitude, height
        Degrees, degrees, ellipsoidal metres (arrays broadcast).
    orbit
        The satellite orbit.
    look_side
        ``"right"`` or ``"left"``: a solution on the other side of the track is
        reported as not converged.
    wavelength, doppler
        Radar wavelength (m) and Doppler centroid (Hz) of the wanted grid; zero-Doppler
        by default.
    max_iterations, tolerance
        Newton iterations and tolerance on the azimuth-time step (s).
    azimuth_time_guess
        Optional first guess (s since the orbit's epoch); by default the time of the
        state vector closest to each target.

    Returns
    -------
    azimuth_time, slant_range, converged
        Seconds since ``orbit.reference_epoch``, metres, and a boolean array; times and
        ranges are NaN where Newton's method did not converge (never silently wrong).
    """
    wl = _check_doppler(doppler, wavelength)
    guess = np.nan if azimuth_time_guess is None else azimuth_time_guess
    b = np.broadcast_arrays(
        np.asarray(latitude, dtype=np.float64),
        np.asarray(longitude, dtype=np.float64),
        np.asarray(height, dtype=np.float64),
        np.asarray(doppler, dtype=np.float64),
        np.asarray(guess, dtype=np.float64),
    )
    shape = b[0].shape
    xyz = np.ascontiguousarray(llh_to_ecef(b[0], b[1], b[2]).reshape(-1, 3))
    dop = _flat(b[3])
    if azimuth_time_guess is None and xyz.shape[0] >= 16 and bool(np.all(dop == dop[0])):
        # rows of neighbouring points: each starts from its neighbour's solution
        from sarbd.geometry.grid_kernels import geo2rdr_block

        n = xyz.shape[0]
        cols = shape[-1] if len(shape) >= 2 else min(n, 2048)  # 1-D: rows of 2048 for the threads
        rows = -(-n // cols)
        pad = rows * cols - n
        xyz_rows = np.concatenate([xyz, np.repeat(xyz[-1:], pad, axis=0)]) if pad else xyz
        res = geo2rdr_block(
            xyz_rows.reshape(rows, cols, 3),
            np.full(rows, np.nan),
            orbit.arrays,
            wl,
            float(dop[0]),
            int(max_iterations),
            float(tolerance),
        )
        out = np.ascontiguousarray(res[:2].reshape(2, -1).T[:n])
        ok = res[2].reshape(-1)[:n] > 0.5
        out[~ok] = np.nan
    else:
        out, ok = _geo2rdr_many(
            xyz, _flat(b[4]), dop, orbit.arrays, wl, int(max_iterations), float(tolerance)
        )
    sign = look_sign_of(look_side)
    if ok.any():
        # a solution on the other side of the track is no solution for this look side
        idx = np.flatnonzero(ok)
        pos, vel, _ = orbit.interpolate(out[idx, 0])
        side = np.einsum("ij,ij->i", np.cross(vel, xyz[idx] - pos), pos)  # < 0: right of track
        wrong = side * sign > 0
        if wrong.any():
            ok[idx[wrong]] = False
            out[idx[wrong]] = np.nan
    n_bad = int(ok.size - ok.sum())
    if n_bad:
        log.debug("geo2rdr: %d of %d points did not converge (NaN)", n_bad, ok.size)
    return out[:, 0].reshape(shape), out[:, 1].reshape(shape), ok.reshape(shape)


def incidence_angle(
    latitude: ArrayLike,
    longitude: ArrayLike,
    height: ArrayLike,
    azimuth_time: ArrayLike,
    orbit: Orbit,
    *,
    vertical: str = "ellipsoid",
) -> NDArray[np.float64]:
    """Incidence angle (degrees) at targets seen from the satellite at ``azimuth_time``.

    The angle between the line of sight (target -> satellite) and the vertical at
    the target: ``vertical="ellipsoid"`` uses the ellipsoid normal (geodetic
    vertical; isce3 ``inc``, and :func:`~sarbd.geometry.rdr2geo_grid`'s
    ``incidence_angle``); ``"geocentric"`` uses the direction from the Earth's
    centre, which is what ESA's Sentinel-1 annotation geolocation grid reports (the
    two differ by up to ~0.04 deg at mid latitudes, the geodetic-geocentric latitude
    difference projected on the look direction).
    """
    if vertical not in ("ellipsoid", "geocentric"):
        raise InputError(f"vertical must be 'ellipsoid' or 'geocentric', got {vertical!r}")
    lat, lon, h, t = np.broadcast_arrays(
        np.asarray(latitude, dtype=np.float64),
        np.asarray(longitude, dtype=np.float64),
        np.asarray(height, dtype=np.float64),
        np.asarray(azimuth_time, dtype=np.float64),
    )
    p = llh_to_ecef(lat, lon, h)
    pos = orbit.position(t)
    los = pos - p
    los /= np.linalg.norm(los, axis=-1, keepdims=True)
    if vertical == "geocentric":
        up = p / np.linalg.norm(p, axis=-1, keepdims=True)
    else:
        la, lo = np.radians(lat), np.radians(lon)
        up = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
    return np.degrees(np.arccos(np.clip(np.sum(los * up, -1), -1.0, 1.0)))
