"""Benchmark `sarbd build` on a `distributed.LocalCluster`: wall time, peak memory of each worker,
and whether the arrays equal those of a local-scheduler build of the same scene.

Usage: python benchmarks/cluster.py [--size tiny|small] [--scene DIR] [--workers 2] [--threads 1]
                                    [--memory-limit 3GiB] [--compare DATASET] [--keep DIR]
`--scene` reuses a scene written by `benchmarks/build.py --keep DIR` (DIR/scene, of `--size`),
else one is simulated; `--compare` is a dataset folder built from it with the local scheduler
(DIR/dataset), else a local build runs first. Issue 14: the cluster run must give identical
arrays; the figures size the workers (docs/outputs.md, "Dask clusters").
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", type=Path, default=None, help="simulated scene folder")
    parser.add_argument(
        "--size", default="tiny", choices=["tiny", "small"], help="the scene's size"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--memory-limit", default="3GiB", help="per worker")
    parser.add_argument(
        "--compare", type=Path, default=None, help="dataset folder of a local-scheduler build"
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="write here and keep (default: a temp folder)"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import numpy as np
    import xarray as xr
    import yaml
    from distributed import LocalCluster

    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.demo import demo_config
    from sarbd.pipeline.run import run_build
    from sarbd.simulate import simulate_scene
    from sarbd.simulate.api import SimulatedScene

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if args.scene is None:
            scene = simulate_scene(root / "scene", size=args.size, dates=7, seed=0)
        else:
            scene = SimulatedScene.open(args.scene)
        if args.compare is None:
            local = root / "local.yaml"
            local.write_text(
                yaml.safe_dump(
                    demo_config(scene, root / "local", size=args.size, seed=0), sort_keys=False
                )
            )
            t = time.perf_counter()
            run_build(load_config(local))
            print(f"local build: wall {time.perf_counter() - t:.1f} s")
            args.compare = root / "local"
        cfg_file = root / "build.yaml"
        cfg_file.write_text(
            yaml.safe_dump(
                demo_config(scene, root / "dataset", size=args.size, seed=0), sort_keys=False
            )
        )
        config = load_config(cfg_file)
        with LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        ) as cluster:
            config.compute.scheduler = cluster.scheduler_address
            wall = time.perf_counter()
            result = run_build(config)
            wall = time.perf_counter() - wall
            from distributed import Client

            with Client(cluster.scheduler_address) as client:
                peaks = client.run(_peak_rss_mib)
        stages = ", ".join(f"{r.name} {r.seconds:.1f} s" for r in result.stages)
        print(
            f"cluster build: {args.workers} workers x {args.threads} thread(s), limit {args.memory_limit}: "
            f"wall {wall:.1f} s; main process peak RSS {_peak_rss_mib():.0f} MiB"
        )
        print("  worker peak RSS (MiB): " + ", ".join(f"{v:.0f}" for v in peaks.values()))
        print(f"  stages: {stages}")
        if args.compare is not None:
            a = xr.open_zarr(args.compare / "dataset.zarr")
            b = xr.open_zarr(result.directory / "dataset.zarr")
            differ = [
                str(n)
                for n in a.variables
                if n not in b.variables
                or not np.array_equal(a[n].values, b[n].values, equal_nan=a[n].dtype.kind == "f")
            ]
            print(
                f"  identical to the local build: {len(a.variables) - len(differ)} of {len(a.variables)} arrays"
                + (f"; differ: {', '.join(differ)}" if differ else "")
            )


if __name__ == "__main__":
    main()
