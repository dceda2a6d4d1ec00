"""The dual-pol catalogue of an SLC pair in one compiled pass per block.

For a pair ``(s1, s2)`` of an SLC stack (calibration factors ``k = 1/A^2``, thermal
noise power ``eta``), one Numba kernel forms, per date and without any intermediate
array:

* per sample: the amplitudes ``|s_i|``, the calibrated noise-corrected backscatter
  ``b_i = (|s_i|^2 - eta_i) k_i`` (negative rule) and their sum, difference and ratio;
* per window: the NaN-aware boxcar means of ``C2 = <k k^H>`` (``C11``, ``C22``,
  ``C12``, noise subtracted from the diagonal) with separable float64 window sums (each
  line's horizontal sums formed once, the vertical sums per output line with its
  window's lines added in ascending order, so that the bits do not depend on how the
  image is cut into blocks), and from them the span, the correlation
  magnitude ``|C12| / sqrt(C11 C22)``, the cross product ``|C12|`` and the eigen-
  descriptors (entropy, anisotropy, alpha, degree of polarisation, DpRVI, H-alpha zone).

Each output is the same float32 formula as the signature's step-by-step path
(:mod:`sarbd.signatures.multi_pol`, :mod:`sarbd.signatures.single_pol`): the
element-wise scalars of :mod:`sarbd.signatures.kernels` and its closed-form 2 x 2
eigen-analysis are called, not re-written; only the window sums are summed in a
different order (float64 separable sums), so results agree to float32 rounding.
:func:`sarbd.signatures.compute` uses it for every signature of :data:`FUSED` it is
asked for (``fused=False`` gives the step-by-step path).

References
----------
Lee, J.-S. & Pottier, E. (2009), Polarimetric Radar Imaging, CRC Press, ch. 4 (sample
covariance); Cloude, S. R. (2007), The dual polarisation entropy/alpha decomposition,
Proc. PolInSAR 2007, ESA SP-644; ESA-EOPG-CSCOP-TN-0002 (calibration, noise removal).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import dask.array as da
import numba
import numpy as np
from dask.array.overlap import ensure_minimum_chunksize
from dask.base import tokenize

from sarbd.signatures.kernels import (
    _FASTMATH,
    _descriptors_one,
    amplitude_scalar,
    correlation_scalar,
    entropy_scalar,
    finite_scalar,
    hypot_scalar,
    noise_corrected_scalar,
    ratio_scalar,
)

__all__ = [
    "FUSED",
    "ROWS",
    "dualpol_fused",
    "dualpol_into",
    "fused_block",
    "fused_input_names",
    "fused_rows",
]

#: Output rows of :func:`dualpol_fused`, by name (amplitude/backscatter of the pair's
#: first and second channel, C2 elements and what derives from them).
ROWS = (
    "amplitude_1",
    "amplitude_2",
    "intensity_sum",
    "intensity_difference",
    "intensity_ratio",
    "c2_11",
    "c2_22",
    "c2_12_real",
    "c2_12_imag",
    "span",
    "pol_correlation",
    "cross_product",
    "lambda1",
    "lambda2",
    "entropy",
    "anisotropy",
    "alpha",
    "degree_of_polarization",
    "dprvi",
    "halpha_zone",
)
_CODE = {name: i for i, name in enumerate(ROWS)}
_DESC0 = _CODE["lambda1"]  # rows from here on are _descriptors_one's outputs, in its order
_POINTWISE = (
    "amplitude_1",
    "amplitude_2",
    "intensity_sum",
    "intensity_difference",
    "intensity_ratio",
)

#: Registered signatures (base names) the fused pass computes, and the module whose
#: compute function it replaces (a plug-in that re-registers the name is not fused).
FUSED = {
    "amplitude": "sarbd.signatures.single_pol",
    **{n: "sarbd.signatures.multi_pol" for n in ROWS if not n.startswith(("amplitude", "lambda"))},
}
#: Signatures whose per-sample backscatter a speckle filter would change (not fused then).
_BACKSCATTER = ("intensity_sum", "intensity_difference", "intensity_ratio")
_INF = np.float32(np.inf)


@numba.njit(cache=True, inline="always")
def _line_values(r1, r2, g1, g2, e1, e2, c2_noise, zero_nodata, v):  # type: ignore[no-untyped-def]
    """Per-sample terms of one line into ``v`` (nq, npx): see :func:`_line_sums`."""
    npx = r1.shape[0]
    for j in range(npx):
        a1 = _sample(r1[j], zero_nodata)
        a2 = _sample(r2[j], zero_nodata)
        f1 = g1[j]
        f2 = g2[j]
        p1 = np.float32(a1.real * a1.real + a1.imag * a1.imag) * f1
        p2 = np.float32(a2.real * a2.real + a2.imag * a2.imag) * f2
        g = np.float32(math.sqrt(f1 * f2))
        x = a1 * np.conj(a2)
        cr = x.real * g
        ci = x.imag * g
        # |x| < inf: finite (one comparison, vectorisable; false for NaN)
        ok1 = abs(p1) < _INF
        ok2 = abs(p2) < _INF
        okc = (abs(cr) < _INF) & (abs(ci) < _INF)
        v[0, j] = p1 if ok1 else 0.0
        v[6, j] = 1.0 if ok1 else 0.0
        v[2, j] = p2 if ok2 else 0.0
        v[8, j] = 1.0 if ok2 else 0.0
        v[4, j] = cr if okc else 0.0
        v[5, j] = ci if okc else 0.0
        v[10, j] = 1.0 if okc else 0.0
        if c2_noise:
            q1 = e1[j] * f1
            q2 = e2[j] * f2
            okq1 = abs(q1) < _INF
            okq2 = abs(q2) < _INF
            v[1, j] = q1 if okq1 else 0.0
            v[7, j] = 1.0 if okq1 else 0.0
            v[3, j] = q2 if okq2 else 0.0
            v[9, j] = 1.0 if okq2 else 0.0
        else:
            v[1, j] = 0.0
            v[7, j] = 1.0
            v[3, j] = 0.0
            v[9, j] = 1.0


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def _line_sums(s1, s2, k1, k2, n1, n2, off, c2_noise, zero_nodata, t, i, hp0, hp1, p0, v, dst):  # type: ignore[no-untyped-def]
    """Window sums along kernel line ``i`` of date ``t`` into ``dst`` (nq, op); ``v`` is scratch (nq, npx).

    Kernel line ``i`` is line ``i + off[k]`` of input ``k`` (s1, s2, k1, k2, n1, n2);
    output pixel ``jo`` is input pixel ``p0 + jo``; pixels outside the input count as
    missing. Quantities: 0 P1, 1 N1, 2 P2, 3 N2, 4 Re C12, 5 Im C12, then the counts of
    finite samples 6..10 (P1, N1, P2, N2, C12); invalid samples enter as 0. The products
    and the order of the additions are those of :func:`sarbd.signatures.kernels.c2_fused`
    (same float32/float64 results), the sums vectorised over the line.
    """
    npx = s1.shape[2]
    op = dst.shape[1]
    r1 = s1[t, i + off[0]]
    r2 = s2[t, i + off[1]]
    g1 = k1[t, i + off[2]]
    g2 = k2[t, i + off[3]]
    e1 = n1[t, i + off[4]]
    e2 = n2[t, i + off[5]]
    # the flags as constants in each call: LLVM then drops their branches and vectorises
    if zero_nodata:
        if c2_noise:
            _line_values(r1, r2, g1, g2, e1, e2, True, True, v)
        else:
            _line_values(r1, r2, g1, g2, e1, e2, False, True, v)
    elif c2_noise:
        _line_values(r1, r2, g1, g2, e1, e2, True, False, v)
    else:
        _line_values(r1, r2, g1, g2, e1, e2, False, False, v)
    # output pixels [jlo, jhi) have their whole window inside the line: there the window's
    # samples are added in one pass, in ascending order (the order of c2_fused: sums
    # start at +0.0, 0.0 + x == x with nsz); the few edge pixels take the general loop
    jlo = min(op, max(0, hp0 - p0))
    jhi = max(jlo, min(op, npx - p0 - hp1))
    nq = v.shape[0]
    if hp0 == 1 and hp1 == 1:
        for q in range(nq):
            # zero-based slices: no wraparound checks, so the loop vectorises
            va = v[q, p0 + jlo - 1 : p0 + jhi - 1]
            vb = v[q, p0 + jlo : p0 + jhi]
            vc = v[q, p0 + jlo + 1 : p0 + jhi + 1]
            dq = dst[q, jlo:jhi]
            for x in range(jhi - jlo):
                dq[x] = (va[x] + vb[x]) + vc[x]
    elif hp0 == 2 and hp1 == 2:
        for q in range(nq):
            va = v[q, p0 + jlo - 2 : p0 + jhi - 2]
            vb = v[q, p0 + jlo - 1 : p0 + jhi - 1]
            vc = v[q, p0 + jlo : p0 + jhi]
            vd = v[q, p0 + jlo + 1 : p0 + jhi + 1]
            ve = v[q, p0 + jlo + 2 : p0 + jhi + 2]
            dq = dst[q, jlo:jhi]
            for x in range(jhi - jlo):
                dq[x] = (((va[x] + vb[x]) + vc[x]) + vd[x]) + ve[x]
    else:
        _window_add(v, dst, hp0, hp1, p0, jlo, jhi, npx)
    _window_add(v, dst, hp0, hp1, p0, 0, jlo, npx)
    _window_add(v, dst, hp0, hp1, p0, jhi, op, npx)


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def _window_add(v, dst, hp0, hp1, p0, j0, j1, npx):  # type: ignore[no-untyped-def]
    """Window sums of output pixels ``[j0, j1)`` of ``dst`` from the line values ``v``:
    offsets ascending from +0.0, pixels outside ``[0, npx)`` left out."""
    if j1 <= j0:
        return
    dst[:, j0:j1] = 0.0
    for b in range(-hp0, hp1 + 1):  # ascending offsets: the addition order of c2_fused
        lo = max(j0, -(p0 + b))
        hi = min(j1, npx - p0 - b)
        if hi <= lo:
            continue
        for q in range(v.shape[0]):
            # zero-based slices: no wraparound checks, so the loop vectorises
            vq = v[q, lo + p0 + b : hi + p0 + b]
            dq = dst[q, lo:hi]
            for x in range(hi - lo):
                dq[x] += vq[x]


@numba.njit(cache=True, error_model="numpy")
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


@numba.njit(parallel=True, cache=True, nogil=True)
def _dualpol(
    s1,
    s2,
    k1,
    k2,
    n1,
    n2,
    off,
    nl,
    has_n1,
    has_n2,
    zero_nodata,
    hl,
    hp,
    lines,
    pixels,
    neg_nan,
    floor,  # type: ignore[no-untyped-def]
    rows,
    out,
    out0,
    block,
):
    # Kernel lines 0..nl-1 (line i is line i + off[k] of input k, all (T, *, P)); the output
    # lines [lines[0], lines[1]) and pixels [pixels[0], pixels[1]) go to out (R, T, *, *) from
    # line out0 on. One task per (date, block of `block` output lines), spread over the Numba
    # threads: every thread busy whatever the number of dates.
    nt = s1.shape[0]
    nb = (lines[1] - lines[0] + block - 1) // block
    for task in numba.prange(nt * nb):
        t = task // nb
        i0 = lines[0] + (task % nb) * block
        i1 = min(i0 + block, lines[1])
        _dualpol_range(
            s1,
            s2,
            k1,
            k2,
            n1,
            n2,
            off,
            nl,
            has_n1,
            has_n2,
            zero_nodata,
            hl,
            hp,
            t,
            i0,
            i1,
            pixels[0],
            neg_nan,
            floor,
            rows,
            out,
            out0 + i0 - lines[0],
        )


@numba.njit(cache=True, nogil=True, error_model="numpy")  # no fastmath: the ufuncs' rounding
def _dualpol_range(
    s1,
    s2,
    k1,
    k2,
    n1,
    n2,
    off,
    nl,
    has_n1,
    has_n2,
    zero_nodata,
    hl,
    hp,
    t,
    i0,
    i1,
    p0,
    neg_nan,
    floor,  # type: ignore[no-untyped-def]
    rows,
    out,
    o0,
):
    # date t, output lines i0..i1-1 (kernel lines) into out[:, t, o0...], pixels from p0 on.
    # The window reaches hl[0] lines before and hl[1] after (hp: pixels); its line sums
    # sit in a ring buffer (each computed once) and the vertical sums are formed afresh
    # for every output line, its window's lines added in ascending order: the same float64
    # additions whatever block, band or Dask chunk the line falls in, so that every
    # blocking (tasks, bands, column tiles, a cluster's chunks) gives identical bits.
    # (A running sum, a line added and the leaving one subtracted, saves wl - 2 additions
    # but its rounding depends on where the block started.)
    npx = s1.shape[2]
    op = out.shape[3]
    nr = rows.shape[0]
    need_c2 = False
    need_bs = False
    need_desc = False  # a descriptor other than the entropy (the entropy has its own loop)
    need_h = False
    need_alpha = False
    for r in range(nr):
        code = rows[r]
        need_c2 = need_c2 or code >= 5
        need_bs = need_bs or 2 <= code <= 4
        need_desc = need_desc or (code >= 12 and code != 14)
        need_h = need_h or code == 14 or code == 19
        need_alpha = need_alpha or code == 16 or code == 19
    c2_noise = has_n1 and has_n2
    nq = 11
    wl = hl[0] + hl[1] + 1
    nan = np.float32(np.nan)
    v = np.zeros((nq, npx))
    ring = np.zeros((wl, nq * op))
    m = np.zeros(nq * op)
    lc = np.empty((4, op), np.float32)  # c11, c22, Re c12, Im c12 of the output line
    lb = np.empty((2, op), np.float32)  # backscatter b1, b2
    ld = np.empty((8, op), np.float32)  # eigen-descriptors
    added = max(0, i0 - hl[0])
    for i in range(i0, i1):
        if need_c2:
            lo = max(0, i - hl[0])
            hi = min(nl - 1, i + hl[1])
            while added <= hi:
                slot = ring[added % wl]
                _line_sums(
                    s1,
                    s2,
                    k1,
                    k2,
                    n1,
                    n2,
                    off,
                    c2_noise,
                    zero_nodata,
                    t,
                    added,
                    hp[0],
                    hp[1],
                    p0,
                    v,
                    slot.reshape((nq, op)),
                )
                added += 1
            # lines outside the kernel's range are absent, as NaN padding (all-zero line
            # sums) leaves the sums: 0.0 + x == x exactly (x is never -0.0: sums start at +0.0)
            first = ring[lo % wl]
            if hi - lo == 2:  # a whole 3-line window: one pass, the same order
                ra = ring[(lo + 1) % wl]
                rb = ring[(lo + 2) % wl]
                for x in range(nq * op):
                    m[x] = (first[x] + ra[x]) + rb[x]
            else:
                for x in range(nq * op):
                    m[x] = first[x]
                for ln in range(lo + 1, hi + 1):
                    slot = ring[ln % wl]
                    for x in range(nq * op):
                        m[x] += slot[x]
        io = o0 + i - i0
        # the output pixels of the line's samples (zero-based indices: loops vectorise)
        r1 = s1[t, i + off[0], p0 : p0 + op]
        r2 = s2[t, i + off[1], p0 : p0 + op]
        # the line's shared intermediates, then one tight loop per output row
        if need_c2:
            mq = m.reshape((nq, op))
            for jo in range(op):
                lc[0, jo] = _diag(
                    mq[0, jo], mq[6, jo], mq[1, jo], mq[7, jo], c2_noise, neg_nan, floor
                )
                lc[1, jo] = _diag(
                    mq[2, jo], mq[8, jo], mq[3, jo], mq[9, jo], c2_noise, neg_nan, floor
                )
                c = mq[10, jo]
                lc[2, jo] = np.float32(mq[4, jo] / c) if c >= 0.5 else nan
                lc[3, jo] = np.float32(mq[5, jo] / c) if c >= 0.5 else nan
        if need_bs:
            g1 = k1[t, i + off[2], p0 : p0 + op]
            g2 = k2[t, i + off[3], p0 : p0 + op]
            e1 = n1[t, i + off[4], p0 : p0 + op]
            e2 = n2[t, i + off[5], p0 : p0 + op]
            for jo in range(op):
                lb[0, jo] = noise_corrected_scalar(
                    _sample(r1[jo], zero_nodata), g1[jo], e1[jo], has_n1, neg_nan, floor
                )
                lb[1, jo] = noise_corrected_scalar(
                    _sample(r2[jo], zero_nodata), g2[jo], e2[jo], has_n2, neg_nan, floor
                )
        if need_desc:
            for jo in range(op):
                d = _descriptors_one(
                    np.float64(lc[0, jo]),
                    np.float64(lc[1, jo]),
                    np.float64(lc[2, jo]),
                    np.float64(lc[3, jo]),
                    need_h,
                    need_alpha,
                )
                for q in range(8):
                    ld[q, jo] = d[q]
        elif need_h:  # the entropy alone: a branch-free loop that vectorises
            for jo in range(op):
                ld[2, jo] = entropy_scalar(
                    np.float64(lc[0, jo]),
                    np.float64(lc[1, jo]),
                    np.float64(lc[2, jo]),
                    np.float64(lc[3, jo]),
                )
        for r in range(nr):
            code = rows[r]
            o = out[r, t, io]
            if code == 0 or code == 1:
                s = r1 if code == 0 else r2
                for jo in range(op):
                    o[jo] = finite_scalar(amplitude_scalar(_sample(s[jo], zero_nodata)))
            elif code == 2:
                for jo in range(op):
                    o[jo] = finite_scalar(np.float32(lb[0, jo] + lb[1, jo]))
            elif code == 3:
                for jo in range(op):
                    o[jo] = finite_scalar(np.float32(lb[0, jo] - lb[1, jo]))
            elif code == 4:
                for jo in range(op):
                    o[jo] = ratio_scalar(lb[0, jo], lb[1, jo])
            elif code <= 8:
                for jo in range(op):
                    o[jo] = finite_scalar(lc[code - 5, jo])
            elif code == 9:
                for jo in range(op):
                    o[jo] = finite_scalar(np.float32(lc[0, jo] + lc[1, jo]))
            elif code == 10:
                for jo in range(op):
                    o[jo] = correlation_scalar(lc[0, jo], lc[1, jo], lc[2, jo], lc[3, jo])
            elif code == 11:
                for jo in range(op):
                    o[jo] = finite_scalar(hypot_scalar(lc[2, jo], lc[3, jo]))
            else:
                for jo in range(op):
                    o[jo] = finite_scalar(ld[code - 12, jo])


@numba.njit(cache=True)
def _sample(a, zero_nodata):  # type: ignore[no-untyped-def]
    """An SLC sample, NaN if it is exactly 0 + 0j and zeros are no data."""
    if zero_nodata and a.real == 0 and a.imag == 0:
        return np.complex64(complex(np.nan, np.nan))
    return a


def dualpol_fused(
    s1: np.ndarray,
    s2: np.ndarray,
    k1: np.ndarray,
    k2: np.ndarray,
    n1: np.ndarray | None,
    n2: np.ndarray | None,
    window: tuple[int, int],
    border: tuple[int, int],
    rows: Sequence[str],
    *,
    negative: str = "nan",
    floor: float = 1e-5,
    zero_is_nodata: bool = False,
) -> np.ndarray:
    """Signatures of a dual-pol SLC pair in one pass (module docstring).

    Parameters
    ----------
    s1, s2
        SLCs (complex64, DN), ``(time, line, pixel)``, padded by ``border`` (NaN outside
        the image).
    k1, k2
        Calibration factors 1/A^2 of the backscatter kind (float32), same shape.
    n1, n2
        Thermal noise power eta (DN^2, float32) of each channel, or None (no noise
        removal for that channel; the C2 diagonal is noise-corrected only when both are given).
    window
        (lines, pixels) of the boxcar (reach ``w // 2`` before, ``(w - 1) // 2`` after).
    border
        (lines, pixels) of padding on each side, dropped from the output.
    rows
        Names of :data:`ROWS` to compute, in output order.
    negative, floor
        Rule for negative noise-corrected power: ``"nan"``, or ``"floor"``.
    zero_is_nodata
        SLC samples exactly 0 + 0j are no data.

    Returns
    -------
    float32 array ``(len(rows), time, line, pixel)``; linear power for the backscatter
    and C2 rows, degrees for alpha; NaN where undefined, never inf.
    """
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    c64 = lambda a: np.ascontiguousarray(a, dtype=np.complex64)  # noqa: E731
    s1, s2, k1, k2 = c64(s1), c64(s2), f32(k1), f32(k2)
    n1 = f32(n1) if n1 is not None else None
    n2 = f32(n2) if n2 is not None else None
    bl, bp = int(border[0]), int(border[1])
    nt, nl, npx = s1.shape
    out = np.empty((len(rows), nt, nl - 2 * bl, npx - 2 * bp), dtype=np.float32)
    dualpol_into(
        (s1, s2, k1, k2, n1, n2),
        out,
        window,
        rows,
        lines=(bl, nl - bl),
        pixels=(bp, npx - bp),
        negative=negative,
        floor=floor,
        zero_is_nodata=zero_is_nodata,
    )
    return out


def dualpol_into(
    arrays: Sequence[np.ndarray | None],
    out: np.ndarray,
    window: tuple[int, int],
    rows: Sequence[str],
    *,
    lines: tuple[int, int],
    pixels: tuple[int, int] | None = None,
    offsets: Sequence[int] | None = None,
    n_lines: int | None = None,
    out_line: int = 0,
    negative: str = "nan",
    floor: float = 1e-5,
    zero_is_nodata: bool = False,
    block: int = 64,
) -> None:
    """:func:`dualpol_fused` into a given array, the inputs read in place (no padded copies).

    Parameters
    ----------
    arrays
        ``(s1, s2, k1, k2, n1, n2)`` as for :func:`dualpol_fused`, C-contiguous complex64
        / float32 ``(time, *, pixel)``, ``n1``/``n2`` None without noise removal.
    out
        float32 ``(len(rows), time, *, pixels[1] - pixels[0])``, C-contiguous.
    window, rows, negative, floor, zero_is_nodata
        As for :func:`dualpol_fused`.
    lines
        Output lines ``[lines[0], lines[1])`` of the kernel's line range ``[0, n_lines)``;
        the window sees only lines in that range (outside it, as outside the pixels, no
        sample: what NaN padding gives).
    pixels
        Output pixels ``[pixels[0], pixels[1])`` of the inputs (default all).
    offsets
        Kernel line ``i`` is line ``i + offsets[k]`` of ``arrays[k]`` (default 0): each
        input may be a buffer holding more lines than the kernel sees.
    n_lines
        Kernel lines (default: the lines of ``s1`` after its offset).
    out_line
        Line of ``out`` receiving output line ``lines[0]``.
    block
        Output lines per task; tasks (date, block) are spread over the Numba threads.
    """
    unknown = [r for r in rows if r not in _CODE]
    if unknown:
        raise ValueError(f"unknown fused rows {unknown}; known: {', '.join(ROWS)}")
    s1, s2, k1, k2, e1, e2 = arrays
    if s1 is None or s2 is None or k1 is None or k2 is None:
        raise ValueError("fused inputs: the SLCs and calibration factors are required")
    has1, has2 = e1 is not None, e2 is not None
    n1 = e1 if e1 is not None else k1
    n2 = e2 if e2 is not None else k2
    for a, dt in zip(
        (s1, s2, k1, k2, n1, n2), (np.complex64,) * 2 + (np.float32,) * 4, strict=True
    ):
        if a.dtype != dt or not a.flags.c_contiguous or a.ndim != 3:
            raise ValueError(f"fused inputs must be C-contiguous 3-D {np.dtype(dt)} arrays")
    if out.dtype != np.float32 or not out.flags.c_contiguous or out.ndim != 4:
        raise ValueError("fused output must be a C-contiguous 4-D float32 array")
    off = np.zeros(6, np.int64) if offsets is None else np.asarray(offsets, dtype=np.int64)
    npx = s1.shape[2]
    pix = (0, npx) if pixels is None else (int(pixels[0]), int(pixels[1]))
    nl = s1.shape[1] - int(off[0]) if n_lines is None else int(n_lines)
    if out.shape[3] != pix[1] - pix[0] or out.shape[0] != len(rows):
        raise ValueError(f"fused output of shape {out.shape} for {len(rows)} rows, {pix} pixels")
    if lines[1] <= lines[0] or pix[1] <= pix[0] or s1.shape[0] == 0:
        return
    hl = np.array([window[0] // 2, (window[0] - 1) // 2], dtype=np.int64)
    hp = np.array([window[1] // 2, (window[1] - 1) // 2], dtype=np.int64)
    codes = np.array([_CODE[r] for r in rows], dtype=np.int64)
    _dualpol(
        s1,
        s2,
        k1,
        k2,
        n1,
        n2,
        off,
        nl,
        has1,
        has2,
        bool(zero_is_nodata),
        hl,
        hp,
        np.array(lines, dtype=np.int64),
        np.array(pix, dtype=np.int64),
        negative == "nan",
        np.float32(floor),
        codes,
        out,
        int(out_line),
        max(1, int(block)),
    )


def fused_rows(
    inputs: Any, todo: Sequence[tuple[Any, Any, str]]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Which planned signatures the fused pass computes: ``{pair: [(variable, row), ...]}``.

    ``inputs`` is a :class:`sarbd.signatures.inputs.StackInputs`, ``todo`` the output of
    :func:`sarbd.signatures.compute.plan`. A pair qualifies when the stack has its SLCs
    and calibration (``c2``); the backscatter rows also need no speckle filter. A
    per-polarisation amplitude goes with the first qualifying pair holding that
    polarisation, and only when that pair computes something else too.
    """
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    pending_amp: list[tuple[str, str]] = []
    for sig, key, var in todo:
        if FUSED.get(sig.name) != getattr(sig.compute, "__module__", None):
            continue
        if sig.name == "amplitude":
            pending_amp.append((key, var))
            continue
        pair = tuple(key)
        if len(pair) != 2 or not inputs.available("c2", pair):
            continue
        if sig.name in _BACKSCATTER and inputs.speckle_filter is not None:
            continue
        groups.setdefault(pair, []).append((var, sig.name))
    for pol, var in pending_amp:
        for pair, items in groups.items():
            if pol in pair:
                items.append((var, "amplitude_1" if pol == pair[0] else "amplitude_2"))
                break
    return groups


def fused_input_names(inputs: Any, pair: tuple[str, str]) -> tuple[list[str], bool, bool]:
    """Stack variables the fused pass of ``pair`` reads, and whether each channel has noise.

    Names: the two SLCs, their calibration factors of the backscatter kind, then
    ``noise_<pol>`` of each channel with noise removal, in channel order.
    """
    kind = inputs.backscatter_kind
    has1, has2 = (inputs.noise_power(p, kind) is not None for p in pair)
    names = [f"slc_{pair[0]}", f"slc_{pair[1]}", f"cal_{kind}_{pair[0]}", f"cal_{kind}_{pair[1]}"]
    names += [f"noise_{p}" for p, has in zip(pair, (has1, has2), strict=True) if has]
    return names, has1, has2


def fused_block(inputs: Any, pair: tuple[str, str], rows: Sequence[str]) -> da.Array:
    """Dask array ``(len(rows), time, line, pixel)`` of :func:`dualpol_fused` for a pair.

    One task per chunk of the configured chunks: the SLCs, calibration and noise are
    read once, with a halo of the window's reach, and every row comes out of the same
    kernel call (one Numba thread per task: Dask already runs one task per core).
    """
    from sarbd.signatures.kernels import serial

    names, has1, has2 = fused_input_names(inputs, pair)
    arrays = [inputs.var(n) for n in names]
    arrays = [
        a.astype(np.complex64) if i < 2 else a.astype(np.float32) for i, a in enumerate(arrays)
    ]
    w = inputs.window
    dl, dp = w[0] // 2, w[1] // 2
    ref = arrays[0]
    chunks = (
        ref.chunks[0],
        ensure_minimum_chunksize(max(dl, 1), ref.chunks[1]),
        ensure_minimum_chunksize(max(dp, 1), ref.chunks[2]),
    )
    padded = [
        da.overlap.overlap(
            a.rechunk(chunks),
            depth={0: 0, 1: dl, 2: dp},
            boundary={0: "none", 1: np.nan, 2: np.nan},
        )
        if (dl or dp)
        else a.rechunk(chunks)
        for a in arrays
    ]
    rows = tuple(rows)
    neg, floor, zero = inputs.negative, inputs.floor, inputs.zero_is_nodata

    def block(*b: np.ndarray) -> np.ndarray:
        rest = list(b[4:])
        n1 = rest.pop(0) if has1 else None
        n2 = rest.pop(0) if has2 else None
        with np.errstate(all="ignore"):
            return serial(dualpol_fused)(
                b[0],
                b[1],
                b[2],
                b[3],
                n1,
                n2,
                w,
                (dl, dp),
                rows,
                negative=neg,
                floor=floor,
                zero_is_nodata=zero,
            )

    name = f"dualpol-fused-{tokenize(*padded, w, rows, neg, floor, zero)}"
    return da.map_blocks(
        block,
        *padded,
        new_axis=0,
        chunks=((len(rows),), *chunks),
        dtype=np.float32,
        meta=np.empty((0, 0, 0, 0), np.float32),
        name=name,
    )
