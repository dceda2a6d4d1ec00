"""Fused dual-pol signatures written into a Zarr store by the workers of a Dask cluster.

With a ``distributed`` client, :func:`sarbd.signatures.compute_to_zarr` hands the fused
signatures (:data:`sarbd.signatures.fused.FUSED`) to :func:`write_fused_tiles`: the
image is cut into the column tiles that :func:`sarbd.signatures.banded.write_fused_bands`
streams on one machine, and each tile is one task, in which a worker runs that same
band writer on its pixels (all lines, every pair), reading the stack's chunk files and
writing the tile's chunks of the output store itself. So:

* a worker holds one tile (its stream buffers and two output bands), sized from the
  smallest worker memory limit, instead of the Dask graph's per-chunk overlaps,
  intermediates and outputs (the other signatures still go through that graph, whose
  workers keep live native memory: docs/scaling.md);
* the values are the local run's bit for bit (same kernel, same samples; the window
  sums do not depend on the blocking);
* tiles cover whole chunk columns, so no two tasks write the same chunk, and a task
  that is run again (a lost worker) rewrites the same bytes.

As for every Dask cluster build, the stack and the output store must be on storage
that the workers see under the same path.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["cluster_client", "write_fused_tiles"]

log = logging.getLogger(__name__)

#: One fused tile at a time per worker process: the tile uses all of the worker's threads.
_TILE_LOCK = threading.Lock()

#: Share of the smallest worker memory limit a tile's buffers may take: the rest is the
#: worker's own memory, the chunk codecs' buffers and headroom below Dask's pause
#: threshold (80 %).
WORKER_MEMORY_SHARE = 0.35


def cluster_client() -> Any:
    """The ``distributed.Client`` that ``dask.compute`` uses now, else None."""
    try:
        from distributed import default_client
    except ImportError:  # distributed not installed: no cluster
        return None
    from dask.base import get_scheduler

    try:
        client = default_client()
    except ValueError:  # no client
        return None
    return client if get_scheduler() == client.get else None


def _worker_threads_and_memory(client: Any) -> tuple[int, float | None]:
    """(threads of the smallest worker, smallest memory limit in bytes or None)."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    threads = min((int(w.get("nthreads", 1)) for w in workers), default=1)
    limits = [float(w["memory_limit"]) for w in workers if w.get("memory_limit")]
    return threads, (min(limits) if limits else None)


def _write_tile(
    payload: bytes,
    groups: dict[tuple[str, str], list[tuple[str, str]]],
    store: str,
    n_lines: int,
    band: int,
    pixels: tuple[int, int],
    tile_pixels: int,
) -> tuple[int, int]:
    """On a worker: every fused row of lines ``0-n_lines`` and ``pixels`` into ``store``."""
    from distributed import get_worker

    from sarbd.signatures.banded import write_fused_bands
    from sarbd.signatures.compute import _stack_inputs

    worker = get_worker()
    threads = int(getattr(getattr(worker, "state", worker), "nthreads", 1) or 1)
    stack, kwargs = pickle.loads(payload)
    with _TILE_LOCK:
        inputs = _stack_inputs(stack, **kwargs)
        write_fused_bands(
            inputs,
            groups,
            store,
            n_lines,
            band,
            workers=threads,
            tile_pixels=tile_pixels,
            pixels=pixels,
        )
    return pixels


def write_fused_tiles(
    client: Any,
    stack: Any,
    kwargs: dict[str, Any],
    groups: dict[tuple[str, str], list[tuple[str, str]]],
    store: str,
    n_lines: int,
    band: int,
    *,
    budget: float = 2**30,
) -> None:
    """Write the fused signatures ``groups`` into ``store``, one column tile per cluster task.

    Parameters
    ----------
    client
        The ``distributed.Client``.
    stack, kwargs
        The stack (lazy, read from its store) and the keyword arguments of
        :func:`sarbd.signatures.compute` (``chunks`` included) the workers rebuild the
        signatures' inputs from.
    groups
        :func:`sarbd.signatures.fused.fused_rows` of those inputs.
    store
        Path of the Zarr store holding the output arrays already (the template).
    n_lines, band
        Lines of the stack; lines per band (a multiple of the arrays' line chunk).
    budget
        Bytes a tile may hold (default 1 GiB); at most :data:`WORKER_MEMORY_SHARE` of the
        smallest worker memory limit.
    """
    from sarbd.signatures.banded import fused_tile_pixels
    from sarbd.signatures.compute import _stack_inputs

    inputs = _stack_inputs(stack, **kwargs)
    _, memory = _worker_threads_and_memory(client)
    if memory is not None:
        budget = min(budget, WORKER_MEMORY_SHARE * memory)
    tile = fused_tile_pixels(inputs, groups, store, band, budget)
    n_pixels = int(stack.sizes["pixel"])
    tiles: Sequence[tuple[int, int]] = [
        (p0, min(p0 + tile, n_pixels)) for p0 in range(0, n_pixels, tile)
    ]
    # the lazy stack travels pickled: handed to submit as such, Dask would compute it
    payload = pickle.dumps((stack, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    [data] = client.scatter([payload], broadcast=True, hash=False)
    futures = [
        client.submit(
            _write_tile, data, groups, str(store), n_lines, band, t, tile, pure=False, retries=1
        )
        for t in tiles
    ]
    log.info(
        "signatures (fused): %d column tiles of %d pixels sent to the cluster", len(tiles), tile
    )
    from distributed import as_completed, wait

    try:
        for future in as_completed(futures):
            p0, p1 = future.result()  # a task's error is raised here
            log.info("signatures (fused): pixels %d-%d of %d written", p0, p1, n_pixels)
    except BaseException:
        # a running task cannot be stopped: let every one finish before the caller
        # removes the store, so that none writes into it afterwards
        wait(futures)
        raise
    finally:
        client.cancel([*futures, data])
