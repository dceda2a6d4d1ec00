"""Layers derived from class fractions: hard label, class boundaries, distance to them.

* **label** -- the class whose fraction is largest, if that fraction reaches
  ``threshold`` (default 0.5, the AlignSAR labelling threshold); otherwise ``MIXED``
  where some class covers part of the pixel, and ``UNCHARTED`` where no reference
  class covers any of it.
* **boundary** -- a pixel lies on a class boundary when an outline crosses its
  footprint (some class fraction strictly between ``eps`` and ``1 - eps``) or runs
  along one of its edges (its label differs from a 4-neighbour's).
* **boundary_distance** -- ground distance (m) from each pixel *centre* to the nearest
  point where a class outline can lie. A pixel footprint is the rectangle of one
  azimuth step by one ground-range step around its centre. An outline lies somewhere
  inside every mixed pixel's footprint, and on the shared edge of two pure pixels with
  different labels; the distance is measured to the nearest point of those footprints
  and edges, i.e. it is the largest distance that the fractions guarantee (a lower
  bound of the true distance to the outline, exact when the outline runs along pixel
  edges). A pure pixel whose 4-neighbour is of another class is therefore half a
  step from the outline, not zero, and a pixel that the outline crosses is at 0.
  Computed exactly with a Euclidean distance transform on a half-step grid (pixel
  centres, edge midpoints and corners; Maurer, Qi & Raghavan (2003), IEEE TPAMI 25(2),
  265-270, as :func:`scipy.ndimage.distance_transform_edt`): the nearest point of an
  axis-aligned rectangle or edge to a pixel centre is a corner or lies on the centre's
  own line or column, and all of these are half-step grid nodes. Distances are
  computed in Dask blocks with a halo of ``max_distance`` and capped there
  (attribute ``valid_max``).
* **boundary_mask** -- 1 where ``boundary_distance <= buffer`` metres.
"""

from __future__ import annotations

import functools

import dask.array as da
import numpy as np
from dask.array.overlap import ensure_minimum_chunksize
from numpy.typing import NDArray

from sarbd.core.majority import majority_class

__all__ = ["MIXED", "UNCHARTED", "boundary_distance", "hard_label", "outline_distance"]

#: Label of pixels covered by reference classes but none reaching the threshold.
MIXED = 255
#: Label of pixels no reference class covers.
UNCHARTED = 0


def _label_block(
    frac: NDArray[np.floating], codes: NDArray[np.int64], threshold: float, eps: float
) -> NDArray[np.uint8]:
    if frac.shape[0] == 0:
        return np.zeros(frac.shape[1:], dtype=np.uint8)
    best, reached = majority_class(frac, threshold, tol=1e-9)
    total = frac.sum(axis=0)
    out = np.where(reached, codes[best], MIXED)
    out = np.where(total <= eps, UNCHARTED, out)
    return out.astype(np.uint8)


def hard_label(
    fractions: da.Array, codes: NDArray[np.int64], threshold: float = 0.5, eps: float = 1e-6
) -> da.Array:
    """Hard label ``(line, pixel)`` from ``(class, line, pixel)`` fractions (see module doc)."""
    codes = np.asarray(codes, dtype=np.int64)
    return da.map_blocks(
        _label_block, fractions, codes, threshold, eps, drop_axis=0, dtype=np.uint8
    )


def _crossed(frac: NDArray[np.floating], shape: tuple[int, ...], eps: float) -> NDArray[np.bool_]:
    """Pixels an outline crosses: some class covers part, but not all, of the footprint."""
    if frac.shape[0] == 0:
        return np.zeros(shape, dtype=bool)
    return np.asarray(np.any((frac > eps) & (frac < 1.0 - eps), axis=0))


def _boundary_block(
    frac: NDArray[np.floating], label: NDArray[np.uint8], eps: float
) -> NDArray[np.bool_]:
    b = _crossed(frac, label.shape, eps)
    diff_v = label[1:, :] != label[:-1, :]
    diff_h = label[:, 1:] != label[:, :-1]
    b[1:, :] |= diff_v
    b[:-1, :] |= diff_v
    b[:, 1:] |= diff_h
    b[:, :-1] |= diff_h
    return b


def outline_marks(crossed: NDArray[np.bool_], label: NDArray[np.integer]) -> NDArray[np.bool_]:
    """Where an outline can lie, on the half-step grid of shape ``(2L + 1, 2W + 1)``.

    Node ``(2i + 1, 2j + 1)`` is the centre of pixel ``(i, j)``; even indices are its
    edges. Crossed pixels mark their whole closed footprint (3 x 3 nodes); a label
    change between 4-neighbours marks their shared edge (3 nodes).
    """
    L, W = label.shape
    marks = np.zeros((2 * L + 1, 2 * W + 1), dtype=bool)
    for di in range(3):
        for dj in range(3):
            marks[di : di + 2 * L : 2, dj : dj + 2 * W : 2] |= crossed
    diff_v = label[1:, :] != label[:-1, :]  # edge between lines i and i + 1: node row 2i + 2
    diff_h = label[:, 1:] != label[:, :-1]  # edge between pixels j and j + 1: node column 2j + 2
    for dj in range(3):
        marks[2 : 2 * L - 1 : 2, dj : dj + 2 * W : 2] |= diff_v
    for di in range(3):
        marks[di : di + 2 * L : 2, 2 : 2 * W - 1 : 2] |= diff_h
    return marks


def outline_distance(
    crossed: NDArray[np.bool_],
    label: NDArray[np.integer],
    spacing: tuple[float, float] | NDArray[np.float64],
    cap: float = np.inf,
) -> NDArray[np.float32]:
    """Distance (m) from every pixel centre to the nearest possible outline point (NumPy).

    Parameters
    ----------
    crossed
        ``(line, pixel)`` pixels an outline crosses (mixed fractions).
    label
        ``(line, pixel)`` hard label; outlines run along edges between different labels.
    spacing
        Ground size ``(azimuth, ground range)`` of one pixel step, m.
    cap
        Distances are capped at this value; also returned where there is no outline.
    """
    from scipy.ndimage import distance_transform_edt

    marks = outline_marks(np.asarray(crossed, bool), np.asarray(label))
    if not marks.any():
        return np.full(label.shape, cap, dtype=np.float32)
    sampling = (0.5 * float(spacing[0]), 0.5 * float(spacing[1]))
    d = distance_transform_edt(~marks, sampling=sampling)[1::2, 1::2]
    return np.minimum(d, cap).astype(np.float32)


def _distance_block(
    frac: NDArray[np.floating],
    label: NDArray[np.uint8],
    eps: float,
    spacing: NDArray[np.float64],
    cap: float,
) -> NDArray[np.float32]:
    return outline_distance(_crossed(frac, label.shape, eps), label, spacing, cap)


def boundary_distance(
    fractions: da.Array,
    label: da.Array,
    spacing: tuple[float, float],
    *,
    max_distance: float = 200.0,
    eps: float = 1e-6,
) -> tuple[da.Array, da.Array]:
    """Boundary pixels and the distance (m) of every pixel centre to the nearest outline.

    Parameters
    ----------
    fractions
        ``(class, line, pixel)`` fractions.
    label
        ``(line, pixel)`` hard label.
    spacing
        Ground spacing ``(azimuth, ground range)`` of one pixel step, m.
    max_distance
        Distances are exact up to this value (m) and capped there.

    Returns
    -------
    boundary, distance
        Boolean boundary map (pixels an outline crosses or touches) and float32
        distance in metres from the pixel centre to the nearest point where an outline
        can lie (see the module doc).
    """
    # a one-pixel halo makes label differences across block borders visible
    frac_h = da.overlap.overlap(fractions, depth={0: 0, 1: 1, 2: 1}, boundary="none")
    lab_h = da.overlap.overlap(label, depth={0: 1, 1: 1}, boundary="none")
    b = da.map_blocks(_boundary_block, frac_h, lab_h, eps, drop_axis=0, dtype=bool)
    boundary = da.overlap.trim_internal(b, {0: 1, 1: 1}, boundary="none")
    halo = (
        min(int(np.ceil(max_distance / spacing[0])) + 1, max(label.shape[0] - 1, 0)),
        min(int(np.ceil(max_distance / spacing[1])) + 1, max(label.shape[1] - 1, 0)),
    )
    # every chunk must be at least as large as the halo (merge small chunks where needed)
    chunks = (
        ensure_minimum_chunksize(halo[0], label.chunks[0]) if halo[0] else label.chunks[0],
        ensure_minimum_chunksize(halo[1], label.chunks[1]) if halo[1] else label.chunks[1],
    )
    out_chunks = label.chunks
    label = label.rechunk(chunks)
    fractions = fractions.rechunk((fractions.chunks[0], *chunks))
    frac_o = da.overlap.overlap(fractions, depth={0: 0, 1: halo[0], 2: halo[1]}, boundary="none")
    lab_o = da.overlap.overlap(label, depth={0: halo[0], 1: halo[1]}, boundary="none")
    func = functools.partial(
        _distance_block,
        eps=eps,
        spacing=np.asarray(spacing, dtype=np.float64),
        cap=float(max_distance),
    )
    d = da.map_blocks(func, frac_o, lab_o, drop_axis=0, dtype=np.float32)
    dist = da.overlap.trim_internal(d, {0: halo[0], 1: halo[1]}, boundary="none").rechunk(
        out_chunks
    )
    return boundary, dist
