"""Radarsat-2 SLC reader: ``product.xml``, the calibration LUT XMLs and the GeoTIFF imagery.

Layout (MDA, *RADARSAT-2 Product Format Definition*, RN-RP-51-2713, issue 1/14; namespace
``http://www.rsi.ca/rs2/prod/xml/schemas``; namespaces are ignored here)::

    product/productId
    product/sourceAttributes/{satellite, sensor, beamModeMnemonic, rawDataStartTime}
    product/sourceAttributes/radarParameters/{acquisitionType, polarizations,
        radarCenterFrequency, pulseRepetitionFrequency, antennaPointing}
    product/sourceAttributes/orbitAndAttitude/orbitInformation/{passDirection, orbitDataSource,
        orbitDataFile, stateVector/{timeStamp, x|y|zPosition, x|y|zVelocity}}
    product/imageGenerationParameters/generalProcessingInformation/{productType, softwareVersion}
    product/imageGenerationParameters/sarProcessingInformation/{zeroDopplerTimeFirstLine,
        zeroDopplerTimeLastLine, slantRangeNearEdge, incidenceAngleNearRange, incidenceAngleFarRange}
    product/imageGenerationParameters/dopplerCentroid/{timeOfDopplerCentroidEstimate,
        dopplerCentroidReferenceTime, dopplerCentroidCoefficients}   (optional; with the
        geometric FM rate of :mod:`sarbd.products.fm_rate` the product is an
        ``AzimuthRampProvider``: coregistration deramps by it)
    product/imageAttributes/rasterAttributes/{dataType, numberOfSamplesPerLine, numberOfLines,
        sampledPixelSpacing, sampledLineSpacing, lineTimeOrdering, pixelTimeOrdering}
    product/imageAttributes/geographicInformation/geolocationGrid/imageTiePoint/
        {imageCoordinate/{line, pixel}, geodeticCoordinate/{latitude, longitude, height}}
    product/imageAttributes/lookupTable[@incidenceAngleCorrection]   (-> lutSigma.xml ...)
    product/imageAttributes/fullResolutionImageData[@pole]           (-> imagery_HH.tif ...)

Orientation. The imagery is stored in the order the product declares:
``lineTimeOrdering="Decreasing"`` (usual for ascending passes) puts the *latest* line
first, and ``zeroDopplerTimeFirstLine`` is the time of the first line *of the file*
(so later than ``zeroDopplerTimeLastLine``); ``pixelTimeOrdering="Decreasing"`` puts
far range first, ``slantRangeNearEdge`` being the range of the near edge (the last
pixel of the file). The scene's grid is always increasing in time and range, as
every sarbd stage expects: the reader flips indices (pixels, LUTs and tie points) so
that grid line 0 is the earliest line and grid pixel 0 the nearest pixel. This is
how isce2's ``Radarsat2`` sensor and SNAP's reader interpret these fields.

Timing. The line time interval is ``|t_last - t_first| / (lines - 1)`` (the product
gives the two end times; isce2 derives it the same way); the slant-range spacing is
``sampledPixelSpacing`` (slant range for SLC products).

Calibration (RN-RP-51-2713 sec. 7.2): for complex products
``sigma0 = |DN|^2 / A_j^2`` with ``A_j`` the ``gains`` of ``lutSigma.xml`` at range
pixel ``j`` (``lutBeta.xml``, ``lutGamma.xml`` likewise); the LUT ``offset`` applies
to detected products only. The LUTs are put in ``scene.product.calibration`` in the
same form as Sentinel-1's, so :func:`sarbd.products.calibrate` works unchanged
(with ``remove_noise=False``: the product's noise levels are not read).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sarbd.core.capabilities import GeolocationGridProvider
from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import SPEED_OF_LIGHT, RadarGrid
from sarbd.core.scene import DEFAULT_CHUNKS, Scene
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products.fm_rate import geometric_fm_rate
from sarbd.products.metadata import iso_time
from sarbd.products.s1_annotation import AzimuthFmRate, CalibrationLut, DopplerCentroid
from sarbd.products.sources import read_tiff_window
from sarbd.products.xml_values import (
    array_at,
    float_at,
    int_at,
    optional_float_at,
    parse_xml,
    text_at,
    time_at,
)

__all__ = [
    "FlippedTiffSource",
    "Radarsat2Product",
    "complete_geolocation_grid",
    "is_radarsat2",
    "open_radarsat2",
    "read_rs2_lut",
    "tie_point_errors",
]

PathLike = str | os.PathLike[str]
_NAMESPACE = b"http://www.rsi.ca/rs2/prod/xml/schemas"
_RCM_NAMESPACE = b"rcmGsProductSchema"
_LUT_KINDS = {"sigma nought": "sigma0", "beta nought": "beta0", "gamma": "gamma0"}
_POL_ORDER = ("HH", "HV", "VH", "VV")


@dataclass(frozen=True)
class Radarsat2Product:
    """What a Radarsat-2 scene knows about its product (``scene.product``).

    ``geolocation_grid`` is a DataFrame of the tie points in *grid* indices (after
    the flips; columns ``line``, ``pixel``, ``latitude``, ``longitude``, ``height``,
    degrees and metres ellipsoidal, and ``azimuth_time``, ``slant_range_time`` and
    ``incidence_angle`` derived from the grid and orbit, as the Sentinel-1 grid has). ``calibration`` maps polarisation to a
    :class:`~sarbd.products.s1_annotation.CalibrationLut` (amplitude LUTs ``A`` on grid
    pixels, constant in line); ``noise`` is empty (not read).
    """

    @property
    def is_tops(self) -> bool:
        """False: Radarsat-2: stripmap / spotlight, no bursts (``sarbd.core.capabilities.AcquisitionMode``)."""
        return False

    path: str
    product_id: str
    satellite: str
    beam_mode: str
    acquisition_type: str
    product_type: str
    software_version: str
    polarizations: tuple[str, ...]
    pass_direction: str
    orbit_data_source: str
    orbit_data_file: str
    line_time_ordering: str
    pixel_time_ordering: str
    zero_doppler_time_first_line: np.datetime64
    zero_doppler_time_last_line: np.datetime64
    slant_range_near_edge: float
    radar_frequency: float
    prf: float
    incidence_near: float | None
    incidence_far: float | None
    sampled_line_spacing: float
    geolocation_grid: pd.DataFrame
    image_paths: dict[str, str]
    lut_paths: dict[str, str]
    calibration: dict[str, CalibrationLut] = field(default_factory=dict)
    noise: dict[str, Any] = field(default_factory=dict)
    doppler_centroids: tuple[DopplerCentroid, ...] = ()
    azimuth_fm_rates: tuple[AzimuthFmRate, ...] = ()
    slant_range_time: float = 0.0
    number_of_samples: int = 0

    @property
    def azimuth_steering_rate(self) -> float:
        """0 deg/s: no TOPS (for :class:`~sarbd.core.capabilities.AzimuthRampProvider`)."""
        return 0.0

    @property
    def lines_flipped(self) -> bool:
        """True when the file stores the latest line first."""
        return self.line_time_ordering == "DECREASING"

    @property
    def pixels_flipped(self) -> bool:
        """True when the file stores the far-range pixel first."""
        return self.pixel_time_ordering == "DECREASING"

    def tiff_lines(self, lines: NDArray[np.int64]) -> NDArray[np.int64]:
        """Line coordinates of the calibration LUTs for grid ``lines``.

        The LUTs are stored on grid lines (they are constant in line), so this is the
        identity; :mod:`sarbd.products.calibration` calls it for every product.
        """
        return np.asarray(lines, dtype=np.int64)


@dataclass(frozen=True)
class FlippedTiffSource:
    """Pixels of Radarsat-2 imagery in grid order (increasing time and range).

    Parameters
    ----------
    paths
        ``{polarisation: GeoTIFF path}``.
    shape
        ``(lines, pixels)`` of the imagery.
    flip_lines, flip_pixels
        Whether file line 0 is the latest line / file pixel 0 the farthest pixel.
    """

    paths: dict[str, str]
    shape: tuple[int, int]
    flip_lines: bool
    flip_pixels: bool

    def read(self, polarization: str, lines: slice, pixels: slice) -> NDArray[np.complex64]:
        n_l, n_p = self.shape
        l0, l1 = (
            (n_l - lines.stop, n_l - lines.start) if self.flip_lines else (lines.start, lines.stop)
        )
        p0, p1 = (
            (n_p - pixels.stop, n_p - pixels.start)
            if self.flip_pixels
            else (pixels.start, pixels.stop)
        )
        block = read_tiff_window(self.paths[polarization], (l0, l1), (p0, p1))
        return np.ascontiguousarray(
            block[:: -1 if self.flip_lines else 1, :: -1 if self.flip_pixels else 1]
        )


def complete_geolocation_grid(geo: pd.DataFrame, grid: RadarGrid, orbit: Orbit) -> pd.DataFrame:
    """Add the columns every sarbd stage reads from ``scene.product.geolocation_grid``.

    ``azimuth_time`` (UTC ``datetime64[ns]``) and, where the product does not give them,
    ``slant_range_time`` (two-way, s) from the grid at each tie point's line and pixel, and
    ``incidence_angle`` (deg): the angle at the tie point between the ellipsoid normal and
    the direction to the satellite at its line time (metadata only, e.g. the scene-centre
    incidence; geometry uses :mod:`sarbd.geometry`).
    """
    from sarbd.core.ellipsoid import llh_to_ecef

    out = geo.copy()
    lines = out["line"].to_numpy(dtype=np.float64)
    out["azimuth_time"] = grid.line_to_datetime(lines)
    if "slant_range_time" not in out:
        out["slant_range_time"] = (
            2.0 * grid.pixel_to_slant_range(out["pixel"].to_numpy()) / SPEED_OF_LIGHT
        )
    if "incidence_angle" not in out:
        lat, lon = np.radians(out["latitude"].to_numpy()), np.radians(out["longitude"].to_numpy())
        p = llh_to_ecef(
            out["latitude"].to_numpy(), out["longitude"].to_numpy(), out["height"].to_numpy()
        )
        sat = orbit.position(grid.line_to_azimuth_time(lines))
        up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
        look = sat - p
        cos_inc = np.sum(look * up, axis=1) / np.linalg.norm(look, axis=1)
        out["incidence_angle"] = np.degrees(np.arccos(np.clip(cos_inc, -1.0, 1.0)))
    return out


def _strip_namespaces(root: Any) -> Any:
    from lxml import etree

    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el).localname
    return root


def is_radarsat2(path: Path) -> bool:
    """True for a Radarsat-2 ``product.xml`` (or a folder holding one)."""
    p = path / "product.xml" if path.is_dir() else path
    if not p.is_file() or p.suffix.lower() != ".xml":
        return False
    with open(p, "rb") as f:
        head = f.read(4096)
    # the RS2 namespace, or (files without it, e.g. GDAL's test product) a <product> root
    # with RS2's top-level sections; RCM's product.xml is recognised to be refused clearly
    return (
        _NAMESPACE in head
        or _RCM_NAMESPACE in head
        or (
            b"<product" in head
            and b"<sourceAttributes>" in head
            and b"<imageGenerationParameters>" in head
        )
    )


def _ordering(root: Any, name: str, path: PathLike) -> str:
    el = root.find(f"imageAttributes/rasterAttributes/{name}")
    value = (el.text or "").strip().upper() if el is not None else "INCREASING"
    if value not in ("INCREASING", "DECREASING"):
        raise ProductError(
            f"element <{name}> must be Increasing or Decreasing, got {value!r}", path=path
        )
    return value


def read_rs2_lut(path: PathLike, width: int) -> tuple[float, NDArray[np.float64]]:
    """``(offset, gains)`` of one Radarsat-2 LUT XML; ``gains`` has one value per file pixel."""
    p = Path(path)
    if not p.is_file():
        raise InputError("the calibration LUT named in product.xml is missing", path=p)
    root = _strip_namespaces(parse_xml(p.read_bytes(), p))
    offset = float_at(root, "offset", p)
    gains = array_at(root, "gains", p)
    if gains.size != width:
        raise ProductError(f"LUT has {gains.size} gains for {width} pixels per line", path=p)
    if np.any(gains <= 0):
        raise ProductError("LUT gains must be positive", path=p)
    return offset, gains


def _orbit(root: Any, path: PathLike) -> Orbit:
    vectors = root.findall("sourceAttributes/orbitAndAttitude/orbitInformation/stateVector")
    if len(vectors) < 2:
        raise ProductError(
            f"product.xml has {len(vectors)} orbit state vectors (at least 2 needed)",
            path=path,
            hint="a complete Radarsat-2 product lists them under orbitAndAttitude/orbitInformation",
        )
    times = np.array([time_at(v, "timeStamp", path) for v in vectors])
    pos = np.array([[float_at(v, f"{a}Position", path) for a in "xyz"] for v in vectors])
    vel = np.array([[float_at(v, f"{a}Velocity", path) for a in "xyz"] for v in vectors])
    src = root.find("sourceAttributes/orbitAndAttitude/orbitInformation/orbitDataSource")
    source = (src.text or "").strip() if src is not None else "product"
    try:
        return Orbit(times, pos, vel, source=f"RS2 {source}".strip())
    except OrbitError as exc:
        raise OrbitError(f"orbit state vectors of product.xml: {exc.message}", path=path) from None


def _doppler_centroids(root: Any, path: PathLike) -> tuple[DopplerCentroid, ...]:
    """``imageGenerationParameters/dopplerCentroid`` elements (RN-RP-51-2713).

    Each: ``timeOfDopplerCentroidEstimate`` (UTC), ``dopplerCentroidReferenceTime`` (two-way
    slant-range time ``t0``, s) and ``dopplerCentroidCoefficients`` (Hz, Hz/s, ...) of
    ``f_dc = sum c_i (tau - t0)^i``. The data estimate only (``geometry_coefficients`` NaN).
    """
    out = []
    for el in root.findall("imageGenerationParameters/dopplerCentroid"):
        coef = array_at(el, "dopplerCentroidCoefficients", path)
        if coef.size == 0 or not np.all(np.isfinite(coef)):
            raise ProductError("dopplerCentroidCoefficients is empty or not finite", path=path)
        out.append(
            DopplerCentroid(
                time_at(el, "timeOfDopplerCentroidEstimate", path),
                float_at(el, "dopplerCentroidReferenceTime", path, positive=True),
                np.full(coef.size, np.nan),
                coef.astype(np.float64),
            )
        )
    return tuple(sorted(out, key=lambda d: d.azimuth_time))


def open_radarsat2(
    path: PathLike,
    *,
    polarizations: str | list[str] | tuple[str, ...] | None = None,
    orbit: Orbit | None = None,
    chunks: tuple[int, int] | None = None,
) -> Scene:
    """Open a Radarsat-2 SLC product (``product.xml`` or its folder) as a :class:`~sarbd.core.Scene`.

    Parameters
    ----------
    path
        ``product.xml`` or the product folder.
    polarizations
        Polarisations to keep (``"HH"``, ``["HH", "HV"]``); all by default.
    orbit
        ``None`` (the product's state vectors) or an :class:`~sarbd.core.Orbit`
        (e.g. a definitive orbit).
    chunks
        Default Dask chunk shape of :meth:`Scene.slc`.
    """
    try:
        return _open_radarsat2(Path(path), polarizations, orbit, chunks)
    except ProductError as exc:
        if exc.hint and "Sentinel-1" in exc.hint:  # the shared XML layer's default hint
            raise ProductError(
                exc.message, path=exc.path, hint="the file is not a complete Radarsat-2 product.xml"
            ) from None
        raise


def _open_radarsat2(
    p: Path,
    polarizations: str | list[str] | tuple[str, ...] | None,
    orbit: Orbit | None,
    chunks: tuple[int, int] | None,
) -> Scene:
    if orbit is not None and not isinstance(orbit, Orbit):
        raise InputError("orbit= for a Radarsat-2 product must be an Orbit object", path=p)
    if p.is_dir():
        p = p / "product.xml"
    if not p.is_file():
        raise InputError("no such Radarsat-2 product.xml", path=p)
    folder = p.parent
    if _RCM_NAMESPACE in p.read_bytes()[:4096]:
        raise InputError(
            "RADARSAT Constellation Mission (RCM) products are not read (only Radarsat-2)",
            path=p,
            hint="RCM's product.xml has a different layout; see docs/products.md",
        )
    root = _strip_namespaces(parse_xml(p.read_bytes(), p))
    if root.tag != "product":
        raise ProductError(f"root element is <{root.tag}>, not <product>", path=p)
    product_type = text_at(
        root, "imageGenerationParameters/generalProcessingInformation/productType", p
    ).upper()
    data_type = text_at(root, "imageAttributes/rasterAttributes/dataType", p).upper()
    if product_type != "SLC" or data_type != "COMPLEX":
        raise InputError(
            f"only Radarsat-2 SLC products are read (this one is {product_type}, {data_type} pixels)",
            path=p,
            hint="use an SLC product (detected SGF/SGX/SSG/SPG products have no phase)",
        )
    width = int_at(root, "imageAttributes/rasterAttributes/numberOfSamplesPerLine", p, minimum=1)
    length = int_at(root, "imageAttributes/rasterAttributes/numberOfLines", p, minimum=2)
    line_order = _ordering(root, "lineTimeOrdering", p)
    pixel_order = _ordering(root, "pixelTimeOrdering", p)
    sar = "imageGenerationParameters/sarProcessingInformation"
    t_first_file = time_at(root, f"{sar}/zeroDopplerTimeFirstLine", p)
    t_last_file = time_at(root, f"{sar}/zeroDopplerTimeLastLine", p)
    span = (t_last_file - t_first_file) / np.timedelta64(1, "ns") * 1e-9
    if line_order == "DECREASING":
        span = -span
    if span <= 0:
        raise ProductError(
            f"zeroDopplerTimeLastLine is not {'before' if line_order == 'DECREASING' else 'after'} "
            f"zeroDopplerTimeFirstLine although lineTimeOrdering is {line_order.title()}",
            path=p,
        )
    t_start = t_last_file if line_order == "DECREASING" else t_first_file
    near_range = float_at(root, f"{sar}/slantRangeNearEdge", p, positive=True)
    dr = float_at(root, "imageAttributes/rasterAttributes/sampledPixelSpacing", p, positive=True)
    radar = "sourceAttributes/radarParameters"
    fc = float_at(root, f"{radar}/radarCenterFrequency", p, positive=True)
    prf = float_at(root, f"{radar}/pulseRepetitionFrequency", p, positive=True)
    pointing = text_at(root, f"{radar}/antennaPointing", p).lower()
    if pointing not in ("right", "left"):
        raise ProductError(f"antennaPointing must be Right or Left, got {pointing!r}", path=p)
    epoch = t_start.astype("datetime64[s]").astype("datetime64[ns]")
    grid = RadarGrid(
        epoch,
        float((t_start - epoch) / np.timedelta64(1, "ns")) * 1e-9,
        span / (length - 1),
        near_range,
        dr,
        length,
        width,
        SPEED_OF_LIGHT / fc,
        "left" if pointing == "left" else "right",
    )

    images: dict[str, str] = {}
    for el in root.findall("imageAttributes/fullResolutionImageData"):
        pol = (el.get("pole") or "").strip().upper()
        if pol and el.text and el.text.strip():
            images[pol] = str((folder / el.text.strip()).resolve())
    if not images:
        raise ProductError("product.xml names no fullResolutionImageData", path=p)
    present = tuple(sorted(images, key=lambda x: _POL_ORDER.index(x) if x in _POL_ORDER else 9))
    wanted = present
    if polarizations is not None:
        wanted = tuple(
            x.upper()
            for x in ([polarizations] if isinstance(polarizations, str) else polarizations)
        )
        missing = [x for x in wanted if x not in present]
        if missing:
            raise InputError(
                f"polarisation {', '.join(missing)} is not in this product (it has "
                f"{', '.join(present)})",
                path=p,
                hint=f"choose from {', '.join(present)}",
            )
    for pol in wanted:
        if not Path(images[pol]).is_file():
            raise InputError(f"the {pol} imagery named in product.xml is missing", path=images[pol])

    flip_p = pixel_order == "DECREASING"
    luts: dict[str, str] = {}
    tables: dict[str, NDArray[np.float64]] = {}
    for el in root.findall("imageAttributes/lookupTable"):
        kind = _LUT_KINDS.get((el.get("incidenceAngleCorrection") or "").strip().lower())
        if kind and el.text and el.text.strip():
            luts[kind] = str(folder / el.text.strip())
            _offset, gains = read_rs2_lut(luts[kind], width)
            tables[kind] = gains[::-1] if flip_p else gains
    calibration: dict[str, CalibrationLut] = {}
    if {"sigma0", "beta0", "gamma0"} <= tables.keys():
        # RS2 LUTs are per range pixel and apply to every polarisation (RN-RP-51-2713 sec. 7.2)
        lines = np.array([0, length - 1], dtype=np.int64)
        t_lut = np.array([t_start, t_start + np.timedelta64(round(span * 1e9), "ns")])
        pix = np.vstack([np.arange(width, dtype=np.int64)] * 2)
        rows = {k: np.vstack([v, v]) for k, v in tables.items()}
        for pol in wanted:
            calibration[pol] = CalibrationLut(
                pol,
                t_lut,
                lines,
                pix,
                rows["sigma0"],
                rows["beta0"],
                rows["gamma0"],
                np.ones((2, width)),
                1.0,
            )

    flip_l = line_order == "DECREASING"
    tie = []
    for tp in root.findall("imageAttributes/geographicInformation/geolocationGrid/imageTiePoint"):
        line = float_at(tp, "imageCoordinate/line", p)
        pixel = float_at(tp, "imageCoordinate/pixel", p)
        tie.append(
            (
                (length - 1) - line if flip_l else line,
                (width - 1) - pixel if flip_p else pixel,
                float_at(tp, "geodeticCoordinate/latitude", p),
                float_at(tp, "geodeticCoordinate/longitude", p),
                optional_float_at(tp, "geodeticCoordinate/height", p) or 0.0,
            )
        )
    geo = pd.DataFrame(tie, columns=["line", "pixel", "latitude", "longitude", "height"])

    orb = orbit if orbit is not None else _orbit(root, p)
    t_end = grid.line_to_datetime(length - 1)[()]
    if not orb.covers(t_start, t_end):
        raise OrbitError(
            f"orbit ({orb.start_time} .. {orb.end_time}) does not cover the image "
            f"{t_start} .. {t_end}",
            path=p,
        )
    orb = orb.with_epoch(epoch)
    geo = complete_geolocation_grid(geo, grid, orb) if len(geo) else geo
    dopplers = _doppler_centroids(root, p)
    h_ref = float(np.median(geo["height"])) if len(geo) else 0.0
    fm_rates = tuple(
        geometric_fm_rate(dc.azimuth_time, dc.t0, grid, orb, h_ref)
        for dc in dopplers
        if orb.covers(dc.azimuth_time)
    )
    if len(fm_rates) != len(dopplers):  # the FM rate needs the orbit at the estimate's time
        raise OrbitError(
            "a dopplerCentroid estimate lies outside the orbit's state vectors", path=p
        )

    def txt(xpath: str, default: str = "") -> str:
        el = root.find(xpath)
        return (el.text or "").strip() if el is not None and el.text else default

    pass_dir = txt("sourceAttributes/orbitAndAttitude/orbitInformation/passDirection").upper()
    product = Radarsat2Product(
        path=str(p),
        product_id=txt("productId", folder.name),
        satellite=txt("sourceAttributes/satellite", "RADARSAT-2"),
        beam_mode=txt("sourceAttributes/beamModeMnemonic"),
        acquisition_type=txt(f"{radar}/acquisitionType"),
        product_type=product_type,
        software_version=txt(
            "imageGenerationParameters/generalProcessingInformation/softwareVersion"
        ),
        polarizations=wanted,
        pass_direction=pass_dir,
        orbit_data_source=orb.source,
        orbit_data_file=txt("sourceAttributes/orbitAndAttitude/orbitInformation/orbitDataFile"),
        line_time_ordering=line_order,
        pixel_time_ordering=pixel_order,
        zero_doppler_time_first_line=t_first_file,
        zero_doppler_time_last_line=t_last_file,
        slant_range_near_edge=near_range,
        radar_frequency=fc,
        prf=prf,
        incidence_near=optional_float_at(root, f"{sar}/incidenceAngleNearRange", p),
        incidence_far=optional_float_at(root, f"{sar}/incidenceAngleFarRange", p),
        sampled_line_spacing=float_at(
            root, "imageAttributes/rasterAttributes/sampledLineSpacing", p, positive=True
        ),
        geolocation_grid=geo,
        image_paths={k: images[k] for k in wanted},
        lut_paths=luts,
        calibration=calibration,
        doppler_centroids=dopplers,
        azimuth_fm_rates=fm_rates,
        slant_range_time=grid.starting_range_time,
        number_of_samples=width,
    )
    inc = [x for x in (product.incidence_near, product.incidence_far) if x is not None]
    meta: dict[str, Any] = {
        "mission": product.satellite,
        "platform": product.satellite,
        "instrument": "C-band SAR",
        "product_name": product.product_id,
        "product_type": product_type,
        "mode": product.beam_mode,
        "swath": product.beam_mode,
        "polarizations": list(wanted),
        "pass_direction": pass_dir,
        "absolute_orbit": None,
        "relative_orbit": None,
        "start_time": iso_time(t_start),
        "stop_time": iso_time(t_end),
        "radar_frequency": fc,
        "wavelength": grid.wavelength,
        "range_sampling_rate": grid.range_sampling_rate,
        "prf": prf,
        "azimuth_time_interval": grid.azimuth_time_interval,
        "slant_range_time": grid.starting_range_time,
        "range_pixel_spacing": dr,
        "azimuth_pixel_spacing": product.sampled_line_spacing,
        "incidence_angle_mid_swath": float(np.mean(inc)) if inc else None,
        "look_side": grid.look_side,
        "ipf_version": product.software_version,
        "orbit_source": orb.source,
        "source_path": str(p),
        "first_line": 0,
        "first_pixel": 0,
        "lines": length,
        "pixels": width,
        "line_time_ordering": line_order,
        "pixel_time_ordering": pixel_order,
    }
    source = FlippedTiffSource(product.image_paths, (length, width), flip_l, flip_p)
    return Scene(grid, orb, wanted, meta, source, product, chunks or DEFAULT_CHUNKS)


def tie_point_errors(scene: Scene) -> pd.DataFrame:
    """Horizontal and vertical distance between each tie point and sarbd's rdr2geo at its height.

    Each tie point's grid ``(line, pixel)`` is located with :func:`sarbd.rdr2geo` at the
    tie point's own ellipsoidal height (zero-Doppler); the result is compared with the
    tie point's latitude/longitude in ECEF. Returns the tie points with columns
    ``horizontal_error`` (m, along the local horizontal plane) and ``error_3d`` (m).
    """
    from sarbd.core.ellipsoid import llh_to_ecef
    from sarbd.geometry.solve import rdr2geo

    if not isinstance(scene.product, GeolocationGridProvider):
        raise InputError(
            "the product has no geolocation grid (tie points) to compare with",
            path=scene.metadata.get("source_path"),
        )
    geo = scene.product.geolocation_grid
    grid = scene.radar_grid
    t = grid.line_to_azimuth_time(geo["line"].to_numpy() - grid.first_line)
    r = (
        grid.starting_range
        + (geo["pixel"].to_numpy() - grid.first_pixel) * grid.range_pixel_spacing
    )
    h = geo["height"].to_numpy()
    lat, lon, hh = rdr2geo(t, r, scene.orbit, height=h, look_side=grid.look_side)
    a = llh_to_ecef(lat, lon, hh)
    b = llh_to_ecef(geo["latitude"].to_numpy(), geo["longitude"].to_numpy(), h)
    d = a - b
    la, lo = np.radians(geo["latitude"].to_numpy()), np.radians(geo["longitude"].to_numpy())
    up = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)
    vertical = np.sum(d * up, axis=1)
    out = geo.copy()
    out["error_3d"] = np.linalg.norm(d, axis=1)
    out["horizontal_error"] = np.sqrt(
        np.maximum(out["error_3d"].to_numpy() ** 2 - vertical**2, 0.0)
    )
    return out
