"""An area of interest on the ground -> the window of a radar grid that covers it.

The AOI's envelope (lon/lat, EPSG:4326) is densified to 0.001 deg (about 100 m) so
that the curvature of its image in radar geometry is followed, and every vertex is
mapped by :func:`sarbd.geometry.geo2rdr` at the lowest and at the highest ellipsoidal
height of the terrain in the AOI (terrain at height ``h`` is imaged about
``h / tan(incidence)`` nearer in ground range than at the ellipsoid, so a window from
one height cuts off the slopes that face or turn away from the radar). The window is the
bounding box of the mapped vertices, rounded outwards and clipped to the grid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sarbd.core.scene import Scene
from sarbd.errors import InputError

__all__ = ["aoi_geometry", "aoi_window", "terrain_range"]

#: Densification step of the AOI envelope, degrees.
SEGMENT_DEG = 0.001


def aoi_geometry(
    bbox: tuple[float, float, float, float] | None = None,
    polygon: Any = None,
    path: str | Path | None = None,
) -> Any:
    """The AOI as one shapely geometry in lon/lat (EPSG:4326).

    Parameters
    ----------
    bbox
        ``(lon_min, lat_min, lon_max, lat_max)``, degrees.
    polygon
        A GeoDataFrame of the AOI (any CRS), used when ``bbox`` is None.
    path
        The file ``polygon`` was read from (named in errors).

    Raises
    ------
    InputError
        The polygon has no CRS.
    """
    import shapely

    if bbox is not None:
        return shapely.box(*bbox)
    if polygon is None:
        raise InputError("an AOI needs a bbox or a polygon", path=path)
    if polygon.crs is None:
        raise InputError("AOI polygon has no CRS", path=path)
    return polygon.to_crs("EPSG:4326").union_all()


def aoi_window(
    scene: Scene,
    geometry: Any,
    *,
    heights: tuple[float, float] = (0.0, 0.0),
    name: Any = None,
    path: str | Path | None = None,
) -> tuple[int, int, int, int]:
    """The window ``(first_line, first_pixel, lines, pixels)`` of ``scene``'s grid covering ``geometry``.

    Parameters
    ----------
    scene
        The reference scene (its radar grid and orbit).
    geometry
        Shapely geometry in lon/lat (EPSG:4326), e.g. from :func:`aoi_geometry`.
    heights
        Lowest and highest WGS84 ellipsoidal height (m) of the terrain in the AOI, e.g.
        :func:`terrain_range` of the build's DEM; the window covers the AOI at every
        height between them.
    name, path
        How the AOI is named in errors (its bbox or file), and its file.

    Raises
    ------
    InputError
        No vertex maps onto the orbit, or the window is empty (no overlap with the grid).
    """
    import shapely

    from sarbd.geometry.solve import geo2rdr

    lo, hi = (float(h) for h in heights)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
        raise InputError(f"AOI terrain heights {heights} are not a finite (low, high) pair")
    ring = np.asarray(shapely.segmentize(geometry.envelope, SEGMENT_DEG).exterior.coords)
    levels = (lo,) if lo == hi else (lo, hi)
    ring = np.concatenate([ring] * len(levels))
    h = np.repeat(levels, len(ring) // len(levels))
    grid = scene.radar_grid.with_epoch(scene.orbit.reference_epoch)
    t, r, ok = geo2rdr(
        ring[:, 1],
        ring[:, 0],
        h,
        scene.orbit,
        look_side=grid.look_side,
        wavelength=grid.wavelength,
    )
    if not np.any(ok):
        raise InputError("the AOI does not map onto the reference orbit", path=path)
    lines = grid.azimuth_time_to_line(t[ok])
    pixels = grid.slant_range_to_pixel(r[ok])
    l0 = int(max(np.floor(lines.min()), 0))
    l1 = int(min(np.ceil(lines.max()) + 1, grid.length))
    p0 = int(max(np.floor(pixels.min()), 0))
    p1 = int(min(np.ceil(pixels.max()) + 1, grid.width))
    if l1 <= l0 or p1 <= p0:
        raise InputError(
            f"the AOI {name} does not overlap the reference radar grid",
            hint="check the AOI coordinates (lon_min, lat_min, lon_max, lat_max) against `sarbd info`",
        )
    return (l0, p0, l1 - l0, p1 - p0)


def terrain_range(dem: Any, geometry: Any) -> tuple[float, float]:
    """Lowest and highest ellipsoidal height (m) of ``dem`` over the envelope of ``geometry``
    (:meth:`sarbd.geometry.Dem.height_range`), for :func:`aoi_window`'s ``heights``."""
    return tuple(dem.height_range(geometry.envelope.bounds))  # type: ignore[return-value]
