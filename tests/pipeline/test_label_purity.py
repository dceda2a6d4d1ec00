"""Label purity of a simulated build (issue 8): SARbd-L3 against the simulator's truth.

The tiny scene is simulated with the documented reference corruptions (global shift,
jitter, omitted, extra, mislabelled and outdated features), built with the demo
configuration through the real pipeline, and each label level is compared with the
simulator's radar-geometry class map with :func:`sarbd.dataset.labels.level_precision`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

pytestmark = pytest.mark.slow

#: Classes whose truth in ``class_map_radar.tif`` is not decidable from the reference: the
#: simulator's truth is the class with the largest *ground area* in each radar pixel, and a
#: building roof is imaged in layover over the ground in front of it, so about half of the
#: roof pixels are "field" in the truth while the radar (roof power ~12 dB above the ground)
#: sees a building. See the report in docs/labels.md ("Purity on simulated scenes").
LAYOVER_TRUTH_CLASSES = ("building",)


@pytest.fixture(scope="module")
def purity(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import rasterio
    import yaml

    from sarbd.dataset.labels import level_precision
    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.demo import demo_config
    from sarbd.pipeline.run import run_build
    from sarbd.simulate import simulate_scene

    out: Path = tmp_path_factory.mktemp("purity")
    scene = simulate_scene(out / "scene", size="tiny", dates=7, seed=0)
    cfg_file = out / "build.yaml"
    cfg_file.write_text(yaml.safe_dump(demo_config(scene, out / "dataset", size="tiny", seed=0), sort_keys=False))
    config = load_config(cfg_file)
    result = run_build(config)
    ds = xr.open_zarr(result.directory / "dataset.zarr")
    with rasterio.open(scene.truth_dir / "class_map_radar.tif") as src:
        truth = src.read(1)
    line0, pixel0 = int(ds["line"].values[0]), int(ds["pixel"].values[0])
    truth = truth[line0:line0 + ds.sizes["line"], pixel0:pixel0 + ds.sizes["pixel"]]
    classes = [{"id": i + 1, "name": n} for i, n in enumerate(config.inputs.classes)]
    levels = {n: ds[n].values for n in ("label_l1", "label_l2", "label_l3")}
    table = level_precision(truth, levels, classes)
    print(table.round(3).to_string())
    return table, truth, levels, classes


def test_l3_purer_than_l2(purity):
    table, *_ = purity
    assert table.loc["all", "label_l3_precision"] > table.loc["all", "label_l2_precision"] + 0.1
    assert table.loc["all", "label_l1_precision"] > 0.4  # physics rules, well above chance (1/7)


def test_l3_precision_of_decidable_classes(purity):
    """>= 99 % precision pooled and per class (with >= 100 L3 pixels) over the classes whose truth is
    decidable, keeping a substantial share of L2."""
    table, truth, levels, classes = purity
    l3, l2 = levels["label_l3"], levels["label_l2"]
    ids = [c["id"] for c in classes if c["name"] not in LAYOVER_TRUTH_CLASSES]
    sel3 = np.isin(l3, ids)
    sel2 = np.isin(l2, ids)
    pooled = float((l3[sel3] == truth[sel3]).mean())
    kept = sel3.sum() / sel2.sum()
    assert pooled >= 0.99, table
    assert kept >= 0.5, table
    for c in classes:
        row = table.loc[c["name"]]
        if c["name"] not in LAYOVER_TRUTH_CLASSES and row["label_l3_pixels"] >= 100:
            assert row["label_l3_precision"] >= 0.98, (c["name"], table)
            assert row["label_l3_precision"] > row["label_l2_precision"] or row["label_l2_precision"] > 0.99


@pytest.mark.xfail(strict=True, reason="issue 8 target not met on tiny: building truth is a ground-area "
                   "argmax of roof/ground layover mixtures, and narrow objects leave < 60 % of L2 outside "
                   "the outlines (see docs/labels.md)")
def test_issue8_l3_target_all_classes(purity):
    table, *_ = purity
    assert table.loc["all", "label_l3_precision"] >= 0.99
    assert table.loc["all", "label_l3_kept"] >= 0.6
