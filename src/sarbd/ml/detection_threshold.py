"""A non-learned reference for the detector: fixed thresholds against the chip's sea level.

Each chip's sea level is its median sigma0 (dB). Ships: 8-connected components of
pixels more than ``bright_db`` above it (at least ``min_ship_px`` pixels), scored by
their peak excess; oil slicks: components of the 3 x 3 mean (dB of the mean
intensity, which reduces speckle) more than ``dark_db`` below it (at least
``min_slick_px`` pixels), scored by their mean deficit. The same idea as the
constant-false-alarm-rate ship detectors and dark-spot segmentation of operational
services (Crisp, D. J. (2004), The state-of-the-art in ship detection in SAR imagery,
DSTO-RR-0272; Brekke & Solberg 2005), reduced to two thresholds; it gives the learned
baseline's mAP@0.5 a point of comparison on the same chips.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from sarbd.dataset.detection_labels import DetectionChips
from sarbd.filters import boxcar
from sarbd.ml.detection_metrics import mean_average_precision

__all__ = ["evaluate_threshold_detector", "threshold_detect"]


def _components(
    mask: NDArray[np.bool_], min_px: int
) -> list[tuple[slice, slice, NDArray[np.bool_]]]:
    lab, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    out = []
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        m = lab[sl] == k
        if m.sum() >= min_px:
            out.append((sl[0], sl[1], m))
    return out


def threshold_detect(
    image_db: NDArray[np.float32],
    categories: list[str],
    *,
    bright_db: float = 10.0,
    dark_db: float = 4.0,
    min_ship_px: int = 2,
    min_slick_px: int = 8,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Boxes ``x0, y0, x1, y1``, scores and labels of one chip (see the module docstring)."""
    sea = float(np.median(image_db))
    boxes, scores, labels = [], [], []
    if "ship" in categories:
        for rs, cs, m in _components(image_db > sea + bright_db, min_ship_px):
            boxes.append([cs.start, rs.start, cs.stop, rs.stop])
            scores.append(float(image_db[rs, cs][m].max() - sea))
            labels.append(categories.index("ship"))
    if "oil_slick" in categories:
        lin = boxcar(
            10.0 ** (image_db.astype(np.float64) / 10.0), 3, edges="nearest", nan="propagate"
        )
        smooth = 10.0 * np.log10(np.maximum(lin, 1e-12))
        for rs, cs, m in _components(smooth < sea - dark_db, min_slick_px):
            boxes.append([cs.start, rs.start, cs.stop, rs.stop])
            scores.append(float(sea - smooth[rs, cs][m].mean()))
            labels.append(categories.index("oil_slick"))
    return (
        np.array(boxes, np.float64).reshape(-1, 4),
        np.array(scores, np.float64),
        np.array(labels, np.int64),
    )


def evaluate_threshold_detector(chips: DetectionChips, **kw: Any) -> dict[str, Any]:
    """mAP@0.5 of :func:`threshold_detect` on ``chips`` (same keys as the learned detector's evaluation)."""
    det = [threshold_detect(img, chips.categories, **kw) for img in chips.images]
    res = mean_average_precision(
        [d[0] for d in det],
        [d[1] for d in det],
        [d[2] for d in det],
        chips.boxes,
        chips.labels,
        len(chips.categories),
    )
    res["per_class"] = {
        c: {"ap": res["ap"][k], "n_gt": res["n_gt"][k], "n_pred": res["n_pred"][k]}
        for k, c in enumerate(chips.categories)
    }
    res["n_chips"] = int(chips.images.shape[0])
    return res
