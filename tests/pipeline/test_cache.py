"""Stage cache: unchanged stages are skipped, changes propagate, interruptions resume."""

from __future__ import annotations

import json

import pytest

from sarbd.pipeline.cache import StageCache, file_fingerprint, stage_key


def test_unchanged_stage_is_not_recomputed(tmp_path):
    calls = []

    def compute(out):
        calls.append(1)
        (out / "x.json").write_text(json.dumps({"v": 1}))
        return {"n": 3}

    key = stage_key("signatures", "1", {"select": ["a"]}, ["upstream"])
    rec1 = StageCache(tmp_path).run("signatures", key, compute)
    rec2 = StageCache(tmp_path).run("signatures", key, compute)
    assert len(calls) == 1 and not rec1.cached and rec2.cached
    assert rec2.info == {"n": 3} and (rec2.path / "x.json").is_file()


def test_keys_change_with_settings_and_upstream():
    base = stage_key("s", "1", {"a": 1, "b": [1, 2]}, ["u1", "u2"])
    assert base == stage_key("s", "1", {"b": [1, 2], "a": 1}, ["u2", "u1"])  # order-free
    assert base != stage_key("s", "1", {"a": 2, "b": [1, 2]}, ["u1", "u2"])
    assert base != stage_key("s", "1", {"a": 1, "b": [1, 2]}, ["u1", "u3"])
    assert base != stage_key("s", "2", {"a": 1, "b": [1, 2]}, ["u1", "u2"])


def test_interrupted_stage_leaves_nothing_and_resumes(tmp_path):
    key = stage_key("coregister", "1", {}, [])

    def crash(out):
        (out / "half.bin").write_bytes(b"xx")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        StageCache(tmp_path).run("coregister", key, crash)
    assert not any(p.name.startswith("coregister-") for p in tmp_path.iterdir())
    rec = StageCache(tmp_path).run(
        "coregister", key, lambda out: (out / "ok").write_text("1") and None
    )
    assert not rec.cached and (rec.path / "ok").is_file()


def test_file_fingerprint_changes_with_content(tmp_path):
    f = tmp_path / "a.tif"
    f.write_bytes(b"1")
    fp1 = file_fingerprint(f)
    f.write_bytes(b"22")
    assert file_fingerprint(f) != fp1
    assert file_fingerprint(tmp_path / "missing") != fp1


def test_prune_keeps_what_remains_readable_and_discard_recomputes(tmp_path):
    import numpy as np
    import xarray as xr

    from sarbd.pipeline.cache import write_stage

    key = stage_key("coregister", "1", {}, [])
    ds = xr.Dataset(
        {
            "slc": (("time", "line", "pixel"), np.ones((2, 40, 50), np.complex64)),
            "height": (("line", "pixel"), np.arange(2000, dtype=np.float32).reshape(40, 50)),
            "baseline": (("time",), np.array([0.0, 30.0], np.float32)),
        }
    )
    cache = StageCache(tmp_path)
    calls = []

    def compute(out):
        calls.append(1)
        write_stage(ds, out / "stack.zarr", (16, 32))
        return {}

    rec = cache.run("coregister", key, compute)
    assert not cache.is_pruned("coregister", key)
    dropped = cache.prune(
        "coregister", key, "stack.zarr", lambda name, dims: {"time", "line", "pixel"} <= set(dims)
    )
    assert (
        dropped == ["slc"]
        and cache.is_pruned("coregister", key)
        and cache.is_complete("coregister", key)
    )
    assert (
        cache.prune(
            "coregister", key, "stack.zarr", lambda name, dims: True if name == "slc" else False
        )
        == []
    )
    left = xr.open_zarr(rec.path / "stack.zarr")  # consolidated metadata rewritten
    assert set(left.data_vars) == {"height", "baseline"}
    np.testing.assert_array_equal(left["height"].values, ds["height"].values)
    assert cache.run("coregister", key, compute).cached and len(calls) == 1
    cache.discard("coregister", key)
    assert not cache.is_complete("coregister", key)
    rec = cache.run("coregister", key, compute)
    assert len(calls) == 2 and "slc" in xr.open_zarr(rec.path / "stack.zarr")
