"""atomic_output: nothing half-written, and outputs get normal permissions."""

from __future__ import annotations

import os

import pytest

from sarbd.utils.files import atomic_output


def test_success_replaces_and_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_output(target) as tmp:
        tmp.write_text("one")
    assert target.read_text() == "one"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_files_and_folders_get_umask_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "a.nc") as tmp:
            tmp.write_text("x")
        with atomic_output(tmp_path / "b.zarr", directory=True) as tmp:
            (tmp / "c").write_text("y")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.nc").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.zarr").stat().st_mode & 0o777 == 0o755
