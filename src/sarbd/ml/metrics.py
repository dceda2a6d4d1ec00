"""Classification metrics (scikit-learn) and permutation feature importance.

Per class: precision, recall, F1 and the number of reference pixels (support). Overall:
accuracy, Cohen's kappa (Cohen 1960, ``sklearn.metrics.cohen_kappa_score``), and the
confusion matrix (rows = reference, columns = prediction, in class-id order). The
headline numbers are **macro averages over the real classes present in the reference** --
never the metrics of a background class, the mistake of the reference notebook, which
reported ``precision_recall_fscore_support(...)[0][0]`` (the background) for railways. A
class without reference pixels has no recall or F1 (``None``, shown as ``-``) and is left
out of the macro averages rather than counted as 0; its precision is 0 if it was predicted
(every such prediction is wrong) and ``None`` otherwise.

Permutation importance (Breiman 2001; Fisher, Rudin & Dominici 2019): the drop of the
headline macro F1 when one feature column is shuffled among the test pixels, averaged
over ``n_repeats`` shuffles. Shuffling is done on the raw features, before
normalisation, so the missing-value channels follow their feature.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sarbd.ml.data import ClassInfo

__all__ = ["classification_metrics", "permutation_importance"]


def classification_metrics(
    reference: np.ndarray, predicted: np.ndarray, classes: ClassInfo
) -> dict:
    """Metrics of ``predicted`` against ``reference`` (class ids, same shape, 0 never in ``reference``).

    Returns a JSON-ready dict: ``overall_accuracy``, ``cohen_kappa``, ``macro_f1``,
    ``macro_precision``, ``macro_recall`` (over the headline classes), ``weighted_f1``,
    ``n_pixels``, ``per_class`` {name: {id, precision, recall, f1, support, predicted}},
    ``confusion_matrix`` and ``class_ids``/``class_names`` (its row/column order).
    """
    from sklearn.metrics import (
        accuracy_score,
        cohen_kappa_score,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    ref = np.asarray(reference).ravel().astype(np.int64)
    pred = np.asarray(predicted).ravel().astype(np.int64)
    ids = list(classes.ids)
    out: dict = {"n_pixels": int(ref.size), "class_ids": ids, "class_names": list(classes.names)}
    if ref.size == 0:
        return {**out, "overall_accuracy": None, "cohen_kappa": None, "macro_f1": None}
    p, r, f, s = precision_recall_fscore_support(ref, pred, labels=ids, zero_division=0)
    cm = confusion_matrix(ref, pred, labels=ids)
    headline = [ids.index(i) for i in classes.headline_ids() if s[ids.index(i)] > 0]
    kappa = cohen_kappa_score(ref, pred, labels=ids) if np.unique(ref).size > 1 else float("nan")
    out.update(
        overall_accuracy=float(accuracy_score(ref, pred)),
        cohen_kappa=None if np.isnan(kappa) else float(kappa),
        macro_f1=float(np.mean(f[headline])) if headline else None,
        macro_precision=float(np.mean(p[headline])) if headline else None,
        macro_recall=float(np.mean(r[headline])) if headline else None,
        weighted_f1=float(np.average(f, weights=np.maximum(s, 0)) if s.sum() else 0.0),
        headline_classes=[classes.names[k] for k in headline],
        per_class={
            name: {
                "id": int(cid),
                "precision": float(p[k]) if s[k] > 0 or cm[:, k].sum() > 0 else None,
                "recall": float(r[k]) if s[k] > 0 else None,
                "f1": float(f[k]) if s[k] > 0 else None,
                "support": int(s[k]),
                "predicted": int(cm[:, k].sum()),
            }
            for k, (cid, name) in enumerate(zip(classes.ids, classes.names, strict=True))
        },
        confusion_matrix=cm.tolist(),
    )
    return out


def permutation_importance(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    classes: ClassInfo,
    features: list[str],
    *,
    n_repeats: int = 5,
    seed: int = 0,
    max_pixels: int | None = 20000,
) -> dict:
    """Drop of macro F1 when each raw feature is shuffled (mean and std over repeats).

    Parameters
    ----------
    predict
        Raw features (n, F) -> predicted class ids (n,).
    X, y
        Raw test features and reference class ids.
    max_pixels
        Random subsample (seeded) of the test pixels, to bound the cost.
    """
    rng = np.random.default_rng(seed)
    if max_pixels is not None and y.size > max_pixels:
        keep = np.sort(rng.choice(y.size, max_pixels, replace=False))
        X, y = X[keep], y[keep]
    base = classification_metrics(y, predict(X), classes)["macro_f1"]
    mean, std = [], []
    for k in range(X.shape[1]):
        drops = []
        for _ in range(n_repeats):
            Xp = X.copy()
            Xp[:, k] = X[rng.permutation(y.size), k]
            drops.append(base - classification_metrics(y, predict(Xp), classes)["macro_f1"])
        mean.append(float(np.mean(drops)))
        std.append(float(np.std(drops)))
    order = np.argsort(mean)[::-1]
    return {
        "metric": "macro_f1",
        "baseline": base,
        "n_repeats": n_repeats,
        "n_pixels": int(y.size),
        "features": [features[i] for i in order],
        "importance_mean": [mean[i] for i in order],
        "importance_std": [std[i] for i in order],
    }
