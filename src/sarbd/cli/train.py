"""``sarbd train`` and ``sarbd evaluate``: baselines on a SARbd dataset, honest metrics."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sarbd.cli.app import app


@app.command()
def train(
    dataset: Path = typer.Argument(..., help="SARbd dataset folder (holds dataset.zarr)."),
    out: Path = typer.Option(..., "--out", help="Run folder to write (replaced if present)."),
    model: str = typer.Option("ann", "--model", help="Baseline: ann (AlignSAR dense ANN), rf (random forest), unet."),
    level: str = typer.Option("L3", "--level", help="Label level to train on: L1, L2 or L3."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed and threads: same metrics)."),
    threads: int = typer.Option(1, "--threads", help="CPU threads for training (changes the last bits)."),
    epochs: int | None = typer.Option(None, "--epochs", help="Epochs (default: ann 30, unet 20)."),
    n_estimators: int | None = typer.Option(None, "--n-estimators", help="Trees (rf; default 100)."),
    chip_size: int | None = typer.Option(None, "--chip-size", help="Chip index to use (unet; default smallest)."),
    random_protocol: bool = typer.Option(
        True, "--random-protocol/--no-random-protocol",
        help="Also train/evaluate with the paper's random-pixel split (reported beside the spatial one).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Train a baseline and evaluate it on the spatially held-out test split.

    Writes the model, normalisation statistics, metrics.json, figures, the predicted
    label map and a STAC item (mlm extension) into the run folder.

    Example: sarbd train sarbd-demo/dataset --model rf --level L3 --seed 0 --out runs/rf
    """
    from sarbd.ml.run import format_summary, train_run

    metrics = train_run(
        dataset, out, model=model.lower(), level=level, seed=seed, threads=threads,
        random_protocol=random_protocol, chip_size=chip_size, epochs=epochs, n_estimators=n_estimators,
    )
    typer.echo(json.dumps(metrics, indent=2) if as_json else format_summary(metrics))


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="Run folder written by `sarbd train`."),
    dataset: Path | None = typer.Option(None, "--dataset", help="Dataset folder, if moved since training."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Re-evaluate a trained run and print both protocols side by side.

    Example: sarbd evaluate runs/rf --json
    """
    from sarbd.ml.run import evaluate_run, format_summary

    metrics = evaluate_run(run, dataset)
    typer.echo(json.dumps(metrics, indent=2) if as_json else format_summary(metrics))
