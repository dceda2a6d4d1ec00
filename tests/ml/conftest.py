"""Fixtures: one synthetic SARbd dataset and one trained run per baseline (via the CLI), per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ml.synthetic import SyntheticDataset, make_synthetic_dataset

#: tiny training settings so the whole ML test suite stays well under two minutes on a CPU
#: every feature (per-date ones too): the synthetic scene's two temporal ones are not enough
TINY = {
    "ann": ["--epochs", "6", "--features", "all"],
    "rf": ["--n-estimators", "30", "--features", "all"],
    "unet": ["--epochs", "4", "--features", "all"],
}


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticDataset:
    return make_synthetic_dataset(tmp_path_factory.mktemp("sarbd") / "dataset")


@pytest.fixture(scope="session")
def runs(synthetic: SyntheticDataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each baseline trained from the command line: ``sarbd train DATASET --model M --out RUN``."""
    from sarbd.cli.app import main

    root = tmp_path_factory.mktemp("runs")
    out = {}
    for model, extra in TINY.items():
        run = root / model
        code = main(
            [
                "train",
                str(synthetic.path),
                "--model",
                model,
                "--level",
                "L3",
                "--seed",
                "0",
                "--out",
                str(run),
                *extra,
            ]
        )
        assert code == 0, f"sarbd train --model {model} failed"
        out[model] = run
    return out
