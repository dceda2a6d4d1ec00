"""The real Terceira crop (S1A IW3 VV, lines 9799.., pixels 10999.. of the swath)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import rasterio
from lxml import etree

from sarbd.core.radar_grid import SPEED_OF_LIGHT
from tests.products.conftest import TERCEIRA_EOF, TERCEIRA_OFFSET, TERCEIRA_TIFF, TERCEIRA_XML

# README: product S1A_IW_SLC__1SDV_20220918T074920_20220918T074947_045056_056232_62D6
PRODUCT_NAME = "S1A_IW_SLC__1SDV_20220918T074920_20220918T074947_045056_056232_62D6"


def test_crop_pixels_equal_the_tiff(terceira, terceira_scene):
    s = terceira_scene
    assert s.shape == (601, 1401)
    g = s.radar_grid
    assert (g.first_line, g.first_pixel) == TERCEIRA_OFFSET
    slc = s.slc("VV")
    assert slc.dtype == np.complex64
    assert slc.line.values[0] == 9799 and slc.pixel.values[-1] == 10999 + 1400
    with rasterio.open(terceira / TERCEIRA_TIFF) as ds:
        ref = ds.read(1)
    np.testing.assert_array_equal(slc.values, ref)
    # a sub-crop keeps absolute positions and reads the same pixels
    sub = s.crop(100, 200, 50, 60)
    np.testing.assert_array_equal(sub.slc().values, ref[100:150, 200:260])
    # the pixel source is picklable (Dask workers)
    src = pickle.loads(pickle.dumps(s.pixels))
    np.testing.assert_array_equal(
        src.read("VV", slice(9799, 9801), slice(10999, 11004)), ref[:2, :5]
    )


def test_crop_has_the_timing_of_its_burst(terceira, terceira_scene):
    s = terceira_scene
    p = s.product
    root = etree.parse(str(terceira / TERCEIRA_XML)).getroot()
    lpb = int(root.findtext("swathTiming/linesPerBurst"))
    bursts = root.findall("swathTiming/burstList/burst")
    k = TERCEIRA_OFFSET[0] // lpb
    assert k == 6 and p.crop_burst == 6 and s.metadata["burst"] == 6
    assert (TERCEIRA_OFFSET[0] + 600) // lpb == 6  # the whole crop is in burst 6
    t_burst = np.datetime64(bursts[k].findtext("azimuthTime"), "ns")
    dt = float(root.findtext("imageAnnotation/imageInformation/azimuthTimeInterval"))
    expected = t_burst + np.timedelta64(round((TERCEIRA_OFFSET[0] - k * lpb) * dt * 1e9), "ns")
    got = s.radar_grid.line_to_datetime(0)[()]
    assert abs((got - expected) / np.timedelta64(1, "ns")) <= 1
    # line -> time is per burst: the swath's first line time would be 9799 * dt earlier, which is wrong by
    # the burst overlaps; check the crop is not on that naive timing
    t0 = np.datetime64(bursts[0].findtext("azimuthTime"), "ns")
    naive = t0 + np.timedelta64(int(TERCEIRA_OFFSET[0] * dt * 1e9), "ns")
    assert abs((got - naive) / np.timedelta64(1, "s")) > 1.0
    # slant range of the first pixel
    srt = float(root.findtext("imageAnnotation/imageInformation/slantRangeTime"))
    rsr = float(root.findtext("generalAnnotation/productInformation/rangeSamplingRate"))
    assert s.radar_grid.starting_range == pytest.approx(
        (srt + TERCEIRA_OFFSET[1] / rsr) * SPEED_OF_LIGHT / 2, abs=1e-6
    )
    # grid and orbit share one epoch (ready for geometry kernels)
    assert s.radar_grid.reference_epoch == s.orbit.reference_epoch


def test_geolocation_grid_dataframe(terceira, terceira_scene):
    grid = terceira_scene.product.geolocation_grid
    assert list(grid.columns) == [
        "azimuth_time",
        "slant_range_time",
        "line",
        "pixel",
        "latitude",
        "longitude",
        "height",
        "incidence_angle",
        "elevation_angle",
    ]
    assert str(grid["azimuth_time"].dtype) == "datetime64[ns]"
    root = etree.parse(str(terceira / TERCEIRA_XML)).getroot()
    pts = root.findall("geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    assert len(grid) == len(pts) == 210
    last = pts[-1]
    row = grid.iloc[-1]
    assert row["line"] == int(last.findtext("line")) and row["pixel"] == int(last.findtext("pixel"))
    assert row["latitude"] == float(last.findtext("latitude"))
    assert row["slant_range_time"] == float(last.findtext("slantRangeTime"))
    assert row["azimuth_time"] == np.datetime64(last.findtext("azimuthTime"), "ns")


def test_metadata_matches_the_product_name(terceira_scene):
    m = terceira_scene.metadata
    parts = PRODUCT_NAME.split("_")
    assert m["mission"] == parts[0] and m["platform"] == "Sentinel-1A"
    assert m["mode"] == "IW" and m["swath"] == "IW3" and m["polarizations"] == ["VV"]
    assert m["absolute_orbit"] == int(parts[7])
    assert f"{m['mission_data_take_id']:06X}" == parts[8]
    assert m["relative_orbit"] == (int(parts[7]) - 73) % 175 + 1 == 9
    assert m["product_start_time"].startswith("2022-09-18T07:49")
    assert m["pass_direction"] == "DESCENDING"
    assert 180 < m["heading"] < 200  # descending, right-looking: heading ~ 193 deg
    assert m["incidence_angle_mid_swath"] == pytest.approx(43.7997049, abs=1e-6)
    assert m["wavelength"] == pytest.approx(SPEED_OF_LIGHT / 5.405000454334350e09)
    assert m["orbit_source"] == "annotation"


def test_eof_orbit_replaces_annotation_orbit(terceira):
    from sarbd.products import open_product

    s = open_product(
        terceira / TERCEIRA_XML,
        measurement=terceira / TERCEIRA_TIFF,
        offset=TERCEIRA_OFFSET,
        orbit=terceira / TERCEIRA_EOF,
    )
    assert s.orbit.source == "RESORB" and s.metadata["orbit_source"] == "RESORB"
    # restituted and annotation orbits agree to metres in the middle of the crop
    t = s.radar_grid.line_to_azimuth_time(300)
    ann = s.product.annotation_orbit.with_epoch(s.orbit.reference_epoch)
    assert np.linalg.norm(s.orbit.position(t) - ann.position(t)) < 5.0


def test_whole_swath_is_debursted(terceira):
    from sarbd.products import burst_scene, open_product

    s = open_product(terceira / TERCEIRA_XML)  # metadata only, full swath
    p = s.product
    assert s.pixels is None and p.layout == "debursted"
    plan = p.deburst
    lpb = p.lines_per_burst
    assert s.shape == (plan.tiff_line.size, 24203)
    assert s.shape[0] == round(plan.burst_start_line[-1]) + lpb
    # bursts start within 4e-4 line of whole merged lines, so rounding to burst lines costs < 1 us
    assert np.max(np.abs(plan.burst_start_line - np.rint(plan.burst_start_line))) < 4e-4
    # each cut lies inside the overlap of the valid lines of the two bursts
    for k, cut in enumerate(plan.cut_line):
        v1 = p.bursts[k].valid_lines[1] + plan.burst_start_line[k]
        v0 = p.bursts[k + 1].valid_lines[0] + plan.burst_start_line[k + 1]
        assert v0 <= cut <= v1
    # every merged line with data comes from a TIFF line whose time is within half a line
    ok = plan.tiff_line >= 0
    k = plan.tiff_line[ok] // lpb
    burst_times = np.array(
        [(b.azimuth_time - p.bursts[0].azimuth_time) / np.timedelta64(1, "s") for b in p.bursts]
    )
    t_tiff = burst_times[k] + (plan.tiff_line[ok] - k * lpb) * p.azimuth_time_interval
    t_merged = np.flatnonzero(ok) * p.azimuth_time_interval
    assert np.max(np.abs(t_tiff - t_merged)) / p.azimuth_time_interval < 0.5
    assert np.all(np.diff(plan.tiff_line[ok]) > 0)  # no TIFF line used twice, in order
    # burst scene: own timing
    b = burst_scene(s, 6)
    assert b.radar_grid.first_line == 6 * lpb and b.shape == (lpb, 24203)
    assert b.radar_grid.sensing_start_datetime == p.bursts[6].azimuth_time
    assert b.metadata["burst"] == 6
