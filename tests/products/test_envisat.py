"""Envisat ASAR IMS / ERS SLC reader (GDAL ENVISAT driver + ADS parsing) on products written in Envisat format."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.errors import InputError, ProductError
from sarbd.products import calibrate, open_product
from sarbd.products.envisat import tie_point_errors
from tests.products.envisat_writer import write_envisat_ims


@pytest.fixture(scope="module")
def asar(tmp_path_factory):
    path = (
        tmp_path_factory.mktemp("asar")
        / "ASA_IMS_1PNPDE20080612_093012_000000162069_00079_32912_0001.N1"
    )
    # flags set as if corrected, to exercise the calibration formula (real IMS never are)
    return path, write_envisat_ims(path, corrections_applied=True)


def test_grid_orbit_and_metadata(asar):
    path, truth = asar
    scene = open_product(path)
    g = scene.radar_grid
    assert scene.shape == (truth["lines"], truth["pixels"])
    assert g.sensing_start_datetime == truth["t0"]
    # (LAST_LINE_TIME - FIRST_LINE_TIME) / (lines - 1): the ASCII times' microsecond
    # resolution leaves < 1 us at the last line
    assert abs(g.azimuth_time_interval - truth["dt"]) * (truth["lines"] - 1) < 1e-6
    last = g.line_to_datetime(truth["lines"] - 1)[()]
    assert last == np.datetime64(scene.metadata["stop_time"].rstrip("Z"), "ns")
    assert g.range_pixel_spacing == pytest.approx(truth["dr"], rel=1e-7)
    assert g.starting_range == pytest.approx(truth["r0"], abs=0.1)  # float32 ns slant-range time
    assert g.wavelength == pytest.approx(299_792_458.0 / truth["fc"], rel=1e-7)
    assert scene.polarizations == ("VV",)
    o = truth["orbit"]
    assert len(scene.orbit) == 5
    np.testing.assert_array_equal(scene.orbit.times, o.times[truth["sv_idx"]])
    np.testing.assert_allclose(scene.orbit.positions, o.positions[truth["sv_idx"]], atol=0.006)
    np.testing.assert_allclose(scene.orbit.velocities, o.velocities[truth["sv_idx"]], atol=6e-6)
    m = scene.metadata
    assert (m["mission"], m["product_type"], m["swath"], m["pass_direction"]) == (
        "ENVISAT",
        "ASA_IMS_1P",
        "IS2",
        "DESCENDING",
    )
    assert (m["absolute_orbit"], m["relative_orbit"]) == (32912, 79)
    assert m["calibration_constant"] == pytest.approx(truth["ext_cal"])
    assert m["orbit_source"] == "MPP ADS (PC)"
    assert m["vector_source"] == "precise"


def test_pixels_through_gdal(asar):
    path, truth = asar
    scene = open_product(path)
    i, q = truth["pixels_iq"]
    np.testing.assert_array_equal(scene.slc().values, (i + 1j * q).astype(np.complex64))
    np.testing.assert_array_equal(
        scene.crop(30, 11, 50, 40).slc().values, (i + 1j * q)[30:80, 11:51]
    )


def test_tie_points_match_rdr2geo(asar):
    path, _ = asar
    err = tie_point_errors(open_product(path))
    assert len(err) == 6 * 11  # 3 granules x (first + last line) x 11 samples
    # the tie points carry lat/lon in 1e-6 deg (<= 0.06 m rounding) and float32 range times
    assert err["horizontal_error"].max() < 0.3, err
    assert np.abs(err["range_error"]).max() < 0.1


def test_sigma0_uses_the_calibration_constant_and_incidence(asar):
    path, truth = asar
    scene = open_product(path)
    sigma = calibrate(scene, "VV", "sigma0", remove_noise=False).values
    beta = calibrate(scene, "VV", "beta0", remove_noise=False).values
    i, q = truth["pixels_iq"]
    power = i.astype(np.float64) ** 2 + q.astype(np.float64) ** 2
    np.testing.assert_allclose(beta, power / truth["ext_cal"], rtol=1e-5)
    geo = scene.product.geolocation_grid
    row = geo[geo["line"] == 0]
    alpha = np.interp(np.arange(truth["pixels"]), row["pixel"], row["incidence_angle"])
    np.testing.assert_allclose(
        sigma[0], power[0] / truth["ext_cal"] * np.sin(np.radians(alpha)), rtol=1e-5
    )


def test_ers_in_envisat_format(tmp_path):
    path = tmp_path / "SAR_IMS_1PXESA19950101_000000_000000162069_00079_32912_0001.E2"
    write_envisat_ims(path, mission="ERS", lines=50, pixels=40)
    scene = open_product(path)
    assert scene.metadata["mission"] == "ERS"
    assert scene.metadata["instrument"] == "AMI SAR"
    assert tie_point_errors(scene)["horizontal_error"].max() < 0.3


def test_bad_products(tmp_path, asar):
    path, _ = asar
    data = path.read_bytes()
    bad = tmp_path / "other.N1"
    bad.write_bytes(data.replace(b"ASA_IMS_1P", b"ASA_IMP_1P", 1))
    with pytest.raises(InputError, match="only ASAR IMS and ERS IMS"):
        open_product(bad)
    trunc = tmp_path / "trunc.N1"
    trunc.write_bytes(data[:3000])
    with pytest.raises(ProductError):
        open_product(trunc)
    with pytest.raises(InputError, match="polarisation 'HH' is not in this product"):
        open_product(path, polarizations="HH")


def test_global_attributes(asar):
    from sarbd.products import global_attributes

    path, _ = asar
    scene = open_product(path)
    geo = scene.product.geolocation_grid
    attrs = global_attributes(scene)
    assert attrs["sar_scene_centre_incidence_angle"] == pytest.approx(
        geo["incidence_angle"].median(), abs=0.05
    )
    assert attrs["geospatial_lat_min"] == pytest.approx(geo["latitude"].min(), abs=1e-9)
    assert attrs["sar_pass_direction"] == "DESCENDING"


def test_tie_points_at_the_average_scene_height(tmp_path):
    """ASAR locates its tie points at the MPP ADS's average scene height, not on the ellipsoid."""
    path = tmp_path / "ASA_IMS_1PNPDE20080612_093012_000000162069_00079_32912_0001.N1"
    write_envisat_ims(path, lines=60, pixels=50, scene_height=350.0)
    scene = open_product(path)
    assert scene.product.scene_height == pytest.approx(350.0)
    assert scene.metadata["average_scene_height"] == pytest.approx(350.0)
    geo = scene.product.geolocation_grid
    np.testing.assert_array_equal(geo["height"].to_numpy(), 350.0)
    assert tie_point_errors(scene)["horizontal_error"].max() < 0.3
    # the same tie points taken on the ellipsoid would be ~800 m off across track
    geo["height"] = 0.0
    assert tie_point_errors(scene)["horizontal_error"].min() > 500


def test_inconsistent_line_times_are_refused(tmp_path, asar):
    path, _ = asar
    data = path.read_bytes()
    i = data.index(b"LINE_TIME_INTERVAL=+") + len(b"LINE_TIME_INTERVAL=+")
    bad = tmp_path / path.name
    bad.write_bytes(data[:i] + b"7" + data[i + 1 :])  # 6.05e-04 -> 7.05e-04
    with pytest.raises(ProductError, match="LAST_LINE_TIME - FIRST_LINE_TIME"):
        open_product(bad)


def test_truncated_pixels_say_so(tmp_path, asar):
    path, _ = asar
    data = path.read_bytes()
    cut = tmp_path / path.name
    cut.write_bytes(data[: len(data) - 4 * 17 * 90])  # the last MDS1 lines are missing
    scene = open_product(cut)  # metadata and tie points are before MDS1
    assert len(tie_point_errors(scene)) == 66
    with pytest.raises(ProductError, match="the file is truncated"):
        scene.slc().compute()


def test_doppler_centroid_ads(asar):
    path, truth = asar
    dc = open_product(path).product.doppler_centroids
    assert len(dc) == 1
    t, t0, coef = truth["doppler"]
    assert abs(dc[0].azimuth_time - t) < np.timedelta64(1, "us")  # MJD: microseconds
    assert dc[0].t0 == pytest.approx(t0, abs=1e-15)
    np.testing.assert_array_equal(dc[0].data_coefficients, coef)
    assert np.isnan(dc[0].geometry_coefficients).all()  # ASAR annotates the data estimate only
    assert dc[0].evaluate(t0 + 1e-5) == pytest.approx(coef[0] + coef[1] * 1e-5 + coef[2] * 1e-10)


def test_uncorrected_ims_offers_no_calibration(tmp_path):
    """Real ASAR IMS are not corrected for the antenna pattern or range spreading: no sigma0."""
    path = tmp_path / "ASA_IMS_1PNPDE20080612_093012_000000162069_00079_32912_0001.N1"
    write_envisat_ims(path, lines=40, pixels=30)  # flags 0, as in every real IMS
    scene = open_product(path)
    assert scene.product.calibration == {}
    assert not scene.metadata["antenna_pattern_applied"]
    assert not scene.metadata["range_spreading_applied"]
    with pytest.raises(InputError, match="ANT_ELEV_CORR_FLAG=0"):
        calibrate(scene, "VV", "sigma0", remove_noise=False)


@pytest.mark.parametrize("as_zip", [False, True])
def test_ers_ceos_is_refused_by_name(tmp_path, as_zip):
    """ESA's ERS CEOS volume (pyroSAR's real SAR_IMS_1P...E1.zip has this layout) gets a clear refusal."""
    import zipfile

    folder = tmp_path / "SAR_IMS_1PXESA19951220_024320_00000015G152_00132_23166_0252.E1"
    folder.mkdir()
    for name in ("DAT_01.001", "LEA_01.001", "NUL_DAT.001", "VDF_DAT.001"):
        (folder / name).write_bytes(b"\0" * 16)
    path = folder
    if as_zip:
        path = tmp_path / f"{folder.name}.zip"
        with zipfile.ZipFile(path, "w") as z:
            for f in folder.iterdir():
                z.write(f, f"{folder.name}/{f.name}")
    with pytest.raises(InputError, match="ERS SAR product in CEOS format"):
        open_product(path)


def test_geometric_fm_rate_and_azimuth_ramp(asar):
    """k_a = -(2/lambda) R'' at zero Doppler, against a finite difference of the analytic orbit's range history."""
    from sarbd.core.capabilities import AzimuthRampProvider
    from sarbd.core.ellipsoid import llh_to_ecef
    from sarbd.coregistration.ramps import azimuth_ramp
    from sarbd.simulate.orbit import orbit_state_vectors
    from tests.products.rs2_writer import _solve_ground

    path, truth = asar
    scene = open_product(path)
    p = scene.product
    assert isinstance(p, AzimuthRampProvider)
    (fm,) = p.azimuth_fm_rates
    (dc,) = p.doppler_centroids
    assert fm.azimuth_time == dc.azimuth_time and fm.t0 == dc.t0
    g = scene.radar_grid
    el = truth["elements"]
    t_dc = float((dc.azimuth_time - truth["epoch"]) / np.timedelta64(1, "ns")) * 1e-9
    for pixel in (0.0, 45.0, 89.0):
        r = g.starting_range + pixel * g.range_pixel_spacing
        lat, lon = _solve_ground(el, t_dc, r, 0.0, (41.9, 12.5))
        gp = llh_to_ecef(np.array([lat]), np.array([lon]), np.array([0.0]))[0]
        d = 0.01
        rng = [
            np.linalg.norm(orbit_state_vectors(el, np.array([t_dc + k * d]))[0][0] - gp)
            for k in (-1, 0, 1)
        ]
        ka_true = -2.0 / g.wavelength * (rng[0] - 2 * rng[1] + rng[2]) / d**2
        ka = fm.evaluate(2 * r / 299_792_458.0)
        assert ka == pytest.approx(ka_true, rel=2e-4), (pixel, ka, ka_true)
    # stripmap: the ramp's Doppler is the annotated centroid everywhere
    ramp = azimuth_ramp(scene)
    assert ramp is not None and ramp.steering_rate == 0.0
    lines, pixels = np.array([0.0, 60.0, 119.0]), np.array([0.0, 45.0, 89.0])
    np.testing.assert_allclose(
        ramp.instantaneous_doppler(lines, pixels), dc.evaluate(ramp.range_time(pixels)), rtol=1e-12
    )


def test_resampling_with_the_product_ramp(asar):
    """A secondary whose azimuth spectrum sits at the annotated Doppler (~ -0.37 PRF here) resamples
    correctly only with the product's ramp (the library behaviour, now reached for Envisat)."""
    from sarbd.coregistration.offsets import OffsetModel
    from sarbd.coregistration.ramps import azimuth_ramp
    from sarbd.coregistration.resample import knab_kernel
    from sarbd.coregistration.warp import array_reader, resample_image

    path, _ = asar
    scene = open_product(path)
    ramp = azimuth_ramp(scene)
    assert ramp is not None
    shape = scene.shape
    prf = 1.0 / scene.radar_grid.azimuth_time_interval
    assert -0.45 < ramp.doppler_centroid(ramp.range_time(np.array([45.0])))[0] / prf < -0.3
    rng = np.random.default_rng(7)
    freqs = rng.uniform(-0.08, 0.08, size=(6, 2))  # a band-limited baseband field (cycles/sample)
    amps = rng.normal(size=6) + 1j * rng.normal(size=6)

    def field(y, x):
        return sum(
            a * np.exp(2j * np.pi * (f[0] * y + f[1] * x)) for a, f in zip(amps, freqs, strict=True)
        )

    yy, xx = np.meshgrid(
        np.arange(shape[0], dtype=float), np.arange(shape[1], dtype=float), indexing="ij"
    )
    src = (field(yy, xx) * np.exp(1j * ramp(yy, xx))).astype(np.complex64)
    model = OffsetModel.constant(0.37, -0.21, shape)
    truth_img = field(yy + 0.37, xx - 0.21) * np.exp(1j * ramp(yy + 0.37, xx - 0.21))
    kernel = knab_kernel(16, 0.6)
    s = (slice(12, -12), slice(12, -12))

    def rel(a):
        return float(np.linalg.norm(a[s] - truth_img[s]) / np.linalg.norm(truth_img[s]))

    with_ramp = resample_image(array_reader(src), shape, model, shape, kernel=kernel, ramp=ramp)
    without = resample_image(array_reader(src), shape, model, shape, kernel=kernel)
    assert rel(with_ramp.compute()) < 1e-3
    assert rel(without.compute()) > 1e-2
