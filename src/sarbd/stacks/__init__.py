"""Coregistered stacks from other processors, opened as a sarbd stack (``docs/formats.md``).

One module per processor, each returning an :class:`~sarbd.stacks.base.ImportedStack`
(reference Scene + secondaries already on its grid, lazy pixels):

========== ============================================== ================================
format     reader                                          input
========== ============================================== ================================
isce2      :func:`~sarbd.stacks.isce2.open_isce2_stack`    topsStack folder
snap       :func:`~sarbd.stacks.snap.open_snap_stack`      BEAM-DIMAP ``.dim``
gmtsar     :func:`~sarbd.stacks.gmtsar.open_gmtsar_stack`  folder of aligned ``.PRM/.SLC/.LED``
doris      :func:`~sarbd.stacks.doris.open_doris_stack`    Doris 5 / AlignSAR stack folder
opera_cslc refused (:mod:`sarbd.stacks.opera`)             geocoded, not radar geometry
========== ============================================== ================================

:func:`import_stack` opens one and assembles the stack dataset the build's coregister stage
writes (:func:`~sarbd.stacks.assemble.assemble_stack`), so ``sarbd build`` continues from it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xarray as xr

from sarbd.core.chunks import DEFAULT_CHUNKS
from sarbd.errors import ConfigError, InputError
from sarbd.stacks.base import ImportedStack

__all__ = ["FORMATS", "ImportedStack", "detect_format", "import_stack", "open_stack"]

#: Format name -> ``open(path, **options) -> ImportedStack``.
FORMATS: tuple[str, ...] = ("isce2", "snap", "gmtsar", "doris", "opera_cslc")


def _opener(fmt: str) -> Callable[..., ImportedStack]:
    if fmt == "isce2":
        from sarbd.stacks.isce2 import open_isce2_stack

        return open_isce2_stack
    if fmt == "snap":
        from sarbd.stacks.snap import open_snap_stack

        return open_snap_stack
    if fmt == "gmtsar":
        from sarbd.stacks.gmtsar import open_gmtsar_stack

        return open_gmtsar_stack
    if fmt == "doris":
        from sarbd.stacks.doris import open_doris_stack

        return open_doris_stack
    if fmt == "opera_cslc":
        from sarbd.stacks.opera import refuse_opera_cslc

        return refuse_opera_cslc  # type: ignore[return-value]
    raise ConfigError(f"unknown stack format {fmt!r}; one of {', '.join(FORMATS)}")


def detect_format(path: str | os.PathLike[str]) -> str:
    """The stack format of ``path`` from its layout (raises :class:`InputError` when none fits)."""
    from sarbd.stacks.doris import is_doris_stack
    from sarbd.stacks.opera import is_opera_cslc

    p = Path(path)
    if p.suffix in (".dim", ".data"):
        return "snap"
    if p.suffix.lower() in (".h5", ".hdf5") and is_opera_cslc(p):
        return "opera_cslc"
    if p.is_dir():
        if (p / "merged" / "SLC").is_dir():
            return "isce2"
        if any(p.glob("*.PRM")):
            return "gmtsar"
        if is_doris_stack(p):
            return "doris"
    raise InputError(
        "not a stack sarbd recognises (ISCE2 topsStack folder, SNAP .dim, GMTSAR folder of "
        ".PRM files, Doris stack folder)",
        path=p,
        hint="give the format explicitly",
    )


def open_stack(path: str | os.PathLike[str], format: str = "auto", **options: Any) -> ImportedStack:
    """Open another processor's coregistered stack lazily (``format="auto"`` detects it)."""
    if not Path(path).exists():
        raise InputError("stack not found", path=path)
    fmt = detect_format(path) if format == "auto" else format
    return _opener(fmt)(path, **options)


def import_stack(
    path: str | os.PathLike[str],
    format: str = "auto",
    *,
    dem: Any = None,
    polarizations: list[str] | tuple[str, ...] | None = None,
    window: tuple[int, int] = (2, 10),
    chunks: tuple[int, int] = DEFAULT_CHUNKS,
    aoi: tuple[int, int, int, int] | None = None,
    **options: Any,
) -> xr.Dataset:
    """The lazy sarbd stack (``docs/formats.md``) of another processor's coregistered stack.

    ``options`` go to the format's reader (``polarization``, ``reference`` for GMTSAR).
    """
    from sarbd.stacks.assemble import assemble_stack

    stack = open_stack(path, format, chunks=chunks, **options)
    return assemble_stack(
        stack, dem=dem, polarizations=polarizations, window=window, chunks=chunks, aoi=aoi
    )
