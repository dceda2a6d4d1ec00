"""Category 2, compact polarimetry: signatures of CTLR (circular transmit, linear receive) stacks.

A compact-pol stack carries the two received linear channels of a circularly
polarised transmission as ``slc_rh`` and ``slc_rv`` (RCM and NISAR compact modes),
optionally with ``cal_<kind>_rh``/``cal_<kind>_rv`` factors and ``noise_rh``/``noise_rv``.
:func:`simulate_ctlr` derives them from a quad-pol stack. The signatures have the
``compact`` scope: named without a polarisation suffix, computed once per date.
The Stokes vector and the degree of polarisation apply to any compact mode; the
m-chi, m-delta, relative-phase and CpRVI readings assume circular transmission (CTLR),
not the linear 45-degree transmission of the "pi/4" mode.

The Stokes vector of the received field is window-averaged (boxcar over the signature
window, NaN samples left out; noise subtracted from S0 and S1 where the stack has it):
``S0 = <|E_RH|^2 + |E_RV|^2>``, ``S1 = <|E_RH|^2 - |E_RV|^2>``, ``S2 = 2 Re<E_RH E_RV*>``,
``S3 = -2 Im<E_RH E_RV*>`` (Raney 2007). With this sign a trihedral (odd bounce) gives
``S3 = -S0`` and a dihedral ``S3 = +S0``.
"""

from __future__ import annotations

import math
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

import sarbd.signatures.quad_pol  # noqa: F401  (quad-pol before compact-pol in the catalogue)
from sarbd.errors import InputError
from sarbd.signatures.inputs import COMPACT_POLS, StackInputs
from sarbd.signatures.polarimetry_kernels import COMPACT_DESCRIPTORS, compact_descriptors
from sarbd.signatures.registry import Signature, register

__all__ = ["simulate_ctlr", "stokes"]

RANEY07 = "Raney, R. K. (2007), Hybrid-polarity SAR architecture, IEEE TGRS 45(11):3397-3404"
RANEY12 = (
    "Raney, R. K., Cahill, J. T. S., Patterson, G. W. & Bussey, D. B. J. (2012), The m-chi decomposition "
    "of hybrid dual-polarimetric radar data with application to lunar craters, J. Geophys. Res. 117:E00H21"
)
CHARBONNEAU = (
    "Charbonneau, F. J. et al. (2010), Compact polarimetry overview and applications assessment, "
    "Can. J. Remote Sens. 36(S2):S298-S315"
)
MANDAL_CP = (
    "Mandal, D. et al. (2020), A radar vegetation index for crop monitoring using compact polarimetric "
    "SAR data, IEEE TGRS 58(9):6321-6335"
)


def simulate_ctlr(stack: xr.Dataset, *, backscatter: str = "sigma0") -> xr.Dataset:
    """Add CTLR channels ``slc_rh``, ``slc_rv`` simulated from the quad-pol channels of a stack.

    Right-circular transmission with the Jones vector ``[1, -i]/sqrt2`` received on H
    and V: ``E_RH = (s_HH - i s_HV)/sqrt2``, ``E_RV = (s_VH - i s_VV)/sqrt2`` (Raney
    2007; Charbonneau et al. 2010). The channels are calibrated first
    (``cal_<backscatter>_<pol>`` when the stack has them), so the simulated ones carry
    no calibration factor; noise is not propagated. Lazy where the stack is.

    Raises
    ------
    InputError
        If the stack lacks one of ``slc_hh``, ``slc_hv``, ``slc_vh``, ``slc_vv``.
    """
    missing = [p for p in ("hh", "hv", "vh", "vv") if f"slc_{p}" not in stack]
    if missing:
        raise InputError(
            f"simulating compact-pol needs slc_{', slc_'.join(missing)}, which the stack lacks"
        )

    def ch(p: str) -> xr.DataArray:
        s = stack[f"slc_{p}"]
        cal = f"cal_{backscatter}_{p}"
        return s * np.sqrt(stack[cal]) if cal in stack else s

    r = 1.0 / math.sqrt(2.0)
    out = stack.copy()
    for name, a, b in (("rh", "hh", "hv"), ("rv", "vh", "vv")):
        v = ((ch(a) - 1j * ch(b)) * r).astype(np.complex64)
        v.attrs = {
            "long_name": f"compact-pol {name.upper()} channel simulated from quad-pol (CTLR, calibrated)",
            "units": "1",
            "sarbd_formula": f"(s_{a.upper()} - i s_{b.upper()}) / sqrt2",
        }
        out[f"slc_{name}"] = v
    return out


def _channel(inp: StackInputs, pol: str) -> da.Array:
    kind = inp.backscatter_kind
    have = [inp.has(f"cal_{kind}_{p}") for p in COMPACT_POLS]
    s = inp.slc(pol)
    if all(have):
        return (s * da.sqrt(inp.var(f"cal_{kind}_{pol}").astype(np.float32))).astype(np.complex64)
    if any(have):
        raise InputError(f"the stack has cal_{kind}_<pol> for one compact-pol channel but not both")
    return s


def _noise(inp: StackInputs, pol: str) -> da.Array | None:
    kind = inp.backscatter_kind
    if not (inp.noise_removal and inp.has(f"noise_{pol}")):
        return None
    if inp.has(f"cal_{kind}_{pol}"):
        return inp.noise_power(pol, kind)
    return inp.var(f"noise_{pol}").astype(np.float32)


def stokes(inp: StackInputs) -> tuple[da.Array, da.Array, da.Array, da.Array]:
    """Window-averaged Stokes vector ``(S0, S1, S2, S3)`` of the CTLR channels (module doc)."""
    key = ("cp_stokes",)
    cache = inp._cache  # shared by every signature of one compute() call
    if key not in cache:
        rh, rv = _channel(inp, "rh"), _channel(inp, "rv")
        mean = inp.window_mean
        p_h = mean((rh.real**2 + rh.imag**2).astype(np.float32))
        p_v = mean((rv.real**2 + rv.imag**2).astype(np.float32))
        n_h, n_v = _noise(inp, "rh"), _noise(inp, "rv")
        if n_h is not None and n_v is not None:
            p_h, p_v = p_h - mean(n_h), p_v - mean(n_v)
        p_h, p_v = inp.apply_negative_rule(p_h), inp.apply_negative_rule(p_v)
        c = mean((rh * da.conj(rv)).astype(np.complex64))
        cache[key] = (
            (p_h + p_v).astype(np.float32),
            (p_h - p_v).astype(np.float32),
            (2.0 * c.real).astype(np.float32),
            (-2.0 * c.imag).astype(np.float32),
        )
    return cache[key]  # type: ignore[no-any-return]


def _descriptors(inp: StackInputs) -> da.Array:
    key = ("cp_desc",)
    cache = inp._cache
    if key not in cache:
        s = stokes(inp)
        cache[key] = da.map_blocks(
            compact_descriptors,
            *s,
            new_axis=0,
            chunks=((len(COMPACT_DESCRIPTORS),), *s[0].chunks),
            dtype=np.float32,
        )
    return cache[key]


def _stokes_fn(i: int) -> Any:
    def f(inp: StackInputs, key: Any) -> Any:
        return stokes(inp)[i]

    return f


def _desc_fn(name: str) -> Any:
    row = COMPACT_DESCRIPTORS.index(name)

    def f(inp: StackInputs, key: Any) -> Any:
        return _descriptors(inp)[row]

    return f


def _sig(
    name: str,
    long_name: str,
    units: str,
    formula: str,
    valid: tuple[float | None, float | None],
    ref: str,
    fn: Any,
) -> None:
    register(
        Signature(
            name=name,
            long_name=long_name,
            units=units,
            category="2",
            formula=formula,
            inputs=("slc",),
            valid_range=valid,
            reference=ref,
            compute=fn,
            scope="compact",
        )
    )


_STOKES = (
    "<|E_RH|^2> + <|E_RV|^2>",
    "<|E_RH|^2> - <|E_RV|^2>",
    "2 Re<E_RH E_RV*>",
    "-2 Im<E_RH E_RV*>",
)
for _i, _f in enumerate(_STOKES):
    _sig(
        f"stokes_s{_i}",
        f"Stokes parameter S{_i} of the compact-pol (CTLR) return, window-averaged",
        "1",
        f"S{_i} = {_f}" + (" (noise removed)" if _i < 2 else ""),
        (0.0, None) if _i == 0 else (None, None),
        f"{RANEY07}; {CHARBONNEAU}",
        _stokes_fn(_i),
    )
_sig(
    "cp_degree_of_polarization",
    "degree of polarisation m of the compact-pol return",
    "1",
    "m = sqrt(S1^2 + S2^2 + S3^2) / S0",
    (0.0, 1.0),
    f"{RANEY07}; {CHARBONNEAU}",
    _desc_fn("degree_of_polarization"),
)
_sig(
    "cp_relative_phase",
    "relative phase delta between the compact-pol RH and RV returns",
    "degree",
    "delta = atan2(S3, S2) (-90 for odd bounce, +90 for double bounce)",
    (-180.0, 180.0),
    f"{CHARBONNEAU}; {RANEY12}",
    _desc_fn("relative_phase"),
)
_MCHI = {
    "surface": "m S0 (1 + sin 2chi) / 2",
    "double_bounce": "m S0 (1 - sin 2chi) / 2",
    "volume": "S0 (1 - m)",
}
for _mech, _f in _MCHI.items():
    _sig(
        f"mchi_{_mech}",
        f"m-chi decomposition {_mech.replace('_', '-')} power (compact-pol)",
        "1",
        f"{_f}, sin 2chi = -S3 / (m S0)",
        (0.0, None),
        RANEY12,
        _desc_fn(f"mchi_{_mech}"),
    )
_MDELTA = {
    "surface": "m S0 (1 - sin delta) / 2",
    "double_bounce": "m S0 (1 + sin delta) / 2",
    "volume": "S0 (1 - m)",
}
for _mech, _f in _MDELTA.items():
    _sig(
        f"mdelta_{_mech}",
        f"m-delta decomposition {_mech.replace('_', '-')} power (compact-pol)",
        "1",
        f"{_f}, delta = atan2(S3, S2)",
        (0.0, None),
        f"{RANEY12}; {CHARBONNEAU}",
        _desc_fn(f"mdelta_{_mech}"),
    )
_sig(
    "cprvi",
    "compact-pol radar vegetation index CpRVI",
    "1",
    "CpRVI = (1 - l) (min(SC, OC) / max(SC, OC))^(2 l), l = 3/2 GD, GD = (2/pi) arccos(S0 / sqrt(S0^2 + "
    "2 S1^2 + 2 S2^2 + S3^2)), SC = (S0 - S3)/2, OC = (S0 + S3)/2",
    (0.0, 1.0),
    MANDAL_CP,
    _desc_fn("cprvi"),
)
