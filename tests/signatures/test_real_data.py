"""Signatures on real data: OPERA RTC gamma0 time series and the Terceira Sentinel-1 crop."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy.ndimage import uniform_filter

import sarbd.signatures as S

TERCEIRA_XML = "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml"
TERCEIRA_TIFF = "s1a-iw3-slc-vv_subset_hight9800_10400_width11000_11000.tiff"
#: Sentinel-1 IW SLC beta-nought calibration constant A_beta (the LUT is constant:
#: 2.369867e+02 in every calibration XML of the S1B SAFE in ../shared/data).
A_BETA = 236.9867


@pytest.fixture(scope="module")
def rtc(shared_data: Path) -> xr.Dataset:
    """The OPERA RTC-S1 series as a backscatter-only stack gamma0_vv / gamma0_vh."""
    import rasterio

    folder = shared_data / "rtc_timeseries"
    files = sorted(folder.glob("*_VV.tif"))
    assert len(files) == 22
    times, vv, vh = [], [], []
    for f in files:
        d, t = re.search(r"_(\d{8})T(\d{6})Z_", f.name).groups()
        times.append(np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:]}", "ns"))
        with rasterio.open(f) as r:
            vv.append(r.read(1))
        with rasterio.open(str(f).replace("_VV.tif", "_VH.tif")) as r:
            vh.append(r.read(1))
    dims = ("time", "line", "pixel")
    return xr.Dataset(
        {"gamma0_vv": (dims, np.stack(vv)), "gamma0_vh": (dims, np.stack(vh))},
        coords={"time": np.array(times), "line": np.arange(100), "pixel": np.arange(100)},
    )


def _nan_boxcar(x: np.ndarray, w: int) -> np.ndarray:
    """Direct NaN-aware window mean over (line, pixel) with NaN outside the image."""
    h = w // 2
    pad = np.pad(x, ((0, 0), (h, h), (h, h)), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(pad, (w, w), axis=(1, 2))
    return np.nanmean(win, axis=(-2, -1))


def test_rtc_ratio_rvi_and_temporal_statistics(rtc):
    names = [
        "gamma0_db",
        "intensity_ratio",
        "intensity_ratio_db",
        "rvi",
        "dprvic",
        "span",
        "backscatter_mean",
        "backscatter_mean_db",
        "backscatter_std",
        "backscatter_cv",
        "backscatter_min",
        "backscatter_max",
        "soil_moisture_index",
    ]
    f = S.compute(rtc, names, window=(5, 5)).load()
    assert f.attrs["sarbd_backscatter"] == "gamma0"
    vv = rtc.gamma0_vv.values.astype(np.float64)
    vh = rtc.gamma0_vh.values.astype(np.float64)
    # the same formulas computed directly with NumPy on the files
    np.testing.assert_allclose(f.gamma0_db_vv, 10 * np.log10(vv), atol=1e-4)
    assert f.gamma0_db_vv.attrs["units"] == "dB"
    # OPERA clips noise-corrected VH at 0 on a few pixels: the ratio is NaN there, not inf
    zero = vh == 0
    assert 0 < zero.sum() < 50
    with np.errstate(divide="ignore"):
        ratio = np.where(zero, np.nan, vv / vh)
    np.testing.assert_allclose(f.intensity_ratio_vv_vh, ratio, rtol=1e-5)
    np.testing.assert_array_equal(np.isnan(f.intensity_ratio_vv_vh), zero)
    np.testing.assert_array_equal(np.isnan(f.gamma0_db_vh), zero)
    np.testing.assert_allclose(f.intensity_ratio_db_vv_vh, 10 * np.log10(ratio), atol=1e-4)
    c11, c22 = _nan_boxcar(vv, 5), _nan_boxcar(vh, 5)
    np.testing.assert_allclose(f.rvi_vv_vh, 4 * c22 / (c11 + c22), rtol=1e-4)
    np.testing.assert_allclose(f.span_vv_vh, c11 + c22, rtol=1e-4)
    q = np.minimum(c22 / c11, 1)
    np.testing.assert_allclose(f.dprvic_vv_vh, q * (q + 3) / (q + 1) ** 2, rtol=1e-4)
    np.testing.assert_allclose(f.backscatter_mean_vv, vv.mean(0), rtol=1e-5)
    np.testing.assert_allclose(f.backscatter_mean_db_vh, 10 * np.log10(vh.mean(0)), atol=1e-4)
    np.testing.assert_allclose(f.backscatter_std_vv, vv.std(0, ddof=1), rtol=1e-4)
    np.testing.assert_allclose(f.backscatter_cv_vh, vh.std(0, ddof=1) / vh.mean(0), rtol=1e-4)
    np.testing.assert_allclose(f.backscatter_min_vv, vv.min(0), rtol=1e-6)
    np.testing.assert_allclose(f.backscatter_max_vh, vh.max(0), rtol=1e-6)
    db = 10 * np.log10(vv)
    np.testing.assert_allclose(
        f.soil_moisture_index_vv, (db - db.min(0)) / (db.max(0) - db.min(0)), atol=1e-4
    )
    # and the values are plausible for C-band gamma0 of natural land surfaces (here dry
    # chaparral/grassland: VV about -16 dB, VH about -28 dB; sea would be far lower in VH
    # and towns far higher)
    assert -22 < float(np.median(f.gamma0_db_vv)) < -6
    assert -32 < float(np.nanmedian(f.gamma0_db_vh)) < -14
    assert 3 < float(np.nanmedian(f.intensity_ratio_db_vv_vh)) < 15  # co/cross ratio in dB
    assert 0.05 < float(np.median(f.rvi_vv_vh)) < 1.0  # (bare soil ~0.1 ... dense vegetation ~1)
    assert float(f.rvi_vv_vh.min()) >= 0 and float(f.rvi_vv_vh.max()) <= 4
    cv = float(np.median(f.backscatter_cv_vv))
    assert 0.1 < cv < 1.0  # 22 dates of single-look-free RTC: moderate temporal variability
    assert not any(np.isinf(v.values).any() for v in f.data_vars.values())
    # signatures needing phase are refused with a clear error
    from sarbd.errors import InputError

    with pytest.raises(InputError, match="needs"):
        S.compute(rtc, ["entropy"])


@pytest.fixture(scope="module")
def terceira_stack(shared_data: Path) -> xr.Dataset:
    """A one-date stack of the Terceira crop: SLC and sigma0 calibration factor.

    The crop comes without its calibration XML, so the factor is built the way the
    Sentinel-1 LUTs are defined: beta0 = |DN|^2 / A_beta^2 with the constant IW SLC
    A_beta, and sigma0 = beta0 sin(theta_i), theta_i interpolated in range from the
    annotation's geolocation grid. No noise LUT: noise is not removed.
    """
    from sarbd import open_product

    d = shared_data / "s1_terceira"
    scene = open_product(d / TERCEIRA_XML, measurement=d / TERCEIRA_TIFF, offset=(9799, 10999))
    slc = scene.slc("VV")
    grid = scene.product.geolocation_grid
    row = grid[grid["line"] == grid["line"].iloc[0]]
    inc = np.interp(slc.pixel.values, row["pixel"].values, row["incidence_angle"].values)
    cal_beta = np.full(slc.shape, 1.0 / A_BETA**2, np.float32)
    cal_sigma = (cal_beta * np.sin(np.deg2rad(inc))[None, :]).astype(np.float32)
    dims = ("time", "line", "pixel")
    return xr.Dataset(
        {
            "slc_vv": (dims, slc.data[None]),
            "cal_sigma0_vv": (dims, cal_sigma[None]),
            "cal_beta0_vv": (dims, cal_beta[None]),
            "incidence_angle": (
                ("line", "pixel"),
                np.broadcast_to(inc, slc.shape).astype(np.float32),
            ),
        },
        coords={
            "time": [np.datetime64("2022-09-18T07:49:21", "ns")],
            "line": slc.line,
            "pixel": slc.pixel,
        },
    )


def test_terceira_sigma0_sea_and_land(terceira_stack):
    f = S.compute(
        terceira_stack,
        ["sigma0", "sigma0_db", "beta0_db", "amplitude"],
        filter="boxcar",
        filter_kwargs={"window": (5, 15)},
    ).load()
    s_db = f.sigma0_db_vv.isel(time=0).values
    # direct computation from the pixels
    dn2 = np.abs(terceira_stack.slc_vv.values[0].astype(np.complex128)) ** 2
    direct = uniform_filter(dn2 * terceira_stack.cal_sigma0_vv.values[0], (5, 15), mode="constant")
    inner = np.s_[3:-3, 8:-8]
    np.testing.assert_allclose(f.sigma0_vv.values[0][inner], direct[inner], rtol=1e-4)
    sea = np.median(s_db[460:590, 100:1300])  # open sea south of Angra (lines of the crop)
    land = np.median(s_db[20:230, 100:1300])  # town and fields
    # C-band VV at ~42 degrees: open sea about -30..-15 dB (wind dependent, noise floor ~-24),
    # built-up and vegetated land about -14..-4 dB
    assert -32 < sea < -15
    assert -14 < land < -4
    assert land - sea > 8
    # beta0 - sigma0 = -10 log10(sin(theta)): 1.6 dB at the crop's 43.7 degrees
    diff = (f.beta0_db_vv - f.sigma0_db_vv).values[0]
    theta = np.deg2rad(terceira_stack.incidence_angle.values)
    np.testing.assert_allclose(diff, -10 * np.log10(np.sin(theta)), atol=2e-3)
    assert 43 < float(terceira_stack.incidence_angle.mean()) < 44.5
