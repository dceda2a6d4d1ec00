"""Numba kernels: closed-form 2 x 2 Hermitian eigen-analysis and phase statistics.

For the dual-pol covariance ``C2 = [[c11, c12], [c12*, c22]]`` (c11, c22 real >= 0)

    tr = c11 + c22,  det = c11 c22 - |c12|^2,
    lambda1 = (tr + sqrt((c11 - c22)^2 + 4 |c12|^2)) / 2,  lambda2 = det / lambda1,
    |e1(1)|^2 = (c11 - lambda2) / (lambda1 - lambda2),  |e2(1)|^2 = 1 - |e1(1)|^2,

(the projector onto e1 is (C2 - lambda2 I)/(lambda1 - lambda2)). Computing lambda2
as det/lambda1 avoids the cancellation of (tr - disc)/2 when lambda2 << lambda1.
No generic ``eig`` call, no sorting, no complex eigenvectors.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from sarbd.signatures.polarimetry_kernels import HALPHA_ZONES, halpha_zone

__all__ = [
    "C2_ROWS",
    "DESCRIPTORS",
    "ZONES",
    "c2_descriptors",
    "c2_descriptors_ri",
    "c2_fused",
    "circular_phase_std",
    "correlation_magnitude",
    "eig2x2_hermitian",
    "finite_or_nan",
    "noise_corrected_power",
    "ratio_or_nan",
    "slc_amplitude",
]

#: Row order of :func:`c2_descriptors`' output.
DESCRIPTORS = (
    "lambda1",
    "lambda2",
    "entropy",
    "anisotropy",
    "alpha",
    "degree_of_polarization",
    "dprvi",
    "zone",
)

#: H-alpha plane zones (Cloude & Pottier 1997), code -> CF flag meaning (one table for dual- and quad-pol).
ZONES = HALPHA_ZONES

#: Relative tolerance on det(C2) (times tr^2) below which a negative determinant is
#: taken as rounding of a rank-1 matrix rather than a non-covariance matrix.
DET_TOLERANCE = 1e-5


# fastmath without "nnan"/"ninf": NaN/inf checks stay exact; approximate functions
# (afn) and contractions only change the last bits of log2/acos/sqrt.
_FASTMATH = {"afn", "arcp", "contract", "nsz"}


@intrinsic
def _f64_bits(typingctx, x):  # type: ignore[no-untyped-def]
    """The IEEE 754 bits of a float64 as an int64 (an LLVM bitcast: free, vectorisable)."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_f64(typingctx, x):  # type: ignore[no-untyped-def]
    """The float64 with IEEE 754 bits ``x`` (int64); inverse of :func:`_f64_bits`."""
    if x != types.int64:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


_SQRT2 = math.sqrt(2.0)
#: 2 / ((2 k + 1) ln 2), k = 0..6: log2(m) = sum_k c_k z^(2k+1), z = (m - 1)/(m + 1)
_LOG2_SERIES = tuple(2.0 / ((2 * k + 1) * math.log(2.0)) for k in range(7))


@numba.njit(cache=True, inline="always")
def log2_positive(x):  # type: ignore[no-untyped-def]
    """log2(x) of a positive, normal, finite float64, branch-free (vectorises without SVML).

    x = 2^e m with m in [sqrt(2)/2, sqrt(2)); log2 m = (2/ln 2) atanh z, z = (m-1)/(m+1),
    |z| <= 0.1716, summed to z^13: absolute error below 1e-12 (against libm's log2,
    ``tests/signatures/test_kernels.py``). Subnormal, zero, negative or non-finite x give
    meaningless values: callers select them away. A libm ``log2`` call is not inlined
    and keeps LLVM from vectorising the loop around it; this is the cost of the entropy.
    """
    bits = _f64_bits(x)
    e = ((bits >> 52) & 0x7FF) - 1023
    m = _bits_f64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # in [1, 2)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    e = e + 1 if big else e
    z = (m - 1.0) / (m + 1.0)
    z2 = z * z
    c = _LOG2_SERIES
    poly = c[0] + z2 * (c[1] + z2 * (c[2] + z2 * (c[3] + z2 * (c[4] + z2 * (c[5] + z2 * c[6])))))
    return np.float64(e) + z * poly


@numba.njit(cache=True, inline="always")
def _xlog2x(p):  # type: ignore[no-untyped-def]
    """p log2 p for 0 <= p <= 1 (0 at p = 0, and below the normal range where it is < 1e-305)."""
    return p * log2_positive(p) if p >= 2.3e-308 else 0.0


@numba.njit(cache=True, inline="always")
def _eigen_p(a, b, cr, ci):  # type: ignore[no-untyped-def]
    """Validity, eigenvalues and their fractions of one C2 (float64), without branches.

    Returns ``(ok, l1, l2, p1, p2)``; ``ok`` is false where the matrix is not a finite
    covariance (negative diagonal, zero trace, det < -DET_TOLERANCE tr^2), and the other
    values are then meaningless.
    """
    cc = cr * cr + ci * ci
    tr = a + b
    det = a * b - cc
    # |x| < inf is false for NaN and +-inf: one comparison per value
    ok = (abs(a) < np.inf) & (abs(b) < np.inf) & (abs(cc) < np.inf)
    ok = ok & (a >= 0.0) & (b >= 0.0) & (tr > 0.0) & (det >= -DET_TOLERANCE * tr * tr)
    det = max(det, 0.0)
    disc = math.sqrt((a - b) * (a - b) + 4.0 * cc)
    l1 = 0.5 * (tr + disc)
    l1 = l1 if ok else 1.0  # keeps the divisions below quiet where not ok
    l2 = min(det / l1, l1)
    s = l1 + l2
    return ok, l1, l2, l1 / s, l2 / s


@numba.njit(cache=True, inline="always")
def _entropy_p(p1, p2):  # type: ignore[no-untyped-def]
    """H = -p1 log2 p1 - p2 log2 p2, clipped to [0, 1] (float64)."""
    return min(max(-(_xlog2x(p1) + _xlog2x(p2)), 0.0), 1.0)


@numba.njit(cache=True, inline="always")
def entropy_scalar(a, b, cr, ci):  # type: ignore[no-untyped-def]
    """Dual-pol entropy of one C2 (float64 in), NaN if not a covariance; branch-free.

    The same value as the entropy of :func:`c2_descriptors` (both use :func:`_eigen_p`
    and :func:`_entropy_p`); a loop over pixels calling it vectorises.
    """
    ok, _l1, _l2, p1, p2 = _eigen_p(a, b, cr, ci)
    h = _entropy_p(p1, p2)
    return h if ok else np.nan


@numba.njit(cache=True, fastmath=_FASTMATH)
def _descriptors_one(a, b, cr, ci, need_h, need_alpha):  # type: ignore[no-untyped-def]
    """The eight descriptors of one matrix (float64 inputs), NaN if not a covariance.

    Entropy (and the zone) is only evaluated if ``need_h``, alpha (and the zone)
    only if ``need_alpha``; the others are NaN then (their logarithms and arc
    cosines are most of the cost).
    """
    nan = np.nan
    ok, l1, l2, p1, p2 = _eigen_p(a, b, cr, ci)
    if not ok:
        return nan, nan, nan, nan, nan, nan, nan, nan
    s = l1 + l2
    m = (l1 - l2) / s  # = sqrt(1 - 4 det / tr^2), equal to the anisotropy for 2 x 2
    h = _entropy_p(p1, p2) if need_h else nan
    alpha = nan
    if need_alpha:
        if l1 - l2 > 1e-12 * s:
            pe1 = min(max((a - l2) / (l1 - l2), 0.0), 1.0)
        else:
            pe1 = 0.5  # degenerate: any basis; the mean alpha is then 45 degrees
        a1 = math.degrees(math.acos(math.sqrt(pe1)))
        a2 = math.degrees(math.acos(math.sqrt(1.0 - pe1)))
        alpha = p1 * a1 + p2 * a2
    zone = halpha_zone(h, alpha) if need_h and need_alpha else nan
    return l1, l2, h, m, alpha, m, 1.0 - m * p1, zone


@numba.njit(parallel=True, cache=True, nogil=True, fastmath=_FASTMATH)
def _descriptors_flat(c11, c22, c12r, c12i, rows, out):  # type: ignore[no-untyped-def]
    n = c11.shape[0]
    need_h = False
    need_alpha = False
    for r in rows:
        need_h = need_h or r == 2 or r == 7
        need_alpha = need_alpha or r == 4 or r == 7
    for k in numba.prange(n):
        d = _descriptors_one(
            np.float64(c11[k]),
            np.float64(c22[k]),
            np.float64(c12r[k]),
            np.float64(c12i[k]),
            need_h,
            need_alpha,
        )
        for i in range(rows.shape[0]):
            out[i, k] = d[rows[i]]


def c2_descriptors(
    c11: np.ndarray, c22: np.ndarray, c12: np.ndarray, rows: tuple[str, ...] | None = None
) -> np.ndarray:
    """Eigen-descriptors of dual-pol covariance matrices, element-wise.

    Parameters
    ----------
    c11, c22
        Real diagonal elements (power, linear), any shape.
    c12
        Complex off-diagonal element ``<k1 k2*>``, same shape.

    rows
        Which descriptors to compute (names of :data:`DESCRIPTORS`); default all.
        Entropy and alpha are only evaluated when asked for (or the zone is).

    Returns
    -------
    Array of shape ``(len(rows), *c11.shape)`` (default 8), float32, rows as in :data:`DESCRIPTORS`:
    lambda1, lambda2 (power), entropy H = -sum p_i log2 p_i, anisotropy
    A = (l1 - l2)/(l1 + l2), mean alpha = p1 a1 + p2 a2 (degrees, a_i = arccos|e_i(1)|),
    degree of polarisation m = sqrt(1 - 4 det/tr^2), DpRVI = 1 - m l1/(l1 + l2), and
    the H-alpha zone code (:data:`ZONES`). NaN where the input is not a finite
    covariance matrix (negative diagonal, zero trace, det < -1e-5 tr^2).

    References
    ----------
    Cloude, S. R. & Pottier, E. (1997), An entropy based classification scheme for
    land applications of polarimetric SAR, IEEE TGRS 35(1):68-78.
    Cloude, S. R. (2007), The dual polarisation entropy/alpha decomposition,
    Proc. PolInSAR 2007, ESA SP-644.
    Mandal, D. et al. (2020), Dual polarimetric radar vegetation index for crop growth
    monitoring using Sentinel-1 SAR data, Remote Sens. Environ. 247:111954.
    """
    c12 = np.asarray(c12)
    return c2_descriptors_ri(c11, c22, c12.real, c12.imag, rows)


def c2_descriptors_ri(
    c11: np.ndarray,
    c22: np.ndarray,
    c12r: np.ndarray,
    c12i: np.ndarray,
    rows: tuple[str, ...] | None = None,
) -> np.ndarray:
    """:func:`c2_descriptors` with C12 given as real and imaginary parts."""
    shape = np.shape(c11)
    f = lambda v: np.ascontiguousarray(np.ravel(v))  # noqa: E731
    idx = np.array([DESCRIPTORS.index(r) for r in (rows or DESCRIPTORS)], dtype=np.int64)
    out = np.empty((idx.size, int(np.prod(shape))), dtype=np.float32)
    if out.shape[1]:
        _descriptors_flat(f(c11), f(c22), f(c12r), f(c12i), idx, out)
    return out.reshape((idx.size, *shape))


def eig2x2_hermitian(
    c11: np.ndarray, c22: np.ndarray, c12: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvalues (lambda1 >= lambda2) and |e1(1)|^2 of 2 x 2 Hermitian matrices (NumPy).

    Closed form (module docstring); float64. A reference for the Numba kernel and
    for callers that want the raw eigen-analysis.
    """
    a = np.asarray(c11, dtype=np.float64)
    b = np.asarray(c22, dtype=np.float64)
    cc = np.abs(np.asarray(c12)) ** 2
    tr = a + b
    disc = np.sqrt((a - b) ** 2 + 4 * cc)
    l1 = 0.5 * (tr + disc)
    with np.errstate(invalid="ignore", divide="ignore"):
        l2 = np.where(l1 > 0, (a * b - cc) / np.where(l1 > 0, l1, 1), 0.5 * (tr - disc))
        pe1 = np.where(disc > 0, (a - l2) / np.where(disc > 0, l1 - l2, 1), 0.5)
    return l1, l2, np.clip(pe1, 0, 1)


@numba.njit(parallel=True, cache=True)
def _circ_std_2d(z, hl, hp, out):  # type: ignore[no-untyped-def]
    nl, npx = z.shape
    for i in numba.prange(nl):
        for j in range(npx):
            sr = 0.0
            si = 0.0
            n = 0
            for a in range(max(i - hl, 0), min(i + hl + 1, nl)):
                for b in range(max(j - hp, 0), min(j + hp + 1, npx)):
                    v = z[a, b]
                    mag = abs(v)
                    if math.isfinite(mag) and mag > 0.0:
                        sr += v.real / mag
                        si += v.imag / mag
                        n += 1
            if n == 0 or (sr == 0.0 and si == 0.0):
                out[i, j] = np.nan
                continue
            centre = math.atan2(si, sr)
            acc = 0.0
            for a in range(max(i - hl, 0), min(i + hl + 1, nl)):
                for b in range(max(j - hp, 0), min(j + hp + 1, npx)):
                    v = z[a, b]
                    mag = abs(v)
                    if math.isfinite(mag) and mag > 0.0:
                        d = math.atan2(v.imag, v.real) - centre
                        d = (d + math.pi) % (2.0 * math.pi) - math.pi
                        acc += d * d
            out[i, j] = math.sqrt(acc / n)


def circular_phase_std(z: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    """Window standard deviation of the phase of ``z`` about the window's mean phase.

    sigma = sqrt( <wrap(arg z_j - arg <z/|z|>)^2> ) over the finite, non-zero samples
    of the window (odd sizes; an even size is widened by one). The squared
    deviation is window-averaged (the AlignSAR reference code did not average it),
    and deviations are taken from the window's circular mean, so a mean phase near
    +-pi (double bounce in HH-VV) does not wrap into a spurious large spread.
    Leading axes are independent. NaN where no sample is usable.
    """
    hl, hp = window[0] // 2, window[1] // 2
    zz = np.ascontiguousarray(z, dtype=np.complex128)
    flat = zz.reshape((-1, *zz.shape[-2:]))
    out = np.empty(flat.shape, dtype=np.float64)
    for t in range(flat.shape[0]):  # leading axes (dates), not pixels
        _circ_std_2d(flat[t], hl, hp, out[t])
    return out.reshape(zz.shape)


def serial(func: Any) -> Any:
    """Wrap a kernel call to run on one Numba thread (inside Dask tasks).

    Dask already runs one task per core; nested Numba thread pools would oversubscribe
    the cores, and OpenMP workers spin-waiting between parallel regions burn CPU time.
    ``numba.set_num_threads`` is per calling thread, so other threads are unaffected.
    """

    def run(*args: Any, **kwargs: Any) -> Any:
        before = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return func(*args, **kwargs)
        finally:
            numba.set_num_threads(before)

    return run


#: Row order of :func:`c2_fused`'s output.
C2_ROWS = ("c11", "c22", "c12_real", "c12_imag")


@numba.njit(cache=True)
def _diag(sp, cp, sn, cn, has_noise, neg_nan, floor):  # type: ignore[no-untyped-def]
    """C_ii = <P> - <N> from window sums and counts, with the negative rule (float32)."""
    if cp < 0.5 or cn < 0.5:  # no finite sample (counts are exact small integers)
        return np.float32(np.nan)
    val = np.float32(sp / cp)
    if has_noise:
        val = np.float32(val - np.float32(sn / cn))
    if neg_nan:
        if val < 0:
            return np.float32(np.nan)
    elif val < floor:
        return np.float32(floor)
    return val


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _line_sums(s1, s2, k1, k2, n1, n2, has_noise, t, i, hp, bp, v, dst):  # type: ignore[no-untyped-def]
    """Horizontal window sums of one line into ``dst`` (nq, op); ``v`` is scratch (nq, npx)."""
    npx = s1.shape[2]
    op = dst.shape[1]
    v[:] = 0.0
    for j in range(npx):
        a1 = s1[t, i, j]
        a2 = s2[t, i, j]
        f1 = k1[t, i, j]
        f2 = k2[t, i, j]
        # the same float32 arithmetic as the NumPy path (|s|^2 A^-2, noise A^-2, s1 s2* g)
        p1 = np.float32(a1.real * a1.real + a1.imag * a1.imag) * f1
        p2 = np.float32(a2.real * a2.real + a2.imag * a2.imag) * f2
        g = np.float32(math.sqrt(f1 * f2))
        x = a1 * np.conj(a2)
        cr = x.real * g
        ci = x.imag * g
        if math.isfinite(p1):
            v[0, j] = p1
            v[6, j] = 1.0
        if math.isfinite(p2):
            v[2, j] = p2
            v[8, j] = 1.0
        if math.isfinite(cr) and math.isfinite(ci):
            v[4, j] = cr
            v[5, j] = ci
            v[10, j] = 1.0
        if has_noise:
            q1 = n1[t, i, j] * f1
            q2 = n2[t, i, j] * f2
            if math.isfinite(q1):
                v[1, j] = q1
                v[7, j] = 1.0
            if math.isfinite(q2):
                v[3, j] = q2
                v[9, j] = 1.0
        else:
            v[7, j] = 1.0
            v[9, j] = 1.0
    for q in range(v.shape[0]):
        for jo in range(op):
            j = jo + bp
            acc = 0.0
            for b in range(max(j - hp[0], 0), min(j + hp[1] + 1, npx)):
                acc += v[q, b]
            dst[q, jo] = acc


@numba.njit(parallel=True, cache=True, nogil=True, fastmath=_FASTMATH)
def _c2_fused(s1, s2, k1, k2, n1, n2, has_noise, hl, hp, bl, bp, neg_nan, floor, out):  # type: ignore[no-untyped-def]
    # s1, s2 complex64 (T, L, P); k1, k2 calibration 1/A^2 and n1, n2 noise, float32,
    # all padded by the halo (bl, bp); out (4, T, L - 2 bl, P - 2 bp). The window
    # reaches hl[0] lines before and hl[1] after (hp: pixels), like scipy's uniform_filter.
    # Quantities q: 0 P1, 1 N1, 2 P2, 3 N2, 4 Re C12, 5 Im C12, then the counts of
    # finite samples 6..10 (P1, N1, P2, N2, C12); invalid samples enter the sums as 0.
    # Each date is one task: the window's line sums sit in a ring buffer and the
    # vertical sums are running sums (a line added, the one leaving the window removed).
    nt, nl, npx = s1.shape
    op = npx - 2 * bp
    nq = 11
    wl = hl[0] + hl[1] + 1
    for t in numba.prange(nt):
        v = np.empty((nq, npx))
        ring = np.zeros((wl, nq, op))
        m = np.zeros((nq, op))
        added = 0
        removed = 0
        for i in range(nl):
            lo = max(0, i - hl[0])
            hi = min(nl - 1, i + hl[1])
            while removed < lo:
                old = ring[removed % wl]
                for q in range(nq):
                    for jo in range(op):
                        m[q, jo] -= old[q, jo]
                removed += 1
            while added <= hi:
                slot = ring[added % wl]
                _line_sums(s1, s2, k1, k2, n1, n2, has_noise, t, added, hp, bp, v, slot)
                for q in range(nq):
                    for jo in range(op):
                        m[q, jo] += slot[q, jo]
                added += 1
            if i < bl or i >= nl - bl:
                continue
            io = i - bl
            for jo in range(op):
                # window means rounded to float32 before the subtraction, as in the NumPy path
                out[0, t, io, jo] = _diag(
                    m[0, jo], m[6, jo], m[1, jo], m[7, jo], has_noise, neg_nan, floor
                )
                out[1, t, io, jo] = _diag(
                    m[2, jo], m[8, jo], m[3, jo], m[9, jo], has_noise, neg_nan, floor
                )
                c = m[10, jo]
                if c < 0.5:
                    out[2, t, io, jo] = np.nan
                    out[3, t, io, jo] = np.nan
                else:
                    out[2, t, io, jo] = np.float32(m[4, jo] / c)
                    out[3, t, io, jo] = np.float32(m[5, jo] / c)


def c2_fused(
    s1: np.ndarray,
    s2: np.ndarray,
    k1: np.ndarray,
    k2: np.ndarray,
    n1: np.ndarray | None,
    n2: np.ndarray | None,
    window: tuple[int, int],
    border: tuple[int, int],
    *,
    negative: str = "nan",
    floor: float = 1e-5,
) -> np.ndarray:
    """Window-averaged dual-pol covariance in one pass.

    The fused equivalent of the NumPy path of :class:`sarbd.signatures.inputs.StackInputs`
    (``c2``), for one block: calibrated power
    ``P_i = |s_i|^2 k_i``, noise power ``N_i = eta_i k_i`` and the cross term
    ``s_1 s_2^* sqrt(k_1 k_2)`` are formed per sample, their NaN-aware boxcar means
    taken over ``window`` (non-finite samples left out, as in
    :func:`sarbd.filters.nan_window_mean`) and ``C_ii = <P_i> - <N_i>`` with the negative
    rule, without any intermediate array. Window sums are separable, in float64:
    along the line, then running sums over the window's lines (a ring buffer of
    ``window[0]`` line sums), one date per thread; scratch memory is a few lines.

    Parameters
    ----------
    s1, s2
        SLCs (complex64), ``(time, line, pixel)``, padded by ``border`` (NaN outside the image).
    k1, k2
        Calibration factors 1/A^2 (float32), same shape.
    n1, n2
        Thermal noise power eta (DN^2, float32), or None for no noise removal.
    window
        (lines, pixels) of the boxcar.
    border
        (lines, pixels) of padding on each side, dropped from the output.
    negative, floor
        Rule for C_ii < 0: ``"nan"``, or ``"floor"`` (values below ``floor`` set to it).

    Returns
    -------
    float32 array ``(4, time, line, pixel)``, rows :data:`C2_ROWS`; NaN where the
    window holds no finite sample.

    References
    ----------
    Lee, J.-S. & Pottier, E. (2009), Polarimetric Radar Imaging, CRC Press, ch. 4
    (sample covariance matrix).
    """
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    c64 = lambda a: np.ascontiguousarray(a, dtype=np.complex64)  # noqa: E731
    s1, s2, k1, k2 = c64(s1), c64(s2), f32(k1), f32(k2)
    has_noise = n1 is not None and n2 is not None
    n1 = f32(n1) if has_noise else k1
    n2 = f32(n2) if has_noise else k2
    bl, bp = int(border[0]), int(border[1])
    nt, nl, npx = s1.shape
    out = np.empty((4, nt, nl - 2 * bl, npx - 2 * bp), dtype=np.float32)
    if out.size:
        hl = np.array([window[0] // 2, (window[0] - 1) // 2], dtype=np.int64)
        hp = np.array([window[1] // 2, (window[1] - 1) // 2], dtype=np.int64)
        _c2_fused(
            s1,
            s2,
            k1,
            k2,
            n1,
            n2,
            has_noise,
            hl,
            hp,
            bl,
            bp,
            negative == "nan",
            np.float32(floor),
            out,
        )
    return out


# -- element-wise kernels (NumPy ufuncs compiled by Numba) ------------------------------------
# One pass per output instead of a chain of NumPy temporaries (np.where with a scalar
# NaN, isfinite, casts); exact IEEE arithmetic (no fastmath), same float32 rounding as
# the NumPy expressions they replace (sqrt is correctly rounded in both).


# The scalar bodies are plain njit functions so that the fused catalogue kernel
# (:mod:`sarbd.signatures.fused`) evaluates exactly the same float32 steps.


@numba.njit(cache=True)
def finite_scalar(x):  # type: ignore[no-untyped-def]
    """x where finite, else NaN (float32)."""
    return x if math.isfinite(x) else np.float32(np.nan)


@numba.njit(cache=True)
def ratio_scalar(num, den):  # type: ignore[no-untyped-def]
    """num / den in float32; NaN where den == 0, either is not finite, or the result is not."""
    ok = den != 0 and math.isfinite(den) and math.isfinite(num)
    # the division only sees safe operands (no spurious floating-point warnings)
    r = np.float32(num / den) if ok else np.float32(np.nan)
    return r if math.isfinite(r) else np.float32(np.nan)


@numba.njit(cache=True)
def amplitude_scalar(s):  # type: ignore[no-untyped-def]
    """|s| = sqrt(re^2 + im^2), the square summed in float32."""
    return np.float32(math.sqrt(np.float32(s.real * s.real + s.imag * s.imag)))


@numba.njit(cache=True)
def noise_corrected_scalar(s, k, eta, has_noise, neg_nan, floor):  # type: ignore[no-untyped-def]
    """(|s|^2 - eta) k with the negative rule (float32 steps of :func:`noise_corrected_power`)."""
    p = np.float32(np.float32(s.real * s.real + s.imag * s.imag) * k)
    if has_noise:
        p = np.float32(p - np.float32(eta * k))
    if neg_nan:
        if p < 0:
            return np.float32(np.nan)
    elif p < floor:
        return np.float32(floor)
    return p


@numba.njit(cache=True)
def hypot_scalar(x, y):  # type: ignore[no-untyped-def]
    """sqrt(x^2 + y^2) of float32 values, in float64 then rounded (float32).

    What glibc's ``hypotf`` computes for finite input (as NumPy's complex64 ``abs``),
    without its library call, so loops over it vectorise; +-inf and NaN give NaN or
    inf (callers turn non-finite values into NaN).
    """
    xd = np.float64(x)
    yd = np.float64(y)
    return np.float32(math.sqrt(xd * xd + yd * yd))


@numba.njit(cache=True)
def correlation_scalar(c11, c22, cr, ci):  # type: ignore[no-untyped-def]
    """|c12| / sqrt(c11 c22) clipped to [0, 1]; NaN where undefined (float32)."""
    num = hypot_scalar(cr, ci)
    den = np.float32(math.sqrt(np.float32(c11 * c22)))
    if den == 0 or not math.isfinite(den) or not math.isfinite(num):
        return np.float32(np.nan)
    r = np.float32(num / den)
    if not math.isfinite(r):
        return np.float32(np.nan)
    return min(max(r, np.float32(0.0)), np.float32(1.0))


@numba.vectorize(["float32(float32)"], cache=True)
def finite_or_nan(x):  # type: ignore[no-untyped-def]
    """x where finite, else NaN (never +-inf)."""
    return finite_scalar(x)


@numba.vectorize(["float32(float32, float32)"], cache=True)
def ratio_or_nan(num, den):  # type: ignore[no-untyped-def]
    """num / den in float32; NaN where den == 0, either is not finite, or the result is not."""
    return ratio_scalar(num, den)


@numba.vectorize(["float32(complex64)"], cache=True)
def slc_amplitude(s):  # type: ignore[no-untyped-def]
    """|s| = sqrt(re^2 + im^2), the square summed in float32 (as |DN|^2 is)."""
    return amplitude_scalar(s)


@numba.vectorize(["float32(complex64, float32, float32, boolean, boolean, float32)"], cache=True)
def noise_corrected_power(s, k, eta, has_noise, neg_nan, floor):  # type: ignore[no-untyped-def]
    """(|s|^2 - eta) k with the negative rule: NaN below 0, or ``floor`` below ``floor``.

    The same float32 steps as ``|s|^2 * k - eta * k`` in NumPy (ESA-EOPG-CSCOP-TN-0002
    calibration, noise subtracted in calibrated units).
    """
    return noise_corrected_scalar(s, k, eta, has_noise, neg_nan, floor)


@numba.vectorize(["float32(float32, float32, float32, float32)"], cache=True)
def correlation_magnitude(c11, c22, cr, ci):  # type: ignore[no-untyped-def]
    """|c12| / sqrt(c11 c22) clipped to [0, 1]; NaN where undefined (float32 steps as in NumPy)."""
    return correlation_scalar(c11, c22, cr, ci)


# fixed loops: inputs are cast to them by NumPy's rules; never compile new ones at run time
for _uf in (
    finite_or_nan,
    ratio_or_nan,
    slc_amplitude,
    noise_corrected_power,
    correlation_magnitude,
):
    _uf.disable_compile()
