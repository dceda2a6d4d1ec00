"""Baseline object detector: a small CenterNet trained from scratch on SAR chips (plain PyTorch).

torchvision is not installed in the project's environment (and its detection models
would need weights or long training), so the baseline is a from-scratch anchor-free
detector after Zhou, X., Wang, D. & Kraehenbuehl, P. (2019), *Objects as Points*,
arXiv:1904.07850:

* backbone (``base`` = 8 channels, then 16 and 32): conv 3x3 blocks (BatchNorm, ReLU) with two stride-2 convolutions and two
  dilated convolutions (dilation 2, 4) -> features at output stride 4;
* heads (3x3 conv + ReLU + 1x1 conv): a heatmap per class (sigmoid; bias initialised
  to ``-log((1 - 0.1) / 0.1)`` as in the paper), the box size ``(w, h)`` in input pixels
  and the sub-cell centre offset;
* targets: each object puts an elliptical Gaussian on its class heatmap, ``sigma_x =
  alpha w / 6``, ``sigma_y = alpha h / 6`` (``alpha = 0.54``, Liu, Z. et al. (2020),
  Training-time-friendly network for real-time object detection, *AAAI* 34, 11685),
  peak 1 at the centre cell;
* loss: the penalty-reduced focal loss of CenterNet/CornerNet (``alpha = 2``, ``beta = 4``,
  Law, H. & Deng, J. (2018), CornerNet, *ECCV*) normalised by the number of objects,
  plus ``0.1`` L1 on the size and ``1`` L1 on the offset at the centre cells;
* decoding: a 3x3 max-pool keeps local heatmap peaks, the ``top_k`` best peaks above
  ``score_threshold`` become boxes.

Inputs are sigma0 VV in dB, z-scored with the training chips' mean and standard
deviation; training augments with random flips along both image axes.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from sarbd.dataset.detection_labels import DetectionChips
from sarbd.ml.detection_metrics import mean_average_precision

__all__ = ["CenterNet", "DetectorFit", "decode", "detection_targets", "fit_detector", "predict"]

STRIDE = 4
_ALPHA_GAUSS = 0.54


def _block(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class CenterNet(nn.Module):
    """Small CenterNet (output stride 4): heatmap ``(K, S/4, S/4)``, size ``(2, ...)``, offset ``(2, ...)``."""

    def __init__(self, in_channels: int = 1, n_classes: int = 2, base: int = 8) -> None:
        super().__init__()
        b = base
        self.backbone = nn.Sequential(
            _block(in_channels, b),
            _block(b, 2 * b, stride=2),
            _block(2 * b, 2 * b),
            _block(2 * b, 4 * b, stride=2),
            _block(4 * b, 4 * b, dilation=2),
            _block(4 * b, 4 * b, dilation=4),
        )

        def head(cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(4 * b, b, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(b, cout, 1)
            )

        self.heat = head(n_classes)
        self.size = head(2)
        self.offset = head(2)
        last = self.heat[-1]
        assert isinstance(last, nn.Conv2d) and last.bias is not None
        nn.init.constant_(last.bias, -math.log((1 - 0.1) / 0.1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f = self.backbone(x)
        return self.heat(f), self.size(f), self.offset(f)


def detection_targets(
    boxes: NDArray[np.float64], labels: NDArray[np.int64], size: int, n_classes: int
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Heatmap ``(K, S/4, S/4)``, size and offset targets ``(2, S/4, S/4)`` and their mask ``(S/4, S/4)``."""
    n = size // STRIDE
    heat = np.zeros((n_classes, n, n), np.float32)
    wh = np.zeros((2, n, n), np.float32)
    off = np.zeros((2, n, n), np.float32)
    mask = np.zeros((n, n), np.float32)
    yy, xx = np.mgrid[0:n, 0:n]
    for (x0, y0, x1, y1), c in zip(
        np.asarray(boxes).reshape(-1, 4), np.asarray(labels), strict=True
    ):
        cx, cy = (x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE
        ix, iy = min(int(cx), n - 1), min(int(cy), n - 1)
        sx = max(_ALPHA_GAUSS * (x1 - x0) / STRIDE / 6.0, 0.3)
        sy = max(_ALPHA_GAUSS * (y1 - y0) / STRIDE / 6.0, 0.3)
        g = np.exp(-((xx - ix) ** 2) / (2 * sx * sx) - ((yy - iy) ** 2) / (2 * sy * sy)).astype(
            np.float32
        )
        heat[c] = np.maximum(heat[c], g)
        wh[:, iy, ix] = (x1 - x0, y1 - y0)
        off[:, iy, ix] = (cx - ix, cy - iy)
        mask[iy, ix] = 1.0
    return heat, wh, off, mask


def _focal(pred_logit: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(pred_logit).clamp(1e-4, 1 - 1e-4)
    pos = gt.eq(1).float()
    neg = 1.0 - pos
    pos_loss = torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = torch.log(1 - p) * p**2 * (1 - gt) ** 4 * neg
    n_pos = pos.sum()
    return -(pos_loss.sum() + neg_loss.sum()) / torch.clamp(n_pos, min=1.0)


def _loss(
    out: tuple[torch.Tensor, torch.Tensor, torch.Tensor], tgt: tuple[torch.Tensor, ...]
) -> torch.Tensor:
    heat, wh, off = out
    t_heat, t_wh, t_off, t_mask = tgt
    m = t_mask.unsqueeze(1)
    n = torch.clamp(t_mask.sum(), min=1.0)
    l_wh = (torch.abs(wh - t_wh) * m).sum() / n
    l_off = (torch.abs(off - t_off) * m).sum() / n
    return _focal(heat, t_heat) + 0.1 * l_wh + l_off


def decode(
    heat: torch.Tensor,
    wh: torch.Tensor,
    off: torch.Tensor,
    top_k: int = 20,
    score_threshold: float = 0.05,
) -> list[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]]:
    """Boxes ``x0, y0, x1, y1`` (input pixels), scores and labels of each image of a batch."""
    p = torch.sigmoid(heat)
    peaks = p * (nn.functional.max_pool2d(p, 3, stride=1, padding=1) == p).float()
    b, _, h, w = p.shape
    out = []
    for i in range(b):
        flat = peaks[i].reshape(-1)
        scores, idx = torch.topk(flat, min(top_k, flat.numel()))
        keep = scores >= score_threshold
        scores, idx = scores[keep], idx[keep]
        cls = idx // (h * w)
        pos = idx % (h * w)
        ys, xs = pos // w, pos % w
        cx = (xs.float() + off[i, 0, ys, xs]) * STRIDE
        cy = (ys.float() + off[i, 1, ys, xs]) * STRIDE
        bw, bh = wh[i, 0, ys, xs].clamp(min=1.0), wh[i, 1, ys, xs].clamp(min=1.0)
        boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], dim=1)
        out.append(
            (
                boxes.detach().numpy().astype(np.float64),
                scores.detach().numpy().astype(np.float64),
                cls.detach().numpy().astype(np.int64),
            )
        )
    return out


@dataclass
class DetectorFit:
    """A trained detector: model, input normalisation and training history."""

    model: CenterNet
    mean: float
    std: float
    categories: list[str]
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    hyperparameters: dict[str, Any] = field(default_factory=dict)


def predict(
    fit: DetectorFit,
    images: NDArray[np.float32],
    batch_size: int = 32,
    top_k: int = 20,
    score_threshold: float = 0.05,
) -> list[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]]:
    """Detections of every chip (``images`` ``(N, S, S)`` sigma0 dB)."""
    fit.model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, images.shape[0], batch_size):
            x = torch.from_numpy((images[s : s + batch_size, None] - fit.mean) / fit.std).float()
            heat, wh, off = fit.model(x)
            out.extend(decode(heat, wh, off, top_k=top_k, score_threshold=score_threshold))
    return out


def evaluate_detector(
    fit: DetectorFit, chips: DetectionChips, iou_threshold: float = 0.5
) -> dict[str, Any]:
    """mAP@``iou_threshold`` of ``fit`` on ``chips`` (per-class AP with the category names)."""
    det = predict(fit, chips.images)
    res = mean_average_precision(
        [d[0] for d in det],
        [d[1] for d in det],
        [d[2] for d in det],
        chips.boxes,
        chips.labels,
        len(chips.categories),
        iou_threshold,
    )
    res["per_class"] = {
        c: {"ap": res["ap"][k], "n_gt": res["n_gt"][k], "n_pred": res["n_pred"][k]}
        for k, c in enumerate(chips.categories)
    }
    res["n_chips"] = int(chips.images.shape[0])
    return res


def fit_detector(
    train: DetectionChips,
    val: DetectionChips | None = None,
    *,
    epochs: int = 30,
    batch_size: int = 8,
    lr: float = 2e-3,
    base: int = 8,
    seed: int = 0,
) -> DetectorFit:
    """Train the CenterNet from scratch (Adam); keep the epoch with the best validation mAP@0.5 (else the last).

    Call inside :func:`sarbd.ml.fit.deterministic` for reproducible weights.
    """
    if train.images.shape[0] == 0:
        raise ValueError("no training chips")
    size = int(train.images.shape[-1])
    if size % STRIDE:
        raise ValueError(f"chip size {size} is not a multiple of the output stride {STRIDE}")
    k = len(train.categories)
    mean = float(train.images.mean())
    std = float(train.images.std()) or 1.0
    model = CenterNet(1, k, base)
    tg = [
        detection_targets(b, lab, size, k) for b, lab in zip(train.boxes, train.labels, strict=True)
    ]
    x_all = torch.from_numpy((train.images[:, None] - mean) / std).float()
    t_all = [torch.from_numpy(np.stack([t[j] for t in tg])) for j in range(4)]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    fit = DetectorFit(
        model,
        mean,
        std,
        list(train.categories),
        hyperparameters={
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "base": base,
            "stride": STRIDE,
            "chip_size": size,
        },
    )
    best: tuple[float, dict[str, Any]] | None = None
    n = x_all.shape[0]
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for s in range(0, n, batch_size):
            idx = order[s : s + batch_size]
            x = x_all[idx]
            t = [tt[idx] for tt in t_all]
            flips = torch.rand(2, generator=gen)
            if flips[0] < 0.5:  # mirror the columns (range)
                x, t = _flip(x, t, 3)
            if flips[1] < 0.5:
                x, t = _flip(x, t, 2)
            loss = _loss(model(x), tuple(t))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        rec: dict[str, float] = {"epoch": epoch + 1, "train_loss": total / n}
        if val is not None and val.images.shape[0]:
            m = evaluate_detector(fit, val)["map"]
            rec["val_map50"] = float("nan") if m is None else float(m)
            if m is not None and (best is None or m > best[0]):
                best = (m, copy.deepcopy(model.state_dict()))
                fit.best_epoch = epoch + 1
        fit.history.append(rec)
    if best is not None:
        model.load_state_dict(best[1])
    else:
        fit.best_epoch = epochs
    model.eval()
    return fit


def _flip(
    x: torch.Tensor, t: list[torch.Tensor], dim: int
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Mirror a batch and its targets along image axis ``dim`` (2 rows, 3 columns) of the input.

    The heatmap, size and mask are mirrored on the output grid; a centre in cell ``i``
    lands in cell ``n - 1 - i`` with offset ``1 - o`` (exact when the chip size is a
    multiple of the stride).
    """
    heat, wh, off, mask = t
    od = dim  # output tensors have the same layout (B, C, H, W); mask (B, H, W)
    off = torch.flip(off, [od]).clone()
    axis = 0 if dim == 3 else 1  # offset channel 0 is x (columns), 1 is y (rows)
    m = torch.flip(mask, [od - 1])
    off[:, axis] = torch.where(m > 0, 1.0 - off[:, axis], off[:, axis])
    return torch.flip(x, [dim]), [torch.flip(heat, [od]), torch.flip(wh, [od]), off, m]
