"""Interferometric coherence: the windowed estimator and its known bias.

The sample coherence over a window of ``L`` looks (Seymour & Cumming 1994; Hanssen
2001, eq. 4.2.21) is::

    gamma_hat = |sum m s* e^{-j phi_geom}| / sqrt(sum |m|^2 sum |s|^2)

computed on the interferogram after flat-earth and topographic phase removal (the
``e^{-j phi_geom}`` term is already inside the interferogram of
:mod:`sarbd.insar.interferogram`). Its expectation for circular complex Gaussian data of
true coherence ``gamma`` and ``L`` independent looks is (Touzi et al. 1999, eq. 11)::

    E|gamma_hat| = Gamma(L) Gamma(3/2) / Gamma(L + 1/2)
                   * 3F2(3/2, L, L; L + 1/2, 1; gamma^2) * (1 - gamma^2)^L

which is biased upwards, most for small ``gamma`` and small ``L`` (``sqrt(pi / (4 L))``
at ``gamma = 0``). :func:`expected_coherence` evaluates it.

References
----------
Touzi, R., Lopes, A., Bruniquel, J. & Vachon, P. W. (1999). Coherence estimation for
SAR imagery. IEEE TGRS 37(1), 135-149.
Hanssen, R. F. (2001). Radar Interferometry, Kluwer, sec. 4.2.
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from scipy.special import gammaln, logsumexp

from sarbd.errors import InputError

__all__ = ["boxcar", "coherence", "coherence_window_from_metres", "expected_coherence"]


def _check_window(window: tuple[int, int]) -> tuple[int, int]:
    wl, wp = (int(window[0]), int(window[1]))
    if wl < 1 or wp < 1:
        raise InputError(f"coherence window must be at least 1 x 1, got {window}")
    return wl, wp


def boxcar(x: Any, window: tuple[int, int]) -> Any:
    """Moving mean over ``window = (lines, pixels)`` samples, edges reflected.

    Works on real and complex arrays (real and imaginary parts filtered separately).
    Even windows are centred half a sample towards lower indices (scipy's convention).
    """
    if np.iscomplexobj(x):
        return boxcar(x.real, window) + 1j * boxcar(x.imag, window)
    return ndimage.uniform_filter(np.asarray(x, dtype=np.float64), size=window, mode="reflect")


def _coherence_block(
    ifg: NDArray[np.complexfloating],
    p1: NDArray[np.floating],
    p2: NDArray[np.floating],
    window: tuple[int, int],
) -> NDArray[np.float32]:
    num = np.abs(boxcar(ifg, window))
    den = np.sqrt(boxcar(p1, window) * boxcar(p2, window))
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma = np.where(den > 0, num / den, np.nan)
    return np.clip(gamma, 0.0, 1.0).astype(np.float32)


def coherence(
    interferogram: ArrayLike | xr.DataArray,
    power_reference: ArrayLike | xr.DataArray,
    power_secondary: ArrayLike | xr.DataArray,
    window: tuple[int, int] = (2, 10),
) -> NDArray[np.float32] | da.Array | xr.DataArray:
    """Sample coherence magnitude over a boxcar window (Touzi et al. 1999).

    Parameters
    ----------
    interferogram
        ``m s* e^{-j phi_geom}`` (complex), 2-D ``(line, pixel)``.
    power_reference, power_secondary
        ``|m|^2`` and ``|s|^2``.
    window
        ``(lines, pixels)``; default 2 x 10 (azimuth x range), about square on the
        ground for Sentinel-1 IW (14 m x 2.3 m pixels; 20 looks).

    Returns
    -------
    float32 coherence in [0, 1] (NaN where both powers are zero), NumPy, Dask or xarray
    like the input. Dask inputs are processed with ``map_overlap`` (halo of half a
    window plus one), so the result does not depend on the chunking.
    """
    window = _check_window(window)
    if isinstance(interferogram, xr.DataArray):
        out = coherence(interferogram.data, _data(power_reference), _data(power_secondary), window)
        res = xr.DataArray(
            out, dims=interferogram.dims, coords=interferogram.coords, name="coherence"
        )
        res.attrs.update(
            units="1",
            long_name="interferometric coherence magnitude",
            coherence_window_line=window[0],
            coherence_window_pixel=window[1],
        )
        return res
    if isinstance(interferogram, da.Array):
        depth = {
            interferogram.ndim - 2: window[0] // 2 + 1,
            interferogram.ndim - 1: window[1] // 2 + 1,
        }
        depth.update({k: 0 for k in range(interferogram.ndim - 2)})
        p1 = da.asarray(power_reference)
        p2 = da.asarray(power_secondary)
        p1, p2 = (
            p.rechunk(interferogram.chunks) if p.shape == interferogram.shape else p
            for p in (p1, p2)
        )

        def block(
            i: NDArray[np.complex64], a: NDArray[np.float32], b: NDArray[np.float32]
        ) -> NDArray[np.float32]:
            return _apply_2d(_coherence_block, i, a, b, window)

        return da.map_overlap(
            block,
            interferogram,
            p1,
            p2,
            depth=depth,
            boundary="none",
            dtype=np.float32,
            meta=np.empty((0,) * interferogram.ndim, np.float32),
        )
    return _apply_2d(
        _coherence_block,
        np.asarray(interferogram),
        np.asarray(power_reference),
        np.asarray(power_secondary),
        window,
    )


def _data(x: ArrayLike | xr.DataArray) -> ArrayLike:
    return x.data if isinstance(x, xr.DataArray) else x


def _apply_2d(func, ifg, p1, p2, window):  # type: ignore[no-untyped-def]
    """Apply a 2-D block function over any leading dims (e.g. time)."""
    if ifg.ndim == 2:
        return func(ifg, p1, p2, window)
    p1 = np.broadcast_to(p1, ifg.shape)
    p2 = np.broadcast_to(p2, ifg.shape)
    out = np.empty(ifg.shape, dtype=np.float32)
    for idx in np.ndindex(ifg.shape[:-2]):
        out[idx] = func(ifg[idx], p1[idx], p2[idx], window)
    return out


def coherence_window_from_metres(
    size_m: float | tuple[float, float], line_spacing_m: float, pixel_spacing_m: float
) -> tuple[int, int]:
    """Window ``(lines, pixels)`` covering about ``size_m`` on the ground.

    Parameters
    ----------
    size_m
        Window size on the ground, m (one value: square; two: azimuth, ground range).
    line_spacing_m
        Azimuth pixel spacing on the ground, m.
    pixel_spacing_m
        Ground-range pixel spacing, m (slant spacing / sin(incidence)).
    """
    az, rg = (size_m, size_m) if isinstance(size_m, int | float) else size_m
    return max(1, round(float(az) / line_spacing_m)), max(1, round(float(rg) / pixel_spacing_m))


def expected_coherence(gamma: ArrayLike, looks: int) -> NDArray[np.float64]:
    """Expected sample coherence magnitude ``E|gamma_hat|`` for true ``gamma`` and ``L`` looks.

    Touzi et al. (1999), eq. 11, for independent circular complex Gaussian samples.
    The generalized hypergeometric 3F2 is summed as a power series in ``gamma^2``
    (terms in log space), converged to 1e-12 relative.
    """
    if looks < 1:
        raise InputError(f"number of looks must be >= 1, got {looks}")
    g2 = np.clip(np.asarray(gamma, dtype=np.float64) ** 2, 0.0, 1.0 - 1e-12)
    L = float(looks)
    # log of Gamma(L) Gamma(3/2) / Gamma(L + 1/2)
    log_pref = gammaln(L) + gammaln(1.5) - gammaln(L + 0.5)
    n_terms = 20000
    k = np.arange(n_terms, dtype=np.float64)
    # log of (3/2)_k (L)_k (L)_k / ((L + 1/2)_k k! k!)  (Pochhammer via gammaln)
    log_coef = (
        gammaln(1.5 + k)
        - gammaln(1.5)
        + 2.0 * (gammaln(L + k) - gammaln(L))
        - (gammaln(L + 0.5 + k) - gammaln(L + 0.5))
        - 2.0 * gammaln(k + 1.0)
    )
    flat = np.atleast_1d(g2).ravel()
    out = np.empty(flat.shape, dtype=np.float64)
    for i, x in enumerate(flat):  # a handful of gamma values: series per value
        log_s = 0.0 if x == 0.0 else float(logsumexp(log_coef + k * np.log(x)))
        out[i] = np.exp(log_pref + log_s + L * np.log1p(-x))
    return out.reshape(np.shape(g2))
