"""Store the radar data model inside xarray datasets (Zarr/netCDF) and read it back.

A stack or dataset on the reference grid carries everything later stages need to
do geometry on it: the :class:`RadarGrid` as ``radar_grid_*`` attributes and the
reference :class:`Orbit` as variables ``orbit_position(orbit_time, xyz)`` and
``orbit_velocity(orbit_time, xyz)``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.errors import InputError

__all__ = ["grid_from_dataset", "orbit_from_dataset", "orbit_to_dataset"]


def orbit_to_dataset(orbit: Orbit) -> xr.Dataset:
    """The orbit's state vectors as an xarray Dataset (dims ``orbit_time``, ``xyz``)."""
    return xr.Dataset(
        {
            "orbit_position": (
                ("orbit_time", "xyz"),
                orbit.positions,
                {"units": "m", "long_name": "ECEF (WGS84) satellite position"},
            ),
            "orbit_velocity": (
                ("orbit_time", "xyz"),
                orbit.velocities,
                {"units": "m s-1", "long_name": "ECEF (WGS84) satellite velocity"},
            ),
        },
        coords={"orbit_time": orbit.times, "xyz": ["x", "y", "z"]},
        attrs={"orbit_source": orbit.source, "orbit_reference_epoch": str(orbit.reference_epoch)},
    )


def orbit_from_dataset(ds: xr.Dataset) -> Orbit:
    """Inverse of :func:`orbit_to_dataset` (also works on a stack that contains those variables)."""
    if "orbit_position" not in ds or "orbit_velocity" not in ds:
        raise InputError(
            "dataset has no orbit (variables orbit_position/orbit_velocity are missing)"
        )
    epoch = ds.attrs.get("orbit_reference_epoch") or ds["orbit_position"].attrs.get(
        "orbit_reference_epoch"
    )
    source = ds.attrs.get("orbit_source", "unknown")
    return Orbit(
        ds["orbit_time"].values,  # exported files store (xyz, orbit_time): CF 2.4 order
        np.asarray(ds["orbit_position"].transpose("orbit_time", "xyz").values),
        np.asarray(ds["orbit_velocity"].transpose("orbit_time", "xyz").values),
        reference_epoch=np.datetime64(str(epoch)) if epoch else None,  # type: ignore[arg-type]
        source=str(source),  # type: ignore[arg-type]
    )


def grid_from_dataset(ds: xr.Dataset | xr.DataArray) -> RadarGrid:
    """The :class:`RadarGrid` recorded in ``radar_grid_*`` attributes, windowed to the data's extent.

    If the data's ``line``/``pixel`` coordinates cover only part of the recorded grid
    (a crop made with ``.isel``), the returned grid is the matching window.
    """
    grid = RadarGrid.from_attrs(dict(ds.attrs))
    if "line" in ds.coords and "pixel" in ds.coords:
        lines = np.asarray(ds["line"].values)
        pixels = np.asarray(ds["pixel"].values)
        l0 = int(lines[0]) - grid.first_line
        p0 = int(pixels[0]) - grid.first_pixel
        if (l0, p0, lines.size, pixels.size) != (0, 0, grid.length, grid.width):
            grid = grid.window(l0, p0, lines.size, pixels.size)
    return grid
