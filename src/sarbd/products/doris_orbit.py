"""DORIS orbit files for Envisat (and ERS in Envisat format): ``DOR_VOR_AX`` precise, ``DOR_POR_AX`` preliminary.

Layout (ESA, *Readme file for Envisat DORIS POD* ch. 2, and *Envisat-1 Products
Specifications* PO-RS-MDA-GS-2009 vol. 5; field widths as in ST&C's CODA definition
``ENVISAT_AUX/Orbit_Vectors_MDSR``):

* a Main Product Header of 1247 bytes (:mod:`sarbd.products.envisat_format`);
* a Specific Product Header of 378 bytes: ``SPH_DESCRIPTOR``, a spare line and one
  data-set descriptor, ``DS_NAME="DORIS PRECISE ORBIT"`` (``DOR_VOR``) or ``"DORIS
  PRELIMINARY ORBIT"`` (``DOR_POR``), ``DS_TYPE=M``, with ``NUM_DSR`` records of
  ``DSR_SIZE=129`` bytes (Envisat: 1589 records, one a minute over 26 h 28 min);
* each record is ASCII::

      UTC time (27)  delta UT1 (8, s)  absolute orbit (6)  x y z (3 x 12, m)
      vx vy vz (3 x 12, m/s)  quality flags (6)  newline

  fields separated by one blank; positions and velocities are Earth-fixed (ITRF), UTC.

File names: ``DOR_VOR_AXVF-P<created>_<validity start>_<validity stop>`` (61 characters,
times ``YYYYMMDD_hhmmss``); the ERS files of the REAPER reprocessing carry one more
``_hhmmss`` before the validity stop (68 characters).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sarbd.core.orbit import Orbit
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products.envisat_format import ascii_time, sph_descriptors

__all__ = [
    "DorisOrbitInfo",
    "doris_orbit_info",
    "find_doris_orbit",
    "read_doris_orbit",
    "read_doris_records",
    "resolve_doris_orbit",
]

PathLike = str | os.PathLike[str]

#: Record size of the orbit-vector MDS (bytes, newline included).
DSR_SIZE = 129
_DS_NAMES = {"DORIS PRECISE ORBIT": "VOR", "DORIS PRELIMINARY ORBIT": "POR"}
_NAME = re.compile(
    r"DOR_(?P<kind>VOR|POR)_AX(?P<stage>.)(?P<origin>.{3})(?P<created>\d{8}_\d{6})_"
    r"(?P<start>\d{8}_\d{6})_(?:\d{6}_)?(?P<stop>\d{8}_\d{6})$"
)
_COLUMNS = ["time", "delta_ut1", "absolute_orbit", "x", "y", "z", "vx", "vy", "vz", "quality"]


@dataclass(frozen=True)
class DorisOrbitInfo:
    """What a DORIS orbit file name says: kind (``VOR`` precise, ``POR`` preliminary), times."""

    path: Path
    kind: str
    created: np.datetime64
    validity_start: np.datetime64
    validity_stop: np.datetime64


def _compact(text: str) -> np.datetime64:
    return np.datetime64(
        f"{text[0:4]}-{text[4:6]}-{text[6:8]}T{text[9:11]}:{text[11:13]}:{text[13:15]}", "ns"
    )


def doris_orbit_info(path: PathLike) -> DorisOrbitInfo | None:
    """Parse a DORIS orbit file name; ``None`` if it is not one."""
    p = Path(path)
    m = _NAME.match(p.name)
    if m is None:
        return None
    try:
        return DorisOrbitInfo(
            p, m["kind"], _compact(m["created"]), _compact(m["start"]), _compact(m["stop"])
        )
    except ValueError:
        return None


def read_doris_records(path: PathLike) -> tuple[str, pd.DataFrame]:
    """All state-vector records of a DORIS orbit file.

    Returns
    -------
    kind, records
        ``"VOR"`` (precise) or ``"POR"`` (preliminary), from the data set's name; a
        DataFrame with columns ``time`` (UTC, datetime64[ns]), ``delta_ut1`` (s),
        ``absolute_orbit``, ``x``, ``y``, ``z`` (m), ``vx``, ``vy``, ``vz`` (m/s),
        ``quality`` (the 6-character flags, as written).

    Raises
    ------
    ProductError
        A file that is not a DORIS orbit file, a truncated file, or a record that does
        not parse (its number is named).
    """
    p = Path(path)
    if p.is_dir():
        raise InputError("expected a DORIS orbit file, got a folder", path=p)
    mph, dsds = sph_descriptors(p)
    product = mph.get("PRODUCT", "")
    if not product.startswith(("DOR_VOR_AX", "DOR_POR_AX")):
        raise ProductError(
            f"not a DORIS orbit file (DOR_VOR_AX / DOR_POR_AX): its product is {product!r}",
            path=p,
        )
    names = [n for n in dsds if n in _DS_NAMES]
    if not names:
        raise ProductError(
            f"no DORIS orbit data set (data sets: {', '.join(dsds) or 'none'})", path=p
        )
    dsd = dsds[names[0]]
    if dsd["dsr_size"] != DSR_SIZE or dsd["num_dsr"] < 2:
        raise ProductError(
            f"the orbit data set has {dsd['num_dsr']} records of {dsd['dsr_size']} bytes "
            f"(expected records of {DSR_SIZE})",
            path=p,
        )
    n = dsd["num_dsr"]
    with open(p, "rb") as f:
        f.seek(dsd["offset"])
        blob = f.read(n * DSR_SIZE)
    if len(blob) != n * DSR_SIZE:
        raise ProductError(
            f"the orbit data set is truncated ({len(blob)} of {n * DSR_SIZE} bytes)",
            path=p,
            hint="download the orbit file again",
        )
    rows = []
    for k in range(n):
        rec = blob[k * DSR_SIZE : (k + 1) * DSR_SIZE].decode("ascii", "replace")
        items = rec.split()
        if len(items) != 11 or not rec.endswith("\n"):
            raise ProductError(
                f"orbit record {k + 1} of {n} does not have the 11 fields of a DORIS record: "
                f"{rec.strip()!r}",
                path=p,
            )
        t = ascii_time(f"{items[0]} {items[1]}", f"time of orbit record {k + 1}", p)
        try:
            values = [float(x) for x in items[2:10]]
        except ValueError:
            raise ProductError(
                f"orbit record {k + 1} of {n} holds a field that is not a number: {rec.strip()!r}",
                path=p,
            ) from None
        rows.append([t, *values, items[10]])
    df = pd.DataFrame(rows, columns=_COLUMNS)
    df["absolute_orbit"] = df["absolute_orbit"].astype(np.int64)
    return _DS_NAMES[names[0]], df


def read_doris_orbit(path: PathLike) -> Orbit:
    """A DORIS orbit file as an :class:`~sarbd.core.Orbit` (ECEF, UTC).

    ``orbit.source`` is ``"DOR_VOR"`` (precise) or ``"DOR_POR"`` (preliminary).

    Raises
    ------
    ProductError
        See :func:`read_doris_records`.
    OrbitError
        State vectors not strictly increasing in time, or implausible positions.
    """
    kind, df = read_doris_records(path)
    pos = df[["x", "y", "z"]].to_numpy(dtype=np.float64)
    radius = np.linalg.norm(pos, axis=1)
    if np.any((radius < 6.5e6) | (radius > 8.0e6)):
        k = int(np.argmax((radius < 6.5e6) | (radius > 8.0e6)))
        raise OrbitError(
            f"orbit record {k + 1} is {radius[k] / 1e3:.1f} km from the Earth's centre "
            "(not a low Earth orbit state vector)",
            path=path,
        )
    try:
        return Orbit(
            df["time"].to_numpy("datetime64[ns]"),
            pos,
            df[["vx", "vy", "vz"]].to_numpy(dtype=np.float64),
            source=f"DOR_{kind}",
        )
    except OrbitError as exc:
        raise OrbitError(f"DORIS orbit state vectors: {exc.message}", path=path) from None


def find_doris_orbit(
    folder: PathLike, start: np.datetime64, stop: np.datetime64, *, margin_s: float = 60.0
) -> Path:
    """The DORIS orbit file in ``folder`` whose validity covers ``start .. stop`` with ``margin_s`` to spare.

    Files are recognised by name (:func:`doris_orbit_info`); precise (``VOR``) files are
    preferred over preliminary (``POR``) ones, then the most recently created.

    Raises
    ------
    OrbitError
        If no file in the folder covers the span.
    """
    d = Path(folder)
    margin = np.timedelta64(round(margin_s * 1e9), "ns")
    a, b = np.datetime64(start, "ns") - margin, np.datetime64(stop, "ns") + margin
    infos = [i for i in (doris_orbit_info(p) for p in sorted(d.iterdir())) if i is not None]
    covering = [i for i in infos if i.validity_start <= a and i.validity_stop >= b]
    if not covering:
        raise OrbitError(
            f"no DORIS orbit file (DOR_VOR_AX / DOR_POR_AX) covers {start} .. {stop} "
            f"({len(infos)} DORIS file(s) in the folder)",
            path=d,
            hint="put the DOR_VOR_AX file of the acquisition's day in the folder",
        )
    covering.sort(key=lambda i: (i.kind == "VOR", i.created))
    return covering[-1].path


def resolve_doris_orbit(
    orbit: PathLike, start: np.datetime64, stop: np.datetime64, *, margin_vectors: int = 6
) -> Orbit:
    """``orbit=`` given as a DORIS file or a folder of them: the orbit, cropped to the acquisition.

    The crop keeps ``margin_vectors`` state vectors (a minute apart) on each side, enough
    for the Hermite interpolation of :class:`~sarbd.core.Orbit` and for geometry beyond
    the image edges.

    Raises
    ------
    OrbitError
        The file (or every file of the folder) does not cover ``start .. stop``.
    """
    p = Path(orbit)
    if not p.exists():
        raise InputError("orbit file or folder not found", path=p)
    path = find_doris_orbit(p, start, stop) if p.is_dir() else p
    full = read_doris_orbit(path)
    if not full.covers(start, stop):
        raise OrbitError(
            f"the DORIS orbit ({full.start_time} .. {full.end_time}) does not cover the "
            f"acquisition {start} .. {stop}",
            path=path,
            hint="use the DOR_VOR_AX file whose validity period contains the acquisition",
        )
    return full.crop(start, stop, margin_vectors=margin_vectors)
