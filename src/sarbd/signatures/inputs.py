"""Lazy, cached access to the quantities signatures are computed from.

:class:`StackInputs` wraps a coregistered stack (``docs/formats.md``) and hands
out Dask arrays ``(time, line, pixel)``: SLCs, calibrated backscatter with the
thermal noise removed, window-averaged covariance matrices and their eigen-
descriptors, coherence. Every intermediate is built once and shared by all the
signatures that use it, so one Dask graph computes the whole catalogue.

Two kinds of stack are accepted:

* the SLC stack of ``docs/formats.md`` (``slc_<pol>``, ``cal_<kind>_<pol>``,
  ``noise_<pol>``, ``interferogram_<pol>``, ``coherence_<pol>``);
* a backscatter-only stack (GRD, OPERA RTC) with calibrated, noise-corrected
  linear power ``sigma0_<pol>`` / ``beta0_<pol>`` / ``gamma0_<pol>``
  ``(time, line, pixel)``. Signatures that need phase (C2 off-diagonal, entropy,
  coherence, ...) are then unavailable.

NaN rule
--------
* No data is NaN in the stack (SLC, calibration factor or noise). An SLC sample
  exactly 0 + 0j is a valid (dark) sample by default -- in 16-bit Sentinel-1 SLCs
  of calm sea about 0.3 % of the samples are -- unless ``zero_is_nodata=True``
  (for stacks whose no-data areas are zero-filled). Its phase is NaN either way.
* Noise-corrected power ``(|DN|^2 - eta) / A^2`` below 0 is NaN with
  ``negative="nan"`` (default) or ``floor`` with ``negative="floor"``.
* Logarithms (dB) of values <= 0 are NaN.
* Window means leave NaN and out-of-image samples out (fewer looks at the image
  border, never zero padding); a window without a finite sample is NaN.
* Ratios with a zero or NaN denominator are NaN. Nothing is ever +-inf.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from dask.array.overlap import ensure_minimum_chunksize
from dask.base import tokenize

from sarbd.core.chunks import ChunksLike, default_stack_chunks, stack_chunks
from sarbd.errors import ConfigError, InputError
from sarbd.filters import boxcar, goldstein
from sarbd.filters._chunked import apply_spatial, as_window

# the one coherence estimator (sarbd.insar.coherence), under the name the signatures export
from sarbd.insar.coherence import coherence as coherence_estimate

__all__ = [
    "BACKSCATTER_KINDS",
    "DEFAULT_CHUNKS",
    "POL_ORDER",
    "StackInputs",
    "coherence_estimate",
    "default_chunks",
]

log = logging.getLogger(__name__)

BACKSCATTER_KINDS = ("sigma0", "beta0", "gamma0")
POL_ORDER = ("hh", "hv", "vh", "vv", "rh", "rv")  # rh, rv: compact-pol CTLR channels
QUAD_POLS = ("hh", "hv", "vh", "vv")
COMPACT_POLS = ("rh", "rv")
#: Default Dask chunks of a stack: one home, :mod:`sarbd.core.chunks`.
DEFAULT_CHUNKS = {"time": -1, "line": 256, "pixel": 4096}  # the upper bounds of default_chunks
default_chunks = default_stack_chunks
_CO_CROSS = (("vv", "vh"), ("hh", "hv"))


def _nan_where(cond: Any, x: Any) -> Any:
    return da.where(cond, np.nan, x)


def safe_db(x: Any) -> Any:
    """10 log10(x), NaN where x <= 0 or NaN (never -inf)."""
    pos = x > 0
    return da.where(pos, 10.0 * da.log10(da.where(pos, x, 1.0)), np.nan).astype(np.float32)


def elementwise(ufunc: Any, *arrays: Any, scalars: tuple[Any, ...] = ()) -> Any:
    """Apply a compiled float32 ufunc of :mod:`sarbd.signatures.kernels` block-wise.

    Floating-point flags raised by the compiled loops (their branches are evaluated
    speculatively) are not warnings: the kernels already turn those cases into NaN.
    ``scalars`` are trailing scalar arguments, the same for every block.
    """

    def run(*blocks: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(ufunc(*blocks, *scalars), dtype=np.float32)

    if not any(isinstance(a, da.Array) for a in arrays):
        return run(*(np.asarray(a) for a in arrays))
    arrays = tuple(a if isinstance(a, da.Array) else da.asarray(a) for a in arrays)
    # an explicit name: tokenising the closure would pickle the compiled ufunc (seconds)
    name = f"{ufunc.__name__}-{tokenize(*arrays, scalars)}"
    return da.map_blocks(
        run, *arrays, dtype=np.float32, meta=np.empty((0,) * arrays[0].ndim, np.float32), name=name
    )


def safe_ratio(num: Any, den: Any) -> Any:
    """num / den in float32, NaN where den == 0 or either is NaN (never inf); one pass."""
    from sarbd.signatures.kernels import ratio_or_nan

    f32 = lambda a: (  # noqa: E731
        np.float32(a)
        if isinstance(a, int | float | np.integer | np.floating)
        else a.astype(np.float32)
    )
    return elementwise(ratio_or_nan, f32(num), f32(den))


class StackInputs:
    """Lazily derived inputs of the signatures, for one stack and one set of options.

    Parameters
    ----------
    stack
        Coregistered stack (``docs/formats.md``) or backscatter-only stack.
    window
        (lines, pixels) of the window means (C2, coherence, phase statistics).
    backscatter
        Which calibration the multi-pol and temporal signatures use: ``sigma0``,
        ``beta0`` or ``gamma0``; ``None`` picks sigma0 when the stack has its LUT,
        else the first backscatter variable present.
    noise_removal
        Subtract the thermal noise power ``noise_<pol>`` (SLC stacks).
    negative, floor
        Rule for noise-corrected power below zero: ``"nan"`` or ``"floor"``
        (replace values below ``floor`` by ``floor``, linear power).
    speckle_filter
        ``None``, a name (``boxcar``, ``lee``, ``refined_lee``, ``quegan_yu``), a
        ``torch.nn.Module`` (run with :func:`sarbd.filters.apply_torch`) or a callable
        ``f(dask_array[time, line, pixel]) -> dask_array`` applied to calibrated
        intensity before the noise is subtracted.
    filter_kwargs
        Keyword arguments of the filter (``window``, ``enl``, ``depth``...).
    phase_filter
        ``None`` or ``"goldstein"`` for the interferometric phase.
    zero_is_nodata
        Treat SLC samples exactly 0 + 0j as no data (NaN).
    chunks
        Dask chunks applied to the stack's variables, any form of :func:`sarbd.core.chunks.stack_chunks`
        (default: :func:`default_chunks`).
    """

    def __init__(
        self,
        stack: xr.Dataset,
        *,
        window: Any = (5, 5),
        backscatter: str | None = None,
        noise_removal: bool = True,
        negative: str = "nan",
        floor: float = 1e-5,
        speckle_filter: Any = None,
        filter_kwargs: dict[str, Any] | None = None,
        phase_filter: str | None = None,
        phase_filter_kwargs: dict[str, Any] | None = None,
        ps_threshold: float = 0.25,
        zero_is_nodata: bool = False,
        chunks: ChunksLike = None,
    ) -> None:
        for dim in ("time", "line", "pixel"):
            if dim not in stack.dims:
                raise InputError(
                    f"the stack has no {dim!r} dimension (dims: {tuple(stack.dims)})",
                    hint="give a coregistered stack as described in docs/formats.md",
                )
        if negative not in ("nan", "floor"):
            raise ConfigError(f"negative must be 'nan' or 'floor', got {negative!r}")
        if floor <= 0:
            raise ConfigError("floor must be positive (linear power)")
        self.window = as_window(window)
        self.noise_removal = noise_removal
        self.negative = negative
        self.floor = float(floor)
        self.speckle_filter = speckle_filter
        self.filter_kwargs = dict(filter_kwargs or {})
        self.phase_filter = phase_filter
        self.phase_filter_kwargs = dict(phase_filter_kwargs or {})
        self.ps_threshold = float(ps_threshold)
        self.zero_is_nodata = bool(zero_is_nodata)
        if phase_filter not in (None, "goldstein"):
            raise ConfigError(
                f"unknown phase filter {phase_filter!r}", hint="use 'goldstein' or none"
            )
        self.ds = stack
        self.chunks = stack_chunks(chunks, stack.sizes["time"], stack.sizes["pixel"])
        self.pols = self._detect_pols()
        if not self.pols:
            raise InputError(
                "the stack has no slc_<pol>, sigma0_<pol>, beta0_<pol> or gamma0_<pol> variable",
                hint="give a coregistered stack as described in docs/formats.md",
            )
        self.backscatter_kind = self._pick_kind(backscatter)
        self._cache: dict[Any, Any] = {}

    # -- discovery -------------------------------------------------------------------
    def _detect_pols(self) -> list[str]:
        found = set()
        for name in self.ds.data_vars:
            prefix, _, pol = str(name).rpartition("_")
            if prefix in ("slc", *BACKSCATTER_KINDS) and pol in POL_ORDER:
                found.add(pol)
        return [p for p in POL_ORDER if p in found]

    def _pick_kind(self, kind: str | None) -> str:
        if kind is not None:
            if kind not in BACKSCATTER_KINDS:
                raise ConfigError(f"backscatter must be one of {BACKSCATTER_KINDS}, got {kind!r}")
            return kind
        for k in BACKSCATTER_KINDS:
            if any(self.has_backscatter(p, k) for p in self.pols):
                return k
        return "sigma0"

    def has(self, name: str) -> bool:
        return name in self.ds.variables

    def has_backscatter(self, pol: str, kind: str) -> bool:
        return self.has(f"{kind}_{pol}") or (
            self.has(f"slc_{pol}") and self.has(f"cal_{kind}_{pol}")
        )

    def pairs(self, scope: str) -> list[tuple[str, str]]:
        """Polarisation pairs of a scope, co-pol first (VV/VH, HH/HV; HH/VV)."""
        cross = [p for p in _CO_CROSS if p[0] in self.pols and p[1] in self.pols]
        copol = [("hh", "vv")] if {"hh", "vv"} <= set(self.pols) else []
        return {"cross_pair": cross, "copol_pair": copol, "pair": cross + copol}[scope]

    def keys(self, scope: str) -> list[Any]:
        if scope == "pol":
            return list(self.pols)
        if scope == "stack":
            return [None]
        if scope in ("quad", "compact"):  # polarimetry: sarbd.signatures.quad_pol / compact_pol
            pols = QUAD_POLS if scope == "quad" else COMPACT_POLS
            return [pols] if set(pols) <= set(self.pols) else []
        return list(self.pairs(scope))

    def available(self, requirement: str, key: Any) -> bool:
        """Whether the stack has what ``requirement`` needs for ``key`` (pol or pair)."""
        pols = [key] if isinstance(key, str) else list(key or [])
        req, _, arg = requirement.partition(":")
        if req == "slc":
            return all(self.has(f"slc_{p}") for p in pols)
        if req == "backscatter":
            return all(self.has_backscatter(p, self.backscatter_kind) for p in pols)
        if req == "calibration":
            return all(self.has_backscatter(p, arg) for p in pols)
        if req == "c2":
            return all(
                self.has(f"slc_{p}") and self.has(f"cal_{self.backscatter_kind}_{p}") for p in pols
            )
        if req == "interferogram":
            return all(self.has(f"interferogram_{p}") for p in pols)
        if req == "coherence":
            return all(
                self.has(f"coherence_{p}")
                or (
                    self.has(f"interferogram_{p}")
                    and self.has(f"slc_{p}")
                    and self.reference_index() is not None
                )
                for p in pols
            )
        if req == "time2":
            return self.ds.sizes["time"] >= 2
        raise ConfigError(f"unknown signature input {requirement!r}")

    def reference_index(self) -> int | None:
        """Index of the reference date (temporal_baseline == 0, or attrs reference_date)."""
        if "temporal_baseline" in self.ds.variables:
            tb = np.asarray(self.ds["temporal_baseline"].values, dtype=float)
            hits = np.flatnonzero(np.abs(tb) < 1e-6)
            if hits.size:
                return int(hits[0])
        ref = self.ds.attrs.get("reference_date")
        if ref is not None:
            times = self.ds["time"].values.astype("datetime64[D]")
            try:
                hits = np.flatnonzero(times == np.datetime64(str(ref)[:10].replace("/", "-"), "D"))
            except ValueError:
                hits = np.array([], dtype=int)
            if hits.size:
                return int(hits[0])
        return None

    # -- raw variables -----------------------------------------------------------------
    def var(self, name: str) -> da.Array:
        """A stack variable as a Dask array, with the configured chunks."""
        key = ("var", name)
        if key not in self._cache:
            arr = self.ds[name]
            chunks = self.chunks
            if chunks:
                arr = arr.chunk({d: chunks[d] for d in arr.dims if d in chunks})
            self._cache[key] = arr.data if isinstance(arr.data, da.Array) else da.asarray(arr.data)
        return self._cache[key]

    def slc(self, pol: str) -> da.Array:
        """SLC, complex64 (exact zeros as NaN if ``zero_is_nodata``)."""
        key = ("slc", pol)
        if key not in self._cache:
            s = self.var(f"slc_{pol}").astype(np.complex64)
            if self.zero_is_nodata:
                s = da.where(s == 0, np.complex64(np.nan), s)
            self._cache[key] = s
        return self._cache[key]

    def intensity_dn(self, pol: str) -> da.Array:
        """|DN|^2, uncalibrated, float32."""
        s = self.slc(pol)
        return (s.real * s.real + s.imag * s.imag).astype(np.float32)

    # -- calibrated backscatter ---------------------------------------------------------
    def calibrated_power(self, pol: str, kind: str) -> da.Array:
        """|DN|^2 / A^2 (noise not removed), or the stack's precalibrated power."""
        key = ("calpow", pol, kind)
        if key not in self._cache:
            if self.has(f"slc_{pol}") and self.has(f"cal_{kind}_{pol}"):
                p = self.intensity_dn(pol) * self.var(f"cal_{kind}_{pol}").astype(np.float32)
            elif self.has(f"{kind}_{pol}"):
                p = self.var(f"{kind}_{pol}").astype(np.float32)
                p = da.where(da.isfinite(p), p, np.nan)
            else:
                raise InputError(
                    f"the stack has neither slc_{pol} + cal_{kind}_{pol} nor {kind}_{pol}"
                )
            self._cache[key] = p
        return self._cache[key]

    def noise_power(self, pol: str, kind: str) -> da.Array | None:
        """eta / A^2 if noise removal applies (SLC stacks with noise_<pol>), else None."""
        if (
            self.noise_removal
            and self.has(f"noise_{pol}")
            and self.has(f"slc_{pol}")
            and self.has(f"cal_{kind}_{pol}")
        ):
            return self.var(f"noise_{pol}").astype(np.float32) * self.var(
                f"cal_{kind}_{pol}"
            ).astype(np.float32)
        return None

    def apply_negative_rule(self, x: da.Array) -> da.Array:
        if self.negative == "nan":
            return _nan_where(x < 0, x).astype(np.float32)
        return da.where(x < self.floor, np.float32(self.floor), x).astype(np.float32)

    def speckle_filtered(self, x: da.Array) -> da.Array:
        """Apply the configured speckle filter to an intensity stack (time, line, pixel)."""
        f = self.speckle_filter
        if f is None:
            return x
        from sarbd import filters

        kw = dict(self.filter_kwargs)
        if isinstance(f, str):
            funcs: dict[str, Callable[..., Any]] = {
                "boxcar": filters.boxcar,
                "lee": filters.lee,
                "refined_lee": filters.refined_lee,
                "quegan_yu": filters.quegan_yu,
            }
            if f not in funcs:
                raise ConfigError(
                    f"unknown speckle filter {f!r}",
                    hint=f"use one of {', '.join(funcs)}, or a torch module",
                )
            return funcs[f](x, **kw).astype(np.float32)
        try:
            import torch

            is_module = isinstance(f, torch.nn.Module)
        except ImportError:  # pragma: no cover - torch is a dependency
            is_module = False
        if is_module:
            return filters.apply_torch(x, f, **kw).astype(np.float32)
        if callable(f):
            return f(x, **kw)
        raise ConfigError(f"speckle filter must be a name, a torch module or a callable, got {f!r}")

    def backscatter(self, pol: str, kind: str | None = None) -> da.Array:
        """Calibrated, speckle-filtered (if configured), noise-corrected power, linear."""
        kind = kind or self.backscatter_kind
        key = ("bs", pol, kind)
        if key not in self._cache:
            if (
                self.speckle_filter is None
                and self.has(f"slc_{pol}")
                and self.has(f"cal_{kind}_{pol}")
            ):
                # unfiltered SLC stack: one fused element-wise pass (same float32 steps)
                from sarbd.signatures.kernels import noise_corrected_power

                cal = self.var(f"cal_{kind}_{pol}").astype(np.float32)
                n = self.noise_power(pol, kind)
                eta = self.var(f"noise_{pol}").astype(np.float32) if n is not None else cal
                self._cache[key] = elementwise(
                    noise_corrected_power,
                    self.slc(pol),
                    cal,
                    eta,
                    scalars=(n is not None, self.negative == "nan", np.float32(self.floor)),
                )
                return self._cache[key]
            p = self.speckle_filtered(self.calibrated_power(pol, kind))
            n = self.noise_power(pol, kind)
            if n is not None:
                p = p - n
            self._cache[key] = self.apply_negative_rule(p)
        return self._cache[key]

    def amplitude(self, pol: str) -> da.Array:
        """Calibrated amplitude sqrt(|DN|^2/A^2), noise not removed, unfiltered."""
        return da.sqrt(self.calibrated_power(pol, self.backscatter_kind)).astype(np.float32)

    # -- window statistics ---------------------------------------------------------------
    def window_mean(self, x: da.Array) -> da.Array:
        return boxcar(x, self.window)

    def c2(self, pair: tuple[str, str]) -> tuple[da.Array, da.Array, da.Array | None]:
        """Window-averaged C2 = <k k^H>, k = [s1, s2] calibrated; diagonals noise-corrected.

        c_ii = <|s_i|^2/A_i^2> - <eta_i/A_i^2> (negative rule applied); c12 =
        <s1 s2* / (A1 A2)>, None for backscatter-only stacks. For SLC stacks the
        three come from :meth:`c2_block` (one fused pass with the descriptors).
        """
        key = ("c2", pair)
        if key not in self._cache:
            if self.available("c2", pair):
                b = self.c2_block(pair)
                c12 = (b[2] + np.complex64(1j) * b[3]).astype(np.complex64)
                self._cache[key] = (b[0], b[1], c12)
                return self._cache[key]
            kind = self.backscatter_kind
            diag = []
            for pol in pair:
                c = self.window_mean(self.calibrated_power(pol, kind))
                n = self.noise_power(pol, kind)
                if n is not None:
                    c = c - self.window_mean(n)
                diag.append(self.apply_negative_rule(c))
            self._cache[key] = (diag[0], diag[1], None)
        return self._cache[key]

    def c2_block(self, pair: tuple[str, str]) -> da.Array:
        """C2 elements of an SLC pair in one fused pass.

        Shape (4, time, line, pixel), rows :data:`sarbd.signatures.kernels.C2_ROWS`
        (c11, c22, Re c12, Im c12). One Numba kernel per chunk
        (:func:`sarbd.signatures.kernels.c2_fused`) reads the SLCs, calibration and
        noise once, with a halo of ``window // 2``, and forms the products and the
        NaN-aware window means without intermediate arrays; the results equal the
        step-by-step NumPy path (calibrated power, :func:`sarbd.filters.boxcar`,
        noise subtraction, negative rule) within float32 rounding.
        """
        key = ("c2block", pair)
        if key not in self._cache:
            from sarbd.signatures.kernels import c2_fused, serial

            kind = self.backscatter_kind
            arrays = [
                self.slc(pair[0]),
                self.slc(pair[1]),
                self.var(f"cal_{kind}_{pair[0]}").astype(np.float32),
                self.var(f"cal_{kind}_{pair[1]}").astype(np.float32),
            ]
            noise = (
                self.noise_power(pair[0], kind) is not None
                and self.noise_power(pair[1], kind) is not None
            )
            if noise:
                arrays += [self.var(f"noise_{p}").astype(np.float32) for p in pair]
            w = self.window
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
                for a in arrays
            ]

            # the block function must not capture ``self``: its cache holds this very array, and
            # a graph layer pickled through such a cycle (distributed) unpickles half-built
            negative, floor = self.negative, self.floor

            def block(*b: np.ndarray) -> np.ndarray:
                n1, n2 = (b[4], b[5]) if noise else (None, None)
                return serial(c2_fused)(
                    b[0], b[1], b[2], b[3], n1, n2, w, (dl, dp), negative=negative, floor=floor
                )

            name = f"c2-fused-{tokenize(*padded, w, self.negative, self.floor)}"
            self._cache[key] = da.map_blocks(
                block,
                *padded,
                new_axis=0,
                chunks=((4,), *chunks),
                dtype=np.float32,
                meta=np.empty((0, 0, 0, 0), np.float32),
                name=name,
            )
        return self._cache[key]

    def c12_abs(self, pair: tuple[str, str]) -> da.Array:
        """|c12| of the window-averaged C2 (float32)."""
        if self.available("c2", pair):
            b = self.c2_block(pair)
            return da.hypot(b[2], b[3]).astype(np.float32)
        c12 = self.c2(pair)[2]
        if c12 is None:
            raise InputError(f"C12 needs the SLCs and calibration of {pair}")
        return da.absolute(c12).astype(np.float32)

    def descriptors(self, pair: tuple[str, str], rows: tuple[str, ...] | None = None) -> da.Array:
        """Eigen-descriptors of C2, shape (len(rows), time, line, pixel).

        ``rows``: names of :data:`sarbd.signatures.kernels.DESCRIPTORS` (default all
        eight); only the asked-for ones are evaluated (entropy and alpha cost most).
        """
        key = ("desc", pair, rows)
        if key not in self._cache:
            from sarbd.signatures.kernels import DESCRIPTORS, c2_descriptors_ri, serial

            if not self.available("c2", pair):
                raise InputError(f"entropy/alpha need the SLCs of {pair}")
            b = self.c2_block(pair)
            names = tuple(rows or DESCRIPTORS)
            self._cache[key] = da.map_blocks(
                lambda x: serial(c2_descriptors_ri)(x[0], x[1], x[2], x[3], names),
                b,
                chunks=((len(names),), *b.chunks[1:]),
                dtype=np.float32,
                meta=np.empty((0, 0, 0, 0), np.float32),
                name=f"c2-descriptors-{tokenize(b, names)}",
            )
        return self._cache[key]

    def descriptor(self, pair: tuple[str, str], name: str) -> da.Array:
        """One eigen-descriptor of C2, (time, line, pixel); see :meth:`descriptors`."""
        return self.descriptors(pair, (name,))[0]

    # -- interferometry --------------------------------------------------------------------
    def interferogram(self, pol: str) -> da.Array:
        key = ("ifg", pol)
        if key not in self._cache:
            z = self.var(f"interferogram_{pol}").astype(np.complex64)
            z = da.where((z == 0) | ~da.isfinite(z), np.complex64(np.nan), z)
            if self.phase_filter == "goldstein":
                z = goldstein(z, **self.phase_filter_kwargs)
            self._cache[key] = z
        return self._cache[key]

    def coherence(self, pol: str) -> da.Array:
        """The stack's coherence_<pol>, else |<ifg>| / sqrt(<|ref|^2> <|sec|^2>)."""
        key = ("coh", pol)
        if key not in self._cache:
            if self.has(f"coherence_{pol}"):
                c = self.var(f"coherence_{pol}").astype(np.float32)
                c = da.where(da.isfinite(c), da.clip(c, 0, 1), np.nan)
            else:
                ref = self.reference_index()
                if ref is None:
                    raise InputError("cannot find the reference date (no temporal_baseline == 0)")
                z = self.var(f"interferogram_{pol}").astype(np.complex64)
                p = self.intensity_dn(pol)
                c = coherence_estimate(z, p[ref : ref + 1], p, self.window)  # NaN left out
            self._cache[key] = c.astype(np.float32)
        return self._cache[key]

    def secondary_mask(self) -> np.ndarray:
        """Boolean per date: True for every date but the reference."""
        mask = np.ones(self.ds.sizes["time"], dtype=bool)
        ref = self.reference_index()
        if ref is not None:
            mask[ref] = False
        return mask


def phase_std_lazy(z: da.Array, window: tuple[int, int]) -> da.Array:
    """Dask wrapper of :func:`sarbd.signatures.kernels.circular_phase_std`."""
    from sarbd.signatures.kernels import circular_phase_std

    return apply_spatial(
        circular_phase_std, z, (window[0] // 2, window[1] // 2), dtype=np.float32, window=window
    )
