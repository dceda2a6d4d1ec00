"""The options of every command that opens one SAR product (``info``, ``geocode``, ``radarcode --grid``)
and the DEM options ``geocode`` and ``radarcode`` share: declared once, parsed once.

Use them as parameter annotations (``swath: Swath = None``); :func:`product_options`
gathers them into the keyword arguments of :func:`sarbd.open_product`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "DemInterpolation",
    "Frequency",
    "HeightAboveGeoid",
    "Measurement",
    "Offset",
    "Orbit",
    "Swath",
    "VerticalDatum",
    "integer_pair",
    "product_options",
]

Swath = Annotated[
    str | None,
    typer.Option("--swath", help="Sentinel-1 swath (IW1, IW2, ...) when there are several."),
]
Measurement = Annotated[
    Path | None, typer.Option("--measurement", help="Measurement TIFF of a bare annotation XML.")
]
Offset = Annotated[
    str | None, typer.Option("--offset", help="Crop offset FIRST_LINE,FIRST_PIXEL (0-based).")
]
Orbit = Annotated[
    Path | None, typer.Option("--orbit", help="Orbit file (.EOF) or a folder of them.")
]
Frequency = Annotated[str | None, typer.Option("--frequency", help="NISAR frequency A or B.")]

VerticalDatum = Annotated[
    str, typer.Option("--vertical-datum", help="DEM heights: auto, egm96, egm2008 or ellipsoid.")
]
DemInterpolation = Annotated[
    str, typer.Option("--dem-interpolation", help="bilinear, or biquintic (as isce3).")
]
HeightAboveGeoid = Annotated[
    float | None,
    typer.Option("--height-above-geoid", help="Without a DEM: a constant height above EGM96 (m)."),
]


def integer_pair(text: str | None, option: str) -> tuple[int, int] | None:
    """``"A,B"`` as two integers (``None`` stays ``None``); anything else is an InputError naming ``option``."""
    from sarbd.errors import InputError

    if text is None:
        return None
    try:
        a, b = (int(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"{option} must be two integers A,B, got {text!r}") from None
    return a, b


def product_options(
    swath: str | None,
    measurement: Path | None,
    offset: str | None,
    orbit: Path | None,
    frequency: str | None,
) -> dict[str, Any]:
    """The keyword arguments of :func:`sarbd.open_product` from the product options."""
    return {
        "swath": swath,
        "measurement": measurement,
        "offset": integer_pair(offset, "--offset"),
        "orbit": orbit,
        "frequency": frequency,
    }
