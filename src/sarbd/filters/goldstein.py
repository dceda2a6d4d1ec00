"""Goldstein-Werner adaptive filter of interferometric phase.

The interferogram is cut into overlapping square blocks (``block`` pixels, shifted
by ``step``); each block's 2-D spectrum Z is weighted by its own smoothed
magnitude, ``Z' = Z * (S{|Z|} / max S{|Z|})**alpha`` (S: 3 x 3 boxcar on the
periodic spectrum), and the inverse transforms are blended with triangular
weights. ``alpha = 0`` leaves the interferogram unchanged; ``alpha = 1`` is the
strongest filtering. Blocks are anchored to the image grid (multiples of ``step``
from the first line/pixel), so the result does not depend on Dask chunking.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter

from sarbd.filters._chunked import apply_spatial

__all__ = ["goldstein"]


def _weights(block: int) -> np.ndarray:
    u = np.arange(block, dtype=np.float64)
    tri = 1.0 - np.abs(u - (block - 1) / 2.0) / (block / 2.0)
    return np.outer(tri, tri)


def _goldstein_2d(
    z: np.ndarray, alpha: float, block: int, step: int, origin: tuple[int, int]
) -> np.ndarray:
    nl, npx = z.shape
    k = block // step
    w = _weights(block)
    q0 = (-origin[0]) % step
    q1 = (-origin[1]) % step
    nbi = (nl - q0 - block) // step + 1
    nbj = (npx - q1 - block) // step + 1
    out = np.zeros((nl, npx), dtype=np.complex128)
    if nbi <= 0 or nbj <= 0:
        return out
    acc = np.zeros((nbi + k - 1, nbj + k - 1, step, step), dtype=np.complex128)
    wacc = np.zeros_like(acc, dtype=np.float64)
    wt = w.reshape(k, step, k, step)
    cols = np.lib.stride_tricks.sliding_window_view(z, (block, block))
    for bi in range(nbi):  # one row of blocks at a time bounds the memory
        r = q0 + bi * step
        blocks = cols[r, q1 : q1 + (nbj - 1) * step + 1 : step]  # (nbj, block, block)
        spec = np.fft.fft2(blocks)
        if alpha != 0.0:
            mag = uniform_filter(np.abs(spec), size=(1, 3, 3), mode="wrap")
            peak = mag.max(axis=(1, 2), keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                h = np.where(peak > 0, mag / np.where(peak > 0, peak, 1.0), 0.0) ** alpha
            spec = spec * h
        filt = np.fft.ifft2(spec) * w  # (nbj, block, block)
        ft = filt.reshape(nbj, k, step, k, step)
        for ti in range(k):
            for tj in range(k):
                acc[bi + ti, tj : tj + nbj] += ft[:, ti, :, tj, :]
                wacc[bi + ti, tj : tj + nbj] += wt[ti, :, tj, :]
    img = acc.transpose(0, 2, 1, 3).reshape((nbi + k - 1) * step, (nbj + k - 1) * step)
    wimg = wacc.transpose(0, 2, 1, 3).reshape(img.shape)
    h_, w_ = min(img.shape[0], nl - q0), min(img.shape[1], npx - q1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[q0 : q0 + h_, q1 : q1 + w_] = np.where(
            wimg[:h_, :w_] > 0, img[:h_, :w_] / np.where(wimg[:h_, :w_] > 0, wimg[:h_, :w_], 1.0), 0
        )
    return out


def _goldstein_kernel(
    z: np.ndarray, alpha: float, block: int, step: int, origin: tuple[int, int]
) -> np.ndarray:
    valid = np.isfinite(z)
    filled = np.where(valid, z, 0).astype(np.complex128)
    flat = filled.reshape((-1, *z.shape[-2:]))
    out = np.empty(flat.shape, dtype=np.complex128)
    for t in range(flat.shape[0]):  # leading axes (dates)
        out[t] = _goldstein_2d(flat[t], alpha, block, step, origin)
    result: np.ndarray = np.where(valid, out.reshape(z.shape), np.nan + 0j)
    return result


def goldstein(interferogram: Any, alpha: float = 0.5, *, block: int = 32, step: int = 8) -> Any:
    """Goldstein-Werner phase filter of a complex interferogram.

    Parameters
    ----------
    interferogram
        Complex interferogram with (line, pixel) last (NumPy, Dask or xarray);
        NaN marks no data (filled with 0 for the FFTs, NaN again in the output).
    alpha
        Filter exponent in [0, 1]; 0 is the identity.
    block
        Block size in pixels (power of two recommended).
    step
        Block shift in pixels; must divide ``block`` (``block/step`` blocks overlap
        at each pixel along each axis).

    Returns
    -------
    Filtered complex interferogram (complex64 for complex64 input); its phase is the
    filtered phase. Computed chunk-wise with a halo of ``block`` pixels.

    References
    ----------
    Goldstein, R. M. & Werner, C. L. (1998), Radar interferogram filtering for
    geophysical applications, Geophys. Res. Lett. 25(21):4035-4038.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be in [0, 1]")
    if block % step:
        raise ValueError("step must divide block")
    dtype = np.complex64 if np.dtype(interferogram.dtype) == np.complex64 else np.complex128
    return apply_spatial(
        _goldstein_kernel,
        interferogram,
        (block, block),
        boundary=0,
        dtype=dtype,
        needs_origin=True,
        alpha=float(alpha),
        block=int(block),
        step=int(step),
    )
