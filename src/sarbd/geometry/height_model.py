"""Height models for rdr2geo: where the terrain is, made explicit and recorded.

The geometry never assumes a height silently. A :class:`HeightModel` is one of

* a DEM (:class:`~sarbd.geometry.dem.Dem`): each pixel iterates on the DEM height;
* a constant height above the geoid (``HeightModel.above_geoid``): a DEM-like
  surface ``N(lat, lon) + c`` (e.g. 0 m for the sea surface);
* a constant ellipsoidal height (``HeightModel.ellipsoidal``);
* heights on the radar grid (``HeightModel.radar``), e.g. the Sentinel-1
  annotation geolocation grid's terrain heights, interpolated in (line, pixel)
  and floored at the geoid (:func:`annotation_height_model`): the grid reports open
  sea at 0 m above the *ellipsoid*, tens of metres below sea level in many places.

Its :attr:`HeightModel.description` goes into every output's ``height_model``
attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sarbd.core.capabilities import GeolocationGridProvider
from sarbd.core.radar_grid import SPEED_OF_LIGHT
from sarbd.core.scene import Scene
from sarbd.errors import InputError
from sarbd.geometry.dem import Dem
from sarbd.geometry.geoid import geoid_height

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HeightModel", "annotation_height_model"]

RadarHeights = Callable[[NDArray[Any], NDArray[np.float64]], NDArray[np.float64]]


@dataclass(frozen=True)
class HeightModel:
    """Terrain heights for rdr2geo (exactly one of ``dem``, ``constant``, ``radar`` is set).

    Parameters
    ----------
    description
        Human-readable provenance, recorded as ``height_model`` in outputs.
    dem
        A DEM surface (ellipsoidal heights) to iterate on.
    constant
        A constant ellipsoidal height, m.
    radar
        ``f(azimuth_time, slant_range) -> heights``: ellipsoidal heights (m) at UTC
        azimuth times (``datetime64[ns]``) and slant ranges (m), broadcastable arrays.
    """

    description: str
    dem: Dem | None = None
    constant: float | None = None
    radar: RadarHeights | None = None

    @classmethod
    def from_dem(cls, dem: Dem) -> HeightModel:
        """Iterate on a DEM."""
        return cls(dem.description, dem=dem)

    @classmethod
    def ellipsoidal(cls, height: float) -> HeightModel:
        """A constant height above the WGS84 ellipsoid (m)."""
        return cls(f"constant {height:g} m above the WGS84 ellipsoid", constant=float(height))

    @classmethod
    def above_geoid(
        cls, height: float, bounds: tuple[float, float, float, float], *, model: str = "egm96"
    ) -> HeightModel:
        """A constant height (m) above the geoid over ``bounds`` (west, south, east, north; deg)."""
        dem = Dem.geoid_surface(bounds, height, model=model)
        return cls(dem.description, dem=dem)

    @classmethod
    def radar_heights(cls, func: RadarHeights, description: str) -> HeightModel:
        """Heights given in radar coordinates by ``func(azimuth_time, slant_range)``."""
        return cls(description, radar=func)

    def heights(self, azimuth_time: ArrayLike, slant_range: ArrayLike) -> NDArray[np.float64]:
        """Ellipsoidal heights at UTC azimuth times (datetime64) and slant ranges (m).

        Not available for DEM models (their heights come out of rdr2geo).
        """
        tt = np.asarray(azimuth_time, dtype="datetime64[ns]")
        rr = np.asarray(slant_range, dtype=np.float64)
        shape = np.broadcast_shapes(tt.shape, rr.shape)
        if self.constant is not None:
            return np.full(shape, self.constant)
        if self.radar is not None:
            return np.broadcast_to(np.asarray(self.radar(tt, rr), dtype=np.float64), shape).copy()
        raise InputError("a DEM height model has no heights on the radar grid before rdr2geo")


class _GridInterpolator:
    """Bilinear interpolation on a rectilinear (azimuth time, slant range) grid, clamped at the edges."""

    def __init__(
        self,
        epoch: np.datetime64,
        times: NDArray[np.float64],
        ranges: NDArray[np.float64],
        values: NDArray[np.float64],
    ) -> None:
        self.epoch = epoch
        self.times = times
        self.ranges = ranges
        self.values = values

    def __call__(
        self, azimuth_time: NDArray[Any], slant_range: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        from scipy.interpolate import RegularGridInterpolator

        t = (np.asarray(azimuth_time, dtype="datetime64[ns]") - self.epoch) / np.timedelta64(1, "s")
        t, r = np.broadcast_arrays(t, np.asarray(slant_range, dtype=np.float64))
        interp = RegularGridInterpolator(
            (self.times, self.ranges),
            self.values,
            method="linear",
            bounds_error=False,
            fill_value=None,
        )
        ti = np.clip(t, self.times[0], self.times[-1])
        ri = np.clip(r, self.ranges[0], self.ranges[-1])
        return np.asarray(interp(np.stack([ti.ravel(), ri.ravel()], -1)).reshape(t.shape))


def annotation_height_model(
    geolocation_grid: pd.DataFrame | Scene | None,
    *,
    floor_at_geoid: bool = True,
    geoid_model: str = "egm96",
) -> HeightModel:
    """Height model from a product's geolocation grid (Sentinel-1 annotation), floored at the geoid.

    Parameters
    ----------
    geolocation_grid
        A :class:`pandas.DataFrame` with columns ``line``, ``azimuth_time``
        (datetime64), ``slant_range_time`` (two-way, s), ``latitude``, ``longitude``,
        ``height`` (ellipsoidal, m) -- ``scene.product.geolocation_grid`` -- or a
        :class:`~sarbd.core.scene.Scene` holding one.
    floor_at_geoid
        Raise every node to at least the geoid height ``N`` (sea level): the
        annotation puts open sea at 0 m above the ellipsoid.
    geoid_model
        ``"egm96"`` (default) or ``"egm2008"``.

    Returns
    -------
    HeightModel
        Heights bilinear in (azimuth time, slant range) between the grid's rows and
        columns (each row at its mean time: the annotation's times vary by
        microseconds along a row), constant beyond the outer nodes. Interpolating in
        time and range, not in line and pixel, keeps it right for TOPS swaths, whose
        burst lines overlap in time.
    """
    grid = geolocation_grid
    if isinstance(grid, Scene):
        p = grid.product
        grid = p.geolocation_grid if isinstance(p, GeolocationGridProvider) else None
    if grid is None:
        raise InputError(
            "this product has no geolocation grid to build a height model from",
            hint="give a DEM (--dem) or a constant height above the geoid",
        )
    rows = np.asarray(grid["line"], dtype=np.float64)
    lines = np.unique(rows)
    rng_all = np.asarray(grid["slant_range_time"], dtype=np.float64) * SPEED_OF_LIGHT / 2.0
    ranges = np.unique(np.round(rng_all, 3))
    if lines.size < 2 or ranges.size < 2:
        raise InputError("the geolocation grid has fewer than 2 rows or columns")
    times_dt = np.asarray(grid["azimuth_time"], dtype="datetime64[ns]")
    epoch = times_dt.min()
    t_all = (times_dt - epoch) / np.timedelta64(1, "s")
    li = np.searchsorted(lines, rows)
    row_time = np.bincount(li, weights=t_all, minlength=lines.size) / np.bincount(
        li, minlength=lines.size
    )
    order = np.argsort(row_time)
    h = np.asarray(grid["height"], dtype=np.float64)
    if floor_at_geoid:
        n = geoid_height(
            np.asarray(grid["latitude"], dtype=np.float64),
            np.asarray(grid["longitude"], dtype=np.float64),
            model=geoid_model,
        )
        h = np.maximum(h, n)
    values = np.full((lines.size, ranges.size), np.nan)
    ri = np.clip(np.searchsorted(ranges, np.round(rng_all, 3)), 0, ranges.size - 1)
    values[li, ri] = h
    for r in range(values.shape[0]):  # holes (a non-rectilinear grid): fill along the row
        ok = np.isfinite(values[r])
        if ok.any() and not ok.all():
            values[r] = np.interp(ranges, ranges[ok], values[r][ok])
    values = np.where(np.isfinite(values), values, np.nanmean(values))
    times = row_time[order]
    keep = np.concatenate([[True], np.diff(times) > 0])  # strictly increasing rows
    desc = "annotation geolocation grid heights" + (
        f", floored at the geoid ({geoid_model.upper()})" if floor_at_geoid else ""
    )
    return HeightModel.radar_heights(
        _GridInterpolator(epoch, times[keep], ranges, values[order][keep]), desc
    )
