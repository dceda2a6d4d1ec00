"""Per-pixel geometry of a whole scene, and its CF netCDF file (``sarbd geocode``).

:func:`geocode_scene` picks the height model (a DEM, a constant height above the
geoid, or the product's geolocation grid floored at the geoid -- never a silent
zero), runs :func:`~sarbd.geometry.grid.rdr2geo_grid` and attaches the scene's global
attributes; :func:`write_geometry_netcdf` writes the result as CF-1.10 / ACDD-1.3
netCDF with 2-D ``latitude``/``longitude`` auxiliary coordinates (CF ch. 5.2).
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sarbd.core.capabilities import GeolocationGridProvider
from sarbd.core.scene import Scene
from sarbd.errors import InputError
from sarbd.geometry.dem import Dem
from sarbd.geometry.grid import rdr2geo_grid
from sarbd.geometry.height_model import HeightModel, annotation_height_model
from sarbd.geometry.solve import rdr2geo
from sarbd.utils.files import atomic_output
from sarbd.utils.log import get_logger

__all__ = [
    "GEOMETRY_VARIABLES",
    "ORBIT_VARIABLES",
    "footprint_bounds",
    "geocode_scene",
    "write_geometry_netcdf",
]

log = get_logger(__name__)

#: Variables written by ``sarbd geocode`` (plus latitude/longitude as coordinates).
GEOMETRY_VARIABLES = (
    "height",
    "incidence_angle",
    "local_incidence_angle",
    "layover_shadow_mask",
    "heading",
    "look_angle",
    "los_east",
    "los_north",
    "los_up",
    "converged",
)
#: The scene's orbit, written beside them (with the ``radar_grid_*`` attributes it makes the
#: file a radar grid: :func:`sarbd.core.serialization.grid_from_dataset` / ``orbit_from_dataset``).
ORBIT_VARIABLES = ("orbit_position", "orbit_velocity")


def footprint_bounds(scene: Scene, height: float = 0.0) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of the scene (degrees), from its border at ``height``."""
    grid = scene.radar_grid
    n = 9
    lines = np.concatenate(
        [
            np.zeros(n),
            np.full(n, grid.length - 1),
            np.linspace(0, grid.length - 1, n),
            np.linspace(0, grid.length - 1, n),
        ]
    )
    pixels = np.concatenate(
        [
            np.linspace(0, grid.width - 1, n),
            np.linspace(0, grid.width - 1, n),
            np.zeros(n),
            np.full(n, grid.width - 1),
        ]
    )
    orbit = scene.orbit.with_epoch(grid.reference_epoch)
    lat, lon, _ = rdr2geo(
        grid.line_to_azimuth_time(lines),
        grid.pixel_to_slant_range(pixels),
        orbit,
        height=height,
        look_side=grid.look_side,
    )
    if not np.isfinite(lat).any():
        raise InputError(
            "cannot locate the scene (rdr2geo failed at its border)",
            path=scene.metadata.get("source_path"),
        )
    return (
        float(np.nanmin(lon)),
        float(np.nanmin(lat)),
        float(np.nanmax(lon)),
        float(np.nanmax(lat)),
    )


def _height_model(
    scene: Scene,
    dem: Dem | str | os.PathLike[str] | None,
    vertical_datum: str,
    height_above_geoid: float | None,
    dem_interpolation: str,
) -> HeightModel:
    if dem is not None and height_above_geoid is not None:
        raise InputError("give either a DEM or a height above the geoid, not both")
    if dem is not None:
        if not isinstance(dem, Dem):
            w, s, e, n = footprint_bounds(scene)
            dem = Dem.open(
                dem,
                vertical_datum=vertical_datum,
                bounds=(w, s, e, n),
                margin=0.1,
                interpolation=dem_interpolation,
            )
        return HeightModel.from_dem(dem)
    if height_above_geoid is not None:
        w, s, e, n = footprint_bounds(scene, height_above_geoid)
        return HeightModel.above_geoid(height_above_geoid, (w - 0.05, s - 0.05, e + 0.05, n + 0.05))
    if isinstance(scene.product, GeolocationGridProvider):
        return annotation_height_model(scene)
    raise InputError(
        "no height model: this product has no geolocation grid",
        path=scene.metadata.get("source_path"),
        hint="give a DEM (--dem) or a constant height above the geoid (--height-above-geoid)",
    )


def geocode_scene(
    scene: Scene,
    *,
    dem: Dem | str | os.PathLike[str] | None = None,
    vertical_datum: str = "auto",
    dem_interpolation: str = "bilinear",
    height_above_geoid: float | None = None,
    coarse_step: tuple[int, int] | None = None,
    chunks: tuple[int, int] | None = None,
) -> xr.Dataset:
    """Per-pixel geometry of ``scene`` on its ``(line, pixel)`` grid (lazy, Dask-backed).

    Parameters
    ----------
    scene
        Any scene (``sarbd.open_product``).
    dem
        A DEM (file or :class:`~sarbd.geometry.dem.Dem`); read over the scene's
        footprint only.
    vertical_datum, dem_interpolation
        Passed to :meth:`Dem.open <sarbd.geometry.dem.Dem.open>`.
    height_above_geoid
        Without a DEM: a constant height above the EGM96 geoid (m).
    coarse_step
        Solve on a coarse grid and interpolate (see :func:`~sarbd.geometry.grid.rdr2geo_grid`).
    chunks
        Dask chunks ``(lines, pixels)``.

    Returns
    -------
    xarray.Dataset
        :func:`~sarbd.geometry.grid.rdr2geo_grid`'s variables, plus ``azimuth_time(line)``
        and ``slant_range(pixel)`` coordinates and the scene's global attributes.

    Notes
    -----
    Without ``dem`` and ``height_above_geoid`` the height model is the product's
    geolocation grid heights floored at the geoid; a product without one (NISAR) is
    an error. The choice is recorded in the ``height_model`` attribute.
    """
    model = _height_model(scene, dem, vertical_datum, height_above_geoid, dem_interpolation)
    log.info("height model: %s", model.description)
    ds = rdr2geo_grid(
        scene.radar_grid,
        scene.orbit,
        height=model,
        coarse_step=coarse_step,
        chunks=chunks,
        layover_shadow=model.dem is not None,
    )
    grid = scene.radar_grid
    ds = ds.assign_coords(
        azimuth_time=(
            "line",
            grid.line_to_datetime(np.arange(grid.length)),
            {"long_name": "zero-Doppler azimuth time (UTC)"},
        ),
        slant_range=("pixel", grid.slant_ranges(), {"long_name": "slant range", "units": "m"}),
    )
    try:
        from sarbd.products.metadata import global_attributes

        gattrs = dict(global_attributes(scene))
    except Exception as exc:  # a scene from a reader without metadata support
        log.warning("no global attributes for this scene (%s)", exc)
        gattrs = {}
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    gattrs.update(
        {
            "Conventions": "CF-1.10, ACDD-1.3",
            "title": f"Radar geometry of {scene.metadata.get('product_name', 'a SAR scene')}",
            "summary": "Per-pixel geolocation (WGS84), ellipsoidal height, incidence and local "
            "incidence angles, heading, look angle, line-of-sight vector and "
            "layover/shadow flags on the radar (line, pixel) grid.",
            "history": f"{now} sarbd geocode (sarbd.geometry.rdr2geo_grid)",
            "date_created": now,
        }
    )
    gattrs.update(ds.attrs)  # height_model, orbit, radar grid, coarse step
    if model.dem is not None and model.dem.vertical_datum_source:
        gattrs["dem_vertical_datum"] = model.dem.vertical_datum
        gattrs["dem_vertical_datum_source"] = model.dem.vertical_datum_source
    # the orbit makes the file a radar grid others can map onto (sarbd radarcode --grid)
    from sarbd.core.serialization import orbit_to_dataset

    ods = orbit_to_dataset(scene.orbit)
    ds = ds.assign_coords(orbit_time=ods["orbit_time"], xyz=ods["xyz"])
    ds["orbit_position"] = ods["orbit_position"]
    ds["orbit_velocity"] = ods["orbit_velocity"]
    gattrs.update(ods.attrs)
    ds.attrs = gattrs
    return ds


def write_geometry_netcdf(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write a geometry dataset as CF netCDF (atomically; computes it chunk by chunk).

    ``latitude``/``longitude`` become 2-D auxiliary coordinates referenced by every
    variable's ``coordinates`` attribute; ``converged`` is stored as uint8 flags.
    """
    out = ds.copy()
    for name in out.variables:
        out[name].attrs.pop("coordinates", None)
    out["converged"] = out["converged"].astype(np.uint8)
    out["converged"].attrs.update(
        {
            "long_name": "rdr2geo converged",
            "flag_values": np.array([0, 1], dtype=np.uint8),
            "flag_meanings": "no_solution converged",
        }
    )
    out = out.set_coords(["latitude", "longitude"])
    keep = [v for v in (*GEOMETRY_VARIABLES, *ORBIT_VARIABLES) if v in out.data_vars]
    out = out[keep]
    for v in out.data_vars:
        if v not in ORBIT_VARIABLES:
            out[v].encoding["coordinates"] = "latitude longitude"
    for k, v in list(out.attrs.items()):  # netCDF attributes: no bools/None/lists of mixed types
        if v is None:
            del out.attrs[k]
        elif isinstance(v, bool):
            out.attrs[k] = int(v)
        elif isinstance(v, list | tuple):
            out.attrs[k] = (
                np.asarray(v)
                if all(isinstance(x, int | float) for x in v)
                else ", ".join(map(str, v))
            )
    encoding: dict[str, dict[str, Any]] = {}
    for name in [*(str(v) for v in out.data_vars), "latitude", "longitude"]:
        enc: dict[str, Any] = {"zlib": True, "complevel": 4}
        if out[name].dtype.kind == "f" and name not in ("latitude", "longitude", "height"):
            enc["dtype"] = "float32"
        if out[name].dtype.kind == "f":
            enc["_FillValue"] = np.nan
        encoding[name] = enc
    encoding["azimuth_time"] = {"units": "nanoseconds since 2000-01-01", "dtype": "int64"}
    if "orbit_time" in out.coords:
        encoding["orbit_time"] = {"units": "nanoseconds since 2000-01-01", "dtype": "int64"}
        for name in ORBIT_VARIABLES:
            encoding[name] = {"zlib": True, "complevel": 4}  # float64: positions to the millimetre
    path = Path(path)
    with atomic_output(path) as tmp:
        out.to_netcdf(tmp, engine="netcdf4" if _has_netcdf4() else "h5netcdf", encoding=encoding)
    log.info("wrote %s", path)
    return path


def _has_netcdf4() -> bool:
    try:
        import netCDF4  # noqa: F401
    except ImportError:
        return False
    return True
