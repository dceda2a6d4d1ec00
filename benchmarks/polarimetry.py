"""Benchmark: the quad-pol signature catalogue of a synthetic 7-date quad-pol stack.

Default: 7 dates x 1000 x 2500 pixels, HH+HV+VH+VV (random complex Gaussian channels
with Sentinel-1-like calibration LUTs and noise, from ``sarbd.signatures.synthetic``).
The stack is first written to a temporary Zarr store (in a separate process, not
timed); then every signature of the ``quad`` scope (C3, T3, span, Pauli, H/A/alpha,
zones, Freeman-Durden, Yamaguchi, RVI, co-pol ratio/correlation) is computed from it
band by band, as ``compute_to_zarr`` does, with the Dask threaded scheduler on
``--workers`` threads, and written to Zarr (``--sink zarr``) or computed and discarded
(``--sink null``, default: no output IO). ``--compact`` adds the compact-pol
signatures of the CTLR channels simulated from the stack; ``--wishart`` then times the
Wishart H-alpha classification of the temporal-mean T3. Prints seconds, throughput,
CPU seconds and the peak resident memory of the computing process.

Usage: python benchmarks/polarimetry.py [--workers 2] [--dates 7] [--lines 1000] [--pixels 2500]
       [--sink null|zarr] [--compact] [--wishart] [--work /tmp/folder]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def _generate(path: str, dates: int, shape: tuple[int, int], chunks: tuple[int, int]) -> None:
    import dask

    from sarbd.signatures.synthetic import synthetic_stack

    with dask.config.set(scheduler="threads", num_workers=2):
        ds = synthetic_stack(dates, shape, ("hh", "hv", "vh", "vv"), chunks=chunks, seed=0)
        keep = [v for v in ds.data_vars if str(v).startswith(("slc_", "cal_sigma0_", "noise_"))]
        ds[keep].to_zarr(path, mode="w", consolidated=True)


class _Null:
    def __setitem__(self, key: object, value: object) -> None:
        pass


def _run_bands(
    stack: Any, names: list[str], opts: dict[str, Any], band: int, sink: str, out: Path
) -> int:
    import dask.array as da

    import sarbd.signatures as S

    if sink == "zarr":
        return len(S.compute_to_zarr(stack, out, names, band_lines=band, **opts).data_vars)
    halo = S.required_halo(**opts)
    n = stack.sizes["line"]
    n_vars = 0
    for b0 in range(0, n, band):
        lo, hi = max(0, b0 - halo), min(n, b0 + band + halo)
        part = S.compute(stack.isel(line=slice(lo, hi)), names, **opts).isel(
            line=slice(b0 - lo, min(b0 + band, n) - lo)
        )
        arrays = [v.data for v in part.data_vars.values()]
        n_vars = len(arrays)
        da.store(arrays, [_Null() for _ in arrays], lock=False)
    return n_vars


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dates", type=int, default=7)
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--pixels", type=int, default=2500)
    ap.add_argument("--workers", type=int, default=2, help="Dask threads")
    ap.add_argument("--window", type=int, nargs=2, default=(5, 5))
    ap.add_argument("--chunk-lines", type=int, default=128)
    ap.add_argument("--band-lines", type=int, default=256)
    ap.add_argument("--sink", choices=("zarr", "null"), default="null")
    ap.add_argument(
        "--compact", action="store_true", help="also the compact-pol catalogue (simulated CTLR)"
    )
    ap.add_argument(
        "--wishart", action="store_true", help="also the Wishart H-alpha classification"
    )
    ap.add_argument(
        "--work", type=Path, default=None, help="folder for the temporary stores (deleted after)"
    )
    args = ap.parse_args()
    shape = (args.lines, args.pixels)
    work = Path(tempfile.mkdtemp(prefix="sarbd-polbench-", dir=args.work))
    stack_path, out_path = work / "stack.zarr", work / "features.zarr"
    try:
        t0 = time.perf_counter()
        p = mp.get_context("spawn").Process(
            target=_generate, args=(str(stack_path), args.dates, shape, (256, min(2500, shape[1])))
        )
        p.start()
        p.join()
        if p.exitcode:
            raise SystemExit(f"stack generation failed ({p.exitcode})")
        t_gen = time.perf_counter() - t0

        import dask
        import xarray as xr

        import sarbd.signatures as S
        from sarbd.signatures.compact_pol import simulate_ctlr
        from sarbd.signatures.synthetic import synthetic_stack

        scopes = ("quad", "compact") if args.compact else ("quad",)
        names = [s.name for s in S.all_signatures() if s.scope in scopes]
        opts: dict[str, Any] = {
            "window": tuple(args.window),
            "chunks": {"time": -1, "line": args.chunk_lines, "pixel": shape[1]},
        }
        warm = synthetic_stack(
            2, (16, 16), ("hh", "hv", "vh", "vv")
        )  # compile the Numba kernels first
        S.compute(
            simulate_ctlr(warm) if args.compact else warm, names, window=tuple(args.window)
        ).load()
        stack = xr.open_zarr(stack_path)
        if args.compact:
            stack = simulate_ctlr(stack)
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t1 = time.perf_counter()
        with dask.config.set(scheduler="threads", num_workers=args.workers):
            n_vars = _run_bands(stack, names, opts, args.band_lines, args.sink, out_path)
        t_sig = time.perf_counter() - t1
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        peak = ru1.ru_maxrss / 1024**2  # KiB -> GiB
        n_pix = args.dates * shape[0] * shape[1]
        print(
            f"stack: {args.dates} dates x {shape[0]} x {shape[1]} px, HH+HV+VH+VV (generated in {t_gen:.1f} s)"
        )
        print(
            f"signatures: {n_vars} variables ({'+'.join(scopes)} scopes), window {tuple(args.window)}, "
            f"{args.workers} Dask threads, chunks ({args.chunk_lines}, {shape[1]}), bands of {args.band_lines} "
            f"lines, sink {args.sink}"
        )
        print(
            f"time: {t_sig:.1f} s   throughput: {n_pix / t_sig / 1e6:.2f} Mpx/s (stack pixels)   "
            f"CPU: {cpu:.1f} s   peak RSS: {peak:.2f} GiB"
        )
        if args.wishart:
            from sarbd.dataset.wishart import T3_VARIABLES, wishart_h_alpha

            with dask.config.set(scheduler="threads", num_workers=args.workers):
                t3 = S.compute(stack, list(T3_VARIABLES), **opts).mean("time").load()
            t2 = time.perf_counter()
            clusters = wishart_h_alpha(t3)
            t_w = time.perf_counter() - t2
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
            print(
                f"wishart: {shape[0]} x {shape[1]} px temporal-mean T3, "
                f"{clusters.attrs['sarbd_wishart_iterations']} iterations, {t_w:.1f} s, peak RSS {peak:.2f} GiB"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
