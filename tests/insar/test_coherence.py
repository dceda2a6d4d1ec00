"""Coherence estimator against Touzi et al. (1999), chunking, windows; multilook; phase sign."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from sarbd.errors import InputError
from sarbd.insar import (
    coherence,
    coherence_window_from_metres,
    expected_coherence,
    geometric_phase,
    interferogram,
    multilook,
)


def _pair(gamma: float, shape: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Circular complex Gaussian pair with true coherence ``gamma`` (independent samples)."""
    rng = np.random.default_rng(seed)
    n1 = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)
    n2 = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)
    return n1.astype(np.complex64), (gamma * n1 + np.sqrt(1 - gamma**2) * n2).astype(np.complex64)


def test_expected_coherence_limits() -> None:
    # gamma = 0: E ~ sqrt(pi / (4L)) (Touzi 1999), exact value Gamma(L)Gamma(3/2)/Gamma(L+1/2)
    from scipy.special import gamma as G

    for L in (4, 20, 50):
        assert expected_coherence(0.0, L) == pytest.approx(G(L) * G(1.5) / G(L + 0.5), rel=1e-12)
        if L >= 20:  # the asymptotic form
            assert expected_coherence(0.0, L) == pytest.approx(np.sqrt(np.pi / (4 * L)), rel=0.01)
    # one look: |gamma_hat| = 1 always
    np.testing.assert_allclose(expected_coherence([0.1, 0.7], 1), 1.0, rtol=1e-9)
    # many looks: unbiased
    assert expected_coherence(0.6, 2000) == pytest.approx(0.6, abs=1e-3)
    # bias positive and decreasing with gamma
    g = np.array([0.0, 0.2, 0.5, 0.8, 0.95])
    bias = expected_coherence(g, 20) - g
    assert np.all(bias > 0) and np.all(np.diff(bias) < 0)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.6, 0.9])
def test_estimator_matches_touzi_expectation(gamma: float) -> None:
    m, s = _pair(gamma, (400, 500), seed=int(gamma * 10))
    window = (2, 10)
    est = coherence(interferogram(m, s), np.abs(m) ** 2, np.abs(s) ** 2, window=window)
    inner = est[2:-2, 10:-10]
    expected = float(expected_coherence(gamma, window[0] * window[1]))
    # 100 x 50 independent windows: standard error of the mean < 0.002
    assert float(inner.mean()) == pytest.approx(expected, abs=0.006)
    if gamma == 0.0:
        assert inner.mean() > 0.18  # the bias is real, not an artefact


def test_chunked_equals_unchunked_and_xarray() -> None:
    m, s = _pair(0.5, (130, 170), seed=3)
    ifg, p1, p2 = interferogram(m, s), np.abs(m) ** 2, np.abs(s) ** 2
    whole = coherence(ifg, p1, p2, window=(3, 9))
    chunked = coherence(
        da.from_array(ifg, chunks=(40, 50)),
        da.from_array(p1, chunks=(40, 50)),
        da.from_array(p2, chunks=(40, 50)),
        window=(3, 9),
    )
    assert isinstance(chunked, da.Array)
    np.testing.assert_allclose(chunked.compute(), whole, rtol=1e-6, atol=1e-7)
    # a time dimension in front
    ifg3 = da.stack([da.from_array(ifg, chunks=(40, 50))] * 2)
    p13 = da.stack([da.from_array(p1, chunks=(40, 50))] * 2)
    p23 = da.stack([da.from_array(p2, chunks=(40, 50))] * 2)
    np.testing.assert_allclose(
        coherence(ifg3, p13, p23, window=(3, 9)).compute()[1], whole, rtol=1e-6, atol=1e-7
    )
    x = xr.DataArray(ifg, dims=("line", "pixel"))
    res = coherence(x, p1, p2, window=(3, 9))
    assert res.attrs["coherence_window_pixel"] == 9
    np.testing.assert_array_equal(res.values, whole)


def test_identical_images_are_fully_coherent() -> None:
    m, _ = _pair(0.0, (40, 60), seed=1)
    g = coherence(interferogram(m, m), np.abs(m) ** 2, np.abs(m) ** 2)
    np.testing.assert_allclose(g, 1.0, atol=1e-5)
    with pytest.raises(InputError):
        coherence(m, m, m, window=(0, 3))


def test_window_in_metres() -> None:
    # Sentinel-1 IW: ~14 m azimuth, 2.33 m slant / sin(39 deg) ~ 3.7 m ground range
    assert coherence_window_from_metres(30.0, 14.0, 3.7) == (2, 8)
    assert coherence_window_from_metres((28.0, 37.0), 14.0, 3.7) == (2, 10)


def test_geometric_phase_flattens_range_phase() -> None:
    wavelength = 0.0555
    r_ref = np.linspace(800e3, 800.2e3, 50)
    r_sec = r_ref + np.linspace(0.1, 0.3, 50)  # flat-earth-like range difference
    ref = np.exp(-4j * np.pi * r_ref / wavelength)
    sec = np.exp(-4j * np.pi * r_sec / wavelength)
    ifg = interferogram(ref, sec, geometric_phase(r_ref, r_sec, wavelength))
    np.testing.assert_allclose(np.angle(ifg), 0.0, atol=1e-3)
    raw = interferogram(ref, sec)
    assert np.ptp(np.unwrap(np.angle(raw))) > 10  # fringes before flattening


def test_multilook_numpy_dask_xarray() -> None:
    a = np.arange(6 * 8, dtype=np.float64).reshape(6, 8)
    ml = multilook(a, (2, 4))
    assert ml.shape == (3, 2)
    assert ml[0, 0] == pytest.approx(np.mean(a[:2, :4]))
    np.testing.assert_array_equal(multilook(da.from_array(a, chunks=(2, 4)), (2, 4)).compute(), ml)
    x = xr.DataArray(
        a, dims=("line", "pixel"), coords={"line": np.arange(6), "pixel": np.arange(8)}
    )
    mx = multilook(x, (2, 4))
    np.testing.assert_array_equal(mx.values, ml)
    np.testing.assert_allclose(mx["line"].values, [0.5, 2.5, 4.5])
    assert multilook(np.ones((5, 7)), (2, 3)).shape == (2, 2)


def test_border_windows_are_touzi_with_the_samples_inside() -> None:
    """edges="shrink": a border window is the equal-weight estimator over the L' samples
    inside the image, so its mean is E|gamma_hat| for L' looks (Touzi et al. 1999);
    "reflect" counts edge samples twice (fewer effective looks: more bias)."""
    m, s = _pair(0.0, (20000, 24), seed=7)
    ifg, p1, p2 = interferogram(m, s), np.abs(m) ** 2, np.abs(s) ** 2
    window = (2, 10)  # pixel j spans j - 5 .. j + 4: pixel 1 sees 6 pixels inside
    shrink = coherence(ifg, p1, p2, window)
    reflect = coherence(ifg, p1, p2, window, edges="reflect")
    # 10 000 non-overlapping windows per column: standard error ~0.0015
    assert float(shrink[:, 1].mean()) == pytest.approx(
        float(expected_coherence(0.0, 12)), abs=0.006
    )
    assert float(shrink[:, 12].mean()) == pytest.approx(
        float(expected_coherence(0.0, 20)), abs=0.006
    )
    # reflected: weights 2,2,2,2,1,1 on the same 6 pixels: (sum w)^2 / sum w^2 = 5.6 of 6
    assert float(reflect[:, 1].mean()) > float(shrink[:, 1].mean()) + 0.004
    np.testing.assert_array_equal(reflect[:, 8:-8], shrink[:, 8:-8])  # inside: the same estimator
    # by hand, one border window (line 7, pixel 1: lines 6-7, pixels 0-5)
    sl = (slice(6, 8), slice(0, 6))
    want = abs(ifg[sl].astype(np.complex128).sum()) / np.sqrt(
        p1[sl].astype(np.float64).sum() * p2[sl].astype(np.float64).sum()
    )
    assert float(shrink[7, 1]) == pytest.approx(want, rel=1e-6)


def test_nan_samples_are_left_out_of_all_three_sums() -> None:
    m, s = _pair(0.7, (40, 60), seed=8)
    ifg, p1, p2 = interferogram(m, s), np.abs(m) ** 2, np.abs(s) ** 2
    p2 = p2.copy()
    p2[10, 20] = np.nan  # no data in one input: the sample leaves all three sums
    ifg[30:, 40:] = np.nan  # a no-data corner
    g = coherence(ifg, p1, p2, (3, 5))
    sl = (slice(9, 12), slice(18, 23))
    ok = np.isfinite(p2[sl])
    want = abs(ifg[sl][ok].astype(np.complex128).sum()) / np.sqrt(
        p1[sl][ok].astype(np.float64).sum() * p2[sl][ok].astype(np.float64).sum()
    )
    assert float(g[10, 20]) == pytest.approx(want, rel=1e-6)
    assert np.isnan(g[32:, 43:]).all()  # windows without a valid sample
    assert np.isfinite(g[:29]).all() and np.isfinite(g[:, :39]).all()  # nothing else is lost
    # "propagate": NaN only where a window reaches a NaN (never along the rest of a line)
    gp = coherence(ifg, p1, p2, (3, 5), nan="propagate")
    assert np.isnan(gp[9:12, 18:23]).all() and np.isfinite(gp[:8]).all()
    assert np.isfinite(gp[:, :38]).sum() == gp[:, :38].size - 15


def test_chunked_equals_unchunked_with_edges_nan_and_a_broadcast_reference() -> None:
    m, s = _pair(0.5, (61, 83), seed=9)
    ifg = np.stack([interferogram(m, s), interferogram(m, m)])  # (time, line, pixel)
    ifg[0, 3:6, 7:9] = np.nan
    p_ref = (np.abs(m) ** 2)[None]  # one reference date, broadcast over time
    p_sec = np.stack([np.abs(s) ** 2, np.abs(m) ** 2])
    for edges in ("shrink", "reflect"):
        whole = coherence(ifg, p_ref, p_sec, (4, 7), edges=edges)
        chunked = coherence(
            da.from_array(ifg, chunks=(1, 13, 20)),
            da.from_array(p_ref, chunks=(1, 13, 20)),
            da.from_array(p_sec, chunks=(1, 13, 20)),
            (4, 7),
            edges=edges,
        )
        np.testing.assert_array_equal(chunked.compute(), whole)
        np.testing.assert_allclose(whole[1], 1.0, atol=1e-6)  # a date against itself
