"""Detection metrics: box IoU, average precision and mAP at an IoU threshold (PASCAL VOC / COCO definition).

Matching (Everingham, M. et al. (2010), The PASCAL Visual Object Classes (VOC)
challenge, *IJCV* 88(2), 303-338, sec. 4.4): per class, the detections of all images
are ranked by descending score; each is a true positive when its best-overlapping
ground-truth box of the same image and class has IoU >= the threshold and has not been
matched by a higher-ranked detection, else a false positive. Precision and recall
follow down the ranking; AP is the area under the precision envelope
``p_interp(r) = max_{r' >= r} p(r')`` summed at every recall step ("all points",
VOC 2010-2012; COCO's AP at IoU 0.5 is the same curve sampled at 101 recall points).
mAP is the mean AP over the classes that have ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["average_precision", "box_iou", "mean_average_precision"]


def box_iou(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """IoU matrix ``(len(a), len(b))`` of boxes ``x0, y0, x1, y1`` (area = (x1 - x0)(y1 - y0))."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ix = np.clip(
        np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None
    )
    iy = np.clip(
        np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None
    )
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def average_precision(tp: NDArray[np.bool_], n_gt: int) -> float:
    """All-point interpolated AP of detections already ranked by descending score (``tp`` flags)."""
    if n_gt <= 0:
        raise ValueError("AP needs at least one ground-truth object")
    tp = np.asarray(tp, bool)
    if tp.size == 0:
        return 0.0
    ctp = np.cumsum(tp)
    recall = ctp / n_gt
    precision = ctp / np.arange(1, tp.size + 1)
    mrec = np.concatenate([[0.0], recall])
    mpre = np.concatenate([[0.0], precision])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # envelope: max precision at any higher recall
    step = np.flatnonzero(np.diff(mrec) > 0) + 1
    return float(np.sum((mrec[step] - mrec[step - 1]) * mpre[step]))


def mean_average_precision(
    pred_boxes: Sequence[NDArray[np.float64]],
    pred_scores: Sequence[NDArray[np.float64]],
    pred_labels: Sequence[NDArray[np.int64]],
    gt_boxes: Sequence[NDArray[np.float64]],
    gt_labels: Sequence[NDArray[np.int64]],
    n_classes: int,
    iou_threshold: float = 0.5,
) -> dict[str, Any]:
    """mAP over images (lists indexed by image); returns ``{"map", "ap": [...], "n_gt": [...], "n_pred": [...]}``.

    A class without ground truth has AP ``None`` and is left out of the mean.
    """
    aps: list[float | None] = []
    n_gt_all, n_pred_all = [], []
    for c in range(n_classes):
        gts = [
            np.asarray(b).reshape(-1, 4)[np.asarray(lab) == c]
            for b, lab in zip(gt_boxes, gt_labels, strict=True)
        ]
        n_gt = int(sum(g.shape[0] for g in gts))
        dets = []
        for i, (b, s, lab) in enumerate(zip(pred_boxes, pred_scores, pred_labels, strict=True)):
            sel = np.asarray(lab) == c
            for box, score in zip(
                np.asarray(b).reshape(-1, 4)[sel], np.asarray(s)[sel], strict=True
            ):
                dets.append((float(score), i, box))
        dets.sort(key=lambda t: -t[0])
        n_gt_all.append(n_gt)
        n_pred_all.append(len(dets))
        if n_gt == 0:
            aps.append(None)
            continue
        used = [np.zeros(g.shape[0], bool) for g in gts]
        tp = np.zeros(len(dets), bool)
        for k, (_, i, box) in enumerate(dets):
            if gts[i].shape[0] == 0:
                continue
            iou = box_iou(box[None], gts[i])[0]
            j = int(np.argmax(iou))
            if iou[j] >= iou_threshold and not used[i][j]:
                used[i][j] = True
                tp[k] = True
        aps.append(average_precision(tp, n_gt))
    valid = [a for a in aps if a is not None]
    return {
        "map": float(np.mean(valid)) if valid else None,
        "ap": aps,
        "n_gt": n_gt_all,
        "n_pred": n_pred_all,
        "iou_threshold": iou_threshold,
    }
