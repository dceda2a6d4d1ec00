"""``examples/simulated.yaml`` is what ``sarbd simulate --out sim --size tiny --dates 3 --seed 1``
writes as ``sim/build.yaml``, paths aside (checked here without simulating; the slow
docs test simulates and compares the two files)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from sarbd.pipeline.config import load_config
from sarbd.pipeline.demo import write_scene_config

from .conftest import EXAMPLES, header_commands


@dataclass
class _Scene:  # the file names a simulated scene has (sarbd.simulate.api.SimulatedScene)
    root: Path
    safe: list[Path]
    dem: Path
    reference_gpkg: Path


def test_simulated_example_matches_what_simulate_writes(tmp_path):
    example = EXAMPLES / "simulated.yaml"
    cfg = yaml.safe_load(example.read_text())
    ws = tmp_path / "ws"
    (ws / "examples").mkdir(parents=True)
    (ws / "examples" / "simulated.yaml").write_text(example.read_text())
    root = ws / "sim"
    root.mkdir()
    scene = _Scene(
        root,
        [root / Path(p).name for p in cfg["inputs"]["products"]],
        root / "dem.tif",
        root / "reference.gpkg",
    )
    # write_scene_config keeps the classes the reference GeoPackage holds features of:
    # one layer per class, as the simulator writes it
    import geopandas as gpd
    import shapely

    for name in cfg["inputs"]["classes"]:
        gpd.GeoDataFrame(geometry=[shapely.box(6.0, 52.0, 6.001, 52.001)], crs="EPSG:4326").to_file(
            scene.reference_gpkg, layer=name, engine="pyogrio"
        )
    written = write_scene_config(scene, size="tiny", seed=1)
    assert written == root / "build.yaml"
    assert (
        load_config(written).resolved()
        == load_config(ws / "examples" / "simulated.yaml").resolved()
    )
    # the header says how to make the scene and build it
    assert header_commands(example) == [
        "sarbd simulate --out sim --size tiny --dates 3 --seed 1",
        "sarbd build examples/simulated.yaml --out sim-sarbd",
    ]
