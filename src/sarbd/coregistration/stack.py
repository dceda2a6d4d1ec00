"""Coregister a stack of SLC scenes onto the reference grid (``docs/formats.md``): the assembly.

The per-date work sits below this module (no module below imports it):
:mod:`~sarbd.coregistration.date` (a frame date), :mod:`~sarbd.coregistration.burst`
(a TOPS swath date), on :mod:`~sarbd.coregistration.geometric`,
:mod:`~sarbd.coregistration.ramps`, :mod:`~sarbd.coregistration.warp`,
:mod:`~sarbd.coregistration.residual` and :mod:`~sarbd.coregistration.fields`.
:func:`coregister` runs, for every secondary date:

1. DEM-assisted geometric offsets (:mod:`sarbd.coregistration.geometric`), on a coarse
   grid at a few height levels, interpolated with the reference-grid height raster;
2. resampling with a tabulated Knab/sinc kernel (:mod:`sarbd.coregistration.resample`),
   with the azimuth phase ramp removed and restored
   (:mod:`sarbd.coregistration.tops`) -- per burst for TOPS, then debursted onto the
   reference's merged grid;
3. refinement: ESD on burst overlaps for TOPS azimuth, incoherent amplitude
   cross-correlation reported (and optionally applied) as a residual constant shift;
4. interferograms against the reference with the geometric phase removed, and
   coherence (:mod:`sarbd.insar`).

The result is a lazy :class:`xarray.Dataset`; :func:`write_stack` stores it as Zarr.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd.core.capabilities import CalibrationProvider
from sarbd.core.chunks import BlockChunks, ChunksLike, as_chunks
from sarbd.core.radar_grid import RadarGrid
from sarbd.core.scene import Scene
from sarbd.core.serialization import orbit_to_dataset
from sarbd.coregistration.date import (
    DateResult,
    Refine,
    common_range_band,
    coregister_frame,
    refine_frame,
)
from sarbd.coregistration.fields import (
    DateOffsets,
    geometric_phase_array,
    median_offsets,
    offset_arrays,
)
from sarbd.coregistration.geometric import height_levels
from sarbd.coregistration.ramps import azimuth_ramp, is_tops_swath
from sarbd.coregistration.resample import knab_kernel
from sarbd.coregistration.residual import MIN_SHIFT, estimate_residual_shift, significant_shift
from sarbd.coregistration.sources import HeightRaster, StoredHeights, height_reader
from sarbd.errors import InputError
from sarbd.insar.interferogram import interferogram
from sarbd.utils.log import get_logger

if TYPE_CHECKING:
    from sarbd.geometry.dem import Dem, DemInput

__all__ = [
    "MIN_SHIFT",
    "DateResult",
    "azimuth_ramp",
    "common_range_band",
    "coregister",
    "coregister_to_zarr",
    "estimate_residual_shift",
    "geometry_layers",
    "reference_geometry",
    "reference_pair_variables",
    "significant_shift",
    "stack_coords",
    "stack_dataset",
    "write_stack",
]

log = get_logger(__name__)


# -- inputs -------------------------------------------------------------------------------------
def _as_scene(item: Scene | str | os.PathLike[str], swath: str | None = None) -> Scene:
    if isinstance(item, Scene):
        return item
    import sarbd

    return sarbd.open_product(item, swath=swath)


def _footprint(scene: Scene) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of the scene at height 0 (edges and centre)."""
    from sarbd.geometry import rdr2geo

    g = scene.radar_grid.with_epoch(scene.orbit.reference_epoch)
    lines = np.linspace(0, g.length - 1, 5)
    pixels = np.linspace(0, g.width - 1, 5)
    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(lines)[:, None],
        g.pixel_to_slant_range(pixels)[None, :],
        scene.orbit,
        height=0.0,
        look_side=g.look_side,
    )
    return (
        float(np.nanmin(lon)),
        float(np.nanmin(lat)),
        float(np.nanmax(lon)),
        float(np.nanmax(lat)),
    )


def _as_dem(dem: DemInput, scene: Scene) -> Dem | None:
    if dem is None:
        return None
    from sarbd.geometry import Dem

    if isinstance(dem, Dem):
        return dem
    return Dem.open(dem, bounds=_footprint(scene), margin=0.05)


# -- reference geometry ---------------------------------------------------------------------------
def reference_geometry(
    scene: Scene,
    dem: DemInput = None,
    *,
    block_lines: int | None = None,
    store: str | os.PathLike[str] | None = None,
) -> xr.Dataset:
    """Geometry of every reference pixel: rdr2geo with the DEM (``sarbd.geometry.rdr2geo_grid``).

    Returns a dataset on the scene's ``(line, pixel)`` coordinates with
    ``latitude``/``longitude`` (float64 coordinates), ``height`` (float32), and, when the
    geometry stage provides them, ``incidence_angle``, ``local_incidence_angle`` and
    ``layover_shadow_mask``. Without a DEM the surface is the ellipsoid (height 0).

    Parameters
    ----------
    block_lines
        Lines per rdr2geo block (default: about 2 M pixels a block, at most 256 lines).
    store
        A Zarr store (created; it must not exist) to compute the geometry into block by
        block: the returned variables are then read lazily from it, so memory does not
        grow with the scene (a full IW burst's geometry is 1.25 GB). Without it, the
        geometry is held in memory.
    """
    from sarbd.geometry import rdr2geo_grid

    g = scene.radar_grid
    if block_lines is None:
        block_lines = int(np.clip(2**21 // max(g.width, 1), 16, 256))
    kw: dict[str, Any] = {"dem": dem} if dem is not None else {"height": 0.0}
    lazy = rdr2geo_grid(g, scene.orbit, chunks=(block_lines, g.width), **kw)
    # only what the stack keeps (heading, look angle, LOS vectors and `converged` would add
    # 7 more full rasters: 1 GiB on a full IW burst); no second copy of lat/lon
    keep = ["latitude", "longitude", "height", *(n for n in _GEOMETRY_LAYERS if n in lazy)]
    lines = np.arange(g.first_line, g.first_line + g.length)
    pixels = np.arange(g.first_pixel, g.first_pixel + g.width)
    height_attrs = {
        "units": "m",
        "long_name": "WGS84 ellipsoidal height used for geometry",
        "standard_name": "height_above_reference_ellipsoid",
    }
    lat_attrs = {
        "units": "degrees_north",
        "standard_name": "latitude",
        "long_name": "geodetic latitude (WGS84)",
    }
    lon_attrs = {
        "units": "degrees_east",
        "standard_name": "longitude",
        "long_name": "geodetic longitude (WGS84)",
    }
    if store is not None:
        arrays = {
            "height": lazy["height"].data.astype(np.float32),
            "latitude": lazy["latitude"].data.astype(np.float64),
            "longitude": lazy["longitude"].data.astype(np.float64),
            **{n: lazy[n].data for n in _GEOMETRY_LAYERS if n in lazy},
        }
        staged = xr.Dataset({n: (("line", "pixel"), a) for n, a in arrays.items()})
        staged.to_zarr(store, mode="w-", zarr_format=2, consolidated=True)
        back = xr.open_zarr(store, consolidated=True)
        values = {n: back[n].variable for n in arrays}
    else:
        full = lazy[keep].compute()
        values = {
            "height": xr.Variable(("line", "pixel"), full["height"].values.astype(np.float32)),
            "latitude": xr.Variable(
                ("line", "pixel"), full["latitude"].values.astype(np.float64, copy=False)
            ),
            "longitude": xr.Variable(
                ("line", "pixel"), full["longitude"].values.astype(np.float64, copy=False)
            ),
            **{
                n: xr.Variable(("line", "pixel"), full[n].values)
                for n in _GEOMETRY_LAYERS
                if n in full
            },
        }
    out = xr.Dataset(
        {"height": (("line", "pixel"), values["height"].data, height_attrs)},
        coords={
            "line": lines,
            "pixel": pixels,
            "latitude": (("line", "pixel"), values["latitude"].data, lat_attrs),
            "longitude": (("line", "pixel"), values["longitude"].data, lon_attrs),
        },
    )
    for name in _GEOMETRY_LAYERS:
        if name in lazy:
            out[name] = (("line", "pixel"), values[name].data, dict(lazy[name].attrs))
    return out


#: The geometry rasters of :func:`reference_geometry` besides latitude, longitude and height.
_GEOMETRY_LAYERS = ("incidence_angle", "local_incidence_angle", "layover_shadow_mask")


@dataclass(frozen=True)
class ReferenceTerrain:
    """The reference grid's geometry and the heights the geometric offsets are modelled at."""

    dem: Dem | None  # the DEM the geometry was computed on (None: the ellipsoid)
    geometry: xr.Dataset  # :func:`reference_geometry`
    levels: NDArray[np.float64]  # height levels of the offset model (m)
    # heights, gaps at the mean height (m): in memory, or read from the geometry store
    height_filled: HeightRaster
    chunks: BlockChunks  # Dask blocks of the stack's rasters
    height: da.Array  # ``height_filled`` in those blocks

    @property
    def dem_description(self) -> str:
        """The stack's ``sarbd_dem`` attribute: how the heights were obtained."""
        if self.dem is None:
            return "none (ellipsoid)"
        return self.dem.description or str(self.dem.path)


def reference_terrain(
    ref: Scene,
    dem: DemInput,
    n_height_levels: int,
    chunks: ChunksLike = None,
    store: str | os.PathLike[str] | None = None,
) -> ReferenceTerrain:
    """Reference geometry on the DEM and the height levels of the offset model.

    Shared by :func:`coregister` and :func:`sarbd.stacks.assemble_stack`. Without a DEM, or
    on flat terrain, one level at the mean height; missing heights are filled with the mean.
    With ``store`` (a Zarr store path, created), the geometry and the filled heights are
    computed into it block by block and read from it (:func:`reference_geometry`).
    """
    dem_obj = _as_dem(dem, ref)
    geo = reference_geometry(ref, dem_obj, store=store)
    out_chunks = da.core.normalize_chunks(as_chunks(chunks), ref.radar_grid.shape)
    if store is not None:  # read in the stack's blocks
        geo = geo.chunk({"line": out_chunks[0], "pixel": out_chunks[1]})
    h = geo["height"].data
    if isinstance(h, da.Array):
        finite = da.isfinite(h)
        n_finite, h_min, h_max, h_sum = da.compute(
            finite.sum(), da.nanmin(h), da.nanmax(h), da.nansum(h.astype(np.float64))
        )
        h_mean = float(h_sum) / max(int(n_finite), 1)
    else:
        n_finite = int(np.isfinite(h).sum())
        h_min, h_max = (float(np.nanmin(h)), float(np.nanmax(h))) if n_finite else (0.0, 0.0)
        h_mean = float(np.nansum(h, dtype=np.float64)) / max(n_finite, 1)  # as the blocked sum
    if not int(n_finite):
        raise InputError(
            "no reference pixel has a height (is the DEM outside the scene?)",
            path=dem_obj.path if dem_obj is not None else None,
        )
    h_min, h_max = float(h_min), float(h_max)
    levels = (
        height_levels(h_min, h_max, n_height_levels)
        if dem_obj is not None and h_max > h_min
        else np.array([h_mean])
    )
    height_filled: HeightRaster
    if isinstance(h, da.Array) and store is not None:
        import zarr

        filled = da.where(da.isfinite(h), h, np.float32(h_mean)).astype(np.float32)
        group = zarr.open_group(os.fspath(store), mode="r+")  # the format-2 geometry store
        target = group.create_array(
            "height_filled",
            shape=filled.shape,
            chunks=tuple(c[0] for c in filled.chunks),
            dtype=np.float32,
        )
        da.store(filled, target, lock=False)  # type: ignore[arg-type]  # zarr arrays take slices
        stored = zarr.open_array(os.fspath(store), path="height_filled", mode="r")
        height_filled = StoredHeights(stored)
        h_da = da.from_zarr(stored).rechunk(out_chunks)
    else:
        h_np = np.asarray(h)
        height_filled = np.where(np.isfinite(h_np), h_np, np.float32(h_mean)).astype(np.float32)
        h_da = da.from_array(height_filled, chunks=out_chunks)
    return ReferenceTerrain(dem_obj, geo, levels, height_filled, out_chunks, h_da)


def date_variables(
    ref: Scene, dates: Sequence[Scene], baselines: Sequence[tuple[float, float]]
) -> dict[str, Any]:
    """The per-date variables every stack has: temporal, perpendicular and parallel baselines
    and the orbit source (``dates[0]`` is the reference; ``baselines`` are the secondaries')."""
    t0 = ref.radar_grid.sensing_start_datetime
    temporal = [(s.radar_grid.sensing_start_datetime - t0) / np.timedelta64(1, "D") for s in dates]
    perp = [0.0] + [b[0] for b in baselines]
    par = [0.0] + [b[1] for b in baselines]
    return {
        "temporal_baseline": (
            "time",
            np.array(temporal, np.float32),
            {"units": "day", "long_name": "time since the reference date"},
        ),
        "perpendicular_baseline": (
            "time",
            np.array(perp, np.float32),
            {"units": "m", "long_name": "perpendicular baseline to the reference at scene centre"},
        ),
        "parallel_baseline": (
            "time",
            np.array(par, np.float32),
            {"units": "m", "long_name": "parallel baseline to the reference at scene centre"},
        ),
        "orbit_source": (
            "time",
            np.array([str(s.orbit.source) for s in dates], dtype=object),
            {"long_name": "orbit used for geometry"},
        ),
    }


def stack_coords(
    grid: RadarGrid, times: Sequence[np.datetime64] | NDArray[np.datetime64], geometry: xr.Dataset
) -> dict[str, Any]:
    """The coordinates of every stack: time, root-grid line/pixel, latitude/longitude."""
    g = grid
    return {
        "time": (
            "time",
            np.array(times, dtype="datetime64[ns]"),
            {"long_name": "acquisition time (first line), UTC"},
        ),
        "line": (
            "line",
            np.arange(g.first_line, g.first_line + g.length),
            {"long_name": "line index in the reference root grid"},
        ),
        "pixel": (
            "pixel",
            np.arange(g.first_pixel, g.first_pixel + g.width),
            {"long_name": "pixel index in the reference root grid"},
        ),
        "latitude": geometry["latitude"].variable,
        "longitude": geometry["longitude"].variable,
    }


def reference_pair_variables(
    pol: str,
    slcs: Sequence[da.Array],
    phases: Sequence[da.Array],
    window: tuple[int, int],
    *,
    slc_long_name: str,
) -> tuple[dict[str, Any], list[da.Array], da.Array]:
    """``slc_<pol>``, ``interferogram_<pol>`` and ``coherence_<pol>`` against date 0.

    Interferograms from :func:`sarbd.insar.interferogram` with each date's geometric phase,
    coherence from :func:`sarbd.insar.coherence`. Shared by :func:`coregister` and
    :func:`sarbd.stacks.assemble_stack`. Returns the variables, the per-date interferograms
    and the power cube ``|slc|^2`` (for the sequential pairs).
    """
    from sarbd.insar import coherence as coherence_fn

    p = pol.lower()
    cube = da.stack(slcs)
    ifgs = [interferogram(slcs[0], s, ph) for s, ph in zip(slcs, phases, strict=True)]
    ifg = da.stack(ifgs)
    pw = (cube.real**2 + cube.imag**2).astype(np.float32)
    p_ref = da.broadcast_to(pw[0], pw.shape).rechunk(pw.chunks)
    data_vars: dict[str, Any] = {
        f"slc_{p}": (
            ("time", "line", "pixel"),
            cube,
            {"long_name": slc_long_name, "units": "1", "polarization": pol},
        ),
        f"interferogram_{p}": (
            ("time", "line", "pixel"),
            ifg,
            {
                "long_name": f"interferogram against the reference date ({pol}), flat-earth and topographic phase removed",
                "units": "1",
                "sarbd_formula": "ref * conj(sec) * exp(-j * phi_geom), phi_geom = -4 pi / lambda (R_ref - R_sec)",
            },
        ),
        f"coherence_{p}": (
            ("time", "line", "pixel"),
            coherence_fn(ifg, p_ref, pw, window=window),
            {
                "long_name": f"coherence magnitude against the reference date ({pol})",
                "units": "1",
                "coherence_window_line": window[0],
                "coherence_window_pixel": window[1],
                "valid_min": 0.0,
                "valid_max": 1.0,
            },
        ),
    }
    return data_vars, ifgs, pw


def sequential_pair_variables(
    pol: str,
    slcs: Sequence[da.Array],
    phases: Sequence[da.Array],
    ifgs: Sequence[da.Array],
    pw: da.Array,
    window: tuple[int, int],
) -> dict[str, Any]:
    """``interferogram_seq_<pol>`` and ``coherence_seq_<pol>``: date ``k - 1`` against date ``k``.

    Entry 0 is the reference's own (``ifgs[0]``); ``pw`` is the power cube of
    :func:`reference_pair_variables`. Interferograms from :func:`sarbd.insar.interferogram`
    with the difference of the dates' geometric phases, coherence from
    :func:`sarbd.insar.coherence`.
    """
    from sarbd.insar import coherence as coherence_fn

    p = pol.lower()
    seq = [ifgs[0]] + [
        interferogram(slcs[k - 1], slcs[k], phases[k] - phases[k - 1]) for k in range(1, len(slcs))
    ]
    seq_ifg = da.stack(seq)
    p_prev = da.concatenate([pw[:1], pw[:-1]]).rechunk(pw.chunks)
    return {
        f"interferogram_seq_{p}": (
            ("time", "line", "pixel"),
            seq_ifg,
            {
                "long_name": f"interferogram of consecutive dates ({pol}): date k-1 * conj(date k), geometric phase removed",
                "units": "1",
            },
        ),
        f"coherence_seq_{p}": (
            ("time", "line", "pixel"),
            coherence_fn(seq_ifg, p_prev, pw, window=window),
            {
                "long_name": f"coherence of consecutive dates ({pol})",
                "units": "1",
                "coherence_window_line": window[0],
                "coherence_window_pixel": window[1],
            },
        ),
    }


def geometry_layers(geometry: xr.Dataset, chunks: BlockChunks) -> dict[str, Any]:
    """Incidence, local incidence and layover/shadow of the reference geometry, when present."""
    return {
        name: (
            ("line", "pixel"),
            (
                geometry[name].data.rechunk(chunks)
                if isinstance(geometry[name].data, da.Array)
                else da.from_array(geometry[name].values, chunks=chunks)
            ),
            dict(geometry[name].attrs),
        )
        for name in _GEOMETRY_LAYERS
        if name in geometry
    }


def stack_dataset(
    data_vars: dict[str, Any],
    coords: dict[str, Any],
    ref: Scene,
    window: tuple[int, int],
    attrs: dict[str, Any],
) -> xr.Dataset:
    """The stack dataset: variables, coordinates, the reference orbit and global attributes.

    Global attributes: the reference scene's scalar metadata (datetimes as text), its radar
    grid, the reference date, coherence window and orbit, then ``attrs``.
    """
    ds = xr.Dataset(data_vars, coords=coords)
    ods = orbit_to_dataset(ref.orbit)
    ds = ds.assign_coords(orbit_time=ods["orbit_time"], xyz=ods["xyz"])
    ds["orbit_position"] = ods["orbit_position"]
    ds["orbit_velocity"] = ods["orbit_velocity"]
    out: dict[str, Any] = {}
    for k, v in ref.metadata.items():
        if isinstance(v, str | int | float | bool | np.integer | np.floating):
            out[k] = v.item() if isinstance(v, np.generic) else v
        elif isinstance(v, np.datetime64):
            out[k] = str(v)
    out.update(ref.radar_grid.to_attrs())
    out.update(
        {
            "reference_date": str(np.datetime64(ds["time"].values[0], "s")),
            "coherence_window_line": window[0],
            "coherence_window_pixel": window[1],
            "orbit_reference_epoch": str(ref.orbit.reference_epoch),
            "orbit_source": ref.orbit.source,
        }
    )
    out.update(attrs)
    ds.attrs = out
    return ds


def _common_pols(ref: Scene, secs: list[Scene], wanted: Any) -> tuple[str, ...]:
    pols = tuple(p.upper() for p in (wanted if wanted is not None else ref.polarizations))
    for s in [ref, *secs]:
        missing = [p for p in pols if p not in s.polarizations]
        if missing:
            raise InputError(
                f"polarisation(s) {', '.join(missing)} missing in a date of the stack",
                path=s.metadata.get("source_path"),
                hint="choose polarisations that every date has (polarizations=...)",
            )
    return pols


def coregister(
    reference: Scene | str | os.PathLike[str],
    secondaries: Sequence[Scene | str | os.PathLike[str]],
    *,
    dem: DemInput = None,
    polarizations: list[str] | tuple[str, ...] | None = None,
    window: tuple[int, int] = (2, 10),
    kernel_taps: int = 8,
    kernel_bandwidth: float = 0.8,
    chunks: ChunksLike = None,
    offset_step: tuple[int, int] = (64, 64),
    n_height_levels: int = 4,
    refine: Refine = "apply",
    esd: bool = True,
    sequential: bool = False,
    swath: str | None = None,
    tops_reramp: Literal["secondary", "reference"] = "secondary",
    geometry_store: str | os.PathLike[str] | None = None,
) -> xr.Dataset:
    """Coregister secondary SLCs onto the reference grid; interferograms and coherence.

    Parameters
    ----------
    reference, secondaries
        Scenes or product paths (opened with :func:`sarbd.open_product`).
    dem
        A :class:`~sarbd.geometry.Dem`, a DEM file, or ``None`` (ellipsoid, height 0).
    polarizations
        Polarisations to process (default: all of the reference's; every date must have them).
    window
        Coherence window ``(lines, pixels)``; default 2 x 10 (Sentinel-1 IW).
    kernel_taps, kernel_bandwidth
        Interpolation kernel length and design bandwidth (:func:`knab_kernel`).
    chunks
        Dask chunks ``(lines, pixels)`` of the output (:func:`sarbd.core.chunks.as_chunks`;
        default :data:`~sarbd.core.chunks.DEFAULT_CHUNKS`).
    offset_step
        Coarse grid step of the geometric offsets (lines, pixels).
    n_height_levels
        Height levels of the offset model when a DEM is given.
    refine
        ``"off"``, ``"report"`` (estimate the residual constant shift by intensity
        cross-correlation and record it) or ``"apply"`` (default; also correct it when
        it is significant: above 3 standard errors and 0.005 line in azimuth, where
        annotation timing errors are common, or 0.3 pixel in range, where the orbit
        geometry is good to centimetres).
    esd
        TOPS only: estimate and correct the azimuth misregistration by ESD.
    sequential
        Also compute interferograms and coherence between consecutive dates
        (``interferogram_seq_<pol>``, ``coherence_seq_<pol>``; entry ``k`` pairs dates
        ``k - 1`` and ``k``; entry 0 is the reference's own).
    swath
        Sentinel-1 swath when paths are given.
    tops_reramp
        TOPS only: put the azimuth ramp back on the resampled secondary with its own
        ramp at the resampled positions (``"secondary"``, default; isce2/SNAP) or with
        the reference's ramp (``"reference"``; see
        :func:`sarbd.coregistration.burst.coregister_tops`).
    geometry_store
        A Zarr store path (created, must not exist) to compute the reference geometry
        into block by block (:func:`reference_geometry`); the stack then reads it from
        there. Default: held in memory (1.25 GB on a full IW burst). The store must
        live as long as the returned dataset is used.

    Returns
    -------
    xarray.Dataset
        The stack of ``docs/formats.md`` (lazy Dask arrays for the rasters). The
        reference is the first date; secondaries follow in the order given.

    See Also
    --------
    coregister_to_zarr : the same stack written in bounded memory.
    """
    return _coregister(
        reference,
        secondaries,
        dem=dem,
        polarizations=polarizations,
        window=window,
        kernel_taps=kernel_taps,
        kernel_bandwidth=kernel_bandwidth,
        chunks=chunks,
        offset_step=offset_step,
        n_height_levels=n_height_levels,
        refine=refine,
        esd=esd,
        sequential=sequential,
        swath=swath,
        tops_reramp=tops_reramp,
        geometry_store=geometry_store,
    )[0]


#: Rebuilds the interferometric variables of a stack from given SLCs (``{pol: [date k]}``).
DeriveInsar = Callable[[dict[str, list[da.Array]]], dict[str, Any]]


def _coregister(
    reference: Scene | str | os.PathLike[str],
    secondaries: Sequence[Scene | str | os.PathLike[str]],
    *,
    dem: DemInput = None,
    polarizations: list[str] | tuple[str, ...] | None = None,
    window: tuple[int, int] = (2, 10),
    kernel_taps: int = 8,
    kernel_bandwidth: float = 0.8,
    chunks: ChunksLike = None,
    offset_step: tuple[int, int] = (64, 64),
    n_height_levels: int = 4,
    refine: Refine = "apply",
    esd: bool = True,
    sequential: bool = False,
    swath: str | None = None,
    tops_reramp: Literal["secondary", "reference"] = "secondary",
    geometry_store: str | os.PathLike[str] | None = None,
) -> tuple[xr.Dataset, DeriveInsar]:
    """:func:`coregister`, and the function that rebuilds its interferometric variables
    (interferograms and coherence against the reference and between consecutive dates)
    from other copies of the SLCs, e.g. the stored ones (:func:`coregister_to_zarr`)."""
    ref = _as_scene(reference, swath)
    secs = [_as_scene(s, swath) for s in secondaries]
    pols = _common_pols(ref, secs, polarizations)
    kernel = knab_kernel(kernel_taps, kernel_bandwidth)
    g = ref.radar_grid
    terrain = reference_terrain(ref, dem, n_height_levels, chunks, store=geometry_store)
    geo, levels = terrain.geometry, terrain.levels
    height_filled, out_chunks, h_da = terrain.height_filled, terrain.chunks, terrain.height
    read_height = height_reader(height_filled)

    results: list[DateResult] = []
    for sec in secs:
        if is_tops_swath(ref) and is_tops_swath(sec):
            from sarbd.coregistration.burst import coregister_tops

            res = coregister_tops(
                ref,
                sec,
                pols,
                kernel=kernel,
                levels=levels,
                height=height_filled,
                offset_step=offset_step,
                chunks=out_chunks,
                esd=esd,
                reramp_with=tops_reramp,
                refine=refine,
            )
        else:
            res = coregister_frame(
                ref,
                sec,
                pols,
                kernel=kernel,
                levels=levels,
                read_height=read_height,
                offset_step=offset_step,
                chunks=out_chunks,
            )
            if refine != "off":
                res = refine_frame(ref, res, pols[0], refine, kernel, read_height, out_chunks, sec)
        results.append(res)

    # -- assemble ---------------------------------------------------------------------------
    times = [ref.radar_grid.sensing_start_datetime] + [
        r.scene.radar_grid.sensing_start_datetime for r in results
    ]
    coords = stack_coords(g, times, geo)
    data_vars: dict[str, Any] = {}
    window = (int(window[0]), int(window[1]))
    # geometric phase of every date (0 for the reference)
    phases = [da.zeros(g.shape, chunks=out_chunks, dtype=np.float64)]
    for r in results:
        phases.append(
            geometric_phase_array(
                r.geometric if r.geometric is not None else r.offsets, g, r.scene.radar_grid, h_da
            )
        )

    def derive(slcs_by_pol: dict[str, list[da.Array]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for pol in pols:
            slcs = slcs_by_pol[pol]
            pair_vars, ifgs, pw = reference_pair_variables(
                pol,
                slcs,
                phases,
                window,
                slc_long_name=f"coregistered SLC ({pol}), radiometrically uncalibrated DN",
            )
            out.update(pair_vars)
            if sequential and len(slcs) > 1:
                out.update(sequential_pair_variables(pol, slcs, phases, ifgs, pw, window))
        return out

    slcs_by_pol = {
        pol: [ref.slc(pol).data.rechunk(out_chunks)] + [r.slc[pol] for r in results] for pol in pols
    }
    derived = derive(slcs_by_pol)
    for pol in pols:
        p = pol.lower()
        data_vars.update({k: v for k, v in derived.items() if k.endswith(f"_{p}")})
        _add_radiometry(data_vars, ref, results, pol, out_chunks)
    data_vars["height"] = (("line", "pixel"), h_da.astype(np.float32), dict(geo["height"].attrs))
    offs = [offset_arrays(r.offsets, h_da) for r in results]
    zero = da.zeros(g.shape, chunks=out_chunks, dtype=np.float32)
    data_vars["offset_line"] = (
        ("time", "line", "pixel"),
        da.stack([zero] + [o[0] for o in offs]),
        {
            "units": "1",
            "long_name": "line of the same ground point in each date's grid minus reference line "
            "(geometric offsets plus refinement, as used for resampling)",
        },
    )
    data_vars["offset_pixel"] = (
        ("time", "line", "pixel"),
        da.stack([zero] + [o[1] for o in offs]),
        {
            "units": "1",
            "long_name": "pixel of the same ground point in each date's grid minus reference pixel "
            "(geometric offsets plus refinement, as used for resampling)",
        },
    )
    data_vars.update(geometry_layers(geo, out_chunks))
    _add_per_date(data_vars, ref, results)
    ds = stack_dataset(
        data_vars,
        coords,
        ref,
        window,
        {
            "sarbd_coregistration_kernel": f"Knab-windowed sinc, {kernel.taps} taps, bandwidth {kernel.bandwidth}, "
            f"{kernel.oversampling} sub-pixel table rows",
            "sarbd_offset_height_levels_m": [float(x) for x in levels],
            "sarbd_dem": terrain.dem_description,
            "sarbd_tops_reramp": tops_reramp if is_tops_swath(ref) else "n/a",
        },
    )
    return ds, derive


def _shifted_factor(field_: xr.DataArray, sec: Scene, offsets: DateOffsets, ref: Scene) -> da.Array:
    """A slowly varying secondary field sampled at the nearest secondary sample of each reference pixel."""
    dl, dp = median_offsets(offsets)
    g = ref.radar_grid
    il = np.clip(np.arange(g.length) + round(dl), 0, sec.shape[0] - 1)
    ip = np.clip(np.arange(g.width) + round(dp), 0, sec.shape[1] - 1)
    return field_.data[il][:, ip]


def _add_radiometry(
    data_vars: dict[str, Any], ref: Scene, results: list[DateResult], pol: str, chunks: BlockChunks
) -> None:
    """``cal_{sigma0,beta0,gamma0}_<pol>`` and ``noise_<pol>`` when the products carry LUTs."""
    if not isinstance(ref.product, CalibrationProvider) or pol not in ref.product.calibration:
        return
    from sarbd.products.calibration import calibration_factor, noise_power

    p = pol.lower()
    for kind in ("sigma0", "beta0", "gamma0"):
        layers = [calibration_factor(ref, pol, kind).data]
        for r in results:
            layers.append(
                _shifted_factor(calibration_factor(r.scene, pol, kind), r.scene, r.offsets, ref)
            )
        data_vars[f"cal_{kind}_{p}"] = (
            ("time", "line", "pixel"),
            da.stack(layers).rechunk((1, *chunks)).astype(np.float32),
            {
                "units": "1",
                "long_name": f"{kind} calibration factor 1/A^2 ({pol})",
                "sarbd_formula": f"{kind} = (|DN|^2 - noise_{p}) * cal_{kind}_{p}",
            },
        )
    layers = []
    for s, off in [(ref, None)] + [(r.scene, r.offsets) for r in results]:
        try:
            nz = noise_power(s, pol)
            layers.append(nz.data if off is None else _shifted_factor(nz, s, off, ref))
        except InputError:
            layers.append(da.zeros(ref.shape, chunks=chunks, dtype=np.float32))
    data_vars[f"noise_{p}"] = (
        ("time", "line", "pixel"),
        da.stack(layers).rechunk((1, *chunks)).astype(np.float32),
        {
            "units": "1",
            "long_name": f"thermal noise power eta in DN^2 ({pol}); 0 where the product has none",
        },
    )


def _add_per_date(data_vars: dict[str, Any], ref: Scene, results: list[DateResult]) -> None:
    from sarbd.geometry.baseline import centre_baselines

    dates = [ref] + [r.scene for r in results]
    baselines = [centre_baselines(ref.radar_grid, ref.orbit, s.orbit) for s in dates[1:]]
    data_vars.update(date_variables(ref, dates, baselines))
    shifts = [(0.0, 0.0, 0.0, 0.0)] + [
        (r.refinement.line, r.refinement.pixel, r.refinement.line_std, r.refinement.pixel_std)
        if r.refinement
        else (np.nan,) * 4
        for r in results
    ]
    arr = np.array(shifts, dtype=np.float32)
    data_vars["residual_line_shift"] = (
        "time",
        arr[:, 0],
        {
            "units": "1",
            "long_name": "residual azimuth shift found by amplitude cross-correlation after coregistration (lines)",
            "standard_error": arr[:, 2].tolist(),
        },
    )
    data_vars["residual_pixel_shift"] = (
        "time",
        arr[:, 1],
        {
            "units": "1",
            "long_name": "residual range shift found by amplitude cross-correlation after coregistration (pixels)",
            "standard_error": arr[:, 3].tolist(),
        },
    )
    esd = [0.0] + [float(r.esd.get("correction", np.nan)) for r in results]
    data_vars["esd_azimuth_correction"] = (
        "time",
        np.array(esd, np.float32),
        {
            "units": "1",
            "long_name": "azimuth correction from enhanced spectral diversity (lines; NaN when not TOPS)",
        },
    )


# -- output --------------------------------------------------------------------------------------------
def _zarr_layout(
    ds: xr.Dataset, compressor_level: int
) -> tuple[xr.Dataset, dict[str, dict[str, Any]]]:
    """The stack as it is stored (strings as UTF-8 objects, time chunks of 1) and its encoding."""
    out = ds.copy()
    for v in out.variables.values():
        v.encoding = {}  # e.g. the chunks of a geometry store the variables were read from
    # strings as variable-length UTF-8
    for name in list(out.variables):
        var = out[name]
        if var.dtype.kind in ("U", "O"):
            values = np.array([str(v) for v in np.ravel(var.values)], dtype=object).reshape(
                var.shape
            )
            if name in out.coords:
                out = out.assign_coords({name: (var.dims, values, var.attrs)})
            else:
                out[name] = (var.dims, values, var.attrs)
    encoding: dict[str, dict[str, Any]] = {}
    # Zarr format 2 (with consolidated metadata, read by every Zarr implementation)
    from numcodecs import Blosc

    comp: dict[str, Any] = {
        "compressors": (Blosc(cname="zstd", clevel=compressor_level, shuffle=Blosc.SHUFFLE),)
    }
    for name, var in out.data_vars.items():
        enc = dict(comp)
        if isinstance(var.data, da.Array):
            enc["chunks"] = tuple(c[0] for c in var.data.chunks)
            if var.dims and var.dims[0] == "time":
                enc["chunks"] = (1, *enc["chunks"][1:])
                out[name] = var.chunk({"time": 1})
        encoding[str(name)] = enc
    return out, encoding


def write_stack(ds: xr.Dataset, path: str | os.PathLike[str], *, compressor_level: int = 3) -> Path:
    """Write the stack as Zarr (format 2, consolidated; chunked; Blosc-zstd), atomically.

    Variables keep their Dask chunks (time chunks of 1); strings are stored as
    variable-length UTF-8. Returns the path.
    """
    from sarbd.utils.files import atomic_output

    path = Path(path)
    out, encoding = _zarr_layout(ds, compressor_level)
    with atomic_output(path, directory=True) as tmp:
        out.to_zarr(tmp, mode="w", encoding=encoding, consolidated=True, zarr_format=2)
    return path


def _write_dates(ds: xr.Dataset, names: Sequence[str], store: Path) -> None:
    """Write the ``(time, ...)`` variables ``names`` of ``ds`` into ``store``, one date at a time.

    Each date is one Dask computation: what it needs (one date's resampling, or the
    stored SLCs it reads) is computed once and freed when that date is written.
    """
    if not names:
        return
    part = ds[list(names)]
    part = part.drop_vars([c for c in part.coords if "time" not in part[c].dims])
    part.attrs = {}
    for v in part.variables.values():
        v.encoding = {}
    for k in range(part.sizes["time"]):
        part.isel(time=slice(k, k + 1)).to_zarr(
            store, region={"time": slice(k, k + 1)}, mode="r+", zarr_format=2
        )
        log.info("stack: %s of date %d of %d written", ", ".join(names), k + 1, part.sizes["time"])


def coregister_to_zarr(
    reference: Scene | str | os.PathLike[str],
    secondaries: Sequence[Scene | str | os.PathLike[str]],
    path: str | os.PathLike[str],
    *,
    compressor_level: int = 3,
    **kwargs: Any,
) -> Path:
    """:func:`coregister` and :func:`write_stack` in memory that does not grow with the scene.

    The same store as ``write_stack(coregister(reference, secondaries, **kwargs), path)``,
    written in three passes so that no computation holds more than one date:

    1. the reference geometry, computed block by block into a temporary store beside
       ``path`` (removed at the end), then the stack's arrays without time (heights,
       geometry, latitude/longitude);
    2. date by date, the resampled SLCs, offsets and radiometry: the expensive
       resampling of a date feeds nothing else, so it streams block by block;
    3. date by date, the interferograms and coherences (against the reference and
       between consecutive dates) from the SLCs just stored, each read back as needed
       (in one Dask graph, every resampled SLC block feeds a dozen outputs and the
       threaded scheduler held most of the stack: 9.9 GiB on a full IW burst).

    Parameters
    ----------
    reference, secondaries, kwargs
        As for :func:`coregister`.
    path
        The Zarr store (written atomically).
    compressor_level
        Blosc-zstd level, as for :func:`write_stack`.
    """
    import tempfile

    from sarbd.utils.files import atomic_output

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.geometry-") as gdir:
        ds, derive = _coregister(
            reference, secondaries, geometry_store=Path(gdir) / "geometry.zarr", **kwargs
        )
        out, encoding = _zarr_layout(ds, compressor_level)
        with atomic_output(path, directory=True) as tmp:
            tmp = Path(tmp)
            out.to_zarr(
                tmp, mode="w", encoding=encoding, consolidated=True, zarr_format=2, compute=False
            )
            lazy = [n for n, v in out.variables.items() if isinstance(v.data, da.Array)]
            fixed = [n for n in lazy if "time" not in out[n].dims]
            if fixed:
                part = xr.Dataset(
                    {n: out[n].variable for n in fixed if n in out.data_vars},
                    coords={n: out[n].variable for n in fixed if n in out.coords},
                )
                part.to_zarr(
                    tmp,
                    region={d: slice(0, out.sizes[d]) for d in part.dims},
                    mode="r+",
                    zarr_format=2,
                )
            stored_slcs = [n for n in out.data_vars if str(n).startswith("slc_")]
            insar = [
                str(n) for n in out.data_vars if str(n).startswith(("interferogram_", "coherence_"))
            ]
            first = [str(n) for n in lazy if n not in fixed and n not in insar]
            _write_dates(out, first, tmp)
            if insar:
                stored = xr.open_zarr(tmp, consolidated=True)
                pols = [str(stored[n].attrs["polarization"]) for n in stored_slcs]
                derived = derive(
                    {
                        pol: [
                            stored[f"slc_{pol.lower()}"].data[k]
                            for k in range(stored.sizes["time"])
                        ]
                        for pol in pols
                    }
                )
                again = xr.Dataset(
                    {n: (derived[n][0], derived[n][1]) for n in insar},
                    coords={"time": out["time"].variable},
                )
                _write_dates(again.chunk({"time": 1}), insar, tmp)
    return path
