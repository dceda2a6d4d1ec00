"""Numba kernels of full (quad) and compact polarimetry, element-wise over pixels.

Conventions (Lee & Pottier 2009, ch. 3 and 6)
---------------------------------------------
Reciprocity: the cross-pol channel is ``s_x = (s_HV + s_VH) / 2`` (the two measured
cross-pol channels averaged, which also halves their independent noise).

* lexicographic vector ``k_L = [s_HH, sqrt(2) s_x, s_VV]``, covariance ``C3 = <k_L k_L^H>``;
* Pauli vector ``k_P = [s_HH + s_VV, s_HH - s_VV, 2 s_x] / sqrt(2)``, coherency
  ``T3 = <k_P k_P^H>``; ``T3 = U C3 U^H`` with the unitary Pauli matrix ``U``.

Matrices are passed as their independent real elements: ``t11, t22, t33`` (real
diagonal) and ``t12, t13, t23`` (complex, upper triangle).

The eigen-decomposition of T3 (:func:`t3_eigen`) uses cyclic complex Jacobi
rotations in float64, per pixel (as PolSARpro does): exact to rounding for every
Hermitian matrix, including the degenerate ones of pure targets (trihedral: two zero
eigenvalues) and of the fully random T3 ~ I, where closed-form (Cardano) roots lose
accuracy. Three to four sweeps converge for 3 x 3. A batched ``numpy.linalg.eigh``
gives the same eigen-analysis (tests) but took about twice as long here.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

__all__ = [
    "EIGEN_DESCRIPTORS",
    "HALPHA_ZONES",
    "c3_to_t3",
    "compact_descriptors",
    "freeman_durden",
    "halpha_zone",
    "t3_eigen",
    "yamaguchi4",
]

#: Row order of :func:`t3_eigen`'s output.
EIGEN_DESCRIPTORS = ("lambda1", "lambda2", "lambda3", "entropy", "anisotropy", "alpha", "zone")

#: H-alpha plane zones of Cloude & Pottier (1997), code -> CF flag meaning. Zone 3
#: (high entropy, alpha < 40 deg) is outside the feasible region of the plane.
HALPHA_ZONES = {
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

#: Off-diagonal power (relative to the squared diagonal) at which Jacobi stops.
JACOBI_TOLERANCE = 1e-24
#: Diagonal elements down to this fraction of the span below zero are float32 rounding
#: (T22 of a pure trihedral derived from C3) and taken as 0; more negative is NaN.
NEGATIVE_TOLERANCE = 1e-5
#: Eigenvalue sums below this fraction of the span count as zero (anisotropy undefined).
ZERO_FRACTION = 1e-9

_FM = {"arcp", "contract", "nsz"}  # no nnan/ninf: NaN checks stay exact


@numba.njit(cache=True)
def halpha_zone(h: float, alpha: float) -> float:
    """H-alpha zone code 1-9 (Cloude & Pottier 1997, Fig. 5): H bounds 0.5, 0.9;
    alpha bounds 55/40 (high H), 50/40 (medium H), 47.5/42.5 degrees (low H)."""
    if not (math.isfinite(h) and math.isfinite(alpha)):
        return np.nan
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


@numba.njit(cache=True, inline="always")
def _abs2(z: complex) -> float:
    return z.real * z.real + z.imag * z.imag


@numba.njit(cache=True, fastmath=_FM)
def _jacobi3(a, v):  # type: ignore[no-untyped-def]
    """Diagonalise the Hermitian 3 x 3 ``a`` in place; eigenvectors into the columns of ``v``.

    Each rotation zeroes ``a[p, q]``: a phase ``D = diag(1, e^{-i phi})`` on (p, q)
    makes the pair real, then the real Jacobi rotation of Numerical Recipes (sec. 11.1)
    applies; ``v <- v D P``.
    """
    for i in range(3):
        for j in range(3):
            v[i, j] = 1.0 if i == j else 0.0
    for _sweep in range(16):
        off = _abs2(a[0, 1]) + _abs2(a[0, 2]) + _abs2(a[1, 2])
        diag = a[0, 0].real ** 2 + a[1, 1].real ** 2 + a[2, 2].real ** 2
        if off <= JACOBI_TOLERANCE * diag or off == 0.0:
            return
        for p in range(2):
            for q in range(p + 1, 3):
                apq = a[p, q]
                g = math.sqrt(_abs2(apq))
                if g == 0.0:
                    continue
                ec = np.conj(apq) / g  # e^{-i phi}
                app = a[p, p].real
                aqq = a[q, q].real
                theta = (aqq - app) / (2.0 * g)
                t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
                if theta < 0.0:
                    t = -t
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                k = 3 - p - q
                akp = a[k, p]
                akq = a[k, q] * ec
                nkp = c * akp - s * akq
                nkq = s * akp + c * akq
                a[k, p] = nkp
                a[p, k] = np.conj(nkp)
                a[k, q] = nkq
                a[q, k] = np.conj(nkq)
                a[p, p] = app - t * g
                a[q, q] = aqq + t * g
                a[p, q] = 0.0
                a[q, p] = 0.0
                for r in range(3):
                    vrp = v[r, p]
                    vrq = v[r, q] * ec
                    v[r, p] = c * vrp - s * vrq
                    v[r, q] = s * vrp + c * vrq


_BLOCK = 4096  # pixels per Numba task (the 3 x 3 work arrays are allocated once per task)


@numba.njit(parallel=True, cache=True, fastmath=_FM)
def _eigen_flat(t11, t22, t33, t12r, t12i, t13r, t13i, t23r, t23i, out):  # type: ignore[no-untyped-def]
    n = t11.shape[0]
    nb = (n + _BLOCK - 1) // _BLOCK
    log3 = math.log(3.0)
    for b in numba.prange(nb):
        a = np.empty((3, 3), np.complex128)
        v = np.empty((3, 3), np.complex128)
        lam = np.empty(3)
        alp = np.empty(3)
        for k in range(b * _BLOCK, min((b + 1) * _BLOCK, n)):
            d1 = np.float64(t11[k])
            d2 = np.float64(t22[k])
            d3 = np.float64(t33[k])
            span = d1 + d2 + d3
            ok = (
                math.isfinite(span) and span > 0.0 and min(d1, d2, d3) >= -NEGATIVE_TOLERANCE * span
            )
            d1, d2, d3 = max(d1, 0.0), max(d2, 0.0), max(d3, 0.0)
            o12 = complex(t12r[k], t12i[k])
            o13 = complex(t13r[k], t13i[k])
            o23 = complex(t23r[k], t23i[k])
            if ok and not (
                math.isfinite(o12.real + o12.imag + o13.real + o13.imag + o23.real + o23.imag)
            ):
                ok = False
            if not ok:
                for r in range(7):
                    out[r, k] = np.nan
                continue
            a[0, 0] = d1
            a[1, 1] = d2
            a[2, 2] = d3
            a[0, 1] = o12
            a[1, 0] = np.conj(o12)
            a[0, 2] = o13
            a[2, 0] = np.conj(o13)
            a[1, 2] = o23
            a[2, 1] = np.conj(o23)
            _jacobi3(a, v)
            for i in range(3):
                lam[i] = max(a[i, i].real, 0.0)  # rounding of a rank-deficient matrix
                alp[i] = math.degrees(math.acos(min(math.sqrt(_abs2(v[0, i])), 1.0)))
            # sort descending (3 elements: insertion sort)
            for i in range(1, 3):
                j = i
                while j > 0 and lam[j] > lam[j - 1]:
                    lam[j], lam[j - 1] = lam[j - 1], lam[j]
                    alp[j], alp[j - 1] = alp[j - 1], alp[j]
                    j -= 1
            s = lam[0] + lam[1] + lam[2]
            h = 0.0
            mean_alpha = 0.0
            for i in range(3):
                p = lam[i] / s
                if p > 0.0:
                    h -= p * math.log(p) / log3
                mean_alpha += p * alp[i]
            h = min(max(h, 0.0), 1.0) + 0.0  # no -0
            low = lam[1] + lam[2]
            out[0, k] = lam[0]
            out[1, k] = lam[1]
            out[2, k] = lam[2]
            out[3, k] = h
            out[4, k] = (lam[1] - lam[2]) / low if low > ZERO_FRACTION * s else np.nan
            out[5, k] = mean_alpha
            out[6, k] = halpha_zone(h, mean_alpha)


def _flat(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.ravel(x))


def t3_eigen(
    t11: np.ndarray,
    t22: np.ndarray,
    t33: np.ndarray,
    t12: np.ndarray,
    t13: np.ndarray,
    t23: np.ndarray,
) -> np.ndarray:
    """Cloude-Pottier eigen-descriptors of coherency matrices T3, element-wise.

    Parameters
    ----------
    t11, t22, t33
        Real diagonal of T3 (power, linear), any shape.
    t12, t13, t23
        Complex upper off-diagonal elements, same shape.

    Returns
    -------
    Array ``(7, *shape)`` float32, rows as in :data:`EIGEN_DESCRIPTORS`:
    lambda1 >= lambda2 >= lambda3 (power); entropy ``H = -sum p_i log3 p_i`` with
    ``p_i = lambda_i / sum lambda``; anisotropy ``A = (lambda2 - lambda3) / (lambda2 + lambda3)``
    (NaN where lambda2 + lambda3 is zero, i.e. a pure target); mean alpha
    ``sum p_i alpha_i`` in degrees, ``alpha_i = arccos |e_i(1)|``; and the H-alpha zone
    (:data:`HALPHA_ZONES`). NaN where T3 is not finite or its span is not positive.
    For degenerate eigenvalues the eigenvectors are those Jacobi converges to (for
    T3 ~ I the canonical basis: alpha = 60 degrees, the usual value at H = 1).

    References
    ----------
    Cloude, S. R. & Pottier, E. (1996), A review of target decomposition theorems in
    radar polarimetry, IEEE TGRS 34(2):498-518.
    Cloude, S. R. & Pottier, E. (1997), An entropy based classification scheme for
    land applications of polarimetric SAR, IEEE TGRS 35(1):68-78.
    Lee, J.-S. & Pottier, E. (2009), Polarimetric Radar Imaging, CRC Press, ch. 7.
    """
    shape = np.shape(t11)
    t12, t13, t23 = (np.asarray(x) for x in (t12, t13, t23))
    out = np.empty((7, int(np.prod(shape))), dtype=np.float32)
    if out.shape[1]:
        _eigen_flat(
            _flat(t11),
            _flat(t22),
            _flat(t33),
            _flat(t12.real),
            _flat(t12.imag),
            _flat(t13.real),
            _flat(t13.imag),
            _flat(t23.real),
            _flat(t23.imag),
            out,
        )
    return out.reshape((7, *shape))


def c3_to_t3(c11: Any, c22: Any, c33: Any, c12: Any, c13: Any, c23: Any) -> tuple[Any, ...]:
    """T3 = U C3 U^H elements from C3 elements (works on NumPy and Dask arrays).

    ``T11 = (C11 + C33 + 2 Re C13) / 2``, ``T22 = (C11 + C33 - 2 Re C13) / 2``, ``T33 = C22``,
    ``T12 = (C11 - C33 - 2i Im C13) / 2``, ``T13 = (C12 + C23*) / sqrt 2``,
    ``T23 = (C12 - C23*) / sqrt 2`` (Lee & Pottier 2009, eq. 3.97).
    """
    r = 1.0 / math.sqrt(2.0)
    t11 = 0.5 * (c11 + c33) + c13.real
    t22 = 0.5 * (c11 + c33) - c13.real
    t12 = 0.5 * (c11 - c33) - 1j * c13.imag
    t13 = r * (c12 + c23.conj())
    t23 = r * (c12 - c23.conj())
    return t11, t22, c22, t12, t13, t23


@numba.njit(parallel=True, cache=True, fastmath=_FM)
def _freeman_flat(c11, c22, c33, c13r, c13i, out):  # type: ignore[no-untyped-def]
    n = c11.shape[0]
    for k in numba.prange(n):
        a0 = np.float64(c11[k])
        x = np.float64(c22[k])
        b0 = np.float64(c33[k])
        cr = np.float64(c13r[k])
        ci = np.float64(c13i[k])
        span = a0 + x + b0
        if not (
            math.isfinite(span + cr + ci)
            and span > 0.0
            and min(a0, x, b0) >= -NEGATIVE_TOLERANCE * span
        ):
            out[0, k] = np.nan
            out[1, k] = np.nan
            out[2, k] = np.nan
            continue
        x = max(x, 0.0)
        fv = 1.5 * x  # <|S_HV|^2> = fv / 3 and C22 = 2 <|S_HV|^2>
        a = a0 - fv
        b = b0 - fv
        cr -= fv / 3.0
        eps = 1e-9 * span
        if a <= eps or b <= eps:  # volume exceeds the co-pol power: all volume
            out[0, k] = 0.0
            out[1, k] = 0.0
            out[2, k] = span
            continue
        cc = cr * cr + ci * ci
        if cc > a * b:  # non-realisable <S_HH S_VV*>: scale it onto |c|^2 = ab (PolSARpro)
            f = math.sqrt(a * b / cc)
            cr *= f
            ci *= f
            cc = a * b
        if cr >= 0.0:  # surface dominant: alpha = -1
            fd = (a * b - cc) / (a + b + 2.0 * cr)
            fs = b - fd
            beta2 = ((fd + cr) ** 2 + ci * ci) / (fs * fs) if fs > 0.0 else 0.0
            ps = fs * (1.0 + beta2)
            pd = 2.0 * fd
        else:  # double-bounce dominant: beta = 1
            fs = (a * b - cc) / (a + b - 2.0 * cr)
            fd = b - fs
            alpha2 = ((cr - fs) ** 2 + ci * ci) / (fd * fd) if fd > 0.0 else 0.0
            ps = 2.0 * fs
            pd = fd * (1.0 + alpha2)
        out[0, k] = max(ps, 0.0)
        out[1, k] = max(pd, 0.0)
        out[2, k] = 8.0 * fv / 3.0


def freeman_durden(
    c11: np.ndarray, c22: np.ndarray, c33: np.ndarray, c13: np.ndarray
) -> np.ndarray:
    """Freeman-Durden three-component powers (surface, double bounce, volume), element-wise.

    Model (C3 of ``k_L``): ``<|S_HH|^2> = fs |beta|^2 + fd |alpha|^2 + fv``,
    ``<|S_VV|^2> = fs + fd + fv``, ``<S_HH S_VV*> = fs beta + fd alpha + fv/3``,
    ``<|S_HV|^2> = fv/3``. ``fv = 3 <|S_HV|^2>`` and the volume is removed; then
    ``alpha = -1`` if ``Re<S_HH S_VV*> >= 0`` (surface dominant), else ``beta = 1``.
    ``Ps = fs (1 + |beta|^2)``, ``Pd = fd (1 + |alpha|^2)``, ``Pv = 8 fv / 3``.

    Negative-power rules (Freeman & Durden 1998, sec. III; as in PolSARpro): if the
    co-pol power left after removing the volume is not positive, the pixel is all
    volume (``Ps = Pd = 0``, ``Pv = span``); a residual ``|<S_HH S_VV*>|^2`` above
    the product of the residual co-pol powers is scaled down to it; Ps, Pd >= 0.

    Returns
    -------
    ``(3, *shape)`` float32: Ps, Pd, Pv (power, linear). NaN where C3 is not finite.

    References
    ----------
    Freeman, A. & Durden, S. L. (1998), A three-component scattering model for
    polarimetric SAR data, IEEE TGRS 36(3):963-973.
    """
    shape = np.shape(c11)
    c13 = np.asarray(c13)
    out = np.empty((3, int(np.prod(shape))), dtype=np.float32)
    if out.shape[1]:
        _freeman_flat(_flat(c11), _flat(c22), _flat(c33), _flat(c13.real), _flat(c13.imag), out)
    return out.reshape((3, *shape))


@numba.njit(parallel=True, cache=True, fastmath=_FM)
def _yamaguchi_flat(t11, t22, t33, t12r, t12i, t23i, c11, c33, out):  # type: ignore[no-untyped-def]
    n = t11.shape[0]
    for k in numba.prange(n):
        d1 = np.float64(t11[k])
        d2 = np.float64(t22[k])
        d3 = np.float64(t33[k])
        hh = np.float64(c11[k])
        vv = np.float64(c33[k])
        tp = d1 + d2 + d3
        if not (
            math.isfinite(tp + t12r[k] + t12i[k] + t23i[k] + hh + vv)
            and tp > 0.0
            and min(d1, d2, d3) >= -NEGATIVE_TOLERANCE * tp
        ):
            for r in range(4):
                out[r, k] = np.nan
            continue
        # helix: 2 |Im<(S_HH - S_VV) S_HV*>|, at most what the cross-pol power allows
        # (Pc / 2 <= T33, so that Pv >= 0 and the powers still add up to the span)
        d1, d2, d3 = max(d1, 0.0), max(d2, 0.0), max(d3, 0.0)
        pc = min(2.0 * abs(np.float64(t23i[k])), 2.0 * d3)
        hv = 0.5 * d3 - 0.25 * pc  # <|S_HV|^2> of the volume (helix removed)
        ratio = 10.0 * math.log10(vv / hh) if hh > 0.0 and vv > 0.0 else 0.0
        if ratio <= -2.0:  # HH-dominant dipoles: (1/15)[[8,0,2],[0,4,0],[2,0,3]]
            pv = 7.5 * hv
            v11, v22, v12 = 0.5, 7.0 / 30.0, 1.0 / 6.0
        elif ratio >= 2.0:  # VV-dominant dipoles: (1/15)[[3,0,2],[0,4,0],[2,0,8]]
            pv = 7.5 * hv
            v11, v22, v12 = 0.5, 7.0 / 30.0, -1.0 / 6.0
        else:  # uniform orientation: (1/8)[[3,0,1],[0,2,0],[1,0,3]]
            pv = 8.0 * hv
            v11, v22, v12 = 0.5, 0.25, 0.0
        if pv + pc > tp:  # volume and helix exceed the total: no surface, no double bounce
            out[0, k] = 0.0
            out[1, k] = 0.0
            out[2, k] = max(tp - pc, 0.0)
            out[3, k] = min(pc, tp)
            continue
        s = d1 - v11 * pv
        d = d2 - v22 * pv - 0.5 * pc
        cr = np.float64(t12r[k]) - v12 * pv
        ci = np.float64(t12i[k])
        cc = cr * cr + ci * ci
        c0 = d1 - d2 - d3 + pc  # 2 Re<S_HH S_VV*> with volume and helix removed
        if c0 > 0.0:  # surface dominant
            if s > 0.0:
                ps = s + cc / s
                pd = d - cc / s
            else:
                ps = -1.0
                pd = d
        else:  # double bounce dominant
            if d > 0.0:
                pd = d + cc / d
                ps = s - cc / d
            else:
                pd = -1.0
                ps = s
        rest = tp - pv - pc
        if ps < 0.0 and pd < 0.0:  # Yamaguchi et al. 2005, Fig. 3: all to volume
            ps = 0.0
            pd = 0.0
            pv = tp - pc
        elif ps < 0.0:
            ps = 0.0
            pd = rest
        elif pd < 0.0:
            pd = 0.0
            ps = rest
        out[0, k] = ps
        out[1, k] = pd
        out[2, k] = pv
        out[3, k] = pc


def yamaguchi4(
    t11: np.ndarray,
    t22: np.ndarray,
    t33: np.ndarray,
    t12: np.ndarray,
    t23: np.ndarray,
    c11: np.ndarray,
    c33: np.ndarray,
) -> np.ndarray:
    """Yamaguchi four-component powers (surface, double bounce, volume, helix), element-wise.

    The original decomposition with reflection symmetry not assumed (Yamaguchi et al.
    2005, "Y4O"), written on T3: helix ``Pc = 2 |Im T23|``; the volume model is chosen by
    ``10 log10(<|S_VV|^2> / <|S_HH|^2>)`` (<= -2 dB, within 2 dB, >= 2 dB: the
    HH-dominant, uniform and VV-dominant dipole clouds), ``Pv = 15/2 (<|S_HV|^2> - Pc/4)``
    for the asymmetric models and ``8 (<|S_HV|^2> - Pc/4)`` for the uniform one. With
    ``S``, ``D``, ``C`` the remaining T11, T22, T12, the branch is chosen by the sign of
    ``C0 = T11 - T22 - T33 + Pc`` (twice the remaining ``Re<S_HH S_VV*>``):
    ``C0 > 0`` -> ``Ps = S + |C|^2/S``, ``Pd = D - |C|^2/S``; else ``Pd = D + |C|^2/D``,
    ``Ps = S - |C|^2/D``.

    Negative-power rules (Yamaguchi et al. 2005, Fig. 3): ``Pv + Pc > span`` -> ``Ps =
    Pd = 0``, ``Pv = span - Pc``; one of Ps, Pd negative -> it is 0 and the other takes
    ``span - Pv - Pc``; both negative -> ``Pv = span - Pc``. A helix power above what the
    cross-pol power allows (``Pc > 2 T33``, which would make Pv negative) is limited to
    ``2 T33`` (sarbd's rule; then ``Pv = 0``). ``Ps + Pd + Pv + Pc = span`` always.

    Returns
    -------
    ``(4, *shape)`` float32: Ps, Pd, Pv, Pc (power, linear). NaN where T3 is not finite.

    References
    ----------
    Yamaguchi, Y., Moriyama, T., Ishido, M. & Yamada, H. (2005), Four-component
    scattering model for polarimetric SAR image decomposition, IEEE TGRS 43(8):1699-1706.
    """
    shape = np.shape(t11)
    t12, t23 = np.asarray(t12), np.asarray(t23)
    out = np.empty((4, int(np.prod(shape))), dtype=np.float32)
    if out.shape[1]:
        _yamaguchi_flat(
            _flat(t11),
            _flat(t22),
            _flat(t33),
            _flat(t12.real),
            _flat(t12.imag),
            _flat(t23.imag),
            _flat(c11),
            _flat(c33),
            out,
        )
    return out.reshape((4, *shape))


#: Row order of :func:`compact_descriptors`' output.
COMPACT_DESCRIPTORS = (
    "degree_of_polarization",
    "relative_phase",
    "mchi_surface",
    "mchi_double_bounce",
    "mchi_volume",
    "mdelta_surface",
    "mdelta_double_bounce",
    "mdelta_volume",
    "cprvi",
)


@numba.njit(parallel=True, cache=True, fastmath=_FM)
def _compact_flat(s0a, s1a, s2a, s3a, out):  # type: ignore[no-untyped-def]
    n = s0a.shape[0]
    for k in numba.prange(n):
        s0 = np.float64(s0a[k])
        s1 = np.float64(s1a[k])
        s2 = np.float64(s2a[k])
        s3 = np.float64(s3a[k])
        if not (math.isfinite(s0 + s1 + s2 + s3) and s0 > 0.0):
            for r in range(9):
                out[r, k] = np.nan
            continue
        pol = math.sqrt(s1 * s1 + s2 * s2 + s3 * s3)
        m = min(pol / s0, 1.0)
        delta = math.degrees(math.atan2(s3, s2))
        # sin(2 chi) = -S3 / (m S0); +1 for odd bounce with the CTLR convention of the module
        sin2chi = min(max(-s3 / pol, -1.0), 1.0) if pol > 0.0 else 0.0
        sind = s3 / math.sqrt(s2 * s2 + s3 * s3) if s2 * s2 + s3 * s3 > 0.0 else 0.0
        out[0, k] = m
        out[1, k] = delta
        out[2, k] = 0.5 * m * s0 * (1.0 + sin2chi)
        out[3, k] = 0.5 * m * s0 * (1.0 - sin2chi)
        out[4, k] = s0 * (1.0 - m)
        out[5, k] = 0.5 * m * s0 * (1.0 - sind)
        out[6, k] = 0.5 * m * s0 * (1.0 + sind)
        out[7, k] = s0 * (1.0 - m)
        # CpRVI (Mandal et al. 2020): geodesic distance of the Kennaugh matrix to the
        # depolariser, GD = (2/pi) arccos(S0 / sqrt(S0^2 + 2 S1^2 + 2 S2^2 + S3^2))
        gd = (
            2.0
            / math.pi
            * math.acos(min(s0 / math.sqrt(s0 * s0 + 2.0 * s1 * s1 + 2.0 * s2 * s2 + s3 * s3), 1.0))
        )
        ell = 1.5 * gd
        sc = 0.5 * (s0 - s3)
        oc = 0.5 * (s0 + s3)
        hi = max(sc, oc)
        ratio = min(max(min(sc, oc) / hi, 0.0), 1.0) if hi > 0.0 else 0.0
        out[8, k] = (1.0 - ell) * ratio ** (2.0 * ell)


def compact_descriptors(
    s0: np.ndarray, s1: np.ndarray, s2: np.ndarray, s3: np.ndarray
) -> np.ndarray:
    """Compact-pol (CTLR) descriptors from the window-averaged Stokes vector, element-wise.

    Stokes vector of the received field ``(E_RH, E_RV)`` (Raney 2007):
    ``S0 = <|E_RH|^2 + |E_RV|^2>``, ``S1 = <|E_RH|^2 - |E_RV|^2>``,
    ``S2 = 2 Re<E_RH E_RV*>``, ``S3 = -2 Im<E_RH E_RV*>``.

    Rows (:data:`COMPACT_DESCRIPTORS`): degree of polarisation
    ``m = sqrt(S1^2 + S2^2 + S3^2) / S0``; relative phase ``delta = atan2(S3, S2)``
    (degrees, -90 for odd bounce); m-chi powers ``m S0 (1 + sin 2chi)/2`` (surface,
    odd bounce), ``m S0 (1 - sin 2chi)/2`` (double bounce), ``S0 (1 - m)`` (volume) with
    ``sin 2chi = -S3 / (m S0)``; m-delta powers ``m S0 (1 -+ sin delta)/2`` and
    ``S0 (1 - m)``; and CpRVI ``(1 - l) (min(SC, OC)/max(SC, OC))^(2 l)`` with
    ``SC = (S0 - S3)/2``, ``OC = (S0 + S3)/2``, ``l = 3/2 GD``, ``GD`` the geodesic
    distance of the Kennaugh matrix to the ideal depolariser. NaN where S0 <= 0.

    References
    ----------
    Raney, R. K. (2007), Hybrid-polarity SAR architecture, IEEE TGRS 45(11):3397-3404.
    Raney, R. K., Cahill, J. T. S., Patterson, G. W. & Bussey, D. B. J. (2012), The
    m-chi decomposition of hybrid dual-polarimetric radar data with application to lunar
    craters, J. Geophys. Res. 117:E00H21.
    Charbonneau, F. J. et al. (2010), Compact polarimetry overview and applications
    assessment, Can. J. Remote Sens. 36(S2):S298-S315.
    Mandal, D. et al. (2020), A radar vegetation index for crop monitoring using compact
    polarimetric SAR data, IEEE TGRS 58(9):6321-6335.
    """
    shape = np.shape(s0)
    out = np.empty((9, int(np.prod(shape))), dtype=np.float32)
    if out.shape[1]:
        _compact_flat(_flat(s0), _flat(s1), _flat(s2), _flat(s3), out)
    return out.reshape((9, *shape))
