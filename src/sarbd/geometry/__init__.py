"""Radar geometry: rdr2geo / geo2rdr, DEM and geoid, incidence, layover/shadow, baselines.

Public functions (see ``docs/geometry.md``):

- :func:`rdr2geo`, :func:`geo2rdr` -- point-wise, on arrays (:mod:`sarbd.geometry.solve`);
- :func:`rdr2geo_grid`, :func:`geo2rdr_grid` -- whole radar grids, Dask-chunked
  (:mod:`sarbd.geometry.grid`);
- :func:`baselines` -- perpendicular / parallel baselines (:mod:`sarbd.geometry.baseline`);
- :class:`Dem`, :func:`geoid_height` -- heights (:mod:`sarbd.geometry.dem`, :mod:`sarbd.geometry.geoid`);
- Numba kernels for other Numba code in :mod:`sarbd.geometry.kernels`.
"""

from __future__ import annotations

import importlib
from typing import Any

from sarbd.geometry.dem import Dem, GeographicDem
from sarbd.geometry.geoid import geoid_height
from sarbd.geometry.solve import geo2rdr, incidence_angle, rdr2geo

__all__ = [
    "Dem",
    "GeographicDem",
    "HeightModel",
    "annotation_height_model",
    "baselines",
    "geo2rdr",
    "geo2rdr_grid",
    "geocode_scene",
    "geoid_height",
    "incidence_angle",
    "rdr2geo",
    "rdr2geo_grid",
    "terrain_layers",
    "write_geometry_netcdf",
]

_LAZY = {
    "rdr2geo_grid": "sarbd.geometry.grid",
    "geo2rdr_grid": "sarbd.geometry.grid",
    "terrain_layers": "sarbd.geometry.grid",
    "baselines": "sarbd.geometry.baseline",
    "HeightModel": "sarbd.geometry.height_model",
    "geocode_scene": "sarbd.geometry.geocode",
    "write_geometry_netcdf": "sarbd.geometry.geocode",
    "annotation_height_model": "sarbd.geometry.height_model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sarbd.geometry' has no attribute {name!r}")
