"""Raster reference layers in a build: a land-cover raster alone, and under vectors.

The simulator's map-geometry class map (``truth/class_map.tif``, uint8 codes 1-7) plays the
part of a land-cover product such as ESA WorldCover.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
import yaml

from sarbd.radarcode.merge import stack_reference_layers

CLASSES = ["building", "road", "railway", "water", "vegetation", "field", "bare"]


def _layer(fractions: dict[str, np.ndarray], dist: np.ndarray, codes: dict[str, int]) -> xr.Dataset:
    dims = ("line", "pixel")
    ds = xr.Dataset(
        {
            f"fraction_{k}": (
                dims,
                v.astype(np.float32),
                {"sarbd_class": k, "sarbd_class_code": codes[k]},
            )
            for k, v in fractions.items()
        },
        coords={"line": np.arange(dist.shape[0]) + 10, "pixel": np.arange(dist.shape[1]) + 20},
    )
    ds["boundary_distance"] = (dims, dist)
    ds["boundary_mask"] = (dims, (dist < 5).astype(np.uint8))
    return ds


def test_vectors_keep_their_area_and_the_raster_fills_the_rest():
    shape = (4, 6)
    building = np.zeros(shape)
    building[:, :2] = 1.0
    building[:, 2] = 0.4
    top = _layer({"building": building}, np.full(shape, 50.0), {"building": 1})
    field = np.ones(shape)
    field[:, 4:] = 0.0
    low = _layer(
        {"field": field, "water": 1.0 - field},
        np.where(np.arange(6) == 4, 2.0, 30.0)[None].repeat(4, 0),
        {"field": 1, "water": 2},
    )
    out = stack_reference_layers(
        [top, low], threshold=0.5, class_codes={"building": 1, "water": 4, "field": 6}
    )
    np.testing.assert_allclose(out["fraction_building"].values, building)
    np.testing.assert_allclose(out["fraction_field"].values, (1 - building) * field)
    np.testing.assert_allclose(out["fraction_water"].values, (1 - building) * (1 - field))
    total = sum(out[k].values for k in ("fraction_building", "fraction_field", "fraction_water"))
    np.testing.assert_allclose(total, 1.0)
    assert (
        out["boundary_distance"].values[0, 4] == 2.0
        and out["boundary_distance"].values[0, 0] == 30.0
    )
    label = out["label"].values
    assert (label[:, :2] == 1).all() and (label[:, 3] == 6).all() and (label[:, 4:] == 4).all()
    assert label[0, 2] == 6  # 0.6 field under 0.4 building
    assert out["fraction_water"].attrs["sarbd_class_code"] == 4


@pytest.mark.parametrize("with_vectors", [False, True])
def test_build_with_a_land_cover_raster(tmp_path, with_vectors):
    from sarbd.dataset.labels import level_precision
    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.run import run_build
    from sarbd.simulate import simulate_scene

    scene = simulate_scene(tmp_path / "scene", size="tiny", dates=2, seed=4)
    raster_layer = {
        "path": str(scene.truth_dir / "class_map.tif"),
        "class_map": {str(i + 1): n for i, n in enumerate(CLASSES)},
    }
    reference = [raster_layer]
    if with_vectors:
        reference.insert(
            0,
            {
                "path": str(scene.truth_gpkg),
                "layer": "building",
                "class_name": "building",
                "height_field": "height",
            },
        )
    cfg = {
        "inputs": {
            "products": [str(p) for p in scene.safe],
            "dem": str(scene.dem),
            "reference": reference,
            "classes": CLASSES,
        },
        "signatures": {
            "select": [
                "sigma0_vv",
                "coherence_vv",
                "backscatter_mean_db_vv",
                "backscatter_mean_db_vh",
                "coherence_mean_vv",
            ]
        },
        "chips": {"sizes": [32], "block": 48},
        "outputs": {"directory": str(tmp_path / "dataset"), "formats": ["zarr"]},
    }
    (tmp_path / "build.yaml").write_text(yaml.safe_dump(cfg))
    result = run_build(load_config(tmp_path / "build.yaml"))
    ds = xr.open_zarr(result.directory / "dataset.zarr")
    fractions = [ds[f"fraction_{n}"].values for n in CLASSES if f"fraction_{n}" in ds]
    assert len(fractions) == 7
    assert np.nanmax(sum(fractions)) <= 1.0 + 1e-5
    import warnings

    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)  # radar geometry
        with rasterio.open(scene.truth_dir / "class_map_radar.tif") as src:
            truth = src.read(1)[ds["line"].values][:, ds["pixel"].values]
    table = level_precision(
        truth,
        {"label_l2": ds["label_l2"].values},
        [{"id": i + 1, "name": n} for i, n in enumerate(CLASSES)],
    )
    # the raster is the truth itself, so L2 is as good as radarcoding (no heights for raster cells)
    assert table.loc["field", "label_l2_precision"] > 0.9
    assert table.loc["all", "label_l2_precision"] > 0.8
    if with_vectors:  # buildings now come from the vectors, with their heights (layover)
        assert "building" in ds["fraction_building"].attrs.get("sarbd_class", "building")
        assert table.loc["building", "label_l2_pixels"] > 0
