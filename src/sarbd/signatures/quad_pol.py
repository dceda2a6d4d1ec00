"""Category 2, full polarimetry: signatures of quad-pol stacks (HH, HV, VH, VV).

Every signature here has the ``quad`` scope: it is computed once per date for a
stack with the four linear channels and named without a polarisation suffix
(``quad_entropy``, ``t3_11`` ...). A quad-pol stack therefore gets them
automatically (``compute(stack)`` without a selection), next to the dual-pol pair
signatures of its VV/VH, HH/HV and HH/VV pairs.

Scattering vector
-----------------
Calibrated channels ``s_pq = DN_pq sqrt(cal_<kind>_pq)`` when the stack carries
calibration factors for all four channels, else the SLC as stored (NISAR RSLC
products are beta0-calibrated already). Reciprocity is imposed by averaging the
cross-pol channels, ``s_x = (s_HV + s_VH) / 2``. With ``k_L = [s_HH, sqrt2 s_x, s_VV]``
the covariance ``C3 = <k_L k_L^H>`` is a boxcar mean over the signature window (NaN
samples left out, as for C2), and the thermal noise ``diag(eta_HH, (eta_HV + eta_VH)/2,
eta_VV)`` (calibrated, where the stack has ``noise_<pol>``) is subtracted from its
diagonal, with the stack's negative-power rule. ``T3 = U C3 U^H`` (Pauli basis) is
derived from C3, so both describe the same averaged data. Decompositions and
eigen-descriptors are computed from these matrices by the Numba kernels of
:mod:`sarbd.signatures.polarimetry_kernels`.
"""

from __future__ import annotations

import math
from typing import Any

import dask.array as da
import numpy as np

import sarbd.signatures.multi_pol  # noqa: F401  (dual-pol pairs come first in the catalogue)
from sarbd.errors import InputError
from sarbd.signatures.inputs import QUAD_POLS, StackInputs, safe_db, safe_ratio
from sarbd.signatures.polarimetry_kernels import (
    EIGEN_DESCRIPTORS,
    HALPHA_ZONES,
    c3_to_t3,
    freeman_durden,
    t3_eigen,
    yamaguchi4,
)
from sarbd.signatures.registry import Signature, register

__all__ = ["c3", "calibrated_channel", "pauli_vector", "t3"]

LEE_POTTIER = "Lee, J.-S. & Pottier, E. (2009), Polarimetric Radar Imaging: From Basics to Applications, CRC Press"
CLOUDE96 = "Cloude, S. R. & Pottier, E. (1996), A review of target decomposition theorems in radar polarimetry, IEEE TGRS 34(2):498-518"
CLOUDE97 = "Cloude, S. R. & Pottier, E. (1997), An entropy based classification scheme for land applications of polarimetric SAR, IEEE TGRS 35(1):68-78"
FREEMAN = "Freeman, A. & Durden, S. L. (1998), A three-component scattering model for polarimetric SAR data, IEEE TGRS 36(3):963-973"
YAMAGUCHI = "Yamaguchi, Y., Moriyama, T., Ishido, M. & Yamada, H. (2005), Four-component scattering model for polarimetric SAR image decomposition, IEEE TGRS 43(8):1699-1706"
KIM_VANZYL = "Kim, Y. & van Zyl, J. J. (2009), A time-series approach to estimate soil moisture using polarimetric radar data, IEEE TGRS 47(8):2519-2527"

_RECIP = "reciprocity: s_x = (s_HV + s_VH)/2"


def _cached(inp: StackInputs, key: tuple[Any, ...], make: Any) -> Any:
    # StackInputs' cache is shared by every signature of one compute() call, so the
    # polarimetric intermediates are built once per graph, like C2
    cache = inp._cache
    if key not in cache:
        cache[key] = make()
    return cache[key]


def calibrated_channel(inp: StackInputs, pol: str) -> da.Array:
    """Calibrated complex channel ``DN sqrt(cal)`` (or the SLC as stored, see module doc)."""

    def make() -> da.Array:
        kind = inp.backscatter_kind
        have = [inp.has(f"cal_{kind}_{p}") for p in QUAD_POLS]
        s = inp.slc(pol)
        if all(have):
            return (s * da.sqrt(inp.var(f"cal_{kind}_{pol}").astype(np.float32))).astype(
                np.complex64
            )
        if any(have):
            raise InputError(
                f"the stack has cal_{kind}_<pol> for some quad-pol channels but not all",
                hint="give calibration factors for HH, HV, VH and VV, or for none of them",
            )
        return s

    return _cached(inp, ("quad_cal", pol), make)


def _cross(inp: StackInputs) -> da.Array:
    return _cached(
        inp,
        ("quad_sx",),
        lambda: (0.5 * (calibrated_channel(inp, "hv") + calibrated_channel(inp, "vh"))).astype(
            np.complex64
        ),
    )


def _noise(inp: StackInputs, pol: str) -> da.Array | None:
    kind = inp.backscatter_kind
    if not all(inp.has(f"cal_{kind}_{p}") for p in QUAD_POLS):
        # RSLC (no factors): noise_<pol> is then already in calibrated units
        if inp.noise_removal and inp.has(f"noise_{pol}"):
            return inp.var(f"noise_{pol}").astype(np.float32)
        return None
    return inp.noise_power(pol, kind)


def c3(inp: StackInputs) -> tuple[da.Array, ...]:
    """Window-averaged C3: ``(c11, c22, c33, c12, c13, c23)``, diagonals noise-corrected."""

    def make() -> tuple[da.Array, ...]:
        hh, vv, x = calibrated_channel(inp, "hh"), calibrated_channel(inp, "vv"), _cross(inp)
        mean = inp.window_mean
        r2 = np.float32(math.sqrt(2.0))
        c11 = mean((hh.real**2 + hh.imag**2).astype(np.float32))
        c22 = mean((2.0 * (x.real**2 + x.imag**2)).astype(np.float32))
        c33 = mean((vv.real**2 + vv.imag**2).astype(np.float32))
        noise = {p: _noise(inp, p) for p in QUAD_POLS}
        if noise["hh"] is not None:
            c11 = c11 - mean(noise["hh"])
        if noise["vv"] is not None:
            c33 = c33 - mean(noise["vv"])
        if noise["hv"] is not None and noise["vh"] is not None:
            c22 = c22 - mean((0.5 * (noise["hv"] + noise["vh"])).astype(np.float32))
        c11, c22, c33 = (inp.apply_negative_rule(c) for c in (c11, c22, c33))
        c12 = mean((r2 * hh * da.conj(x)).astype(np.complex64))
        c13 = mean((hh * da.conj(vv)).astype(np.complex64))
        c23 = mean((r2 * x * da.conj(vv)).astype(np.complex64))
        return c11, c22, c33, c12, c13, c23

    return _cached(inp, ("quad_c3",), make)  # type: ignore[no-any-return]


def t3(inp: StackInputs) -> tuple[da.Array, ...]:
    """Window-averaged T3 ``(t11, t22, t33, t12, t13, t23)`` = U C3 U^H."""

    def make() -> tuple[da.Array, ...]:
        t = c3_to_t3(*c3(inp))
        return tuple(v.astype(np.complex64 if i >= 3 else np.float32) for i, v in enumerate(t))

    return _cached(inp, ("quad_t3",), make)  # type: ignore[no-any-return]


def pauli_vector(inp: StackInputs) -> tuple[da.Array, da.Array, da.Array]:
    """Single-look Pauli vector ``k_P = [s_HH + s_VV, s_HH - s_VV, 2 s_x] / sqrt 2``."""

    def make() -> tuple[da.Array, ...]:
        hh, vv, x = calibrated_channel(inp, "hh"), calibrated_channel(inp, "vv"), _cross(inp)
        r = np.float32(1.0 / math.sqrt(2.0))
        return tuple(
            v.astype(np.complex64)
            for v in ((hh + vv) * r, (hh - vv) * r, x * np.float32(math.sqrt(2.0)))
        )

    return _cached(inp, ("quad_pauli",), make)  # type: ignore[no-any-return]


def _rows(fn: Any, n: int, args: Any) -> da.Array:
    first = args[0]
    return da.map_blocks(fn, *args, new_axis=0, chunks=((n,), *first.chunks), dtype=np.float32)


def _eigen(inp: StackInputs) -> da.Array:
    return _cached(inp, ("quad_eigen",), lambda: _rows(t3_eigen, len(EIGEN_DESCRIPTORS), t3(inp)))


def _freeman(inp: StackInputs) -> da.Array:
    c = c3(inp)
    return _cached(inp, ("quad_fd",), lambda: _rows(freeman_durden, 3, (c[0], c[1], c[2], c[4])))


def _yamaguchi(inp: StackInputs) -> da.Array:
    t, c = t3(inp), c3(inp)
    return _cached(
        inp, ("quad_y4",), lambda: _rows(yamaguchi4, 4, (t[0], t[1], t[2], t[3], t[5], c[0], c[2]))
    )


# -- compute functions ------------------------------------------------------------------
def _element(which: str, i: int, part: str | None = None) -> Any:
    def f(inp: StackInputs, key: Any) -> Any:
        v = (c3 if which == "c3" else t3)(inp)[i]
        if part == "real":
            v = v.real
        elif part == "imag":
            v = v.imag
        return v.astype(np.float32)

    return f


def _span(inp: StackInputs, key: Any) -> Any:
    c = c3(inp)
    return (c[0] + c[1] + c[2]).astype(np.float32)


def _span_db(inp: StackInputs, key: Any) -> Any:
    return safe_db(_span(inp, key))


def _pauli_power(i: int) -> Any:
    def f(inp: StackInputs, key: Any) -> Any:
        k = pauli_vector(inp)[i]
        return (k.real**2 + k.imag**2).astype(np.float32)

    return f


def _pauli_part(i: int, part: str) -> Any:
    def f(inp: StackInputs, key: Any) -> Any:
        k = pauli_vector(inp)[i]
        return (k.real if part == "real" else k.imag).astype(np.float32)

    return f


def _row(getter: Any, i: int) -> Any:
    def f(inp: StackInputs, key: Any) -> Any:
        return getter(inp)[i]

    return f


def _rvi(inp: StackInputs, key: Any) -> Any:
    c = c3(inp)
    return safe_ratio(4.0 * c[1], c[0] + c[1] + c[2])


def _copol_ratio(inp: StackInputs, key: Any) -> Any:
    c = c3(inp)
    return safe_ratio(c[2], c[0])


def _copol_ratio_db(inp: StackInputs, key: Any) -> Any:
    return safe_db(_copol_ratio(inp, key))


def _copol_corr(inp: StackInputs, key: Any) -> Any:
    c = c3(inp)
    rho = safe_ratio(da.absolute(c[4]), da.sqrt(c[0] * c[2]))
    return da.where(da.isfinite(rho), da.clip(rho, 0.0, 1.0), np.nan).astype(np.float32)


def _copol_phase(inp: StackInputs, key: Any) -> Any:
    c13 = c3(inp)[4]
    return da.where(da.absolute(c13) > 0, da.angle(c13), np.nan).astype(np.float32)


def _sig(
    name: str,
    long_name: str,
    units: str,
    formula: str,
    valid: tuple[float | None, float | None],
    ref: str,
    fn: Any,
    flags: dict[int, str] | None = None,
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
            scope="quad",
            flags=flags,
        )
    )


_W = f"quad-pol, window-averaged, {_RECIP}"
_C3 = {
    (0, 0): "<|s_HH|^2>",
    (1, 1): "2 <|s_x|^2>",
    (2, 2): "<|s_VV|^2>",
    (0, 1): "sqrt2 <s_HH s_x*>",
    (0, 2): "<s_HH s_VV*>",
    (1, 2): "sqrt2 <s_x s_VV*>",
}
_T3 = {
    (0, 0): "<|s_HH + s_VV|^2>/2",
    (1, 1): "<|s_HH - s_VV|^2>/2",
    (2, 2): "2 <|s_x|^2>",
    (0, 1): "<(s_HH + s_VV)(s_HH - s_VV)*>/2",
    (0, 2): "<(s_HH + s_VV) s_x*>",
    (1, 2): "<(s_HH - s_VV) s_x*>",
}
_ORDER = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
for _which, _table in (("c3", _C3), ("t3", _T3)):
    _basis = (
        "lexicographic k_L = [s_HH, sqrt2 s_x, s_VV]"
        if _which == "c3"
        else "Pauli k_P = [s_HH + s_VV, s_HH - s_VV, 2 s_x]/sqrt2"
    )
    _noise_note = " - noise" if _which == "c3" else " (from the noise-corrected C3)"
    for _i, (_r, _c) in enumerate(_ORDER):
        _el = f"{_which[0].upper()}{_r + 1}{_c + 1}"
        _nm = f"{_which}_{_r + 1}{_c + 1}"
        if _r == _c:
            _sig(
                _nm,
                f"{_which.upper()} element {_el} ({_W}, {_basis}; noise removed)",
                "1",
                f"{_el} = {_table[(_r, _c)]}{_noise_note}",
                (0.0, None),
                LEE_POTTIER,
                _element(_which, _i),
            )
        else:
            for _part in ("real", "imag"):
                _sig(
                    f"{_nm}_{_part}",
                    f"{_part} part of {_which.upper()} element {_el} ({_W}, {_basis})",
                    "1",
                    f"{'Re' if _part == 'real' else 'Im'} {_el} = {_table[(_r, _c)]}",
                    (None, None),
                    LEE_POTTIER,
                    _element(_which, _i, _part),
                )

_sig(
    "quad_span",
    f"total power (span) tr C3 = tr T3 ({_W}, noise removed)",
    "1",
    "span = <|s_HH|^2> + 2 <|s_x|^2> + <|s_VV|^2>",
    (0.0, None),
    LEE_POTTIER,
    _span,
)
_sig(
    "quad_span_db",
    "total power (span) tr T3 in decibels",
    "dB",
    "10 log10(span)",
    (None, None),
    LEE_POTTIER,
    _span_db,
)
_PAULI = (
    ("surface", "blue", "|s_HH + s_VV|^2 / 2"),
    ("double_bounce", "red", "|s_HH - s_VV|^2 / 2"),
    ("volume", "green", "2 |s_x|^2"),
)
for _i, (_mech, _colour, _f) in enumerate(_PAULI):
    _sig(
        f"pauli_{_mech}",
        f"Pauli {_mech.replace('_', '-')} power |k_{_i + 1}|^2, single-look "
        f"(the {_colour} channel of the Pauli RGB; {_RECIP})",
        "1",
        f"|k_{_i + 1}|^2 = {_f}",
        (0.0, None),
        LEE_POTTIER,
        _pauli_power(_i),
    )
for _i, _f in enumerate(("(s_HH + s_VV)/sqrt2", "(s_HH - s_VV)/sqrt2", "sqrt2 s_x")):
    for _part in ("real", "imag"):
        _sig(
            f"pauli_k{_i + 1}_{_part}",
            f"{_part} part of the Pauli vector element k_{_i + 1}, single-look ({_RECIP})",
            "1",
            f"{'Re' if _part == 'real' else 'Im'} k_{_i + 1} = {_f}",
            (None, None),
            LEE_POTTIER,
            _pauli_part(_i, _part),
        )

_EIG = EIGEN_DESCRIPTORS.index
for _i in range(3):
    _sig(
        f"quad_lambda{_i + 1}",
        f"eigenvalue lambda_{_i + 1} of T3 (descending)",
        "1",
        "eigenvalues of T3, lambda1 >= lambda2 >= lambda3 >= 0",
        (0.0, None),
        f"{CLOUDE96}; {LEE_POTTIER}",
        _row(_eigen, _EIG(f"lambda{_i + 1}")),
    )
_sig(
    "quad_entropy",
    "Cloude-Pottier polarimetric entropy H (quad-pol T3)",
    "1",
    "H = -sum p_i log3 p_i, p_i = lambda_i / (lambda_1 + lambda_2 + lambda_3)",
    (0.0, 1.0),
    f"{CLOUDE97}; {CLOUDE96}",
    _row(_eigen, _EIG("entropy")),
)
_sig(
    "quad_anisotropy",
    "Cloude-Pottier anisotropy A (quad-pol T3)",
    "1",
    "A = (lambda_2 - lambda_3) / (lambda_2 + lambda_3); NaN where lambda_2 + lambda_3 = 0 (pure target)",
    (0.0, 1.0),
    f"{CLOUDE97}; {LEE_POTTIER}",
    _row(_eigen, _EIG("anisotropy")),
)
_sig(
    "quad_alpha",
    "Cloude-Pottier mean alpha angle (quad-pol T3)",
    "degree",
    "alpha = sum p_i arccos|e_i(1)| (e_i the unit eigenvectors of T3)",
    (0.0, 90.0),
    f"{CLOUDE97}; {CLOUDE96}",
    _row(_eigen, _EIG("alpha")),
)
_sig(
    "quad_halpha_zone",
    "H-alpha plane zone (Cloude-Pottier zones 1-9, quad-pol)",
    "1",
    "zone(H, alpha): H bounds 0.5, 0.9; alpha bounds 55/40 (high H), 50/40 (medium), 47.5/42.5 degrees (low)",
    (1.0, 9.0),
    CLOUDE97,
    _row(_eigen, _EIG("zone")),
    flags=dict(HALPHA_ZONES),
)
_FD_RULE = "volume > co-pol power -> all volume; non-realisable |<s_HH s_VV*>| scaled; Ps, Pd >= 0"
for _i, (_mech, _f) in enumerate(
    (
        ("surface", "Ps = fs (1 + |beta|^2)"),
        ("double_bounce", "Pd = fd (1 + |alpha|^2)"),
        ("volume", "Pv = 8 fv / 3, fv = 3 <|s_x|^2>"),
    )
):
    _sig(
        f"freeman_{_mech}",
        f"Freeman-Durden three-component {_mech.replace('_', '-')} power",
        "1",
        f"{_f} ({_FD_RULE})",
        (0.0, None),
        f"{FREEMAN}; {LEE_POTTIER}",
        _row(_freeman, _i),
    )
_Y4_RULE = "Pv + Pc > span -> Ps = Pd = 0; negative Ps or Pd -> 0, the other takes the rest; Ps+Pd+Pv+Pc = span"
for _i, (_mech, _f) in enumerate(
    (
        ("surface", "Ps"),
        ("double_bounce", "Pd"),
        ("volume", "Pv = 8 or 15/2 (<|s_x|^2> - Pc/4) by 10 log10(<|s_VV|^2>/<|s_HH|^2>)"),
        ("helix", "Pc = 2 |Im T23|"),
    )
):
    _sig(
        f"yamaguchi_{_mech}",
        f"Yamaguchi four-component {_mech.replace('_', '-')} power",
        "1",
        f"{_f} ({_Y4_RULE})",
        (0.0, None),
        f"{YAMAGUCHI}; {LEE_POTTIER}",
        _row(_yamaguchi, _i),
    )
_sig(
    "quad_rvi",
    "quad-pol radar vegetation index RVI",
    "1",
    "RVI = 8 s_HV / (s_HH + s_VV + 2 s_HV) = 4 C22 / tr C3 (s_pq window-averaged power)",
    (0.0, 4.0),
    KIM_VANZYL,
    _rvi,
)
_sig(
    "copol_ratio",
    "co-pol power ratio <|s_VV|^2> / <|s_HH|^2> (quad-pol, window-averaged, noise removed)",
    "1",
    "C33 / C11",
    (0.0, None),
    LEE_POTTIER,
    _copol_ratio,
)
_sig(
    "copol_ratio_db",
    "co-pol power ratio VV/HH in decibels (quad-pol)",
    "dB",
    "10 log10(C33 / C11)",
    (None, None),
    f"{LEE_POTTIER}; {YAMAGUCHI}",
    _copol_ratio_db,
)
_sig(
    "copol_correlation",
    "co-pol correlation coefficient magnitude |rho_HHVV| (quad-pol)",
    "1",
    "|C13| / sqrt(C11 C33)",
    (0.0, 1.0),
    LEE_POTTIER,
    _copol_corr,
)
_sig(
    "copol_correlation_phase",
    "co-pol correlation phase arg<s_HH s_VV*> (quad-pol)",
    "rad",
    "arg C13 (about 0 for odd bounce, about pi for double bounce)",
    (-np.pi, np.pi),
    LEE_POTTIER,
    _copol_phase,
)
