"""A training run: train a baseline under both protocols, evaluate, write everything to RUN/.

``RUN/`` layout (all written atomically)::

    run.json                 settings, dataset path, class list, pixel counts, history, timings, versions
    model.pt | model.joblib  the spatial-protocol model (torch state_dict / joblib)
    preprocess.json          classes, features, channels, normalisation statistics, hyperparameters
    train_pixels.npz         (line, pixel) of every training / validation label used; U-Net chip windows
    random_pixel/            the random-pixel-protocol model + pixels.npz (its train/val/test pixels)
    metrics.json             both protocols side by side, pixels per class, feature importance
    confusion_matrix.png     spatial | random-pixel confusion matrices
    predicted_labels.png     reference vs predicted map, test area outlined
    predicted_labels.zarr    predicted_label(line, pixel), uint8 class ids
    feature_importance.json/.png   permutation importance on the test split (ann, rf)
    item.json                STAC item, mlm extension v1.3.0
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sarbd.errors import InputError
from sarbd.ml.data import LEVELS, ClassInfo, SarbdData, open_sarbd
from sarbd.ml.fit import MODELS, fit_model, load_model, torch_threads
from sarbd.ml.metrics import classification_metrics, permutation_importance
from sarbd.ml.protocols import Protocol, random_pixel_protocol, spatial_protocol
from sarbd.utils.files import atomic_output
from sarbd.utils.log import get_logger

__all__ = ["evaluate_run", "format_summary", "train_run"]

log = get_logger(__name__)


def _versions() -> dict[str, str]:
    import sklearn
    import torch

    from sarbd import __version__

    return {
        "sarbd": __version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _counts(labels: np.ndarray, mask: np.ndarray, classes: ClassInfo) -> dict[str, int]:
    vals = labels[mask]
    return {n: int((vals == i).sum()) for i, n in zip(classes.ids, classes.names, strict=True)}


def _mask_from_coords(data: SarbdData, line: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    m = np.zeros(data.shape, bool)
    if line.size:
        r, c = data.positions(np.asarray(line, np.int64), np.asarray(pixel, np.int64))
        m[r, c] = True
    return m


def train_run(
    dataset: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    model: str = "ann",
    level: str = "L3",
    seed: int = 0,
    threads: int = 1,
    random_protocol: bool = True,
    chip_size: int | None = None,
    features: Sequence[str] | str = "temporal",
    importance_repeats: int = 5,
    **hparams: Any,
) -> dict:
    """Train ``model`` on ``dataset`` (spatial protocol, plus the random-pixel protocol for
    comparison), evaluate both, write ``out/`` and return the metrics dict.

    Parameters
    ----------
    dataset
        SARbd dataset folder.
    out
        Run folder to create (replaced if it exists).
    model
        ``ann``, ``rf`` or ``unet``.
    level
        Label level to train on (``L1``/``L2``/``L3``).
    seed, threads
        Determinism: same seed and threads give the same metrics.
    random_protocol
        Also train and evaluate under the paper's random-pixel protocol.
    chip_size
        U-Net chip index to use (default: the smallest).
    features
        Input features: a named set (``"temporal"``, the default: signatures without a time
        dimension; ``"all"``) or a list of names (:class:`sarbd.ml.data.SarbdData`).
    importance_repeats
        Shuffles per feature for permutation importance (0: skip).
    hparams
        Model hyperparameters (epochs, batch_size, lr, dropout, n_estimators, base, depth).
    """
    level = level.upper()
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}", hint=f"use one of {', '.join(MODELS)}")
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", hint="use L1, L2 or L3")
    data = open_sarbd(dataset, features)
    out = Path(out)
    t0 = time.perf_counter()
    protocols = [spatial_protocol(data, level)]
    if random_protocol:
        protocols.append(random_pixel_protocol(data, level, seed))
    with atomic_output(out, directory=True) as tmp:
        run: dict[str, Any] = {
            "model": model,
            "level": level,
            "seed": seed,
            "threads": threads,
            "dataset": str(data.root.resolve()),
            "features": data.feature_names,
            "classes": data.classes(level).to_dict(),
            "chip_size": chip_size,
            "versions": _versions(),
            "timings_s": {},
            "protocols": {},
        }
        for proto in protocols:
            t = time.perf_counter()
            fitted, record = fit_model(
                data,
                model,
                level,
                proto.train,
                proto.val,
                seed=seed,
                threads=threads,
                chip_size=chip_size,
                chip_split=proto.chip_split,
                **hparams,
            )
            run["timings_s"][f"train_{proto.name}"] = round(time.perf_counter() - t, 3)
            folder = tmp if proto.name == "spatial" else tmp / "random_pixel"
            files = fitted.save(folder)
            arrays = {k: np.asarray(v) for k, v in record.items()}
            if proto.name == "spatial":
                np.savez_compressed(tmp / "train_pixels.npz", **arrays)  # type: ignore[arg-type]
            else:
                rows, cols = np.nonzero(proto.test)
                arrays.update(test_line=data.line[rows], test_pixel=data.pixel[cols])
                np.savez_compressed(folder / "pixels.npz", **arrays)  # type: ignore[arg-type]
            run["protocols"][proto.name] = {
                "files": files,
                "hparams": fitted.hparams,
                "history": fitted.history,
                "n_train": int(record["train_line"].size),
                "n_validation": int(record["val_line"].size),
            }
            run["hparams"] = fitted.hparams
        (tmp / "run.json").write_text(json.dumps(run, indent=2, default=str))
        evaluate_run(tmp, data=data, importance_repeats=importance_repeats)
        run["timings_s"]["total"] = round(time.perf_counter() - t0, 3)
        (tmp / "run.json").write_text(json.dumps(run, indent=2, default=str))
    return json.loads((out / "metrics.json").read_text())


def evaluate_run(
    run_dir: str | os.PathLike[str],
    dataset: str | os.PathLike[str] | None = None,
    *,
    data: SarbdData | None = None,
    importance_repeats: int = 5,
    write: bool = True,
) -> dict:
    """Evaluate the models of a run folder; write metrics, figures, label map and STAC item.

    The spatial model is evaluated on the dataset's test split (split 3) at the run's
    level; the random-pixel model on its own held-out random pixels (``random_pixel/pixels.npz``).
    PyTorch runs on the run's thread count.
    """
    run_dir = Path(run_dir)
    run_file = run_dir / "run.json"
    if not run_file.exists():
        raise InputError(
            "not a run folder (no run.json)", path=run_dir, hint="create one with `sarbd train`"
        )
    threads = int(json.loads(run_file.read_text()).get("threads", 1))
    with torch_threads(threads):
        return _evaluate(run_dir, dataset, data, importance_repeats, write)


def _evaluate(
    run_dir: Path,
    dataset: str | os.PathLike[str] | None,
    data: SarbdData | None,
    importance_repeats: int,
    write: bool,
) -> dict:
    from sarbd.ml import outputs

    run = json.loads((run_dir / "run.json").read_text())
    fitted = load_model(run_dir)
    if data is None:
        data = open_sarbd(dataset or run["dataset"], fitted.preprocessor.features)
    level = run["level"]
    classes = fitted.classes
    if data.classes(level) != classes:
        raise InputError(f"the dataset's {level} classes differ from the model's", path=data.zarr)
    labels = data.labels(level)
    spatial: Protocol = spatial_protocol(data, level)
    pred_map = fitted.predict_map(data)
    m_spatial = classification_metrics(labels[spatial.test], pred_map[spatial.test], classes)
    rec = np.load(run_dir / "train_pixels.npz")
    train_used = _mask_from_coords(data, rec["train_line"], rec["train_pixel"])
    val_used = _mask_from_coords(data, rec["val_line"], rec["val_pixel"])
    overlap = int((train_used & spatial.test).sum() + (val_used & spatial.test).sum())
    m_spatial.update(
        n_train_per_class=_counts(labels, train_used, classes),
        n_validation_per_class=_counts(labels, val_used, classes),
        n_test_per_class=_counts(labels, spatial.test, classes),
        test_pixels_seen_in_training=overlap,
    )
    result: dict[str, Any] = {
        "model": run["model"],
        "level": level,
        "seed": run["seed"],
        "dataset": str(data.root),
        "headline": {
            "protocol": "spatial",
            **{
                k: m_spatial.get(k)
                for k in (
                    "macro_f1",
                    "overall_accuracy",
                    "cohen_kappa",
                    "n_pixels",
                    "headline_classes",
                )
            },
        },
        "protocols": {"spatial": m_spatial},
    }
    rp_dir = run_dir / "random_pixel"
    if (rp_dir / "preprocess.json").exists():
        rp_model = load_model(rp_dir)
        rp = np.load(rp_dir / "pixels.npz")
        test = _mask_from_coords(data, rp["test_line"], rp["test_pixel"])
        if rp_model.is_pixel_model:
            px = data.pixels(level, test)
            pred, ref = rp_model.predict_pixels(px.X), px.labels
        else:
            pm = rp_model.predict_map(data)
            pred, ref = pm[test], labels[test]
        m_rand = classification_metrics(ref, pred, classes)
        m_rand.update(
            n_train_per_class=_counts(
                labels, _mask_from_coords(data, rp["train_line"], rp["train_pixel"]), classes
            ),
            n_validation_per_class=_counts(
                labels, _mask_from_coords(data, rp["val_line"], rp["val_pixel"]), classes
            ),
            n_test_per_class=_counts(labels, test, classes),
        )
        result["protocols"]["random_pixel"] = m_rand
    if fitted.is_pixel_model and importance_repeats > 0 and spatial.test.any():
        px = data.pixels(level, spatial.test)
        result["feature_importance"] = permutation_importance(
            fitted.predict_pixels,
            px.X,
            px.labels,
            classes,
            px.features,
            n_repeats=importance_repeats,
            seed=run["seed"],
        )
    if write:
        assets = {
            "model": run["protocols"]["spatial"]["files"][0],
            "preprocess": "preprocess.json",
            "metrics": "metrics.json",
            "confusion_matrix": "confusion_matrix.png",
            "predicted_labels": "predicted_labels.zarr",
            "predicted_labels_figure": "predicted_labels.png",
        }
        outputs.write_json(run_dir / "metrics.json", result)
        outputs.plot_confusion(
            run_dir / "confusion_matrix.png",
            {
                f"spatial test split ({level})": m_spatial,
                **(
                    {"random-pixel protocol (leaks)": result["protocols"]["random_pixel"]}
                    if "random_pixel" in result["protocols"]
                    else {}
                ),
            },
            classes,
        )
        outputs.plot_label_map(
            run_dir / "predicted_labels.png",
            pred_map,
            labels,
            data.split() == 3,
            classes,
            f"{run['model']} prediction (test split outlined)",
        )
        outputs.write_label_map(run_dir / "predicted_labels.zarr", data, pred_map, classes)
        if "feature_importance" in result:
            outputs.write_json(run_dir / "feature_importance.json", result["feature_importance"])
            outputs.plot_importance(
                run_dir / "feature_importance.png", result["feature_importance"]
            )
            assets.update(
                feature_importance="feature_importance.json",
                feature_importance_figure="feature_importance.png",
            )
        item = outputs.stac_item(fitted, data, run, result, assets)
        outputs.write_json(run_dir / "item.json", item)
    return result


def _f(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.3f}"


def format_summary(metrics: dict) -> str:
    """A plain-text table: per class, pixel counts and P/R/F1 under both protocols."""
    sp = metrics["protocols"]["spatial"]
    rp = metrics["protocols"].get("random_pixel")
    lines = [
        f"model {metrics['model']}  level {metrics['level']}  seed {metrics['seed']}",
        f"headline (spatial test split, macro over {', '.join(sp.get('headline_classes', []))}): "
        f"F1 {_f(sp.get('macro_f1')).strip()}  OA {_f(sp.get('overall_accuracy')).strip()}  "
        f"kappa {_f(sp.get('cohen_kappa')).strip()}",
        "",
        f"{'class':<14}{'n_train':>8}{'n_test':>8}{'P':>7}{'R':>7}{'F1':>7}"
        + (f" | {'n_test':>7}{'P':>7}{'R':>7}{'F1':>7}  (random-pixel)" if rp else ""),
    ]
    for name, c in sp.get("per_class", {}).items():
        row = (
            f"{name:<14}{sp['n_train_per_class'][name]:>8}{c['support']:>8}"
            f"{_f(c['precision'])}{_f(c['recall'])}{_f(c['f1'])}"
        )
        if rp:
            r = rp["per_class"][name]
            row += f" | {r['support']:>7}{_f(r['precision'])}{_f(r['recall'])}{_f(r['f1'])}"
        lines.append(row)
    for key, label in (
        ("overall_accuracy", "OA"),
        ("cohen_kappa", "kappa"),
        ("macro_f1", "macro F1"),
    ):
        row = f"{label:<14}{'':>8}{sp.get('n_pixels', 0):>8}{'':>14}{_f(sp.get(key))}"
        if rp:
            row += f" | {rp.get('n_pixels', 0):>7}{'':>14}{_f(rp.get(key))}"
        lines.append(row)
    if "feature_importance" in metrics:
        imp = metrics["feature_importance"]
        top = ", ".join(
            f"{f} {v:.3f}"
            for f, v in zip(imp["features"][:5], imp["importance_mean"][:5], strict=False)
        )
        lines += ["", f"permutation importance (drop of test macro F1): {top}"]
    return "\n".join(lines)
