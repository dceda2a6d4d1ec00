"""SARbd levels L1/L2/L3, quality flags, spatial splits, chips and pixel tables."""

from __future__ import annotations

from sarbd.dataset.classes import QUALITY_FLAGS, SPLIT_NAMES, class_counts, classes_from_attrs
from sarbd.dataset.labels import (
    LabelRule,
    OutlierTest,
    label_l1,
    label_l2,
    label_l3,
    level_precision,
    reference_flags,
)

__all__ = [
    "QUALITY_FLAGS",
    "SPLIT_NAMES",
    "LabelRule",
    "OutlierTest",
    "class_counts",
    "classes_from_attrs",
    "label_l1",
    "label_l2",
    "label_l3",
    "level_precision",
    "reference_flags",
]
