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

import numba
import numpy as np

__all__ = [
    "DESCRIPTORS",
    "ZONES",
    "c2_descriptors",
    "circular_phase_std",
    "eig2x2_hermitian",
]

#: Row order of :func:`c2_descriptors`' output.
DESCRIPTORS = ("lambda1", "lambda2", "entropy", "anisotropy", "alpha", "degree_of_polarization", "dprvi", "zone")

#: H-alpha plane zones (Cloude & Pottier 1997), code -> CF flag meaning.
ZONES = {
    1: "high_entropy_multiple_scattering",
    2: "high_entropy_vegetation_scattering",
    3: "high_entropy_surface_scattering_non_feasible",
    4: "medium_entropy_multiple_scattering",
    5: "medium_entropy_vegetation_scattering",
    6: "medium_entropy_surface_scattering",
    7: "low_entropy_multiple_scattering",
    8: "low_entropy_dipole_scattering",
    9: "low_entropy_surface_scattering",
}

#: Relative tolerance on det(C2) (times tr^2) below which a negative determinant is
#: taken as rounding of a rank-1 matrix rather than a non-covariance matrix.
DET_TOLERANCE = 1e-5


@numba.njit(cache=True)
def _zone(h: float, alpha: float) -> float:
    if h >= 0.9:
        if alpha >= 55.0:
            return 1.0
        return 2.0 if alpha >= 40.0 else 3.0
    if h >= 0.5:
        if alpha >= 50.0:
            return 4.0
        return 5.0 if alpha >= 40.0 else 6.0
    if alpha >= 47.5:
        return 7.0
    return 8.0 if alpha >= 42.5 else 9.0


# fastmath without "nnan"/"ninf": NaN/inf checks stay exact; approximate functions
# (afn) and contractions only change the last bits of log2/acos/sqrt.
@numba.njit(parallel=True, cache=True, fastmath={"afn", "arcp", "contract", "nsz"})
def _descriptors_flat(c11, c22, c12r, c12i, out):  # type: ignore[no-untyped-def]
    n = c11.shape[0]
    for k in numba.prange(n):
        a = np.float64(c11[k])
        b = np.float64(c22[k])
        cr = np.float64(c12r[k])
        ci = np.float64(c12i[k])
        cc = cr * cr + ci * ci
        tr = a + b
        ok = math.isfinite(a) and math.isfinite(b) and math.isfinite(cc) and a >= 0.0 and b >= 0.0 and tr > 0.0
        det = a * b - cc
        if ok and det < -DET_TOLERANCE * tr * tr:
            ok = False  # not a covariance matrix (e.g. noise over-subtracted)
        if not ok:
            for r in range(8):
                out[r, k] = np.nan
            continue
        det = max(det, 0.0)
        disc = math.sqrt((a - b) * (a - b) + 4.0 * cc)
        l1 = 0.5 * (tr + disc)
        l2 = min(det / l1, l1)
        s = l1 + l2
        p1 = l1 / s
        p2 = l2 / s
        h = 0.0
        if p1 > 0.0:
            h -= p1 * math.log2(p1)
        if p2 > 0.0:
            h -= p2 * math.log2(p2)
        h = min(max(h, 0.0), 1.0)
        m = (l1 - l2) / s  # = sqrt(1 - 4 det / tr^2), equal to the anisotropy for 2 x 2
        if l1 - l2 > 1e-12 * s:
            pe1 = min(max((a - l2) / (l1 - l2), 0.0), 1.0)
        else:
            pe1 = 0.5  # degenerate: any basis; the mean alpha is then 45 degrees
        a1 = math.degrees(math.acos(math.sqrt(pe1)))
        a2 = math.degrees(math.acos(math.sqrt(1.0 - pe1)))
        alpha = p1 * a1 + p2 * a2
        out[0, k] = l1
        out[1, k] = l2
        out[2, k] = h
        out[3, k] = m
        out[4, k] = alpha
        out[5, k] = m
        out[6, k] = 1.0 - m * p1
        out[7, k] = _zone(h, alpha)


def c2_descriptors(c11: np.ndarray, c22: np.ndarray, c12: np.ndarray) -> np.ndarray:
    """Eigen-descriptors of dual-pol covariance matrices, element-wise.

    Parameters
    ----------
    c11, c22
        Real diagonal elements (power, linear), any shape.
    c12
        Complex off-diagonal element ``<k1 k2*>``, same shape.

    Returns
    -------
    Array of shape ``(8, *c11.shape)``, float32, rows as in :data:`DESCRIPTORS`:
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
    shape = np.shape(c11)
    f = lambda v: np.ascontiguousarray(np.ravel(v))  # noqa: E731
    c12 = np.asarray(c12)
    out = np.empty((8, int(np.prod(shape))), dtype=np.float32)
    if out.shape[1]:
        _descriptors_flat(f(c11), f(c22), f(c12.real), f(c12.imag), out)
    return out.reshape((8, *shape))


def eig2x2_hermitian(c11: np.ndarray, c22: np.ndarray, c12: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
