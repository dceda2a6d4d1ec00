"""Detection targets of the simulator (ships, oil slicks on open sea) and the detection labels made from them."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from sarbd.simulate import SimulatedScene
from sarbd.simulate.targets import ship_rcs_m2, target_settings
from tests.simulate.conftest import _simulate

TARGETS = {"ships_per_date": 6, "slicks_per_date": 2, "slick_length_m": [150, 600]}


@pytest.fixture(scope="module")
def target_scene(tmp_path_factory: pytest.TempPathFactory) -> SimulatedScene:
    return _simulate(
        tmp_path_factory.mktemp("sim_targets"), size="tiny", dates=2, seed=0, targets=TARGETS
    )


def _date(scene: SimulatedScene, d: int) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    import rasterio

    from sarbd.dataset.detection_labels import _sigma0_vv

    meta = json.loads((scene.truth_dir / "targets" / "targets.json").read_text())
    entry = meta["dates"][d]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(scene.truth_dir / "targets" / entry["instances"]) as src:
            inst, sea = src.read(1), src.read(2).astype(bool)
    return entry, _sigma0_vv(scene.root / entry["safe"]), inst, sea


def test_skolnik_rcs_hand_value() -> None:
    # L = 100 m: D = 0.7 * 1.025 * 100 * (100/7) * (100/18) t = 5.6944 kt; 52 sqrt(5405) 5.6944^1.5 = 51 949 m^2
    assert float(ship_rcs_m2(100.0, 5.405e9)) == pytest.approx(51_949.0, rel=1e-3)
    assert float(ship_rcs_m2(200.0, 5.405e9)) / float(ship_rcs_m2(100.0, 5.405e9)) == pytest.approx(
        2**4.5
    )


def test_settings_are_checked() -> None:
    from sarbd.errors import ConfigError

    assert target_settings({}) is None
    assert target_settings({"enabled": True}) is not None
    with pytest.raises(ConfigError, match="unknown targets option"):
        target_settings({"ships": 3})
    with pytest.raises(ConfigError, match="sea_fraction"):
        target_settings({"sea_fraction": 1.5})


def test_default_scene_has_no_targets(tiny_scene: SimulatedScene) -> None:
    assert not (tiny_scene.truth_dir / "targets").exists()
    assert "targets" not in json.loads((tiny_scene.truth_dir / "scene.json").read_text())["config"]


def test_sea_ships_and_slicks_radiometry(target_scene: SimulatedScene) -> None:
    """Sea at the CMOD5 level, slicks darker by their damping, ships tens of dB above the sea."""
    nesz = 10 ** (-22.0 / 10)
    sea_sigma = 10 ** (-14.0 / 10)
    n_slicks = 0
    for d in (0, 1):
        entry, sig, inst, sea = _date(target_scene, d)
        assert sum(o["category"] == "ship" for o in entry["objects"]) >= 3
        clear = sea & ~ndimage.binary_dilation(inst > 0, iterations=8)
        clear &= ndimage.binary_erosion(sea, iterations=8)  # away from the coast's PSF and layover
        assert clear.sum() > 5000
        mean_sea = float(sig[clear].mean())
        # no noise removal: expected sigma0 + NESZ; speckle mean over > 5000 samples within ~0.3 dB
        assert 10 * math.log10(mean_sea) == pytest.approx(
            10 * math.log10(sea_sigma + nesz), abs=0.5
        )
        for o in entry["objects"]:
            m = inst == o["id"]
            if o["category"] == "ship":
                # a 20 m boat (~20 dBm^2 over 3 scatterers) is ~10 dB above the sea per pixel; big ships far more
                contrast = 10 * math.log10(sig[m].max() / mean_sea)
                assert contrast > (20.0 if o["rcs_vv_dbm2"] > 40 else 8.0)
                l0, p0, l1, p1 = o["bbox_line_pixel"]
                assert m[l0:l1, p0:p1].sum() == m.sum()
            else:
                core = ndimage.binary_erosion(m, iterations=1)
                if core.sum() < 20:
                    continue
                n_slicks += 1
                expect = (sea_sigma * 10 ** (-o["damping_db"] / 10) + nesz) / (sea_sigma + nesz)
                got = float(sig[core].mean()) / mean_sea
                assert 10 * math.log10(got) == pytest.approx(10 * math.log10(expect), abs=1.5)
                assert 10 * math.log10(got) < -3.0  # clearly darker than the sea
    assert n_slicks >= 1


def test_detection_labels_coco_yolo_stac(target_scene: SimulatedScene, tmp_path: Path) -> None:
    from sarbd.dataset.detection_labels import (
        build_detection_dataset,
        load_detection_dataset,
        rle_to_mask,
        validate_label_item,
    )

    out = tmp_path / "labels"
    chips = build_detection_dataset(target_scene.root, out, chip_size=32, looks=(1, 1))
    assert set(np.unique(chips.split)) == {1, 2, 3}
    n_ann = 0
    for name in ("train", "validation", "test"):
        coco = json.loads((out / f"coco_{name}.json").read_text())
        assert [c["name"] for c in coco["categories"]] == ["ship", "oil_slick"]
        by_image: dict[int, int] = {}
        for a in coco["annotations"]:
            m = rle_to_mask(a["segmentation"])
            rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
            x, y, w, h = a["bbox"]
            assert (x, y, x + w, y + h) == (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
            assert a["area"] == m.sum() >= 4
            by_image[a["image_id"]] = by_image.get(a["image_id"], 0) + 1
        for img in coco["images"]:
            assert (out / img["file_name"]).is_file()
            txt = (
                (out / "labels" / name / (Path(img["file_name"]).stem + ".txt"))
                .read_text()
                .splitlines()
            )
            assert len(txt) == by_image.get(img["id"], 0)
            for line in txt:
                vals = [float(v) for v in line.split()[1:]]
                assert all(0.0 <= v <= 1.0 for v in vals)
        n_ann += len(coco["annotations"])
    assert n_ann == sum(len(b) for b in chips.boxes) > 5
    back = load_detection_dataset(out)
    for a, b in zip(back.boxes, chips.boxes, strict=True):
        np.testing.assert_allclose(a, b)
    item = json.loads((out / "item.json").read_text())
    assert item["properties"]["label:type"] == "vector"
    assert item["properties"]["label:tasks"] == ["detection", "segmentation"]
    assert validate_label_item(item) == []
    bad = json.loads(json.dumps(item))
    bad["properties"]["label:type"] = "boxes"
    assert validate_label_item(bad)
    geo = json.loads((out / "labels.geojson").read_text())
    assert {f["properties"]["category"] for f in geo["features"]} == {"ship", "oil_slick"}


def test_cli_train_evaluate_report_detection(
    target_scene: SimulatedScene, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sarbd train --task detection` on the scene, `sarbd evaluate` and `sarbd report` of the run."""
    from sarbd.cli.app import main

    run = tmp_path / "det"
    assert (
        main(
            [
                "train",
                str(target_scene.root),
                "--task",
                "detection",
                "--chip-size",
                "32",
                "--looks",
                "1,1",
                "--epochs",
                "4",
                "--seed",
                "0",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert "mAP@0.5" in capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    first = metrics["splits"]["test"]
    assert first["n_chips"] > 0 and sum(first["n_gt"]) > 0
    assert (run / "model.pt").is_file() and (run / "detections.png").is_file()
    assert (run / "labels" / "item.json").is_file()
    assert main(["evaluate", str(run), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["splits"]["test"]["ap"] == first["ap"]  # the saved model gives the same test AP
    html = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(html)]) == 0
    text = html.read_text()
    assert "Object detection" in text and "mAP@0.5" in text
    assert {p.name for p in (tmp_path / "report_figures").glob("*.png")} == {
        "detection_training.png",
        "detection_chips.png",
        "detection_scene.png",
    }
    run_json = json.loads((run / "run.json").read_text())
    assert run_json["history"][-1]["train_loss"] < run_json["history"][0]["train_loss"]
