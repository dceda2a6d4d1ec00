"""Benchmark reading an AOI from a measurement TIFF inside a SAFE zip: bytes read, time, CRC pass.

Usage: python benchmarks/zip_reads.py [--lines 6000] [--width 2500] [--window 100]
Writes a CInt16 TIFF with one strip per line (as ESA writes them) of random pixels,
stores it in a zip twice (stored, deflated), then prints for each: the once-per-file
CRC-32 pass (:meth:`SafeFiles.verify_member`) and window reads of ``--window`` lines
at the start, middle and end (bytes read by the process from /proc/self/io ``rchar``,
wall time). Linux only (``/proc/self/io``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np


def _rchar() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=6000)
    parser.add_argument("--width", type=int, default=2500)
    parser.add_argument("--window", type=int, default=100)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import rasterio

    from sarbd.products.safe import _VERIFIED, open_safe_files
    from sarbd.products.sources import read_tiff_window

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tiff = folder / "m.tiff"
        rng = np.random.default_rng(0)
        with rasterio.open(
            tiff,
            "w",
            driver="GTiff",
            width=args.width,
            height=args.lines,
            count=1,
            dtype="complex_int16",
            blockysize=1,
        ) as ds:
            for r0 in range(0, args.lines, 500):
                n = min(500, args.lines - r0)
                block = rng.normal(0, 50, (n, args.width)) + 1j * rng.normal(0, 50, (n, args.width))
                ds.write(block.astype(np.complex64), 1, window=((r0, r0 + n), (0, args.width)))
        size = tiff.stat().st_size
        print(
            f"member: {args.lines} x {args.width} CInt16, {size / 2**20:.1f} MiB; window {args.window} lines"
        )
        for name, comp in (("stored", zipfile.ZIP_STORED), ("deflated", zipfile.ZIP_DEFLATED)):
            zpath = folder / f"{name}.SAFE.zip"
            with zipfile.ZipFile(zpath, "w", comp) as zf:
                zf.write(tiff, "x.SAFE/measurement/m.tiff")
                zf.writestr("x.SAFE/annotation/placeholder.xml", b"<x/>")
            csize = zipfile.ZipFile(zpath).getinfo("x.SAFE/measurement/m.tiff").compress_size
            safe = open_safe_files(zpath)
            _VERIFIED.clear()
            r, t = _rchar(), time.perf_counter()
            safe.verify_member("measurement/m.tiff")
            print(
                f"{name:8s} member in zip {csize / 2**20:6.1f} MiB | CRC pass: {(_rchar() - r) / 2**20:6.1f} MiB "
                f"read, {time.perf_counter() - t:5.2f} s"
            )
            path = safe.raster_path("measurement/m.tiff")
            read_tiff_window(path, (0, 1), (0, 16))  # GDAL start-up reads, once
            for where, r0 in (
                ("start", 0),
                ("middle", args.lines // 2),
                ("end", args.lines - args.window),
            ):
                r, t = _rchar(), time.perf_counter()
                read_tiff_window(path, (r0, r0 + args.window), (0, args.width))
                print(
                    f"{'':8s} window at {where:6s}: {(_rchar() - r) / 2**20:6.2f} MiB read, "
                    f"{time.perf_counter() - t:5.3f} s"
                )


if __name__ == "__main__":
    main()
