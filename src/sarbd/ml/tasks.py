"""The ``--task`` dispatch of ``sarbd train`` / ``sarbd evaluate`` beyond land-cover pixels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sarbd.errors import ConfigError

__all__ = ["TASKS", "evaluate_task", "run_task"]

#: Tasks beyond ``landcover`` (the pixel baselines of :mod:`sarbd.ml.run`).
TASKS = ("detection", "change", "sequence")


def run_task(
    task: str,
    source: Path,
    out: Path,
    *,
    seed: int = 0,
    threads: int = 1,
    epochs: int | None = None,
    chip_size: int | None = None,
    as_json: bool = False,
    **extra: Any,
) -> str:
    """Train ``task`` on ``source``; returns the printable summary (or the metrics JSON)."""
    if task == "detection":
        from sarbd.ml.detection_run import detection_summary, train_detection_run

        metrics = train_detection_run(
            source,
            out,
            seed=seed,
            threads=threads,
            epochs=epochs,
            chip_size=chip_size or 64,
            **extra,
        )
        return json.dumps(metrics, indent=2) if as_json else detection_summary(metrics)
    if task == "change":
        from sarbd.ml.change_run import change_summary, train_change_run

        metrics = train_change_run(
            source,
            out,
            seed=seed,
            threads=threads,
            epochs=epochs,
            chip_size=chip_size or 16,
            **extra,
        )
        return json.dumps(metrics, indent=2) if as_json else change_summary(metrics)
    if task == "sequence":
        from sarbd.ml.sequence_run import sequence_summary, train_sequence_run

        metrics = train_sequence_run(
            source, out, seed=seed, threads=threads, epochs=epochs, **extra
        )
        return json.dumps(metrics, indent=2) if as_json else sequence_summary(metrics)
    raise ConfigError(f"unknown task {task!r}", hint=f"use landcover or {', '.join(TASKS)}")


def evaluate_task(run: Path, labels: Path | None = None, *, as_json: bool = False) -> str | None:
    """Re-evaluate a run of a task in :data:`TASKS`; None for a land-cover run (or no run.json)."""
    f = run / "run.json"
    task = json.loads(f.read_text()).get("task") if f.is_file() else None
    if task == "detection":
        from sarbd.ml.detection_run import detection_summary, evaluate_detection_run

        metrics = evaluate_detection_run(run, labels)
        return json.dumps(metrics, indent=2) if as_json else detection_summary(metrics)
    if task == "change":
        from sarbd.ml.change_run import change_summary, evaluate_change_run

        metrics = evaluate_change_run(run, labels)
        return json.dumps(metrics, indent=2) if as_json else change_summary(metrics)
    if task == "sequence":
        from sarbd.ml.sequence_run import evaluate_sequence_run, sequence_summary

        metrics = evaluate_sequence_run(run, labels)
        return json.dumps(metrics, indent=2) if as_json else sequence_summary(metrics)
    return None
