"""The point-spread function of a focused SLC and its splatting onto the image grid (Numba).

The impulse response of a processor that keeps a band ``B`` sampled at ``f_s``
and weights it with a generalised Hamming window ``W(f) = a + (1 - a) cos(2 pi f / B)``
(Sentinel-1: ``a = 0.75`` in range, ``0.70`` in azimuth) is, in samples ``x``
and with ``b = B / f_s``,

    h(x) = a sinc(b x) + (1 - a) / 2 [sinc(b x - 1) + sinc(b x + 1)],

(Harris, F. J. (1978), On the use of windows for harmonic analysis with the DFT,
Proc. IEEE 66(1), 51-83; Cumming, I. G. & Wong, F. H. (2005), *Digital Processing of
SAR Data*, sec. 2.6 and 3.3). Because ``b < 1`` the sampled response has the same
energy wherever the target sits between samples (Parseval):
``sum_n h(n - x)^2 = (a^2 + (1 - a)^2 / 2) / b``. The 2-D response is the product of
the range and azimuth responses; each scatterer is splatted with ``2 * HALF_WIDTH``
taps each way, normalised to unit energy, so a scatterer of radar cross-section
``sigma`` puts ``sigma`` (times the DN scaling) into the image. The kernels run in
parallel over bands of output rows, deterministically (:func:`sort_by_line`).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BAND_ROWS",
    "HALF_WIDTH",
    "hamming_sinc",
    "sort_by_line",
    "splat_class",
    "splat_complex",
    "splat_power",
]

#: Taps on each side of a scatterer, in both directions.
HALF_WIDTH = 4


@numba.njit(cache=True, nogil=True)
def _sinc(x: float) -> float:
    if abs(x) < 1e-12:
        return 1.0
    px = math.pi * x
    return math.sin(px) / px


@numba.njit(cache=True, nogil=True)
def hamming_sinc(x: float, b: float, a: float) -> float:
    """Impulse response at ``x`` samples from the target (bandwidth ratio ``b``, window coefficient ``a``)."""
    u = b * x
    return a * _sinc(u) + 0.5 * (1.0 - a) * (_sinc(u - 1.0) + _sinc(u + 1.0))


@numba.njit(cache=True, nogil=True)
def _taps(x: float, b: float, a: float, n: int, out: NDArray[np.float64]) -> int:
    """Unit-energy taps at samples ``first .. first + 2n - 1`` around ``x``; returns ``first``.

    The values of :func:`hamming_sinc` with one sine and one cosine per call instead of three
    sines per tap: ``sin(pi (u -+ 1)) = -sin(pi u)``, and along the taps ``u = b (first + k - x)``
    steps by ``b``, so ``sin(pi u)`` follows the angle-addition recurrence (8 steps: rounding
    ~1e-15, far below the float32 image), except near its zeros (direct sine there).
    """
    first = math.floor(x) - n + 1
    u = b * (first - x)
    th = math.pi * u
    sn = math.sin(th)
    cs = math.cos(th)
    sd = math.sin(math.pi * b)
    cd = math.cos(math.pi * b)
    half = 0.5 * (1.0 - a)
    e = 0.0
    for k in range(2 * n):
        # sinc(u), sinc(u - 1), sinc(u + 1) from sin(pi u); near a zero of the sine (u close
        # to an integer m) it is taken directly, so the small divisions keep full precision
        m = round(u)
        sk = sn
        if abs(u - m) < 0.01:
            sk = math.sin(math.pi * (u - m)) * (1.0 - 2.0 * (abs(m) % 2))
        v0 = 1.0 if abs(u) < 1e-12 else sk / (math.pi * u)
        um = u - 1.0
        vm = 1.0 if abs(um) < 1e-12 else -sk / (math.pi * um)
        up = u + 1.0
        vp = 1.0 if abs(up) < 1e-12 else -sk / (math.pi * up)
        v = a * v0 + half * (vm + vp)
        out[k] = v
        e += v * v
        sn, cs = sn * cd + cs * sd, cs * cd - sn * sd
        u = b * (first + k + 1 - x)
    s = 1.0 / math.sqrt(e)
    for k in range(2 * n):
        out[k] *= s
    return first


#: Output rows per parallel band of the splatting kernels.
BAND_ROWS = 16


def sort_by_line(line: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Stable order of scatterers by line and the sorted lines (input of the splatting kernels).

    The kernels run in parallel over bands of output rows; each band adds the
    scatterers that reach it in this order, so every pixel's sum has the same order
    whatever the number of threads, and the bytes are reproducible.
    """
    order = np.argsort(line, kind="stable")
    return order, np.ascontiguousarray(line[order])


@numba.njit(cache=True, nogil=True)
def _band(sorted_line: NDArray[np.float64], b: int, nl: int) -> tuple[int, int, int, int]:
    n = HALF_WIDTH
    r0 = b * BAND_ROWS
    r1 = min(nl, r0 + BAND_ROWS)
    lo = int(np.searchsorted(sorted_line, r0 - n - 1.0))
    hi = int(np.searchsorted(sorted_line, r1 + n + 0.0))
    return r0, r1, lo, hi


@numba.njit(cache=True, parallel=True)
def splat_complex(
    img: NDArray[np.complex64],
    order: NDArray[np.int64],
    sorted_line: NDArray[np.float64],
    pixel: NDArray[np.float64],
    amp: NDArray[np.complex128],
    b_az: float,
    a_az: float,
    b_rg: float,
    a_rg: float,
) -> None:
    """Add ``amp[k, p] * h(line - line_k) h(pixel - pixel_k)`` to ``img[p]`` for every scatterer ``k``.

    ``img`` is ``(P, L, W)`` (one plane per polarisation), ``amp`` ``(n, P)``;
    ``order, sorted_line`` come from :func:`sort_by_line`. Taps that fall outside the
    image are dropped.
    """
    n = HALF_WIDTH
    npol, nl, nw = img.shape
    nbands = (nl + BAND_ROWS - 1) // BAND_ROWS
    for b in numba.prange(nbands):
        r0, r1, lo, hi = _band(sorted_line, b, nl)
        ta = np.empty(2 * n)
        tr = np.empty(2 * n)
        for idx in range(lo, hi):
            k = order[idx]
            y = sorted_line[idx]
            x = pixel[k]
            if not (x > -n and x < nw + n - 1):
                continue
            fa = _taps(y, b_az, a_az, n, ta)
            fr = _taps(x, b_rg, a_rg, n, tr)
            for i in range(2 * n):
                li = fa + i
                if li < r0 or li >= r1:
                    continue
                for p in range(npol):
                    c = amp[k, p] * ta[i]
                    for j in range(2 * n):
                        pj = fr + j
                        if pj < 0 or pj >= nw:
                            continue
                        img[p, li, pj] += c * tr[j]


@numba.njit(cache=True, parallel=True)
def splat_power(
    acc: NDArray[np.floating],
    order: NDArray[np.int64],
    sorted_line: NDArray[np.float64],
    pixel: NDArray[np.float64],
    weight: NDArray[np.float64],
    b_az: float,
    a_az: float,
    b_rg: float,
    a_rg: float,
) -> None:
    """Add ``weight[k, q] * |h|^2`` to ``acc[q]`` (``(Q, L, W)``): expected powers and cross-powers."""
    n = HALF_WIDTH
    nq, nl, nw = acc.shape
    nbands = (nl + BAND_ROWS - 1) // BAND_ROWS
    for b in numba.prange(nbands):
        r0, r1, lo, hi = _band(sorted_line, b, nl)
        ta = np.empty(2 * n)
        tr = np.empty(2 * n)
        for idx in range(lo, hi):
            k = order[idx]
            y = sorted_line[idx]
            x = pixel[k]
            if not (x > -n and x < nw + n - 1):
                continue
            fa = _taps(y, b_az, a_az, n, ta)
            fr = _taps(x, b_rg, a_rg, n, tr)
            for i in range(2 * n):
                li = fa + i
                if li < r0 or li >= r1:
                    continue
                for j in range(2 * n):
                    pj = fr + j
                    if pj < 0 or pj >= nw:
                        continue
                    h2 = (ta[i] * tr[j]) ** 2
                    for q in range(nq):
                        acc[q, li, pj] += weight[k, q] * h2


@numba.njit(cache=True, parallel=True)
def splat_class(
    acc: NDArray[np.floating],
    order: NDArray[np.int64],
    sorted_line: NDArray[np.float64],
    pixel: NDArray[np.float64],
    index: NDArray[np.int64],
    weight: NDArray[np.float64],
    b_az: float,
    a_az: float,
    b_rg: float,
    a_rg: float,
) -> None:
    """Add ``weight[k, q] * |h|^2`` to ``acc[index[k], q]`` (``acc`` is ``(C, Q, L, W)``): per-class sums."""
    n = HALF_WIDTH
    _, nq, nl, nw = acc.shape
    nbands = (nl + BAND_ROWS - 1) // BAND_ROWS
    for b in numba.prange(nbands):
        r0, r1, lo, hi = _band(sorted_line, b, nl)
        ta = np.empty(2 * n)
        tr = np.empty(2 * n)
        for idx in range(lo, hi):
            k = order[idx]
            y = sorted_line[idx]
            x = pixel[k]
            if not (x > -n and x < nw + n - 1):
                continue
            fa = _taps(y, b_az, a_az, n, ta)
            fr = _taps(x, b_rg, a_rg, n, tr)
            c = index[k]
            for i in range(2 * n):
                li = fa + i
                if li < r0 or li >= r1:
                    continue
                for j in range(2 * n):
                    pj = fr + j
                    if pj < 0 or pj >= nw:
                        continue
                    h2 = (ta[i] * tr[j]) ** 2
                    for q in range(nq):
                        acc[c, q, li, pj] += weight[k, q] * h2
