"""Numba kernels of the radar geometry: one point at a time, callable from other Numba code.

Equations (the range-Doppler model; Curlander & McDonough 1991, ch. 8; Cumming &
Wong 2005, ch. 4; isce3 ``geometry.cpp`` for the same conventions). For a target
at ECEF position ``P`` and the satellite at ``S(t)`` with velocity ``V(t)``, let
``d = P - S(t)`` and ``R = |d|``:

* range equation:    ``R = c * tau / 2`` (``tau`` the two-way slant-range time);
* Doppler equation:  ``f_D = 2 / lambda * V . d / R``; zero-Doppler means ``V . d = 0``.

**rdr2geo** (azimuth time, slant range, height -> target). With ``S, V`` fixed at
the line's time and ``R`` given, the Doppler equation ``V . d = lambda f_D R / 2``
is a plane, so the target lies on the circle where that plane cuts the range
sphere: ``d(theta) = q v + rho (cos(theta) u + sin(theta) w)`` with ``v = V/|V|``,
``q = lambda f_D R / (2 |V|)``, ``rho = sqrt(R^2 - q^2)``, ``u`` the unit vector
towards the Earth's centre orthogonal to ``v``, and ``w = +-(u x v)`` (``+`` for
right-looking). ``theta`` is found by Newton's method on ``g(theta) =
h_geodetic(S + d(theta)) - h`` with ``dg/dtheta = n . dd/dtheta`` (``n`` the
ellipsoid normal at the point: the gradient of geodetic height), starting from the
spherical-Earth solution. Heights are exact geodetic heights (Vermeille 2002).

**geo2rdr** (target -> azimuth time, slant range). Newton's method on
``f(t) = V . d - (lambda f_D / 2) R`` with
``f'(t) = A . d - |V|^2 + (lambda f_D / 2) (V . d) / R`` (``A`` the acceleration),
the Doris ``xyz2t`` / isce3 ``geo2rdr`` iteration (methods-and-standards.md §1, §4).

All angles inside kernels are radians; times are seconds since the orbit's epoch.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from sarbd.core.ellipsoid import WGS84_A, WGS84_B, WGS84_E2, llh_to_xyz, xyz_to_llh
from sarbd.core.orbit import eval_state, hermite_table, interpolate_state

__all__ = [
    "NO_DEM",
    "DemArrays",
    "circle_params",
    "circle_solve",
    "dem_at",
    "dem_height",
    "dem_interp",
    "dem_solve",
    "eval_state",
    "geo2rdr_point",
    "geo2rdr_table",
    "hermite_table",
    "look_basis",
    "rdr2geo_point",
    "rdr2geo_state",
    "rdr2geo_state_dem",
]


class DemArrays(NamedTuple):
    """A geographic DEM as the Numba kernels take it: one argument (:attr:`GeographicDem.arrays`).

    ``data[i, j]`` is the ellipsoidal height (m) at longitude ``x0 + j*dx`` and latitude
    ``y0 + i*dy`` (degrees, pixel centres); ``method`` a :func:`dem_interp` interpolation
    code. Defined here, beside the kernels that read it; re-exported by
    :mod:`sarbd.geometry.dem`.
    """

    data: NDArray[np.float64]
    x0: float
    y0: float
    dx: float
    dy: float
    method: int


#: The kernels' placeholder when there is no DEM (constant heights instead).
NO_DEM = DemArrays(np.zeros((2, 2)), 0.0, 0.0, 1.0, 1.0, 0)


@numba.njit(cache=True, nogil=True)
def look_basis(
    pos: NDArray[np.float64], vel: NDArray[np.float64], look_sign: float, out: NDArray[np.float64]
) -> None:
    """Orthonormal basis ``(v, u, w)`` of the imaging geometry, rows of ``out (3, 3)``.

    ``v`` along the velocity, ``u`` towards the Earth's centre (orthogonal to ``v``),
    ``w = look_sign * (u x v)`` pointing to the imaged side (``look_sign`` +1 right, -1 left).
    """
    vn = math.sqrt(vel[0] ** 2 + vel[1] ** 2 + vel[2] ** 2)
    sn = math.sqrt(pos[0] ** 2 + pos[1] ** 2 + pos[2] ** 2)
    for k in range(3):
        out[0, k] = vel[k] / vn
    c = -(pos[0] * out[0, 0] + pos[1] * out[0, 1] + pos[2] * out[0, 2]) / sn
    for k in range(3):
        out[1, k] = -pos[k] / sn - c * out[0, k]
    un = math.sqrt(out[1, 0] ** 2 + out[1, 1] ** 2 + out[1, 2] ** 2)
    for k in range(3):
        out[1, k] /= un
    u = out[1]
    v = out[0]
    out[2, 0] = look_sign * (u[1] * v[2] - u[2] * v[1])
    out[2, 1] = look_sign * (u[2] * v[0] - u[0] * v[2])
    out[2, 2] = look_sign * (u[0] * v[1] - u[1] * v[0])


@numba.njit(cache=True, nogil=True)
def _initial_theta(
    pos: NDArray[np.float64], basis: NDArray[np.float64], q: float, rho: float, height: float
) -> float:
    """Spherical-Earth first guess of the circle angle ``theta`` (NaN if the sphere is missed)."""
    sn = math.sqrt(pos[0] ** 2 + pos[1] ** 2 + pos[2] ** 2)
    # geocentric radius of the ellipsoid under the satellite, plus the height
    sphi = pos[2] / sn
    cphi2 = 1.0 - sphi * sphi
    rt = (
        WGS84_A * WGS84_B / math.sqrt(WGS84_B * WGS84_B * cphi2 + WGS84_A * WGS84_A * sphi * sphi)
        + height
    )
    r = math.sqrt(q * q + rho * rho)
    dproj = (sn * sn + r * r - rt * rt) / (2.0 * sn)  # component of d along -S/|S|
    # -S/|S| = c v + un u with c = (-S/|S|).v
    c = -(pos[0] * basis[0, 0] + pos[1] * basis[0, 1] + pos[2] * basis[0, 2]) / sn
    un = math.sqrt(max(1.0 - c * c, 0.0))
    cos_t = (dproj - q * c) / (rho * un)
    if cos_t > 1.0 or cos_t < -1.0:
        return math.nan
    return math.acos(cos_t)


@numba.njit(cache=True, nogil=True)
def circle_params(
    vel: NDArray[np.float64], slant_range: float, wavelength: float, doppler: float
) -> tuple[float, float]:
    """``(q, rho)`` of the Doppler circle: offset along the velocity and radius (m).

    ``rho`` is NaN when the Doppler cone does not reach the range sphere.
    """
    if doppler == 0.0:
        return 0.0, slant_range
    vn = math.sqrt(vel[0] ** 2 + vel[1] ** 2 + vel[2] ** 2)
    q = wavelength * doppler * slant_range / (2.0 * vn)
    if abs(q) >= slant_range:
        return q, math.nan
    return q, math.sqrt(slant_range * slant_range - q * q)


@numba.njit(cache=True, nogil=True)
def circle_solve(
    pos: NDArray[np.float64],
    basis: NDArray[np.float64],
    q: float,
    rho: float,
    height: float,
    theta_guess: float,
    max_iter: int,
    tol: float,
    out: NDArray[np.float64],
) -> bool:
    """Newton's method for the circle angle at geodetic height ``height`` (no allocation).

    ``basis`` from :func:`look_basis`, ``(q, rho)`` from :func:`circle_params`;
    ``out (4,)`` receives latitude (rad), longitude (rad), height (m), ``theta`` (rad).
    """
    if not math.isfinite(rho):
        out[:4] = math.nan
        return False
    theta = theta_guess
    if not math.isfinite(theta):
        theta = _initial_theta(pos, basis, q, rho, height)
        if not math.isfinite(theta):
            out[:4] = math.nan
            return False
    for _ in range(max_iter):
        ct = math.cos(theta)
        st = math.sin(theta)
        x = pos[0] + q * basis[0, 0] + rho * (ct * basis[1, 0] + st * basis[2, 0])
        y = pos[1] + q * basis[0, 1] + rho * (ct * basis[1, 1] + st * basis[2, 1])
        z = pos[2] + q * basis[0, 2] + rho * (ct * basis[1, 2] + st * basis[2, 2])
        xyz_to_llh(x, y, z, out)
        resid = out[2] - height
        if abs(resid) <= tol:
            out[3] = theta
            return True
        # dh/dtheta = n . dd/dtheta, n the ellipsoid normal at the current point
        cl = math.cos(out[0])
        nx = cl * math.cos(out[1])
        ny = cl * math.sin(out[1])
        nz = math.sin(out[0])
        dx = rho * (-st * basis[1, 0] + ct * basis[2, 0])
        dy = rho * (-st * basis[1, 1] + ct * basis[2, 1])
        dz = rho * (-st * basis[1, 2] + ct * basis[2, 2])
        deriv = nx * dx + ny * dy + nz * dz
        if deriv == 0.0:
            break
        # keep the angle within the imaged half-plane (the target below the horizon)
        theta = min(max(theta - resid / deriv, 0.0), math.pi)
    out[:4] = math.nan
    return False


@numba.njit(cache=True, nogil=True)
def rdr2geo_state(
    pos: NDArray[np.float64],
    vel: NDArray[np.float64],
    slant_range: float,
    height: float,
    wavelength: float,
    doppler: float,
    look_sign: float,
    theta_guess: float,
    max_iter: int,
    tol: float,
    out: NDArray[np.float64],
) -> bool:
    """Target on the surface of geodetic height ``height`` seen at ``slant_range`` from ``pos``.

    Parameters
    ----------
    pos, vel
        Satellite ECEF position (m) and velocity (m/s) at the line's azimuth time.
    slant_range
        One-way slant range, m.
    height
        Geodetic (ellipsoidal) height of the target, m.
    wavelength, doppler
        Radar wavelength (m) and Doppler centroid (Hz); ``doppler = 0`` is zero-Doppler
        (then ``wavelength`` is not used).
    look_sign
        +1 for right-looking, -1 for left-looking.
    theta_guess
        Warm start for the circle angle (rad), e.g. the neighbouring pixel's
        ``out[3]``; NaN for the spherical-Earth guess.
    max_iter, tol
        Newton iterations and tolerance on the height residual (m).
    out
        ``(4,)``: latitude (rad), longitude (rad), height (m), circle angle ``theta`` (rad).

    Returns
    -------
    bool
        Whether Newton's method converged; ``out`` is NaN otherwise.
    """
    basis = np.empty((3, 3))
    look_basis(pos, vel, look_sign, basis)
    q, rho = circle_params(vel, slant_range, wavelength, doppler)
    return circle_solve(pos, basis, q, rho, height, theta_guess, max_iter, tol, out)


@numba.njit(cache=True, nogil=True)
def dem_height(
    dem: NDArray[np.float64], x0: float, y0: float, dx: float, dy: float, x: float, y: float
) -> float:
    """Bilinear DEM height at ``(x, y)`` (NaN outside or next to a NaN node).

    ``dem[i, j]`` is the height at ``x = x0 + j * dx``, ``y = y0 + i * dy`` (pixel
    centres); for a geographic DEM ``x`` is longitude and ``y`` latitude in degrees.
    """
    fj = (x - x0) / dx
    fi = (y - y0) / dy
    ny, nx = dem.shape
    if not (fi >= 0.0 and fj >= 0.0 and fi <= ny - 1 and fj <= nx - 1):
        return math.nan
    i = min(int(fi), ny - 2) if ny > 1 else 0
    j = min(int(fj), nx - 2) if nx > 1 else 0
    a = fi - i
    b = fj - j
    i1 = min(i + 1, ny - 1)
    j1 = min(j + 1, nx - 1)
    return (1.0 - a) * ((1.0 - b) * dem[i, j] + b * dem[i, j1]) + a * (
        (1.0 - b) * dem[i1, j] + b * dem[i1, j1]
    )


@numba.njit(cache=True, nogil=True)
def _natural_spline_coeffs(
    y: NDArray[np.float64], n: int, r: NDArray[np.float64], q: NDArray[np.float64]
) -> None:
    """Second-derivative terms ``r`` of the natural cubic spline through ``y[0:n]`` (unit spacing)."""
    q[0] = 0.0
    r[0] = 0.0
    for i in range(1, n - 1):
        p = 1.0 / (0.5 * q[i - 1] + 2.0)
        q[i] = -0.5 * p
        r[i] = (3.0 * (y[i + 1] - 2.0 * y[i] + y[i - 1]) - 0.5 * r[i - 1]) * p
    r[n - 1] = 0.0
    for i in range(n - 2, 0, -1):
        r[i] = q[i] * r[i + 1] + r[i]


@numba.njit(cache=True, nogil=True)
def _natural_spline_eval(x: float, y: NDArray[np.float64], n: int, r: NDArray[np.float64]) -> float:
    """Evaluate the spline of :func:`_natural_spline_coeffs` at ``x`` (1-based node positions)."""
    if x < 1.0:
        return y[0] + (x - 1.0) * (y[1] - y[0] - r[1] / 6.0)
    if x > n:
        return y[n - 1] + (x - n) * (y[n - 1] - y[n - 2] + r[n - 2] / 6.0)
    j = math.floor(x)
    if j >= n:
        j = n - 1
    xx = x - j
    t0 = y[j] - y[j - 1] - r[j - 1] / 3.0 - r[j] / 6.0
    t1 = xx * (r[j - 1] / 2.0 + xx * (r[j] - r[j - 1]) / 6.0)
    return y[j - 1] + xx * (t0 + t1)


#: DEM interpolation methods understood by :func:`dem_interp`.
BILINEAR = 0
BIQUINTIC = 1
SPLINE_ORDER = 6


@numba.njit(cache=True, nogil=True)
def dem_interp(
    dem: NDArray[np.float64],
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    x: float,
    y: float,
    method: int,
) -> float:
    """DEM height at ``(x, y)`` by ``method``: :data:`BILINEAR` or :data:`BIQUINTIC`.

    ``BIQUINTIC`` is isce3's "biquintic" DEM interpolation (``Spline2dInterpolator``
    of order 6, from isce2): natural cubic splines through a 6 x 6 window, first
    along rows then along the column of results; reproduced here so that sarbd and
    isce3 sample a DEM identically. NaN outside the DEM or when the window holds a NaN.
    """
    if method == BILINEAR:
        return dem_height(dem, x0, y0, dx, dy, x, y)
    col = (x - x0) / dx
    row = (y - y0) / dy
    ny, nx = dem.shape
    if not (row >= 0.0 and col >= 0.0 and row <= ny - 1 and col <= nx - 1):
        return math.nan
    n = SPLINE_ORDER
    i0 = int(row) - n // 2 + 1
    j0 = int(col) - n // 2 + 1
    a = np.empty(n)
    hc = np.empty(n)
    r = np.empty(n)
    q = np.empty(n)
    for i in range(n):
        indi = min(max(i0 + i, 0), ny - 2) + 1
        for j in range(n):
            indj = min(max(j0 + j, 0), nx - 2) + 1
            a[j] = dem[indi, indj]
        _natural_spline_coeffs(a, n, r, q)
        hc[i] = _natural_spline_eval(col - j0, a, n, r)
    _natural_spline_coeffs(hc, n, r, q)
    return _natural_spline_eval(row - i0, hc, n, r)


@numba.njit(cache=True, nogil=True)
def dem_at(dem: DemArrays, lon: float, lat: float) -> float:
    """:func:`dem_interp` of a :class:`DemArrays` at ``(lon, lat)`` (degrees)."""
    return dem_interp(dem.data, dem.x0, dem.y0, dem.dx, dem.dy, lon, lat, dem.method)


@numba.njit(cache=True, nogil=True)
def dem_solve(
    pos: NDArray[np.float64],
    basis: NDArray[np.float64],
    q: float,
    rho: float,
    dem: DemArrays,
    h_guess: float,
    theta_guess: float,
    h_lo: float,
    h_hi: float,
    max_iter: int,
    tol: float,
    dem_max_iter: int,
    dem_tol: float,
    out: NDArray[np.float64],
) -> bool:
    """:func:`rdr2geo_state_dem` with a precomputed basis and circle (no allocation).

    First a secant iteration on the circle angle for ``h(P(theta)) = DEM(P(theta))``
    (one geodetic conversion and one DEM lookup per step; converged when the point's
    height and the DEM there agree to ``dem_tol``); if that fails, the iteration on
    ``g(h) = DEM(lat(h), lon(h)) - h`` (a fixed-point step, then secant steps), then
    bracketing.
    """
    if not math.isfinite(rho):
        out[:4] = math.nan
        return False
    # Stage 1: secant on the circle angle for F(theta) = h(P(theta)) - DEM(P(theta)): one
    # geodetic conversion and one DEM lookup per step (the first step is Newton's on h alone).
    th = theta_guess
    if not math.isfinite(th):
        th = _initial_theta(pos, basis, q, rho, h_guess)
    th_p = math.nan
    f_p = math.nan
    if math.isfinite(th):
        for _ in range(dem_max_iter):
            ct = math.cos(th)
            st = math.sin(th)
            px = pos[0] + q * basis[0, 0] + rho * (ct * basis[1, 0] + st * basis[2, 0])
            py = pos[1] + q * basis[0, 1] + rho * (ct * basis[1, 1] + st * basis[2, 1])
            pz = pos[2] + q * basis[0, 2] + rho * (ct * basis[1, 2] + st * basis[2, 2])
            xyz_to_llh(px, py, pz, out)
            hd = dem_at(dem, math.degrees(out[1]), math.degrees(out[0]))
            if not math.isfinite(hd):
                break
            f = out[2] - hd
            if abs(f) <= dem_tol:
                out[3] = th
                return True
            if math.isfinite(f_p) and f != f_p:
                th_new = th - f * (th - th_p) / (f - f_p)
            else:
                cl = math.cos(out[0])
                deriv = (
                    cl * math.cos(out[1]) * rho * (-st * basis[1, 0] + ct * basis[2, 0])
                    + cl * math.sin(out[1]) * rho * (-st * basis[1, 1] + ct * basis[2, 1])
                    + math.sin(out[0]) * rho * (-st * basis[1, 2] + ct * basis[2, 2])
                )
                if deriv == 0.0:
                    break
                th_new = th - f / deriv
            # at most ~5 km of ground per step, and within the imaged half-plane
            th_new = min(max(th_new, th - 0.005), th + 0.005)
            th_p = th
            f_p = f
            th = min(max(th_new, 0.0), math.pi)
    # Stage 2: secant on the height (fixed point first), then bracketing
    h = h_guess
    theta = theta_guess
    h_prev = math.nan
    g_prev = math.nan
    lo = h_lo - 100.0 if math.isfinite(h_lo) else -1.0e4
    hi = h_hi + 100.0 if math.isfinite(h_hi) else 1.0e4
    for _ in range(dem_max_iter):
        if not circle_solve(pos, basis, q, rho, h, theta, max_iter, tol, out):
            break
        theta = out[3]
        hn = dem_at(dem, math.degrees(out[1]), math.degrees(out[0]))
        if not math.isfinite(hn):
            break
        g = hn - h
        if abs(g) <= dem_tol:
            return circle_solve(pos, basis, q, rho, hn, theta, max_iter, tol, out)
        if math.isfinite(g_prev) and g != g_prev:
            h_new = h - g * (h - h_prev) / (g - g_prev)
            if not (lo <= h_new <= hi):
                h_new = h + 0.5 * g
        else:
            h_new = hn
        h_prev = h
        g_prev = g
        h = h_new
    if not (math.isfinite(h_lo) and math.isfinite(h_hi) and h_hi > h_lo):
        out[:4] = math.nan
        return False
    # bracketing: g(h_lo) >= 0 >= g(h_hi) for a DEM within [h_lo, h_hi]
    a, b = h_lo, h_hi
    if not circle_solve(pos, basis, q, rho, a, math.nan, max_iter, tol, out):
        out[:4] = math.nan
        return False
    ga = dem_at(dem, math.degrees(out[1]), math.degrees(out[0])) - a
    theta = out[3]
    if not circle_solve(pos, basis, q, rho, b, theta, max_iter, tol, out):
        out[:4] = math.nan
        return False
    gb = dem_at(dem, math.degrees(out[1]), math.degrees(out[0])) - b
    if not (math.isfinite(ga) and math.isfinite(gb)) or ga * gb > 0.0:
        out[:4] = math.nan
        return False
    side = 0
    for _ in range(200):
        c = (a * gb - b * ga) / (gb - ga) if gb != ga else 0.5 * (a + b)
        if not circle_solve(pos, basis, q, rho, c, theta, max_iter, tol, out):
            break
        theta = out[3]
        gc = dem_at(dem, math.degrees(out[1]), math.degrees(out[0])) - c
        if not math.isfinite(gc):
            break
        if abs(gc) <= dem_tol:
            return circle_solve(pos, basis, q, rho, c + gc, theta, max_iter, tol, out)
        if gc * gb > 0.0:
            b, gb = c, gc
            if side == -1:
                ga *= 0.5
            side = -1
        else:
            a, ga = c, gc
            if side == 1:
                gb *= 0.5
            side = 1
    out[:4] = math.nan
    return False


@numba.njit(cache=True, nogil=True)
def rdr2geo_state_dem(
    pos: NDArray[np.float64],
    vel: NDArray[np.float64],
    slant_range: float,
    dem: NDArray[np.float64],
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    h_guess: float,
    wavelength: float,
    doppler: float,
    look_sign: float,
    theta_guess: float,
    max_iter: int,
    tol: float,
    dem_max_iter: int,
    dem_tol: float,
    out: NDArray[np.float64],
    method: int = BILINEAR,
    h_lo: float = math.nan,
    h_hi: float = math.nan,
) -> bool:
    """:func:`rdr2geo_state` on a geographic DEM (ellipsoidal heights, lon/lat degrees).

    Solves ``g(h) = DEM(lat(h), lon(h)) - h = 0``: a fixed-point step
    ``h <- DEM(lat(h), lon(h))`` (isce3 ``rdr2geo`` with a ``DEMInterpolator`` iterates
    only these), then secant steps. Where they fail (slopes facing the radar steeper
    than the look direction: layover) the Illinois false-position method over
    ``[h_lo, h_hi]`` (the DEM's height range, where ``g`` changes sign) always finds a
    solution when one exists (one of several in layover). Converged when ``|DEM(lat, lon) - h| <= dem_tol`` (m); the
    returned point lies exactly on the surface of height ``h``.
    """
    basis = np.empty((3, 3))
    look_basis(pos, vel, look_sign, basis)
    q, rho = circle_params(vel, slant_range, wavelength, doppler)
    return dem_solve(
        pos,
        basis,
        q,
        rho,
        DemArrays(dem, x0, y0, dx, dy, method),
        h_guess,
        theta_guess,
        h_lo,
        h_hi,
        max_iter,
        tol,
        dem_max_iter,
        dem_tol,
        out,
    )


@numba.njit(cache=True, nogil=True)
def rdr2geo_point(
    azimuth_time: float,
    slant_range: float,
    height: float,
    orbit_time: NDArray[np.float64],
    orbit_pos: NDArray[np.float64],
    orbit_vel: NDArray[np.float64],
    wavelength: float,
    doppler: float,
    look_sign: float,
    max_iter: int,
    tol: float,
    out: NDArray[np.float64],
) -> bool:
    """rdr2geo of one point at a constant height: ``out (3,)`` = lat (rad), lon (rad), h (m).

    Interpolates the orbit at ``azimuth_time`` (s since the orbit's epoch); False
    (and NaN) if the time is outside the orbit or Newton's method fails.
    """
    if not (orbit_time[0] <= azimuth_time <= orbit_time[-1]):
        out[:3] = math.nan
        return False
    state = np.empty((3, 3))
    interpolate_state(orbit_time, orbit_pos, orbit_vel, azimuth_time, state)
    tmp = np.empty(4)
    ok = rdr2geo_state(
        state[0],
        state[1],
        slant_range,
        height,
        wavelength,
        doppler,
        look_sign,
        math.nan,
        max_iter,
        tol,
        tmp,
    )
    out[0] = tmp[0]
    out[1] = tmp[1]
    out[2] = tmp[2]
    return ok


@numba.njit(cache=True, nogil=True)
def _closest_state_time(
    xyz: NDArray[np.float64], orbit_time: NDArray[np.float64], orbit_pos: NDArray[np.float64]
) -> float:
    best = 0
    dmin = math.inf
    for i in range(orbit_time.shape[0]):
        d = (
            (orbit_pos[i, 0] - xyz[0]) ** 2
            + (orbit_pos[i, 1] - xyz[1]) ** 2
            + (orbit_pos[i, 2] - xyz[2]) ** 2
        )
        if d < dmin:
            dmin = d
            best = i
    return orbit_time[best]


#: Outcomes of one Newton step of the zero-Doppler equation (:func:`_doppler_newton_step`).
_NEWTON_CONTINUE, _NEWTON_CONVERGED, _NEWTON_FAILED = 0, 1, 2


@numba.njit(cache=True, nogil=True, inline="always")
def _doppler_newton_step(
    xyz: NDArray[np.float64],
    state: NDArray[np.float64],
    half_ld: float,
    t: float,
    t0: float,
    t1: float,
    tol: float,
    out: NDArray[np.float64],
) -> tuple[int, float]:
    """One Newton step on ``f(t) = v . (x - p) - (lambda f_dc / 2) |x - p|`` from the orbit
    ``state`` (position, velocity, acceleration) at ``t``; returns ``(status, new t)``.

    Converged when the step is below ``tol`` at a range minimum (``f' < 0``); then
    ``out = (t, range)`` with the range moved to the final time by a Taylor step. Failed
    when ``f' = 0``, the iterate leaves ``[t0, t1]`` (no extrapolation), or it converged to
    a range maximum (the target beyond the Earth's limb).
    """
    dx = xyz[0] - state[0, 0]
    dy = xyz[1] - state[0, 1]
    dz = xyz[2] - state[0, 2]
    r = math.sqrt(dx * dx + dy * dy + dz * dz)
    vd = state[1, 0] * dx + state[1, 1] * dy + state[1, 2] * dz
    ad = state[2, 0] * dx + state[2, 1] * dy + state[2, 2] * dz
    v2 = state[1, 0] ** 2 + state[1, 1] ** 2 + state[1, 2] ** 2
    f = vd - half_ld * r
    fp = ad - v2 + half_ld * vd / r
    if fp == 0.0:
        return _NEWTON_FAILED, t
    dt = f / fp
    t -= dt
    if t < t0 or t > t1:
        return _NEWTON_FAILED, t
    if abs(dt) > tol:
        return _NEWTON_CONTINUE, t
    if fp >= 0.0:
        return _NEWTON_FAILED, t
    # range at the final time: the state moved by -dt (a Taylor step; |dt| <= tol)
    h2 = 0.5 * dt * dt
    dx += state[1, 0] * dt - state[2, 0] * h2
    dy += state[1, 1] * dt - state[2, 1] * h2
    dz += state[1, 2] * dt - state[2, 2] * h2
    out[0] = t
    out[1] = math.sqrt(dx * dx + dy * dy + dz * dz)
    return _NEWTON_CONVERGED, t


@numba.njit(cache=True, nogil=True)
def geo2rdr_point(
    xyz: NDArray[np.float64],
    orbit_time: NDArray[np.float64],
    orbit_pos: NDArray[np.float64],
    orbit_vel: NDArray[np.float64],
    t_guess: float,
    wavelength: float,
    doppler: float,
    max_iter: int,
    tol: float,
    out: NDArray[np.float64],
) -> bool:
    """geo2rdr of one ECEF point: ``out (2,)`` = azimuth time (s since epoch), slant range (m).

    Newton's method on the Doppler equation (module docstring). ``t_guess`` NaN
    starts from the state vector closest to the target. Converged when the time
    step is below ``tol`` (s) at a range minimum (``f' < 0``: the closest approach,
    not the far-side root of the Doppler equation); False (and NaN) if not converged
    within ``max_iter`` or if an iterate leaves the orbit's span (orbits are never
    extrapolated).
    """
    t0 = orbit_time[0]
    t1 = orbit_time[-1]
    t = t_guess
    if not math.isfinite(t):
        t = _closest_state_time(xyz, orbit_time, orbit_pos)
    t = min(max(t, t0), t1)
    half_ld = 0.5 * wavelength * doppler if doppler != 0.0 else 0.0
    state = np.empty((3, 3))
    for _ in range(max_iter):
        interpolate_state(orbit_time, orbit_pos, orbit_vel, t, state)
        status, t = _doppler_newton_step(xyz, state, half_ld, t, t0, t1, tol, out)
        if status == _NEWTON_CONVERGED:
            return True
        if status == _NEWTON_FAILED:
            break
    out[0] = math.nan
    out[1] = math.nan
    return False


@numba.njit(cache=True, nogil=True)
def llh_deg_to_xyz(lat_deg: float, lon_deg: float, h: float, out: NDArray[np.float64]) -> None:
    """Geodetic degrees/m -> ECEF (m) into ``out``."""
    llh_to_xyz(math.radians(lat_deg), math.radians(lon_deg), h, out)


# WGS84 first eccentricity squared re-exported for kernels that need it
E2 = WGS84_E2


@numba.njit(cache=True, nogil=True)
def geo2rdr_table(
    xyz: NDArray[np.float64],
    times: NDArray[np.float64],
    z: NDArray[np.float64],
    coef: NDArray[np.float64],
    tcs: NDArray[np.float64],
    hs: NDArray[np.float64],
    t_guess: float,
    wavelength: float,
    doppler: float,
    max_iter: int,
    tol: float,
    state: NDArray[np.float64],
    out: NDArray[np.float64],
) -> bool:
    """:func:`geo2rdr_point` on a :func:`hermite_table` with a caller-provided ``state (3, 3)``.

    Same iteration and checks; no allocation, so it is the one to call per pixel.
    ``t_guess`` must be finite (e.g. the neighbouring pixel's time or the scene's centre).
    """
    t0 = times[0]
    t1 = times[-1]
    t = min(max(t_guess, t0), t1)
    half_ld = 0.5 * wavelength * doppler if doppler != 0.0 else 0.0
    for _ in range(max_iter):
        eval_state(times, z, coef, tcs, hs, t, state)
        status, t = _doppler_newton_step(xyz, state, half_ld, t, t0, t1, tol, out)
        if status == _NEWTON_CONVERGED:
            return True
        if status == _NEWTON_FAILED:
            break
    out[0] = math.nan
    out[1] = math.nan
    return False
