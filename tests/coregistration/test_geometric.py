"""DEM-assisted geometric offsets: coarse-grid + height-level interpolation against exact geometry."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.coregistration.geometric import geometric_offsets, height_levels, range_difference
from sarbd.geometry import geo2rdr, rdr2geo


def _exact(ref_orbit, grid, sec_orbit, sec_grid, lines, pixels, h):
    t = grid.line_to_azimuth_time(lines)[:, None] + 0 * h
    r = grid.pixel_to_slant_range(pixels)[None, :] + 0 * h
    lat, lon, hh = rdr2geo(t, r, ref_orbit, height=h)
    ts, rs, ok = geo2rdr(lat, lon, hh, sec_orbit)
    assert ok.all()
    return (
        sec_grid.azimuth_time_to_line(ts) - lines[:, None],
        sec_grid.slant_range_to_pixel(rs) - pixels[None, :],
        rs,
    )


def test_height_levels_cover_range() -> None:
    h = height_levels(10.0, 500.0, 4, margin=20.0)
    assert h[0] == pytest.approx(-10.0) and h[-1] == pytest.approx(520.0)
    assert np.all(np.diff(h) > 0)
    assert height_levels(0, 100, 1).tolist() == [50.0]


def test_offsets_interpolation_error_below_1e_4_pixel(repeat_pass) -> None:
    ref_orbit, grid, sec_orbit, sec_grid = repeat_pass
    model = geometric_offsets(
        grid, ref_orbit, sec_grid, sec_orbit, heights=height_levels(0.0, 1500.0, 4), step=(64, 64)
    )
    # points between the coarse nodes, heights between the levels
    lines = np.arange(13.0, 1500.0, 97.0)
    pixels = np.arange(29.0, 2000.0, 111.0)
    rng = np.random.default_rng(0)
    h = rng.uniform(0.0, 1500.0, (lines.size, pixels.size))
    dl_true, dp_true, rs = _exact(ref_orbit, grid, sec_orbit, sec_grid, lines, pixels, h)
    dl, dp = model.evaluate(lines, pixels, h)
    assert np.max(np.abs(dl - dl_true)) < 1e-4
    assert np.max(np.abs(dp - dp_true)) < 1e-4
    # the offsets really vary with height (range parallax), so the height levels matter
    flat = geometric_offsets(grid, ref_orbit, sec_grid, sec_orbit, heights=0.0, step=(64, 64))
    assert np.max(np.abs(flat.evaluate(lines, pixels)[1] - dp_true)) > 1e-3
    # range to the secondary for the interferometric phase: better than 0.1 mm
    dr = range_difference(model, grid, sec_grid, lines, pixels, h)
    dr_true = grid.pixel_to_slant_range(pixels)[None, :] - rs
    assert np.max(np.abs(dr - dr_true)) < 1e-4


def test_same_orbit_gives_grid_offsets(repeat_pass) -> None:
    ref_orbit, grid, _, sec_grid = repeat_pass
    model = geometric_offsets(grid, ref_orbit, sec_grid, ref_orbit, heights=0.0, step=(128, 128))
    # same orbit: offsets are just the difference of the grid origins
    np.testing.assert_allclose(model.line_offset, -3.1, atol=1e-6)
    np.testing.assert_allclose(model.pixel_offset, 5.4, atol=1e-6)
