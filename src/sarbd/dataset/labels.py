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

Every level runs block by block on Dask arrays (the ``(line, pixel)`` blocks of the inputs,
:mod:`sarbd.dataset.blocks`), with results identical to one block: windows get a halo
(``map_overlap``), the class models gather their seeded sample in two passes, and regions
that cross block seams are merged (block labelling + connected components).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr
from scipy import stats

from sarbd.core.majority import majority_class
from sarbd.dataset.blocks import (
    BlockRegions,
    as_blocks,
    block_reduce,
    grid_chunks,
    label_block_regions,
    merge_regions,
    region_classes,
)
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


def _rules(
    rules: Iterable[LabelRule | Mapping[str, str] | tuple[str, str]] | Mapping[str, str],
) -> list[LabelRule]:
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
    shape = (template.sizes["line"], template.sizes["pixel"])
    masks = []
    for rule in rule_list:
        if rule.class_name not in ids:
            raise ConfigError(
                f"L1 rule for unknown class {rule.class_name!r}", hint=f"classes: {', '.join(ids)}"
            )
        parse_rule(rule.expression)
        mask = evaluate(rule.expression, signatures, time_reduce=time_reduce)
        if mask.dtype != bool:
            raise ConfigError(f"L1 rule {rule.expression!r} is not a condition (use a comparison)")
        masks.append(mask.transpose("line", "pixel"))
    chunks = grid_chunks(shape, template, *masks)
    out = da.zeros(shape, dtype=np.uint8, chunks=chunks)
    for rule, mask in zip(rule_list, masks, strict=True):
        out = da.where(
            as_blocks(mask, chunks) & (out == 0), np.uint8(ids[rule.class_name]), out
        ).astype(np.uint8)
    attrs = label_attrs(classes, "L1", "first matching rule on SAR signatures")
    attrs["sarbd_rules"] = json.dumps([asdict(r) for r in rule_list])
    return xr.DataArray(
        out, dims=("line", "pixel"), coords=_plain_coords(template), name="label_l1", attrs=attrs
    )


def _fraction_stack(
    fractions: xr.Dataset | Mapping[str, xr.DataArray],
    classes: list[dict[str, Any]],
    chunks: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
) -> tuple[da.Array, xr.DataArray]:
    """``(class, line, pixel)`` float32 fractions as a Dask array (one chunk along ``class``)."""
    layers = []
    for c in classes:
        key = f"fraction_{c['name']}"
        if key not in fractions:
            raise InputError(
                f"reference fraction {key!r} is missing",
                hint="radarcode every class of the class list",
            )
        layers.append(fractions[key].transpose("line", "pixel"))
    template = fractions[f"fraction_{classes[0]['name']}"]
    shape = (template.sizes["line"], template.sizes["pixel"])
    chunks = grid_chunks(shape, *layers) if chunks is None else chunks
    stack = da.stack([as_blocks(a, chunks).astype(np.float32) for a in layers]).rechunk({0: -1})
    return stack, template


def _l2_block(stack: np.ndarray, ids: np.ndarray, threshold: float) -> np.ndarray:
    best, reached = majority_class(stack, threshold)
    return np.where(reached, ids[best], 0).astype(np.uint8)


def _reference_flags_block(stack: np.ndarray, threshold: float) -> np.ndarray:
    total = np.nansum(stack, axis=0)
    top = np.nanmax(np.nan_to_num(stack, nan=-1.0), axis=0)
    flags = np.zeros(total.shape, np.uint16)
    no_ref = ~(total > 0)
    flags[no_ref] |= QUALITY_FLAGS["no_reference"]
    flags[~no_ref & (top < threshold)] |= QUALITY_FLAGS["mixed"]
    return flags


def _reference_flags(
    fractions: xr.Dataset | Mapping[str, xr.DataArray],
    classes: list[dict[str, Any]],
    threshold: float,
    chunks: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
) -> da.Array:
    stack, _ = _fraction_stack(fractions, classes, chunks)
    return da.map_blocks(_reference_flags_block, stack, threshold, drop_axis=0, dtype=np.uint16)


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
    ids = np.array([c["id"] for c in classes], np.uint8)
    # the majority rule has one home (sarbd.core.majority), shared with radarcode's hard label
    out = da.map_blocks(_l2_block, stack, ids, threshold, drop_axis=0, dtype=np.uint8)
    attrs = label_attrs(
        classes, "L2", f"majority reference class with area fraction >= {threshold}"
    )
    attrs["sarbd_fraction_threshold"] = float(threshold)
    return xr.DataArray(
        out, dims=("line", "pixel"), coords=_plain_coords(template), name="label_l2", attrs=attrs
    )


def reference_flags(
    fractions: xr.Dataset | Mapping[str, xr.DataArray],
    classes: Sequence[Mapping[str, Any]],
    threshold: float = 0.5,
) -> np.ndarray:
    """``no_reference`` (all fractions 0 or NaN) and ``mixed`` (no class reaches ``threshold``) bits."""
    classes = check_classes(classes)
    return np.asarray(_reference_flags(fractions, classes, threshold).compute())


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
    scale: list[list[float]] = field(
        default_factory=list
    )  # covariance (mahalanobis) or [MAD-sigma] (mad)
    cutoff: float = float("nan")


def _features(
    signatures: xr.Dataset, test: OutlierTest, chunks: tuple[tuple[int, ...], tuple[int, ...]]
) -> da.Array:
    """``(k, line, pixel)`` float64 features of the outlier test (lazy, one chunk along ``k``)."""
    layers = [
        as_blocks(
            evaluate(f, signatures, time_reduce=test.time_reduce).transpose("line", "pixel"), chunks
        ).astype(np.float64)
        for f in test.features
    ]
    return da.stack(layers).rechunk({0: -1})


log = logging.getLogger(__name__)


class DegenerateSample(ValueError):
    """A class's fitting sample has no spread to model (e.g. every date identical)."""


#: Pixels per class given to FAST-MCD; its cost grows steeply above 500 (scikit-learn splits the data).
MCD_SAMPLES = 500
#: Quantile of the chi-square distribution that trims the reweighting steps.
REWEIGHT_QUANTILE = 0.975
#: Reweighting steps (the trimmed, corrected estimate converges to a fixed point in a few).
REWEIGHT_STEPS = 4


def _robust_gaussian(
    x: np.ndarray, rng: np.random.Generator, seed: int
) -> tuple[np.ndarray, np.ndarray]:
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
    start = (
        x if x.shape[0] <= MCD_SAMPLES else x[rng.choice(x.shape[0], MCD_SAMPLES, replace=False)]
    )
    try:
        mcd = MinCovDet(random_state=seed).fit(start)
    except ValueError as err:  # scikit-learn: "the covariance matrix of the support data is 0"
        raise DegenerateSample(str(err)) from err
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


#: ``gather(plan)``: for each class id, the features ``(n, k)`` of its fitting pixels at the
#: given ranks (0-based, raster order among the class's fitting pixels), in the plan's order.
Gather = Callable[[Mapping[int, np.ndarray]], Mapping[int, np.ndarray]]


def fit_class_models(
    counts: Mapping[int, int], k: int, gather: Gather, test: OutlierTest
) -> dict[int, ClassModel]:
    """Fit one :class:`ClassModel` per class from its number of fitting pixels and a gatherer.

    Each class with at least ``max(min_samples, 5 k)`` pixels is fitted on all of them, or
    on ``max_fit_samples`` drawn without replacement (seeded). The draws depend on the counts
    only, so they are made first (replaying the generator as the fit will consume it), the
    sample is gathered in one pass (``gather``, e.g. block by block), and the fit then repeats
    the same draws: the result does not depend on how the pixels are stored.
    """
    classes = sorted(int(c) for c, n in counts.items() if c > 0 and n > 0)

    def small(n: int) -> bool:
        return n < max(test.min_samples, 5 * k)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        if n > test.max_fit_samples:
            return np.asarray(rng.choice(n, test.max_fit_samples, replace=False))
        return np.arange(n)

    rng = np.random.default_rng(test.seed)
    plan: dict[int, np.ndarray] = {}
    for cid in classes:
        if small(int(counts[cid])):
            continue
        plan[cid] = draw(rng, int(counts[cid]))
        if test.method == "mahalanobis" and plan[cid].size > MCD_SAMPLES:
            rng.choice(
                plan[cid].size, MCD_SAMPLES, replace=False
            )  # what _robust_gaussian will draw
    samples = gather(plan) if plan else {}
    rng = np.random.default_rng(test.seed)
    models = {}
    for cid in classes:
        if small(int(counts[cid])):
            models[cid] = ClassModel(cid, int(counts[cid]), False)
            continue
        positions = draw(rng, int(counts[cid]))
        if not np.array_equal(positions, plan[cid]):  # pragma: no cover - a broken replay
            raise RuntimeError("the fitting sample's draws were not replayed identically")
        sample = np.asarray(samples[cid], np.float64).reshape(-1, k)
        if test.method == "mahalanobis":
            try:
                location, covariance = _robust_gaussian(sample, rng, test.seed)
            except DegenerateSample as err:
                # a class model needs spread; without it every pixel would be an outlier
                # (or FAST-MCD fails), so the class is kept untested, as a small class is
                log.warning(
                    "L3: class %d not tested: its fitting sample has no spread (%s)", cid, err
                )
                models[cid] = ClassModel(cid, int(positions.size), False)
                continue
            cutoff = float(stats.chi2.ppf(1.0 - test.alpha, k))
            models[cid] = ClassModel(
                cid, int(positions.size), True, location.tolist(), covariance.tolist(), cutoff
            )
        else:
            med = np.median(sample, axis=0)
            sigma = 1.4826 * np.median(np.abs(sample - med), axis=0)
            if np.any(np.ptp(sample, axis=0) == 0):
                log.warning("L3: class %d not tested: a feature is constant in its sample", cid)
                models[cid] = ClassModel(cid, int(positions.size), False)
                continue
            p = 1.0 - (1.0 - test.alpha) ** (1.0 / k)
            cutoff = float(stats.norm.ppf(1.0 - p / 2.0))
            models[cid] = ClassModel(
                cid, int(positions.size), True, med.tolist(), [sigma.tolist()], cutoff
            )
    return models


def fit_outlier_model(
    x: np.ndarray, labels: np.ndarray, fit_mask: np.ndarray, test: OutlierTest
) -> dict[int, ClassModel]:
    """Fit one :class:`ClassModel` per class on the pixels where ``fit_mask`` holds (in memory).

    ``x`` is ``(line, pixel, k)`` features, ``labels`` the L2 classes; see :func:`fit_class_models`.
    """
    k = x.shape[-1]
    fit = np.asarray(fit_mask, bool) & (np.asarray(labels) > 0)
    counts = np.bincount(np.asarray(labels)[fit].astype(np.int64), minlength=1)
    flat = np.asarray(x).reshape(-1, k)

    def gather(plan: Mapping[int, np.ndarray]) -> dict[int, np.ndarray]:
        return {
            cid: flat[np.flatnonzero(fit_mask & (labels == cid))[pos]] for cid, pos in plan.items()
        }

    return fit_class_models({c: int(n) for c, n in enumerate(counts) if n}, k, gather, test)


def _class_distance(xs: np.ndarray, m: ClassModel, method: str) -> np.ndarray:
    """Squared robust Mahalanobis distance (or largest robust z) of ``xs`` (n, k) to a class model."""
    loc = np.asarray(m.location)
    if method == "mahalanobis":
        d = xs - loc
        return np.asarray(np.einsum("ni,ij,nj->n", d, np.linalg.pinv(np.asarray(m.scale)), d))
    sigma = np.asarray(m.scale[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.max(np.abs(xs - loc) / sigma, axis=-1))


def outlier_scores(
    x: np.ndarray, labels: np.ndarray, models: Mapping[int, ClassModel], method: str
) -> tuple[np.ndarray, np.ndarray]:
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


def region_outliers(
    x: np.ndarray,
    labels: np.ndarray,
    candidates: np.ndarray,
    models: Mapping[int, ClassModel],
    method: str,
    min_pixels: int = 10,
) -> tuple[np.ndarray, dict[str, dict[str, int]]]:
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
        means = (
            np.stack(
                [
                    np.bincount(idx, weights=x[..., j].ravel(), minlength=n + 1)[1:]
                    for j in range(k)
                ],
                axis=-1,
            )
            / np.maximum(count, 1)[:, None]
        )
        own = _class_distance(means, tested[cid], method)
        other = np.min(
            np.stack([_class_distance(means, m, method) for c, m in tested.items() if c != cid]),
            axis=0,
        )
        judged = count >= max(1, min_pixels)
        bad = judged & (other < own)
        rejected |= np.concatenate([[False], bad])[regions]
        summary[str(cid)] = {
            "regions": int(n),
            "tested": int(judged.sum()),
            "rejected": int(bad.sum()),
            "rejected_pixels": int(count[bad].sum()),
        }
    return rejected, summary


def border_mask(
    valid: np.ndarray | xr.DataArray, window_reach: int | tuple[int, int], kernel_reach: int = 0
) -> Any:
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
    numpy.ndarray or xarray.DataArray
        Boolean ``(line, pixel)``, True on border pixels: NumPy for NumPy input, a lazy
        (Dask, the input's blocks) DataArray for a DataArray.

    Notes
    -----
    The spread of invalid samples is a binary erosion of ``valid`` by a ``(2 rl + 1) x
    (2 rp + 1)`` rectangle with the outside counted valid, computed as the equivalent
    separable minimum filter, block by block with a halo of ``(rl, rp)``
    (``dask.array.map_overlap``), so block edges are invisible in the result.
    """
    wl, wp = (window_reach, window_reach) if isinstance(window_reach, int) else window_reach
    rl, rp = wl + kernel_reach, wp + kernel_reach
    if isinstance(valid, xr.DataArray):
        valid = valid.transpose("line", "pixel")
    shape = (int(valid.shape[0]), int(valid.shape[1]))
    chunks = grid_chunks(shape, valid)
    ok = as_blocks(valid, chunks).astype(bool).astype(np.uint8)
    # invalid samples spread over every window that contains them
    near = da.map_overlap(
        _near_invalid_block,
        ok,
        depth={0: rl, 1: rp},
        boundary=1,
        dtype=bool,
        size=(2 * rl + 1, 2 * rp + 1),
    ).rechunk(chunks)
    li = da.arange(shape[0], chunks=chunks[0])[:, None]
    pi = da.arange(shape[1], chunks=chunks[1])[None, :]
    edge = (li < wl) | (li >= shape[0] - wl) | (pi < wp) | (pi >= shape[1] - wp)
    out = near | edge
    if isinstance(valid, xr.DataArray):
        return xr.DataArray(out, dims=("line", "pixel"), coords=_plain_coords(valid), name="border")
    return np.asarray(out.compute())


def _near_invalid_block(ok: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """True where an invalid (0) sample lies within the ``size`` window (outside counts valid)."""
    from scipy import ndimage

    return np.asarray(ndimage.minimum_filter(ok, size=size, mode="constant", cval=1) == 0)


def _bit(condition: da.Array, flag: str) -> da.Array:
    return da.where(condition, np.uint16(QUALITY_FLAGS[flag]), np.uint16(0))


def _fit_mask(labels: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """L2 pixels passing every other check: they fit the class models and form the regions."""
    return np.asarray((labels > 0) & (flags == 0))


def _summary_block(
    labels: np.ndarray, flags: np.ndarray, x: np.ndarray, block_id: tuple[int, int], regions: bool
) -> dict[str, Any]:
    """Pass 1 of one block: fitting pixels per line and class; its regions' pixel counts,
    feature sums and seam labels."""
    fit = _fit_mask(labels, flags)
    out: dict[str, Any] = {
        "rows": {
            int(c): np.count_nonzero(fit & (labels == c), axis=1) for c in np.unique(labels[fit])
        }
    }
    if regions:
        local, classes = label_block_regions(labels, fit)
        idx = local.ravel()
        out["count"] = np.bincount(idx, minlength=classes.size)
        out["sums"] = np.stack(
            [
                np.bincount(idx, weights=x[j].ravel(), minlength=classes.size)
                for j in range(x.shape[0])
            ]
        )
        out["regions"] = BlockRegions.of(local, classes)
    return out


def _gather_block(
    labels: np.ndarray,
    flags: np.ndarray,
    x: np.ndarray,
    block_id: tuple[int, int],
    plan: Mapping[int, np.ndarray],
    first_rank: Any,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Pass 2 of one block: the features of the planned fitting pixels (by raster-order rank)."""
    fit = _fit_mask(labels, flags)
    out = {}
    for cid, wanted in plan.items():
        m = fit & (labels == cid)
        if not m.any():
            continue
        rank = (first_rank[block_id][cid][:, None] + np.cumsum(m, axis=1) - 1)[m]
        pos = np.minimum(np.searchsorted(wanted, rank), wanted.size - 1)
        hit = wanted[pos] == rank
        out[cid] = (rank[hit], x[:, m][:, hit].T)
    return out


def _final_block(
    labels: np.ndarray,
    flags: np.ndarray,
    x: np.ndarray,
    block_id: tuple[int, int] = (0, 0),
    *,
    models: Mapping[int, ClassModel],
    method: str,
    rejected: np.ndarray | None,
    offsets: np.ndarray | None,
) -> np.ndarray:
    """Pass 3 of one block: the ``sar_outlier`` and ``region_outlier`` bits."""
    valid = np.all(np.isfinite(x), axis=0)
    _, outlier = outlier_scores(np.moveaxis(x, 0, -1), np.where(valid, labels, 0), models, method)
    out = flags.copy()
    out[outlier] |= QUALITY_FLAGS["sar_outlier"]
    if rejected is not None and offsets is not None:
        local, classes = label_block_regions(labels, _fit_mask(labels, flags))
        off = int(offsets[block_id])
        bad = rejected[off : off + classes.size].copy()
        bad[0] = False
        out[bad[local]] |= QUALITY_FLAGS["region_outlier"]
    return out


def _first_ranks(rows: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Per block and class, the raster-order rank of the first fitting pixel of each of its lines."""
    nbi, nbj = rows.shape
    out = np.empty((nbi, nbj), object)
    for i, j in np.ndindex(nbi, nbj):
        out[i, j] = {}
    before = dict.fromkeys(classes, 0)
    for i in range(nbi):
        h = None
        for j in range(nbj):
            h = next((len(v) for v in rows[i, j].values()), h)
        h = h if h is not None else 0
        for cid in classes:
            per = np.stack([rows[i, j].get(cid, np.zeros(h, np.int64)) for j in range(nbj)]).astype(
                np.int64
            )
            if per.size == 0:
                per = np.zeros((nbj, h), np.int64)
            line_start = before[cid] + np.concatenate(
                [[0], np.cumsum(per.sum(axis=0))[:-1]]
            ).astype(np.int64)
            left = np.cumsum(per, axis=0) - per  # pixels of the line in the blocks to the left
            for j in range(nbj):
                out[i, j][cid] = line_start + left[j]
            before[cid] += int(per.sum())
    return out


def _region_decisions(
    summaries: np.ndarray, tested: Mapping[int, ClassModel], method: str, min_pixels: int
) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, int]]]:
    """Regions of the whole grid (seams merged) judged as :func:`region_outliers` does.

    Returns the rejected flag of every node (global block label), the block offsets and the
    per-class summary.
    """
    blocks = np.empty(summaries.shape, object)
    for ij in np.ndindex(summaries.shape):
        blocks[ij] = summaries[ij]["regions"]
    offsets, component, n = merge_regions(blocks)
    nodes = component.size
    count_node = np.zeros(nodes)
    k = next(iter(summaries.flat))["sums"].shape[0]
    sums_node = np.zeros((k, nodes))
    for ij in np.ndindex(summaries.shape):
        off, m = int(offsets[ij]), summaries[ij]["count"].size
        count_node[off + 1 : off + m] = summaries[ij]["count"][1:]
        sums_node[:, off + 1 : off + m] = summaries[ij]["sums"][:, 1:]
    count = np.bincount(component, weights=count_node, minlength=n + 1).astype(np.int64)
    sums = np.stack(
        [np.bincount(component, weights=sums_node[j], minlength=n + 1) for j in range(k)], axis=-1
    )
    region_class = np.zeros(n + 1, np.int64)
    region_class[component] = region_classes(blocks, offsets)
    means = sums / np.maximum(count, 1)[:, None]
    bad_region = np.zeros(n + 1, bool)
    summary: dict[str, dict[str, int]] = {}
    for cid in tested:
        sel = np.flatnonzero(region_class == cid)
        sel = sel[sel > 0]
        if sel.size == 0:
            continue
        own = _class_distance(means[sel], tested[cid], method)
        other = np.min(
            np.stack(
                [_class_distance(means[sel], m, method) for c, m in tested.items() if c != cid]
            ),
            axis=0,
        )
        judged = count[sel] >= max(1, min_pixels)
        bad = judged & (other < own)
        bad_region[sel[bad]] = True
        summary[str(cid)] = {
            "regions": int(sel.size),
            "tested": int(judged.sum()),
            "rejected": int(bad.sum()),
            "rejected_pixels": int(count[sel][bad].sum()),
        }
    return bad_region[component], offsets, summary


def _outlier_flags(
    labels: da.Array, flags: da.Array, x: da.Array, test: OutlierTest
) -> tuple[da.Array, dict[str, Any]]:
    """The ``sar_outlier`` and ``region_outlier`` bits, block by block (three passes).

    1. per block: fitting pixels per line and class, and the block's regions;
    2. the class models (:func:`fit_class_models`), their seeded sample gathered by rank;
    3. (lazy) every block scored against the models, with the regions judged on the
       whole grid (:func:`_region_decisions`).
    """
    k = int(x.shape[0])
    regions = test.region_min_pixels > 0
    summaries = block_reduce(_summary_block, labels, flags, x, regions=regions)
    rows = np.empty(summaries.shape, object)
    for ij in np.ndindex(summaries.shape):
        rows[ij] = summaries[ij]["rows"]
    counts: dict[int, int] = {}
    for r in rows.flat:
        for cid, per in r.items():
            counts[cid] = counts.get(cid, 0) + int(per.sum())

    def gather(plan: Mapping[int, np.ndarray]) -> dict[int, np.ndarray]:
        wanted = {cid: np.sort(pos) for cid, pos in plan.items()}
        first = _first_ranks(rows, sorted(counts))
        found = block_reduce(_gather_block, labels, flags, x, plan=wanted, first_rank=first)
        out = {}
        for cid, pos in plan.items():
            blocks: list[dict[int, Any]] = found.ravel().tolist()
            parts = [f[cid] for f in blocks if cid in f]
            rank = np.concatenate([p[0] for p in parts])
            vals = np.concatenate([p[1] for p in parts]).reshape(-1, k)
            order = np.argsort(rank, kind="stable")
            out[cid] = vals[order][np.searchsorted(rank[order], pos)]
        return out

    models = fit_class_models(counts, k, gather, test)
    model_json: dict[str, Any] = {
        "test": asdict(test),
        "classes": {str(c): asdict(v) for c, v in models.items()},
    }
    rejected = offsets = None
    if regions:
        tested = {cid: m for cid, m in models.items() if m.tested}
        summary: dict[str, dict[str, int]] = {}
        if len(tested) >= 2:
            rejected, offsets, summary = _region_decisions(
                summaries, tested, test.method, test.region_min_pixels
            )
            if not rejected.any():
                rejected = offsets = None
        model_json["regions"] = summary
    final = da.map_blocks(
        _final_block,
        labels,
        flags,
        x,
        drop_axis=0,
        dtype=np.uint16,
        models=models,
        method=test.method,
        rejected=rejected,
        offsets=offsets,
    )
    return final, model_json


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
    l2 = l2.transpose("line", "pixel")
    shape = (l2.sizes["line"], l2.sizes["pixel"])
    chunks = grid_chunks(shape, l2)
    labels = as_blocks(l2, chunks).astype(np.uint8)
    if fractions is not None:
        flags = _reference_flags(fractions, json_classes(l2), threshold, chunks)
    else:
        flags = da.where(labels == 0, np.uint16(QUALITY_FLAGS["no_reference"]), np.uint16(0))
    dist_shape = (boundary_distance.sizes["line"], boundary_distance.sizes["pixel"])
    lsm_shape = (layover_shadow.sizes["line"], layover_shadow.sizes["pixel"])
    if dist_shape != shape or lsm_shape != shape:
        raise InputError(
            f"L2 {shape}, boundary_distance {dist_shape} and layover/shadow {lsm_shape} differ"
        )
    dist = as_blocks(boundary_distance.transpose("line", "pixel"), chunks).astype(np.float64)
    lsm = as_blocks(layover_shadow.transpose("line", "pixel"), chunks).astype(np.uint8)
    flags = (
        flags
        | _bit(~(dist >= buffer_m), "boundary_buffer")
        | _bit((lsm & 1) != 0, "layover")
        | _bit((lsm & 2) != 0, "shadow")
    )
    if border is not None:
        edge = border.transpose("line", "pixel") if isinstance(border, xr.DataArray) else border
        if tuple(edge.shape) != shape:
            raise InputError(f"border mask {tuple(edge.shape)} differs from the label grid {shape}")
        flags = flags | _bit(as_blocks(edge, chunks).astype(bool), "border")
    for name in required:
        values = as_blocks(signatures[name].transpose("line", "pixel"), chunks)
        flags = flags | _bit((labels > 0) & ~da.isfinite(values), "invalid_signature")

    model_json: dict[str, Any] = {}
    if outlier_test is not None:
        x = _features(signatures, outlier_test, chunks)
        if tuple(x.shape[1:]) != shape:
            raise InputError(
                f"signature grid {tuple(x.shape[1:])} differs from the label grid {shape}"
            )
        flags = flags | _bit((labels > 0) & ~da.all(da.isfinite(x), axis=0), "invalid_signature")
        flags, model_json = _outlier_flags(labels, flags, x, outlier_test)
    l3 = da.where((labels > 0) & (flags == 0), labels, np.uint8(0)).astype(np.uint8)
    attrs = {k: v for k, v in l2.attrs.items() if k in ("flag_values", "flag_meanings", "units")}
    attrs.update(
        {
            "long_name": "SARbd-L3 class label",
            "sarbd_level": "L3",
            "comment": "L2 pixels outside the boundary buffer, not in layover/shadow, consistent with SAR statistics",
            "sarbd_boundary_buffer_m": float(buffer_m),
            "sarbd_outlier_model": json.dumps(model_json, default=float),
        }
    )
    coords = _plain_coords(l2)
    return xr.Dataset(
        {
            "label_l3": xr.DataArray(l3, dims=("line", "pixel"), coords=coords, attrs=attrs),
            "quality_flags": xr.DataArray(
                flags, dims=("line", "pixel"), coords=coords, attrs=quality_flag_attrs()
            ),
        }
    )


def json_classes(labels: xr.DataArray) -> list[dict[str, Any]]:
    """The class list encoded in a label raster's ``flag_values``/``flag_meanings``."""
    values = np.atleast_1d(labels.attrs.get("flag_values", []))
    names = str(labels.attrs.get("flag_meanings", "")).split()
    if len(values) != len(names) or not len(values):
        raise InputError("label raster has no matching flag_values/flag_meanings")
    return [{"id": int(v), "name": n} for v, n in zip(values, names, strict=True) if int(v) != 0]


def level_precision(
    truth: xr.DataArray | np.ndarray,
    levels: Mapping[str, xr.DataArray | np.ndarray],
    classes: Sequence[Mapping[str, Any]],
    reference_level: str = "label_l2",
) -> Any:
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
