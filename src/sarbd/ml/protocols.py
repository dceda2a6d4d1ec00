"""Evaluation protocols: which labelled pixels train, validate and test a model.

- ``spatial`` (the headline): the dataset's own spatially blocked ``split`` layer --
  train = split 1, validation = split 2, test = split 3; the unassigned buffer (split 0)
  is never used. Test pixels are spatially disjoint from training pixels, so the scores
  measure generalisation to unseen places (Roberts et al. 2017, "Cross-validation
  strategies for data with temporal, spatial, hierarchical, or phylogenetic structure",
  Ecography 40:913-929).
- ``random_pixel`` (for comparison with the AlignSAR paper only): every labelled pixel,
  whatever its split, is drawn at random into train / validation / test (stratified by
  class; default 70/10/20). Neighbouring pixels -- nearly copies of each other under
  speckle filtering and spatial autocorrelation -- land on both sides, so this protocol
  overstates accuracy. Its numbers are reported beside the spatial ones, never instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sarbd.ml.data import SPLIT_TEST, SPLIT_TRAIN, SPLIT_VALIDATION, SarbdData

__all__ = ["Protocol", "random_pixel_protocol", "spatial_protocol"]


@dataclass
class Protocol:
    """Boolean (line, pixel) masks of the labelled pixels of each role."""

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    chip_split: int | None  # U-Net: train only on chips of this split code (None: any chip)


def spatial_protocol(data: SarbdData, level: str) -> Protocol:
    """Train / validation / test from the dataset's ``split`` layer (split 0 left out)."""
    labelled = data.labels(level) > 0
    split = data.split()
    return Protocol(
        "spatial",
        labelled & (split == SPLIT_TRAIN),
        labelled & (split == SPLIT_VALIDATION),
        labelled & (split == SPLIT_TEST),
        SPLIT_TRAIN,
    )


def random_pixel_protocol(
    data: SarbdData,
    level: str,
    seed: int = 0,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
) -> Protocol:
    """The paper's protocol: a stratified random split of all labelled pixels (leaks space)."""
    from sklearn.model_selection import train_test_split

    labels = data.labels(level)
    rows, cols = np.nonzero(labels > 0)
    y = labels[rows, cols]
    idx = np.arange(y.size)
    strat = y if np.unique(y, return_counts=True)[1].min() >= 3 else None
    rest, test = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=strat)
    strat_rest = y[rest] if strat is not None else None
    train, val = train_test_split(
        rest, test_size=val_fraction / (1 - test_fraction), random_state=seed, stratify=strat_rest
    )
    masks = []
    for part in (train, val, test):
        m = np.zeros(labels.shape, bool)
        m[rows[part], cols[part]] = True
        masks.append(m)
    return Protocol("random_pixel", masks[0], masks[1], masks[2], None)
