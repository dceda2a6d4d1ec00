"""Cloud-Optimized GeoTIFFs of dataset variables: radar geometry with GCPs, or geocoded.

Radar geometry (default): the native ``(line, pixel)`` grid, tiled and compressed by
GDAL's COG driver (https://gdal.org/en/stable/drivers/raster/cog.html), with
ground-control points (GeoTIFF tie-points, EPSG:4326) taken from the ``latitude`` /
``longitude`` (and ``height``) layers on a regular sub-grid. A GCP sits at the *centre*
of its pixel: GDAL's raster space counts from the pixel corner, so pixel ``(i, j)`` is
``(row, col) = (i + 0.5, j + 0.5)``.

Geocoded (``geocode=True``): each radar pixel is placed with its own latitude/longitude,
which the geometry stage computed from the DEM (rdr2geo), through GDAL's geolocation-array
transformer (``SRC_METHOD=GEOLOC_ARRAY``, inverted with a back-map), not a low-order GCP
polynomial -- which cannot follow the terrain-dependent shifts of radar geometry. The
output grid is the DEM's grid when ``dem`` is given, otherwise a UTM grid around the scene.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sarbd.errors import InputError
from sarbd.utils.files import atomic_output

__all__ = ["CogRecord", "radar_gcps", "write_cogs"]


@dataclass(frozen=True)
class CogRecord:
    """One written COG."""

    variable: str
    time: np.datetime64 | None
    path: Path
    geocoded: bool
    split: str | None = None  # the split of a per-split label COG (``folder/splits/<split>/``)


def radar_gcps(ds: xr.Dataset, max_per_axis: int = 16) -> list[Any]:
    """GCPs (EPSG:4326, pixel centres) on a regular sub-grid of the lat/lon layers."""
    from rasterio.control import GroundControlPoint

    lat = np.asarray(ds["latitude"].transpose("line", "pixel").values, float)
    lon = np.asarray(ds["longitude"].transpose("line", "pixel").values, float)
    hgt = (
        np.asarray(ds["height"].transpose("line", "pixel").values, float)
        if "height" in ds
        else None
    )
    rows = np.unique(
        np.linspace(0, lat.shape[0] - 1, min(max_per_axis, lat.shape[0])).round().astype(int)
    )
    cols = np.unique(
        np.linspace(0, lat.shape[1] - 1, min(max_per_axis, lat.shape[1])).round().astype(int)
    )
    gcps = []
    for i in rows:
        for j in cols:
            if np.isfinite(lat[i, j]) and np.isfinite(lon[i, j]):
                z = float(hgt[i, j]) if hgt is not None and np.isfinite(hgt[i, j]) else 0.0
                gcps.append(
                    GroundControlPoint(
                        row=i + 0.5,
                        col=j + 0.5,
                        x=float(lon[i, j]),
                        y=float(lat[i, j]),
                        z=z,
                        id=f"{i}_{j}",
                    )
                )
    if len(gcps) < 3:
        raise InputError("fewer than 3 valid latitude/longitude samples for GCPs")
    return gcps


#: Tile size of the COGs (px), and the size (px) below which no further overview is made.
BLOCKSIZE = 256
MIN_OVERVIEW_SIZE = 32


def overview_count(height: int, width: int, min_size: int = MIN_OVERVIEW_SIZE) -> int:
    """Number of power-of-two overview levels, halving until the longer side is <= ``min_size``.

    GDAL's ``OVERVIEWS=AUTO`` stops once a level fits in one tile (256 px), which leaves a
    small scene with one level or none; the full pyramid down to a thumbnail lets every
    zoom level of QGIS or a tile server read a level near its scale.
    """
    n, size = 0, max(height, width)
    while size > min_size:
        size = (size + 1) // 2
        n += 1
    return n


def _profile(dtype: np.dtype, categorical: bool, shape: tuple[int, int]) -> dict[str, Any]:
    opts: dict[str, Any] = {"COMPRESS": "DEFLATE", "BLOCKSIZE": BLOCKSIZE}
    count = overview_count(*shape)
    opts["OVERVIEWS"] = "IGNORE_EXISTING" if count else "NONE"
    if count:
        opts["OVERVIEW_COUNT"] = count
    if np.issubdtype(dtype, np.floating):
        opts["PREDICTOR"] = "3"
    else:
        opts["PREDICTOR"] = "2"
    opts["OVERVIEW_RESAMPLING"] = opts["RESAMPLING"] = "NEAREST" if categorical else "AVERAGE"
    return opts


def _is_categorical(da: xr.DataArray) -> bool:
    return (
        "flag_values" in da.attrs or "flag_masks" in da.attrs or np.issubdtype(da.dtype, np.integer)
    )


#: Colours of the ``split`` raster's codes 1 train, 2 validation, 3 test.
SPLIT_COLOURS = {1: "#4c72b0", 2: "#dd8452", 3: "#55a868"}


def _rgba(colour: str) -> tuple[int, int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), 255


def categorical_style(
    name: str, da: xr.DataArray
) -> tuple[float | None, dict[int, tuple[int, int, int, int]] | None]:
    """``(nodata, colour table)`` of a categorical COG.

    Label rasters and ``split``: 0 (unlabelled / unassigned) is nodata, and each class
    (split) gets its colour (:func:`sarbd.dataset.classes.class_colour`), so that QGIS
    draws them as classes; other categorical layers (``quality_flags``, masks) have no
    nodata value in radar geometry (every value, 0 included, is meaningful).
    """
    from sarbd.dataset.classes import class_colour

    if name.startswith("label_"):
        values = [int(v) for v in np.atleast_1d(da.attrs.get("flag_values", []))]
        table = {v: _rgba(class_colour(v)) for v in values if v > 0}
        table[0] = (0, 0, 0, 0)
        return 0.0, table
    if name == "split":
        return 0.0, {0: (0, 0, 0, 0), **{k: _rgba(v) for k, v in SPLIT_COLOURS.items()}}
    return None, None


def _write_cog(
    path: Path,
    data: np.ndarray,
    *,
    crs: Any,
    tags: dict[str, str],
    description: str,
    categorical: bool,
    gcps: list[Any] | None = None,
    transform: Any = None,
    nodata: float | None = None,
    colormap: dict[int, tuple[int, int, int, int]] | None = None,
) -> None:
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy

    if data.dtype == np.float64:
        data = data.astype(np.float32)
    if data.dtype == bool:
        data = data.astype(np.uint8)
    if np.issubdtype(data.dtype, np.floating):
        nodata = float("nan")
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "nodata": nodata,
    }
    if transform is not None:
        profile.update(crs=crs, transform=transform)
    with MemoryFile() as mem, warnings.catch_warnings():
        # the GCPs are attached right after creation; GDAL warns about the bare moment in between
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with mem.open(**profile) as dst:
            if gcps is not None:
                dst.gcps = (gcps, crs)
            dst.write(data, 1)
            if colormap is not None and data.dtype in (np.uint8, np.uint16):
                dst.write_colormap(1, colormap)
            dst.set_band_description(1, description)
            dst.update_tags(**tags)
            dst.update_tags(1, **tags)
        with mem.open() as src, atomic_output(path) as tmp:
            rio_copy(src, tmp, driver="COG", **_profile(data.dtype, categorical, data.shape))
    with rasterio.open(path) as check:  # a cheap sanity read of what was written
        if check.count != 1:
            raise InputError("COG writer produced an unexpected band count", path=path)


def _target_grid(
    ds: xr.Dataset, dem: Any, crs: Any, resolution: float | None
) -> tuple[Any, Any, int, int]:
    """``(crs, transform, width, height)`` of the geocoded output."""
    import rasterio
    from pyproj import CRS, Transformer
    from rasterio.transform import from_origin

    if dem is not None:
        if isinstance(dem, str | os.PathLike):
            with rasterio.open(dem) as src:
                horizontal = CRS.from_user_input(src.crs.to_wkt())
                if (
                    horizontal.is_compound
                ):  # a DEM's "WGS 84 + EGM96 height": the map grid is the 2-D part
                    horizontal = horizontal.sub_crs_list[0]
                epsg = horizontal.to_epsg()
                out_crs = (
                    rasterio.crs.CRS.from_epsg(epsg)
                    if epsg
                    else rasterio.crs.CRS.from_wkt(horizontal.to_wkt())
                )
                return out_crs, src.transform, src.width, src.height
        raise InputError("dem must be the path of a raster whose grid the geocoded COGs take")
    lat = np.asarray(ds["latitude"].values, float)
    lon = np.asarray(ds["longitude"].values, float)
    if crs is None:
        lon0, lat0 = float(np.nanmean(lon)), float(np.nanmean(lat))
        zone = int((lon0 + 180) // 6) + 1
        crs = CRS.from_epsg((32600 if lat0 >= 0 else 32700) + zone)
    crs = CRS.from_user_input(crs)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    if resolution is None:  # the coarser of the two ground spacings
        dl = np.nanmedian(np.hypot(np.diff(x, axis=0), np.diff(y, axis=0)))
        dp = np.nanmedian(np.hypot(np.diff(x, axis=1), np.diff(y, axis=1)))
        resolution = float(max(dl, dp))
    x0, x1, y0, y1 = np.nanmin(x), np.nanmax(x), np.nanmin(y), np.nanmax(y)
    x0 = np.floor(x0 / resolution) * resolution
    y1 = np.ceil(y1 / resolution) * resolution
    width = int(np.ceil((x1 - x0) / resolution)) + 1
    height = int(np.ceil((y1 - y0) / resolution)) + 1
    return (
        rasterio.crs.CRS.from_wkt(crs.to_wkt()),
        from_origin(x0, y1, resolution, resolution),
        width,
        height,
    )


def _centres_to_corners(a: np.ndarray) -> np.ndarray:
    """Values at pixel corners ``(i - 1/2, j - 1/2)`` from values at pixel centres ``(i, j)``.

    GDAL's geolocation arrays follow the TOP_LEFT_CORNER convention by default (entry
    ``(i, j)`` is the position of raster point ``(line i, pixel j)``, the top-left corner
    of pixel ``(i, j)``), while sarbd's latitude/longitude are pixel centres. Bilinear
    interpolation inside, linear extrapolation at the first row/column.
    """
    p = np.empty((a.shape[0] + 1, a.shape[1] + 1), a.dtype)
    p[1:, 1:] = a
    p[0, 1:] = 2 * a[0] - a[1] if a.shape[0] > 1 else a[0]
    p[:, 0] = 2 * p[:, 1] - p[:, 2] if a.shape[1] > 1 else p[:, 1]
    return 0.25 * (p[:-1, :-1] + p[:-1, 1:] + p[1:, :-1] + p[1:, 1:])


def _geocode(
    data: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    grid: tuple[Any, Any, int, int],
    categorical: bool,
    fill: float = 0,
) -> np.ndarray:
    from rasterio.crs import CRS
    from rasterio.warp import Resampling, reproject

    dst_crs, dst_transform, width, height = grid
    if categorical:
        dst = np.full((height, width), fill, data.dtype)
        src_nodata: float | None = None
        dst_nodata: float = fill
    else:
        data = data.astype(np.float32)
        dst = np.full((height, width), np.nan, np.float32)
        src_nodata = dst_nodata = float("nan")
    reproject(
        source=data,
        destination=dst,
        src_crs=CRS.from_epsg(4326),
        src_geoloc_array=np.stack([_centres_to_corners(lon), _centres_to_corners(lat)]),
        dst_crs=dst_crs,
        dst_transform=dst_transform,
        src_nodata=src_nodata,
        dst_nodata=dst_nodata,
        resampling=Resampling.nearest if categorical else Resampling.bilinear,
    )
    return dst


def write_cogs(
    ds: xr.Dataset,
    folder: str | os.PathLike[str],
    variables: Sequence[str] | None = None,
    geocode: bool = False,
    dem: str | os.PathLike[str] | None = None,
    crs: Any = None,
    resolution: float | None = None,
    max_gcps_per_axis: int = 16,
) -> list[CogRecord]:
    """Write one COG per variable and date.

    Parameters
    ----------
    ds
        Dataset with ``latitude``/``longitude`` (``docs/formats.md``).
    folder
        Output folder; files are ``<variable>.tif`` or ``<variable>_<YYYYMMDD>.tif``
        (geocoded ones in ``folder/geocoded/``).
    variables
        Variables to write (default: every data variable on ``(line, pixel)``, except
        orbit/geometry helpers).
    geocode
        Also write geocoded COGs (see the module docstring).
    dem
        Raster whose grid (CRS, transform, size) the geocoded COGs take.
    crs, resolution
        Output CRS (default: UTM zone of the scene centre) and pixel size (m; default the
        coarser ground spacing) when no ``dem`` is given.
    max_gcps_per_axis
        GCP sub-grid size per axis.

    Returns
    -------
    list of CogRecord
    """
    from rasterio.crs import CRS

    folder = Path(folder)
    if "latitude" not in ds.variables or "longitude" not in ds.variables:
        raise InputError(
            "dataset has no latitude/longitude layers for GCPs",
            hint="keep the stack's latitude/longitude coordinates in the dataset",
        )
    if variables is None:
        variables = [
            str(k)
            for k, v in ds.data_vars.items()
            if {"line", "pixel"} <= set(v.dims)
            and v.ndim <= 3
            and not np.iscomplexobj(v.dtype.type(0))
        ]
    wgs84 = CRS.from_epsg(4326)
    gcps = radar_gcps(ds, max_gcps_per_axis)
    lat = np.asarray(ds["latitude"].transpose("line", "pixel").values, float)
    lon = np.asarray(ds["longitude"].transpose("line", "pixel").values, float)
    grid = _target_grid(ds, dem, crs, resolution) if geocode else None
    records: list[CogRecord] = []
    for name in variables:
        if name not in ds:
            raise InputError(f"variable {name!r} is not in the dataset")
        da = ds[name]
        extra = set(da.dims) - {"time", "line", "pixel"}
        if extra or not {"line", "pixel"} <= set(da.dims):
            raise InputError(f"variable {name!r} has dims {da.dims}; COGs need (time,) line, pixel")
        categorical = _is_categorical(da)
        times = list(np.asarray(ds["time"].values)) if "time" in da.dims else [None]
        # dates where the layer is undefined (reference-date coherence/phase, NaN): no COG
        undefined = set(str(da.attrs.get("sarbd_undefined_dates", "")).split())
        for k, t in enumerate(times):
            if t is not None and str(np.datetime64(t, "D")) in undefined:
                continue
            layer = da.isel(time=k) if t is not None else da
            data = np.asarray(layer.transpose("line", "pixel").values)
            stem = (
                name
                if t is None
                else f"{name}_{np.datetime_as_string(t, unit='D').replace('-', '')}"
            )
            tags = {
                key: str(layer.attrs[key])
                for key in (
                    "units",
                    "long_name",
                    "standard_name",
                    "flag_values",
                    "flag_meanings",
                    "flag_masks",
                )
                if key in layer.attrs
            }
            tags["sarbd_variable"] = name
            if t is not None:
                tags["time"] = str(np.datetime64(t, "s")) + "Z"
            tags["first_line"] = str(int(ds["line"].values[0]))
            tags["first_pixel"] = str(int(ds["pixel"].values[0]))
            nodata, colormap = categorical_style(name, layer) if categorical else (None, None)
            path = folder / f"{stem}.tif"
            _write_cog(
                path,
                data,
                crs=wgs84,
                tags=tags,
                description=name,
                categorical=categorical,
                gcps=gcps,
                nodata=nodata,
                colormap=colormap,
            )
            records.append(CogRecord(name, t, path, False))
            if grid is not None:
                gpath = folder / "geocoded" / f"{stem}.tif"
                # outside the scene: the nodata value, or (flags, masks) the type's largest value
                fill = (
                    nodata
                    if nodata is not None or not categorical
                    else float(np.iinfo(data.dtype if data.dtype != bool else np.uint8).max)
                )
                out = _geocode(data, lat, lon, grid, categorical, fill if fill is not None else 0)
                _write_cog(
                    gpath,
                    out,
                    crs=grid[0],
                    tags=tags,
                    description=name,
                    categorical=categorical,
                    transform=grid[1],
                    nodata=fill if categorical else None,
                    colormap=colormap,
                )
                records.append(CogRecord(name, t, gpath, True))
            if (
                "split" in ds
                and t is None
                and (name.startswith("label_") or name == "quality_flags")
            ):
                records.extend(
                    _split_cogs(ds, name, data, tags, gcps, wgs84, folder, grid, lat, lon)
                )
    return records


def _split_cogs(
    ds: xr.Dataset,
    name: str,
    data: np.ndarray,
    tags: dict[str, str],
    gcps: list[Any],
    crs: Any,
    folder: Path,
    grid: tuple[Any, Any, int, int] | None = None,
    lat: np.ndarray | None = None,
    lon: np.ndarray | None = None,
) -> list[CogRecord]:
    """``folder/splits/<split>/<name>.tif``: the layer on one split's pixels, nodata elsewhere.

    The label item of each split (STAC, ``ml-aoi:split``) points at these, so a split's
    item holds its own subset rather than the whole scene. With a geocoding ``grid``
    (and the ``lat``/``lon`` layers) the split's geocoded COG goes to
    ``folder/splits/<split>/geocoded/``.
    """
    from sarbd.dataset.classes import SPLIT_NAMES

    split = np.asarray(ds["split"].transpose("line", "pixel").values)
    categorical_nodata, colormap = categorical_style(name, ds[name])
    out = []
    for sid in (1, 2, 3):
        mask = split == sid
        if not mask.any():
            continue
        sname = SPLIT_NAMES[sid]
        if name == "quality_flags":  # 0 means "no flag": outside the split needs its own value
            fill = np.iinfo(data.dtype).max
            nodata: float | None = float(fill)
        else:
            fill, nodata = 0, categorical_nodata
        sub = np.where(mask, data, fill).astype(data.dtype)
        path = folder / "splits" / sname / f"{name}.tif"
        split_tags = {**tags, "sarbd_split": sname}
        _write_cog(
            path,
            sub,
            crs=crs,
            tags=split_tags,
            description=f"{name} ({sname})",
            categorical=True,
            gcps=gcps,
            nodata=nodata,
            colormap=colormap,
        )
        out.append(CogRecord(name, None, path, False, sname))
        if grid is not None and lat is not None and lon is not None:
            gpath = path.parent / "geocoded" / path.name
            _write_cog(
                gpath,
                _geocode(sub, lat, lon, grid, True, float(fill)),
                crs=grid[0],
                tags=split_tags,
                description=f"{name} ({sname})",
                categorical=True,
                transform=grid[1],
                nodata=float(fill),
                colormap=colormap,
            )
            out.append(CogRecord(name, None, gpath, True, sname))
    return out
