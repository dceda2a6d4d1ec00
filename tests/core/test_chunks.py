"""One chunk type: every accepted ``chunks`` form normalises to the same Chunks; bad ones fail clearly."""

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from sarbd.core.chunks import DEFAULT_CHUNKS, Chunks, as_chunks, default_stack_chunks, stack_chunks
from sarbd.errors import ConfigError


@pytest.mark.parametrize(
    "value",
    [
        (64, 128),
        [64, 128],
        Chunks(64, 128),
        {"line": 64, "pixel": 128},
        {"lines": 64, "pixels": 128, "time": 1},
        ((64, 64, 10), (128, 5)),
        (np.int64(64), np.int32(128)),
    ],
)
def test_every_form_gives_the_same_chunks(value):
    c = as_chunks(value)
    assert c == Chunks(64, 128) and c == (64, 128) and (c.lines, c.pixels) == (64, 128)
    assert type(c.lines) is int and type(c.pixels) is int


def test_none_is_the_one_default_and_a_square_size():
    assert as_chunks(None) is DEFAULT_CHUNKS == (512, 1024)
    assert as_chunks(None, default=Chunks(7, 9)) == (7, 9)
    assert as_chunks(256) == (256, 256)


@pytest.mark.parametrize(
    "bad",
    [
        (0, 10),
        (-1, 10),
        (1.5, 10),
        (True, 10),
        (1, 2, 3),
        "512",
        {"line": 4},
        {"line": 4, "pixel": "x"},
    ],
)
def test_bad_chunks_are_a_config_error(bad):
    with pytest.raises(ConfigError, match="chunks"):
        as_chunks(bad)


def test_dask_and_xarray_take_chunks_as_they_are():
    c = Chunks(3, 4)
    a = da.zeros((7, 9), chunks=c)
    assert a.chunks == ((3, 3, 1), (4, 4, 1))
    x = xr.DataArray(np.zeros((2, 7, 9)), dims=("time", "line", "pixel")).chunk(
        c.for_dims(("time", "line", "pixel"))
    )
    assert x.chunks == ((1, 1), (3, 3, 1), (4, 4, 1))
    assert c.clipped((2, 100)) == (2, 4)


def test_stack_chunks_keep_all_dates_or_the_mapping_given():
    assert stack_chunks((32, 64), 5, 1000) == {"time": -1, "line": 32, "pixel": 64}
    assert stack_chunks({"time": 1, "line": 17, "pixel": 23}, 5, 1000) == {
        "time": 1,
        "line": 17,
        "pixel": 23,
    }
    assert stack_chunks({"line": 16}, 5, 1000) == {"line": 16}
    with pytest.raises(ConfigError, match="unknown stack dimensions"):
        stack_chunks({"band": 2}, 5, 1000)


def test_default_stack_chunks_bound_the_samples_per_chunk():
    for n_time, n_pixel in [(1, 100), (2, 25000), (30, 25000), (400, 5000)]:
        c = default_stack_chunks(n_time, n_pixel)
        assert c["time"] == -1 and c["pixel"] == min(4096, n_pixel)
        assert c["line"] % 16 == 0 and 32 <= c["line"] <= 1024
        # at most the budget, unless the 32-line floor binds
        assert c["line"] == 32 or n_time * c["line"] * c["pixel"] <= 4_000_000
    assert (
        stack_chunks(None, 2, 25000)
        == default_stack_chunks(2, 25000)
        == {"time": -1, "line": 480, "pixel": 4096}
    )
