"""Envisat ASAR IMS (``ASA_IMS_1P``, ``.N1``) and ERS SAR SLC in Envisat format (``SAR_IMS_1P``, ``.E1``/``.E2``).

Follows ESA's *ASAR Product Handbook* (issue 2.2, 2007), ch. 6 (product structure) and
sec. 2.6.2 (radiometric calibration). What comes from where:

* **GDAL's ENVISAT driver** (through rasterio): the MPH/SPH keys (``MPH_PRODUCT``,
  ``SPH_FIRST_LINE_TIME``, ``SPH_LINE_TIME_INTERVAL``, ``SPH_PASS``, ``SPH_MDS1_TX_RX_POLAR``,
  ...), the Main Processing Parameters ADS fields of its ``RECORDS`` metadata domain
  (the 5 orbit state vectors, ``RANGE_SAMP_RATE``, ``RADAR_FREQ``, ``EXT_CAL_FACT``) and
  the complex pixels (MDS1, CInt16) read per Dask block.
* **Read here** (GDAL's ``RECORDS`` strings print small floats with 6 decimals, and it does
  not expose the Geolocation Grid ADS): the data-set descriptors of the SPH and the
  521-byte Geolocation Grid ADS records -- per granule the 11 tie points of its first and
  last line: sample numbers (1-based), two-way slant-range times (ns, float32), incidence
  angles (deg), latitudes and longitudes (1e-6 deg), located at the MPP ADS's average scene
  height (byte 1541); the 55-byte Doppler Centroid ADS records.
* **Computed**: the azimuth FM rate (not annotated;
  :func:`sarbd.products.fm_rate.geometric_fm_rate`), so that the product is an :class:`~sarbd.core.capabilities.AzimuthRampProvider` and coregistration deramps it.

Grid: line 0 at the SPH's ``FIRST_LINE_TIME`` (UTC, zero-Doppler), the last line at its
``LAST_LINE_TIME`` (interval ``(last - first) / (lines - 1)``, checked against
``LINE_TIME_INTERVAL`` to 2 us over the image); pixel 0 at the slant range ``c/2 * t`` of
the tie point with sample number 1 (as isce2's Envisat reader), spacing ``c / (2 * RANGE_SAMP_RATE)``. The look side is
right. Orbit: the 5 ADS state vectors (positions in 1e-2 m, velocities in 1e-5 m/s, ECEF),
i.e. the orbit the processor used (DORIS precise or restituted, depending on the product;
the MPH's ``VECTOR_SOURCE`` says which: ``orbit.source`` is e.g. ``"MPP ADS (DP)"``, DORIS
precise, and ``metadata["vector_source"]`` spells it out); a precise orbit
can be passed with ``orbit=``: an :class:`~sarbd.core.Orbit`, or a DORIS ``DOR_VOR_AX``
file or folder of them (:mod:`sarbd.products.doris_orbit`, one vector a minute).

Calibration is offered only for products whose MPP ADS flags say the antenna elevation
pattern and range spreading loss were corrected (``ANT_ELEV_CORR_FLAG`` and
``RANGE_SPREAD_COMP_FLAG`` both 1). ASAR IMS/APS products are never so corrected (Rosich, B.
& Meadows, P., *Absolute calibration of ASAR Level 1 products*, ENVI-CLVL-EOPG-TN-03-0010,
2004; the real IMS of the tests has both flags 0): their ``scene.product.calibration`` is
empty, :func:`sarbd.products.calibrate` says why, and a stack built from them carries no
``cal_*`` factors. The formula, where it applies
(ASAR Product Handbook sec. 2.6.2.1; the same formula as BEAM/SNAP's "ASAR NRCS"):
``sigma0 = |DN|^2 / K * sin(alpha)``, ``K`` the ``EXT_CAL_FACT`` of the MPP ADS, ``alpha`` the
incidence angle interpolated from the geolocation grid; ``beta0 = |DN|^2 / K`` and
``gamma0 = sigma0 / cos(alpha)``. They are stored as Sentinel-1-style amplitude LUTs
``A`` (``value = |DN|^2 / A^2``) on the tie-point nodes, so :func:`sarbd.products.calibrate`
works with ``remove_noise=False``.
"""

from __future__ import annotations

import os
import re
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import SPEED_OF_LIGHT, RadarGrid
from sarbd.core.scene import DEFAULT_CHUNKS, Scene
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products.envisat_format import MPH_SIZE, data_set_descriptors
from sarbd.products.envisat_format import ascii_time as _ascii_time
from sarbd.products.fm_rate import geometric_fm_rate
from sarbd.products.metadata import iso_time
from sarbd.products.radarsat2 import complete_geolocation_grid
from sarbd.products.s1_annotation import AzimuthFmRate, CalibrationLut, DopplerCentroid

__all__ = ["EnvisatProduct", "is_envisat", "open_envisat", "tie_point_errors"]

PathLike = str | os.PathLike[str]
GEO_DSR_SIZE = 521
MJD2000 = np.datetime64("2000-01-01T00:00:00", "ns")
_POL = {"H/H": "HH", "V/V": "VV", "H/V": "HV", "V/H": "VH"}


@dataclass(frozen=True)
class EnvisatProduct:
    """What an Envisat/ERS IMS scene knows about its product (``scene.product``).

    ``geolocation_grid`` holds the tie points in grid indices (0-based line and pixel;
    columns ``line``, ``pixel``, ``latitude``, ``longitude``, ``height`` (``scene_height``
    for every tie point), ``slant_range_time`` (two-way, s),
    ``incidence_angle`` (deg)). ``scene_height`` is the MPP ADS's average scene height
    above the WGS84 ellipsoid (m), 0 when the product does not give one.
    """

    @property
    def is_tops(self) -> bool:
        """False: Envisat ASAR / ERS IMS: stripmap (``sarbd.core.capabilities.AcquisitionMode``)."""
        return False

    path: str
    product_name: str
    mission: str
    product_type: str
    swath: str
    polarization: str
    pass_direction: str
    absolute_orbit: int | None
    relative_orbit: int | None
    software_version: str
    radar_frequency: float
    range_sampling_rate: float
    prf: float | None
    calibration_constant: float
    scene_height: float
    geolocation_grid: pd.DataFrame
    calibration: dict[str, CalibrationLut] = field(default_factory=dict)
    doppler_centroids: tuple[DopplerCentroid, ...] = ()
    antenna_pattern_applied: bool = False
    range_spreading_applied: bool = False
    calibration_unavailable: str = ""
    azimuth_fm_rates: tuple[AzimuthFmRate, ...] = ()
    slant_range_time: float = 0.0
    number_of_samples: int = 0

    @property
    def azimuth_steering_rate(self) -> float:
        """0 deg/s: stripmap (for :class:`~sarbd.core.capabilities.AzimuthRampProvider`)."""
        return 0.0

    noise: dict[str, Any] = field(default_factory=dict)

    def tiff_lines(self, lines: NDArray[np.int64]) -> NDArray[np.int64]:
        """Line coordinates of the calibration LUTs for grid ``lines`` (the identity: MDS1 lines)."""
        return np.asarray(lines, dtype=np.int64)


@dataclass(frozen=True)
class EnvisatSource:
    """MDS1 pixels through GDAL's ENVISAT driver (re-opened by path for every block)."""

    path: str
    polarization: str
    mds_end: int = 0  # byte after MDS1, from its DSD (0: unknown)

    def read(self, polarization: str, lines: slice, pixels: slice) -> NDArray[np.complex64]:
        import rasterio
        from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
        from rasterio.windows import Window

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                with rasterio.open(self.path) as ds:
                    data = ds.read(
                        1,
                        window=Window(
                            pixels.start,
                            lines.start,
                            pixels.stop - pixels.start,
                            lines.stop - lines.start,
                        ),
                    )
        except RasterioIOError as exc:
            size = os.path.getsize(self.path)
            if self.mds_end > size:
                raise ProductError(
                    f"cannot read the MDS1 pixels: the file is truncated ({size} bytes; MDS1 "
                    f"ends at byte {self.mds_end})",
                    path=self.path,
                    hint="the metadata and geometry are usable, the pixels are not",
                ) from None
            raise ProductError(f"cannot read the MDS1 pixels ({exc})", path=self.path) from None
        return np.asarray(data, dtype=np.complex64)


def is_envisat(path: Path) -> bool:
    """True for a file in Envisat product format (it starts with ``PRODUCT=``)."""
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        return f.read(8) == b"PRODUCT="


def _mjd_text(text: str, what: str, path: PathLike) -> np.datetime64:
    """GDAL's ``"days, seconds, microseconds"`` rendering of an MJD2000 field."""
    try:
        d, s, us = (int(x) for x in text.split(","))
    except (ValueError, AttributeError):
        raise ProductError(f"{what} is not an MJD2000 time: {text!r}", path=path) from None
    return MJD2000 + np.timedelta64(d * 86_400_000_000 + s * 1_000_000 + us, "us")


def _number(tags: dict[str, str], key: str, path: PathLike, *, positive: bool = False) -> float:
    raw = tags.get(key)
    if raw is None:
        raise ProductError(
            f"header field {key} is missing",
            path=path,
            hint="the file is not a complete ASAR/ERS IMS product",
        )
    m = re.match(r"\s*([+-]?[0-9.]+(?:[eE][+-]?\d+)?)", raw)
    value = float(m[1]) if m else float("nan")
    if not np.isfinite(value) or (positive and value <= 0):
        raise ProductError(
            f"header field {key} is not a {'positive ' if positive else ''}number: {raw!r}",
            path=path,
        )
    return value


def _geolocation_grid(path: Path, dsd: dict[str, Any]) -> pd.DataFrame:
    """Tie points of the Geolocation Grid ADS (ASAR Product Handbook ch. 6, GEOLOCATION_GRID_ADSR, 521 bytes)."""
    if dsd["dsr_size"] != GEO_DSR_SIZE or dsd["num_dsr"] < 1:
        raise ProductError(
            f"Geolocation Grid ADS has {dsd['num_dsr']} records of {dsd['dsr_size']} bytes "
            f"(expected records of {GEO_DSR_SIZE})",
            path=path,
        )
    with open(path, "rb") as f:
        f.seek(dsd["offset"])
        blob = f.read(dsd["num_dsr"] * GEO_DSR_SIZE)
    if len(blob) != dsd["num_dsr"] * GEO_DSR_SIZE:
        raise ProductError(
            "the Geolocation Grid ADS is truncated", path=path, hint="download the product again"
        )
    rows = []
    for k in range(dsd["num_dsr"]):
        rec = blob[k * GEO_DSR_SIZE : (k + 1) * GEO_DSR_SIZE]
        line_num, num_lines = struct.unpack(">II", rec[13:21])
        for off, line in ((25, line_num - 1), (279, line_num + num_lines - 2)):
            samp = struct.unpack(">11I", rec[off : off + 44])
            srt = struct.unpack(">11f", rec[off + 44 : off + 88])
            inc = struct.unpack(">11f", rec[off + 88 : off + 132])
            lat = struct.unpack(">11i", rec[off + 132 : off + 176])
            lon = struct.unpack(">11i", rec[off + 176 : off + 220])
            rows += [
                (
                    float(line),
                    float(samp[j] - 1),
                    lat[j] * 1e-6,
                    lon[j] * 1e-6,
                    0.0,
                    srt[j] * 1e-9,
                    inc[j],
                )
                for j in range(11)
            ]
    geo = pd.DataFrame(
        rows,
        columns=[
            "line",
            "pixel",
            "latitude",
            "longitude",
            "height",
            "slant_range_time",
            "incidence_angle",
        ],
    )
    if not np.all(np.isfinite(geo.to_numpy())) or (geo["slant_range_time"] <= 0).any():
        raise ProductError(
            "the Geolocation Grid ADS holds non-finite or non-positive values", path=path
        )
    return (
        geo.drop_duplicates(["line", "pixel"]).sort_values(["line", "pixel"]).reset_index(drop=True)
    )


DOP_DSR_SIZE = 55


def _doppler_centroids(path: Path, dsd: dict[str, Any] | None) -> tuple[DopplerCentroid, ...]:
    """The Doppler Centroid ADS (ASAR Product Handbook sec. 6.6.3, 55-byte records).

    Each record: zero-Doppler time (MJD), attachment flag, the reference two-way slant-range
    time ``t0`` (ns, float32), coefficients ``D0..D4`` (Hz, Hz/s, ... Hz/s^4, float32) of
    ``f_dc = sum D_i (tau - t0)^i`` with ``tau`` the two-way slant-range time in seconds,
    confidence, and integer deltas. These are estimates from the data: the
    ``geometry_coefficients`` of the returned :class:`DopplerCentroid` are NaN (not annotated).
    """
    if dsd is None or dsd["num_dsr"] < 1 or dsd["offset"] <= 0:
        return ()
    if dsd["dsr_size"] != DOP_DSR_SIZE:
        raise ProductError(
            f"Doppler Centroid ADS has records of {dsd['dsr_size']} bytes (expected "
            f"{DOP_DSR_SIZE})",
            path=path,
        )
    with open(path, "rb") as f:
        f.seek(dsd["offset"])
        blob = f.read(dsd["num_dsr"] * DOP_DSR_SIZE)
    if len(blob) != dsd["num_dsr"] * DOP_DSR_SIZE:
        raise ProductError("the Doppler Centroid ADS is truncated", path=path)
    out = []
    for k in range(dsd["num_dsr"]):
        rec = blob[k * DOP_DSR_SIZE : (k + 1) * DOP_DSR_SIZE]
        days, sec, us = struct.unpack(">iII", rec[0:12])
        t = MJD2000 + np.timedelta64(days * 86_400_000_000 + sec * 1_000_000 + us, "us")
        t0_ns, *coef = struct.unpack(">6f", rec[13:37])
        if not np.all(np.isfinite([t0_ns, *coef])):
            raise ProductError(f"Doppler Centroid ADS record {k + 1} is not finite", path=path)
        out.append(
            DopplerCentroid(
                np.datetime64(t, "ns"),
                t0_ns * 1e-9,
                np.full(5, np.nan),
                np.asarray(coef, dtype=np.float64),
            )
        )
    return tuple(out)


#: Byte offset of ``avg_scene_height_ellpsoid`` (float32, m) in the MPP ADSR; the first 2009
#: bytes of the record are laid out alike in its 2009- and 10069-byte versions (the
#: calibration constant at 1381 and the state vectors at 1765 in both).
_MPP_SCENE_HEIGHT = 1541


def _scene_height(path: Path, dsd: dict[str, Any] | None) -> float:
    """The MPP ADS's average scene height above the ellipsoid (m), the height of the tie points.

    ASAR's processor computes the Geolocation Grid tie points at this one height (the
    ADSR has no height field). On the real IMS product of the tests (pyroSAR's, Rome,
    2004-07-03) it is 276.73 m, and it is the height at which all 286 tie points agree with
    rdr2geo (0.18 m median); at height 0 they are 680-820 m off across track. 0 when the
    record is too short to hold it, or not finite.
    """
    if dsd is None or dsd["dsr_size"] < _MPP_SCENE_HEIGHT + 4 or dsd["offset"] <= 0:
        return 0.0
    with open(path, "rb") as f:
        f.seek(dsd["offset"] + _MPP_SCENE_HEIGHT)
        raw = f.read(4)
    if len(raw) < 4:
        return 0.0
    h = float(struct.unpack(">f", raw)[0])
    return h if np.isfinite(h) and -1000.0 < h < 9000.0 else 0.0


def _line_interval(
    tags: dict[str, str], t0: np.datetime64, dt_sph: float, lines: int, path: PathLike
) -> float:
    """Zero-Doppler line interval (s): ``(LAST_LINE_TIME - FIRST_LINE_TIME) / (lines - 1)``.

    The grid's last line is then the SPH's ``LAST_LINE_TIME``, the time of the MPP ADS's
    last state vector in real products (ASAR/6.03 puts its 5 vectors at the first line, 1/4,
    1/2, 3/4 and the last line): ``t0 + (lines - 1) * LINE_TIME_INTERVAL`` overshoots that by
    up to 1 us (the ASCII times' microsecond resolution), which would put the last line outside
    the orbit. The two must agree to 2 us over the image, else the header is inconsistent.
    """
    if lines < 2 or "SPH_LAST_LINE_TIME" not in tags:
        return dt_sph
    t1 = _ascii_time(tags["SPH_LAST_LINE_TIME"], "SPH LAST_LINE_TIME", path)
    span = float((t1 - t0) / np.timedelta64(1, "ns")) * 1e-9
    if abs(span - dt_sph * (lines - 1)) > 2e-6:
        raise ProductError(
            f"SPH LAST_LINE_TIME - FIRST_LINE_TIME = {span:.6f} s, but LINE_TIME_INTERVAL x "
            f"({lines} - 1) lines = {dt_sph * (lines - 1):.6f} s",
            path=path,
            hint="the product header is inconsistent",
        )
    return span / (lines - 1)


#: MPH ``VECTOR_SOURCE`` codes (PO-RS-MDA-GS-2009 vol. 5, MPH; ERS codes of the ERS
#: reprocessing in Envisat format).
VECTOR_SOURCES = {
    "FP": "FOS predicted",
    "DN": "DORIS navigator",
    "FR": "FOS restituted",
    "DI": "DORIS preliminary",
    "DP": "DORIS precise",
    "PD": "predicted",
    "RS": "restituted",
    "PL": "preliminary",
    "PC": "precise",
}


def _orbit(records: dict[str, str], prefix: str, path: PathLike, vector_source: str) -> Orbit:
    times, pos, vel = [], [], []
    for k in range(1, 6):
        base = f"{prefix}ORBIT_STATE_VECTORS.{k}."
        if f"{base}STATE_VECT_TIME_1" not in records:
            break
        times.append(_mjd_text(records[f"{base}STATE_VECT_TIME_1"], f"state vector {k} time", path))
        try:
            pos.append([int(records[f"{base}{a}_POS_1"]) * 1e-2 for a in "XYZ"])
            vel.append([int(records[f"{base}{a}_VEL_1"]) * 1e-5 for a in "XYZ"])
        except (KeyError, ValueError):
            raise ProductError(
                f"orbit state vector {k} of the MPP ADS is incomplete", path=path
            ) from None
    valid = [i for i, p in enumerate(pos) if np.linalg.norm(p) > 6.0e6]  # unused vectors are zero
    if len(valid) < 2:
        raise ProductError(
            f"the MPP ADS has {len(valid)} usable orbit state vectors (at least 2 needed)",
            path=path,
        )
    try:
        return Orbit(
            np.array([times[i] for i in valid]),
            np.array([pos[i] for i in valid]),
            np.array([vel[i] for i in valid]),
            source=f"MPP ADS ({vector_source})" if vector_source else "MPP ADS",
        )
    except OrbitError as exc:
        raise OrbitError(f"orbit state vectors of the MPP ADS: {exc.message}", path=path) from None


def open_envisat(
    path: PathLike,
    *,
    orbit: Orbit | PathLike | None = None,
    chunks: tuple[int, int] | None = None,
) -> Scene:
    """Open an ASAR IMS or ERS SLC product in Envisat format as a :class:`~sarbd.core.Scene`.

    Parameters
    ----------
    path
        The ``.N1`` / ``.E1`` / ``.E2`` file.
    orbit
        ``None`` (the 5 state vectors of the MPP ADS), an :class:`~sarbd.core.Orbit`, a
        DORIS orbit file (``DOR_VOR_AX`` precise or ``DOR_POR_AX`` preliminary,
        :mod:`sarbd.products.doris_orbit`) or a folder of them (the covering one is
        picked, precise first). A file's state vectors are cropped to the image plus 6
        vectors (6 minutes) on each side; ``orbit.source`` is ``"DOR_VOR"`` or ``"DOR_POR"``.
    chunks
        Default Dask chunk shape of :meth:`Scene.slc`.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    p = Path(path)
    if orbit is not None and not isinstance(orbit, (Orbit, str, os.PathLike)):
        raise InputError(
            "orbit= for an Envisat/ERS product must be an Orbit, a DORIS orbit file "
            "(DOR_VOR_AX / DOR_POR_AX) or a folder of them",
            path=p,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(p) as ds:
                tags = ds.tags()
                records = ds.tags(ns="RECORDS")
                shape = (ds.height, ds.width)
                dtype = ds.dtypes[0]
    except RasterioIOError as exc:
        raise ProductError(
            f"GDAL cannot open the Envisat product ({exc})",
            path=p,
            hint="the file is truncated or corrupt",
        ) from None
    name = tags.get("MPH_PRODUCT", "").strip()
    ptype = name[:10]
    if ptype not in ("ASA_IMS_1P", "SAR_IMS_1P"):
        raise InputError(
            f"only ASAR IMS and ERS IMS (SLC) products are read; this one is {ptype or 'unknown'}",
            path=p,
            hint="use an ASA_IMS_1P or SAR_IMS_1P product",
        )
    if "complex" not in dtype:
        raise ProductError(f"MDS1 is {dtype}, not complex", path=p)
    sph_size = (
        int(_number(tags, "MPH_SPH_SIZE", p, positive=True)) if "MPH_SPH_SIZE" in tags else None
    )
    if sph_size is None:  # GDAL drops the structural keys; read SPH_SIZE from the MPH itself
        with open(p, "rb") as f:
            m = re.search(rb"SPH_SIZE=\+?(\d+)", f.read(MPH_SIZE))
        if m is None:
            raise ProductError("the MPH has no SPH_SIZE", path=p)
        sph_size = int(m[1])
    dsds = data_set_descriptors(p, sph_size)
    if "GEOLOCATION GRID ADS" not in dsds:
        raise ProductError("the product has no Geolocation Grid ADS", path=p)
    geo = _geolocation_grid(p, dsds["GEOLOCATION GRID ADS"])
    scene_height = _scene_height(p, dsds.get("MAIN PROCESSING PARAMS ADS"))
    dopplers = _doppler_centroids(p, dsds.get("DOP CENTROID COEFFS ADS"))
    geo["height"] = scene_height
    prefix = "MAIN_PROCESSING_PARAMS_ADS_"
    if f"{prefix}RANGE_SAMP_RATE" not in records and f"{prefix}0_RANGE_SAMP_RATE" in records:
        prefix = "MAIN_PROCESSING_PARAMS_ADS_0_"
    fs = _number(records, f"{prefix}RANGE_SAMP_RATE", p, positive=True)
    fc = _number(records, f"{prefix}RADAR_FREQ", p, positive=True)
    k_cal = _number(records, f"{prefix}CALIBRATION_FACTORS.1.EXT_CAL_FACT", p, positive=True)
    ant_applied = records.get(f"{prefix}ANT_ELEV_CORR_FLAG", "0").strip() == "1"
    rsl_applied = records.get(f"{prefix}RANGE_SPREAD_COMP_FLAG", "0").strip() == "1"
    dt_sph = _number(tags, "SPH_LINE_TIME_INTERVAL", p, positive=True)
    t0 = _ascii_time(tags.get("SPH_FIRST_LINE_TIME", ""), "SPH FIRST_LINE_TIME", p)
    dt = _line_interval(tags, t0, dt_sph, shape[0], p)
    first = geo[geo["pixel"] == 0]
    if first.empty:
        raise ProductError(
            "no tie point at sample 1: the slant range of the first pixel is unknown", path=p
        )
    r0 = float(first["slant_range_time"].iloc[0]) * SPEED_OF_LIGHT / 2
    epoch = t0.astype("datetime64[s]").astype("datetime64[ns]")
    grid = RadarGrid(
        epoch,
        float((t0 - epoch) / np.timedelta64(1, "ns")) * 1e-9,
        dt,
        r0,
        SPEED_OF_LIGHT / (2 * fs),
        shape[0],
        shape[1],
        SPEED_OF_LIGHT / fc,
        "right",
    )
    t_end = grid.line_to_datetime(shape[0] - 1)[()]
    vector_source = tags.get("MPH_VECTOR_SOURCE", "").strip()
    if orbit is None:
        orb = _orbit(records, prefix, p, vector_source)
    elif isinstance(orbit, Orbit):
        orb = orbit
    else:
        from sarbd.products.doris_orbit import resolve_doris_orbit

        orb = resolve_doris_orbit(orbit, t0, np.datetime64(t_end, "ns"))
    if not orb.covers(t0, t_end):
        raise OrbitError(
            f"orbit ({orb.start_time} .. {orb.end_time}) does not cover the image {t0} .. {t_end}",
            path=p,
            hint="pass a precise orbit with orbit=",
        )
    orb = orb.with_epoch(epoch)
    geo = complete_geolocation_grid(geo, grid, orb)  # adds azimuth_time
    fm_rates = tuple(
        geometric_fm_rate(dc.azimuth_time, dc.t0, grid, orb, scene_height) for dc in dopplers
    )
    pol = _POL.get(tags.get("SPH_MDS1_TX_RX_POLAR", "").strip(), "VV")
    # calibration LUTs on the tie-point nodes (lines x 11 samples)
    g_lines = np.unique(geo["line"].to_numpy())
    inc = geo.pivot(index="line", columns="pixel", values="incidence_angle").reindex(g_lines)
    if inc.isna().any().any():
        raise ProductError("the Geolocation Grid ADS tie points do not form a regular grid", path=p)
    alpha = np.radians(inc.to_numpy())
    nodes = np.tile(inc.columns.to_numpy(dtype=np.int64), (g_lines.size, 1))
    a_beta = np.full(alpha.shape, np.sqrt(k_cal))
    lut = CalibrationLut(
        pol,
        grid.line_to_datetime(g_lines),
        g_lines.astype(np.int64),
        nodes,
        a_beta / np.sqrt(np.sin(alpha)),
        a_beta,
        a_beta * np.sqrt(np.cos(alpha) / np.sin(alpha)),
        np.ones_like(alpha),
        k_cal,
    )
    mission = "ENVISAT" if ptype.startswith("ASA") else "ERS"

    def int_tag(key: str) -> int | None:
        m = re.match(r"\s*([+-]?\d+)", tags.get(key, ""))
        return int(m[1]) if m else None

    pass_dir = tags.get("SPH_PASS", "").strip().upper()
    product = EnvisatProduct(
        path=str(p),
        product_name=name,
        mission=mission,
        product_type=ptype,
        swath=tags.get("SPH_SWATH", "").strip(),
        polarization=pol,
        pass_direction=pass_dir,
        absolute_orbit=int_tag("MPH_ABS_ORBIT"),
        relative_orbit=int_tag("MPH_REL_ORBIT"),
        software_version=tags.get("MPH_SOFTWARE_VER", "").strip(),
        radar_frequency=fc,
        range_sampling_rate=fs,
        prf=_number(records, f"{prefix}IMAGE_PARAMETERS.PRF_VALUE", p)
        if f"{prefix}IMAGE_PARAMETERS.PRF_VALUE" in records
        else None,
        calibration_constant=k_cal,
        scene_height=scene_height,
        geolocation_grid=geo,
        doppler_centroids=dopplers,
        azimuth_fm_rates=fm_rates,
        slant_range_time=grid.starting_range_time,
        number_of_samples=shape[1],
        calibration={pol: lut} if ant_applied and rsl_applied else {},
        antenna_pattern_applied=ant_applied,
        range_spreading_applied=rsl_applied,
        calibration_unavailable=""
        if ant_applied and rsl_applied
        else (
            "the pixels are not corrected for the antenna elevation pattern "
            f"(ANT_ELEV_CORR_FLAG={int(ant_applied)}) and range spreading loss "
            f"(RANGE_SPREAD_COMP_FLAG={int(rsl_applied)}), as in every ASAR IMS/APS product "
            "(Rosich & Meadows 2004); sigma0 = |DN|^2/K sin(alpha) needs them, and the "
            "antenna patterns (ASA_XCA_AX auxiliary file) are not read"
        ),
    )
    meta: dict[str, Any] = {
        "mission": mission,
        "platform": mission,
        "instrument": "ASAR" if mission == "ENVISAT" else "AMI SAR",
        "product_name": name,
        "product_type": ptype,
        "mode": "IM",
        "swath": product.swath,
        "polarizations": [pol],
        "pass_direction": pass_dir,
        "absolute_orbit": product.absolute_orbit,
        "relative_orbit": product.relative_orbit,
        "start_time": iso_time(t0),
        "stop_time": iso_time(t_end),
        "radar_frequency": fc,
        "wavelength": grid.wavelength,
        "range_sampling_rate": fs,
        "prf": product.prf,
        "azimuth_time_interval": dt,
        "slant_range_time": grid.starting_range_time,
        "range_pixel_spacing": grid.range_pixel_spacing,
        "azimuth_pixel_spacing": _number(tags, "SPH_AZIMUTH_SPACING", p)
        if "SPH_AZIMUTH_SPACING" in tags
        else None,
        "incidence_angle_mid_swath": float(geo["incidence_angle"].median()),
        "look_side": "right",
        "ipf_version": product.software_version,
        "orbit_source": orb.source,
        "source_path": str(p),
        "first_line": 0,
        "first_pixel": 0,
        "lines": shape[0],
        "pixels": shape[1],
        "calibration_constant": k_cal,
        "average_scene_height": scene_height,
        "antenna_pattern_applied": ant_applied,
        "range_spreading_applied": rsl_applied,
        "vector_source": VECTOR_SOURCES.get(vector_source, vector_source),
    }
    return Scene(
        grid,
        orb,
        (pol,),
        meta,
        EnvisatSource(
            str(p.resolve()),
            pol,
            int(dsds["MDS1"]["offset"] + dsds["MDS1"]["size"]) if "MDS1" in dsds else 0,
        ),
        product,
        chunks or DEFAULT_CHUNKS,
    )


def tie_point_errors(scene: Scene) -> pd.DataFrame:
    """Distances (m) between the product's tie points and sarbd's rdr2geo (see the Radarsat-2 version).

    Also returns ``range_error`` (m): the tie point's annotated slant range minus the grid's
    slant range at its pixel (checks the range origin and spacing).
    """
    from sarbd.products.radarsat2 import tie_point_errors as rs2_errors  # same computation

    out = rs2_errors(scene)
    g = scene.radar_grid
    out["range_error"] = out[
        "slant_range_time"
    ].to_numpy() * SPEED_OF_LIGHT / 2 - g.pixel_to_slant_range(
        out["pixel"].to_numpy() - g.first_pixel
    )
    return out
