"""One list of raster suffixes: the build and ``sarbd radarcode`` read the same files as rasters.

The defect this guards: the build sent an Esri ASCII grid (``.asc``) to the vector reader
(``cannot read the vector file``) while ``sarbd radarcode`` read it as a raster.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import CRS, Transformer

from sarbd.cli.app import main
from sarbd.errors import InputError
from sarbd.geometry import rdr2geo
from sarbd.pipeline import build as build_module
from sarbd.pipeline.config import load_config
from sarbd.pipeline.input_files import check_inputs
from sarbd.radarcode.formats import RASTER_SUFFIXES, is_raster_path
from sarbd.radarcode.vectors import read_reference

from .conftest import stack_dataset

UTM = "EPSG:32632"


def _write_asc(path, scene, res=10.0):
    """An Esri ASCII grid (class 3 west of the middle, 7 east) covering the scene, with its .prj."""
    grid, orbit = scene
    g = grid.with_epoch(orbit.reference_epoch)
    ll, pp = np.meshgrid([-10.0, grid.length + 10.0], [-10.0, grid.width + 10.0])
    lat, lon, _ = rdr2geo(g.line_to_azimuth_time(ll), g.pixel_to_slant_range(pp), orbit, height=0.0)
    x, y = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lon, lat)
    x0, y0 = float(np.min(x)), float(np.min(y))
    nx, ny = int((np.max(x) - x0) / res) + 2, int((np.max(y) - y0) / res) + 2
    data = np.where(np.arange(nx)[None, :] < nx // 2, 3, 7) * np.ones((ny, 1), dtype=int)
    header = f"ncols {nx}\nnrows {ny}\nxllcorner {x0:.3f}\nyllcorner {y0:.3f}\ncellsize {res}\nNODATA_value 0\n"
    path.write_text(header + "\n".join(" ".join(map(str, row)) for row in data) + "\n")
    path.with_suffix(".prj").write_text(CRS.from_user_input(UTM).to_wkt("WKT1_ESRI"))
    return path


@pytest.mark.parametrize("suffix", [*RASTER_SUFFIXES, ".ASC", ".TIF"])
def test_build_and_cli_agree_on_every_raster_suffix(suffix):
    assert is_raster_path(f"land_cover{suffix}")
    assert build_module.is_raster(f"land_cover{suffix}")  # what the build's radarcode stage asks


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson", ".fgb", ".parquet"])
def test_vector_suffixes_are_not_rasters(suffix):
    assert not is_raster_path(f"roads{suffix}") and not build_module.is_raster(f"roads{suffix}")


def test_esri_ascii_grid_is_a_raster_for_the_build_and_the_cli(scene, tmp_path, capsys):
    asc = _write_asc(tmp_path / "lc.asc", scene)
    (tmp_path / "a.SAFE").mkdir()
    (tmp_path / "build.yaml").write_text(
        "inputs:\n  products: [a.SAFE]\n  reference:\n    - path: lc.asc\n"
        "      class_map: {'3': field, '7': water}\n"
    )
    check_inputs(
        load_config(tmp_path / "build.yaml")
    )  # opened as a raster, not refused as a vector file
    with pytest.raises(InputError, match="radarcode_raster"):
        read_reference(asc)
    grid, orbit = scene
    stack = tmp_path / "stack.zarr"
    stack_dataset(grid, orbit, 0.0).to_zarr(stack)
    capsys.readouterr()
    code = main(
        [
            "radarcode",
            str(asc),
            "--grid",
            str(stack),
            "--dem",
            "0",
            "--kind",
            "categorical",
            "--class-map",
            "3=field",
            "--class-map",
            "7=water",
            "--out",
            str(tmp_path / "lc.nc"),
            "--json",
        ]
    )
    assert code == 0
    mean = json.loads(capsys.readouterr().out)["mean_fraction"]
    assert 0.2 < mean["field"] < 0.8 and abs(mean["field"] + mean["water"] - 1.0) < 1e-3
