"""The CenterNet baseline: targets, decoding, and a tiny from-scratch training on an easy synthetic case."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from sarbd.dataset.detection_labels import DetectionChips
from sarbd.ml.detection import STRIDE, decode, detection_targets, evaluate_detector, fit_detector
from sarbd.ml.fit import deterministic


def _easy_chips(n: int, seed: int, size: int = 32) -> DetectionChips:
    """Speckled sea (-15 dB, exponential intensity) with 1-2 bright 'ships' (+5 dB, 4 x 8 px) per chip."""
    rng = np.random.default_rng(seed)
    images, boxes, labels = [], [], []
    for _ in range(n):
        img = 10 * np.log10(rng.exponential(10**-1.5, (size, size)))
        b = []
        for _ in range(int(rng.integers(1, 3))):
            x0, y0 = int(rng.integers(1, size - 10)), int(rng.integers(1, size - 6))
            img[y0 : y0 + 4, x0 : x0 + 8] = 5.0 + rng.normal(0, 1, (4, 8))
            b.append([x0, y0, x0 + 8, y0 + 4])
        images.append(img.astype(np.float32))
        boxes.append(np.array(b, float))
        labels.append(np.zeros(len(b), np.int64))
    return DetectionChips(
        np.stack(images),
        np.ones(n, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        boxes,
        labels,
        ["ship"],
    )


def test_targets_decode_round_trip() -> None:
    """Perfect network outputs (logits of the targets) decode to the reference boxes."""
    boxes = np.array([[4.0, 8.0, 12.0, 12.0], [17.0, 20.0, 31.0, 29.0]])
    heat, wh, off, mask = detection_targets(boxes, np.array([0, 1]), 32, 2)
    assert heat.shape == (2, 32 // STRIDE, 32 // STRIDE) and mask.sum() == 2 and heat.max() == 1.0
    logit = torch.from_numpy(
        np.log(np.clip(heat, 1e-6, 1 - 1e-6) / (1 - np.clip(heat, 1e-6, 1 - 1e-6)))
    )
    ((b, _s, c),) = decode(
        logit[None], torch.from_numpy(wh)[None], torch.from_numpy(off)[None], score_threshold=0.99
    )
    order = np.argsort(c)
    np.testing.assert_allclose(b[order], boxes, atol=1e-5)
    np.testing.assert_array_equal(c[order], [0, 1])


def test_training_learns_easy_case() -> None:
    """A few seconds of training: the loss falls and the held-out mAP@0.5 is far above chance (~0)."""
    train, test = _easy_chips(48, 0), _easy_chips(16, 1)
    t0 = time.process_time()
    with deterministic(0, 1):
        fit = fit_detector(train, None, epochs=8, batch_size=8, base=8, lr=3e-3)
    assert time.process_time() - t0 < 30
    losses = [h["train_loss"] for h in fit.history]
    assert losses[-1] < 0.5 * losses[0]
    res = evaluate_detector(fit, test)
    assert res["map"] > 0.5, res
    runs = []
    for _ in range(2):  # same seed, same weights
        with deterministic(0, 1):
            runs.append(fit_detector(test, None, epochs=1, batch_size=8, base=8))
    again, first = runs
    for a, b in zip(
        again.model.state_dict().values(), first.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_bad_chip_size() -> None:
    chips = _easy_chips(2, 0, size=30)
    with pytest.raises(ValueError, match="multiple of the output stride"):
        fit_detector(chips, None, epochs=1)


def test_threshold_reference_detector() -> None:
    """A bright 3 x 2 target and a dark 6 x 10 patch on flat sea give exactly their boxes."""
    from sarbd.ml.detection_threshold import threshold_detect

    img = np.full((32, 32), -15.0, np.float32)
    img[4:7, 10:12] = 0.0  # ship: 15 dB above the sea
    img[20:26, 5:15] = -25.0  # slick: 10 dB below
    boxes, scores, labels = threshold_detect(img, ["ship", "oil_slick"])
    got = {int(c): b.tolist() for b, c in zip(boxes, labels, strict=True)}
    assert got[0] == [10, 4, 12, 7]
    # the 3 x 3 mean of the intensity lifts the patch's rim: an edge pixel (6 dark, 3 sea values) is
    # exactly 4 dB below, not more, so the box shrinks by one pixel each way
    assert got[1] == [6, 21, 14, 25]
    assert scores[labels == 0][0] == pytest.approx(15.0)
