"""Run outputs: figures (matplotlib, Agg), the predicted label map, and a STAC item with mlm.

The STAC item follows the Machine Learning Model extension v1.3.0
(https://stac-extensions.github.io/mlm/v1.3.0/schema.json): ``mlm:name``,
``mlm:architecture``, ``mlm:tasks``, ``mlm:input`` (channels, shape, z-score statistics),
``mlm:output`` (shape, ``classification:classes``), framework, parameters and
hyperparameters; the evaluation results ride along as ``sarbd:metrics``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sarbd.ml.data import ClassInfo, SarbdData
from sarbd.ml.fit import FittedModel
from sarbd.utils.files import atomic_output

__all__ = [
    "MLM_SCHEMA",
    "plot_confusion",
    "plot_importance",
    "plot_label_map",
    "stac_item",
    "write_json",
    "write_label_map",
]

MLM_SCHEMA = "https://stac-extensions.github.io/mlm/v1.3.0/schema.json"


def write_json(path: Path, obj: Any) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=_json_default))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def _plt():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _cmap(classes: ClassInfo):  # type: ignore[no-untyped-def]
    from matplotlib.colors import BoundaryNorm, ListedColormap

    plt = _plt()
    tab = plt.get_cmap("tab10" if classes.n <= 10 else "tab20")
    colours = [(0.85, 0.85, 0.85, 1.0)] + [tab(k % tab.N) for k in range(classes.n)]
    bounds = np.arange(classes.n + 2) - 0.5
    return ListedColormap(colours), BoundaryNorm(bounds, classes.n + 1)


def _index_map(ids: np.ndarray, classes: ClassInfo) -> np.ndarray:
    return classes.lookup()[ids.astype(np.int64)] + 1  # 0 = unlabelled, k+1 = class k


def plot_confusion(path: Path, panels: dict[str, dict], classes: ClassInfo) -> None:
    """Row-normalised confusion matrices (annotated with pixel counts), one panel per protocol."""
    plt = _plt()
    names = list(classes.names)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2), squeeze=False)
    for ax, (title, m) in zip(axes[0], panels.items(), strict=True):
        cm = np.asarray(m.get("confusion_matrix") or np.zeros((classes.n, classes.n)), float)
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                ax.text(
                    j,
                    i,
                    f"{int(cm[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("reference")
        f1, kappa = m.get("macro_f1"), m.get("cohen_kappa")
        sub = (
            f"macro F1 {f1:.3f}, kappa {kappa:.3f}"
            if f1 is not None and kappa is not None
            else "no pixels"
        )
        ax.set_title(f"{title}\n{sub}", fontsize=9)
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def plot_label_map(
    path: Path,
    predicted: np.ndarray,
    reference: np.ndarray,
    test: np.ndarray,
    classes: ClassInfo,
    title: str,
) -> None:
    """Predicted label map beside the reference labels, the test area outlined."""
    plt = _plt()
    cmap, norm = _cmap(classes)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharex=True, sharey=True)
    for ax, arr, name in ((axes[0], reference, "reference labels"), (axes[1], predicted, title)):
        im = ax.imshow(
            _index_map(arr, classes), cmap=cmap, norm=norm, interpolation="nearest", aspect="auto"
        )
        if test.any():
            ax.contour(test.astype(float), levels=[0.5], colors="k", linewidths=0.6)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("pixel (array index)")
    axes[0].set_ylabel("line (array index)")
    cbar = fig.colorbar(im, ax=axes, ticks=range(classes.n + 1), shrink=0.8)
    cbar.ax.set_yticklabels(["unlabelled", *classes.names])
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def plot_importance(path: Path, imp: dict) -> None:
    plt = _plt()
    feats = imp["features"][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(feats) + 1.2))
    ax.barh(feats, imp["importance_mean"][::-1], xerr=imp["importance_std"][::-1], color="tab:blue")
    ax.set_xlabel(f"drop of test {imp['metric']} when shuffled")
    ax.set_title(
        f"permutation importance ({imp['n_repeats']} repeats, {imp['n_pixels']} test pixels)",
        fontsize=9,
    )
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def write_label_map(path: Path, data: SarbdData, predicted: np.ndarray, classes: ClassInfo) -> None:
    """``predicted_labels.zarr``: ``predicted_label(line, pixel)`` uint8 with absolute coordinates."""
    import xarray as xr

    ds = xr.Dataset(
        {
            "predicted_label": (
                ("line", "pixel"),
                predicted,
                {
                    "long_name": "predicted class",
                    "flag_values": np.asarray(classes.ids, np.uint8),
                    "flag_meanings": " ".join(classes.names),
                    "comment": "0 = no prediction",
                },
            )
        },
        coords={"line": data.line, "pixel": data.pixel},
    )
    with atomic_output(path, directory=True) as tmp:
        ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)


def _footprint(data: SarbdData) -> tuple[dict | None, list[float] | None]:
    ds = data.ds
    if "latitude" not in ds.variables or "longitude" not in ds.variables:
        return None, None
    lat = np.asarray(ds["latitude"].values, float)
    lon = np.asarray(ds["longitude"].values, float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return None, None
    w, e, s, n = lon[ok].min(), lon[ok].max(), lat[ok].min(), lat[ok].max()
    geom = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
    return geom, [float(w), float(s), float(e), float(n)]


def stac_item(
    fitted: FittedModel, data: SarbdData, run: dict, metrics: dict, assets: dict[str, str]
) -> dict:
    """A STAC item (dict) describing the trained model with the mlm extension v1.3.0."""
    import pystac
    import sklearn
    import torch

    geom, bbox = _footprint(data)
    props: dict[str, Any] = {}
    if "time" in data.ds.coords and data.ds.sizes.get("time", 0):
        t = np.asarray(data.ds["time"].values, "datetime64[s]")
        props["start_datetime"] = f"{t.min()}Z"
        props["end_datetime"] = f"{t.max()}Z"
        props["datetime"] = None
    else:
        props["datetime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pre = fitted.preprocessor
    channels = pre.channels
    n_mask = len(pre.mask_features)
    stats = [{"mean": m, "stddev": s} for m, s in zip(pre.mean, pre.std, strict=True)]
    stats += [{"mean": 0.0, "stddev": 1.0}] * n_mask
    pixel = fitted.is_pixel_model
    arch = {
        "ann": "AlignSAR dense ANN: Dense 128-64-64-64-32-16-8 (ReLU..tanh), 2 dropout, softmax",
        "rf": "RandomForestClassifier",
        "unet": f"U-Net (depth {fitted.hparams.get('depth')}, base {fitted.hparams.get('base')} channels)",
    }[fitted.kind]
    tasks = ["classification"] if pixel else ["semantic-segmentation"]
    shape_in = [-1, len(channels)] if pixel else [-1, len(channels), -1, -1]
    dims_in = ["batch", "channel"] if pixel else ["batch", "channel", "height", "width"]
    shape_out = [-1, fitted.classes.n] if pixel else [-1, fitted.classes.n, -1, -1]
    dims_out = ["batch", "class"] if pixel else ["batch", "class", "height", "width"]
    spatial = metrics["protocols"]["spatial"]
    random_px = metrics["protocols"].get("random_pixel", {})
    props.update(
        {
            "description": (
                f"sarbd {fitted.kind} baseline trained on SARbd-{fitted.level} labels of {data.root.name}; "
                "metrics on the spatially held-out test split (headline) and the random-pixel protocol."
            ),
            "mlm:name": f"sarbd-{fitted.kind}-{fitted.level.lower()}",
            "mlm:architecture": arch,
            "mlm:tasks": tasks,
            "mlm:framework": "scikit-learn" if fitted.kind == "rf" else "pytorch",
            "mlm:framework_version": sklearn.__version__
            if fitted.kind == "rf"
            else torch.__version__.split("+")[0],
            "mlm:accelerator": "amd64",
            "mlm:accelerator_constrained": False,
            "mlm:total_parameters": fitted.n_parameters(),
            "mlm:pretrained": False,
            "mlm:hyperparameters": {
                k: v for k, v in fitted.hparams.items() if isinstance(v, int | float | str | bool)
            },
            "mlm:input": [
                {
                    "name": "SAR signatures",
                    "bands": channels,
                    "input": {"shape": shape_in, "dim_order": dims_in, "data_type": "float32"},
                    "norm_by_channel": True,
                    "norm_type": "z-score",
                    "statistics": stats,
                    "resize_type": None,
                    "pre_processing_function": {
                        "format": "python",
                        "expression": "sarbd.ml.preprocess:Preprocessor.transform (dB for log_features, "
                        "NaN -> training median + missing channel, z-score); see preprocess.json",
                    },
                }
            ],
            "mlm:output": [
                {
                    "name": "class scores",
                    "tasks": tasks,
                    "result": {"shape": shape_out, "dim_order": dims_out, "data_type": "float32"},
                    "classification:classes": [
                        {
                            "value": int(i),
                            "name": n,
                            "description": f"SARbd class id {i} (output index {k})",
                        }
                        for k, (i, n) in enumerate(
                            zip(fitted.classes.ids, fitted.classes.names, strict=True)
                        )
                    ],
                    "post_processing_function": {
                        "format": "python",
                        "expression": "argmax over class, then output index -> class id (value)",
                    },
                }
            ],
            "sarbd:level": fitted.level,
            "sarbd:seed": run.get("seed"),
            "sarbd:metrics": {
                "spatial": {
                    k: spatial.get(k)
                    for k in ("overall_accuracy", "cohen_kappa", "macro_f1", "n_pixels")
                },
                "random_pixel": {
                    k: random_px.get(k)
                    for k in ("overall_accuracy", "cohen_kappa", "macro_f1", "n_pixels")
                },
            },
        }
    )
    media = {
        ".pt": "application/octet-stream; application=pytorch",
        ".joblib": "application/octet-stream",
        ".json": "application/json",
        ".png": "image/png",
        ".zarr": "application/vnd+zarr",
    }
    roles = {
        "model": ["mlm:model", "mlm:weights", "data"],
        "preprocess": ["mlm:preprocessing", "metadata"],
        "metrics": ["metadata"],
        "predicted_labels": ["data"],
    }
    asset_objs = {}
    for key, href in assets.items():
        a: dict[str, Any] = {
            "href": f"./{href}",
            "type": media.get(Path(href).suffix, "application/octet-stream"),
            "roles": roles.get(key, ["overview"] if href.endswith(".png") else ["metadata"]),
        }
        if key == "model":
            a["mlm:artifact_type"] = "joblib.dump" if fitted.kind == "rf" else "torch.save"
            a["title"] = "state_dict" if fitted.kind != "rf" else "scikit-learn estimator"
        asset_objs[key] = a
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [MLM_SCHEMA],
        "id": f"sarbd-{fitted.kind}-{fitted.level.lower()}-seed{run.get('seed')}",
        "geometry": geom,
        "bbox": bbox,
        "properties": props,
        "links": [],
        "assets": asset_objs,
    }
    if bbox is None:
        item.pop("bbox")
    pystac.Item.from_dict(item)  # structural check (no network validation)
    return item
