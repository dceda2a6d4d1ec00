"""STAC catalog of a SARbd dataset folder (pystac), and its EOTDL README.

Layout (all links and asset hrefs relative, catalog type *self-contained*)::

    catalog.json                       root catalog
    <id>/collection.json               the collection (netCDF, Zarr, tables as assets)
    <id>/<id>-YYYYMMDD/…json           one item per date: per-date COGs (features)
    <id>/<id>-static/…json             time-less layers (temporal signatures, geometry)
    <id>/<id>-labels-<split>/…json     one label item per split (ml-aoi:split), its own COGs
    <id>/<id>-labels/…json             the scene's label COGs and the split raster

Extensions (their official schemas shipped unmodified in ``sarbd/export/schemas``):
sar v1.3.0 (mode, product type, band, centre frequency, polarizations, spacings, looks,
look side), sat v1.2.0 (orbit state, absolute/relative orbit), view v1.1.0, processing
v1.2.0, projection v2.0.0 (``proj:code`` null: radar geometry with GCPs, ``proj:shape``
the radar grid; geocoded COGs carry their EPSG code and transform), file v2.1.0
(``file:size``, ``file:checksum`` as a SHA2-256 multihash), label v1.0.1 (raster labels:
``label:classes`` and ``label:overviews`` both in raster values, ``label:assets`` on
``source`` links naming the source item's assets), classification v1.1.0 (value ->
class name and colour of label rasters, the bits of ``quality_flags``) and ml-aoi v0.2.0
(``ml-aoi:split``; assets with ``ml-aoi:role`` label/feature; the radar grid is the
reference grid). Each split's label item holds label COGs of that split only
(``cog/splits/<split>/``): pixels of other splits are nodata (0).

``README.md`` starts with YAML front-matter (name, authors, license, source): what
EOTDL needs to ingest a folder with a root ``catalog.json`` at quality Q1
(https://eotdl.com/docs/getting-started/quality).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd import __version__
from sarbd.dataset.classes import SPLIT_NAMES, classes_from_attrs
from sarbd.errors import InputError
from sarbd.utils.files import atomic_output

__all__ = ["EXTENSIONS", "multihash_sha256", "write_readme", "write_stac"]

EXTENSIONS: dict[str, str] = {
    "sar": "https://stac-extensions.github.io/sar/v1.3.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.2.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.1.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "projection": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "file": "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    "label": "https://stac-extensions.github.io/label/v1.0.1/schema.json",
    "ml-aoi": "https://stac-extensions.github.io/ml-aoi/v0.2.0/schema.json",
    "classification": "https://stac-extensions.github.io/classification/v1.1.0/schema.json",
}
COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
_ML_AOI_SPLIT = {"train": "train", "validation": "validate", "test": "test"}
_SAR_ROLES = {
    "sigma0": "sigma0",
    "beta0": "beta0",
    "gamma0": "gamma0",
    "amplitude": "amplitude",
    "local_incidence_angle": "local-incidence-angle",
    "noise": "noise-power",
}


def multihash_sha256(path: str | os.PathLike[str]) -> str:
    """``file:checksum`` of a file: SHA2-256 multihash (code 0x12, length 0x20) in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "1220" + h.hexdigest()


def _file_fields(path: Path) -> dict[str, Any]:
    if path.is_dir():
        return {}
    return {"file:size": path.stat().st_size, "file:checksum": multihash_sha256(path)}


def _edges(ds: xr.Dataset) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Latitude and longitude along the four edges of the radar grid, read edge by edge.

    Only the Dask chunks touching an edge are read (a full burst's float64 lat/lon are
    600 MB; its edges a few hundred kB). Keys ``top``, ``right``, ``bottom``, ``left``.
    """
    lat = ds["latitude"].transpose("line", "pixel")
    lon = ds["longitude"].transpose("line", "pixel")
    sel = {"top": {"line": 0}, "bottom": {"line": -1}, "left": {"pixel": 0}, "right": {"pixel": -1}}
    return {
        k: (np.asarray(lat.isel(v).values, float), np.asarray(lon.isel(v).values, float))
        for k, v in sel.items()
    }


def _footprint(ds: xr.Dataset, samples: int = 24) -> dict[str, Any]:
    """WGS84 polygon along the edge of the radar grid (counter-clockwise, GeoJSON)."""
    from shapely.geometry import Polygon, mapping
    from shapely.geometry.polygon import orient

    e = _edges(ds)
    n, m = e["left"][0].size, e["top"][0].size
    r = np.unique(np.linspace(0, n - 1, min(samples, n)).round().astype(int))
    c = np.unique(np.linspace(0, m - 1, min(samples, m)).round().astype(int))
    idx = (
        [("top", j) for j in c]
        + [("right", i) for i in r[1:]]
        + [("bottom", j) for j in c[::-1][1:]]
        + [("left", i) for i in r[::-1][1:-1]]
    )
    pts = [
        (float(e[k][1][i]), float(e[k][0][i]))
        for k, i in idx
        if np.isfinite(e[k][0][i]) and np.isfinite(e[k][1][i])
    ]
    poly = Polygon(pts)
    if not poly.is_valid:
        poly = poly.convex_hull
    poly = orient(poly, sign=1.0)
    return dict(mapping(poly))


def _bbox(ds: xr.Dataset) -> list[float]:
    """Bounding box of every finite latitude/longitude, reduced chunk by chunk (a Dask-backed
    coordinate is never held whole in memory)."""
    import dask
    import dask.array as da

    lat, lon = da.asarray(ds["latitude"].data), da.asarray(ds["longitude"].data)
    values = dask.compute(da.nanmin(lon), da.nanmin(lat), da.nanmax(lon), da.nanmax(lat))
    return [float(v) for v in values]


def _utc(t: Any) -> _dt.datetime:
    s = np.datetime64(t, "us").astype(_dt.datetime)
    return s.replace(tzinfo=_dt.UTC)


#: Constellation of a platform name (STAC common metadata, lower case).
_CONSTELLATIONS = {"sentinel-1": "sentinel-1", "nisar": "nisar", "alos": "alos", "uavsar": "uavsar"}


def _first(attrs: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` present in ``attrs`` with a non-empty value (None if none)."""
    for k in keys:
        v = attrs.get(k)
        if v is not None and str(v).strip() not in ("", "nan", "unknown"):
            return v
    return None


def _sar_properties(attrs: Mapping[str, Any], ds: xr.Dataset) -> dict[str, Any]:
    """sar/sat/view fields and platform metadata from the dataset attributes (only those known).

    The attributes come in two spellings: the scene metadata the stack carries (``mode``,
    ``product_type``, ``pass_direction``, ``radar_frequency`` in Hz, ``platform``, ...)
    and the ``sar_*`` names of :func:`sarbd.products.metadata.global_attributes`
    (``sar_center_frequency`` in Hz, or ``sar_center_frequency_ghz``). ``sar:center_frequency``
    is in GHz (sar extension v1.3.0).
    """
    p: dict[str, Any] = {"sar:frequency_band": str(_first(attrs, "sar_frequency_band") or "C")}
    for field, keys in (
        ("sar:instrument_mode", ("sar_instrument_mode", "mode")),
        ("sar:product_type", ("sar_product_type", "product_type")),
    ):
        value = _first(attrs, *keys)
        if value is not None:
            p[field] = str(value)
    pols = _first(attrs, "sar_polarizations", "polarizations")
    if pols is None:
        pols = sorted(
            {
                str(v).rsplit("_", 1)[-1].upper()
                for v in ds.data_vars
                if str(v).rsplit("_", 1)[-1] in ("vv", "vh", "hh", "hv")
            }
        )
    elif isinstance(pols, str):
        pols = pols.replace(",", " ").split()
    p["sar:polarizations"] = list(dict.fromkeys(str(x).upper() for x in np.atleast_1d(pols))) or [
        "VV"
    ]
    ghz = _first(attrs, "sar_center_frequency_ghz")
    hz = _first(attrs, "sar_center_frequency", "radar_frequency")
    if ghz is not None or hz is not None:
        p["sar:center_frequency"] = float(ghz) if ghz is not None else float(hz) / 1e9
    numeric: tuple[tuple[str, type, tuple[str, ...]], ...] = (
        ("sar:pixel_spacing_range", float, ("sar_pixel_spacing_range", "range_pixel_spacing")),
        (
            "sar:pixel_spacing_azimuth",
            float,
            ("sar_pixel_spacing_azimuth", "azimuth_pixel_spacing"),
        ),
        ("sar:looks_range", int, ("sar_looks_range",)),
        ("sar:looks_azimuth", int, ("sar_looks_azimuth",)),
        ("sat:absolute_orbit", int, ("sar_absolute_orbit", "absolute_orbit")),
        ("sat:relative_orbit", int, ("sar_relative_orbit", "relative_orbit")),
        ("view:incidence_angle", float, ("sar_view_incidence_angle", "incidence_angle_mid_swath")),
    )
    for field, cast, names in numeric:
        value = _first(attrs, *names)
        if value is not None and np.isfinite(float(value)):
            p[field] = cast(value)
    if (
        "sar:looks_range" not in p and "sar:pixel_spacing_range" in p
    ):  # SLC-derived stack: single look
        p["sar:looks_range"] = p["sar:looks_azimuth"] = 1
    look = str(_first(attrs, "radar_grid_look_side", "look_side") or "").lower()
    if look in ("left", "right"):
        p["sar:observation_direction"] = look
    pass_dir = str(_first(attrs, "sar_pass_direction", "sar_pass", "pass_direction") or "").lower()
    if pass_dir in ("ascending", "descending"):
        p["sat:orbit_state"] = pass_dir
    if "view:incidence_angle" not in p and "incidence_angle" in ds:
        p["view:incidence_angle"] = float(ds["incidence_angle"].mean(skipna=True).values)
    platform = str(_first(attrs, "sar_platform", "platform") or "").strip().lower()
    if platform:
        p["platform"] = platform
        for prefix, constellation in _CONSTELLATIONS.items():
            if platform.startswith(prefix):
                p["constellation"] = constellation
    instrument = str(_first(attrs, "instrument") or "").strip().lower()
    if instrument:
        p["instruments"] = [instrument]
    return p


def _sat_known(props: Mapping[str, Any]) -> bool:
    """The sat extension may only be declared when a ``sat:`` field is filled (its schema requires one)."""
    return any(k.startswith("sat:") for k in props)


def _cog_index(folder: Path) -> list[dict[str, Any]]:
    """Variable, time, split and path of every COG under ``folder`` (from their tags)."""
    import rasterio

    out = []
    paths = (
        sorted(folder.glob("*.tif"))
        + sorted((folder / "geocoded").glob("*.tif"))
        + sorted((folder / "splits").glob("*/*.tif"))
        + sorted((folder / "splits").glob("*/geocoded/*.tif"))
    )
    for path in paths:
        with rasterio.open(path) as src:
            tags = src.tags()
            variable = tags.get("sarbd_variable", path.stem)
            record = {
                "path": path,
                "variable": variable,
                "time": tags.get("time"),
                "long_name": tags.get("long_name", path.stem),
                "shape": [src.height, src.width],
                "flag_values": tags.get("flag_values"),
                "flag_masks": tags.get("flag_masks"),
                "flag_meanings": tags.get("flag_meanings"),
                "key": variable,
                "split": tags.get("sarbd_split"),
                "nodata": src.nodata,
                "proj": {},
            }
            if path.parent.name == "geocoded" and src.crs is not None:
                epsg = src.crs.to_epsg()
                record["key"] = f"{variable}_geocoded"
                record["proj"] = {
                    "proj:code": f"EPSG:{epsg}" if epsg else None,
                    "proj:shape": [src.height, src.width],
                    "proj:transform": list(src.transform)[:6],
                }
                if epsg is None:
                    record["proj"]["proj:wkt2"] = src.crs.to_wkt()
            out.append(record)
    return out


def _numbers(text: str | None) -> list[int]:
    """Integers of a COG tag holding a NumPy array as text (``"[0 1 2]"``)."""
    return [int(v) for v in str(text or "").strip("[]").replace(",", " ").split()]


def _classification(
    record: Mapping[str, Any], classes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """``classification:classes`` (label and split rasters) or ``classification:bitfields`` (quality flags)."""
    from sarbd.dataset.classes import class_colour

    names = str(record.get("flag_meanings") or "").split()
    if record.get("flag_masks"):
        masks = _numbers(record["flag_masks"])
        fields = []
        for mask, name in zip(masks, names, strict=False):
            bit = int(mask).bit_length() - 1
            fields.append(
                {
                    "offset": bit,
                    "length": 1,
                    "name": name,
                    "description": f"{name} (bit {bit})",
                    "classes": [
                        {"value": 0, "name": "no", "description": f"not {name}"},
                        {"value": 1, "name": "yes", "description": name},
                    ],
                }
            )
        return {"classification:bitfields": fields} if fields else {}
    values = _numbers(record.get("flag_values"))
    if not values or len(values) != len(names):
        return {}
    colour = (
        {int(c["id"]): class_colour(int(c["id"])) for c in classes}
        if record["variable"].startswith("label")
        else {}
    )
    out = []
    for value, name in zip(values, names, strict=True):
        entry: dict[str, Any] = {
            "value": value,
            "name": name,
            "description": name.replace("_", " "),
        }
        if value in colour:
            entry["color_hint"] = colour[value].lstrip("#").upper()
        out.append(entry)
    return {"classification:classes": out}


def _roles(variable: str) -> list[str]:
    roles = ["data"]
    for key, role in _SAR_ROLES.items():
        if variable.startswith(key):
            roles.append(role)
    if variable == "incidence_angle":
        roles.append("incidence-angle")
    if variable == "layover_shadow_mask":
        roles.append("terrain-shadow")
    return roles


def write_readme(
    dataset_dir: str | os.PathLike[str],
    *,
    name: str,
    title: str,
    description: str,
    authors: Sequence[str],
    license: str,
    source: str,
    extra: str = "",
) -> Path:
    """``README.md`` with EOTDL front-matter (name, authors, license, source), atomically."""
    import yaml

    front = {"name": name, "authors": list(authors), "license": license, "source": source}
    text = (
        "---\n"
        + yaml.safe_dump(front, sort_keys=False)
        + "---\n\n"
        + f"# {title}\n\n{description}\n"
    )
    if extra:
        text += "\n" + extra.strip() + "\n"
    path = Path(dataset_dir) / "README.md"
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _asset_dict(
    path: Path, title: str, media_type: str, roles: list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "href": str(path),
        "title": title,
        "type": media_type,
        "roles": roles,
        **_file_fields(path),
        **extra,
    }


def write_stac(
    dataset_dir: str | os.PathLike[str],
    ds: xr.Dataset,
    *,
    collection_id: str = "sarbd",
    title: str | None = None,
    description: str | None = None,
    license: str = "CC-BY-4.0",
    authors: Sequence[str] = ("The sarbd developers",),
    source: str = "https://github.com/sarbd/sarbd",
    keywords: Sequence[str] = ("SAR", "InSAR", "benchmark", "machine learning", "SARbd"),
    label_level: str = "label_l3",
) -> Path:
    """Write the STAC catalog (and README) describing the files already in ``dataset_dir``.

    It finds ``dataset.nc``, ``dataset.zarr``, ``cog/*.tif`` (variable and date from
    the COG tags written by :func:`sarbd.export.cog.write_cogs`), ``tables/*.parquet``,
    ``chips/*.parquet`` and ``run_log.json``; ``ds`` (the dataset) gives footprint,
    times, SAR metadata, classes and per-split class counts.

    Parameters
    ----------
    dataset_dir
        The dataset folder (``docs/formats.md``).
    ds
        The dataset written there.
    collection_id, title, description, license, authors, source, keywords
        Collection and README metadata (license: an SPDX identifier).
    label_level
        The label variable whose per-split class counts go to ``label:overviews``.

    Returns
    -------
    Path
        The root ``catalog.json``.
    """
    import pystac

    root = Path(dataset_dir).resolve()
    if not root.is_dir():
        raise InputError("dataset folder does not exist", path=root)
    if "latitude" not in ds.variables or "longitude" not in ds.variables:
        raise InputError("dataset has no latitude/longitude for the STAC footprint")
    attrs = dict(ds.attrs)
    title = title or str(attrs.get("title", "SARbd dataset"))
    description = description or str(
        attrs.get("summary", "Labelled SAR benchmark dataset in radar geometry.")
    )
    classes = classes_from_attrs(attrs)
    geometry, bbox = _footprint(ds), _bbox(ds)
    times = [_utc(t) for t in np.asarray(ds["time"].values)] if "time" in ds.coords else []
    if not times:
        raise InputError("dataset has no time coordinate")
    start, end = min(times), max(times)
    shape = [int(ds.sizes["line"]), int(ds.sizes["pixel"])]
    sar_props = _sar_properties(attrs, ds)
    software = {"sarbd": __version__}
    processing = {
        "processing:level": "L2",
        "processing:software": software,
        "processing:lineage": "sarbd: coregistered SLC stack -> signatures in radar geometry",
    }
    proj = {"proj:code": None, "proj:shape": shape}

    write_readme(
        root,
        name=collection_id,
        title=title,
        description=description,
        authors=authors,
        license=license,
        source=source,
        extra="Open `catalog.json` in a STAC browser, `dataset.nc` / `dataset.zarr` with xarray, "
        "`cog/*.tif` in QGIS. Created with sarbd " + __version__ + ".",
    )

    catalog = pystac.Catalog(id=f"{collection_id}-catalog", description=description, title=title)
    collection = pystac.Collection(
        id=collection_id,
        title=title,
        description=description,
        license=license,
        keywords=list(keywords),
        extent=pystac.Extent(pystac.SpatialExtent([bbox]), pystac.TemporalExtent([[start, end]])),
        providers=[pystac.Provider(name=a, roles=[pystac.ProviderRole.PRODUCER]) for a in authors],
        summaries=pystac.Summaries(
            {
                k: v if isinstance(v, list) else [v]
                for k, v in sar_props.items()
                if k.split(":")[0] in ("sar", "sat") or k in ("platform", "constellation")
            }
        ),
    )
    collection.stac_extensions = [EXTENSIONS["file"], EXTENSIONS["sar"]]
    for path, key, t, mt, roles in (
        (
            root / "dataset.nc",
            "netcdf",
            "The whole dataset, CF-1.10 + ACDD-1.3 netCDF",
            "application/x-netcdf",
            ["data"],
        ),
        (
            root / "dataset.zarr",
            "zarr",
            "The whole dataset, Zarr (consolidated)",
            "application/vnd+zarr",
            ["data"],
        ),
        (
            root / "tables" / "pixels.parquet",
            "pixels",
            "One row per labelled pixel",
            "application/vnd.apache.parquet",
            ["data", "labels"],
        ),
        (
            root / "run_log.json",
            "run_log",
            "Processing stages, timings, versions",
            "application/json",
            ["metadata"],
        ),
        (root / "README.md", "readme", "Dataset description", "text/markdown", ["metadata"]),
    ):
        if path.exists():
            collection.add_asset(key, pystac.Asset.from_dict(_asset_dict(path, t, mt, roles)))
    for path in sorted((root / "chips").glob("chips_*.parquet")):
        collection.add_asset(
            path.stem,
            pystac.Asset.from_dict(
                _asset_dict(
                    path,
                    f"Chip index ({path.stem.split('_')[-1]} px)",
                    "application/vnd.apache.parquet",
                    ["metadata", "labels"],
                )
            ),
        )
    catalog.add_child(collection)

    cogs = _cog_index(root / "cog") if (root / "cog").is_dir() else []
    label_vars = {"label_l1", "label_l2", "label_l3", "quality_flags", "split"}
    feature_ext = [
        EXTENSIONS[k]
        for k in ("sar", "sat", "view", "processing", "projection", "file", "ml-aoi")
        if (k != "sat" or _sat_known(sar_props))
        and (k != "view" or "view:incidence_angle" in sar_props)
    ]

    def feature_item(item_id: str, props: dict[str, Any], when: _dt.datetime | None) -> pystac.Item:
        item = pystac.Item(
            id=item_id,
            geometry=geometry,
            bbox=bbox,
            datetime=when,
            properties={**sar_props, **processing, **proj, **props},
            start_datetime=None if when else start,
            end_datetime=None if when else end,
        )
        item.stac_extensions = list(feature_ext)
        return item

    feature_items: list[pystac.Item] = []
    for when in times:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        item = feature_item(f"{collection_id}-{when:%Y%m%d}", {}, when)
        for c in cogs:
            if c["time"] == stamp and c["variable"] not in label_vars:
                item.add_asset(
                    c["key"],
                    pystac.Asset.from_dict(
                        _asset_dict(
                            c["path"],
                            c["long_name"],
                            COG_TYPE,
                            _roles(c["variable"]),
                            **{"ml-aoi:role": "feature", **c["proj"]},
                        )
                    ),
                )
        feature_items.append(item)
    static = [c for c in cogs if c["time"] is None and c["variable"] not in label_vars]
    if static:
        item = feature_item(f"{collection_id}-static", {"title": "time-less layers"}, None)
        for c in static:
            item.add_asset(
                c["key"],
                pystac.Asset.from_dict(
                    _asset_dict(
                        c["path"],
                        c["long_name"],
                        COG_TYPE,
                        _roles(c["variable"]),
                        **{"ml-aoi:role": "feature", **c["proj"]},
                    )
                ),
            )
        feature_items.append(item)
    for item in feature_items:
        collection.add_item(item)

    split = np.asarray(ds["split"].values) if "split" in ds else None
    labels = np.asarray(ds[label_level].values) if label_level in ds else None
    class_ids = [int(c["id"]) for c in classes]
    for sid in (0, 1, 2, 3) if split is not None else (0,):
        name = SPLIT_NAMES[sid] if sid else "all"
        if sid and split is not None and not np.any(split == sid):
            continue
        own = [
            c for c in cogs if sid and c["split"] == name
        ]  # this split's label COGs (other splits nodata)
        whole = [c for c in cogs if c["variable"] in label_vars and c["split"] is None]
        label_cogs = own or whole
        counts = []
        if labels is not None:
            sel = labels[split == sid] if split is not None and sid else labels
            counts = [
                {"name": str(cid), "count": int(np.count_nonzero(sel == cid))} for cid in class_ids
            ]
        if own:
            where = (
                f"its label COGs hold the {name} split only (pixels of other splits are nodata; "
                f"split code {sid} in the split raster)"
            )
        elif sid:
            where = (
                f"its label COGs cover the scene: this split is where the split raster equals {sid}"
            )
        elif split is not None:
            where = (
                "the whole scene, every split: the split raster gives each pixel's split "
                "(1 train, 2 validation, 3 test, 0 buffer between them)"
            )
        else:
            where = "the whole scene (no split)"
        props = {
            "label:properties": None,
            "label:type": "raster",
            "label:description": (
                f"SARbd labels{f', {name} split' if sid else ''}: L1 (rules on SAR signatures), L2 (radarcoded reference, majority "
                "class), L3 (L2 purified by boundary buffer, layover/shadow, border and SAR-consistency tests); "
                "quality_flags say why a pixel is not L3. label:classes and label:overviews use the raster "
                f"values (0 = unlabelled, nodata); classification:classes names them; the overview counts "
                f"{label_level} pixels; {where}."
            ),
            "label:classes": [{"name": None, "classes": class_ids}],
            "label:tasks": ["segmentation", "classification"],
            "label:methods": ["automated"],
            "label:overviews": [{"counts": counts}] if counts else [],
            **proj,
            "processing:level": "L3" if label_level == "label_l3" else "L2",
            "processing:software": software,
            "processing:lineage": "sarbd labels: rules (L1), radarcoded reference (L2), purification (L3)",
        }
        if sid:
            props["ml-aoi:split"] = _ML_AOI_SPLIT[name]
        item_id = (
            f"{collection_id}-labels-{name}" if sid else f"{collection_id}-labels"
        )  # the scene: all splits
        item = pystac.Item(
            id=item_id,
            geometry=geometry,
            bbox=bbox,
            datetime=None,
            start_datetime=start,
            end_datetime=end,
            properties=props,
        )
        item.stac_extensions = [
            EXTENSIONS[k]
            for k in ("label", "ml-aoi", "classification", "projection", "file", "processing")
        ]
        for c in label_cogs:
            roles = (
                ["labels", "labels-raster"] if c["variable"].startswith("label") else ["metadata"]
            )
            item.add_asset(
                c["key"],
                pystac.Asset.from_dict(
                    _asset_dict(
                        c["path"],
                        c["long_name"] + (f" ({name} split)" if c["split"] else ""),
                        COG_TYPE,
                        roles,
                        **{
                            "ml-aoi:role": "label",
                            "ml-aoi:reference-grid": not c["proj"],
                            **c["proj"],
                            **_classification(c, classes),
                        },
                    )
                ),
            )
        for f in feature_items:
            item.add_link(
                pystac.Link(
                    "source",
                    f,
                    media_type=pystac.MediaType.JSON,
                    extra_fields={"label:assets": sorted(f.assets)},
                )
            )
        collection.add_item(item)

    catalog.normalize_hrefs(str(root))
    catalog.make_all_asset_hrefs_relative()
    catalog.catalog_type = pystac.CatalogType.SELF_CONTAINED
    # write the whole tree beside the dataset, then swap it in with renames: a reader never
    # sees a half-written catalog (at worst, for an instant, the old tree under a trash name)
    tmp = Path(tempfile.mkdtemp(prefix=".stac.", suffix=".tmp", dir=root))
    trash = root / f".{collection_id}.old.tmp"
    try:
        catalog.save(pystac.CatalogType.SELF_CONTAINED, dest_href=str(tmp))
        final = root / collection_id
        shutil.rmtree(trash, ignore_errors=True)
        if final.exists():
            os.replace(final, trash)
        os.replace(tmp / collection_id, final)
        os.replace(tmp / "catalog.json", root / "catalog.json")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)
    return root / "catalog.json"


def read_json(path: Path) -> Any:
    """Load a JSON file (small helper shared with the validator)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)
