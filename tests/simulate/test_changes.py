"""Land changes of the simulator (new buildings, cleared vegetation, floods) and the change labels made from them."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from sarbd.simulate import SimulatedScene
from sarbd.simulate.changes import change_settings, pair_truth
from sarbd.simulate.config import CLASSES
from tests.simulate.conftest import ZERO_BASELINE, _simulate


@pytest.fixture(scope="module")
def change_scene(tmp_path_factory: pytest.TempPathFactory) -> SimulatedScene:
    return _simulate(
        tmp_path_factory.mktemp("sim_changes"),
        size="tiny",
        dates=2,
        seed=0,
        changes={"enabled": True},
        **ZERO_BASELINE,
    )


def test_settings_and_pair_truth() -> None:
    from sarbd.errors import ConfigError

    assert change_settings({}) is None
    assert change_settings({"enabled": True}) is not None
    with pytest.raises(ConfigError, match="unknown changes option"):
        change_settings({"buildings": 3})
    with pytest.raises(ConfigError, match="flood_size_m"):
        change_settings({"flood_size_m": [500, 100]})
    k = np.array([0, 1, 2, 3])
    assert pair_truth(k, 0, 1).tolist() == [False, True, False, False]
    assert pair_truth(k, 1, 3).tolist() == [False, False, True, True]


def test_default_scene_has_no_changes(tiny_scene: SimulatedScene) -> None:
    assert not (tiny_scene.truth_dir / "changes").exists()
    assert "changes" not in json.loads((tiny_scene.truth_dir / "scene.json").read_text())["config"]


def _db(x: float) -> float:
    return 10 * math.log10(x)


def test_changes_radiometry(change_scene: SimulatedScene) -> None:
    """Floods fall to the water level, cleared vegetation drops to bare soil (VH most), new buildings brighten."""
    import rasterio

    from sarbd.dataset.change_labels import _read

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(change_scene.truth_dir / "changes" / "change_map.tif") as src:
            kind, date = src.read(3), src.read(2)
    assert set(np.unique(date)) == {0, 1}  # two dates: every change shows on date 1
    inten = []
    for safe in change_scene.safe:
        dn, fac = _read(safe)
        inten.append(np.abs(dn) ** 2 * fac)
    nesz = 10 ** (-22.0 / 10)
    sig = {c.name: (c.sigma0("VV"), c.sigma0("VH")) for c in CLASSES}
    flood = ndimage.binary_erosion(kind == 3, iterations=3)
    assert flood.sum() > 500
    for p in (0, 1):  # after: water plus noise (speckle mean over > 500 samples: ~0.2 dB)
        assert _db(inten[1][p][flood].mean()) == pytest.approx(_db(sig["water"][p] + nesz), abs=1.0)
    assert _db(inten[0][0][flood].mean() / inten[1][0][flood].mean()) > 5.0  # land was brighter
    cleared = ndimage.binary_erosion(kind == 2, iterations=2)
    assert cleared.sum() > 100
    for p, name in ((0, "VV"), (1, "VH")):
        want = _db((sig["bare"][p] + nesz) / (sig["vegetation"][p] + nesz))
        got = _db(inten[1][p][cleared].mean() / inten[0][p][cleared].mean())
        assert got == pytest.approx(want, abs=1.5), name
    building = kind == 1  # new_building
    assert building.sum() > 50
    assert (
        _db(inten[1][0][building].mean() / inten[0][0][building].mean()) > 8.0
    )  # ~+12 dB over a field
    # coherence lost across the change: flooded fields against unchanged fields (12 days: gamma
    # 0.15 + 0.65 e^-1 = 0.39 before the estimator's bias; a redrawn scatterer leaves only the bias,
    # about 0.2 for a 5 x 5 window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(change_scene.truth_dir / "class_map_radar.tif") as src:
            cls = src.read(1)
    a, b = (_read(s)[0][0] for s in change_scene.safe)
    x = a * np.conj(b)
    num = np.abs(ndimage.uniform_filter(x.real, 5) + 1j * ndimage.uniform_filter(x.imag, 5))
    coh = num / np.sqrt(
        ndimage.uniform_filter(np.abs(a) ** 2, 5) * ndimage.uniform_filter(np.abs(b) ** 2, 5)
    )
    field = ndimage.binary_erosion((cls == 6) & (date == 0), iterations=3)
    flooded_field = ndimage.binary_erosion((cls == 6) & (kind == 3), iterations=3)
    assert flooded_field.sum() > 100 and field.sum() > 1000
    assert coh[flooded_field].mean() < coh[field].mean() - 0.1


def test_change_labels(change_scene: SimulatedScene, tmp_path: Path) -> None:
    """L2 from the dated reference features, L3 where the SAR evidence agrees, spatial split."""
    from sarbd.dataset.change_labels import build_change_dataset, load_change_dataset
    from sarbd.errors import InputError

    chips = build_change_dataset(change_scene.root, tmp_path / "labels")
    back = load_change_dataset(tmp_path / "labels")
    np.testing.assert_array_equal(back.l3, chips.l3)
    assert set(np.unique(chips.split)) == {1, 2, 3}
    lab = (chips.l2 >= 0) & (chips.l3 >= 0)
    assert np.all(chips.l3[lab] == chips.l2[lab])  # L3 only removes L2 pixels
    assert (chips.l3 == 1).sum() > 100 and (chips.l3 == -1).sum() > (chips.l2 == -1).sum()
    # L3 agrees with the truth better than L2 does on the pixels it keeps
    t = chips.truth
    assert np.mean(chips.l3[chips.l3 >= 0] == t[chips.l3 >= 0]) >= np.mean(
        chips.l2[chips.l2 >= 0] == t[chips.l2 >= 0]
    )
    meta = json.loads((tmp_path / "labels" / "labels.json").read_text())
    assert meta["pairs"] == [[0, 1]] and meta["pixels"]["0-1"]["truth"]["change"] > 100
    with pytest.raises(InputError, match="no change truth"):
        build_change_dataset(tmp_path, tmp_path / "x")


@pytest.mark.slow
def test_cli_train_evaluate_report_change(
    change_scene: SimulatedScene, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sarbd train --task change` on the scene, `sarbd evaluate` and `sarbd report` of the run."""
    from sarbd.cli.app import main

    run = tmp_path / "chg"
    assert (
        main(
            [
                "train",
                str(change_scene.root),
                "--task",
                "change",
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
    assert "kappa" in capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    first = metrics["splits"]["test"]["truth"]
    assert first["n_change"] > 0 and first["f1"] is not None
    assert metrics["threshold_baseline"]["test"]["truth"]["n_pixels"] == first["n_pixels"]
    assert (run / "model.pt").is_file() and (run / "change_map.png").is_file()
    assert main(["evaluate", str(run), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["splits"]["test"]["truth"]["confusion"] == first["confusion"]
    html = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(html)]) == 0
    assert "Change detection" in html.read_text()
    assert {p.name for p in (tmp_path / "report_figures").glob("*.png")} == {
        "change_training.png",
        "change_map.png",
    }
    hist = json.loads((run / "run.json").read_text())["history"]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
