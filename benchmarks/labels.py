"""Benchmark of the label stage (SARbd-L1/L2/L3, quality flags, splits) and chip extraction.

A synthetic scene is written once to Zarr in ``--workdir`` (block by block, bounded
memory): 4 classes on a mosaic of rectangular parcels (edges off the pixel grid, so edge
pixels are mixed), per-date VV/VH backscatter and coherence drawn per class, an amplitude
dispersion, a boundary distance, a layover/shadow patch and a few unfilled samples. The
label stage then runs as ``sarbd build`` runs it (:func:`sarbd.pipeline.build` ``do_label``:
L1 rules, L2, L3 with the border mask and the outlier + region tests, splits, written to
``labels.zarr``), followed by the chip tables of the export (:func:`make_chips`), in a
fresh process whose peak resident memory (``resource.getrusage``), CPU and wall time are
printed.

Cases: ``--lines 1500 --pixels 25000`` is one full Sentinel-1 IW burst (37.5 M px; issue 14
item 2: the label stage far below 4 GiB).

Usage::

    nice -n 10 python benchmarks/labels.py --lines 1500 --pixels 25000 --dates 3
    nice -n 10 python benchmarks/labels.py --lines 600 --pixels 4000      # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

CLASSES = [
    {"id": 1, "name": "water"},
    {"id": 2, "name": "built_up"},
    {"id": 3, "name": "vegetation"},
    {"id": 4, "name": "bare_soil"},
]
#: per class: VV dB, VH dB, coherence, amplitude dispersion
STATS = {
    1: (-20.0, -27.0, 0.15, 0.9),
    2: (3.0, -6.0, 0.85, 0.18),
    3: (-9.0, -15.0, 0.3, 0.55),
    4: (-13.0, -22.0, 0.65, 0.35),
}
PARCEL = 37.25  # parcel side, px (off-grid: edge pixels are mixed)
RULES = [
    ("water", "db(median(sigma0_vv)) < -17"),
    ("built_up", "db(median(sigma0_vv)) > -2"),
    ("vegetation", "median(coherence_vv) < 0.45"),
    ("bare_soil", "median(coherence_vv) >= 0.45"),
]
FEATURES = ("db(sigma0_vv)", "db(sigma0_vh)", "coherence_vv", "amplitude_dispersion_vv")


def _class_table(lines: int, pixels: int, seed: int):  # type: ignore[no-untyped-def]
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.integers(1, 5, size=(int(lines / PARCEL) + 2, int(pixels / PARCEL) + 2)).astype(
        np.uint8
    )


def _fine_class(table, l0: int, l1: int, p0: int, p1: int):  # type: ignore[no-untyped-def]
    """Class on a 2x oversampled grid of lines [l0, l1) and pixels [p0, p1)."""
    import numpy as np

    fl = (np.arange(2 * l0, 2 * l1) + 0.5) / 2.0
    fp = (np.arange(2 * p0, 2 * p1) + 0.5) / 2.0
    return table[(fl // PARCEL).astype(int)[:, None], (fp // PARCEL).astype(int)[None, :]]


def generate(
    work: Path,
    lines: int,
    pixels: int,
    dates: int,
    chunks: tuple[int, int],
    seed: int = 0,
    wrong: float = 0.1,
) -> None:
    """Write ``signatures.zarr``, ``reference.zarr`` and ``valid_samples.zarr`` (block by block);
    the reference gives a fraction ``wrong`` of the parcels another class than the signatures."""
    import dask.array as da
    import numpy as np
    import xarray as xr

    truth = _class_table(lines, pixels, seed)
    flip = np.random.default_rng(seed + 1).random(truth.shape) < wrong
    table = np.where(flip, truth % 4 + 1, truth).astype(np.uint8)
    shape = (lines, pixels)

    def frac_block(*, tab, block_info=None):  # type: ignore[no-untyped-def]
        (l0, l1), (p0, p1) = block_info[None]["array-location"][1:]
        fine = _fine_class(tab, l0, l1, p0, p1)
        h, w = l1 - l0, p1 - p0
        return np.stack(
            [(fine == c["id"]).reshape(h, 2, w, 2).mean(axis=(1, 3)) for c in CLASSES]
        ).astype(np.float32)

    ch4 = ((4,), *da.core.normalize_chunks(chunks, shape))
    frac = da.map_blocks(frac_block, chunks=ch4, dtype=np.float32, tab=table)
    true_frac = da.map_blocks(frac_block, chunks=ch4, dtype=np.float32, tab=truth)

    def sig_block(f, idx, n, sd, lin, block_info=None):  # type: ignore[no-untyped-def]
        loc = block_info[None]["array-location"]
        rng = np.random.default_rng([seed, idx, loc[1][0], loc[2][0]])
        out = np.zeros((n, *f.shape[1:]), np.float64)
        for k, c in enumerate(CLASSES):
            mu = STATS[c["id"]][idx]
            draw = mu + rng.normal(0, sd, out.shape)
            out += f[k][None] * (10 ** (draw / 10) if lin else draw)
        return out.astype(np.float32)

    tchunks = ((dates,), *frac.chunks[1:])
    dims3, dims2 = ("time", "line", "pixel"), ("line", "pixel")
    vv = da.map_blocks(sig_block, true_frac, 0, dates, 1.2, True, chunks=tchunks, dtype=np.float32)
    vh = da.map_blocks(sig_block, true_frac, 1, dates, 1.2, True, chunks=tchunks, dtype=np.float32)
    coh = da.clip(
        da.map_blocks(
            sig_block, true_frac, 2, dates, 0.05, False, chunks=tchunks, dtype=np.float32
        ),
        0,
        1,
    )
    disp = da.map_blocks(
        sig_block, true_frac, 3, 1, 0.05, False, chunks=((1,), *frac.chunks[1:]), dtype=np.float32
    )[0]
    coords = {
        "time": np.datetime64("2022-02-14", "ns") + np.arange(dates) * np.timedelta64(12, "D"),
        "line": np.arange(lines),
        "pixel": np.arange(pixels),
    }
    sig = xr.Dataset(
        {
            "sigma0_vv": (dims3, vv),
            "sigma0_vh": (dims3, vh),
            "coherence_vv": (dims3, coh),
            "amplitude_dispersion_vv": (dims2, da.clip(disp, 0.01, None)),
        },
        coords=coords,
    )
    sig.to_zarr(work / "signatures.zarr", mode="w", zarr_format=2)

    def dist_block(block_info=None):  # type: ignore[no-untyped-def]
        (l0, l1), (p0, p1) = block_info[None]["array-location"]
        dl = np.abs(((np.arange(l0, l1) + 0.5) + PARCEL / 2) % PARCEL - PARCEL / 2) * 13.9
        dp = np.abs(((np.arange(p0, p1) + 0.5) + PARCEL / 2) % PARCEL - PARCEL / 2) * 2.33
        return np.minimum(dl[:, None], dp[None, :]).astype(np.float32)

    def lsm_block(block_info=None):  # type: ignore[no-untyped-def]
        (l0, l1), (p0, p1) = block_info[None]["array-location"]
        ll, pp = np.meshgrid(np.arange(l0, l1), np.arange(p0, p1), indexing="ij")
        return (((ll // 100) % 7 == 3) & ((pp // 300) % 11 == 5)).astype(np.uint8) * (
            1 + (pp // 300) % 2
        )

    def valid_block(block_info=None):  # type: ignore[no-untyped-def]
        (l0, l1), (p0, p1) = block_info[None]["array-location"]
        ll, pp = np.meshgrid(np.arange(l0, l1), np.arange(p0, p1), indexing="ij")
        return (((ll * 7919 + pp * 104729) % 100003) != 0).astype(np.uint8)

    ch = frac.chunks[1:]
    ref = xr.Dataset(
        {f"fraction_{c['name']}": (dims2, frac[k]) for k, c in enumerate(CLASSES)},
        coords={"line": coords["line"], "pixel": coords["pixel"]},
    )
    ref["boundary_distance"] = (dims2, da.map_blocks(dist_block, chunks=ch, dtype=np.float32))
    ref["layover_shadow_mask"] = (dims2, da.map_blocks(lsm_block, chunks=ch, dtype=np.uint8))
    ref.to_zarr(work / "reference.zarr", mode="w", zarr_format=2)
    valid = xr.Dataset(
        {"valid_samples": (dims2, da.map_blocks(valid_block, chunks=ch, dtype=np.uint8))},
        coords={"line": coords["line"], "pixel": coords["pixel"]},
    )
    valid.to_zarr(work / "valid_samples.zarr", mode="w", zarr_format=2)


def label_stage(
    work: Path, chunks: tuple[int, int], chip_sizes: tuple[int, ...]
) -> dict[str, float]:
    """The label stage as the build runs it, then the chip tables; returns timings."""
    import xarray as xr

    from sarbd.dataset import OutlierTest, class_counts, label_l1, label_l2, label_l3
    from sarbd.dataset.chips import make_chips
    from sarbd.dataset.labels import border_mask
    from sarbd.dataset.splits import assign_splits
    from sarbd.pipeline.cache import write_stage

    out: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    features = xr.open_zarr(work / "signatures.zarr")
    ref = xr.open_zarr(work / "reference.zarr")
    valid = xr.open_zarr(work / "valid_samples.zarr")["valid_samples"]
    fractions = ref[[v for v in ref.data_vars if str(v).startswith("fraction_")]]
    l1 = label_l1(features, RULES, CLASSES)
    l2 = label_l2(fractions, CLASSES, 0.5)
    test = OutlierTest(FEATURES, region_min_pixels=10)
    border = border_mask(valid.astype(bool), (2, 5), 4)
    l3 = label_l3(
        l2,
        features,
        ref["boundary_distance"],
        ref["layover_shadow_mask"],
        10.0,
        test,
        fractions,
        0.5,
        border=border,
        required=["amplitude_dispersion_vv"],
    )
    split = assign_splits(l2, 256, 16, {"train": 0.7, "validation": 0.15, "test": 0.15}, 0)
    labels = xr.merge(
        [l1.rename("label_l1"), l2.rename("label_l2"), l3, split.rename("split")],
        combine_attrs="drop_conflicts",
    )
    write_stage(labels, work / "labels.zarr", chunks)
    stored = xr.open_zarr(work / "labels.zarr")
    counts = {lvl: class_counts(stored[f"label_{lvl}"], CLASSES) for lvl in ("l1", "l2", "l3")}
    out["label_wall_s"] = time.perf_counter() - t0
    out["label_cpu_s"] = time.process_time() - c0
    out["label_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    t0, c0 = time.perf_counter(), time.process_time()
    n_chips = 0
    for size in chip_sizes:
        n_chips += len(make_chips(stored["split"], size, stored["label_l3"], CLASSES))
    out["chips_wall_s"] = time.perf_counter() - t0
    out["chips_cpu_s"] = time.process_time() - c0
    out["total_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out["chips"] = n_chips
    out["l3_pixels"] = sum(v for k, v in counts["l3"].items() if k != "unlabelled")
    out["l2_pixels"] = sum(v for k, v in counts["l2"].items() if k != "unlabelled")
    out["regions_rejected"] = sum(
        int(v["rejected"])
        for v in json.loads(stored["label_l3"].attrs["sarbd_outlier_model"])
        .get("regions", {})
        .values()
    )
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--lines", type=int, default=1500)
    p.add_argument("--pixels", type=int, default=25000)
    p.add_argument("--dates", type=int, default=3)
    p.add_argument("--chunks", type=int, nargs=2, default=(512, 1024))
    p.add_argument("--chip-sizes", type=int, nargs="*", default=(64, 256))
    p.add_argument("--workdir", type=Path, default=Path("/tmp/sarbd-bench-labels"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--wrong", type=float, default=0.1, help="share of parcels with a wrong reference class"
    )
    p.add_argument(
        "--run", action="store_true", help=argparse.SUPPRESS
    )  # the measured child process
    a = p.parse_args()
    import dask

    dask.config.set(scheduler="threads", num_workers=a.threads)
    work = a.workdir / f"{a.lines}x{a.pixels}x{a.dates}w{a.wrong:g}"
    if a.run:
        print(json.dumps(label_stage(work, tuple(a.chunks), tuple(a.chip_sizes))))
        return
    if not (work / "valid_samples.zarr").exists():
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        generate(work, a.lines, a.pixels, a.dates, tuple(a.chunks), wrong=a.wrong)
        print(f"generated {work} in {time.perf_counter() - t0:.1f} s")
    cmd = [
        sys.executable,
        __file__,
        "--run",
        "--lines",
        str(a.lines),
        "--pixels",
        str(a.pixels),
        "--dates",
        str(a.dates),
        "--chunks",
        *map(str, a.chunks),
        "--workdir",
        str(a.workdir),
        "--threads",
        str(a.threads),
        "--wrong",
        str(a.wrong),
        "--chip-sizes",
        *map(str, a.chip_sizes),
    ]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ.copy())
    r = json.loads(res.stdout.strip().splitlines()[-1])
    px = a.lines * a.pixels
    print(
        f"scene {a.lines} x {a.pixels} ({px / 1e6:.1f} M px), {a.dates} dates, chunks {tuple(a.chunks)}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"label stage: wall {r['label_wall_s']:.1f} s, CPU {r['label_cpu_s']:.1f} s, "
        f"peak RSS {r['label_rss_gib']:.2f} GiB, {px / r['label_wall_s'] / 1e6:.2f} M px/s"
    )
    print(
        f"chips {tuple(a.chip_sizes)}: wall {r['chips_wall_s']:.1f} s, CPU {r['chips_cpu_s']:.1f} s, "
        f"{r['chips']} chips; peak RSS of the process {r['total_rss_gib']:.2f} GiB"
    )
    print(
        f"L2 {r['l2_pixels']} px, L3 {r['l3_pixels']} px, regions rejected {r['regions_rejected']}"
    )


if __name__ == "__main__":
    main()
