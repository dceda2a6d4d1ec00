"""SARbd-L1/L2/L3 and quality flags on analytic and synthetic cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from sarbd.dataset import (
    QUALITY_FLAGS,
    OutlierTest,
    class_counts,
    label_l1,
    label_l2,
    label_l3,
    level_precision,
)
from sarbd.dataset.labels import fit_outlier_model, outlier_scores, region_outliers
from sarbd.errors import ConfigError, InputError

CLASSES = [{"id": 1, "name": "water"}, {"id": 2, "name": "urban"}]
FEATURES = ("db(sigma0_vv)", "db(sigma0_vh)", "coherence_vv", "amplitude_dispersion_vv")


def _frac(w, u):
    dims = ("line", "pixel")
    return xr.Dataset(
        {
            "fraction_water": (dims, np.array(w, np.float32)),
            "fraction_urban": (dims, np.array(u, np.float32)),
        }
    )


def test_l2_majority_threshold_and_ties():
    fr = _frac([[0.6, 0.5, 0.2, 0.0, np.nan]], [[0.4, 0.5, 0.3, 0.0, 0.9]])
    l2 = label_l2(fr, CLASSES, threshold=0.5)
    # 0.6 water; tie 0.5/0.5 -> lower id; 0.3 < 0.5 -> 0; nothing -> 0; NaN water, 0.9 urban
    np.testing.assert_array_equal(l2.values, [[1, 1, 0, 0, 2]])
    assert l2.dtype == np.uint8
    assert l2.attrs["flag_meanings"] == "unlabelled water urban"
    np.testing.assert_array_equal(l2.attrs["flag_values"], [0, 1, 2])
    np.testing.assert_array_equal(label_l2(fr, CLASSES, threshold=0.25).values, [[1, 1, 2, 0, 2]])
    with pytest.raises(ConfigError):
        label_l2(fr, CLASSES, threshold=0.0)
    with pytest.raises(InputError, match="fraction_forest"):
        label_l2(fr, [*CLASSES, {"id": 3, "name": "forest"}])


def test_l1_first_matching_rule_wins():
    dims = ("line", "pixel")
    sig = xr.Dataset({"a": (dims, np.array([[1.0, 5.0, 9.0, np.nan]]))})
    rules = [("urban", "a > 4"), ("water", "a > 0"), ("water", "a > 8")]
    l1 = label_l1(sig, rules, CLASSES)
    np.testing.assert_array_equal(l1.values, [[1, 2, 2, 0]])
    assert json.loads(l1.attrs["sarbd_rules"])[0] == {"class_name": "urban", "expression": "a > 4"}
    with pytest.raises(ConfigError, match="unknown class"):
        label_l1(sig, {"forest": "a > 1"}, CLASSES)
    with pytest.raises(ConfigError, match="not a condition"):
        label_l1(sig, {"water": "a + 1"}, CLASSES)


def test_l1_rules_on_synthetic_signatures(synthetic):
    rules = {
        "water": "db(sigma0_vv) < -16 and coherence_vv < 0.3",
        "built_up": "amplitude_dispersion_vv < 0.25 and db(sigma0_vv) > -3",
    }
    l1 = label_l1(synthetic.signatures, rules, synthetic.classes)
    truth = synthetic.truth.values
    for name, cid in (("water", 1), ("built_up", 2)):
        sel = l1.values == cid
        assert sel.sum() > 0.5 * (truth == cid).sum()
        assert (truth[sel] == cid).mean() > 0.99, name
    assert class_counts(l1, synthetic.classes)["vegetation"] == 0
    assert sum(class_counts(l1, synthetic.classes).values()) == truth.size


def _l3(synthetic, **kw):
    s = synthetic
    l2 = label_l2(s.fractions, s.classes, 0.5)
    out = label_l3(
        l2,
        s.signatures,
        s.fractions["boundary_distance"],
        s.fractions["layover_shadow_mask"],
        buffer_m=kw.pop("buffer_m", 10.0),
        outlier_test=OutlierTest(FEATURES, **kw),
        fractions=s.fractions,
        threshold=0.5,
    )
    return l2, out


def test_l3_is_purer_than_l2_on_a_corrupted_reference(synthetic):
    """Acceptance-style check: reference with ~10 % wrong parcels and shifted boundaries."""
    l2, out = _l3(synthetic)
    truth = synthetic.truth.values
    l2v, l3v = l2.values, out["label_l3"].values
    prec_l2 = (l2v[l2v > 0] == truth[l2v > 0]).mean()
    prec_l3 = (l3v[l3v > 0] == truth[l3v > 0]).mean()
    kept = (l3v > 0).sum() / (l2v > 0).sum()
    assert prec_l2 < 0.95  # the corruption is real
    assert prec_l3 >= 0.99 and prec_l3 > prec_l2
    assert kept >= 0.6
    table = level_precision(truth, {"label_l2": l2v, "label_l3": l3v}, synthetic.classes)
    assert table.loc["all", "label_l3_precision"] == pytest.approx(prec_l3)
    assert table.loc["all", "label_l3_kept"] == pytest.approx(kept)
    assert table.loc["all", "label_l2_kept"] == 1.0
    for c in synthetic.classes:  # per class too
        sel = l3v == c["id"]
        assert table.loc[c["name"], "label_l3_precision"] == pytest.approx(
            (truth[sel] == c["id"]).mean()
        )
        assert table.loc[c["name"], "label_l3_precision"] >= 0.98, c["name"]
        # >= 0.45: this fixture's boundary distance is to class boundaries, so a region (of the
        # region test) can join a wrong parcel to clean same-class neighbours, which go with it
        assert table.loc[c["name"], "label_l3_kept"] >= 0.45, c["name"]


def test_quality_flags_explain_every_exclusion(synthetic):
    l2, out = _l3(synthetic)
    flags, l3, l2v = out["quality_flags"].values, out["label_l3"].values, l2.values
    assert flags.dtype == np.uint16
    np.testing.assert_array_equal(l3 > 0, flags == 0)  # L3 exactly where no flag is set
    assert np.all(l3[l3 > 0] == l2v[l3 > 0])
    lsm = synthetic.fractions["layover_shadow_mask"].values
    assert np.all(flags[lsm == 1] & QUALITY_FLAGS["layover"])
    assert np.all(flags[lsm == 3] & QUALITY_FLAGS["layover"]) and np.all(
        flags[lsm == 3] & QUALITY_FLAGS["shadow"]
    )
    assert not np.any(flags[lsm == 0] & (QUALITY_FLAGS["layover"] | QUALITY_FLAGS["shadow"]))
    dist = synthetic.fractions["boundary_distance"].values
    assert np.all((flags[dist < 10] & QUALITY_FLAGS["boundary_buffer"]) != 0)
    assert np.all((flags[dist >= 10] & QUALITY_FLAGS["boundary_buffer"]) == 0)
    if l2v[0, 0]:
        assert flags[0, 0] & QUALITY_FLAGS["invalid_signature"]  # the fixture's NaN pixel
    assert np.all(flags[l2v == 0] & (QUALITY_FLAGS["no_reference"] | QUALITY_FLAGS["mixed"]))
    assert np.any(flags & QUALITY_FLAGS["sar_outlier"])
    assert out["quality_flags"].attrs["flag_meanings"].split()[0] == "no_reference"
    model = json.loads(out["label_l3"].attrs["sarbd_outlier_model"])
    assert set(model["classes"]) == {"1", "2", "3", "4"}


@pytest.mark.parametrize("method", ["mahalanobis", "mad"])
def test_region_test_rejects_a_mislabelled_parcel_the_pixel_test_cannot(method):
    """Two classes 1.5 sigma apart: most pixels of a mislabelled parcel pass the pixel test,
    its mean does not; clean parcels and small regions are kept."""
    rng = np.random.default_rng(3)
    shape = (60, 90)
    truth = np.ones(shape, np.uint8)
    truth[:, 45:] = 2
    labels = truth.copy()
    labels[5:25, 50:80] = 1  # a class-2 parcel labelled 1 in the reference
    candidates = np.ones(shape, bool)
    candidates[:, 44:46] = False  # the buffer cuts the two classes apart...
    candidates[4, 50:80] = candidates[25, 50:80] = (
        False  # ...and the wrong parcel from its neighbours
    )
    candidates[5:25, 49] = candidates[5:25, 80] = False
    labels[40:42, 10:12] = 2  # a 4-pixel region of class 2 inside class 1: too small to judge
    candidates[39, 10:12] = candidates[42, 10:12] = candidates[40:42, 9] = candidates[40:42, 12] = (
        False
    )
    means = {1: np.array([-10.0, -17.0]), 2: np.array([-8.5, -15.5])}
    x = np.empty((*shape, 2))
    for c, mu in means.items():
        sel = truth == c
        x[sel] = mu + rng.normal(0.0, 1.0, (int(sel.sum()), 2))
    test = OutlierTest(("a", "b"), method=method)
    models = fit_outlier_model(x, labels, candidates, test)
    _, pixel_out = outlier_scores(x, labels, models, method)
    wrong = labels != truth
    assert pixel_out[wrong].mean() < 0.2  # single pixels are not separable
    rejected, summary = region_outliers(x, labels, candidates, models, method, min_pixels=10)
    assert rejected[5:25, 50:80].all()
    assert not rejected[40:42, 10:12].any()  # under min_pixels
    assert rejected.sum() == 20 * 30
    assert summary["1"]["rejected"] == 1 and summary["1"]["rejected_pixels"] == 600
    assert summary["2"] == {"regions": 2, "tested": 1, "rejected": 0, "rejected_pixels": 0}
    none, _ = region_outliers(x, labels, candidates, {1: models[1]}, method)
    assert not none.any()  # one tested class: nothing to compare with


@pytest.mark.parametrize("method", ["mahalanobis", "mad"])
def test_outlier_test_false_rejection_rate_on_clean_classes(method):
    """On clean Gaussian classes the rejection rate is the nominal alpha."""
    rng = np.random.default_rng(1)
    n, alpha = 60000, 0.01
    cov = np.array([[4.0, 1.0, 0.2], [1.0, 2.0, 0.1], [0.2, 0.1, 0.5]])
    x1 = rng.multivariate_normal([-20, -27, 0.2], cov, n)
    x2 = rng.multivariate_normal([3, -6, 0.8], np.diag([1.0, 1.0, 0.1]), n)
    x = np.concatenate([x1, x2])[None]
    labels = np.repeat([1, 2], n)[None].astype(np.uint8)
    test = OutlierTest(("a",), method=method, alpha=alpha)
    models = fit_outlier_model(x, labels, labels > 0, test)
    _, out = outlier_scores(x, labels, models, method)
    for cid in (1, 2):
        frr = out[labels == cid].mean()
        # mad treats features as independent, so it is only approximately alpha
        lo, hi = (
            (0.75 * alpha, 1.3 * alpha) if method == "mahalanobis" else (0.3 * alpha, 2.0 * alpha)
        )
        assert lo < frr < hi, (method, cid, frr)
    # and gross impostors are caught
    impostor = np.array([[[3.0, -6.0, 0.8]]])
    _, caught = outlier_scores(impostor, np.array([[1]], np.uint8), models, method)
    assert caught.all()


def test_small_classes_are_not_tested_and_recorded():
    x = np.random.default_rng(0).normal(size=(1, 30, 2))
    labels = np.ones((1, 30), np.uint8)
    models = fit_outlier_model(x, labels, labels > 0, OutlierTest(("a", "b"), min_samples=50))
    assert not models[1].tested and models[1].n_fit == 30
    _, out = outlier_scores(x, labels, models, "mahalanobis")
    assert not out.any()


def test_border_mask_reach_of_invalid_samples_and_image_edges():
    from sarbd.dataset.labels import border_mask

    valid = np.ones((40, 50), bool)
    valid[:, -3:] = False  # a secondary's resampling left the last 3 columns without data
    valid[20, 25] = False  # one invalid sample inside
    edge = border_mask(valid, (1, 2), kernel_reach=3)
    # columns: invalid from 47, reached by 2 (window) + 3 (kernel) -> 42..49 flagged, 41 not
    assert edge[10:30, 42:].all() and not edge[5, 41]
    # the inner sample: +-(1 + 3) lines, +-(2 + 3) pixels around (20, 25), nothing beyond
    assert edge[16:25, 20:31].all() and not edge[15, 25] and not edge[25, 25] and not edge[20, 19]
    # the window alone runs off the image: 1 line, 2 pixels at each edge
    assert edge[0, 10] and not edge[1, 10] and edge[10, 1] and not edge[10, 2] and edge[39, 10]
    assert not edge[1:39, 2:19].any()


def test_border_and_required_signatures_flag_and_exclude_from_l3(synthetic):
    from sarbd.dataset.labels import border_mask

    l2 = label_l2(synthetic.fractions, synthetic.classes, 0.5)
    valid = np.ones(l2.shape, bool)
    valid[:, -2:] = False
    border = border_mask(valid, 2, 4)
    sig = synthetic.signatures.copy()
    required = np.ones(l2.shape, np.float32)
    required[30:33, 40:45] = np.nan  # a time-invariant signature undefined there
    sig["req"] = (("line", "pixel"), required)
    out = label_l3(
        l2,
        sig,
        synthetic.fractions["boundary_distance"],
        synthetic.fractions["layover_shadow_mask"],
        10.0,
        OutlierTest(("db(sigma0_vv)",)),
        synthetic.fractions,
        0.5,
        border=border,
        required=["req"],
    )
    flags, l3 = out["quality_flags"].values, out["label_l3"].values
    assert np.all(flags[border] & QUALITY_FLAGS["border"]) and not np.any(
        flags[~border] & QUALITY_FLAGS["border"]
    )
    assert not np.any(l3[border]) and not np.any(l3[30:33, 40:45])
    lab = l2.values[30:33, 40:45] > 0
    assert np.all(flags[30:33, 40:45][lab] & QUALITY_FLAGS["invalid_signature"])
    assert np.any(l3[~border])
    with pytest.raises(InputError, match="border mask"):
        label_l3(
            l2,
            sig,
            synthetic.fractions["boundary_distance"],
            synthetic.fractions["layover_shadow_mask"],
            10.0,
            None,
            border=border[:-1],
        )


def test_reference_date_layers_are_undefined_not_features():
    from sarbd.dataset.assemble import mask_undefined_dates

    rng = np.random.default_rng(0)
    coh = rng.uniform(0.1, 0.9, (3, 8, 9)).astype(np.float32)
    coh[0] = 1.0  # the reference against itself
    phase = rng.uniform(-3, 3, (3, 8, 9)).astype(np.float32)
    phase[0] = 0.0
    phase[0, 2, 2] = np.nan
    sig = rng.normal(size=(3, 8, 9)).astype(np.float32)
    ds = xr.Dataset(
        {
            "coherence_vv": (("time", "line", "pixel"), coh, {"sarbd_category": "1"}),
            "interferometric_phase_vv": (("time", "line", "pixel"), phase, {"sarbd_category": "1"}),
            "sigma0_vv": (("time", "line", "pixel"), sig, {"sarbd_category": "1"}),
            "height": (("line", "pixel"), np.zeros((8, 9), np.float32)),
        },
        coords={"time": np.array(["2022-01-09", "2022-01-21", "2022-02-02"], "datetime64[ns]")},
        attrs={"reference_date": "2022-01-09T05:00:00"},
    )
    out = mask_undefined_dates(ds)
    for name in ("coherence_vv", "interferometric_phase_vv"):
        assert np.isnan(out[name].values[0]).all() and np.isfinite(out[name].values[1:]).all()
        assert out[name].attrs["sarbd_undefined_dates"] == "2022-01-09"
        assert "reference date" in out[name].attrs["sarbd_undefined_reason"]
    assert "sarbd_undefined_dates" not in out["sigma0_vv"].attrs
    np.testing.assert_array_equal(out["sigma0_vv"].values, sig)
    assert "sarbd_undefined_dates" not in out["height"].attrs


@pytest.mark.parametrize("method", ["mahalanobis", "mad"])
def test_class_without_spread_is_not_tested_and_does_not_crash(method, caplog):
    """A class whose fitting sample has no spread (e.g. a stack of identical dates) is left
    untested with a warning, instead of FAST-MCD's ValueError or every pixel an outlier."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.full((1, 400, 2), 3.0), rng.normal(size=(1, 400, 2))], axis=1)
    labels = np.repeat([1, 2], 400)[None].astype(np.uint8)
    with caplog.at_level("WARNING", logger="sarbd.dataset.labels"):
        models = fit_outlier_model(x, labels, labels > 0, OutlierTest(("a", "b"), method=method))
    assert not models[1].tested and models[1].n_fit == 400
    assert models[2].tested
    assert any("class 1 not tested" in r.getMessage() for r in caplog.records)
    _, out = outlier_scores(x, labels, models, method)
    assert not out[labels == 1].any()
