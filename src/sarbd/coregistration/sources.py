"""Block readers the resampler pulls pixels and heights through (``(lines, pixels) -> block``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.core.scene import Scene
from sarbd.coregistration.warp import BlockReader, HeightReader
from sarbd.errors import InputError

__all__ = ["HeightRaster", "StoredHeights", "height_reader", "scene_reader"]


def scene_reader(scene: Scene, pol: str) -> BlockReader:
    """Read blocks of a scene's pixels in the scene's own (window) indices.

    Raises
    ------
    InputError
        If the scene has no pixels (metadata only), naming its file.
    """
    g = scene.radar_grid
    source = scene.pixels
    if source is None:
        raise InputError(
            "the secondary has no pixels (metadata only)", path=scene.metadata.get("source_path")
        )

    def read(lines: slice, pixels: slice) -> NDArray[np.complex64]:
        return source.read(
            pol,
            slice(g.first_line + lines.start, g.first_line + lines.stop),
            slice(g.first_pixel + pixels.start, g.first_pixel + pixels.stop),
        )

    return read


class StoredHeights:
    """A height raster in a Zarr array, read like a NumPy array (slices, or rows by index)."""

    def __init__(self, array: Any) -> None:
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)

    def __getitem__(self, key: Any) -> NDArray[np.float32]:
        if isinstance(key, np.ndarray) or (
            isinstance(key, tuple) and any(isinstance(k, np.ndarray) for k in key)
        ):
            return np.asarray(self.array.oindex[key])
        return np.asarray(self.array[key])

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        out = np.asarray(self.array[...])
        return out if dtype is None else out.astype(dtype)


#: A height raster (m) in memory or in a store: sliced, or rows taken by index.
HeightRaster = NDArray[np.float32] | StoredHeights


def height_reader(height: HeightRaster) -> HeightReader:
    """Read blocks of a height raster (m) as float64."""

    def read(lines: slice, pixels: slice) -> NDArray[np.float64]:
        return np.asarray(height[lines, pixels], dtype=np.float64)

    return read
