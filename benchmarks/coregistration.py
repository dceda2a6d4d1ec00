"""Benchmark: geometric offsets + resampling of a full Sentinel-1 IW burst, and coherence.

A Sentinel-1-like repeat pass (two orbits from :mod:`sarbd.simulate.orbit`, ~100 m
baseline) and an IW burst grid (1500 lines x 25000 pixels, 2.056 ms, 2.33 m). For one
polarisation of a synthetic complex64 secondary burst (band-limited speckle):

1. geometric offsets: rdr2geo/geo2rdr on a coarse grid at 4 height levels
   (:func:`sarbd.coregistration.geometric_offsets`);
2. resampling onto the reference grid, chunk by chunk (Dask, 512 x 2048 chunks):
   offsets evaluated from the model and a height raster, TOPS deramp, 8-tap Knab
   interpolation (two-pass), reramp -- written into a preallocated array, so memory is
   bounded by the chunks in flight plus input and output;
3. interferogram and 2 x 10 coherence (Dask ``map_overlap``).

Printed: wall-clock seconds, CPU seconds of all threads (on a shared machine CPU /
cores estimates dedicated cores), peak resident memory (``ru_maxrss``) and the memory
of the arrays themselves. Numba compilation is excluded (a warm-up on a small grid).

Usage::

    python benchmarks/coregistration.py                # full burst, 8 taps
    python benchmarks/coregistration.py --lines 300    # a fifth of a burst
    python benchmarks/coregistration.py --taps 16
"""

from __future__ import annotations

import argparse
import resource
import time

import dask
import dask.array as da
import numpy as np

from sarbd.core import RadarGrid
from sarbd.coregistration import geometric_offsets, height_levels, knab_kernel
from sarbd.coregistration.tops import AzimuthRamp
from sarbd.coregistration.warp import array_reader, resample_image
from sarbd.insar import coherence, interferogram
from sarbd.simulate.orbit import design_orbit, make_orbit, offset_elements

DT = 2.055556299999998e-3
DR = 2.329562114715323
WAVELENGTH = 0.05546576


def _clock() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), ru.ru_utime + ru.ru_stime


def _report(label: str, start: tuple[float, float], n_pixels: int) -> None:
    wall, cpu = _clock()
    w, c = wall - start[0], cpu - start[1]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:<44s} {w:8.2f} s wall {c:8.2f} s cpu {n_pixels / w / 1e6:8.2f} Mpx/s   peak RSS {peak:7.0f} MiB"
    )


def _speckle(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Complex Gaussian speckle band-limited to 80 % in range (row-wise FFT, low memory)."""
    out = np.empty(shape, np.complex64)
    f = np.abs(np.fft.fftfreq(shape[1]))
    keep = f < 0.4
    for a in range(0, shape[0], 250):
        b = min(a + 250, shape[0])
        x = rng.standard_normal((b - a, shape[1]), np.float32) + 1j * rng.standard_normal(
            (b - a, shape[1]), np.float32
        )
        out[a:b] = np.fft.ifft(np.fft.fft(x, axis=1) * keep, axis=1).astype(np.complex64)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--lines", type=int, default=1500)
    ap.add_argument("--pixels", type=int, default=25000)
    ap.add_argument("--taps", type=int, default=8)
    ap.add_argument("--chunks", type=int, nargs=2, default=(512, 2048))
    args = ap.parse_args()
    shape = (args.lines, args.pixels)
    n = shape[0] * shape[1]
    epoch = np.datetime64("2022-02-14T05:40:00", "ns")
    el = design_orbit(52.5, 6.5, 50.0, 37.0)
    ref_orbit = make_orbit(el, epoch, -60.0, 60.0)
    sec_orbit = make_orbit(offset_elements(el, 100.0, 20.0), epoch, -60.0, 60.0)
    grid = RadarGrid(epoch, -1.5, DT, 850_000.0, DR, shape[0], shape[1], WAVELENGTH)
    sec_grid = RadarGrid(
        epoch, -1.5 + 2.3 * DT, DT, 850_000.0 - 3.7 * DR, DR, shape[0], shape[1], WAVELENGTH
    )
    rng = np.random.default_rng(0)
    print(
        f"burst {shape[0]} x {shape[1]} complex64, {args.taps}-tap kernel, chunks {tuple(args.chunks)}, "
        f"{dask.config.get('num_workers', None) or 'all'} threads"
    )
    src = _speckle(shape, rng)
    y, x = np.ogrid[: shape[0], : shape[1]]
    height = (200.0 + 150.0 * np.sin(y / 97.0) * np.cos(x / 613.0)).astype(np.float32)
    ramp = AzimuthRamp(
        DT,
        shape[0] / 2,
        2 * 850_000.0 / 299_792_458.0,
        1 / (2 * DR / 299_792_458.0),
        5.9e-3,
        (30.0,),
        5.9e-3,
        (-2300.0,),
        np.radians(1.59),
        7590.0,
        WAVELENGTH,
        5.7e-3,
    )
    kernel = knab_kernel(args.taps, 0.8)

    # warm-up (Numba compilation, spline set-up) on a small grid
    small = geometric_offsets(
        grid.window(0, 0, 64, 256),
        ref_orbit,
        sec_grid,
        sec_orbit,
        heights=height_levels(50, 350, 4),
        step=(32, 64),
    )
    resample_image(
        array_reader(src),
        shape,
        small,
        (64, 256),
        chunks=(64, 256),
        kernel=kernel,
        ramp=ramp,
        height=lambda a, b: np.asarray(height[a, b], np.float64),
    ).compute()

    t = _clock()
    model = geometric_offsets(
        grid, ref_orbit, sec_grid, sec_orbit, heights=height_levels(50, 350, 4), step=(64, 64)
    )
    _report("1. geometric offsets (coarse, 4 levels)", t, n)

    t = _clock()
    res = resample_image(
        array_reader(src),
        shape,
        model,
        shape,
        chunks=tuple(args.chunks),
        kernel=kernel,
        ramp=ramp,
        height=lambda a, b: np.asarray(height[a, b], np.float64),
    )
    out = np.empty(shape, np.complex64)
    da.store(res, out, lock=False)
    _report("2. resample (offsets + deramp + interp)", t, n)

    t = _clock()
    ref = da.from_array(src, chunks=tuple(args.chunks))
    sec = da.from_array(out, chunks=tuple(args.chunks))
    ifg = interferogram(ref, sec)
    coh = coherence(ifg, (ref.real**2 + ref.imag**2), (sec.real**2 + sec.imag**2), window=(2, 10))
    c = np.empty(shape, np.float32)
    da.store(coh, c, lock=False)
    _report("3. interferogram + coherence 2x10", t, n)
    arrays = (src.nbytes + out.nbytes + c.nbytes + height.nbytes) / 2**20
    print(
        f"arrays held by the benchmark itself: {arrays:.0f} MiB (input, output, coherence, heights)"
    )


if __name__ == "__main__":
    main()
