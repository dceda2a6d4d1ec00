"""Binary change metrics: confusion matrix, F1 and Cohen's kappa of the change class."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["binary_confusion", "change_scores"]


def binary_confusion(truth: NDArray[Any], pred: NDArray[Any]) -> NDArray[np.int64]:
    """2 x 2 confusion matrix ``[[TN, FP], [FN, TP]]`` over pixels where ``truth`` is 0 or 1 (-1 ignored)."""
    t = np.asarray(truth).ravel()
    p = np.asarray(pred).ravel().astype(bool)
    if t.shape != p.shape:
        raise ValueError(f"truth and prediction differ in size: {t.size} vs {p.size}")
    ok = (t == 0) | (t == 1)
    t, p = t[ok].astype(bool), p[ok]
    return np.array([[np.sum(~t & ~p), np.sum(~t & p)], [np.sum(t & ~p), np.sum(t & p)]], np.int64)


def change_scores(cm: NDArray[np.int64]) -> dict[str, Any]:
    """Precision, recall, F1 of the change class, overall accuracy and Cohen's kappa of a 2 x 2 matrix.

    ``F1 = 2 TP / (2 TP + FP + FN)``; ``kappa = (p_o - p_e) / (1 - p_e)`` with
    ``p_o = (TP + TN) / n`` and ``p_e`` the agreement expected from the marginals,
    ``sum_k (row_k col_k) / n^2`` (Cohen, J. (1960), A coefficient of agreement for
    nominal scales, *Educ. Psychol. Meas.* 20(1), 37-46). Undefined values are None.
    """
    (tn, fp), (fn, tp) = np.asarray(cm, dtype=np.float64)
    n = tn + fp + fn + tp
    p_o = (tp + tn) / n if n else None
    p_e = ((tn + fp) * (tn + fn) + (fn + tp) * (fp + tp)) / (n * n) if n else None
    kappa = (p_o - p_e) / (1.0 - p_e) if p_o is not None and p_e is not None and p_e < 1.0 else None
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else None,
        "overall_accuracy": p_o,
        "kappa": kappa,
        "confusion": np.asarray(cm).astype(int).tolist(),
        "n_pixels": int(n),
        "n_change": int(tp + fn),
    }
