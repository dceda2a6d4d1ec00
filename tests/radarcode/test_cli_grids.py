"""``sarbd radarcode --grid``: a product, a ``sarbd geocode`` output, or a stack, on real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sarbd.cli.app import main

REFERENCE = (
    Path(__file__).resolve().parents[2] / "examples" / "reference" / "sanand_terrain.geojson"
)


@pytest.fixture(scope="module")
def sanand(shared_data):
    return shared_data / "uavsar_nisar"


def _fractions(path: Path) -> dict[str, np.ndarray]:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return {str(v): ds[v].values for v in ds.data_vars if str(v).startswith("fraction_")}


def test_product_and_geocode_output_give_the_same_fractions(sanand, tmp_path, capsys):
    dem = str(sanand / "SanAnd_dem.tif")
    geometry = tmp_path / "geometry.nc"
    assert (
        main(
            [
                "geocode",
                str(sanand / "SanAnd_129.h5"),
                "--dem",
                dem,
                "--vertical-datum",
                "ellipsoid",
                "--out",
                str(geometry),
            ]
        )
        == 0
    )
    on_product, on_geometry = tmp_path / "a.nc", tmp_path / "b.nc"
    capsys.readouterr()
    # onto the product itself, with the DEM (the options of geocode)
    assert (
        main(
            [
                "radarcode",
                str(REFERENCE),
                "--grid",
                str(sanand / "SanAnd_129.h5"),
                "--frequency",
                "A",
                "--dem",
                dem,
                "--vertical-datum",
                "ellipsoid",
                "--class-field",
                "class",
                "--out",
                str(on_product),
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["shape"] == [150, 200]
    # onto the geocode output: its height layer is the terrain, its orbit and grid the geometry
    assert (
        main(
            [
                "radarcode",
                str(REFERENCE),
                "--grid",
                str(geometry),
                "--class-field",
                "class",
                "--out",
                str(on_geometry),
            ]
        )
        == 0
    )
    a, b = _fractions(on_product), _fractions(on_geometry)
    assert set(a) == {"fraction_lowland", "fraction_upland"} == set(b)
    total = a["fraction_lowland"] + a["fraction_upland"]
    assert np.allclose(total, 1.0, atol=1e-6)  # the DEM classes tile the footprint
    assert 0.2 < a["fraction_lowland"].mean() < 0.8
    for (
        name
    ) in a:  # same terrain heights both ways: the same fractions, up to the height interpolation
        assert np.mean(np.abs(a[name] - b[name])) < 0.01


def test_product_grid_without_terrain_is_one_line_error(sanand, tmp_path, capsys):
    status = main(
        [
            "radarcode",
            str(REFERENCE),
            "--grid",
            str(sanand / "SanAnd_129.h5"),
            "--class-field",
            "class",
            "--out",
            str(tmp_path / "x.nc"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.count("\n") == 0 and "--dem" in err
    assert not (tmp_path / "x.nc").exists()


def test_product_options_on_a_dataset_are_refused(tmp_path, capsys):
    stack = tmp_path / "stack.zarr"
    xr.Dataset({"x": (("line", "pixel"), np.zeros((2, 2)))}).to_zarr(stack)
    status = main(
        [
            "radarcode",
            str(REFERENCE),
            "--grid",
            str(stack),
            "--frequency",
            "A",
            "--out",
            str(tmp_path / "x.nc"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and "--frequency apply to a product grid" in err


def test_sentinel1_crop_as_grid_at_sea_level(shared_data, tmp_path):
    import rasterio

    d = shared_data / "s1_terceira"
    xml = d / "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml"
    tiff = d / "s1a-iw3-slc-vv_subset_hight9800_10400_width11000_11000.tiff"
    coast = REFERENCE.parent / "terceira_coast.geojson"
    out = tmp_path / "coast.nc"
    assert (
        main(
            [
                "radarcode",
                str(coast),
                "--grid",
                str(xml),
                "--measurement",
                str(tiff),
                "--offset",
                "9799,10999",
                "--height-above-geoid",
                "0",
                "--class-field",
                "class",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    f = _fractions(out)
    with rasterio.open(tiff) as src:
        power = np.abs(src.read(1).astype(np.complex128)) ** 2
    assert f["fraction_sea"].shape == power.shape == (601, 1401)
    sea, land = f["fraction_sea"] > 0.99, f["fraction_land"] > 0.99
    assert sea.sum() > 100_000 and land.sum() > 100_000
    # the traced coast comes back in place: calm sea is > 8 dB darker than the land
    assert 10 * np.log10(np.median(power[land]) / np.median(power[sea])) > 8
    assert (
        main(
            [
                "radarcode",
                str(coast),
                "--grid",
                str(xml),
                "--measurement",
                str(tiff),
                "--offset",
                "9799,10999",
                "--height-above-geoid",
                "0",
                "--dem",
                "0",
                "--out",
                str(tmp_path / "x.nc"),
            ]
        )
        == 2
    )
