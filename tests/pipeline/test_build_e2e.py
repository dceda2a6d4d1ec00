"""`sarbd build` end to end on a tiny simulated scene: outputs, caching, validation, notebook.

One build is shared by the tests (session fixture ``tiny_build`` in conftest.py): simulate 3 dates,
build through every stage, then check what a user relies on.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from sarbd.pipeline.build import build
from sarbd.pipeline.config import load_config

REPO = Path(__file__).resolve().parents[2]


def test_every_output_is_written(tiny_build):
    _, _, result = tiny_build
    out = result.directory
    for rel in ("dataset.zarr", "dataset.nc", "catalog.json", "README.md", "run_log.json",
                "tables/pixels.parquet"):
        assert (out / rel).exists(), rel
    assert any((out / "cog").glob("*.tif")) and any((out / "chips").glob("chips_*.parquet"))
    assert result.recomputed == ["ingest", "coregister", "signatures", "radarcode", "label", "export"]
    ds = xr.open_zarr(out / "dataset.zarr")
    assert ds.sizes["time"] == 3
    for name in ("label_l1", "label_l2", "label_l3", "quality_flags", "split", "latitude"):
        assert name in ds.variables
    counts = result.summary["class_counts"]
    assert sum(counts["label_l2"].values()) == ds.sizes["line"] * ds.sizes["pixel"]


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
    changed = root / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg, sort_keys=False))
    result = build(changed)
    assert result.recomputed == ["signatures", "label", "export"]
    restored = build(cfg_file)  # back to the original settings: the label and export stages again
    assert "coregister" not in restored.recomputed and "radarcode" not in restored.recomputed


def test_validate_passes_on_the_build(tiny_build):
    from sarbd.export.validate import validate_dataset

    _, _, result = tiny_build
    checks = validate_dataset(result.directory, compliance_checker=True)
    errors = [c for c in checks if c.status == "error"]
    assert errors == []
    # the IOOS checker ran on the build (dB units and flag types are its usual complaints)
    assert any(c.category == "cf" and "compliance-checker" in c.message for c in checks)


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
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(result.directory.parent)}}).execute()
    finally:
        os.environ.pop("SARBD_DATASET", None)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "display_data" and "image/png" in o.get("data", {}) for o in outputs)


def test_print_config_and_example_configs(capsys):
    from sarbd.cli.app import main

    for cfg in sorted((REPO / "examples").glob("*.yaml")):
        assert main(["build", str(cfg), "--print-config"]) == 0, cfg
        assert '"inputs"' in capsys.readouterr().out
