"""Fitting the three baselines on a given set of training pixels, prediction, save and load.

Which pixels train, validate and test is decided by the caller (a *protocol*, see
:mod:`sarbd.ml.protocols`); here ``train_mask``/``val_mask`` are boolean (line, pixel)
masks and nothing outside ``train_mask`` ever reaches a loss or a tree. The validation
pixels only select the epoch kept (best validation macro F1) for the neural networks.

Determinism: :func:`deterministic` seeds Python, NumPy and PyTorch, enables
``torch.use_deterministic_algorithms(True)`` and fixes the number of CPU threads (default 1);
data loaders use ``num_workers=0`` and seeded generators; the random forest gets
``random_state=seed``. With the same seed, thread count, data and library versions the
metrics are identical run to run. A different thread count may change float summation
order and hence the last bits of the weights.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from sarbd.errors import InputError
from sarbd.ml.data import SPLIT_TEST, ClassInfo, SarbdData, chip_windows
from sarbd.ml.datasets import (
    ChipDataset,
    PixelDataset,
    balanced_sampler,
    class_index,
    class_weights,
)
from sarbd.ml.models import DenseANN, UNet, random_forest
from sarbd.ml.preprocess import Preprocessor
from sarbd.utils.log import get_logger

__all__ = ["MODELS", "FittedModel", "deterministic", "fit_model", "load_model", "torch_threads"]

log = get_logger(__name__)

MODELS = ("ann", "rf", "unet")

DEFAULTS: dict[str, dict[str, Any]] = {
    # samples_per_epoch: class-balanced draws per epoch (None: as many as training pixels);
    # the default caps an epoch at 100 000 draws so a scene of a million training pixels
    # trains in about a minute on two cores (30 x 100 000 draws is ~10 passes over every
    # rare class and several over the common ones)
    "ann": {
        "epochs": 30,
        "batch_size": 256,
        "lr": 1e-3,
        "dropout": 0.2,
        "samples_per_epoch": 100_000,
    },
    "rf": {"n_estimators": 100, "max_samples": 50_000},
    "unet": {"epochs": 20, "batch_size": 8, "lr": 1e-3, "base": 16, "depth": 3},
}


@contextlib.contextmanager
def deterministic(seed: int, threads: int = 1) -> Iterator[None]:
    """Seed every generator, force deterministic PyTorch kernels and a fixed thread count."""
    prev = (torch.are_deterministic_algorithms_enabled(), torch.get_num_threads())
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- seeds third-party code using the legacy global generator
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(max(1, int(threads)))
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev[0])
        torch.set_num_threads(prev[1])


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run PyTorch on ``threads`` CPU threads inside the block (inference on a shared machine)."""
    prev = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        yield
    finally:
        torch.set_num_threads(prev)


@dataclass
class FittedModel:
    """A trained baseline with everything needed to apply it: classes, normalisation, weights."""

    kind: str
    level: str
    classes: ClassInfo
    preprocessor: Preprocessor
    estimator: Any
    hparams: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def is_pixel_model(self) -> bool:
        return self.kind in ("ann", "rf")

    # ---------------------------------------------------------------- prediction
    def predict_pixels(self, X: np.ndarray) -> np.ndarray:
        """Raw pixel features (n, F) -> class ids (n,) uint8 (pixel models only)."""
        if not self.is_pixel_model:
            raise InputError(
                "predict_pixels needs a pixel model (ann, rf); use predict_map for unet"
            )
        Z = self.preprocessor.transform(X)
        if Z.shape[0] == 0:
            return np.zeros(0, np.uint8)
        if self.kind == "rf":
            idx = self.estimator.predict(Z)
        else:
            self.estimator.eval()
            with torch.no_grad():
                idx = np.concatenate(
                    [
                        self.estimator(torch.from_numpy(Z[i : i + 65536])).argmax(1).numpy()
                        for i in range(0, Z.shape[0], 65536)
                    ]
                )
        return np.asarray(self.classes.ids, np.uint8)[np.asarray(idx, np.int64)]

    def predict_window(self, image: np.ndarray) -> np.ndarray:
        """Raw features (F, H, W) -> class ids (H, W) uint8, any model."""
        f, h, w = image.shape
        if self.is_pixel_model:
            return self.predict_pixels(image.reshape(f, h * w).T).reshape(h, w)
        m = 2**self.estimator.depth
        x = self.preprocessor.transform_image(image)
        x = np.pad(x, ((0, 0), (0, (-h) % m), (0, (-w) % m)), mode="symmetric")
        self.estimator.eval()
        with torch.no_grad():
            idx = self.estimator(torch.from_numpy(x)[None]).argmax(1)[0, :h, :w].numpy()
        return np.asarray(self.classes.ids, np.uint8)[idx]

    def predict_map(self, data: SarbdData, tile: int = 256, halo: int = 16) -> np.ndarray:
        """Class ids (uint8) for every pixel of the scene, read and predicted tile by tile.

        The U-Net sees each tile with a ``halo``-pixel margin of real neighbours (cropped
        afterwards) so tile borders leave no trace beyond the receptive-field edge.
        """
        reader = data.reader(block_lines=64)  # bounds the float64 feature block of pixel models
        h, w = data.shape
        out = np.zeros((h, w), np.uint8)
        if self.is_pixel_model:
            for r0, r1 in reader.blocks():
                out[r0:r1] = self.predict_window(reader.read(r0, r1, 0, w))
            return out
        for r0 in range(0, h, tile):
            for c0 in range(0, w, tile):
                r1, c1 = min(r0 + tile, h), min(c0 + tile, w)
                rr0, cc0, rr1, cc1 = (
                    max(r0 - halo, 0),
                    max(c0 - halo, 0),
                    min(r1 + halo, h),
                    min(c1 + halo, w),
                )
                pred = self.predict_window(reader.read(rr0, rr1, cc0, cc1))
                out[r0:r1, c0:c1] = pred[r0 - rr0 : r1 - rr0, c0 - cc0 : c1 - cc0]
        return out

    # ---------------------------------------------------------------- persistence
    def save(self, folder: Path) -> list[str]:
        """Write the model (``model.pt`` state_dict or ``model.joblib``) and ``preprocess.json``."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.kind == "rf":
            import joblib

            joblib.dump(self.estimator, folder / "model.joblib", compress=3)
            name = "model.joblib"
        else:
            torch.save(self.estimator.state_dict(), folder / "model.pt")
            name = "model.pt"
        meta = {
            "kind": self.kind,
            "level": self.level,
            "classes": self.classes.to_dict(),
            "hparams": self.hparams,
            "preprocess": self.preprocessor.to_dict(),
            "in_channels": len(self.preprocessor.channels),
        }
        (folder / "preprocess.json").write_text(json.dumps(meta, indent=2))
        return [name, "preprocess.json"]

    def n_parameters(self) -> int:
        if self.kind == "rf":
            return int(sum(t.tree_.node_count for t in self.estimator.estimators_))
        return int(sum(p.numel() for p in self.estimator.parameters()))


def _build(kind: str, n_in: int, n_classes: int, hp: dict[str, Any], seed: int) -> Any:
    if kind == "ann":
        return DenseANN(n_in, n_classes, dropout=hp["dropout"])
    if kind == "unet":
        return UNet(n_in, n_classes, base=hp["base"], depth=hp["depth"])
    return random_forest(
        seed,
        n_estimators=hp["n_estimators"],
        n_jobs=hp.get("threads", 1),
        max_samples=hp.get("max_samples"),
    )


def load_model(folder: Path) -> FittedModel:
    """Load a model saved by :meth:`FittedModel.save`."""
    folder = Path(folder)
    meta_path = folder / "preprocess.json"
    if not meta_path.exists():
        raise InputError(
            "not a trained model folder (no preprocess.json)",
            path=folder,
            hint="give a RUN folder written by `sarbd train`",
        )
    meta = json.loads(meta_path.read_text())
    classes = ClassInfo.from_dict(meta["classes"])
    pre = Preprocessor.from_dict(meta["preprocess"])
    kind = meta["kind"]
    if kind == "rf":
        import joblib

        est = joblib.load(folder / "model.joblib")
    else:
        est = _build(kind, meta["in_channels"], classes.n, meta["hparams"], 0)
        est.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
        est.eval()
    return FittedModel(kind, meta["level"], classes, pre, est, meta["hparams"])


# -------------------------------------------------------------------- fitting
def _macro_f1(ref_idx: np.ndarray, pred_idx: np.ndarray, n: int) -> float:
    from sklearn.metrics import f1_score

    if ref_idx.size == 0:
        return float("nan")
    return float(
        f1_score(ref_idx, pred_idx, labels=list(range(n)), average="macro", zero_division=0)
    )


def fit_model(
    data: SarbdData,
    kind: str,
    level: str,
    train_mask: np.ndarray,
    val_mask: np.ndarray | None = None,
    *,
    seed: int = 0,
    threads: int = 1,
    chip_size: int | None = None,
    chip_split: int | None = None,
    **hparams: Any,
) -> tuple[FittedModel, dict[str, Any]]:
    """Train ``kind`` on the labelled pixels of ``level`` inside ``train_mask``.

    Parameters
    ----------
    data
        The opened dataset.
    kind
        ``ann``, ``rf`` or ``unet``.
    level
        Label level.
    train_mask, val_mask
        Boolean (line, pixel) masks of the pixels whose labels may be used for training
        and for choosing the epoch.
    seed, threads
        Determinism (see :func:`deterministic`).
    chip_size, chip_split
        U-Net only: which chip index, and if given only chips of that split code train.
    hparams
        Overrides of :data:`DEFAULTS` (epochs, batch_size, lr, dropout, n_estimators, base, depth).

    Returns
    -------
    (model, record)
        ``record`` lists the (line, pixel) coordinates whose labels were used
        (``train_line``/``train_pixel``, ``val_line``/``val_pixel``) and, for the U-Net, the
        training chip windows -- the evidence that test pixels were never seen.
    """
    if kind not in MODELS:
        raise InputError(f"unknown model {kind!r}", hint=f"use one of {', '.join(MODELS)}")
    hp = {**DEFAULTS[kind], **{k: v for k, v in hparams.items() if v is not None}}
    classes = data.classes(level)
    labels = data.labels(level)
    train_mask = train_mask & (labels > 0)
    val_mask = (val_mask if val_mask is not None else np.zeros_like(train_mask)) & (labels > 0)
    if not train_mask.any():
        raise InputError(f"no labelled training pixels at {level}", path=data.zarr)
    train_px = data.pixels(level, train_mask)
    val_px = data.pixels(level, val_mask)
    pre = Preprocessor.fit(train_px.X, train_px.features)
    record: dict[str, Any] = {
        "train_line": train_px.line,
        "train_pixel": train_px.pixel,
        "val_line": val_px.line,
        "val_pixel": val_px.pixel,
    }
    with deterministic(seed, threads):
        if kind == "rf":
            cap = hp.get("max_samples")
            cap = cap if cap is not None and cap < len(train_px) else None  # sklearn: int <= n
            est = _build("rf", 0, classes.n, {**hp, "threads": threads, "max_samples": cap}, seed)
            est.fit(pre.transform(train_px.X), class_index(train_px.labels, classes).numpy())
            model = FittedModel(kind, level, classes, pre, est, hp)
        elif kind == "ann":
            model = _fit_ann(train_px, val_px, classes, pre, hp, seed, level)
        else:
            model, windows = _fit_unet(
                data, level, classes, pre, train_mask, val_mask, hp, seed, chip_size, chip_split
            )
            record["chip_windows"] = windows
    model.hparams = hp
    return model, record


def _fit_ann(train_px, val_px, classes, pre, hp, seed, level) -> FittedModel:  # type: ignore[no-untyped-def]
    ds = PixelDataset(train_px, pre, classes)
    draws = hp.get("samples_per_epoch")
    sampler = balanced_sampler(
        train_px.labels, seed, min(int(draws), len(train_px)) if draws else None
    )
    batch = hp["batch_size"]
    net = DenseANN(ds.x.shape[1], classes.n, dropout=hp["dropout"])
    opt = torch.optim.Adam(net.parameters(), lr=hp["lr"])
    loss_fn = nn.CrossEntropyLoss()
    xv = torch.from_numpy(pre.transform(val_px.X))
    yv = class_index(val_px.labels, classes).numpy()
    best, best_state, history = -1.0, None, []
    for epoch in range(hp["epochs"]):
        net.train()
        total, count = 0.0, 0
        # one epoch of class-balanced draws; batches sliced from the tensors (no per-item collate)
        order = torch.as_tensor(list(sampler), dtype=torch.long)
        for i in range(0, order.numel(), batch):
            xb, yb = ds.x[order[i : i + batch]], ds.y[order[i : i + batch]]
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            count += len(yb)
        net.eval()
        with torch.no_grad():
            f1 = _macro_f1(yv, net(xv).argmax(1).numpy(), classes.n) if len(yv) else float("nan")
        history.append(
            {"epoch": epoch + 1, "train_loss": total / max(count, 1), "val_macro_f1": f1}
        )
        log.info(
            "epoch %d/%d: loss %.4f, validation macro F1 %.3f",
            epoch + 1,
            hp["epochs"],
            history[-1]["train_loss"],
            f1,
        )
        if np.isnan(f1) or f1 > best:
            best, best_state = (f1 if not np.isnan(f1) else best), copy.deepcopy(net.state_dict())
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return FittedModel("ann", level, classes, pre, net, hp, history)


def _fit_unet(data, level, classes, pre, train_mask, val_mask, hp, seed, chip_size, chip_split):  # type: ignore[no-untyped-def]
    size, windows = chip_windows(data, chip_size)
    depth = hp["depth"]
    while depth > 1 and size % 2**depth:
        depth -= 1
    if depth != hp["depth"]:
        log.warning(
            "chip size %d is not a multiple of %d; U-Net depth reduced to %d",
            size,
            2 ** hp["depth"],
            depth,
        )
        hp["depth"] = depth

    def has(mask: np.ndarray, r: int, c: int) -> bool:
        return bool(mask[r : r + size, c : c + size].any())

    train_w = [
        (r, c)
        for r, c, s in windows
        if (chip_split is None or s == chip_split) and has(train_mask, r, c)
    ]
    if chip_split is not None:
        # a training chip must not show the network any test pixel, not even as input
        test = data.split() == SPLIT_TEST
        leaky = [(r, c) for r, c in train_w if has(test, r, c)]
        if leaky:
            log.warning("%d training chips contain test-split pixels; left out", len(leaky))
            train_w = [w for w in train_w if w not in set(leaky)]
    if not train_w:
        raise InputError("no training chip holds training pixels", path=data.root / "chips")
    val_w = [(r, c) for r, c, _ in windows if has(val_mask, r, c)]
    labels = data.labels(level)
    train_ds = ChipDataset(data, train_w, size, labels, pre, train_mask, cache=True)
    val_ds = ChipDataset(data, val_w, size, labels, pre, val_mask, cache=True)
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        train_ds,
        batch_size=hp["batch_size"],
        shuffle=True,
        generator=gen,
        num_workers=0,
        collate_fn=_collate,
    )
    net = UNet(len(pre.channels), classes.n, base=hp["base"], depth=hp["depth"])
    opt = torch.optim.Adam(net.parameters(), lr=hp["lr"])
    loss_fn = nn.CrossEntropyLoss(
        weight=class_weights(labels[train_mask], classes), ignore_index=-100
    )
    best, best_state, history = -1.0, None, []
    for epoch in range(hp["epochs"]):
        net.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            target = class_index(yb, classes)
            if not (target >= 0).any():
                continue
            opt.zero_grad()
            loss = loss_fn(net(xb), target)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            count += len(xb)
        f1 = _chip_f1(net, val_ds, classes)
        history.append(
            {"epoch": epoch + 1, "train_loss": total / max(count, 1), "val_macro_f1": f1}
        )
        log.info(
            "epoch %d/%d: loss %.4f, validation macro F1 %.3f",
            epoch + 1,
            hp["epochs"],
            history[-1]["train_loss"],
            f1,
        )
        if np.isnan(f1) or f1 > best:
            best, best_state = (f1 if not np.isnan(f1) else best), copy.deepcopy(net.state_dict())
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    model = FittedModel("unet", level, classes, pre, net, hp, history)
    chips = [(int(data.line[r]), int(data.pixel[c]), size) for r, c in train_w]
    return model, chips


def _collate(batch: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.stack([b["image"] for b in batch]), torch.stack([b["mask"] for b in batch])


def _chip_f1(net: nn.Module, ds: ChipDataset, classes: ClassInfo) -> float:
    if len(ds) == 0:
        return float("nan")
    net.eval()
    refs, preds = [], []
    with torch.no_grad():
        for i in range(len(ds)):
            s = ds[i]
            target = class_index(s["mask"], classes).numpy()
            pred = net(s["image"][None]).argmax(1)[0].numpy()
            keep = target >= 0
            refs.append(target[keep])
            preds.append(pred[keep])
    return _macro_f1(np.concatenate(refs), np.concatenate(preds), classes.n)
