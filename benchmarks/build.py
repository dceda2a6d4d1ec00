"""Benchmark `sarbd build` on a simulated scene: wall time per stage, CPU time, peak memory,
output sizes, and label purity against the simulator's truths.

Usage: python benchmarks/build.py [--size tiny|small] [--scene DIR] [--keep DIR]
Target (issue 8): the whole build of the `small` scene (1000 x 2500 px, 7 dates, VV+VH)
under 5 minutes on 2 cores; L3 >= 99 % precise keeping >= 60 % of L2.
`--scene` reuses a scene written by `sarbd simulate` (same size), so only the build is timed.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path


def _size_of(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["tiny", "small"])
    parser.add_argument("--scene", type=Path, default=None, help="existing simulated scene folder")
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep (default: a temp folder)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import yaml

    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.demo import demo_config, label_purity
    from sarbd.pipeline.run import run_build
    from sarbd.simulate import simulate_scene
    from sarbd.simulate.api import SimulatedScene

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if args.scene is None:
            t = time.perf_counter()
            scene = simulate_scene(root / "scene", size=args.size, dates=7, seed=0)
            print(f"simulate {args.size}: {time.perf_counter() - t:.1f} s (not part of the build)")
        else:
            s = args.scene
            scene = SimulatedScene(s, tuple(sorted(s.glob("*.SAFE"))), s / "dem.tif", s / "reference.gpkg",
                                   s / "truth.gpkg", s / "truth", None)  # type: ignore[arg-type]
        cfg_file = root / "build.yaml"
        cfg_file.write_text(yaml.safe_dump(demo_config(scene, root / "dataset", size=args.size, seed=0),
                                           sort_keys=False))
        config = load_config(cfg_file)
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_build(config)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stages = ", ".join(f"{r.name} {r.seconds:.1f} s" for r in result.stages)
        print(f"build {args.size}: wall {wall:.1f} s, CPU {cpu:.1f} s (main process), peak RSS {peak:.0f} MiB")
        print(f"  stages: {stages}")
        out = result.directory
        sizes = {name: _size_of(out / name) / 2**20 for name in ("dataset.nc", "dataset.zarr", "cog", "tables", "chips",
                                                                  ".sarbd-cache") if (out / name).exists()}
        print("  outputs (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in sizes.items())
              + f"; dataset folder on disk, hard links counted once: {_disk_usage(out) / 2**20:.0f}")
        classes = [{"id": i + 1, "name": n} for i, n in enumerate(config.inputs.classes)]
        for key, table in label_purity(out, scene.truth_dir, classes).items():
            row = table.loc["all"]
            print(f"  label precision vs {key} truth: L2 {row['label_l2_precision']:.3f}, "
                  f"L3 {row['label_l3_precision']:.3f} keeping {row['label_l3_kept']:.3f} of L2")


if __name__ == "__main__":
    main()
