"""Sentinel-1 SLC reader: SAFE zip/folder (IW, EW, SM) or a bare annotation XML + measurement crop.

Grids (all zero-Doppler, pixel centres at integer indices):

* **Crop** (annotation + TIFF + ``offset``) and **burst** scenes: line indices are
  those of the burst-stacked measurement TIFF. A TOPS crop must lie inside one burst;
  its line ``i`` is at ``burst.azimuth_time + (i - burst.line_offset) * dt`` with ``dt``
  the azimuth time interval (each burst has its own timing).
* **Whole TOPS swath**: the debursted (merged) grid ``t0 + i * dt`` from the first
  burst's azimuth time. Debursted line ``i`` takes burst ``k`` between the cuts at the
  middle of the valid overlaps, line ``round(i - s_k)`` of that burst with
  ``s_k = (t_k - t0) / dt``; samples outside firstValidSample..lastValidSample are 0.
  Burst start times are not whole multiples of ``dt`` apart, so the merged lines sit up
  to half a line (about 1 ms) from their nominal time; the ESA/SNAP and isce2 debursting
  do the same. Use crops or :func:`burst_scene` where exact timing matters.
* **Stripmap**: one grid from ``productFirstLineUtcTime``.

Slant range: pixel ``j`` at ``c/2 * (slantRangeTime + j / rangeSamplingRate)``.

Reference: ESA, Sentinel-1 Product Specification (S1-RS-MDA-52-7441), sections 6.2
and 10.6 (TOPS burst layout and debursting).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import SPEED_OF_LIGHT, RadarGrid
from sarbd.core.scene import DEFAULT_CHUNKS, Scene
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products import s1_xml as X
from sarbd.products.metadata import iso_time, relative_orbit
from sarbd.products.orbit_file import find_orbit_file, read_eof
from sarbd.products.s1_annotation import (
    AnnotationInfo,
    AzimuthFmRate,
    Burst,
    CalibrationLut,
    DopplerCentroid,
    NoiseLut,
    parse_annotation,
    parse_calibration,
    parse_noise,
    parse_xml,
)
from sarbd.products.safe import SafeFiles, open_safe_files
from sarbd.products.sources import DeburstSource, TiffSource
from sarbd.products.xml_values import optional_int_at

__all__ = [
    "DeburstPlan",
    "Sentinel1Product",
    "burst_scene",
    "open_annotation",
    "open_safe",
    "open_sentinel1",
]

PathLike = str | os.PathLike[str]
PLATFORMS = {"S1A": "Sentinel-1A", "S1B": "Sentinel-1B", "S1C": "Sentinel-1C", "S1D": "Sentinel-1D"}


@dataclass(frozen=True)
class DeburstPlan:
    """How debursted lines map onto the burst-stacked TIFF (see module docstring).

    Arrays have one entry per debursted line: ``burst`` (index, -1 outside every
    burst), ``tiff_line`` (-1 for no data), ``first_valid`` / ``last_valid`` samples.
    ``burst_start_line`` holds ``s_k`` (fractional) and ``cut_line`` the cuts between
    consecutive bursts, in debursted lines.
    """

    burst: NDArray[np.int64]
    tiff_line: NDArray[np.int64]
    first_valid: NDArray[np.int32]
    last_valid: NDArray[np.int32]
    burst_start_line: NDArray[np.float64]
    cut_line: NDArray[np.float64]


@dataclass(frozen=True)
class Sentinel1Product:
    """Everything a Sentinel-1 scene knows about its product (``scene.product``).

    Times are UTC ``datetime64[ns]``; slant-range times two-way (s); angles degrees;
    ``azimuth_steering_rate`` in deg/s as annotated. ``calibration`` and ``noise`` map
    polarisation -> LUT (missing when the product has no such file). ``layout`` is
    ``"tiff"`` when the scene's line indices are measurement-TIFF lines (crops, bursts,
    stripmap) and ``"debursted"`` for a merged TOPS swath (then ``deburst`` maps lines).
    ``crop_burst`` is the burst containing a crop (``None`` if not a crop or not TOPS);
    ``burst_index`` is set on :func:`burst_scene` results.
    """

    product_name: str
    mission: str
    platform: str
    mode: str
    swath: str
    product_type: str
    polarizations: tuple[str, ...]
    pass_direction: str
    absolute_orbit: int
    relative_orbit: int
    mission_data_take_id: int
    start_time: np.datetime64
    stop_time: np.datetime64
    first_line_time: np.datetime64
    ipf_version: str | None
    radar_frequency: float
    wavelength: float
    range_sampling_rate: float
    prf: float
    azimuth_time_interval: float
    slant_range_time: float
    range_pixel_spacing: float
    azimuth_pixel_spacing: float
    incidence_angle_mid_swath: float
    platform_heading: float
    azimuth_steering_rate: float
    number_of_lines: int
    number_of_samples: int
    lines_per_burst: int
    bursts: tuple[Burst, ...]
    azimuth_fm_rates: tuple[AzimuthFmRate, ...]
    doppler_centroids: tuple[DopplerCentroid, ...]
    terrain_heights: tuple[tuple[np.datetime64, float], ...]
    geolocation_grid: pd.DataFrame
    annotation_orbit: Orbit
    calibration: dict[str, CalibrationLut] = field(default_factory=dict)
    noise: dict[str, NoiseLut] = field(default_factory=dict)
    annotation_paths: dict[str, str] = field(default_factory=dict)
    measurement_paths: dict[str, str] = field(default_factory=dict)
    source_path: str = ""
    layout: str = "tiff"
    deburst: DeburstPlan | None = None
    crop_offset: tuple[int, int] | None = None
    crop_burst: int | None = None
    burst_index: int | None = None

    @property
    def is_tops(self) -> bool:
        """True for TOPS (IW/EW) products, which have bursts."""
        return len(self.bursts) > 0

    def tiff_lines(self, lines: NDArray[np.int64]) -> NDArray[np.int64]:
        """Measurement-TIFF line of scene (root-grid) lines; ``-1`` where a merged line has no data."""
        lines = np.asarray(lines, dtype=np.int64)
        if self.layout == "debursted" and self.deburst is not None:
            return self.deburst.tiff_line[lines]
        return lines

    @property
    def azimuth_steering_rate_rad(self) -> float:
        """Azimuth antenna steering rate ``k_psi`` in rad/s (the annotation gives deg/s)."""
        return float(np.radians(self.azimuth_steering_rate))

    def fm_rate_at(self, time: Any) -> AzimuthFmRate:
        """The azimuth FM-rate record whose reference azimuth time is nearest to UTC ``time``."""
        return _nearest(self.azimuth_fm_rates, time, "azimuth FM rate")

    def doppler_centroid_at(self, time: Any) -> DopplerCentroid:
        """The Doppler-centroid estimate whose reference azimuth time is nearest to UTC ``time``."""
        return _nearest(self.doppler_centroids, time, "Doppler centroid")

    def tiff_line_time(self, lines: Any) -> NDArray[np.datetime64]:
        """Zero-Doppler UTC time of (fractional) measurement-TIFF lines, with each burst's own timing.

        For TOPS, line ``l`` of burst ``k = l // lines_per_burst`` is at
        ``bursts[k].azimuth_time + (l - k * lines_per_burst) * azimuth_time_interval``;
        for stripmap, ``start_time + l * azimuth_time_interval``. This is how the
        annotation's geolocation grid ``line`` relates to its ``azimuth_time``.
        """
        ll = np.asarray(lines, dtype=np.float64)
        if self.is_tops:
            k = np.clip(
                np.floor(ll / self.lines_per_burst).astype(np.int64), 0, len(self.bursts) - 1
            )
            t0 = np.array([b.azimuth_time for b in self.bursts], dtype="datetime64[ns]")[k]
            rel = ll - k * self.lines_per_burst
        else:
            t0 = np.full(ll.shape, self.first_line_time, dtype="datetime64[ns]")
            rel = ll
        return np.asarray(
            t0 + np.round(rel * self.azimuth_time_interval * 1e9).astype("timedelta64[ns]")
        )

    def burst_of_tiff_line(self, line: int) -> int | None:
        """Index of the burst holding a measurement-TIFF line (``None`` for stripmap)."""
        if not self.is_tops:
            return None
        k = int(line) // self.lines_per_burst
        return k if 0 <= k < len(self.bursts) else None


# -- helpers ------------------------------------------------------------------------------------
def _nearest(records: Any, time: Any, what: str) -> Any:
    if not records:
        raise ProductError(f"the annotation has no {what} records")
    t = np.datetime64(time, "ns")
    gaps = [abs((r.azimuth_time - t) / np.timedelta64(1, "ns")) for r in records]
    return records[int(np.argmin(gaps))]


def _epoch(t: np.datetime64) -> np.datetime64:
    """Whole UTC second at or before ``t``: the float-time epoch of grid and orbit."""
    return np.datetime64(np.datetime64(t, "s"), "ns")


def _seconds(t: Any, epoch: np.datetime64) -> Any:
    return (np.asarray(t, dtype="datetime64[ns]") - epoch) / np.timedelta64(1, "s")


def _normalize_pols(
    polarizations: str | list[str] | tuple[str, ...] | None,
) -> tuple[str, ...] | None:
    if polarizations is None:
        return None
    if isinstance(polarizations, str):
        polarizations = [p for p in re.split(r"[,+/ ]+", polarizations) if p]
    return tuple(p.upper() for p in polarizations)


def _select_pols(
    available: list[str], wanted: tuple[str, ...] | None, path: PathLike
) -> tuple[str, ...]:
    if wanted is None:
        return tuple(available)
    missing = [p for p in wanted if p not in available]
    if missing:
        raise InputError(
            f"polarisation {', '.join(missing)} is not in this product (it has {', '.join(available)})",
            path=path,
            hint=f"choose from {', '.join(available)}",
        )
    return wanted


def _resolve_orbit(orbit: Any, info: AnnotationInfo, epoch: np.datetime64) -> Orbit:
    """Annotation orbit, or the given Orbit / EOF file / folder of EOF files; cropped and re-epoched."""
    t0, t1 = info.start_time, info.stop_time
    path: Path | None = None
    if orbit is None:
        orb = info.orbit
    elif isinstance(orbit, Orbit):
        orb = orbit
    else:
        p = Path(orbit)
        path = find_orbit_file(p, t0, t1, info.mission) if p.is_dir() else p
        orb = read_eof(path)
    if not orb.covers(t0, t1):
        raise OrbitError(
            f"orbit ({orb.source}, {np.datetime64(orb.start_time, 's')} .. {np.datetime64(orb.end_time, 's')}) "
            f"does not cover the acquisition {np.datetime64(t0, 's')} .. {np.datetime64(t1, 's')}",
            path=path if path is not None else info.path,
            hint="use the POEORB/RESORB file for this acquisition's date",
        )
    if len(orb) > 30:
        orb = orb.crop(t0, t1, margin_vectors=6)
    return orb.with_epoch(epoch)


def _deburst_plan(bursts: tuple[Burst, ...], dt: float) -> DeburstPlan:
    t0 = bursts[0].azimuth_time
    lpb = bursts[0].lines
    s = np.array([_seconds(b.azimuth_time, t0) / dt for b in bursts], dtype=np.float64)
    valid = [b.valid_lines for b in bursts]
    cuts = np.array(
        [
            0.5 * ((s[k + 1] + valid[k + 1][0]) + (s[k] + valid[k][1]))
            for k in range(len(bursts) - 1)
        ]
    )
    length = round(s[-1]) + lpb
    i = np.arange(length, dtype=np.float64)
    # lines below the cut go to the earlier burst: k = number of cuts <= i
    k = np.searchsorted(cuts, i, side="right").astype(np.int64)
    b_line = np.rint(i - s[k]).astype(np.int64)
    inside = (b_line >= 0) & (b_line < lpb)
    fvs = np.stack([b.first_valid_sample for b in bursts])
    lvs = np.stack([b.last_valid_sample for b in bursts])
    bl = np.clip(b_line, 0, lpb - 1)
    first = np.where(inside, fvs[k, bl], -1).astype(np.int32)
    last = np.where(inside, lvs[k, bl], -1).astype(np.int32)
    tiff = np.where(inside & (first >= 0), k * lpb + b_line, -1).astype(np.int64)
    return DeburstPlan(np.where(inside, k, -1), tiff, first, last, s, cuts)


def _product_from(
    info: AnnotationInfo,
    *,
    name: str,
    polarizations: tuple[str, ...],
    ipf_version: str | None,
    manifest_relative_orbit: int | None,
    calibration: dict[str, CalibrationLut],
    noise: dict[str, NoiseLut],
    annotation_paths: dict[str, str],
    measurement_paths: dict[str, str],
    source_path: str,
) -> Sentinel1Product:
    rel = relative_orbit(info.mission, info.absolute_orbit)
    if manifest_relative_orbit is not None:
        rel = manifest_relative_orbit
    return Sentinel1Product(
        product_name=name,
        mission=info.mission,
        platform=PLATFORMS.get(info.mission, info.mission),
        mode=info.mode,
        swath=info.swath,
        product_type=info.product_type,
        polarizations=polarizations,
        pass_direction=info.pass_direction,
        absolute_orbit=info.absolute_orbit,
        relative_orbit=rel,
        mission_data_take_id=info.mission_data_take_id,
        start_time=info.start_time,
        stop_time=info.stop_time,
        first_line_time=info.product_first_line_time,
        ipf_version=ipf_version,
        radar_frequency=info.radar_frequency,
        wavelength=SPEED_OF_LIGHT / info.radar_frequency,
        range_sampling_rate=info.range_sampling_rate,
        prf=info.prf,
        azimuth_time_interval=info.azimuth_time_interval,
        slant_range_time=info.slant_range_time,
        range_pixel_spacing=info.range_pixel_spacing,
        azimuth_pixel_spacing=info.azimuth_pixel_spacing,
        incidence_angle_mid_swath=info.incidence_angle_mid_swath,
        platform_heading=info.platform_heading,
        azimuth_steering_rate=info.azimuth_steering_rate,
        number_of_lines=info.number_of_lines,
        number_of_samples=info.number_of_samples,
        lines_per_burst=info.lines_per_burst,
        bursts=info.bursts,
        azimuth_fm_rates=info.azimuth_fm_rates,
        doppler_centroids=info.doppler_centroids,
        terrain_heights=info.terrain_heights,
        geolocation_grid=info.geolocation_grid,
        annotation_orbit=info.orbit,
        calibration=calibration,
        noise=noise,
        annotation_paths=annotation_paths,
        measurement_paths=measurement_paths,
        source_path=source_path,
    )


def scene_metadata(product: Sentinel1Product, grid: RadarGrid, orbit: Orbit) -> dict[str, Any]:
    """The ``scene.metadata`` dictionary of a Sentinel-1 scene."""
    t_first = grid.line_to_datetime(0)[()]
    t_last = grid.line_to_datetime(grid.length - 1)[()]
    meta: dict[str, Any] = {
        "mission": product.mission,
        "platform": product.platform,
        "instrument": "C-SAR",
        "product_name": product.product_name,
        "product_type": product.product_type,
        "mode": product.mode,
        "swath": product.swath,
        "polarizations": list(product.polarizations),
        "pass_direction": product.pass_direction,
        "absolute_orbit": product.absolute_orbit,
        "relative_orbit": product.relative_orbit,
        "mission_data_take_id": product.mission_data_take_id,
        "start_time": iso_time(t_first),
        "stop_time": iso_time(t_last),
        "product_start_time": iso_time(product.start_time),
        "product_stop_time": iso_time(product.stop_time),
        "radar_frequency": product.radar_frequency,
        "wavelength": product.wavelength,
        "range_sampling_rate": product.range_sampling_rate,
        "prf": product.prf,
        "azimuth_time_interval": product.azimuth_time_interval,
        "slant_range_time": 2.0 * grid.starting_range / SPEED_OF_LIGHT,
        "range_pixel_spacing": product.range_pixel_spacing,
        "azimuth_pixel_spacing": product.azimuth_pixel_spacing,
        "incidence_angle_mid_swath": product.incidence_angle_mid_swath,
        "heading": float(product.platform_heading % 360.0),
        "look_side": grid.look_side,
        "azimuth_steering_rate": product.azimuth_steering_rate,
        "ipf_version": product.ipf_version,
        "orbit_source": orbit.source,
        "source_path": product.source_path,
        "layout": product.layout,
        "first_line": grid.first_line,
        "first_pixel": grid.first_pixel,
        "lines": grid.length,
        "pixels": grid.width,
        "number_of_bursts": len(product.bursts),
    }
    burst = product.crop_burst if product.crop_burst is not None else product.burst_index
    if burst is not None:
        meta["burst"] = burst
        if product.bursts[burst].burst_id is not None:
            meta["burst_id"] = product.bursts[burst].burst_id
    return meta


def _build_scene(
    product: Sentinel1Product,
    info: AnnotationInfo,
    orbit_arg: Any,
    measurement: dict[str, str],
    measurement_shape: tuple[int, int] | None,
    offset: tuple[int, int] | None,
    chunks: tuple[int, int] | None,
) -> Scene:
    dt = info.azimuth_time_interval
    epoch = _epoch(info.start_time)
    orbit = _resolve_orbit(orbit_arg, info, epoch)
    r0 = info.slant_range_time * SPEED_OF_LIGHT / 2.0
    dr = SPEED_OF_LIGHT / (2.0 * info.range_sampling_rate)
    wavelength = product.wavelength
    full = (info.number_of_lines, info.number_of_samples)
    pixels: Any = None
    if offset is not None:
        # a crop of the measurement, in TIFF indices
        assert measurement_shape is not None
        l0, p0 = int(offset[0]), int(offset[1])
        h, w = measurement_shape
        if l0 < 0 or p0 < 0 or l0 + h > full[0] or p0 + w > full[1]:
            raise InputError(
                f"crop lines {l0}..{l0 + h - 1}, pixels {p0}..{p0 + w - 1} is not inside the "
                f"{full[0]} x {full[1]} swath",
                path=next(iter(measurement.values())),
                hint="check offset=(first_line, first_pixel), 0-based in the full swath",
            )
        k = product.burst_of_tiff_line(l0)
        if k is not None:
            k_last = product.burst_of_tiff_line(l0 + h - 1)
            if k_last != k:
                raise InputError(
                    f"crop lines {l0}..{l0 + h - 1} span bursts {k} and {k_last}; a TOPS crop must lie in one burst",
                    path=next(iter(measurement.values())),
                    hint="split the crop at the burst boundary",
                )
            b = product.bursts[k]
            start = _seconds(b.azimuth_time, epoch) + (l0 - b.line_offset) * dt
        else:
            start = _seconds(info.product_first_line_time, epoch) + l0 * dt
        grid = RadarGrid(
            epoch, float(start), dt, r0 + p0 * dr, dr, h, w, wavelength, "right", l0, p0
        )
        product = replace(product, layout="tiff", crop_offset=(l0, p0), crop_burst=k)
        if measurement:
            pixels = TiffSource(measurement, (l0, p0))
    elif product.is_tops:
        plan = _deburst_plan(product.bursts, dt)
        start = _seconds(product.bursts[0].azimuth_time, epoch)
        grid = RadarGrid(epoch, float(start), dt, r0, dr, plan.tiff_line.size, full[1], wavelength)
        product = replace(product, layout="debursted", deburst=plan)
        if measurement:
            pixels = DeburstSource(measurement, plan.tiff_line, plan.first_valid, plan.last_valid)
    else:
        start = _seconds(info.product_first_line_time, epoch)
        grid = RadarGrid(epoch, float(start), dt, r0, dr, full[0], full[1], wavelength)
        if measurement:
            pixels = TiffSource(measurement)
    return Scene(
        grid,
        orbit,
        product.polarizations,
        scene_metadata(product, grid, orbit),
        pixels,
        product,
        chunks or DEFAULT_CHUNKS,
    )


def _raster_shape(path: str, display: str, *, probe: bool = True) -> tuple[int, int]:
    """``(lines, samples)`` of a complex measurement raster.

    ``probe`` reads the last line so that a truncated file fails now rather than inside
    Dask; zip members skip it (their CRC check already read them whole, and a probe of
    the last line of a deflated member would inflate all of it again).
    """
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    from rasterio.windows import Window

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                if not ds.dtypes[0].startswith("complex"):
                    raise ProductError(
                        f"measurement is {ds.dtypes[0]}, complex (CInt16) pixels were expected",
                        path=display,
                    )
                if probe:  # a truncated file fails here, not later inside Dask
                    ds.read(1, window=Window(0, ds.height - 1, min(ds.width, 16), 1))
                return (ds.height, ds.width)
    except RasterioError as exc:
        raise ProductError(
            f"cannot open the measurement raster ({exc})",
            path=display,
            hint="the file is missing, truncated or not a GeoTIFF",
        ) from None


# -- public entry points ---------------------------------------------------------------------------
def open_safe(
    path: PathLike,
    *,
    polarizations: str | list[str] | tuple[str, ...] | None = None,
    orbit: Any = None,
    chunks: tuple[int, int] | None = None,
) -> dict[str, Scene]:
    """Open every swath of a Sentinel-1 SAFE product (zip or folder): ``{swath: Scene}``.

    Each swath's scene holds the polarisations that have an annotation for that
    swath (or those asked for, which must exist in every swath opened).
    """
    safe = open_safe_files(path)
    swaths = safe.swaths()
    if not swaths:
        raise ProductError("the product holds no Sentinel-1 annotation files", path=safe.path)
    return {s: _open_safe_swath(safe, s, polarizations, orbit, chunks) for s in swaths}


def _manifest_info(safe: SafeFiles) -> tuple[str | None, int | None]:
    if not safe.exists(X.MANIFEST):
        return None, None
    root = parse_xml(safe.read_bytes(X.MANIFEST), safe.display(X.MANIFEST))
    sw = root.find(X.MANIFEST_IPF_SOFTWARE)
    ipf = sw.get("version") if sw is not None else None
    # Sentinel-1 repeats its ground track every 175 orbits: relative orbits are 1..175
    rel = optional_int_at(
        root, X.MANIFEST_RELATIVE_ORBIT, safe.display(X.MANIFEST), minimum=1, maximum=175
    )
    return ipf, rel


def _open_safe_swath(
    safe: SafeFiles,
    swath: str,
    polarizations: Any,
    orbit: Any,
    chunks: tuple[int, int] | None,
    verify_zip: bool = True,
) -> Scene:
    files = safe.swaths()[swath.upper()]
    pols = _select_pols(
        sorted(files.annotation, key=_pol_order), _normalize_pols(polarizations), safe.path
    )
    infos = {
        p: parse_annotation(safe.read_bytes(files.annotation[p]), safe.display(files.annotation[p]))
        for p in pols
    }
    info = infos[pols[0]]
    measurement: dict[str, str] = {}
    for p in pols:
        if p not in files.measurement:
            stem = files.annotation[p].rsplit("/", 1)[-1][:-4]
            raise ProductError(
                f"measurement file {X.MEASUREMENT_DIR}/{stem}.tiff is missing for {swath} {p}",
                path=safe.path,
                hint="the product is incomplete; download it again",
            )
        # a zip member's CRC is checked once, streaming (GDAL reads only strips, unchecked);
        # verify_zip=False (an AOI build) reads only the strips GDAL reads, unchecked
        if verify_zip:
            safe.verify_member(files.measurement[p])
        measurement[p] = safe.raster_path(files.measurement[p])
        shape = _raster_shape(
            measurement[p], safe.display(files.measurement[p]), probe=not safe.is_zip
        )
        if shape != (infos[p].number_of_lines, infos[p].number_of_samples):
            raise ProductError(
                f"measurement is {shape[0]} x {shape[1]}, the annotation says "
                f"{infos[p].number_of_lines} x {infos[p].number_of_samples}",
                path=safe.display(files.measurement[p]),
            )
    calibration = {
        p: parse_calibration(
            safe.read_bytes(files.calibration[p]), safe.display(files.calibration[p])
        )
        for p in pols
        if p in files.calibration
    }
    noise = {
        p: parse_noise(safe.read_bytes(files.noise[p]), safe.display(files.noise[p]))
        for p in pols
        if p in files.noise
    }
    ipf, rel = _manifest_info(safe)
    product = _product_from(
        info,
        name=safe.name,
        polarizations=pols,
        ipf_version=ipf,
        manifest_relative_orbit=rel,
        calibration=calibration,
        noise=noise,
        annotation_paths={p: safe.display(files.annotation[p]) for p in pols},
        measurement_paths=measurement,
        source_path=str(safe.path),
    )
    return _build_scene(product, info, orbit, measurement, None, None, chunks)


def _pol_order(p: str) -> int:
    order = ["VV", "HH", "VH", "HV"]
    return order.index(p) if p in order else len(order)


def _check_file(path: PathLike, what: str) -> Path:
    p = Path(path)
    if p.is_dir():
        raise InputError(f"is a folder, a {what} file was expected", path=p)
    if not p.exists():
        raise InputError(f"{what} file not found", path=p)
    return p


def open_annotation(
    annotation: PathLike,
    *,
    measurement: PathLike | None = None,
    offset: tuple[int, int] | None = None,
    orbit: Any = None,
    calibration: PathLike | None = None,
    noise: PathLike | None = None,
    chunks: tuple[int, int] | None = None,
) -> Scene:
    """Open one Sentinel-1 swath/polarisation from its annotation XML.

    Parameters
    ----------
    annotation
        The product annotation (``annotation/s1?-*.xml``).
    measurement
        Its measurement TIFF (the full swath, or a crop with ``offset``). If omitted,
        ``../measurement/<stem>.tiff`` is used when it exists (SAFE layout), else the
        scene has metadata only.
    offset
        ``(first_line, first_pixel)`` of a crop in the full swath's TIFF, 0-based.
        Required when the TIFF is smaller than the swath.
    orbit
        ``None`` (annotation state vectors), an :class:`~sarbd.core.Orbit`, an EOF
        file, or a folder of EOF files.
    calibration, noise
        Calibration and noise XMLs; by default ``calibration/calibration-<stem>.xml``
        and ``calibration/noise-<stem>.xml`` next to the annotation when they exist.
    """
    ann = _check_file(annotation, "annotation XML")
    info = parse_annotation(ann.read_bytes(), ann)
    stem = ann.stem
    cal_path = (
        Path(calibration)
        if calibration is not None
        else ann.parent / "calibration" / f"calibration-{stem}.xml"
    )
    noise_path = (
        Path(noise) if noise is not None else ann.parent / "calibration" / f"noise-{stem}.xml"
    )
    pol = info.polarization
    cal = {}
    if calibration is not None or cal_path.is_file():
        cal[pol] = parse_calibration(
            _check_file(cal_path, "calibration XML").read_bytes(), cal_path
        )
    noi = {}
    if noise is not None or noise_path.is_file():
        noi[pol] = parse_noise(_check_file(noise_path, "noise XML").read_bytes(), noise_path)
    if measurement is None:
        for ext in (".tiff", ".tif"):
            cand = ann.parent.parent / X.MEASUREMENT_DIR / f"{stem}{ext}"
            if cand.is_file():
                measurement = cand
    meas: dict[str, str] = {}
    shape = None
    if measurement is not None:
        m = _check_file(measurement, "measurement")
        meas[pol] = str(m.resolve())
        shape = _raster_shape(meas[pol], str(m))
        full = (info.number_of_lines, info.number_of_samples)
        if offset is None and shape != full:
            raise InputError(
                f"measurement is {shape[0]} x {shape[1]}, smaller than the {full[0]} x {full[1]} swath",
                path=m,
                hint="give the crop's offset=(first_line, first_pixel) in the full swath",
            )
    elif offset is not None:
        raise InputError("offset= needs measurement= (the crop's TIFF)", path=ann)
    name = stem
    product = _product_from(
        info,
        name=name,
        polarizations=(pol,),
        ipf_version=None,
        manifest_relative_orbit=None,
        calibration=cal,
        noise=noi,
        annotation_paths={pol: str(ann)},
        measurement_paths=meas,
        source_path=str(ann),
    )
    return _build_scene(product, info, orbit, meas, shape, offset, chunks)


def open_sentinel1(
    path: PathLike,
    *,
    swath: str | None = None,
    polarizations: str | list[str] | tuple[str, ...] | None = None,
    orbit: Any = None,
    measurement: PathLike | None = None,
    offset: tuple[int, int] | None = None,
    chunks: tuple[int, int] | None = None,
    verify_zip: bool = True,
) -> Scene:
    """Open a Sentinel-1 product (SAFE zip/folder, or annotation XML); see :func:`sarbd.open_product`."""
    p = Path(path)
    if p.suffix.lower() == ".xml" and p.name != X.MANIFEST:
        scene = open_annotation(
            p, measurement=measurement, offset=offset, orbit=orbit, chunks=chunks
        )
        annotated = cast(Sentinel1Product, scene.product).swath
        if swath is not None and swath.upper() != annotated:
            raise InputError(f"swath {swath} asked for, the annotation is {annotated}", path=p)
        if polarizations is not None:
            _select_pols(list(scene.polarizations), _normalize_pols(polarizations), p)
        return scene
    if measurement is not None or offset is not None:
        raise InputError(
            "measurement= and offset= apply to a bare annotation XML, not a SAFE product", path=p
        )
    safe = open_safe_files(p)
    swaths = safe.swaths()
    if not swaths:
        raise ProductError("the product holds no Sentinel-1 annotation files", path=safe.path)
    if swath is None:
        if len(swaths) > 1:
            raise InputError(
                f"the product has several swaths ({', '.join(swaths)})",
                path=safe.path,
                hint=f"choose one with swath= (one of {', '.join(swaths)}), or use open_safe() for all",
            )
        swath = next(iter(swaths))
    if swath.upper() not in swaths:
        raise InputError(
            f"swath {swath} is not in this product (it has {', '.join(swaths)})",
            path=safe.path,
            hint=f"choose one of {', '.join(swaths)}",
        )
    return _open_safe_swath(safe, swath, polarizations, orbit, chunks, verify_zip)


def burst_scene(scene: Scene, index: int) -> Scene:
    """One TOPS burst of a Sentinel-1 scene: its own grid (burst timing) and raw burst lines.

    Line indices are measurement-TIFF lines (``burst.line_offset ..``). For a crop, the
    part of the burst inside the crop is returned.
    """
    product = scene.product
    if not isinstance(product, Sentinel1Product) or not product.is_tops:
        raise InputError(
            "burst_scene needs a TOPS (IW/EW) Sentinel-1 scene",
            path=scene.metadata.get("source_path"),
        )
    n = len(product.bursts)
    if not -n <= index < n:
        raise InputError(
            f"burst {index} does not exist (the swath has {n} bursts)",
            path=scene.metadata.get("source_path"),
        )
    b = product.bursts[index % n]
    g = scene.radar_grid
    epoch = g.reference_epoch
    dt = product.azimuth_time_interval
    r0 = product.slant_range_time * SPEED_OF_LIGHT / 2.0
    dr = g.range_pixel_spacing
    grid = RadarGrid(
        epoch,
        float(_seconds(b.azimuth_time, epoch)),
        dt,
        r0,
        dr,
        b.lines,
        product.number_of_samples,
        g.wavelength,
        g.look_side,
        b.line_offset,
        0,
    )
    offset = product.crop_offset or (0, 0)
    if product.crop_offset is not None:
        # intersect with the crop
        l0 = max(b.line_offset, g.first_line)
        l1 = min(b.line_offset + b.lines, g.first_line + g.length)
        if l1 <= l0:
            raise InputError(
                f"burst {b.index} does not intersect the crop",
                path=scene.metadata.get("source_path"),
            )
        grid = grid.window(l0 - b.line_offset, g.first_pixel, l1 - l0, g.width)
    pixels = TiffSource(product.measurement_paths, offset) if product.measurement_paths else None
    new = replace(product, layout="tiff", deburst=None, burst_index=b.index, crop_burst=None)
    return Scene(
        grid,
        scene.orbit,
        scene.polarizations,
        scene_metadata(new, grid, scene.orbit),
        pixels,
        new,
        scene.chunks,
    )
