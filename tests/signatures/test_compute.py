"""sarbd.signatures.compute on synthetic stacks with known truth."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

import sarbd.signatures as S
from sarbd.errors import ConfigError, InputError
from sarbd.signatures.synthetic import synthetic_stack


@pytest.fixture(scope="module")
def stack():
    return synthetic_stack(4, (60, 70), seed=1)


@pytest.fixture(scope="module")
def features(stack):
    return S.compute(stack, window=(5, 5)).load()


def test_catalogue_complete_and_cf_attributes(features):
    names = set(features.data_vars)
    for n in [
        "amplitude_vv",
        "intensity_vh",
        "sigma0_vv",
        "sigma0_db_vh",
        "beta0_vv",
        "gamma0_db_vv",
        "slc_phase_vv",
        "interferometric_phase_vv",
        "coherence_vv",
        "c2_11_vv_vh",
        "c2_12_imag_vv_vh",
        "span_vv_vh",
        "intensity_ratio_db_vv_vh",
        "pol_correlation_vv_vh",
        "cross_product_vv_vh",
        "entropy_vv_vh",
        "anisotropy_vv_vh",
        "alpha_vv_vh",
        "degree_of_polarization_vv_vh",
        "dprvi_vv_vh",
        "rvi_vv_vh",
        "halpha_zone_vv_vh",
        "backscatter_mean_vv",
        "backscatter_cv_vh",
        "amplitude_dispersion_vv",
        "ps_candidate_vv",
        "coherence_mean_vh",
        "soil_moisture_index_vv",
    ]:
        assert n in names, n
    for name, v in features.data_vars.items():
        assert v.dtype == np.float32
        assert not np.isinf(v.values).any(), name
        for key in ("units", "long_name", "sarbd_category", "sarbd_formula"):
            assert key in v.attrs, (name, key)
        assert v.dims[-2:] == ("line", "pixel")
    assert (
        features["sigma0_vv"].attrs["standard_name"]
        == "surface_backwards_scattering_coefficient_of_radar_wave"
    )
    assert "standard_name" not in features["sigma0_db_vv"].attrs
    assert features["entropy_vv_vh"].dims == ("time", "line", "pixel")
    assert features["backscatter_mean_vv"].dims == ("line", "pixel")
    assert (
        features["halpha_zone_vv_vh"].attrs["flag_meanings"].split()[0]
        == "high_entropy_multiple_scattering"
    )
    assert "latitude" in features.coords and int(features.line[0]) == 500
    assert features.attrs["sarbd_backscatter"] == "sigma0"


def test_calibration_relations(stack, features):
    # sigma0 = beta0 sin(theta), gamma0 = beta0 tan(theta): the LUT ratios, exactly
    theta = np.deg2rad(stack.incidence_angle.values)
    s, b, g = (features[k].values for k in ("sigma0_vv", "beta0_vv", "gamma0_vv"))
    ok = np.isfinite(s)
    np.testing.assert_allclose((s / b)[ok], np.broadcast_to(np.sin(theta), s.shape)[ok], rtol=2e-4)
    np.testing.assert_allclose((g / b)[ok], np.broadcast_to(np.tan(theta), s.shape)[ok], rtol=2e-4)
    # sigma0 = (|DN|^2 - eta) * cal directly from the stack
    dn2 = np.abs(stack.slc_vv.values.astype(np.complex128)) ** 2
    direct = (dn2 - stack.noise_vv.values) * stack.cal_sigma0_vv.values
    direct = np.where(direct < 0, np.nan, direct)
    np.testing.assert_allclose(s, direct, rtol=1e-4, equal_nan=True)
    np.testing.assert_allclose(
        features.sigma0_db_vv.values, 10 * np.log10(direct), atol=1e-3, equal_nan=True
    )
    np.testing.assert_allclose(features.amplitude_vv.values, np.sqrt(dn2), rtol=1e-5)


def test_noise_removed_c2_is_unbiased(features):
    # truth: sigma0 VV 0.1, VH 0.02, NESZ -24 dB (0.004): the noise is taken out of the mean
    assert float(features.c2_11_vv_vh.mean()) == pytest.approx(0.1, rel=0.03)
    assert float(features.c2_22_vv_vh.mean()) == pytest.approx(0.02, rel=0.04)
    # signal correlation 0.3; the estimator over 25 looks is biased up (Touzi et al. 1999)
    rho = float(features.pol_correlation_vv_vh.isel(line=slice(2, -2), pixel=slice(2, -2)).mean())
    assert rho == pytest.approx(_touzi_mean(0.3, 25), rel=0.08)


def test_negative_rule_nan_and_floor():
    st = synthetic_stack(2, (40, 40), power={"vh": 0.003}, nesz_db=-22.0, seed=2)
    nan_rule = S.compute(st, ["sigma0_vh", "sigma0_db_vh"]).load()
    frac = float(np.isnan(nan_rule.sigma0_vh).mean())
    assert 0.2 < frac < 0.9  # many single-look pixels fall below the noise floor
    assert np.array_equal(np.isnan(nan_rule.sigma0_vh), np.isnan(nan_rule.sigma0_db_vh))
    floor = S.compute(st, ["sigma0_vh", "sigma0_db_vh"], negative="floor", floor=1e-4).load()
    assert float(floor.sigma0_vh.min()) == pytest.approx(1e-4)
    assert not np.isnan(floor.sigma0_db_vh).any() and float(
        floor.sigma0_db_vh.min()
    ) == pytest.approx(-40.0)
    no_noise = S.compute(st, ["sigma0_vh"], noise_removal=False).load()
    assert not np.isnan(no_noise.sigma0_vh).any()


def test_identical_and_independent_channels():
    same = synthetic_stack(
        1, (50, 50), power={"vv": 0.05, "vh": 0.05}, pol_correlation=1.0, nesz_db=None, seed=3
    )
    f = S.compute(
        same, ["entropy", "rvi", "pol_correlation", "cross_product", "span"], window=(5, 5)
    ).load()
    assert float(np.nanmax(f.entropy_vv_vh)) < 1e-3
    np.testing.assert_allclose(f.rvi_vv_vh, 2.0, atol=1e-4)
    np.testing.assert_allclose(f.pol_correlation_vv_vh, 1.0, atol=1e-4)
    np.testing.assert_allclose(f.cross_product_vv_vh, f.span_vv_vh / 2, rtol=1e-4)
    indep = synthetic_stack(
        1, (80, 80), power={"vv": 0.05, "vh": 0.05}, pol_correlation=0.0, nesz_db=None, seed=4
    )
    f = S.compute(indep, ["entropy", "rvi", "dprvi", "alpha"], window=(15, 15)).load()
    inner = dict(line=slice(507, 573), pixel=slice(16007, 16073))
    h = f.entropy_vv_vh.sel(inner)
    assert float(h.mean()) > 0.97  # H -> 1 for independent equal-power channels (225 looks)
    assert float(f.rvi_vv_vh.sel(inner).mean()) == pytest.approx(2.0, abs=0.05)  # 4 * 0.5
    assert float(f.dprvi_vv_vh.sel(inner).mean()) > 0.85
    assert float(f.alpha_vv_vh.sel(inner).mean()) == pytest.approx(45.0, abs=3.0)


def _touzi_mean(gamma: float, looks: int) -> float:
    """E|gamma_hat| for L independent looks (Touzi et al. 1999, eq. 14).

    Gamma(L) Gamma(3/2) / Gamma(L + 1/2) * 3F2(3/2, L, L; L + 1/2, 1; g^2) * (1 - g^2)^L,
    the hypergeometric series summed term by term (it converges for g^2 < 1).
    """
    from scipy.special import gammaln

    g2 = gamma * gamma
    term, total, k = 1.0, 1.0, 0
    while abs(term) > 1e-16 * total and k < 10_000:
        term *= (1.5 + k) * (looks + k) ** 2 / ((looks + 0.5 + k) * (1 + k) * (1 + k)) * g2
        total += term
        k += 1
    pre = np.exp(gammaln(looks) + gammaln(1.5) - gammaln(looks + 0.5))
    return float(pre * total * (1 - g2) ** looks)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.8])
def test_coherence_estimator_bias_matches_touzi(gamma):
    st = synthetic_stack(2, (150, 150), coherence=gamma, nesz_db=None, with_coherence=False, seed=5)
    f = S.compute(st, ["coherence_vv"], window=(3, 3)).load()
    est = f.coherence_vv.isel(time=1).values[1:-1, 1:-1]  # 9 looks (border windows have fewer)
    expected = _touzi_mean(gamma, 9)
    if gamma == 0.0:
        assert expected == pytest.approx(np.sqrt(np.pi / 36), rel=0.1)
    # mean of ~22000 estimates (correlated by the window, ~2500 independent): error < 0.01
    assert est.mean() == pytest.approx(expected, abs=0.012)
    np.testing.assert_allclose(
        f.coherence_vv.isel(time=0), 1.0, atol=1e-5
    )  # the reference with itself


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_temporal_statistics_equal_numpy(stack, features):
    s = features.sigma0_vv.values.astype(np.float64)
    n = np.isfinite(s).sum(0)
    mean = np.nanmean(s, axis=0)
    np.testing.assert_allclose(features.backscatter_mean_vv, mean, rtol=1e-5)
    std = np.where(n > 1, np.nanstd(s, axis=0, ddof=1), np.nan)
    np.testing.assert_allclose(features.backscatter_std_vv, std, rtol=1e-4, equal_nan=True)
    np.testing.assert_allclose(features.backscatter_cv_vv, std / mean, rtol=1e-4, equal_nan=True)
    np.testing.assert_allclose(features.backscatter_min_vv, np.nanmin(s, 0), rtol=1e-6)
    np.testing.assert_allclose(features.backscatter_max_vv, np.nanmax(s, 0), rtol=1e-6)
    amp = np.abs(stack.slc_vv.values.astype(np.complex128)) * np.sqrt(stack.cal_sigma0_vv.values)
    da_ = amp.std(0, ddof=1) / amp.mean(0)
    np.testing.assert_allclose(features.amplitude_dispersion_vv, da_, rtol=1e-4)
    np.testing.assert_array_equal(features.ps_candidate_vv, (da_ < 0.25).astype(np.float32))
    coh = features.coherence_vv.values[1:]  # the reference date (index 0) is left out
    np.testing.assert_allclose(features.coherence_mean_vv, coh.mean(0), rtol=1e-5)
    db = 10 * np.log10(s)
    smi = (db - np.nanmin(db, 0)) / (np.nanmax(db, 0) - np.nanmin(db, 0))
    np.testing.assert_allclose(features.soil_moisture_index_vv, smi, atol=1e-4, equal_nan=True)


def test_constant_amplitude_gives_zero_dispersion():
    st = synthetic_stack(5, (30, 30), nesz_db=None, seed=6)
    rng = np.random.default_rng(0)
    amp = rng.uniform(10, 100, (30, 30))
    phase = rng.uniform(-np.pi, np.pi, (5, 30, 30))
    st["slc_vv"] = (("time", "line", "pixel"), (amp * np.exp(1j * phase)).astype(np.complex64))
    f = S.compute(
        st,
        [
            "amplitude_dispersion_vv",
            "ps_candidate_vv",
            "backscatter_cv_vv",
            "soil_moisture_index_vv",
        ],
    ).load()
    np.testing.assert_allclose(f.amplitude_dispersion_vv, 0.0, atol=1e-6)
    assert (f.ps_candidate_vv == 1).all()
    np.testing.assert_allclose(f.backscatter_cv_vv, 0.0, atol=1e-6)
    assert np.isnan(f.soil_moisture_index_vv).all()  # no change: driest == wettest, undefined


def test_chunking_does_not_change_results():
    st = synthetic_stack(3, (70, 90), seed=7)
    names = [
        "sigma0",
        "entropy",
        "alpha",
        "coherence",
        "backscatter_cv",
        "pol_correlation",
        "soil_moisture_index",
    ]
    big = S.compute(
        st, names, filter="refined_lee", chunks={"time": 3, "line": 70, "pixel": 90}
    ).load()
    small = S.compute(
        st, names, filter="refined_lee", chunks={"time": 1, "line": 17, "pixel": 23}
    ).load()
    assert set(big.data_vars) == set(small.data_vars)
    for v in big.data_vars:
        np.testing.assert_allclose(
            small[v], big[v], rtol=1e-4, atol=1e-6, equal_nan=True, err_msg=v
        )


def test_copol_and_quad_pairs():
    st = synthetic_stack(2, (40, 40), pols=("hh", "hv", "vh", "vv"), nesz_db=None, seed=8)
    plan = [
        var
        for _, _, var in S.plan(S.StackInputs(st), ["entropy", "rvi", "copol_phase_difference_std"])
    ]
    assert plan == [
        "entropy_vv_vh",
        "entropy_hh_hv",
        "entropy_hh_vv",
        "rvi_vv_vh",
        "rvi_hh_hv",
        "copol_phase_difference_std_hh_vv",
    ]
    # identical HH and VV phases -> zero co-pol phase spread; random -> large
    st2 = synthetic_stack(1, (40, 40), pols=("hh", "vv"), pol_correlation=1.0, nesz_db=None, seed=9)
    f = S.compute(st2, ["copol_phase_difference_std", "pol_correlation"]).load()
    assert float(np.nanmax(f.copol_phase_difference_std_hh_vv)) < 1e-3
    st3 = synthetic_stack(1, (40, 40), pols=("hh", "vv"), pol_correlation=0.0, nesz_db=None, seed=9)
    f3 = S.compute(st3, ["copol_phase_difference_std"], window=(7, 7)).load()
    assert float(f3.copol_phase_difference_std_hh_vv.mean()) > 1.3
    f4 = S.compute(
        st3,
        ["copol_phase_difference_std"],
        window=(7, 7),
        chunks={"time": 1, "line": 11, "pixel": 13},
    ).load()
    np.testing.assert_allclose(
        f4.copol_phase_difference_std_hh_vv, f3.copol_phase_difference_std_hh_vv, rtol=1e-5
    )


def test_selection_errors(stack):
    with pytest.raises(ConfigError, match="unknown signature"):
        S.compute(stack, ["no_such_signature"])
    f = S.compute(stack, ["entropy_vv_vh", "sigma0"])
    assert sorted(f.data_vars) == ["entropy_vv_vh", "sigma0_vh", "sigma0_vv"]
    bs_only = xr.Dataset(
        {"gamma0_vv": (("time", "line", "pixel"), np.ones((2, 5, 5), np.float32))},
        coords={"time": np.array(["2022-01-01", "2022-01-13"], "datetime64[ns]")},
    )
    with pytest.raises(InputError):
        S.compute(bs_only, ["entropy"])  # no VH, no SLC
    with pytest.raises(InputError, match="needs"):
        S.compute(bs_only, ["sigma0"])  # only gamma0 present


def test_filters_in_compute():
    import torch

    stack = synthetic_stack(
        6, (60, 70), coherence=0.0, seed=11
    )  # independent speckle between dates
    raw = S.compute(stack, ["sigma0_vv"], noise_removal=False).load().sigma0_vv
    for flt, kw in [
        ("lee", {"window": 7}),
        ("quegan_yu", {"window": 7}),
        ("boxcar", {"window": 5}),
    ]:
        filt = (
            S.compute(stack, ["sigma0_vv"], filter=flt, filter_kwargs=kw, noise_removal=False)
            .load()
            .sigma0_vv
        )
        assert float(filt.std()) < 0.6 * float(raw.std()), flt
        assert float(filt.mean()) == pytest.approx(float(raw.mean()), rel=0.05), flt
    avg = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        avg.weight.fill_(1 / 9)
    f = S.compute(
        stack, ["sigma0_vv"], filter=avg, filter_kwargs={"depth": 2}, noise_removal=False
    ).load()
    box = S.compute(
        stack, ["sigma0_vv"], filter="boxcar", filter_kwargs={"window": 3}, noise_removal=False
    ).load()
    inner = dict(line=slice(501, 558), pixel=slice(16001, 16068))
    np.testing.assert_allclose(f.sigma0_vv.sel(inner), box.sigma0_vv.sel(inner), rtol=1e-4)
    with pytest.raises(ConfigError):
        S.compute(stack, ["sigma0_vv"], filter="median")


def test_goldstein_phase_filter_in_compute(stack):
    raw = S.compute(stack, ["interferometric_phase_vv"]).load()
    filt = S.compute(
        stack,
        ["interferometric_phase_vv"],
        phase_filter="goldstein",
        phase_filter_kwargs={"alpha": 0.0, "block": 16, "step": 4},
    ).load()
    np.testing.assert_allclose(
        filt.interferometric_phase_vv, raw.interferometric_phase_vv, atol=2e-3
    )


def test_write_zarr_roundtrip(tmp_path, stack):
    f = S.compute(
        stack,
        ["sigma0_db", "entropy", "backscatter_mean"],
        chunks={"time": 1, "line": 32, "pixel": 32},
    )
    out = tmp_path / "features.zarr"
    S.write(f, out)
    back = xr.open_zarr(out)
    assert set(back.data_vars) == {
        "sigma0_db_vv",
        "sigma0_db_vh",
        "entropy_vv_vh",
        "backscatter_mean_vv",
        "backscatter_mean_vh",
    }
    np.testing.assert_allclose(
        back.entropy_vv_vh, f.entropy_vv_vh.compute(), rtol=1e-6, equal_nan=True
    )
    assert back.entropy_vv_vh.attrs["sarbd_category"] == "2"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
    assert (out / ".zmetadata").is_file()  # Zarr format 2, consolidated, like the stack


def test_dask_lazy_until_computed():
    st = synthetic_stack(2, (64, 64), chunks=(32, 32), seed=10)
    f = S.compute(st)
    assert all(isinstance(v.data, da.Array) for v in f.data_vars.values())


@pytest.mark.parametrize(("flt", "budget"), [(None, 2**30), ("refined_lee", 2**30), (None, 1)])
def test_banded_zarr_equals_whole_computation(tmp_path, flt, budget):
    """Bands of lines (and, with a budget too small for the width, column tiles of one
    pixel chunk with their halo) give the whole computation's values."""
    st = synthetic_stack(3, (75, 60), seed=12)
    names = [
        "sigma0_db",
        "entropy",
        "coherence",
        "backscatter_cv",
        "soil_moisture_index",
        "interferometric_phase",
    ]
    kw = {
        "filter": flt,
        "phase_filter": "goldstein",
        "phase_filter_kwargs": {"alpha": 0.5, "block": 8, "step": 2},
    }
    whole = S.compute(st, names, window=(5, 5), **kw).load()
    out = tmp_path / "banded.zarr"
    S.compute_to_zarr(
        st,
        out,
        names,
        window=(5, 5),
        band_lines=16,
        chunks={"time": -1, "line": 16, "pixel": 32},
        budget=budget,
        **kw,
    )
    back = xr.open_zarr(out).load()
    assert set(back.data_vars) == set(whole.data_vars)
    for v in whole.data_vars:
        np.testing.assert_allclose(
            back[v], whole[v], rtol=1e-4, atol=1e-5, equal_nan=True, err_msg=v
        )
    assert back.entropy_vv_vh.attrs["units"] == "1" and "sarbd_backscatter" in back.attrs
    np.testing.assert_array_equal(back.line, st.line)


def test_signature_graph_layers_survive_pickling():
    """Every layer of a dual-pol signature graph round-trips through cloudpickle, as a Dask
    cluster ships it (a block function that captured the inputs object, whose cache holds
    the layer's own array, unpickled into a half-built Blockwise: the scheduler refused the
    graph, "'Blockwise' object has no attribute 'collection_annotations'")."""
    import pickle

    import cloudpickle

    from sarbd.signatures.compute import compute
    from sarbd.signatures.synthetic import synthetic_stack

    stack = synthetic_stack(n_dates=3, shape=(32, 48), chunks=(16, 48))
    out = compute(stack, None, window=(3, 3))
    layers = {}
    for v in out.data_vars.values():
        layers.update(v.data.__dask_graph__().layers)
    assert any(name.startswith("c2-fused") for name in layers)
    for name, layer in layers.items():
        back = pickle.loads(cloudpickle.dumps(layer))
        assert type(back) is type(layer), name
