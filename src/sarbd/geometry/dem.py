"""Digital elevation models: any GeoTIFF in any CRS, converted to WGS84 ellipsoidal heights.

A DEM is read with rasterio; its horizontal CRS is handled by pyproj. Heights
above a geoid are converted to ellipsoidal heights on read, ``h = H + N``
(:mod:`sarbd.geometry.geoid`). The vertical datum is

* ``"auto"`` (default): taken from a compound CRS (e.g. EPSG:9707 = WGS 84 + EGM96
  height, or an ellipsoidal 3-D CRS); when the file does not say, EGM96 is
  assumed, which is right for SRTM, Copernicus GLO-30/90 (EGM2008 differs from
  EGM96 by less than a metre or so) and most DEMs distributed as GeoTIFF, and a
  WARNING says so with the geoid undulation at stake (it is wrong for isce3/NISAR
  DEMs, which are ellipsoidal: 75 m of geolocation on isce3's Winnipeg scene);
* ``"egm96"`` / ``"egm2008"``: heights above that geoid;
* ``"ellipsoid"``: heights are already ellipsoidal (e.g. isce3's test DEMs, the
  NISAR DEMs).

The choice is recorded in :attr:`Dem.description`, :attr:`Dem.vertical_datum` /
:attr:`Dem.vertical_datum_source` (``crs``, ``given`` or ``assumed``) and in every
output's ``height_model`` attribute.

Interpolation is bilinear on pixel centres (``AREA_OR_POINT=Area`` GeoTIFFs have
their centres half a pixel inside the corner given by the geotransform; rasterio
reports the corner). Heights are NaN outside the DEM and at nodata.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from sarbd.errors import InputError, NoOverlapError
from sarbd.geometry.geoid import geoid_height
from sarbd.geometry.kernels import BILINEAR, BIQUINTIC, NO_DEM, DemArrays, dem_interp
from sarbd.utils.log import get_logger

__all__ = ["NO_DEM", "Dem", "DemArrays", "DemInput", "GeographicDem"]

log = get_logger(__name__)

VERTICAL_DATUMS = ("auto", "egm96", "egm2008", "ellipsoid")
#: What ``"auto"`` takes when the file does not say (SRTM, Copernicus DEM): always with a warning.
ASSUMED_VERTICAL_DATUM = "egm96"

#: A DEM as the stages take it: a :class:`Dem`, a DEM file (opened over the scene), or
#: ``None`` (the ellipsoid).
DemInput: TypeAlias = "Dem | str | os.PathLike[str] | None"


@dataclass(frozen=True)
class GeographicDem:
    """A DEM on a regular longitude/latitude (WGS84) grid, as the Numba kernels take it.

    ``data[i, j]`` is the ellipsoidal height (m) at longitude ``x0 + j*dx`` and
    latitude ``y0 + i*dy`` (degrees, pixel centres).
    """

    data: NDArray[np.float64]
    x0: float
    y0: float
    dx: float
    dy: float
    method: int = 0

    @property
    def arrays(self) -> DemArrays:
        """The DEM for Numba kernels (:class:`DemArrays`)."""
        return DemArrays(
            np.ascontiguousarray(self.data, dtype=np.float64),
            float(self.x0),
            float(self.y0),
            float(self.dx),
            float(self.dy),
            int(self.method),
        )

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the pixel centres, degrees."""
        ny, nx = self.data.shape
        xs = (self.x0, self.x0 + (nx - 1) * self.dx)
        ys = (self.y0, self.y0 + (ny - 1) * self.dy)
        return (min(xs), min(ys), max(xs), max(ys))


@numba.njit(cache=True, parallel=True)
def _interp_many(dem, x0, y0, dx, dy, x, y, method):  # type: ignore[no-untyped-def]
    out = np.empty(x.shape[0])
    for k in numba.prange(x.shape[0]):
        out[k] = dem_interp(dem, x0, y0, dx, dy, x[k], y[k], method)
    return out


#: Interpolation names -> kernel codes.
INTERPOLATIONS = {"bilinear": BILINEAR, "biquintic": BIQUINTIC}


def _vertical_datum_of(crs: Any) -> str | None:
    """'egm96' / 'egm2008' / 'ellipsoid' from a pyproj CRS, or None when it does not say."""
    if crs.is_compound:
        for sub in crs.sub_crs_list:
            if sub.is_vertical:
                name = (sub.name + " " + (sub.datum.name if sub.datum else "")).lower()
                if "egm96" in name or "egm 96" in name:
                    return "egm96"
                if "egm2008" in name or "egm08" in name or "egm 2008" in name:
                    return "egm2008"
                if "ellipsoid" in name:
                    return "ellipsoid"
                raise InputError(
                    f"the DEM's vertical datum {sub.name!r} is not supported",
                    hint="pass vertical_datum='egm96', 'egm2008' or 'ellipsoid' explicitly",
                )
    axes = getattr(crs, "axis_info", [])
    if len(axes) == 3 and crs.is_geographic:  # a 3-D geographic CRS: ellipsoidal heights
        return "ellipsoid"
    return None


def _horizontal(crs: Any) -> Any:
    if crs.is_compound:
        return crs.sub_crs_list[0]
    return crs


def _is_wgs84_geographic(crs: Any) -> bool:
    from pyproj import CRS

    h = _horizontal(crs)
    if not h.is_geographic:
        return False
    try:
        return bool(h.to_2d().equals(CRS.from_epsg(4326), ignore_axis_order=True)) or (
            h.ellipsoid is not None
            and h.ellipsoid.name == "WGS 84"
            and "WGS" in h.datum.name
            and "1984" in h.datum.name
        )
    except Exception:  # pragma: no cover
        return False


@dataclass(frozen=True)
class Dem:
    """A DEM holding WGS84 ellipsoidal heights (m) in its own CRS.

    Build with :meth:`open` (a GeoTIFF) or :meth:`from_array`.

    Parameters
    ----------
    data
        Ellipsoidal heights, float64, NaN where unknown; ``data[i, j]`` at the centre of
        pixel ``(i, j)`` of ``transform``.
    transform
        Affine geotransform (rasterio convention, pixel corners).
    crs
        Horizontal (or compound) CRS, a :class:`pyproj.CRS`.
    description
        How heights were obtained, e.g. ``"DEM Rome-30m-DEM.tif (EGM96 -> ellipsoid)"``.
    path
        The source file, if any.
    interpolation
        ``"bilinear"`` (default) or ``"biquintic"`` (isce3's default DEM interpolation:
        local natural cubic splines on a 6 x 6 window).
    vertical_datum
        What the file's heights were taken to be above: ``egm96``, ``egm2008`` or
        ``ellipsoid`` (``data`` is always ellipsoidal).
    vertical_datum_source
        ``crs`` (the file's CRS says), ``given`` (by the caller) or ``assumed``.
    """

    data: NDArray[np.float64]
    transform: Any
    crs: Any
    description: str
    path: Path | None = None
    interpolation: str = "bilinear"
    vertical_datum: str = "ellipsoid"
    vertical_datum_source: str = "given"
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        vertical_datum: str = "auto",
        bounds: tuple[float, float, float, float] | None = None,
        margin: float = 0.05,
        interpolation: str = "bilinear",
    ) -> Dem:
        """Read a DEM GeoTIFF (or any raster GDAL opens) and convert it to ellipsoidal heights.

        Parameters
        ----------
        path
            The raster file.
        vertical_datum
            ``"auto"``, ``"egm96"``, ``"egm2008"`` or ``"ellipsoid"`` (module docstring).
        bounds
            Optional ``(west, south, east, north)`` in degrees: read only this box
            (plus ``margin`` degrees) of a large DEM.
        margin
            Margin around ``bounds``, degrees.
        interpolation
            ``"bilinear"`` or ``"biquintic"`` (isce3-compatible).

        Raises
        ------
        InputError
            If the file cannot be read or has no CRS.
        NoOverlapError
            If ``bounds`` does not intersect the DEM.
        """
        import rasterio
        from pyproj import CRS
        from rasterio.windows import Window, from_bounds

        path = Path(path)
        datum = vertical_datum.lower()
        if datum not in VERTICAL_DATUMS:
            raise InputError(
                f"unknown vertical datum {vertical_datum!r}",
                hint=f"use one of {', '.join(VERTICAL_DATUMS)}",
            )
        if interpolation not in INTERPOLATIONS:
            raise InputError(
                f"unknown DEM interpolation {interpolation!r}",
                hint=f"use one of {', '.join(INTERPOLATIONS)}",
            )
        if not path.exists():
            raise InputError("DEM file not found", path=path)
        try:
            src = rasterio.open(path)
        except Exception as exc:
            raise InputError(f"cannot read the DEM ({exc})", path=path) from None
        with src:
            if src.crs is None:
                raise InputError(
                    "the DEM has no coordinate reference system",
                    path=path,
                    hint="georeference it (e.g. gdal_edit.py -a_srs EPSG:4326 FILE)",
                )
            crs = CRS.from_wkt(src.crs.to_wkt())
            window = Window(0, 0, src.width, src.height)
            if bounds is not None:
                from pyproj import Transformer

                w, s, e, n = bounds
                tr = Transformer.from_crs("EPSG:4326", _horizontal(crs), always_xy=True)
                xs, ys = tr.transform(
                    np.array([w - margin, e + margin, w - margin, e + margin]),
                    np.array([s - margin, s - margin, n + margin, n + margin]),
                )
                win = from_bounds(min(xs), min(ys), max(xs), max(ys), src.transform)
                c0 = max(int(np.floor(win.col_off)), 0)
                r0 = max(int(np.floor(win.row_off)), 0)
                c1 = min(int(np.ceil(win.col_off + win.width)), src.width)
                r1 = min(int(np.ceil(win.row_off + win.height)), src.height)
                if c1 <= c0 or r1 <= r0:
                    raise NoOverlapError(
                        f"the area {bounds} (west, south, east, north) lies outside the DEM",
                        path=path,
                        hint="use a DEM that covers the scene",
                    )
                window = Window(c0, r0, c1 - c0, r1 - r0)
            data = src.read(1, window=window, masked=True).astype(np.float64).filled(np.nan)
            transform = src.window_transform(window)
        if data.size == 0:
            raise NoOverlapError("the requested area lies outside the DEM", path=path)
        found = _vertical_datum_of(crs)
        if datum == "auto":
            datum = found or ASSUMED_VERTICAL_DATUM
            source = "crs" if found else "assumed"
            how = "from the CRS" if found else "ASSUMED: the file does not state its vertical datum"
        else:
            source, how = "given", "given"
            if found and found != datum:
                log.warning(
                    "%s: vertical datum %s given, but the CRS says %s; using %s",
                    path.name,
                    datum,
                    found,
                    datum,
                )
        dem = cls(np.ascontiguousarray(data), transform, crs, "", path, interpolation)
        lat, lon = dem._pixel_latlon()
        if datum == "ellipsoid":
            desc = f"DEM {path.name} (ellipsoidal heights, {how})"
        else:
            undulation = geoid_height(lat, lon, model=datum)
            data = data + undulation
            desc = f"DEM {path.name} ({datum.upper()} -> ellipsoid, {how})"
        if source == "assumed":
            _warn_assumed_datum(path, lat, lon, datum)
        if interpolation != "bilinear":
            desc += f", {interpolation} interpolation"
        log.info("DEM %s: %d x %d, %s", path.name, data.shape[0], data.shape[1], desc)
        return cls(
            np.ascontiguousarray(data), transform, crs, desc, path, interpolation, datum, source
        )

    @classmethod
    def from_array(
        cls,
        data: ArrayLike,
        transform: Any,
        crs: Any = "EPSG:4326",
        *,
        description: str = "DEM array (ellipsoidal heights)",
    ) -> Dem:
        """A DEM from an array of ellipsoidal heights with a rasterio ``Affine`` and a CRS."""
        from pyproj import CRS

        return cls(
            np.ascontiguousarray(np.asarray(data, dtype=np.float64)),
            transform,
            CRS.from_user_input(crs),
            description,
        )

    @classmethod
    def geoid_surface(
        cls,
        bounds: tuple[float, float, float, float],
        height: float = 0.0,
        *,
        model: str = "egm96",
        spacing: float = 0.05,
    ) -> Dem:
        """A surface ``height`` metres above the geoid over ``bounds`` (west, south, east, north).

        Used as the height model "constant height above the geoid" (e.g. 0 m for the sea).
        """
        from rasterio.transform import from_origin

        w, s, e, n = bounds
        w, s, e, n = w - 2 * spacing, s - 2 * spacing, e + 2 * spacing, n + 2 * spacing
        nx = max(math.ceil((e - w) / spacing) + 1, 2)
        ny = max(math.ceil((n - s) / spacing) + 1, 2)
        lon = w + spacing * (np.arange(nx) + 0.5)
        lat = n - spacing * (np.arange(ny) + 0.5)
        data = geoid_height(lat[:, None], lon[None, :], model=model) + height
        return cls.from_array(
            data,
            from_origin(w, n, spacing, spacing),
            "EPSG:4326",
            description=f"constant {height:g} m above {model.upper()}",
        )

    # -- geometry of the raster --------------------------------------------------------
    def _pixel_latlon(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        ny, nx = self.data.shape
        t = self.transform
        cols = np.arange(nx) + 0.5
        rows = np.arange(ny) + 0.5
        x = t.c + t.a * cols[None, :] + t.b * rows[:, None]
        y = t.f + t.d * cols[None, :] + t.e * rows[:, None]
        x, y = np.broadcast_arrays(x, y)
        if _is_wgs84_geographic(self.crs):
            return y.copy(), x.copy()
        from pyproj import Transformer

        tr = Transformer.from_crs(_horizontal(self.crs), "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(x, y)
        return np.asarray(lat), np.asarray(lon)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    def geographic(self) -> GeographicDem:
        """The DEM on a regular WGS84 longitude/latitude grid (for the Numba kernels).

        A geographic WGS84 DEM is used as it is; any other CRS is warped once
        (bilinear, rasterio) to EPSG:4326 at about its own resolution.
        """
        if "geo" in self._cache:
            return self._cache["geo"]  # type: ignore[no-any-return]
        t = self.transform
        if _is_wgs84_geographic(self.crs) and t.b == 0 and t.d == 0:
            g = GeographicDem(
                self.data,
                t.c + t.a / 2,
                t.f + t.e / 2,
                t.a,
                t.e,
                INTERPOLATIONS[self.interpolation],
            )
        else:
            g = self._warp_to_geographic()
        self._cache["geo"] = g
        return g

    def _warp_to_geographic(self) -> GeographicDem:
        from rasterio.crs import CRS as RioCRS
        from rasterio.warp import Resampling, calculate_default_transform, reproject

        src_crs = RioCRS.from_wkt(_horizontal(self.crs).to_wkt())
        ny, nx = self.data.shape
        left, top = self.transform.c, self.transform.f
        right = left + self.transform.a * nx
        bottom = top + self.transform.e * ny
        dst_t, w, h = calculate_default_transform(
            src_crs, "EPSG:4326", nx, ny, left=left, bottom=bottom, right=right, top=top
        )
        dst = np.full((h, w), np.nan)
        reproject(
            self.data,
            dst,
            src_transform=self.transform,
            src_crs=src_crs,
            dst_transform=dst_t,
            dst_crs="EPSG:4326",
            resampling=Resampling.bilinear,
            src_nodata=np.nan,
            dst_nodata=np.nan,
        )
        log.info(
            "DEM warped from %s to EPSG:4326 (%d x %d) for the geometry kernels",
            src_crs.to_string(),
            h,
            w,
        )
        return GeographicDem(
            dst,
            dst_t.c + dst_t.a / 2,
            dst_t.f + dst_t.e / 2,
            dst_t.a,
            dst_t.e,
            INTERPOLATIONS[self.interpolation],
        )

    def bounds_latlon(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the DEM in degrees."""
        return self.geographic().bounds

    # -- sampling ----------------------------------------------------------------------
    def height_range(self, bounds: tuple[float, float, float, float]) -> tuple[float, float]:
        """Lowest and highest height (m) over ``bounds`` ``(west, south, east, north)``, degrees.

        The DEM posts inside the bounds, plus the bounds' outline sampled every 0.001 deg
        (a DEM coarser than the area may have no post inside it).

        Raises
        ------
        InputError
            No valid height inside the bounds.
        """
        import shapely

        w, s, e, n = bounds
        lat, lon = self._pixel_latlon()
        inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        outline = np.asarray(shapely.segmentize(shapely.box(w, s, e, n), 0.001).exterior.coords)
        h = np.concatenate([self.data[inside], self.height_at(outline[:, 1], outline[:, 0])])
        h = h[np.isfinite(h)]
        if h.size == 0:
            raise InputError(
                f"the DEM has no valid height in ({w:.5f}, {s:.5f}, {e:.5f}, {n:.5f})",
                path=self.path,
            )
        return float(h.min()), float(h.max())

    def height_at(self, latitude: ArrayLike, longitude: ArrayLike) -> NDArray[np.float64]:
        """Ellipsoidal height (m) at latitude/longitude (degrees); NaN outside.

        Interpolated by :attr:`interpolation` (bilinear by default).

        Sampled in the DEM's own CRS (points are transformed with pyproj), so no
        resampling of the DEM is involved.
        """
        lat, lon = np.broadcast_arrays(
            np.asarray(latitude, dtype=np.float64), np.asarray(longitude, dtype=np.float64)
        )
        shape = lat.shape
        lat = lat.ravel()
        lon = lon.ravel()
        t = self.transform
        if _is_wgs84_geographic(self.crs):
            x, y = lon, lat
        else:
            x, y = _to_native(self.crs, lon, lat)
        if t.b != 0 or t.d != 0:
            inv = ~t
            col = inv.a * x + inv.b * y + inv.c - 0.5
            row = inv.d * x + inv.e * y + inv.f - 0.5
            out = _interp_many(
                self.data,
                0.0,
                0.0,
                1.0,
                1.0,
                np.ascontiguousarray(col),
                np.ascontiguousarray(row),
                INTERPOLATIONS[self.interpolation],
            )
        else:
            out = _interp_many(
                self.data,
                t.c + t.a / 2,
                t.f + t.e / 2,
                t.a,
                t.e,
                np.ascontiguousarray(x, dtype=np.float64),
                np.ascontiguousarray(y, dtype=np.float64),
                INTERPOLATIONS[self.interpolation],
            )
        return out.reshape(shape)


def _warn_assumed_datum(
    path: Path, lat: NDArray[np.float64], lon: NDArray[np.float64], datum: str
) -> None:
    """Say loudly which vertical datum was assumed, and what the other choice would change.

    The two usual readings of an unlabelled DEM -- heights above EGM96 (SRTM, Copernicus
    DEM as distributed) or above the WGS84 ellipsoid (isce3 test DEMs, NISAR DEMs) --
    differ by the geoid undulation N, which moves every geolocated pixel by about
    N / tan(incidence) in ground range: on isce3's Winnipeg scene (N = -26 m, 28 deg
    incidence) 75 m at most, 51 m rms.
    """
    ok = np.isfinite(lat) & np.isfinite(lon)
    try:
        n = geoid_height(lat[ok][::97], lon[ok][::97], model="egm96") if ok.any() else np.zeros(1)
        span = f"{float(np.min(n)):+.1f}..{float(np.max(n)):+.1f} m" if n.size else "unknown"
    except Exception:  # no geoid grid: the message still names the assumption
        span = "unknown"
    log.warning(
        "%s: the DEM does not state its vertical datum; its heights are ASSUMED to be above %s. The geoid "
        "undulation here is %s: if the heights are ellipsoidal (isce3/NISAR DEMs) every position is off by "
        "that much vertically and by about that over tan(incidence) on the ground. Say which with "
        "--vertical-datum / inputs.dem_vertical_datum (egm96, egm2008 or ellipsoid).",
        path,
        datum.upper(),
        span,
    )


def _to_native(crs: Any, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[Any, Any]:
    tr = _transformer_to(_horizontal(crs).to_wkt())
    x, y = tr.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


@functools.lru_cache(maxsize=8)
def _transformer_to(wkt: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", wkt, always_xy=True)
