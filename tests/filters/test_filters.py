"""Filters: analytic properties, chunk invariance, speckle statistics."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from sarbd.filters import apply_torch, boxcar, goldstein, lee, quegan_yu, refined_lee


def _speckle(shape, looks=1, seed=0):
    """Unit-mean gamma speckle of ``looks`` looks (intensity)."""
    rng = np.random.default_rng(seed)
    return rng.gamma(looks, 1.0 / looks, size=shape)


def test_boxcar_constant_and_border_has_no_darkening():
    x = np.full((20, 30), 3.0, dtype=np.float32)
    y = boxcar(x, (5, 7))
    np.testing.assert_allclose(y, 3.0, rtol=1e-6)  # edges too: NaN-aware, not zero padded


def test_boxcar_matches_direct_mean_and_skips_nan():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(15, 17))
    x[4, 5] = np.nan
    y = boxcar(x, 3)
    win = x[3:6, 4:7]
    assert np.isclose(y[4, 5], np.nanmean(win))
    assert np.isclose(y[0, 0], np.mean(x[0:2, 0:2]))  # corner: 4 samples inside the image
    allnan = np.full((5, 5), np.nan)
    assert np.isnan(boxcar(allnan, 3)).all()


def test_boxcar_complex():
    rng = np.random.default_rng(2)
    z = (rng.normal(size=(12, 12)) + 1j * rng.normal(size=(12, 12))).astype(np.complex64)
    y = boxcar(z, 3)
    assert y.dtype == np.complex64
    assert np.isclose(y[5, 5], z[4:7, 4:7].mean(), rtol=1e-5)


@pytest.mark.parametrize(
    "func",
    [
        lambda x: boxcar(x, (5, 3)),
        lambda x: lee(x, 7, enl=1.0),
        lambda x: refined_lee(x, enl=1.0),
        lambda x: quegan_yu(x, (5, 5)),
    ],
    ids=["boxcar", "lee", "refined_lee", "quegan_yu"],
)
def test_chunked_equals_unchunked(func):
    x = _speckle((4, 67, 53), seed=3).astype(np.float32)
    x[1, 10:14, 20:25] = np.nan
    full = func(x)
    chunked = func(da.from_array(x, chunks=(2, 16, 19))).compute()
    assert np.array_equal(np.isnan(full), np.isnan(chunked))
    np.testing.assert_allclose(chunked, full, rtol=2e-5, atol=1e-6, equal_nan=True)


def test_goldstein_identity_at_alpha0_and_chunk_invariance():
    rng = np.random.default_rng(4)
    ll, pp = np.mgrid[0:90, 0:110]
    phase = 0.3 * pp + 0.1 * ll
    z = np.exp(1j * (phase + rng.normal(scale=0.8, size=phase.shape))).astype(np.complex64)
    ident = goldstein(z, alpha=0.0)
    np.testing.assert_allclose(ident, z, atol=1e-5)
    full = goldstein(z, alpha=0.8)
    chunked = goldstein(da.from_array(z, chunks=(37, 41)), alpha=0.8).compute()
    np.testing.assert_allclose(chunked, full, atol=1e-5)
    # it reduces the phase noise around the true fringe pattern
    err_in = np.angle(z * np.exp(-1j * phase))[20:-20, 20:-20]
    err_out = np.angle(full * np.exp(-1j * phase))[20:-20, 20:-20]
    assert np.std(err_out) < 0.6 * np.std(err_in)


def test_lee_reduces_speckle_and_keeps_mean():
    x = 0.2 * _speckle((200, 200), seed=5)
    y = lee(x, 7, enl=1.0)
    assert abs(np.mean(y) / np.mean(x) - 1) < 0.02
    cv2_in = np.var(x) / np.mean(x) ** 2
    cv2_out = np.var(y) / np.mean(y) ** 2
    assert cv2_in > 0.9  # single-look speckle
    assert cv2_out < 0.15  # ~1/49 + estimation noise on a homogeneous area


def test_refined_lee_keeps_edges_sharper_than_boxcar():
    truth = np.where(np.arange(120)[None, :] < 60, 1.0, 10.0) * np.ones((120, 1))
    x = truth * _speckle(truth.shape, looks=4, seed=6)
    y = refined_lee(x, enl=4.0)
    b = boxcar(x, 7)
    # the pixel just left of the edge: refined Lee stays near 1, the boxcar mixes in 10
    left = slice(10, 110), 59
    assert np.median(y[left]) < 1.6
    assert np.median(b[left]) > 3.0
    # homogeneous part is smoothed
    assert np.var(y[:, 10:50]) < 0.5 * np.var(x[:, 10:50])


def test_quegan_preserves_date_means_and_reduces_variance():
    n, looks, win = 8, 1, (15, 15)
    means = np.linspace(0.05, 0.4, n)  # different radiometry per date
    x = means[:, None, None] * np.stack(
        [_speckle((150, 150), looks, seed=10 + k) for k in range(n)]
    )
    y = quegan_yu(x, win)
    inner = (slice(None), slice(10, -10), slice(10, -10))
    np.testing.assert_allclose(y[inner].mean(axis=(1, 2)), means, rtol=0.03)
    cv2 = (y[inner].var(axis=(1, 2)) / y[inner].mean(axis=(1, 2)) ** 2).mean()
    m = win[0] * win[1]
    expected = 1.0 / (n * looks) + 1.0 / (looks * m)  # averaged speckle + local-mean noise
    assert cv2 == pytest.approx(expected, rel=0.15)
    assert cv2 < 1.0 / looks / (0.8 * n)  # about N-fold variance reduction


def test_filters_accept_xarray():
    x = xr.DataArray(
        _speckle((20, 20), seed=7), dims=("line", "pixel"), coords={"line": np.arange(20) + 100}
    )
    y = lee(x, 5)
    assert isinstance(y, xr.DataArray) and int(y.line[0]) == 100


def test_torch_hook_chunked_equals_whole_image():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 1, 5, padding=2)
    ).eval()
    x = _speckle((2, 40, 50), seed=8).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x[:, None])).numpy()[:, 0]
    whole = apply_torch(x, model, depth=3)
    np.testing.assert_allclose(whole, ref, rtol=1e-5, atol=1e-6)
    chunked = apply_torch(da.from_array(x, chunks=(1, 17, 23)), model, depth=3).compute()
    np.testing.assert_allclose(chunked, ref, rtol=1e-5, atol=1e-5)
    logged = apply_torch(x, torch.nn.Identity(), depth=1, transform="log")
    np.testing.assert_allclose(logged, x, rtol=1e-5)


def test_refined_lee_window_is_fixed():
    from sarbd.errors import ConfigError

    x = _speckle((20, 20), seed=9)
    np.testing.assert_array_equal(refined_lee(x, window=7), refined_lee(x))
    with pytest.raises(ConfigError, match="fixed 7 x 7"):
        refined_lee(x, window=5)


def test_boxcar_edge_rules_on_a_small_array():
    """The three edge rules against hand-computed means of a 1 x 4 ramp, window 1 x 3."""
    x = np.array([[1.0, 2.0, 4.0, 8.0]])
    # shrink: the edge windows hold the two samples inside the image
    np.testing.assert_allclose(boxcar(x, (1, 3)), [[1.5, 7 / 3, 14 / 3, 6.0]])
    # reflect (d c b a | a b c d): the edge sample counted twice
    np.testing.assert_allclose(boxcar(x, (1, 3), edges="reflect"), [[4 / 3, 7 / 3, 14 / 3, 20 / 3]])
    # nearest: the same here (the repeated sample is the edge sample)
    np.testing.assert_allclose(boxcar(x, (1, 3), edges="nearest"), [[4 / 3, 7 / 3, 14 / 3, 20 / 3]])
    y = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    np.testing.assert_allclose(boxcar(y, (1, 5), edges="reflect")[0, 0], (2 + 1 + 1 + 2 + 3) / 5)
    np.testing.assert_allclose(boxcar(y, (1, 5), edges="nearest")[0, 0], (1 + 1 + 1 + 2 + 3) / 5)


def test_boxcar_nan_rules():
    x = np.array([[1.0, np.nan, 4.0, 8.0, 16.0]])
    omit = boxcar(x, (1, 3))
    np.testing.assert_allclose(omit, [[1.0, 2.5, 6.0, 28 / 3, 12.0]])
    prop = boxcar(x, (1, 3), nan="propagate")
    assert np.isnan(prop[0, :3]).all()
    np.testing.assert_allclose(prop[0, 3:], [28 / 3, 12.0])  # shrinking at the edge still
    with pytest.raises(Exception, match="edges must be one of"):
        boxcar(x, 3, edges="wrap")
    with pytest.raises(Exception, match="nan must be one of"):
        boxcar(x, 3, nan="zero")


@pytest.mark.parametrize(
    ("edges", "nan"), [("reflect", "propagate"), ("reflect", "omit"), ("shrink", "propagate")]
)
def test_boxcar_rules_chunked_equal_unchunked(edges, nan):
    x = _speckle((3, 41, 37), seed=4)
    x[0, 5:8, 2:4] = np.nan
    full = boxcar(x, (4, 5), edges=edges, nan=nan)
    chunked = boxcar(da.from_array(x, chunks=(1, 9, 11)), (4, 5), edges=edges, nan=nan).compute()
    np.testing.assert_allclose(chunked, full, rtol=1e-12, equal_nan=True)
    if nan == "propagate":  # NaN exactly where the window (4 x 5: 2 before, 1 after) reaches one
        reach = np.zeros(x.shape, bool)
        reach[0, 5 - 1 : 8 + 2, 2 - 2 : 4 + 2] = True
        np.testing.assert_array_equal(np.isnan(full), reach)
    if edges == "reflect" and nan == "propagate":
        from scipy.ndimage import uniform_filter

        clean = _speckle((3, 41, 37), seed=4)
        want = uniform_filter(clean, size=(1, 4, 5), mode="reflect")
        np.testing.assert_allclose(boxcar(clean, (4, 5), edges=edges, nan=nan), want, rtol=1e-12)
