"""The fused dual-pol pass (sarbd.signatures.fused) against the step-by-step path and the formulas."""

from __future__ import annotations

import numpy as np
import pytest

import sarbd.signatures as S
from sarbd.filters.boxcar import nan_window_mean
from sarbd.signatures.fused import FUSED, dualpol_fused
from sarbd.signatures.synthetic import synthetic_stack

EIGHT = [
    "amplitude",
    "intensity_sum",
    "intensity_difference",
    "intensity_ratio",
    "pol_correlation",
    "cross_product",
    "entropy",
]
SMALL = {"time": -1, "line": 7, "pixel": 9}  # many block edges (halo exchange) on a 31 x 40 image


def _stack(seed: int = 3):
    st = synthetic_stack(3, (31, 40), nesz_db=-20.0, seed=seed)  # strong noise: some b_i < 0
    vv = st["slc_vv"].values.copy()
    vv[1, 4:9, 5:12] = np.nan  # a no-data hole larger than the window, across block edges
    vv[2, 0, 3] = 0.0  # an exact zero sample
    noise = st["noise_vh"].values.copy()
    noise[0, 10, 10] = np.inf
    return st.assign(slc_vv=(st["slc_vv"].dims, vv), noise_vh=(st["noise_vh"].dims, noise))


def _close(got, want, name):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
    ok = ~np.isnan(want)
    scale = float(np.max(np.abs(want[ok]))) if ok.any() else 1.0
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-5, atol=2e-6 * scale, err_msg=name)


@pytest.mark.parametrize(
    ("window", "zero_is_nodata"), [((3, 3), False), ((4, 2), True), ((5, 3), False)]
)
def test_fused_equals_the_step_by_step_path(window, zero_is_nodata):
    st = _stack()
    names = list(FUSED)
    fast = S.compute(st, names, window=window, chunks=SMALL, zero_is_nodata=zero_is_nodata).load()
    slow = S.compute(st, names, window=window, fused=False, zero_is_nodata=zero_is_nodata).load()
    assert (
        set(fast.data_vars) == set(slow.data_vars) and len(fast.data_vars) == len(FUSED) + 1
    )  # two amplitudes
    for v in slow.data_vars:
        assert fast[v].dtype == np.float32 and not np.isinf(fast[v].values).any(), v
        _close(fast[v].values, slow[v].values, v)
        assert (
            fast[v].attrs.keys() == slow[v].attrs.keys()
            and fast[v].attrs["long_name"] == slow[v].attrs["long_name"]
        ), v
    assert np.isnan(slow["intensity_ratio_vv_vh"].values).any()  # the NaN cases occur


def test_fused_eight_equal_the_formulas():
    """The reference code's eight (sarbd's definitions) from NumPy formulas, on small chunks."""
    st = _stack(5)
    w = (3, 3)
    f = S.compute(st, EIGHT, window=w, chunks=SMALL).load()
    s1, s2 = st["slc_vv"].values, st["slc_vh"].values
    k1, k2 = st["cal_sigma0_vv"].values, st["cal_sigma0_vh"].values
    e1, e2 = st["noise_vv"].values, st["noise_vh"].values
    with np.errstate(all="ignore"):
        b1 = (np.abs(s1) ** 2 - e1) * k1
        b2 = (np.abs(s2) ** 2 - e2) * k2
        b1[b1 < 0] = np.nan
        b2[b2 < 0] = np.nan

        def mean(x):  # NaN-aware boxcar, samples outside the image left out
            pad = [(0, 0), (w[0] // 2,) * 2, (w[1] // 2,) * 2]
            xp = np.pad(x, pad, constant_values=np.nan)
            return nan_window_mean(xp, w)[:, 1:-1, 1:-1]

        c11 = mean(np.abs(s1) ** 2 * k1) - mean(e1 * k1)
        c22 = mean(np.abs(s2) ** 2 * k2) - mean(e2 * k2)
        c11[c11 < 0] = np.nan
        c22[c22 < 0] = np.nan
        c12 = mean(s1 * np.conj(s2) * np.sqrt(k1 * k2))
        rho = np.clip(np.abs(c12) / np.sqrt(c11 * c22), 0, 1)
        cov = np.stack([np.stack([c11, c12], -1), np.stack([np.conj(c12), c22], -1)], -2)
        # a covariance only if det >= -1e-5 tr^2 (noise over-subtraction otherwise; kernels.DET_TOLERANCE)
        tr, det = c11 + c22, c11 * c22 - np.abs(c12) ** 2
        good = np.isfinite(cov).all(axis=(-1, -2)) & (tr > 0) & ~(det < -1e-5 * tr**2)
        lam = np.full((*c11.shape, 2), np.nan)
        lam[good] = np.clip(np.linalg.eigvalsh(cov[good]), 0, None)
        p = lam / lam.sum(-1, keepdims=True)
        h = -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), -1)
        h[~good] = np.nan
    want = {
        "amplitude_vv": np.abs(s1),
        "amplitude_vh": np.abs(s2),
        "intensity_sum_vv_vh": b1 + b2,
        "intensity_difference_vv_vh": b1 - b2,
        "intensity_ratio_vv_vh": np.where(b2 > 0, b1 / b2, np.nan),
        "pol_correlation_vv_vh": rho,
        "cross_product_vv_vh": np.abs(c12),
        "entropy_vv_vh": h,
    }
    assert set(f.data_vars) == set(want)
    for name, ref in want.items():
        got = f[name].values
        ok = np.isfinite(ref) & np.isfinite(got)
        assert ok.mean() > 0.5, name
        np.testing.assert_array_equal(np.isnan(got), ~np.isfinite(ref), err_msg=name)
        # entropy: log of near-degenerate eigenvalues; ratio: float32 cancellation of |s|^2 k - eta k
        tol = 1e-4 if name in ("entropy_vv_vh", "intensity_ratio_vv_vh") else 1e-5
        np.testing.assert_allclose(
            got[ok], ref[ok], rtol=tol, atol=tol * float(np.max(np.abs(ref[ok]))), err_msg=name
        )


def test_fused_kernel_border_is_a_halo_and_rows_are_independent():
    rng = np.random.default_rng(2)
    shape = (2, 18, 25)
    cg = lambda: (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np.complex64)  # noqa: E731
    s1, s2 = cg(), cg()
    k = np.full(shape, 2e-5, np.float32)
    rows = ["entropy", "c2_11", "amplitude_2", "intensity_ratio"]
    full = dualpol_fused(s1, s2, k, k, None, None, (5, 3), (0, 0), rows)
    inner = dualpol_fused(s1, s2, k, k, None, None, (5, 3), (2, 1), rows)
    np.testing.assert_array_equal(inner, full[:, :, 2:-2, 1:-1])
    one = dualpol_fused(s1, s2, k, k, None, None, (5, 3), (0, 0), ["c2_11"])
    np.testing.assert_array_equal(one[0], full[1])
    with pytest.raises(ValueError, match="unknown fused rows"):
        dualpol_fused(s1, s2, k, k, None, None, (3, 3), (0, 0), ["sigma0"])


def test_speckle_filter_keeps_backscatter_on_the_step_by_step_path():
    st = synthetic_stack(2, (30, 30), seed=4)
    kw = {"filter": "boxcar", "filter_kwargs": {"window": 3}}
    fast = S.compute(st, ["intensity_sum", "entropy"], **kw).load()
    slow = S.compute(st, ["intensity_sum", "entropy"], fused=False, **kw).load()
    np.testing.assert_array_equal(fast.intensity_sum_vv_vh.values, slow.intensity_sum_vv_vh.values)
    _close(fast.entropy_vv_vh.values, slow.entropy_vv_vh.values, "entropy")


def test_fused_into_buffers_with_offsets_equals_the_padded_call():
    """dualpol_into reading line ranges of larger buffers in place (banded) = dualpol_fused on NaN-padded copies."""
    from sarbd.signatures.fused import dualpol_into

    st = _stack(9)
    names = ["slc_vv", "slc_vh", "cal_sigma0_vv", "cal_sigma0_vh", "noise_vv", "noise_vh"]
    full = [np.ascontiguousarray(st[n].values) for n in names]
    rows = ["amplitude_1", "intensity_ratio", "pol_correlation", "entropy", "alpha", "c2_12_imag"]
    w, hl = (3, 5), 1
    l0, l1 = 9, 20  # output lines; the kernel sees lines 8..20 (the halo)
    padded = [
        np.pad(a[:, l0 - hl : l1 + hl], ((0, 0), (0, 0), (2, 2)), constant_values=np.nan)
        for a in full
    ]
    want = dualpol_fused(*padded, w, (hl, 2), rows)
    # each input a buffer starting at a different line (streams hold different chunk rows)
    starts = [0, 3, 8, 5, 1, 7]
    bufs = [np.ascontiguousarray(a[:, s:]) for a, s in zip(full, starts, strict=True)]
    out = np.full((len(rows), 3, 2 + l1 - l0, 40), -1.0, np.float32)
    for block in (64, 4, 1):  # tasks of (date, block of lines): the same bits
        dualpol_into(
            bufs,
            out,
            w,
            rows,
            lines=(hl, hl + l1 - l0),
            offsets=[l0 - hl - s for s in starts],
            n_lines=l1 - l0 + 2 * hl,
            out_line=1,
            block=block,
        )
        assert (out[:, :, 0] == -1).all() and (out[:, :, -1] == -1).all()
        for r, name in enumerate(rows):  # bit for bit: the sums do not depend on the blocking
            np.testing.assert_array_equal(out[r, :, 1:-1], want[r], err_msg=name)
    # the image's first lines: outside the kernel's line range there is no sample (NaN padding)
    top = dualpol_fused(
        *[np.pad(a[:, :6], ((0, 0), (1, 0), (0, 0)), constant_values=np.nan) for a in full],
        w,
        (1, 0),
        rows,
    )
    got = np.empty((len(rows), 3, 5, 40), np.float32)
    dualpol_into(full, got, w, rows, lines=(0, 5), n_lines=6)
    for r, name in enumerate(rows):
        np.testing.assert_array_equal(got[r], top[r][:, :5], err_msg=name)
    with pytest.raises(ValueError, match="C-contiguous"):
        dualpol_into([a[:, ::2] for a in full], got, w, rows, lines=(0, 5))


def test_window_sums_do_not_depend_on_the_blocking():
    """Bright lines among samples 12 decades weaker (float64 sums of their float32 terms
    round): every split into tasks gives the bits of the one-task pass, as a cluster's
    chunks must give those of a local run's bands (a running sum, the leaving line
    subtracted, keeps the bright line's rounding error once only weak lines remain)."""
    from sarbd.signatures.fused import dualpol_into

    rng = np.random.default_rng(5)
    shape = (2, 40, 24)
    amp = 1e-6 * rng.uniform(0.5, 1.5, shape)
    amp[:, ::9] = rng.uniform(0.5, 1.5, (2, 5, 24))  # every ninth line: power 1e12 times more
    s1, s2 = (
        (amp * np.exp(1j * rng.uniform(0, 2 * np.pi, shape))).astype(np.complex64) for _ in range(2)
    )
    k = np.ones(shape, np.float32)
    rows = ["c2_11", "c2_12_real", "pol_correlation", "entropy"]
    outs = []
    for block in (64, 7, 3, 1):
        out = np.empty((len(rows), *shape), np.float32)
        dualpol_into((s1, s2, k, k, None, None), out, (5, 3), rows, lines=(0, 40), block=block)
        outs.append(out)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


@pytest.mark.parametrize("halo", [(1, 1), (2, 2), (0, 3), (2, 1)])
@pytest.mark.parametrize("p0", [0, 2, 5])
def test_one_pass_window_sums_equal_the_offset_loop(halo, p0):
    """The one-pass interior sums of 3- and 5-sample windows give the bits of the general
    loop over offsets (ascending from +0.0), edges and NaN-free zeros included."""
    from sarbd.signatures.fused import _line_sums, _window_add

    rng = np.random.default_rng(3)
    nt, nl, npx = 2, 3, 23
    s1 = (rng.standard_normal((nt, nl, npx)) + 1j * rng.standard_normal((nt, nl, npx))).astype(
        np.complex64
    )
    s2 = (rng.standard_normal((nt, nl, npx)) + 1j * rng.standard_normal((nt, nl, npx))).astype(
        np.complex64
    )
    s1[1, 1, 4] = np.nan  # a missing sample: zero value, zero count
    s2[1, 1, 0] = -0.0  # signed zeros in the cross products
    k1, k2, n1, n2 = (rng.uniform(0.5, 2, (nt, nl, npx)).astype(np.float32) for _ in range(4))
    off = np.zeros(6, np.int64)
    op = npx - p0 - 1
    v = np.zeros((11, npx))
    fast, slow = np.full((11, op), 7.0), np.full((11, op), 7.0)
    for t, i in [(0, 0), (1, 1)]:
        _line_sums(s1, s2, k1, k2, n1, n2, off, True, False, t, i, halo[0], halo[1], p0, v, fast)
        _window_add(v, slow, halo[0], halo[1], p0, 0, op, npx)
        np.testing.assert_array_equal(fast.view(np.uint64), slow.view(np.uint64))
    assert fast[6].min() < sum(halo) + 1  # the edges and the missing sample count fewer
