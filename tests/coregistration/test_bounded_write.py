"""coregister_to_zarr (geometry block by block, then date by date) writes the store of
write_stack(coregister(...)): same arrays, bit for bit, same attributes and chunks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
import zarr

import sarbd
from sarbd.coregistration.stack import (
    coregister,
    coregister_to_zarr,
    reference_geometry,
    write_stack,
)
from sarbd.simulate import simulate_scene


def _scenes(path, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_scene(path, size="tiny", dates=3, seed=4, mode=mode)
    ref, *secs = (sarbd.open_product(p) for p in sim.safe)
    return sim, ref, secs


def _same_store(a, b):
    x, y = xr.open_zarr(a), xr.open_zarr(b)
    assert set(x.variables) == set(y.variables)
    claim = "sarbd_output"  # the store's own name
    assert {k: v for k, v in x.attrs.items() if k != claim} == {
        k: v for k, v in y.attrs.items() if k != claim
    }
    for n in x.variables:
        assert x[n].attrs == y[n].attrs, n
        assert x[n].dtype == y[n].dtype, n
        np.testing.assert_array_equal(x[n].values, y[n].values, err_msg=str(n))
    gx, gy = zarr.open_group(a, mode="r"), zarr.open_group(b, mode="r")
    for n in x.data_vars:
        assert gx[n].chunks == gy[n].chunks, n


@pytest.mark.parametrize("mode", ["stripmap", "tops"])
def test_coregister_to_zarr_equals_write_stack(tmp_path, mode):
    sim, ref, secs = _scenes(tmp_path / "sim", mode)
    kw = {"dem": sim.dem, "chunks": (64, 128), "sequential": True}
    write_stack(coregister(ref, secs, **kw), tmp_path / "whole.zarr")
    coregister_to_zarr(ref, secs, tmp_path / "dates.zarr", **kw)
    _same_store(tmp_path / "whole.zarr", tmp_path / "dates.zarr")
    # the temporary geometry store is gone; nothing else was left beside the output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dates.zarr", "sim", "whole.zarr"]
    ds = xr.open_zarr(tmp_path / "dates.zarr")
    assert {"interferogram_seq_vv", "coherence_seq_vh", "latitude", "height"} <= set(ds.variables)


def test_reference_geometry_in_a_store_equals_in_memory(tmp_path):
    sim, ref, _ = _scenes(tmp_path / "sim", "stripmap")
    mem = reference_geometry(ref, sim.dem)
    stored = reference_geometry(ref, sim.dem, store=tmp_path / "geometry.zarr", block_lines=48)
    assert set(stored.variables) == set(mem.variables)
    for n in mem.variables:
        assert stored[n].dtype == mem[n].dtype, n
        np.testing.assert_array_equal(stored[n].values, mem[n].values, err_msg=str(n))
    assert not isinstance(stored["latitude"].variable._data, np.ndarray)  # read lazily
