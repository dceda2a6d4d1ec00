"""Radarsat-2 SLC reader: metadata, grid orientation, pixels, LUT calibration, tie-point geometry."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sarbd.errors import InputError, ProductError
from sarbd.products import calibrate, open_product
from sarbd.products.radarsat2 import tie_point_errors
from tests.products.rs2_writer import write_rs2_product

DATA = Path(__file__).parent / "data" / "radarsat2"
ORDERS = [
    ("Increasing", "Increasing"),
    ("Decreasing", "Increasing"),
    ("Increasing", "Decreasing"),
    ("Decreasing", "Decreasing"),
]


@pytest.mark.parametrize(("line_order", "pixel_order"), ORDERS)
def test_grid_is_increasing_and_pixels_follow_the_declared_ordering(
    tmp_path, line_order, pixel_order
):
    truth = write_rs2_product(tmp_path, line_order=line_order, pixel_order=pixel_order)
    scene = open_product(tmp_path / "product.xml")
    g = scene.radar_grid
    assert scene.shape == (truth["lines"], truth["pixels"])
    assert scene.polarizations == ("HH", "HV")
    # grid line 0 is the earliest line whatever the file order, pixel 0 the nearest
    assert g.sensing_start_datetime == truth["t_start"]
    assert g.azimuth_time_interval == pytest.approx(truth["dt"], rel=1e-9)
    assert g.starting_range == pytest.approx(truth["r_near"], abs=1e-6)
    assert g.range_pixel_spacing == pytest.approx(truth["dr"])
    assert g.wavelength == pytest.approx(299_792_458.0 / 5.405e9)
    i, q = truth["images"]["HV"]
    file_px = (i + 1j * q).astype(np.complex64)
    if line_order == "Decreasing":
        file_px = file_px[::-1]
    if pixel_order == "Decreasing":
        file_px = file_px[:, ::-1]
    np.testing.assert_array_equal(scene.slc("HV").values, file_px)
    # a window read goes through the same flips
    crop = scene.crop(17, 9, 40, 25)
    np.testing.assert_array_equal(crop.slc("HV").values, file_px[17:57, 9:34])
    assert scene.metadata["line_time_ordering"] == line_order.upper()


@pytest.mark.parametrize(
    ("line_order", "pixel_order", "look"),
    [
        ("Increasing", "Increasing", "right"),
        ("Decreasing", "Decreasing", "right"),
        ("Decreasing", "Increasing", "left"),
    ],
)
def test_tie_points_match_rdr2geo(tmp_path, line_order, pixel_order, look):
    write_rs2_product(
        tmp_path,
        line_order=line_order,
        pixel_order=pixel_order,
        look_side=look,
        pass_direction="ascending" if line_order == "Decreasing" else "descending",
    )
    scene = open_product(tmp_path)
    err = tie_point_errors(scene)
    assert len(err) == 20
    assert set(err["height"]) == {0.0, 120.0}
    # target < 0.5 m; the independent solver and sarbd agree to millimetres
    assert err["horizontal_error"].max() < 1e-3, err
    assert err["error_3d"].max() < 1e-3


def test_the_tie_point_check_detects_a_misread_pixel_order(tmp_path):
    """Declaring the wrong pixel order (near and far swapped) moves the tie points by up to the swath width."""
    write_rs2_product(tmp_path, pixel_order="Decreasing")
    xml = tmp_path / "product.xml"
    xml.write_text(
        xml.read_text().replace("<pixelTimeOrdering>Decreasing", "<pixelTimeOrdering>Increasing")
    )
    err = tie_point_errors(open_product(xml))
    assert err["horizontal_error"].max() > 1000.0


def test_contradictory_line_ordering_and_times_are_refused(tmp_path):
    write_rs2_product(tmp_path, line_order="Decreasing")
    xml = tmp_path / "product.xml"
    xml.write_text(
        xml.read_text().replace("<lineTimeOrdering>Decreasing", "<lineTimeOrdering>Increasing")
    )
    with pytest.raises(ProductError, match="zeroDopplerTimeLastLine"):
        open_product(xml)


def test_metadata_fields(tmp_path):
    truth = write_rs2_product(tmp_path, pass_direction="ascending")
    scene = open_product(tmp_path / "product.xml", polarizations="HV")
    m = scene.metadata
    assert scene.polarizations == ("HV",)
    assert m["mission"] == "RADARSAT-2"
    assert m["product_type"] == "SLC"
    assert m["mode"] == "F2"
    assert m["pass_direction"] == "ASCENDING"
    assert m["prf"] == pytest.approx(1328.8816)
    assert m["incidence_angle_mid_swath"] == pytest.approx(35.0)
    assert m["orbit_source"] == "RS2 Downlinked"
    assert m["look_side"] == "right"
    assert len(scene.orbit) == len(truth["orbit"])
    np.testing.assert_allclose(scene.orbit.positions, truth["orbit"].positions, atol=1e-6)
    assert scene.product.orbit_data_file == "TEST.ORB"


def test_lut_calibration(tmp_path):
    truth = write_rs2_product(tmp_path, pixel_order="Decreasing")
    scene = open_product(tmp_path)
    sigma = calibrate(scene, "HH", "sigma0", remove_noise=False).values
    i, q = truth["images"]["HH"]
    power = (i.astype(np.float64) ** 2 + q.astype(np.float64) ** 2)[:, ::-1]
    a = truth["gains"]["Sigma"][::-1]  # LUT gains are per file pixel; the file is far range first
    np.testing.assert_allclose(sigma, power / a[None, :] ** 2, rtol=1e-5)
    beta = calibrate(scene, "HH", "beta0", remove_noise=False).values
    np.testing.assert_allclose(beta, power / truth["gains"]["Beta"][::-1][None, :] ** 2, rtol=1e-5)
    with pytest.raises(InputError, match="noise"):
        calibrate(scene, "HH", "sigma0").compute()


def test_bad_products_raise_one_line_errors(tmp_path):
    write_rs2_product(tmp_path)
    xml = tmp_path / "product.xml"
    text = xml.read_text()
    xml.write_text(text.replace("<numberOfLines>200", "<numberOfLines>nan"))
    with pytest.raises(ProductError, match="numberOfLines"):
        open_product(xml)
    xml.write_text(
        text.replace("<slantRangeNearEdge", "<slantRangeFarEdge").replace(
            "</slantRangeNearEdge", "</slantRangeFarEdge"
        )
    )
    with pytest.raises(
        ProductError,
        match=r"slantRangeNearEdge> is missing\. the file is not a complete Radarsat-2",
    ):
        open_product(xml)
    xml.write_text(text.replace("<productType>SLC", "<productType>SGF"))
    with pytest.raises(InputError, match="only Radarsat-2 SLC"):
        open_product(xml)
    (tmp_path / "lutGamma.xml").write_text(
        (tmp_path / "lutGamma.xml").read_text().replace("<gains>", "<gains>1 ")
    )
    xml.write_text(text)
    with pytest.raises(ProductError, match="151 gains for 150 pixels"):
        open_product(xml)
    with pytest.raises(InputError, match="polarisation VV"):
        write_rs2_product(tmp_path / "b")
        open_product(tmp_path / "b", polarizations="VV")


def test_gdal_sample_is_refused_clearly(tmp_path):
    """GDAL's RS2 test product.xml (artificial, detected 'Mag' pixels) is not an SLC and has no orbit."""
    shutil.copytree(DATA, tmp_path / "rs2")
    with pytest.raises(
        InputError, match=r"only Radarsat-2 SLC products are read \(this one is PRODUCT_TYPE, MAG"
    ):
        open_product(tmp_path / "rs2" / "product.xml")


def test_rcm_is_refused_clearly(tmp_path):
    xml = tmp_path / "product.xml"
    xml.write_text(
        '<?xml version="1.0"?>\n<product xmlns="rcmGsProductSchema"><productId>x</productId></product>'
    )
    with pytest.raises(InputError, match="RCM"):
        open_product(xml)


def test_global_attributes_and_geolocation_columns(tmp_path):
    """The tie points carry the columns later stages read (azimuth_time, slant_range_time, incidence_angle)."""
    from sarbd.products import global_attributes

    write_rs2_product(tmp_path, line_order="Decreasing", pixel_order="Decreasing")
    scene = open_product(tmp_path)
    geo = scene.product.geolocation_grid
    g = scene.radar_grid
    np.testing.assert_array_equal(
        geo["azimuth_time"].to_numpy(), g.line_to_datetime(geo["line"].to_numpy())
    )
    # the writer designs the orbit for 35 deg at the centre (geocentric approximation)
    assert geo["incidence_angle"].between(34.5, 35.5).all()
    attrs = global_attributes(scene)
    assert attrs["sar_scene_centre_incidence_angle"] == pytest.approx(35.0, abs=0.1)
    assert attrs["geospatial_lat_min"] == pytest.approx(geo["latitude"].min(), abs=1e-9)
    assert attrs["geospatial_lon_max"] == pytest.approx(geo["longitude"].max(), abs=1e-9)


@pytest.mark.parametrize(("line_order", "pixel_order"), [ORDERS[0], ORDERS[3]])
def test_doppler_centroid_fm_rate_and_ramp(tmp_path, line_order, pixel_order):
    """dopplerCentroid read (absolute range time: the pixel order does not matter); geometric FM rate."""
    from sarbd.core.capabilities import AzimuthRampProvider
    from sarbd.core.ellipsoid import llh_to_ecef
    from sarbd.coregistration.ramps import azimuth_ramp
    from sarbd.simulate.orbit import orbit_state_vectors
    from tests.products.rs2_writer import _solve_ground

    truth = write_rs2_product(tmp_path, line_order=line_order, pixel_order=pixel_order)
    scene = open_product(tmp_path / "product.xml")
    p = scene.product
    assert isinstance(p, AzimuthRampProvider)
    (dc,) = p.doppler_centroids
    t, t0, coef = truth["doppler"]
    assert abs(dc.azimuth_time - t) < np.timedelta64(1, "us")  # product.xml times: microseconds
    assert dc.t0 == t0
    np.testing.assert_allclose(dc.data_coefficients, coef, rtol=1e-9)
    (fm,) = p.azimuth_fm_rates
    g = scene.radar_grid
    el = truth["elements"]
    t_dc = float((dc.azimuth_time - truth["epoch"]) / np.timedelta64(1, "ns")) * 1e-9
    for pixel in (0.0, 75.0, 149.0):
        r = g.starting_range + pixel * g.range_pixel_spacing
        lat, lon = _solve_ground(el, t_dc, r, 0.0, (45.4, -75.7))
        gp = llh_to_ecef(np.array([lat]), np.array([lon]), np.array([0.0]))[0]
        d = 0.01
        rng = [
            np.linalg.norm(orbit_state_vectors(el, np.array([t_dc + k * d]))[0][0] - gp)
            for k in (-1, 0, 1)
        ]
        ka_true = -2.0 / g.wavelength * (rng[0] - 2 * rng[1] + rng[2]) / d**2
        assert fm.evaluate(2 * r / 299_792_458.0) == pytest.approx(ka_true, rel=2e-4)
    ramp = azimuth_ramp(scene)
    assert ramp is not None
    pixels = np.array([0.0, 75.0, 149.0])
    np.testing.assert_allclose(
        ramp.instantaneous_doppler(np.array([0.0, 100.0, 199.0]), pixels),
        dc.evaluate(ramp.range_time(pixels)),
        rtol=1e-12,
    )
