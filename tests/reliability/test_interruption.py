"""SIGKILL `sarbd build` during coregister, signatures and export; each re-run resumes; same arrays.

Slow (three partial builds and a reference build of the tiny simulated scene). The
fast variant, one kill during the export, runs in the default suite
(tests/pipeline/test_build_reliability.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from sarbd.pipeline.build import CACHE_FOLDER, EXPORT_STAGING, build

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _stage_writing(cache: Path, stage: str) -> bool:
    return any(f.is_file() for d in cache.glob(f".{stage}-*.tmp") for f in d.rglob("*"))


def _export_writing(out: Path) -> bool:
    return any(f.is_file() for d in out.glob(f"{EXPORT_STAGING}*") for f in d.rglob("*"))


def _complete(cache: Path) -> dict[str, tuple[int, int]]:
    """Completed stage folders: name -> (inode, mtime_ns) of their completion record."""
    out = {}
    for done in cache.glob("*/.complete.json"):
        st = done.stat()
        out[done.parent.name.split("-")[0]] = (st.st_ino, st.st_mtime_ns)
    return out


def _kill_when(cfg_file: Path, out: Path, ready) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sarbd", "build", str(cfg_file), "--out", str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    start = time.monotonic()
    while not ready():
        if proc.poll() is not None:
            raise AssertionError(f"build ended before the kill point: {proc.stderr.read()[-3000:]}")
        assert time.monotonic() - start < 1800, "timed out"
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the stage's writes
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_at_three_points_resumes_with_identical_arrays(tmp_path):
    from sarbd.pipeline.demo import demo_config
    from sarbd.simulate import simulate_scene

    scene = simulate_scene(tmp_path / "scene", size="tiny", dates=3, seed=3)
    cfg_file = tmp_path / "build.yaml"
    config = demo_config(scene, tmp_path / "reference", size="tiny", seed=3)
    # netCDF is an export the configuration selects (not written by default): check it too
    config["outputs"]["formats"] = ["zarr", "netcdf", "stac"]
    cfg_file.write_text(yaml.safe_dump(config, sort_keys=False))
    reference = build(cfg_file)

    out = tmp_path / "interrupted"
    cache = out / CACHE_FOLDER
    _kill_when(cfg_file, out, lambda: _stage_writing(cache, "coregister"))
    done1 = _complete(cache)
    assert set(done1) == {"ingest"}

    _kill_when(cfg_file, out, lambda: _stage_writing(cache, "signatures"))
    done2 = _complete(cache)
    assert set(done2) == {"ingest", "coregister"}
    assert done2["ingest"] == done1["ingest"]  # skipped, not recomputed

    _kill_when(cfg_file, out, lambda: _export_writing(out))
    done3 = _complete(cache)
    assert set(done3) == {"ingest", "coregister", "signatures", "radarcode", "label"}
    assert {k: done3[k] for k in done2} == done2
    assert not (out / "dataset.zarr").exists()  # nothing half-written where the dataset goes

    cfg = yaml.safe_load(cfg_file.read_text())
    cfg["outputs"]["directory"] = str(out)
    final_cfg = tmp_path / "final.yaml"
    final_cfg.write_text(yaml.safe_dump(cfg, sort_keys=False))
    final = build(final_cfg)
    assert final.recomputed == ["export"]
    assert {k: v for k, v in _complete(cache).items() if k != "export"} == done3
    assert not list(out.glob(f"{EXPORT_STAGING}*")) and not list(cache.glob(".*.tmp"))

    for name in ("dataset.zarr", "dataset.nc"):
        opener = xr.open_zarr if name.endswith(".zarr") else xr.open_dataset
        with opener(reference.directory / name) as a, opener(out / name) as b:
            assert sorted(a.variables) == sorted(b.variables)
            for var in a.variables:
                np.testing.assert_array_equal(a[var].values, b[var].values, err_msg=f"{name}:{var}")
