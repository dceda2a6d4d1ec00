"""Change detection: F1/kappa against a hand-computed confusion matrix, evidence rules, and the Siamese baseline."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sarbd.dataset.change_labels import ChangeChips, change_evidence
from sarbd.ml.change_metrics import binary_confusion, change_scores


def test_scores_hand_case_and_sklearn() -> None:
    # TN 50, FP 10, FN 5, TP 35 (n = 100): F1 = 70 / 85; p_o = 0.85,
    # p_e = (60 * 55 + 40 * 45) / 100^2 = 0.51, kappa = 0.34 / 0.49
    truth = np.array([0] * 60 + [1] * 40)
    pred = np.array([0] * 50 + [1] * 10 + [0] * 5 + [1] * 35)
    cm = binary_confusion(truth, pred)
    assert cm.tolist() == [[50, 10], [5, 35]]
    s = change_scores(cm)
    assert s["f1"] == pytest.approx(70 / 85)
    assert s["kappa"] == pytest.approx(0.34 / 0.49)
    assert s["precision"] == pytest.approx(35 / 45) and s["recall"] == pytest.approx(35 / 40)
    from sklearn.metrics import cohen_kappa_score, f1_score

    assert s["kappa"] == pytest.approx(cohen_kappa_score(truth, pred))
    assert s["f1"] == pytest.approx(f1_score(truth, pred))
    # ignored pixels (-1) are left out; a perfect map has kappa 1, a constant one kappa 0
    assert binary_confusion(np.array([-1, 1, 0]), np.array([1, 1, 0])).tolist() == [[1, 0], [0, 1]]
    assert change_scores(binary_confusion(truth, truth))["kappa"] == pytest.approx(1.0)
    assert change_scores(binary_confusion(truth, np.zeros(100)))["kappa"] == pytest.approx(0.0)
    assert change_scores(binary_confusion(truth, np.zeros(100)))["f1"] == 0.0


def test_change_evidence_rules() -> None:
    i1 = np.ones((2, 4))
    i2 = np.array([[2.1, 1.0, 1.0, 1.0], [1.0, 0.49, 1.0, 1.0]])  # +3.2 dB VV, -3.1 dB VH
    coh = np.array([0.9, 0.9, 0.1, 0.9])
    ratio, anyev = change_evidence(i1, i2, coh, 3.0, 0.3)
    assert ratio.tolist() == [True, True, False, False]
    assert anyev.tolist() == [True, True, True, False]


def _easy_pairs(n: int, seed: int, size: int = 16) -> ChangeChips:
    """Speckled land (-10 dB VV, -17 dB VH, 4-look intensity) with a 5 x 5 patch 10 dB brighter after, in half the chips."""
    rng = np.random.default_rng(seed)

    def speckle(db: float) -> np.ndarray:
        return 10 * np.log10(rng.gamma(4.0, 10 ** (db / 10) / 4.0, (size, size)))

    before, after, coh, lab = [], [], [], []
    for k in range(n):
        b = np.stack([speckle(-10.0), speckle(-17.0)])
        a = np.stack([speckle(-10.0), speckle(-17.0)])
        y = np.zeros((size, size), np.int8)
        if k % 2 == 0:
            r, c = rng.integers(0, size - 5, 2)
            a[:, r : r + 5, c : c + 5] += 10.0
            y[r : r + 5, c : c + 5] = 1
        before.append(b)
        after.append(a)
        coh.append(np.clip(rng.normal(0.4, 0.1, (size, size)), 0, 1))
        lab.append(y)
    z = np.zeros(n, np.int64)
    y = np.stack(lab)
    return ChangeChips(
        np.stack(before).astype(np.float32),
        np.stack(after).astype(np.float32),
        np.stack(coh).astype(np.float32),
        y,
        y,
        y,
        np.ones(n, np.int64),
        z,
        z,
        z,
    )


def test_threshold_baseline_exact() -> None:
    from sarbd.ml.change_run import threshold_change

    chips = _easy_pairs(2, 0)
    flat = ChangeChips(
        np.full_like(chips.before, -10.0),
        np.full_like(chips.after, -10.0),
        chips.coherence,
        chips.l2,
        chips.l3,
        chips.truth,
        chips.split,
        chips.pair,
        chips.line0,
        chips.pixel0,
    )
    flat.after[0, 0, 4:10, 4:10] = 0.0  # +10 dB; the 3 x 3 mean keeps 1/9 of it at the outer ring
    got = threshold_change(flat, 3.0)
    want = np.zeros((2, 16, 16), bool)
    # the ring around the patch: 3 of 9 window samples changed, 10 log10((3 * 10 + 6) / 9) = 6.0 dB >= 3;
    # its corners 1 of 9, 10 log10((10 + 8) / 9) = 3.01 dB >= 3; one pixel further out, nothing
    want[0, 3:11, 3:11] = True
    np.testing.assert_array_equal(got, want)


def test_siamese_learns_easy_case() -> None:
    """Seconds of training: the loss falls and held-out F1 / kappa are far above chance."""
    import torch

    from sarbd.ml.change import evaluate_change, fit_change
    from sarbd.ml.fit import deterministic

    torch.set_num_threads(1)
    train, test = _easy_pairs(32, 0), _easy_pairs(12, 1)
    t0 = time.process_time()
    with deterministic(0, 1):
        fit = fit_change(train, None, epochs=8, batch_size=8, base=8, lr=5e-3)
    assert time.process_time() - t0 < 20
    losses = [h["train_loss"] for h in fit.history]
    assert losses[-1] < 0.5 * losses[0]
    res = evaluate_change(fit, test, "truth")
    # chance level: about 5 % of pixels change; a random map scores F1 ~0.1 and kappa ~0 (the class
    # weight favours recall, so precision is what keeps F1 below 1 here)
    assert res["f1"] > 0.6 and res["kappa"] > 0.6 and res["recall"] > 0.9, res
    empty = _easy_pairs(2, 2)
    empty.l3[:] = 0
    with pytest.raises(ValueError, match="no L3 change pixel"):
        fit_change(empty, None, epochs=1)
