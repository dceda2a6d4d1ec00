"""Metrics against hand-computed values; permutation importance; model shapes."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from sarbd.ml.data import ClassInfo
from sarbd.ml.metrics import classification_metrics, permutation_importance
from sarbd.ml.models import DenseANN, UNet


def test_metrics_analytic():
    classes = ClassInfo((1, 2), ("water", "road"))
    ref = np.array([1, 1, 1, 1, 2, 2, 2, 2, 2, 2])
    pred = np.array([1, 1, 1, 2, 2, 2, 2, 2, 1, 1])
    m = classification_metrics(ref, pred, classes)
    # water: TP 3, FP 2, FN 1 -> P 3/5, R 3/4; road: TP 4, FP 1, FN 2 -> P 4/5, R 4/6
    w, r = m["per_class"]["water"], m["per_class"]["road"]
    assert np.isclose(w["precision"], 0.6) and np.isclose(w["recall"], 0.75)
    assert np.isclose(r["precision"], 0.8) and np.isclose(r["recall"], 4 / 6)
    assert np.isclose(w["f1"], 2 * 0.6 * 0.75 / 1.35)
    assert w["support"] == 4 and r["support"] == 6 and w["predicted"] == 5
    assert m["confusion_matrix"] == [[3, 1], [2, 4]]
    po, pe = 0.7, (4 * 5 + 6 * 5) / 100  # Cohen (1960): (po - pe) / (1 - pe)
    assert np.isclose(m["cohen_kappa"], (po - pe) / (1 - pe))
    assert np.isclose(m["overall_accuracy"], 0.7)
    assert np.isclose(m["macro_f1"], (w["f1"] + r["f1"]) / 2)


def test_background_class_is_never_the_headline():
    classes = ClassInfo((1, 2, 3), ("background", "railway", "water"))
    ref = np.array([1] * 90 + [2] * 5 + [3] * 5)
    pred = np.array([1] * 90 + [1] * 5 + [3] * 5)  # railways all missed
    m = classification_metrics(ref, pred, classes)
    assert m["headline_classes"] == ["railway", "water"]
    assert np.isclose(m["macro_f1"], 0.5)  # (0 + 1) / 2, not inflated by the background's F1 ~0.97
    assert m["per_class"]["background"]["f1"] > 0.97


def test_classes_absent_from_the_reference_are_not_averaged_as_zero():
    classes = ClassInfo((1, 2, 3, 4), ("water", "road", "railway", "field"))
    ref = np.array([1] * 6 + [4] * 4)
    pred = np.array([1] * 5 + [2] + [4] * 4)  # one water pixel predicted road, no railway anywhere
    m = classification_metrics(ref, pred, classes)
    assert m["headline_classes"] == ["water", "field"]
    assert np.isclose(m["macro_f1"], (2 * 5 / 11 + 1.0) / 2)  # water F1 = 2 * 1 * (5/6) / (1 + 5/6)
    road, rail = m["per_class"]["road"], m["per_class"]["railway"]
    assert (
        road["precision"] == 0.0 and road["recall"] is None and road["f1"] is None
    )  # predicted, all wrong
    assert rail["precision"] is None and rail["f1"] is None and rail["support"] == 0


def test_permutation_importance_finds_the_used_feature():
    classes = ClassInfo((1, 2), ("a", "b"))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 3))
    y = np.where(X[:, 1] > 0, 2, 1)

    def predict(Z):
        return np.where(Z[:, 1] > 0, 2, 1)

    imp = permutation_importance(predict, X, y, classes, ["f0", "f1", "f2"], n_repeats=3, seed=0)
    assert imp["features"][0] == "f1" and imp["baseline"] == 1.0
    assert imp["importance_mean"][0] > 0.4
    assert imp["importance_mean"][1:] == [0.0, 0.0]


def test_model_shapes():
    ann = DenseANN(11, 4)
    widths = [m.out_features for m in ann.net if isinstance(m, nn.Linear)]
    assert widths == [128, 64, 64, 64, 32, 16, 8, 4]
    assert sum(isinstance(m, nn.Dropout) for m in ann.net) == 2
    assert ann(torch.zeros(5, 11)).shape == (5, 4)
    unet = UNet(9, 4, base=8, depth=3).eval()
    assert unet(torch.zeros(2, 9, 32, 48)).shape == (2, 4, 32, 48)
