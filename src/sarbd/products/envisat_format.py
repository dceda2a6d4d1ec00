"""Envisat product-format primitives shared by the ASAR/ERS IMS reader and the DORIS orbit reader.

ESA, *Envisat-1 Products Specifications* (PO-RS-MDA-GS-2009), vol. 5 (product structures)
and Annex A (data conventions); *ASAR Product Handbook* (issue 2.2, 2007), ch. 6:

* every product, auxiliary files included, starts with a **Main Product Header** of 1247
  bytes of ``KEY=value`` lines (strings in double quotes, numbers with a sign and an
  optional ``<unit>``); its ``SPH_SIZE``, ``NUM_DSD`` and ``DSD_SIZE`` give the size of the
  **Specific Product Header** that follows;
* the SPH ends with the **data-set descriptors** (DSD, 280 bytes each): ``DS_NAME``,
  ``DS_TYPE`` (``M`` measurement, ``A`` annotation, ``G`` global annotation, ``R``
  reference), ``DS_OFFSET`` and ``DS_SIZE`` (bytes from the start of the file),
  ``NUM_DSR`` and ``DSR_SIZE`` (records and their size; ``-1`` for variable size);
* ASCII UTC times are ``DD-MMM-YYYY hh:mm:ss.uuuuuu`` (27 characters).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from sarbd.errors import ProductError

__all__ = [
    "MPH_SIZE",
    "ascii_time",
    "data_set_descriptors",
    "header_fields",
    "header_int",
    "read_mph",
    "sph_descriptors",
]

PathLike = str | os.PathLike[str]

#: Size of the Main Product Header, bytes (PO-RS-MDA-GS-2009 vol. 5 sec. 5.2.1).
MPH_SIZE = 1247
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}


def ascii_time(text: str, what: str, path: PathLike) -> np.datetime64:
    """``DD-MMM-YYYY hh:mm:ss.uuuuuu`` (Envisat ASCII UTC) -> ``datetime64[ns]``.

    Raises
    ------
    ProductError
        Naming ``what`` and the file, if ``text`` is not such a time.
    """
    m = re.fullmatch(r"\s*(\d{2})-([A-Z]{3})-(\d{4}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*", text or "")
    if m is None or m[2] not in _MONTHS:
        raise ProductError(f"{what} is not an Envisat UTC time: {text!r}", path=path)
    try:
        return np.datetime64(f"{m[3]}-{_MONTHS[m[2]]:02d}-{m[1]}T{m[4]}", "ns")
    except ValueError:
        raise ProductError(f"{what} is not a valid date: {text!r}", path=path) from None


def header_fields(text: str) -> dict[str, str]:
    """``KEY=value`` lines of an MPH or SPH -> ``{KEY: value}`` (quotes and blanks removed)."""
    return {
        k: v.strip().strip('"').strip() for k, v in re.findall(r"^([A-Z0-9_]+)=(.*)$", text, re.M)
    }


def header_int(fields: dict[str, str], key: str, path: PathLike) -> int:
    """An integer header field (``+0000000378<bytes>`` -> 378)."""
    m = re.match(r"\s*([+-]?\d+)", fields.get(key, ""))
    if m is None:
        raise ProductError(f"header field {key} is missing or not an integer", path=path)
    return int(m[1])


def read_mph(path: PathLike) -> dict[str, str]:
    """The Main Product Header of an Envisat-format file as ``{KEY: value}``.

    Raises
    ------
    ProductError
        If the file is shorter than an MPH or does not start with ``PRODUCT=``.
    """
    with open(path, "rb") as f:
        raw = f.read(MPH_SIZE)
    if len(raw) < MPH_SIZE or not raw.startswith(b"PRODUCT="):
        raise ProductError(
            f"not an Envisat-format file (no {MPH_SIZE}-byte main product header starting "
            "with PRODUCT=)",
            path=path,
        )
    return header_fields(raw.decode("ascii", "replace"))


def data_set_descriptors(
    path: PathLike, sph_size: int, *, mph_size: int = MPH_SIZE
) -> dict[str, dict[str, Any]]:
    """The data-set descriptors of the SPH: ``{name: {type, offset, size, num_dsr, dsr_size}}``."""
    with open(path, "rb") as f:
        f.seek(mph_size)
        sph = f.read(sph_size).decode("ascii", "replace")
    out: dict[str, dict[str, Any]] = {}
    for block in sph.split("DS_NAME=")[1:]:
        kv = dict(re.findall(r"^([A-Z_]+)=(.*)$", "DS_NAME=" + block, flags=re.M))

        def num(key: str, kv: dict[str, str] = kv) -> int:
            m = re.match(r"\s*([+-]?\d+)", kv.get(key, ""))
            return int(m[1]) if m else 0

        name = kv.get("DS_NAME", "").strip().strip('"').strip()
        out[name] = {
            "type": kv.get("DS_TYPE", "").strip(),
            "offset": num("DS_OFFSET"),
            "size": num("DS_SIZE"),
            "num_dsr": num("NUM_DSR"),
            "dsr_size": num("DSR_SIZE"),
        }
    return out


def sph_descriptors(path: PathLike) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The MPH fields and the SPH's data-set descriptors of an Envisat-format file."""
    mph = read_mph(path)
    sph_size = header_int(mph, "SPH_SIZE", path)
    if sph_size <= 0 or Path(path).stat().st_size < MPH_SIZE + sph_size:
        raise ProductError(
            f"the specific product header ({sph_size} bytes) is missing or truncated", path=path
        )
    return mph, data_set_descriptors(path, sph_size)
