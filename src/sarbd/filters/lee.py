"""Lee (1980) and refined Lee (1981/1999) MMSE speckle filters for intensity.

Both apply the minimum-mean-square-error estimate of the multiplicative speckle
model ``z = x * v`` with ``E[v] = 1`` and ``var(v) = sigma_v^2 = 1/ENL`` (intensity):

    x_hat = mean_z + b (z - mean_z),
    var_x = (var_z - mean_z^2 sigma_v^2) / (1 + sigma_v^2),
    b     = clip(var_x / var_z, 0, 1).

The Lee filter takes ``mean_z``/``var_z`` over a square window; the refined Lee filter
over the edge-aligned half of a 7 x 7 window (8 directions), so edges are kept sharp.
Samples that are NaN or outside the image are left out; a NaN input pixel stays NaN.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from sarbd.filters._chunked import apply_spatial, as_window
from sarbd.filters.boxcar import nan_window_mean

__all__ = ["lee", "refined_lee"]


def _mmse(z: np.ndarray, mean: np.ndarray, var: np.ndarray, sv2: float) -> np.ndarray:
    var_x = (var - mean * mean * sv2) / (1.0 + sv2)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(var > 0, var_x / np.where(var > 0, var, 1.0), 0.0)
    b = np.clip(b, 0.0, 1.0)
    return mean + b * (z - mean)


def _lee_kernel(z: np.ndarray, window: tuple[int, int], enl: float) -> np.ndarray:
    z64 = z.astype(np.float64)
    mean = nan_window_mean(z64, window, padded=True)
    mean2 = nan_window_mean(z64 * z64, window, padded=True)
    var = np.maximum(mean2 - mean * mean, 0.0)
    out = _mmse(z64, mean, var, 1.0 / enl)
    return np.where(np.isfinite(z64), out, np.nan)


def lee(intensity: Any, window: int | tuple[int, int] = 7, *, enl: float = 1.0) -> Any:
    """Lee MMSE speckle filter (square window) for intensity images.

    Parameters
    ----------
    intensity
        Intensity (power, linear, >= 0) with (line, pixel) as the last two axes;
        NumPy, Dask or xarray.
    window
        Window in (lines, pixels).
    enl
        Equivalent number of looks of the input (1 for single-look SLC intensity);
        the speckle variance is ``1/enl``.

    References
    ----------
    Lee, J.-S. (1980), Digital image enhancement and noise filtering by use of local
    statistics, IEEE TPAMI 2(2):165-168.
    """
    w = as_window(window)
    if enl <= 0:
        raise ValueError("enl must be positive")
    return apply_spatial(
        _lee_kernel,
        intensity,
        (w[0] // 2, w[1] // 2),
        dtype=_float_dtype(intensity),
        window=w,
        enl=float(enl),
    )


def _float_dtype(x: Any) -> np.dtype:
    dt = np.dtype(x.dtype)
    return dt if dt.kind == "f" else np.dtype(np.float32)


@numba.njit(cache=True)
def _sub_mean(z: np.ndarray, i: int, j: int) -> float:
    s = 0.0
    n = 0
    for a in range(i - 1, i + 2):
        for b in range(j - 1, j + 2):
            v = z[a, b]
            if np.isfinite(v):
                s += v
                n += 1
    return s / n if n > 0 else np.nan


@numba.njit(cache=True)
def _in_half(direction: int, side: int, di: int, dj: int) -> bool:
    # direction 0: gradient along pixel (vertical edge) -> left/right half
    # 1: gradient along line (horizontal edge) -> top/bottom half
    # 2: gradient along the main diagonal -> triangles split by the anti-diagonal
    # 3: gradient along the anti-diagonal -> triangles split by the main diagonal
    # 4: no usable gradient -> the whole window
    if direction == 0:
        return dj * side >= 0
    if direction == 1:
        return di * side >= 0
    if direction == 2:
        return (di + dj) * side >= 0
    if direction == 3:
        return (dj - di) * side >= 0
    return True


@numba.njit(parallel=True, cache=True)
def _refined_lee_2d(z: np.ndarray, sv2: float, out: np.ndarray) -> None:
    nl, np_ = z.shape
    for i in numba.prange(3, nl - 3):
        m = np.empty((3, 3))
        g = np.empty(4)
        for j in range(3, np_ - 3):
            zc = z[i, j]
            if not np.isfinite(zc):
                out[i, j] = np.nan
                continue
            for a in range(3):
                for b in range(3):
                    m[a, b] = _sub_mean(z, i + 2 * (a - 1), j + 2 * (b - 1))
            g[0] = (m[0, 2] + m[1, 2] + m[2, 2]) - (m[0, 0] + m[1, 0] + m[2, 0])
            g[1] = (m[2, 0] + m[2, 1] + m[2, 2]) - (m[0, 0] + m[0, 1] + m[0, 2])
            g[2] = (m[1, 2] + m[2, 2] + m[2, 1]) - (m[0, 1] + m[0, 0] + m[1, 0])
            g[3] = (m[0, 1] + m[0, 2] + m[1, 2]) - (m[1, 0] + m[2, 0] + m[2, 1])
            direction = 4
            best = -1.0
            for k in range(4):
                if np.isfinite(g[k]) and abs(g[k]) > best:
                    best = abs(g[k])
                    direction = k
            side = 1
            c = m[1, 1]
            if direction == 0:
                side = 1 if abs(m[1, 2] - c) <= abs(m[1, 0] - c) else -1
            elif direction == 1:
                side = 1 if abs(m[2, 1] - c) <= abs(m[0, 1] - c) else -1
            elif direction == 2:
                side = 1 if abs(m[2, 2] - c) <= abs(m[0, 0] - c) else -1
            elif direction == 3:
                side = 1 if abs(m[0, 2] - c) <= abs(m[2, 0] - c) else -1
            if best == 0.0:
                direction = 4  # flat: no edge, use the whole window
            s = 0.0
            s2 = 0.0
            n = 0
            for di in range(-3, 4):
                for dj in range(-3, 4):
                    if _in_half(direction, side, di, dj):
                        v = z[i + di, j + dj]
                        if np.isfinite(v):
                            s += v
                            s2 += v * v
                            n += 1
            mean = s / n
            var = max(s2 / n - mean * mean, 0.0)
            var_x = (var - mean * mean * sv2) / (1.0 + sv2)
            bcoef = var_x / var if var > 0 else 0.0
            bcoef = min(max(bcoef, 0.0), 1.0)
            out[i, j] = mean + bcoef * (zc - mean)


def _refined_lee_kernel(z: np.ndarray, enl: float) -> np.ndarray:
    z64 = np.ascontiguousarray(z, dtype=np.float64)
    flat = z64.reshape((-1, *z64.shape[-2:]))
    out = np.full(flat.shape, np.nan)
    for k in range(flat.shape[0]):  # leading axes (dates), not pixels
        _refined_lee_2d(flat[k], 1.0 / enl, out[k])
    return out.reshape(z64.shape)


def refined_lee(intensity: Any, *, enl: float = 1.0, window: int | tuple[int, int] = 7) -> Any:
    """Refined Lee speckle filter (7 x 7 window, 8 edge-aligned half windows).

    In the 7 x 7 window around each pixel, the means of nine 3 x 3 sub-windows
    (centres 2 pixels apart) give four directional gradients; the strongest one
    picks the edge direction, and of the two halves of the window on either side
    of the edge the one whose sub-window mean is closer to the centre's is used.
    The MMSE estimate (module docstring) is taken over that half (28 pixels). Where
    no gradient is found the whole window is used (plain Lee).

    Parameters
    ----------
    intensity
        Intensity (linear power) with (line, pixel) last; NumPy, Dask or xarray.
    enl
        Equivalent number of looks of the input (speckle variance ``1/enl``).
    window
        Must be 7 (the method's fixed 7 x 7 window); accepted so that callers can
        pass the same keywords to every filter.

    References
    ----------
    Lee, J.-S. (1981), Refined filtering of image noise using local statistics,
    Computer Graphics and Image Processing 15(4):380-389.
    Lee, J.-S., Grunes, M. R. & de Grandi, G. (1999), Polarimetric SAR speckle
    filtering and its implication for classification, IEEE TGRS 37(5):2363-2373.
    """
    if enl <= 0:
        raise ValueError("enl must be positive")
    if as_window(window) != (7, 7):
        from sarbd.errors import ConfigError

        raise ConfigError(
            f"the refined Lee filter uses a fixed 7 x 7 window, got {window!r}",
            hint="drop the window option for refined_lee, or use lee/boxcar for another size",
        )
    return apply_spatial(
        _refined_lee_kernel, intensity, (3, 3), dtype=_float_dtype(intensity), enl=float(enl)
    )
