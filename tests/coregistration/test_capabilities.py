"""Reader capabilities are typed (``sarbd.core.capabilities``), not guessed: a NISAR/UAVSAR
RSLC is explicitly not TOPS and annotates no azimuth ramp; Sentinel-1 TOPS provides both."""

from __future__ import annotations

import logging

import pytest

import sarbd
from sarbd.core.capabilities import (
    AcquisitionMode,
    AzimuthRampProvider,
    CalibrationProvider,
    FootprintPolygon,
    GeolocationGridProvider,
    ProcessedRangeBand,
    TopsBurstTiming,
    is_tops_product,
)
from sarbd.coregistration.ramps import azimuth_ramp, is_tops_swath


def test_a_product_that_does_not_state_its_mode_is_refused() -> None:
    class Anonymous:
        doppler_centroids = ()

    with pytest.raises(TypeError, match="Anonymous does not state whether it is TOPS"):
        is_tops_product(Anonymous())
    assert is_tops_product(None) is False  # no product information: a plain frame


def test_nisar_rslc_is_explicitly_stripmap_without_a_ramp(shared_data, caplog) -> None:
    scene = sarbd.open_product(shared_data / "uavsar_nisar" / "SanAnd_129.h5")
    p = scene.product
    assert isinstance(p, AcquisitionMode) and p.is_tops is False
    assert not isinstance(p, TopsBurstTiming)
    assert not isinstance(p, AzimuthRampProvider)
    assert not is_tops_swath(scene)
    assert (
        isinstance(p, ProcessedRangeBand) and p.processed_range_bandwidth > 0
    )  # the common-band filter's input
    assert isinstance(p, FootprintPolygon) and not isinstance(p, GeolocationGridProvider)
    assert not isinstance(p, CalibrationProvider)
    with caplog.at_level(logging.DEBUG, logger="sarbd.coregistration.ramps"):
        assert azimuth_ramp(scene) is None
    assert "NisarProduct, not TOPS) annotates no azimuth ramp" in caplog.text


def test_sentinel1_tops_provides_timing_and_ramp(shared_data) -> None:
    d = shared_data / "s1_terceira"
    scene = sarbd.open_product(
        d / "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml",
        measurement=d / "s1a-iw3-slc-vv_subset_hight9800_10400_width11000_11000.tiff",
        offset=(9799, 10999),
    )
    p = scene.product
    assert isinstance(p, AcquisitionMode) and p.is_tops is True
    assert isinstance(p, TopsBurstTiming) and isinstance(p, AzimuthRampProvider)
    assert isinstance(
        p, CalibrationProvider
    )  # (empty here: the crop comes without its calibration XML)
    assert not isinstance(p, ProcessedRangeBand)
    assert isinstance(p, GeolocationGridProvider) and len(p.geolocation_grid) > 0
    assert not isinstance(p, FootprintPolygon)
    assert not is_tops_swath(scene)  # a crop in TIFF lines, not a debursted swath
    ramp = azimuth_ramp(scene)
    assert ramp is not None and ramp.steering_rate != 0.0  # TOPS: the antenna steering term


def test_a_height_source_without_its_protocol_is_refused() -> None:
    """radarcode's terrain is a HeightSource (height_at and description), not a guess."""
    from sarbd.radarcode.target import ConstantHeight, HeightSource, heights_from

    class HeightsOnly:  # no description: not a HeightSource
        def height_at(self, latitude, longitude):  # type: ignore[no-untyped-def]
            return latitude

    assert isinstance(ConstantHeight(5.0, "flat"), HeightSource)
    assert not isinstance(HeightsOnly(), HeightSource)
    with pytest.raises(sarbd.errors.InputError, match="cannot use a HeightsOnly as a DEM"):
        heights_from(HeightsOnly(), None, None)  # type: ignore[arg-type]
