"""Benchmark the scene simulator: wall time, CPU time and peak memory per size.

Usage: python benchmarks/simulate.py [--size tiny|small|burst|burst_quarter|aoi3] [--dates N]
       [--mode stripmap|tops] [--block-lines 128] [--out DIR]
Target (issue 4): tiny < 15 s, small (1000 x 2500 px, 7 dates) < 3 min on 2 cores; the
simulator streams by blocks of lines, so its peak RSS should not grow with the scene
(issue 14 item 3: a full burst under 2-3 GiB).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", default="tiny", choices=["tiny", "small", "burst", "burst_quarter", "aoi3"]
    )
    parser.add_argument("--dates", type=int, default=7)
    parser.add_argument("--mode", default="stripmap", choices=["stripmap", "tops"])
    parser.add_argument("--hilly", action="store_true")
    parser.add_argument("--block-lines", type=int, default=128)
    parser.add_argument("--out", default=None, help="keep the scene here (default: a temp folder)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from sarbd.simulate import simulate_scene

    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = time.perf_counter(), time.process_time()
        scene = simulate_scene(
            args.out or tmp,
            size=args.size,
            dates=args.dates,
            seed=0,
            mode=args.mode,
            hilly=args.hilly,
            block_lines=args.block_lines,
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"simulate size={args.size} dates={args.dates} mode={args.mode}: wall {wall:.1f} s, "
        f"CPU {cpu:.1f} s, peak RSS {peak:.0f} MiB, {len(scene.safe)} SAFE products"
    )


if __name__ == "__main__":
    main()
