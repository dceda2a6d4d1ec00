"""Boxcar (moving-average) filter for real and complex rasters: the one window mean.

Every boxcar of sarbd (speckle filtering, C2 and coherence windows, the change and
detection references) is :func:`boxcar` or its NumPy kernels here, with two explicit
choices:

``edges``
    ``"shrink"`` (default): samples outside the image are left out, so the window
    shrinks at the border and there is no darkening (the AlignSAR reference code
    zero-pads and does darken); ``"reflect"``: the image is mirrored about its edge
    (SciPy's ``reflect``, ``d c b a | a b c d``), which counts edge samples twice;
    ``"nearest"``: the edge sample is repeated.
``nan``
    ``"omit"`` (default): NaN (no data) samples are left out of the mean, and a
    window without a finite sample is NaN; ``"propagate"``: a NaN anywhere in the
    window makes the mean NaN.

With the defaults the mean at a pixel is the mean of the finite samples inside the
window and the image: near the border it uses fewer looks; the equivalent number of
looks of a boxcar mean is at most the number of samples, ``lines * pixels``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.ndimage import uniform_filter, uniform_filter1d

from sarbd.errors import ConfigError
from sarbd.filters._chunked import apply_spatial, as_window

__all__ = [
    "EDGES",
    "NAN_RULES",
    "boxcar",
    "inside_fraction",
    "nan_window_mean",
    "uniform_mean",
    "window_mean",
]

Edges = Literal["shrink", "reflect", "nearest"]
NanRule = Literal["omit", "propagate"]
#: The edge rules of :func:`boxcar` (see the module docstring).
EDGES: tuple[str, ...] = ("shrink", "reflect", "nearest")
#: The NaN rules of :func:`boxcar`.
NAN_RULES: tuple[str, ...] = ("omit", "propagate")


def _check_rules(edges: str, nan: str) -> None:
    if edges not in EDGES:
        raise ConfigError(f"boxcar edges must be one of {', '.join(EDGES)}, got {edges!r}")
    if nan not in NAN_RULES:
        raise ConfigError(f"boxcar nan must be one of {', '.join(NAN_RULES)}, got {nan!r}")


def uniform_mean(x: np.ndarray, window: tuple[int, int], *, edges: Edges = "shrink") -> np.ndarray:
    """The window sum over ``lines * pixels`` (SciPy's ``uniform_filter``) of finite ``x``.

    The edge rule's primitive: with ``"shrink"`` samples outside the image count as 0,
    so a ratio of two such means over the same samples is the ratio of their window
    means (the count cancels: the coherence estimator uses this). ``x`` must hold no
    NaN (a NaN would stay in SciPy's running sum for the rest of the line).
    """
    size = (1,) * (x.ndim - 2) + tuple(window)
    mode = "constant" if edges == "shrink" else edges
    return np.asarray(uniform_filter(x, size=size, mode=mode, cval=0.0))


def inside_fraction(shape: tuple[int, ...], window: tuple[int, int]) -> np.ndarray:
    """Fraction of each ``window`` that lies inside an image of ``shape`` (last two axes)."""
    f = [
        uniform_filter1d(np.ones(n), size=w, mode="constant", cval=0.0)
        for n, w in zip(shape[-2:], window, strict=True)
    ]
    return np.outer(f[0], f[1])


def window_mean(
    x: np.ndarray, window: tuple[int, int], *, edges: Edges = "shrink", nan: NanRule = "omit"
) -> np.ndarray:
    """NumPy kernel of :func:`boxcar`: the window mean on the last two axes of ``x``.

    The edges of ``x`` are the image edges (no halo); leading axes are independent.
    SciPy accumulates the running sums in double precision; the result has ``x``'s
    dtype. A window with less than half a sample (no sample at all) is NaN.
    """
    _check_rules(edges, nan)
    n = float(np.prod(window))
    valid = np.isfinite(x)
    if valid.all():
        total = uniform_mean(x, window, edges=edges)
        if edges != "shrink":
            return total  # every window is whole
        count = inside_fraction(x.shape, window)
    else:
        filled = np.where(valid, x, 0).astype(x.dtype, copy=False)
        total = uniform_mean(filled, window, edges=edges)
        count = uniform_mean(valid.astype(np.float32), window, edges=edges)
        if nan == "propagate":
            whole = inside_fraction(x.shape, window) if edges == "shrink" else 1.0
            count = np.where(whole - count > 0.5 / n, 0.0, whole)  # a NaN in the window
    ok = count > 0.5 / n
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(ok, total / np.where(ok, count, 1), np.nan)
    return out.astype(x.dtype, copy=False)


def nan_window_mean(x: np.ndarray, window: tuple[int, int], *, padded: bool = False) -> np.ndarray:
    """NumPy kernel of :func:`boxcar` with the defaults (``edges="shrink"``, ``nan="omit"``).

    Leading axes are independent. Values outside the array count as missing (equal to
    :func:`window_mean` with the defaults).
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


def boxcar(
    x: Any,
    window: int | tuple[int, int] = 5,
    *,
    edges: Edges = "shrink",
    nan: NanRule = "omit",
) -> Any:
    """Boxcar (moving-average) filter over (line, pixel): NaN-aware, shrinking at the edges.

    Parameters
    ----------
    x
        Real or complex array (NumPy, Dask or xarray) with (line, pixel) as the
        last two axes; leading axes (e.g. time) are filtered independently.
        Use intensities (power), not amplitudes, for speckle reduction.
    window
        Window size in (lines, pixels); even sizes are allowed (the window then
        reaches one sample further before than after the centre, as in SciPy).
    edges
        ``"shrink"`` (default), ``"reflect"`` or ``"nearest"``: the image border
        (see the module docstring).
    nan
        ``"omit"`` (default) or ``"propagate"``: NaN samples.

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
    _check_rules(edges, nan)
    depth = (w[0] // 2, w[1] // 2)
    if edges == "shrink" and nan == "omit":
        # NaN halos at the image edge: the NaN-aware kernel's fast path needs no edge test
        return apply_spatial(nan_window_mean, x, depth, window=w, padded=True)
    # the kernel sees the true image edge (no halo there) and applies the edge rule itself
    return apply_spatial(window_mean, x, depth, boundary="none", window=w, edges=edges, nan=nan)
