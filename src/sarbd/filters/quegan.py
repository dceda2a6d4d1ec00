"""Quegan-Yu multitemporal speckle filter (on intensity).

For a stack of N co-registered intensity images I_1..I_N,

    J_k = (E[I_k] / N) * sum_i I_i / E[I_i],

where E[.] is the local (boxcar) mean. Each output date keeps its own local mean
(the filter preserves radiometry) while the speckle of the N dates is averaged, so
for N independent dates of L-look speckle the output has close to N*L looks
(less the estimation noise of E, about 1/(L*M) for an M-sample window).
The AlignSAR reference code applied it to amplitudes; the derivation holds for
intensity, which is what this function expects.
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from sarbd.filters._chunked import apply_spatial, as_window
from sarbd.filters.boxcar import nan_window_mean

__all__ = ["quegan_yu"]


def _quegan_kernel(stack: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    x = stack.astype(np.float64)
    mean = nan_window_mean(x, window, padded=True)  # per date, shape (N, L, P)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(mean > 0, x / np.where(mean > 0, mean, 1.0), np.nan)
    # dates where a pixel is NaN are left out of the sum (nanmean over time)
    finite = np.isfinite(ratio)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(n > 0, np.where(finite, ratio, 0.0).sum(axis=0) / np.maximum(n, 1), np.nan)
    out = mean * avg[None]
    # keep the no-data pattern of each date
    return np.where(np.isfinite(x), out, np.nan)


def quegan_yu(intensity: Any, window: int | tuple[int, int] = 7) -> Any:
    """Quegan-Yu multitemporal filter of an intensity stack ``(time, line, pixel)``.

    Parameters
    ----------
    intensity
        Linear intensity (power) stack, time first; NumPy, Dask or xarray. Dask
        input is processed with all dates in one block (the time axis is rechunked
        to a single chunk) and spatial halos of ``window // 2``.
    window
        Boxcar window (lines, pixels) for the local means E[I].

    Returns
    -------
    The filtered stack, same shape; NaN where the input is NaN.

    References
    ----------
    Quegan, S. & Yu, J. J. (2001), Filtering of multichannel SAR images,
    IEEE TGRS 39(11):2373-2379.
    Quegan, S., Le Toan, T., Yu, J. J., Ribbes, F. & Floury, N. (2000),
    Multitemporal ERS SAR analysis applied to forest mapping, IEEE TGRS 38(2):741-753.
    """
    w = as_window(window)
    if intensity.ndim != 3:
        raise ValueError("quegan_yu expects a (time, line, pixel) stack")
    # every date in one block: the kernel needs the whole time axis
    if isinstance(intensity, xr.DataArray):
        if isinstance(intensity.data, da.Array):
            intensity = intensity.copy(data=intensity.data.rechunk({0: -1}))
    elif isinstance(intensity, da.Array):
        intensity = intensity.rechunk({0: -1})
    dtype = intensity.dtype if np.dtype(intensity.dtype).kind == "f" else np.float32
    return apply_spatial(_quegan_kernel, intensity, (w[0] // 2, w[1] // 2), dtype=dtype, window=w)
