"""Siamese change-detection baseline in plain PyTorch, trained from scratch.

A shared-weight encoder (two 3 x 3 conv + batch-norm + ReLU blocks) maps each date's
chip (sigma0 VV and VH, dB, normalised with the training mean and standard deviation)
to features ``f1``, ``f2``; the head sees ``|f1 - f2|`` (symmetric in the two dates)
and the pair's coherence and gives per-pixel change logits (the fully convolutional
Siamese difference network of Daudt, R. C., Le Saux, B. & Boulch, A. (2018), Fully
convolutional Siamese networks for change detection, *ICIP*, 4063-4067, reduced to
a few layers for the small simulated scenes). Loss: binary cross-entropy over the
labelled pixels (-1 ignored), the change class weighted by ``neg / pos`` of the
training labels (capped at 20). Augmentation: random flips and swapping the dates.
The kept weights are those of the epoch with the best validation F1 (the last epoch
without a validation split).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from sarbd.dataset.change_labels import ChangeChips
from sarbd.ml.change_metrics import binary_confusion, change_scores

__all__ = ["ChangeFit", "SiameseChangeNet", "evaluate_change", "fit_change", "predict_change"]


class SiameseChangeNet(nn.Module):
    """Shared encoder on both dates, head on ``|f1 - f2|`` and the coherence -> change logits."""

    def __init__(self, channels: int = 2, base: int = 16) -> None:
        super().__init__()

        def block(i: int, o: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True)
            )

        self.encoder = nn.Sequential(block(channels, base), block(base, base))
        self.head = nn.Sequential(block(base + 1, base), nn.Conv2d(base, 1, 1))

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, coherence: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, H, W)`` from ``(B, C, H, W)`` chips and ``(B, H, W)`` coherence."""
        d = torch.abs(self.encoder(x1) - self.encoder(x2))
        return self.head(torch.cat([d, coherence[:, None]], dim=1))[:, 0]  # type: ignore[no-any-return]


@dataclass
class ChangeFit:
    """A trained network with its input normalisation and training history."""

    model: SiameseChangeNet
    mean: list[float]
    std: list[float]
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    hyperparameters: dict[str, Any] = field(default_factory=dict)


def _norm(fit_mean: list[float], fit_std: list[float], x: NDArray[np.float32]) -> torch.Tensor:
    m = np.asarray(fit_mean, np.float32)[None, :, None, None]
    s = np.asarray(fit_std, np.float32)[None, :, None, None]
    return torch.from_numpy(((x - m) / s).astype(np.float32))


def predict_change(fit: ChangeFit, chips: ChangeChips, batch_size: int = 64) -> NDArray[np.float32]:
    """Change probability ``(N, S, S)`` of every chip."""
    fit.model.eval()
    out = []
    with torch.no_grad():
        for k in range(0, chips.before.shape[0], batch_size):
            sl = slice(k, k + batch_size)
            logit = fit.model(
                _norm(fit.mean, fit.std, chips.before[sl]),
                _norm(fit.mean, fit.std, chips.after[sl]),
                torch.from_numpy(chips.coherence[sl]),
            )
            out.append(torch.sigmoid(logit).numpy())
    return np.concatenate(out) if out else np.zeros((0, *chips.coherence.shape[1:]), np.float32)


def evaluate_change(fit: ChangeFit, chips: ChangeChips, level: str = "truth") -> dict[str, Any]:
    """F1 and kappa of the change class against ``level`` labels (probability >= 0.5 is change)."""
    pred = predict_change(fit, chips) >= 0.5
    return {
        **change_scores(binary_confusion(chips.labels(level), pred)),
        "n_chips": int(chips.before.shape[0]),
    }


def fit_change(
    train: ChangeChips,
    val: ChangeChips | None,
    *,
    level: str = "L3",
    epochs: int = 30,
    batch_size: int = 8,
    base: int = 16,
    lr: float = 3e-3,
    seed: int = 0,
) -> ChangeFit:
    """Train the Siamese network on ``train`` labels of ``level`` (call inside :func:`sarbd.ml.fit.deterministic`).

    Raises
    ------
    ValueError
        No labelled change pixel in the training chips.
    """
    y = train.labels(level)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0:
        raise ValueError(f"no {level} change pixel in the training chips")
    both = np.concatenate([train.before, train.after])
    mean = both.mean(axis=(0, 2, 3)).astype(float).tolist()
    std = np.maximum(both.std(axis=(0, 2, 3)), 1e-3).astype(float).tolist()
    model = SiameseChangeNet(train.before.shape[1], base)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    pos_weight = torch.tensor(min(20.0, n_neg / n_pos))
    x1, x2 = _norm(mean, std, train.before), _norm(mean, std, train.after)
    coh, yt = torch.from_numpy(train.coherence), torch.from_numpy(y.astype(np.int64))
    gen = np.random.default_rng(seed)
    fit = ChangeFit(
        model,
        mean,
        std,
        hyperparameters={
            "epochs": epochs,
            "batch_size": batch_size,
            "base": base,
            "lr": lr,
            "level": level,
            "pos_weight": float(pos_weight),
        },
    )
    best, best_state = -1.0, copy.deepcopy(model.state_dict())
    for epoch in range(1, epochs + 1):
        model.train()
        order = gen.permutation(x1.shape[0])
        total, count = 0.0, 0
        for k in range(0, order.size, batch_size):
            idx = torch.from_numpy(order[k : k + batch_size])
            a, b, c, t = x1[idx], x2[idx], coh[idx], yt[idx]
            if gen.random() < 0.5:
                a, b = b, a
            for dim in (-1, -2):
                if gen.random() < 0.5:
                    a, b, c, t = a.flip(dim), b.flip(dim), c.flip(dim), t.flip(dim)
            ok = t >= 0
            if not ok.any():
                continue
            logit = model(a, b, c)
            loss = nn.functional.binary_cross_entropy_with_logits(
                logit[ok], t[ok].float(), pos_weight=pos_weight
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * int(ok.sum())
            count += int(ok.sum())
        rec: dict[str, Any] = {"epoch": epoch, "train_loss": total / max(count, 1)}
        if val is not None and val.before.shape[0]:
            f1 = evaluate_change(fit, val, level)["f1"]
            rec["val_f1"] = f1
            score = -1.0 if f1 is None else float(f1)
        else:
            score = float(epoch)
        fit.history.append(rec)
        if score > best:
            best, best_state, fit.best_epoch = score, copy.deepcopy(model.state_dict()), epoch
    model.load_state_dict(best_state)
    model.eval()
    return fit
