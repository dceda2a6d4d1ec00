"""Benchmark: signatures of a synthetic dual-pol stack, against the AlignSAR reference method.

Default: 7 dates x 940 x 2350 pixels, VV+VH (the AlignSAR Groningen crop size), and
the catalogue equivalent of the reference code's eight signatures (VV and VH
amplitude, intensity sum / difference / ratio, cross-pol correlation, cross
product, entropy; ``--catalogue all`` computes every signature the stack allows).
``--burst``: one full Sentinel-1 IW burst, 1500 x 25000 pixels; ``--lines`` /
``--pixels`` any other size.

The stack is first written to a temporary Zarr store as the coregister stage writes one
(:func:`sarbd.coregistration.stack.write_stack`: format 2, Blosc zstd, one date per chunk;
in a separate process, not timed). Then, each in its own process so that peak memories do not mix:

* ``sarbd``: read the stack from Zarr, compute the catalogue and write it to Zarr
  (:func:`sarbd.signatures.compute_to_zarr`, Dask threads) -- or, with
  ``--sink null``, compute every chunk and drop it;
* ``reference`` (unless ``--no-reference``): a faithful re-implementation of the
  AlignSAR ``signature_extraction.py`` method
  (``../shared/reference/alignsar-reference-implementation.md`` section 3, written here from
  that description): whole stacks in RAM as complex64 ``(lines, pixels, dates)``;
  the 2 x 2 covariance from four ``scipy.signal.convolve2d`` 3 x 3 'valid' boxcars
  per date into complex64, stacked with ``dstack``/``reshape``/``transpose`` and
  zero-padded back to full size; entropy from ``numpy.linalg.eigvals`` of every
  pixel matrix, ``abs`` + ``sort``; the intensity terms from ``np.square(abs(.))``.
  Its computation (up to the eight arrays in memory) and its output (one uncompressed
  netCDF4 file per date, as it writes them) are timed apart: the first ratio printed,
  computation only, is in the reference's favour; the second counts its writing too, as
  sarbd's time counts reading the stack and writing compressed Zarr. The reference runs
  with glibc's default allocator, as the reference code does; sarbd's process tunes it
  as the ``sarbd`` command does (:mod:`sarbd.utils.allocator`).

Prints seconds, CPU seconds, throughput (pixel-dates per second) and peak resident
memory of each, and the speed ratio.

Usage: python benchmarks/signatures.py [--burst] [--workers 2] [--dates 7] [--catalogue alignsar|all] [--repeat 2] [--in-process 2]
Targets: issue 14 item 4 -- Groningen size >= 20 x the reference, < 1 GiB peak;
issue 14 item 2 -- a full burst stack under 2 GiB.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

#: sarbd's equivalents of the reference code's eight signatures (10 variables: two amplitudes).
ALIGNSAR_EIGHT = (
    "amplitude",
    "intensity_sum",
    "intensity_difference",
    "intensity_ratio",
    "pol_correlation",
    "cross_product",
    "entropy",
)


def _generate(path: str, dates: int, shape: tuple[int, int], chunks: tuple[int, int]) -> None:
    import dask

    from sarbd.coregistration.stack import write_stack
    from sarbd.signatures.synthetic import synthetic_stack

    with dask.config.set(scheduler="threads", num_workers=2):
        ds = synthetic_stack(dates, shape, ("vv", "vh"), chunks=chunks, seed=0)
        # stored as the coregister stage stores a stack (what the signatures stage reads)
        write_stack(ds, path)


def _usage() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024**2  # s, GiB (ru_maxrss is KiB)


# -- the AlignSAR reference method -------------------------------------------------------------
def _ref_boxcar_3d(arr: Any, win: int) -> Any:
    """Per date: scipy.signal.convolve2d with ones/win^2, 'valid', into complex64 (as the reference)."""
    import numpy as np
    from scipy import signal

    kern = np.ones((win, win)) / win**2
    out = np.empty(
        (arr.shape[0] - win + 1, arr.shape[1] - win + 1, arr.shape[2]), dtype=np.complex64
    )
    for i in range(arr.shape[-1]):
        out[..., i] = signal.convolve2d(arr[..., i], kern, boundary="symm", mode="valid")
    return out


def _reference(stack_path: str, out_dir: str, runs: int, q: Any, win: int = 3) -> None:
    """The reference method ``runs`` times in this process; the last run is reported."""
    for _ in range(runs):
        res = _reference_once(stack_path, out_dir, win)
    q.put(res)


def _reference_once(stack_path: str, out_dir: str, win: int = 3) -> dict[str, Any]:
    import numpy as np
    import numpy.linalg as LA
    import xarray as xr

    try:  # what the reference writes with; h5netcdf's copy of its API otherwise
        from netCDF4 import Dataset
    except ImportError:
        from h5netcdf.legacyapi import Dataset

    t0, c0 = time.perf_counter(), _usage()[0]
    ds = xr.open_zarr(stack_path)
    # whole stacks in RAM, complex64, (lines, pixels, dates)
    vv = np.ascontiguousarray(ds["slc_vv"].values.transpose(1, 2, 0))
    vh = np.ascontiguousarray(ds["slc_vh"].values.transpose(1, 2, 0))
    m, n, e = vv.shape
    mv, nv = m - win + 1, n - win + 1
    # covariance with VH first (the reference passes VV, VH as its "vv", "hh" arguments)
    cov = np.dstack(
        (
            _ref_boxcar_3d(np.absolute(vh) ** 2, win),
            _ref_boxcar_3d(vh * np.conj(vv), win),
            _ref_boxcar_3d(vv * np.conj(vh), win),
            _ref_boxcar_3d(np.absolute(vv) ** 2, win),
        )
    )
    cov = cov.reshape(mv, nv, 4, e).transpose(0, 1, 3, 2).reshape(mv, nv, e, 2, 2)
    cov = np.pad(cov, ((win // 2, win // 2), (win // 2, win // 2), (0, 0), (0, 0), (0, 0)))
    with np.errstate(all="ignore"):
        vv_amp = np.abs(vv)
        vh_amp = np.abs(vh)
        out = {
            "vv_amplitude": vv_amp,
            "vh_amplitude": vh_amp,
            "intensity_sum": np.square(vv_amp) + np.square(vh_amp),
            "intensity_difference": np.square(vv_amp) - np.square(vh_amp),
            "intensity_ratio": np.square(vv_amp) / np.square(vh_amp),
            "cross_pol_correlation": np.absolute(
                cov[..., 0, 1] / np.sqrt(cov[..., 0, 0] * cov[..., 1, 1])
            ),
            "cross_product": np.absolute(cov[..., 0, 0] - cov[..., 1, 1]),
        }
        lam = np.sort(np.absolute(LA.eigvals(cov)), axis=3)
        total = np.sum(lam, axis=3)
        p1, p2 = lam[..., 1] / total, lam[..., 0] / total
        out["entropy"] = -1 * (p1 * (np.log(p1) / np.log(2)) + p2 * (np.log(p2) / np.log(2)))
    wall = time.perf_counter() - t0
    cpu, peak = _usage()
    # a check that the eight arrays are real: the cross-pol correlation of the synthetic stack
    rho = float(np.nanmedian(out["cross_pol_correlation"][win:-win, win:-win, :]))
    # its output as the reference writes it: one uncompressed netCDF4 file per date, each
    # variable float32 transposed to (range, azimuth) (alignsar-reference-implementation.md
    # section 5); timed apart, so that both ratios can be given
    w0, wc0 = time.perf_counter(), _usage()[0]
    for k in range(e):
        with Dataset(os.path.join(out_dir, f"netcdf_{k:08d}_full_attributes.nc"), "w") as nc:
            nc.createDimension("lines (azimuth)", n)
            nc.createDimension("pixels (range)", m)
            for name, arr in out.items():
                var = nc.createVariable(name, "f4", ("lines (azimuth)", "pixels (range)"))
                var[:] = np.transpose(arr[..., k]).astype(np.float32)
    write_wall, write_cpu = time.perf_counter() - w0, _usage()[0] - wc0
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    return {
        "wall": wall,
        "cpu": cpu - c0,
        "peak": peak,
        "n_vars": len(out),
        "check": rho,
        "write_wall": write_wall,
        "write_cpu": write_cpu,
        "size": size,
    }


# -- sarbd ---------------------------------------------------------------------------------------
def _sarbd(
    stack_path: str,
    out_path: str,
    opts: dict[str, Any],
    names: Any,
    workers: int,
    sink: str,
    chunks: tuple[int, int],
    runs: int,
    q: Any,
) -> None:
    import dask
    import numba
    import xarray as xr

    import sarbd.signatures as S
    from sarbd.signatures.synthetic import synthetic_stack
    from sarbd.utils.allocator import tune_allocator

    tune_allocator()  # as the sarbd command does
    numba.set_num_threads(max(1, min(workers, numba.config.NUMBA_NUM_THREADS)))
    # warm the Numba caches on a tiny stack so that compiling (or loading the compiled
    # kernels from the on-disk cache, 0.4 s CPU) is not counted: through the path timed
    # below (a stored stack into a store), whose kernels the Dask path does not all load
    S.compute(
        synthetic_stack(2, (16, 16)), names, window=opts["window"], filter=opts["filter"]
    ).load()
    if sink == "zarr":
        with tempfile.TemporaryDirectory(dir=Path(out_path).parent) as warm:
            _generate(f"{warm}/stack.zarr", 2, (64, 96), (32, 96))
            with dask.config.set(scheduler="threads", num_workers=workers):
                tiny = {**opts, "chunks": {"time": -1, "line": 32, "pixel": 96}}
                S.compute_to_zarr(
                    xr.open_zarr(f"{warm}/stack.zarr"), f"{warm}/f.zarr", names, **tiny
                )
    for k in range(runs):  # the last run is reported (earlier ones: this process's first touch)
        if k:
            shutil.rmtree(out_path, ignore_errors=True)  # this benchmark's own output
        stack = xr.open_zarr(stack_path)
        t0, c0 = time.perf_counter(), _usage()[0]
        with dask.config.set(scheduler="threads", num_workers=workers):
            if sink == "zarr":
                feats = S.compute_to_zarr(stack, out_path, names, **opts)
            else:  # the same bands, every chunk computed and dropped (no output IO)
                import dask.array as da

                class _Null:
                    def __setitem__(self, key: object, value: object) -> None:
                        pass

                feats = S.compute(stack, names, **opts)
                halo = S.required_halo(**opts)
                n = stack.sizes["line"]
                band = chunks[0]  # one chunk row per band, as compute_to_zarr does by default
                for b0 in range(0, n, band):
                    lo, hi = max(0, b0 - halo), min(n, b0 + band + halo)
                    part = S.compute(stack.isel(line=slice(lo, hi)), names, **opts).isel(
                        line=slice(b0 - lo, min(b0 + band, n) - lo)
                    )
                    arrays = [v.data for v in part.data_vars.values()]
                    da.store(arrays, [_Null() for _ in arrays], lock=False)
        wall = time.perf_counter() - t0
        cpu, peak = _usage()
        cpu -= c0
    check = float("nan")
    if "pol_correlation_vv_vh" in feats and sink == "zarr":
        import numpy as np

        check = float(
            np.nanmedian(
                xr.open_zarr(out_path)["pol_correlation_vv_vh"][0, 100:200, 100:200].values
            )
        )
    q.put({"wall": wall, "cpu": cpu, "peak": peak, "n_vars": len(feats.data_vars), "check": check})


def _run(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    import queue

    while True:  # a child that dies without reporting must not hang the benchmark
        try:
            res = q.get(timeout=5)
            break
        except queue.Empty:
            if not p.is_alive():
                raise SystemExit(f"{target.__name__} failed ({p.exitcode})") from None
    p.join()
    if p.exitcode:
        raise SystemExit(f"{target.__name__} failed ({p.exitcode})")
    return dict(res)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--burst", action="store_true", help="one full IW burst, 1500 x 25000 pixels")
    ap.add_argument("--lines", type=int, default=None)
    ap.add_argument("--pixels", type=int, default=None)
    ap.add_argument("--dates", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2, help="Dask threads (and Numba threads)")
    ap.add_argument(
        "--catalogue",
        choices=("alignsar", "all"),
        default="alignsar",
        help="the reference code's eight signatures (default) or the whole catalogue",
    )
    ap.add_argument(
        "--window",
        type=int,
        nargs=2,
        default=None,
        help="signature window (default 3 3 for --catalogue alignsar, like the reference; else 5 5)",
    )
    ap.add_argument(
        "--filter", default=None, help="speckle filter (boxcar, lee, refined_lee, quegan_yu)"
    )
    ap.add_argument("--chunk-lines", type=int, default=256)
    ap.add_argument("--chunk-pixels", type=int, default=4096)
    ap.add_argument(
        "--sink",
        choices=("zarr", "null"),
        default="zarr",
        help="write the features to Zarr (default) or compute and discard them (no output IO)",
    )
    ap.add_argument(
        "--no-reference", action="store_true", help="skip the AlignSAR reference method"
    )
    ap.add_argument(
        "--no-fused",
        action="store_true",
        help="sarbd's step-by-step path instead of the fused dual-pol pass (signatures.fused)",
    )
    ap.add_argument(
        "--keep", type=Path, default=None, help="keep the stack and features in this folder"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run sarbd and the reference this many times each (fresh processes) and report "
        "the fastest run of each (on a shared machine: the run least slowed by other jobs)",
    )
    ap.add_argument(
        "--in-process",
        type=int,
        default=1,
        help="run sarbd and the reference this many times in each process and report the last "
        "run (default 1: the first, which also pays for the process's first touch of its memory; "
        "on a VM that hands freed pages back to its host that costs seconds of system time)",
    )
    args = ap.parse_args()
    shape = (1500, 25000) if args.burst else (940, 2350)
    shape = (args.lines or shape[0], args.pixels or shape[1])
    names = list(ALIGNSAR_EIGHT) if args.catalogue == "alignsar" else None
    window = (
        tuple(args.window) if args.window else ((3, 3) if args.catalogue == "alignsar" else (5, 5))
    )
    chunks = (args.chunk_lines, min(args.chunk_pixels, shape[1]))
    store_chunks = (512, min(4096, shape[1]))
    work = Path(tempfile.mkdtemp(prefix="sarbd-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    stack_path, out_path = work / "stack.zarr", work / "features.zarr"
    try:
        t0 = time.perf_counter()
        p = mp.get_context("spawn").Process(
            target=_generate, args=(str(stack_path), args.dates, shape, store_chunks)
        )
        p.start()
        p.join()
        if p.exitcode:
            raise SystemExit(f"stack generation failed ({p.exitcode})")
        t_gen = time.perf_counter() - t0
        opts = {
            "window": window,
            "filter": args.filter,
            "fused": not args.no_fused,
            "chunks": {"time": -1, "line": chunks[0], "pixel": chunks[1]},
        }
        n_pix = args.dates * shape[0] * shape[1]
        print(
            f"stack: {args.dates} dates x {shape[0]} x {shape[1]} px, VV+VH (generated in {t_gen:.1f} s)"
        )
        runs = [
            _run(
                _sarbd,
                str(stack_path),
                str(out_path),
                opts,
                names,
                args.workers,
                args.sink,
                chunks,
                args.in_process,
            )
            for _ in range(args.repeat)
        ]
        s = min(runs, key=lambda x: x["wall"])
        size = (
            sum(f.stat().st_size for f in out_path.rglob("*") if f.is_file()) / 1024**2
            if args.sink == "zarr" and out_path.exists()
            else 0
        )
        if args.repeat > 1:
            print("sarbd runs (wall s): " + ", ".join(f"{x['wall']:.2f}" for x in runs))
        print(
            f"sarbd: {s['n_vars']} variables ({args.catalogue}), window {window}, filter {args.filter or 'none'}, "
            f"{args.workers} threads, chunks {chunks}, sink {args.sink}, "
            f"{'step-by-step path' if args.no_fused else 'fused dual-pol pass'}"
        )
        print(
            f"  time {s['wall']:.2f} s   CPU {s['cpu']:.1f} s   {n_pix / s['wall'] / 1e6:.2f} M pixel-dates/s   "
            f"peak RSS {s['peak']:.2f} GiB   output {size:.0f} MiB   (median VV/VH correlation {s['check']:.3f})"
        )
        if not args.no_reference:
            ref_out = work / "reference"
            refs = []
            for _ in range(args.repeat):
                shutil.rmtree(ref_out, ignore_errors=True)  # this benchmark's own folder
                ref_out.mkdir()
                refs.append(_run(_reference, str(stack_path), str(ref_out), args.in_process))
            r = min(refs, key=lambda x: x["wall"])
            if args.repeat > 1:
                print("reference runs (wall s): " + ", ".join(f"{x['wall']:.2f}" for x in refs))
            print(
                f"reference (AlignSAR method, {r['n_vars']} signatures, 3 x 3 window, in RAM, no output IO):"
            )
            print(
                f"  time {r['wall']:.2f} s   CPU {r['cpu']:.1f} s   {n_pix / r['wall'] / 1e6:.2f} M pixel-dates/s   "
                f"peak RSS {r['peak']:.2f} GiB   (median VV/VH correlation {r['check']:.3f})"
            )
            print(
                f"  its netCDF output (one uncompressed file per date): {r['write_wall']:.2f} s, "
                f"CPU {r['write_cpu']:.1f} s, {r['size'] / 1024**2:.0f} MiB"
            )
            print(
                f"speed-up sarbd / reference computation: {r['wall'] / s['wall']:.1f} x wall, "
                f"{r['cpu'] / s['cpu']:.1f} x CPU"
            )
            if args.sink == "zarr":
                rw, rc = r["wall"] + r["write_wall"], r["cpu"] + r["write_cpu"]
                print(
                    f"speed-up sarbd / reference with its output written: {rw / s['wall']:.1f} x wall, "
                    f"{rc / s['cpu']:.1f} x CPU"
                )
        print(
            "(on a machine shared with other jobs wall times are inflated; CPU / threads is the wall time "
            "with idle cores)"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
