"""The ``sarbd radarcode`` command: a GeoPackage onto a stack on disk, and its errors."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import xarray as xr

from sarbd.cli.app import main

from .conftest import radar_rectangle_polygon, stack_dataset


def test_cli_writes_netcdf_with_fractions(scene, tmp_path, capsys):
    grid, orbit = scene
    stack = tmp_path / "stack.zarr"
    stack_dataset(grid, orbit, 12.0).to_zarr(stack)
    poly = radar_rectangle_polygon(grid, orbit, 10.5, 50.5, 20.5, 120.5, height=12.0)
    gpd.GeoDataFrame({"type": ["water"]}, geometry=[poly], crs="EPSG:4326").to_crs(
        "EPSG:28992"
    ).to_file(tmp_path / "ref.gpkg", layer="waterdeel", engine="pyogrio")
    out = tmp_path / "labels.nc"
    code = main(
        [
            "radarcode",
            str(tmp_path / "ref.gpkg"),
            "--grid",
            str(stack),
            "--class-field",
            "type",
            "--buffer",
            "15",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["shape"] == [200, 400]
    ds = xr.open_dataset(out, engine="h5netcdf")
    truth = np.zeros(grid.shape)
    truth[11:51, 21:121] = 1.0
    assert np.max(np.abs(ds["fraction_water"].values - truth)) < 1e-3
    assert summary["mean_fraction"]["water"] == round(float(ds["fraction_water"].values.mean()), 6)


def test_cli_error_is_one_line(scene, tmp_path, capsys):
    grid, orbit = scene
    stack = tmp_path / "stack.zarr"
    stack_dataset(grid, orbit, 0.0).to_zarr(stack)
    capsys.readouterr()  # drop warnings of the set-up
    code = main(
        [
            "radarcode",
            str(tmp_path / "none.gpkg"),
            "--grid",
            str(stack),
            "--out",
            str(tmp_path / "x.nc"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "none.gpkg: reference file not found" in err
    assert not (tmp_path / "x.nc").exists()


def test_cli_zarr_output_is_zarr_v2(scene, tmp_path):
    """`sarbd radarcode --out X.zarr` writes Zarr v2, as every other store sarbd writes."""
    grid, orbit = scene
    stack = tmp_path / "stack.zarr"
    stack_dataset(grid, orbit, 12.0).to_zarr(stack)
    poly = radar_rectangle_polygon(grid, orbit, 10.5, 50.5, 20.5, 120.5, height=12.0)
    gpd.GeoDataFrame({"type": ["water"]}, geometry=[poly], crs="EPSG:4326").to_file(
        tmp_path / "ref.gpkg", engine="pyogrio"
    )
    out = tmp_path / "labels.zarr"
    args = ["radarcode", str(tmp_path / "ref.gpkg"), "--grid", str(stack)]
    assert main([*args, "--class-field", "type", "--out", str(out)]) == 0
    assert (out / ".zgroup").is_file() and not (out / "zarr.json").exists()
    truth = np.zeros(grid.shape)
    truth[11:51, 21:121] = 1.0
    ds = xr.open_zarr(out)
    assert np.max(np.abs(ds["fraction_water"].values - truth)) < 1e-3
