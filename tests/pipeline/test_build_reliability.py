"""`sarbd build` under interruption, concurrency, a full disk and a read-only folder.

Each test copies the session's tiny build (``tiny_build``, conftest.py) to a new
folder and runs the real CLI in a subprocess on it. The copy lives at another path,
so its export stage (whose key includes the output folder) runs again while the
earlier stages come from the cache: every test exercises the export, the stage that
writes the dataset the user sees.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from sarbd.pipeline.build import EXPORT_STAGING, build
from sarbd.pipeline.config import load_config
from sarbd.pipeline.lock import LOCK_NAME

REPO = Path(__file__).resolve().parents[2]


def _copy(tiny_build, dst: Path) -> Path:
    _, _, result = tiny_build
    shutil.copytree(result.directory, dst, symlinks=True, ignore=shutil.ignore_patterns(LOCK_NAME))
    return dst


def _cli(cfg_file: Path, out: Path, **popen) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "sarbd", "build", str(cfg_file), "--out", str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def _snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (the lock file's holder line aside)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME
    }


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 600.0) -> None:
    start = time.monotonic()
    while not predicate():
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(
                f"build ended (status {proc.returncode}) before the awaited point:\n{err[-3000:]}"
            )
        if time.monotonic() - start > timeout:
            proc.kill()
            raise AssertionError("timed out waiting for the build")
        time.sleep(0.05)


def _export_writing(out: Path) -> bool:
    """The export has started writing files into its staging folder."""
    return any(f.is_file() for s in out.glob(f"{EXPORT_STAGING}*") for f in s.rglob("*"))


def _assert_same_arrays(a_path: Path, b_path: Path) -> None:
    a, b = xr.open_zarr(a_path), xr.open_zarr(b_path)
    assert sorted(a.variables) == sorted(b.variables)
    for name in a.variables:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=str(name))


def test_sigkill_during_export_leaves_the_dataset_and_resumes(tiny_build, tmp_path):
    _, cfg_file, first = tiny_build
    out = _copy(tiny_build, tmp_path / "killed")
    before = _snapshot(out)
    proc = _cli(cfg_file, out)
    _wait_for(lambda: _export_writing(out), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the previous dataset is untouched; only the killed export's staging folder is extra
    staged = [p.name for p in out.iterdir() if p.name.startswith(EXPORT_STAGING)]
    assert staged
    after = {k: v for k, v in _snapshot(out).items() if not k.startswith(EXPORT_STAGING)}
    assert after == before
    cfg = load_config(cfg_file)
    cfg.outputs.directory = out
    result = build(cfg)
    assert result.recomputed == ["export"]  # ingest .. label come from the cache
    assert not [p for p in out.iterdir() if p.name.startswith(EXPORT_STAGING)]
    _assert_same_arrays(first.directory / "dataset.zarr", out / "dataset.zarr")


def test_second_build_on_the_same_folder_is_refused(tiny_build, tmp_path):
    _, cfg_file, first = tiny_build
    out = _copy(tiny_build, tmp_path / "busy")
    one = _cli(cfg_file, out)
    _wait_for(lambda: _export_writing(out), one)
    # hold the first build inside its export (it keeps its lock while stopped): the export is
    # fast enough to end before a second interpreter starts otherwise
    one.send_signal(signal.SIGSTOP)
    try:
        two = _cli(cfg_file, out)
        _, err = two.communicate(timeout=600)
    finally:
        one.send_signal(signal.SIGCONT)
    assert two.returncode == 2, err
    assert err.strip().count("\n") == 0 and "another sarbd build" in err and f"pid {one.pid}" in err
    _, err_one = one.communicate(timeout=600)
    assert one.returncode == 0, err_one
    _assert_same_arrays(first.directory / "dataset.zarr", out / "dataset.zarr")


def _limit_file_size() -> None:  # runs in the child before exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))


def test_full_disk_is_a_clear_error_and_keeps_the_previous_dataset(tiny_build, tmp_path):
    """The kernel refuses writes past 256 KiB per file (RLIMIT_FSIZE): the export's large files fail."""
    _, cfg_file, _ = tiny_build
    out = _copy(tiny_build, tmp_path / "full")
    before = _snapshot(out)
    # the netCDF export is one large file (the default Zarr store has only small chunk files,
    # most of them hard links into the stage cache)
    cfg = yaml.safe_load(cfg_file.read_text())
    cfg.setdefault("outputs", {})["formats"] = ["zarr", "netcdf", "stac"]
    cfg_nc = tmp_path / "build_netcdf.yaml"
    cfg_nc.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = _cli(cfg_nc, out, preexec_fn=_limit_file_size)
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 2, err
    lines = err.strip().splitlines()
    assert (
        "Traceback" not in err
        and lines[-1].startswith("sarbd: error: ")
        and "cannot write the output" in err
    )
    assert _snapshot(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(EXPORT_STAGING)]


def _read_only_command(out: Path) -> list[str] | None:
    """A command prefix that runs with ``out`` read-only: a read-only bind mount (root) or nothing."""
    if os.geteuid() != 0:
        return []
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        return None
    return [
        "unshare",
        "-m",
        "sh",
        "-c",
        f'mount --bind "{out}" "{out}" && mount -o remount,bind,ro "{out}" '
        f'"{out}" && exec "$0" "$@"',
    ]


def test_read_only_folder_is_a_clear_error_and_keeps_the_previous_dataset(tiny_build, tmp_path):
    _, cfg_file, _ = tiny_build
    out = _copy(tiny_build, tmp_path / "readonly")
    before = _snapshot(out)
    prefix = _read_only_command(out)
    if prefix is None:
        pytest.fail(
            "running as root without mount namespaces: cannot make a folder read-only for root"
        )
    if not prefix:  # an ordinary user: permissions do it
        for p in [out, *out.rglob("*")]:
            if p.is_dir():
                p.chmod(0o555)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "sarbd", "build", str(cfg_file), "--out", str(out)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        for p in [out, *out.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert "read-only" in proc.stderr or "permission denied" in proc.stderr
    assert _snapshot(out) == before
