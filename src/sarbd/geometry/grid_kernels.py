"""Numba kernels over blocks of a radar grid: rdr2geo with the derived angles, layover/shadow.

Angles (all in the local east-north-up frame of the target, ``up`` = the
ellipsoid normal):

* ``incidence_angle``: between the line of sight (target -> satellite) and ``up``;
* ``local_incidence_angle``: between the line of sight and the terrain normal
  ``(-dh/dE, -dh/dN, 1)`` from central differences of the DEM at +-1 DEM pixel
  (as isce3 ``Topo``); equal to the incidence angle for a smooth height model;
* ``heading``: azimuth of the satellite velocity seen from the target, clockwise
  from north (degrees, -180..180; the ESA annotation's ``platformHeading``);
* ``look_angle``: off-nadir angle at the satellite, between the line of sight and
  the geodetic nadir under the satellite;
* ``los_east/north/up``: unit vector from the target to the satellite.

Layover and shadow (per line, in the zero-Doppler plane): the terrain profile is
sampled along ground rays (2x the pixel count) from the DEM; a ground point is in
*shadow* when its look angle does not exceed the largest look angle of all nearer
points (something nearer hides it); a radar pixel is *layover* when its slant-range
interval receives returns from two or more visible terrain segments (the slant
range is not monotonic in ground range), and *shadow* when it receives returns only
from shadowed segments (Kropatsch & Strobl 1990, IEEE TGRS 28(4); isce3
``Topo::setLayoverShadow`` uses the same two tests).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from sarbd.core.ellipsoid import WGS84_A, WGS84_B, WGS84_E2, llh_to_xyz, xyz_to_llh
from sarbd.core.orbit import OrbitArrays, interpolate_state
from sarbd.geometry.kernels import (
    DemArrays,
    circle_params,
    circle_solve,
    dem_at,
    dem_solve,
    geo2rdr_point,
    geo2rdr_table,
    hermite_table,
    look_basis,
)

#: Output variables of :func:`rdr2geo_block`, in order.
BLOCK_VARIABLES = (
    "latitude",
    "longitude",
    "height",
    "incidence_angle",
    "local_incidence_angle",
    "heading",
    "look_angle",
    "los_east",
    "los_north",
    "los_up",
    "converged",
)
NVAR = len(BLOCK_VARIABLES)


@numba.njit(cache=True, nogil=True)
def _angles(
    pos,
    vel,
    nadir,
    tx,
    ty,
    tz,
    lat,
    lon,
    h,
    have_dem,
    dem,  # type: ignore[no-untyped-def]
    out,
    i,
    j,
):
    """Fill the angle variables of pixel (i, j) for the target at ECEF (tx, ty, tz) = lat/lon/h."""
    d0 = pos[0] - tx
    d1 = pos[1] - ty
    d2 = pos[2] - tz
    rr = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
    d0 /= rr
    d1 /= rr
    d2 /= rr
    sl, cl, so, co = math.sin(lat), math.cos(lat), math.sin(lon), math.cos(lon)
    # ENU components of the target -> satellite unit vector
    e = -so * d0 + co * d1
    n = -sl * co * d0 - sl * so * d1 + cl * d2
    u = cl * co * d0 + cl * so * d1 + sl * d2
    out[7, i, j] = e
    out[8, i, j] = n
    out[9, i, j] = u
    out[3, i, j] = math.degrees(math.acos(min(max(u, -1.0), 1.0)))
    # heading of the velocity in the target's ENU frame, clockwise from north
    ve = -so * vel[0] + co * vel[1]
    vn = -sl * co * vel[0] - sl * so * vel[1] + cl * vel[2]
    out[5, i, j] = math.degrees(math.atan2(ve, vn))
    # look angle: LOS (satellite -> target) against the geodetic nadir under the satellite
    cosl = -(d0 * nadir[0] + d1 * nadir[1] + d2 * nadir[2])
    out[6, i, j] = math.degrees(math.acos(min(max(cosl, -1.0), 1.0)))
    if have_dem:
        lond = math.degrees(lon)
        latd = math.degrees(lat)
        dx, dy = dem.dx, dem.dy
        he = dem_at(dem, lond + abs(dx), latd)
        hw = dem_at(dem, lond - abs(dx), latd)
        hn = dem_at(dem, lond, latd + abs(dy))
        hs = dem_at(dem, lond, latd - abs(dy))
        sin2 = sl * sl
        w = math.sqrt(1.0 - WGS84_E2 * sin2)
        rn = WGS84_A / w  # prime vertical radius of curvature
        rm = WGS84_A * (1.0 - WGS84_E2) / (w * w * w)  # meridian radius of curvature
        de = 2.0 * math.radians(abs(dx)) * (rn + h) * cl
        dn = 2.0 * math.radians(abs(dy)) * (rm + h)
        gx = (he - hw) / de
        gy = (hn - hs) / dn
        if not (math.isfinite(gx) and math.isfinite(gy)):
            out[4, i, j] = math.nan
        else:
            nn = math.sqrt(gx * gx + gy * gy + 1.0)
            c = (-gx * e - gy * n + u) / nn
            out[4, i, j] = math.degrees(math.acos(min(max(c, -1.0), 1.0)))
    else:
        out[4, i, j] = out[3, i, j]


@numba.njit(cache=True, nogil=True)
def _rdr2geo_line(
    t,
    ranges,
    orbit,
    wavelength,
    doppler,
    look_sign,
    heights_row,  # type: ignore[no-untyped-def]
    have_dem,
    dem_arrays,
    h_start,
    h_lo,
    h_hi,
    max_iter,
    tol,
    dem_max_iter,
    dem_tol,
    out,
    i,
):
    """One line of :func:`rdr2geo_block` (a plain function: Numba optimises it fully)."""
    otime, opos, ovel = orbit.time, orbit.position, orbit.velocity
    npx = ranges.shape[0]
    if not (otime[0] <= t <= otime[-1]):
        out[:, i, :] = math.nan
        out[NVAR - 1, i, :] = 0.0
        return
    state = np.empty((3, 3))
    interpolate_state(otime, opos, ovel, t, state)
    pos = state[0]
    vel = state[1]
    basis = np.empty((3, 3))
    look_basis(pos, vel, look_sign, basis)
    sat = np.empty(3)
    xyz_to_llh(pos[0], pos[1], pos[2], sat)
    nadir = np.empty(3)
    cs = math.cos(sat[0])
    nadir[0] = -cs * math.cos(sat[1])
    nadir[1] = -cs * math.sin(sat[1])
    nadir[2] = -math.sin(sat[0])
    tmp = np.empty(4)
    th1 = math.nan  # circle angles of the previous three pixels
    th2 = math.nan
    th3 = math.nan
    h = h_start
    for j in range(npx):
        q, rho = circle_params(vel, ranges[j], wavelength, doppler)
        if math.isfinite(th3):
            guess = 3.0 * th1 - 3.0 * th2 + th3
        elif math.isfinite(th2):
            guess = 2.0 * th1 - th2
        else:
            guess = th1
        if have_dem:
            ok = dem_solve(
                pos,
                basis,
                q,
                rho,
                dem_arrays,
                h,
                guess,
                h_lo,
                h_hi,
                max_iter,
                tol,
                dem_max_iter,
                dem_tol,
                tmp,
            )
            if not ok and math.isfinite(guess):  # retry cold (e.g. after a DEM hole)
                ok = dem_solve(
                    pos,
                    basis,
                    q,
                    rho,
                    dem_arrays,
                    h_start,
                    math.nan,
                    h_lo,
                    h_hi,
                    max_iter,
                    tol,
                    dem_max_iter,
                    dem_tol,
                    tmp,
                )
        else:
            ok = circle_solve(pos, basis, q, rho, heights_row[j], guess, max_iter, tol, tmp)
            if not ok and math.isfinite(guess):
                ok = circle_solve(pos, basis, q, rho, heights_row[j], math.nan, max_iter, tol, tmp)
        if ok:
            th3 = th2
            th2 = th1
            th1 = tmp[3]
            h = tmp[2]
            out[0, i, j] = math.degrees(tmp[0])
            out[1, i, j] = math.degrees(tmp[1])
            out[2, i, j] = tmp[2]
            ct = math.cos(tmp[3])
            st = math.sin(tmp[3])
            tx = pos[0] + q * basis[0, 0] + rho * (ct * basis[1, 0] + st * basis[2, 0])
            ty = pos[1] + q * basis[0, 1] + rho * (ct * basis[1, 1] + st * basis[2, 1])
            tz = pos[2] + q * basis[0, 2] + rho * (ct * basis[1, 2] + st * basis[2, 2])
            _angles(
                pos,
                vel,
                nadir,
                tx,
                ty,
                tz,
                tmp[0],
                tmp[1],
                tmp[2],
                have_dem,
                dem_arrays,
                out,
                i,
                j,
            )
            out[NVAR - 1, i, j] = 1.0
        else:
            th1 = math.nan
            th2 = math.nan
            th3 = math.nan
            h = h_start
            out[:, i, j] = math.nan
            out[NVAR - 1, i, j] = 0.0


@numba.njit(cache=True, parallel=True)
def rdr2geo_block(
    times: NDArray[np.float64],
    ranges: NDArray[np.float64],
    orbit: OrbitArrays,
    wavelength: float,
    doppler: float,
    look_sign: float,
    heights: NDArray[np.float64],
    have_dem: bool,
    dem: DemArrays,
    h_start: float,
    h_lo: float,
    h_hi: float,
    max_iter: int,
    tol: float,
    dem_max_iter: int,
    dem_tol: float,
) -> NDArray[np.float64]:
    """rdr2geo plus angles for every (time, range) of a block: ``(NVAR, lines, pixels)``.

    ``heights (lines, pixels)`` are the ellipsoidal heights when ``have_dem`` is
    false; otherwise each pixel iterates on the geographic DEM ``dem``
    (:class:`~sarbd.geometry.dem.DemArrays`; :data:`~sarbd.geometry.dem.NO_DEM` without one).
    The orbit, imaging basis and nadir are evaluated once per line; along the line
    each pixel starts from the quadratic extrapolation of its three predecessors'
    circle angles (so that Newton's method usually needs a single evaluation) and,
    on a DEM, from its neighbour's height. Lines run in parallel.
    """
    nl = times.shape[0]
    out = np.empty((NVAR, nl, ranges.shape[0]))
    for i in numba.prange(nl):
        row = heights[0] if have_dem else heights[i]
        _rdr2geo_line(
            times[i],
            ranges,
            orbit,
            wavelength,
            doppler,
            look_sign,
            row,
            have_dem,
            dem,
            h_start,
            h_lo,
            h_hi,
            max_iter,
            tol,
            dem_max_iter,
            dem_tol,
            out,
            i,
        )
    return out


@numba.njit(cache=True, nogil=True)
def _ray_ellipsoid(pos, d):  # type: ignore[no-untyped-def]
    """Distance along the unit ray ``pos + r d`` to the WGS84 ellipsoid (NaN if missed)."""
    a2 = WGS84_A * WGS84_A
    b2 = WGS84_B * WGS84_B
    qa = (d[0] * d[0] + d[1] * d[1]) / a2 + d[2] * d[2] / b2
    qb = 2.0 * ((pos[0] * d[0] + pos[1] * d[1]) / a2 + pos[2] * d[2] / b2)
    qc = (pos[0] * pos[0] + pos[1] * pos[1]) / a2 + pos[2] * pos[2] / b2 - 1.0
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:
        return math.nan
    return (-qb - math.sqrt(disc)) / (2.0 * qa)


@numba.njit(cache=True, nogil=True)
def _layover_line(
    times,
    r0,
    dr,
    width,
    p0,
    p1,
    orbit,
    look_sign,
    theta_lo,
    theta_hi,  # type: ignore[no-untyped-def]
    dem_arrays,
    oversample,
    out,
    i,
):
    """One line of :func:`layover_shadow_block`."""
    otime, opos, ovel = orbit.time, orbit.position, orbit.velocity
    npx = p1 - p0
    nprof = max(oversample * width, 16)
    t = times[i]
    if not (otime[0] <= t <= otime[-1]) or not (theta_hi[i] > theta_lo[i]):
        return
    state = np.empty((3, 3))
    interpolate_state(otime, opos, ovel, t, state)
    pos = state[0]
    basis = np.empty((3, 3))
    look_basis(pos, state[1], look_sign, basis)
    rng = np.empty(nprof)
    shadow = np.zeros(nprof, dtype=np.bool_)
    valid = np.zeros(nprof, dtype=np.bool_)
    d = np.empty(3)
    llh = np.empty(3)
    p = np.empty(3)
    amax = -math.inf
    for k in range(nprof):
        th = theta_lo[i] + (theta_hi[i] - theta_lo[i]) * k / (nprof - 1)
        ct, st = math.cos(th), math.sin(th)
        for c in range(3):
            d[c] = ct * basis[1, c] + st * basis[2, c]
        r = _ray_ellipsoid(pos, d)
        if not math.isfinite(r):
            rng[k] = math.nan
            continue
        xyz_to_llh(pos[0] + r * d[0], pos[1] + r * d[1], pos[2] + r * d[2], llh)
        hk = dem_at(dem_arrays, math.degrees(llh[1]), math.degrees(llh[0]))
        if not math.isfinite(hk):
            rng[k] = math.nan
            continue
        llh_to_xyz(llh[0], llh[1], hk, p)
        e0, e1, e2 = p[0] - pos[0], p[1] - pos[1], p[2] - pos[2]
        rng[k] = math.sqrt(e0 * e0 + e1 * e1 + e2 * e2)
        ang = math.atan2(
            e0 * basis[2, 0] + e1 * basis[2, 1] + e2 * basis[2, 2],
            e0 * basis[1, 0] + e1 * basis[1, 1] + e2 * basis[1, 2],
        )
        valid[k] = True
        # shadowed when a nearer point is seen at an equal or larger look angle
        if ang <= amax:
            shadow[k] = True
        else:
            amax = ang
    vis = np.zeros(npx, dtype=np.int32)
    shd = np.zeros(npx, dtype=np.int32)
    for k in range(nprof - 1):
        if not (valid[k] and valid[k + 1]):
            continue
        ra, rb = rng[k], rng[k + 1]
        lo, hi = min(ra, rb), max(ra, rb)
        # pixels whose centre range lies in [lo, hi)
        j0 = math.ceil((lo - r0) / dr) - p0
        j1 = math.ceil((hi - r0) / dr) - p0  # exclusive
        j0 = max(j0, 0)
        j1 = min(j1, npx)
        seg_shadow = shadow[k] or shadow[k + 1]
        for j in range(j0, j1):
            if seg_shadow:
                shd[j] += 1
            else:
                vis[j] += 1
    for j in range(npx):
        flag = 0
        if vis[j] >= 2:
            flag |= 1
        if vis[j] == 0 and shd[j] >= 1:
            flag |= 2
        out[i, j] = flag
    return out


@numba.njit(cache=True, parallel=True)
def layover_shadow_block(
    times: NDArray[np.float64],
    r0: float,
    dr: float,
    width: int,
    p0: int,
    p1: int,
    orbit: OrbitArrays,
    look_sign: float,
    theta_lo: NDArray[np.float64],
    theta_hi: NDArray[np.float64],
    dem: DemArrays,
    oversample: int,
) -> NDArray[np.uint8]:
    """Layover (1) / shadow (2) flags for pixels ``p0..p1`` of the lines at ``times``.

    ``r0, dr, width`` describe the grid's full range axis; ``theta_lo/hi`` (per
    line) bound the ground rays sampled (angle from the nadir direction ``u`` in the
    zero-Doppler plane). The profile always spans the whole line, so the result does
    not depend on how pixels are chunked.
    """
    nl = times.shape[0]
    out = np.zeros((nl, p1 - p0), dtype=np.uint8)
    for i in numba.prange(nl):
        _layover_line(
            times,
            r0,
            dr,
            width,
            p0,
            p1,
            orbit,
            look_sign,
            theta_lo,
            theta_hi,
            dem,
            oversample,
            out,
            i,
        )
    return out


@numba.njit(cache=True, parallel=True)
def geo2rdr_block(
    xyz: NDArray[np.float64],
    tguess: NDArray[np.float64],
    orbit: OrbitArrays,
    wavelength: float,
    doppler: float,
    max_iter: int,
    tol: float,
) -> NDArray[np.float64]:
    """geo2rdr of ``xyz (rows, cols, 3)``: ``(3, rows, cols)`` = time, range, converged.

    The orbit's Hermite coefficients are computed once (:func:`hermite_table`); along
    each row a pixel starts from its neighbour's solution (one or two Newton steps);
    ``tguess (rows,)`` seeds the first pixel of each row (NaN: closest state vector).
    """
    otime, opos, ovel = orbit.time, orbit.position, orbit.velocity
    nr, nc = xyz.shape[0], xyz.shape[1]
    out = np.empty((3, nr, nc))
    z, coef, tcs, hs = hermite_table(otime, opos, ovel)
    for i in numba.prange(nr):
        _geo2rdr_row(
            xyz,
            tguess[i],
            otime,
            opos,
            ovel,
            z,
            coef,
            tcs,
            hs,
            wavelength,
            doppler,
            max_iter,
            tol,
            out,
            i,
        )
    return out


@numba.njit(cache=True, nogil=True)
def _geo2rdr_row(
    xyz,
    t,
    otime,
    opos,
    ovel,
    z,
    coef,
    tcs,
    hs,
    wavelength,
    doppler,
    max_iter,
    tol,  # type: ignore[no-untyped-def]
    out,
    i,
):
    """One row of :func:`geo2rdr_block`."""
    res = np.empty(2)
    state = np.empty((3, 3))
    t0 = t
    for j in range(xyz.shape[1]):
        ok = False
        if math.isfinite(t):
            ok = geo2rdr_table(
                xyz[i, j],
                otime,
                z,
                coef,
                tcs,
                hs,
                t,
                wavelength,
                doppler,
                max_iter,
                tol,
                state,
                res,
            )
        if not ok and math.isfinite(t0) and t0 != t:
            ok = geo2rdr_table(
                xyz[i, j],
                otime,
                z,
                coef,
                tcs,
                hs,
                t0,
                wavelength,
                doppler,
                max_iter,
                tol,
                state,
                res,
            )
        if not ok:  # cold start from the closest state vector
            ok = geo2rdr_point(
                xyz[i, j], otime, opos, ovel, math.nan, wavelength, doppler, max_iter, tol, res
            )
        out[0, i, j] = res[0]
        out[1, i, j] = res[1]
        out[2, i, j] = 1.0 if ok else 0.0
        if ok:
            t = res[0]


@numba.njit(cache=True, nogil=True)
def _keys_weights(f: float, w: NDArray[np.float64]) -> None:
    """Keys (1981) cubic-convolution weights (a = -1/2) of nodes -1, 0, 1, 2 at fraction f."""
    f2 = f * f
    f3 = f2 * f
    w[0] = -0.5 * f3 + f2 - 0.5 * f
    w[1] = 1.5 * f3 - 2.5 * f2 + 1.0
    w[2] = -1.5 * f3 + 2.0 * f2 + 0.5 * f
    w[3] = 0.5 * f3 - 0.5 * f2


@numba.njit(cache=True, nogil=True)
def _node(v: NDArray[np.float64], k: int, idx: int, n: int) -> float:
    """Node ``idx`` of row/column vector ``v[k]``, with Keys' cubic extrapolation past the ends."""
    if idx < 0:
        return 3.0 * v[k, 0] - 3.0 * v[k, 1] + v[k, 2] if n >= 3 else 2.0 * v[k, 0] - v[k, 1]
    if idx >= n:
        return (
            3.0 * v[k, n - 1] - 3.0 * v[k, n - 2] + v[k, n - 3]
            if n >= 3
            else 2.0 * v[k, n - 1] - v[k, n - 2]
        )
    return v[k, idx]


@numba.njit(cache=True, parallel=True)
def cubic_from_nodes(
    nodes: NDArray[np.float64],
    node_l0: float,
    node_dl: float,
    node_p0: float,
    node_dp: float,
    lines: NDArray[np.float64],
    pixels: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Bicubic (Keys cubic convolution) interpolation of ``nodes (nvar, ml, mp)`` on a uniform grid.

    Node ``(i, j)`` sits at line ``node_l0 + i * node_dl``, pixel ``node_p0 + j * node_dp``;
    the result is ``(nvar, lines.size, pixels.size)``. Separable: each output line first
    combines four node rows, then each pixel four node columns (Keys 1981, IEEE TASSP
    29(6), third-order accurate). A NaN node makes the 4 x 4 neighbourhood NaN.
    """
    nvar, ml, mp = nodes.shape
    nl = lines.shape[0]
    npx = pixels.shape[0]
    out = np.empty((nvar, nl, npx))
    # column indices and weights, shared by every line
    jc = np.empty(npx, dtype=np.int64)
    wc = np.empty((npx, 4))
    for j in range(npx):
        x = (pixels[j] - node_p0) / node_dp
        j0 = min(max(math.floor(x), 0), mp - 2)
        jc[j] = j0
        _keys_weights(x - j0, wc[j])
    for i in numba.prange(nl):
        y = (lines[i] - node_l0) / node_dl
        i0 = min(max(math.floor(y), 0), ml - 2)
        wr = np.empty(4)
        _keys_weights(y - i0, wr)
        row = np.empty((nvar, mp))
        for k in range(nvar):
            for c in range(mp):
                acc = 0.0
                for a in range(4):
                    r = i0 - 1 + a
                    if r < 0:
                        val = (
                            3.0 * nodes[k, 0, c] - 3.0 * nodes[k, 1, c] + nodes[k, 2, c]
                            if ml >= 3
                            else 2.0 * nodes[k, 0, c] - nodes[k, 1, c]
                        )
                    elif r >= ml:
                        val = (
                            3.0 * nodes[k, ml - 1, c]
                            - 3.0 * nodes[k, ml - 2, c]
                            + nodes[k, ml - 3, c]
                            if ml >= 3
                            else 2.0 * nodes[k, ml - 1, c] - nodes[k, ml - 2, c]
                        )
                    else:
                        val = nodes[k, r, c]
                    acc += wr[a] * val
                row[k, c] = acc
            for j in range(npx):
                j0 = jc[j]
                acc = 0.0
                for b in range(4):
                    acc += wc[j, b] * _node(row, k, j0 - 1 + b, mp)
                out[k, i, j] = acc
    return out
