"""Zarr format-2 chunks of a local store read and written directly (no Dask graph, no Zarr call per chunk).

:func:`sarbd.signatures.banded.write_fused_bands` streams a stack down its lines and
writes whole rows of output chunks. Through Dask and Zarr every stored chunk costs a
graph, a task, an event-loop round trip and fresh buffers for the decoded bytes and the
result; the signatures' arithmetic is a small part of the run beside that. Here, for
the simple and common case (Zarr format 2 in a local directory, C order, native byte
order, no filters for reading), each chunk file is read and decoded by its codec
straight into the caller's buffer where the chunk's region of it is contiguous;
anything else goes through Zarr. The bytes are those Zarr reads and writes (tested
chunk file by chunk file).

* :func:`stored_array`: the Zarr array a Dask array of :func:`xarray.open_zarr` reads
  unchanged (no CF decoding, no selection), or None;
* :func:`read_lines`: ``out[...] = arr[:, l0:l1, p0:p1]``;
* :func:`write_lines`: ``arr[:, l0:l1, p0:p1] = data`` on chunk edges.
"""

from __future__ import annotations

import os
import struct
from concurrent.futures import Executor
from typing import Any

import numpy as np

__all__ = ["read_lines", "stored_array", "write_lines"]


def stored_array(data: Any) -> Any | None:
    """The Zarr array that ``data`` reads unchanged, or None.

    ``data``: a Dask array as :func:`xarray.open_zarr` makes it (its chunk getters over
    xarray's lazy backend array). Only a chain of xarray's pass-through wrappers over its
    Zarr array counts: any CF decoding (masking a fill value, scale and offset, times),
    selection or later operation (a different Dask name) gives None, and the caller then
    reads through Dask.
    """
    from xarray.backends.zarr import ZarrArrayWrapper
    from xarray.core import indexing

    name = getattr(data, "name", None)
    graph = getattr(data, "dask", None)
    if not isinstance(name, str) or not name.startswith("open_dataset-") or graph is None:
        return None
    layer = getattr(graph, "layers", {}).get(f"original-{name}")
    if layer is None or len(layer) != 1:
        return None
    obj = next(iter(layer.values()))
    obj = getattr(obj, "value", obj)  # a task-spec DataNode in newer Dask
    passthrough = (
        indexing.ImplicitToExplicitIndexingAdapter,
        indexing.CopyOnWriteArray,
        indexing.MemoryCachedArray,
    )
    for _ in range(8):
        if isinstance(obj, ZarrArrayWrapper):
            arr = obj.get_array()
            ok = tuple(arr.shape) == tuple(data.shape) and np.dtype(arr.dtype) == data.dtype
            return arr if ok else None
        if isinstance(obj, indexing.LazilyIndexedArray):
            key = obj.key.tuple
            if not all(isinstance(k, slice) and k == slice(None) for k in key):
                return None
        elif not isinstance(obj, passthrough):
            return None
        obj = obj.array
    return None


def local_folder(arr: Any) -> str | None:
    """The directory holding the chunk files of a format-2 Zarr array in a local store, or None."""
    import zarr.storage

    meta = arr.metadata
    store = arr.store_path.store
    if getattr(meta, "zarr_format", None) != 2 or getattr(meta, "order", "C") != "C":
        return None
    if not isinstance(store, zarr.storage.LocalStore):
        return None
    folder = os.path.join(os.fspath(store.root), arr.store_path.path)
    return folder if os.path.isdir(folder) else None


def _key(meta: Any, index: tuple[int, ...]) -> str:
    sep = getattr(meta, "dimension_separator", ".") or "."
    return sep.join(str(k) for k in index)


def direct_readable(arr: Any) -> bool:
    """Whether :func:`read_lines` decodes ``arr``'s chunks itself (else it goes through Zarr)."""
    meta = arr.metadata
    dtype = np.dtype(arr.dtype)
    return (
        local_folder(arr) is not None
        and not meta.filters
        and dtype.isnative
        and dtype.kind in "fciub"
        and arr.ndim == 3
    )


def _blosc_sizes(raw: bytes) -> tuple[int, int]:
    """``(decoded bytes, compressed bytes)`` from a Blosc-1 header (16 bytes: version,
    version of the codec, flags, type size, then little-endian uint32 ``nbytes``,
    ``blocksize`` and ``cbytes``; c-blosc README_HEADER.rst)."""
    if len(raw) < 16:
        raise ValueError(f"{len(raw)} bytes: shorter than a Blosc header")
    nbytes, _, cbytes = struct.unpack_from("<III", raw, 4)
    return nbytes, cbytes


def read_lines(
    arr: Any, l0: int, l1: int, p0: int, p1: int, out: np.ndarray, pool: Executor | None = None
) -> None:
    """``out[...] = arr[:, l0:l1, p0:p1]`` for a ``(time, line, pixel)`` Zarr array.

    For :func:`direct_readable` arrays each stored chunk the region touches is read from
    its file once and decoded by the array's compressor into ``out`` where the chunk's
    part of ``out`` is the whole chunk and contiguous, else into a scratch chunk and
    copied (Blosc decodes into the buffer itself; other codecs return a new one, copied);
    a chunk without a file (never written) comes from Zarr (its fill value). Chunks are
    decoded on ``pool`` when given.

    Raises
    ------
    ValueError
        A chunk file that does not decode to a chunk of the array (naming the file).
    """
    if out.shape != (arr.shape[0], l1 - l0, p1 - p0):
        raise ValueError(
            f"read_lines: out of shape {out.shape} for lines {l0}-{l1}, pixels {p0}-{p1}"
        )
    if not direct_readable(arr) or out.dtype != np.dtype(arr.dtype):
        out[...] = arr[:, l0:l1, p0:p1]
        return
    folder = local_folder(arr)
    assert folder is not None
    meta = arr.metadata
    comp = meta.compressor
    ct, cl, cp = arr.chunks
    nt = arr.shape[0]
    dtype = np.dtype(arr.dtype)

    def one(it: int, il: int, ip: int) -> None:
        t0, a0, q0 = it * ct, il * cl, ip * cp
        # the chunk's part inside the request, in chunk and in out coordinates
        ts = slice(0, min(ct, nt - t0))
        ls = slice(max(l0, a0) - a0, min(l1, a0 + cl) - a0)
        ps = slice(max(p0, q0) - q0, min(p1, q0 + cp) - q0)
        dst = out[
            t0 + ts.start : t0 + ts.stop,
            a0 + ls.start - l0 : a0 + ls.stop - l0,
            q0 + ps.start - p0 : q0 + ps.stop - p0,
        ]
        path = os.path.join(folder, _key(meta, (it, il, ip)))
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            dst[...] = arr[
                t0 + ts.start : t0 + ts.stop,
                a0 + ls.start : a0 + ls.stop,
                q0 + ps.start : q0 + ps.stop,
            ]
            return
        whole = dst.shape == (ct, cl, cp) and dst.flags.c_contiguous
        target = dst if whole else np.empty((ct, cl, cp), dtype)
        try:
            if comp is None:
                decoded: Any = raw
            elif comp.codec_id == "blosc":
                # checked first: decoding a shorter buffer into `out` would leave the rest
                # of it as it was, and a truncated one would be read past its end
                size, stored = _blosc_sizes(raw)
                if stored != len(raw):
                    raise ValueError(f"its header gives {stored} bytes, the file has {len(raw)}")
                if size != target.nbytes:
                    raise ValueError(f"it holds {size} bytes, a chunk {target.nbytes}")
                comp.decode(raw, out=target)
                decoded = None
            else:
                decoded = comp.decode(raw)
            if decoded is not None:
                flat = np.frombuffer(memoryview(decoded).cast("B"), np.uint8)
                if flat.size != target.nbytes:
                    raise ValueError(f"it holds {flat.size} bytes, a chunk {target.nbytes}")
                target.reshape(-1).view(np.uint8)[:] = flat
        except Exception as exc:
            raise ValueError(f"{path}: not a chunk of this Zarr array ({exc})") from exc
        if not whole:
            dst[...] = target[ts, ls, ps]

    jobs = [
        (it, il, ip)
        for it in range(-(-nt // ct))
        for il in range(l0 // cl, -(-l1 // cl))
        for ip in range(p0 // cp, -(-p1 // cp))
    ]
    if pool is None or len(jobs) == 1:
        for job in jobs:
            one(*job)
        return
    for f in [pool.submit(one, *job) for job in jobs]:
        f.result()


def write_lines(
    arr: Any, store: Any, name: str, l0: int, l1: int, data: np.ndarray, p0: int = 0
) -> None:
    """``arr[:, l0:l1, p0:p0 + w] = data`` for a ``(time, line, pixel)`` Zarr array, ``l0`` and
    ``p0`` on chunk edges (``w``: the pixels of ``data``, ending on a chunk edge or the last pixel).

    For a format-2 array in a local directory (``store``/``name``) the chunks are
    encoded here exactly as Zarr does (edge chunks padded with the fill value, the
    array's filters then its compressor, C order) and written as files: a third of
    the time of Zarr's ``__setitem__``, whose per-chunk overhead was twice the
    compression itself. Anything else goes through ``__setitem__``.
    """
    meta = arr.metadata
    ok = (
        getattr(meta, "zarr_format", None) == 2
        and getattr(meta, "order", "C") == "C"
        and os.path.isdir(os.path.join(os.fspath(store), name))
        and l0 % arr.chunks[1] == 0
        and p0 % arr.chunks[2] == 0
    )
    if not ok:
        arr[:, l0:l1, p0 : p0 + data.shape[2]] = data
        return
    ct, cl, cp = arr.chunks
    nt, npx = arr.shape[0], data.shape[2]
    filters = list(meta.filters or ())
    comp = meta.compressor
    fill = meta.fill_value
    folder = os.path.join(os.fspath(store), name)
    for i0 in range(l0, l1, cl):
        for t0 in range(0, nt, ct):
            for q0 in range(0, npx, cp):
                block = data[t0 : t0 + ct, i0 - l0 : min(i0 + cl, l1) - l0, q0 : q0 + cp]
                if block.shape != (ct, cl, cp):
                    full = np.full((ct, cl, cp), fill, dtype=arr.dtype)
                    full[: block.shape[0], : block.shape[1], : block.shape[2]] = block
                    block = full
                chunk: Any = np.ascontiguousarray(block, dtype=arr.dtype)
                for f in filters:
                    chunk = f.encode(chunk)
                if comp is not None:
                    chunk = comp.encode(chunk)
                key = _key(meta, (t0 // ct, i0 // cl, (p0 + q0) // cp))
                with open(os.path.join(folder, key), "wb") as fh:
                    fh.write(chunk)  # bytes, or a contiguous array (buffer protocol): no copy
