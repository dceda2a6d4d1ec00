"""A SAR scene: one SLC product (a swath, its polarisations, or a crop of it).

A :class:`Scene` bundles what every later stage needs: global metadata, the
zero-Doppler :class:`~sarbd.core.radar_grid.RadarGrid`, the
:class:`~sarbd.core.orbit.Orbit`, the polarisations, and lazy access to the
complex pixels as a Dask-backed :class:`xarray.DataArray` with dims
``("line", "pixel")``. Readers (``sarbd.products``) and the simulator build
scenes; nothing downstream knows which format a scene came from.

Pixels come from a :class:`PixelSource`: anything that can read a block of one
polarisation. Sources must be picklable (they are shipped to Dask workers), so
they hold file paths, not open handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd.core.capabilities import ProductDetails
from sarbd.core.chunks import DEFAULT_CHUNKS as _DEFAULT_CHUNKS
from sarbd.core.chunks import Chunks
from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.errors import InputError

__all__ = ["ArrayPixelSource", "PixelSource", "Scene"]

#: Default Dask chunk shape (lines, pixels) for SLC pixels: the one default of :mod:`sarbd.core.chunks`.
DEFAULT_CHUNKS: Chunks = _DEFAULT_CHUNKS


@runtime_checkable
class PixelSource(Protocol):
    """Reads rectangular blocks of complex pixels of one product.

    Indices are relative to the *root* grid of the product (the full swath), so a
    cropped scene and its parent share one source.
    """

    def read(self, polarization: str, lines: slice, pixels: slice) -> NDArray[np.complex64]:
        """Read ``[lines, pixels]`` of one polarisation as complex64."""
        ...


@dataclass(frozen=True)
class ArrayPixelSource:
    """A :class:`PixelSource` over in-memory arrays (tests, simulated data).

    Parameters
    ----------
    arrays
        ``{polarisation: 2-D complex array}`` covering the root grid.
    """

    arrays: dict[str, NDArray[np.complex64]]

    def read(self, polarization: str, lines: slice, pixels: slice) -> NDArray[np.complex64]:
        return np.asarray(self.arrays[polarization][lines, pixels], dtype=np.complex64)


class _BlockReader:
    """Adapter giving ``dask.array.from_array`` a sliceable view of one polarisation."""

    def __init__(
        self, source: PixelSource, polarization: str, grid: RadarGrid, root_offset: tuple[int, int]
    ):
        self.source = source
        self.polarization = polarization
        self.shape = grid.shape
        self.dtype = np.dtype(np.complex64)
        self.ndim = 2
        self.offset = root_offset

    def __getitem__(self, key: tuple[slice, slice]) -> NDArray[np.complex64]:
        # Dask fuses user slicing into this getter, so keys may carry steps (and be
        # reversed); read the bounding block, then apply the steps.
        lines, pixels = key
        l_idx = range(*lines.indices(self.shape[0]))
        p_idx = range(*pixels.indices(self.shape[1]))
        if len(l_idx) == 0 or len(p_idx) == 0:
            return np.zeros((len(l_idx), len(p_idx)), dtype=np.complex64)
        l0, l1 = min(l_idx[0], l_idx[-1]), max(l_idx[0], l_idx[-1]) + 1
        p0, p1 = min(p_idx[0], p_idx[-1]), max(p_idx[0], p_idx[-1]) + 1
        o0, o1 = self.offset
        block = np.asarray(
            self.source.read(self.polarization, slice(o0 + l0, o0 + l1), slice(o1 + p0, o1 + p1)),
            dtype=np.complex64,
        )
        return block[l_idx[0] - l0 :: l_idx.step, p_idx[0] - p0 :: p_idx.step][
            : len(l_idx), : len(p_idx)
        ]


@dataclass(frozen=True)
class Scene:
    """One SLC product, or a crop of it.

    Parameters
    ----------
    radar_grid
        The scene's radar grid (a window of the product's root grid for a crop).
    orbit
        The orbit used for geometry (annotation or precise).
    polarizations
        Polarisations available, e.g. ``("VV", "VH")``.
    metadata
        Global metadata: mission, mode, swath, pass, orbit numbers, times,
        radar frequency, ... (see the reader's documentation for keys).
    pixels
        Where complex pixels come from; ``None`` for a metadata-only scene.
    product
        Reader-specific product information (bursts, Doppler and FM-rate
        polynomials, calibration and noise LUTs, geolocation grid ...). Each
        reader documents the object it puts here; it states at least
        ``is_tops`` (:class:`~sarbd.core.capabilities.AcquisitionMode`), and what
        else it provides is checked with the Protocols of
        :mod:`sarbd.core.capabilities`. ``None``: no product information.
    chunks
        Default Dask chunk shape for :meth:`slc`.
    """

    radar_grid: RadarGrid
    orbit: Orbit
    polarizations: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    pixels: PixelSource | None = None
    product: ProductDetails = None
    chunks: tuple[int, int] = DEFAULT_CHUNKS

    @property
    def shape(self) -> tuple[int, int]:
        """``(lines, pixels)`` of the scene."""
        return self.radar_grid.shape

    def _check_polarization(self, polarization: str | None) -> str:
        if polarization is None:
            return self.polarizations[0]
        pol = polarization.upper()
        if pol not in self.polarizations:
            raise InputError(
                f"polarisation {polarization!r} is not in this product "
                f"(it has {', '.join(self.polarizations)})",
                path=self.metadata.get("source_path"),
                hint=f"choose one of {', '.join(self.polarizations)}",
            )
        return pol

    def slc(
        self, polarization: str | None = None, chunks: tuple[int, int] | None = None
    ) -> xr.DataArray:
        """Complex pixels of one polarisation, lazily, as ``(line, pixel)`` complex64.

        The ``line`` and ``pixel`` coordinates are absolute indices in the root grid,
        so crops keep their position.
        """
        pol = self._check_polarization(polarization)
        if self.pixels is None:
            raise InputError(
                "this scene has no pixels (metadata only)",
                path=self.metadata.get("source_path"),
                hint="open the product together with its measurement file",
            )
        grid = self.radar_grid
        reader = _BlockReader(self.pixels, pol, grid, (grid.first_line, grid.first_pixel))
        data = da.from_array(
            reader,
            chunks=chunks or self.chunks,
            asarray=True,
            lock=False,
            name=f"slc-{pol}-{id(self.pixels):x}-{grid.first_line}-{grid.first_pixel}-{grid.length}-{grid.width}",
        )
        return xr.DataArray(
            data,
            dims=("line", "pixel"),
            coords={
                "line": np.arange(grid.first_line, grid.first_line + grid.length),
                "pixel": np.arange(grid.first_pixel, grid.first_pixel + grid.width),
            },
            name=f"slc_{pol.lower()}",
            attrs={"long_name": f"{pol} single-look complex", "units": "1", "polarization": pol},
        )

    def crop(self, line0: int, pixel0: int, length: int, width: int) -> Scene:
        """A window of this scene (indices relative to this scene) that keeps absolute positions."""
        return replace(self, radar_grid=self.radar_grid.window(line0, pixel0, length, width))

    def __repr__(self) -> str:
        meta = self.metadata
        name = meta.get("product_name") or meta.get("mission", "scene")
        return (
            f"Scene({name}, {self.shape[0]} x {self.shape[1]}, pols={'/'.join(self.polarizations)}, "
            f"window=({self.radar_grid.first_line}, {self.radar_grid.first_pixel}))"
        )
