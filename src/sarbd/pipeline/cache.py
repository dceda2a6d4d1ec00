"""Stage caching: each stage's output is keyed by a hash of its inputs and settings.

A stage's key is the SHA-256 of its name, its code version, its settings (canonical
JSON) and the keys of the stages (or the fingerprints of the files) it reads. The
output lives in ``<cache>/<stage>-<key16>/`` and is written through a temporary
folder that is renamed into place only when the stage finished, so:

* re-running an unchanged build finds every key and recomputes nothing;
* changing one setting changes that stage's key and, through the chain of keys,
  the keys of the stages downstream of it, and nothing else;
* an interrupted stage leaves only a temporary folder, removed on the next run,
  which then recomputes that stage and continues.

Stage outputs are Zarr stores written with the dataset's own chunks and codecs
(:func:`write_stage`), so the export hard-links their chunks into ``dataset.zarr``
(:func:`sarbd.export.cube.zarr_links`) rather than storing the data twice. A stage may
be *pruned* (:meth:`StageCache.prune`): some of its arrays deleted, a ``.pruned.json``
record left; it still counts as complete for the stages that read only what remains,
and :meth:`StageCache.discard` makes it recompute when a stage needs what was dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sarbd.core.chunks import ChunksLike, as_chunks
from sarbd.utils.files import atomic_output
from sarbd.utils.log import get_logger

__all__ = ["StageCache", "StageRecord", "file_fingerprint", "stage_key", "write_stage"]

log = get_logger(__name__)

_DONE = ".complete.json"
_PRUNED = ".pruned.json"


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """A cheap, stable fingerprint of a file or folder: path, sizes and modification times.

    Content hashing of multi-GB SLC products would cost more than some stages; size
    and mtime change whenever a product is replaced.
    """
    p = Path(path).resolve()
    if p.is_dir():
        parts = [
            f"{f.relative_to(p)}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
            for f in sorted(p.rglob("*"))
            if f.is_file()
        ]
    elif p.exists():
        st = p.stat()
        parts = [f"{st.st_size}:{st.st_mtime_ns}"]
    else:
        parts = ["missing"]
    return hashlib.sha256("\n".join([str(p), *parts]).encode()).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def stage_key(name: str, version: str, settings: Any, upstream: Iterable[str]) -> str:
    """The cache key of a stage (hex SHA-256)."""
    h = hashlib.sha256()
    for part in (name, version, _canonical(settings), *sorted(upstream)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


@dataclass
class StageRecord:
    """What happened to one stage in a run."""

    name: str
    key: str
    path: Path
    cached: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)


class StageCache:
    """Runs stages into a cache folder, skipping those whose key is already complete."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.records: list[StageRecord] = []
        for stale in self.root.glob(".*.tmp"):  # left by an interrupted run
            shutil.rmtree(stale, ignore_errors=True)

    def path_for(self, name: str, key: str) -> Path:
        """Folder of a stage's output for ``key``."""
        return self.root / f"{name}-{key[:16]}"

    def is_complete(self, name: str, key: str) -> bool:
        """Whether the stage's output for ``key`` exists and finished."""
        return (self.path_for(name, key) / _DONE).is_file()

    def is_pruned(self, name: str, key: str) -> bool:
        """Whether arrays of the stage's output for ``key`` were pruned (:meth:`prune`)."""
        return (self.path_for(name, key) / _PRUNED).is_file()

    def discard(self, name: str, key: str) -> None:
        """Forget the stage's output for ``key`` (it is computed again on the next :meth:`run`)."""
        target = self.path_for(name, key)
        if target.is_dir():
            log.info("stage %s: recomputing its pruned output %s", name, target.name)
            shutil.rmtree(target)

    def prune(
        self, name: str, key: str, store: str, drop: Callable[[str, tuple[str, ...]], bool]
    ) -> list[str]:
        """Delete the arrays of the Zarr ``store`` (inside the stage's folder) for which
        ``drop(array name, dims)`` holds, and record them in ``.pruned.json``.

        The store's consolidated metadata is rewritten, so it opens with what remains.
        Returns the names deleted (none when already pruned).
        """
        import zarr

        folder = self.path_for(name, key)
        path = folder / store
        if not (folder / _DONE).is_file() or not path.is_dir():
            return []
        dropped = []
        for meta in sorted(path.glob("*/.zattrs")):
            dims = tuple(json.loads(meta.read_text()).get("_ARRAY_DIMENSIONS", ()))
            if drop(meta.parent.name, dims):
                shutil.rmtree(meta.parent)
                dropped.append(meta.parent.name)
        if dropped:
            zarr.consolidate_metadata(str(path), zarr_format=2)
            record = folder / _PRUNED
            before = json.loads(record.read_text()).get(store, []) if record.is_file() else []
            record.write_text(json.dumps({store: sorted({*before, *dropped})}))
            log.info("stage %s: pruned %d arrays of %s", name, len(dropped), store)
        return dropped

    def run(
        self,
        name: str,
        key: str,
        compute: Callable[[Path], dict[str, Any] | None],
    ) -> StageRecord:
        """Run ``compute(tmp_folder)`` unless the output for ``key`` is complete.

        ``compute`` writes its outputs into the folder it is given and may return a
        small JSON-able dict of information (counts, figures) kept with the output.
        """
        target = self.path_for(name, key)
        done = target / _DONE
        if done.is_file():
            info = json.loads(done.read_text()).get("info", {})
            rec = StageRecord(name, key, target, True, 0.0, info)
            log.info("stage %s: unchanged, using %s", name, target.name)
        else:
            start = time.perf_counter()
            with atomic_output(target, directory=True) as tmp:
                info = compute(tmp) or {}
                seconds = time.perf_counter() - start
                (tmp / _DONE).write_text(
                    json.dumps({"key": key, "seconds": seconds, "info": info}, default=str)
                )
            rec = StageRecord(name, key, target, False, seconds, info)
            log.info("stage %s: computed in %.1f s", name, seconds)
            # older outputs of this stage are superseded
            for old in self.root.glob(f"{name}-*"):
                if old != target and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
        self.records.append(rec)
        return rec


def write_stage(
    ds: Any,
    path: str | os.PathLike[str],
    chunks: ChunksLike,
    quantize: dict[str, Any] | None = None,
) -> Path:
    """Write a stage's ``xarray.Dataset`` as consolidated Zarr v2 with the dataset's encoding.

    Chunks ``(1, lines, pixels)`` and codecs of :func:`sarbd.export.cube.stage_encoding`,
    so that the export can link these arrays into ``dataset.zarr`` unchanged. Dask blocks
    are rechunked to the store's chunks first (aligned writes, one chunk per task).
    """
    from sarbd.export.cube import stage_encoding

    out = ds.copy()
    for v in out.variables.values():
        v.encoding = {}
    out = out.chunk(as_chunks(chunks).for_dims(out.dims))
    encoding = stage_encoding(out, chunks, quantize=quantize)
    path = Path(path)
    out.to_zarr(path, mode="w", zarr_format=2, consolidated=True, encoding=encoding)
    return path
