"""``sarbd train --task change``: pair labels -> Siamese baseline -> F1 and kappa of the change class.

The source is a simulated scene with changes (its labels are written to ``RUN/labels``
by :func:`sarbd.dataset.change_labels.build_change_dataset`) or a change label folder
written before (``chips.npz``). The network trains on the ``level`` labels (L3 by
default) of the training chips; every split is scored against the simulator's truth
(the headline: test split) and against the L3 labels. Beside it, a non-learned
log-ratio threshold (``|10 log10(I2/I1)| >= ratio_db`` in VV or VH after a 3 x 3 mean)
is scored on the same test chips. Note that L3 is defined with that same log-ratio
evidence, so the threshold's score against L3 is optimistic by construction; its score
against the truth is the fair one.

Run folder: ``run.json``, ``model.pt`` (``state_dict``), ``metrics.json``,
``change_map.png`` (one pair: both dates, truth, L3 and the prediction).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.dataset.change_labels import ChangeChips, build_change_dataset, load_change_dataset
from sarbd.errors import InputError
from sarbd.utils.files import atomic_output

__all__ = [
    "change_figure",
    "change_summary",
    "evaluate_change_run",
    "threshold_change",
    "train_change_run",
]

_SPLITS = ((3, "test"), (2, "validation"), (1, "train"))


def _chips(
    source: Path, labels_dir: Path, chip_size: int, looks: tuple[int, int], seed: int
) -> tuple[ChangeChips, Path]:
    if (source / "truth" / "changes" / "changes.json").is_file():
        return build_change_dataset(
            source, labels_dir, chip_size=chip_size, looks=looks, seed=seed
        ), labels_dir
    if (source / "chips.npz").is_file():
        return load_change_dataset(source), source
    raise InputError(
        "neither a simulated scene with changes nor a change label folder",
        path=source,
        hint="simulate one with `sarbd simulate --changes`",
    )


def threshold_change(chips: ChangeChips, ratio_db: float) -> NDArray[np.bool_]:
    """The non-learned reference: ``|log-ratio| >= ratio_db`` (VV or VH) of the 3 x 3-mean intensities per chip."""
    from sarbd.filters import boxcar

    def smooth(db: NDArray[np.float32]) -> NDArray[np.float64]:
        lin = 10.0 ** (db.astype(np.float64) / 10.0)
        return np.asarray(boxcar(lin, 3, edges="nearest", nan="propagate"))

    lr = 10.0 * np.log10(smooth(chips.after) / smooth(chips.before))
    return np.asarray((np.abs(lr) >= ratio_db).any(axis=1))


def _scores(fit: Any, chips: ChangeChips, ratio_db: float) -> dict[str, Any]:
    from sarbd.ml.change import evaluate_change
    from sarbd.ml.change_metrics import binary_confusion, change_scores

    out: dict[str, Any] = {"splits": {}, "threshold_baseline": {}}
    for code, name in _SPLITS:
        sub = chips.subset(code)
        out["splits"][name] = {lev: evaluate_change(fit, sub, lev) for lev in ("truth", "L3")}
        pred = threshold_change(sub, ratio_db)
        out["threshold_baseline"][name] = {
            lev: {
                **change_scores(binary_confusion(sub.labels(lev), pred)),
                "n_chips": int(sub.before.shape[0]),
            }
            for lev in ("truth", "L3")
        }
    # labels built from real data (`sarbd build`) have no truth (all -1): the headline is L3 there
    has_truth = bool((chips.truth >= 0).any())
    t = out["splits"]["test"]["truth" if has_truth else "L3"]
    out["headline"] = {
        "f1": t["f1"],
        "kappa": t["kappa"],
        "split": "test (spatial blocks), against the "
        + ("truth" if has_truth else "L3 labels (no truth in these labels)"),
    }
    return out


def train_change_run(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    threads: int = 1,
    epochs: int | None = None,
    chip_size: int = 16,
    looks: tuple[int, int] = (2, 2),
    level: str = "L3",
    **hyper: Any,
) -> dict[str, Any]:
    """Build (or read) the change labels, train the Siamese network, evaluate and write the run folder."""
    import torch

    from sarbd.ml.change import fit_change
    from sarbd.ml.detection_run import _versions
    from sarbd.ml.fit import deterministic

    out = Path(out)
    clock, cpu = time.perf_counter(), time.process_time()
    with atomic_output(out, directory=True) as tmp:
        chips, labels = _chips(Path(source), tmp / "labels", chip_size, looks, seed)
        meta = json.loads((labels / "labels.json").read_text())
        labels_rel = "labels" if labels == tmp / "labels" else str(Path(labels).resolve())
        train, val, test = chips.subset(1), chips.subset(2), chips.subset(3)
        if train.before.shape[0] == 0 or test.before.shape[0] == 0:
            raise InputError(
                f"{train.before.shape[0]} training and {test.before.shape[0]} test chips: too few",
                path=source,
                hint="use a larger scene or smaller chips",
            )
        with deterministic(seed, threads):
            fit = fit_change(
                train, val, level=level.upper(), epochs=epochs or 30, seed=seed, **hyper
            )
            metrics = {
                "task": "change",
                "model": "siamese",
                "seed": seed,
                "level": level.upper(),
                **_scores(fit, chips, float(meta["ratio_db"])),
            }
        torch.save(fit.model.state_dict(), tmp / "model.pt")
        run = {
            "task": "change",
            "model": "siamese",
            "source": str(Path(source).resolve()),
            "labels": labels_rel,
            "seed": seed,
            "threads": threads,
            "mean_db": fit.mean,
            "std_db": fit.std,
            "hyperparameters": fit.hyperparameters,
            "best_epoch": fit.best_epoch,
            "history": fit.history,
            "chips": {name: int((chips.split == code).sum()) for code, name in _SPLITS},
            "wall_s": time.perf_counter() - clock,
            "cpu_s": time.process_time() - cpu,
            "versions": _versions(),
        }
        (tmp / "run.json").write_text(json.dumps(run, indent=1))
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1))
        _save(change_figure(fit, labels), tmp / "change_map.png")
    return metrics


def _load(run_dir: Path) -> tuple[Any, dict[str, Any], Path]:
    import torch

    from sarbd.ml.change import ChangeFit, SiameseChangeNet

    f = run_dir / "run.json"
    if not f.is_file():
        raise InputError(
            "not a run folder (no run.json)", path=run_dir, hint="create one with `sarbd train`"
        )
    run = json.loads(f.read_text())
    if run.get("task") != "change":
        raise InputError("not a change run", path=f)
    model = SiameseChangeNet(len(run["mean_db"]), int(run["hyperparameters"]["base"]))
    model.load_state_dict(torch.load(run_dir / "model.pt", weights_only=True))
    model.eval()
    labels = Path(run["labels"]) if Path(run["labels"]).is_absolute() else run_dir / run["labels"]
    return (
        ChangeFit(
            model,
            run["mean_db"],
            run["std_db"],
            run["history"],
            run["best_epoch"],
            run["hyperparameters"],
        ),
        run,
        labels,
    )


def evaluate_change_run(
    run_dir: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Re-evaluate a change run on its labels; rewrites ``metrics.json`` and ``change_map.png``."""
    from sarbd.ml.fit import torch_threads

    run_dir = Path(run_dir)
    fit, run, folder = _load(run_dir)
    folder = Path(labels) if labels is not None else folder
    chips = load_change_dataset(folder)
    meta = json.loads((folder / "labels.json").read_text())
    with torch_threads(int(run.get("threads", 1))):
        metrics = {
            "task": "change",
            "model": "siamese",
            "seed": run["seed"],
            "level": run["hyperparameters"]["level"],
            **_scores(fit, chips, float(meta["ratio_db"])),
        }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=1))
    _save(change_figure(fit, folder), run_dir / "change_map.png")
    return metrics


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def change_figure(fit: Any, labels: Path, pair: int = 0) -> Any:
    """One pair on the whole looked grid: VV of both dates, truth, L3 labels, predicted change; test blocks outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sarbd.ml.change import predict_change

    with np.load(labels / "maps.npz") as z:
        m = {k: z[k] for k in z.files}
    meta = json.loads((labels / "labels.json").read_text())
    b, a, coh = m[f"before_{pair}"], m[f"after_{pair}"], m[f"coherence_{pair}"]
    s = int(meta["chip_size"])
    L, W = (b.shape[1] // s) * s, (b.shape[2] // s) * s
    whole = ChangeChips(
        b[None, :, :L, :W],
        a[None, :, :L, :W],
        coh[None, :L, :W],
        *(np.zeros((1, L, W), np.int8),) * 3,
        np.zeros(1, np.int64),
        np.zeros(1, np.int64),
        np.zeros(1, np.int64),
        np.zeros(1, np.int64),
    )
    prob = predict_change(fit, whole)[0]
    i, j = meta["pairs"][pair]
    panels = [
        (b[0], f"sigma0 VV date {i} (dB)", "gray", (-30, 5)),
        (a[0], f"sigma0 VV date {j} (dB)", "gray", (-30, 5)),
        (m[f"truth_{pair}"], "truth change", "viridis", (-1, 1)),
        (m[f"l3_{pair}"], "L3 labels (-1 ignored)", "viridis", (-1, 1)),
        (prob >= 0.5, "Siamese prediction", "viridis", (-1, 1)),
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.2 * len(panels)))
    split = m["split"]
    for ax, (img, title, cmap, (vmin, vmax)) in zip(axes, panels, strict=True):
        ax.imshow(
            np.asarray(img, float)[:L, :W], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
        )
        ax.contour(split[:L, :W] == 3, levels=[0.5], colors="red", linewidths=0.6)
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    fig.suptitle(f"change pair {i}-{j} (looked grid; red outline: test blocks)", fontsize=9)
    fig.tight_layout()
    return fig


def change_summary(metrics: dict[str, Any]) -> str:
    """A text table of a change run's metrics."""
    h = metrics["headline"]
    lines = [
        f"task change  model {metrics.get('model')}  level {metrics.get('level')}  seed {metrics.get('seed')}",
        f"headline (spatial test split, against the truth): F1 {_f(h['f1'])}  kappa {_f(h['kappa'])}",
        "",
        f"{'split':<11} {'chips':>6} {'F1 truth':>9} {'kappa truth':>12} {'F1 L3':>7} {'kappa L3':>9}",
    ]
    rows = [(name, metrics["splits"][name]) for _, name in _SPLITS]
    rows.append(("log-ratio", metrics["threshold_baseline"]["test"]))
    for name, s in rows:
        lines.append(
            f"{name:<11} {s['truth']['n_chips']:>6} {_f(s['truth']['f1']):>9} {_f(s['truth']['kappa']):>12} "
            f"{_f(s['L3']['f1']):>7} {_f(s['L3']['kappa']):>9}"
            + ("  (test, no learning)" if name == "log-ratio" else "")
        )
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
