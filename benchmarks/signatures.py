"""Benchmark: the full signature catalogue of a synthetic dual-pol stack.

Default: 7 dates x 940 x 2350 pixels, VV+VH (the AlignSAR Groningen crop size).
``--burst``: one full Sentinel-1 IW burst, 1500 x 25000 pixels (7 dates).
The stack is first written to a temporary Zarr store (in a separate process, not
timed); then the whole catalogue is computed from it and written to Zarr with the
Dask threaded scheduler on ``--workers`` threads. Prints seconds, pixels per second
(output pixels = dates x lines x pixels) and the peak resident memory of the
computing process.

Usage: python benchmarks/signatures.py [--burst] [--workers 2] [--dates 7] [--filter lee]
Target (issue 6): Groningen size in < 30 s with < 4 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from pathlib import Path


def _generate(path: str, dates: int, shape: tuple[int, int], chunks: tuple[int, int]) -> None:
    import dask

    from sarbd.signatures.synthetic import synthetic_stack

    with dask.config.set(scheduler="threads", num_workers=2):
        ds = synthetic_stack(dates, shape, ("vv", "vh"), chunks=chunks, seed=0)
        ds.to_zarr(path, mode="w", consolidated=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--burst", action="store_true", help="one full IW burst, 1500 x 25000 pixels")
    ap.add_argument("--dates", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2, help="Dask threads")
    ap.add_argument("--window", type=int, nargs=2, default=(5, 5))
    ap.add_argument("--filter", default=None, help="speckle filter (boxcar, lee, refined_lee, quegan_yu)")
    ap.add_argument("--chunk-lines", type=int, default=256)
    ap.add_argument("--chunk-pixels", type=int, default=4096)
    ap.add_argument("--sink", choices=("zarr", "null"), default="zarr",
                    help="write the features to Zarr (default) or compute and discard them (no output IO)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the stack and features in this folder")
    args = ap.parse_args()
    shape = (1500, 25000) if args.burst else (940, 2350)
    chunks = (args.chunk_lines, min(args.chunk_pixels, shape[1]))
    store_chunks = (512, min(4096, shape[1]))
    work = Path(tempfile.mkdtemp(prefix="sarbd-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    stack_path, out_path = work / "stack.zarr", work / "features.zarr"
    try:
        t0 = time.perf_counter()
        p = mp.get_context("spawn").Process(target=_generate, args=(str(stack_path), args.dates, shape, store_chunks))
        p.start()
        p.join()
        if p.exitcode:
            raise SystemExit(f"stack generation failed ({p.exitcode})")
        t_gen = time.perf_counter() - t0

        import dask
        import xarray as xr

        import sarbd.signatures as S

        # warm the Numba caches on a tiny stack so compile time is not counted
        from sarbd.signatures.synthetic import synthetic_stack

        S.compute(synthetic_stack(2, (16, 16)), window=tuple(args.window), filter=args.filter).load()
        stack = xr.open_zarr(stack_path)
        t1 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        opts = {"window": tuple(args.window), "filter": args.filter,
                "chunks": {"time": -1, "line": chunks[0], "pixel": chunks[1]}}
        with dask.config.set(scheduler="threads", num_workers=args.workers):
            if args.sink == "zarr":
                feats = S.compute_to_zarr(stack, out_path, **opts)
            else:  # the same bands, every chunk computed and dropped (no output IO)
                import dask.array as da

                class _Null:
                    def __setitem__(self, key: object, value: object) -> None:
                        pass

                feats = S.compute(stack, **opts)
                halo = S.required_halo(**opts)
                n = stack.sizes["line"]
                band = chunks[0] * max(1, 8 // -(-shape[1] // chunks[1]))
                for b0 in range(0, n, band):
                    lo, hi = max(0, b0 - halo), min(n, b0 + band + halo)
                    part = S.compute(stack.isel(line=slice(lo, hi)), **opts).isel(
                        line=slice(b0 - lo, min(b0 + band, n) - lo))
                    arrays = [v.data for v in part.data_vars.values()]
                    da.store(arrays, [_Null() for _ in arrays], lock=False)
        t_sig = time.perf_counter() - t1
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
        n_pix = args.dates * shape[0] * shape[1]
        n_vars = len(feats.data_vars)
        size = sum(f.stat().st_size for f in out_path.rglob("*") if f.is_file()) / 1024**2 if out_path.exists() else 0
        print(f"stack: {args.dates} dates x {shape[0]} x {shape[1]} px, VV+VH (generated in {t_gen:.1f} s)")
        print(f"signatures: {n_vars} variables, window {tuple(args.window)}, filter {args.filter or 'none'}, "
              f"{args.workers} Dask threads, chunks {chunks}")
        print(f"time: {t_sig:.1f} s   throughput: {n_pix / t_sig / 1e6:.2f} Mpx/s (stack pixels)   "
              f"peak RSS: {peak:.2f} GiB   output: {size:.0f} MiB")
        print(f"CPU time: {cpu:.1f} s (user + system; on a machine shared with other jobs the wall time "
              f"is inflated, CPU / {args.workers} is the wall time with {args.workers} idle cores)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
