"""Real data: a Sentinel-1 crop resampled onto its own grid; the UAVSAR (NISAR RSLC) pair."""

from __future__ import annotations

import numpy as np
import pytest

import sarbd
from sarbd.coregistration.stack import common_range_band, coregister


@pytest.fixture(scope="module")
def terceira(shared_data):
    d = shared_data / "s1_terceira"
    return sarbd.open_product(
        d / "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml",
        measurement=d / "s1a-iw3-slc-vv_subset_hight9800_10400_width11000_11000.tiff",
        offset=(9799, 10999),
        orbit=d / "S1A_OPER_AUX_RESORB_OPOD_20220918T093241_V20220918T053155_20220918T084925.EOF",
    )


def test_sentinel1_crop_onto_its_own_grid_is_unchanged(terceira) -> None:
    ds = coregister(terceira, [terceira], chunks=(256, 512), refine="off").compute()
    a, b = ds["slc_vv"].values
    assert np.linalg.norm(a - b) / np.linalg.norm(a) < 1e-5
    np.testing.assert_array_equal(a, terceira.slc("VV").values)
    assert np.nanmean(ds["coherence_vv"].values[1]) > 0.999
    assert np.abs(ds["offset_line"].values[1]).max() < 1e-4  # geometry round trip on the real orbit


@pytest.fixture(scope="module")
def sanand(shared_data):
    d = shared_data / "uavsar_nisar"
    ref = sarbd.open_product(d / "SanAnd_129.h5")
    sec = sarbd.open_product(d / "SanAnd_138.h5")
    return ref, sec, d / "SanAnd_dem.tif"


def test_uavsar_pair_coregisters_with_high_coherence(sanand) -> None:
    ref, sec, dem = sanand
    # 138 is the same pass focused at 1253 MHz with 40 MHz; 129 at 1243 MHz with 20 MHz:
    # only 1233-1253 MHz is common, i.e. [-20, 0] MHz of 138's baseband at 48 MHz sampling
    band = common_range_band(ref, sec)
    assert band == pytest.approx((-20e6 / 48e6, 0.0), abs=1e-6)
    ds = coregister(ref, [sec], dem=dem, window=(4, 4)).compute()
    coh = ds["coherence_hh"].values[1]
    assert np.nanmean(coh) > 0.95
    # the range offsets are the 2:1 sampling (secondary pixel = 2 x reference pixel)
    np.testing.assert_allclose(
        ds["offset_pixel"].values[1], np.broadcast_to(np.arange(ref.shape[1]), ref.shape), atol=0.05
    )
    # the two carriers' phase -4 pi R (1/lambda_ref - 1/lambda_sec) is removed: it would
    # be 2 pi 10 MHz / 24 MHz = 2.6 rad per pixel; what is left (~0.06 rad/pixel) is the
    # centroid of the product spectrum (138's window weighting across the common band)
    ifg = ds["interferogram_hh"].values[1]
    assert abs(np.angle(np.mean(ifg[:, 1:] * np.conj(ifg[:, :-1])))) < 0.1
