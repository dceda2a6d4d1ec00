"""Radiometric calibration and noise: LUT interpolation against analytic cases and the real LUTs."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.errors import InputError
from sarbd.products import burst_scene
from sarbd.products.calibration import calibrate, calibration_factor, interpolate_lut, noise_power


def test_bilinear_interpolation_is_exact_for_bilinear_functions():
    # f = a + b*l + c*p + d*l*p is reproduced exactly by bilinear interpolation
    lut_lines = np.array([-50, 0, 400, 1000])
    lut_pixels = np.tile(np.arange(0, 2001, 40), (4, 1))
    f = lambda ll, pp: 3.0 + 0.01 * ll - 0.002 * pp + 1e-5 * ll * pp  # noqa: E731
    values = f(lut_lines[:, None], lut_pixels)
    lines = np.array([-50, -10.5, 3, 399, 777.25, 1000])
    pixels = np.array([0, 1, 39.5, 1234, 2000])
    got = interpolate_lut(lut_lines, lut_pixels, values, lines, pixels)
    np.testing.assert_allclose(got, f(lines[:, None], pixels[None]), rtol=1e-12)
    # held constant outside the nodes; NaN lines stay NaN
    out = interpolate_lut(
        lut_lines, lut_pixels, values, np.array([-100.0, 2000.0, np.nan]), np.array([-5.0, 3000.0])
    )
    np.testing.assert_allclose(out[0], [f(-50, 0), f(-50, 2000)])
    np.testing.assert_allclose(out[1], [f(1000, 0), f(1000, 2000)])
    assert np.all(np.isnan(out[2]))


@pytest.mark.parametrize("kind", ["sigma0", "beta0", "gamma0", "dn"])
def test_factor_equals_lut_at_nodes(s1b_scenes, kind):
    s = s1b_scenes["IW1"]
    lut = s.product.calibration["VV"]
    b = burst_scene(s, 4)
    b = b.crop(0, 0, b.shape[0], 8000)  # keep the test light: nodes of the first 8000 pixels
    factor = calibration_factor(b, "VV", kind)
    assert factor.dtype == np.float32 and factor.dims == ("line", "pixel")
    g = b.radar_grid
    rows = np.flatnonzero((lut.line >= g.first_line) & (lut.line < g.first_line + g.length))
    assert rows.size >= 1
    for k in rows:
        inside = lut.pixel[k] < g.width
        got = factor.sel(line=lut.line[k], pixel=lut.pixel[k][inside]).values
        expected = (1.0 / lut.table(kind)[k][inside] ** 2).astype(np.float32)
        np.testing.assert_array_equal(got, expected)


def test_factor_on_debursted_swath_uses_tiff_lines(s1b_scenes):
    s = s1b_scenes["IW1"]
    lut = s.product.calibration["VV"]
    plan = s.product.deburst
    factor = calibration_factor(s, "VV", "sigma0")
    checked = 0
    for k, line in enumerate(lut.line):
        merged = np.flatnonzero(plan.tiff_line == line)
        if merged.size:
            got = factor.isel(line=int(merged[0]), pixel=slice(0, 400, 40)).values
            np.testing.assert_array_equal(got, (1.0 / lut.sigma0[k][:10] ** 2).astype(np.float32))
            checked += 1
    assert checked >= 5
    no_data = np.flatnonzero(plan.tiff_line < 0)
    if no_data.size:
        assert np.all(np.isnan(factor.isel(line=int(no_data[0]), pixel=slice(0, 5)).values))


def test_noise_is_range_times_azimuth(s1b_scenes):
    s = s1b_scenes["IW1"]
    noise = s.product.noise["VV"]
    b = burst_scene(s, 4)
    eta = noise_power(b, "VV")
    g = b.radar_grid
    vec = next(v for v in noise.range_vectors if g.first_line <= v.line < g.first_line + g.length)
    az = noise.azimuth_blocks[0]
    expected = vec.values[:5] * np.interp(vec.line, az.line, az.values)
    got = eta.sel(line=vec.line, pixel=vec.pixel[:5]).values
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_calibrate_formula(s1b_scenes):
    s = s1b_scenes["IW1"]
    b = burst_scene(s, 4)
    win = dict(line=slice(700, 704), pixel=slice(3000, 3005))
    dn = b.slc("VV").isel(**win).values
    f = calibration_factor(b, "VV", "beta0").isel(**win).values
    eta = noise_power(b, "VV").isel(**win).values
    raw = calibrate(b, "VV", "beta0", remove_noise=False).isel(**win).values
    np.testing.assert_allclose(raw, np.abs(dn) ** 2 * f, rtol=1e-6)
    den = calibrate(b, "VV", "beta0").isel(**win).values
    # |DN|^2 = 4 is below the noise of this synthetic-pixel product: negative -> NaN, never clipped to 0
    assert np.all(np.abs(dn) ** 2 - eta < 0) and np.all(np.isnan(den))


def test_missing_luts_are_clear(terceira_scene):
    with pytest.raises(InputError, match="no calibration LUT"):
        calibration_factor(terceira_scene, "VV")
    with pytest.raises(InputError, match="no noise LUT"):
        noise_power(terceira_scene, "VV")
    zero = noise_power(terceira_scene, "VV", missing="zero")
    assert float(zero.isel(line=0, pixel=0)) == 0.0
