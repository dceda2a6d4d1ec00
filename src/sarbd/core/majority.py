"""The majority rule of reference labelling: the class with the largest area fraction.

AlignSAR labels a pixel with the reference class covering the largest share of its
footprint when that share reaches a threshold (0.5 in AlignSAR; Zhang et al. 2025,
IJAEOG 142:104722). Both the radarcoded hard label (:func:`sarbd.radarcode.derived.hard_label`)
and SARbd-L2 (:func:`sarbd.dataset.labels.label_l2`) use this one function. It sits in
``core`` because radarcode (upstream) and dataset (downstream) both need it and neither
may import the other's internals.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["majority_class"]


def majority_class(
    fractions: NDArray[np.floating], threshold: float, tol: float = 0.0
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Index of the largest class fraction per pixel, and whether it reaches ``threshold``.

    Parameters
    ----------
    fractions
        ``(class, ...)`` area fractions (1, i.e. 0..1); NaN means "not known" and never wins.
    threshold
        Minimum fraction of the majority class (``top >= threshold - tol``), 1.
    tol
        Tolerance below the threshold still accepted, 1 (compared in the fractions' dtype).

    Returns
    -------
    best, reached
        ``best``: index along the class axis of the largest fraction (ties go to the lower
        index; 0 where every fraction is NaN); ``reached``: ``top >= threshold - tol``
        (False where every fraction is NaN).
    """
    filled = np.nan_to_num(np.asarray(fractions), nan=-1.0)
    if filled.shape[0] == 0:
        shape = filled.shape[1:]
        return np.zeros(shape, np.intp), np.zeros(shape, bool)
    best = np.argmax(filled, axis=0)
    top = np.take_along_axis(filled, best[None], axis=0)[0]
    return best, np.asarray(top >= threshold - tol)
