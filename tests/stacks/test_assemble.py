"""An imported stack -> the sarbd stack of docs/formats.md (what `sarbd build` continues from).

The simulated secondaries are the reference times exp(-j phi_geom) (``conftest``), so the
assembled interferograms must have zero phase and the coherence must be 1 wherever the
geometric phase is modelled right; baselines follow the simulated orbit offsets.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

from sarbd.core.serialization import grid_from_dataset, orbit_from_dataset
from sarbd.coregistration import write_stack
from sarbd.stacks import import_stack

from .writers import write_doris, write_snap


def test_flattened_interferograms_and_layout(sim_stack, tmp_path):
    write_doris(sim_stack, tmp_path / "doris")
    ds = import_stack(tmp_path / "doris", chunks=(32, 32))
    assert isinstance(ds["slc_vv"].data, da.Array)  # lazy until written
    assert ds["slc_vv"].shape == (3, 48, 64)
    dt = (ds["time"].values - np.array(sim_stack.starts, dtype="datetime64[ns]")) / np.timedelta64(
        1, "ns"
    )
    assert np.max(np.abs(dt)) <= 1000  # the .res files state times to the microsecond
    ifg = ds["interferogram_vv"].values
    assert (
        np.max(np.abs(np.angle(ifg[1:]))) < 0.02
    )  # rad: the geometric phase (std ~2 rad) is removed
    coh = ds["coherence_vh"].values
    assert np.nanmin(coh[:, 2:-2, 5:-5]) > 0.999
    bperp = ds["perpendicular_baseline"].values
    assert bperp[0] == 0 and abs(bperp[1]) > 50 and np.sign(bperp[1]) == -np.sign(bperp[2])
    assert np.allclose(ds["temporal_baseline"].values, [0, 12, 24])
    for name in ("latitude", "longitude", "height", "incidence_angle", "layover_shadow_mask"):
        assert name in ds.variables
    # designed at 45 N, 10 E (design_orbit puts the target abeam only approximately: ~20 km)
    assert abs(float(ds["latitude"].values.mean()) - 45.0) < 0.5
    assert abs(float(ds["longitude"].values.mean()) - 10.0) < 0.5
    assert ds.attrs["sarbd_coregistration"] == "imported: coregistered by doris"
    assert "deramped" in ds.attrs["sarbd_stack_caveat"] and ds.attrs["sarbd_stack_notes"] == "none"
    path = write_stack(ds, tmp_path / "stack.zarr")
    back = xr.open_zarr(path)
    assert grid_from_dataset(back) == grid_from_dataset(ds)
    o = orbit_from_dataset(back)
    assert np.max(np.abs(o.positions - sim_stack.orbits[0].positions)) < 1e-4
    assert np.array_equal(back["slc_vv"].values, ds["slc_vv"].values)


def test_aoi_window_and_polarisation(sim_stack, tmp_path):
    dim = write_snap(sim_stack, tmp_path)
    ds = import_stack(dim, polarizations=["VV"], aoi=(8, 10, 20, 30))
    assert "slc_vh" not in ds and ds["slc_vv"].shape == (3, 20, 30)
    assert int(ds["line"][0]) == 8 and int(ds["pixel"][0]) == 10
    assert np.array_equal(ds["slc_vv"].values[2], sim_stack.slc["VV"][2][8:28, 10:40])
    assert np.max(np.abs(np.angle(ds["interferogram_vv"].values[1:]))) < 0.02
