"""ISCE2 topsStack coregistered stacks (``merged/SLC`` + the reference's product XML).

Layout written by ISCE2's ``stackSentinel.py`` (isce-framework/isce2, ``contrib/stack/topsStack``)::

    STACK/
      reference/IW1.xml ...           the reference's TOPS product, one XML per swath
      secondarys/YYYYMMDD/IW1.xml ... each secondary's own product (its timing and orbit)
      merged/SLC/YYYYMMDD/YYYYMMDD.slc.full (+ .vrt, .xml)   every date on the reference grid

Product XML (ISCE ``Configurable`` dump): nested ``<component name=...>`` and
``<property name=...><value>...</value></property>``. Read per burst (``bursts/burst<k>``):
``sensingstart`` (UTC ``YYYY-MM-DD HH:MM:SS.ffffff``), ``azimuthtimeinterval`` (s),
``startingrange`` (m), ``rangepixelsize`` (m), ``radarwavelength`` (m); and the burst's
``orbit/state_vectors/state_vector<k>`` (``time``, ``position`` ``[x, y, z]`` m, ``velocity`` m/s,
ECEF). Names are matched as ISCE matches public names: without case, spaces or underscores.

The merged grid is ISCE2's ``mergeBursts`` one: first line at the earliest burst sensing start of
all swaths, first sample at the smallest starting range, the first burst's line interval and
pixel size; its size comes from the merged raster's ``.vrt`` (GDAL VRTRawRasterBand: ``rasterXSize``,
``rasterYSize``, ``dataType`` CFloat32/CInt16, ``ByteOrder``, ``ImageOffset``) or ISCE ``.xml``
image header (``width``, ``length``, ``data_type`` CFLOAT/CSHORT, ``byte_order``). TOPS is
right-looking. stripmapStack keeps its frame metadata in Python ``shelve`` pickles of ISCE objects,
which cannot be read without ISCE itself: it is refused with a clear error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from sarbd.core.chunks import DEFAULT_CHUNKS
from sarbd.core.orbit import Orbit
from sarbd.core.scene import Scene
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products.xml_values import parse_xml, to_time
from sarbd.stacks.base import ImportedStack, RawSource, make_grid, secondary_scene

__all__ = ["open_isce2_stack", "read_isce_product", "read_raster_header"]

_VRT_TYPES = {"CFloat32": "f4", "CInt16": "i2"}
_XML_TYPES = {"CFLOAT": "f4", "CSHORT": "i2"}


def _norm(name: str) -> str:
    """ISCE matches public names without case, spaces or underscores (``sensing start`` = ``sensingstart``)."""
    return re.sub(r"[\s_]", "", name).lower()


def _name(e: Any) -> str:
    return _norm(str(e.get("name", "")))


def _child(e: Any, tag: str, name: str) -> Any:
    for c in e.findall(tag):
        if _name(c) == _norm(name):
            return c
    return None


def _value(e: Any, name: str, path: Path, what: str) -> str:
    p = _child(e, "property", name)
    v = None if p is None else p.find("value")
    if v is None or not (v.text or "").strip():
        raise ProductError(f"{what} has no property {name!r}", path=path)
    return str(v.text).strip()


def _float(e: Any, name: str, path: Path, what: str) -> float:
    text = _value(e, name, path, what)
    try:
        x = float(text)
    except ValueError:
        raise ProductError(f"{what}: {name} is not a number: {text!r}", path=path) from None
    if not np.isfinite(x) or x <= 0:
        raise ProductError(f"{what}: {name} must be positive, got {x}", path=path)
    return x


def _vector(text: str, path: Path, what: str) -> list[float]:
    nums = re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", text)
    if len(nums) != 3:
        raise ProductError(f"{what} is not a 3-vector: {text!r}", path=path)
    return [float(x) for x in nums]


def _orbit(burst: Any, path: Path, what: str) -> Orbit:
    orbit = _child(burst, "component", "orbit")
    svs = None if orbit is None else _child(orbit, "component", "state_vectors")
    vectors = (
        []
        if svs is None
        else [c for c in svs.findall("component") if _name(c).startswith("statevector")]
    )
    if len(vectors) < 2:
        raise OrbitError(
            f"{what}: the orbit holds {len(vectors)} state vectors (2 or more needed)", path=path
        )
    t = [
        to_time(_value(v, "time", path, what).replace(" ", "T"), f"{what} state vector time", path)
        for v in vectors
    ]
    pos = [_vector(_value(v, "position", path, what), path, f"{what} position") for v in vectors]
    vel = [_vector(_value(v, "velocity", path, what), path, f"{what} velocity") for v in vectors]
    order = np.argsort(np.array(t, dtype="datetime64[ns]"))
    try:
        return Orbit(
            times=np.array(t, dtype="datetime64[ns]")[order],
            positions=np.array(pos)[order],
            velocities=np.array(vel)[order],
            source="isce2 product xml",
        )
    except OrbitError as exc:
        raise OrbitError(f"{what}: {exc.message}", path=path) from None


def read_isce_product(paths: list[Path]) -> dict[str, Any]:
    """The merged-grid timing (earliest burst start, smallest range, spacings) and orbit of swath XMLs."""
    bursts: list[tuple[np.datetime64, float, float, float, float, Path]] = []
    orbit: Orbit | None = None
    for path in paths:
        root = parse_xml(path.read_bytes(), path)
        inst = _child(root, "component", "instance")
        comp = _child(inst if inst is not None else root, "component", "bursts")
        items = (
            []
            if comp is None
            else [c for c in comp.findall("component") if _name(c).startswith("burst")]
        )
        if not items:
            raise ProductError(
                "no bursts/burst<k> components (not an ISCE2 TOPS product XML)", path=path
            )
        for b in items:
            what = f"burst {b.get('name')}"
            start = to_time(
                _value(b, "sensingstart", path, what).replace(" ", "T"),
                f"{what} sensingstart",
                path,
            )
            bursts.append(
                (
                    start,
                    _float(b, "startingrange", path, what),
                    _float(b, "rangepixelsize", path, what),
                    _float(b, "azimuthtimeinterval", path, what),
                    _float(b, "radarwavelength", path, what),
                    path,
                )
            )
            if orbit is None:
                orbit = _orbit(b, path, what)
    assert orbit is not None
    return {
        "start": min(b[0] for b in bursts),
        "starting_range": min(b[1] for b in bursts),
        "range_pixel_size": bursts[0][2],
        "azimuth_time_interval": bursts[0][3],
        "wavelength": bursts[0][4],
        "orbit": orbit,
    }


def read_raster_header(raster: Path) -> tuple[tuple[int, int], str, int]:
    """``((length, width), element dtype, header bytes)`` of an ISCE raster from its ``.vrt`` or ``.xml``."""
    vrt, xml = Path(f"{raster}.vrt"), Path(f"{raster}.xml")
    if vrt.exists():
        root = parse_xml(vrt.read_bytes(), vrt)
        band = root.find("VRTRasterBand")
        if band is None:
            raise ProductError("no VRTRasterBand", path=vrt)
        dtype = _VRT_TYPES.get(str(band.get("dataType")))
        if dtype is None:
            raise ProductError(
                f"dataType {band.get('dataType')!r} is not complex (CFloat32/CInt16)", path=vrt
            )
        order = "<" if (band.findtext("ByteOrder") or "LSB").strip().upper() == "LSB" else ">"
        try:
            shape = (int(root.get("rasterYSize")), int(root.get("rasterXSize")))
            offset = int(band.findtext("ImageOffset") or 0)
        except (TypeError, ValueError):
            raise ProductError(
                "rasterXSize/rasterYSize/ImageOffset are not integers", path=vrt
            ) from None
        return shape, order + dtype, offset
    if xml.exists():
        root = parse_xml(xml.read_bytes(), xml)
        try:
            shape = (
                int(_value(root, "length", xml, "image")),
                int(_value(root, "width", xml, "image")),
            )
        except ValueError:
            raise ProductError("width/length are not integers", path=xml) from None
        kind = _value(root, "data_type", xml, "image").upper()
        if kind not in _XML_TYPES:
            raise ProductError(f"data_type {kind!r} is not complex (CFLOAT/CSHORT)", path=xml)
        order = ">" if _value(root, "byte_order", xml, "image").lower().startswith("b") else "<"
        return shape, order + _XML_TYPES[kind], 0
    raise InputError("the raster has neither a .vrt nor an .xml header", path=raster)


def _slc(stack: Path, day: str) -> Path:
    for name in (f"{day}.slc.full", f"{day}.slc"):
        p = stack / "merged" / "SLC" / day / name
        if p.exists():
            return p
    raise InputError(f"no merged SLC for {day}", path=stack / "merged" / "SLC" / day)


def open_isce2_stack(
    path: str | os.PathLike[str],
    *,
    polarization: str | None = None,
    chunks: tuple[int, int] = DEFAULT_CHUNKS,
) -> ImportedStack:
    """Open an ISCE2 topsStack folder (``reference/``, ``secondarys/``, ``merged/SLC/``)."""
    stack = Path(path)
    if not (stack / "merged" / "SLC").is_dir():
        raise InputError(
            "an ISCE2 stack folder holds merged/SLC/YYYYMMDD/ (run the stack's merge step)",
            path=stack,
        )
    if (stack / "referenceShelve").exists() and not (stack / "reference").is_dir():
        raise InputError(
            "ISCE2 stripmapStack metadata are Python shelve pickles, which sarbd cannot read",
            path=stack / "referenceShelve",
            hint="export the stack to a format sarbd reads (e.g. SNAP BEAM-DIMAP), or use topsStack",
        )
    ref_xml = sorted((stack / "reference").glob("IW*.xml"))
    if not ref_xml:
        raise InputError(
            "no reference/IW*.xml (the reference's TOPS product)", path=stack / "reference"
        )
    info = read_isce_product(ref_xml)
    days = sorted(
        d.name
        for d in (stack / "merged" / "SLC").iterdir()
        if d.is_dir() and re.fullmatch(r"\d{8}", d.name)
    )
    ref_day = str(np.datetime64(info["start"], "D")).replace("-", "")
    if ref_day not in days:
        raise InputError(
            f"no merged SLC of the reference date {ref_day}", path=stack / "merged" / "SLC"
        )
    pol = (polarization or "VV").upper()

    def source(day: str) -> RawSource:
        raster = _slc(stack, day)
        shape, element, offset = read_raster_header(raster)
        src = RawSource({pol: (str(raster),)}, element, shape, offset)
        src.check()
        return src

    src = source(ref_day)
    g = make_grid(
        start=info["start"],
        azimuth_time_interval=info["azimuth_time_interval"],
        starting_range=info["starting_range"],
        range_pixel_spacing=info["range_pixel_size"],
        shape=src.shape,
        wavelength=info["wavelength"],
        look_side="right",
        path=ref_xml[0],
    )
    meta = {
        "mission": "Sentinel-1",
        "processor": "isce2 topsStack",
        "source_path": str(ref_xml[0]),
        "product_name": f"isce2 stack {stack.name}",
        "date": ref_day,
    }
    ref = Scene(
        radar_grid=g,
        orbit=info["orbit"],
        polarizations=(pol,),
        metadata=meta,
        pixels=src,
        chunks=chunks,
    )
    secondaries, notes = [], []
    for day in days:
        if day == ref_day:
            continue
        ssrc = source(day)
        if ssrc.shape != src.shape:
            raise ProductError(
                f"merged SLC of {day} is {ssrc.shape}, the reference's {src.shape}",
                path=_slc(stack, day),
            )
        sec_xml = sorted((stack / "secondarys" / day).glob("IW*.xml"))
        if sec_xml:
            sinfo = read_isce_product(sec_xml)
            secondaries.append(
                secondary_scene(
                    ref,
                    sensing_start=sinfo["start"],
                    orbit=sinfo["orbit"],
                    wavelength=sinfo["wavelength"],
                    pixels=ssrc,
                    metadata={"source_path": str(sec_xml[0]), "date": day},
                )
            )
        else:
            notes.append(f"{day}: no secondarys/{day}/IW*.xml; the reference orbit is used")
            secondaries.append(
                secondary_scene(
                    ref,
                    sensing_start=np.datetime64(f"{day[:4]}-{day[4:6]}-{day[6:]}", "ns")
                    + (info["start"] - np.datetime64(info["start"], "D")),
                    orbit=None,
                    pixels=ssrc,
                    metadata={"source_path": str(_slc(stack, day)), "date": day},
                )
            )
    return ImportedStack(ref, secondaries, "isce2", stack, notes)
