"""Category 2: multi-polarisation signatures, per polarisation pair and date.

Pairs are ordered co-pol first: VV/VH and HH/HV (co/cross), HH/VV (co-pol). The
scattering vector is ``k = [s_1, s_2]`` of calibrated SLCs (``s / A``), and the
covariance matrix ``C2 = <k k^H>`` is a boxcar mean over the signature window,
with the thermal noise subtracted from the diagonal. (The AlignSAR reference code
put VH first, used uncalibrated DN and zero padding.)
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np

from sarbd.errors import InputError
from sarbd.signatures.inputs import StackInputs, elementwise, phase_std_lazy, safe_db, safe_ratio
from sarbd.signatures.kernels import DESCRIPTORS, ZONES, correlation_magnitude
from sarbd.signatures.registry import Signature, register

__all__: list[str] = []

LEE_POTTIER = "Lee, J.-S. & Pottier, E. (2009), Polarimetric Radar Imaging: From Basics to Applications, CRC Press"
CLOUDE97 = "Cloude, S. R. & Pottier, E. (1997), An entropy based classification scheme for land applications of polarimetric SAR, IEEE TGRS 35(1):68-78"
CLOUDE07 = "Cloude, S. R. (2007), The dual polarisation entropy/alpha decomposition: a PALSAR case study, Proc. PolInSAR 2007, ESA SP-644"
MANDAL = "Mandal, D. et al. (2020), Dual polarimetric radar vegetation index for crop growth monitoring using Sentinel-1 SAR data, Remote Sens. Environ. 247:111954"
RVI_REF = "Kim, Y. & van Zyl, J. J. (2009), A time-series approach to estimate soil moisture using polarimetric radar data, IEEE TGRS 47(8):2519-2527; Trudel, M. et al. (2012), Can. J. Remote Sens. 38(4):514-527"
DPRVIC = "Bhogapurapu, N. et al. (2022), Soil moisture retrieval over croplands using dual-pol L-band GRD SAR data, Remote Sens. Environ. 271:112900 (DpRVIc); as implemented in polsartools dprvic"
CHANG23 = "Chang, L. et al. (2023), Remote Sens. 15(6):1571 (co-pol signatures of PAZ HH/VV); std of the HH-VV phase difference"


def _c(i: int) -> Any:
    def f(inp: StackInputs, pair: tuple[str, str]) -> Any:
        return inp.c2(pair)[i]

    return f


def _c12_of(inp: StackInputs, pair: tuple[str, str]) -> Any:
    c12 = inp.c2(pair)[2]
    if c12 is None:  # plan() checks the "c2" input first; this guards direct calls
        raise InputError(f"C12 needs the SLCs and calibration of {pair}")
    return c12


def _c12(part: str) -> Any:
    def f(inp: StackInputs, pair: tuple[str, str]) -> Any:
        c12 = _c12_of(inp, pair)
        return (c12.real if part == "real" else c12.imag).astype(np.float32)

    return f


def _span(inp: StackInputs, pair: tuple[str, str]) -> Any:
    c11, c22, _ = inp.c2(pair)
    return (c11 + c22).astype(np.float32)


def _span_db(inp: StackInputs, pair: tuple[str, str]) -> Any:
    return safe_db(_span(inp, pair))


def _sum(inp: StackInputs, pair: tuple[str, str]) -> Any:
    return (inp.backscatter(pair[0]) + inp.backscatter(pair[1])).astype(np.float32)


def _diff(inp: StackInputs, pair: tuple[str, str]) -> Any:
    return (inp.backscatter(pair[0]) - inp.backscatter(pair[1])).astype(np.float32)


def _ratio(inp: StackInputs, pair: tuple[str, str]) -> Any:
    return safe_ratio(inp.backscatter(pair[0]), inp.backscatter(pair[1]))


def _ratio_db(inp: StackInputs, pair: tuple[str, str]) -> Any:
    return safe_db(_ratio(inp, pair))


def _cross_product(inp: StackInputs, pair: tuple[str, str]) -> Any:
    return inp.c12_abs(pair)


def _correlation(inp: StackInputs, pair: tuple[str, str]) -> Any:
    if inp.available("c2", pair):  # SLC pair: one pass over the fused C2 block
        b = inp.c2_block(pair)
        return elementwise(correlation_magnitude, b[0], b[1], b[2], b[3])
    c11, c22, _ = inp.c2(pair)
    rho = safe_ratio(inp.c12_abs(pair), da.sqrt(c11 * c22))
    return da.where(da.isfinite(rho), da.clip(rho, 0.0, 1.0), np.nan).astype(np.float32)


def _descriptor(name: str) -> Any:
    if name not in DESCRIPTORS:
        raise ValueError(f"unknown descriptor {name!r}")

    def f(inp: StackInputs, pair: tuple[str, str]) -> Any:
        return inp.descriptor(pair, name)

    return f


def _rvi(inp: StackInputs, pair: tuple[str, str]) -> Any:
    c11, c22, _ = inp.c2(pair)
    return safe_ratio(4.0 * c22, c11 + c22)


def _dprvic(inp: StackInputs, pair: tuple[str, str]) -> Any:
    c11, c22, _ = inp.c2(pair)
    q = da.clip(safe_ratio(c22, c11), 0.0, 1.0)
    return (q * (q + 3.0) / (q + 1.0) ** 2).astype(np.float32)


def _phase_diff_std(inp: StackInputs, pair: tuple[str, str]) -> Any:
    z = (inp.slc(pair[0]) * da.conj(inp.slc(pair[1]))).astype(np.complex64)
    return phase_std_lazy(z, inp.window)


def _sig(
    name: str,
    long_name: str,
    units: str,
    formula: str,
    inputs: tuple[str, ...],
    valid: tuple[float | None, float | None],
    ref: str,
    fn: Any,
    scope: str = "pair",
    flags: dict[int, str] | None = None,
) -> None:
    register(
        Signature(
            name=name,
            long_name=long_name,
            units=units,
            category="2",
            formula=formula,
            inputs=inputs,
            valid_range=valid,
            reference=ref,
            compute=fn,
            scope=scope,
            flags=flags,
        )
    )


_W = "window-averaged"
_sig(
    "c2_11",
    f"C2 element C11 = <|s1|^2> of {{pair}} ({_W}, calibrated, noise removed)",
    "1",
    "C11 = <|s1|^2/A1^2> - <eta1/A1^2>",
    ("backscatter",),
    (0.0, None),
    LEE_POTTIER,
    _c(0),
)
_sig(
    "c2_22",
    f"C2 element C22 = <|s2|^2> of {{pair}} ({_W}, calibrated, noise removed)",
    "1",
    "C22 = <|s2|^2/A2^2> - <eta2/A2^2>",
    ("backscatter",),
    (0.0, None),
    LEE_POTTIER,
    _c(1),
)
_sig(
    "c2_12_real",
    f"real part of C2 element C12 = <s1 s2*> of {{pair}} ({_W}, calibrated)",
    "1",
    "Re<s1 s2* / (A1 A2)>",
    ("c2",),
    (None, None),
    LEE_POTTIER,
    _c12("real"),
)
_sig(
    "c2_12_imag",
    f"imaginary part of C2 element C12 = <s1 s2*> of {{pair}} ({_W}, calibrated)",
    "1",
    "Im<s1 s2* / (A1 A2)>",
    ("c2",),
    (None, None),
    LEE_POTTIER,
    _c12("imag"),
)
_sig(
    "span",
    "total power (span) tr C2 of {pair}",
    "1",
    "span = C11 + C22",
    ("backscatter",),
    (0.0, None),
    LEE_POTTIER,
    _span,
)
_sig(
    "span_db",
    "total power (span) tr C2 of {pair} in decibels",
    "dB",
    "10 log10(C11 + C22)",
    ("backscatter",),
    (None, None),
    LEE_POTTIER,
    _span_db,
)
_sig(
    "intensity_sum",
    "sum of the calibrated backscatter of {pair} (per pixel, speckle filter if set)",
    "1",
    "b1 + b2 (b = backscatter, e.g. sigma0)",
    ("backscatter",),
    (0.0, None),
    "Zhang, Chang, Girgin & Stein (2025), IJAEOG 142:104722 (AlignSAR)",
    _sum,
)
_sig(
    "intensity_difference",
    "difference of the calibrated backscatter of {pair} (first minus second)",
    "1",
    "b1 - b2",
    ("backscatter",),
    (None, None),
    "Zhang, Chang, Girgin & Stein (2025), IJAEOG 142:104722 (AlignSAR)",
    _diff,
)
_sig(
    "intensity_ratio",
    "ratio of the calibrated backscatter of {pair} (first over second; co/cross for VV/VH)",
    "1",
    "b1 / b2; NaN where b2 <= 0",
    ("backscatter",),
    (0.0, None),
    "Zhang, Chang, Girgin & Stein (2025), IJAEOG 142:104722 (AlignSAR)",
    _ratio,
)
_sig(
    "intensity_ratio_db",
    "ratio of the calibrated backscatter of {pair} in decibels",
    "dB",
    "10 log10(b1 / b2)",
    ("backscatter",),
    (None, None),
    "Zhang, Chang, Girgin & Stein (2025), IJAEOG 142:104722 (AlignSAR)",
    _ratio_db,
)
_sig(
    "pol_correlation",
    "polarimetric correlation coefficient magnitude of {pair} (cross-pol for VV/VH, co-pol for HH/VV)",
    "1",
    "|C12| / sqrt(C11 C22)",
    ("c2",),
    (0.0, 1.0),
    LEE_POTTIER,
    _correlation,
)
_sig(
    "cross_product",
    "magnitude of the cross product |<s1 s2*>| of {pair}",
    "1",
    "|C12| (not |C11 - C22| as in the AlignSAR reference code)",
    ("c2",),
    (0.0, None),
    LEE_POTTIER,
    _cross_product,
)
_sig(
    "entropy",
    "dual-pol scattering entropy H of {pair}",
    "1",
    "H = -sum p_i log2 p_i, p_i = lambda_i / (lambda_1 + lambda_2)",
    ("c2",),
    (0.0, 1.0),
    f"{CLOUDE97}; {CLOUDE07}",
    _descriptor("entropy"),
)
_sig(
    "anisotropy",
    "dual-pol anisotropy A of {pair}",
    "1",
    "A = (lambda_1 - lambda_2) / (lambda_1 + lambda_2) (equals the degree of polarisation for 2 x 2)",
    ("c2",),
    (0.0, 1.0),
    f"{CLOUDE97}; {CLOUDE07}",
    _descriptor("anisotropy"),
)
_sig(
    "alpha",
    "dual-pol mean alpha angle of {pair}",
    "degree",
    "alpha = sum p_i arccos|e_i(1)|",
    ("c2",),
    (0.0, 90.0),
    f"{CLOUDE97}; {CLOUDE07}",
    _descriptor("alpha"),
)
_sig(
    "degree_of_polarization",
    "degree of polarisation m of {pair}",
    "1",
    "m = sqrt(1 - 4 det C2 / (tr C2)^2)",
    ("c2",),
    (0.0, 1.0),
    MANDAL,
    _descriptor("degree_of_polarization"),
)
_sig(
    "dprvi",
    "dual-pol radar vegetation index DpRVI of {pair}",
    "1",
    "DpRVI = 1 - m lambda_1 / (lambda_1 + lambda_2)",
    ("c2",),
    (0.0, 1.0),
    MANDAL,
    _descriptor("dprvi"),
    scope="cross_pair",
)
_sig(
    "rvi",
    "dual-pol radar vegetation index RVI of {pair}",
    "1",
    "RVI = 4 C22 / (C11 + C22) (= 4 b_cross / (b_co + b_cross))",
    ("backscatter",),
    (0.0, 4.0),
    RVI_REF,
    _rvi,
    scope="cross_pair",
)
_sig(
    "dprvic",
    "dual-pol radar vegetation index from intensities DpRVIc of {pair}",
    "1",
    "q = min(C22/C11, 1); DpRVIc = q (q + 3) / (q + 1)^2",
    ("backscatter",),
    (0.0, 1.0),
    DPRVIC,
    _dprvic,
    scope="cross_pair",
)
_sig(
    "halpha_zone",
    "H-alpha plane zone of {pair} (Cloude-Pottier zones 1-9; dual-pol approximation)",
    "1",
    "zone(H, alpha): H bounds 0.5, 0.9; alpha bounds 40/50/55 and 42.5/47.5 degrees",
    ("c2",),
    (1.0, 9.0),
    f"{CLOUDE97}; {CLOUDE07}",
    _descriptor("zone"),
    flags=dict(ZONES),
)
_sig(
    "copol_phase_difference_std",
    "standard deviation of the co-pol phase difference arg(s_HH s_VV*) of {pair}",
    "rad",
    "sqrt(<wrap(arg(s1 s2*) - arg<s1 s2*/|s1 s2*|>)^2>) over the window",
    ("slc",),
    (0.0, np.pi),
    f"{CHANG23}; {LEE_POTTIER}",
    _phase_diff_std,
    scope="copol_pair",
)
