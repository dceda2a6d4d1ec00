"""TOPS ramps, deramp-resample-reramp, amplitude cross-correlation and ESD on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.coregistration.offsets import OffsetModel
from sarbd.coregistration.refine import cross_correlation_shift, esd_shift, upsampled_peak
from sarbd.coregistration.resample import knab_kernel
from sarbd.coregistration.tops import AzimuthRamp, burst_doppler_difference
from sarbd.coregistration.warp import array_reader, resample_image

DT = 2.055556e-3
FS = 64.345238e6


def s1_ramp(mid_line: float, steering: float = np.radians(1.590368784)) -> AzimuthRamp:
    """Sentinel-1 IW2-like ramp: k_a ~ -2300 Hz/s, f_dc ~ 30 Hz, k_psi 1.59 deg/s."""
    return AzimuthRamp(
        azimuth_time_interval=DT,
        mid_line=mid_line,
        starting_range_time=5.9e-3,
        range_sampling_rate=FS,
        dc_t0=5.9e-3,
        dc_coefficients=(30.0, -5e4, 0.0),
        fm_t0=5.9e-3,
        fm_coefficients=(-2300.0, 4.5e5, -8e7),
        steering_rate=steering,
        velocity=7590.0,
        wavelength=0.05546576,
        mid_range_time=5.9e-3 + 500 / FS,
    )


def test_ramp_matches_s1_numbers() -> None:
    ramp = s1_ramp(mid_line=750.0)
    ks = ramp.steering_doppler_rate
    assert ks == pytest.approx(2 * 7590.0 / 0.05546576 * np.radians(1.590368784))
    kt = float(ramp.doppler_rate(np.asarray(5.9e-3)))
    assert kt == pytest.approx(-2300.0 * ks / (-2300.0 - ks))
    assert 1500 < kt < 2000  # Sentinel-1 IW: k_t ~ 1.7 kHz/s
    # Doppler sweep over a burst of 1500 lines exceeds the line rate by far
    f = ramp.instantaneous_doppler(np.array([0.0, 1499.0]), np.array([100.0]))
    assert abs(f[1] - f[0]) > 5 * (1 / DT)
    # the ramp's phase derivative is the instantaneous Doppler
    lines = np.array([300.0, 300.001])
    dphi = np.diff(ramp(lines, np.array([200.0, 200.0])))[0] / (0.001 * DT)
    assert dphi / (2 * np.pi) == pytest.approx(
        ramp.instantaneous_doppler(300.0005, 200.0), rel=1e-4
    )
    # stripmap: no steering -> linear Doppler phase only
    strip = s1_ramp(750.0, steering=0.0)
    assert float(strip.doppler_rate(np.asarray(5.9e-3))) == 0.0


def test_tops_burst_resampling_needs_deramping(tone_image) -> None:
    shape = (200, 120)
    ramp = s1_ramp(mid_line=100.0)
    yy, xx = np.meshgrid(
        np.arange(shape[0], dtype=float), np.arange(shape[1], dtype=float), indexing="ij"
    )
    burst = (tone_image(yy, xx) * np.exp(1j * ramp(yy, xx))).astype(np.complex64)
    dy, dx = 0.4321, -0.1234
    model = OffsetModel.constant(dy, dx, shape)
    kernel = knab_kernel(16, 0.6)
    truth = tone_image(yy + dy, xx + dx) * np.exp(1j * ramp(yy + dy, xx + dx))
    out = resample_image(
        array_reader(burst), shape, model, shape, kernel=kernel, ramp=ramp
    ).compute()
    s = (slice(12, -12), slice(12, -12))
    rel = np.linalg.norm(out[s] - truth[s]) / np.linalg.norm(truth[s])
    assert rel < 1e-3
    bad = resample_image(array_reader(burst), shape, model, shape, kernel=kernel).compute()
    assert np.linalg.norm(bad[s] - truth[s]) / np.linalg.norm(truth[s]) > 0.3


def _speckle(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    spec = np.fft.fft2(x)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    spec[(np.abs(fy) > 0.4) | (np.abs(fx) > 0.4)] = 0  # 80 % bandwidth, like S1
    return np.fft.ifft2(spec).astype(np.complex64)


def test_upsampled_peak_finds_subpixel_shift() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((64, 64))
    fy = np.fft.fftfreq(64)[:, None]
    fx = np.fft.fftfreq(64)[None, :]
    b = np.real(np.fft.ifft2(np.fft.fft2(a) * np.exp(-2j * np.pi * (fy * 1.37 + fx * -2.61))))
    dy, dx, peak = upsampled_peak(a, b, 100)
    assert dy == pytest.approx(1.37, abs=0.011) and dx == pytest.approx(-2.61, abs=0.011)
    assert peak > 0.9


def test_cross_correlation_recovers_residual_shift() -> None:
    shape = (600, 600)
    ref = _speckle(shape, 2)
    e = (0.13, -0.27)  # the secondary was resampled with this error: sec(i) = ref(i + e)
    sec = resample_image(
        array_reader(ref),
        shape,
        OffsetModel.constant(*e, shape),
        shape,
        kernel=knab_kernel(16, 0.8),
    ).compute()
    est = cross_correlation_shift(ref, sec, tile=200)
    assert est.n == 9
    assert est.line == pytest.approx(-e[0], abs=0.002)
    assert est.pixel == pytest.approx(-e[1], abs=0.002)
    assert est.line_std < 0.005
    zero = cross_correlation_shift(ref, ref, tile=256)
    assert abs(zero.line) < 1e-6 and abs(zero.pixel) < 1e-6


def test_esd_recovers_azimuth_error(tone_image) -> None:
    """Two bursts seeing an overlap with different Doppler; the secondary is e lines off."""
    lpb, cycle = 400, 340  # lines per burst, burst cycle: 60 overlapping lines
    ramp1, ramp2 = s1_ramp(lpb / 2), s1_ramp(lpb / 2)
    ov = np.arange(cycle, lpb, dtype=float)  # overlap lines in burst-1 indices
    px = np.arange(0.0, 120.0)
    y1 = ov[:, None] + 0 * px  # burst-1 lines
    y2 = y1 - cycle  # the same times in burst-2 lines
    x = px[None, :] + 0 * ov[:, None]
    rng = np.random.default_rng(5)
    noise = 0.05 * (rng.standard_normal(y1.shape) + 1j * rng.standard_normal(y1.shape))
    e = 0.003
    m1 = tone_image(y1, x) * np.exp(1j * ramp1(y1, x))
    m2 = tone_image(y1, x) * np.exp(1j * ramp2(y2, x))
    s1 = tone_image(y1 + e, x) * np.exp(1j * ramp1(y1 + e, x)) + noise
    s2 = tone_image(y1 + e, x) * np.exp(1j * ramp2(y2 + e, x)) + noise
    dfdc = burst_doppler_difference(ramp1, ramp2, y1, y2, x)
    assert np.all(np.abs(dfdc) > 400)  # IW: ~ k_t * cycle * dt ~ 1.2 kHz
    corr, std, n = esd_shift([(m1 * np.conj(s1), m2 * np.conj(s2), dfdc)], DT)
    assert n == y1.size
    assert corr == pytest.approx(-e, abs=2e-4)
    assert std < 2e-4
    # perfectly registered: zero correction
    corr0, _, _ = esd_shift([(m1 * np.conj(m1 * 0.5), m2 * np.conj(m2 * 0.5), dfdc)], DT)
    assert abs(corr0) < 1e-9


@pytest.mark.parametrize(("rows", "tol"), [(1, 0.01), (8, 0.05)])
def test_burst_boundary_phase_jumps_recovers_known_jumps(rows: int, tol: float) -> None:
    """A flattened interferogram with a smooth azimuth gradient and jumps of 0.3 / 0 rad at two cuts.

    The decorrelated part has a row-to-row carrier (as when the two dates' bursts sweep
    through Doppler at different times): per-pixel products of adjacent rows would
    see it (0.23 rad instead of 0.3 here), row sums do not. The row-sum noise (0.02
    rad, correlated over 5 rows) enters ``rows = 8`` through its gradient term.
    """
    from sarbd.coregistration.burst import burst_boundary_phase_jumps

    rng = np.random.default_rng(3)
    n, w = 300, 2000
    rows_idx = np.arange(n)[:, None]
    phase = 0.05 * rows_idx + np.where(rows_idx >= 100, 0.3, 0.0)
    signal = np.exp(1j * phase) * (rng.standard_normal((n, w)) + 1j * rng.standard_normal((n, w)))
    # decorrelated part: white along range, correlated along azimuth with a carrier of 0.4 rad/row
    white = rng.standard_normal((n + 4, w)) + 1j * rng.standard_normal((n + 4, w))
    noise = sum(white[k : k + n] for k in range(5)) * np.exp(0.4j * rows_idx)
    ifg = np.abs(signal) ** 2 * np.exp(1j * phase) + 0.5 * noise
    jumps = burst_boundary_phase_jumps(ifg, [100, 200], rows=rows)
    assert jumps[0] == pytest.approx(0.3, abs=tol)
    assert abs(jumps[1]) < tol
    # cuts too close to the edges are skipped
    assert burst_boundary_phase_jumps(ifg, [0, n - 1], rows=rows) == []
