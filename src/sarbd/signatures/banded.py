"""Fused dual-pol signatures written band by band straight into a Zarr store.

:func:`sarbd.signatures.compute_to_zarr` writes the signatures of
:data:`sarbd.signatures.fused.FUSED` of each SLC pair with :func:`write_fused_bands`
instead of a Dask graph. Per band of output lines:

* the pair's SLCs, calibration and noise come from a :class:`_LineStream` per
  variable, which decodes each of the stack's stored line chunks once (the band's
  halo lines come from the rows already decoded; reading each band with its halo
  from the store decoded every chunk row up to three times, 40 % of the run time);
* :func:`sarbd.signatures.fused.dualpol_into` computes every row of all dates in
  one call, reading the streams' buffers in place (no padded copies), its tasks
  (date, block of lines) spread over the Numba threads; lines and pixels outside the
  image are missing samples, as the Dask overlap's NaN padding makes them;
* each row is written into its line-aligned region of the store's arrays, which
  :func:`sarbd.signatures.compute_to_zarr` created from the template (same chunks,
  codecs, fill value and attributes as the Dask path writes).

The values are those of the Dask path, bit for bit: the same kernel on the same
samples, its window sums formed in an order that does not depend on the blocking
(bands, column tiles, Numba tasks or a cluster's Dask chunks).

References
----------
Lee, J.-S. & Pottier, E. (2009), Polarimetric Radar Imaging, CRC Press, ch. 4;
Cloude, S. R. (2007), Proc. PolInSAR 2007, ESA SP-644 (see :mod:`sarbd.signatures.fused`).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import dask
import dask.array as da
import numba
import numpy as np

from sarbd.signatures.fused import dualpol_into, fused_input_names
from sarbd.signatures.zarr_chunks import direct_readable, read_lines, stored_array, write_lines
from sarbd.utils.allocator import trim_heap

__all__ = ["direct_scheduler", "fused_tile_pixels", "tile_width", "write_fused_bands"]

log = logging.getLogger(__name__)


def direct_scheduler() -> bool:
    """Whether the local threaded (or synchronous) Dask scheduler is the one in use.

    The direct path runs in this process; with a distributed client the Dask path is kept.
    """
    import dask.local
    import dask.threaded
    from dask.base import get_scheduler

    return get_scheduler() in (None, dask.threaded.get, dask.local.get_sync)


class _LineStream:
    """Lines of a ``(time, line, pixel)`` array read in increasing order, each stored chunk decoded once.

    ``take(lo, hi)`` returns lines ``[lo, hi)`` (``lo`` never decreasing);
    ``take_buffer`` the C-contiguous buffer holding them and the index of line ``lo`` in
    it (what the fused kernel reads in place). The stored line chunks (the Dask chunks
    of the opened store) covering them are read whole into one buffer, which holds
    them until a request reaches past its end: then the lines still needed move to the
    start of the buffer (one allocation, grown when a chunk row needs more) and the next
    chunk row is read after them.
    """

    def __init__(
        self,
        data: Any,
        dtype: Any,
        workers: int,
        pixels: tuple[int, int] | None = None,
        pool: Executor | None = None,
    ) -> None:
        n = data.shape[1]
        chunks = data.chunks[1] if isinstance(data, da.Array) else (n,)
        self.edges = np.cumsum((0, *chunks))
        self.pixels = (0, int(data.shape[2])) if pixels is None else pixels
        # a store's array read unchanged: its chunk files decoded straight into the buffer
        stored = stored_array(data) if isinstance(data, da.Array) else None
        direct = (
            stored is not None
            and np.dtype(stored.dtype) == np.dtype(dtype)
            and direct_readable(stored)
        )
        self.stored = stored if direct else None
        self.data = data if pixels is None or direct else data[:, :, pixels[0] : pixels[1]]
        self.dtype = dtype
        self.workers = workers
        self.pool = pool
        npx = self.pixels[1] - self.pixels[0]
        self.base = np.empty((data.shape[0], 0, npx), dtype)
        self.flat = np.empty(0, dtype)  # the memory behind base
        self.b0 = 0  # first line held in base
        self.lo = 0  # lowest line a request may still ask for

    def take_buffer(self, lo: int, hi: int) -> tuple[np.ndarray, int]:
        """``(buffer, k)``: lines ``[lo, hi)`` are ``buffer[:, k : k + hi - lo]``."""
        if lo < self.lo:
            raise ValueError(f"lines {lo}-{hi} requested after line {self.lo} was dropped")
        self.lo = lo
        b1 = self.b0 + self.base.shape[1]  # always a chunk edge
        if hi > b1:
            r0 = int(self.edges[np.searchsorted(self.edges, max(b1, lo), side="right") - 1])
            r1 = int(self.edges[np.searchsorted(self.edges, hi, side="left")])
            first = lo if lo < b1 else r0  # lo < b1: then r0 == b1
            nt, npx = self.base.shape[0], self.base.shape[2]
            kept = self.base[:, lo - self.b0 :].copy() if lo < b1 else None  # a few halo lines
            self.base = None  # type: ignore[assignment]
            size = nt * (r1 - first) * npx
            if self.flat.size < size:
                self.flat = np.empty(0, self.dtype)  # the old memory is freed before the new
                self.flat = np.empty(size, self.dtype)
            # one allocation reused for every chunk row (fresh pages cost a fault and zeroing
            # each); a C-contiguous view of the lines' shape
            buf = self.flat[:size].reshape((nt, r1 - first, npx))
            if kept is not None:
                buf[:, : kept.shape[1]] = kept
                kept = None
            if self.stored is not None:  # the chunk files decoded into the buffer
                p0, p1 = self.pixels
                read_lines(self.stored, r0, r1, p0, p1, buf[:, r0 - first :], self.pool)
            elif isinstance(
                self.data, da.Array
            ):  # the stored chunks straight into the buffer (no concatenation)
                da.store(
                    self.data[:, r0:r1, :].astype(self.dtype),
                    buf[:, r0 - first :],
                    lock=False,
                    scheduler="threads",
                    num_workers=self.workers,
                )
            else:
                buf[:, r0 - first :] = self.data[:, r0:r1, :]
            self.base, self.b0 = buf, first
        return self.base, lo - self.b0

    def take(self, lo: int, hi: int) -> np.ndarray:
        base, k = self.take_buffer(lo, hi)
        return base[:, k : k + hi - lo]


def tile_width(
    n_pixels: int, chunk_pixels: int, bytes_per_pixel: float, budget: float = 2**30
) -> int:
    """Pixels per column tile: whole chunks, as many as ``budget`` bytes allow (at least one).

    ``bytes_per_pixel``: what one pixel column of a band costs (inputs, halo and outputs of
    every date). A tile spanning the whole width needs no pixel halo; narrower tiles also
    decode the neighbouring chunk columns for their halo.
    """
    per_chunk = max(bytes_per_pixel * chunk_pixels, 1.0)
    tile = max(1, int(budget // per_chunk)) * chunk_pixels
    return n_pixels if tile >= n_pixels else tile


def _wait(futures: list[Future[None]]) -> None:
    """Wait for every write; the first failure is raised (after all have finished)."""
    errors = [f.exception() for f in futures]
    futures.clear()
    for exc in errors:
        if exc is not None:
            raise exc


def _compute_band(
    streams: list[_LineStream],
    has1: bool,
    has2: bool,
    rows: list[str],
    out: np.ndarray,
    w: tuple[int, int],
    halo: tuple[int, int],
    b0: int,
    b1: int,
    n_lines: int,
    tile: tuple[int, int, int],
    neg: str,
    floor: float,
    zero: bool,
) -> None:
    """The fused rows of lines ``[b0, b1)`` of one pair into ``out`` (rows, time, lines, pixels).

    ``tile``: ``(p0, p1, plo)``, the tile's pixels and the first pixel its streams hold.
    """
    p0, p1, plo = tile
    # split where the window would reach into the next stored chunk row, so that a
    # stream holds one chunk row (plus the halo) at a time, not 1.5
    edges = sorted({int(e) - halo[0] for st in streams for e in st.edges})
    cuts = [b0, *[e for e in edges if b0 < e < b1], b1]
    for a, c in itertools.pairwise(cuts):
        lo, hi = max(0, a - halo[0]), min(n_lines, c + halo[0])
        bufs = [st.take_buffer(lo, hi) for st in streams]
        inp: list[np.ndarray | None] = [bufs[i][0] for i in range(4)]
        offsets = [bufs[i][1] for i in range(4)]
        rest = bufs[4:]
        for has in (has1, has2):  # the noise of each channel, or none
            if has:
                noise, k = rest.pop(0)
                inp.append(noise)
                offsets.append(k)
            else:
                inp.append(None)
                offsets.append(0)
        with np.errstate(all="ignore"):
            dualpol_into(
                inp,
                out,
                w,
                rows,
                lines=(a - lo, c - lo),
                pixels=(p0 - plo, p1 - plo),
                offsets=offsets,
                n_lines=hi - lo,
                out_line=a - b0,
                negative=neg,
                floor=floor,
                zero_is_nodata=zero,
            )


def _output_arrays(
    groups: dict[tuple[str, str], list[tuple[str, str]]], store: Any
) -> dict[str, Any]:
    """The store's Zarr array of every fused variable, opened for writing (empty chunks too)."""
    import zarr

    group = zarr.open_group(store, mode="r+")
    arrays: dict[str, Any] = {}
    for items in groups.values():
        for var, _ in items:
            arr = group[var]
            if not isinstance(arr, zarr.Array):
                raise ValueError(f"{store}: {var} is not a Zarr array")
            arrays[var] = arr.with_config({"write_empty_chunks": True})  # as the Dask path writes
    return arrays


def _pair_plan(
    inputs: Any, groups: dict[tuple[str, str], list[tuple[str, str]]]
) -> list[tuple[list[str], bool, bool, list[str], list[str]]]:
    """Per pair: (input variable names, noise of channel 1, of channel 2, rows, output variables)."""
    pairs = []
    for pair, items in groups.items():
        names, has1, has2 = fused_input_names(inputs, pair)
        pairs.append((names, has1, has2, [r for _, r in items], [v for v, _ in items]))
    return pairs


def _stack_shape(inputs: Any, pairs: list[Any]) -> tuple[int, int, int]:
    """(dates, lines, pixels) of the stack's SLCs."""
    first = inputs.ds[pairs[0][0][0]].data
    return int(first.shape[0]), int(first.shape[1]), int(first.shape[2])


def fused_tile_pixels(
    inputs: Any,
    groups: dict[tuple[str, str], list[tuple[str, str]]],
    store: Any,
    band: int,
    budget: float = 2**30,
    chunk_pixels: int | None = None,
) -> int:
    """Pixels per column tile of :func:`write_fused_bands` for ``budget`` bytes (whole chunks).

    ``chunk_pixels``: the output arrays' pixel chunk (default: read from ``store``).

    Per pixel column a tile holds every pair's input lines (a stored chunk row and the
    window's halo: two SLCs, complex64, and the float32 calibration and noise) and two
    output bands (one computed while the other is written), float32.
    """
    pairs = _pair_plan(inputs, groups)
    if not pairs:
        return 1
    nt, _, npx = _stack_shape(inputs, pairs)
    halo = inputs.window[0] // 2
    line_chunk = max(
        (
            int(max(d.chunks[1])) if isinstance(d, da.Array) else int(d.shape[1])
            for pr in pairs
            for d in (inputs.ds[nm].data for nm in pr[0])
        ),
        default=band,
    )
    per_pixel = sum(
        nt * (line_chunk + 2 * halo) * (8 * 2 + 4 * (len(pr[0]) - 2)) for pr in pairs
    ) + 2 * max(4 * len(pr[3]) * nt * band for pr in pairs)
    cp = chunk_pixels or next(iter(_output_arrays(groups, store).values())).chunks[2]
    return tile_width(npx, cp, per_pixel, budget)


def write_fused_bands(
    inputs: Any,
    groups: dict[tuple[str, str], list[tuple[str, str]]],
    store: Any,
    n_lines: int,
    band: int,
    *,
    workers: int | None = None,
    tile_pixels: int | None = None,
    budget: float = 2**30,
    pixels: tuple[int, int] | None = None,
    store_ready: Future[Any] | None = None,
    chunk_pixels: int | None = None,
) -> None:
    """Compute the fused rows of each pair tile by tile and write them into ``store``.

    The image is cut into column tiles of whole chunks (all pixels when they fit in
    ``budget``); each tile is streamed down its lines band by band, with the window's
    halo of pixels from its neighbours, so memory is bounded by the tile, not the width.

    Parameters
    ----------
    inputs
        The stack's :class:`sarbd.signatures.inputs.StackInputs`.
    groups
        :func:`sarbd.signatures.fused.fused_rows`: ``{pair: [(variable, row), ...]}``.
    store
        Path of a Zarr store whose arrays (one per variable, ``(time, line, pixel)``)
        exist already; ``band`` must be a multiple of their line chunk.
    n_lines, band
        Lines of the stack; output lines per band.
    workers
        Threads for reading, the kernel (over dates) and compression (default: Dask's
        ``num_workers``, else the CPU count).
    tile_pixels
        Pixels per column tile, a multiple of the arrays' pixel chunk (default: from
        ``budget`` with :func:`tile_width`).
    budget
        Bytes a tile's input buffers and output band may take (default 1 GiB).
    pixels
        ``(p0, p1)``: write only these pixels (``p0`` a multiple of the pixel chunk;
        default all), as one worker of a cluster does
        (:func:`sarbd.signatures.cluster.write_fused_tiles`).
    store_ready, chunk_pixels
        A future that completes when the store's arrays exist (another thread writes
        them meanwhile: the first band is read and computed before its result is
        needed; its error is raised here), and the arrays' pixel chunk. Default: the
        arrays exist already.
    """

    n = workers or int(dask.config.get("num_workers", None) or os.cpu_count() or 1)
    # the output arrays, opened when the store holds them (at the first write)
    if store_ready is not None and not chunk_pixels:
        raise ValueError("store_ready needs chunk_pixels: the arrays do not exist yet")
    arrays: dict[str, Any] | None = (
        None if store_ready is not None else _output_arrays(groups, store)
    )
    w = inputs.window
    halo = (w[0] // 2, w[1] // 2)
    neg, floor, zero = inputs.negative, inputs.floor, inputs.zero_is_nodata
    pairs = _pair_plan(inputs, groups)
    if not pairs:
        return
    nt, npx = _stack_shape(inputs, pairs)[::2]
    cp = chunk_pixels or next(iter((arrays or _output_arrays(groups, store)).values())).chunks[2]
    if tile_pixels is None:
        tile_pixels = fused_tile_pixels(inputs, groups, store, band, budget, chunk_pixels=cp)
    if tile_pixels < npx and tile_pixels % cp:
        raise ValueError(f"tile_pixels={tile_pixels} is not a multiple of the pixel chunk {cp}")
    first_pixel, last_pixel = (0, npx) if pixels is None else pixels
    if first_pixel % cp or not 0 <= first_pixel < last_pixel <= npx:
        raise ValueError(f"pixels={pixels} do not start on a pixel chunk ({cp}) inside 0-{npx}")
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, int(numba.config.NUMBA_NUM_THREADS))))  # type: ignore[attr-defined]
    try:
        # two output buffers, used in turn: the chunks of one band are encoded and written
        # (on `writer`) while the next band is read and computed into the other buffer
        flats: list[np.ndarray | None] = [None, None]
        pending: list[list[Future[None]]] = [[], []]
        step = 0
        with ThreadPoolExecutor(n) as writer, ThreadPoolExecutor(n) as reader:
            try:
                for p0 in range(first_pixel, last_pixel, tile_pixels):
                    p1 = min(p0 + tile_pixels, last_pixel)
                    # the tile's inputs with the window's halo of pixels on both sides
                    plo, phi = max(0, p0 - halo[1]), min(npx, p1 + halo[1])
                    plan = [
                        (
                            [
                                _LineStream(
                                    inputs.ds[nm].data,
                                    np.complex64 if i < 2 else np.float32,
                                    n,
                                    pixels=(plo, phi),
                                    pool=reader,
                                )
                                for i, nm in enumerate(names)
                            ],
                            has1,
                            has2,
                            rows,
                            variables,
                        )
                        for names, has1, has2, rows, variables in pairs
                    ]
                    for b0 in range(0, n_lines, band):
                        b1 = min(b0 + band, n_lines)
                        for streams, has1, has2, rows, variables in plan:
                            slot = step % 2
                            step += 1
                            _wait(pending[slot])  # the buffer's previous band is written
                            shape = (len(rows), nt, b1 - b0, p1 - p0)
                            flat = flats[slot]
                            if flat is None or flat.size < math.prod(shape):
                                flats[slot] = flat = None  # freed before the larger one
                                flats[slot] = flat = np.empty(math.prod(shape), np.float32)
                            # buffers reused for every band and pair: their pages fault in once
                            out = flat[: math.prod(shape)].reshape(shape)
                            _compute_band(
                                streams, has1, has2, rows, out, w, halo, b0, b1, n_lines,
                                (p0, p1, plo), neg, floor, zero,
                            )  # fmt: skip
                            if arrays is None:
                                assert store_ready is not None
                                store_ready.result()  # raises the template writer's error
                                arrays = _output_arrays(groups, store)
                            pending[slot] = [
                                writer.submit(
                                    write_lines, arrays[var], store, var, b0, b1, out[r], p0
                                )
                                for r, var in enumerate(variables)
                            ]
                            del out
                        log.info(
                            "signatures (fused): lines %d-%d, pixels %d-%d of %d x %d computed",
                            b0,
                            b1,
                            p0,
                            p1,
                            n_lines,
                            npx,
                        )
                        trim_heap()
                    del plan
                    trim_heap()
                for futures in pending:
                    _wait(futures)
            except BaseException:
                for futures in pending:  # no write left running into the store
                    for f in futures:
                        f.cancel()
                    for f in futures:
                        if not f.cancelled():
                            f.exception()
                raise
    finally:
        numba.set_num_threads(before)
