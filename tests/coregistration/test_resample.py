"""Resampling kernels: accuracy on band-limited signals, identity, chunking."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.coregistration.offsets import OffsetModel
from sarbd.coregistration.resample import knab_kernel, resample, resample_block
from sarbd.coregistration.warp import array_reader, resample_image
from sarbd.errors import InputError


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_kernel_table_is_unit_impulse_at_integer_positions() -> None:
    k = knab_kernel(8, 0.8, 1024)
    assert k.table.shape == (1025, 8)
    np.testing.assert_array_equal(k.table[0], np.eye(8)[3])
    np.testing.assert_array_equal(k.table[-1], np.eye(8)[4])
    np.testing.assert_allclose(k.table.sum(axis=1), 1.0, atol=1e-12)
    # symmetric: the kernel at fraction f mirrors the kernel at 1 - f
    np.testing.assert_allclose(k.table[256], k.table[768][::-1], atol=1e-12)


@pytest.mark.parametrize("taps", [12, 16])
@pytest.mark.parametrize("shift", [(0.3137, -0.4521), (0.5, 0.5), (-1.75, 2.0625)])
def test_subpixel_shift_of_band_limited_signal(
    tone_image, taps: int, shift: tuple[float, float]
) -> None:
    shape = (96, 120)
    img = tone_image.grid(shape)
    dy, dx = shift
    out = resample(img, dy, dx, knab_kernel(taps, 0.6))
    yy, xx = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    truth = tone_image(yy + dy, xx + dx)
    s = (slice(taps + 2, -taps - 2), slice(taps + 2, -taps - 2))
    assert _rel(out[s], truth[s]) < 1e-3


def test_shorter_kernel_is_less_accurate(tone_image) -> None:
    shape = (64, 64)
    img = tone_image.grid(shape)
    yy, xx = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    truth = tone_image(yy + 0.37, xx + 0.41)
    s = (slice(20, -20), slice(20, -20))
    errs = [_rel(resample(img, 0.37, 0.41, knab_kernel(t, 0.6))[s], truth[s]) for t in (4, 8, 16)]
    assert errs[0] > errs[1] > errs[2]


def test_identity_offsets_return_input(tone_image) -> None:
    img = tone_image.grid((50, 70))
    out = resample(img, 0.0, 0.0)
    np.testing.assert_array_equal(out, img)
    # integer shift: exact copy of the shifted samples
    out = resample(img, 2.0, -3.0)
    np.testing.assert_array_equal(out[:-2, 3:], img[2:, :-3])


def test_outside_positions_get_fill() -> None:
    img = np.ones((10, 10), np.complex64)
    out = resample_block(img, np.array([[-0.6, 3.0, np.nan]]), np.array([[2.0, 9.6, 1.0]]), fill=-1)
    np.testing.assert_array_equal(out, [[-1, -1, -1]])


def test_bad_kernel_parameters() -> None:
    with pytest.raises(InputError):
        knab_kernel(7)
    with pytest.raises(InputError):
        knab_kernel(8, 1.5)


def _smooth_offsets(shape):
    def f(ll, pp):
        dl = 3.2 + 0.5 * (ll / shape[0]) + 0.3 * (pp / shape[1]) ** 2
        dp = -1.7 + 0.8 * (pp / shape[1]) - 0.2 * (ll / shape[0])
        return dl, dp

    return f


@pytest.mark.parametrize("separable", [True, False])
def test_chunked_warp_with_varying_offsets(tone_image, separable: bool) -> None:
    shape = (160, 200)
    src = tone_image.grid((shape[0] + 10, shape[1] + 10))
    func = _smooth_offsets(shape)
    model = OffsetModel.from_function(func, shape, step=(16, 16))
    kernel = knab_kernel(16, 0.6)
    out = resample_image(
        array_reader(src),
        src.shape,
        model,
        shape,
        chunks=(48, 64),
        kernel=kernel,
        separable=separable,
    ).compute()
    ll, pp = np.meshgrid(
        np.arange(shape[0], dtype=float), np.arange(shape[1], dtype=float), indexing="ij"
    )
    dl, dp = func(ll, pp)
    truth = tone_image(ll + dl, pp + dp)
    s = (slice(12, -12), slice(12, -12))
    assert _rel(out[s], truth[s]) < 1e-3
    # chunking leaves no trace
    whole = resample_image(
        array_reader(src), src.shape, model, shape, chunks=shape, kernel=kernel, separable=separable
    ).compute()
    np.testing.assert_array_equal(out, whole)


def test_warp_with_phase_ramp_restores_ramp(tone_image) -> None:
    """Deramp-interpolate-reramp reproduces a signal whose spectrum is centred away from 0."""
    shape = (120, 100)
    ramp = lambda y, x: 2 * np.pi * (0.45 * y + 0.002 * y * y / 2)  # noqa: E731  linear + chirp in azimuth
    yy, xx = np.meshgrid(
        np.arange(shape[0], dtype=float), np.arange(shape[1], dtype=float), indexing="ij"
    )
    src = (tone_image(yy, xx) * np.exp(1j * ramp(yy, xx))).astype(np.complex64)
    model = OffsetModel.constant(0.37, -0.21, shape)
    kernel = knab_kernel(16, 0.6)
    truth = tone_image(yy + 0.37, xx - 0.21) * np.exp(1j * ramp(yy + 0.37, xx - 0.21))
    s = (slice(12, -12), slice(12, -12))
    with_ramp = resample_image(
        array_reader(src), shape, model, shape, kernel=kernel, ramp=ramp
    ).compute()
    without = resample_image(array_reader(src), shape, model, shape, kernel=kernel).compute()
    assert _rel(with_ramp[s], truth[s]) < 1e-3
    assert _rel(without[s], truth[s]) > 1e-2  # a baseband kernel on a band-pass signal fails
