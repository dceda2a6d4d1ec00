"""Other layouts: unpacked SAFE folder, annotation inside a SAFE, crops with LUTs, stripmap, old noise XML,
and the consistency of parsed orbit, times and ranges with the annotation's geolocation grid."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import rasterio

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.core.radar_grid import SPEED_OF_LIGHT
from sarbd.products import open_product, open_safe
from sarbd.products.calibration import calibration_factor, noise_power
from sarbd.products.s1_annotation import parse_noise
from tests.products.conftest import TERCEIRA_EOF, TERCEIRA_XML


def _zero_doppler(scene):
    """Solve (P(t) - T) . V(t) = 0 by Newton at each geolocation point; return time (lines) and range (m) misfits."""
    g = scene.product.geolocation_grid
    orbit = scene.orbit
    target = llh_to_ecef(g.latitude.to_numpy(), g.longitude.to_numpy(), g.height.to_numpy())
    t_grid = orbit.seconds_since_epoch(g.azimuth_time.to_numpy())
    t = t_grid.copy()
    for _ in range(6):
        p, v, a = orbit.interpolate(t)
        d = p - target
        t -= (d * v).sum(1) / ((v * v).sum(1) + (d * a).sum(1))
    r = np.linalg.norm(orbit.position(t) - target, axis=1)
    dt = scene.product.azimuth_time_interval
    return np.abs(t - t_grid) / dt, np.abs(r - g.slant_range_time.to_numpy() * SPEED_OF_LIGHT / 2)


def test_parsed_geometry_is_self_consistent(terceira, s1b_scenes):
    """Orbit state vectors, grid azimuth times and two-way range times agree (units, epochs, parsing).

    The grids' times are rounded to 1 us and depart from pure zero Doppler by up to ~0.02 line in the
    S1B product; ranges agree to millimetres.
    """
    for scene in (
        open_product(terceira / TERCEIRA_XML),
        open_product(terceira / TERCEIRA_XML, orbit=terceira / TERCEIRA_EOF),
        *s1b_scenes.values(),
    ):
        dl, dr = _zero_doppler(scene)
        assert dl.max() < 0.03 and dr.max() < 0.01, (scene, dl.max(), dr.max())


def test_geolocation_lines_follow_burst_timing(terceira):
    s = open_product(terceira / TERCEIRA_XML)
    g = s.product.geolocation_grid
    t = s.product.tiff_line_time(g.line.to_numpy())
    # Per-burst timing reproduces the grid's times to a fraction of a line. The grid's azimuth times are the
    # points' zero-Doppler times (see above), while its integer `line` is only nominal: in this product the
    # time grows along range from +0.04 to +0.13 line after the line's time. Geometry checks must therefore
    # use the grid's azimuth_time, not its line.
    lines_off = (
        (g.azimuth_time.to_numpy() - t) / np.timedelta64(1, "s") / s.product.azimuth_time_interval
    )
    assert 0.0 < lines_off.min() and lines_off.max() < 0.15
    near = g.pixel.to_numpy() == 0
    assert np.all(lines_off[near] < 0.05) and np.all(lines_off[~near] > lines_off[near].min())


@pytest.fixture(scope="module")
def safe_dir(s1b_zip, tmp_path_factory):
    out = tmp_path_factory.mktemp("safe")
    with zipfile.ZipFile(s1b_zip) as zf:
        zf.extractall(out)
    return next(out.glob("*.SAFE"))


def test_unpacked_safe_folder(safe_dir, s1b_scenes):
    scenes = open_safe(safe_dir)
    assert set(scenes) == set(s1b_scenes)
    a, b = scenes["IW1"], s1b_scenes["IW1"]
    assert a.radar_grid == b.radar_grid and a.metadata["relative_orbit"] == 168
    np.testing.assert_array_equal(
        a.slc("VH").isel(line=slice(5000, 5002), pixel=slice(500, 510)).values,
        b.slc("VH").isel(line=slice(5000, 5002), pixel=slice(500, 510)).values,
    )
    # the manifest itself is accepted too
    assert open_product(safe_dir / "manifest.safe", swath="IW2").metadata["swath"] == "IW2"


def test_annotation_crop_with_luts(safe_dir, tmp_path):
    """A bare annotation inside a SAFE finds its LUTs; a crop of its measurement keeps LUT alignment."""
    ann = next((safe_dir / "annotation").glob("s1b-iw1-slc-vv-*.xml"))
    full = open_product(ann)
    assert full.product.layout == "debursted" and full.pixels is not None
    assert set(full.product.calibration) == {"VV"} and set(full.product.noise) == {"VV"}
    lut = full.product.calibration["VV"]
    # crop: lines of burst 3 around a LUT line, pixels around LUT nodes
    k = int(np.flatnonzero((lut.line > 3 * 1501 + 100) & (lut.line < 4 * 1501 - 200))[0])
    l0, p0, h, w = int(lut.line[k]) - 50, 1000, 120, 300
    src = next((safe_dir / "measurement").glob("s1b-iw1-slc-vv-*.tiff"))
    crop = tmp_path / "crop.tiff"
    with rasterio.open(src) as ds:
        data = ds.read(1, window=((l0, l0 + h), (p0, p0 + w)))
    with rasterio.open(
        crop, "w", driver="GTiff", width=w, height=h, count=1, dtype="complex_int16"
    ) as dst:
        dst.write(data, 1)
    s = open_product(ann, measurement=crop, offset=(l0, p0))
    assert s.product.crop_burst == 3 and s.metadata["burst"] == 3
    np.testing.assert_array_equal(s.slc().values, data)
    f = calibration_factor(s, "VV", "gamma0")
    nodes = lut.pixel[k][(lut.pixel[k] >= p0) & (lut.pixel[k] < p0 + w)]
    expected = (1.0 / lut.gamma0[k][np.isin(lut.pixel[k], nodes)] ** 2).astype(np.float32)
    np.testing.assert_array_equal(f.sel(line=lut.line[k], pixel=nodes).values, expected)
    # same values as the burst of the full product at the same TIFF indices
    from sarbd.products import burst_scene

    bf = calibration_factor(burst_scene(full, 3), "VV", "gamma0").sel(
        line=slice(l0, l0 + h - 1), pixel=slice(p0, p0 + w - 1)
    )
    np.testing.assert_array_equal(f.values, bf.values)
    ne = noise_power(s, "VV").values
    assert np.all(np.isfinite(ne)) and np.all(ne > 0)


def test_stripmap_layout(terceira, tmp_path):
    """An annotation without bursts (stripmap) gives one continuous grid from the first line time."""
    text = (terceira / TERCEIRA_XML).read_text()
    head, rest = text.split("<burstList", 1)
    tail = rest.split("</burstList>", 1)[1]
    sm = tmp_path / "s1a-s3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml"
    sm.write_text(
        head.replace("<linesPerBurst>1514</linesPerBurst>", "<linesPerBurst>0</linesPerBurst>")
        + '<burstList count="0"/>'
        + tail
    )
    s = open_product(sm)
    p = s.product
    assert not p.is_tops and p.layout == "tiff" and s.shape == (13626, 24203)
    assert s.radar_grid.sensing_start_datetime == p.first_line_time
    np.testing.assert_array_equal(p.tiff_line_time([0, 10]), s.radar_grid.line_to_datetime([0, 10]))


def test_pre_2_9_noise_is_range_only(safe_dir, tmp_path):
    noise_xml = next((safe_dir / "annotation" / "calibration").glob("noise-s1b-iw1-slc-vv-*.xml"))
    text = noise_xml.read_text()
    head = text.split("<noiseAzimuthVectorList", 1)[0]
    old = (
        head.replace("noiseRangeVectorList", "noiseVectorList")
        .replace("noiseRangeVector", "noiseVector")
        .replace("noiseRangeLut", "noiseLut")
        + "</noise>"
    )
    path = tmp_path / noise_xml.name
    path.write_text(old)
    lut = parse_noise(path.read_bytes(), path)
    new = parse_noise(noise_xml.read_bytes(), noise_xml)
    assert lut.azimuth_blocks == () and len(lut.range_vectors) == len(new.range_vectors)
    np.testing.assert_array_equal(lut.range_vectors[3].values, new.range_vectors[3].values)
