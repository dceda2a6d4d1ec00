"""Peak memory and time of importing another processor's stack (sarbd.stacks) and writing it.

A simulated Doris stack (3 dates, VV, complex float32; ``tests/stacks/writers.py``) of
LINES x PIXELS is imported and written as stack.zarr with 512 x 512 chunks. Run:

    OMP_NUM_THREADS=1 python benchmarks/import_stack.py 4096 2048 /tmp/bench_stack

twice (the first run writes the Doris stack), reading the peak RSS of the second with
``/usr/bin/time -v``; the data are 3 x LINES x PIXELS x 8 bytes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dask

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.stacks.conftest import _simulate
from tests.stacks.writers import write_doris


def main() -> None:
    lines, pixels, folder = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    from sarbd.coregistration import write_stack
    from sarbd.stacks import import_stack

    if not (folder / "doris").exists():  # first run: write the stack, then run again to measure
        write_doris(_simulate(("VV",), 1.0, shape=(lines, pixels), phases=False), folder / "doris")
        print("wrote the Doris stack; run again to measure the import")
        return
    dask.config.set(scheduler="threads", num_workers=2)
    t0 = time.process_time()
    w0 = time.perf_counter()
    ds = import_stack(folder / "doris", chunks=(512, 512))
    write_stack(ds, folder / "stack.zarr")
    print(
        f"data {3 * lines * pixels * 8 / 2**20:.0f} MiB; cpu {time.process_time() - t0:.1f} s; "
        f"wall {time.perf_counter() - w0:.1f} s"
    )


if __name__ == "__main__":
    main()
