"""Apply a spatial kernel to NumPy, Dask or xarray arrays, chunk-wise with halos.

Every filter in :mod:`sarbd.filters` is written once as a NumPy kernel that works
on the last two axes (line, pixel) of an array. :func:`apply_spatial` runs it
directly on a NumPy array, or on each chunk of a Dask array extended by a halo of
``depth`` pixels (``dask.array.map_overlap``), so that a pixel sees the same
neighbourhood whatever the chunking: chunk borders leave no trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from dask.array.overlap import ensure_minimum_chunksize

__all__ = ["apply_spatial", "as_window"]


def as_window(window: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """Normalise a window size to ``(lines, pixels)``, both positive integers."""
    if isinstance(window, int | np.integer):
        w = (int(window), int(window))
    else:
        w = tuple(int(v) for v in window)  # type: ignore[assignment]
    if len(w) != 2 or min(w) < 1:
        from sarbd.errors import ConfigError

        raise ConfigError(
            f"window must be one or two positive integers (lines, pixels), got {window!r}",
            hint="use e.g. window=(5, 5)",
        )
    return w


def apply_spatial(
    func: Callable[..., np.ndarray],
    x: Any,
    depth: tuple[int, int],
    *,
    boundary: Any = np.nan,
    dtype: Any = None,
    needs_origin: bool = False,
    **kwargs: Any,
) -> Any:
    """Run ``func(block, **kwargs)`` over the last two axes of ``x`` with a halo.

    Parameters
    ----------
    func
        NumPy kernel; it receives an array whose last two axes are (line, pixel),
        padded by ``depth`` on each side, and returns an array of the same shape.
    x
        NumPy array, Dask array or ``xarray.DataArray`` (its ``.data`` is used and
        the result gets the same dims, coords and attributes).
    depth
        Halo in (lines, pixels); at least the kernel's reach.
    boundary
        How the image edges are padded: a constant (default NaN, which the
        NaN-aware kernels treat as "outside the image"), or ``"none"`` for no
        padding at the image edges (the kernel sees the true edge).
    dtype
        Output dtype (default: input dtype).
    needs_origin
        If true, ``func`` also receives ``origin=(line0, pixel0)``: the absolute
        position in the full array of the padded block's first element, for
        kernels whose block grid must be anchored to the image (Goldstein).
    """
    if isinstance(x, xr.DataArray):
        out = apply_spatial(
            func, x.data, depth, boundary=boundary, dtype=dtype, needs_origin=needs_origin, **kwargs
        )
        return xr.DataArray(out, dims=x.dims, coords=x.coords, attrs=dict(x.attrs))
    dtype = np.dtype(dtype) if dtype is not None else x.dtype
    ndim = x.ndim
    dl, dp = int(depth[0]), int(depth[1])
    if isinstance(x, da.Array):
        depths = {ndim - 2: dl, ndim - 1: dp}
        # whole time axis per block: the spatial kernels treat leading axes independently
        if boundary == "none":
            bnd: Any = "none"
        else:
            bnd = {ndim - 2: boundary, ndim - 1: boundary}
        for ax in range(ndim - 2):
            depths[ax] = 0
            if isinstance(bnd, dict):
                bnd[ax] = "none"

        # chunks at least as large as the halo, so that map_overlap keeps our chunking
        # (the origin of each block is computed from it)
        x = x.rechunk(
            (
                *x.chunks[: ndim - 2],
                ensure_minimum_chunksize(max(dl, 1), x.chunks[ndim - 2]),
                ensure_minimum_chunksize(max(dp, 1), x.chunks[ndim - 1]),
            )
        )
        starts = [np.concatenate([[0], np.cumsum(c)[:-1]]) for c in x.chunks]

        def _block(block: np.ndarray, block_info: Any = None) -> np.ndarray:
            kw = dict(kwargs)
            if needs_origin:
                if block_info is None:  # dask probing the function with an empty array
                    kw["origin"] = (0, 0)
                else:
                    cl = block_info[0]["chunk-location"]
                    # the padded block starts `depth` before its chunk (padding is added
                    # at the image edges too, as the boundary is a constant)
                    kw["origin"] = (
                        int(starts[ndim - 2][cl[ndim - 2]]) - dl,
                        int(starts[ndim - 1][cl[ndim - 1]]) - dp,
                    )
            return func(block, **kw).astype(dtype, copy=False)

        if needs_origin and boundary == "none":
            raise ValueError("needs_origin requires constant padding")
        return da.map_overlap(
            _block,
            x,
            depth=depths,
            boundary=bnd,
            dtype=dtype,
            trim=True,
            meta=np.array((), dtype=dtype),
        )
    x = np.asarray(x)
    if boundary == "none":
        return func(x, **kwargs).astype(dtype, copy=False)
    pad = [(0, 0)] * (ndim - 2) + [(dl, dl), (dp, dp)]
    padded = np.pad(x, pad, mode="constant", constant_values=boundary)
    if needs_origin:
        kwargs["origin"] = (-dl, -dp)
    out = func(padded, **kwargs)
    return out[..., dl : out.shape[-2] - dl, dp : out.shape[-1] - dp].astype(dtype, copy=False)
