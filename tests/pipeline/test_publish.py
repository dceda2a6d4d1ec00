"""The export's swap into the dataset folder: new entries replace old ones, unselected formats go."""

from __future__ import annotations

import json

from sarbd.pipeline.publish import EXPORT_STAGING, EXPORTED, remove_stale_staging, swap_into


def test_swap_replaces_and_removes_only_what_the_last_export_wrote(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / ".sarbd-cache").mkdir()
    (out / "notes.txt").write_text("mine")  # not written by an export: never touched
    first = tmp_path / "s1"
    first.mkdir()
    (first / "dataset.zarr").mkdir()
    (first / "dataset.nc").write_text("v1")
    swap_into(first, out, keep=(".sarbd-cache",))
    assert json.loads((out / EXPORTED).read_text()) == ["dataset.nc", "dataset.zarr"]
    second = tmp_path / "s2"
    second.mkdir()
    (second / "dataset.zarr").mkdir()
    (second / "dataset.zarr" / "x").write_text("v2")
    swap_into(second, out, keep=(".sarbd-cache",))
    assert (out / "dataset.zarr" / "x").read_text() == "v2"
    assert not (out / "dataset.nc").exists()  # netCDF no longer selected
    assert (out / "notes.txt").read_text() == "mine" and (out / ".sarbd-cache").is_dir()
    assert not list(out.glob(f"{EXPORT_STAGING}*"))  # the trash folder is gone


def test_stale_staging_is_removed(tmp_path):
    (tmp_path / f"{EXPORT_STAGING}abc").mkdir()
    (tmp_path / f"{EXPORT_STAGING}abc" / "f").write_text("half")
    (tmp_path / "keep").mkdir()
    remove_stale_staging(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]
