"""``sarbd build``: products + reference geodata -> a SARbd dataset folder.

The stages, each cached by a hash of its inputs and settings
(:mod:`sarbd.pipeline.cache`)::

    ingest -> coregister (geometry + resampling + InSAR) -> signatures
           -> radarcode -> label -> export

Only wiring lives here: every stage calls the library function of its package.
Geometry, coregistration and InSAR run as one cached stage because
:func:`sarbd.coregistration.coregister` computes them together from the same
offsets (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sarbd import __version__
from sarbd.core.scene import Scene
from sarbd.errors import ConfigError, InputError
from sarbd.pipeline.cache import StageCache, StageRecord, file_fingerprint, stage_key, write_stage
from sarbd.pipeline.config import (
    BuildConfig,
    ProductEntry,
    ProductSpec,
    ReferenceLayer,
    load_config,
    product_main,
)
from sarbd.pipeline.input_files import (
    RASTER_SUFFIXES,
    check_chip_sizes,
    check_inputs,
    is_raster,
    read_vector,
    vector_layers,
)
from sarbd.pipeline.lock import build_lock
from sarbd.utils.files import MARKER, claim_folder
from sarbd.utils.log import get_logger

__all__ = ["RASTER_SUFFIXES", "BuildResult", "build"]

log = get_logger(__name__)

#: Bump a stage's version when its code changes what it writes.
STAGE_VERSIONS = {"ingest": "1", "coregister": "1", "signatures": "3", "radarcode": "4", "label": "4",
                  "export": "6"}

CACHE_FOLDER = ".sarbd-cache"


@dataclass
class BuildResult:
    """What a build produced."""

    directory: Path
    stages: list[StageRecord]
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def recomputed(self) -> list[str]:
        """Names of the stages computed in this run (not taken from the cache)."""
        return [s.name for s in self.stages if not s.cached]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "sarbd": __version__}
    for pkg in ("numpy", "xarray", "dask", "numba", "zarr", "rasterio", "pyproj", "geopandas", "pystac", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# -- stage helpers ---------------------------------------------------------------------

def _product_entries(config: BuildConfig) -> tuple[list[ProductEntry], int]:
    """The product entries in date order as given, and the index of the reference one."""
    inputs = config.inputs
    entries = list(inputs.products)
    if inputs.reference_product is None:
        return entries, 0
    ref = Path(inputs.reference_product)
    for i, entry in enumerate(entries):
        if product_main(entry) == ref:
            return entries, i
    return [ref, *entries], 0  # a reference outside the list is one more date


def _open_entry(entry: ProductEntry, config: BuildConfig) -> Scene:
    """Open one ``inputs.products`` entry (a path, or a mapping of open_product's options)."""
    from sarbd.products import open_product

    inputs = config.inputs
    if not isinstance(entry, ProductSpec):
        entry = ProductSpec(path=Path(entry))
    for f in entry.files():
        if not Path(f).exists():
            raise InputError("product file not found", path=f, hint="check inputs.products in the configuration")
    aoi = config.aoi.window is not None or config.aoi.bbox is not None or config.aoi.polygon is not None
    verify = inputs.verify_zip == "always" or (inputs.verify_zip == "auto" and not aoi)
    return open_product(entry.main, swath=entry.swath or inputs.swath, orbit=entry.orbit or inputs.orbits,
                        measurement=entry.measurement, offset=entry.offset, frequency=entry.frequency,
                        verify_zip=verify)


def _entry_fingerprint(entry: ProductEntry) -> Any:
    if not isinstance(entry, ProductSpec):
        return file_fingerprint(entry)
    return {"files": [file_fingerprint(f) for f in entry.files()], "offset": entry.offset,
            "frequency": entry.frequency, "swath": entry.swath}


def _open_scenes(config: BuildConfig) -> tuple[Scene, list[Scene]]:
    inputs = config.inputs
    entries, ref_index = _product_entries(config)
    scenes = [_open_entry(e, config) for e in entries]
    for e, s in zip(entries, scenes, strict=True):
        missing = [pol for pol in inputs.polarizations if pol not in s.polarizations]
        if missing:
            raise InputError(
                f"product has no {'/'.join(missing)} polarisation (it has {'/'.join(s.polarizations)})",
                path=product_main(e), hint="set inputs.polarizations to the polarisations every date has",
            )
    reference = scenes.pop(ref_index)
    return reference, scenes


#: Store, in the signatures stage folder, of the samples every date of the stack filled (the
#: border flag of the labels needs it; the compact cache drops the stack's SLCs after the export).
VALID_SAMPLES = "valid_samples.zarr"


def _valid_samples(stack: xr.Dataset) -> xr.DataArray | None:
    """Samples filled in every date: finite, and not exactly zero in a resampled (secondary)
    date -- the coregistration fills outputs whose kernel has no source with 0, while a zero
    DN of the reference itself is a real (dark) sample. ``None`` without SLCs in the stack.
    """
    slcs = [v for v in stack.data_vars if str(v).startswith("slc_") and "time" in stack[v].dims]
    if not slcs:
        return None
    times = np.asarray(stack["time"].values).astype("datetime64[s]")
    ref = str(stack.attrs.get("reference_date", ""))[:19]
    hits = np.nonzero(times == np.datetime64(ref, "s"))[0] if ref else np.array([0])
    secondary = xr.DataArray(np.arange(times.size) != (int(hits[0]) if hits.size else 0), dims="time")
    valid = xr.DataArray(True)
    for v in slcs:
        s = stack[v]
        valid = valid & (np.isfinite(s.real) & ((s != 0) | ~secondary)).all("time")
    return valid.transpose("line", "pixel").astype(np.uint8).rename("valid_samples")


def _border(valid: xr.DataArray | None, config: BuildConfig) -> Any:
    """:func:`sarbd.dataset.labels.border_mask` of the stack's filled samples (:func:`_valid_samples`).

    Their reach is the signature window (plus filters, ``required_halo``) or the stack's
    coherence window, whichever is larger, and half the interpolation kernel.
    """
    from sarbd.dataset.labels import border_mask
    from sarbd.signatures.compute import required_halo

    if valid is None:
        return None
    flt = config.signatures.filter
    filter_name = None if flt.name == "none" else ("quegan_yu" if flt.name == "quegan" else flt.name)
    filter_kwargs = {"window": flt.window} if filter_name not in (None, "refined_lee") else None
    reach = required_halo(config.signatures.window, filter_name, filter_kwargs) - 1
    coh = config.coregistration.coherence_window  # the stack's coherence estimator window (lines, pixels)
    reaches = (max(reach, int(coh[0]) // 2), max(reach, int(coh[1]) // 2))
    taps = int(config.coregistration.kernel_taps)
    return border_mask(np.asarray(valid.values).astype(bool), reaches, taps // 2)


def _aoi_window(config: BuildConfig, reference: Scene) -> tuple[int, int, int, int] | None:
    aoi = config.aoi
    if aoi.window is not None:
        return aoi.window
    if aoi.bbox is None and aoi.polygon is None:
        return None
    import shapely

    from sarbd.geometry import geo2rdr

    if aoi.bbox is not None:
        geom = shapely.box(*aoi.bbox)
    else:
        assert aoi.polygon is not None  # one of bbox/polygon is set here
        gdf = read_vector(aoi.polygon)
        if gdf.crs is None:
            raise InputError("AOI polygon has no CRS", path=aoi.polygon)
        geom = gdf.to_crs("EPSG:4326").union_all()
    ring = np.asarray(shapely.segmentize(geom.envelope, 0.001).exterior.coords)
    grid = reference.radar_grid.with_epoch(reference.orbit.reference_epoch)
    t, r, ok = geo2rdr(ring[:, 1], ring[:, 0], np.zeros(len(ring)), reference.orbit,
                       look_side=grid.look_side, wavelength=grid.wavelength)
    if not np.any(ok):
        raise InputError("the AOI does not map onto the reference orbit", path=aoi.polygon)
    lines = grid.azimuth_time_to_line(t[ok])
    pixels = grid.slant_range_to_pixel(r[ok])
    l0 = int(max(np.floor(lines.min()), 0))
    l1 = int(min(np.ceil(lines.max()) + 1, grid.length))
    p0 = int(max(np.floor(pixels.min()), 0))
    p1 = int(min(np.ceil(pixels.max()) + 1, grid.width))
    if l1 <= l0 or p1 <= p0:
        raise InputError(
            f"the AOI {aoi.bbox or aoi.polygon} does not overlap the reference radar grid",
            hint="check the AOI coordinates (lon_min, lat_min, lon_max, lat_max) against `sarbd info`",
        )
    return (l0, p0, l1 - l0, p1 - p0)


def _read_reference_layers(layers: list[ReferenceLayer]) -> Any:
    """All reference layers as one GeoDataFrame (EPSG:4326) with ``sarbd_class``/width/height columns."""
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
                raise InputError(f"layer {name!r} has no CRS", path=layer.path,
                                 hint="assign one, e.g. with ogr2ogr -a_srs EPSG:xxxx")
            if len(gdf) == 0:
                continue
            if layer.class_name:
                cls = pd.Series(layer.class_name, index=gdf.index)
            elif layer.class_field:
                if layer.class_field not in gdf.columns:
                    raise InputError(f"layer {name!r} has no field {layer.class_field!r} "
                                     f"(fields: {', '.join(map(str, gdf.columns))})", path=layer.path)
                cls = gdf[layer.class_field].astype(str)
            else:
                cls = pd.Series(name, index=gdf.index)
            if layer.class_map:
                cls = cls.map(lambda v, m=layer.class_map: m.get(v, v))
            out = gpd.GeoDataFrame({"sarbd_class": cls.values}, geometry=gdf.geometry.values, crs=gdf.crs)
            for src, dst in ((layer.width_field, "sarbd_width"), (layer.height_field, "sarbd_height")):
                if src and src in gdf.columns:
                    out[dst] = gdf[src].astype(float).values
            frames.append(out.to_crs("EPSG:4326"))
    if not frames:
        raise InputError("the reference layers contain no features", path=layers[0].path if layers else None)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


def _is_raster(path: Path) -> bool:
    return is_raster(path)


def _raster_classes(layer: ReferenceLayer) -> dict[float, str]:
    """``{raster value: class}`` of a categorical reference raster, from ``class_map`` or ``class_name``."""
    if not Path(layer.path).exists():
        raise InputError("reference raster not found", path=layer.path)
    if layer.class_map:
        try:
            return {float(value): name for value, name in layer.class_map.items()}
        except ValueError:
            raise ConfigError("a raster layer's class_map keys must be raster values (numbers)",
                              hint="e.g. class_map: {'10': vegetation, '80': water}") from None
    raise ConfigError(f"raster reference layer {layer.path} needs a class_map of raster values to classes",
                      hint="e.g. class_map: {'10': vegetation, '80': water} for ESA WorldCover")


def _classes(config: BuildConfig, found: list[str]) -> list[dict[str, Any]]:
    names = list(config.inputs.classes) or sorted(set(found))
    unknown = sorted(set(found) - set(names))
    if unknown and config.inputs.classes:
        log.warning("reference classes %s are not in inputs.classes and are ignored", unknown)
    return [{"id": i + 1, "name": n} for i, n in enumerate(names)]


# -- the build -----------------------------------------------------------------------

def build(
    config: BuildConfig | str | Path,
    *,
    on_stage: Callable[[str, str], None] | None = None,
) -> BuildResult:
    """Run the whole build; stages whose inputs and settings are unchanged are skipped.

    Parameters
    ----------
    config
        A :class:`BuildConfig` or the path of a YAML configuration.
    on_stage
        Called as ``on_stage(name, "start"|"done"|"cached")`` for progress display.

    Returns
    -------
    BuildResult
        The dataset folder, the stage records (timings, cached or not) and a summary
        (class counts per level, split balance, chips).
    """
    if not isinstance(config, BuildConfig):
        config = load_config(config)
    check_inputs(config)
    out = _dataset_folder(Path(config.outputs.directory))
    with build_lock(out):
        return _build_locked(config, out, on_stage)


def _dataset_folder(out: Path) -> Path:
    """Create the dataset folder, or accept an existing one only if sarbd made it (or it is empty)."""
    return claim_folder(out, accept=(CACHE_FOLDER,), what="dataset folder")


def _build_locked(config: BuildConfig, out: Path, on_stage: Callable[[str, str], None] | None) -> BuildResult:
    notify = on_stage or (lambda name, state: None)
    start = time.perf_counter()
    for stale in out.glob(f"{EXPORT_STAGING}*"):  # left by a killed export
        shutil.rmtree(stale, ignore_errors=True)
    cache = StageCache(out / CACHE_FOLDER)
    settings = config.resolved()
    inputs = config.inputs

    def run(name: str, key: str, compute: Callable[[Path], dict[str, Any] | None]) -> StageRecord:
        cached = cache.is_complete(name, key)
        notify(name, "cached" if cached else "start")
        rec = cache.run(name, key, compute)
        notify(name, "cached" if cached else "done")
        return rec

    # ingest: which products, which window
    entries, ref_index = _product_entries(config)
    ingest_key = stage_key("ingest", STAGE_VERSIONS["ingest"], {
        "products": [_entry_fingerprint(e) for e in entries],
        "reference": str(product_main(entries[ref_index])),
        "swath": inputs.swath, "polarizations": inputs.polarizations,
        "orbits": file_fingerprint(inputs.orbits) if inputs.orbits else None,
        "aoi": settings["aoi"],
    }, [])
    reference, secondaries = _open_scenes(config)

    def do_ingest(folder: Path) -> dict[str, Any]:
        window = _aoi_window(config, reference)
        info = {"window": window, "reference": reference.metadata.get("product_name"),
                "dates": [str(s.metadata.get("start_time")) for s in [reference, *secondaries]]}
        (folder / "ingest.json").write_text(json.dumps(info, default=str, indent=2))
        return info

    rec_ingest = run("ingest", ingest_key, do_ingest)
    window = rec_ingest.info.get("window")
    if window:
        reference = reference.crop(*window)
    check_chip_sizes(config, (reference.radar_grid.length, reference.radar_grid.width))

    # coregister (+ geometry + InSAR)
    dem_fp = {"file": file_fingerprint(inputs.dem), "vertical_datum": inputs.dem_vertical_datum} \
        if inputs.dem else None
    dem_cache: dict[str, Any] = {}

    def open_dem() -> Any:
        """The DEM over the reference footprint, read once, with its vertical datum (or the assumption)."""
        if "dem" not in dem_cache:
            from sarbd.geometry import Dem
            from sarbd.geometry.geocode import footprint_bounds

            bounds = footprint_bounds(reference)
            if inputs.dem is None:
                # sea level, not the bare ellipsoid (which is 50-100 m off the geoid in places)
                log.warning("no DEM (inputs.dem): the terrain is taken at 0 m above the EGM96 geoid; "
                            "land above sea level is misplaced by its height over tan(incidence)")
                dem_cache["dem"] = Dem.geoid_surface(bounds, 0.0, spacing=0.01)
            else:
                dem_cache["dem"] = Dem.open(inputs.dem, vertical_datum=inputs.dem_vertical_datum,
                                            bounds=bounds, margin=0.1)
        return dem_cache["dem"]
    coreg_settings = {**settings["coregistration"], "dem": dem_fp, "polarizations": inputs.polarizations}
    coreg_key = stage_key("coregister", STAGE_VERSIONS["coregister"], coreg_settings, [ingest_key])

    def do_coregister(folder: Path) -> dict[str, Any]:
        from sarbd.coregistration import coregister, write_stack

        stack = coregister(
            reference, secondaries, dem=open_dem(),
            polarizations=inputs.polarizations, window=config.coregistration.coherence_window,
            kernel_taps=config.coregistration.kernel_taps, chunks=config.compute.chunks,
            refine=config.coregistration.refine, esd=config.coregistration.esd,
            tops_reramp=config.coregistration.tops_reramp,
        )
        write_stack(stack, folder / "stack.zarr")
        return {"dates": int(stack.sizes.get("time", 1)), "shape": [int(stack.sizes["line"]),
                                                                   int(stack.sizes["pixel"])]}

    # signatures: stored with the dataset's chunks and codecs (and quantisation), so the
    # export links them into dataset.zarr
    quantize = settings["outputs"]["quantize"]
    sig_settings = {**settings["signatures"], "storage": {"chunks": list(config.compute.chunks), "quantize": quantize}}
    sig_key = stage_key("signatures", STAGE_VERSIONS["signatures"], sig_settings, [coreg_key])
    if cache.is_pruned("coregister", coreg_key) and not cache.is_complete("signatures", sig_key):
        cache.discard("coregister", coreg_key)  # the new signatures need the SLCs compact mode dropped

    rec_coreg = run("coregister", coreg_key, do_coregister)
    stack = xr.open_zarr(rec_coreg.path / "stack.zarr")

    def do_signatures(folder: Path) -> dict[str, Any]:
        import sarbd.signatures as sig

        names = None if config.signatures.select == "all" else list(config.signatures.select)
        left_out: list[str] = []
        if stack.sizes.get("time", 1) < 2:
            names, left_out = single_date_selection(stack, names)
            log.warning("one date: the %d signatures that need two or more dates are left out (%s); "
                        "give more products for temporal statistics and coherence", len(left_out),
                        ", ".join(left_out))
        flt = config.signatures.filter
        filter_name = None if flt.name == "none" else ("quegan_yu" if flt.name == "quegan" else flt.name)
        # refined Lee works on its fixed 7 x 7 window (Lee et al. 1999); the others take a size
        filter_kwargs = {"window": flt.window} if filter_name not in (None, "refined_lee") else None
        from sarbd.export.cube import record_quantization, stage_encoding

        kwargs: dict[str, Any] = {"window": config.signatures.window, "filter": filter_name,
                                  "filter_kwargs": filter_kwargs}
        lazy = sig.compute(stack, names, **kwargs)
        # the store's chunks are those compute_to_zarr writes: the signatures' own Dask chunks
        first = next(iter(lazy.data_vars.values()))
        blocks = first.chunks or tuple((n,) for n in first.shape)
        chunks = (blocks[first.dims.index("line")][0], blocks[first.dims.index("pixel")][0])
        encoding = stage_encoding(lazy, chunks, quantize={k: v for k, v in (quantize or {}).items() if v is not None})
        features = sig.compute_to_zarr(stack, folder / "features.zarr", names, encoding=encoding, **kwargs)
        quantized = record_quantization(folder / "features.zarr")
        valid = _valid_samples(stack)  # read here, while the stack still holds its SLCs
        if valid is not None:
            write_stage(valid.to_dataset(), folder / VALID_SAMPLES, config.compute.chunks)
        return {"signatures": len(features.data_vars), "quantized": len(quantized),
                "dates": int(stack.sizes.get("time", 1)), "left_out_single_date": left_out}

    rec_sig = run("signatures", sig_key, do_signatures)
    features = xr.open_zarr(rec_sig.path / "features.zarr")
    valid_samples = (xr.open_zarr(rec_sig.path / VALID_SAMPLES)["valid_samples"]
                     if (rec_sig.path / VALID_SAMPLES).exists() else None)

    # radarcode
    if not inputs.reference:
        raise ConfigError("inputs.reference is empty: a SARbd dataset needs reference geodata for L2/L3",
                          hint="add reference layers (e.g. a GeoPackage of buildings, roads, water)")
    rc_settings = {
        "layers": [{**layer.model_dump(mode="json"), "fingerprint": file_fingerprint(layer.path)}
                   for layer in inputs.reference],
        "dem": dem_fp, "buffer": config.labels.l3_buffer_m, "threshold": config.labels.l2_threshold,
    }
    rc_key = stage_key("radarcode", STAGE_VERSIONS["radarcode"], rc_settings, [coreg_key])

    def do_radarcode(folder: Path) -> dict[str, Any]:
        from sarbd.radarcode import radarcode, radarcode_raster
        from sarbd.radarcode.merge import stack_reference_layers

        dem = open_dem()
        lab = config.labels
        vectors = [layer for layer in inputs.reference if not _is_raster(layer.path)]
        rasters = [layer for layer in inputs.reference if _is_raster(layer.path)]
        parts, found = [], set()
        if vectors:
            gdf = _read_reference_layers(vectors)
            width_field = "sarbd_width" if "sarbd_width" in gdf.columns else None
            height_field = "sarbd_height" if "sarbd_height" in gdf.columns else None
            parts.append(radarcode(
                gdf, stack, class_field="sarbd_class", dem=dem, buffer=lab.l3_buffer_m, threshold=lab.l2_threshold,
                width_field=width_field, height_field=height_field, chunks=config.compute.chunks,
            ))
            found |= {str(c) for c in gdf["sarbd_class"].unique()}
        for layer in rasters:  # categorical rasters (land cover) fill what the vectors leave
            classes = _raster_classes(layer)
            parts.append(radarcode_raster(layer.path, stack, kind="categorical", dem=dem, classes=classes,
                                          threshold=lab.l2_threshold, buffer=lab.l3_buffer_m,
                                          chunks=config.compute.chunks))
            found |= set(classes.values())
        codes = {n: i + 1 for i, n in enumerate(inputs.classes)}
        result = parts[0] if len(parts) == 1 else stack_reference_layers(parts, lab.l2_threshold, codes)
        write_stage(result, folder / "reference.zarr", config.compute.chunks)
        return {"classes": sorted(found)}

    rec_rc = run("radarcode", rc_key, do_radarcode)
    radarcoded = xr.open_zarr(rec_rc.path / "reference.zarr")
    classes = _classes(config, rec_rc.info.get("classes", []))

    # label: L1 / L2 / L3, splits
    label_settings = {**settings["labels"], "chips": settings["chips"], "classes": classes}
    label_key = stage_key("label", STAGE_VERSIONS["label"], label_settings, [sig_key, rc_key])

    def do_label(folder: Path) -> dict[str, Any]:
        from sarbd.dataset import OutlierTest, class_counts, label_l1, label_l2, label_l3
        from sarbd.dataset.splits import assign_splits

        lab = config.labels
        fractions = radarcoded[[v for v in radarcoded.data_vars if str(v).startswith("fraction_")]]
        if lab.l1_method == "wishart_h_alpha":  # unsupervised, quad-pol builds
            from sarbd.dataset.wishart import label_l1_wishart

            l1 = label_l1_wishart(features, classes, lab.l1_cluster_classes, max_iterations=lab.l1_wishart_iterations)
        else:
            l1 = label_l1(features, [(r.class_name, r.expression) for r in lab.l1_rules], classes)
        l2 = label_l2(fractions, classes, lab.l2_threshold)
        features_present = [f for f in lab.l3_features if _expression_available(f, features)]
        test = OutlierTest(tuple(features_present), method=lab.l3_outlier_method,
                           alpha=1.0 - lab.l3_outlier_probability,
                           region_min_pixels=lab.l3_region_min_pixels) if features_present else None
        l3 = label_l3(l2, features, radarcoded["boundary_distance"], stack["layover_shadow_mask"],
                      lab.l3_buffer_m, test, fractions, lab.l2_threshold, border=_border(valid_samples, config),
                      required=[str(v) for v, da in features.data_vars.items()
                                if da.dims == ("line", "pixel") and da.dtype.kind == "f"])
        chips = config.chips
        split = assign_splits(l2, chips.block, chips.buffer,
                              dict(zip(("train", "validation", "test"), chips.fractions, strict=True)), chips.seed)
        labels = xr.merge([l1.rename("label_l1"), l2.rename("label_l2"), l3, split.rename("split")],
                          combine_attrs="drop_conflicts")
        write_stage(labels, folder / "labels.zarr", config.compute.chunks)
        return {"counts": {lvl: class_counts(labels[f"label_{lvl}"], classes) for lvl in ("l1", "l2", "l3")}}

    rec_label = run("label", label_key, do_label)
    labels = xr.open_zarr(rec_label.path / "labels.zarr")

    # export
    export_key = stage_key("export", STAGE_VERSIONS["export"], settings["outputs"], [label_key, sig_key, rc_key])
    records_so_far = cache.records

    def do_export(folder: Path) -> dict[str, Any]:
        from sarbd.dataset.assemble import assemble_dataset
        from sarbd.export.cube import zarr_links
        from sarbd.export.dataset import write_dataset

        l3 = labels[["label_l3", "quality_flags"]]
        ds = assemble_dataset(stack, features, radarcoded,
                              [labels["label_l1"], labels["label_l2"], l3], classes, labels["split"],
                              attrs=_date_attrs(rec_sig.info))
        run_log = {
            "sarbd_version": __version__, "versions": _versions(), "config": settings,
            "stages": [{"name": r.name, "key": r.key, "cached": r.cached, "seconds": round(r.seconds, 3),
                        "info": r.info} for r in records_so_far],
        }
        # everything is written beside the dataset first and swapped in by renames at the end: a
        # failed export (disk full, read-only, killed) leaves the previous dataset as it was
        # (no suffix in the name: pystac would take "x.tmp" for a file and root the catalog one level up)
        staging = Path(tempfile.mkdtemp(prefix=EXPORT_STAGING, dir=out))
        try:
            summary = write_dataset(
                ds, staging, chip_sizes=config.chips.sizes, geocode=config.outputs.cog_geocode,
                cog_variables=config.outputs.cog_variables, formats=config.outputs.formats,
                table_features=config.outputs.table_features, dem=inputs.dem, run_log=run_log,
                stac={"collection_id": config.outputs.name, "license": config.outputs.license,
                      "authors": config.outputs.authors},
                links={**zarr_links(stack, rec_coreg.path / "stack.zarr"),
                       **zarr_links(features, rec_sig.path / "features.zarr"),
                       **zarr_links(radarcoded, rec_rc.path / "reference.zarr"),
                       **zarr_links(labels, rec_label.path / "labels.zarr")},
            )
            _swap_into(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return json.loads(json.dumps(summary, default=str).replace(str(staging), str(out)))

    main_output = out / ("dataset.zarr" if "zarr" in config.outputs.formats else "dataset.nc"
                         if "netcdf" in config.outputs.formats else "run_log.json")
    if cache.is_complete("export", export_key) and not main_output.exists():
        # the dataset was deleted by hand: write it again
        shutil.rmtree(cache.path_for("export", export_key), ignore_errors=True)
    rec_export = run("export", export_key, do_export)
    if config.outputs.cache == "compact":
        # only the signatures stage reads the stack's per-date rasters (SLCs, interferograms,
        # calibration): once the dataset is final they are dropped; what radarcode, label and
        # export read (geometry, coordinates, per-date 1-D metadata) stays
        cache.prune("coregister", coreg_key, "stack.zarr",
                    lambda name, dims: {"time", "line", "pixel"} <= set(dims))
    return BuildResult(out, list(cache.records), rec_export.info, time.perf_counter() - start)


#: name prefix of the export's staging and trash folders inside the dataset folder
EXPORT_STAGING = ".sarbd-export-"
#: top-level entries of the dataset folder written by the last export (for removing unselected formats)
EXPORTED = ".sarbd-exported.json"


def _swap_into(staging: Path, out: Path) -> None:
    """Move every entry of ``staging`` into ``out`` by renames; previous entries go to a trash folder.

    Entries the previous export wrote (listed in :data:`EXPORTED`) that this one did not
    (an output format no longer selected) are removed too; nothing else in ``out`` is touched.
    """
    new = sorted(p.name for p in staging.iterdir())
    try:
        previous = set(json.loads((out / EXPORTED).read_text()))
    except (OSError, ValueError, TypeError):
        previous = set()
    trash = Path(tempfile.mkdtemp(prefix=f"{EXPORT_STAGING}old-", dir=out))
    try:
        for name in new:
            if (out / name).exists() or (out / name).is_symlink():
                os.replace(out / name, trash / name)
            os.replace(staging / name, out / name)
        for name in sorted(previous - set(new) - {CACHE_FOLDER, MARKER, EXPORTED}):
            if "/" not in name and ((out / name).exists() or (out / name).is_symlink()):
                os.replace(out / name, trash / name)
        (out / EXPORTED).write_text(json.dumps(new) + "\n")
    finally:
        shutil.rmtree(trash, ignore_errors=True)
#: Signature inputs that need a second date: with one date the stack's "interferogram" and
#: "coherence" are the reference against itself (phase 0, coherence 1), which is no signature.
MULTI_DATE_INPUTS = ("time2", "coherence", "interferogram")


def single_date_selection(stack: xr.Dataset, names: list[str] | None) -> tuple[list[str], list[str]]:
    """Signatures to compute on a one-date stack, and those left out because they need two dates.

    Parameters
    ----------
    stack
        The coregistered stack (one date).
    names
        The configured selection (``None``: every signature the stack allows).

    Raises
    ------
    ConfigError
        A signature selected by name needs two or more dates.
    """
    from sarbd.signatures.compute import plan
    from sarbd.signatures.inputs import StackInputs
    from sarbd.signatures.registry import all_signatures

    inputs = StackInputs(stack)

    def multi(sig: Any) -> bool:
        return any(r.partition(":")[0] in MULTI_DATE_INPUTS for r in sig.inputs)

    left_out = [sig.variable_name(key) for sig in all_signatures() if multi(sig)
                for key in inputs.keys(sig.scope)]
    chosen = plan(inputs, names)
    if names is not None:
        bad = [var for sig, _, var in chosen if multi(sig)]
        if bad:
            raise ConfigError(f"signatures.select: {', '.join(bad)} need two or more dates, and this build has one",
                              hint="add products (dates) or drop them from signatures.select")
    return [var for sig, _, var in chosen if not multi(sig)], left_out


def _date_attrs(signature_info: dict[str, Any]) -> dict[str, Any]:
    """Dataset attributes saying how many dates there are and what one date leaves out."""
    attrs: dict[str, Any] = {"sarbd_dates": int(signature_info.get("dates", 0))}
    left = signature_info.get("left_out_single_date") or []
    if left:
        attrs["sarbd_single_date"] = 1
        attrs["sarbd_signatures_left_out"] = ", ".join(left)
        attrs["sarbd_signatures_left_out_reason"] = ("one date: temporal statistics, coherence and "
                                                     "interferometric phase need two or more dates")
    return attrs


def _expression_available(expression: str, ds: xr.Dataset) -> bool:
    from sarbd.dataset.expressions import variables_in

    return all(name in ds for name in variables_in(expression))
