"""Machine learning on SARbd datasets: PyTorch datasets, baselines, honest evaluation.

- :func:`open_sarbd` -- a dataset folder opened lazily (classes, features, labels, split)
- :class:`PixelDataset`, :class:`ChipDataset`, :class:`SARbdSegmentation` (TorchGeo-style)
- :func:`fit_model` -- the AlignSAR dense ANN, a random forest, a small U-Net
- :func:`train_run` / :func:`evaluate_run` -- ``sarbd train`` / ``sarbd evaluate``
- :func:`compare_levels` -- the same model trained on L2 and on L3, on the same test pixels

See ``docs/ml.md``.
"""

from __future__ import annotations

from sarbd.ml.compare import compare_levels
from sarbd.ml.data import ClassInfo, Pixels, SarbdData, chip_windows, open_sarbd
from sarbd.ml.datasets import (
    ChipDataset,
    PixelDataset,
    SARbdSegmentation,
    balanced_sampler,
    class_weights,
    fit_preprocessor,
)
from sarbd.ml.fit import FittedModel, fit_model, load_model
from sarbd.ml.metrics import classification_metrics, permutation_importance
from sarbd.ml.preprocess import Preprocessor
from sarbd.ml.protocols import random_pixel_protocol, spatial_protocol
from sarbd.ml.run import evaluate_run, format_summary, train_run

__all__ = [
    "ChipDataset",
    "ClassInfo",
    "FittedModel",
    "PixelDataset",
    "Pixels",
    "Preprocessor",
    "SARbdSegmentation",
    "SarbdData",
    "balanced_sampler",
    "chip_windows",
    "class_weights",
    "classification_metrics",
    "compare_levels",
    "evaluate_run",
    "fit_model",
    "fit_preprocessor",
    "format_summary",
    "load_model",
    "open_sarbd",
    "permutation_importance",
    "random_pixel_protocol",
    "spatial_protocol",
    "train_run",
]
