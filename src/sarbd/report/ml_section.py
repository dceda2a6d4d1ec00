"""The report's section about a trained baseline (a ``sarbd train`` run folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sarbd.errors import InputError
from sarbd.report import figures

__all__ = ["add_run_section"]


def _metric(value: Any) -> Any:
    return "" if value is None else float(value)


def add_run_section(
    report: Any, run_dir: Path, ds: xr.Dataset, class_names: list[str], aspect: float
) -> None:
    """Add metrics (both protocols side by side), the predicted map and the confusion matrix."""
    metrics_file = run_dir / "metrics.json"
    if not metrics_file.is_file():
        raise InputError(
            "not a training run (no metrics.json)",
            path=run_dir,
            hint="create one with `sarbd train DATASET --out RUN`",
        )
    metrics = json.loads(metrics_file.read_text())
    level = str(metrics.get("level", "L3"))
    report.add_heading(f"Baseline: {metrics.get('model', '?')} trained on SARbd-{level}")
    protocols = metrics.get("protocols", {})
    spatial = protocols.get("spatial", {})
    rnd = protocols.get("random_pixel")
    report.add_table(
        ["protocol", "test pixels", "overall accuracy", "Cohen's kappa", "macro F1"],
        [
            [
                name.replace("_", " "),
                p.get("n_pixels", 0),
                _metric(p.get("overall_accuracy")),
                _metric(p.get("cohen_kappa")),
                _metric(p.get("macro_f1")),
            ]
            for name, p in (
                ("spatial (held-out blocks)", spatial),
                ("random pixel (leaks)", rnd or {}),
            )
            if p
        ],
    )
    report.add_note(
        "The spatial protocol tests on blocks never seen in training; the random-pixel "
        "protocol (as in the AlignSAR paper) shares neighbourhoods between training and "
        "test pixels and overstates accuracy."
    )
    rows = []
    for name, c in spatial.get("per_class", {}).items():
        row: list[Any] = [
            name,
            spatial.get("n_train_per_class", {}).get(name, ""),
            c["support"],
            c["precision"],
            c["recall"],
            c["f1"],
        ]
        if rnd and name in rnd.get("per_class", {}):
            r = rnd["per_class"][name]
            row += [r["support"], r["precision"], r["recall"], r["f1"]]
        rows.append(row)
    header = ["class", "train pixels", "test pixels", "precision", "recall", "F1"]
    if rnd:
        header += ["test pixels (random)", "precision (random)", "recall (random)", "F1 (random)"]
    report.add_table(header, rows)
    names = spatial.get("class_names") or class_names
    if "confusion_matrix" in spatial:
        report.add_figure(
            "confusion_matrix",
            figures.confusion_matrix_figure(
                np.asarray(spatial["confusion_matrix"]), names, "spatial test split"
            ),
            "Confusion matrix on the spatially held-out test split (rows: reference).",
        )
    pred_store = run_dir / "predicted_labels.zarr"
    label_var = f"label_{level.lower()}"
    if pred_store.exists() and label_var in ds:
        pred = xr.open_zarr(pred_store)["predicted_label"]
        truth = ds[label_var].sel(line=pred["line"], pixel=pred["pixel"])
        report.add_figure(
            "prediction",
            figures.prediction_figure(
                truth.values,
                pred.values,
                names,
                aspect=aspect,
                orientation=figures.orientation_note(ds),
            ),
            f"Reference SARbd-{level} labels and the baseline's predicted map.",
        )
    if "feature_importance" in metrics:
        imp = metrics["feature_importance"]
        top = list(zip(imp["features"], imp["importance_mean"], strict=False))[:10]
        report.add_table(["signature", "drop of macro F1 when shuffled"], top)
