"""Acceptance: the three baselines from the CLI, spatially disjoint evaluation, reproducibility,
both protocols side by side, the STAC/mlm item, and the L2-vs-L3 table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from sarbd.cli.app import main
from sarbd.ml import compare_levels, evaluate_run, load_model, open_sarbd, train_run
from sarbd.ml.outputs import MLM_SCHEMA
from tests.ml.synthetic import LINE0, PIXEL0

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("model", ["ann", "rf", "unet"])
def test_cli_run_outputs(runs, model):
    run = runs[model]
    weights = "model.joblib" if model == "rf" else "model.pt"
    for name in (
        weights,
        "preprocess.json",
        "run.json",
        "metrics.json",
        "item.json",
        "confusion_matrix.png",
        "predicted_labels.png",
        "train_pixels.npz",
    ):
        assert (run / name).is_file(), name
    assert (run / "predicted_labels.zarr").is_dir() and (
        run / "random_pixel" / "pixels.npz"
    ).is_file()
    for png in run.glob("*.png"):
        assert png.read_bytes()[:8] == PNG
    metrics = json.loads((run / "metrics.json").read_text())
    sp, rp = metrics["protocols"]["spatial"], metrics["protocols"]["random_pixel"]
    assert metrics["headline"]["protocol"] == "spatial"
    assert metrics["headline"]["macro_f1"] == sp["macro_f1"]
    for m in (sp, rp):
        assert set(m["per_class"]) == {"building", "road", "water", "vegetation"}
        assert sum(m["n_test_per_class"].values()) == m["n_pixels"] > 0
        assert all(v > 0 for v in m["n_train_per_class"].values())
    assert sp["test_pixels_seen_in_training"] == 0
    pixel_model = model != "unet"
    assert ("feature_importance" in metrics) == pixel_model
    if pixel_model:
        imp = metrics["feature_importance"]
        assert (run / "feature_importance.png").is_file()
        assert len(imp["features"]) == 8 and imp["n_pixels"] == sp["n_pixels"]
    # the model learned something real on unseen places (4 classes: chance ~0.25)
    assert sp["macro_f1"] > 0.5 and sp["cohen_kappa"] > 0.4
    assert len(json.loads((run / "run.json").read_text())["features"]) == 8


def test_default_features_are_the_temporal_set(synthetic, tmp_path):
    train_run(
        synthetic.path,
        tmp_path / "rf",
        model="rf",
        n_estimators=5,
        random_protocol=False,
        importance_repeats=0,
    )
    run = json.loads((tmp_path / "rf" / "run.json").read_text())
    assert run["features"] == ["amplitude_dispersion", "entropy"]


def test_predicted_map_matches_metrics(runs, synthetic):
    import xarray as xr

    run = runs["rf"]
    pred = xr.open_zarr(run / "predicted_labels.zarr", consolidated=False)["predicted_label"]
    data = open_sarbd(synthetic.path)
    assert pred.shape == data.shape and np.array_equal(pred["line"].values, data.line)
    lab, test = data.labels("L3"), (data.split() == 3) & (data.labels("L3") > 0)
    oa = float((pred.values[test] == lab[test]).mean())
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.isclose(oa, metrics["protocols"]["spatial"]["overall_accuracy"])


@pytest.mark.parametrize("model", ["ann", "rf", "unet"])
def test_test_pixels_never_seen_and_spatially_disjoint(runs, synthetic, model):
    """The labels used in training (and validation) contain no test pixel, and every test
    pixel is farther than the split buffer from every training pixel (by the split layout)."""
    data = open_sarbd(synthetic.path)
    rec = np.load(runs[model] / "train_pixels.npz")
    used = np.zeros(data.shape, bool)
    r, c = data.positions(rec["train_line"], rec["train_pixel"])
    used[r, c] = True
    assert used.sum() == rec["train_line"].size > 0
    vr, vc = data.positions(rec["val_line"], rec["val_pixel"])
    split = data.split()
    test = split == 3
    assert np.all(split[used] == 1) and np.all(split[vr, vc] == 2)
    assert not (used & test).any()
    # chessboard distance from each test pixel to the nearest training pixel
    dist = ndimage.distance_transform_cdt(~used, metric="chessboard")
    assert dist[test].min() > synthetic.buffer
    if model == "unet":  # the chips it trained on hold no test pixel at all, not even as input
        for line0, pixel0, size in rec["chip_windows"]:
            (rr,), (cc,) = data.positions(np.array([line0]), np.array([pixel0]))
            assert not test[rr : rr + size, cc : cc + size].any()


def test_random_pixel_protocol_is_reported_beside_and_leaks(runs, synthetic):
    data = open_sarbd(synthetic.path)
    rp = np.load(runs["rf"] / "random_pixel" / "pixels.npz")
    train = {(a, b) for a, b in zip(rp["train_line"], rp["train_pixel"], strict=True)}
    test = list(zip(rp["test_line"], rp["test_pixel"], strict=True))
    assert train.isdisjoint(test)  # disjoint pixels ...
    tr = np.zeros(data.shape, bool)
    r, c = data.positions(rp["train_line"], rp["train_pixel"])
    tr[r, c] = True
    r, c = data.positions(rp["test_line"], rp["test_pixel"])
    # ... but not disjoint places: most random test pixels touch a training pixel
    touching = ndimage.binary_dilation(tr, np.ones((3, 3), bool))[r, c].mean()
    assert touching > 0.9
    for model in ("ann", "rf"):
        m = json.loads((runs[model] / "metrics.json").read_text())["protocols"]
        assert m["random_pixel"]["macro_f1"] > m["spatial"]["macro_f1"]  # the leak inflates scores


def test_stac_item_mlm(runs):
    import pystac

    for model, run in runs.items():
        item = json.loads((run / "item.json").read_text())
        assert MLM_SCHEMA in item["stac_extensions"]
        p = item["properties"]
        for key in ("mlm:name", "mlm:architecture", "mlm:tasks", "mlm:input", "mlm:output"):
            assert p[key], key
        inp, out = p["mlm:input"][0], p["mlm:output"][0]
        pre = json.loads((run / "preprocess.json").read_text())
        assert inp["bands"] == pre["preprocess"]["channels"]
        assert len(inp["statistics"]) == len(inp["bands"])
        assert [c["value"] for c in out["classification:classes"]] == [1, 2, 3, 4]
        assert p["sarbd:metrics"]["spatial"]["macro_f1"] is not None
        assert item["assets"]["model"]["roles"][0] == "mlm:model"
        assert (run / item["assets"]["model"]["href"]).exists()
        assert item["bbox"][1] == pytest.approx(52.0)
        pystac.Item.from_dict(item)
        assert p["mlm:tasks"] == (
            ["semantic-segmentation"] if model == "unet" else ["classification"]
        )


def test_evaluate_reproduces_and_seeds_reproduce(runs, synthetic, tmp_path, capsys):
    before = json.loads((runs["ann"] / "metrics.json").read_text())
    assert main(["evaluate", str(runs["ann"]), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["protocols"] == before["protocols"]
    # same seed twice: identical metrics; another seed: a different model
    # (each protocol's model is seeded on its own, so the spatial one can be redone alone)
    for model, kw in (
        ("ann", {"epochs": 6}),
        ("unet", {"epochs": 4}),
        ("rf", {"n_estimators": 30}),
    ):
        first = json.loads((runs[model] / "metrics.json").read_text())
        again = train_run(
            synthetic.path,
            tmp_path / model,
            model=model,
            seed=0,
            random_protocol=False,
            importance_repeats=0,
            features="all",
            **kw,
        )
        assert again["protocols"]["spatial"] == first["protocols"]["spatial"]
        if model != "rf":
            w0 = load_model(runs[model]).estimator.state_dict()
            w1 = load_model(tmp_path / model).estimator.state_dict()
            assert all(np.array_equal(w0[k], w1[k]) for k in w0)
    other = train_run(
        synthetic.path,
        tmp_path / "ann1",
        model="ann",
        seed=1,
        epochs=6,
        random_protocol=False,
        importance_repeats=0,
        features="all",
    )
    a, b = (
        load_model(runs["ann"]).estimator.state_dict(),
        load_model(tmp_path / "ann1").estimator.state_dict(),
    )
    assert not all(np.array_equal(a[k], b[k]) for k in a)
    assert "random_pixel" not in other["protocols"]


def test_evaluate_errors(tmp_path):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert main(["train", str(tmp_path), "--out", str(tmp_path / "r")]) == 2


def test_compare_levels_one_table_same_test_pixels(synthetic):
    table = compare_levels(
        synthetic.path, model="rf", truth=synthetic.truth, n_estimators=20, features="all"
    )
    assert list(table.index) == ["L2", "L3"]
    assert table["n_test"].nunique() == 1  # the same test pixels for both
    assert table.loc["L2", "n_train"] > table.loc["L3", "n_train"]  # L3 is the cleaner subset
    assert {"macro_f1", "cohen_kappa", "overall_accuracy", "f1_water"} <= set(table.columns)
    assert (table["macro_f1"] > 0.5).all()
    by_level = compare_levels(
        synthetic.path, model="rf", truth="L3", n_estimators=20, features="all"
    )
    assert by_level.loc["L3", "n_test"] == int(
        (
            (open_sarbd(synthetic.path).split() == 3)
            & (open_sarbd(synthetic.path).labels("L3") > 0)
        ).sum()
    )


def test_compare_cli_with_a_truth_raster(synthetic, tmp_path, capsys):
    """`sarbd compare` reads a class raster on the root grid (the simulator's truth map) and cuts it."""
    import rasterio

    from sarbd.cli.app import main

    full = np.zeros(
        (LINE0 + synthetic.truth.shape[0] + 3, PIXEL0 + synthetic.truth.shape[1] + 5), np.uint8
    )
    full[LINE0 : LINE0 + synthetic.truth.shape[0], PIXEL0 : PIXEL0 + synthetic.truth.shape[1]] = (
        synthetic.truth
    )
    tif = tmp_path / "truth.tif"
    with rasterio.open(
        tif, "w", driver="GTiff", width=full.shape[1], height=full.shape[0], count=1, dtype="uint8"
    ) as dst:
        dst.write(full, 1)
    csv = tmp_path / "levels.csv"
    code = main(
        [
            "compare",
            str(synthetic.path),
            "--model",
            "rf",
            "--n-estimators",
            "20",
            "--features",
            "all",
            "--truth",
            str(tif),
            "--out",
            str(csv),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "L2" in printed and "L3" in printed and "macro_f1" in printed
    table = pd.read_csv(csv, index_col=0)
    expected = compare_levels(
        synthetic.path, model="rf", truth=synthetic.truth, n_estimators=20, features="all"
    )
    assert np.allclose(table["macro_f1"].values, expected["macro_f1"].values)
    assert main(["compare", str(synthetic.path), "--truth", str(tmp_path / "missing.tif")]) == 2
    assert "truth raster not found" in capsys.readouterr().err


def test_evaluate_run_python_api(runs, synthetic):
    m = evaluate_run(runs["unet"], synthetic.path, write=False)
    assert m["protocols"]["spatial"]["test_pixels_seen_in_training"] == 0


def test_unet_leaves_out_training_chips_that_show_test_pixels(synthetic, tmp_path):
    """Chips shifted half a block straddle splits: those touching test pixels must not train."""
    import shutil

    import pandas as pd

    from sarbd.ml import fit_model, spatial_protocol

    copy = tmp_path / "ds"
    shutil.copytree(synthetic.path, copy)
    chips = pd.read_parquet(copy / "chips" / "chips_16.parquet")
    shifted = chips[
        (chips.line0 + 24 <= chips.line0.max() + 16)
        & (chips.pixel0 + 24 <= chips.pixel0.max() + 16)
    ].copy()
    shifted[["line0", "pixel0"]] += 8
    shifted["split"] = 1  # claims to be training chips
    shifted.to_parquet(copy / "chips" / "chips_16.parquet", index=False)
    data = open_sarbd(copy)
    proto = spatial_protocol(data, "L3")
    test = data.split() == 3
    rows, cols = data.positions(shifted.line0.to_numpy(), shifted.pixel0.to_numpy())
    assert any(
        test[r : r + 16, c : c + 16].any() for r, c in zip(rows, cols, strict=True)
    )  # the trap is real
    _, record = fit_model(data, "unet", "L3", proto.train, proto.val, chip_split=1, epochs=1)
    assert record["chip_windows"]
    for line0, pixel0, size in record["chip_windows"]:
        (r,), (c,) = data.positions(np.array([line0]), np.array([pixel0]))
        assert not test[r : r + size, c : c + size].any()
