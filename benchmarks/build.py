"""Benchmark `sarbd build` on a simulated scene: per stage wall time, CPU time, peak memory,
bytes written and throughput; output sizes; label purity against the simulator's truths.

Sizes (``sarbd.simulate.config.SIZES``; 7 dates, VV+VH by default):

* ``tiny`` 160 x 320, ``small`` 1000 x 2500 (the demo);
* ``burst`` 1500 x 25000: one full Sentinel-1 IW burst (issue 14 item 3, run with ``--mode tops``);
* ``burst_quarter`` 1500 x 6250: a full-length burst cut to a quarter of the swath
  width, for machines where the full burst takes too long (its figures scale by ~4);
* ``aoi3`` 4182 x 2500 (three 1500-line bursts, 1341 lines apart) with ``--mode tops``: a 3-burst TOPS AOI crossing two burst
  boundaries (``small`` in TOPS mode is 3 bursts of 400 lines too).

The simulated scene is cached: ``--scene-cache DIR`` keeps it in ``DIR/<size>-<mode>-<dates>``
and reuses it on the next run (simulating a full burst takes long), so only the build
is timed. Per stage (from the build's own stage callbacks, in this process; the Dask
scheduler is threaded): wall seconds, CPU seconds (all threads of the process), peak
RSS during the stage (the kernel's high-water mark is reset at each stage start via
``/proc/self/clear_refs``), bytes written (``wchar`` of ``/proc/self/io``) and
throughput in pixel-dates per second (lines x pixels x dates / stage wall time).

With ``--scheduler cluster`` the build runs on a ``distributed.LocalCluster`` of
``--workers`` processes x ``--threads`` threads, each limited to ``--memory-limit`` (or on
an existing scheduler given by its address); the figures then add each stage's CPU
seconds summed over the workers and the largest worker peak RSS (each worker's high-water
mark is reset at every stage start too). ``--compare DATASET`` checks that every array
of ``dataset.zarr`` equals that of another build of the same scene (e.g. the local run
kept with ``--keep``): issue 14 item 5.

Usage: python benchmarks/build.py [--size small] [--mode stripmap|tops] [--dates 7]
       [--scene-cache DIR] [--keep DIR] [--scheduler cluster|ADDRESS] [--workers 2]
       [--threads 1] [--memory-limit 3GiB] [--compare DATASET]
Targets: issue 8 -- the `small` build under 5 minutes on 2 cores; issue 14 item 3 --
a full-burst 7-date build in under 30 minutes on 2 cores, peak RSS under 4 GiB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any


def _size_of(path: Path) -> int:
    return (
        path.stat().st_size
        if path.is_file()
        else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    )


def _disk_usage(path: Path) -> int:
    """Bytes allocated under ``path``, each inode once (what ``du -s`` reports; the dataset and
    the stage cache share hard-linked chunks)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for p in path.rglob("*"):
        st = p.lstat()
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def _proc(field: str, name: str = "status") -> int:
    """A counter of /proc/self/<name> (kB fields of status are returned in bytes)."""
    try:
        for line in Path(f"/proc/self/{name}").read_text().splitlines():
            if line.startswith(field + ":"):
                parts = line.split()
                return int(parts[1]) * (1024 if name == "status" else 1)
    except OSError:
        pass
    return -1


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (Linux >= 4.0)
        return True
    except OSError:
        return False


def _worker_counters(reset: bool) -> tuple[float, int, int]:
    """CPU seconds, peak RSS (bytes) and bytes written of this process (run on each Dask worker)."""
    if reset:
        _reset_peak()
    return time.process_time(), _proc("VmHWM"), _proc("wchar", "io")


class StageMeter:
    """Per-stage figures from the build's ``on_stage(name, state)`` callbacks (and, given a
    ``distributed.Client``, those of its workers)."""

    def __init__(self, client: Any = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self._open: dict[str, dict[str, Any]] = {}
        self.peak_resets = True
        self.client = client

    def _workers(self, reset: bool) -> dict[str, tuple[float, int, int]]:
        return dict(self.client.run(_worker_counters, reset)) if self.client is not None else {}

    def __call__(self, name: str, state: str) -> None:
        if state == "start":
            self.peak_resets &= _reset_peak()
            self._open[name] = {
                "t": time.perf_counter(),
                "cpu": time.process_time(),
                "w": _proc("wchar", "io"),
                "workers": self._workers(True),
            }
        elif state == "done" and name in self._open:
            s = self._open.pop(name)
            row = {
                "stage": name,
                "wall": time.perf_counter() - s["t"],
                "cpu": time.process_time() - s["cpu"],
                "peak": _proc("VmHWM"),
                "written": _proc("wchar", "io") - s["w"],
            }
            if self.client is not None:
                now = self._workers(False)
                before = s["workers"]
                row["worker_cpu"] = sum(v[0] - before[k][0] for k, v in now.items() if k in before)
                row["worker_peak"] = max((v[1] for v in now.values()), default=-1)
                row["written"] += sum(v[2] - before[k][2] for k, v in now.items() if k in before)
            self.rows.append(row)
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            print(
                f"  .. {name} done: wall {row['wall']:.1f} s, CPU {row['cpu']:.1f} s, peak RSS "
                f"{row['peak'] / 2**20:.0f} MiB, written {row['written'] / 2**20:.0f} MiB, load {load:.1f}"
                + (
                    f", workers CPU {row['worker_cpu']:.1f} s, worker peak {row['worker_peak'] / 2**20:.0f} MiB"
                    if "worker_cpu" in row
                    else ""
                ),
                flush=True,
            )
        elif state == "cached" and not any(r["stage"] == name for r in self.rows):
            self.rows.append(
                {"stage": name, "wall": 0.0, "cpu": 0.0, "peak": -1, "written": 0, "cached": True}
            )


def _compare(a_path: Path, b_path: Path) -> None:
    """Print whether every array of two ``dataset.zarr`` stores is identical (NaN equal to NaN)."""
    import numpy as np
    import xarray as xr

    a, b = xr.open_zarr(a_path), xr.open_zarr(b_path)
    differ = []
    for n in a.variables:
        if n not in b.variables or a[n].shape != b[n].shape:
            differ.append(str(n))
            continue
        x, y = a[n].data, b[n].data
        if hasattr(x, "dask"):  # chunk by chunk, never a whole cube in memory
            import dask.array as da

            same = bool(
                da.all(
                    (x == y) | ((x != x) & (y != y)) if a[n].dtype.kind in "fc" else x == y
                ).compute()
            )
        else:
            same = bool(
                np.array_equal(np.asarray(x), np.asarray(y), equal_nan=a[n].dtype.kind in "fc")
            )
        if not same:
            differ.append(str(n))
    print(
        f"  identical to {a_path}: {len(a.variables) - len(differ)} of {len(a.variables)} arrays"
        + (f"; differ: {', '.join(differ)}" if differ else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size", default="small", choices=["tiny", "small", "burst", "burst_quarter", "aoi3"]
    )
    parser.add_argument(
        "--mode",
        default=None,
        choices=["stripmap", "tops"],
        help="acquisition mode (default: tops for burst sizes, stripmap otherwise)",
    )
    parser.add_argument("--dates", type=int, default=7)
    parser.add_argument(
        "--scene", type=Path, default=None, help="existing simulated scene folder (same size)"
    )
    parser.add_argument(
        "--scene-cache", type=Path, default=None, help="simulate once into this folder and reuse"
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="write here and keep (default: a temp folder)"
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="'cluster' (a LocalCluster of --workers) or a Dask scheduler address; default: local",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--memory-limit", default="3GiB", help="per worker")
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="dataset folder of another build of the same scene: arrays must be identical",
    )
    args = parser.parse_args()
    from sarbd.utils.allocator import tune_allocator

    tune_allocator()  # as the sarbd command does (Dask's nanny sets its workers' own)
    mode = args.mode or ("tops" if args.size in ("burst", "burst_quarter", "aoi3") else "stripmap")
    warnings.simplefilter("ignore")
    import yaml

    from sarbd.pipeline.build import build
    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.demo import demo_config, label_purity
    from sarbd.pipeline.run import dask_scheduler
    from sarbd.simulate import simulate_scene
    from sarbd.simulate.api import SimulatedScene
    from sarbd.simulate.config import SIZES

    def open_scene(s: Path) -> SimulatedScene:
        return SimulatedScene.open(s)

    preset = SIZES[args.size]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        cached = args.scene_cache / f"{args.size}-{mode}-{args.dates}" if args.scene_cache else None
        if args.scene is not None:
            scene = open_scene(args.scene)
        elif cached is not None and (cached / "done").exists():
            scene = open_scene(cached)
            print(f"simulated scene reused from {cached}")
        else:
            t = time.perf_counter()
            where = cached or root / "scene"
            scene = simulate_scene(where, size=args.size, dates=args.dates, seed=0, mode=mode)
            if cached is not None:
                (cached / "done").write_text("complete\n")
            print(
                f"simulate {args.size} ({mode}): {time.perf_counter() - t:.1f} s (not part of the build)"
            )
        cfg_file = root / "build.yaml"
        cfg_file.write_text(
            yaml.safe_dump(
                demo_config(scene, root / "dataset", size=args.size, seed=0), sort_keys=False
            )
        )
        config = load_config(cfg_file)
        with contextlib.ExitStack() as stack:
            if args.scheduler == "cluster":
                from distributed import LocalCluster

                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=args.workers,
                        threads_per_worker=args.threads,
                        processes=True,
                        memory_limit=args.memory_limit,
                        dashboard_address=None,
                    )
                )
                config.compute.scheduler = cluster.scheduler_address
            elif args.scheduler:
                config.compute.scheduler = args.scheduler
            client = stack.enter_context(dask_scheduler(config.compute.scheduler))
            meter = StageMeter(client)
            wall, cpu = time.perf_counter(), time.process_time()
            result = build(config, on_stage=meter)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if client is not None:
                print(
                    f"Dask cluster {config.compute.scheduler}: {len(client.scheduler_info()['workers'])} workers"
                    + (
                        f" x {args.threads} thread(s), limit {args.memory_limit} each"
                        if args.scheduler == "cluster"
                        else ""
                    )
                )
        # the stage meter resets the kernel's high-water mark (clear_refs), which ru_maxrss
        # reads too: the build's peak is the largest of it and every stage's peak
        peak = max(
            [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]
            + [r["peak"] / 2**20 for r in meter.rows if not r.get("cached") and r["peak"] >= 0]
        )
        px_dates = preset.lines * preset.pixels * args.dates
        print(
            f"build {args.size} ({mode}, {preset.lines} x {preset.pixels} px, {args.dates} dates, VV+VH): "
            f"wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MiB, "
            f"{px_dates / wall / 1e6:.3f} M pixel-dates/s"
        )
        workers = meter.client is not None
        print(
            f"  {'stage':<16}{'wall s':>9}{'CPU s':>9}{'peak MiB':>10}{'written MiB':>13}{'Mpx-dates/s':>13}"
            + (f"{'worker CPU s':>14}{'worker peak MiB':>17}" if workers else "")
        )
        for r in meter.rows:
            if r.get("cached"):
                print(f"  {r['stage']:<16}{'(cached)':>9}")
                continue
            pk = f"{r['peak'] / 2**20:.0f}" if r["peak"] >= 0 and meter.peak_resets else "n/a"
            thr = px_dates / r["wall"] / 1e6 if r["wall"] > 0 else float("inf")
            extra = f"{r['worker_cpu']:14.1f}{r['worker_peak'] / 2**20:17.0f}" if workers else ""
            print(
                f"  {r['stage']:<16}{r['wall']:9.1f}{r['cpu']:9.1f}{pk:>10}{r['written'] / 2**20:13.0f}{thr:13.3f}"
                + extra
            )
        if not meter.peak_resets:
            print(
                "  (per-stage peaks unavailable: /proc/self/clear_refs not writable; overall peak above)"
            )
        out = result.directory
        sizes = {p.name: _size_of(p) / 2**20 for p in sorted(out.iterdir())} if out.exists() else {}
        print(
            f"  outputs (MiB, total {sum(sizes.values()):.0f}): "
            + ", ".join(f"{k} {v:.0f}" for k, v in sizes.items())
        )
        print(
            "  (CPU counts every thread of this process; on a shared machine wall times are inflated)"
        )
        print(
            f"  dataset folder on disk, hard links counted once: {_disk_usage(out) / 2**20:.0f} MiB"
        )
        if args.compare is not None:
            _compare(args.compare / "dataset.zarr", out / "dataset.zarr")
        classes = [{"id": i + 1, "name": n} for i, n in enumerate(config.inputs.classes)]
        for key, table in label_purity(out, scene.truth_dir, classes).items():
            row = table.loc["all"]
            print(
                f"  label precision vs {key} truth: L2 {row['label_l2_precision']:.3f}, "
                f"L3 {row['label_l3_precision']:.3f} keeping {row['label_l3_kept']:.3f} of L2"
            )


if __name__ == "__main__":
    main()
