"""Report section of a change-detection run (``sarbd train --task change``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sarbd.errors import InputError

__all__ = ["add_change_section"]


def add_change_section(report: Any, run_dir: Path) -> None:
    """F1 and kappa per split (truth and L3), the log-ratio baseline, the training curve and a change map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sarbd.ml.change_run import _load, change_figure

    metrics_file = run_dir / "metrics.json"
    if not metrics_file.is_file():
        raise InputError("not a training run (no metrics.json)", path=run_dir)
    metrics = json.loads(metrics_file.read_text())
    fit, run, labels = _load(run_dir)
    report.add_heading(
        "Change detection: Siamese baseline (new buildings, cleared vegetation, floods)"
    )
    rows = []
    for name in ("test", "validation", "train"):
        s = metrics["splits"][name]
        rows.append(
            [
                name,
                s["truth"]["n_chips"],
                s["truth"]["f1"],
                s["truth"]["kappa"],
                s["L3"]["f1"],
                s["L3"]["kappa"],
                s["truth"]["n_change"],
            ]
        )
    t = metrics["threshold_baseline"]["test"]
    rows.append(
        [
            "test, log-ratio threshold (no learning)",
            t["truth"]["n_chips"],
            t["truth"]["f1"],
            t["truth"]["kappa"],
            t["L3"]["f1"],
            t["L3"]["kappa"],
            t["truth"]["n_change"],
        ]
    )
    report.add_table(
        [
            "split",
            "chips",
            "F1 (truth)",
            "kappa (truth)",
            "F1 (L3)",
            "kappa (L3)",
            "changed px (truth)",
        ],
        rows,
    )
    report.add_note(
        f"Trained on {metrics['level']} labels. Chips of whole spatial blocks (the same for every date "
        "pair). F1 and Cohen's kappa of the change class. L3 is defined with the log-ratio evidence, so "
        "the threshold baseline's score against L3 is optimistic by construction; against the truth it "
        "is fair."
    )
    hist = run.get("history", [])
    if hist:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.plot([h["epoch"] for h in hist], [h["train_loss"] for h in hist], label="training loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("weighted BCE")
        if any(h.get("val_f1") is not None for h in hist):
            ax2 = ax.twinx()
            ax2.plot([h["epoch"] for h in hist], [h.get("val_f1") for h in hist], color="C1")
            ax2.set_ylabel("validation F1")
        ax.set_title(f"training (best epoch {run.get('best_epoch')})")
        fig.tight_layout()
        report.add_figure("change_training", fig, "Training loss and validation F1 per epoch.")
    report.add_figure(
        "change_map",
        change_figure(fit, labels),
        "One date pair: sigma0 VV before and after, the true change, the L3 labels and the Siamese "
        "prediction (test blocks outlined in red).",
    )
