"""Scene: lazy pixels as a Dask-backed (line, pixel) DataArray; crops keep positions."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from sarbd.core import ArrayPixelSource, Orbit, RadarGrid, Scene
from sarbd.errors import InputError


@pytest.fixture
def scene() -> Scene:
    rng = np.random.default_rng(1)
    data = (rng.normal(size=(40, 60)) + 1j * rng.normal(size=(40, 60))).astype(np.complex64)
    grid = RadarGrid(np.datetime64("2020-01-01T00:00:00"), 5.0, 1e-3, 8e5, 2.3, 40, 60, 0.0555)
    t = np.datetime64("2020-01-01T00:00:00", "ns") + np.arange(0, 100, 10).astype("timedelta64[s]")
    orbit = Orbit(t, np.tile([7e6, 0, 0], (10, 1)) + np.arange(10)[:, None], np.ones((10, 3)))
    return Scene(
        grid,
        orbit,
        ("VV", "VH"),
        {"mission": "TEST"},
        ArrayPixelSource({"VV": data, "VH": data * 2}),
        chunks=(16, 32),
    )


def test_slc_is_lazy_and_correct(scene):
    slc = scene.slc("vv")
    assert slc.dims == ("line", "pixel") and slc.dtype == np.complex64
    assert isinstance(slc.data, da.Array) and slc.data.chunks[0] == (16, 16, 8)
    np.testing.assert_array_equal(slc.values, scene.pixels.arrays["VV"])
    np.testing.assert_array_equal(scene.slc("VH").values, scene.pixels.arrays["VV"] * 2)


def test_crop_keeps_absolute_coordinates(scene):
    crop = scene.crop(10, 20, 15, 25)
    slc = crop.slc("VV")
    assert slc.shape == (15, 25)
    assert int(slc.line[0]) == 10 and int(slc.pixel[0]) == 20
    np.testing.assert_array_equal(slc.values, scene.pixels.arrays["VV"][10:25, 20:45])


def test_missing_polarisation_is_a_clear_error(scene):
    with pytest.raises(InputError, match="polarisation 'HH' is not in this product"):
        scene.slc("HH")


def test_strided_and_reversed_reads(scene):
    ref = scene.pixels.arrays["VV"]
    slc = scene.slc("VV")
    np.testing.assert_array_equal(slc[::10, ::7].values, ref[::10, ::7])
    np.testing.assert_array_equal(slc.isel(line=slice(2, 40, 3)).values, ref[2:40:3])
    np.testing.assert_array_equal(slc[::-1, 5:50:4].values, ref[::-1, 5:50:4])
    np.testing.assert_array_equal(
        scene.crop(3, 4, 30, 50).slc("VV")[1::5, ::-3].values, ref[3:33, 4:54][1::5, ::-3]
    )
