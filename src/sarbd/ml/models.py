"""Baseline models: the AlignSAR dense ANN, a small U-Net, and a random forest.

- :class:`DenseANN` -- the network of the AlignSAR LULC demo (Zhang et al. 2025;
  ``train.py`` of the reference implementation): Dense 128 (ReLU) - 64 - 64 - 64 - 32 -
  16 (ReLU) - 8 (tanh, uniform init) - softmax, with two dropout layers; trained with
  Adam and cross-entropy. Softmax is left to the loss (``CrossEntropyLoss`` takes logits).
- :class:`UNet` -- Ronneberger et al. (2015), "U-Net: Convolutional Networks for
  Biomedical Image Segmentation", shrunk for CPU: ``depth`` poolings (default 3), ``base``
  channels at the top (default 16, doubling per level), two 3x3 conv + BatchNorm + ReLU per
  block, transposed-conv upsampling, ``padding=1`` so output size = input size (inputs must
  be multiples of ``2**depth``; :func:`sarbd.ml.predict` pads).
- :func:`random_forest` -- scikit-learn ``RandomForestClassifier`` (Breiman 2001) with
  ``class_weight="balanced"``, as the reference notebook's model (100 trees, sqrt features).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["DenseANN", "UNet", "random_forest"]


class DenseANN(nn.Module):
    """The AlignSAR dense network for per-pixel signature vectors.

    Parameters
    ----------
    n_inputs
        Number of input channels (features + missing-value channels).
    n_classes
        Number of output classes.
    dropout
        Dropout probability of the two dropout layers (after the 128 and the third 64 layer).
    """

    def __init__(self, n_inputs: int, n_classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        tanh_layer = nn.Linear(16, 8)
        nn.init.uniform_(
            tanh_layer.weight, -0.05, 0.05
        )  # Keras "uniform" initialiser of the reference
        nn.init.zeros_(tanh_layer.bias)
        self.net = nn.Sequential(
            nn.Linear(n_inputs, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(64, 32),
            nn.ReLU(),
            nn.Linear(32, 16),
            nn.ReLU(),
            tanh_layer,
            nn.Tanh(),
            nn.Linear(8, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """A small U-Net for (C, H, W) chips; logits (n_classes, H, W).

    Parameters
    ----------
    in_channels, n_classes
        Input channels and output classes.
    base
        Channels of the first level (doubling per level).
    depth
        Number of 2x2 poolings; H and W must be multiples of ``2**depth``.
    """

    def __init__(self, in_channels: int, n_classes: int, base: int = 16, depth: int = 3) -> None:
        super().__init__()
        self.depth = depth
        chans = [base * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_block(in_channels, chans[0])])
        self.down.extend(_block(chans[i], chans[i + 1]) for i in range(depth))
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in reversed(range(depth))
        )
        self.dec = nn.ModuleList(_block(2 * chans[i], chans[i]) for i in reversed(range(depth)))
        self.head = nn.Conv2d(chans[0], n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.up, self.dec, strict=True):
            x = dec(torch.cat([skips.pop(), up(x)], dim=1))
        return self.head(x)


def random_forest(
    seed: int, n_estimators: int = 100, n_jobs: int = 1, max_samples: int | None = None
):  # type: ignore[no-untyped-def]
    """The reference notebook's random forest, with balanced class weights and a fixed seed.

    ``max_samples`` caps the bootstrap sample of each tree (pixels), which bounds the
    training time on large scenes; None: as many as the training pixels.
    """
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=n_estimators,
        max_features="sqrt",
        class_weight="balanced",
        min_samples_leaf=2,
        n_jobs=n_jobs,
        random_state=seed,
        max_samples=max_samples,
    )
