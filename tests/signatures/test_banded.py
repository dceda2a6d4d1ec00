"""compute_to_zarr's direct fused band writer (sarbd.signatures.banded) against the Dask path."""

from __future__ import annotations

import json

import dask
import numpy as np
import pytest
import xarray as xr

import sarbd.signatures as S
from sarbd.signatures.banded import _LineStream
from sarbd.signatures.fused import FUSED
from tests.signatures.test_fused import _close, _stack

SMALL = {"time": -1, "line": 8, "pixel": 16}  # 31 x 40 image: a short last band, three pixel chunks


def _meta(store):
    """Every variable's .zarray and .zattrs (chunks, codecs, fill value, attributes)."""
    return {
        p.parent.name + "/" + p.name: json.loads(p.read_text()) for p in sorted(store.glob("*/.z*"))
    }


@pytest.mark.parametrize(
    ("window", "zero_is_nodata", "workers", "stored_lines"),
    [((3, 3), False, 2, 5), ((4, 2), True, 1, None)],
)
def test_direct_bands_equal_the_dask_path(tmp_path, window, zero_is_nodata, workers, stored_lines):
    st = _stack(7)
    if stored_lines:  # input chunks (as read from a store) that bands and halos cross
        st = st.chunk({"time": 1, "line": stored_lines, "pixel": -1})
    names = [*FUSED, "backscatter_mean"]  # a non-fused signature too: it goes through Dask
    kw = {"window": window, "chunks": SMALL, "zero_is_nodata": zero_is_nodata, "band_lines": 16}
    with dask.config.set(scheduler="threads", num_workers=workers):
        S.compute_to_zarr(st, tmp_path / "direct.zarr", names, **kw)
        S.compute_to_zarr(st, tmp_path / "dask.zarr", names, direct=False, **kw)
    slow = S.compute(st, names, window=window, fused=False, zero_is_nodata=zero_is_nodata).load()
    fast = xr.open_zarr(tmp_path / "direct.zarr").load()
    ref = xr.open_zarr(tmp_path / "dask.zarr").load()
    assert set(fast.data_vars) == set(ref.data_vars) == set(slow.data_vars)
    for v in ref.data_vars:  # the Dask path's bits (what a cluster writes); the step-by-step
        np.testing.assert_array_equal(fast[v].values, ref[v].values, err_msg=v)
        _close(fast[v].values, slow[v].values, v)  # path's values to float32 rounding
    assert np.isnan(fast["entropy_vv_vh"].values[1, 4:9, 5:12]).any()  # the hole reaches the output
    # the same store layout: chunks, codecs, fill values, attributes and chunk files
    assert _meta(tmp_path / "direct.zarr") == _meta(tmp_path / "dask.zarr")
    files = {
        p.relative_to(tmp_path / "direct.zarr")
        for p in (tmp_path / "direct.zarr").rglob("*")
        if p.is_file()
    }
    assert files == {
        p.relative_to(tmp_path / "dask.zarr")
        for p in (tmp_path / "dask.zarr").rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("tile_pixels", [16, 32])
def test_column_tiles_equal_one_tile(tmp_path, tile_pixels):
    """Column tiles (one or two pixel chunks, each with the window's halo of pixels from
    its neighbours) write the values and chunk files of the whole-width pass."""
    from sarbd.signatures.banded import write_fused_bands
    from sarbd.signatures.compute import _stack_inputs, plan
    from sarbd.signatures.fused import fused_rows

    st = _stack(7)
    names = list(FUSED)
    kw = {"window": (3, 7), "chunks": SMALL, "band_lines": 16}
    S.compute_to_zarr(st, tmp_path / "whole.zarr", names, **kw)
    # the same store, its fused arrays rewritten tile by tile
    import shutil

    shutil.copytree(tmp_path / "whole.zarr", tmp_path / "tiles.zarr")
    inputs = _stack_inputs(st, window=(3, 7), chunks=SMALL)
    groups = fused_rows(inputs, plan(inputs, names))
    fused = {var for items in groups.values() for var, _ in items}
    assert fused
    for var in fused:
        for f in (tmp_path / "tiles.zarr" / var).glob("[0-9]*"):
            f.unlink()
    write_fused_bands(
        inputs, groups, tmp_path / "tiles.zarr", st.sizes["line"], 16, tile_pixels=tile_pixels
    )
    whole = xr.open_zarr(tmp_path / "whole.zarr").load()
    tiles = xr.open_zarr(tmp_path / "tiles.zarr").load()
    for v in whole.data_vars:
        np.testing.assert_array_equal(tiles[v].values, whole[v].values, err_msg=v)
    assert sorted(
        p.relative_to(tmp_path / "tiles.zarr") for p in (tmp_path / "tiles.zarr").rglob("*")
    ) == sorted(
        p.relative_to(tmp_path / "whole.zarr") for p in (tmp_path / "whole.zarr").rglob("*")
    )
    with pytest.raises(ValueError, match="multiple of the pixel chunk"):
        write_fused_bands(
            inputs, groups, tmp_path / "tiles.zarr", st.sizes["line"], 16, tile_pixels=20
        )


def test_tile_width_fits_the_budget():
    from sarbd.signatures.banded import tile_width

    assert tile_width(2350, 1024, 100.0, budget=2**30) == 2350  # fits: one tile, no halo
    assert tile_width(25000, 1024, 230e3, budget=2**30) == 4096  # a full IW burst: 4 chunks
    assert tile_width(25000, 1024, 1e9, budget=2**30) == 1024  # at least one chunk


def test_direct_bands_with_a_quantize_filter_and_date_chunks(tmp_path):
    """The build's encoding (one date per chunk, bit rounding) is the store's, whoever writes it."""
    from sarbd.export.cube import stage_encoding

    st = _stack(8).chunk({"line": 8})  # lazy (line, pixel) coordinates: written by the Dask pass
    assert st["latitude"].chunks is not None
    names = ["entropy", "intensity_ratio"]  # all fused
    kw = {"window": (3, 3), "chunks": SMALL}
    enc = stage_encoding(S.compute(st, names, **kw), (8, 16), quantize={"keepbits": 7})
    S.compute_to_zarr(st, tmp_path / "direct.zarr", names, encoding=enc, **kw)
    S.compute_to_zarr(st, tmp_path / "dask.zarr", names, encoding=enc, direct=False, **kw)
    meta = _meta(tmp_path / "direct.zarr")
    assert meta == _meta(tmp_path / "dask.zarr")
    files = {
        p.relative_to(tmp_path / "direct.zarr")
        for p in (tmp_path / "direct.zarr").rglob("*")
        if p.is_file()
    }
    assert files == {
        p.relative_to(tmp_path / "dask.zarr")
        for p in (tmp_path / "dask.zarr").rglob("*")
        if p.is_file()
    }
    np.testing.assert_array_equal(
        xr.open_zarr(tmp_path / "direct.zarr")["latitude"], st["latitude"]
    )
    assert meta["entropy_vv_vh/.zarray"]["chunks"] == [1, 8, 16]
    fast, ref = (
        xr.open_zarr(tmp_path / "direct.zarr").load(),
        xr.open_zarr(tmp_path / "dask.zarr").load(),
    )
    for v in ref.data_vars:
        np.testing.assert_array_equal(np.isnan(fast[v].values), np.isnan(ref[v].values), err_msg=v)
        same = np.mean(
            fast[v].values[~np.isnan(ref[v].values)] == ref[v].values[~np.isnan(ref[v].values)]
        )
        assert same > 0.99, v  # bit rounding keeps 7 bits: at most a rare float64-order flip


def test_line_stream_returns_the_lines_asked_and_decodes_each_chunk_once():
    import dask.array as da

    x = np.arange(2 * 23 * 3, dtype=np.float32).reshape(2, 23, 3)
    reads = []

    def mark(block, block_info=None):
        reads.append(block_info[0]["array-location"][1])
        return block

    d = da.from_array(x, chunks=(1, 5, 3)).map_blocks(mark, dtype=np.float32)
    s = _LineStream(d, np.float32, 1)
    for lo, hi in [(0, 3), (1, 7), (6, 12), (11, 11), (12, 23), (22, 23)]:
        np.testing.assert_array_equal(s.take(lo, hi), x[:, lo:hi], err_msg=f"{lo}-{hi}")
    assert sorted(reads) == sorted(
        (a, a + 5 if a < 20 else 23) for a in range(0, 23, 5) for _ in range(2)
    )
    with pytest.raises(ValueError, match="dropped"):
        s.take(10, 12)


def test_band_writer_waits_for_the_store_and_raises_its_error(tmp_path):
    """With ``store_ready`` the first band is computed before the arrays exist; their
    writer's error is raised, and nothing is written before the store is ready."""
    from concurrent.futures import Future

    from sarbd.signatures.banded import write_fused_bands
    from sarbd.signatures.compute import _stack_inputs, plan
    from sarbd.signatures.fused import fused_rows

    st = _stack(7)
    inputs = _stack_inputs(st, window=(3, 3), chunks=SMALL)
    groups = fused_rows(inputs, plan(inputs, list(FUSED)))
    failed: Future[None] = Future()
    failed.set_exception(OSError("disk full while writing the template"))
    store = tmp_path / "never.zarr"
    with pytest.raises(OSError, match="disk full"):
        write_fused_bands(
            inputs, groups, store, st.sizes["line"], 16, store_ready=failed, chunk_pixels=16
        )
    assert not store.exists()
    with pytest.raises(ValueError, match="chunk_pixels"):
        write_fused_bands(inputs, groups, store, st.sizes["line"], 16, store_ready=failed)
