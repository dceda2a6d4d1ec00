"""Reading reference vectors: files in any OGR format and CRS, layers, classes, widths, heights.

Every feature ends up with a class name, a width (m, used for lines and points) and a
height above the terrain (m, 0 for features on the ground). Lines and points become
areas by a buffer of half their width in a local metric frame, so widths are true
ground metres whatever the input CRS.

Default widths (m) for line classes, used when a feature has no width attribute:

* ``road`` 7.0 -- two traffic lanes of 3.5 m (the common European/US design lane
  width: AASHTO (2018) *A Policy on Geometric Design of Highways and Streets*, 7th ed.,
  sec. 4.3; Dutch CROW design manuals use 3.0-3.5 m);
* ``railway`` 6.0 -- a single standard-gauge track (1.435 m gauge, EU TSI
  Infrastructure, Commission Regulation (EU) No 1299/2014) on 2.6 m sleepers with a
  ballast bed whose crest is about 3.6-4 m wide and whose shoulders and slopes widen
  it to about 6 m at formation level (Esveld, C. (2001), *Modern Railway Track*,
  2nd ed., MRT-Productions, ch. 9, ballast bed cross-sections);
* ``path`` 2.0, ``water`` 3.0 (a ditch or stream drawn as a line);
* any other line 1.0; points 1.0 (a disc of that diameter).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from sarbd.errors import InputError
from sarbd.radarcode.formats import is_raster_path
from sarbd.utils.log import get_logger

__all__ = [
    "DEFAULT_WIDTHS",
    "ReferenceSource",
    "VectorFeatures",
    "VectorSource",
    "read_reference",
]

log = get_logger(__name__)

#: Widths (m) of line classes without a width attribute; ``"*"`` for other lines,
#: ``"point"`` for points. Sources in the module docstring.
DEFAULT_WIDTHS: dict[str, float] = {
    "road": 7.0,
    "railway": 6.0,
    "path": 2.0,
    "water": 3.0,
    "*": 1.0,
    "point": 1.0,
}

#: Attribute names tried (in order) for a feature's width (m) and height above ground (m).
WIDTH_FIELDS = ("width", "width_m", "breedte", "WIDTH", "Width")
HEIGHT_FIELDS = ("height", "height_m", "building_height", "hoogte", "HEIGHT", "Height")

#: One vector source: a file in any OGR format, or a ``geopandas.GeoDataFrame`` (typed
#: ``Any``: geopandas has no type information).
VectorSource: TypeAlias = "str | os.PathLike[str] | Any"
#: What :func:`read_reference` (and :func:`sarbd.radarcode`) takes as ``reference``.
ReferenceSource: TypeAlias = "VectorSource | Sequence[VectorSource] | Mapping[str, VectorSource]"

_VECTOR_SUFFIXES = {
    ".gpkg",
    ".shp",
    ".geojson",
    ".json",
    ".fgb",
    ".parquet",
    ".geoparquet",
    ".gml",
    ".kml",
    ".sqlite",
    ".gdb",
    ".tab",
    ".mif",
    ".csv",
}


@dataclass
class VectorFeatures:
    """Features of one layer, in that layer's own CRS.

    Attributes
    ----------
    geometry
        Shapely geometries (any type).
    classes
        Class name of each feature.
    widths
        Width of each feature, m (NaN: use the class default).
    heights
        Height of each feature above the terrain, m (0: on the ground).
    crs
        The layer's CRS (pyproj).
    source
        ``"file.gpkg:layer"`` for messages.
    """

    geometry: NDArray[np.object_]
    classes: NDArray[np.str_]
    widths: NDArray[np.float64]
    heights: NDArray[np.float64]
    crs: Any
    source: str
    path: Path | None = None
    bounds: tuple[float, float, float, float] = field(default=(np.nan,) * 4)


def _list_layers(path: Path) -> list[str]:
    import pyogrio

    if path.suffix.lower() in {".parquet", ".geoparquet"}:
        return [path.stem]
    try:
        return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:
        raise InputError(
            f"cannot read it as vector data ({exc})",
            path=path,
            hint="give a file GDAL/OGR reads: GeoPackage, Shapefile, GeoJSON, FlatGeobuf, GeoParquet",
        ) from None


def _layer_bbox(
    path: Path, layer: str, bbox_ll: tuple[float, float, float, float]
) -> tuple[float, float, float, float] | None:
    """``bbox_ll`` (lon/lat) in the layer's own CRS, or None when that cannot be said."""
    import pyogrio
    from pyproj import CRS, Transformer

    try:
        crs = pyogrio.read_info(path, layer=layer).get("crs")
        if not crs:
            return None
        tr = Transformer.from_crs("EPSG:4326", CRS.from_user_input(crs), always_xy=True)
        box = tr.transform_bounds(*bbox_ll, densify_pts=21)
    except Exception:  # an unusual CRS: read the whole layer
        return None
    return box if all(np.isfinite(box)) else None


def _read_layer(
    path: Path, layer: str, bbox_ll: tuple[float, float, float, float] | None = None
) -> Any:
    """One layer as a GeoDataFrame; with ``bbox_ll`` only the features whose bounding box meets it.

    The filter is GDAL's (spatial index where the format has one), so features far
    from the scene are never decoded. A layer with no feature in the box is read whole,
    so that its errors (empty, or not overlapping the scene) are the same as without it.
    """
    import geopandas as gpd

    try:
        if path.suffix.lower() in {".parquet", ".geoparquet"}:
            return gpd.read_parquet(path)
        box = _layer_bbox(path, layer, bbox_ll) if bbox_ll is not None else None
        if box is not None:
            frame = gpd.read_file(path, layer=layer, engine="pyogrio", bbox=box)
            if len(frame):
                return frame
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise InputError(f"cannot read layer {layer!r} ({exc})", path=path) from None


def _field(
    frame: Any,
    explicit: str | None,
    candidates: Sequence[str],
    what: str,
    source: str,
    path: Path | None,
) -> str | None:
    if explicit is not None:
        if explicit not in frame.columns:
            fields = ", ".join(c for c in frame.columns if c != "geometry") or "none"
            raise InputError(
                f"{what} field {explicit!r} is not in layer {source} (fields: {fields})",
                path=path,
                hint=f"choose one of the fields for the {what}",
            )
        return explicit
    for name in candidates:
        if name in frame.columns:
            return name
    return None


def _numeric(frame: Any, name: str | None) -> NDArray[np.float64]:
    import pandas as pd

    if name is None:
        return np.full(len(frame), np.nan)
    return np.asarray(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)


def _frame_features(
    frame: Any,
    layer: str,
    path: Path | None,
    *,
    class_field: str | None,
    class_map: Mapping[str, str | None] | None,
    width_field: str | None,
    height_field: str | None,
    explicit_layer: bool,
) -> VectorFeatures | None:
    source = f"{path.name}:{layer}" if path is not None else layer
    if frame.crs is None:
        raise InputError(
            f"layer {layer!r} has no coordinate reference system",
            path=path,
            hint="set one, e.g. ogr2ogr -a_srs EPSG:XXXX out.gpkg in.gpkg, or gdf.set_crs(...)",
        )
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if len(frame) == 0:
        if explicit_layer:
            raise InputError(
                f"layer {layer!r} has no features",
                path=path,
                hint="check the layer name, or leave the empty layer out",
            )
        log.warning("%s: layer %r is empty, skipped", path or "reference", layer)
        return None
    if class_field is not None:
        if class_field not in frame.columns:
            fields = ", ".join(c for c in frame.columns if c != "geometry") or "none"
            raise InputError(
                f"class field {class_field!r} is not in layer {layer!r} (fields: {fields})",
                path=path,
                hint="pass --class-field with one of these fields",
            )
        values = frame[class_field].astype(str).to_numpy()
        if class_map is not None:
            mapped = np.array([class_map.get(v) for v in values], dtype=object)
            dropped = sorted({v for v, m in zip(values, mapped, strict=True) if m is None})
            keep = np.array([m is not None for m in mapped], dtype=bool)
            if dropped:
                log.info(
                    "%s: %d features of values %s are not in the class map, skipped",
                    source,
                    int(np.sum(~keep)),
                    ", ".join(dropped[:8]),
                )
            frame = frame[keep]
            values = mapped[keep].astype(str)
        classes = values.astype(str)
    else:
        name: str | None = layer
        if class_map is not None:
            name = class_map.get(layer, class_map.get(path.stem if path else layer))
            if name is None:
                if explicit_layer:
                    raise InputError(
                        f"layer {layer!r} has no class in the class map",
                        path=path,
                        hint="add it to the class map or leave it out of --layer",
                    )
                log.info("%s: layer not in the class map, skipped", source)
                return None
        classes = np.full(len(frame), str(name), dtype=object).astype(str)
    if len(frame) == 0:
        return None
    wf = _field(frame, width_field, WIDTH_FIELDS, "width", layer, path)
    hf = _field(frame, height_field, HEIGHT_FIELDS, "height", layer, path)
    heights = _numeric(frame, hf)
    heights = np.where(np.isfinite(heights) & (heights > 0), heights, 0.0)
    return VectorFeatures(
        geometry=np.asarray(frame.geometry.to_numpy(), dtype=object),
        classes=classes,
        widths=_numeric(frame, wf),
        heights=heights,
        crs=frame.crs,
        source=source,
        path=path,
        bounds=tuple(float(v) for v in frame.total_bounds),  # type: ignore[arg-type]
    )


def _is_frame(value: object) -> bool:
    """A GeoDataFrame (or GeoSeries) given in memory rather than a file."""
    import geopandas as gpd

    return isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries)


def read_reference(
    reference: ReferenceSource,
    *,
    layers: Sequence[str] | None = None,
    class_field: str | None = None,
    class_map: Mapping[str, str | None] | None = None,
    width_field: str | None = None,
    height_field: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> list[VectorFeatures]:
    """Read reference vectors into per-layer :class:`VectorFeatures`.

    Parameters
    ----------
    reference
        A vector file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, GeoParquet, any
        format OGR reads), a ``geopandas.GeoDataFrame``, a list of those, or a mapping
        ``{class name: file or GeoDataFrame}``.
    layers
        Layers to read from multi-layer files (default: all).
    class_field
        Attribute holding each feature's class; by default the class is the layer name
        (the file name for single-layer formats).
    class_map
        Renames classes: ``{attribute value or layer name: class name}``; values mapped
        to ``None`` (or missing, when a class field is used) are left out.
    width_field, height_field
        Attributes with the feature width (m, for lines and points) and height above the
        terrain (m, e.g. building height); tried by default: see ``WIDTH_FIELDS``,
        ``HEIGHT_FIELDS``.
    bbox
        ``(west, south, east, north)``, degrees: read from files only the features
        whose bounding box meets it (GDAL's spatial filter; GeoParquet is read whole).
        Data frames are taken as they are.

    Raises
    ------
    InputError
        Unreadable file, missing CRS, unknown layer or class field, empty layers.
    """
    kw = dict(
        class_field=class_field,
        class_map=class_map,
        width_field=width_field,
        height_field=height_field,
    )
    out: list[VectorFeatures] = []
    items: list[tuple[Any, dict[str, str] | None]]
    if isinstance(reference, Mapping):
        items = [(v, {"__class__": str(k)}) for k, v in reference.items()]
    elif isinstance(reference, list | tuple):
        items = [(r, None) for r in reference]
    else:
        items = [(reference, None)]
    for ref, forced in items:
        cmap = class_map
        if forced is not None:
            cmap = None
        if isinstance(ref, str | os.PathLike):
            path = Path(ref)
            if not path.exists():
                raise InputError("reference file not found", path=path)
            if is_raster_path(path):
                raise InputError(
                    "this is a raster; rasters are radarcoded with radarcode_raster", path=path
                )
            available = _list_layers(path)
            wanted = list(layers) if layers else available
            if layers and path.suffix.lower() not in {".parquet", ".geoparquet"}:
                missing = [n for n in wanted if n not in available]
                if missing:
                    raise InputError(
                        f"layer(s) {', '.join(missing)} not found (layers: {', '.join(available)})",
                        path=path,
                        hint="check --layer",
                    )
            elif layers:
                wanted = available
            for name in wanted:
                frame = _read_layer(path, name, bbox)
                feats = _frame_features(
                    frame,
                    name,
                    path,
                    explicit_layer=bool(layers) or len(wanted) == 1,
                    **{**kw, "class_map": cmap, "class_field": None if forced else class_field},  # type: ignore[arg-type]
                )
                if feats is not None:
                    if forced:
                        feats.classes = np.full(feats.classes.size, forced["__class__"]).astype(str)
                    out.append(feats)
        elif _is_frame(ref):
            name = forced["__class__"] if forced else str(getattr(ref, "name", None) or "reference")
            feats = _frame_features(
                ref,
                name,
                None,
                explicit_layer=True,
                **{**kw, "class_map": cmap, "class_field": None if forced else class_field},  # type: ignore[arg-type]
            )
            if feats is not None:
                out.append(feats)
        else:
            raise InputError(
                f"cannot read a {type(ref).__name__} as reference vectors",
                hint="give a vector file, a GeoDataFrame, or a list/mapping of them",
            )
    if not out:
        where = reference if isinstance(reference, str | os.PathLike) else None
        raise InputError(
            "no features to radarcode (all layers empty or left out)",
            path=where,
            hint="check --layer, --class-field and the class map",
        )
    return out
