"""Parse Sentinel-1 product, calibration and noise annotation XML into plain dataclasses.

Only elements named in :mod:`sarbd.products.s1_xml` are read. Times are UTC
``datetime64[ns]``; slant-range times are two-way, in seconds; angles in degrees.

Reference: ESA, *Sentinel-1 Product Specification*, S1-RS-MDA-52-7441 (issue 3.9),
sections 6.2 (product annotation), 6.3 (calibration), 6.4 (noise).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sarbd.core.orbit import Orbit
from sarbd.errors import ProductError
from sarbd.products import s1_xml as X
from sarbd.products import xml_values as V
from sarbd.products.xml_values import parse_xml

__all__ = [
    "AnnotationInfo",
    "AzimuthFmRate",
    "Burst",
    "CalibrationLut",
    "DopplerCentroid",
    "NoiseAzimuthBlock",
    "NoiseLut",
    "NoiseRangeVector",
    "parse_annotation",
    "parse_calibration",
    "parse_noise",
    "parse_xml",
]

PathLike = str | os.PathLike[str]


# -- low-level helpers: every value goes through sarbd.products.xml_values -----------------
_find = V.find
_text = V.text_at
_float = V.float_at
_int = V.int_at
_time = V.time_at
_array = V.array_at
_optional_float = V.optional_float_at


# -- records ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Burst:
    """One TOPS burst of a swath.

    Attributes
    ----------
    index
        0-based position in the burst list.
    azimuth_time
        Zero-Doppler time of the burst's first line (UTC).
    sensing_time
        Sensing (acquisition) time of the burst's first line (UTC).
    azimuth_anx_time
        Time since the ascending node crossing, s.
    byte_offset
        Offset of the burst in the measurement TIFF, bytes.
    line_offset
        First line of the burst in the measurement TIFF (``index * lines``).
    lines
        Lines per burst.
    first_valid_sample, last_valid_sample
        Per burst line, the first/last valid sample (``-1``: line entirely invalid).
    burst_id
        ESA burst ID (relative, IPF >= 3.40), or ``None``.
    """

    index: int
    azimuth_time: np.datetime64
    sensing_time: np.datetime64
    azimuth_anx_time: float
    byte_offset: int
    line_offset: int
    lines: int
    first_valid_sample: NDArray[np.int32]
    last_valid_sample: NDArray[np.int32]
    burst_id: int | None = None

    @property
    def valid_lines(self) -> tuple[int, int]:
        """First and last burst line with valid samples (inclusive, burst-relative)."""
        ok = np.flatnonzero(self.first_valid_sample >= 0)
        if ok.size == 0:
            return (0, -1)
        return (int(ok[0]), int(ok[-1]))


@dataclass(frozen=True)
class AzimuthFmRate:
    """Azimuth FM rate ``k_a(tau) = c0 + c1 (tau - t0) + c2 (tau - t0)^2`` (Hz/s), tau two-way range time (s)."""

    azimuth_time: np.datetime64
    t0: float
    coefficients: NDArray[np.float64]

    def evaluate(self, slant_range_time: Any) -> NDArray[np.float64]:
        """FM rate (Hz/s) at two-way slant-range times (s)."""
        dt = np.asarray(slant_range_time, dtype=np.float64) - self.t0
        return np.asarray(np.polynomial.polynomial.polyval(dt, self.coefficients))


@dataclass(frozen=True)
class DopplerCentroid:
    """Doppler centroid ``f_dc(tau) = sum d_i (tau - t0)^i`` (Hz) from geometry and from the data."""

    azimuth_time: np.datetime64
    t0: float
    geometry_coefficients: NDArray[np.float64]
    data_coefficients: NDArray[np.float64]

    def evaluate(self, slant_range_time: Any, *, source: str = "data") -> NDArray[np.float64]:
        """Doppler centroid (Hz) at two-way slant-range times (s); ``source`` "data" or "geometry"."""
        coef = self.data_coefficients if source == "data" else self.geometry_coefficients
        dt = np.asarray(slant_range_time, dtype=np.float64) - self.t0
        return np.asarray(np.polynomial.polynomial.polyval(dt, coef))


@dataclass(frozen=True)
class CalibrationLut:
    """Calibration vectors of one polarisation (ESA S1 radiometric calibration).

    ``line`` and ``pixel`` are measurement-TIFF indices; ``sigma0``, ``beta0``,
    ``gamma0`` and ``dn`` are the amplitude LUT values ``A`` with shape
    ``(vectors, nodes)`` such that ``value = |DN|^2 / A^2``.
    """

    polarization: str
    azimuth_time: NDArray[np.datetime64]
    line: NDArray[np.int64]
    pixel: NDArray[np.int64]
    sigma0: NDArray[np.float64]
    beta0: NDArray[np.float64]
    gamma0: NDArray[np.float64]
    dn: NDArray[np.float64]
    absolute_calibration_constant: float

    def table(self, kind: str) -> NDArray[np.float64]:
        """The LUT ``A`` for ``kind`` in ``sigma0``, ``beta0``, ``gamma0``, ``dn``."""
        tables = {"sigma0": self.sigma0, "beta0": self.beta0, "gamma0": self.gamma0, "dn": self.dn}
        if kind not in tables:
            raise ValueError(f"unknown calibration kind {kind!r}; use one of {', '.join(tables)}")
        return tables[kind]


@dataclass(frozen=True)
class NoiseRangeVector:
    """One range noise vector: linear noise power (DN^2) at ``pixel`` for TIFF ``line``."""

    azimuth_time: np.datetime64
    line: int
    pixel: NDArray[np.int64]
    values: NDArray[np.float64]


@dataclass(frozen=True)
class NoiseAzimuthBlock:
    """An azimuth noise vector valid over TIFF lines/samples ``first..last`` (inclusive)."""

    first_line: int
    last_line: int
    first_sample: int
    last_sample: int
    line: NDArray[np.int64]
    values: NDArray[np.float64]
    swath: str = ""


@dataclass(frozen=True)
class NoiseLut:
    """Thermal-noise LUTs of one polarisation.

    ``azimuth_blocks`` is empty for products of IPF < 2.9, which only had range vectors.
    """

    polarization: str
    range_vectors: tuple[NoiseRangeVector, ...]
    azimuth_blocks: tuple[NoiseAzimuthBlock, ...]


@dataclass(frozen=True)
class AnnotationInfo:
    """Everything read from one product annotation file (one swath, one polarisation)."""

    path: str
    mission: str
    product_type: str
    polarization: str
    mode: str
    swath: str
    start_time: np.datetime64
    stop_time: np.datetime64
    absolute_orbit: int
    mission_data_take_id: int
    image_number: str
    pass_direction: str
    platform_heading: float
    radar_frequency: float
    range_sampling_rate: float
    azimuth_steering_rate: float
    prf: float
    slant_range_time: float
    range_pixel_spacing: float
    azimuth_pixel_spacing: float
    azimuth_time_interval: float
    number_of_samples: int
    number_of_lines: int
    incidence_angle_mid_swath: float
    product_first_line_time: np.datetime64
    lines_per_burst: int
    samples_per_burst: int
    bursts: tuple[Burst, ...]
    azimuth_fm_rates: tuple[AzimuthFmRate, ...]
    doppler_centroids: tuple[DopplerCentroid, ...]
    terrain_heights: tuple[tuple[np.datetime64, float], ...]
    geolocation_grid: pd.DataFrame
    orbit: Orbit


# -- parsers -----------------------------------------------------------------------------------
def _parse_orbit(root: Any, path: PathLike) -> Orbit:
    nodes = root.findall(X.LIST_ORBIT)
    if len(nodes) < 2:
        raise ProductError(
            f"the annotation holds {len(nodes)} orbit state vectors, at least 2 are needed",
            path=path,
            hint="give an orbit file with orbit=",
        )
    f = X.ORBIT_FIELDS
    times = np.array([_time(n, f["time"], path) for n in nodes], dtype="datetime64[ns]")
    pos = np.array([[_float(n, f[k], path) for k in ("x", "y", "z")] for n in nodes])
    vel = np.array([[_float(n, f[k], path) for k in ("vx", "vy", "vz")] for n in nodes])
    # Some products repeat a state vector; keep the first of each time.
    _, keep = np.unique(times, return_index=True)
    return Orbit(times[keep], pos[keep], vel[keep], source="annotation")


def _parse_fm_rates(root: Any, path: PathLike) -> tuple[AzimuthFmRate, ...]:
    out = []
    f = X.AZIMUTH_FM_RATE_FIELDS
    for n in root.findall(X.LIST_AZIMUTH_FM_RATE):
        if n.find(f["polynomial"]) is not None:
            coef = _array(n, f["polynomial"], path)
        else:  # IPF < 2.43: c0, c1, c2 elements
            coef = np.array([_float(n, c, path) for c in X.AZIMUTH_FM_RATE_LEGACY])
        out.append(AzimuthFmRate(_time(n, f["azimuth_time"], path), _float(n, f["t0"], path), coef))
    return tuple(out)


def _parse_doppler(root: Any, path: PathLike) -> tuple[DopplerCentroid, ...]:
    f = X.DOPPLER_CENTROID_FIELDS
    return tuple(
        DopplerCentroid(
            _time(n, f["azimuth_time"], path),
            _float(n, f["t0"], path),
            _array(n, f["geometry_polynomial"], path),
            _array(n, f["data_polynomial"], path),
        )
        for n in root.findall(X.LIST_DOPPLER_CENTROID)
    )


def _parse_bursts(root: Any, path: PathLike, lines_per_burst: int) -> tuple[Burst, ...]:
    f = X.BURST_FIELDS
    out = []
    for i, n in enumerate(root.findall(X.LIST_BURST)):
        fvs = _array(n, f["first_valid_sample"], path, np.int32)
        lvs = _array(n, f["last_valid_sample"], path, np.int32)
        if fvs.size != lines_per_burst or lvs.size != lines_per_burst:
            raise ProductError(
                f"burst {i} has {fvs.size} firstValidSample / {lvs.size} lastValidSample values, "
                f"expected linesPerBurst = {lines_per_burst}",
                path=path,
            )
        out.append(
            Burst(
                index=i,
                azimuth_time=_time(n, f["azimuth_time"], path),
                sensing_time=_time(n, f["sensing_time"], path),
                azimuth_anx_time=_float(n, f["azimuth_anx_time"], path),
                byte_offset=_int(n, f["byte_offset"], path, minimum=0),
                line_offset=i * lines_per_burst,
                lines=lines_per_burst,
                first_valid_sample=fvs,
                last_valid_sample=lvs,
                burst_id=V.optional_int_at(n, f["burst_id"], path, minimum=0),
            )
        )
    return tuple(out)


def _parse_geolocation(root: Any, path: PathLike) -> pd.DataFrame:
    nodes = root.findall(X.LIST_GEOLOCATION)
    if not nodes:
        raise ProductError("the annotation has no geolocation grid points", path=path)
    cols: dict[str, Any] = {}
    for name, tag in X.GEOLOCATION_FIELDS.items():
        if name == "azimuth_time":
            cols[name] = np.array([_time(n, tag, path) for n in nodes], dtype="datetime64[ns]")
        elif name in ("line", "pixel"):
            cols[name] = np.array([_int(n, tag, path) for n in nodes], dtype=np.int64)
        else:
            cols[name] = np.array([_float(n, tag, path) for n in nodes], dtype=np.float64)
    return pd.DataFrame(cols, columns=list(X.GEOLOCATION_FIELDS))


def parse_annotation(data: bytes, path: PathLike) -> AnnotationInfo:
    """Parse a Sentinel-1 product annotation XML (one swath, one polarisation).

    Parameters
    ----------
    data
        The file's bytes.
    path
        Where it came from (for error messages).
    """
    root = parse_xml(data, path)
    if root.find(X.MISSION) is None or root.find(X.LIST_GEOLOCATION.split("/")[0]) is None:
        raise ProductError(
            "not a Sentinel-1 product annotation (no adsHeader/geolocationGrid)",
            path=path,
            hint="give the annotation/s1?-*.xml file of the product",
        )
    lines_per_burst = _int(root, X.LINES_PER_BURST, path, minimum=0)
    bursts = _parse_bursts(root, path, lines_per_burst)
    terrain = tuple(
        (
            _time(n, X.TERRAIN_HEIGHT_FIELDS["azimuth_time"], path),
            _float(n, X.TERRAIN_HEIGHT_FIELDS["value"], path),
        )
        for n in root.findall(X.LIST_TERRAIN_HEIGHT)
    )
    steering = _optional_float(root, X.AZIMUTH_STEERING_RATE, path)
    mission = _text(root, X.MISSION, path).upper()
    if mission not in ("S1A", "S1B", "S1C", "S1D"):
        raise ProductError(
            f"element <{X.MISSION}> is {mission[:20]!r}, not a Sentinel-1 mission (S1A..S1D)",
            path=path,
        )
    return AnnotationInfo(
        path=str(path),
        mission=mission,
        product_type=_text(root, X.PRODUCT_TYPE, path),
        polarization=_text(root, X.POLARISATION, path).upper(),
        mode=_text(root, X.MODE, path).upper(),
        swath=_text(root, X.SWATH, path).upper(),
        start_time=_time(root, X.START_TIME, path),
        stop_time=_time(root, X.STOP_TIME, path),
        absolute_orbit=_int(root, X.ABSOLUTE_ORBIT, path),
        mission_data_take_id=_int(root, X.DATA_TAKE_ID, path),
        image_number=_text(root, X.IMAGE_NUMBER, path),
        pass_direction=_text(root, X.PASS, path).upper(),
        platform_heading=_float(root, X.PLATFORM_HEADING, path),
        radar_frequency=_float(root, X.RADAR_FREQUENCY, path, positive=True),
        range_sampling_rate=_float(root, X.RANGE_SAMPLING_RATE, path, positive=True),
        azimuth_steering_rate=0.0 if steering is None else steering,
        prf=_float(root, X.PRF, path, positive=True),
        slant_range_time=_float(root, X.SLANT_RANGE_TIME, path, positive=True),
        range_pixel_spacing=_float(root, X.RANGE_PIXEL_SPACING, path, positive=True),
        azimuth_pixel_spacing=_float(root, X.AZIMUTH_PIXEL_SPACING, path, positive=True),
        azimuth_time_interval=_float(root, X.AZIMUTH_TIME_INTERVAL, path, positive=True),
        number_of_samples=_int(root, X.NUMBER_OF_SAMPLES, path, minimum=1),
        number_of_lines=_int(root, X.NUMBER_OF_LINES, path, minimum=1),
        incidence_angle_mid_swath=_float(root, X.INCIDENCE_MID_SWATH, path),
        product_first_line_time=_time(root, X.PRODUCT_FIRST_LINE_TIME, path),
        lines_per_burst=lines_per_burst,
        samples_per_burst=_int(root, X.SAMPLES_PER_BURST, path, minimum=0),
        bursts=bursts,
        azimuth_fm_rates=_parse_fm_rates(root, path),
        doppler_centroids=_parse_doppler(root, path),
        terrain_heights=terrain,
        geolocation_grid=_parse_geolocation(root, path),
        orbit=_parse_orbit(root, path),
    )


def parse_calibration(data: bytes, path: PathLike) -> CalibrationLut:
    """Parse a calibration annotation XML into a :class:`CalibrationLut`."""
    root = parse_xml(data, path)
    nodes = root.findall(X.LIST_CALIBRATION_VECTOR)
    if not nodes:
        raise ProductError(
            "no calibration vectors found",
            path=path,
            hint="give the annotation/calibration/calibration-*.xml file",
        )
    f = X.CALIBRATION_FIELDS
    pixel = [_array(n, f["pixel"], path, np.int64) for n in nodes]
    tables = {
        k: [_array(n, f[k], path) for n in nodes] for k in ("sigma0", "beta0", "gamma0", "dn")
    }
    m = {p.size for p in pixel} | {t.size for v in tables.values() for t in v}
    if len(m) != 1:
        raise ProductError("calibration vectors have unequal lengths", path=path)
    return CalibrationLut(
        polarization=_text(root, X.POLARISATION, path).upper(),
        azimuth_time=np.array(
            [_time(n, f["azimuth_time"], path) for n in nodes], dtype="datetime64[ns]"
        ),
        line=np.array([_int(n, f["line"], path) for n in nodes], dtype=np.int64),
        pixel=np.vstack(pixel),
        absolute_calibration_constant=_float(root, X.ABSOLUTE_CALIBRATION_CONSTANT, path),
        **{k: np.vstack(v) for k, v in tables.items()},
    )


def parse_noise(data: bytes, path: PathLike) -> NoiseLut:
    """Parse a noise annotation XML (IPF >= 2.9 range + azimuth vectors, or the older range-only layout)."""
    root = parse_xml(data, path)
    range_nodes = root.findall(X.LIST_NOISE_RANGE_VECTOR)
    fields = X.NOISE_RANGE_FIELDS
    if not range_nodes:
        range_nodes = root.findall(X.LIST_NOISE_VECTOR_LEGACY)
        fields = X.NOISE_LEGACY_FIELDS
    if not range_nodes:
        raise ProductError(
            "no noise vectors found",
            path=path,
            hint="give the annotation/calibration/noise-*.xml file",
        )
    vectors = []
    for n in range_nodes:
        pixel = _array(n, fields["pixel"], path, np.int64)
        values = _array(n, fields["values"], path)
        if pixel.size != values.size:
            raise ProductError("a noise range vector has unequal pixel and value counts", path=path)
        vectors.append(
            NoiseRangeVector(
                _time(n, fields["azimuth_time"], path), _int(n, fields["line"], path), pixel, values
            )
        )
    blocks = []
    fa = X.NOISE_AZIMUTH_FIELDS
    for n in root.findall(X.LIST_NOISE_AZIMUTH_VECTOR):
        line = _array(n, fa["line"], path, np.int64)
        values = _array(n, fa["values"], path)
        if line.size != values.size:
            raise ProductError(
                "a noise azimuth vector has unequal line and value counts", path=path
            )
        sw = n.find(fa["swath"])
        blocks.append(
            NoiseAzimuthBlock(
                _int(n, fa["first_line"], path),
                _int(n, fa["last_line"], path),
                _int(n, fa["first_sample"], path),
                _int(n, fa["last_sample"], path),
                line,
                values,
                (sw.text or "") if sw is not None else "",
            )
        )
    return NoiseLut(_text(root, X.POLARISATION, path).upper(), tuple(vectors), tuple(blocks))
