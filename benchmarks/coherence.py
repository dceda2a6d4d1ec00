"""Benchmark: the one coherence estimator (:func:`sarbd.insar.coherence`) on one plane.

A circular Gaussian pair of true coherence 0.6, ``--lines`` x ``--pixels`` (default
2048 x 4096, four default stack chunks), window 2 x 10, NumPy input (one Dask block's
work). Prints the wall time, the throughput and the mean estimate.

    python benchmarks/coherence.py [--lines N] [--pixels N] [--edges shrink|reflect]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sarbd.insar.coherence import coherence


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=2048)
    ap.add_argument("--pixels", type=int, default=4096)
    ap.add_argument("--edges", default="shrink", choices=("shrink", "reflect"))
    args = ap.parse_args()
    shape = (args.lines, args.pixels)
    rng = np.random.default_rng(0)
    m = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    n = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    s = (0.6 * m + 0.8 * n).astype(np.complex64)
    ifg = m * np.conj(s)
    p1, p2 = (np.abs(m) ** 2).astype(np.float32), (np.abs(s) ** 2).astype(np.float32)
    coherence(ifg[:64], p1[:64], p2[:64], (2, 10), edges=args.edges)  # warm-up
    t0 = time.perf_counter()
    g = coherence(ifg, p1, p2, (2, 10), edges=args.edges)
    dt = time.perf_counter() - t0
    print(
        f"coherence {shape[0]} x {shape[1]}, window 2 x 10, edges={args.edges}: {dt:.2f} s "
        f"({shape[0] * shape[1] / dt / 1e6:.1f} Msamples/s), mean {float(np.nanmean(g)):.4f}"
    )


if __name__ == "__main__":
    main()
