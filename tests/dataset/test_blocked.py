"""The label stage block by block: tiny Dask chunks give the same labels, flags, splits,
chips and class models as one block, and as the in-memory composition of the public
NumPy functions (the algorithm the label stage had before it was chunked)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sarbd.dataset import QUALITY_FLAGS, OutlierTest, class_counts, label_l1, label_l2, label_l3
from sarbd.dataset.blocks import BlockRegions, label_block_regions, merge_regions
from sarbd.dataset.chips import make_chips
from sarbd.dataset.labels import border_mask, fit_outlier_model, outlier_scores, region_outliers
from sarbd.dataset.splits import assign_splits, split_class_balance

FEATURES = ("db(sigma0_vv)", "db(sigma0_vh)", "coherence_vv", "amplitude_dispersion_vv")
TINY = {"line": 37, "pixel": 53}


def _chunked(ds):
    return ds.chunk({k: v for k, v in TINY.items() if k in ds.dims})


def _reference_l3(s, l2v, test, buffer_m, border):
    """The label stage's L3 in memory, from the public NumPy building blocks."""
    from sarbd.dataset.expressions import evaluate
    from sarbd.dataset.labels import reference_flags

    flags = reference_flags(s.fractions, s.classes, 0.5)
    flags[~(s.fractions["boundary_distance"].values >= buffer_m)] |= QUALITY_FLAGS[
        "boundary_buffer"
    ]
    lsm = s.fractions["layover_shadow_mask"].values
    flags[(lsm & 1) != 0] |= QUALITY_FLAGS["layover"]
    flags[(lsm & 2) != 0] |= QUALITY_FLAGS["shadow"]
    flags[border] |= QUALITY_FLAGS["border"]
    x = np.stack(
        [
            evaluate(f, s.signatures).transpose("line", "pixel").values.astype(np.float64)
            for f in test.features
        ],
        axis=-1,
    )
    valid = np.all(np.isfinite(x), axis=-1)
    flags[(l2v > 0) & ~valid] |= QUALITY_FLAGS["invalid_signature"]
    fit = (l2v > 0) & (flags == 0)
    models = fit_outlier_model(x, l2v, fit, test)
    _, out = outlier_scores(x, np.where(valid, l2v, 0), models, test.method)
    flags[out] |= QUALITY_FLAGS["sar_outlier"]
    bad, summary = region_outliers(x, l2v, fit, models, test.method, test.region_min_pixels)
    flags[bad] |= QUALITY_FLAGS["region_outlier"]
    return flags, models, summary


@pytest.mark.parametrize("method", ["mahalanobis", "mad"])
def test_l3_in_tiny_chunks_equals_one_block_and_the_in_memory_algorithm(synthetic, method):
    s = synthetic
    # few fitting samples: the seeded subsample and FAST-MCD's subsample are both drawn
    test = OutlierTest(FEATURES, method=method, max_fit_samples=900, region_min_pixels=6)
    valid = np.ones((s.truth.shape), bool)
    valid[50:52, 70] = False  # unfilled samples across a block seam (line 37 + 13, pixel 53 + 17)
    valid_da = xr.DataArray(
        valid, dims=("line", "pixel"), coords={"line": s.truth["line"], "pixel": s.truth["pixel"]}
    )

    def run(sig, frac, v):
        l2 = label_l2(frac, s.classes, 0.5)
        border = border_mask(v, (2, 3), 2)
        out = label_l3(
            l2,
            sig,
            frac["boundary_distance"],
            frac["layover_shadow_mask"],
            10.0,
            test,
            frac,
            0.5,
            border=border,
            required=["amplitude_dispersion_vv"],
        )
        return l2, border, out

    l2_one, border_one, one = run(s.signatures, s.fractions, valid)
    l2_tiny, border_tiny, tiny = run(
        _chunked(s.signatures), _chunked(s.fractions), valid_da.chunk(TINY)
    )
    assert tiny["label_l3"].chunks == ((37, 37, 37, 9), (53, 53, 44))  # really blocked
    np.testing.assert_array_equal(l2_tiny.values, l2_one.values)
    np.testing.assert_array_equal(np.asarray(border_tiny), border_one)
    np.testing.assert_array_equal(tiny["quality_flags"].values, one["quality_flags"].values)
    np.testing.assert_array_equal(tiny["label_l3"].values, one["label_l3"].values)
    for v in ("label_l3", "quality_flags"):
        assert (
            tiny[v].dtype == one[v].dtype == {"label_l3": np.uint8, "quality_flags": np.uint16}[v]
        )
    assert l2_tiny.dtype == np.uint8
    assert json.loads(tiny["label_l3"].attrs["sarbd_outlier_model"]) == json.loads(
        one["label_l3"].attrs["sarbd_outlier_model"]
    )

    flags, models, summary = _reference_l3(s, l2_one.values, test, 10.0, border_one)
    np.testing.assert_array_equal(one["quality_flags"].values, flags)
    model = json.loads(one["label_l3"].attrs["sarbd_outlier_model"])
    assert model["regions"] == summary
    assert {int(c): m["location"] for c, m in model["classes"].items()} == {
        c: m.location for c, m in models.items()
    }
    # the case is not trivial: regions are rejected, some of them across block seams
    assert sum(v["rejected"] for v in summary.values()) >= 1
    assert np.any(flags & QUALITY_FLAGS["region_outlier"]) and np.any(
        flags & QUALITY_FLAGS["sar_outlier"]
    )
    assert np.all(flags[49:53, 67:74] & QUALITY_FLAGS["border"])
    from scipy import ndimage

    comp, _ = ndimage.label((flags & QUALITY_FLAGS["region_outlier"]) != 0)
    across = [np.any((comp[i - 1] > 0) & (comp[i - 1] == comp[i])) for i in (37, 74, 111)]
    across += [np.any((comp[:, j - 1] > 0) & (comp[:, j - 1] == comp[:, j])) for j in (53, 106)]
    assert any(across)  # a rejected region crosses a block seam


def test_regions_merge_across_block_seams():
    """A U-shaped region cut by seams into four pieces, a class boundary along a seam, and
    a diagonal touch (not 4-connected): merged as scipy.ndimage.label finds them."""
    from scipy import ndimage

    labels = np.zeros((10, 12), np.uint8)
    labels[1:9, 1:3] = 1
    labels[1:9, 7:9] = 1
    labels[7:9, 1:9] = 1  # the U: one region spanning all blocks
    labels[0:4, 4:6] = 2  # class 2 touching nothing of class 1
    labels[4, 6] = 2  # touches (3, 5) only diagonally: its own region
    cand = labels > 0
    blocks = np.empty((2, 2), object)
    locals_ = {}
    for i in range(2):
        for j in range(2):
            sl = (slice(5 * i, 5 * i + 5), slice(6 * j, 6 * j + 6))
            local, classes = label_block_regions(labels[sl], cand[sl])
            locals_[i, j] = local
            blocks[i, j] = BlockRegions.of(local, classes)
    offsets, component, n = merge_regions(blocks)
    merged = np.zeros(labels.shape, np.int64)
    for (i, j), local in locals_.items():
        g = np.where(local > 0, local + offsets[i, j], 0)
        merged[5 * i : 5 * i + 5, 6 * j : 6 * j + 6] = component[g]
    expected = sum(ndimage.label(labels == c)[1] for c in (1, 2))
    assert n == expected == 3
    assert len(np.unique(merged[labels == 1])) == 1  # the U, in four blocks, is one region
    # same partition as the whole-image labelling, class by class
    for c in (1, 2):
        ref, _ = ndimage.label(labels == c)
        pairs = set(zip(ref[labels == c].tolist(), merged[labels == c].tolist(), strict=True))
        assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})


def test_l1_splits_counts_and_chips_in_tiny_chunks(synthetic):
    s = synthetic
    rules = {
        "water": "db(sigma0_vv) < -16 and coherence_vv < 0.3",
        "built_up": "db(median(sigma0_vv)) > -3",
    }
    l1_one = label_l1(s.signatures, rules, s.classes)
    l1_tiny = label_l1(_chunked(s.signatures), rules, s.classes)
    np.testing.assert_array_equal(l1_tiny.values, l1_one.values)
    assert l1_tiny.dtype == l1_one.dtype == np.uint8
    assert class_counts(l1_tiny, s.classes) == class_counts(l1_one, s.classes)

    l2 = label_l2(s.fractions, s.classes, 0.5)
    l2_tiny = label_l2(_chunked(s.fractions), s.classes, 0.5)
    for block, buffer in ((16, 5), (30, 2), (7, 6)):
        one = assign_splits(l2, block, buffer, seed=4)
        tiny = assign_splits(l2_tiny, block, buffer, seed=4)
        np.testing.assert_array_equal(tiny.values, one.values)
        assert tiny.dtype == one.dtype == np.uint8
        np.testing.assert_array_equal(one.values, _reference_splits(l2.shape, block, buffer, 4))
        pd.testing.assert_frame_equal(
            split_class_balance(tiny, l2_tiny, s.classes), split_class_balance(one, l2, s.classes)
        )
        for size, stride in ((8, None), (11, 3), (24, 5)):
            a = make_chips(one, size, l2, s.classes, stride=stride, min_labelled=0.3)
            b = make_chips(tiny, size, l2_tiny, s.classes, stride=stride, min_labelled=0.3)
            pd.testing.assert_frame_equal(a, b)
            pd.testing.assert_frame_equal(
                a, _reference_chips(one, size, l2, s.classes, stride, 0.3)
            )
    assert len(make_chips(assign_splits(l2, 16, 5, seed=4), 8, l2, s.classes)) > 20


def _reference_splits(shape, block, buffer, seed):
    """assign_splits as it was written in memory (block grid + chessboard distance transform)."""
    import math

    from scipy import ndimage

    from sarbd.dataset.splits import DEFAULT_FRACTIONS, _block_counts

    nb = (math.ceil(shape[0] / block), math.ceil(shape[1] / block))
    counts = _block_counts(nb[0] * nb[1], DEFAULT_FRACTIONS)
    order = np.random.default_rng(seed).permutation(nb[0] * nb[1])
    block_split = np.zeros(nb[0] * nb[1], np.uint8)
    start = 0
    for name, n in counts.items():
        block_split[order[start : start + n]] = {"train": 1, "validation": 2, "test": 3}[name]
        start += n
    split = np.repeat(np.repeat(block_split.reshape(nb), block, 0), block, 1)[
        : shape[0], : shape[1]
    ]
    out = split.copy()
    half = math.ceil(buffer / 2)
    for sid in np.unique(split):
        inside = split == sid
        if half and not inside.all():
            out[inside & (ndimage.distance_transform_cdt(inside, metric="chessboard") <= half)] = 0
    return out


def _reference_chips(split, size, labels, classes, stride, min_labelled):
    """make_chips as it was written in memory (window sums + a taken mask, greedy)."""
    s = split.values
    lab = labels.values
    stride = max(1, size // 4) if stride is None else stride

    def sums(mask):
        c = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int64)
        c[1:, 1:] = np.cumsum(np.cumsum(mask, axis=0), axis=1)
        return c[size:, size:] - c[:-size, size:] - c[size:, :-size] + c[:-size, :-size]

    taken = np.zeros(s.shape, bool)
    cl = np.unique(np.r_[np.arange(0, s.shape[0] - size + 1, stride), s.shape[0] - size])
    cp = np.unique(np.r_[np.arange(0, s.shape[1] - size + 1, stride), s.shape[1] - size])
    rows = []
    for sid, name in ((1, "train"), (2, "validation"), (3, "test")):
        ok = sums(s == sid)[np.ix_(cl, cp)] == size * size
        for i, j in zip(*np.nonzero(ok), strict=True):
            l0, p0 = cl[i], cp[j]
            if taken[l0 : l0 + size, p0 : p0 + size].any():
                continue
            w = lab[l0 : l0 + size, p0 : p0 + size]
            n = int(np.count_nonzero(w))
            if n < min_labelled * size * size:
                continue
            counts = np.bincount(w.ravel().astype(np.int64), minlength=256)
            taken[l0 : l0 + size, p0 : p0 + size] = True
            rows.append(
                {
                    "line0": int(split["line"].values[l0]),
                    "pixel0": int(split["pixel"].values[p0]),
                    "size": size,
                    "split": name,
                    "n_labelled": n,
                    **{f"count_{c['name']}": int(counts[c["id"]]) for c in classes},
                }
            )
    columns = [
        "line0",
        "pixel0",
        "size",
        "split",
        "n_labelled",
        *(f"count_{c['name']}" for c in classes),
    ]
    df = (
        pd.DataFrame(rows, columns=columns)
        .sort_values(["line0", "pixel0"], kind="stable")
        .reset_index(drop=True)
    )
    df.insert(0, "chip_id", [f"c{size}_{i:06d}" for i in range(len(df))])
    return df
