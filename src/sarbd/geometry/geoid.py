"""Geoid undulation N (EGM96, or EGM2008 when its grid is installed) from the offline PROJ grids.

Ellipsoidal height ``h`` and height above the geoid ("orthometric", e.g. SRTM,
Copernicus DEM) ``H`` are related by ``h = H + N`` (Heiskanen & Moritz 1967,
*Physical Geodesy*, sec. 4-2). ``N`` is read from the 15-arc-minute EGM96 grid that
PROJ distributes (``us_nga_egm96_15.tif`` in proj-data >= 7, ``egm96_15.gtx`` in
older releases; Lemoine et al. 1998, NASA/TP-1998-206861) and interpolated
bilinearly, as PROJ's ``vgridshift`` does. No network access happens at run time.

The grid is searched, in order, in ``$SARBD_GEOID_DIR``, ``$PROJ_DATA``,
``$PROJ_LIB``, pyproj's data directory and ``/usr/share/proj``;
``scripts/ensure-geoid.sh`` installs it (Debian ``proj-data``).
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from sarbd.errors import DependencyError, InputError

__all__ = ["GEOID_FILES", "GeoidGrid", "find_geoid_grid", "geoid_height", "load_geoid"]

#: Grid file names per model, preferred first.
GEOID_FILES: dict[str, tuple[str, ...]] = {
    "egm96": ("us_nga_egm96_15.tif", "egm96_15.gtx"),
    "egm2008": ("us_nga_egm08_25.tif", "egm08_25.gtx"),
}


def _search_dirs() -> list[Path]:
    dirs: list[Path] = []
    for var in ("SARBD_GEOID_DIR", "PROJ_DATA", "PROJ_LIB"):
        value = os.environ.get(var)
        if value:
            dirs.extend(Path(p) for p in value.split(os.pathsep) if p)
    try:
        import pyproj

        dirs.append(Path(pyproj.datadir.get_data_dir()))
        dirs.append(Path(pyproj.datadir.get_user_data_dir()))
    except Exception:  # pragma: no cover - pyproj without a data dir
        pass
    dirs.append(Path("/usr/share/proj"))
    return dirs


def find_geoid_grid(model: str = "egm96") -> Path:
    """Path of the offline grid of ``model`` ("egm96" or "egm2008"); DependencyError if absent."""
    key = model.lower()
    if key not in GEOID_FILES:
        raise InputError(
            f"unknown geoid model {model!r}", hint=f"use one of {', '.join(GEOID_FILES)}"
        )
    dirs = _search_dirs()
    for d in dirs:
        for name in GEOID_FILES[key]:
            candidate = d / name
            if candidate.is_file():
                return candidate
    raise DependencyError(
        f"the {key.upper()} geoid grid ({' or '.join(GEOID_FILES[key])}) is not installed; "
        f"searched {', '.join(str(d) for d in dirs)}",
        hint="run scripts/ensure-geoid.sh (installs Debian's proj-data) or set SARBD_GEOID_DIR "
        "to a folder holding the grid",
    )


@dataclass(frozen=True)
class GeoidGrid:
    """A global geoid grid: ``data[i, j]`` = N (m) at lat ``lat0 + i*dlat``, lon ``lon0 + j*dlon``."""

    data: NDArray[np.float64]
    lat0: float
    lon0: float
    dlat: float
    dlon: float
    wraps: bool
    path: Path
    model: str


@functools.lru_cache(maxsize=4)
def load_geoid(model: str = "egm96") -> GeoidGrid:
    """Read the geoid grid once (cached)."""
    import rasterio

    path = find_geoid_grid(model)
    with rasterio.open(path) as src:
        data = src.read(1).astype(np.float64)
        t = src.transform
        nodata = src.nodata
    if nodata is not None:
        data[data == nodata] = np.nan
    dlon, dlat = t.a, t.e
    lon0 = t.c + dlon / 2.0
    lat0 = t.f + dlat / 2.0
    wraps = abs(data.shape[1] * abs(dlon) - 360.0) < 1e-6 * 360.0
    return GeoidGrid(np.ascontiguousarray(data), lat0, lon0, dlat, dlon, wraps, path, model.lower())


@numba.njit(cache=True, parallel=True)
def _bilinear_geoid(data, lat0, lon0, dlat, dlon, wraps, lat, lon):  # type: ignore[no-untyped-def]
    n = lat.shape[0]
    out = np.empty(n)
    ny, nx = data.shape
    for k in numba.prange(n):
        la = lat[k]
        lo = lon[k]
        if not (math.isfinite(la) and math.isfinite(lo)):
            out[k] = math.nan
            continue
        if wraps:
            lo = lon0 + ((lo - lon0) % 360.0)
        fi = (la - lat0) / dlat
        fj = (lo - lon0) / dlon
        fi = min(max(fi, 0.0), ny - 1.0)
        i = min(int(fi), ny - 2)
        a = fi - i
        if wraps:
            j = math.floor(fj) % nx
            b = fj - math.floor(fj)
            j1 = (j + 1) % nx
        else:
            if fj < 0.0 or fj > nx - 1:
                out[k] = math.nan
                continue
            j = min(int(fj), nx - 2)
            b = fj - j
            j1 = j + 1
        out[k] = (1.0 - a) * ((1.0 - b) * data[i, j] + b * data[i, j1]) + a * (
            (1.0 - b) * data[i + 1, j] + b * data[i + 1, j1]
        )
    return out


def geoid_height(
    latitude: ArrayLike, longitude: ArrayLike, model: str = "egm96"
) -> NDArray[np.float64]:
    """Geoid undulation N (m) above the WGS84 ellipsoid at geodetic latitude/longitude (degrees).

    Bilinear interpolation of the offline grid (EGM96 15' by default); arrays
    broadcast. Ellipsoidal height = height above the geoid + N.

    Raises
    ------
    DependencyError
        If the grid is not installed (the message says how to install it).
    """
    grid = load_geoid(model)
    lat, lon = np.broadcast_arrays(
        np.asarray(latitude, dtype=np.float64), np.asarray(longitude, dtype=np.float64)
    )
    out = _bilinear_geoid(
        grid.data,
        grid.lat0,
        grid.lon0,
        grid.dlat,
        grid.dlon,
        grid.wraps,
        np.ascontiguousarray(lat.ravel()),
        np.ascontiguousarray(lon.ravel()),
    )
    return out.reshape(lat.shape)
