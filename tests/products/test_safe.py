"""The real S1B IW SAFE zip (real metadata; constant pixels 2+0j in VV)."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest
from lxml import etree

from sarbd.errors import InputError


def _xml(zip_path, pattern):
    with zipfile.ZipFile(zip_path) as zf:
        name = next(n for n in zf.namelist() if re.search(pattern, n))
        return etree.fromstring(zf.read(name))


def test_every_swath_and_polarisation(s1b_zip, s1b_scenes):
    assert set(s1b_scenes) == {"IW1", "IW2"}
    assert s1b_scenes["IW1"].polarizations == ("VV", "VH")
    assert s1b_scenes["IW2"].polarizations == ("VH",)
    for swath, scene in s1b_scenes.items():
        p = scene.product
        for pol in scene.polarizations:
            ann = _xml(s1b_zip, rf"annotation/s1b-{swath.lower()}-slc-{pol.lower()}-.*\.xml$")
            assert len(p.bursts) == int(ann.find("swathTiming/burstList").get("count"))
            assert p.lines_per_burst == int(ann.findtext("swathTiming/linesPerBurst"))
            cal = _xml(s1b_zip, rf"calibration-s1b-{swath.lower()}-slc-{pol.lower()}-.*\.xml$")
            vectors = cal.findall("calibrationVectorList/calibrationVector")
            n_nodes = int(vectors[0].find("pixel").get("count"))
            for kind in ("sigma0", "beta0", "gamma0", "dn"):
                assert p.calibration[pol].table(kind).shape == (len(vectors), n_nodes)
            noise = _xml(s1b_zip, rf"noise-s1b-{swath.lower()}-slc-{pol.lower()}-.*\.xml$")
            assert len(p.noise[pol].range_vectors) == int(
                noise.find("noiseRangeVectorList").get("count")
            )
            assert (
                len(p.noise[pol].azimuth_blocks)
                == int(noise.find("noiseAzimuthVectorList").get("count"))
                == 1
            )
        assert len(p.azimuth_fm_rates) > 0 and len(p.doppler_centroids) > 0
        assert p.azimuth_fm_rates[0].coefficients.shape == (3,)
        assert p.azimuth_steering_rate == float(
            ann.findtext("generalAnnotation/productInformation/azimuthSteeringRate")
        )
        assert p.ipf_version == "003.31"


def test_metadata_from_manifest_and_name(s1b_scenes):
    m = s1b_scenes["IW1"].metadata
    name = "S1B_IW_SLC__1SDV_20210401T052622_20210401T052650_026269_032297_EFA4"
    parts = name.split("_")
    assert m["product_name"] == name
    assert m["absolute_orbit"] == int(parts[7]) == 26269
    assert (
        m["relative_orbit"] == 168 == (26269 - 27) % 175 + 1
    )  # S1B formula agrees with the manifest
    assert f"{m['mission_data_take_id']:06X}" == parts[8]
    assert m["start_time"][:10] == "2021-04-01" and m["pass_direction"] == "DESCENDING"
    assert m["ipf_version"] == "003.31"


def test_several_swaths_need_a_choice(s1b_zip):
    from sarbd.products import open_product

    with pytest.raises(InputError, match="IW1, IW2"):
        open_product(s1b_zip)
    s = open_product(s1b_zip, swath="IW2")
    assert s.metadata["swath"] == "IW2"
    with pytest.raises(InputError, match="VV"):
        open_product(s1b_zip, swath="IW2", polarizations="VV")
    with pytest.raises(InputError, match="IW3"):
        open_product(s1b_zip, swath="IW3")


def test_debursted_pixels_respect_valid_samples(s1b_scenes):
    s = s1b_scenes["IW1"]
    plan = s.product.deburst
    cols = slice(420, 540)  # near range: firstValidSample is 435 or 529 there
    rows = slice(0, 3200)  # the first two cuts between bursts
    assert rows.start < plan.cut_line[1] < rows.stop
    block = s.slc("VV").isel(line=rows, pixel=cols).values
    pix = np.arange(cols.start, cols.stop)
    fv, lv = plan.first_valid[rows, None], plan.last_valid[rows, None]
    valid = (fv >= 0) & (pix[None] >= fv) & (pix[None] <= lv)
    assert valid.any() and (~valid).any()
    assert np.all(block[valid] == 2 + 0j)  # the measurement's constant value
    assert np.all(block[~valid] == 0)


def test_burst_scene_reads_raw_lines(s1b_scenes):
    from sarbd.products import burst_scene

    s = s1b_scenes["IW1"]
    b = burst_scene(s, 2)
    lpb = s.product.lines_per_burst
    assert b.radar_grid.first_line == 2 * lpb
    assert b.radar_grid.sensing_start_datetime == s.product.bursts[2].azimuth_time
    raw = b.slc("VV").isel(line=slice(0, 3), pixel=slice(0, 4)).values
    assert np.all(raw == 2 + 0j)  # raw burst lines: no valid-sample masking
    with pytest.raises(InputError, match="burst 9"):
        burst_scene(s, 9)


def test_polynomial_records(s1b_zip, s1b_scenes):
    p = s1b_scenes["IW1"].product
    ann = _xml(s1b_zip, r"annotation/s1b-iw1-slc-vv-.*\.xml$")
    fm = ann.findall("generalAnnotation/azimuthFmRateList/azimuthFmRate")
    dc = ann.findall("dopplerCentroid/dcEstimateList/dcEstimate")
    assert len(p.azimuth_fm_rates) == len(fm) and len(p.doppler_centroids) == len(dc)
    rec = p.fm_rate_at(np.datetime64(fm[3].findtext("azimuthTime")))
    assert rec is p.azimuth_fm_rates[3] and rec.t0 == float(fm[3].findtext("t0"))
    coef = np.array(fm[3].findtext("azimuthFmRatePolynomial").split(), dtype=float)
    np.testing.assert_array_equal(rec.coefficients, coef)
    tau = rec.t0 + 1e-4
    assert rec.evaluate(tau) == pytest.approx(coef[0] + coef[1] * 1e-4 + coef[2] * 1e-8)
    d = p.doppler_centroid_at(
        np.datetime64(dc[5].findtext("azimuthTime")) + np.timedelta64(1, "ms")
    )
    assert d is p.doppler_centroids[5]
    np.testing.assert_array_equal(
        d.data_coefficients, np.array(dc[5].findtext("dataDcPolynomial").split(), float)
    )
    assert p.azimuth_steering_rate_rad == pytest.approx(np.radians(p.azimuth_steering_rate))
