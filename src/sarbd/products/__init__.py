"""Readers: Sentinel-1 SAFE / annotation crops, NISAR RSLC HDF5, Radarsat-2 SLC, orbit files, metadata.

:func:`open_product` is the one entry point (``sarbd.open_product``); it returns a
:class:`~sarbd.core.Scene` whatever the format. See ``docs/products.md``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from sarbd.core.scene import Scene
from sarbd.errors import InputError
from sarbd.products.calibration import calibrate, calibration_factor, noise_power
from sarbd.products.doris_orbit import find_doris_orbit, read_doris_orbit
from sarbd.products.metadata import global_attributes, relative_orbit
from sarbd.products.orbit_file import find_orbit_file, read_eof
from sarbd.products.sentinel1 import (
    Sentinel1Product,
    burst_scene,
    open_annotation,
    open_safe,
    open_sentinel1,
)

__all__ = [
    "Sentinel1Product",
    "burst_scene",
    "calibrate",
    "calibration_factor",
    "find_doris_orbit",
    "find_orbit_file",
    "global_attributes",
    "noise_power",
    "open_annotation",
    "open_product",
    "open_safe",
    "read_doris_orbit",
    "read_eof",
    "relative_orbit",
]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _is_hdf5(path: Path) -> bool:
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        return f.read(8) == _HDF5_SIGNATURE


_CEOS_MEMBERS = ("LEA_01.001", "DAT_01.001")


def _is_ers_ceos(path: Path) -> bool:
    """A folder or zip holding ESA's ERS CEOS volume (``LEA_01.001`` leader + ``DAT_01.001`` data)."""
    if path.is_dir():
        names = {q.name.upper() for q in path.iterdir()}
    elif path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = {n.rstrip("/").rsplit("/", 1)[-1].upper() for n in z.namelist()}
    else:
        return False
    return all(m in names for m in _CEOS_MEMBERS)


def open_product(
    path: str | os.PathLike[str],
    *,
    swath: str | None = None,
    polarizations: str | list[str] | tuple[str, ...] | None = None,
    orbit: Any = None,
    measurement: str | os.PathLike[str] | None = None,
    offset: tuple[int, int] | None = None,
    chunks: tuple[int, int] | None = None,
    frequency: str | None = None,
    verify_zip: bool = True,
) -> Scene:
    """Open an SLC product as a :class:`~sarbd.core.Scene` (lazy pixels).

    Parameters
    ----------
    path
        A Sentinel-1 SAFE zip or folder, a Sentinel-1 annotation XML, a NISAR
        RSLC HDF5 file, a Radarsat-2 SLC ``product.xml`` (or its folder), or an Envisat
        ASAR IMS / ERS SLC file in Envisat format (``.N1``, ``.E1``, ``.E2``).
    swath
        Sentinel-1 swath (``"IW2"`` ...); required when the product has several.
    polarizations
        Polarisations to keep (``"VV"``, ``["VV", "VH"]``, ``"VV+VH"``); all by default.
    orbit
        ``None`` (the product's own state vectors), an :class:`~sarbd.core.Orbit`, an
        ESA ``.EOF`` orbit file, or a folder of them (the covering one is picked,
        POEORB before RESORB); for Envisat/ERS a DORIS ``DOR_VOR_AX`` / ``DOR_POR_AX``
        file or a folder of them (precise first).
    measurement, offset
        For a bare annotation XML: its measurement TIFF and, for a crop, the crop's
        ``(first_line, first_pixel)`` in the full swath (0-based).
    chunks
        Default Dask chunk shape ``(lines, pixels)`` of :meth:`Scene.slc`.
    frequency
        NISAR frequency ``"A"`` (default) or ``"B"``.
    verify_zip
        Sentinel-1 SAFE zips: check the CRC-32 of each measurement member opened by
        streaming it once (``True``, the default; docs/reliability.md). ``False`` reads
        only the TIFF strips the windows need (an AOI of a large product), which no CRC
        covers; the XML members are always checked.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", path=p)
    from sarbd.products.envisat import is_envisat
    from sarbd.products.radarsat2 import is_radarsat2

    if is_envisat(p):
        from sarbd.products.envisat import open_envisat

        if (
            measurement is not None
            or offset is not None
            or swath is not None
            or frequency is not None
        ):
            raise InputError(
                "swath=, measurement=, offset= and frequency= do not apply to Envisat/ERS products",
                path=p,
            )
        scene = open_envisat(p, orbit=orbit, chunks=chunks)
        if polarizations is not None:
            scene._check_polarization(
                polarizations if isinstance(polarizations, str) else polarizations[0]
            )
        return scene
    if is_radarsat2(p):
        from sarbd.products.radarsat2 import open_radarsat2

        if (
            measurement is not None
            or offset is not None
            or swath is not None
            or frequency is not None
        ):
            raise InputError(
                "swath=, measurement=, offset= and frequency= do not apply to Radarsat-2 products",
                path=p,
            )
        return open_radarsat2(p, polarizations=polarizations, orbit=orbit, chunks=chunks)
    if _is_ers_ceos(p):
        raise InputError(
            "an ERS SAR product in CEOS format (VDF_DAT/LEA_01/DAT_01 files) is not read",
            path=p,
            hint="use the ERS SLC in Envisat format (SAR_IMS_1P .E1/.E2, ESA's reprocessing)",
        )
    if _is_hdf5(p):
        from sarbd.products.nisar import open_nisar

        if measurement is not None or offset is not None or swath is not None:
            raise InputError(
                "swath=, measurement= and offset= do not apply to NISAR HDF5 products", path=p
            )
        return open_nisar(
            p, frequency=frequency or "A", polarizations=polarizations, orbit=orbit, chunks=chunks
        )
    if frequency is not None:
        raise InputError("frequency= applies to NISAR HDF5 products only", path=p)
    return open_sentinel1(
        p,
        swath=swath,
        polarizations=polarizations,
        orbit=orbit,
        measurement=measurement,
        offset=offset,
        chunks=chunks,
        verify_zip=verify_zip,
    )
