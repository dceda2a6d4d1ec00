"""`sarbd build` end to end on a tiny simulated scene: outputs, caching, validation, notebook.

One build is shared by the tests (session fixture ``tiny_build`` in conftest.py): simulate 3 dates,
build through every stage, then check what a user relies on.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from sarbd.pipeline.build import build
from sarbd.pipeline.config import load_config

REPO = Path(__file__).resolve().parents[2]


def test_every_output_is_written(tiny_build):
    _, _, result = tiny_build
    out = result.directory
    for rel in ("dataset.zarr", "catalog.json", "README.md", "run_log.json"):
        assert (out / rel).exists(), rel
    assert any((out / "chips").glob("chips_*.parquet"))
    for rel in ("dataset.nc", "cog", "tables"):  # exports, written only when outputs.formats asks
        assert not (out / rel).exists(), rel
    assert result.recomputed == [
        "ingest",
        "coregister",
        "signatures",
        "radarcode",
        "label",
        "export",
    ]
    ds = xr.open_zarr(out / "dataset.zarr")
    assert ds.sizes["time"] == 3
    for name in ("label_l1", "label_l2", "label_l3", "quality_flags", "split", "latitude"):
        assert name in ds.variables
    counts = result.summary["class_counts"]
    assert sum(counts["label_l2"].values()) == ds.sizes["line"] * ds.sizes["pixel"]


def test_dataset_and_cache_share_one_copy(tiny_build):
    _, _, result = tiny_build
    out = result.directory
    cache = out / ".sarbd-cache"
    for name, stage, store in (
        ("entropy_vv_vh", "signatures", "features.zarr"),
        ("label_l3", "label", "labels.zarr"),
        ("fraction_building", "radarcode", "reference.zarr"),
        ("height", "coregister", "stack.zarr"),
    ):
        (source,) = cache.glob(f"{stage}-*/{store}/{name}")
        chunks = [p for p in (out / "dataset.zarr" / name).iterdir() if not p.name.startswith(".")]
        assert chunks, name
        assert all(os.path.samefile(p, source / p.name) for p in chunks), (
            name
        )  # hard links, no copy
    # the demo quantises its signatures (bit rounding): recorded on the variable
    ds = xr.open_zarr(out / "dataset.zarr")
    assert "relative error" in ds["entropy_vv_vh"].attrs["sarbd_quantization"]
    assert (
        "sarbd_quantization" not in ds["label_l3"].attrs
        and "sarbd_quantization" not in ds["height"].attrs
    )
    # compact cache: the stack's per-date rasters are gone, its geometry stays
    (stack,) = cache.glob("coregister-*/stack.zarr")
    assert not (stack / "slc_vv").exists() and (stack / "height").exists()
    assert (stack.parent / ".pruned.json").is_file()


def test_unchanged_rebuild_recomputes_nothing(tiny_build):
    _, cfg_file, first = tiny_build
    before = (first.directory / "dataset.zarr" / "label_l3").stat().st_mtime_ns
    again = build(cfg_file)
    assert again.recomputed == []
    assert (first.directory / "dataset.zarr" / "label_l3").stat().st_mtime_ns == before


def test_changing_a_signature_setting_recomputes_only_dependents(tiny_build):
    root, cfg_file, _ = tiny_build
    cfg = yaml.safe_load(cfg_file.read_text())
    cfg.setdefault("signatures", {})["window"] = [5, 5]
    cfg["outputs"]["cache"] = "keep"
    changed = root / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg, sort_keys=False))
    result = build(changed)
    # the compact cache of the first build dropped the SLCs the new signatures need
    assert result.recomputed == ["coregister", "signatures", "label", "export"]
    restored = build(cfg_file)  # back to the original settings; the stack was kept whole
    assert restored.recomputed == ["signatures", "label", "export"]


def test_exports_from_a_compact_cache(tiny_build, tmp_path):
    """netCDF, COGs and the pixel table are written when asked, from the pruned cache, and validate."""
    from sarbd.export.validate import validate_dataset

    root, cfg_file, first = tiny_build
    build(cfg_file)
    names = ("entropy_vv_vh", "label_l3", "quality_flags", "height")
    with xr.open_zarr(first.directory / "dataset.zarr") as ds:
        before = {name: ds[name].values for name in names}
    cfg = yaml.safe_load(cfg_file.read_text())
    cfg["outputs"]["formats"] = ["zarr", "stac", "netcdf", "cog", "parquet"]
    everything = root / "everything.yaml"
    everything.write_text(yaml.safe_dump(cfg, sort_keys=False))
    result = build(everything)
    assert result.recomputed == ["export"]
    out = result.directory
    for rel in ("dataset.nc", "tables/pixels.parquet"):
        assert (out / rel).exists(), rel
    assert any((out / "cog").glob("*.tif"))
    nc = xr.open_dataset(out / "dataset.nc", engine="h5netcdf")
    after = xr.open_zarr(out / "dataset.zarr")
    for name in names:
        np.testing.assert_array_equal(nc[name].values, before[name])
        np.testing.assert_array_equal(after[name].values, before[name])
    nc.close()
    checks = validate_dataset(out, compliance_checker=True)
    assert [c for c in checks if c.status == "error"] == []
    assert [
        c for c in checks if c.status == "warning"
    ] == []  # IOOS CF-1.10 suite: no warning either
    # the IOOS checker ran on dataset.nc (dB units and flag types are its usual complaints)
    assert any(
        c.category == "cf"
        and c.target == "dataset.nc"
        and "compliance-checker CF-1.10" in c.message
        for c in checks
    )
    assert build(cfg_file).recomputed == ["export"]  # back to the defaults: the exports go again
    assert not (out / "dataset.nc").exists() and not (out / "cog").exists()


def test_validate_passes_on_the_build(tiny_build):
    from sarbd.export.validate import validate_dataset

    _, _, result = tiny_build
    checks = validate_dataset(result.directory, compliance_checker=True)
    errors = [c for c in checks if c.status == "error"]
    assert errors == []
    assert any(
        c.category == "cf" and c.target == "dataset.zarr" and c.status == "ok" for c in checks
    )
    assert [c for c in checks if c.status == "warning"] == []


def test_no_labelled_pixel_has_an_undefined_or_border_signature(tiny_build):
    """Issue 21 on the tiny demo scene: L3 pixels keep clear of the samples the
    coregistration could not fill (zero in a secondary) by the reach of the signature and
    coherence windows plus half the interpolation kernel, and of the image edges by the
    windows' reach; every time-invariant signature is defined there; the reference-date
    coherence and phase are NaN with a reason and are not ML features."""
    from scipy import ndimage

    from sarbd.dataset.classes import QUALITY_FLAGS
    from sarbd.ml.data import SarbdData

    _, cfg_file, result = tiny_build
    cfg = load_config(cfg_file)
    ds = xr.open_zarr(result.directory / "dataset.zarr")
    l3 = ds["label_l3"].values > 0
    flags = ds["quality_flags"].values
    assert l3.sum() > 1000 and not np.any(flags[l3])
    # |SLC| per date, as the dataset stores it (the compact cache no longer holds the SLCs;
    # bit rounding keeps 0 and NaN exact)
    slc = ds["amplitude_vv"].values
    invalid = ~np.isfinite(slc[1:]).all(0) | (slc[1:] == 0).any(
        0
    )  # secondaries: dates 1.. (0 = reference)
    assert (
        invalid.sum() > 100
    )  # the demo's secondaries miss a few edge rows/columns: the case at hand
    win_l = max(cfg.signatures.window[0] // 2, cfg.coregistration.coherence_window[0] // 2)
    win_p = max(cfg.signatures.window[1] // 2, cfg.coregistration.coherence_window[1] // 2)
    half = cfg.coregistration.kernel_taps // 2
    reached = ndimage.maximum_filter(
        invalid, size=(2 * (win_l + half) + 1, 2 * (win_p + half) + 1), mode="constant", cval=0
    )
    assert not np.any(l3 & reached)
    assert np.all(flags[reached] & QUALITY_FLAGS["border"])
    assert (
        not l3[:win_l].any()
        and not l3[-win_l:].any()
        and not l3[:, :win_p].any()
        and not l3[:, -win_p:].any()
    )
    for name, var in ds.data_vars.items():
        if (
            var.attrs.get("sarbd_category") == "temporal"
            and var.dtype.kind == "f"
            and var.ndim == 2
        ):
            assert np.isfinite(var.values[l3]).all(), name
    ad = ds["amplitude_dispersion_vv"].values
    assert (
        np.nanmax(ad[l3]) < 1.6
    )  # the edge artefact reached 1.73 (sqrt 3: two dates without data)
    ref = str(np.datetime64(ds["time"].values[0], "D"))
    for name in ("coherence_vv", "interferometric_phase_vv"):
        assert ds[name].attrs["sarbd_undefined_dates"] == ref and np.isnan(ds[name].values[0]).all()
    features = SarbdData(result.directory).feature_names
    assert f"coherence_vv_{ref.replace('-', '')}" not in features
    assert any(f.startswith("coherence_vv_") for f in features)


def test_interrupted_build_resumes_with_identical_outputs(tiny_build, tmp_path):
    _, cfg_file, first = tiny_build
    cfg = load_config(cfg_file)
    cfg.outputs.directory = tmp_path / "resumed"
    # copy the finished stages up to radarcode, as a run killed during the label stage leaves them
    cache = first.directory / ".sarbd-cache"
    (tmp_path / "resumed" / ".sarbd-cache").mkdir(parents=True)
    for stage in cache.iterdir():
        if stage.name.split("-")[0] in ("ingest", "coregister", "signatures", "radarcode"):
            shutil.copytree(stage, tmp_path / "resumed" / ".sarbd-cache" / stage.name)
    (tmp_path / "resumed" / ".sarbd-cache" / ".label-x.tmp").mkdir()  # a half-written stage
    result = build(cfg)
    assert result.recomputed == ["label", "export"]
    a = xr.open_zarr(first.directory / "dataset.zarr")
    b = xr.open_zarr(result.directory / "dataset.zarr")
    for name in ("label_l1", "label_l2", "label_l3", "quality_flags", "split", "entropy_vv_vh"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    assert not (tmp_path / "resumed" / ".sarbd-cache" / ".label-x.tmp").exists()


def test_example_notebook_runs(tiny_build):
    import nbformat
    from nbclient import NotebookClient

    _, _, result = tiny_build
    nb = nbformat.read(REPO / "examples" / "explore_dataset.ipynb", as_version=4)
    os.environ["SARBD_DATASET"] = str(result.directory)
    try:
        NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(result.directory.parent)}},
        ).execute()
    finally:
        os.environ.pop("SARBD_DATASET", None)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(
        o.output_type == "display_data" and "image/png" in o.get("data", {}) for o in outputs
    )


def test_print_config_and_example_configs(capsys):
    from sarbd.cli.app import main

    for cfg in sorted((REPO / "examples").glob("*.yaml")):
        assert main(["build", str(cfg), "--print-config"]) == 0, cfg
        assert '"inputs"' in capsys.readouterr().out


@pytest.mark.slow
def test_distributed_cluster_gives_identical_arrays(tiny_build, tmp_path):
    """The same build on a ``distributed.LocalCluster`` (worker processes) writes the same arrays."""
    from distributed import LocalCluster

    from sarbd.pipeline.run import run_build

    _, cfg_file, first = tiny_build
    cfg = load_config(cfg_file)
    cfg.outputs.directory = tmp_path / "cluster"
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit="2GiB",
        dashboard_address=None,
    ) as cluster:
        cfg.compute.scheduler = cluster.scheduler_address
        result = run_build(cfg)
    assert result.recomputed == [
        "ingest",
        "coregister",
        "signatures",
        "radarcode",
        "label",
        "export",
    ]
    with (
        xr.open_zarr(first.directory / "dataset.zarr") as a,
        xr.open_zarr(result.directory / "dataset.zarr") as b,
    ):
        assert set(a.variables) == set(b.variables)
        for name in a.variables:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=str(name))


@pytest.mark.slow
def test_stores_follow_the_dask_chunks(tiny_build, tmp_path):
    """Several chunks per axis (``compute.chunks``): every stage store and the linked dataset line up
    with the Dask blocks, and the arrays equal the one-chunk build's."""
    import json

    _, cfg_file, first = tiny_build
    cfg = load_config(cfg_file)
    cfg.outputs.directory = tmp_path / "chunked"
    cfg.compute.chunks = (64, 128)
    result = build(cfg)
    out = result.directory
    meta = json.loads((out / "dataset.zarr" / "label_l3" / ".zarray").read_text())
    assert meta["chunks"] == [64, 128]
    assert (
        json.loads((out / "dataset.zarr" / "entropy_vv_vh" / ".zarray").read_text())["chunks"][0]
        == 1
    )
    with (
        xr.open_zarr(first.directory / "dataset.zarr") as a,
        xr.open_zarr(out / "dataset.zarr") as b,
    ):
        for name in (
            "label_l1",
            "label_l2",
            "label_l3",
            "quality_flags",
            "split",
            "fraction_building",
            "height",
            "sigma0_vv",
            "coherence_mean_vv",
        ):
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
