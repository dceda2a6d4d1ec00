"""One chunk shape for radar rasters: :class:`Chunks` ``(lines, pixels)`` and its default.

Every public function that lays out Dask arrays or Zarr stores on the radar grid
(``open_product``, ``coregister``, ``radarcode``, ``signatures.compute``, the stage
stores, ``write_zarr``, ``compute.chunks`` of a build) takes its ``chunks`` through
:func:`as_chunks`, so the accepted forms and the default are the same everywhere:

- ``None``: :data:`DEFAULT_CHUNKS`;
- a :class:`Chunks`, or any pair of positive integers ``(lines, pixels)``;
- one positive integer ``n``: ``(n, n)``;
- a mapping with ``line``/``pixel`` keys (the Dask/xarray form; ``lines``/``pixels``
  are accepted too; any ``time`` entry is left to :func:`stack_chunks`);
- Dask's normalised block sizes ``((512, 512, 100), (1024, 300))``: the first block
  of each axis.

A stack ``(time, line, pixel)`` has one more axis. The signatures read it with all
dates in one chunk (temporal statistics then need no rechunk); :func:`stack_chunks`
gives that form, and without configured chunks :func:`default_stack_chunks` keeps a
chunk near :data:`STACK_CHUNK_SAMPLES` samples whatever the number of dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np

from sarbd.errors import ConfigError

__all__ = [
    "DEFAULT_CHUNKS",
    "STACK_CHUNK_SAMPLES",
    "BlockChunks",
    "Chunks",
    "ChunksLike",
    "as_chunks",
    "default_stack_chunks",
    "stack_chunks",
]


class Chunks(NamedTuple):
    """Chunk shape of a radar raster: ``lines`` x ``pixels`` samples (both > 0).

    A named tuple, so it is also the plain ``(lines, pixels)`` pair Dask, xarray and
    the older ``chunks=(l, p)`` call sites expect.
    """

    lines: int
    pixels: int

    def clipped(self, shape: Sequence[int]) -> Chunks:
        """These chunks, no larger than a raster of ``shape`` ``(lines, pixels)``."""
        return Chunks(
            max(1, min(self.lines, int(shape[0]))), max(1, min(self.pixels, int(shape[1])))
        )

    def for_dims(self, dims: Sequence[str], time: int = 1) -> dict[str, int]:
        """``{dim: size}`` for xarray's ``.chunk``: ``line``/``pixel`` from these chunks,
        ``time`` as given (1: one date per chunk), every other dimension whole (-1)."""
        sizes = {"line": self.lines, "pixel": self.pixels, "time": time}
        return {str(d): sizes.get(str(d), -1) for d in dims}


#: The one default chunk shape: 512 lines x 1024 pixels (4 MiB of complex64 per date,
#: 2 MiB of float32), the build's ``compute.chunks`` default.
DEFAULT_CHUNKS = Chunks(512, 1024)

#: What a ``chunks`` argument may be (see the module docstring).
ChunksLike: TypeAlias = "Chunks | tuple[int, int] | Sequence[Any] | Mapping[str, Any] | int | None"

#: Dask's normalised block sizes of a 2-D raster, ``((lines per block...), (pixels per block...))``:
#: what the per-date coregistration steps lay their arrays out in.
BlockChunks: TypeAlias = tuple[tuple[int, ...], tuple[int, ...]]

#: Samples (all dates together) per chunk of a stack read without configured chunks.
STACK_CHUNK_SAMPLES = 4_000_000


def _positive(value: Any, what: str, given: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < 1:
        raise ConfigError(
            f"chunks: {what} must be a positive integer, got {given!r}",
            hint="give chunks as (lines, pixels), e.g. (512, 1024)",
        )
    return int(value)


def as_chunks(value: Any, default: Chunks = DEFAULT_CHUNKS) -> Chunks:
    """Normalise any accepted ``chunks`` form to :class:`Chunks` (``None``: ``default``).

    Raises
    ------
    ConfigError
        Not one of the forms of the module docstring, or a size that is not a positive integer.
    """
    if value is None:
        return default
    if isinstance(value, Chunks):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        n = _positive(value, "the size", value)
        return Chunks(n, n)
    if isinstance(value, Mapping):
        lines = value.get("line", value.get("lines"))
        pixels = value.get("pixel", value.get("pixels"))
        if lines is None or pixels is None:
            raise ConfigError(
                f"chunks: a mapping needs 'line' and 'pixel' entries, got {dict(value)!r}",
                hint="e.g. {'line': 512, 'pixel': 1024}",
            )
        return Chunks(_positive(lines, "line", value), _positive(pixels, "pixel", value))
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        pair = [
            v[0] if isinstance(v, Sequence) and not isinstance(v, str) and len(v) else v
            for v in value
        ]
        return Chunks(_positive(pair[0], "lines", value), _positive(pair[1], "pixels", value))
    raise ConfigError(
        f"chunks must be (lines, pixels), got {value!r}",
        hint="give chunks as (lines, pixels), e.g. (512, 1024)",
    )


def default_stack_chunks(n_time: int, n_pixel: int) -> dict[str, int]:
    """Chunks of a stack read without configured chunks: all dates, at most 4096 pixels,
    and a multiple of 16 lines (32..1024) for about :data:`STACK_CHUNK_SAMPLES` samples."""
    pixel = min(4096, int(n_pixel))
    lines = STACK_CHUNK_SAMPLES // max(int(n_time) * pixel, 1)
    return {"time": -1, "line": int(min(max(lines // 16 * 16, 32), 1024)), "pixel": pixel}


def stack_chunks(value: Any, n_time: int, n_pixel: int) -> dict[str, int]:
    """Dask chunks ``{time, line, pixel}`` of a stack from any accepted ``chunks`` form.

    ``None`` gives :func:`default_stack_chunks`; a mapping is kept as given (sizes, or -1
    for a whole axis; an axis it leaves out keeps the stack's own chunks); any other form
    is :func:`as_chunks` with all dates in one chunk.
    """
    if value is None or (isinstance(value, Mapping) and not value):
        return default_stack_chunks(n_time, n_pixel)
    if isinstance(value, Mapping):
        unknown = sorted(set(map(str, value)) - {"time", "line", "pixel"})
        if unknown:
            raise ConfigError(
                f"chunks: unknown stack dimensions {unknown} in {dict(value)!r}",
                hint="the stack's dimensions are time, line and pixel",
            )
        return {str(d): -1 if v == -1 else _positive(v, str(d), value) for d, v in value.items()}
    c = as_chunks(value)
    return {"time": -1, "line": c.lines, "pixel": c.pixels}
