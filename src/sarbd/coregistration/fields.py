"""Full-resolution fields of a date's offset model on the reference grid, lazily (Dask).

A date's offsets are either one :class:`~sarbd.coregistration.offsets.OffsetModel`
(a frame: stripmap, or TOPS bursts coregistered as one) or a
:class:`SegmentedOffsets` (a debursted TOPS swath: one model per burst segment,
:class:`sarbd.coregistration.burst.BurstOffsets`); :data:`DateOffsets` is either.

- :func:`offset_arrays`: line and pixel offsets (secondary minus reference) per pixel;
- :func:`geometric_phase_array`: the geometric phase ``-4 pi / lambda (R_ref - R_sec)``
  at the reference pixels' heights (:func:`sarbd.insar.geometric_phase`; Hanssen 2001,
  sec. 2.4), with the range difference of :func:`~sarbd.coregistration.geometric.range_difference`;
- :func:`median_offsets`: the median shift (for margins and nearest-sample lookups).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import dask.array as da
import numpy as np
from numpy.typing import NDArray

from sarbd.core.radar_grid import RadarGrid
from sarbd.coregistration.geometric import range_difference
from sarbd.coregistration.offsets import OffsetModel
from sarbd.insar.interferogram import geometric_phase

__all__ = [
    "DateOffsets",
    "SegmentedOffsets",
    "geometric_phase_array",
    "median_offsets",
    "offset_arrays",
]


@runtime_checkable
class SegmentedOffsets(Protocol):
    """Offsets made of per-segment models (TOPS bursts), evaluated on the merged reference grid."""

    def median_offsets(self) -> tuple[float, float]:
        """Median line / pixel offset, in the secondary's merged lines."""
        ...

    def offset_arrays(self, h_da: da.Array) -> tuple[da.Array, da.Array]:
        """Full-resolution line / pixel offsets (float32) at heights ``h_da``."""
        ...

    def phase(self, h_da: da.Array) -> da.Array:
        """Geometric phase (rad, float64) at heights ``h_da``."""
        ...


#: A date's offsets, as used for resampling.
DateOffsets = OffsetModel | SegmentedOffsets


def median_offsets(offsets: DateOffsets) -> tuple[float, float]:
    """Median line and pixel offset of a date (lines, pixels)."""
    if isinstance(offsets, OffsetModel):
        return float(np.nanmedian(offsets.line_offset)), float(np.nanmedian(offsets.pixel_offset))
    return offsets.median_offsets()


def offset_arrays(offsets: DateOffsets, h_da: da.Array) -> tuple[da.Array, da.Array]:
    """Full-resolution ``(line, pixel)`` offset fields of a date at heights ``h_da``, lazily, float32."""
    if not isinstance(offsets, OffsetModel):
        return offsets.offset_arrays(h_da)
    model = offsets

    def block(
        h: NDArray[np.float32], which: int, block_info: dict[Any, Any] | None = None
    ) -> NDArray[np.float32]:
        assert block_info is not None
        (l0, l1), (p0, p1) = block_info[0]["array-location"]
        dl, dp = model.evaluate(
            np.arange(l0, l1, dtype=np.float64),
            np.arange(p0, p1, dtype=np.float64),
            np.asarray(h, dtype=np.float64),
        )
        return (dl if which == 0 else dp).astype(np.float32)

    return (
        da.map_blocks(block, h_da, 0, dtype=np.float32),
        da.map_blocks(block, h_da, 1, dtype=np.float32),
    )


def geometric_phase_array(
    offsets: DateOffsets, ref_grid: RadarGrid, sec_grid: RadarGrid, h_da: da.Array
) -> da.Array:
    """Geometric phase ``-4 pi / lambda (R_ref - R_sec)`` (rad, float64) on the reference grid, lazily.

    ``h_da`` holds the reference pixels' ellipsoidal heights (m) on ``ref_grid``; with
    two carriers the phase is ``-4 pi (R_ref / lambda_ref - R_sec / lambda_sec)``.
    """
    if not isinstance(offsets, OffsetModel):
        return offsets.phase(h_da)  # TOPS: per-burst models
    model = offsets

    def block(
        h: NDArray[np.float32], block_info: dict[Any, Any] | None = None
    ) -> NDArray[np.float64]:
        assert block_info is not None
        (l0, l1), (p0, p1) = block_info[0]["array-location"]
        pixels = np.arange(p0, p1, dtype=np.float64)
        dr = range_difference(
            model,
            ref_grid,
            sec_grid,
            np.arange(l0, l1, dtype=np.float64),
            pixels,
            np.asarray(h, dtype=np.float64),
        )
        r_ref = ref_grid.pixel_to_slant_range(pixels)[None, :]
        # R_sec = R_ref - dr
        return geometric_phase(r_ref, r_ref - dr, ref_grid.wavelength, sec_grid.wavelength)

    return da.map_blocks(block, h_da, dtype=np.float64)
