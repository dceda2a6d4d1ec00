"""Which reference files are rasters: the one list of raster file suffixes.

The build (:mod:`sarbd.pipeline.input_files`), ``sarbd radarcode`` and the vector
reader all decide by this list, so one file is never a raster to one of them and a
vector layer to another. This module imports nothing heavy: the command line and the
configuration checks use it without loading the radarcoding chain.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["RASTER_SUFFIXES", "is_raster_path"]

#: File name endings read as rasters (GDAL: GeoTIFF, VRT, ERDAS Imagine, JPEG 2000,
#: Esri ASCII grid, netCDF); every other reference file goes to OGR as vectors.
RASTER_SUFFIXES: tuple[str, ...] = (".tif", ".tiff", ".vrt", ".img", ".jp2", ".asc", ".nc")


def is_raster_path(path: str | os.PathLike[str]) -> bool:
    """Whether a reference file is read as a raster (by its suffix, case-insensitive)."""
    return Path(path).suffix.lower() in RASTER_SUFFIXES
