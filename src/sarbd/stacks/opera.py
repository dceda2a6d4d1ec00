"""OPERA CSLC-S1: recognised and refused, with the reason and the way forward.

OPERA L2 CSLC-S1 products (JPL OPERA, "Product Specification Document for the OPERA
Coregistered Single-Look Complex from Sentinel-1", JPL D-108278) are *geocoded* bursts:
``/data/<POL>`` is complex64 on a UTM map grid (``/data/x_coordinates``, ``/data/y_coordinates``,
``/data/projection``), not on a zero-Doppler radar grid. Every later sarbd stage works in
radar geometry (``docs/formats.md``): radarcoding inverts the geometry with geo2rdr per
pixel, layover/shadow and the L3 tests are radar-grid quantities, the geometric phase is a
slant-range difference. A map grid would need its own radarcode, layover and chip logic;
relabelling map pixels as radar pixels would silently produce wrong labels. So sarbd refuses
CSLC-S1 with a clear error instead of importing it as if it were radar geometry.
"""

from __future__ import annotations

import os
from pathlib import Path

from sarbd.errors import InputError

__all__ = ["is_opera_cslc", "refuse_opera_cslc"]

HINT = (
    "start from the Sentinel-1 SLC bursts themselves (inputs.products: SAFE files; sarbd coregisters "
    "them in radar geometry), or from a radar-geometry stack (ISCE2 topsStack, SNAP, GMTSAR, Doris); "
    "for backscatter-only work in map geometry use OPERA RTC-S1"
)


def is_opera_cslc(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an OPERA CSLC-S1 HDF5 (by its identification group or its name)."""
    p = Path(path)
    if p.is_file() and p.name.upper().startswith("OPERA_L2_CSLC"):
        return True
    if not p.is_file():
        return False
    try:
        import h5py

        with h5py.File(p, "r") as f:
            kind = f.get("identification/product_type")
            text = kind[()] if kind is not None else b""
            text = text.decode() if isinstance(text, bytes) else str(text)
            return "CSLC" in text.upper()
    except OSError:
        return False


def refuse_opera_cslc(path: str | os.PathLike[str], **_: object) -> None:
    """Raise the error that explains why a CSLC-S1 cannot start a sarbd build."""
    raise InputError(
        "OPERA CSLC-S1 is geocoded (a UTM map grid), not radar geometry: sarbd's labels, "
        "radarcoding and layover tests need a zero-Doppler radar grid",
        path=path,
        hint=HINT,
    )
