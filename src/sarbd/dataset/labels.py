"""SARbd label levels L1, L2 and L3, and the per-pixel quality flags.

* **SARbd-L1** -- rules on SAR signatures (:func:`label_l1`): ordered
  ``class: expression`` pairs in the safe language of :mod:`sarbd.dataset.expressions`;
  the first rule that holds gives the pixel its class.
* **SARbd-L2** -- the radarcoded reference (:func:`label_l2`): the class with the largest
  area fraction, if that fraction reaches ``threshold`` (AlignSAR used 0.5; Zhang et al.
  2025, IJAEOG 142:104722).
* **SARbd-L3** -- L2 pixels that are outside the boundary buffer, not in layover or
  shadow, have valid signatures, and are consistent with the SAR statistics of their
  class (:func:`label_l3` with an :class:`OutlierTest` learned from the L2 pixels): each
  pixel must not be an outlier of its class, and the region it belongs to (a connected
  set of same-class candidates, about one reference feature once the boundary buffer
  has cut the outlines) must on average look more like its class than like any other.

``quality_flags`` records, bit by bit, every reason a pixel is not L3
(:data:`sarbd.dataset.classes.QUALITY_FLAGS`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import xarray as xr
from scipy import stats

from sarbd.dataset.classes import QUALITY_FLAGS, check_classes, label_attrs, quality_flag_attrs
from sarbd.dataset.expressions import evaluate, parse_rule
from sarbd.errors import ConfigError, InputError

__all__ = [
    "LabelRule",
    "OutlierTest",
    "border_mask",
    "fit_outlier_model",
    "label_l1",
    "label_l2",
    "label_l3",
    "level_precision",
    "outlier_scores",
    "reference_flags",
    "region_outliers",
]


@dataclass(frozen=True)
class LabelRule:
    """One SARbd-L1 rule: pixels where ``expression`` holds get class ``class_name``."""

    class_name: str
    expression: str


def _rules(rules: Iterable[LabelRule | Mapping[str, str] | tuple[str, str]] | Mapping[str, str]) -> list[LabelRule]:
    if isinstance(rules, Mapping):
        return [LabelRule(str(k), str(v)) for k, v in rules.items()]
    out = []
    for r in rules:
        if isinstance(r, LabelRule):
            out.append(r)
        elif isinstance(r, Mapping):
            try:
                out.append(LabelRule(str(r["class"]), str(r["expression"])))
            except KeyError:
                raise ConfigError(f"rule {dict(r)!r} needs 'class' and 'expression'") from None
        else:
            name, expr = r
            out.append(LabelRule(str(name), str(expr)))
    return out


def _grid_template(ds: xr.Dataset | Mapping[str, xr.DataArray]) -> xr.DataArray:
    for v in ds.values():
        if "line" in v.dims and "pixel" in v.dims:
            return v.isel(time=0, drop=True) if "time" in v.dims else v
    raise InputError("no variable with dims (line, pixel) found")


def _plain_coords(da: xr.DataArray) -> dict[str, Any]:
    return {str(k): v for k, v in da.coords.items() if set(v.dims) <= {"line", "pixel"}}


def label_l1(
    signatures: xr.Dataset,
    rules: Iterable[LabelRule | Mapping[str, str] | tuple[str, str]] | Mapping[str, str],
    classes: Sequence[Mapping[str, Any]],
    time_reduce: str = "median",
) -> xr.DataArray:
    """SARbd-L1: classes from rules on the signatures.

    Parameters
    ----------
    signatures
        Signature dataset (``docs/formats.md``).
    rules
        Ordered rules, as :class:`LabelRule`, ``(class, expression)`` pairs,
        ``{"class", "expression"}`` dicts, or a ``{class: expression}`` mapping.
        The first rule that holds labels the pixel; a class may have several rules.
    classes
        ``[{"id", "name"}, ...]``.
    time_reduce
        Temporal reduction of per-date signatures named outside ``median(...)`` etc.

    Returns
    -------
    xarray.DataArray
        ``label_l1`` (uint8, ``(line, pixel)``), 0 where no rule holds.
    """
    classes = check_classes(classes)
    ids = {c["name"]: c["id"] for c in classes}
    rule_list = _rules(rules)
    template = _grid_template(signatures)
    out = np.zeros(template.shape, np.uint8)
    for rule in rule_list:
        if rule.class_name not in ids:
            raise ConfigError(f"L1 rule for unknown class {rule.class_name!r}",
                              hint=f"classes: {', '.join(ids)}")
        parse_rule(rule.expression)
        mask = evaluate(rule.expression, signatures, time_reduce=time_reduce)
        if mask.dtype != bool:
            raise ConfigError(f"L1 rule {rule.expression!r} is not a condition (use a comparison)")
        mask = mask.transpose("line", "pixel")
        hit = np.asarray(mask.values) & (out == 0)
        out[hit] = ids[rule.class_name]
    attrs = label_attrs(classes, "L1", "first matching rule on SAR signatures")
    attrs["sarbd_rules"] = json.dumps([asdict(r) for r in rule_list])
    return xr.DataArray(out, dims=("line", "pixel"), coords=_plain_coords(template), name="label_l1", attrs=attrs)


def _fraction_stack(fractions: xr.Dataset | Mapping[str, xr.DataArray],
                    classes: list[dict[str, Any]]) -> tuple[np.ndarray, xr.DataArray]:
    layers = []
    for c in classes:
        key = f"fraction_{c['name']}"
        if key not in fractions:
            raise InputError(f"reference fraction {key!r} is missing",
                             hint="radarcode every class of the class list")
        layers.append(np.asarray(fractions[key].transpose("line", "pixel").values, np.float32))
    return np.stack(layers), fractions[f"fraction_{classes[0]['name']}"]


def label_l2(
    fractions: xr.Dataset | Mapping[str, xr.DataArray],
    classes: Sequence[Mapping[str, Any]],
    threshold: float = 0.5,
) -> xr.DataArray:
    """SARbd-L2: the majority reference class, where its area fraction reaches ``threshold``.

    Parameters
    ----------
    fractions
        ``fraction_<class>`` layers (0..1) from :mod:`sarbd.radarcode`.
    classes
        ``[{"id", "name"}, ...]``.
    threshold
        Minimum area fraction of the majority class (``>=``); ties go to the lower id.

    Returns
    -------
    xarray.DataArray
        ``label_l2`` (uint8), 0 where no class reaches the threshold.
    """
    classes = check_classes(classes)
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"the L2 fraction threshold must be in (0, 1], got {threshold}")
    stack, template = _fraction_stack(fractions, classes)
    filled = np.nan_to_num(stack, nan=-1.0)
    best = np.argmax(filled, axis=0)
    top = np.take_along_axis(filled, best[None], axis=0)[0]
    ids = np.array([c["id"] for c in classes], np.uint8)
    out = np.where(top >= threshold, ids[best], 0).astype(np.uint8)
    attrs = label_attrs(classes, "L2", f"majority reference class with area fraction >= {threshold}")
    attrs["sarbd_fraction_threshold"] = float(threshold)
    return xr.DataArray(out, dims=("line", "pixel"), coords=_plain_coords(template), name="label_l2", attrs=attrs)


def reference_flags(fractions: xr.Dataset | Mapping[str, xr.DataArray],
                    classes: Sequence[Mapping[str, Any]], threshold: float = 0.5) -> np.ndarray:
    """``no_reference`` (all fractions 0 or NaN) and ``mixed`` (no class reaches ``threshold``) bits."""
    classes = check_classes(classes)
    stack, _ = _fraction_stack(fractions, classes)
    total = np.nansum(stack, axis=0)
    top = np.nanmax(np.nan_to_num(stack, nan=-1.0), axis=0)
    flags = np.zeros(total.shape, np.uint16)
    no_ref = ~(total > 0)
    flags[no_ref] |= QUALITY_FLAGS["no_reference"]
    flags[~no_ref & (top < threshold)] |= QUALITY_FLAGS["mixed"]
    return flags


@dataclass(frozen=True)
class OutlierTest:
    """Per-class test that a labelled pixel is consistent with its class's SAR statistics.

    Parameters
    ----------
    features
        Expressions (as in L1 rules) giving one value per pixel each, e.g.
        ``("db(sigma0_vv)", "db(sigma0_vh)", "coherence_vv")``. Backscatter should be in dB:
        speckle-averaged log-intensity is close to Gaussian, linear intensity is not.
    method
        ``"mahalanobis"``: robust squared Mahalanobis distance to the class, with location and
        covariance from the Minimum Covariance Determinant estimator (Rousseeuw & Van
        Driessen 1999, Technometrics 41:212; scikit-learn ``MinCovDet``) followed by a
        consistency-corrected one-step reweighting (:func:`_robust_gaussian`); a pixel is
        an outlier when ``d^2 > chi2_k(1 - alpha)``.
        ``"mad"``: per feature, ``|x - median| / (1.4826 MAD) > z`` with ``z`` chosen so that
        ``k`` independent Gaussian features together reject ``alpha`` (Šidák).
    alpha
        Nominal false-rejection rate for a clean Gaussian class.
    max_fit_samples
        Pixels per class drawn (seeded) to fit the class model.
    min_samples
        Classes with fewer candidate pixels are not tested (recorded as ``tested: false``).
    seed
        Seed of the fitting subsample and of MCD.
    time_reduce
        Temporal reduction of per-date signatures in ``features``.
    region_min_pixels
        Regions (:func:`region_outliers`) of at least this many pixels are tested; 0 turns
        the region test off.
    """

    features: tuple[str, ...]
    method: Literal["mahalanobis", "mad"] = "mahalanobis"
    alpha: float = 0.01
    max_fit_samples: int = 20000
    min_samples: int = 50
    seed: int = 0
    time_reduce: str = "median"
    region_min_pixels: int = 10

    def __post_init__(self) -> None:
        if not self.features:
            raise ConfigError("the L3 outlier test needs at least one feature")
        for f in self.features:
            parse_rule(f)
        if self.method not in ("mahalanobis", "mad"):
            raise ConfigError(f"outlier method must be 'mahalanobis' or 'mad', got {self.method!r}")
        if not 0.0 < self.alpha < 0.5:
            raise ConfigError(f"outlier alpha must be in (0, 0.5), got {self.alpha}")


@dataclass
class ClassModel:
    """Fitted statistics of one class (JSON-serialisable)."""

    class_id: int
    n_fit: int
    tested: bool
    location: list[float] = field(default_factory=list)
    scale: list[list[float]] = field(default_factory=list)  # covariance (mahalanobis) or [MAD-sigma] (mad)
    cutoff: float = float("nan")


def _features(signatures: xr.Dataset, test: OutlierTest) -> np.ndarray:
    layers = [np.asarray(evaluate(f, signatures, time_reduce=test.time_reduce)
                         .transpose("line", "pixel").values, np.float64) for f in test.features]
    return np.stack(layers, axis=-1)


#: Pixels per class given to FAST-MCD; its cost grows steeply above 500 (scikit-learn splits the data).
MCD_SAMPLES = 500
#: Quantile of the chi-square distribution that trims the reweighting steps.
REWEIGHT_QUANTILE = 0.975
#: Reweighting steps (the trimmed, corrected estimate converges to a fixed point in a few).
REWEIGHT_STEPS = 4


def _robust_gaussian(x: np.ndarray, rng: np.random.Generator, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Robust location and Gaussian-consistent covariance of ``x`` (n, k).

    1. FAST-MCD (Rousseeuw & Van Driessen 1999; scikit-learn ``MinCovDet``) on at most
       :data:`MCD_SAMPLES` points gives a robust start (breakdown ~50 %).
    2. :data:`REWEIGHT_STEPS` reweighting steps on all ``n`` points: keep those with squared distance
       ``d^2 <= c = chi2_k(0.975)`` and take their mean and covariance, scaled by
       ``0.975 / F_{chi2_{k+2}}(c)`` so that it is consistent at the Gaussian (a Gaussian
       truncated to ``d^2 <= c`` has covariance ``F_{k+2}(c) / F_k(c)`` times the full one;
       Croux & Haesbroeck 1999, J. Multivariate Anal. 71:161).
    """
    from sklearn.covariance import MinCovDet

    k = x.shape[1]
    start = x if x.shape[0] <= MCD_SAMPLES else x[rng.choice(x.shape[0], MCD_SAMPLES, replace=False)]
    mcd = MinCovDet(random_state=seed).fit(start)
    location, covariance = mcd.location_, mcd.covariance_
    c = stats.chi2.ppf(REWEIGHT_QUANTILE, k)
    factor = REWEIGHT_QUANTILE / stats.chi2.cdf(c, k + 2)
    for _ in range(REWEIGHT_STEPS):
        d = x - location
        d2 = np.einsum("ni,ij,nj->n", d, np.linalg.pinv(covariance), d)
        keep = x[d2 <= c]
        if keep.shape[0] <= k:
            break
        location = keep.mean(axis=0)
        covariance = np.cov(keep, rowvar=False).reshape(k, k) * factor
    return location, covariance


def fit_outlier_model(x: np.ndarray, labels: np.ndarray, fit_mask: np.ndarray,
                      test: OutlierTest) -> dict[int, ClassModel]:
    """Fit one :class:`ClassModel` per class on the pixels where ``fit_mask`` holds.

    ``x`` is ``(line, pixel, k)`` features, ``labels`` the L2 classes.
    """

    rng = np.random.default_rng(test.seed)
    k = x.shape[-1]
    models = {}
    for cid in np.unique(labels[fit_mask & (labels > 0)]):
        idx = np.flatnonzero(fit_mask & (labels == cid))
        if idx.size < max(test.min_samples, 5 * k):
            models[int(cid)] = ClassModel(int(cid), int(idx.size), False)
            continue
        if idx.size > test.max_fit_samples:
            idx = rng.choice(idx, test.max_fit_samples, replace=False)
        sample = x.reshape(-1, k)[idx]
        if test.method == "mahalanobis":
            location, covariance = _robust_gaussian(sample, rng, test.seed)
            cutoff = float(stats.chi2.ppf(1.0 - test.alpha, k))
            models[int(cid)] = ClassModel(int(cid), int(idx.size), True, location.tolist(),
                                          covariance.tolist(), cutoff)
        else:
            med = np.median(sample, axis=0)
            sigma = 1.4826 * np.median(np.abs(sample - med), axis=0)
            p = 1.0 - (1.0 - test.alpha) ** (1.0 / k)
            cutoff = float(stats.norm.ppf(1.0 - p / 2.0))
            models[int(cid)] = ClassModel(int(cid), int(idx.size), True, med.tolist(), [sigma.tolist()], cutoff)
    return models


def _class_distance(xs: np.ndarray, m: ClassModel, method: str) -> np.ndarray:
    """Squared robust Mahalanobis distance (or largest robust z) of ``xs`` (n, k) to a class model."""
    loc = np.asarray(m.location)
    if method == "mahalanobis":
        d = xs - loc
        return np.asarray(np.einsum("ni,ij,nj->n", d, np.linalg.pinv(np.asarray(m.scale)), d))
    sigma = np.asarray(m.scale[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.max(np.abs(xs - loc) / sigma, axis=-1))


def outlier_scores(x: np.ndarray, labels: np.ndarray, models: Mapping[int, ClassModel],
                   method: str) -> tuple[np.ndarray, np.ndarray]:
    """Score and outlier mask of every labelled pixel against its class model.

    Returns ``(score, outlier)``: the squared robust Mahalanobis distance (or the largest
    robust z) and ``score > cutoff``; NaN / False for unlabelled or untested pixels.
    """
    score = np.full(labels.shape, np.nan)
    outlier = np.zeros(labels.shape, bool)
    for cid, m in models.items():
        if not m.tested:
            continue
        sel = labels == cid
        s = _class_distance(x[sel], m, method)
        score[sel] = s
        outlier[sel] = s > m.cutoff
    return score, outlier


def region_outliers(x: np.ndarray, labels: np.ndarray, candidates: np.ndarray,
                    models: Mapping[int, ClassModel], method: str,
                    min_pixels: int = 10) -> tuple[np.ndarray, dict[str, dict[str, int]]]:
    """Regions whose mean signature is nearer to another class than to their own.

    A region is a 4-connected set of ``candidates`` with the same label. Once the boundary
    buffer has removed every pixel an outline crosses, a region is about the interior of
    one reference feature, and label errors of the reference (a parcel given the wrong
    class) come feature by feature. The region's mean feature vector averages the
    speckle of all its pixels, so it separates classes whose single-pixel distributions
    overlap: the region is rejected when its mean is nearer, in each class model's own
    metric (:func:`fit_outlier_model`), to another tested class than to its own
    (nearest-class-mean consistency, a classification filter for label noise; Brodley &
    Friedl 1999, J. Artif. Intell. Res. 11:131). Regions of fewer than ``min_pixels``
    pixels and classes without a tested model are not judged.

    Parameters
    ----------
    x
        Features ``(line, pixel, k)``.
    labels
        Class ids ``(line, pixel)``.
    candidates
        Pixels that may form regions (L2 pixels passing the buffer, layover/shadow and
        validity checks).
    models
        Class models from :func:`fit_outlier_model`.

    Returns
    -------
    rejected, summary
        Boolean mask of the pixels of rejected regions, and per class
        ``{"regions", "tested", "rejected", "rejected_pixels"}``.
    """
    from scipy import ndimage

    tested = {cid: m for cid, m in models.items() if m.tested}
    rejected = np.zeros(labels.shape, bool)
    summary: dict[str, dict[str, int]] = {}
    if len(tested) < 2:
        return rejected, summary
    k = x.shape[-1]
    for cid in tested:
        regions, n = ndimage.label(candidates & (labels == cid))
        if n == 0:
            continue
        idx = regions.ravel()
        count = np.bincount(idx, minlength=n + 1)[1:]
        means = np.stack([np.bincount(idx, weights=x[..., j].ravel(), minlength=n + 1)[1:] for j in range(k)],
                         axis=-1) / np.maximum(count, 1)[:, None]
        own = _class_distance(means, tested[cid], method)
        other = np.min(np.stack([_class_distance(means, m, method) for c, m in tested.items() if c != cid]), axis=0)
        judged = count >= max(1, min_pixels)
        bad = judged & (other < own)
        rejected |= np.concatenate([[False], bad])[regions]
        summary[str(cid)] = {"regions": int(n), "tested": int(judged.sum()), "rejected": int(bad.sum()),
                             "rejected_pixels": int(count[bad].sum())}
    return rejected, summary


def border_mask(valid: np.ndarray | xr.DataArray, window_reach: int | tuple[int, int],
                kernel_reach: int = 0) -> np.ndarray:
    """Pixels whose signature window or resampling kernel runs off the valid data.

    A pixel is *border* when a sample within ``window_reach + kernel_reach`` (lines,
    pixels) of it is invalid in some date -- a secondary's resampling kernel reached
    past the data it was resampled from, and the signature window then averages that --
    or when its signature window (``window_reach``) runs off the image, where the
    estimators see padded samples. Such signatures are biased (the issue-21 demo scene:
    amplitude dispersion 1.0-1.8 in the last rows against 0.45 inside), so they are
    never SARbd-L3.

    Parameters
    ----------
    valid
        ``(line, pixel)`` boolean: the sample is finite and non-zero in every date.
    window_reach
        Half size (lines, pixels) of the signature window plus filters (``required_halo``).
    kernel_reach
        Half length of the coregistration interpolation kernel (taps // 2), px.

    Returns
    -------
    numpy.ndarray
        Boolean ``(line, pixel)``, True on border pixels.
    """
    from scipy import ndimage

    ok = np.asarray(valid, bool)
    wl, wp = (window_reach, window_reach) if isinstance(window_reach, int) else window_reach
    rl, rp = wl + kernel_reach, wp + kernel_reach
    # invalid samples spread over every window that contains them
    near_invalid = ~ndimage.binary_erosion(ok, np.ones((2 * rl + 1, 2 * rp + 1), bool), border_value=1)
    edge = np.zeros(ok.shape, bool)
    edge[:wl] = edge[ok.shape[0] - wl:] = True
    edge[:, :wp] = edge[:, ok.shape[1] - wp:] = True
    return near_invalid | edge


def label_l3(
    l2: xr.DataArray,
    signatures: xr.Dataset,
    boundary_distance: xr.DataArray,
    layover_shadow: xr.DataArray,
    buffer_m: float,
    outlier_test: OutlierTest | None,
    fractions: xr.Dataset | Mapping[str, xr.DataArray] | None = None,
    threshold: float = 0.5,
    border: np.ndarray | xr.DataArray | None = None,
    required: Sequence[str] = (),
) -> xr.Dataset:
    """SARbd-L3 and the quality flags.

    A pixel is L3 when it is L2 and none of these holds (each sets a bit of
    ``quality_flags``): ``boundary_distance < buffer_m`` or NaN (``boundary_buffer``);
    layover / shadow in ``layover_shadow`` (bit 1 / bit 2 of the mask); the signature
    window or resampling kernel runs off the valid data (``border``, from ``border``); a feature of the
    outlier test is not finite (``invalid_signature``); the outlier test rejects it
    (``sar_outlier``); its region's mean signature is nearer to another class
    (``region_outlier``, :func:`region_outliers`, when ``region_min_pixels > 0``). The class models are fitted on the L2 pixels that pass every other
    check, then applied to all L2 pixels with valid features.

    Parameters
    ----------
    l2
        ``label_l2`` from :func:`label_l2`.
    signatures
        Signature dataset the outlier features are computed from.
    boundary_distance
        Distance to the nearest reference class boundary, m.
    layover_shadow
        ``layover_shadow_mask`` (0 none, 1 layover, 2 shadow, 3 both).
    buffer_m
        Boundary buffer, m.
    outlier_test
        The SAR-consistency test, or ``None`` to skip it.
    fractions, threshold
        If given, the ``no_reference``/``mixed`` bits are set from the fractions (as in
        :func:`reference_flags`); otherwise every pixel with ``l2 == 0`` gets ``no_reference``.
    border
        Boolean ``(line, pixel)`` from :func:`border_mask`: those pixels get the ``border``
        flag and are left out of the class models.
    required
        Time-invariant signature variables (of ``signatures``) that must be finite for a
        pixel to be L3 (``invalid_signature`` otherwise), besides the outlier features.

    Returns
    -------
    xarray.Dataset
        ``label_l3`` (uint8) and ``quality_flags`` (uint16); the fitted class models are in
        ``label_l3.attrs["sarbd_outlier_model"]`` (JSON).
    """
    if buffer_m < 0:
        raise ConfigError(f"the boundary buffer must be >= 0 m, got {buffer_m}")
    labels = np.asarray(l2.transpose("line", "pixel").values).astype(np.uint8)
    shape = labels.shape
    if fractions is not None:
        classes = json_classes(l2)
        flags = reference_flags(fractions, classes, threshold)
    else:
        flags = np.where(labels == 0, QUALITY_FLAGS["no_reference"], 0).astype(np.uint16)
    dist = np.asarray(boundary_distance.transpose("line", "pixel").values, np.float64)
    lsm = np.asarray(layover_shadow.transpose("line", "pixel").values).astype(np.uint8)
    if dist.shape != shape or lsm.shape != shape:
        raise InputError(f"L2 {shape}, boundary_distance {dist.shape} and layover/shadow {lsm.shape} differ")
    flags[~(dist >= buffer_m)] |= QUALITY_FLAGS["boundary_buffer"]
    flags[(lsm & 1) != 0] |= QUALITY_FLAGS["layover"]
    flags[(lsm & 2) != 0] |= QUALITY_FLAGS["shadow"]
    if border is not None:
        edge = np.asarray(border.transpose("line", "pixel").values if isinstance(border, xr.DataArray) else border,
                          bool)
        if edge.shape != shape:
            raise InputError(f"border mask {edge.shape} differs from the label grid {shape}")
        flags[edge] |= QUALITY_FLAGS["border"]
    for name in required:
        values = np.asarray(signatures[name].transpose("line", "pixel").values)
        flags[(labels > 0) & ~np.isfinite(values)] |= QUALITY_FLAGS["invalid_signature"]

    model_json: dict[str, Any] = {}
    if outlier_test is not None:
        x = _features(signatures, outlier_test)
        if x.shape[:2] != shape:
            raise InputError(f"signature grid {x.shape[:2]} differs from the label grid {shape}")
        valid = np.all(np.isfinite(x), axis=-1)
        flags[(labels > 0) & ~valid] |= QUALITY_FLAGS["invalid_signature"]
        fit_mask = (labels > 0) & (flags == 0)
        models = fit_outlier_model(x, labels, fit_mask, outlier_test)
        lab_valid = np.where(valid, labels, 0)
        _, outlier = outlier_scores(x, lab_valid, models, outlier_test.method)
        flags[outlier] |= QUALITY_FLAGS["sar_outlier"]
        model_json = {"test": asdict(outlier_test), "classes": {str(k): asdict(v) for k, v in models.items()}}
        if outlier_test.region_min_pixels > 0:
            bad_regions, summary = region_outliers(x, labels, fit_mask, models, outlier_test.method,
                                                   outlier_test.region_min_pixels)
            flags[bad_regions] |= QUALITY_FLAGS["region_outlier"]
            model_json["regions"] = summary
    l3 = np.where((labels > 0) & (flags == 0), labels, 0).astype(np.uint8)
    attrs = {k: v for k, v in l2.attrs.items() if k in ("flag_values", "flag_meanings", "units")}
    attrs.update({
        "long_name": "SARbd-L3 class label",
        "sarbd_level": "L3",
        "comment": "L2 pixels outside the boundary buffer, not in layover/shadow, consistent with SAR statistics",
        "sarbd_boundary_buffer_m": float(buffer_m),
        "sarbd_outlier_model": json.dumps(model_json, default=float),
    })
    coords = _plain_coords(l2)
    return xr.Dataset(
        {
            "label_l3": xr.DataArray(l3, dims=("line", "pixel"), coords=coords, attrs=attrs),
            "quality_flags": xr.DataArray(flags, dims=("line", "pixel"), coords=coords, attrs=quality_flag_attrs()),
        }
    )


def json_classes(labels: xr.DataArray) -> list[dict[str, Any]]:
    """The class list encoded in a label raster's ``flag_values``/``flag_meanings``."""
    values = np.atleast_1d(labels.attrs.get("flag_values", []))
    names = str(labels.attrs.get("flag_meanings", "")).split()
    if len(values) != len(names) or not len(values):
        raise InputError("label raster has no matching flag_values/flag_meanings")
    return [{"id": int(v), "name": n} for v, n in zip(values, names, strict=True) if int(v) != 0]


def level_precision(truth: xr.DataArray | np.ndarray, levels: Mapping[str, xr.DataArray | np.ndarray],
                    classes: Sequence[Mapping[str, Any]], reference_level: str = "label_l2") -> Any:
    """Per-class precision of each label level against a truth map, and the share of pixels kept.

    ``precision = #(label == c and truth == c) / #(label == c)``; ``kept`` is the number of
    pixels of class ``c`` in a level divided by that in ``reference_level``. The last row,
    ``all``, pools the classes. Returns a :class:`pandas.DataFrame` (rows: classes + ``all``;
    columns ``<level>_precision``, ``<level>_pixels``, ``<level>_kept``).
    """
    import pandas as pd

    classes = check_classes(classes)
    t = np.asarray(truth)
    rows: dict[str, dict[str, float]] = {c["name"]: {} for c in classes}
    rows["all"] = {}
    ref = np.asarray(levels[reference_level]) if reference_level in levels else None
    for level, lab in levels.items():
        lab = np.asarray(lab)
        for c in [*classes, None]:
            sel = (lab == c["id"]) if c else (lab > 0)
            n = int(sel.sum())
            hits = int(((lab == t) & sel).sum())
            key = c["name"] if c else "all"
            rows[key][f"{level}_precision"] = hits / n if n else float("nan")
            rows[key][f"{level}_pixels"] = n
            if ref is not None:
                n_ref = int(((ref == c["id"]) if c else (ref > 0)).sum())
                rows[key][f"{level}_kept"] = n / n_ref if n_ref else float("nan")
    return pd.DataFrame.from_dict(rows, orient="index")
