"""PyTorch datasets: pixels, lazy chips, the TorchGeo-style class, balanced sampling."""

from __future__ import annotations

import sys

import numpy as np
import torch
from torch.utils.data import DataLoader

from sarbd.ml.data import chip_windows, open_sarbd
from sarbd.ml.datasets import (
    ChipDataset,
    PixelDataset,
    SARbdSegmentation,
    balanced_sampler,
    class_index,
    class_weights,
    fit_preprocessor,
)


def test_pixel_dataset(synthetic):
    data = open_sarbd(synthetic.path)
    pre = fit_preprocessor(data, "L3")
    px = data.pixels("L3", splits=[1])
    ds = PixelDataset(px, pre, data.classes("L3"))
    x, y = ds[3]
    assert len(ds) == len(px) and x.shape == (len(pre.channels),) and x.dtype == torch.float32
    assert int(y) == int(px.labels[3]) - 1  # ids 1..4 -> indices 0..3
    assert torch.isfinite(ds.x).all()


def test_balanced_sampler_draws_classes_equally_without_discarding():
    labels = np.repeat(np.array([1, 2, 3], np.uint8), [9000, 900, 100])
    sampler = balanced_sampler(labels, seed=0)
    idx = np.fromiter(iter(sampler), int)
    assert idx.size == labels.size  # an epoch is as long as the data: nothing discarded
    freq = np.bincount(labels[idx], minlength=4)[1:] / idx.size
    np.testing.assert_allclose(freq, 1 / 3, atol=0.03)
    assert np.array_equal(idx, np.fromiter(iter(balanced_sampler(labels, seed=0)), int))  # seeded


def test_class_weights_and_index(synthetic):
    classes = open_sarbd(synthetic.path).classes("L3")
    w = class_weights(np.array([1, 1, 1, 2]), classes)
    np.testing.assert_allclose(w.numpy(), [4 / (4 * 3), 4 / (4 * 1), 1, 1])
    assert class_index(np.array([0, 1, 4, 9]), classes).tolist() == [-100, 0, 3, -100]


def test_chip_dataset_reads_lazily_and_masks_other_splits(synthetic):
    data = open_sarbd(synthetic.path)
    pre = fit_preprocessor(data, "L3")
    size, windows = chip_windows(data)
    train_mask = data.split() == 1
    ds = ChipDataset(
        data, [(r, c) for r, c, _ in windows], size, data.labels("L3"), pre, train_mask
    )
    r, c = ds.windows[5]
    s = ds[5]
    assert s["image"].shape == (len(pre.channels), size, size) and s["image"].dtype == torch.float32
    assert s["mask"].dtype == torch.int64
    expected = np.where(train_mask, data.labels("L3"), 0)[r : r + size, c : c + size]
    assert np.array_equal(s["mask"].numpy(), expected)
    assert s["bounds"] == (
        int(data.line[r]),
        int(data.line[r]) + size,
        int(data.pixel[c]),
        int(data.pixel[c]) + size,
    )
    direct = pre.transform_image(data.reader().read(r, r + size, c, c + size))
    np.testing.assert_array_equal(s["image"].numpy(), direct)


def test_torchgeo_style_dataset_without_torchgeo(synthetic):
    seen = []
    train = SARbdSegmentation(
        synthetic.path, split="train", level="L3", transforms=lambda s: seen.append(1) or s
    )
    test = SARbdSegmentation(synthetic.path, split="test", level="L3")
    assert "torchgeo" not in sys.modules
    assert train.num_classes == 5 and train.in_channels == len(train.preprocessor.channels)
    assert len(train) > len(test) > 0
    # statistics of every split come from the training split
    assert test.preprocessor.to_dict() == train.preprocessor.to_dict()
    split = train.data.split()
    for ds, code in ((train, 1), (test, 3)):
        for i in range(len(ds)):
            s = ds[i]
            l0, l1, p0, p1 = s["bounds"]
            rows, cols = ds.data.positions(np.array([l0]), np.array([p0]))
            win = split[rows[0] : rows[0] + l1 - l0, cols[0] : cols[0] + p1 - p0]
            assert np.all(s["mask"].numpy()[win != code] == 0)  # no labels from other splits
    batch = next(
        iter(
            DataLoader(
                train,
                batch_size=4,
                collate_fn=lambda b: {
                    "image": torch.stack([x["image"] for x in b]),
                    "mask": torch.stack([x["mask"] for x in b]),
                },
            )
        )
    )
    assert batch["image"].shape[:2] == (4, train.in_channels) and seen
    s = train[0]
    w = train.window(slice(s["bounds"][0], s["bounds"][1]), slice(s["bounds"][2], s["bounds"][3]))
    assert torch.equal(w["image"], s["image"]) and torch.equal(w["mask"], s["mask"])
