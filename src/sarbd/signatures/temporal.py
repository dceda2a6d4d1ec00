"""Temporal signatures: statistics of each pixel over the dates of the stack.

Dates where a pixel is NaN are left out; a statistic is NaN when fewer dates than it
needs remain (1 for mean/min/max, 2 for std, CV, dispersion). Standard deviations
use the sample (N - 1) normalisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import dask.array as da
import numba
import numpy as np

from sarbd.signatures.inputs import StackInputs, safe_db
from sarbd.signatures.registry import Signature, register

__all__ = ["temporal_stats"]

FERRETTI = "Ferretti, A., Prati, C. & Rocca, F. (2001), Permanent scatterers in SAR interferometry, IEEE TGRS 39(1):8-20"
WAGNER = (
    "Wagner, W., Lemoine, G. & Rott, H. (1999), A method for estimating soil moisture from ERS "
    "scatterometer and soil data, Remote Sens. Environ. 70(2):191-207"
)
#: Below this dynamic range (dB) between the driest and wettest date the index is undefined (NaN).
SMI_MIN_RANGE_DB = 1e-3

QUEGAN = "Quegan, S. et al. (2000), Multitemporal ERS SAR analysis applied to forest mapping, IEEE TGRS 38(2):741-753"


@numba.njit(parallel=True, cache=True)
def _temporal_stats_flat(x, out):  # type: ignore[no-untyped-def]
    nt, n = x.shape
    for k in numba.prange(n):
        cnt = 0
        s = 0.0
        mn = np.inf
        mx = -np.inf
        for t in range(nt):
            v = np.float64(x[t, k])
            if math.isfinite(v):
                cnt += 1
                s += v
                mn = min(mn, v)
                mx = max(mx, v)
        out[0, k] = cnt
        if cnt == 0:
            out[1, k] = np.nan
            out[2, k] = np.nan
            out[3, k] = np.nan
            out[4, k] = np.nan
            continue
        mean = s / cnt
        ss = 0.0
        for t in range(nt):  # second pass: no cancellation in the variance
            v = np.float64(x[t, k])
            if math.isfinite(v):
                ss += (v - mean) * (v - mean)
        out[1, k] = mean
        out[2, k] = math.sqrt(ss / (cnt - 1)) if cnt > 1 else np.nan
        out[3, k] = mn
        out[4, k] = mx


def temporal_stats(x: np.ndarray) -> np.ndarray:
    """Kernel: (count, mean, std, min, max) over axis 0, NaN-aware, float32 output.

    Returns an array of shape ``(5, *x.shape[1:])``; mean/min/max NaN where count
    is 0, std NaN where count < 2 (sample std, N - 1; two-pass, in double precision).
    """
    x = np.asarray(x)
    flat = np.ascontiguousarray(x.reshape(x.shape[0], -1))
    out = np.empty((5, flat.shape[1]), dtype=np.float32)
    if flat.shape[1]:
        _temporal_stats_flat(flat, out)
    return out.reshape((5, *x.shape[1:]))


def _stats(inp: StackInputs, key: Any, source: str, data: Callable[[], Any]) -> Any:
    ck = ("tstats", source, key)
    if ck not in inp._cache:
        x = data().rechunk({0: -1})
        inp._cache[ck] = x.map_blocks(
            temporal_stats,
            chunks=((5,), *x.chunks[1:]),
            dtype=np.float32,
        )
    return inp._cache[ck]


def _bs_stats(inp: StackInputs, pol: str) -> Any:
    return _stats(inp, pol, "backscatter", lambda: inp.backscatter(pol))


def _row(i: int) -> Callable[[StackInputs, str], Any]:
    def f(inp: StackInputs, pol: str) -> Any:
        return _bs_stats(inp, pol)[i]

    return f


def _mean_db(inp: StackInputs, pol: str) -> Any:
    return safe_db(_bs_stats(inp, pol)[1])


def _cv(inp: StackInputs, pol: str) -> Any:
    s = _bs_stats(inp, pol)
    mean, std = s[1], s[2]
    ok = mean > 0
    return da.where(ok, std / da.where(ok, mean, 1.0), np.nan).astype(np.float32)


def _dispersion(inp: StackInputs, pol: str) -> Any:
    s = _stats(inp, pol, "amplitude", lambda: inp.amplitude(pol))
    mean, std = s[1], s[2]
    ok = mean > 0
    return da.where(ok, std / da.where(ok, mean, 1.0), np.nan).astype(np.float32)


def _ps(inp: StackInputs, pol: str) -> Any:
    d = _dispersion(inp, pol)
    return da.where(da.isfinite(d), (d < inp.ps_threshold).astype(np.float32), np.nan).astype(
        np.float32
    )


def _coh_mean(inp: StackInputs, pol: str) -> Any:
    sel = np.flatnonzero(inp.secondary_mask())
    s = _stats(inp, pol, "coherence", lambda: inp.coherence(pol)[sel])
    return s[1]


def _smi(inp: StackInputs, pol: str) -> Any:
    s = _bs_stats(inp, pol)
    db = safe_db(inp.backscatter(pol))
    dry, wet = safe_db(s[3]), safe_db(s[4])
    rng = wet - dry
    ok = rng > SMI_MIN_RANGE_DB
    out = da.where(ok[None], (db - dry[None]) / da.where(ok, rng, 1.0)[None], np.nan)
    return da.clip(out, 0.0, 1.0).astype(np.float32)


def _t(
    name: str,
    long_name: str,
    units: str,
    formula: str,
    inputs: tuple[str, ...],
    valid: tuple[float | None, float | None],
    ref: str,
    fn: Any,
    *,
    per_date: bool = False,
    flags: dict[int, str] | None = None,
) -> None:
    register(
        Signature(
            name=name,
            long_name=long_name,
            units=units,
            category="temporal",
            formula=formula,
            inputs=inputs,
            valid_range=valid,
            reference=ref,
            compute=fn,
            per_date=per_date,
            flags=flags,
        )
    )


_B = "backscatter (the calibration chosen by `backscatter`, default sigma0)"
_t(
    "backscatter_mean",
    f"temporal mean of the {_B} of {{pol}}",
    "1",
    "mean_t b(t)",
    ("backscatter",),
    (0.0, None),
    QUEGAN,
    _row(1),
)
_t(
    "backscatter_mean_db",
    f"temporal mean of the {_B} of {{pol}}, in decibels",
    "dB",
    "10 log10(mean_t b(t)) (averaged in linear power)",
    ("backscatter",),
    (None, None),
    QUEGAN,
    _mean_db,
)
_t(
    "backscatter_std",
    f"temporal standard deviation of the {_B} of {{pol}}",
    "1",
    "sqrt(sum_t (b(t) - mean)^2 / (N - 1))",
    ("backscatter", "time2"),
    (0.0, None),
    QUEGAN,
    _row(2),
)
_t(
    "backscatter_cv",
    f"temporal coefficient of variation of the {_B} of {{pol}}",
    "1",
    "std_t b / mean_t b",
    ("backscatter", "time2"),
    (0.0, None),
    QUEGAN,
    _cv,
)
_t(
    "backscatter_min",
    f"temporal minimum of the {_B} of {{pol}}",
    "1",
    "min_t b(t)",
    ("backscatter",),
    (0.0, None),
    QUEGAN,
    _row(3),
)
_t(
    "backscatter_max",
    f"temporal maximum of the {_B} of {{pol}}",
    "1",
    "max_t b(t)",
    ("backscatter",),
    (0.0, None),
    QUEGAN,
    _row(4),
)
_t(
    "amplitude_dispersion",
    "amplitude dispersion index D_A of {pol} (calibrated amplitudes, unfiltered)",
    "1",
    "D_A = std_t A / mean_t A, A = |DN| / A_cal",
    ("backscatter", "time2"),
    (0.0, None),
    FERRETTI,
    _dispersion,
)
_t(
    "ps_candidate",
    "persistent-scatterer candidate of {pol} (amplitude dispersion below the threshold)",
    "1",
    "1 if D_A < threshold (default 0.25) else 0",
    ("backscatter", "time2"),
    (0.0, 1.0),
    FERRETTI,
    _ps,
    flags={0: "not_ps_candidate", 1: "ps_candidate"},
)
_t(
    "coherence_mean",
    "temporal mean coherence of {pol} over the secondary dates",
    "1",
    "mean over t != reference of coherence(t)",
    ("coherence",),
    (0.0, 1.0),
    "Touzi, R. et al. (1999), IEEE TGRS 37(1):135-149",
    _coh_mean,
)
_t(
    "soil_moisture_index",
    "change-detection relative soil-moisture index of {pol}",
    "1",
    "(b_dB(t) - min_t b_dB) / (max_t b_dB - min_t b_dB): driest (0) to wettest (1) observed date",
    ("backscatter", "time2"),
    (0.0, 1.0),
    WAGNER,
    _smi,
    per_date=True,
)
