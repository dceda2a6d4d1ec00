"""The radar grid that geodata are radarcoded onto: grid, orbit, footprint, terrain heights.

A target comes from a stack or any dataset written by sarbd (``radar_grid_*`` attributes
plus ``orbit_position``/``orbit_velocity``, see ``docs/formats.md``), from a path to one
(Zarr folder or netCDF file), from a :class:`~sarbd.core.Scene`, or from a
:class:`~sarbd.core.RadarGrid` plus an :class:`~sarbd.core.Orbit`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import shapely
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.core.scene import Scene
from sarbd.errors import InputError
from sarbd.utils.log import get_logger

__all__ = [
    "DemSource",
    "GridSource",
    "HeightSource",
    "LocalFrame",
    "RadarLookup",
    "Target",
    "heights_from",
    "lookup_size",
    "resolve_target",
]

#: Above this many points, :meth:`Target.to_radar` interpolates an exact geo2rdr lookup table.
LUT_MIN_POINTS = 20_000
#: Lattice spacing of that table, m.
LUT_SPACING_M = 100.0
#: Lattice points solved together when the table is built (each point is solved on its own).
LUT_BLOCK_POINTS = 100_000

log = get_logger(__name__)

if TYPE_CHECKING:
    from sarbd.geometry.dem import Dem

#: What :func:`sarbd.radarcode` takes as ``grid``: a stack/dataset, its path (Zarr or
#: netCDF), a :class:`~sarbd.core.Scene`, or a :class:`~sarbd.core.RadarGrid` (with an orbit).
GridSource: TypeAlias = "str | os.PathLike[str] | xr.Dataset | xr.DataArray | Scene | RadarGrid"


@runtime_checkable
class HeightSource(Protocol):
    """Anything that gives WGS84 ellipsoidal terrain heights (m) at latitude/longitude (deg)."""

    @property
    def description(self) -> str: ...

    def height_at(self, latitude: ArrayLike, longitude: ArrayLike) -> NDArray[np.float64]: ...


@dataclass(frozen=True)
class ConstantHeight:
    """One ellipsoidal height everywhere (flat test scenes, or a sea-level lake)."""

    height: float
    description: str = ""

    def height_at(self, latitude: ArrayLike, longitude: ArrayLike) -> NDArray[np.float64]:
        lat = np.asarray(latitude, dtype=np.float64)
        return np.full(np.broadcast(lat, np.asarray(longitude)).shape, float(self.height))


@dataclass(frozen=True)
class Target:
    """Where radarcoded layers go.

    Attributes
    ----------
    grid
        The radar grid (a window of a root grid keeps ``first_line``/``first_pixel``).
    orbit
        The orbit that defines the grid's geometry.
    dataset
        The stack/dataset the grid came from (for ``height``, ``layover_shadow_mask``), or None.
    path
        The file the target was read from, for messages.
    """

    grid: RadarGrid
    orbit: Orbit
    dataset: xr.Dataset | None = None
    path: Path | None = None

    @property
    def name(self) -> str:
        return str(self.path) if self.path is not None else "the radar grid"

    def to_radar(
        self, lat: ArrayLike, lon: ArrayLike, h: ArrayLike, *, exact: bool | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(line, pixel) of this grid (fractional, relative to its first line/pixel) of points.

        Every point is solved with :func:`sarbd.geometry.geo2rdr` (zero-Doppler Newton
        iteration on the orbit) when ``exact`` is true, or when there are few points.
        For many points (``exact=None`` and more than :data:`LUT_MIN_POINTS`), geo2rdr is
        solved exactly on a lookup table -- a longitude/latitude lattice of
        :data:`LUT_SPACING_M` spacing at three heights spanning the points' heights --
        and each point is interpolated from it: bilinear across the lattice, quadratic
        (Lagrange) in height. The interpolation error is below 1e-3 pixel (bilinear
        error ``s^2/8 * max|d2r/dx2|`` ~ 1e-3 m for ``s`` = 100 m and ``cos^2(theta)/r``
        ~ 7e-7 m^-1; tested in ``tests/radarcode/test_target.py``). NaN where geo2rdr
        does not converge.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        h = np.asarray(h, dtype=np.float64)
        lat, lon, h = np.broadcast_arrays(lat, lon, h)
        if lat.size == 0:
            return np.zeros(lat.shape), np.zeros(lat.shape)
        if exact or (exact is None and lat.size < LUT_MIN_POINTS):
            return self._to_radar_exact(lat, lon, h)
        return self._to_radar_lut(lat, lon, h)

    def _to_radar_exact(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], h: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        from sarbd.geometry import geo2rdr

        grid = self.grid.with_epoch(self.orbit.reference_epoch)
        # first guess: the grid's mid time keeps Newton in the orbit's span
        guess = np.full(lat.shape, float(grid.line_to_azimuth_time((grid.length - 1) / 2)))
        t, r, _ = geo2rdr(
            lat,
            lon,
            h,
            self.orbit,
            look_side=grid.look_side,
            wavelength=grid.wavelength,
            azimuth_time_guess=guess,
        )
        return grid.azimuth_time_to_line(t), grid.slant_range_to_pixel(r)

    def _to_radar_lut(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], h: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        shape = lat.shape
        lat, lon, h = lat.ravel(), lon.ravel(), h.ravel()
        ok = np.isfinite(lat) & np.isfinite(lon) & np.isfinite(h)
        box = (
            float(np.min(lon[ok])),
            float(np.min(lat[ok])),
            float(np.max(lon[ok])),
            float(np.max(lat[ok])),
        )
        h0, h1 = float(np.min(h[ok])), float(np.max(h[ok]))
        if lookup_size(box, (h0, h1)) > lat.size // 2:  # sparse points: solving each is cheaper
            t_, r_ = self._to_radar_exact(lat, lon, h)
            return t_.reshape(shape), r_.reshape(shape)
        table = self.lookup(box, (h0, h1))
        line, pixel = table.interpolate(lat, lon, h)
        return np.where(ok, line, np.nan).reshape(shape), np.where(ok, pixel, np.nan).reshape(shape)

    def lookup(
        self,
        bounds: tuple[float, float, float, float],
        heights: tuple[float, float],
        *,
        block_points: int = LUT_BLOCK_POINTS,
    ) -> RadarLookup:
        """The geo2rdr lookup table over ``bounds`` (west, south, east, north; deg) and a height range (m).

        See :meth:`to_radar` for the lattice and its interpolation error, and
        :class:`RadarLookup` for its use on points it does not cover. The lattice is
        solved ``block_points`` points at a time (memory), each point on its own.
        """
        lo0, la0 = float(bounds[0]), float(bounds[1])
        h0, h1 = float(heights[0]), float(heights[1])
        dlat, dlon, nla, nlo = _lattice(bounds)
        levels = np.array([h0]) if h1 - h0 < 1e-3 else np.array([h0, 0.5 * (h0 + h1), h1])
        glat = la0 - 0.5 * dlat + dlat * np.arange(nla)
        glon = lo0 - 0.5 * dlon + dlon * np.arange(nlo)
        nl = np.empty((nla, nlo, levels.size))
        npx = np.empty((nla, nlo, levels.size))
        rows = max(
            1, int(block_points) // (nlo * levels.size)
        )  # bounded memory: lattice rows in blocks
        for r0 in range(0, nla, rows):
            GL, GO, GH = np.meshgrid(glat[r0 : r0 + rows], glon, levels, indexing="ij")
            nl[r0 : r0 + rows], npx[r0 : r0 + rows] = self._to_radar_exact(GL, GO, GH)
        return RadarLookup(self, float(glat[0]), float(glon[0]), dlat, dlon, levels, nl, npx)

    def footprint(self, height: float = 0.0, n: int = 24) -> shapely.Polygon:
        """Longitude/latitude outline of the grid (pixel edges) at one ellipsoidal height."""
        from sarbd.geometry import rdr2geo

        g = self.grid.with_epoch(self.orbit.reference_epoch)
        lo_l, hi_l = -0.5, g.length - 0.5
        lo_p, hi_p = -0.5, g.width - 0.5
        s = np.linspace(0.0, 1.0, n)
        lines = np.concatenate(
            [np.full(n, lo_l), lo_l + s * (hi_l - lo_l), np.full(n, hi_l), hi_l - s * (hi_l - lo_l)]
        )
        pixels = np.concatenate(
            [lo_p + s * (hi_p - lo_p), np.full(n, hi_p), hi_p - s * (hi_p - lo_p), np.full(n, lo_p)]
        )
        # the orbit may end at the first/last line: clamp times into its span
        t = np.clip(g.line_to_azimuth_time(lines), self.orbit.time[0], self.orbit.time[-1])
        lat, lon, _ = rdr2geo(
            t,
            g.pixel_to_slant_range(pixels),
            self.orbit,
            height=height,
            look_side=g.look_side,
            wavelength=g.wavelength,
        )
        ok = np.isfinite(lat) & np.isfinite(lon)
        if ok.sum() < 4:
            raise InputError(
                "cannot locate the radar grid on the ground (rdr2geo failed)",
                path=self.path,
                hint="check the grid's orbit and range",
            )
        return shapely.make_valid(shapely.Polygon(np.c_[lon[ok], lat[ok]]))

    def ground_spacing(self, incidence_deg: float | None = None) -> tuple[float, float]:
        """Approximate ground spacing (azimuth, ground range) of a pixel at mid-swath, m."""
        from sarbd.core.ellipsoid import llh_to_ecef
        from sarbd.geometry import rdr2geo

        g = self.grid.with_epoch(self.orbit.reference_epoch)
        lm, pm = (g.length - 1) / 2, (g.width - 1) / 2
        lines = np.array([lm, lm + 1.0, lm])
        pixels = np.array([pm, pm, pm + 1.0])
        t = np.clip(g.line_to_azimuth_time(lines), self.orbit.time[0], self.orbit.time[-1])
        lat, lon, h = rdr2geo(
            t,
            g.pixel_to_slant_range(pixels),
            self.orbit,
            height=0.0,
            look_side=g.look_side,
            wavelength=g.wavelength,
        )
        xyz = llh_to_ecef(lat, lon, h)
        d_az = float(np.linalg.norm(xyz[1] - xyz[0]))
        d_rg = float(np.linalg.norm(xyz[2] - xyz[0]))
        if not (np.isfinite(d_az) and np.isfinite(d_rg)) or d_az == 0.0:
            d_az = g.azimuth_time_interval * 7000.0
            d_rg = g.range_pixel_spacing / np.sin(np.radians(incidence_deg or 35.0))
        return d_az, d_rg


def _lattice(bounds: tuple[float, float, float, float]) -> tuple[float, float, int, int]:
    """Spacing (deg) and size of a :data:`LUT_SPACING_M` lattice over ``bounds`` (W, S, E, N)."""
    lo0, la0, lo1, la1 = (float(v) for v in bounds)
    dlat = LUT_SPACING_M / 111_320.0
    dlon = LUT_SPACING_M / (111_320.0 * max(np.cos(np.radians(0.5 * (la0 + la1))), 0.05))
    nla = int(np.ceil((la1 - la0) / dlat)) + 2
    nlo = int(np.ceil((lo1 - lo0) / dlon)) + 2
    return dlat, dlon, nla, nlo


def lookup_size(bounds: tuple[float, float, float, float], heights: tuple[float, float]) -> int:
    """Number of geo2rdr solutions :meth:`Target.lookup` needs for ``bounds`` and a height range."""
    _, _, nla, nlo = _lattice(bounds)
    return nla * nlo * (1 if heights[1] - heights[0] < 1e-3 else 3)


@dataclass(frozen=True)
class RadarLookup:
    """A geo2rdr lookup table: exact (line, pixel) on a longitude/latitude lattice at 1 or 3 heights.

    :meth:`interpolate` gives the table's values (bilinear across the lattice,
    quadratic Lagrange in height; error below 1e-3 pixel, see :meth:`Target.to_radar`);
    :meth:`to_radar` uses them where a point lies inside the lattice and its height
    inside the table's range, and solves geo2rdr exactly for every other point (and
    where the table has no value), so each point's result depends on that point only:
    the same table gives the same coordinates whatever batch a point comes in.
    """

    target: Target
    lat0: float
    lon0: float
    dlat: float
    dlon: float
    levels: NDArray[np.float64]
    line_table: NDArray[np.float64]
    pixel_table: NDArray[np.float64]

    def interpolate(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], h: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The table interpolated at the points (clamped to the lattice's edge cells)."""
        nla, nlo = self.line_table.shape[:2]
        fy = (lat - self.lat0) / self.dlat
        fx = (lon - self.lon0) / self.dlon
        iy = np.clip(np.floor(np.nan_to_num(fy)).astype(np.int64), 0, nla - 2)
        ix = np.clip(np.floor(np.nan_to_num(fx)).astype(np.int64), 0, nlo - 2)
        wy = fy - iy
        wx = fx - ix
        levels = self.levels
        out = []
        for table in (self.line_table, self.pixel_table):
            at_level = [
                (
                    (1 - wy) * (1 - wx) * table[iy, ix, k]
                    + (1 - wy) * wx * table[iy, ix + 1, k]
                    + wy * (1 - wx) * table[iy + 1, ix, k]
                    + wy * wx * table[iy + 1, ix + 1, k]
                )
                for k in range(levels.size)
            ]
            if levels.size == 1:
                v = at_level[0]
            else:  # quadratic Lagrange interpolation in height
                a, b, c = levels
                v = (
                    at_level[0] * (h - b) * (h - c) / ((a - b) * (a - c))
                    + at_level[1] * (h - a) * (h - c) / ((b - a) * (b - c))
                    + at_level[2] * (h - a) * (h - b) / ((c - a) * (c - b))
                )
            out.append(v)
        return out[0], out[1]

    def to_radar(
        self, lat: ArrayLike, lon: ArrayLike, h: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(line, pixel) of points: from the table where it covers them, else geo2rdr (NaN: no solution)."""
        lat_a, lon_a, h_a = np.broadcast_arrays(
            np.asarray(lat, dtype=np.float64),
            np.asarray(lon, dtype=np.float64),
            np.asarray(h, dtype=np.float64),
        )
        shape = lat_a.shape
        la, lo, hh = lat_a.ravel(), lon_a.ravel(), h_a.ravel()
        nla, nlo = self.line_table.shape[:2]
        fy = (la - self.lat0) / self.dlat
        fx = (lo - self.lon0) / self.dlon
        tol = 1e-6 + 1e-9 * max(abs(float(self.levels[0])), abs(float(self.levels[-1])))
        inside = (
            (fy >= 0)
            & (fy <= nla - 1)
            & (fx >= 0)
            & (fx <= nlo - 1)
            & (hh >= self.levels[0] - tol)
            & (hh <= self.levels[-1] + tol)
        )
        line = np.full(la.shape, np.nan)
        pixel = np.full(la.shape, np.nan)
        if inside.any():
            line[inside], pixel[inside] = self.interpolate(la[inside], lo[inside], hh[inside])
        exact = (
            ~(np.isfinite(line) & np.isfinite(pixel))
            & np.isfinite(la)
            & np.isfinite(lo)
            & np.isfinite(hh)
        )
        if exact.any():
            line[exact], pixel[exact] = self.target._to_radar_exact(la[exact], lo[exact], hh[exact])
        return line.reshape(shape), pixel.reshape(shape)


def resolve_target(grid: GridSource, orbit: Orbit | None = None) -> Target:
    """Turn the ``grid`` argument of :func:`sarbd.radarcode` into a :class:`Target`.

    Parameters
    ----------
    grid
        A stack/dataset (``xarray.Dataset``), a path to one (Zarr or netCDF), a
        :class:`~sarbd.core.Scene`, or a :class:`~sarbd.core.RadarGrid` (then ``orbit``
        is required).
    orbit
        The orbit, when ``grid`` does not carry one (or to override it).
    """
    from sarbd.core.serialization import grid_from_dataset, orbit_from_dataset

    path: Path | None = None
    if isinstance(grid, str | os.PathLike):
        path = Path(grid)
        grid = _open_dataset(path)
    if isinstance(grid, Scene):
        return Target(grid.radar_grid, orbit or grid.orbit)
    if isinstance(grid, RadarGrid):
        if orbit is None:
            raise InputError(
                "a RadarGrid alone does not say where it is on the ground",
                hint="pass orbit=..., or a stack/dataset/Scene that carries one",
            )
        return Target(grid, orbit)
    if isinstance(grid, xr.Dataset | xr.DataArray):
        ds = grid if isinstance(grid, xr.Dataset) else grid.to_dataset(name=grid.name or "data")
        try:
            rg = grid_from_dataset(ds)
            orb = orbit or orbit_from_dataset(ds)
        except InputError as exc:
            raise InputError(
                f"not a radar grid: {exc.message}",
                path=path,
                hint="give a stack or dataset written by sarbd (see docs/formats.md)",
            ) from None
        return Target(rg, orb, ds, path)
    raise InputError(
        f"cannot use a {type(grid).__name__} as a radar grid",
        hint="give a stack/dataset, its path, a Scene, or a RadarGrid with an orbit",
    )


def _open_dataset(path: Path) -> xr.Dataset:
    if not path.exists():
        raise InputError("radar grid file not found", path=path)
    try:
        if path.is_dir() or path.suffix == ".zarr":
            return xr.open_zarr(path)
        return xr.open_dataset(path, engine="h5netcdf")
    except Exception as exc:
        raise InputError(f"cannot read it as a stack or dataset ({exc})", path=path) from None


@dataclass(frozen=True)
class LocalFrame:
    """A local transverse Mercator frame (WGS84, metres) centred on the scene.

    Buffers (line widths) and densification lengths are in true ground metres here
    (scale factor 1 at the centre, < 1e-5 off within 30 km).
    """

    lat0: float
    lon0: float

    @property
    def crs(self) -> Any:
        from pyproj import CRS

        return CRS.from_proj4(
            f"+proj=tmerc +lat_0={self.lat0:.9f} +lon_0={self.lon0:.9f} +k=1 "
            "+x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs +type=crs"
        )

    def to_lonlat(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        from pyproj import Transformer

        tr = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return np.asarray(lon), np.asarray(lat)

    def from_lonlat(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        x, y = tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        return np.asarray(x), np.asarray(y)


class StackHeights:
    """Terrain heights from the stack's own ``height`` layer (radar geometry).

    For a ground point (lat, lon) the height ``h`` must satisfy ``h = H(geo2rdr(lat, lon, h))``
    where ``H`` is the stack's height layer; a fixed-point iteration solves it (it
    converges where the terrain slope is below the incidence angle, i.e. outside
    layover), starting from the layer's median.
    """

    def __init__(self, target: Target, iterations: int = 6) -> None:
        assert target.dataset is not None
        self.target = target
        self.height = np.asarray(target.dataset["height"].values, dtype=np.float32)
        self.iterations = iterations
        self.description = f"height layer of {target.name}"

    def height_at(self, latitude: ArrayLike, longitude: ArrayLike) -> NDArray[np.float64]:
        from scipy.ndimage import map_coordinates

        lat = np.asarray(latitude, dtype=np.float64)
        lon = np.asarray(longitude, dtype=np.float64)
        h = np.full(np.broadcast(lat, lon).shape, float(np.nanmedian(self.height)))
        for _ in range(self.iterations):
            line, pixel = self.target.to_radar(lat, lon, h)
            h_new = map_coordinates(
                self.height, [line, pixel], order=1, mode="nearest", cval=np.nan
            )
            h_new = np.where(np.isfinite(h_new), h_new, h)
            if np.nanmax(np.abs(h_new - h), initial=0.0) < 1e-3:
                return h_new
            h = h_new
        return h


#: Terrain heights as :func:`sarbd.radarcode` takes them: a DEM file, a
#: :class:`~sarbd.geometry.Dem` (or any :class:`HeightSource`), a constant ellipsoidal
#: height (m), or None (the stack's ``height`` layer).
DemSource: TypeAlias = "str | os.PathLike[str] | Dem | HeightSource | float | None"


def heights_from(
    dem: DemSource, target: Target, bounds: tuple[float, float, float, float] | None
) -> HeightSource:
    """The terrain height source for ``dem`` (a path, a Dem, a number, or None).

    ``None`` uses the stack's ``height`` layer when the target carries one.
    """
    if dem is None:
        if target.dataset is not None and "height" in target.dataset:
            return StackHeights(target)
        raise InputError(
            "radarcoding needs terrain heights: no DEM was given and the grid has no height layer",
            path=target.path,
            hint="pass --dem DEM.tif (or dem=<ellipsoidal height in m> for a flat scene)",
        )
    if isinstance(dem, int | float | np.floating | np.integer):
        return ConstantHeight(float(dem), f"constant ellipsoidal height {float(dem):g} m")
    if isinstance(dem, str | os.PathLike):
        from sarbd.geometry import Dem

        d = Dem.open(dem, bounds=bounds)
        return d  # type: ignore[return-value]
    if isinstance(dem, HeightSource):
        return dem
    raise InputError(
        f"cannot use a {type(dem).__name__} as a DEM",
        hint="give a DEM file, a sarbd.geometry.Dem, or a constant ellipsoidal height",
    )
