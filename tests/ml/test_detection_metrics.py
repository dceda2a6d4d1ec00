"""mAP@0.5 and IoU against hand-computed cases (PASCAL VOC all-point AP)."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.ml.detection_metrics import average_precision, box_iou, mean_average_precision


def test_box_iou_hand_case() -> None:
    iou = box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]))
    np.testing.assert_allclose(iou, [[1 / 7, 1.0, 0.0]])


def test_average_precision_hand_case() -> None:
    # ranked TP, FP, TP, FP with 3 objects: precision 1, 1/2, 2/3, 1/2 at recall 1/3, 1/3, 2/3, 2/3
    # envelope: 1 up to recall 1/3, 2/3 up to 2/3, nothing beyond -> AP = 1/3 * 1 + 1/3 * 2/3 = 5/9
    assert average_precision(np.array([1, 0, 1, 0], bool), 3) == pytest.approx(5 / 9)
    assert average_precision(np.array([0, 1], bool), 1) == pytest.approx(
        0.5
    )  # precision 1/2 at recall 1
    assert average_precision(np.array([], bool), 2) == 0.0
    with pytest.raises(ValueError):
        average_precision(np.array([1], bool), 0)


def test_map_matching_duplicates_and_classes() -> None:
    gt_boxes = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([[0, 0, 4, 4]])]
    gt_labels = [np.array([0, 0]), np.array([1])]
    # image 0: a hit (IoU 1), a duplicate of it (FP: object already matched), a miss (IoU 0.25 < 0.5);
    # image 1: a class-1 hit; a class-0 detection there is an FP
    pred_boxes = [
        np.array([[0, 0, 10, 10], [0, 0, 10, 9], [20, 20, 25, 25]]),
        np.array([[0, 0, 4, 4], [0, 0, 4, 4]]),
    ]
    pred_scores = [np.array([0.9, 0.8, 0.7]), np.array([0.95, 0.6])]
    pred_labels = [np.array([0, 0, 0]), np.array([1, 0])]
    res = mean_average_precision(
        pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels, n_classes=3
    )
    # class 0 ranking: 0.9 TP, 0.8 FP, 0.7 FP, 0.6 FP; 2 objects -> AP = 1/2 * 1
    assert res["ap"][0] == pytest.approx(0.5)
    assert res["ap"][1] == pytest.approx(1.0)
    assert res["ap"][2] is None  # no ground truth: left out of the mean
    assert res["map"] == pytest.approx(0.75)
    assert res["n_gt"] == [2, 1, 0] and res["n_pred"] == [4, 1, 0]
