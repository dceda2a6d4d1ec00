"""Coregister a stack of SLC scenes onto the reference grid (``docs/formats.md``).

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd.core.radar_grid import RadarGrid
from sarbd.core.scene import Scene
from sarbd.core.serialization import orbit_to_dataset
from sarbd.coregistration.geometric import geometric_offsets, height_levels, range_difference
from sarbd.coregistration.offsets import OffsetModel
from sarbd.coregistration.refine import ShiftEstimate, cross_correlation_shift
from sarbd.coregistration.resample import InterpolationKernel, knab_kernel
from sarbd.coregistration.tops import AzimuthRamp
from sarbd.coregistration.warp import resample_image
from sarbd.errors import InputError
from sarbd.utils.log import get_logger

__all__ = ["DateResult", "common_range_band", "coregister", "reference_geometry", "write_stack"]

log = get_logger(__name__)

Refine = Literal["off", "report", "apply"]


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
    lat, lon, _ = rdr2geo(g.line_to_azimuth_time(lines)[:, None], g.pixel_to_slant_range(pixels)[None, :],
                          scene.orbit, height=0.0, look_side=g.look_side)
    return float(np.nanmin(lon)), float(np.nanmin(lat)), float(np.nanmax(lon)), float(np.nanmax(lat))


def _as_dem(dem: Any, scene: Scene) -> Any:
    if dem is None:
        return None
    from sarbd.geometry import Dem

    if isinstance(dem, Dem):
        return dem
    return Dem.open(dem, bounds=_footprint(scene), margin=0.05)


# -- reference geometry ---------------------------------------------------------------------------
def reference_geometry(scene: Scene, dem: Any = None, *, block_lines: int = 256) -> xr.Dataset:
    """Geometry of every reference pixel: rdr2geo with the DEM (``sarbd.geometry.rdr2geo_grid``).

    Returns an in-memory dataset on the scene's ``(line, pixel)`` coordinates with
    ``latitude``/``longitude`` (float64 coordinates), ``height`` (float32), and, when the
    geometry stage provides them, ``incidence_angle``, ``local_incidence_angle`` and
    ``layover_shadow_mask``. Without a DEM the surface is the ellipsoid (height 0).
    """
    from sarbd.geometry import rdr2geo_grid

    g = scene.radar_grid
    kw: dict[str, Any] = {"dem": dem} if dem is not None else {"height": 0.0}
    lazy = rdr2geo_grid(g, scene.orbit, chunks=(block_lines, g.width), **kw)
    # only what the stack keeps (heading, look angle, LOS vectors and `converged` would add
    # 7 more full rasters: 1 GiB on a full IW burst); no second copy of lat/lon
    keep = ["latitude", "longitude", "height", *(n for n in _GEOMETRY_LAYERS if n in lazy)]
    full = lazy[keep].compute()
    lines = np.arange(g.first_line, g.first_line + g.length)
    pixels = np.arange(g.first_pixel, g.first_pixel + g.width)
    out = xr.Dataset(
        {"height": (("line", "pixel"), full["height"].values.astype(np.float32),
                    {"units": "m", "long_name": "WGS84 ellipsoidal height used for geometry",
                     "standard_name": "height_above_reference_ellipsoid"})},
        coords={
            "line": lines, "pixel": pixels,
            "latitude": (("line", "pixel"), full["latitude"].values.astype(np.float64, copy=False),
                         {"units": "degrees_north", "standard_name": "latitude", "long_name": "geodetic latitude (WGS84)"}),
            "longitude": (("line", "pixel"), full["longitude"].values.astype(np.float64, copy=False),
                          {"units": "degrees_east", "standard_name": "longitude", "long_name": "geodetic longitude (WGS84)"}),
        },
    )
    for name in _GEOMETRY_LAYERS:
        if name in full:
            out[name] = (("line", "pixel"), full[name].values, dict(full[name].attrs))
    return out


#: The geometry rasters of :func:`reference_geometry` besides latitude, longitude and height.
_GEOMETRY_LAYERS = ("incidence_angle", "local_incidence_angle", "layover_shadow_mask")


# -- ramps ------------------------------------------------------------------------------------------
def _nearest(items: Any, t: np.datetime64) -> Any:
    return min(items, key=lambda x: abs((x.azimuth_time - t) / np.timedelta64(1, "ns")))


def azimuth_ramp(scene: Scene, burst: int | None = None) -> AzimuthRamp | None:
    """The azimuth phase ramp of a Sentinel-1 burst (TOPS) or stripmap scene; ``None`` if unknown.

    Line indices of the ramp are the scene's own (window) indices. For TOPS the burst
    centre is ``eta = 0``; for stripmap the scene centre.
    """
    p = scene.product
    if p is None or not hasattr(p, "doppler_centroids") or not p.doppler_centroids:
        return None
    g = scene.radar_grid
    if burst is None and getattr(p, "crop_burst", None) is not None:
        burst = int(p.crop_burst)  # a TOPS crop inside one burst
    if burst is not None:
        b = p.bursts[burst]
        t_mid = b.azimuth_time + np.timedelta64(round(b.lines / 2 * p.azimuth_time_interval * 1e9), "ns")
        mid_line = b.line_offset + b.lines / 2 - g.first_line
        steering = np.radians(p.azimuth_steering_rate)
    else:
        mid_line = (g.length - 1) / 2
        t_mid = g.line_to_datetime(mid_line)[()]
        steering = np.radians(p.azimuth_steering_rate) if getattr(p, "is_tops", False) else 0.0
    dc = _nearest(p.doppler_centroids, t_mid)
    fm = _nearest(p.azimuth_fm_rates, t_mid)
    orbit = scene.orbit
    tsec = (t_mid - orbit.reference_epoch) / np.timedelta64(1, "s")
    v = float(np.linalg.norm(orbit.velocity(np.array([tsec]))[0]))
    from sarbd.core.radar_grid import SPEED_OF_LIGHT

    r0 = 2.0 * g.starting_range / SPEED_OF_LIGHT
    fs = g.range_sampling_rate
    return AzimuthRamp(
        azimuth_time_interval=g.azimuth_time_interval, mid_line=float(mid_line), starting_range_time=r0,
        range_sampling_rate=fs, dc_t0=float(dc.t0), dc_coefficients=tuple(map(float, dc.data_coefficients)),
        fm_t0=float(fm.t0), fm_coefficients=tuple(map(float, fm.coefficients)), steering_rate=float(steering),
        velocity=v, wavelength=g.wavelength,
        mid_range_time=2.0 * (p.slant_range_time * SPEED_OF_LIGHT / 2 + p.number_of_samples / 2 * g.range_pixel_spacing)
        / SPEED_OF_LIGHT,
    )


# -- per date -----------------------------------------------------------------------------------------
@dataclass
class DateResult:
    """What coregistration found for one secondary date."""

    scene: Scene
    offsets: Any  # OffsetModel (frame) or BurstOffsets (TOPS): as used for resampling
    geometric: Any = None  # the geometric model before refinement (for the phase); default: offsets
    refinement: ShiftEstimate | None = None
    esd: dict[str, float] = field(default_factory=dict)
    slc: dict[str, da.Array] = field(default_factory=dict)
    range_band: tuple[float, float] | None = None


def _scene_reader(scene: Scene, pol: str):  # type: ignore[no-untyped-def]
    g = scene.radar_grid
    source = scene.pixels
    if source is None:
        raise InputError("the secondary has no pixels (metadata only)", path=scene.metadata.get("source_path"))

    def read(lines: slice, pixels: slice) -> NDArray[np.complex64]:
        return source.read(pol, slice(g.first_line + lines.start, g.first_line + lines.stop),
                           slice(g.first_pixel + pixels.start, g.first_pixel + pixels.stop))

    return read


def _height_reader(height: NDArray[np.float32]):  # type: ignore[no-untyped-def]
    def read(lines: slice, pixels: slice) -> NDArray[np.float64]:
        return np.asarray(height[lines, pixels], dtype=np.float64)

    return read


def _is_tops(scene: Scene) -> bool:
    return bool(getattr(scene.product, "is_tops", False)) and getattr(scene.product, "layout", "") == "debursted"


def _common_pols(ref: Scene, secs: list[Scene], wanted: Any) -> tuple[str, ...]:
    pols = tuple(p.upper() for p in (wanted if wanted is not None else ref.polarizations))
    for s in [ref, *secs]:
        missing = [p for p in pols if p not in s.polarizations]
        if missing:
            raise InputError(f"polarisation(s) {', '.join(missing)} missing in a date of the stack",
                             path=s.metadata.get("source_path"),
                             hint="choose polarisations that every date has (polarizations=...)")
    return pols


def coregister(
    reference: Scene | str | os.PathLike[str],
    secondaries: Sequence[Scene | str | os.PathLike[str]],
    *,
    dem: Any = None,
    polarizations: list[str] | tuple[str, ...] | None = None,
    window: tuple[int, int] = (2, 10),
    kernel_taps: int = 8,
    kernel_bandwidth: float = 0.8,
    chunks: tuple[int, int] = (512, 2048),
    offset_step: tuple[int, int] = (64, 64),
    n_height_levels: int = 4,
    refine: Refine = "apply",
    esd: bool = True,
    sequential: bool = False,
    swath: str | None = None,
    tops_reramp: Literal["secondary", "reference"] = "secondary",
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
        Dask chunks ``(lines, pixels)`` of the output.
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

    Returns
    -------
    xarray.Dataset
        The stack of ``docs/formats.md`` (lazy Dask arrays for the rasters). The
        reference is the first date; secondaries follow in the order given.
    """
    from sarbd.insar import coherence as coherence_fn
    from sarbd.insar import geometric_phase

    ref = _as_scene(reference, swath)
    secs = [_as_scene(s, swath) for s in secondaries]
    pols = _common_pols(ref, secs, polarizations)
    dem_obj = _as_dem(dem, ref)
    kernel = knab_kernel(kernel_taps, kernel_bandwidth)
    g = ref.radar_grid
    geo = reference_geometry(ref, dem_obj)
    height = np.asarray(geo["height"].values)
    if not np.isfinite(height).any():
        raise InputError("no reference pixel has a height (is the DEM outside the scene?)",
                         path=getattr(dem_obj, "path", None))
    h_min, h_max = float(np.nanmin(height)), float(np.nanmax(height))
    levels = height_levels(h_min, h_max, n_height_levels) if dem_obj is not None and h_max > h_min else \
        np.array([float(np.nanmean(height))])
    height_filled = np.where(np.isfinite(height), height, float(np.nanmean(height))).astype(np.float32)
    read_height = _height_reader(height_filled)
    out_chunks = da.core.normalize_chunks(chunks, g.shape)
    h_da = da.from_array(height_filled, chunks=out_chunks)

    results: list[DateResult] = []
    for sec in secs:
        if _is_tops(ref) and _is_tops(sec):
            from sarbd.coregistration.burst import coregister_tops

            res = coregister_tops(ref, sec, pols, kernel=kernel, levels=levels, height=height_filled,
                                  offset_step=offset_step, chunks=out_chunks, esd=esd, reramp_with=tops_reramp,
                                  refine=refine)
        else:
            res = _coregister_frame(ref, sec, pols, kernel=kernel, levels=levels, read_height=read_height,
                                    offset_step=offset_step, chunks=out_chunks)
            if refine != "off":
                res = _refine(ref, res, pols[0], refine, kernel, read_height, out_chunks, sec)
        results.append(res)

    # -- assemble ---------------------------------------------------------------------------
    times = [ref.radar_grid.sensing_start_datetime] + [r.scene.radar_grid.sensing_start_datetime for r in results]
    coords: dict[str, Any] = {
        "time": ("time", np.array(times, dtype="datetime64[ns]"), {"long_name": "acquisition time (first line), UTC"}),
        "line": ("line", np.arange(g.first_line, g.first_line + g.length), {"long_name": "line index in the reference root grid"}),
        "pixel": ("pixel", np.arange(g.first_pixel, g.first_pixel + g.width), {"long_name": "pixel index in the reference root grid"}),
        "latitude": geo["latitude"].variable,
        "longitude": geo["longitude"].variable,
    }
    data_vars: dict[str, Any] = {}
    window = (int(window[0]), int(window[1]))
    # geometric phase of every date (0 for the reference)
    phases = [da.zeros(g.shape, chunks=out_chunks, dtype=np.float64)]
    for r in results:
        phases.append(_phase_array(r.geometric if r.geometric is not None else r.offsets, g,
                                   r.scene.radar_grid, h_da, geometric_phase))
    for pol in pols:
        p = pol.lower()
        ref_slc = ref.slc(pol).data.rechunk(out_chunks)
        slcs = [ref_slc] + [r.slc[pol] for r in results]
        stack = da.stack(slcs)
        data_vars[f"slc_{p}"] = (("time", "line", "pixel"), stack, {
            "long_name": f"coregistered SLC ({pol}), radiometrically uncalibrated DN", "units": "1",
            "polarization": pol})
        ifgs = [(ref_slc * np.conj(s) * np.exp(-1j * ph)).astype(np.complex64) for s, ph in zip(slcs, phases, strict=True)]
        ifg = da.stack(ifgs)
        pw = (stack.real ** 2 + stack.imag ** 2).astype(np.float32)
        p_ref = da.broadcast_to(pw[0], pw.shape).rechunk(pw.chunks)
        coh = coherence_fn(ifg, p_ref, pw, window=window)
        data_vars[f"interferogram_{p}"] = (("time", "line", "pixel"), ifg, {
            "long_name": f"interferogram against the reference date ({pol}), flat-earth and topographic phase removed",
            "units": "1", "sarbd_formula": "ref * conj(sec) * exp(-j * phi_geom), phi_geom = -4 pi / lambda (R_ref - R_sec)"})
        data_vars[f"coherence_{p}"] = (("time", "line", "pixel"), coh, {
            "long_name": f"coherence magnitude against the reference date ({pol})", "units": "1",
            "coherence_window_line": window[0], "coherence_window_pixel": window[1],
            "valid_min": 0.0, "valid_max": 1.0})
        if sequential and len(slcs) > 1:
            seq = [ifgs[0]] + [(slcs[k - 1] * np.conj(slcs[k]) * np.exp(-1j * (phases[k] - phases[k - 1])))
                               .astype(np.complex64) for k in range(1, len(slcs))]
            seq_ifg = da.stack(seq)
            p_prev = da.concatenate([pw[:1], pw[:-1]]).rechunk(pw.chunks)
            data_vars[f"interferogram_seq_{p}"] = (("time", "line", "pixel"), seq_ifg, {
                "long_name": f"interferogram of consecutive dates ({pol}): date k-1 * conj(date k), geometric phase removed",
                "units": "1"})
            data_vars[f"coherence_seq_{p}"] = (("time", "line", "pixel"), coherence_fn(seq_ifg, p_prev, pw, window=window), {
                "long_name": f"coherence of consecutive dates ({pol})", "units": "1",
                "coherence_window_line": window[0], "coherence_window_pixel": window[1]})
        _add_radiometry(data_vars, ref, results, pol, out_chunks)
    data_vars["height"] = (("line", "pixel"), h_da.astype(np.float32), dict(geo["height"].attrs))
    offs = [_offset_arrays(r.offsets, h_da) for r in results]
    zero = da.zeros(g.shape, chunks=out_chunks, dtype=np.float32)
    data_vars["offset_line"] = (("time", "line", "pixel"), da.stack([zero] + [o[0] for o in offs]), {
        "units": "1", "long_name": "line of the same ground point in each date's grid minus reference line "
        "(geometric offsets plus refinement, as used for resampling)"})
    data_vars["offset_pixel"] = (("time", "line", "pixel"), da.stack([zero] + [o[1] for o in offs]), {
        "units": "1", "long_name": "pixel of the same ground point in each date's grid minus reference pixel "
        "(geometric offsets plus refinement, as used for resampling)"})
    _add_geometry_layers(data_vars, ref, geo, dem_obj, out_chunks)
    _add_per_date(data_vars, ref, results)
    ds = xr.Dataset(data_vars, coords=coords)
    ods = orbit_to_dataset(ref.orbit)
    ds = ds.assign_coords(orbit_time=ods["orbit_time"], xyz=ods["xyz"])
    ds["orbit_position"] = ods["orbit_position"]
    ds["orbit_velocity"] = ods["orbit_velocity"]
    attrs: dict[str, Any] = {}
    for k, v in ref.metadata.items():
        if isinstance(v, str | int | float | bool | np.integer | np.floating):
            attrs[k] = v.item() if isinstance(v, np.generic) else v
        elif isinstance(v, np.datetime64):
            attrs[k] = str(v)
    attrs.update(g.to_attrs())
    attrs.update({
        "reference_date": str(np.datetime64(times[0], "s")),
        "coherence_window_line": window[0], "coherence_window_pixel": window[1],
        "orbit_reference_epoch": str(ref.orbit.reference_epoch), "orbit_source": ref.orbit.source,
        "sarbd_coregistration_kernel": f"Knab-windowed sinc, {kernel.taps} taps, bandwidth {kernel.bandwidth}, "
                                       f"{kernel.oversampling} sub-pixel table rows",
        "sarbd_offset_height_levels_m": [float(x) for x in levels],
        "sarbd_dem": getattr(dem_obj, "description", "") or ("none (ellipsoid)" if dem_obj is None else str(dem)),
        "sarbd_tops_reramp": tops_reramp if _is_tops(ref) else "n/a",
    })
    ds.attrs = attrs
    return ds


def _coregister_frame(ref: Scene, sec: Scene, pols: tuple[str, ...], *, kernel: InterpolationKernel,
                      levels: NDArray[np.float64], read_height: Any, offset_step: tuple[int, int],
                      chunks: Any) -> DateResult:
    """Stripmap (or any single-frame) scene: one offset model, one ramp."""
    model = geometric_offsets(ref.radar_grid, ref.orbit, sec.radar_grid, sec.orbit, heights=levels,
                              step=offset_step)
    res = DateResult(scene=sec, offsets=model)
    ramp = azimuth_ramp(sec)
    band = common_range_band(ref, sec)
    res.range_band = band
    for pol in pols:
        res.slc[pol] = resample_image(_scene_reader(sec, pol), sec.shape, model, ref.shape,
                                      chunks=(chunks[0][0], chunks[1][0]), kernel=kernel, ramp=ramp,
                                      height=read_height, range_band=band)
    return res


def _band(scene: Scene) -> tuple[float, float] | None:
    """``(centre frequency, range bandwidth)`` in Hz, when the product states them."""
    p = scene.product
    fc = getattr(p, "processed_center_frequency", None)
    bw = getattr(p, "processed_range_bandwidth", None)
    if fc is None or bw is None:
        fc = scene.metadata.get("radar_frequency")
        bw = getattr(p, "range_bandwidth", None) or scene.metadata.get("range_bandwidth")
    if fc is None or bw is None:
        return None
    return float(fc), float(bw)


def common_range_band(ref: Scene, sec: Scene) -> tuple[float, float] | None:
    """The secondary's range band (cycles per secondary sample) shared with the reference.

    ``None`` when both products have the same band (or do not state it). The band in
    absolute frequency is ``[max(lo_ref, lo_sec), min(hi_ref, hi_sec)]``; it is
    expressed in the secondary's baseband and normalised by its range sampling rate.
    """
    a, b = _band(ref), _band(sec)
    if a is None or b is None:
        return None
    lo = max(a[0] - a[1] / 2, b[0] - b[1] / 2)
    hi = min(a[0] + a[1] / 2, b[0] + b[1] / 2)
    if hi <= lo:
        raise InputError("the reference and secondary range spectra do not overlap",
                         path=sec.metadata.get("source_path"), hint="use products of the same band")
    if hi - lo >= 0.99 * b[1]:
        return None  # the secondary has nothing outside the common band
    fs = sec.radar_grid.range_sampling_rate
    return (lo - b[0]) / fs, (hi - b[0]) / fs


#: Smallest residual shifts (line, pixel) that refine="apply" corrects: annotation timing
#: errors are common in azimuth (ms); in range the orbit geometry is good to a few cm,
#: so only a gross error is corrected.
MIN_SHIFT = (0.005, 0.3)


def estimate_residual_shift(ref: Scene, offsets: Any, slc: da.Array, pol: str,
                            deramp: Any = None) -> ShiftEstimate:
    """Intensity cross-correlation of the reference and a resampled secondary (central window).

    A window of at most 1024 x 1024 samples, away from the edges where the secondary
    may not cover the reference, in tiles of 256 x 256
    (:func:`~sarbd.coregistration.refine.cross_correlation_shift`).

    ``deramp(l0, nl, p0, npx) -> phi`` (TOPS): the reference's azimuth ramp (rad) on
    that window, removed from both images before the chips are oversampled. TOPS
    data sweep through more Doppler than the line rate within a tile, so their
    azimuth spectrum wraps around and FFT oversampling would distort the intensity
    (biasing the peak towards zero lag); deramped, it is baseband. ``|x|^2`` itself
    is unchanged.
    """
    g = ref.radar_grid
    if isinstance(offsets, OffsetModel):
        max_l, max_p = np.nanmax(np.abs(offsets.line_offset)), np.nanmax(np.abs(offsets.pixel_offset))
    else:
        max_l, max_p = (abs(v) for v in offsets.median_offsets())
    margin_l = min(int(np.ceil(max_l)) + 2, g.length // 4)
    margin_p = min(int(np.ceil(max_p)) + 2, g.width // 4)
    nl, npx = min(1024, g.length - 2 * margin_l), min(1024, g.width - 2 * margin_p)
    l0, p0 = (g.length - nl) // 2, (g.width - npx) // 2
    m = np.asarray(ref.slc(pol).data[l0:l0 + nl, p0:p0 + npx].compute())
    s = np.asarray(slc[l0:l0 + nl, p0:p0 + npx].compute())
    if deramp is not None:
        phasor = np.exp(-1j * np.asarray(deramp(l0, nl, p0, npx)))
        m, s = m * phasor, s * phasor
    return cross_correlation_shift(m, s, tile=256)


def significant_shift(est: ShiftEstimate, min_shift: tuple[float, float] = MIN_SHIFT) -> tuple[float, float]:
    """The parts of a shift estimate worth correcting (above 3 standard errors and ``min_shift``)."""
    if est.n == 0:
        return 0.0, 0.0
    dl = est.line if abs(est.line) > max(min_shift[0], 3 * est.line_std) else 0.0
    dp = est.pixel if abs(est.pixel) > max(min_shift[1], 3 * est.pixel_std) else 0.0
    return dl, dp


def _refine(ref: Scene, res: DateResult, pol: str, mode: Refine, kernel: InterpolationKernel,
            read_height: Any, chunks: Any, sec: Scene) -> DateResult:
    """Estimate the residual constant shift by intensity cross-correlation (and apply it)."""
    est = estimate_residual_shift(ref, res.offsets, res.slc[pol], pol)
    res.refinement = est
    log.info("residual shift of %s: %.4f lines, %.4f pixels (+- %.4f, %.4f; %d tiles)",
             sec.metadata.get("source_path", "secondary"), est.line, est.pixel, est.line_std, est.pixel_std, est.n)
    if mode == "apply":
        dl, dp = significant_shift(est)
        if dl or dp:
            model = res.offsets.shifted(dl, dp)
            ramp = azimuth_ramp(sec)
            new = DateResult(scene=sec, offsets=model, geometric=res.offsets, refinement=est, esd=res.esd)
            new.range_band = res.range_band
            for p in res.slc:
                new.slc[p] = resample_image(_scene_reader(sec, p), sec.shape, model, ref.shape,
                                            chunks=(chunks[0][0], chunks[1][0]), kernel=kernel, ramp=ramp,
                                            height=read_height, range_band=res.range_band)
            return new
    return res


def _phase_array(offsets: OffsetModel | Any, ref_grid: RadarGrid, sec_grid: RadarGrid, h_da: da.Array,
                 geometric_phase: Any) -> da.Array:
    """Geometric phase ``-4 pi / lambda (R_ref - R_sec)`` on the reference grid, lazily."""
    if not isinstance(offsets, OffsetModel):
        return offsets.phase(h_da)  # TOPS: per-burst models
    def block(h: NDArray[np.float32], block_info: dict | None = None) -> NDArray[np.float64]:  # type: ignore[type-arg]
        assert block_info is not None
        (l0, l1), (p0, p1) = block_info[0]["array-location"]
        pixels = np.arange(p0, p1, dtype=np.float64)
        dr = range_difference(offsets, ref_grid, sec_grid, np.arange(l0, l1, dtype=np.float64), pixels,
                              np.asarray(h, dtype=np.float64))
        r_ref = ref_grid.pixel_to_slant_range(pixels)[None, :]
        # R_sec = R_ref - dr; with two carriers phi = -4 pi (R_ref / lambda_ref - R_sec / lambda_sec)
        return np.asarray(geometric_phase(r_ref, r_ref - dr, ref_grid.wavelength, sec_grid.wavelength))

    return da.map_blocks(block, h_da, dtype=np.float64)


def _offset_arrays(offsets: Any, h_da: da.Array) -> tuple[da.Array, da.Array]:
    """Full-resolution (line, pixel) offset fields of a date, lazily, float32."""
    if not isinstance(offsets, OffsetModel):
        return offsets.offset_arrays(h_da)  # type: ignore[no-any-return]

    def block(h: NDArray[np.float32], which: int, block_info: dict | None = None) -> NDArray[np.float32]:  # type: ignore[type-arg]
        assert block_info is not None
        (l0, l1), (p0, p1) = block_info[0]["array-location"]
        dl, dp = offsets.evaluate(np.arange(l0, l1, dtype=np.float64), np.arange(p0, p1, dtype=np.float64),
                                  np.asarray(h, dtype=np.float64))
        return (dl if which == 0 else dp).astype(np.float32)

    return (da.map_blocks(block, h_da, 0, dtype=np.float32), da.map_blocks(block, h_da, 1, dtype=np.float32))


def _shifted_factor(field_: xr.DataArray, sec: Scene, offsets: Any, ref: Scene) -> da.Array:
    """A slowly varying secondary field sampled at the nearest secondary sample of each reference pixel."""
    if isinstance(offsets, OffsetModel):
        dl = float(np.nanmedian(offsets.line_offset))
        dp = float(np.nanmedian(offsets.pixel_offset))
    else:
        dl, dp = offsets.median_offsets()
    g = ref.radar_grid
    il = np.clip(np.arange(g.length) + round(dl), 0, sec.shape[0] - 1)
    ip = np.clip(np.arange(g.width) + round(dp), 0, sec.shape[1] - 1)
    return field_.data[il][:, ip]


def _add_radiometry(data_vars: dict[str, Any], ref: Scene, results: list[DateResult], pol: str, chunks: Any) -> None:
    """``cal_{sigma0,beta0,gamma0}_<pol>`` and ``noise_<pol>`` when the products carry LUTs."""
    if not hasattr(ref.product, "calibration") or pol not in getattr(ref.product, "calibration", {}):
        return
    from sarbd.products.calibration import calibration_factor, noise_power

    p = pol.lower()
    for kind in ("sigma0", "beta0", "gamma0"):
        layers = [calibration_factor(ref, pol, kind).data]
        for r in results:
            layers.append(_shifted_factor(calibration_factor(r.scene, pol, kind), r.scene, r.offsets, ref))
        data_vars[f"cal_{kind}_{p}"] = (("time", "line", "pixel"), da.stack(layers).rechunk((1, *chunks)).astype(np.float32), {
            "units": "1", "long_name": f"{kind} calibration factor 1/A^2 ({pol})",
            "sarbd_formula": f"{kind} = (|DN|^2 - noise_{p}) * cal_{kind}_{p}"})
    layers = []
    for s, off in [(ref, None)] + [(r.scene, r.offsets) for r in results]:
        try:
            nz = noise_power(s, pol)
            layers.append(nz.data if off is None else _shifted_factor(nz, s, off, ref))
        except InputError:
            layers.append(da.zeros(ref.shape, chunks=chunks, dtype=np.float32))
    data_vars[f"noise_{p}"] = (("time", "line", "pixel"), da.stack(layers).rechunk((1, *chunks)).astype(np.float32), {
        "units": "1", "long_name": f"thermal noise power eta in DN^2 ({pol}); 0 where the product has none"})


def _add_geometry_layers(data_vars: dict[str, Any], ref: Scene, geo: xr.Dataset, dem: Any, chunks: Any) -> None:
    """Incidence, local incidence and layover/shadow from the reference geometry."""
    for name in ("incidence_angle", "local_incidence_angle", "layover_shadow_mask"):
        if name in geo:
            var = geo[name]
            data_vars[name] = (("line", "pixel"), da.from_array(var.values, chunks=chunks), dict(var.attrs))


def _add_per_date(data_vars: dict[str, Any], ref: Scene, results: list[DateResult]) -> None:
    t0 = ref.radar_grid.sensing_start_datetime
    dates = [ref] + [r.scene for r in results]
    temporal = [(s.radar_grid.sensing_start_datetime - t0) / np.timedelta64(1, "D") for s in dates]
    perp, par = [0.0], [0.0]
    for s in dates[1:]:
        bp, bq = _baselines(ref, s)
        perp.append(bp)
        par.append(bq)
    data_vars["temporal_baseline"] = ("time", np.array(temporal, np.float32), {"units": "day", "long_name": "time since the reference date"})
    data_vars["perpendicular_baseline"] = ("time", np.array(perp, np.float32), {"units": "m", "long_name": "perpendicular baseline to the reference at scene centre"})
    data_vars["parallel_baseline"] = ("time", np.array(par, np.float32), {"units": "m", "long_name": "parallel baseline to the reference at scene centre"})
    data_vars["orbit_source"] = ("time", np.array([str(s.orbit.source) for s in dates], dtype=object), {"long_name": "orbit used for geometry"})
    shifts = [(0.0, 0.0, 0.0, 0.0)] + [
        (r.refinement.line, r.refinement.pixel, r.refinement.line_std, r.refinement.pixel_std) if r.refinement else (np.nan,) * 4
        for r in results]
    arr = np.array(shifts, dtype=np.float32)
    data_vars["residual_line_shift"] = ("time", arr[:, 0], {"units": "1", "long_name": "residual azimuth shift found by amplitude cross-correlation after coregistration (lines)", "standard_error": arr[:, 2].tolist()})
    data_vars["residual_pixel_shift"] = ("time", arr[:, 1], {"units": "1", "long_name": "residual range shift found by amplitude cross-correlation after coregistration (pixels)", "standard_error": arr[:, 3].tolist()})
    esd = [0.0] + [float(r.esd.get("correction", np.nan)) for r in results]
    data_vars["esd_azimuth_correction"] = ("time", np.array(esd, np.float32), {"units": "1", "long_name": "azimuth correction from enhanced spectral diversity (lines; NaN when not TOPS)"})


def _baselines(ref: Scene, sec: Scene) -> tuple[float, float]:
    """Perpendicular and parallel baselines at the reference scene centre (m)."""
    from sarbd.geometry import geo2rdr, rdr2geo

    g = ref.radar_grid.with_epoch(ref.orbit.reference_epoch)
    t = float(g.line_to_azimuth_time((g.length - 1) / 2))
    r = g.mid_range
    lat, lon, h = rdr2geo(t, r, ref.orbit, height=0.0, look_side=g.look_side)
    ts, _, ok = geo2rdr(lat, lon, h, sec.orbit, look_side=g.look_side)
    if not bool(ok):
        return float("nan"), float("nan")
    from sarbd.core.ellipsoid import llh_to_ecef

    p = llh_to_ecef(lat, lon, h).reshape(3)
    s1 = ref.orbit.position(np.array([t]))[0]
    s2 = sec.orbit.position(np.atleast_1d(ts))[0]
    look = (p - s1) / np.linalg.norm(p - s1)
    b = s2 - s1
    par = float(np.dot(b, look))
    perp_vec = b - par * look
    # sign: positive when the secondary is farther from the ground "above" the look (isce convention)
    vel = ref.orbit.velocity(np.array([t]))[0]
    up = np.cross(look, vel)
    up /= np.linalg.norm(up)
    sign = np.sign(np.dot(perp_vec, up)) * g.look_sign or 1.0
    return float(sign * np.linalg.norm(perp_vec)), par


# -- output --------------------------------------------------------------------------------------------
def write_stack(ds: xr.Dataset, path: str | os.PathLike[str], *, compressor_level: int = 3) -> Path:
    """Write the stack as Zarr (format 2, consolidated; chunked; Blosc-zstd), atomically.

    Variables keep their Dask chunks (time chunks of 1); strings are stored as
    variable-length UTF-8. Returns the path.
    """
    from sarbd.utils.files import atomic_output

    path = Path(path)
    out = ds.copy()
    # strings as variable-length UTF-8
    for name in list(out.variables):
        var = out[name]
        if var.dtype.kind in ("U", "O"):
            values = np.array([str(v) for v in np.ravel(var.values)], dtype=object).reshape(var.shape)
            if name in out.coords:
                out = out.assign_coords({name: (var.dims, values, var.attrs)})
            else:
                out[name] = (var.dims, values, var.attrs)
    encoding: dict[str, dict[str, Any]] = {}
    # Zarr format 2 (with consolidated metadata, read by every Zarr implementation)
    from numcodecs import Blosc

    comp: dict[str, Any] = {"compressors": (Blosc(cname="zstd", clevel=compressor_level, shuffle=Blosc.SHUFFLE),)}
    for name, var in out.data_vars.items():
        enc = dict(comp)
        if isinstance(var.data, da.Array):
            enc["chunks"] = tuple(c[0] for c in var.data.chunks)
            if var.dims and var.dims[0] == "time":
                enc["chunks"] = (1, *enc["chunks"][1:])
                out[name] = var.chunk({"time": 1})
        encoding[str(name)] = enc
    with atomic_output(path, directory=True) as tmp:
        out.to_zarr(tmp, mode="w", encoding=encoding, consolidated=True, zarr_format=2)
    return path
