"""The one layer through which a build opens the files its configuration names.

:func:`check_inputs` runs before any stage: every product, orbit, DEM, reference
layer and AOI polygon must exist and open, a GeoPackage ``layer:`` must be in its
file, and no product may be listed twice. :func:`read_vector` is how the stages
then read vector files, so that a file that breaks later (truncated in the middle,
a feature GDAL cannot decode) is still one :class:`~sarbd.errors.InputError`
naming the file and the layer, never a GDAL traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sarbd.errors import ConfigError, InputError
from sarbd.radarcode.formats import RASTER_SUFFIXES, is_raster_path

if TYPE_CHECKING:
    from sarbd.pipeline.config import BuildConfig

__all__ = ["RASTER_SUFFIXES", "check_chip_sizes", "check_inputs", "check_raster", "is_raster", "read_vector",
           "vector_layers"]

PathLike = str | os.PathLike[str]


def is_raster(path: PathLike) -> bool:
    """Whether a reference file is read as a raster (by its suffix)."""
    return is_raster_path(path)


def _exists(path: PathLike, what: str, key: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} not found", path=p, hint=f"check {key} in the configuration")
    return p


def _gdal_errors() -> tuple[type[BaseException], ...]:
    import pyogrio.errors as pe

    return (pe.DataSourceError, pe.DataLayerError, pe.FeatureError, pe.GeometryError, pe.FieldError,
            pe.CRSError, RuntimeError, OSError, ValueError)


def vector_layers(path: PathLike) -> list[str]:
    """Layer names of a vector file; an unreadable or truncated file raises :class:`InputError`."""
    import pyogrio

    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except _gdal_errors() as exc:
        raise InputError(f"cannot read the vector file ({_first_line(exc)})", path=path,
                         hint="the file is truncated, corrupt or not a vector format GDAL reads") from None
    if not names:
        raise InputError("the vector file holds no layers", path=path)
    return names


def read_vector(path: PathLike, layer: str | None = None) -> Any:
    """Read one layer (default: the first) of a vector file as a GeoDataFrame.

    Raises
    ------
    InputError
        The file is missing or unreadable, or ``layer`` is not in it (the message lists
        the layers it has).
    """
    import geopandas as gpd

    p = Path(path)
    if not p.exists():
        raise InputError("vector file not found", path=p)
    names = vector_layers(p)
    if layer is not None and layer not in names:
        raise InputError(f"layer {layer!r} is not in the file (it has {', '.join(names)})", path=p,
                         hint="fix layer: in the configuration")
    name = layer or names[0]
    try:
        return gpd.read_file(p, layer=name)
    except _gdal_errors() as exc:
        raise InputError(f"cannot read layer {name!r} ({_first_line(exc)})", path=p,
                         hint="the file is truncated or corrupt") from None


def check_raster(path: PathLike, what: str = "raster") -> None:
    """Open a raster's header (and read one pixel); failure raises :class:`InputError`."""
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    from rasterio.windows import Window

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                ds.read(1, window=Window(0, 0, 1, 1))
    except RasterioError as exc:
        raise InputError(f"cannot read the {what} ({_first_line(exc)})", path=path,
                         hint="the file is truncated, corrupt or not a raster GDAL reads") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_inputs(config: BuildConfig) -> None:
    """Check every file the configuration names, before any stage runs.

    Raises
    ------
    InputError
        A file is missing or cannot be opened, or a ``layer:`` is not in its file.
    ConfigError
        A product is listed twice in ``inputs.products``.
    """
    inputs = config.inputs
    seen: dict[tuple[int, int] | str, int] = {}
    from sarbd.pipeline.config import ProductSpec, product_main

    for i, product in enumerate(inputs.products):
        if isinstance(product, ProductSpec):  # every file of a mapping entry must exist
            for f in product.files():
                _exists(f, "product file", "inputs.products")
        p = _exists(product_main(product), "product", "inputs.products")
        st = p.stat()
        ident: tuple[int, int] | str = (st.st_dev, st.st_ino)  # the same file under two names too
        if ident in seen:
            raise ConfigError(
                f"inputs.products lists the same product twice (entries {seen[ident] + 1} and {i + 1})",
                path=p, hint="list each date's product once")
        seen[ident] = i
    if inputs.reference_product is not None:
        _exists(inputs.reference_product, "reference product", "inputs.reference_product")
    if inputs.orbits is not None:
        _exists(inputs.orbits, "orbit file or folder", "inputs.orbits")
    if inputs.dem is not None:
        check_raster(_exists(inputs.dem, "DEM", "inputs.dem"), "DEM")
    for layer in inputs.reference:
        p = _exists(layer.path, "reference file", "inputs.reference")
        if is_raster(p):
            check_raster(p, "reference raster")
            continue
        names = vector_layers(p)
        if layer.layer is not None and layer.layer not in names:
            raise InputError(f"layer {layer.layer!r} is not in the file (it has {', '.join(names)})", path=p,
                             hint="fix inputs.reference[].layer in the configuration")
    if config.aoi.polygon is not None:
        vector_layers(_exists(config.aoi.polygon, "AOI polygon file", "aoi.polygon"))


def check_chip_sizes(config: BuildConfig, shape: tuple[int, int]) -> None:
    """Chips larger than the scene (``(lines, pixels)`` after the AOI) are a :class:`ConfigError`."""
    too_big = [s for s in config.chips.sizes if s > min(shape)]
    if too_big:
        raise ConfigError(
            f"chips.sizes {', '.join(map(str, too_big))} px is larger than the scene "
            f"({shape[0]} x {shape[1]} pixels after the AOI)",
            hint=f"use chip sizes of at most {min(shape)} px, or a larger AOI")
