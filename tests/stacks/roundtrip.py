"""Field-by-field comparison of an opened stack with the simulated stack it was written from."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_grid(
    grid: Any, truth: Any, start: np.datetime64, *, time_tol_ns: int = 1000, range_tol: float = 1e-3
) -> None:
    assert grid.shape == truth.shape
    assert (
        abs(
            int(
                (grid.sensing_start_datetime - np.datetime64(start, "ns")) / np.timedelta64(1, "ns")
            )
        )
        <= time_tol_ns
    )
    assert np.isclose(grid.azimuth_time_interval, truth.azimuth_time_interval, rtol=1e-12, atol=0)
    assert abs(grid.starting_range - truth.starting_range) < range_tol
    assert np.isclose(grid.range_pixel_spacing, truth.range_pixel_spacing, rtol=1e-9, atol=0)
    assert np.isclose(grid.wavelength, truth.wavelength, rtol=1e-9, atol=0)
    assert grid.look_side == truth.look_side


def check_orbit(orbit: Any, truth: Any, *, velocity_tol: float = 1e-6) -> None:
    assert np.array_equal(
        orbit.times.astype("datetime64[us]"), truth.times.astype("datetime64[us]")
    )
    assert np.max(np.abs(orbit.positions - truth.positions)) < 1e-4
    assert np.max(np.abs(orbit.velocities - truth.velocities)) < velocity_tol


def check_stack(
    stack: Any, sim: Any, *, velocity_tol: float = 1e-6, time_tol_ns: int = 1000
) -> None:
    """Every date: grid (secondaries: their own first-line time and wavelength), orbit, pixels (exact)."""
    assert len(stack.dates) == len(sim.starts)
    assert set(stack.reference.polarizations) == set(sim.slc)
    for k, scene in enumerate(stack.dates):
        check_grid(scene.radar_grid, sim.grid, sim.starts[k], time_tol_ns=time_tol_ns)
        check_orbit(scene.orbit, sim.orbits[k], velocity_tol=velocity_tol)
        for pol, arrays in sim.slc.items():
            got = scene.slc(pol).values
            assert got.dtype == np.complex64
            assert np.array_equal(got, arrays[k]), f"date {k} {pol} pixels differ"
        # a window read goes to the right place
        win = scene.crop(5, 7, 11, 13).slc(next(iter(sim.slc))).values
        assert np.array_equal(win, sim.slc[next(iter(sim.slc))][k][5:16, 7:20])
