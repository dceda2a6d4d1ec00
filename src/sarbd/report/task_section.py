"""Report sections of the tasks beyond land cover (``sarbd train --task detection``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sarbd.errors import InputError

__all__ = ["add_detection_section", "add_sequence_section", "write_task_report"]


def add_detection_section(report: Any, run_dir: Path) -> None:
    """mAP@0.5 per split and class, the training curve, test chips and one date's scene with boxes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sarbd.dataset.detection_labels import load_detection_dataset
    from sarbd.ml.detection_run import _load, detections_figure, scene_figure

    metrics_file = run_dir / "metrics.json"
    if not metrics_file.is_file():
        raise InputError("not a training run (no metrics.json)", path=run_dir)
    metrics = json.loads(metrics_file.read_text())
    fit, run = _load(run_dir)
    labels = Path(run["labels"]) if Path(run["labels"]).is_absolute() else run_dir / run["labels"]
    chips = load_detection_dataset(labels)
    report.add_heading("Object detection: CenterNet baseline (ships, oil slicks)")
    cats = fit.categories
    rows = []
    for name in ("test", "validation", "train"):
        sp = metrics["splits"][name]
        rows.append(
            [
                name,
                sp["n_chips"],
                sp["map"],
                *[v for c in cats for v in (sp["per_class"][c]["ap"], sp["per_class"][c]["n_gt"])],
            ]
        )
    thr = metrics.get("threshold_baseline", {}).get("test")
    if thr:
        rows.append(
            [
                "test, fixed thresholds (no learning)",
                thr["n_chips"],
                thr["map"],
                *[
                    v
                    for c in cats
                    for v in (thr["per_class"][c]["ap"], thr["per_class"][c]["n_gt"])
                ],
            ]
        )
    report.add_table(
        ["split", "chips", "mAP@0.5", *[h for c in cats for h in (f"AP {c}", f"objects {c}")]], rows
    )
    report.add_note(
        "Chips of whole spatial blocks: a test chip's place is never seen in training (other dates "
        "of the same place are in the same split). AP is the PASCAL VOC all-point AP at IoU 0.5."
    )
    hist = run.get("history", [])
    if hist:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.plot([h["epoch"] for h in hist], [h["train_loss"] for h in hist], label="training loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (focal + size + offset)")
        if any("val_map50" in h for h in hist):
            ax2 = ax.twinx()
            ax2.plot(
                [h["epoch"] for h in hist],
                [h.get("val_map50") for h in hist],
                color="C1",
                label="validation mAP@0.5",
            )
            ax2.set_ylabel("validation mAP@0.5")
        ax.set_title(f"training (best epoch {run.get('best_epoch')})")
        fig.tight_layout()
        report.add_figure(
            "detection_training", fig, "Training loss and validation mAP@0.5 per epoch."
        )
    report.add_figure(
        "detection_chips",
        detections_figure(fit, chips.subset(3)),
        "Test chips, sigma0 VV (dB): reference boxes (green) and detections (red, score >= 0.3).",
    )
    test_dates = sorted(set(chips.date[chips.split == 3].tolist()))
    report.add_figure(
        "detection_scene",
        scene_figure(fit, chips, date=test_dates[0] if test_dates else 0),
        "One date's sea chips in place, outlined by split, with the reference boxes and detections.",
    )


def add_sequence_section(report: Any, run_dir: Path) -> None:
    """Per level: the temporal CNN against the temporal-statistics forest; class-mean series; confusions."""
    from sarbd.ml.sequence_run import sequence_table_rows

    metrics_file = run_dir / "metrics.json"
    if not metrics_file.is_file():
        raise InputError("not a training run (no metrics.json)", path=run_dir)
    metrics = json.loads(metrics_file.read_text())
    report.add_heading("Time series: temporal 1-D CNN against temporal statistics")
    report.add_table(
        ["level", "model", "test pixels", "macro F1", "OA", "kappa"], sequence_table_rows(metrics)
    )
    report.add_note(
        "Same spatial split as the land-cover task: trained on split 1, epoch chosen on split 2, "
        "scored on split 3. CNN inputs: " + ", ".join(metrics["features"]) + " per date; forest "
        "inputs: " + ", ".join(metrics["stat_features"]) + "."
    )
    for name, caption in (
        ("class_mean_series", "Class-mean time series (training split, +- 1 std)."),
        ("confusion_matrix", "Confusion matrices on the test split (rows: reference)."),
    ):
        png = run_dir / f"{name}.png"
        if png.is_file():
            _add_png(report, f"sequence_{name}", png.read_bytes(), caption)


def _add_png(report: Any, name: str, png: bytes, caption: str) -> None:
    """Embed a PNG written by the run (the figures are the run's own files)."""
    import base64
    import html

    report.figures[name] = png
    data = base64.b64encode(png).decode("ascii")
    report.add_html(
        f'<figure id="fig-{html.escape(name)}"><img alt="{html.escape(caption)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>'
    )


def write_task_report(run_dir: str | Path, out: str | Path) -> Path:
    """An HTML report of a task run (detection) on its own: no dataset cube needed."""
    from sarbd.report.html import Report
    from sarbd.utils.files import atomic_output

    run_dir, out = Path(run_dir), Path(out)
    run = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").is_file() else {}
    if run.get("task") not in ("detection", "change", "sequence"):
        raise InputError(
            "not a detection, change or sequence run folder",
            path=run_dir,
            hint="`sarbd train --task detection|change|sequence`",
        )
    report = Report(f"sarbd {run['task']} run: {run_dir.name}")
    if run["task"] == "change":
        from sarbd.report.change_section import add_change_section

        add_change_section(report, run_dir)
    elif run["task"] == "sequence":
        add_sequence_section(report, run_dir)
    else:
        add_detection_section(report, run_dir)
    fig_dir = out.parent / f"{out.stem}_figures"
    with atomic_output(fig_dir, directory=True) as tmp_dir:
        for name, png in report.figures.items():
            (tmp_dir / f"{name}.png").write_bytes(png)
    with atomic_output(out) as tmp:
        tmp.write_text(report.render(), encoding="utf-8")
    return out
