"""Closed-form 2 x 2 eigen-analysis and phase statistics against analytic cases and LAPACK."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.signatures.kernels import (
    DESCRIPTORS,
    c2_descriptors,
    circular_phase_std,
    eig2x2_hermitian,
)

R = {name: i for i, name in enumerate(DESCRIPTORS)}


def _desc(c11, c22, c12):
    return c2_descriptors(
        np.atleast_1d(np.float32(c11)),
        np.atleast_1d(np.float32(c22)),
        np.atleast_1d(np.complex64(c12)),
    )[:, 0]


def test_identical_channels_give_zero_entropy():
    # k = [s, s]: rank one, eigenvector [1, 1]/sqrt(2) -> alpha 45 degrees
    d = _desc(2.0, 2.0, 2.0)
    assert d[R["entropy"]] == pytest.approx(0.0, abs=1e-6)
    assert d[R["anisotropy"]] == pytest.approx(1.0, abs=1e-6)
    assert d[R["degree_of_polarization"]] == pytest.approx(1.0, abs=1e-6)
    assert d[R["alpha"]] == pytest.approx(45.0, abs=1e-3)
    assert d[R["lambda1"]] == pytest.approx(4.0) and d[R["lambda2"]] == pytest.approx(0.0, abs=1e-6)
    assert d[R["dprvi"]] == pytest.approx(0.0, abs=1e-6)


def test_independent_equal_power_gives_entropy_one():
    d = _desc(0.3, 0.3, 0.0)
    assert d[R["entropy"]] == pytest.approx(1.0)
    assert d[R["anisotropy"]] == pytest.approx(0.0)
    assert d[R["alpha"]] == pytest.approx(45.0)
    assert d[R["dprvi"]] == pytest.approx(1.0)
    assert d[R["zone"]] == 2  # high entropy, alpha 45: vegetation


def test_pure_copol_surface():
    d = _desc(1.0, 0.0, 0.0)
    assert d[R["entropy"]] == pytest.approx(0.0, abs=1e-7)
    assert d[R["alpha"]] == pytest.approx(0.0, abs=1e-4)
    assert d[R["zone"]] == 9
    d = _desc(0.0, 1.0, 0.0)  # pure second channel: alpha 90
    assert d[R["alpha"]] == pytest.approx(90.0, abs=1e-4)
    assert d[R["zone"]] == 7


def test_matches_lapack_on_random_covariances():
    rng = np.random.default_rng(0)
    n = 2000
    k = rng.normal(size=(n, 2, 9)) + 1j * rng.normal(size=(n, 2, 9))
    k[:, 1] *= rng.uniform(0.05, 2.0, size=(n, 1))
    c = np.einsum("nil,njl->nij", k, k.conj()) / 9
    d = c2_descriptors(
        c[:, 0, 0].real.astype(np.float32),
        c[:, 1, 1].real.astype(np.float32),
        c[:, 0, 1].astype(np.complex64),
    )
    w, v = np.linalg.eigh(c)  # ascending
    l1, l2 = w[:, 1], w[:, 0]
    p = np.stack([l1, l2]) / (l1 + l2)
    h = -(p * np.log2(p)).sum(axis=0)
    alpha = np.degrees(p[0] * np.arccos(np.abs(v[:, 0, 1])) + p[1] * np.arccos(np.abs(v[:, 0, 0])))
    np.testing.assert_allclose(d[R["lambda1"]], l1, rtol=1e-5)
    np.testing.assert_allclose(d[R["lambda2"]], l2, rtol=1e-3, atol=1e-5 * l1.max())
    np.testing.assert_allclose(d[R["entropy"]], h, atol=1e-4)
    np.testing.assert_allclose(d[R["alpha"]], alpha, atol=1e-3)
    m = np.sqrt(1 - 4 * np.linalg.det(c).real / np.trace(c, axis1=1, axis2=2).real ** 2)
    np.testing.assert_allclose(d[R["degree_of_polarization"]], m, atol=1e-4)
    np.testing.assert_allclose(d[R["dprvi"]], 1 - m * p[0], atol=1e-4)
    e1, e2, pe1 = eig2x2_hermitian(c[:, 0, 0].real, c[:, 1, 1].real, c[:, 0, 1])
    np.testing.assert_allclose(e1, l1, rtol=1e-10)
    np.testing.assert_allclose(e2, l2, rtol=1e-8, atol=1e-12 * l1.max())
    np.testing.assert_allclose(pe1, np.abs(v[:, 0, 1]) ** 2, atol=1e-8)


def test_invalid_matrices_are_nan_not_inf():
    d = c2_descriptors(
        np.array([0.0, -1.0, 1.0, np.nan], np.float32),
        np.array([0.0, 1.0, 1.0, 1.0], np.float32),
        np.array([0, 0, 2.0, 0], np.complex64),
    )
    assert np.isnan(d).all()  # zero trace, negative power, det < 0, NaN


def test_zones():
    from sarbd.signatures.polarimetry_kernels import halpha_zone

    cases = {
        (0.95, 60): 1,
        (0.95, 45): 2,
        (0.95, 30): 3,
        (0.7, 55): 4,
        (0.7, 45): 5,
        (0.7, 20): 6,
        (0.2, 50): 7,
        (0.2, 45): 8,
        (0.2, 10): 9,
    }
    for (h, a), z in cases.items():
        assert halpha_zone(h, a) == z


def test_circular_phase_std():
    rng = np.random.default_rng(1)
    shape = (60, 60)
    # constant phase difference of pi (double bounce): zero spread, no wrapping artefact
    z = -np.ones(shape, np.complex64) * rng.uniform(0.5, 2, shape)
    z[::2] *= np.exp(1j * 1e-4)
    z[1::2] *= np.exp(-1j * 1e-4)
    s = circular_phase_std(z, (5, 5))
    assert np.nanmax(s) < 1e-3
    # uniform random phase: deviations uniform on (-pi, pi] -> std pi/sqrt(3)
    z = np.exp(1j * rng.uniform(-np.pi, np.pi, (90, 90)))
    # (large window: the fitted mean direction slightly reduces the spread of few samples)
    assert np.nanmean(circular_phase_std(z, (31, 31))[15:-15, 15:-15]) == pytest.approx(
        np.pi / np.sqrt(3), rel=0.03
    )
    # small Gaussian spread sigma about a mean: the sample std over n = 49 samples
    sigma = 0.2
    z = np.exp(1j * (2.0 + rng.normal(scale=sigma, size=shape)))
    est = circular_phase_std(z, (7, 7))[5:-5, 5:-5]
    assert np.mean(est) == pytest.approx(sigma * np.sqrt(48 / 49), rel=0.05)
    # the window-averaged squared deviation equals the direct computation at one pixel
    ph = np.angle(z[10:17, 20:27])
    direct = np.sqrt(np.mean((ph - np.angle(np.exp(1j * ph).mean())) ** 2))
    assert circular_phase_std(z, (7, 7))[13, 23] == pytest.approx(direct, rel=1e-6)


# -- fused C2 kernel and element-wise kernels ----------------------------------------------------
from sarbd.filters.boxcar import nan_window_mean  # noqa: E402
from sarbd.signatures.kernels import (  # noqa: E402
    c2_fused,
    correlation_magnitude,
    finite_or_nan,
    noise_corrected_power,
    ratio_or_nan,
)


def _numpy_c2(s1, s2, k1, k2, n1, n2, window, negative="nan", floor=1e-5):
    """The step-by-step NumPy path: products, NaN-aware boxcar (image edges excluded), noise, rule."""

    def mean(x):
        pad = [(0, 0), (window[0] // 2,) * 2, (window[1] // 2,) * 2]
        xp = np.pad(x, pad, constant_values=np.nan)
        out = nan_window_mean(xp, window)
        return out[:, pad[1][0] : out.shape[1] - pad[1][1], pad[2][0] : out.shape[2] - pad[2][1]]

    def rule(c):
        return np.where(c < 0, np.nan, c) if negative == "nan" else np.where(c < floor, floor, c)

    p1 = (s1.real * s1.real + s1.imag * s1.imag).astype(np.float32) * k1
    p2 = (s2.real * s2.real + s2.imag * s2.imag).astype(np.float32) * k2
    c11, c22 = mean(p1), mean(p2)
    if n1 is not None:
        c11, c22 = c11 - mean(n1 * k1), c22 - mean(n2 * k2)
    c12 = mean((s1 * np.conj(s2) * np.sqrt(k1 * k2)).astype(np.complex64))
    return rule(c11), rule(c22), c12


@pytest.mark.parametrize("window", [(3, 3), (5, 3), (4, 2), (1, 1)])
@pytest.mark.parametrize("negative", ["nan", "floor"])
@pytest.mark.parametrize("noise", [True, False])
def test_fused_c2_equals_the_numpy_path(window, negative, noise):
    rng = np.random.default_rng(7)
    shape = (3, 23, 31)
    cg = lambda: (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np.complex64)  # noqa: E731
    s1, s2 = cg() * 30, cg() * 12
    k1 = rng.uniform(1e-5, 3e-5, shape).astype(np.float32)
    k2 = rng.uniform(1e-5, 3e-5, shape).astype(np.float32)
    n1 = rng.uniform(100, 900, shape).astype(np.float32)  # strong noise: some C_ii < 0
    n2 = rng.uniform(50, 300, shape).astype(np.float32)
    s1[1, 4:9, 5:12] = np.nan  # a no-data hole larger than the window
    k2[2, :, 0] = np.nan
    n1[0, 10, 10] = np.inf
    nn = (n1, n2) if noise else (None, None)
    ref = _numpy_c2(s1, s2, k1, k2, *nn, window, negative)
    out = c2_fused(s1, s2, k1, k2, *nn, window, (0, 0), negative=negative)
    # an undefined complex mean is NaN in both parts (NumPy's where() gives nan + 0j)
    imag = np.where(np.isnan(ref[2].real), np.nan, ref[2].imag)
    assert np.isnan(ref[0]).any() or not noise or negative == "floor"  # the cases occur
    for got, want in zip(
        (out[0], out[1], out[2], out[3]), (ref[0], ref[1], ref[2].real, imag), strict=True
    ):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        ok = ~np.isnan(want)
        scale = np.nanmax(np.abs(want))
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-5, atol=1e-6 * scale)


def test_fused_c2_border_is_a_halo():
    # a block padded by (2, 3) gives the interior of the unpadded computation
    rng = np.random.default_rng(1)
    shape = (2, 20, 26)
    s1 = (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np.complex64)
    s2 = (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np.complex64)
    k = np.full(shape, 2e-5, np.float32)
    full = c2_fused(s1, s2, k, k, None, None, (5, 7), (0, 0))
    inner = c2_fused(s1, s2, k, k, None, None, (5, 7), (2, 3))
    np.testing.assert_array_equal(inner, full[:, :, 2:-2, 3:-3])


def test_elementwise_kernels():
    nan, inf = np.float32(np.nan), np.float32(np.inf)
    x = np.array([1.0, 0.0, nan, inf, -inf, 3.0], np.float32)
    num = np.array([1.0, 1.0, nan, 2.0, 3e38, 0.0], np.float32)
    den = np.array([2.0, 0.0, 1.0, inf, 1e-10, 5.0], np.float32)
    with np.errstate(all="ignore"):  # flags of speculated branches (the kernels return NaN there)
        np.testing.assert_array_equal(finite_or_nan(x), [1.0, 0.0, nan, nan, nan, 3.0])
        np.testing.assert_array_equal(ratio_or_nan(num, den), [0.5, nan, nan, nan, nan, 0.0])
        s = np.array([3 + 4j, 1 + 0j, 0j], np.complex64)
        k = np.float32(0.5)
        # (25 - 5) * 0.5 = 10; (1 - 5) * 0.5 < 0 -> NaN or the floor; 0 - 2.5 -> NaN
        np.testing.assert_array_equal(
            noise_corrected_power(s, k, np.float32(5), True, True, np.float32(1e-3)),
            [10.0, nan, nan],
        )
        np.testing.assert_array_equal(
            noise_corrected_power(s, k, np.float32(5), True, False, np.float32(1e-3)),
            np.array([10.0, 1e-3, 1e-3], np.float32),
        )
        np.testing.assert_array_equal(
            noise_corrected_power(s, k, np.float32(5), False, True, np.float32(1e-3)),
            [12.5, 0.5, 0.0],
        )
        rho = correlation_magnitude(
            np.array([4.0, 1.0, 0.0, 1.0], np.float32),
            np.array([1.0, 1.0, 1.0, 1.0], np.float32),
            np.array([1.2, 3.0, 1.0, nan], np.float32),
            np.array([1.6, 0.0, 0.0, 0.0], np.float32),
        )
        np.testing.assert_array_equal(rho, np.array([1.0, 1.0, nan, nan], np.float32))
        assert correlation_magnitude(
            np.float32(4.0), np.float32(1.0), np.float32(0.6), np.float32(0.8)
        ) == pytest.approx(0.5)


def test_branch_free_log2_matches_libm():
    """kernels.log2_positive (the entropy's vectorisable log2) against libm on every scale."""
    import numba

    from sarbd.signatures.kernels import log2_positive

    @numba.njit
    def run(x, out):
        for i in range(x.size):
            out[i] = log2_positive(x[i])

    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(0.0, 1.0, 200_000) + 1e-300,
            10.0 ** rng.uniform(-307, 307, 200_000),
            [1.0, 2.0, 0.5, np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 2.0), 2.3e-308, 1.7e308],
        ]
    )
    out = np.empty_like(x)
    run(x, out)
    np.testing.assert_allclose(out, np.log2(x), rtol=0, atol=1e-12)
    assert out[-7:-4].tolist() == [0.0, 1.0, -1.0]  # exact at powers of two


def test_entropy_scalar_equals_the_descriptors_and_the_formula():
    """The fused kernel's branch-free entropy = c2_descriptors' entropy = -sum p log2 p (LAPACK)."""
    import numba

    from sarbd.signatures.kernels import entropy_scalar

    @numba.njit(error_model="numpy")
    def run(a, b, cr, ci, out):
        for i in range(a.size):
            out[i] = entropy_scalar(a[i], b[i], cr[i], ci[i])

    rng = np.random.default_rng(4)
    n = 20_000
    a = rng.uniform(0, 2, n)
    b = rng.uniform(0, 2, n) * rng.choice([1.0, 1e-7], n)  # near rank-one cases too
    c = np.sqrt(a * b) * rng.uniform(0, 1, n) * np.exp(2j * np.pi * rng.uniform(size=n))
    a[:50], b[50:100], c[100:150] = np.nan, -1.0, np.inf  # not covariances: NaN
    a[150:160], b[150:160], c[150:160] = 1.0, 1.0, 1.2  # det < -1e-5 tr^2: NaN
    a[160:170], b[160:170], c[160:170] = 1.0, 0.0, 0.0  # rank one: H = 0
    out = np.empty(n)
    run(a, b, c.real.copy(), c.imag.copy(), out)
    desc = c2_descriptors(a.astype(np.float32), b.astype(np.float32), c.astype(np.complex64))
    want = desc[R["entropy"]]
    np.testing.assert_array_equal(np.isnan(out), np.isnan(want))
    assert np.isnan(out[:160]).all() and (out[160:170] == 0).all()
    ok = ~np.isnan(want)
    np.testing.assert_allclose(out[ok], want[ok], rtol=0, atol=2e-6)  # float32 inputs of desc
    cov = np.stack([np.stack([a, c], -1), np.stack([np.conj(c), b], -1)], -2)[ok]
    lam = np.clip(np.linalg.eigvalsh(cov), 0, None)
    p = lam / lam.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(p > 0, p * np.log2(p), 0.0), -1)
    np.testing.assert_allclose(out[ok], h, rtol=0, atol=1e-9)


def test_hypot_scalar_is_libm_hypotf():
    """kernels.hypot_scalar (the cross product, |C12|) equals libm's hypotf bit for bit."""
    import numba

    from sarbd.signatures.kernels import hypot_scalar

    @numba.njit
    def run(x, y, out):
        for i in range(x.size):
            out[i] = hypot_scalar(x[i], y[i])

    rng = np.random.default_rng(1)
    scale = (10.0 ** rng.uniform(-30, 30, 100_000)).astype(np.float32)
    x = (rng.normal(size=100_000) * scale).astype(np.float32)
    y = (rng.normal(size=100_000) * scale).astype(np.float32)
    out = np.empty(x.size, np.float32)
    run(x, y, out)
    np.testing.assert_array_equal(out, np.hypot(x, y))  # float32 loop: glibc hypotf
    # NumPy's complex64 abs (SIMD, not correctly rounded) is within two units in the last place
    np.testing.assert_allclose(out, np.abs(x + 1j * y.astype(np.complex64)), rtol=2.5e-7, atol=0)
