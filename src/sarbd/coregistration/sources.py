"""Block readers the resampler pulls pixels and heights through (``(lines, pixels) -> block``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sarbd.core.scene import Scene
from sarbd.coregistration.warp import BlockReader, HeightReader
from sarbd.errors import InputError

__all__ = ["height_reader", "scene_reader"]


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


def height_reader(height: NDArray[np.float32]) -> HeightReader:
    """Read blocks of a height raster (m) as float64."""

    def read(lines: slice, pixels: slice) -> NDArray[np.float64]:
        return np.asarray(height[lines, pixels], dtype=np.float64)

    return read
