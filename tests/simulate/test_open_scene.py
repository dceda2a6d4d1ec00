"""SimulatedScene.open: the paths of a scene folder written earlier."""

from __future__ import annotations

import pytest

from sarbd.errors import InputError
from sarbd.simulate.api import SimulatedScene


def test_open_finds_the_dates_in_order_and_the_files(tmp_path):
    for name in ("S1A_20220930.SAFE", "S1A_20220918.SAFE", "truth"):
        (tmp_path / name).mkdir()
    for name in ("dem.tif", "reference.gpkg", "truth.gpkg"):
        (tmp_path / name).write_bytes(b"")
    scene = SimulatedScene.open(tmp_path)
    assert [p.name for p in scene.safe] == ["S1A_20220918.SAFE", "S1A_20220930.SAFE"]
    assert (
        scene.dem == tmp_path / "dem.tif"
        and scene.truth_dir == tmp_path / "truth"
        and scene.config is None
    )


def test_open_names_what_is_missing(tmp_path):
    (tmp_path / "dem.tif").write_bytes(b"")
    with pytest.raises(InputError, match=r"missing reference.gpkg, truth.gpkg, truth, \*.SAFE"):
        SimulatedScene.open(tmp_path)
