"""The one majority rule (issue 19): SARbd-L2 and radarcode's hard label both call it."""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

from sarbd.core.majority import majority_class


def test_majority_class_analytic_cases():
    # columns: clear winner; exact tie at the threshold (lower index wins); no class reaches it;
    # NaN never wins; every fraction NaN
    frac = np.array(
        [
            [0.6, 0.5, 0.3, np.nan, np.nan],
            [0.4, 0.5, 0.3, 0.7, np.nan],
            [0.0, 0.0, 0.4, 0.3, np.nan],
        ],
        np.float32,
    )
    best, reached = majority_class(frac, 0.5)
    np.testing.assert_array_equal(best, [0, 0, 2, 1, 0])
    np.testing.assert_array_equal(reached, [True, True, False, True, False])
    # the threshold is inclusive, and a tolerance lowers it
    best, reached = majority_class(np.array([[0.49], [0.2]]), 0.5, tol=0.02)
    assert best[0] == 0 and reached[0]
    assert not majority_class(np.array([[0.49], [0.2]]), 0.5)[1][0]
    best, reached = majority_class(np.zeros((0, 2, 3)), 0.5)
    assert best.shape == reached.shape == (2, 3) and not reached.any()


def test_l2_and_radarcode_hard_label_share_the_rule():
    from sarbd.dataset import label_l2
    from sarbd.radarcode.derived import MIXED, UNCHARTED, hard_label

    rng = np.random.default_rng(1)
    raw = rng.random((3, 40, 50)).astype(np.float32) ** 3
    raw[:, :5] = 0.0  # uncharted
    frac = (raw / np.maximum(raw.sum(axis=0), 1.0)).astype(np.float32)
    codes = np.array([1, 2, 3])
    hard = hard_label(da.from_array(frac, chunks=(3, 16, 16)), codes, 0.5).compute()
    classes = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}]
    ds = xr.Dataset(
        {f"fraction_{c['name']}": (("line", "pixel"), frac[k]) for k, c in enumerate(classes)}
    )
    l2 = label_l2(ds, classes, 0.5).values
    labelled = (hard != MIXED) & (hard != UNCHARTED)
    assert labelled.any() and (hard == MIXED).any()
    np.testing.assert_array_equal(l2[labelled], hard[labelled])
    assert not l2[~labelled].any()
