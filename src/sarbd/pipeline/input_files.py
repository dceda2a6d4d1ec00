"""The one layer through which a build opens the files its configuration names.

:func:`check_inputs` runs before any stage: every product, orbit, DEM, reference
layer and AOI polygon must exist and open, a GeoPackage ``layer:`` must be in its
file, and no product may be listed twice; the detection and change references
(``labels.detection``, ``labels.change``) are read and their id, category and date
attributes checked (:func:`read_detection_reference`, :func:`read_change_reference`). :func:`read_vector` is how the stages
then read vector files, so that a file that breaks later (truncated in the middle,
a feature GDAL cannot decode) is still one :class:`~sarbd.errors.InputError`
naming the file and the layer, never a GDAL traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sarbd.errors import ConfigError, InputError
from sarbd.radarcode.formats import RASTER_SUFFIXES, is_raster_path

if TYPE_CHECKING:
    from sarbd.pipeline.config import BuildConfig, ReferenceLayer

__all__ = [
    "RASTER_SUFFIXES",
    "check_chip_sizes",
    "check_inputs",
    "check_raster",
    "is_raster",
    "raster_classes",
    "read_change_reference",
    "read_detection_reference",
    "read_reference_layers",
    "read_vector",
    "vector_layers",
]

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

    return (
        pe.DataSourceError,
        pe.DataLayerError,
        pe.FeatureError,
        pe.GeometryError,
        pe.FieldError,
        pe.CRSError,
        RuntimeError,
        OSError,
        ValueError,
    )


def vector_layers(path: PathLike) -> list[str]:
    """Layer names of a vector file; an unreadable or truncated file raises :class:`InputError`."""
    import pyogrio

    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except _gdal_errors() as exc:
        raise InputError(
            f"cannot read the vector file ({_first_line(exc)})",
            path=path,
            hint="the file is truncated, corrupt or not a vector format GDAL reads",
        ) from None
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
        raise InputError(
            f"layer {layer!r} is not in the file (it has {', '.join(names)})",
            path=p,
            hint="fix layer: in the configuration",
        )
    name = layer or names[0]
    try:
        return gpd.read_file(p, layer=name)
    except _gdal_errors() as exc:
        raise InputError(
            f"cannot read layer {name!r} ({_first_line(exc)})",
            path=p,
            hint="the file is truncated or corrupt",
        ) from None


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
        raise InputError(
            f"cannot read the {what} ({_first_line(exc)})",
            path=path,
            hint="the file is truncated, corrupt or not a raster GDAL reads",
        ) from None


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
                path=p,
                hint="list each date's product once",
            )
        seen[ident] = i
    if inputs.stack is not None:
        _exists(inputs.stack.path, "coregistered stack", "inputs.stack.path")
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
            raise InputError(
                f"layer {layer.layer!r} is not in the file (it has {', '.join(names)})",
                path=p,
                hint="fix inputs.reference[].layer in the configuration",
            )
    if config.aoi.polygon is not None:
        vector_layers(_exists(config.aoi.polygon, "AOI polygon file", "aoi.polygon"))
    det, chg = config.labels.detection, config.labels.change
    if det is not None:
        read_detection_reference(det)
        if det.region is not None:
            read_vector(_exists(det.region, "chip region file", "labels.detection.region"))
    if chg is not None:
        read_change_reference(chg)


def _feature_times(gdf: Any, field: str, path: Path, key: str, *, optional: bool = False) -> Any:
    """``field`` of ``gdf`` as UTC datetime64 (NaT where empty, if ``optional``); errors name the file."""
    import pandas as pd

    if field not in gdf.columns:
        raise InputError(
            f"the features have no attribute {field!r} (they have {', '.join(map(str, gdf.columns))})",
            path=path,
            hint=f"fix {key} in the configuration",
        )
    try:
        times = pd.to_datetime(gdf[field], utc=True, errors="raise")
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"attribute {field!r} holds a value that is not a date/time ({_first_line(exc)})",
            path=path,
            hint="give ISO 8601 times, e.g. 2022-02-14T05:40:02Z",
        ) from None
    if not optional and times.isna().any():
        raise InputError(
            f"{int(times.isna().sum())} feature(s) have no {field!r}",
            path=path,
            hint=f"every feature needs its time ({key})",
        )
    return times.dt.tz_localize(None).to_numpy("datetime64[ns]")


def read_detection_reference(cfg: Any) -> Any:
    """The target outlines of ``labels.detection`` as a GeoDataFrame with ``sarbd_id``,
    ``sarbd_category`` and ``sarbd_time`` (NaT when ``date_field`` is None).

    Raises
    ------
    InputError
        Missing or unreadable file, an attribute that is not there, ids that are not
        unique positive integers, a time that is not a time, no features.
    """
    path = _exists(cfg.reference, "detection reference file", "labels.detection.reference")
    gdf = read_vector(path, cfg.layer)
    if len(gdf) == 0:
        raise InputError("the detection reference holds no features", path=path)
    if gdf.crs is None:
        raise InputError("the detection reference has no CRS", path=path)
    for key, field in (("class_field", cfg.class_field), ("id_field", cfg.id_field)):
        if field is not None and field not in gdf.columns:
            raise InputError(
                f"the features have no attribute {field!r} (they have "
                f"{', '.join(map(str, gdf.columns))})",
                path=path,
                hint=f"fix labels.detection.{key} in the configuration",
            )
    out = gdf[[gdf.geometry.name]].copy()
    out["sarbd_category"] = gdf[cfg.class_field].astype(str).to_numpy()
    if cfg.categories:
        unknown = sorted(set(out["sarbd_category"]) - set(cfg.categories))
        if unknown:
            raise InputError(
                f"categories {unknown} are not in labels.detection.categories", path=path
            )
    if cfg.id_field is None:
        out["sarbd_id"] = range(1, len(gdf) + 1)
    else:
        ids = gdf[cfg.id_field]
        bad = not ids.notna().all()
        if not bad:
            num = ids.astype("float64")
            bad = bool(((num % 1) != 0).any() or (num <= 0).any() or num.duplicated().any())
        if bad:
            raise InputError(
                f"attribute {cfg.id_field!r} must hold unique positive integers", path=path
            )
        out["sarbd_id"] = ids.astype("int64").to_numpy()
    if cfg.height_field is not None:
        if cfg.height_field not in gdf.columns:
            raise InputError(
                f"the features have no attribute {cfg.height_field!r}",
                path=path,
                hint="fix labels.detection.height_field in the configuration",
            )
        out["sarbd_height"] = gdf[cfg.height_field].astype("float64").fillna(0.0).to_numpy()
    if cfg.date_field is not None:
        out["sarbd_time"] = _feature_times(gdf, cfg.date_field, path, "labels.detection.date_field")
    else:
        out["sarbd_time"] = np.datetime64("NaT", "ns")
    return out


def read_change_reference(cfg: Any) -> Any:
    """The dated features of ``labels.change`` as a GeoDataFrame with ``sarbd_start``
    (appeared) and ``sarbd_end`` (disappeared; NaT: stays).

    Raises
    ------
    InputError
        Missing or unreadable file, a date attribute that is missing or not a time, no features.
    """
    path = _exists(cfg.reference, "change reference file", "labels.change.reference")
    gdf = read_vector(path, cfg.layer)
    if len(gdf) == 0:
        raise InputError("the change reference holds no features", path=path)
    if gdf.crs is None:
        raise InputError("the change reference has no CRS", path=path)
    out = gdf[[gdf.geometry.name]].copy()
    out["sarbd_start"] = _feature_times(gdf, cfg.date_field, path, "labels.change.date_field")
    if cfg.end_field is not None:
        out["sarbd_end"] = _feature_times(
            gdf, cfg.end_field, path, "labels.change.end_field", optional=True
        )
    else:
        out["sarbd_end"] = np.datetime64("NaT", "ns")
    return out


def check_chip_sizes(config: BuildConfig, shape: tuple[int, int]) -> None:
    """Chips larger than the scene (``(lines, pixels)`` after the AOI) are a :class:`ConfigError`."""
    too_big = [s for s in config.chips.sizes if s > min(shape)]
    if too_big:
        raise ConfigError(
            f"chips.sizes {', '.join(map(str, too_big))} px is larger than the scene "
            f"({shape[0]} x {shape[1]} pixels after the AOI)",
            hint=f"use chip sizes of at most {min(shape)} px, or a larger AOI",
        )


def read_reference_layers(layers: list[ReferenceLayer]) -> Any:
    """All vector reference layers as one GeoDataFrame (EPSG:4326) with a ``sarbd_class``
    column, and ``sarbd_width``/``sarbd_height`` (m) where the layers name such fields.

    The class of a feature is the layer's ``class_name``, else its ``class_field``, else
    the name of the layer it is in, renamed by ``class_map``.

    Raises
    ------
    InputError
        A file is missing, a layer has no CRS or lacks ``class_field``, or no layer holds a feature.
    """
    import geopandas as gpd
    import pandas as pd

    frames = []
    for layer in layers:
        if not Path(layer.path).exists():
            raise InputError("reference file not found", path=layer.path)
        names = [layer.layer] if layer.layer else vector_layers(layer.path)
        for name in names:
            gdf = read_vector(layer.path, name)
            if gdf.crs is None:
                raise InputError(
                    f"layer {name!r} has no CRS",
                    path=layer.path,
                    hint="assign one, e.g. with ogr2ogr -a_srs EPSG:xxxx",
                )
            if len(gdf) == 0:
                continue
            if layer.class_name:
                cls = pd.Series(layer.class_name, index=gdf.index)
            elif layer.class_field:
                if layer.class_field not in gdf.columns:
                    raise InputError(
                        f"layer {name!r} has no field {layer.class_field!r} "
                        f"(fields: {', '.join(map(str, gdf.columns))})",
                        path=layer.path,
                    )
                cls = gdf[layer.class_field].astype(str)
            else:
                cls = pd.Series(name, index=gdf.index)
            if layer.class_map:
                cls = cls.map(lambda v, m=layer.class_map: m.get(v, v))
            out = gpd.GeoDataFrame(
                {"sarbd_class": cls.values}, geometry=gdf.geometry.values, crs=gdf.crs
            )
            for src, dst in (
                (layer.width_field, "sarbd_width"),
                (layer.height_field, "sarbd_height"),
            ):
                if src and src in gdf.columns:
                    out[dst] = gdf[src].astype(float).values
            frames.append(out.to_crs("EPSG:4326"))
    if not frames:
        raise InputError(
            "the reference layers contain no features", path=layers[0].path if layers else None
        )
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


def raster_classes(layer: ReferenceLayer) -> dict[float, str]:
    """``{raster value: class}`` of a categorical reference raster, from its ``class_map``.

    Raises
    ------
    InputError
        The raster is missing.
    ConfigError
        No ``class_map``, or a key that is not a number.
    """
    if not Path(layer.path).exists():
        raise InputError("reference raster not found", path=layer.path)
    if layer.class_map:
        try:
            return {float(value): name for value, name in layer.class_map.items()}
        except ValueError:
            raise ConfigError(
                "a raster layer's class_map keys must be raster values (numbers)",
                hint="e.g. class_map: {'10': vegetation, '80': water}",
            ) from None
    raise ConfigError(
        f"raster reference layer {layer.path} needs a class_map of raster values to classes",
        hint="e.g. class_map: {'10': vegetation, '80': water} for ESA WorldCover",
    )
