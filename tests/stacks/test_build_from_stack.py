"""Starting `sarbd build` after coregistration: `inputs.stack` and `sarbd import-stack`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
import yaml

from sarbd.cli.app import main
from sarbd.errors import ConfigError
from sarbd.pipeline.config import load_config

from .writers import write_doris, write_gmtsar


def _reference_layers(ds: xr.Dataset, path) -> None:
    """Two polygons splitting the stack's footprint (west: water, east: field), EPSG:4326."""
    import geopandas as gpd
    import shapely

    lat, lon = ds["latitude"].values, ds["longitude"].values
    w, e, s, n = lon.min() - 0.01, lon.max() + 0.01, lat.min() - 0.01, lat.max() + 0.01
    mid = float(np.median(lon))
    gdf = gpd.GeoDataFrame(
        {"sarbd_class": ["water", "field"]},
        geometry=[shapely.box(w, s, mid, n), shapely.box(mid, s, e, n)],
        crs="EPSG:4326",
    )
    gdf.to_file(path, driver="GPKG")


def _config(tmp_path, inputs: dict) -> dict:
    return {
        "inputs": {
            "polarizations": ["VV", "VH"],
            "classes": ["water", "field"],
            "reference": [{"path": "reference.gpkg", "class_field": "sarbd_class"}],
            **inputs,
        },
        "labels": {"l1_rules": [{"class_name": "water", "expression": "coherence_mean_vv > 0.5"}]},
        "chips": {"sizes": [16], "block": 24, "buffer": 4, "seed": 1},
        "outputs": {"directory": "dataset", "name": "from-doris"},
        "compute": {"chunks": [32, 32]},
    }


def test_config_takes_a_stack_or_products(tmp_path):
    cfg = _config(tmp_path, {"stack": {"path": "doris", "format": "doris", "polarization": "VV"}})
    f = tmp_path / "build.yaml"
    f.write_text(yaml.safe_dump(cfg))
    loaded = load_config(f)
    assert (
        loaded.inputs.stack is not None
        and loaded.inputs.stack.path == (tmp_path / "doris").resolve()
    )
    assert loaded.inputs.stack.options() == {"polarization": "VV"}
    f.write_text(yaml.safe_dump({**cfg, "inputs": {**cfg["inputs"], "products": ["a.SAFE"]}}))
    with pytest.raises(ConfigError, match="not both"):
        load_config(f)
    f.write_text(
        yaml.safe_dump({**cfg, "inputs": {k: v for k, v in cfg["inputs"].items() if k != "stack"}})
    )
    with pytest.raises(ConfigError, match=r"inputs\.products .* or inputs\.stack"):
        load_config(f)


def test_import_stack_command(sim_stack_int16, tmp_path, capsys):
    write_gmtsar(sim_stack_int16, tmp_path / "SLC")
    out = tmp_path / "stack.zarr"
    assert (
        main(
            [
                "import-stack",
                str(tmp_path / "SLC"),
                "--out",
                str(out),
                "--chunks",
                "32",
                "32",
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["processor"] == "imported: coregistered by gmtsar" and len(summary["dates"]) == 3
    ds = xr.open_zarr(out)
    assert np.array_equal(ds["slc_vv"].values[1], sim_stack_int16.slc["VV"][1])
    # int16 rounding of DN ~2000 leaves < 1e-3 rad; the geometric phase is removed
    assert np.max(np.abs(np.angle(ds["interferogram_vv"].values[1:]))) < 0.02
    assert (
        main(["import-stack", str(tmp_path), "--out", str(tmp_path / "x.zarr")]) == 2
    )  # not a stack


@pytest.mark.slow
def test_build_from_a_doris_stack(sim_stack, tmp_path):
    """The whole build (signatures, radarcode, labels, export) continues from an imported stack."""
    from sarbd.pipeline.build import build
    from sarbd.stacks import import_stack

    # independent noise on the secondaries (coherence ~0.9): perfectly equal dates would make every
    # temporal feature constant, and the L3 outlier test's robust covariance degenerate
    rng = np.random.default_rng(5)
    noisy = {
        pol: [
            a
            if k == 0
            else (a + 0.3 * (rng.normal(size=a.shape) + 1j * rng.normal(size=a.shape))).astype(
                np.complex64
            )
            for k, a in enumerate(arrays)
        ]
        for pol, arrays in sim_stack.slc.items()
    }
    sim = type(sim_stack)(
        sim_stack.grid, sim_stack.orbits, sim_stack.starts, noisy, sim_stack.phase
    )
    write_doris(sim, tmp_path / "doris")
    _reference_layers(import_stack(tmp_path / "doris"), tmp_path / "reference.gpkg")
    f = tmp_path / "build.yaml"
    f.write_text(yaml.safe_dump(_config(tmp_path, {"stack": {"path": "doris", "format": "doris"}})))
    result = build(f)
    ds = xr.open_zarr(result.directory / "dataset.zarr")
    assert ds.attrs["sarbd_coregistration"] == "imported: coregistered by doris"
    assert {"label_l1", "label_l2", "label_l3", "coherence_mean_vv"} <= set(ds.data_vars)
    l2 = ds["label_l2"].values
    assert set(np.unique(l2)) >= {1, 2}  # both reference classes reached the radar grid
    coh = ds["coherence_mean_vv"].values[4:-4, 8:-8]
    assert 0.8 < float(np.nanmedian(coh)) < 0.98  # 1 / (1 + 0.3^2 * 2 / 2) ~ 0.92 expected
    assert build(f).recomputed == []  # the imported stack is cached like a coregistered one
