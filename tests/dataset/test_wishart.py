"""Wishart H-alpha classification (unsupervised SARbd-L1) of quad-pol signatures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sarbd.signatures as S
from sarbd.dataset.wishart import T3_VARIABLES, label_l1_wishart, wishart_h_alpha
from sarbd.errors import ConfigError, InputError

QUAD = ("hh", "hv", "vh", "vv")


def _speckle(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


def _two_region_stack(seed: int = 0) -> xr.Dataset:
    """Left half: Bragg-like surface (s_HH = 0.6 s_VV, weak cross-pol); right: random volume."""
    rng = np.random.default_rng(seed)
    shape = (2, 40, 60)
    s = _speckle(shape, rng)
    hh = 0.6 * s + 0.05 * _speckle(shape, rng)
    vv = s + 0.05 * _speckle(shape, rng)
    hv = 0.05 * _speckle(shape, rng)
    vh = hv + 0.01 * _speckle(shape, rng)
    vol = [_speckle(shape, rng) * a for a in (1.0, 0.6, 0.6, 1.0)]
    chans = {}
    for p, surf, v in zip(QUAD, (hh, hv, vh, vv), vol, strict=True):
        c = surf.copy()
        c[..., 30:] = v[..., 30:]
        chans[f"slc_{p}"] = (("time", "line", "pixel"), c.astype(np.complex64))
    return xr.Dataset(
        chans, coords={"time": np.array(["2020-01-01", "2020-01-13"], "datetime64[ns]")}
    )


def test_wishart_separates_surface_and_volume():
    feats = S.compute(_two_region_stack(), list(T3_VARIABLES), window=(5, 5)).load()
    clusters = wishart_h_alpha(feats)
    assert clusters.dtype == np.uint8 and clusters.dims == ("line", "pixel")
    left, right = clusters.values[:, 3:27], clusters.values[:, 33:]
    # surface: low-entropy surface scattering (zone 9); volume: a high-entropy cluster
    assert np.mean(left == 9) > 0.95
    assert np.isin(right, [1, 2, 4, 5]).mean() > 0.95 and not np.any(np.isin(right, [9]))
    assert clusters.attrs["sarbd_wishart_iterations"] >= 1
    # mapped to classes for SARbd-L1; unmapped clusters stay 0
    classes = [{"id": 1, "name": "field"}, {"id": 2, "name": "forest"}]
    l1 = label_l1_wishart(feats, classes, {"field": [9], "forest": [1, 2, 4, 5]})
    assert l1.name == "label_l1" and (l1.values[:, 3:27] == 1).mean() > 0.95
    assert (l1.values[:, 33:] == 2).mean() > 0.95
    assert (
        l1.attrs["flag_meanings"] == "unlabelled field forest"
        and l1.attrs["sarbd_l1_method"] == "wishart_h_alpha"
    )
    # one date instead of the temporal mean
    assert wishart_h_alpha(feats, date=1).shape == clusters.shape
    # no iterations: the H-alpha zones themselves
    zones = wishart_h_alpha(feats, max_iterations=0)
    h_alpha = (
        S.compute(_two_region_stack(), ["quad_halpha_zone"], window=(5, 5)).load().quad_halpha_zone
    )
    assert zones.attrs["sarbd_wishart_iterations"] == 0
    assert (zones.values[:, 3:27] == 9).mean() > 0.9 and np.isfinite(h_alpha).all()


def test_wishart_blocked_equals_one_block():
    """On Dask blocks (lazy T3, read block by block per pass) the clusters, passes and
    centres are those of the whole image in one block."""
    import json

    feats = S.compute(_two_region_stack(), list(T3_VARIABLES), window=(5, 5)).load()
    whole = wishart_h_alpha(feats)
    lazy = feats.chunk({"line": 16, "pixel": 25})
    blocked = wishart_h_alpha(lazy)
    assert lazy["t3_11"].chunks is not None  # the input stayed lazy
    np.testing.assert_array_equal(blocked.values, whole.values)
    assert blocked.attrs["sarbd_wishart_iterations"] == whole.attrs["sarbd_wishart_iterations"]
    a = json.loads(blocked.attrs["sarbd_wishart_centres"])
    b = json.loads(whole.attrs["sarbd_wishart_centres"])
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12)


def test_wishart_errors():
    feats = S.compute(_two_region_stack(), list(T3_VARIABLES), window=(3, 3)).load()
    with pytest.raises(InputError, match="t3_33"):
        wishart_h_alpha(feats.drop_vars("t3_33"))
    classes = [{"id": 1, "name": "field"}]
    with pytest.raises(ConfigError, match="unknown class"):
        label_l1_wishart(feats, classes, {"lake": [9]})
    with pytest.raises(ConfigError, match="not an H-alpha zone"):
        label_l1_wishart(feats, classes, {"field": [12]})
    with pytest.raises(ConfigError):
        wishart_h_alpha(feats, tolerance=1.5)


def test_wishart_config_validation():
    from sarbd.pipeline.config import LabelsConfig

    cfg = LabelsConfig(l1_method="wishart_h_alpha", l1_cluster_classes={"water": [9]})
    assert cfg.l1_wishart_iterations == 10
    with pytest.raises(ValueError, match="needs l1_cluster_classes"):
        LabelsConfig(l1_method="wishart_h_alpha")
    with pytest.raises(ValueError, match="exclude each other"):
        LabelsConfig(
            l1_method="wishart_h_alpha",
            l1_cluster_classes={"water": [9]},
            l1_rules=[{"class_name": "water", "expression": "quad_entropy < 0.5"}],
        )
    with pytest.raises(ValueError, match="applies to"):
        LabelsConfig(l1_cluster_classes={"water": [9]})


def test_wishart_on_alos_corner_reflector(shared_data: Path):
    from sarbd.products import open_product

    scene = open_product(shared_data / "alos_quadpol/calib_RSLC_ALPSRP025826990_RIO_BRANCO_CR.h5")
    st = xr.Dataset(
        {
            f"slc_{p}": (("time", "line", "pixel"), np.asarray(scene.slc(p.upper()).values)[None])
            for p in QUAD
        },
        coords={"time": [np.datetime64("2006-07-20", "ns")]},
    )
    feats = S.compute(st, list(T3_VARIABLES), window=(3, 3)).load()
    clusters = wishart_h_alpha(feats).values
    assert clusters[50, 25] == 9  # the trihedral: low-entropy surface cluster
    assert np.mean(clusters == 9) < 0.2  # the distributed scatterers around it are mostly not
    assert np.all(clusters > 0)
