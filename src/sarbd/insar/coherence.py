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

import dask.array as da
import numpy as np
import xarray as xr
from dask.array.overlap import ensure_minimum_chunksize
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, logsumexp

from sarbd.errors import InputError
from sarbd.filters.boxcar import Edges, NanRule, boxcar, inside_fraction, uniform_mean

# ``boxcar`` is re-exported: the one boxcar, :func:`sarbd.filters.boxcar`
__all__ = ["boxcar", "coherence", "coherence_window_from_metres", "expected_coherence"]


def _check_window(window: tuple[int, int]) -> tuple[int, int]:
    wl, wp = (int(window[0]), int(window[1]))
    if wl < 1 or wp < 1:
        raise InputError(f"coherence window must be at least 1 x 1, got {window}")
    return wl, wp


def _coherence_2d(
    ifg: NDArray[np.complexfloating],
    p1: NDArray[np.floating],
    p2: NDArray[np.floating],
    window: tuple[int, int],
    edges: Edges,
    nan: NanRule,
) -> NDArray[np.float32]:
    """One (line, pixel) plane: window sums in double precision of the jointly valid samples.

    The three window means share their samples, so their count cancels in the ratio and
    :func:`~sarbd.filters.boxcar.uniform_mean` (the boxcar's sum, no division) suffices.
    """
    re = np.asarray(ifg.real, dtype=np.float64)
    im = np.asarray(ifg.imag, dtype=np.float64)
    a = np.asarray(p1, dtype=np.float64)
    b = np.asarray(p2, dtype=np.float64)
    valid = np.isfinite(re) & np.isfinite(im) & np.isfinite(a) & np.isfinite(b)
    has_samples: NDArray[np.bool_] | bool = True
    if not valid.all():
        # zeros, never NaN, inside the running sums: a sample invalid in any input leaves all three
        re, im, a, b = (np.where(valid, v, 0.0) for v in (re, im, a, b))
        share = uniform_mean(valid.astype(np.float64), window, edges=edges)
        n = float(np.prod(window))
        if nan == "omit":
            has_samples = share > 0.5 / n  # no valid sample: NaN
        else:
            whole = inside_fraction(valid.shape, window) if edges == "shrink" else 1.0
            has_samples = whole - share <= 0.5 / n  # any invalid sample: NaN
    num = np.hypot(uniform_mean(re, window, edges=edges), uniform_mean(im, window, edges=edges))
    # running sums leave residues of either sign (~1e-16 of the largest power) where powers are 0
    pa = np.maximum(uniform_mean(a, window, edges=edges), 0.0)
    pb = np.maximum(uniform_mean(b, window, edges=edges), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.sqrt(pa * pb)
        gamma = np.where(has_samples & (den > 0), num / den, np.nan)
    return np.clip(gamma, 0.0, 1.0).astype(np.float32)


def _coherence_block(
    ifg: NDArray[np.complexfloating],
    p1: NDArray[np.floating],
    p2: NDArray[np.floating],
    window: tuple[int, int],
    edges: Edges,
    nan: NanRule,
) -> NDArray[np.float32]:
    """Any leading dims (e.g. time), one plane at a time (bounded double-precision copies)."""
    p1 = np.broadcast_to(p1, ifg.shape)
    p2 = np.broadcast_to(p2, ifg.shape)
    if ifg.ndim == 2:
        return _coherence_2d(ifg, p1, p2, window, edges, nan)
    out = np.empty(ifg.shape, dtype=np.float32)
    for idx in np.ndindex(ifg.shape[:-2]):
        out[idx] = _coherence_2d(ifg[idx], p1[idx], p2[idx], window, edges, nan)
    return out


def coherence(
    interferogram: ArrayLike | xr.DataArray,
    power_reference: ArrayLike | xr.DataArray,
    power_secondary: ArrayLike | xr.DataArray,
    window: tuple[int, int] = (2, 10),
    *,
    edges: Edges = "shrink",
    nan: NanRule = "omit",
) -> NDArray[np.float32] | da.Array | xr.DataArray:
    """Sample coherence magnitude over a boxcar window (Touzi et al. 1999): the one estimator.

    ``gamma_hat = |<z>| / sqrt(<P_ref> <P_sec>)`` with ``<.>`` the boxcar means of
    :func:`sarbd.filters.boxcar` (its edge rule, :func:`~sarbd.filters.boxcar.uniform_mean`),
    summed in double precision. Used by the stack (``coregister``,
    ``stacks.assemble_stack``), the TOPS burst overlaps (ESD weights) and the
    signatures (``StackInputs.coherence`` when a stack has no ``coherence_<pol>``).

    Parameters
    ----------
    interferogram
        ``m s* e^{-j phi_geom}`` (complex), ``(..., line, pixel)``.
    power_reference, power_secondary
        ``|m|^2`` and ``|s|^2``; broadcast against the interferogram (e.g. one
        reference date ``(1, line, pixel)`` against a ``(time, line, pixel)`` stack).
    window
        ``(lines, pixels)``; default 2 x 10 (azimuth x range), about square on the
        ground for Sentinel-1 IW (14 m x 2.3 m pixels; 20 looks).
    edges
        ``"shrink"`` (default): windows at the image border use only the samples
        inside the image, with equal weights: the sample estimator of Touzi et al.
        (1999) over the ``L' <= L`` samples there, whose bias is
        :func:`expected_coherence` with ``L'`` looks. ``"reflect"`` mirrors the image
        (edge samples counted twice: a weighted estimator with fewer effective looks,
        ``(sum w)^2 / sum w^2``, than the same samples equally weighted).
    nan
        ``"omit"`` (default): a sample that is NaN in any of the three inputs is left
        out of all three sums alike; a window without such a sample is NaN.
        ``"propagate"``: a NaN in the window makes the coherence NaN.

    Returns
    -------
    float32 coherence in [0, 1] (NaN where the window's powers are zero or it has no
    valid sample), NumPy, Dask or xarray like the input. Dask inputs are processed with
    ``map_overlap`` (halo of half a window), so the result does not depend on the
    chunking.
    """
    window = _check_window(window)
    if isinstance(interferogram, xr.DataArray):
        out = coherence(
            interferogram.data,
            _data(power_reference),
            _data(power_secondary),
            window,
            edges=edges,
            nan=nan,
        )
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
    inputs = (interferogram, power_reference, power_secondary)
    if any(isinstance(x, da.Array) for x in inputs):
        z = da.asarray(interferogram)
        ndim = z.ndim
        dl, dp = window[0] // 2, window[1] // 2
        z = z.rechunk(
            (
                *z.chunks[: ndim - 2],
                ensure_minimum_chunksize(max(dl, 1), z.chunks[ndim - 2]),
                ensure_minimum_chunksize(max(dp, 1), z.chunks[ndim - 1]),
            )
        )
        p1, p2 = (
            da.broadcast_to(da.asarray(p), z.shape).rechunk(z.chunks)
            for p in (power_reference, power_secondary)
        )
        depth = {ax: 0 for ax in range(ndim - 2)} | {ndim - 2: dl, ndim - 1: dp}

        def block(
            i: NDArray[np.complex64], a: NDArray[np.float32], b: NDArray[np.float32]
        ) -> NDArray[np.float32]:
            return _coherence_block(i, a, b, window, edges, nan)

        return da.map_overlap(
            block,
            z,
            p1,
            p2,
            depth=depth,
            boundary="none",
            dtype=np.float32,
            meta=np.empty((0,) * ndim, np.float32),
        )
    return _coherence_block(
        np.asarray(interferogram),
        np.asarray(power_reference),
        np.asarray(power_secondary),
        window,
        edges,
        nan,
    )


def _data(x: ArrayLike | xr.DataArray) -> ArrayLike:
    return x.data if isinstance(x, xr.DataArray) else x


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
