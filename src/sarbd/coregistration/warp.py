"""Chunked resampling of a secondary image onto the reference grid (Dask, block by block).

Each output chunk evaluates the offset model on its own lines and pixels, reads the
part of the secondary it needs (plus the kernel's reach) and interpolates it, so memory
is bounded by the chunk size whatever the image size. An optional azimuth phase ramp
(the TOPS or stripmap Doppler-centroid phase, :mod:`sarbd.coregistration.tops`) is
removed from the source before interpolation and put back at the resampled
positions (deramp - interpolate - reramp; ESA 2017, *Definition of the TOPS SLC
deramping function*).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import dask.array as da
import numba
import numpy as np
from numpy.typing import NDArray

from sarbd.core.chunks import ChunksLike, as_chunks
from sarbd.coregistration.offsets import OffsetModel
from sarbd.coregistration.resample import (
    InterpolationKernel,
    knab_kernel,
    resample_block,
    resample_block_separable,
)

__all__ = [
    "BlockReader",
    "HeightReader",
    "PhaseRamp",
    "array_reader",
    "range_bandpass",
    "resample_image",
    "warp_block",
]


class BlockReader(Protocol):
    """Reads ``[lines, pixels]`` of the secondary (indices in the secondary scene) as complex64."""

    def __call__(self, lines: slice, pixels: slice) -> NDArray[np.complex64]: ...


class HeightReader(Protocol):
    """Reads ``[lines, pixels]`` of the reference-grid height raster (m, float64)."""

    def __call__(self, lines: slice, pixels: slice) -> NDArray[np.float64]: ...


#: ``phase(lines, pixels) -> radians`` at (fractional) secondary positions (broadcasting arrays).
PhaseRamp = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


def array_reader(image: NDArray[np.complexfloating]) -> BlockReader:
    """A :class:`BlockReader` over an in-memory (or Dask) array."""

    def read(lines: slice, pixels: slice) -> NDArray[np.complex64]:
        return np.asarray(image[lines, pixels], dtype=np.complex64)

    return read


@numba.njit(cache=True, nogil=True, parallel=True)
def _apply_phase(data: NDArray[np.complex64], phase: NDArray[np.float64], sign: float) -> None:
    for i in numba.prange(data.shape[0]):
        for j in range(data.shape[1]):
            p = sign * phase[i, j]
            data[i, j] = data[i, j] * complex(np.cos(p), np.sin(p))


def apply_phase(
    data: NDArray[np.complexfloating], phase: NDArray[np.floating], sign: float
) -> NDArray[np.complex64]:
    """``data * exp(j sign phase)`` as a new complex64 array (Numba, phase broadcast to data)."""
    out = np.array(data, dtype=np.complex64, copy=True, order="C")
    _apply_phase(
        out,
        np.ascontiguousarray(np.broadcast_to(np.asarray(phase, dtype=np.float64), out.shape)),
        float(sign),
    )
    return out


#: Extra source samples read on each side of a block for the range band-pass filter.
RANGE_FILTER_MARGIN = 64


def range_bandpass(
    block: NDArray[np.complexfloating], f_lo: float, f_hi: float, transition: float = 0.02
) -> NDArray[np.complex64]:
    """Keep the range frequencies ``f_lo..f_hi`` (cycles/sample) of a complex block.

    Raised-cosine edges of width ``transition`` (cycles/sample) limit ringing. Used
    for range common-band filtering: two products focused with different carriers
    or bandwidths share only part of their range spectrum, and the rest decorrelates
    (Gatelli et al. 1994, IEEE TGRS 32(4), 855-865).
    """
    n = block.shape[1]
    f = np.fft.fftfreq(n)
    lo, hi = f_lo - transition / 2, f_hi + transition / 2
    w = np.clip(np.minimum((f - lo) / transition, (hi - f) / transition), 0.0, 1.0)
    w = 0.5 - 0.5 * np.cos(np.pi * w)
    return np.asarray(
        np.fft.ifft(np.fft.fft(block, axis=1) * w[None, :], axis=1), dtype=np.complex64
    )


def warp_block(
    read: BlockReader,
    src_shape: tuple[int, int],
    offsets: OffsetModel,
    lines: NDArray[np.float64],
    pixels: NDArray[np.float64],
    kernel: InterpolationKernel,
    ramp: PhaseRamp | None = None,
    separable: bool = True,
    fill: complex = 0j,
    height: HeightReader | None = None,
    ref_shape: tuple[int, int] | None = None,
    reramp: PhaseRamp | None = None,
    range_band: tuple[float, float] | None = None,
) -> NDArray[np.complex64]:
    """Resample the secondary onto the reference samples ``lines x pixels`` (1-D index axes).

    Parameters
    ----------
    read
        Reads blocks of the secondary (its own indices).
    src_shape
        Shape of the secondary.
    offsets
        Reference -> secondary offsets.
    lines, pixels
        Reference-scene indices of the output block (consecutive integers).
    kernel
        Interpolation kernel.
    ramp
        Azimuth phase ramp of the secondary (radians at secondary positions), removed
        before and restored after interpolation.
    separable
        Two-pass interpolation (:func:`resample_block_separable`) instead of the full 2-D
        kernel.
    fill
        Value where the secondary does not cover the reference.
    height
        Reads reference-grid heights (m) for height-dependent offset models.
    ref_shape
        Shape of the reference grid (bounds the rows ``height`` is asked for).
    reramp
        If given, the phase (radians, at *output* lines and pixels) put back after
        interpolation instead of ``ramp`` at the resampled positions.
    range_band
        ``(f_lo, f_hi)`` in cycles per secondary sample: band-pass the secondary in
        range to this band before interpolating (:func:`range_bandpass`), e.g. the
        band it shares with the reference when carriers or bandwidths differ.
    """
    p0, p1 = int(pixels[0]), int(pixels[-1]) + 1
    h_out = (
        None if height is None else height(slice(int(lines[0]), int(lines[-1]) + 1), slice(p0, p1))
    )
    dl, dp = offsets.evaluate(lines, pixels, h_out)
    line_pos = lines[:, None] + dl
    pixel_pos = pixels[None, :] + dp
    out_shape = line_pos.shape
    reach = kernel.taps // 2 + 1
    y0 = int(np.floor(np.nanmin(line_pos))) - reach
    y1 = int(np.ceil(np.nanmax(line_pos))) + reach + 1
    x0 = int(np.floor(np.nanmin(pixel_pos))) - reach
    x1 = int(np.ceil(np.nanmax(pixel_pos))) + reach + 1
    y0, x0 = max(y0, 0), max(x0, 0)
    y1, x1 = min(y1, src_shape[0]), min(x1, src_shape[1])
    if y1 - y0 < 1 or x1 - x0 < 1:
        return np.full(out_shape, fill, dtype=np.complex64)
    if range_band is not None:
        # filter with a margin so that block edges leave no trace
        m0, m1 = max(x0 - RANGE_FILTER_MARGIN, 0), min(x1 + RANGE_FILTER_MARGIN, src_shape[1])
        wide = range_bandpass(read(slice(y0, y1), slice(m0, m1)), *range_band)
        src = np.ascontiguousarray(wide[:, x0 - m0 : x1 - m0])
    else:
        src = read(slice(y0, y1), slice(x0, x1))
    if ramp is not None:
        ys = np.arange(y0, y1, dtype=np.float64)[:, None]
        xs = np.arange(x0, x1, dtype=np.float64)[None, :]
        src = apply_phase(src, ramp(ys, xs), -1.0)
    # positions more than half a sample beyond the secondary's edges: fill
    outside = (
        (line_pos < -0.5)
        | (line_pos > src_shape[0] - 0.5)
        | (pixel_pos < -0.5)
        | (pixel_pos > src_shape[1] - 0.5)
    )
    if separable:
        ys = np.arange(y0, y1, dtype=np.float64)
        # source line ys contributes to output line u = ys - dl(u). Evaluate at the
        # integer line u0 = ys - r (r: the model's rounded median line offset) and
        # correct to first order: dp(u) = dp(u0) + (r - dl(u0)) d(dp)/d(line).
        # Everything is pointwise in u0, so the result does not depend on the chunking.
        n_ref = ref_shape[0] if ref_shape is not None else int(lines[-1]) + 1
        r = float(np.round(np.nanmedian(offsets.line_offset)))
        u0 = np.clip(ys - r, 0, n_ref - 1)
        h_src = None
        if height is not None:
            a, b = int(u0.min()), int(u0.max()) + 1
            h_src = height(slice(a, b), slice(p0, p1))[(u0 - a).astype(np.int64)]
        dl_src, dp_src = (
            offsets.evaluate(u0, pixels, h_src)
            if np.all(np.diff(u0) > 0)
            else _evaluate_rows(offsets, u0, pixels, h_src)
        )
        dp_src = dp_src + (r - dl_src) * _derivative_rows(offsets, u0, pixels, h_src)
        src_pixel_pos = pixels[None, :] + dp_src - x0
        out = resample_block_separable(src, src_pixel_pos, line_pos - y0, kernel=kernel, fill=fill)
    else:
        out = resample_block(src, line_pos - y0, pixel_pos - x0, kernel=kernel, fill=fill)
    if reramp is not None:
        out = apply_phase(out, reramp(lines[:, None], pixels[None, :]), 1.0)
    elif ramp is not None:
        out = apply_phase(out, ramp(line_pos, pixel_pos), 1.0)
    out[outside] = fill
    return out


def _evaluate_rows(
    offsets: OffsetModel,
    u0: NDArray[np.float64],
    pixels: NDArray[np.float64],
    h: NDArray[np.float64] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``offsets.evaluate`` for a non-increasing (clipped) line axis: on unique lines, then expanded."""
    uniq, inv = np.unique(u0, return_inverse=True)
    hu = None
    if h is not None:
        first = np.array([np.flatnonzero(inv == k)[0] for k in range(uniq.size)])
        hu = h[first]
    dl, dp = offsets.evaluate(uniq, pixels, hu)
    return dl[inv], dp[inv]


def _derivative_rows(
    offsets: OffsetModel,
    u0: NDArray[np.float64],
    pixels: NDArray[np.float64],
    h: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    uniq, inv = np.unique(u0, return_inverse=True)
    hu = None
    if h is not None:
        first = np.array([np.flatnonzero(inv == k)[0] for k in range(uniq.size)])
        hu = h[first]
    return offsets.evaluate_derivative(uniq, pixels, hu)[inv]


def resample_image(
    read: BlockReader,
    src_shape: tuple[int, int],
    offsets: OffsetModel,
    out_shape: tuple[int, int],
    *,
    chunks: ChunksLike = None,
    kernel: InterpolationKernel | None = None,
    ramp: PhaseRamp | None = None,
    separable: bool = True,
    fill: complex = 0j,
    height: HeightReader | None = None,
    reramp: PhaseRamp | None = None,
    range_band: tuple[float, float] | None = None,
) -> da.Array:
    """Lazily resample a secondary image onto the reference grid, chunk by chunk.

    Returns a Dask array of ``out_shape`` (complex64) with ``chunks``; computing a chunk
    reads only the part of the secondary it needs. See :func:`warp_block`.
    """
    kernel = kernel or knab_kernel()

    def _block(block_info: dict | None = None) -> NDArray[np.complex64]:  # type: ignore[type-arg]
        assert block_info is not None
        (l0, l1), (p0, p1) = block_info[None]["array-location"]
        lines = np.arange(l0, l1, dtype=np.float64)
        pixels = np.arange(p0, p1, dtype=np.float64)
        return warp_block(
            read,
            src_shape,
            offsets,
            lines,
            pixels,
            kernel,
            ramp=ramp,
            separable=separable,
            fill=fill,
            height=height,
            ref_shape=out_shape,
            reramp=reramp,
            range_band=range_band,
        )

    return da.map_blocks(
        _block,
        dtype=np.complex64,
        chunks=da.core.normalize_chunks(as_chunks(chunks), out_shape),
        meta=np.empty((0, 0), dtype=np.complex64),
    )
