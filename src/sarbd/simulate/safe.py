"""Write a simulated acquisition as a Sentinel-1 Level-1 SLC SAFE product.

The layout and element names are those of real ESA products (S1-RS-MDA-52-7441,
sections 6 and 9, checked against the S1B IW SLC in
``../shared/data/s1_safe_metadata``): ``manifest.safe``; per swath and polarisation
an annotation XML, ``calibration/calibration-*.xml``, ``calibration/noise-*.xml`` and
a CInt16 ``measurement/*.tiff``. Stripmap-mode scenes are written as an SM product
(swath ``S3``, no bursts); TOPS scenes as IW2 with a burst list, burst-stacked
measurement lines, azimuth steering rate, Doppler-centroid and FM-rate polynomials.
Only what a reader needs is written, but everything that is written follows the
schema. All timestamps derive from the acquisition, so the same inputs give the
same bytes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree
from numpy.typing import NDArray

from sarbd.simulate import sensor as S

__all__ = ["SafeContent", "SafeWriter", "fm_rate_at", "tops_phase", "write_safe"]


def _t(t: np.datetime64) -> str:
    """ESA time format: ``YYYY-MM-DDTHH:MM:SS.ffffff``."""
    return str(np.datetime64(t, "us"))


def _fmt(v: float) -> str:
    return f"{v:.15e}"


def _list(values: NDArray[Any], fmt: str = "{:.6e}") -> str:
    return " ".join(fmt.format(v) for v in np.asarray(values).ravel())


def _sub(parent: Any, tag: str, text: Any = None, **attrs: str) -> Any:
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = (
            text
            if isinstance(text, str)
            else (_fmt(text) if isinstance(text, float) else str(text))
        )
    return el


@dataclass
class SafeContent:
    """Everything one SAFE needs (built by :mod:`sarbd.simulate.api`).

    ``shape`` is the ``(lines, samples)`` of each measurement TIFF, laid out as the
    TIFF is (bursts stacked for TOPS); the pixels are written by :class:`SafeWriter`. ``azimuth_times`` gives the UTC
    (datetime64) zero-Doppler time of every TIFF line; ``geolocation`` is a list of
    dicts with keys ``line, pixel, azimuth_time, slant_range_time, latitude,
    longitude, height, incidence, elevation``.
    """

    mission: str
    mode: str  # "SM" or "IW"
    swath: str  # "S3" or "IW2"
    pass_direction: str  # "Ascending" / "Descending"
    absolute_orbit: int
    relative_orbit: int
    data_take_id: int
    unique_id: str
    heading: float
    slant_range_time: float
    azimuth_time_interval: float
    azimuth_pixel_spacing: float
    incidence_mid: float
    first_line_time: np.datetime64
    last_line_time: np.datetime64
    anx_time: np.datetime64
    orbit_times: NDArray[np.datetime64]
    orbit_pos: NDArray[np.float64]
    orbit_vel: NDArray[np.float64]
    shape: tuple[int, int]
    sigma_lut: NDArray[np.float64]  # A_sigma at every 40th pixel (+ last)
    beta_lut: NDArray[np.float64]
    gamma_lut: NDArray[np.float64]
    lut_pixels: NDArray[np.int64]
    noise_lut: dict[str, NDArray[np.float64]]  # per pol, DN^2 at lut_pixels
    geolocation: list[dict[str, Any]]
    fm_rates: list[tuple[np.datetime64, float, NDArray[np.float64]]]
    dc_estimates: list[tuple[np.datetime64, float, NDArray[np.float64]]]
    terrain_height: float
    steering_rate: float
    lines_per_burst: int
    bursts: list[dict[str, Any]]  # azimuth_time, sensing_time, anx, first_valid, last_valid


def _name_parts(c: SafeContent) -> tuple[str, str, str]:
    start = np.datetime64(c.first_line_time, "s").astype(str).replace("-", "").replace(":", "")
    stop = np.datetime64(c.last_line_time, "s").astype(str).replace("-", "").replace(":", "")
    return start, stop, f"{c.data_take_id:06X}"


def product_name(c: SafeContent) -> str:
    """``S1A_IW_SLC__1SDV_<start>_<stop>_<orbit>_<datatake>_<id>`` (ESA naming convention)."""
    start, stop, dt = _name_parts(c)
    mode = c.mode if c.mode == "IW" else c.swath
    return f"{c.mission}_{mode}_SLC__1SDV_{start}_{stop}_{c.absolute_orbit:06d}_{dt}_{c.unique_id}"


def file_stem(c: SafeContent, pol: str) -> str:
    """``s1a-iw2-slc-vv-<start>-<stop>-<orbit>-<datatake>-<image>`` (lower case)."""
    start, stop, dt = _name_parts(c)
    pols = ["VH", "VV"]
    if c.mode == "IW":
        image = 3 * pols.index(pol) + int(c.swath[-1])
    else:
        image = pols.index(pol) + 1
    return (
        f"{c.mission.lower()}-{c.swath.lower()}-slc-{pol.lower()}-{start.lower()}-{stop.lower()}-"
        f"{c.absolute_orbit:06d}-{dt.lower()}-{image:03d}"
    )


def _ads_header(root: Any, c: SafeContent, pol: str) -> None:
    h = _sub(root, "adsHeader")
    _sub(h, "missionId", c.mission)
    _sub(h, "productType", "SLC")
    _sub(h, "polarisation", pol)
    _sub(h, "mode", c.mode)
    _sub(h, "swath", c.swath)
    _sub(h, "startTime", _t(c.first_line_time))
    _sub(h, "stopTime", _t(c.last_line_time))
    _sub(h, "absoluteOrbitNumber", str(c.absolute_orbit))
    _sub(h, "missionDataTakeId", str(c.data_take_id))
    _sub(h, "imageNumber", file_stem(c, pol)[-3:])


def annotation_xml(c: SafeContent, pol: str) -> bytes:
    """The product annotation of one polarisation."""
    lines, samples = c.shape
    root = etree.Element("product")
    _ads_header(root, c, pol)
    ga = _sub(root, "generalAnnotation")
    pi = _sub(ga, "productInformation")
    _sub(pi, "pass", c.pass_direction)
    _sub(pi, "timelinessCategory", "Fast-24h")
    _sub(pi, "platformHeading", c.heading)
    _sub(pi, "projection", "Slant Range")
    _sub(pi, "rangeSamplingRate", S.RANGE_SAMPLING_RATE)
    _sub(pi, "radarFrequency", S.RADAR_FREQUENCY)
    _sub(pi, "azimuthSteeringRate", c.steering_rate)
    dl = _sub(_sub(ga, "downlinkInformationList", count="1"), "downlinkInformation")
    _sub(dl, "swath", c.swath)
    _sub(dl, "azimuthTime", _t(c.first_line_time))
    _sub(dl, "firstLineSensingTime", _t(c.first_line_time))
    _sub(dl, "lastLineSensingTime", _t(c.last_line_time))
    _sub(dl, "prf", S.PRF)
    ol = _sub(ga, "orbitList", count=str(len(c.orbit_times)))
    for t, p, v in zip(c.orbit_times, c.orbit_pos, c.orbit_vel, strict=True):
        o = _sub(ol, "orbit")
        _sub(o, "time", _t(t))
        _sub(o, "frame", "Earth Fixed")
        pe = _sub(o, "position")
        ve = _sub(o, "velocity")
        for k, axis in enumerate("xyz"):
            _sub(pe, axis, float(p[k]))
        for k, axis in enumerate("xyz"):
            _sub(ve, axis, float(v[k]))
    th = _sub(ga, "terrainHeightList", count="1")
    te = _sub(th, "terrainHeight")
    _sub(te, "azimuthTime", _t(c.first_line_time))
    _sub(te, "value", float(c.terrain_height))
    fl = _sub(ga, "azimuthFmRateList", count=str(len(c.fm_rates)))
    for t, t0, coef in c.fm_rates:
        f = _sub(fl, "azimuthFmRate")
        _sub(f, "azimuthTime", _t(t))
        _sub(f, "t0", float(t0))
        _sub(f, "azimuthFmRatePolynomial", _list(coef, "{:.15e}"), count=str(len(coef)))

    ia = _sub(root, "imageAnnotation")
    ii = _sub(ia, "imageInformation")
    _sub(ii, "productFirstLineUtcTime", _t(c.first_line_time))
    _sub(ii, "productLastLineUtcTime", _t(c.last_line_time))
    _sub(ii, "ascendingNodeTime", _t(c.anx_time))
    _sub(ii, "anchorTime", _t(c.first_line_time))
    _sub(ii, "productComposition", "Individual")
    _sub(ii, "slantRangeTime", c.slant_range_time)
    _sub(ii, "pixelValue", "Complex")
    _sub(ii, "outputPixels", "16 bit Signed Integer")
    _sub(ii, "rangePixelSpacing", S.RANGE_PIXEL_SPACING)
    _sub(ii, "azimuthPixelSpacing", c.azimuth_pixel_spacing)
    _sub(ii, "azimuthTimeInterval", c.azimuth_time_interval)
    _sub(ii, "azimuthFrequency", 1.0 / c.azimuth_time_interval)
    _sub(ii, "numberOfSamples", str(samples))
    _sub(ii, "numberOfLines", str(lines))
    _sub(ii, "zeroDopMinusAcqTime", 0.0)
    _sub(ii, "incidenceAngleMidSwath", c.incidence_mid)
    pr = _sub(ia, "processingInformation")
    _sub(pr, "dcMethod", "Data Analysis")
    sp = _sub(_sub(pr, "swathProcParamsList", count="1"), "swathProcParams")
    _sub(sp, "swath", c.swath)
    for tag, wcoef, bw in (
        ("rangeProcessing", S.RANGE_WINDOW_COEFFICIENT, S.RANGE_BANDWIDTH),
        ("azimuthProcessing", S.AZIMUTH_WINDOW_COEFFICIENT, S.AZIMUTH_BANDWIDTH),
    ):
        e = _sub(sp, tag)
        _sub(e, "windowType", "Hamming")
        _sub(e, "windowCoefficient", wcoef)
        _sub(e, "totalBandwidth", bw)
        _sub(e, "processingBandwidth", bw)
        _sub(e, "lookBandwidth", bw)
        _sub(e, "numberOfLooks", "1")
        _sub(e, "lookOverlap", 0.0)
    _sub(pr, "ellipsoidName", "WGS84")
    _sub(pr, "ellipsoidSemiMajorAxis", 6378137.0)
    _sub(pr, "ellipsoidSemiMinorAxis", 6356752.314245)

    dc = _sub(root, "dopplerCentroid")
    dl2 = _sub(dc, "dcEstimateList", count=str(len(c.dc_estimates)))
    for t, t0, coef in c.dc_estimates:
        e = _sub(dl2, "dcEstimate")
        _sub(e, "azimuthTime", _t(t))
        _sub(e, "t0", float(t0))
        _sub(e, "geometryDcPolynomial", _list(coef), count=str(len(coef)))
        _sub(e, "dataDcPolynomial", _list(coef), count=str(len(coef)))
        _sub(e, "dataDcRmsError", 0.0)
        _sub(e, "dataDcRmsErrorAboveThreshold", "false")

    st = _sub(root, "swathTiming")
    _sub(st, "linesPerBurst", str(c.lines_per_burst))
    _sub(st, "samplesPerBurst", str(samples if c.lines_per_burst else 0))
    bl = _sub(st, "burstList", count=str(len(c.bursts)))
    row_bytes = 4 * samples
    for k, b in enumerate(c.bursts):
        e = _sub(bl, "burst")
        _sub(e, "azimuthTime", _t(b["azimuth_time"]))
        _sub(e, "azimuthAnxTime", float(b["anx"]))
        _sub(e, "sensingTime", _t(b["sensing_time"]))
        _sub(e, "byteOffset", str(int(b.get("byte_offset", k * c.lines_per_burst * row_bytes))))
        fv, lv = b["first_valid"], b["last_valid"]
        _sub(e, "firstValidSample", _list(fv, "{:d}"), count=str(len(fv)))
        _sub(e, "lastValidSample", _list(lv, "{:d}"), count=str(len(lv)))

    gg = _sub(
        _sub(root, "geolocationGrid"), "geolocationGridPointList", count=str(len(c.geolocation))
    )
    for g in c.geolocation:
        e = _sub(gg, "geolocationGridPoint")
        _sub(e, "azimuthTime", _t(g["azimuth_time"]))
        _sub(e, "slantRangeTime", float(g["slant_range_time"]))
        _sub(e, "line", str(int(g["line"])))
        _sub(e, "pixel", str(int(g["pixel"])))
        for key, tag in (
            ("latitude", "latitude"),
            ("longitude", "longitude"),
            ("height", "height"),
            ("incidence", "incidenceAngle"),
            ("elevation", "elevationAngle"),
        ):
            _sub(e, tag, float(g[key]))
    _sub(_sub(root, "coordinateConversion"), "coordinateConversionList", count="0")
    _sub(_sub(root, "swathMerging"), "swathMergeList", count="0")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _vector_lines(lines: int) -> NDArray[np.int64]:
    step = max(1, lines // 8)
    v = np.arange(0, lines, step)
    return np.unique(np.append(v, lines - 1))


def calibration_xml(c: SafeContent, pol: str, line_times: NDArray[np.datetime64]) -> bytes:
    """Calibration annotation: sigmaNought, betaNought, gamma and dn LUTs (constant in azimuth)."""
    root = etree.Element("calibration")
    _ads_header(root, c, pol)
    _sub(_sub(root, "calibrationInformation"), "absoluteCalibrationConstant", "1.000000e+00")
    vl = _vector_lines(len(line_times))
    lst = _sub(root, "calibrationVectorList", count=str(len(vl)))
    n = str(len(c.lut_pixels))
    for ln in vl:
        e = _sub(lst, "calibrationVector")
        _sub(e, "azimuthTime", _t(line_times[ln]))
        _sub(e, "line", str(int(ln)))
        _sub(e, "pixel", _list(c.lut_pixels, "{:d}"), count=n)
        _sub(e, "sigmaNought", _list(c.sigma_lut), count=n)
        _sub(e, "betaNought", _list(c.beta_lut), count=n)
        _sub(e, "gamma", _list(c.gamma_lut), count=n)
        _sub(e, "dn", _list(c.beta_lut * (2.007929e2 / S.BETA_NOUGHT)), count=n)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def noise_xml(c: SafeContent, pol: str, line_times: NDArray[np.datetime64]) -> bytes:
    """Noise annotation (IPF >= 2.9 layout): range vectors and one azimuth vector of ones."""
    lines, samples = c.shape
    root = etree.Element("noise")
    _ads_header(root, c, pol)
    vl = _vector_lines(lines)
    lst = _sub(root, "noiseRangeVectorList", count=str(len(vl)))
    n = str(len(c.lut_pixels))
    for ln in vl:
        e = _sub(lst, "noiseRangeVector")
        _sub(e, "azimuthTime", _t(line_times[ln]))
        _sub(e, "line", str(int(ln)))
        _sub(e, "pixel", _list(c.lut_pixels, "{:d}"), count=n)
        _sub(e, "noiseRangeLut", _list(c.noise_lut[pol]), count=n)
    al = _sub(root, "noiseAzimuthVectorList", count="1")
    e = _sub(al, "noiseAzimuthVector")
    _sub(e, "swath", c.swath)
    _sub(e, "firstAzimuthLine", "0")
    _sub(e, "firstRangeSample", "0")
    _sub(e, "lastAzimuthLine", str(lines - 1))
    _sub(e, "lastRangeSample", str(samples - 1))
    az_lines = _vector_lines(lines)
    _sub(e, "line", _list(az_lines, "{:d}"), count=str(len(az_lines)))
    _sub(e, "noiseAzimuthLut", _list(np.ones(len(az_lines))), count=str(len(az_lines)))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def quantize(data: NDArray[np.complex128]) -> tuple[NDArray[np.complex64], int]:
    """Round to CInt16 (components clipped to +-32767); returns the values and the clip count."""
    re = np.rint(data.real)
    im = np.rint(data.imag)
    clipped = int(np.count_nonzero((np.abs(re) > 32767) | (np.abs(im) > 32767)))
    re = np.clip(re, -32767, 32767)
    im = np.clip(im, -32767, 32767)
    return (re + 1j * im).astype(np.complex64), clipped


def manifest_xml(
    c: SafeContent,
    files: dict[str, bytes | str | None],
    sizes: dict[str, int],
    footprint: list[tuple[float, float]],
) -> bytes:
    """``manifest.safe``: XFDU with the metadata the readers use and every file with its MD5."""
    ns = {
        "xfdu": "urn:ccsds:schema:xfdu:1",
        "safe": "http://www.esa.int/safe/sentinel-1.0",
        "s1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1",
        "s1sarl1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1",
        "gml": "http://www.opengis.net/gml",
    }
    X, SF, S1, L1 = (f"{{{ns[k]}}}" for k in ("xfdu", "safe", "s1", "s1sarl1"))
    root = etree.Element(
        X + "XFDU",
        nsmap=ns,
        version="esa/safe/sentinel-1.0/sentinel-1/sar/level-1/slc/standard/iwdp",
    )
    ipm = _sub(root, "informationPackageMap")
    top = _sub(
        ipm,
        X + "contentUnit",
        unitType="SAFE Archive Information Package",
        textInfo=f"Sentinel-1 {c.mode} Level-1 SLC Product",
        dmdID="acquisitionPeriod platform generalProductInformation measurementOrbitReference measurementFrameSet",
        pdiID="processing",
    )
    ids: dict[str, str] = {}
    reps: dict[str, str] = {}
    for rel in files:
        ident = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", "")
        kind = (
            "noise"
            if "/noise-" in rel
            else "calibration"
            if "/calibration-" in rel
            else "product"
            if rel.startswith("annotation/")
            else ""
        )
        ids[rel] = kind + ident
        rep = {
            "noise": "s1Level1NoiseSchema",
            "calibration": "s1Level1CalibrationSchema",
            "product": "s1Level1ProductSchema",
            "": "s1Level1MeasurementSchema",
        }[kind]
        reps[rel] = rep
        unit = "Measurement Data Unit" if kind == "" else "Metadata Unit"
        cu = _sub(top, X + "contentUnit", unitType=unit, repID=rep)
        _sub(cu, "dataObjectPointer", dataObjectID=ids[rel])
    ms = _sub(root, "metadataSection")

    def wrap(
        ident: str, text: str, category: str = "DMD", classification: str = "DESCRIPTION"
    ) -> Any:
        mo = _sub(ms, "metadataObject", ID=ident, classification=classification, category=category)
        mw = _sub(mo, "metadataWrap", mimeType="text/xml", vocabularyName="SAFE", textInfo=text)
        return _sub(mw, "xmlData")

    first = np.datetime64(c.first_line_time, "s")
    proc = _sub(
        wrap("processing", "Processing", "PDI", "PROVENANCE"),
        SF + "processing",
        name="SLC Post Processing",
        start=_t(first + np.timedelta64(3600, "s")),
        stop=_t(first + np.timedelta64(3900, "s")),
    )
    fac = _sub(
        proc,
        SF + "facility",
        country="Netherlands",
        name="sarbd simulator",
        organisation="sarbd",
        site="simulated",
    )
    _sub(fac, SF + "software", name="Sentinel-1 IPF", version="003.52")
    plat = _sub(wrap("platform", "Platform Description"), SF + "platform")
    _sub(plat, SF + "nssdcIdentifier", "2014-016A")
    _sub(plat, SF + "familyName", "SENTINEL-1")
    _sub(plat, SF + "number", c.mission[-1])
    ins = _sub(plat, SF + "instrument")
    _sub(ins, SF + "familyName", "Synthetic Aperture Radar", abbreviation="SAR")
    im = _sub(_sub(ins, SF + "extension"), L1 + "instrumentMode")
    _sub(im, L1 + "mode", c.mode)
    _sub(im, L1 + "swath", c.swath)
    orb = _sub(wrap("measurementOrbitReference", "Orbit Reference"), SF + "orbitReference")
    _sub(orb, SF + "orbitNumber", str(c.absolute_orbit), type="start")
    _sub(orb, SF + "orbitNumber", str(c.absolute_orbit), type="stop")
    _sub(orb, SF + "relativeOrbitNumber", str(c.relative_orbit), type="start")
    _sub(orb, SF + "relativeOrbitNumber", str(c.relative_orbit), type="stop")
    _sub(orb, SF + "cycleNumber", str((c.absolute_orbit - 73) // 175 + 1))
    _sub(orb, SF + "phaseIdentifier", "1")
    op = _sub(_sub(orb, SF + "extension"), S1 + "orbitProperties")
    _sub(op, S1 + "pass", c.pass_direction.upper())
    _sub(op, S1 + "ascendingNodeTime", _t(c.anx_time))
    gpi = _sub(
        wrap("generalProductInformation", "General Product Information"),
        L1 + "standAloneProductInformation",
    )
    _sub(gpi, L1 + "instrumentConfigurationID", "7")
    _sub(gpi, L1 + "missionDataTakeID", str(c.data_take_id))
    for p in ("VV", "VH"):
        _sub(gpi, L1 + "transmitterReceiverPolarisation", p)
    _sub(gpi, L1 + "productClass", "S")
    _sub(gpi, L1 + "productClassDescription", "SAR Standard L1 Product")
    _sub(gpi, L1 + "productComposition", "Individual")
    _sub(gpi, L1 + "productType", "SLC")
    _sub(gpi, L1 + "productTimelinessCategory", "Fast-24h")
    ap = _sub(wrap("acquisitionPeriod", "Acquisition Period"), SF + "acquisitionPeriod")
    _sub(ap, SF + "startTime", _t(c.first_line_time))
    _sub(ap, SF + "stopTime", _t(c.last_line_time))
    fs = _sub(_sub(wrap("measurementFrameSet", "Frame Set"), SF + "frameSet"), SF + "frame")
    fp = _sub(fs, SF + "footPrint", srsName="http://www.opengis.net/gml/srs/epsg.xml#4326")
    _sub(
        fp,
        "{http://www.opengis.net/gml}coordinates",
        " ".join(f"{la:.6f},{lo:.6f}" for la, lo in footprint),
    )
    dos = _sub(root, "dataObjectSection")
    for rel, content in files.items():
        do = _sub(dos, "dataObject", ID=ids[rel], repID=reps[rel])
        bs = _sub(
            do,
            "byteStream",
            mimeType="text/xml" if rel.endswith(".xml") else "application/octet-stream",
            size=str(sizes[rel]),
        )
        _sub(bs, "fileLocation", locatorType="URL", href=f"./{rel}")
        md5 = (
            content
            if isinstance(content, str)
            else hashlib.md5(content).hexdigest()
            if content is not None
            else ""
        )
        _sub(bs, "checksum", md5, checksumName="MD5")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _tiff_profile(c: SafeContent) -> dict[str, Any]:
    from rasterio.crs import CRS

    lines, samples = c.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": samples,
        "height": lines,
        "count": 1,
        "dtype": "complex_int16",
        "blockysize": 1,
        "interleave": "band",
        "compress": "none",
    }
    gcps = _gcps(c)
    if gcps:  # given at creation, so GDAL never sees a raster without georeferencing
        profile.update(gcps=gcps, crs=CRS.from_epsg(4326))
    return profile


def _quiet() -> Any:
    """Silence rasterio's NotGeoreferencedWarning (a TIFF without GCPs is in radar geometry, on purpose)."""
    import contextlib
    import warnings

    import rasterio

    @contextlib.contextmanager
    def quiet() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            yield

    return quiet()


def _md5(path: Path, block: int = 1 << 24) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


class SafeWriter:
    """Write ``<folder>/<product name>.SAFE`` atomically, the measurement lines as they come.

    A context manager: on entry the temporary folder and both measurement TIFFs are
    opened; :meth:`write_lines` writes a block of TIFF lines of one polarisation (in
    any order; uncompressed strips of one line, as ESA writes them); on a clean exit
    the TIFFs are closed, their MD5 streamed, the annotation, calibration, noise and
    manifest written and the folder renamed into place; on an error nothing is left.
    Memory stays that of one block, whatever the product size.
    """

    def __init__(
        self,
        folder: Path,
        c: SafeContent,
        line_times: NDArray[np.datetime64],
        footprint: list[tuple[float, float]],
    ) -> None:
        self.content = c
        self.line_times = line_times
        self.footprint = footprint
        self.target = Path(folder) / (product_name(c) + ".SAFE")
        self._stack: Any = None
        self._tmp: Path | None = None
        self._tiffs: dict[str, Any] = {}
        self._pending: dict[str, dict[int, NDArray[np.complex64]]] = {}
        self._next: dict[str, int] = {}

    def __enter__(self) -> SafeWriter:
        import contextlib

        import rasterio

        from sarbd.utils.files import atomic_output

        stack = contextlib.ExitStack()
        try:
            self._tmp = stack.enter_context(atomic_output(self.target, directory=True))
            (self._tmp / "annotation" / "calibration").mkdir(parents=True)
            (self._tmp / "measurement").mkdir()
            profile = _tiff_profile(self.content)
            stack.enter_context(rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False))
            for pol in ("VH", "VV"):
                rel = f"measurement/{file_stem(self.content, pol)}.tiff"
                with _quiet():
                    ds = rasterio.open(self._tmp / rel, "w", **profile)
                self._tiffs[pol] = stack.enter_context(ds)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def write_lines(self, pol: str, first: int, data: NDArray[np.complex64]) -> None:
        """Write ``data`` (``(lines, samples)``, DN already quantised) at TIFF line ``first``.

        Blocks may come in any order (TOPS bursts overlap, so a burst's first lines are final
        before the previous burst's last ones); they are written in line order, a block that
        comes early waiting for the lines before it, so the file's bytes do not depend on
        the blocking.
        """
        from rasterio.windows import Window

        pending = self._pending.setdefault(pol, {})
        pending[int(first)] = np.asarray(data, np.complex64)
        nxt = self._next.get(pol, 0)
        while nxt in pending:
            block = pending.pop(nxt)
            n, w = block.shape
            with _quiet():
                self._tiffs[pol].write(block, 1, window=Window(0, nxt, w, n))
            nxt += n
        self._next[pol] = nxt

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        stack, self._stack = self._stack, None
        if exc_type is not None:
            stack.__exit__(exc_type, exc, tb)
            return
        try:
            lines = self.content.shape[0]
            if any(
                self._next.get(pol, 0) != lines or self._pending.get(pol) for pol in self._tiffs
            ):
                raise RuntimeError(
                    f"{self.target.name}: measurement lines missing (written up to "
                    f"{dict(self._next)} of {lines})"
                )
            with _quiet():
                for ds in self._tiffs.values():
                    ds.close()
            self._finish()
        except BaseException as err:
            stack.__exit__(type(err), err, err.__traceback__)
            raise
        stack.__exit__(None, None, None)

    def _finish(self) -> None:
        c, tmp = self.content, self._tmp
        assert tmp is not None
        files: dict[str, bytes | str | None] = {}
        sizes: dict[str, int] = {}
        for pol in ("VH", "VV"):
            stem = file_stem(c, pol)
            for rel, content in (
                (f"annotation/{stem}.xml", annotation_xml(c, pol)),
                (
                    f"annotation/calibration/calibration-{stem}.xml",
                    calibration_xml(c, pol, self.line_times),
                ),
                (f"annotation/calibration/noise-{stem}.xml", noise_xml(c, pol, self.line_times)),
            ):
                (tmp / rel).write_bytes(content)
                files[rel] = content
                sizes[rel] = len(content)
            rel = f"measurement/{stem}.tiff"
            files[rel] = _md5(tmp / rel)
            sizes[rel] = (tmp / rel).stat().st_size
        (tmp / "manifest.safe").write_bytes(manifest_xml(c, files, sizes, self.footprint))


def write_safe(
    folder: Path,
    c: SafeContent,
    line_times: NDArray[np.datetime64],
    footprint: list[tuple[float, float]],
    data: dict[str, NDArray[np.complex64]],
) -> Path:
    """Write the SAFE folder ``<folder>/<product name>.SAFE`` of pixels held in memory
    (``{pol: (lines, samples)}``, quantised DN); returns its path."""
    with SafeWriter(folder, c, line_times, footprint) as w:
        for pol, values in data.items():
            w.write_lines(pol, 0, values)
    return w.target


def _gcps(c: SafeContent) -> list[Any]:
    from rasterio.control import GroundControlPoint

    return [
        GroundControlPoint(
            row=float(g["line"]),
            col=float(g["pixel"]),
            x=float(g["longitude"]),
            y=float(g["latitude"]),
            z=float(g["height"]),
        )
        for g in c.geolocation
    ]


def fm_rate_at(
    coef: NDArray[np.float64], t0: float, tau: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Azimuth FM rate ``k_a(tau) = sum c_i (tau - t0)^i`` (Hz/s)."""
    return np.asarray(np.polynomial.polynomial.polyval(np.asarray(tau) - t0, coef))


def tops_phase(
    eta: NDArray[np.float64],
    tau: NDArray[np.float64],
    *,
    fm_coef: NDArray[np.float64],
    fm_t0: float,
    dc_coef: NDArray[np.float64],
    dc_t0: float,
    steering_rate_deg: float,
    speed: float,
    tau_mid: float,
) -> NDArray[np.float64]:
    """TOPS deramping phase ``phi(eta, tau)`` (rad) of one burst.

    ``eta`` is the azimuth time relative to the burst centre (s), ``tau`` the two-way
    slant-range time (s). ESA, *Definition of the TOPS SLC deramping function for
    products generated by the S-1 IPF* (COPE-GSEG-EOPG-TN-14-0025); methods-and-standards.md §4:

        k_s = 2 v / lambda * k_psi,  k_t = k_a k_s / (k_a - k_s),
        eta_ref = -f_dc / k_a + f_dc(tau_mid) / k_a(tau_mid),
        phi = pi k_t (eta - eta_ref)^2 + 2 pi f_dc (eta - eta_ref).
    """
    ka = fm_rate_at(fm_coef, fm_t0, tau)
    ks = 2.0 * speed / S.WAVELENGTH * math.radians(steering_rate_deg)
    kt = ka * ks / (ka - ks)
    fdc = np.polynomial.polynomial.polyval(np.asarray(tau) - dc_t0, dc_coef)
    ka_mid = fm_rate_at(fm_coef, fm_t0, np.asarray(tau_mid))
    fdc_mid = np.polynomial.polynomial.polyval(tau_mid - dc_t0, dc_coef)
    eta_ref = -fdc / ka + fdc_mid / ka_mid
    d = np.asarray(eta) - eta_ref
    return np.asarray(np.pi * kt * d * d + 2.0 * np.pi * fdc * d)
