"""Direct reads and writes of Zarr chunk files (sarbd.signatures.zarr_chunks) against Zarr itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import dask
import numcodecs
import numpy as np
import pytest
import xarray as xr
import zarr

import sarbd.signatures as S
from sarbd.coregistration.stack import write_stack
from sarbd.signatures.fused import FUSED
from sarbd.signatures.zarr_chunks import direct_readable, read_lines, stored_array, write_lines
from tests.signatures.test_fused import _stack


def _array(tmp_path, compressor, name="a", shape=(3, 21, 10), chunks=(2, 8, 4), write=True):
    rng = np.random.default_rng(1)
    x = rng.random(shape, dtype=np.float32)
    x[1, 2, 3] = np.nan
    arr = zarr.create_array(
        tmp_path / "s.zarr",
        name=name,
        shape=shape,
        chunks=chunks,
        dtype="float32",
        zarr_format=2,
        fill_value=np.nan,
        compressors=[compressor] if compressor is not None else None,
    )
    if write:
        arr[:] = x
    return arr, x


@pytest.mark.parametrize(
    "compressor",
    [numcodecs.Blosc(cname="zstd", clevel=3, shuffle=1), numcodecs.Zstd(level=1), None],
    ids=["blosc", "zstd", "raw"],
)
@pytest.mark.parametrize("pooled", [False, True])
def test_read_lines_equals_zarr(tmp_path, compressor, pooled):
    arr, x = _array(tmp_path, compressor)
    assert direct_readable(arr)
    pool = ThreadPoolExecutor(2) if pooled else None
    # whole chunks (decoded in place), edge chunks, a region inside one chunk, a single line
    for l0, l1, p0, p1 in [(0, 16, 0, 8), (0, 21, 0, 10), (5, 19, 3, 9), (9, 10, 4, 5)]:
        out = np.full((3, l1 - l0, p1 - p0), -1.0, np.float32)
        read_lines(arr, l0, l1, p0, p1, out, pool)
        np.testing.assert_array_equal(out, x[:, l0:l1, p0:p1], err_msg=f"{l0, l1, p0, p1}")
    # a non-contiguous destination (a view of a larger buffer) gets the same values
    big = np.zeros((3, 30, 10), np.float32)
    read_lines(arr, 8, 16, 0, 10, big[:, 4:12], pool)
    np.testing.assert_array_equal(big[:, 4:12], x[:, 8:16])
    assert not big[:, :4].any() and not big[:, 12:].any()
    if pool is not None:
        pool.shutdown()


def test_read_lines_gives_the_fill_value_of_unwritten_chunks(tmp_path):
    arr, x = _array(tmp_path, numcodecs.Blosc(), write=False)
    arr[:, :8] = x[:, :8]  # the later chunk rows are never written
    out = np.zeros((3, 21, 10), np.float32)
    read_lines(arr, 0, 21, 0, 10, out)
    np.testing.assert_array_equal(out[:, :8], x[:, :8])
    assert np.isnan(out[:, 8:]).all()


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "other_shape"],
)
def test_a_corrupt_chunk_file_is_an_error_naming_it(tmp_path, damage):
    arr, _ = _array(tmp_path, numcodecs.Blosc(cname="lz4"))
    chunk = tmp_path / "s.zarr" / "a" / "1.1.0"
    raw = chunk.read_bytes()
    if damage == "garbage":
        chunk.write_bytes(b"\x00not a blosc chunk" * 4)
    elif damage == "truncated":
        chunk.write_bytes(raw[: len(raw) // 2])
    else:  # a valid Blosc buffer of fewer bytes than a chunk: never silently partial
        chunk.write_bytes(numcodecs.Blosc(cname="lz4").encode(np.ones(10, np.float32)))
    out = np.zeros((3, 21, 10), np.float32)
    with pytest.raises(ValueError, match=r"1\.1\.0.*not a chunk"):
        read_lines(arr, 0, 21, 0, 10, out)


def test_stored_array_is_only_the_unchanged_store_variable(tmp_path):
    st = _stack(2).chunk({"time": 1, "line": 8, "pixel": -1})
    write_stack(st, tmp_path / "stack.zarr")
    ds = xr.open_zarr(tmp_path / "stack.zarr")
    arr = stored_array(ds["slc_vv"].data)
    assert arr is not None and direct_readable(arr)
    np.testing.assert_array_equal(arr[:], st["slc_vv"].values)
    # a selection, a computation or an in-memory array: read through Dask instead
    assert stored_array(ds["slc_vv"].isel(pixel=slice(0, 20)).data) is None
    assert stored_array((ds["slc_vv"] * 2).data) is None
    assert stored_array(st["slc_vv"].data) is None


def test_direct_reads_of_a_stored_stack_equal_the_dask_path(tmp_path):
    st = _stack(5).chunk({"time": 1, "line": 8, "pixel": -1})
    write_stack(st, tmp_path / "stack.zarr")
    ds = xr.open_zarr(tmp_path / "stack.zarr")
    assert stored_array(ds["slc_vh"].data) is not None  # the direct read is what runs
    kw = {"window": (3, 3), "chunks": {"time": -1, "line": 8, "pixel": 16}, "band_lines": 16}
    with dask.config.set(scheduler="threads", num_workers=2):
        S.compute_to_zarr(ds, tmp_path / "direct.zarr", list(FUSED), **kw)
        S.compute_to_zarr(ds, tmp_path / "dask.zarr", list(FUSED), direct=False, **kw)
    a, b = xr.open_zarr(tmp_path / "direct.zarr"), xr.open_zarr(tmp_path / "dask.zarr")
    assert set(a.data_vars) == set(b.data_vars) and len(a.data_vars) > len(FUSED)
    for v in b.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


@pytest.mark.parametrize("filters", [None, "bitround"])
def test_write_lines_writes_the_chunk_files_zarr_writes(tmp_path, filters):

    rng = np.random.default_rng(0)
    x = rng.random((3, 21, 10), dtype=np.float32)
    x[1, 2, 3] = np.nan
    kw = {
        "shape": x.shape,
        "chunks": (2, 8, 4),
        "dtype": "float32",
        "zarr_format": 2,
        "fill_value": np.nan,
        "compressors": [numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)],
        "filters": [numcodecs.BitRound(keepbits=7)] if filters else None,
    }
    for name in ("mine", "zarrs"):
        zarr.create_array(tmp_path / "s.zarr", name=name, **kw)
    g = zarr.open_group(tmp_path / "s.zarr", mode="r+")
    for l0 in (0, 8, 16):
        write_lines(g["mine"], tmp_path / "s.zarr", "mine", l0, min(l0 + 8, 21), x[:, l0 : l0 + 8])
    g["zarrs"].with_config({"write_empty_chunks": True})[:] = x
    mine = {
        p.name: p.read_bytes()
        for p in (tmp_path / "s.zarr" / "mine").iterdir()
        if not p.name.startswith(".")
    }
    theirs = {
        p.name: p.read_bytes()
        for p in (tmp_path / "s.zarr" / "zarrs").iterdir()
        if not p.name.startswith(".")
    }
    assert len(mine) == 2 * 3 * 3 and mine == theirs
    np.testing.assert_array_equal(zarr.open_group(tmp_path / "s.zarr")["mine"][:], g["zarrs"][:])
