"""COCO RLE masks and the spatial block split of detection chips."""

from __future__ import annotations

import numpy as np

from sarbd.dataset.detection_labels import mask_to_rle, rle_to_mask, split_blocks


def test_rle_hand_cases_and_round_trip() -> None:
    # column-major: [[0, 1], [1, 1]] -> 0, 1, 1, 1 -> one zero, three ones
    assert mask_to_rle(np.array([[0, 1], [1, 1]], bool)) == {"counts": [1, 3], "size": [2, 2]}
    # a mask starting with a one starts with an empty run of zeros
    assert mask_to_rle(np.array([[1, 0], [0, 0]], bool)) == {"counts": [0, 1, 3], "size": [2, 2]}
    rng = np.random.default_rng(0)
    m = rng.uniform(size=(7, 5)) > 0.6
    np.testing.assert_array_equal(rle_to_mask(mask_to_rle(m)), m)
    assert sum(mask_to_rle(m)["counts"]) == m.size


def test_split_blocks_whole_blocks() -> None:
    keep = np.ones((8, 12), bool)
    keep[:, :4] = False  # land: no chip there
    split = split_blocks(keep.shape, 2, keep, seed=3)
    assert set(np.unique(split[keep])) == {1, 2, 3}
    assert np.all(split[~keep] == 0)
    for r in range(0, 8, 2):
        for c in range(4, 12, 2):
            assert np.unique(split[r : r + 2, c : c + 2]).size == 1  # one split per block
    counts = np.bincount(split[keep] // 1, minlength=4)[1:] / 4  # blocks per split
    # 16 blocks of sea: 70/15/15 -> 11.2, 2.4, 2.4; the one left over goes to the largest remainder
    # (a tie: the first, validation)
    assert counts.tolist() == [11, 3, 2]
