"""Row windows: the lines of an image still being accumulated while the simulator streams.

The simulator images its scatterers tile by tile in azimuth order (:mod:`sarbd.simulate.imaging`);
a tile only reaches the lines around its own, so each image (a date's SLC, a TOPS burst, the
truth accumulators) is held as a :class:`RowWindow`: the rows from the first line that a later
tile may still reach up to the last one an earlier tile reached. Rows below that are final and
are handed on (written) and dropped, so memory follows the window, not the scene.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RowWindow", "StreamingError"]


class StreamingError(RuntimeError):
    """A scatterer reaches a line already handed on (the streaming bound was wrong): a bug, never data."""


class RowWindow:
    """Rows ``[base, top)`` of an image of ``length`` rows; arrays are ``(*lead, rows, width)``.

    Parameters
    ----------
    lead
        Leading axes (polarisations, classes x quantities, ...).
    length, width
        Rows and pixels of the whole image.
    dtype
        Accumulator dtype.
    rows
        Initial capacity (grows when a tile reaches further).
    """

    def __init__(
        self, lead: tuple[int, ...], length: int, width: int, dtype: Any, rows: int
    ) -> None:
        self.lead = tuple(lead)
        self.length = int(length)
        self.width = int(width)
        self.base = 0
        self.buf: NDArray[Any] = np.zeros(
            (*self.lead, max(1, min(int(rows), self.length)), self.width), dtype
        )

    @property
    def top(self) -> int:
        """One past the last row held."""
        return min(self.length, self.base + self.buf.shape[-2])

    def reach(self, hi: int) -> None:
        """Hold every row below ``hi`` (clipped to the image); earlier values are kept."""
        n = min(int(hi), self.length) - self.base
        cap = self.buf.shape[-2]
        if n > cap:
            new = np.zeros((*self.lead, max(n, cap + cap // 2), self.width), self.buf.dtype)
            new[..., :cap, :] = self.buf
            self.buf = new

    def rows(self, lo: int, hi: int) -> NDArray[Any]:
        """A view of rows ``[lo, hi)`` (``base <= lo <= hi <= top``)."""
        if not (self.base <= lo <= hi <= self.top):
            raise StreamingError(f"rows [{lo}, {hi}) not held (window [{self.base}, {self.top}))")
        return self.buf[..., lo - self.base : hi - self.base, :]

    def release(self, hi: int) -> NDArray[Any]:
        """Rows ``[base, hi)`` (their values; the window no longer holds them)."""
        hi = min(int(hi), self.length)
        self.reach(hi)
        k = hi - self.base
        out = self.buf[..., :k, :]
        rest = self.buf[..., k:, :]
        self.buf = np.zeros_like(self.buf)
        self.buf[..., : rest.shape[-2], :] = rest
        self.base = hi
        return out

    def check(self, first: NDArray[np.int64], half_width: int) -> None:
        """Raise :class:`StreamingError` if a scatterer whose first tap row is ``first`` (and
        whose taps span ``2 * half_width`` rows) reaches a row already released."""
        if self.base == 0 or first.size == 0:
            return
        last = first + 2 * half_width - 1
        bad = (first < self.base) & (last >= 0) & (first < self.length)
        if bad.any():
            raise StreamingError(
                f"{int(bad.sum())} scatterers reach rows below {self.base}, already written "
                f"(lowest first row {int(first[bad].min())})"
            )
