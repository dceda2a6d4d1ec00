"""Target geometry: the geo2rdr lookup table agrees with point-wise geo2rdr."""

from __future__ import annotations

import numpy as np

from sarbd.geometry import rdr2geo
from sarbd.radarcode.target import Target


def test_lookup_table_matches_exact_geo2rdr(scene):
    grid, orbit = scene
    target = Target(grid, orbit)
    g = grid.with_epoch(orbit.reference_epoch)
    rng = np.random.default_rng(1)
    n = 30_000
    lines, pixels = rng.uniform(-20, 220, n), rng.uniform(-20, 420, n)
    lat, lon, _ = rdr2geo(g.line_to_azimuth_time(lines), g.pixel_to_slant_range(pixels), orbit, height=0.0)
    h = rng.uniform(-50.0, 400.0, n)  # terrain and roofs
    l_lut, p_lut = target.to_radar(lat, lon, h)
    l_ex, p_ex = target.to_radar(lat, lon, h, exact=True)
    assert np.max(np.abs(l_lut - l_ex)) < 2e-3
    assert np.max(np.abs(p_lut - p_ex)) < 2e-3
    # one height level (flat terrain): bilinear only
    l1, p1 = target.to_radar(lat, lon, np.zeros(n))
    np.testing.assert_allclose(l1, lines, atol=2e-3)
    np.testing.assert_allclose(p1, pixels, atol=2e-3)


def test_lookup_table_error_is_far_below_a_thousandth_pixel(scene):
    grid, orbit = scene
    target = Target(grid, orbit)
    g = grid.with_epoch(orbit.reference_epoch)
    rng = np.random.default_rng(2)
    n = 25_000
    lat, lon, _ = rdr2geo(g.line_to_azimuth_time(rng.uniform(0, 200, n)),
                          g.pixel_to_slant_range(rng.uniform(0, 400, n)), orbit, height=0.0)
    h = rng.uniform(0.0, 60.0, n)
    l_lut, p_lut = target.to_radar(lat, lon, h)
    l_ex, p_ex = target.to_radar(lat, lon, h, exact=True)
    err = np.hypot(l_lut - l_ex, p_lut - p_ex)
    assert np.percentile(err, 99) < 1e-3
