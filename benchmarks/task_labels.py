"""Benchmark of the build's ``tasks`` stage: detection and change labels of a simulated scene.

Simulates a scene with ships, oil slicks and land changes (``sarbd simulate --targets
--changes`` settings), builds it once with its own ``build.yaml`` (``cache: keep``), then
runs the ``tasks`` stage again alone in a fresh process (its cache entry removed, every
other stage cached) and prints that process's wall time, CPU time and peak resident memory
(``resource.getrusage``), with the chip and object counts.

Usage::

    nice -n 10 python benchmarks/task_labels.py --size tiny --workdir /tmp/bench-tasks
    nice -n 10 python benchmarks/task_labels.py --size small --workdir /tmp/bench-tasks-small
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"sea_fraction": 0.5, "ships_per_date": 12, "slicks_per_date": 3}
CHANGES = {"new_buildings": 20, "cleared": 6, "floods": 2}
ZERO_BASELINE = {
    "max_baseline_m": 0.0,
    "radial_offset_m": 0.0,
    "timing_error_std_s": 0.0,
    "grid_shift_max": 0.0,
}


def _prepare(workdir: Path, size: str, dates: int) -> Path:
    import yaml

    from sarbd.pipeline.build import build
    from sarbd.pipeline.demo import write_scene_config
    from sarbd.simulate import simulate_scene

    scene_dir = workdir / "scene"
    if not (scene_dir / "build.yaml").is_file():
        scene = simulate_scene(
            scene_dir,
            size=size,
            dates=dates,
            seed=0,
            targets={"enabled": True, **TARGETS},
            changes={"enabled": True, **CHANGES},
            **ZERO_BASELINE,
        )
        cfg_file = write_scene_config(scene, size=size, seed=0)
        cfg = yaml.safe_load(cfg_file.read_text())
        cfg["outputs"]["cache"] = "keep"
        cfg_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    cfg_file = scene_dir / "build.yaml"
    build(cfg_file)
    return cfg_file


def _tasks_only(cfg_file: Path) -> None:
    from sarbd.pipeline.build import build
    from sarbd.pipeline.config import load_config

    out = Path(load_config(cfg_file).outputs.directory)
    for folder in (out / ".sarbd-cache").glob("tasks-*"):
        shutil.rmtree(folder)
    t0, c0 = time.perf_counter(), time.process_time()
    result = build(cfg_file)
    rec = next(r for r in result.stages if r.name == "tasks")
    print(
        json.dumps(
            {
                "recomputed": result.recomputed,
                "tasks_stage_s": round(rec.seconds, 2),
                "build_wall_s": round(time.perf_counter() - t0, 2),
                "build_cpu_s": round(time.process_time() - c0, 2),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "info": rec.info,
            },
            indent=1,
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--dates", type=int, default=3)
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--tasks-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.tasks_only is not None:
        _tasks_only(args.tasks_only)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    cfg_file = _prepare(args.workdir, args.size, args.dates)
    # the measured stage in a fresh process: its peak memory is the stage's, not the simulation's
    subprocess.run(
        [sys.executable, __file__, "--workdir", str(args.workdir), "--tasks-only", str(cfg_file)],
        check=True,
    )


if __name__ == "__main__":
    main()
