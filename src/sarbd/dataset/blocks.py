"""Block-by-block machinery of the label stage: aligned Dask blocks, per-block reductions,
and 4-connected regions that cross block seams.

Every label-stage raster is split into the same ``(line, pixel)`` blocks (those of the
first Dask-backed input; one block for NumPy inputs), so that one block of each input
meets in a task and memory is bounded by a few blocks whatever the scene size.

Regions (4-connected sets of same-class pixels) are found in two passes, the classical
block-parallel connected-component labelling (e.g. Hawick, Leist & Playne 2010,
Parallel Computing 36:655): each block is labelled on its own
(:func:`scipy.ndimage.label`), then the labels of 4-neighbours on either side of a seam
that belong to the same class are merged as the edges of a graph whose connected
components (:func:`scipy.sparse.csgraph.connected_components`) are the regions of the
whole image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import NDArray

__all__ = [
    "BlockRegions",
    "as_blocks",
    "block_reduce",
    "grid_chunks",
    "label_block_regions",
    "merge_regions",
    "region_classes",
]

Chunks2 = tuple[tuple[int, ...], tuple[int, ...]]


def grid_chunks(shape: tuple[int, int], *arrays: Any) -> Chunks2:
    """``(line, pixel)`` chunks of the first Dask-backed 2-D input, else one block."""
    for a in arrays:
        data = (
            a.transpose("line", "pixel").data
            if isinstance(a, xr.DataArray) and "line" in a.dims
            else a
        )
        if isinstance(data, da.Array) and data.ndim == 2 and data.shape == tuple(shape):
            return data.chunks  # type: ignore[return-value]
    return ((int(shape[0]),), (int(shape[1]),))


def as_blocks(x: Any, chunks: Chunks2) -> da.Array:
    """``x`` (``(line, pixel)`` DataArray, NumPy or Dask) as a Dask array with ``chunks``
    on its last two axes (leading axes in one chunk)."""
    if isinstance(x, xr.DataArray):
        x = x.transpose(..., "line", "pixel").data
    arr = x if isinstance(x, da.Array) else da.from_array(np.asarray(x), chunks=-1)
    lead = tuple((n,) for n in arr.shape[:-2])
    return arr.rechunk((*lead, *chunks))


def block_reduce(func: Callable[..., Any], *arrays: da.Array, **kwargs: Any) -> NDArray[np.object_]:
    """``func(*blocks, block_id=(i, j), **kwargs)`` on every block; the results as a
    ``(blocks along line, blocks along pixel)`` object array.

    ``arrays`` are 2-D ``(line, pixel)`` or 3-D ``(k, line, pixel)`` with one chunk along ``k``
    and the same ``(line, pixel)`` chunks.
    """
    chunks = arrays[0].chunks[-2:]
    nb = (len(chunks[0]), len(chunks[1]))

    def wrap(*blocks: np.ndarray, block_id: tuple[int, ...] = (0, 0)) -> NDArray[np.object_]:
        out = np.empty((1, 1), object)
        out[0, 0] = func(*blocks, block_id=block_id[-2:], **kwargs)
        return out

    drop = (0,) if any(a.ndim == 3 for a in arrays) else ()
    res = da.map_blocks(
        wrap,
        *arrays,
        chunks=((1,) * nb[0], (1,) * nb[1]),
        drop_axis=drop,
        dtype=object,
        meta=np.empty((0, 0), object),
    )
    return np.asarray(res.compute(), dtype=object)


@dataclass(frozen=True)
class BlockRegions:
    """Regions of one block, as the seam merge needs them: the class of each local label
    (``classes[0] = 0``, the background) and the local labels of the block's four edges."""

    classes: NDArray[np.int64]
    top: NDArray[np.int32]
    bottom: NDArray[np.int32]
    left: NDArray[np.int32]
    right: NDArray[np.int32]

    @property
    def n(self) -> int:
        return int(self.classes.size - 1)

    @classmethod
    def of(cls, local: NDArray[np.int32], classes: NDArray[np.int64]) -> BlockRegions:
        return cls(
            classes,
            local[0, :].copy(),
            local[-1, :].copy(),
            local[:, 0].copy(),
            local[:, -1].copy(),
        )


def label_block_regions(
    labels: NDArray[np.integer], candidates: NDArray[np.bool_]
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """4-connected regions of same-class ``candidates`` in one block.

    Returns the local label image (0 background; the labels of each class follow those of
    the classes below it) and the class of each label (index 0: 0).
    """
    from scipy import ndimage

    local = np.zeros(labels.shape, np.int32)
    classes = [np.zeros(1, np.int64)]
    n_tot = 0
    for cid in np.unique(labels[candidates & (labels > 0)]):
        reg, n = ndimage.label(candidates & (labels == cid))
        if n == 0:
            continue
        inside = reg > 0
        local[inside] = reg[inside] + n_tot
        classes.append(np.full(n, int(cid), np.int64))
        n_tot += n
    return local, np.concatenate(classes)


def merge_regions(
    blocks: Sequence[BlockRegions | None] | NDArray[np.object_],
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """Global regions from per-block regions (a 2-D object array of :class:`BlockRegions`).

    Two labels of neighbouring blocks are one region when 4-neighbours across the seam
    carry them and their classes agree. Returns ``offsets`` (per block: the global id of its label 0, so that local label ``l``
    is node ``offset + l``), ``component`` (per node ``0..M``: its region; node 0 is the
    background) and the number of regions.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    grid = np.asarray(blocks, dtype=object)
    nbi, nbj = grid.shape
    offsets = np.zeros((nbi, nbj), np.int64)
    total = 0
    for i in range(nbi):
        for j in range(nbj):
            offsets[i, j] = total
            total += grid[i, j].n
    classes = region_classes(grid, offsets)
    src, dst = [], []

    def seam(a: NDArray[np.int32], oa: int, b: NDArray[np.int32], ob: int) -> None:
        both = (a > 0) & (b > 0)
        ga, gb = a[both].astype(np.int64) + oa, b[both].astype(np.int64) + ob
        same = classes[ga] == classes[gb]
        src.append(ga[same])
        dst.append(gb[same])

    for i in range(nbi):
        for j in range(nbj):
            r = grid[i, j]
            if i + 1 < nbi:
                seam(r.bottom, offsets[i, j], grid[i + 1, j].top, offsets[i + 1, j])
            if j + 1 < nbj:
                seam(r.right, offsets[i, j], grid[i, j + 1].left, offsets[i, j + 1])
    a = np.concatenate(src) if src else np.zeros(0, np.int64)
    b = np.concatenate(dst) if dst else np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(total + 1, total + 1))
    n, component = connected_components(graph, directed=False)
    # renumber so that the background is region 0 and the others follow in order of first node
    order = np.full(n, -1, np.int64)
    first = np.unique(component, return_index=True)[1]
    ranked = np.argsort(first, kind="stable")
    order[ranked] = np.arange(n)
    return offsets, order[component].astype(np.int64), int(n - 1)


def region_classes(blocks: NDArray[np.object_], offsets: NDArray[np.int64]) -> NDArray[np.int64]:
    """Class of every node (global label) of :func:`merge_regions`."""
    grid = np.asarray(blocks, dtype=object)
    total = int(offsets[-1, -1] + grid[-1, -1].n)
    classes = np.zeros(total + 1, np.int64)
    for (i, j), r in np.ndenumerate(grid):
        classes[offsets[i, j] + 1 : offsets[i, j] + 1 + r.n] = r.classes[1:]
    return classes
