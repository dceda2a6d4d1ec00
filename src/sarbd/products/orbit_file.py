"""Sentinel-1 orbit files (Earth Explorer ``.EOF``: AUX_POEORB precise, AUX_RESORB restituted).

File layout: ESA, *Sentinel-1 POD File Format Specification*
(S1-RS-MDA-52-7443, and the Earth Explorer File Format Standard PE-TN-ESA-GS-0001):
``Earth_Explorer_Header/Fixed_Header`` (mission, file type, validity period) and
``Data_Block/List_of_OSVs/OSV`` with ``UTC=...`` times and ECEF (``EARTH_FIXED``)
position/velocity in m and m/s.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sarbd.core.orbit import Orbit
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products.xml_values import parse_xml, to_float, to_time

__all__ = ["OrbitFileInfo", "find_orbit_file", "orbit_file_info", "read_eof"]

PathLike = str | os.PathLike[str]

#: ``S1A_OPER_AUX_POEORB_OPOD_<created>_V<start>_<stop>.EOF``
_NAME = re.compile(
    r"(?P<mission>S1[A-D])_OPER_AUX_(?P<kind>POEORB|RESORB)_OPOD_(?P<created>\d{8}T\d{6})_"
    r"V(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})(\.EOF)?$",
    re.IGNORECASE,
)


def _compact_time(text: str) -> np.datetime64:
    return np.datetime64(
        f"{text[0:4]}-{text[4:6]}-{text[6:8]}T{text[9:11]}:{text[11:13]}:{text[13:15]}", "ns"
    )


@dataclass(frozen=True)
class OrbitFileInfo:
    """What an orbit file's name says: mission, kind (POEORB/RESORB), creation and validity times."""

    path: Path
    mission: str
    kind: str
    created: np.datetime64
    validity_start: np.datetime64
    validity_stop: np.datetime64


def orbit_file_info(path: PathLike) -> OrbitFileInfo | None:
    """Parse an orbit file name; ``None`` if it is not an ESA orbit file name."""
    p = Path(path)
    m = _NAME.match(p.name)
    if m is None:
        return None
    return OrbitFileInfo(
        p,
        m["mission"].upper(),
        m["kind"].upper(),
        _compact_time(m["created"]),
        _compact_time(m["start"]),
        _compact_time(m["stop"]),
    )


def _utc(text: str | None, path: PathLike) -> np.datetime64:
    if not text or "=" not in text:
        raise ProductError(f"malformed orbit time {text!r}", path=path)
    return to_time(text.split("=", 1)[1], "OSV/UTC", path)


def read_eof(path: PathLike) -> Orbit:
    """Read an ESA orbit file (AUX_POEORB or AUX_RESORB) into an :class:`~sarbd.core.Orbit`.

    The orbit's ``source`` is the file type, ``"POEORB"`` or ``"RESORB"``.

    Raises
    ------
    InputError
        If the path does not exist or is a folder.
    ProductError
        If the file is not a valid orbit file.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(
            "is a folder, an orbit file (.EOF) was expected",
            path=p,
            hint="give the file, or pass the folder as orbit= to open_product",
        )
    if not p.is_file():
        raise InputError("orbit file not found", path=p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the orbit file ({exc.strerror})", path=p) from None
    root = parse_xml(data, p)
    file_type = (root.findtext(".//Fixed_Header/File_Type") or "").strip()
    kind = file_type.replace("AUX_", "") if file_type else ""
    if kind not in ("POEORB", "RESORB"):
        info = orbit_file_info(p)
        kind = info.kind if info is not None else (kind or "unknown")
    frame = (root.findtext(".//Variable_Header/Ref_Frame") or "EARTH_FIXED").strip()
    if frame != "EARTH_FIXED":
        raise ProductError(f"orbit reference frame is {frame}, EARTH_FIXED was expected", path=p)
    osvs = root.findall(".//Data_Block/List_of_OSVs/OSV")
    if len(osvs) < 2:
        raise ProductError(f"orbit file holds {len(osvs)} state vectors", path=p)
    times = np.array([_utc(o.findtext("UTC"), p) for o in osvs], dtype="datetime64[ns]")
    pos = np.array(
        [[to_float(o.findtext(k) or "", f"OSV/{k}", p) for k in ("X", "Y", "Z")] for o in osvs]
    )
    vel = np.array(
        [[to_float(o.findtext(k) or "", f"OSV/{k}", p) for k in ("VX", "VY", "VZ")] for o in osvs]
    )
    _, keep = np.unique(times, return_index=True)
    try:
        return Orbit(times[keep], pos[keep], vel[keep], source=kind)
    except OrbitError as exc:
        raise OrbitError(exc.message, path=p) from None


def find_orbit_file(
    folder: PathLike,
    start: np.datetime64 | str,
    stop: np.datetime64 | str,
    mission: str,
    *,
    margin_s: float = 60.0,
) -> Path:
    """Pick the orbit file of ``folder`` that covers ``start..stop`` for ``mission``.

    Precise (POEORB) files are preferred over restituted (RESORB) ones; among files of
    the same kind the most recently created wins. Coverage is judged from the
    validity period in the file name, widened by ``margin_s`` seconds on each side of
    the acquisition (the interpolator needs state vectors around it).

    Raises
    ------
    OrbitError
        If no file in the folder covers the acquisition.
    """
    d = Path(folder)
    if not d.is_dir():
        raise InputError("orbit folder not found", path=d)
    t0 = np.datetime64(start, "ns") - np.timedelta64(int(margin_s * 1e9), "ns")
    t1 = np.datetime64(stop, "ns") + np.timedelta64(int(margin_s * 1e9), "ns")
    candidates = []
    for f in d.iterdir():
        info = orbit_file_info(f)
        if info is None or not f.is_file() or info.mission != mission.upper():
            continue
        if info.validity_start <= t0 and info.validity_stop >= t1:
            candidates.append(info)
    if not candidates:
        raise OrbitError(
            f"no {mission.upper()} orbit file covers {np.datetime64(start, 's')} .. {np.datetime64(stop, 's')}",
            path=d,
            hint="download the POEORB or RESORB file for this date into the folder",
        )
    candidates.sort(key=lambda i: (i.kind == "POEORB", i.created), reverse=True)
    return candidates[0].path
