"""Time-series layout (timeseries.zarr), the sequence dataset and the temporal 1-D CNN."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from sarbd.dataset.timeseries import sequence_sources, write_timeseries
from sarbd.ml.data import SPLIT_TEST, SPLIT_TRAIN, ClassInfo
from sarbd.ml.sequence import SequenceData, SequenceDataset, fit_sequence_model, predict_sequences
from tests.ml.synthetic import make_synthetic_dataset

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ts_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic dataset with three dates plus a reference-relative phase layer."""
    root = tmp_path_factory.mktemp("seq") / "dataset"
    make_synthetic_dataset(root, n_dates=3)
    rng = np.random.default_rng(5)
    ds = xr.open_zarr(root / "dataset.zarr", consolidated=False)
    phase = rng.uniform(-np.pi, np.pi, ds["sigma0_vv"].shape).astype(np.float32)
    phase[0] = np.nan  # undefined against itself, as the build stores it
    coh = ds["coherence_vv"].values.copy()
    coh[0] = np.nan
    coh[1, 5, 7] = np.nan  # one undefined value stays NaN in the layout
    extra = xr.Dataset(
        {
            "interferometric_phase_vv": (
                ("time", "line", "pixel"),
                phase,
                {"units": "rad", "sarbd_category": "single_pol"},
            ),
            "coherence_vv": (("time", "line", "pixel"), coh, dict(ds["coherence_vv"].attrs)),
        }
    )
    extra.chunk({"time": 1, "line": 32, "pixel": 64}).to_zarr(
        root / "dataset.zarr", mode="a", consolidated=False
    )
    write_timeseries(root, chunk_lines=32, chunk_pixels=48)
    return root


def test_layout_values_equal_the_dataset_per_date_values(ts_dataset: Path) -> None:
    src = xr.open_zarr(ts_dataset / "dataset.zarr", consolidated=False)
    ts = xr.open_zarr(ts_dataset / "timeseries.zarr", consolidated=False)
    # Zarr v2, as every other store of a dataset (v3 has no stable string dtype yet)
    assert (ts_dataset / "timeseries.zarr" / ".zgroup").is_file()
    assert not (ts_dataset / "timeseries.zarr" / "zarr.json").exists()
    names = [str(f) for f in ts["feature"].values]
    assert {
        "backscatter_db_vv",
        "backscatter_db_vh",
        "coherence_ref_vv",
        "phase_cos_vv",
        "phase_sin_vv",
    } <= set(names)
    assert ts["x"].dims == ("line", "pixel", "time", "feature")
    np.testing.assert_array_equal(ts["days"].values, [0.0, 12.0, 24.0])
    np.testing.assert_array_equal(ts["line"].values, src["line"].values)
    rng = np.random.default_rng(1)
    for r, c in zip(rng.integers(0, 96, 20), rng.integers(0, 128, 20), strict=True):
        x = ts["x"].isel(line=r, pixel=c).values  # (time, feature)
        for t in range(3):
            f = {n: float(x[t, k]) for k, n in enumerate(names)}
            assert f["backscatter_db_vv"] == pytest.approx(
                10 * np.log10(float(src["sigma0_vv"][t, r, c])), abs=1e-4
            )
            phase = float(src["interferometric_phase_vv"][t, r, c])
            coh = float(src["coherence_vv"][t, r, c])
            if t == 0:  # the reference date: exactly 1 and (1, 0)
                assert (f["coherence_ref_vv"], f["phase_cos_vv"], f["phase_sin_vv"]) == (
                    1.0,
                    1.0,
                    0.0,
                )
            else:
                assert f["coherence_ref_vv"] == pytest.approx(coh, abs=1e-6)
                assert f["phase_cos_vv"] == pytest.approx(np.cos(phase), abs=1e-6)
                assert f["phase_sin_vv"] == pytest.approx(np.sin(phase), abs=1e-6)
    assert np.isnan(ts["x"].isel(line=5, pixel=7, time=1).values[names.index("coherence_ref_vv")])
    np.testing.assert_array_equal(ts["split"].values, src["split"].values)
    np.testing.assert_array_equal(ts["label_l3"].values, src["label_l3"].values)
    assert ts["x"].encoding["chunks"] == (32, 48, 3, len(names))


def test_sources_prefer_db_and_fall_back_to_intensity() -> None:
    dims = ("time", "line", "pixel")
    z = np.zeros((2, 1, 1), np.float32)
    ds = xr.Dataset({"sigma0_db_vv": (dims, z), "sigma0_vv": (dims, z), "intensity_hh": (dims, z)})
    got = {s.name: (s.var, s.transform) for s in sequence_sources(ds)}
    assert got == {
        "backscatter_db_vv": ("sigma0_db_vv", "db"),
        "backscatter_db_hh": ("intensity_hh", "to_db"),
    }


def test_dataset_yields_time_feature_tensors_on_the_land_cover_split(ts_dataset: Path) -> None:
    seq = SequenceData(ts_dataset / "timeseries.zarr")
    src = xr.open_zarr(ts_dataset / "dataset.zarr", consolidated=False)
    classes = ClassInfo.from_dict(
        {"ids": [1, 2, 3, 4], "names": ["building", "road", "water", "vegetation"]}
    )
    train = SequenceDataset(seq, "L3", SPLIT_TRAIN, classes)
    test = SequenceDataset(seq, "L3", SPLIT_TEST, classes, train.norm)
    x, y = train[0]
    assert x.shape == (3, len(seq.features)) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and 0 <= int(y) < 4
    assert torch.isfinite(train.x).all()  # NaN -> 0 after standardisation
    split = src["split"].values
    l3 = src["label_l3"].values
    assert len(train) == int(((l3 > 0) & (split == SPLIT_TRAIN)).sum())
    assert len(test) == int(((l3 > 0) & (split == SPLIT_TEST)).sum())
    assert (split[test.rows, test.cols] == SPLIT_TEST).all()
    # the raw series of an item is the layout's, at that pixel
    ts = xr.open_zarr(ts_dataset / "timeseries.zarr", consolidated=False)
    np.testing.assert_array_equal(test.raw[3], ts["x"].values[test.rows[3], test.cols[3]])
    # standardised with the training statistics: training mean ~0, std ~1 per feature
    z = train.x.reshape(-1, train.x.shape[-1]).numpy()
    assert np.abs(z.mean(axis=0)).max() < 0.05


def test_chip_dataset_yields_time_feature_chips_with_split_masked_labels(ts_dataset: Path) -> None:
    from sarbd.ml.data import chip_windows, open_sarbd
    from sarbd.ml.sequence import SequenceChipDataset

    seq = SequenceData(ts_dataset / "timeseries.zarr")
    classes = ClassInfo.from_dict(
        {"ids": [1, 2, 3, 4], "names": ["building", "road", "water", "vegetation"]}
    )
    norm = SequenceDataset(seq, "L3", SPLIT_TRAIN, classes).norm
    size, windows = chip_windows(open_sarbd(ts_dataset), None)
    test_windows = [(r, c) for r, c, s in windows if s == SPLIT_TEST]
    chips = SequenceChipDataset(seq, "L3", SPLIT_TEST, test_windows, size, norm)
    item = chips[0]
    assert (
        item["x"].shape == (3, len(seq.features), size, size) and item["x"].dtype == torch.float32
    )
    assert item["mask"].shape == (size, size) and item["mask"].dtype == torch.int64
    r0, c0 = test_windows[0]
    ts = xr.open_zarr(ts_dataset / "timeseries.zarr", consolidated=False)
    want = norm.transform(ts["x"].values[r0 + 2, c0 + 3])  # (time, feature) of one pixel
    np.testing.assert_allclose(item["x"][:, :, 2, 3].numpy(), want, rtol=0, atol=1e-6)
    split = ts["split"].values[r0 : r0 + size, c0 : c0 + size]
    assert (item["mask"].numpy()[split != SPLIT_TEST] == 0).all()


def _easy_sequences(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes with the same per-pixel temporal statistics, told apart only by order:
    class 0 rises over the 8 dates, class 1 falls (plus noise)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    ramp = np.linspace(-1.0, 1.0, 8)
    base = np.where(y[:, None] == 0, ramp, ramp[::-1])
    x = (base + 0.5 * rng.standard_normal((n, 8)))[:, :, None].astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))


def test_temporal_cnn_learns_an_easy_order_task_and_is_deterministic() -> None:
    train, val, test = _easy_sequences(600, 0), _easy_sequences(200, 1), _easy_sequences(400, 2)
    kw = {"epochs": 4, "samples_per_epoch": 600, "batch_size": 64}
    a = fit_sequence_model(train, val, 2, seed=3, **kw)
    acc = float((predict_sequences(a.net, test[0]) == test[1].numpy()).mean())
    assert acc > 0.9  # chance is 0.5; the mean/std of every series is the same for both classes
    b = fit_sequence_model(train, val, 2, seed=3, **kw)
    for (k, va), vb in zip(a.net.state_dict().items(), b.net.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    c = fit_sequence_model(train, val, 2, seed=4, **{**kw, "epochs": 1})
    assert not torch.equal(a.net.state_dict()["head.1.weight"], c.net.state_dict()["head.1.weight"])


def test_train_evaluate_report_from_the_cli(ts_dataset: Path, tmp_path: Path) -> None:
    from sarbd.cli.app import main

    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                str(ts_dataset),
                "--task",
                "sequence",
                "--out",
                str(run),
                "--epochs",
                "2",
                "--n-estimators",
                "10",
            ]
        )
        == 0
    )
    metrics = json.loads((run / "metrics.json").read_text())
    for level in ("L2", "L3"):
        m = metrics["levels"][level]
        assert (
            m["temporal_cnn"]["n_pixels"] == m["temporal_stats_rf"]["n_pixels"] == m["n_test"] > 0
        )
        assert m["temporal_cnn"]["macro_f1"] > 0.4  # 4 separable classes: chance is about 0.25
    assert (run / "class_mean_series.png").stat().st_size > 1000
    assert (run / "confusion_matrix.png").is_file()
    assert main(["evaluate", str(run), "--json"]) == 0
    again = json.loads((run / "metrics.json").read_text())
    assert (
        again["levels"]["L3"]["temporal_cnn"]["macro_f1"]
        == metrics["levels"]["L3"]["temporal_cnn"]["macro_f1"]
    )
    assert main(["report", str(run), "--out", str(tmp_path / "r.html")]) == 0
    assert "temporal 1-D CNN" in (tmp_path / "r.html").read_text()
