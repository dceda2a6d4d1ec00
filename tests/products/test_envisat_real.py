"""The Envisat reader on a real ASAR IMS product: pyroSAR's test file (header and annotation data sets, no MDS1).

``ASA_IMS_1PNESA20040703_205338_000000182028_00172_12250_0000.N1`` (Rome, ascending, IS2, VV,
2004-07-03; ESA PDAS-F, ASAR/6.03, MPH ``VECTOR_SOURCE="DP"``: DORIS precise orbit), cut by
pyroSAR after the Geolocation Grid ADS (25 896 bytes). Expected values are the file's own
fields, read independently here with ``struct`` at the offsets of ESA's format tables.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from sarbd.errors import ProductError
from sarbd.products import open_product
from sarbd.products.envisat import tie_point_errors
from sarbd.products.envisat_format import sph_descriptors

C = 299_792_458.0


@pytest.fixture(scope="module")
def real(asar_ims_real):
    return asar_ims_real, open_product(asar_ims_real)


def test_header_fields(real):
    _, scene = real
    m = scene.metadata
    assert m["product_name"] == "ASA_IMS_1PNESA20040703_205338_000000182028_00172_12250_0000.N1"
    assert (m["mission"], m["product_type"], m["swath"], m["pass_direction"]) == (
        "ENVISAT",
        "ASA_IMS_1P",
        "IS2",
        "ASCENDING",
    )
    assert (m["absolute_orbit"], m["relative_orbit"]) == (12250, 172)
    assert scene.polarizations == ("VV",)
    assert scene.shape == (30308, 5177)
    assert m["start_time"] == "2004-07-03T20:53:38.232230Z"
    assert m["stop_time"] == "2004-07-03T20:53:56.573257Z"
    assert m["range_sampling_rate"] == 19_207_680.0
    assert m["radar_frequency"] == 5_331_004_416.0
    assert m["prf"] == pytest.approx(1652.415649)
    assert m["calibration_constant"] == pytest.approx(32284.941406)
    assert m["vector_source"] == "DORIS precise"
    assert scene.orbit.source == "MPP ADS (DP)"
    g = scene.radar_grid
    # SPH LINE_TIME_INTERVAL=+6.05174631E-04, RANGE_SPACING=+7.80397367E+00
    # the grid spans FIRST..LAST_LINE_TIME: 1.8e-11 s per line (0.54 us over 30307 lines, the
    # microsecond resolution of the ASCII times) from the SPH's LINE_TIME_INTERVAL
    assert g.azimuth_time_interval == pytest.approx(6.05174631e-04, abs=3.3e-11)
    assert abs(g.azimuth_time_interval - 6.05174631e-04) * 30307 < 1e-6
    assert g.range_pixel_spacing == pytest.approx(7.80397367, abs=1e-8)
    assert g.wavelength == pytest.approx(C / 5_331_004_416.0)


def test_orbit_and_scene_height_from_the_mpp_ads(real):
    path, scene = real
    _, dsds = sph_descriptors(path)
    mpp = dsds["MAIN PROCESSING PARAMS ADS"]
    assert mpp["dsr_size"] == 10069
    with open(path, "rb") as f:
        f.seek(mpp["offset"])
        rec = f.read(mpp["dsr_size"])
    sv = [struct.unpack(">iII6i", rec[1765 + 36 * k : 1801 + 36 * k]) for k in range(5)]
    np.testing.assert_allclose(
        scene.orbit.positions, [np.array(s[3:6]) * 1e-2 for s in sv], rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        scene.orbit.velocities, [np.array(s[6:9]) * 1e-5 for s in sv], rtol=0, atol=1e-12
    )
    # ASAR/6.03 puts the 5 vectors at the first line, 1/4, 1/2, 3/4 and the last line
    g = scene.radar_grid
    assert scene.orbit.times[0] == g.line_to_datetime(0)[()]
    assert scene.orbit.times[-1] == g.line_to_datetime(30307)[()]
    assert scene.product.scene_height == pytest.approx(struct.unpack(">f", rec[1541:1545])[0])
    assert scene.product.scene_height == pytest.approx(276.73, abs=0.01)


def test_tie_points_match_rdr2geo_under_a_metre(real):
    """Issue 17: < 1 m against the product's own tie points with a precise orbit."""
    _, scene = real
    err = tie_point_errors(scene)
    assert len(err) == 26 * 11  # 13 granules x (first + last line) x 11 samples
    # measured: max 0.39 m, median 0.18 m (tie points in 1e-6 deg: ~0.06 m; float32 range times)
    assert err["horizontal_error"].max() < 1.0, err.sort_values("horizontal_error").tail()
    assert err["horizontal_error"].median() < 0.3
    assert np.abs(err["range_error"]).max() < 0.05
    # the slant-range times of the tie points run along the grid's range axis
    geo = scene.product.geolocation_grid
    g = scene.radar_grid
    r = geo["slant_range_time"].to_numpy() * C / 2
    np.testing.assert_allclose(
        r, g.starting_range + geo["pixel"].to_numpy() * g.range_pixel_spacing, atol=0.05
    )


def test_doppler_centroid_matches_gdal(real):
    """The Doppler Centroid ADS parsed here against GDAL's RECORDS rendering of it."""
    import warnings

    import rasterio

    path, scene = real
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path) as ds:
            rec = ds.tags(ns="RECORDS")
    (dc,) = scene.product.doppler_centroids
    gdal_coef = [float(x) for x in rec["DOP_CENTROID_COEFFS_ADS_DOP_COEF"].split()]
    np.testing.assert_allclose(dc.data_coefficients, gdal_coef, rtol=1e-6)  # GDAL: 6 decimals
    assert dc.t0 * 1e9 == pytest.approx(float(rec["DOP_CENTROID_COEFFS_ADS_SLANT_RANGE_TIME"]))
    assert dc.azimuth_time == np.datetime64("2004-07-03T20:53:47.737101", "ns")
    # -604 Hz at near range, -716 Hz at far range: about -0.4 PRF
    g = scene.radar_grid
    tau = 2 * (g.starting_range + np.array([0, 5176]) * g.range_pixel_spacing) / C
    np.testing.assert_allclose(dc.evaluate(tau), [-604.0, -715.8], atol=0.1)


def test_no_calibration_for_uncorrected_ims(real):
    """MPP ADS: ANT_ELEV_CORR_FLAG = RANGE_SPREAD_COMP_FLAG = 0 (Rosich & Meadows 2004: all IMS)."""
    from sarbd.errors import InputError
    from sarbd.products import calibrate

    _, scene = real
    assert scene.product.calibration == {}
    assert scene.metadata["calibration_constant"] == pytest.approx(32284.941406)
    with pytest.raises(InputError, match="RANGE_SPREAD_COMP_FLAG=0"):
        calibrate(scene, "VV", "beta0", remove_noise=False)


def test_fm_rate_and_ramp(real):
    """Geometric FM rate -2169 Hz/s near, -2064 Hz/s far (-2 V^2 / (lambda R) with V ~ 7.1 km/s)."""
    from sarbd.coregistration.ramps import azimuth_ramp

    _, scene = real
    (fm,) = scene.product.azimuth_fm_rates
    (dc,) = scene.product.doppler_centroids
    g = scene.radar_grid
    tau = g.starting_range_time + np.array([0, 5176]) / g.range_sampling_rate
    np.testing.assert_allclose(fm.evaluate(tau), [-2169.2, -2063.6], atol=1.0)
    ramp = azimuth_ramp(scene)
    assert ramp is not None
    np.testing.assert_allclose(
        ramp.instantaneous_doppler(np.array([0.0, 30307.0]), np.array([0.0, 5176.0])),
        dc.evaluate(tau),
        rtol=1e-12,
    )


def test_missing_pixels_are_reported(real):
    _, scene = real
    with pytest.raises(ProductError, match="the file is truncated"):
        scene.crop(0, 0, 8, 8).slc().compute()


def test_other_real_ers_products_are_refused(asar_ims_real):
    """pyroSAR's ERS precision image (Envisat format) and ERS IMS in CEOS format, when present beside it."""
    from sarbd.errors import InputError

    folder = asar_ims_real.parent
    imp = folder / "SAR_IMP_1PXESA19960808_205906_00000017G158_00458_26498_2615.E1"
    ceos = folder / "SAR_IMS_1PXESA19951220_024320_00000015G152_00132_23166_0252.E1.zip"
    if not (imp.is_file() and ceos.is_file()):
        pytest.skip(f"pyroSAR's ERS samples not found in {folder}")
    with pytest.raises(InputError, match="this one is SAR_IMP_1P"):
        open_product(imp)
    with pytest.raises(InputError, match="ERS SAR product in CEOS format"):
        open_product(ceos)
