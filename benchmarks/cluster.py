"""Benchmark `sarbd build` on a `distributed.LocalCluster`: wall time, peak memory of each worker,
and whether the arrays equal those of a local-scheduler build of the same scene.

Usage: python benchmarks/cluster.py --scene DIR [--workers 2] [--threads 1] [--memory-limit 3GiB]
                                    [--compare DATASET] [--keep DIR]
`--scene` is a scene written by `sarbd simulate` / `benchmarks/build.py --keep` (its size is
read from the folder); `--compare` a dataset folder built from it with the local scheduler
(e.g. `benchmarks/build.py --keep DIR` writes DIR/dataset). Issue 14: the cluster run must
give identical arrays; the figures size the workers (docs/outputs.md, "Dask clusters").
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
    parser.add_argument("--scene", type=Path, required=True, help="simulated scene folder")
    parser.add_argument("--size", default="small", choices=["tiny", "small"], help="the scene's size (chips, blocks)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--memory-limit", default="3GiB", help="per worker")
    parser.add_argument("--compare", type=Path, default=None, help="dataset folder of a local-scheduler build")
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep (default: a temp folder)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import numpy as np
    import xarray as xr
    import yaml
    from distributed import LocalCluster

    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.demo import demo_config
    from sarbd.pipeline.run import run_build
    from sarbd.simulate.api import SimulatedScene

    s = args.scene
    scene = SimulatedScene(s, tuple(sorted(s.glob("*.SAFE"))), s / "dem.tif", s / "reference.gpkg",
                           s / "truth.gpkg", s / "truth", None)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        cfg_file = root / "build.yaml"
        cfg_file.write_text(yaml.safe_dump(demo_config(scene, root / "dataset", size=args.size, seed=0),
                                           sort_keys=False))
        config = load_config(cfg_file)
        with LocalCluster(n_workers=args.workers, threads_per_worker=args.threads, processes=True,
                          memory_limit=args.memory_limit, dashboard_address=None) as cluster:
            config.compute.scheduler = cluster.scheduler_address
            wall = time.perf_counter()
            result = run_build(config)
            wall = time.perf_counter() - wall
            from distributed import Client

            with Client(cluster.scheduler_address) as client:
                peaks = client.run(_peak_rss_mib)
        stages = ", ".join(f"{r.name} {r.seconds:.1f} s" for r in result.stages)
        print(f"cluster build: {args.workers} workers x {args.threads} thread(s), limit {args.memory_limit}: "
              f"wall {wall:.1f} s; main process peak RSS {_peak_rss_mib():.0f} MiB")
        print("  worker peak RSS (MiB): " + ", ".join(f"{v:.0f}" for v in peaks.values()))
        print(f"  stages: {stages}")
        if args.compare is not None:
            a = xr.open_zarr(args.compare / "dataset.zarr")
            b = xr.open_zarr(result.directory / "dataset.zarr")
            differ = [str(n) for n in a.variables
                      if n not in b.variables or not np.array_equal(a[n].values, b[n].values, equal_nan=a[n].dtype.kind == "f")]
            print(f"  identical to the local build: {len(a.variables) - len(differ)} of {len(a.variables)} arrays"
                  + (f"; differ: {', '.join(differ)}" if differ else ""))


if __name__ == "__main__":
    main()
