"""The whole dataset as one CF netCDF (``dataset.nc``) and as Zarr (``dataset.zarr``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sarbd.export.cf import char_attributes, prepare_cf
from sarbd.utils.files import atomic_output

__all__ = ["write_netcdf", "write_zarr"]


def _chunks(v: xr.DataArray | xr.Variable, spatial: int) -> tuple[int, ...]:
    return tuple(1 if d == "time" else min(spatial, n) if d in ("line", "pixel") else n
                 for d, n in zip(v.dims, v.shape, strict=True))


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike[str], *, spatial_chunk: int = 256,
                 complevel: int = 4) -> Path:
    """Write ``ds`` as one CF-1.10 + ACDD-1.3 netCDF-4 file (h5netcdf engine), atomically.

    Every variable on the radar grid is chunked ``(1, spatial_chunk, spatial_chunk)`` and
    compressed (zlib level ``complevel`` with byte shuffle); all dates share the file
    (``time`` is a dimension). Complex variables are stored as ``_real``/``_imag`` pairs.

    Returns the path written.
    """
    out = prepare_cf(ds, split_complex=True)
    encoding: dict[str, dict[str, Any]] = {}
    for name, v in out.variables.items():
        enc: dict[str, Any] = {}
        if v.ndim >= 1 and v.dtype.kind in "fiuc" and v.size > 1:
            enc.update({"zlib": True, "complevel": complevel, "shuffle": True, "chunksizes": _chunks(v, spatial_chunk)})
        if v.dtype.kind == "M":
            enc["units"] = "seconds since 1970-01-01T00:00:00Z"
            enc["dtype"] = "float64"
        if name in out.coords and v.dtype.kind in "fM":
            enc["_FillValue"] = None  # CF 2.5.1: coordinate variables carry no fill value
        if enc:
            encoding[str(name)] = enc
    # Dask chunks made of whole file chunks: every HDF5 chunk is compressed once. Misaligned
    # blocks make HDF5 re-read, inflate and deflate a chunk for each block touching it.
    out = out.chunk({d: (1 if d == "time" else spatial_chunk if d == "line" else -1) for d in out.dims})
    path = Path(path)
    with atomic_output(path) as tmp:
        # time as the record (unlimited) dimension: CF 2.4 then reads (time, line, pixel) as
        # record, grid, grid -- line/pixel are radar grid indices CF cannot call Y/X
        out.to_netcdf(tmp, engine="h5netcdf", encoding=encoding,
                      unlimited_dims=["time"] if "time" in out.dims else None)
        char_attributes(tmp)  # text attributes as NC_CHAR, not NC_STRING (sarbd.export.cf)
    return path


def write_zarr(ds: xr.Dataset, path: str | os.PathLike[str], *, spatial_chunk: int = 512) -> Path:
    """Write ``ds`` as a consolidated Zarr store (format 2, for GDAL/QGIS readers), atomically.

    Same metadata as :func:`write_netcdf` (complex variables are kept as complex);
    chunks are ``(1, spatial_chunk, spatial_chunk)`` for Dask access by date.
    """
    out = prepare_cf(ds, split_complex=False)
    encoding: dict[str, dict[str, Any]] = {}
    for name, v in out.variables.items():
        if v.ndim >= 1 and v.dtype.kind in "fiucb":
            encoding[str(name)] = {"chunks": _chunks(v, spatial_chunk)}
        if v.dtype.kind == "M":
            encoding.setdefault(str(name), {}).update({"units": "seconds since 1970-01-01T00:00:00Z",
                                                       "dtype": np.dtype("float64")})
        if name in out.coords and v.dtype.kind in "fM":
            encoding.setdefault(str(name), {})["_FillValue"] = None
    # Dask chunks equal to the store's chunks: aligned writes, one chunk in memory at a time
    out = out.chunk({d: (1 if d == "time" else spatial_chunk if d in ("line", "pixel") else -1) for d in out.dims})
    path = Path(path)
    with atomic_output(path, directory=True) as tmp:
        out.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True, encoding=encoding)
    return path
