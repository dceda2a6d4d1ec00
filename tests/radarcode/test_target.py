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
    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(lines), g.pixel_to_slant_range(pixels), orbit, height=0.0
    )
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
    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(rng.uniform(0, 200, n)),
        g.pixel_to_slant_range(rng.uniform(0, 400, n)),
        orbit,
        height=0.0,
    )
    h = rng.uniform(0.0, 60.0, n)
    l_lut, p_lut = target.to_radar(lat, lon, h)
    l_ex, p_ex = target.to_radar(lat, lon, h, exact=True)
    err = np.hypot(l_lut - l_ex, p_lut - p_ex)
    assert np.percentile(err, 99) < 1e-3


def test_scene_lookup_gives_each_point_the_same_coordinates_in_any_batch(scene):
    grid, orbit = scene
    target = Target(grid, orbit)
    g = grid.with_epoch(orbit.reference_epoch)
    rng = np.random.default_rng(3)
    n = 4000
    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(rng.uniform(-10, 210, n)),
        g.pixel_to_slant_range(rng.uniform(-10, 410, n)),
        orbit,
        height=0.0,
    )
    h = rng.uniform(0.0, 80.0, n)
    box = (float(lon.min()) + 1e-3, float(lat.min()) + 1e-3, float(lon.max()), float(lat.max()))
    table = target.lookup(box, (0.0, 60.0))  # some points lie outside: solved exactly
    by_rows = target.lookup(
        box, (0.0, 60.0), block_points=50
    )  # the lattice solved a few rows at a time
    assert table.line_table.shape[0] > 3
    np.testing.assert_array_equal(by_rows.line_table, table.line_table)
    np.testing.assert_array_equal(by_rows.pixel_table, table.pixel_table)
    l_all, p_all = table.to_radar(lat, lon, h)
    l_a, p_a = table.to_radar(lat[:1000], lon[:1000], h[:1000])
    l_b, p_b = table.to_radar(lat[1000:], lon[1000:], h[1000:])
    np.testing.assert_array_equal(np.concatenate([l_a, l_b]), l_all)
    np.testing.assert_array_equal(np.concatenate([p_a, p_b]), p_all)
    l_ex, p_ex = target.to_radar(lat, lon, h, exact=True)
    assert np.max(np.abs(l_all - l_ex)) < 2e-3 and np.max(np.abs(p_all - p_ex)) < 2e-3
    outside = h > 60.0 + 1e-3  # above the table: geo2rdr itself
    assert outside.sum() > 100
    np.testing.assert_allclose(l_all[outside], l_ex[outside], atol=1e-9)
