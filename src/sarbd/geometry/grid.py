"""Geometry of whole radar grids: :func:`rdr2geo_grid` and :func:`geo2rdr_grid`.

Both are Dask-chunked (the chunks are independent: each line's warm starts and
layover/shadow profile only depend on that line), and both can solve exactly on a
coarse grid and interpolate (``coarse_step``), checking the interpolation against
exact solutions at the coarse cells' centres and refining the step until the error
is below a limit.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.errors import GeometryError, InputError, NoOverlapError
from sarbd.geometry.dem import NO_DEM, Dem, DemArrays
from sarbd.geometry.grid_kernels import (
    BLOCK_VARIABLES,
    cubic_from_nodes,
    geo2rdr_block,
    layover_shadow_block,
    rdr2geo_block,
)
from sarbd.geometry.height_model import HeightModel
from sarbd.geometry.solve import DEM_MAX_ITER, DEM_TOL, RDR2GEO_MAX_ITER, RDR2GEO_TOL
from sarbd.utils.log import get_logger

__all__ = ["geo2rdr_grid", "rdr2geo_grid", "terrain_layers"]

log = get_logger(__name__)

#: Default chunk height (lines) of the output rasters.
DEFAULT_CHUNK_LINES = 256

_ATTRS: dict[str, dict[str, Any]] = {
    "latitude": {
        "standard_name": "latitude",
        "long_name": "geodetic latitude (WGS84)",
        "units": "degrees_north",
    },
    "longitude": {
        "standard_name": "longitude",
        "long_name": "geodetic longitude (WGS84)",
        "units": "degrees_east",
    },
    "height": {
        "standard_name": "height_above_reference_ellipsoid",
        "long_name": "ellipsoidal height (WGS84) used for the geometry",
        "units": "m",
    },
    "incidence_angle": {
        "long_name": "incidence angle on the ellipsoid (LOS vs ellipsoid normal)",
        "units": "degree",
    },
    "local_incidence_angle": {
        "long_name": "local incidence angle (LOS vs terrain normal from DEM slope)",
        "units": "degree",
    },
    "heading": {
        "standard_name": "platform_azimuth_angle",
        "long_name": "satellite heading at the target, clockwise from north",
        "units": "degree",
    },
    "look_angle": {"long_name": "off-nadir look angle at the satellite", "units": "degree"},
    "los_east": {
        "long_name": "east component of the unit vector target -> satellite",
        "units": "1",
    },
    "los_north": {
        "long_name": "north component of the unit vector target -> satellite",
        "units": "1",
    },
    "los_up": {"long_name": "up component of the unit vector target -> satellite", "units": "1"},
    "layover_shadow_mask": {
        "long_name": "layover and shadow flags",
        "flag_values": np.array([0, 1, 2, 3], dtype=np.uint8),
        "flag_meanings": "none layover shadow layover_and_shadow",
    },
}


# --------------------------------------------------------------------------------------
# height model resolution
# --------------------------------------------------------------------------------------
def _height_model(dem: Dem | str | os.PathLike[str] | None, height: Any) -> HeightModel:
    if dem is not None and height is not None:
        raise InputError("give either a DEM or a height model, not both")
    if dem is not None:
        if not isinstance(dem, Dem):
            dem = Dem.open(dem)
        return HeightModel.from_dem(dem)
    if isinstance(height, HeightModel):
        return height
    if isinstance(height, Dem):
        return HeightModel.from_dem(height)
    if height is None:
        raise InputError(
            "no height model: the geometry never assumes a height silently",
            hint="pass dem=, height=<metres above the ellipsoid>, "
            "HeightModel.above_geoid(...) or annotation_height_model(scene)",
        )
    if np.ndim(height) == 0:
        return HeightModel.ellipsoidal(float(height))
    arr = np.asarray(height, dtype=np.float64)
    raise InputError(
        f"per-pixel heights must be wrapped in a HeightModel (got shape {arr.shape})",
        hint="use HeightModel.radar_heights(func, description)",
    )


def _orbit_on_grid_epoch(orbit: Orbit, grid: RadarGrid) -> Orbit:
    if orbit.reference_epoch != grid.reference_epoch:
        return orbit.with_epoch(grid.reference_epoch)
    return orbit


@dataclass(frozen=True)
class _Terrain:
    """The height model as the kernels take it: the DEM (:data:`NO_DEM` without one) and its
    height range and mean (m; 0 without a DEM)."""

    have_dem: bool
    dem: DemArrays
    h_min: float
    h_max: float
    h_mean: float


def _dem_arrays(model: HeightModel) -> _Terrain:
    """The :class:`_Terrain` of a height model."""
    if model.dem is None:
        return _Terrain(False, NO_DEM, 0.0, 0.0, 0.0)
    g = model.dem.geographic()
    finite = np.isfinite(g.data)
    if not finite.any():
        raise InputError("the DEM holds no valid heights", path=model.dem.path)
    vals = g.data[finite]
    return _Terrain(True, g.arrays, float(vals.min()), float(vals.max()), float(vals.mean()))


# --------------------------------------------------------------------------------------
# exact block computation
# --------------------------------------------------------------------------------------
def _exact(
    grid: RadarGrid,
    orbit: Orbit,
    model: HeightModel,
    lines: NDArray[np.float64],
    pixels: NDArray[np.float64],
    doppler: float,
    dem_arr: _Terrain,
) -> NDArray[np.float64]:
    """All :data:`BLOCK_VARIABLES` at grid-relative ``lines`` x ``pixels``: ``(NVAR, nl, np)``."""
    have_dem = dem_arr.have_dem
    times = np.ascontiguousarray(grid.line_to_azimuth_time(lines), dtype=np.float64)
    ranges = np.ascontiguousarray(grid.pixel_to_slant_range(pixels), dtype=np.float64)
    if have_dem:
        heights = np.zeros((1, 1))
    else:
        utc = grid.reference_epoch + np.round(times * 1e9).astype("timedelta64[ns]")
        heights = np.ascontiguousarray(model.heights(utc[:, None], ranges[None, :]))
    return rdr2geo_block(
        times,
        ranges,
        orbit.arrays,
        grid.wavelength,
        float(doppler),
        float(grid.look_sign),
        heights,
        have_dem,
        dem_arr.dem,
        dem_arr.h_mean,
        dem_arr.h_min - 1.0,
        dem_arr.h_max + 1.0,
        RDR2GEO_MAX_ITER,
        RDR2GEO_TOL,
        DEM_MAX_ITER,
        DEM_TOL,
    )


def _theta_bounds(
    grid: RadarGrid, orbit: Orbit, times: NDArray[np.float64], dem_arr: _Terrain
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per line, the range of ground-ray angles the layover/shadow profile must span."""
    from sarbd.geometry.kernels import rdr2geo_state

    dem = dem_arr.dem.data
    hmin = float(np.nanmin(dem))
    hmax = float(np.nanmax(dem))
    pos, vel, _ = orbit.interpolate(times)
    lo = np.full(times.size, np.nan)
    hi = np.full(times.size, np.nan)
    tmp = np.empty(4)
    relief = max(hmax - hmin, 1.0)

    def angle(k: int, slant_range: float, height: float) -> float:
        """The circle angle of the ground point at ``slant_range`` and ``height`` (NaN: none)."""
        ok = rdr2geo_state(
            pos[k],
            vel[k],
            slant_range,
            height,
            grid.wavelength,
            0.0,
            float(grid.look_sign),
            math.nan,
            RDR2GEO_MAX_ITER,
            RDR2GEO_TOL,
            tmp,
        )
        return float(tmp[3]) if ok else math.nan

    for k in range(times.size):  # a few lines only: the bounds vary slowly
        # near range at the lowest terrain, far range at the highest, plus a margin for shadows
        lo[k] = angle(k, grid.starting_range - 4 * relief, hmin)
        if not math.isfinite(lo[k]):
            lo[k] = angle(k, grid.starting_range, hmin)
        hi[k] = angle(k, grid.ending_range + relief, hmax)
    return lo, hi


def _mask_block(
    grid: RadarGrid,
    orbit: Orbit,
    lines: NDArray[np.float64],
    p0: int,
    p1: int,
    dem_arr: _Terrain,
    oversample: int = 2,
) -> NDArray[np.uint8]:
    times = np.ascontiguousarray(grid.line_to_azimuth_time(lines), dtype=np.float64)
    # bounds on a few lines, interpolated (they change by micro-radians along a burst)
    sel = np.unique(np.linspace(0, times.size - 1, min(times.size, 5)).round().astype(int))
    lo_s, hi_s = _theta_bounds(grid, orbit, times[sel], dem_arr)
    lo = (
        np.interp(times, times[sel], lo_s)
        if np.isfinite(lo_s).all()
        else np.full(times.size, np.nan)
    )
    hi = (
        np.interp(times, times[sel], hi_s)
        if np.isfinite(hi_s).all()
        else np.full(times.size, np.nan)
    )
    return layover_shadow_block(
        times,
        grid.starting_range,
        grid.range_pixel_spacing,
        grid.width,
        p0,
        p1,
        orbit.arrays,
        float(grid.look_sign),
        lo,
        hi,
        dem_arr.dem,
        oversample,
    )


# --------------------------------------------------------------------------------------
# coarse grid + interpolation
# --------------------------------------------------------------------------------------
def _nodes(n: int, step: int) -> NDArray[np.float64]:
    idx = np.arange(0, n, step, dtype=np.float64)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    return idx


class _NodeSpline:
    """Bicubic (or bilinear with < 4 nodes) spline through node values, fitted once.

    Cells touching a NaN node interpolate to NaN (no extrapolation into holes).
    """

    def __init__(
        self, node_l: NDArray[np.float64], node_p: NDArray[np.float64], values: NDArray[np.float64]
    ) -> None:
        from scipy.interpolate import RectBivariateSpline

        if node_l.size < 2 or node_p.size < 2:
            raise InputError(
                "coarse_step leaves fewer than 2 nodes along an axis; use a smaller step"
            )
        kx = 3 if node_l.size >= 4 else 1
        ky = 3 if node_p.size >= 4 else 1
        bad = ~np.isfinite(values)
        self.node_l, self.node_p = node_l, node_p
        self.cell_bad = (
            (bad[:-1, :-1] | bad[1:, :-1] | bad[:-1, 1:] | bad[1:, 1:]) if bad.any() else None
        )
        self.spline = RectBivariateSpline(node_l, node_p, np.where(bad, 0.0, values), kx=kx, ky=ky)

    def __call__(
        self, lines: NDArray[np.float64], pixels: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        out = np.asarray(self.spline(lines, pixels))
        if self.cell_bad is not None:
            il = np.clip(
                np.searchsorted(self.node_l, lines, side="right") - 1, 0, self.node_l.size - 2
            )
            ip = np.clip(
                np.searchsorted(self.node_p, pixels, side="right") - 1, 0, self.node_p.size - 2
            )
            out[self.cell_bad[il][:, ip]] = np.nan
        return out


def _interp2(
    node_l: NDArray[np.float64],
    node_p: NDArray[np.float64],
    values: NDArray[np.float64],
    lines: NDArray[np.float64],
    pixels: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Spline interpolation of node values at lines x pixels (fits and evaluates once)."""
    return _NodeSpline(node_l, node_p, values)(lines, pixels)


def _uniform_nodes(n: int, step: int) -> NDArray[np.float64]:
    """Equally spaced (fractional) node positions from 0 to n - 1, spacing <= step."""
    if n < 4 or step <= 1:
        return np.arange(n, dtype=np.float64)
    m = math.ceil((n - 1) / step) + 1
    return np.linspace(0.0, n - 1.0, max(m, 4))


class _NodeInterpolator:
    """All :data:`BLOCK_VARIABLES` interpolated from uniform coarse nodes (Keys bicubic, Numba)."""

    def __init__(
        self, node_l: NDArray[np.float64], node_p: NDArray[np.float64], nodes: NDArray[np.float64]
    ) -> None:
        self.lon_i = BLOCK_VARIABLES.index("longitude")
        self.conv_i = BLOCK_VARIABLES.index("converged")
        v = nodes.copy()
        lon = v[self.lon_i]
        ref = np.nanmedian(lon) if np.isfinite(lon).any() else 0.0
        v[self.lon_i] = ref + (lon - ref + 180.0) % 360.0 - 180.0  # no +-180 jump
        self.wrap = (
            bool(np.nanmax(np.abs(v[self.lon_i])) > 179.0) if np.isfinite(lon).any() else False
        )
        self.nodes = np.ascontiguousarray(v)
        self.l0 = float(node_l[0])
        self.dl = float(node_l[1] - node_l[0]) if node_l.size > 1 else 1.0
        self.p0 = float(node_p[0])
        self.dp = float(node_p[1] - node_p[0]) if node_p.size > 1 else 1.0

    def __call__(
        self, lines: NDArray[np.float64], pixels: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        out = cubic_from_nodes(
            self.nodes,
            self.l0,
            self.dl,
            self.p0,
            self.dp,
            np.ascontiguousarray(lines, dtype=np.float64),
            np.ascontiguousarray(pixels, dtype=np.float64),
        )
        lon = out[self.lon_i]
        if self.wrap:  # nodes near the antimeridian: back to [-180, 180)
            out[self.lon_i] = (lon + 180.0) % 360.0 - 180.0
        out[self.conv_i] = np.isfinite(out[0])
        return out


def _interp_all(node_l, node_p, nodes, lines, pixels):  # type: ignore[no-untyped-def]
    return _NodeInterpolator(node_l, node_p, nodes)(lines, pixels)


def _horizontal_error(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, float]:
    """Max horizontal (m) and height (m) difference between two (NVAR, ...) solutions."""
    pa = llh_to_ecef(a[0], a[1], a[2])
    pb = llh_to_ecef(b[0], b[1], a[2])  # same height: horizontal part only
    dh = np.abs(a[2] - b[2])
    d = np.linalg.norm(pa - pb, axis=-1)
    ok = np.isfinite(d) & np.isfinite(dh)
    if not ok.any():
        return 0.0, 0.0
    return float(d[ok].max()), float(dh[ok].max())


def _choose_coarse(grid, orbit, model, doppler, dem_arr, step, max_error):  # type: ignore[no-untyped-def]
    """Nodes solved exactly, refined until the check at cell centres is below ``max_error``."""
    dl, dp = (int(step[0]), int(step[1]))
    while True:
        node_l = _uniform_nodes(grid.length, dl)
        node_p = _uniform_nodes(grid.width, dp)
        if node_l.size < 2 or node_p.size < 2:
            raise InputError("coarse_step needs a grid of at least 2 x 2 pixels")
        nodes = _exact(grid, orbit, model, node_l, node_p, doppler, dem_arr)
        # check points: centres of (a subsample of) the coarse cells
        cl = 0.5 * (node_l[:-1] + node_l[1:])
        cp = 0.5 * (node_p[:-1] + node_p[1:])
        cl = cl[np.unique(np.linspace(0, cl.size - 1, min(cl.size, 40)).round().astype(int))]
        cp = cp[np.unique(np.linspace(0, cp.size - 1, min(cp.size, 60)).round().astype(int))]
        exact = _exact(grid, orbit, model, cl, cp, doppler, dem_arr)
        approx = _interp_all(node_l, node_p, nodes, cl, cp)
        err_h, err_z = _horizontal_error(exact, approx)
        err = max(err_h, err_z)
        if err <= max_error or (dl == 1 and dp == 1):
            return node_l, node_p, nodes, (dl, dp), err_h, err_z
        log.info(
            "coarse step %d x %d: interpolation error %.3g m > %.3g m; refining",
            dl,
            dp,
            err,
            max_error,
        )
        dl, dp = max(dl // 2, 1), max(dp // 2, 1)


# --------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------
def rdr2geo_grid(
    radar_grid: RadarGrid,
    orbit: Orbit,
    *,
    dem: Dem | str | os.PathLike[str] | None = None,
    height: float | HeightModel | Dem | None = None,
    coarse_step: tuple[int, int] | None = None,
    max_interpolation_error: float = 0.05,
    chunks: tuple[int, int] | None = None,
    doppler: float = 0.0,
    layover_shadow: bool | None = None,
) -> xr.Dataset:
    """Geolocate every pixel of a radar grid (isce3 ``Rdr2Geo.topo``).

    Parameters
    ----------
    radar_grid
        The (zero-Doppler) grid; ``line``/``pixel`` coordinates of the result are its
        absolute indices (``first_line + i``, ``first_pixel + j``).
    orbit
        The orbit (any epoch; aligned to the grid's internally).
    dem
        A :class:`~sarbd.geometry.dem.Dem` or a DEM file path: each pixel iterates on it.
    height
        Instead of a DEM: a constant ellipsoidal height (m) or a
        :class:`~sarbd.geometry.height_model.HeightModel`. One of ``dem``/``height``
        is required: heights are never assumed.
    coarse_step
        ``(lines, pixels)``: solve exactly every that many lines/pixels and interpolate
        (bicubic) in between; the step is halved until the error at the coarse cells'
        centres is below ``max_interpolation_error`` (m, horizontal and height).
        The error found is recorded in the attributes.
    chunks
        Dask chunks ``(lines, pixels)``; default ``(256, width)``.
    doppler
        Doppler centroid of the grid (Hz); 0 for zero-Doppler grids.
    layover_shadow
        Compute the layover/shadow mask (default: when a DEM is the height model).

    Returns
    -------
    xarray.Dataset
        Dask-backed variables on ``("line", "pixel")``: ``latitude``, ``longitude``,
        ``height`` (float64), ``incidence_angle``, ``local_incidence_angle``, ``heading``,
        ``look_angle``, ``los_east/north/up`` (float32), ``layover_shadow_mask``
        (uint8 flags), ``converged`` (bool). Attributes record the height model, the
        orbit source, the radar grid and the interpolation error.

    Raises
    ------
    InputError
        Without a height model.
    NoOverlapError
        If the scene lies entirely outside the DEM.
    """
    model = _height_model(dem, height)
    orbit = _orbit_on_grid_epoch(orbit, radar_grid)
    if not orbit.covers(
        radar_grid.line_to_datetime(0), radar_grid.line_to_datetime(radar_grid.length - 1)
    ):
        from sarbd.errors import OrbitError

        raise OrbitError(
            f"the orbit ({orbit.start_time} .. {orbit.end_time}, {orbit.source}) does not cover the "
            f"radar grid ({radar_grid.sensing_start_datetime} .. "
            f"{radar_grid.line_to_datetime(radar_grid.length - 1)})",
            hint="use an orbit file that covers the acquisition",
        )
    dem_arr = _dem_arrays(model)
    if model.dem is not None:
        _check_footprint(radar_grid, orbit, model, doppler, dem_arr)
    want_mask = (model.dem is not None) if layover_shadow is None else bool(layover_shadow)
    if want_mask and model.dem is None:
        raise InputError("the layover/shadow mask needs a DEM height model")

    length, width = radar_grid.shape
    cl, cp = chunks if chunks is not None else (DEFAULT_CHUNK_LINES, width)
    cl, cp = min(cl, length), min(cp, width)
    attrs: dict[str, Any] = {
        "height_model": model.description,
        "orbit_source": orbit.source,
        **radar_grid.to_attrs(),
    }
    if coarse_step is not None:
        node_l, node_p, nodes, used, err_h, err_z = _choose_coarse(
            radar_grid, orbit, model, doppler, dem_arr, coarse_step, max_interpolation_error
        )
        attrs.update(
            {
                "coarse_step": list(used),
                "interpolation_max_horizontal_error_m": err_h,
                "interpolation_max_height_error_m": err_z,
            }
        )
        log.info(
            "rdr2geo on a %d x %d coarse grid (step %d x %d): max interpolation error "
            "%.3g m horizontal, %.3g m height",
            node_l.size,
            node_p.size,
            *used,
            err_h,
            err_z,
        )

        interpolator = _NodeInterpolator(node_l, node_p, nodes)

        def block(l0: int, l1: int, p0: int, p1: int) -> NDArray[np.float64]:
            return interpolator(
                np.arange(l0, l1, dtype=np.float64), np.arange(p0, p1, dtype=np.float64)
            )
    else:
        attrs["coarse_step"] = [1, 1]

        def block(l0: int, l1: int, p0: int, p1: int) -> NDArray[np.float64]:
            return _exact(
                radar_grid,
                orbit,
                model,
                np.arange(l0, l1, dtype=np.float64),
                np.arange(p0, p1, dtype=np.float64),
                doppler,
                dem_arr,
            )

    template = da.zeros((length, width), chunks=(cl, cp), dtype=np.uint8)
    arrays = _assemble(block, template.chunks)
    coords = {
        "line": (
            "line",
            radar_grid.first_line + np.arange(length),
            {"long_name": "line index in the root grid"},
        ),
        "pixel": (
            "pixel",
            radar_grid.first_pixel + np.arange(width),
            {"long_name": "pixel index in the root grid"},
        ),
    }
    data_vars: dict[str, Any] = {}
    for name in BLOCK_VARIABLES:
        if name == "converged":
            data_vars[name] = (
                ("line", "pixel"),
                arrays[name],
                {"long_name": "rdr2geo converged (False: no solution, values NaN)"},
            )
        else:
            data_vars[name] = (("line", "pixel"), arrays[name], dict(_ATTRS[name]))
    if want_mask:

        def _mask(x: NDArray[Any], block_info: dict[Any, Any] | None = None) -> NDArray[np.uint8]:
            (l0, l1), (p0, p1) = block_info[0]["array-location"]  # type: ignore[index]
            return _mask_block(
                radar_grid, orbit, np.arange(l0, l1, dtype=np.float64), p0, p1, dem_arr
            )

        mask = da.map_blocks(_mask, template, dtype=np.uint8, meta=np.empty((0, 0), np.uint8))
        mattrs = dict(_ATTRS["layover_shadow_mask"])
        mattrs["comment"] = (
            "per line in the zero-Doppler plane, from the DEM profile sampled at 2x the pixel count"
        )
    else:
        mask = da.zeros((length, width), chunks=(cl, cp), dtype=np.uint8)
        mattrs = dict(_ATTRS["layover_shadow_mask"])
        mattrs["comment"] = "not computed: the height model is not a DEM (all 0)"
    data_vars["layover_shadow_mask"] = (("line", "pixel"), mask, mattrs)
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    for var in ds.data_vars:
        if var not in ("latitude", "longitude"):
            ds[var].attrs["coordinates"] = "latitude longitude"
    return ds


_FLOAT64_VARIABLES = ("latitude", "longitude", "height")


def _dtype_of(name: str) -> Any:
    if name == "converged":
        return np.dtype(bool)
    return np.dtype(np.float64 if name in _FLOAT64_VARIABLES else np.float32)


def _finalize(stacked: NDArray[np.float64]) -> tuple[NDArray[Any], ...]:
    """Split a ``(NVAR, lines, pixels)`` block into the variables' final dtypes."""
    return tuple(
        stacked[k] > 0.5
        if name == "converged"
        else np.ascontiguousarray(stacked[k])
        if name in _FLOAT64_VARIABLES
        else stacked[k].astype(np.float32)
        for k, name in enumerate(BLOCK_VARIABLES)
    )


def _assemble(block: Any, chunks: tuple[tuple[int, ...], tuple[int, ...]]) -> dict[str, da.Array]:
    """One Dask task per block computes every variable; each variable is a Dask array of them."""
    import uuid

    import dask

    token = uuid.uuid4().hex
    l_edges = np.concatenate([[0], np.cumsum(chunks[0])]).astype(int)
    p_edges = np.concatenate([[0], np.cumsum(chunks[1])]).astype(int)

    conv_i = BLOCK_VARIABLES.index("converged")

    def run(l0: int, l1: int, p0: int, p1: int) -> tuple[NDArray[Any], ...]:
        out = _finalize(block(l0, l1, p0, p1))
        n_bad = int(out[conv_i].size - np.count_nonzero(out[conv_i]))
        if n_bad:
            log.warning(
                "rdr2geo: %d of %d pixels in lines %d..%d, pixels %d..%d have no solution "
                "(NaN, converged=False)",
                n_bad,
                out[conv_i].size,
                l0,
                l1 - 1,
                p0,
                p1 - 1,
            )
        return out

    parts = {}
    for bi in range(len(chunks[0])):
        for bj in range(len(chunks[1])):
            parts[bi, bj] = dask.delayed(run, pure=False)(
                int(l_edges[bi]),
                int(l_edges[bi + 1]),
                int(p_edges[bj]),
                int(p_edges[bj + 1]),
                dask_key_name=f"rdr2geo-{token}-{bi}-{bj}",
            )
    arrays = {}
    for k, name in enumerate(BLOCK_VARIABLES):
        dtype = _dtype_of(name)
        rows = [
            [
                da.from_delayed(parts[bi, bj][k], shape=(chunks[0][bi], chunks[1][bj]), dtype=dtype)
                for bj in range(len(chunks[1]))
            ]
            for bi in range(len(chunks[0]))
        ]
        arrays[name] = da.block(rows)
    return arrays


def _check_footprint(
    grid: RadarGrid, orbit: Orbit, model: HeightModel, doppler: float, dem_arr: _Terrain
) -> None:
    """NoOverlapError when the scene's corners (at the DEM's mean height) all miss the DEM."""
    hmean = dem_arr.h_mean
    probe = HeightModel.ellipsoidal(hmean)
    lines = np.array([0.0, (grid.length - 1) / 2, grid.length - 1])
    pixels = np.array([0.0, (grid.width - 1) / 2, grid.width - 1])
    res = _exact(grid, orbit, probe, lines, pixels, doppler, _dem_arrays(probe))
    lat, lon = res[0], res[1]
    assert model.dem is not None
    w, s, e, n = model.dem.geographic().bounds
    inside = (lat >= s) & (lat <= n) & (lon >= w) & (lon <= e)
    if not inside.any():
        raise NoOverlapError(
            f"the radar footprint (lat {np.nanmin(lat):.4f}..{np.nanmax(lat):.4f}, lon "
            f"{np.nanmin(lon):.4f}..{np.nanmax(lon):.4f}) lies outside the DEM "
            f"(lat {s:.4f}..{n:.4f}, lon {w:.4f}..{e:.4f})",
            path=model.dem.path,
            hint="use a DEM that covers the scene",
        )
    if not inside.all():
        log.warning(
            "part of the radar footprint lies outside the DEM %s: those pixels are NaN",
            model.dem.path or "",
        )


def geo2rdr_grid(
    latitude: ArrayLike,
    longitude: ArrayLike,
    height: ArrayLike,
    radar_grid: RadarGrid,
    orbit: Orbit,
    *,
    doppler: float = 0.0,
    coarse_step: tuple[int, int] | None = None,
    max_interpolation_error: float = 1e-3,
    chunks: tuple[int, int] | None = None,
    max_iterations: int = 50,
    tolerance: float = 1e-10,
) -> xr.Dataset:
    """Fractional line/pixel on ``radar_grid`` of every point of lat/lon/height rasters.

    Used for DEM-assisted coregistration: rdr2geo on the reference grid, then
    geo2rdr on the secondary orbit and grid (methods-and-standards.md §4).

    Parameters
    ----------
    latitude, longitude, height
        2-D rasters (degrees, degrees, ellipsoidal m); :class:`xarray.DataArray`
        inputs keep their dims and coordinates.
    radar_grid, orbit
        The grid to locate the points in, and its orbit.
    doppler
        Doppler centroid of that grid, Hz (0: zero-Doppler).
    coarse_step
        ``(rows, cols)``: solve exactly every that many rows/cols and interpolate;
        refined until the error at the coarse cells' centres is below
        ``max_interpolation_error`` (pixels, in line and pixel).
    chunks
        Dask chunks of the rasters (default: those of a Dask-backed input, else 256 rows).

    Returns
    -------
    xarray.Dataset
        ``radar_line``, ``radar_pixel`` (fractional, absolute in the grid's root:
        ``first_line`` / ``first_pixel`` included), ``azimuth_time`` (s since the
        grid's ``reference_epoch``), ``slant_range`` (m), and ``converged`` (bool;
        False where Newton's method failed, the other variables NaN there). The
        number of failures is in ``attrs["n_not_converged"]`` only after computing;
        a warning is logged when the result is computed.
    """
    lat_da = latitude if isinstance(latitude, xr.DataArray) else None
    arrays = [_as_dask(a, chunks) for a in (latitude, longitude, height)]
    if (
        arrays[0].ndim != 2
        or arrays[0].shape != arrays[1].shape
        or arrays[0].shape != arrays[2].shape
    ):
        raise InputError("geo2rdr_grid needs three 2-D rasters of the same shape")
    lat_a, lon_a, h_a = (a.rechunk(arrays[0].chunks) for a in arrays)
    orbit = _orbit_on_grid_epoch(orbit, radar_grid)
    wl = radar_grid.wavelength
    t_mid = float(radar_grid.line_to_azimuth_time((radar_grid.length - 1) / 2))
    guess_t = t_mid if orbit.time[0] <= t_mid <= orbit.time[-1] else math.nan
    attrs: dict[str, Any] = {"orbit_source": orbit.source, **radar_grid.to_attrs()}

    def exact(lat: NDArray[Any], lon: NDArray[Any], h: NDArray[Any]) -> NDArray[np.float64]:
        xyz = np.ascontiguousarray(llh_to_ecef(lat, lon, h))
        res = geo2rdr_block(
            xyz,
            np.full(xyz.shape[0], guess_t),
            orbit.arrays,
            wl,
            float(doppler),
            int(max_iterations),
            float(tolerance),
        )
        bad = res[2] < 0.5
        res[0][bad] = np.nan
        res[1][bad] = np.nan
        if bad.any():
            log.warning(
                "geo2rdr: %d of %d points did not converge (NaN, converged=False)",
                int(bad.sum()),
                bad.size,
            )
        return res

    if coarse_step is not None:
        lat_n, lon_n, h_n = (np.asarray(a) for a in (lat_a, lon_a, h_a))
        nodes_info = _geo2rdr_coarse(
            lat_n, lon_n, h_n, exact, radar_grid, coarse_step, max_interpolation_error
        )
        node_r, node_c, node_vals, used, err = nodes_info
        attrs.update({"coarse_step": list(used), "interpolation_max_error_pixels": err})

        spline_t = _NodeSpline(node_r, node_c, node_vals[0])
        spline_r = _NodeSpline(node_r, node_c, node_vals[1])

        def run(lat, lon, h, block_info=None):  # type: ignore[no-untyped-def]
            (r0, r1), (c0, c1) = block_info[0]["array-location"]
            rows = np.arange(r0, r1, dtype=np.float64)
            cols = np.arange(c0, c1, dtype=np.float64)
            t = spline_t(rows, cols)
            r = spline_r(rows, cols)
            return np.stack([t, r, np.isfinite(t).astype(np.float64)])
    else:
        attrs["coarse_step"] = [1, 1]

        def run(lat, lon, h, block_info=None):  # type: ignore[no-untyped-def]
            return exact(lat, lon, h)

    stacked = da.map_blocks(
        run,
        lat_a,
        lon_a,
        h_a,
        dtype=np.float64,
        new_axis=0,
        chunks=((3,), *lat_a.chunks),
        meta=np.empty((0, 0, 0)),
    )
    t = stacked[0]
    r = stacked[1]
    line = radar_grid.first_line + (t - radar_grid.sensing_start) / radar_grid.azimuth_time_interval
    pixel = (
        radar_grid.first_pixel + (r - radar_grid.starting_range) / radar_grid.range_pixel_spacing
    )
    dims = tuple(lat_da.dims) if lat_da is not None else ("line", "pixel")
    coords = lat_da.coords if lat_da is not None else None
    ds = xr.Dataset(
        {
            "radar_line": (
                dims,
                line,
                {"long_name": "fractional line in the radar grid's root grid", "units": "1"},
            ),
            "radar_pixel": (
                dims,
                pixel,
                {"long_name": "fractional pixel in the radar grid's root grid", "units": "1"},
            ),
            "azimuth_time": (
                dims,
                t,
                {
                    "long_name": "zero-Doppler azimuth time",
                    "units": f"seconds since {radar_grid.reference_epoch}",
                },
            ),
            "slant_range": (dims, r, {"long_name": "slant range", "units": "m"}),
            "converged": (dims, stacked[2] > 0.5, {"long_name": "geo2rdr converged"}),
        },
        coords=coords,
        attrs=attrs,
    )
    return ds


def _as_dask(a: Any, chunks: tuple[int, int] | None) -> da.Array:
    if isinstance(a, xr.DataArray):
        a = a.data
    if isinstance(a, da.Array):
        return a.astype(np.float64) if chunks is None else a.astype(np.float64).rechunk(chunks)
    arr = np.asarray(a, dtype=np.float64)
    if chunks is None and arr.ndim == 2:
        chunks = (min(DEFAULT_CHUNK_LINES, arr.shape[0]), arr.shape[1])
    return da.from_array(arr, chunks=chunks or arr.shape)


def _geo2rdr_coarse(lat, lon, h, exact, grid, step, max_error):  # type: ignore[no-untyped-def]
    dl, dp = int(step[0]), int(step[1])
    nr, nc = lat.shape
    while True:
        node_r = _nodes(nr, dl)
        node_c = _nodes(nc, dp)
        ri = node_r.astype(int)
        ci = node_c.astype(int)
        vals = exact(lat[np.ix_(ri, ci)], lon[np.ix_(ri, ci)], h[np.ix_(ri, ci)])
        # check at cell centres that are real raster points (odd steps have none: use +1 offset)
        cr = np.unique(
            np.clip((node_r[:-1] + np.maximum(np.diff(node_r) // 2, 1)).astype(int), 0, nr - 1)
        )
        cc = np.unique(
            np.clip((node_c[:-1] + np.maximum(np.diff(node_c) // 2, 1)).astype(int), 0, nc - 1)
        )
        cr = cr[np.unique(np.linspace(0, cr.size - 1, min(cr.size, 40)).round().astype(int))]
        cc = cc[np.unique(np.linspace(0, cc.size - 1, min(cc.size, 60)).round().astype(int))]
        ex = exact(lat[np.ix_(cr, cc)], lon[np.ix_(cr, cc)], h[np.ix_(cr, cc)])
        it = _interp2(node_r, node_c, vals[0], cr.astype(float), cc.astype(float))
        ir = _interp2(node_r, node_c, vals[1], cr.astype(float), cc.astype(float))
        e_line = (
            np.nanmax(np.abs(it - ex[0])) / grid.azimuth_time_interval
            if np.isfinite(it).any()
            else 0.0
        )
        e_pix = (
            np.nanmax(np.abs(ir - ex[1])) / grid.range_pixel_spacing
            if np.isfinite(ir).any()
            else 0.0
        )
        err = float(max(e_line, e_pix))
        if err <= max_error or (dl == 1 and dp == 1):
            if err > max_error:
                raise GeometryError(f"geo2rdr interpolation error {err:.3g} px even at step 1")
            return node_r, node_c, vals, (dl, dp), err
        log.info(
            "geo2rdr coarse step %d x %d: error %.3g px > %.3g; refining", dl, dp, err, max_error
        )
        dl, dp = max(dl // 2, 1), max(dp // 2, 1)


def terrain_layers(
    radar_grid: RadarGrid,
    orbit: Orbit,
    geo: xr.Dataset | None = None,
    *,
    dem: Dem | str | os.PathLike[str] | None = None,
    chunks: tuple[int, int] | None = None,
) -> dict[str, xr.DataArray]:
    """``incidence_angle``, ``local_incidence_angle`` and ``layover_shadow_mask`` of a grid.

    With ``dem`` they come from :func:`rdr2geo_grid` on it (local incidence from the DEM
    slope, layover/shadow from the DEM profile). Without one, ``geo`` (a dataset with a
    ``height`` raster on the grid, e.g. a stack's own rdr2geo result) gives the heights:
    the incidence is exact, the local incidence equals it and the mask is 0 (both
    need a DEM; the attributes say so).
    """
    if dem is not None:
        ds = rdr2geo_grid(radar_grid, orbit, dem=dem, chunks=chunks)
    elif geo is not None and "height" in geo:
        heights = np.asarray(geo["height"].values, dtype=np.float64)
        if heights.shape != radar_grid.shape:
            raise InputError(
                f"geo['height'] has shape {heights.shape}, the grid {radar_grid.shape}"
            )
        grid = radar_grid

        def lookup(
            azimuth_time: NDArray[Any], slant_range: NDArray[np.float64]
        ) -> NDArray[np.float64]:
            i = np.clip(np.rint(grid.datetime_to_line(azimuth_time)), 0, grid.length - 1).astype(
                int
            )
            j = np.clip(np.rint(grid.slant_range_to_pixel(slant_range)), 0, grid.width - 1).astype(
                int
            )
            return heights[i, j]

        model = HeightModel.radar_heights(lookup, "heights of the given geometry dataset")
        ds = rdr2geo_grid(radar_grid, orbit, height=model, chunks=chunks)
    else:
        raise InputError("terrain_layers needs a DEM or a dataset with a 'height' raster")
    return {
        name: ds[name]
        for name in ("incidence_angle", "local_incidence_angle", "layover_shadow_mask")
    }
