"""Boxcar (moving-average) filter, NaN-aware, for real and complex rasters.

The window mean at a pixel is the mean of the *finite* samples inside the window:
samples outside the image or NaN (no data) are left out rather than counted as
zeros, so there is no darkening at the image border (the AlignSAR reference code
zero-pads and does darken). A pixel whose window holds no finite sample is NaN.
Near the border the mean therefore uses fewer looks; the equivalent number of
looks of a boxcar mean is at most the number of samples, ``lines * pixels``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter

from sarbd.filters._chunked import apply_spatial, as_window

__all__ = ["boxcar", "nan_window_mean"]


def nan_window_mean(x: np.ndarray, window: tuple[int, int], *, padded: bool = False) -> np.ndarray:
    """NumPy kernel: NaN-aware mean over a ``window`` on the last two axes.

    Leading axes are independent. Values outside the array count as missing.
    The running sums are accumulated in double precision by SciPy.
    ``padded=True`` declares that the outer ``window // 2`` samples are a halo whose
    results will be discarded (as in :func:`~sarbd.filters.apply_spatial`), which
    allows a faster path when the block holds no NaN.
    """
    size = (1,) * (x.ndim - 2) + tuple(window)
    valid = np.isfinite(x)
    if padded and valid.all():  # no NaN, no image edge (interior chunk): plain uniform filter
        # mode="constant" only matters within window/2 of the block edge, i.e. in
        # the halo that apply_spatial trims (or at a true image edge, which is padded)
        return uniform_filter(x, size=size, mode="constant", cval=0.0)
    filled = np.where(valid, x, 0).astype(x.dtype, copy=False)
    total = uniform_filter(filled, size=size, mode="constant", cval=0.0)
    count = uniform_filter(valid.astype(np.float32), size=size, mode="constant", cval=0.0)
    # count is a fraction of the window; below half a sample means no sample at all
    ok = count > 0.5 / float(np.prod(window))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(ok, total / np.where(ok, count, 1), np.nan)
    return out.astype(x.dtype, copy=False)


def boxcar(x: Any, window: int | tuple[int, int] = 5) -> Any:
    """Boxcar (moving-average) filter over (line, pixel), NaN-aware.

    Parameters
    ----------
    x
        Real or complex array (NumPy, Dask or xarray) with (line, pixel) as the
        last two axes; leading axes (e.g. time) are filtered independently.
        Use intensities (power), not amplitudes, for speckle reduction.
    window
        Window size in (lines, pixels); even sizes are allowed (the window then
        reaches one sample further before than after the centre, as in SciPy).

    Returns
    -------
    Same type and shape as ``x``. Dask input stays lazy and is computed chunk-wise
    with a halo of ``window // 2``, so the result does not depend on the chunking.

    References
    ----------
    Lee, J.-S. & Pottier, E. (2009), *Polarimetric Radar Imaging*, CRC Press, §4.2
    (boxcar filter, equivalent number of looks).
    """
    w = as_window(window)
    return apply_spatial(nan_window_mean, x, (w[0] // 2, w[1] // 2), window=w, padded=True)
