"""``sarbd train``, ``sarbd evaluate``, ``sarbd compare``: baselines on a SARbd dataset, honest metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from sarbd.cli.app import app


def parse_features(value: str) -> str | list[str]:
    """``--features``: a named set (``temporal``, ``all``) or comma-separated names."""
    value = value.strip()
    if value in ("temporal", "all"):
        return value
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise typer.BadParameter("give 'temporal', 'all' or feature names", param_hint="--features")
    return names


@app.command()
def train(
    dataset: Path = typer.Argument(
        ...,
        help="SARbd dataset folder (holds dataset.zarr); --task detection: a "
        "simulated scene with targets or a detection label folder.",
    ),
    out: Path = typer.Option(..., "--out", help="Run folder to write (replaced if present)."),
    task: str = typer.Option(
        "landcover",
        "--task",
        help="landcover (pixel classes), detection (ships, oil slicks; "
        "CenterNet, mAP@0.5), change (date pairs; Siamese, F1/kappa) "
        "or sequence (per-pixel time series: 1-D CNN vs "
        "temporal-statistics RF).",
    ),
    model: str = typer.Option(
        "ann", "--model", help="Baseline: ann (AlignSAR dense ANN), rf (random forest), unet."
    ),
    level: str = typer.Option("L3", "--level", help="Label level to train on: L1, L2 or L3."),
    seed: int = typer.Option(
        0, "--seed", help="Random seed (same seed and threads: same metrics)."
    ),
    threads: int = typer.Option(
        1, "--threads", help="CPU threads for training (changes the last bits)."
    ),
    epochs: int | None = typer.Option(None, "--epochs", help="Epochs (default: ann 30, unet 20)."),
    n_estimators: int | None = typer.Option(
        None, "--n-estimators", help="Trees (rf; default 100)."
    ),
    samples_per_epoch: int | None = typer.Option(
        None,
        "--samples-per-epoch",
        help="Class-balanced draws per ANN epoch (default: the training pixels, at most 100000).",
    ),
    chip_size: int | None = typer.Option(
        None, "--chip-size", help="Chip index to use (unet; default smallest)."
    ),
    features: str = typer.Option(
        "temporal",
        "--features",
        help="Inputs: 'temporal' (signatures without a time dimension), 'all' (every per-date column too), "
        "or comma-separated feature names.",
    ),
    random_protocol: bool = typer.Option(
        True,
        "--random-protocol/--no-random-protocol",
        help="Also train/evaluate with the paper's random-pixel split (reported beside the spatial one).",
    ),
    looks: str = typer.Option(
        "",
        "--looks",
        help="detection, change: looks (azimuth,range) averaged before "
        "chipping (default detection 1,4, change 2,2).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Train a baseline and evaluate it on the spatially held-out test split.

    Writes the model, normalisation statistics, metrics.json, figures, the predicted
    label map and a STAC item (mlm extension) into the run folder.

    Example: sarbd train sarbd-demo/dataset --model rf --level L3 --seed 0 --out runs/rf
    """
    if task != "landcover":
        from sarbd.ml.tasks import run_task

        az, _, rg = looks.partition(",")
        extra: dict[str, Any] = {"looks": (int(az), int(rg or 1))} if looks else {}
        if task == "change":
            extra["level"] = level
        if task == "sequence":
            extra["n_estimators"] = n_estimators
        typer.echo(
            run_task(
                task,
                dataset,
                out,
                seed=seed,
                threads=threads,
                epochs=epochs,
                chip_size=chip_size,
                as_json=as_json,
                **extra,
            )
        )
        return
    from sarbd.ml.run import format_summary, train_run

    metrics = train_run(
        dataset,
        out,
        model=model.lower(),
        level=level,
        seed=seed,
        threads=threads,
        random_protocol=random_protocol,
        chip_size=chip_size,
        epochs=epochs,
        n_estimators=n_estimators,
        samples_per_epoch=samples_per_epoch,
        features=parse_features(features),
    )
    typer.echo(json.dumps(metrics, indent=2) if as_json else format_summary(metrics))


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="Run folder written by `sarbd train`."),
    dataset: Path | None = typer.Option(
        None, "--dataset", help="Dataset folder, if moved since training."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Re-evaluate a trained run and print both protocols side by side.

    Example: sarbd evaluate runs/rf --json
    """
    from sarbd.ml.tasks import evaluate_task

    text = evaluate_task(run, dataset, as_json=as_json)  # the run's own task (detection, ...)
    if text is not None:
        typer.echo(text)
        return
    from sarbd.ml.run import evaluate_run, format_summary

    metrics = evaluate_run(run, dataset)
    typer.echo(json.dumps(metrics, indent=2) if as_json else format_summary(metrics))


@app.command()
def compare(
    dataset: Path = typer.Argument(..., help="SARbd dataset folder (holds dataset.zarr)."),
    model: str = typer.Option(
        "rf", "--model", help="Baseline trained once per level: ann, rf or unet."
    ),
    levels: str = typer.Option(
        "L2,L3", "--levels", help="Comma-separated label levels to train on."
    ),
    truth: str = typer.Option(
        "L3",
        "--truth",
        help="Reference of the test pixels: a level (L1/L2/L3) or a single-band class raster on the root "
        "radar grid (e.g. the simulator's truth/class_map_radar.tif).",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    threads: int = typer.Option(1, "--threads", help="CPU threads for training."),
    epochs: int | None = typer.Option(None, "--epochs", help="Epochs (ann, unet)."),
    n_estimators: int | None = typer.Option(None, "--n-estimators", help="Trees (rf)."),
    features: str = typer.Option("temporal", "--features", help="As for `sarbd train`."),
    out: Path | None = typer.Option(None, "--out", help="Also write the table as CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """Train the same model on each label level and score all on the same held-out test pixels.

    The test pixels are the spatial test split where the truth has a class, so levels are
    compared on identical pixels: the table shows what cleaner labels buy.

    Example: sarbd compare sarbd-demo/dataset --model rf --levels L2,L3 --truth sarbd-demo/scene/truth/class_map_radar.tif
    """
    from sarbd.ml.compare import compare_levels, read_truth_raster

    level_list = [v.strip().upper() for v in levels.split(",") if v.strip()]
    ref = (
        truth.upper()
        if truth.upper() in ("L1", "L2", "L3")
        else read_truth_raster(Path(truth), dataset)
    )
    hparams = {
        k: v for k, v in (("epochs", epochs), ("n_estimators", n_estimators)) if v is not None
    }
    table = compare_levels(
        dataset,
        model=model.lower(),
        levels=level_list,
        truth=ref,
        seed=seed,
        threads=threads,
        features=parse_features(features),
        **hparams,
    )
    if out is not None:
        from sarbd.utils.files import atomic_output

        with atomic_output(out) as tmp:
            table.to_csv(tmp)
    typer.echo(table.to_json(orient="index", indent=2) if as_json else table.round(3).to_string())
