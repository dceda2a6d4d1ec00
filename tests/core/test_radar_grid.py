"""RadarGrid conversions round-trip and windows keep absolute positions."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.core import RadarGrid
from sarbd.errors import InputError


@pytest.fixture
def grid() -> RadarGrid:
    return RadarGrid(
        reference_epoch=np.datetime64("2022-09-18T07:49:20"),
        sensing_start=1.234567,
        azimuth_time_interval=2.055556e-3,
        starting_range=875_000.0,
        range_pixel_spacing=2.329562,
        length=1500,
        width=25000,
        wavelength=0.05546576,
    )


def test_round_trips(grid):
    lines = np.linspace(-3.0, 1600.5, 777)
    pixels = np.linspace(-10.0, 25010.25, 777)
    np.testing.assert_allclose(
        grid.azimuth_time_to_line(grid.line_to_azimuth_time(lines)), lines, rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        grid.slant_range_to_pixel(grid.pixel_to_slant_range(pixels)), pixels, rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        grid.datetime_to_line(grid.line_to_datetime(lines)), lines, atol=1e-5
    )  # 1 ns rounding


def test_window_keeps_absolute_position(grid):
    win = grid.window(100, 2000, 50, 300)
    assert (win.first_line, win.first_pixel, win.shape) == (100, 2000, (50, 300))
    # the same ground point has the same time/range in parent and window
    assert win.line_to_azimuth_time(0) == pytest.approx(grid.line_to_azimuth_time(100), abs=1e-12)
    assert win.pixel_to_slant_range(10) == pytest.approx(grid.pixel_to_slant_range(2010), abs=1e-9)
    sub = win.window(5, 7, 10, 10)
    assert (sub.first_line, sub.first_pixel) == (105, 2007)
    assert sub.line_to_azimuth_time(0) == pytest.approx(grid.line_to_azimuth_time(105), abs=1e-12)
    with pytest.raises(InputError, match="not inside"):
        win.window(45, 0, 10, 10)


def test_attrs_round_trip_and_epoch_change(grid):
    win = grid.window(3, 4, 5, 6)
    assert RadarGrid.from_attrs(win.to_attrs()) == win
    moved = grid.with_epoch(np.datetime64("2022-09-18T07:49:00"))
    assert moved.line_to_datetime(10) == grid.line_to_datetime(10)


def test_multilook_centres(grid):
    ml = grid.multilook(2, 10)
    assert ml.shape == (750, 2500)
    # output cell 0 covers input lines 0..1 -> centre 0.5
    assert ml.line_to_azimuth_time(0) == pytest.approx(grid.line_to_azimuth_time(0.5))
    assert ml.pixel_to_slant_range(1) == pytest.approx(grid.pixel_to_slant_range(14.5))


def test_invalid_grid():
    with pytest.raises(InputError):
        RadarGrid(np.datetime64("2020-01-01"), 0.0, 0.0, 1.0, 1.0, 10, 10, 0.05)
