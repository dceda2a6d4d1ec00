"""The simulator streams by blocks of lines: the bytes must not depend on the block size."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr

import sarbd.simulate.api as api
import sarbd.simulate.imaging as imaging
from sarbd.simulate import simulate_scene
from sarbd.simulate.stream import RowWindow, StreamingError


def _simulate(path: Path, block_lines: int, **kw: Any) -> tuple[Any, list[tuple[int, int, int]]]:
    """Simulate, recording the (date, first line, lines) of every block handed to the SAFE writer."""
    blocks: list[tuple[int, int, int]] = []
    original = api._SceneSink.image_rows

    def recording(self: Any, date: int, segment: int, first: int, rows: Any) -> None:
        blocks.append((date, first, rows.shape[1]))
        original(self, date, segment, first, rows)

    api._SceneSink.image_rows = recording  # type: ignore[method-assign]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scene = simulate_scene(path, block_lines=block_lines, **kw)
    finally:
        api._SceneSink.image_rows = original  # type: ignore[method-assign]
    return scene, blocks


@pytest.mark.parametrize(
    "kw",
    [
        {"mode": "tops", "seed": 3},
        {"mode": "stripmap", "seed": 4, "targets": {"enabled": True}},
    ],
    ids=["tops", "stripmap-ships"],
)
def test_streamed_scene_equals_the_unstreamed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kw: dict[str, Any]
) -> None:
    # small tiles, so that a tiny scene has many of them (the tiling is part of the scene)
    monkeypatch.setattr(imaging, "TILE_SCATTERERS", 20_000)
    a, blocks_a = _simulate(tmp_path / "a", 16, size="tiny", dates=2, **kw)
    b, blocks_b = _simulate(tmp_path / "b", 10**6, size="tiny", dates=2, **kw)
    # really streamed: many blocks of about 16 lines per date, against one per image
    assert sum(1 for d, _, _ in blocks_a if d == 0) >= 6
    assert max(n for _, _, n in blocks_a) < 60
    n_images = 2 * (3 if kw["mode"] == "tops" else 1)
    assert len(blocks_b) == n_images
    for sa, sb in zip(a.safe, b.safe, strict=True):
        assert sa.name == sb.name
        files = sorted(p.relative_to(sa) for p in sa.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(sb) for p in sb.rglob("*") if p.is_file())
        for rel in files:  # measurement TIFFs, annotation, manifest with the MD5s
            assert (sa / rel).read_bytes() == (sb / rel).read_bytes(), rel
    ta, tb = xr.open_zarr(a.truth_dir / "truth.zarr"), xr.open_zarr(b.truth_dir / "truth.zarr")
    assert set(ta.variables) == set(tb.variables)
    for name in ta.variables:
        x, y = ta[name].values, tb[name].values
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    for name in ("class_map_radar.tif", "signal_class_map_radar.tif", "scene.json"):
        assert (a.truth_dir / name).read_bytes() == (b.truth_dir / name).read_bytes(), name
    # and the images are not empty: speckle well above the thermal noise
    with rasterio.open(next((a.safe[0] / "measurement").glob("*vv*.tiff"))) as ds:
        assert np.mean(np.abs(ds.read(1)) ** 2) > 1000.0


def test_row_window_releases_in_order_and_refuses_late_scatterers() -> None:
    w = RowWindow((2,), length=40, width=3, dtype=np.float32, rows=8)
    w.reach(20)  # grows past its first capacity, keeping values
    w.rows(0, 20)[:] = np.arange(20, dtype=np.float32)[None, :, None]
    out = w.release(12)
    assert out.shape == (2, 12, 3) and out[0, :, 0].tolist() == list(range(12))
    assert w.base == 12 and w.rows(12, 20)[0, :, 0].tolist() == list(range(12, 20))
    w.check(np.array([12, 30]), half_width=4)  # first tap rows at or above the base: fine
    with pytest.raises(StreamingError):
        w.check(np.array([9]), half_width=4)  # taps rows 9..16: 9..11 already released
    w.check(np.array([-20]), half_width=4)  # entirely before the image: never imaged
    with pytest.raises(StreamingError):
        w.rows(5, 14)
