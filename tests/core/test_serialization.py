"""Orbit and RadarGrid survive a round trip through xarray (and Zarr)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from sarbd.core import Orbit, RadarGrid
from sarbd.core.serialization import grid_from_dataset, orbit_from_dataset, orbit_to_dataset


def test_round_trip_through_zarr(tmp_path):
    t = np.datetime64("2021-04-01T05:26:00", "ns") + np.arange(0, 60, 10).astype("timedelta64[s]")
    orbit = Orbit(t, np.arange(18.0).reshape(6, 3) + 7e6, np.ones((6, 3)), source="POEORB")
    grid = RadarGrid(
        np.datetime64("2021-04-01T05:26:00"), 12.5, 2e-3, 8.5e5, 2.33, 100, 200, 0.0555
    )
    ds = orbit_to_dataset(orbit)
    ds["amp"] = (("line", "pixel"), np.zeros((100, 200), np.float32))
    ds = ds.assign_coords(line=np.arange(100), pixel=np.arange(200))
    ds.attrs.update(grid.to_attrs())
    ds.to_zarr(tmp_path / "s.zarr")
    back = xr.open_zarr(tmp_path / "s.zarr")
    o2 = orbit_from_dataset(back)
    np.testing.assert_array_equal(o2.positions, orbit.positions)
    assert o2.source == "POEORB" and o2.reference_epoch == orbit.reference_epoch
    assert grid_from_dataset(back) == grid
    crop = grid_from_dataset(back.isel(line=slice(10, 20), pixel=slice(5, 50)))
    assert crop == grid.window(10, 5, 10, 45)
