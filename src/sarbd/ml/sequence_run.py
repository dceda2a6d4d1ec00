"""``sarbd train --task sequence``: a temporal 1-D CNN on per-pixel series against the
temporal-statistics random forest, per label level, on the same spatial split.

``RUN/`` layout::

    run.json                   task, dataset, layout, levels, seed, hparams, histories, timings
    sequence_<level>.pt        TemporalCNN state_dict; its normalisation is in run.json
    temporal_rf_<level>/       the random forest on the dataset's temporal signatures (model.joblib)
    metrics.json               per level: both models' metrics on the test split (split 3)
    confusion_matrix.png       per level: CNN | forest
    class_mean_series.png      class-mean time series (+- 1 std) of each feature, training split

Both models see exactly the labelled pixels of split 1 (training), pick their epoch / are
validated on split 2 and are scored on split 3 -- the split of the land-cover task.
The forest's inputs are the ``temporal`` feature set of :mod:`sarbd.ml.data` (mean
backscatter in dB, CV, amplitude dispersion, mean coherence ...), the AlignSAR temporal
statistics; the CNN's are the layout's per-date series.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sarbd.errors import InputError
from sarbd.ml.data import SPLIT_TEST, SPLIT_TRAIN, SPLIT_VALIDATION, ClassInfo, open_sarbd
from sarbd.ml.fit import fit_model, load_model, torch_threads
from sarbd.ml.metrics import classification_metrics
from sarbd.ml.protocols import spatial_protocol
from sarbd.ml.sequence import (
    SequenceData,
    SequenceDataset,
    SequenceNorm,
    TemporalCNN,
    fit_sequence_model,
    predict_sequences,
)
from sarbd.utils.files import atomic_output

__all__ = ["evaluate_sequence_run", "sequence_summary", "train_sequence_run"]


def _layout(dataset: Path, rebuild: bool = False) -> Path:
    """``DATASET/timeseries.zarr``, written first if missing (or older than ``dataset.zarr``)."""
    from sarbd.dataset.timeseries import write_timeseries

    ts = dataset / "timeseries.zarr"
    src = dataset / "dataset.zarr"
    if not src.exists():
        raise InputError(
            "no dataset.zarr found", path=src, hint="give a SARbd dataset folder (`sarbd build`)"
        )
    if rebuild or not ts.exists() or ts.stat().st_mtime < src.stat().st_mtime:
        write_timeseries(dataset, ts)
    return ts


def train_sequence_run(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    threads: int = 1,
    epochs: int | None = None,
    levels: tuple[str, ...] = ("L2", "L3"),
    n_estimators: int | None = None,
    **extra: Any,
) -> dict:
    """Train the temporal CNN and the temporal-statistics forest per level; write ``out``.

    Parameters
    ----------
    source
        SARbd dataset folder; ``timeseries.zarr`` is written into it if missing.
    out
        Run folder (replaced if present).
    seed, threads
        Determinism: same seed and threads, same weights and metrics.
    epochs
        CNN epochs (default :data:`sarbd.ml.sequence.SEQ_DEFAULTS`).
    levels
        Label levels, each trained separately.
    n_estimators
        Trees of the forest (default 100).
    extra
        CNN hyperparameters (batch_size, lr, width, dropout, samples_per_epoch); other
        keys of the shared CLI (``looks``, ``chip_size``) are ignored.
    """
    dataset, out = Path(source), Path(out)
    hp = {
        k: extra[k]
        for k in ("batch_size", "lr", "width", "dropout", "samples_per_epoch")
        if k in extra
    }
    t0 = time.perf_counter()
    ts = _layout(dataset)
    seq = SequenceData(ts)
    data = open_sarbd(dataset, "temporal")
    with atomic_output(out, directory=True) as tmp:
        run: dict[str, Any] = {
            "task": "sequence",
            "dataset": str(dataset.resolve()),
            "timeseries": str(ts.resolve()),
            "seed": seed,
            "threads": threads,
            "features": seq.features,
            "days": seq.days.tolist(),
            "stat_features": data.feature_names,
            "levels": {},
            "timings_s": {},
        }
        for level in levels:
            classes = data.classes(level)
            t = time.perf_counter()
            train = SequenceDataset(seq, level, SPLIT_TRAIN, classes)
            val = SequenceDataset(seq, level, SPLIT_VALIDATION, classes, train.norm)
            fitted = fit_sequence_model(
                train, val, classes.n, seed=seed, threads=threads, epochs=epochs, **hp
            )
            torch.save(fitted.net.state_dict(), tmp / f"sequence_{level}.pt")
            run["timings_s"][f"cnn_{level}"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            proto = spatial_protocol(data, level)
            rf, _ = fit_model(
                data,
                "rf",
                level,
                proto.train,
                proto.val,
                seed=seed,
                threads=threads,
                n_estimators=n_estimators,
            )
            rf.save(tmp / f"temporal_rf_{level}")
            run["timings_s"][f"rf_{level}"] = round(time.perf_counter() - t, 3)
            run["levels"][level] = {
                "classes": classes.to_dict(),
                "norm": train.norm.to_dict(),
                "hparams": fitted.hparams,
                "history": fitted.history,
                "best_epoch": fitted.best_epoch,
                "n_train": len(train),
                "n_validation": len(val),
                "cnn_parameters": int(sum(p.numel() for p in fitted.net.parameters())),
            }
        (tmp / "run.json").write_text(json.dumps(run, indent=2, default=str))
        _evaluate(tmp, dataset, run)
        run["timings_s"]["total"] = round(time.perf_counter() - t0, 3)
        (tmp / "run.json").write_text(json.dumps(run, indent=2, default=str))
    return json.loads((out / "metrics.json").read_text())


def _load_cnn(run_dir: Path, level: str, info: dict, n_features: int) -> TemporalCNN:
    hp = info["hparams"]
    net = TemporalCNN(
        n_features, len(info["classes"]["ids"]), int(hp["width"]), float(hp["dropout"])
    )
    net.load_state_dict(torch.load(run_dir / f"sequence_{level}.pt", weights_only=True))
    net.eval()
    return net


def evaluate_sequence_run(
    run_dir: str | os.PathLike[str], dataset: str | os.PathLike[str] | None = None
) -> dict:
    """Re-score a sequence run on its dataset's test split; rewrites metrics and figures."""
    run_dir = Path(run_dir)
    f = run_dir / "run.json"
    run = json.loads(f.read_text()) if f.is_file() else {}
    if run.get("task") != "sequence":
        raise InputError(
            "not a sequence run folder", path=run_dir, hint="`sarbd train --task sequence`"
        )
    return _evaluate(run_dir, Path(dataset or run["dataset"]), run)


def _evaluate(run_dir: Path, dataset: Path, run: dict) -> dict:
    from sarbd.ml import outputs

    seq = SequenceData(_layout(dataset))
    if seq.features != run["features"]:
        raise InputError("the layout's features differ from the run's", path=seq.zarr)
    data = open_sarbd(dataset, run["stat_features"])
    result: dict[str, Any] = {
        "task": "sequence",
        "seed": run["seed"],
        "dataset": str(dataset),
        "features": seq.features,
        "stat_features": run["stat_features"],
        "levels": {},
    }
    panels: dict[str, dict] = {}
    with torch_threads(int(run.get("threads", 1))):
        for level, info in run["levels"].items():
            classes = ClassInfo.from_dict(info["classes"])
            test = SequenceDataset(
                seq, level, SPLIT_TEST, classes, SequenceNorm.from_dict(info["norm"])
            )
            net = _load_cnn(run_dir, level, info, len(seq.features))
            pred = (
                np.asarray(classes.ids)[predict_sequences(net, test.x)]
                if len(test)
                else np.zeros(0, int)
            )
            m_cnn = classification_metrics(test.labels, pred, classes)
            rf = load_model(run_dir / f"temporal_rf_{level}")
            px = data.pixels(level, spatial_protocol(data, level).test)
            if not (np.array_equal(px.rows, test.rows) and np.array_equal(px.cols, test.cols)):
                raise InputError(
                    "timeseries.zarr and dataset.zarr disagree on the test pixels",
                    path=seq.zarr,
                    hint="rewrite the layout (delete timeseries.zarr)",
                )
            m_rf = classification_metrics(px.labels, rf.predict_pixels(px.X), classes)
            result["levels"][level] = {
                "temporal_cnn": m_cnn,
                "temporal_stats_rf": m_rf,
                "n_test": len(test),
                "best_epoch": info["best_epoch"],
            }
            panels[f"{level}: temporal 1-D CNN"] = m_cnn
            panels[f"{level}: temporal-statistics RF"] = m_rf
        outputs.write_json(run_dir / "metrics.json", result)
        first = next(iter(run["levels"].values()))
        outputs.plot_confusion(
            run_dir / "confusion_matrix.png", panels, ClassInfo.from_dict(first["classes"])
        )
        level0 = next(iter(run["levels"]))
        class_mean_figure(
            run_dir / "class_mean_series.png", seq, level0, ClassInfo.from_dict(first["classes"])
        )
    return result


def class_mean_series(
    seq: SequenceData, level: str, classes: ClassInfo
) -> tuple[np.ndarray, np.ndarray]:
    """Class mean and std ``(n_classes, time, feature)`` over the training split (NaN ignored)."""
    labels = seq.labels(level)
    mean = np.full((classes.n, seq.days.size, len(seq.features)), np.nan, np.float32)
    std = mean.copy()
    keep = (labels > 0) & (seq.split() == SPLIT_TRAIN)
    for k, cid in enumerate(classes.ids):
        rows, cols = np.nonzero(keep & (labels == cid))
        if rows.size:
            x = seq.gather(rows, cols)
            with np.errstate(all="ignore"):
                mean[k], std[k] = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    return mean, std


def class_mean_figure(path: Path, seq: SequenceData, level: str, classes: ClassInfo) -> None:
    """One panel per feature: class-mean series (+- 1 std) against days since the reference."""
    import warnings

    from sarbd.ml.outputs import _cmap, _plt

    plt = _plt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, std = class_mean_series(seq, level, classes)
    nf = len(seq.features)
    ncol = min(nf, 4)
    nrow = -(-nf // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow), squeeze=False)
    colors = _cmap(classes)[0].colors
    for j, name in enumerate(seq.features):
        ax = axes.flat[j]
        for k, cname in enumerate(classes.names):
            ax.plot(seq.days, mean[k, :, j], marker="o", ms=3, color=colors[k + 1], label=cname)
            ax.fill_between(
                seq.days,
                mean[k, :, j] - std[k, :, j],
                mean[k, :, j] + std[k, :, j],
                color=colors[k + 1],
                alpha=0.15,
            )
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("days since reference", fontsize=8)
    for ax in list(axes.flat)[nf:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"class-mean time series ({level}, training split, +- 1 std)", fontsize=10)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _f(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def sequence_table_rows(metrics: dict) -> list[list[Any]]:
    """Rows ``[level, model, n_test, macro F1, OA, kappa]`` of a sequence run's metrics."""
    rows: list[list[Any]] = []
    for level, m in metrics["levels"].items():
        for key, name in (
            ("temporal_cnn", "temporal 1-D CNN (series)"),
            ("temporal_stats_rf", "random forest (temporal stats)"),
        ):
            s = m[key]
            rows.append(
                [
                    level,
                    name,
                    s["n_pixels"],
                    s.get("macro_f1"),
                    s.get("overall_accuracy"),
                    s.get("cohen_kappa"),
                ]
            )
    return rows


def sequence_summary(metrics: dict) -> str:
    """A plain-text table: per level and model, macro F1, OA and kappa on the test split."""
    lines = [
        f"sequence task  seed {metrics['seed']}  features {', '.join(metrics['features'])}",
        f"{'level':<6}{'model':<30}{'n_test':>8}{'macro F1':>10}{'OA':>8}{'kappa':>8}",
    ]
    for level, name, n, f1, oa, kappa in sequence_table_rows(metrics):
        lines.append(f"{level:<6}{name:<30}{n:>8}{_f(f1):>10}{_f(oa):>8}{_f(kappa):>8}")
    return "\n".join(lines)
