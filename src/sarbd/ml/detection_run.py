"""``sarbd train --task detection``: labels -> CenterNet baseline -> mAP@0.5 on the spatial test split.

The source is a simulated scene with targets (its labels are written to ``RUN/labels``
by :func:`sarbd.dataset.detection_labels.build_detection_dataset`) or a detection label
folder written before (``chips.npz`` + COCO files). Run folder:

``run.json`` (settings, normalisation, categories, history, timings, versions),
``model.pt`` (``state_dict``), ``metrics.json`` (mAP@0.5 and per-class AP on the
test, validation and training chips; the headline is the test split),
``detections.png`` (test chips with the reference boxes and the detections).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from sarbd.dataset.detection_labels import (
    DetectionChips,
    build_detection_dataset,
    load_detection_dataset,
)
from sarbd.errors import InputError
from sarbd.utils.files import atomic_output

__all__ = ["detection_summary", "evaluate_detection_run", "train_detection_run"]


def _versions() -> dict[str, str]:
    import torch

    from sarbd import __version__

    return {
        "sarbd": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _chips(
    source: Path, labels_dir: Path, chip_size: int, looks: tuple[int, int], seed: int
) -> tuple[DetectionChips, Path]:
    if (source / "truth" / "targets" / "targets.json").is_file():
        return build_detection_dataset(
            source, labels_dir, chip_size=chip_size, looks=looks, seed=seed
        ), labels_dir
    if (source / "chips.npz").is_file():
        return load_detection_dataset(source), source
    raise InputError(
        "neither a simulated scene with targets nor a detection label folder",
        path=source,
        hint="simulate one with `sarbd simulate --targets`",
    )


def train_detection_run(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    threads: int = 1,
    epochs: int | None = None,
    chip_size: int = 64,
    looks: tuple[int, int] = (1, 4),
    **hyper: Any,
) -> dict[str, Any]:
    """Build (or read) the detection labels, train the CenterNet, evaluate and write the run folder."""
    from sarbd.ml.detection import evaluate_detector, fit_detector
    from sarbd.ml.fit import deterministic

    out = Path(out)
    clock, cpu = time.perf_counter(), time.process_time()
    with atomic_output(out, directory=True) as tmp:
        chips, labels = _chips(Path(source), tmp / "labels", chip_size, looks, seed)
        labels_rel = "labels" if labels == tmp / "labels" else str(Path(labels).resolve())
        train, val, test = chips.subset(1), chips.subset(2), chips.subset(3)
        if train.images.shape[0] == 0 or test.images.shape[0] == 0:
            raise InputError(
                f"{train.images.shape[0]} training and {test.images.shape[0]} test chips: too few",
                path=source,
                hint="use a larger scene or smaller chips",
            )
        with deterministic(seed, threads):
            fit = fit_detector(train, val, epochs=epochs or 30, seed=seed, **hyper)
            metrics: dict[str, Any] = {
                "task": "detection",
                "model": "centernet",
                "seed": seed,
                "splits": {
                    "test": evaluate_detector(fit, test),
                    "validation": evaluate_detector(fit, val),
                    "train": evaluate_detector(fit, train),
                },
            }
        metrics["headline"] = {
            "map50": metrics["splits"]["test"]["map"],
            "split": "test (spatial blocks)",
        }
        metrics["threshold_baseline"] = _threshold(chips)
        import torch

        torch.save(fit.model.state_dict(), tmp / "model.pt")
        run = {
            "task": "detection",
            "model": "centernet",
            "source": str(Path(source).resolve()),
            "labels": labels_rel,
            "seed": seed,
            "threads": threads,
            "categories": fit.categories,
            "mean_db": fit.mean,
            "std_db": fit.std,
            "hyperparameters": fit.hyperparameters,
            "best_epoch": fit.best_epoch,
            "history": fit.history,
            "chips": {
                name: int((chips.split == code).sum())
                for code, name in ((1, "train"), (2, "validation"), (3, "test"))
            },
            "wall_s": time.perf_counter() - clock,
            "cpu_s": time.process_time() - cpu,
            "versions": _versions(),
        }
        (tmp / "run.json").write_text(json.dumps(run, indent=1))
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1))
        _figure(tmp / "detections.png", fit, test)
    return metrics


def _threshold(chips: DetectionChips) -> dict[str, Any]:
    """The fixed-threshold reference (:mod:`sarbd.ml.detection_threshold`) on every split."""
    from sarbd.ml.detection_threshold import evaluate_threshold_detector

    return {
        name: evaluate_threshold_detector(chips.subset(code))
        for code, name in ((3, "test"), (2, "validation"), (1, "train"))
    }


def _load(run_dir: Path) -> tuple[Any, dict[str, Any]]:
    import torch

    from sarbd.ml.detection import CenterNet, DetectorFit

    f = run_dir / "run.json"
    if not f.is_file():
        raise InputError(
            "not a run folder (no run.json)", path=run_dir, hint="create one with `sarbd train`"
        )
    run = json.loads(f.read_text())
    if run.get("task") != "detection":
        raise InputError("not a detection run", path=f)
    model = CenterNet(1, len(run["categories"]), int(run["hyperparameters"]["base"]))
    model.load_state_dict(torch.load(run_dir / "model.pt", weights_only=True))
    model.eval()
    return DetectorFit(
        model,
        run["mean_db"],
        run["std_db"],
        run["categories"],
        run["history"],
        run["best_epoch"],
        run["hyperparameters"],
    ), run


def evaluate_detection_run(
    run_dir: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Re-evaluate a detection run on its labels' test split; rewrites ``metrics.json`` and ``detections.png``."""
    from sarbd.ml.detection import evaluate_detector
    from sarbd.ml.fit import torch_threads

    run_dir = Path(run_dir)
    fit, run = _load(run_dir)
    folder = (
        Path(labels)
        if labels is not None
        else (
            run_dir / run["labels"]
            if not Path(run["labels"]).is_absolute()
            else Path(run["labels"])
        )
    )
    chips = load_detection_dataset(folder)
    with torch_threads(int(run.get("threads", 1))):
        metrics: dict[str, Any] = {
            "task": "detection",
            "model": "centernet",
            "seed": run["seed"],
            "splits": {
                name: evaluate_detector(fit, chips.subset(code))
                for code, name in ((3, "test"), (2, "validation"), (1, "train"))
            },
        }
    metrics["headline"] = {
        "map50": metrics["splits"]["test"]["map"],
        "split": "test (spatial blocks)",
    }
    metrics["threshold_baseline"] = _threshold(chips)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=1))
    _figure(run_dir / "detections.png", fit, chips.subset(3))
    return metrics


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _figure(path: Path, fit: Any, chips: DetectionChips) -> None:
    _save(detections_figure(fit, chips), path)


def _draw(
    ax: Any,
    boxes: Any,
    labels: Any,
    names: list[str],
    color: str,
    dx: float = 0.0,
    dy: float = 0.0,
    scores: Any = None,
    min_score: float = 0.3,
) -> None:
    import matplotlib.pyplot as plt

    for k, ((x0, y0, x1, y1), c) in enumerate(zip(boxes, labels, strict=True)):
        if scores is not None and scores[k] < min_score:
            continue
        ax.add_patch(
            plt.Rectangle(
                (dx + x0 - 0.5, dy + y0 - 0.5),
                x1 - x0,
                y1 - y0,
                fill=False,
                ec=color,
                lw=1.0,
                ls="--" if scores is not None else "-",
            )
        )
        text = names[c] if scores is None else f"{names[c]} {scores[k]:.2f}"
        ax.text(dx + x0, dy + (y0 - 1 if scores is None else y1 + 3), text, color=color, fontsize=5)


def detections_figure(fit: Any, chips: DetectionChips, n: int = 8, min_score: float = 0.3) -> Any:
    """Test chips (sigma0 VV dB) with the reference boxes (green) and detections above ``min_score`` (red)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sarbd.ml.detection import predict

    order = np.argsort([-len(b) for b in chips.boxes], kind="stable")[:n]
    det = predict(fit, chips.images[order]) if order.size else []
    cols = max(1, min(4, order.size))
    rows = max(1, int(np.ceil(order.size / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for k, i in enumerate(order):
        ax = axes.ravel()[k]
        im = ax.imshow(chips.images[i], cmap="gray", vmin=-30, vmax=5)
        _draw(ax, chips.boxes[i], chips.labels[i], chips.categories, "lime")
        _draw(
            ax, det[k][0], det[k][2], chips.categories, "red", scores=det[k][1], min_score=min_score
        )
        ax.set_title(
            f"date {chips.date[i]}, chip ({chips.line0[i]}, {chips.pixel0[i]})", fontsize=7
        )
        ax.set_axis_on()
        ax.set_xlabel("range (looked pixels)", fontsize=6)
        ax.set_ylabel("azimuth (looked lines)", fontsize=6)
        ax.tick_params(labelsize=5)
    if order.size:
        cb = fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6)
        cb.ax.set_ylabel("sigma0 VV (dB)", fontsize=7)
    fig.suptitle(
        f"test chips: reference boxes green, detections (score >= {min_score}) red dashed",
        fontsize=8,
    )
    return fig


def scene_figure(fit: Any, chips: DetectionChips, date: int = 0, min_score: float = 0.3) -> Any:
    """One date's sea chips put back in place: sigma0 VV dB, reference boxes, detections, chips outlined by split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sarbd.ml.detection import predict

    idx = np.flatnonzero(chips.date == date)
    if idx.size == 0:
        raise InputError(f"no chip of date {date}")
    s = chips.images.shape[-1]
    l1, p1 = int(chips.line0[idx].max()) + s, int(chips.pixel0[idx].max()) + s
    l0, p0 = int(chips.line0[idx].min()), int(chips.pixel0[idx].min())
    canvas = np.full((l1 - l0, p1 - p0), np.nan, np.float32)
    det = predict(fit, chips.images[idx])
    fig, ax = plt.subplots(figsize=(8, 8 * (l1 - l0) / max(p1 - p0, 1) + 1.5))
    for i in idx:
        dy, dx = int(chips.line0[i]) - l0, int(chips.pixel0[i]) - p0
        canvas[dy : dy + s, dx : dx + s] = chips.images[i]
    im = ax.imshow(canvas, cmap="gray", vmin=-30, vmax=5, interpolation="nearest")
    colours = {1: "#4c72b0", 2: "#dd8452", 3: "#c44e52"}
    for k, i in enumerate(idx):
        dy, dx = int(chips.line0[i]) - l0, int(chips.pixel0[i]) - p0
        ax.add_patch(
            plt.Rectangle(
                (dx - 0.5, dy - 0.5),
                s,
                s,
                fill=False,
                ec=colours.get(int(chips.split[i]), "w"),
                lw=1.5 if chips.split[i] == 3 else 0.6,
            )
        )
        _draw(ax, chips.boxes[i], chips.labels[i], chips.categories, "lime", dx, dy)
        _draw(
            ax,
            det[k][0],
            det[k][2],
            chips.categories,
            "red",
            dx,
            dy,
            scores=det[k][1],
            min_score=min_score,
        )
    ax.set_title(
        f"date {date}: sea chips (outline: blue train, orange validation, red test)", fontsize=8
    )
    ax.set_xlabel(f"range (looked pixels from {p0})")
    ax.set_ylabel(f"azimuth (looked lines from {l0})")
    cb = fig.colorbar(im, ax=ax, shrink=0.6)
    cb.ax.set_ylabel("sigma0 VV (dB)")
    return fig


def detection_summary(metrics: dict[str, Any]) -> str:
    """A text table of a detection run's metrics."""
    lines = [
        f"task detection  model {metrics.get('model')}  seed {metrics.get('seed')}",
        f"headline (spatial test split): mAP@0.5 {_f(metrics['headline']['map50'])}",
        "",
        f"{'split':<11} {'chips':>6} {'mAP@0.5':>8} "
        + " ".join(f"{'AP ' + c:>14} {'n_gt':>5}" for c in metrics["splits"]["test"]["per_class"]),
    ]
    for name in ("test", "validation", "train"):
        s = metrics["splits"].get(name)
        if not s:
            continue
        row = f"{name:<11} {s['n_chips']:>6} {_f(s['map']):>8} "
        row += " ".join(f"{_f(v['ap']):>14} {v['n_gt']:>5}" for v in s["per_class"].values())
        lines.append(row)
    thr = metrics.get("threshold_baseline", {}).get("test")
    if thr:
        lines.append(
            f"{'thresholds':<11} {thr['n_chips']:>6} {_f(thr['map']):>8} "
            + " ".join(f"{_f(v['ap']):>14} {v['n_gt']:>5}" for v in thr["per_class"].values())
            + "  (test, no learning)"
        )
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
