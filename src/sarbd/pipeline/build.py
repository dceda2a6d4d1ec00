"""``sarbd build``: products + reference geodata -> a SARbd dataset folder.

The stages, each cached by a hash of its inputs and settings
(:mod:`sarbd.pipeline.cache`), one function each::

    run_ingest -> run_coregister (geometry + resampling + InSAR) -> run_signatures
               -> run_radarcode -> run_label -> run_export

Only wiring lives here: every stage calls the library functions of its package
(ingest: :mod:`sarbd.pipeline.ingest`, :mod:`sarbd.geometry.aoi`; coregister:
:func:`sarbd.coregistration.coregister`; signatures: :mod:`sarbd.signatures`,
:func:`sarbd.dataset.border.valid_samples`; radarcode: :func:`sarbd.radarcode`,
:mod:`sarbd.pipeline.input_files`; label: :mod:`sarbd.dataset`; export:
:func:`sarbd.export.dataset.write_dataset`, :mod:`sarbd.pipeline.publish`).
Geometry, coregistration and InSAR run as one cached stage because
:func:`sarbd.coregistration.coregister` computes them together from the same
offsets (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import xarray as xr

from sarbd import __version__
from sarbd.core.scene import Scene
from sarbd.errors import ConfigError
from sarbd.pipeline.cache import StageCache, StageRecord, file_fingerprint, stage_key, write_stage
from sarbd.pipeline.config import BuildConfig, load_config, product_main
from sarbd.pipeline.ingest import aoi_window, entry_fingerprint, open_scenes, product_entries
from sarbd.pipeline.ingest import open_entry as _open_entry  # noqa: F401 (importable from here, as before)
from sarbd.pipeline.input_files import (
    RASTER_SUFFIXES,
    check_chip_sizes,
    check_inputs,
    is_raster,
    raster_classes,
    read_reference_layers,
)
from sarbd.pipeline.lock import build_lock
from sarbd.pipeline.publish import EXPORT_STAGING, remove_stale_staging, swap_into
from sarbd.signatures.dates import date_attributes, single_date_selection
from sarbd.utils.files import claim_folder
from sarbd.utils.log import get_logger

__all__ = ["RASTER_SUFFIXES", "BuildResult", "build"]

#: the names these functions had here before they moved to :mod:`sarbd.pipeline.ingest`
_product_entries, _entry_fingerprint = product_entries, entry_fingerprint

log = get_logger(__name__)

#: Bump a stage's version when its code changes what it writes.
STAGE_VERSIONS = {
    "ingest": "2",
    "coregister": "4",
    "signatures": "7",
    "radarcode": "5",
    "label": "5",
    "tasks": "1",
    "export": "7",
}

CACHE_FOLDER = ".sarbd-cache"

#: Store, in the signatures stage folder, of the samples every date of the stack filled (the
#: border flag of the labels needs it; the compact cache drops the stack's SLCs after the export).
VALID_SAMPLES = "valid_samples.zarr"


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
    for pkg in (
        "numpy",
        "xarray",
        "dask",
        "numba",
        "zarr",
        "rasterio",
        "pyproj",
        "geopandas",
        "pystac",
        "torch",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# -- what the stages share --------------------------------------------------------------


@dataclass
class _Build:
    """One build in progress: its configuration, dataset folder, stage cache and DEM."""

    config: BuildConfig
    out: Path
    cache: StageCache
    settings: dict[str, Any]
    notify: Callable[[str, str], None]
    reference: Scene | None = None  # the (cropped) reference scene, once ingested
    imported: Any = (
        None  # another processor's coregistered stack (sarbd.stacks), if the input is one
    )
    _dem: Any = None

    def run(
        self, name: str, key: str, compute: Callable[[Path], dict[str, Any] | None]
    ) -> StageRecord:
        """Run one stage through the cache (``compute(folder)`` only when its key is not complete)."""
        cached = self.cache.is_complete(name, key)
        self.notify(name, "cached" if cached else "start")
        rec = self.cache.run(name, key, compute)
        self.notify(name, "cached" if cached else "done")
        return rec

    def dem_fingerprint(self) -> Any:
        inputs = self.config.inputs
        return (
            {"file": file_fingerprint(inputs.dem), "vertical_datum": inputs.dem_vertical_datum}
            if inputs.dem
            else None
        )

    def dem(self) -> Any:
        """The DEM over the reference footprint, read once, with its vertical datum (or the assumption)."""
        if self._dem is None:
            from sarbd.geometry import Dem
            from sarbd.geometry.geocode import footprint_bounds

            assert self.reference is not None  # ingested first
            inputs = self.config.inputs
            bounds = footprint_bounds(self.reference)
            if inputs.dem is None:
                # sea level, not the bare ellipsoid (which is 50-100 m off the geoid in places)
                log.warning(
                    "no DEM (inputs.dem): the terrain is taken at 0 m above the EGM96 geoid; "
                    "land above sea level is misplaced by its height over tan(incidence)"
                )
                self._dem = Dem.geoid_surface(bounds, 0.0, spacing=0.01)
            else:
                self._dem = Dem.open(
                    inputs.dem, vertical_datum=inputs.dem_vertical_datum, bounds=bounds, margin=0.1
                )
        return self._dem


@dataclass
class _Stage:
    """A stage's cache key and record, and the stores it wrote (opened lazily)."""

    key: str
    record: StageRecord
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.record.path


def _signature_filter(config: BuildConfig) -> tuple[str | None, dict[str, Any] | None]:
    """``signatures.filter`` as :func:`sarbd.signatures.compute`'s ``filter, filter_kwargs``."""
    flt = config.signatures.filter
    name = None if flt.name == "none" else ("quegan_yu" if flt.name == "quegan" else flt.name)
    # refined Lee works on its fixed 7 x 7 window (Lee et al. 1999); the others take a size
    return name, ({"window": flt.window} if name not in (None, "refined_lee") else None)


# -- the stages ---------------------------------------------------------------------------


def run_ingest(b: _Build) -> tuple[_Stage, Scene, list[Scene]]:
    """Which products, which window: the reference scene (cropped to the AOI) and the secondaries."""
    config, inputs = b.config, b.config.inputs
    entries, ref_index = product_entries(config)
    stack_in = inputs.stack  # another processor's coregistered stack (sarbd.stacks), or None
    key = stage_key(
        "ingest",
        STAGE_VERSIONS["ingest"],
        {
            "products": [entry_fingerprint(e) for e in entries],
            "reference": str(product_main(entries[ref_index])) if entries else None,
            "swath": inputs.swath,
            "polarizations": inputs.polarizations,
            "orbits": file_fingerprint(inputs.orbits) if inputs.orbits else None,
            "aoi": b.settings["aoi"],
            # an AOI's window covers its terrain's height range (geometry.aoi)
            **(
                {
                    "aoi_dem": file_fingerprint(inputs.dem) if inputs.dem else None,
                    "aoi_dem_datum": inputs.dem_vertical_datum,
                }
                if config.aoi.bbox is not None or config.aoi.polygon is not None
                else {}
            ),
            **(
                {
                    "stack": {
                        **stack_in.model_dump(mode="json"),
                        "files": file_fingerprint(stack_in.path),
                    }
                }
                if stack_in
                else {}
            ),
        },
        [],
    )
    if stack_in is not None:
        from sarbd.stacks import open_stack

        b.imported = open_stack(
            stack_in.path, stack_in.format, chunks=config.compute.chunks, **stack_in.options()
        )
        reference, secondaries = b.imported.reference, b.imported.secondaries
    else:
        reference, secondaries = open_scenes(config)

    def compute(folder: Path) -> dict[str, Any]:
        info = {
            "window": aoi_window(config, reference),
            "reference": reference.metadata.get("product_name"),
            "dates": [str(s.metadata.get("start_time")) for s in [reference, *secondaries]],
        }
        (folder / "ingest.json").write_text(json.dumps(info, default=str, indent=2))
        return info

    rec = b.run("ingest", key, compute)
    window = rec.info.get("window")
    if window:
        reference = reference.crop(*window)
    check_chip_sizes(config, (reference.radar_grid.length, reference.radar_grid.width))
    b.reference = reference
    return _Stage(key, rec), reference, secondaries


def _coregister_key(b: _Build, ingest: _Stage) -> str:
    settings = {
        **b.settings["coregistration"],
        "dem": b.dem_fingerprint(),
        "polarizations": b.config.inputs.polarizations,
        # only when asked for, so that the keys of builds without it stay as they were
        **({"sequential": True} if _sequential(b.config) else {}),
    }
    return stage_key("coregister", STAGE_VERSIONS["coregister"], settings, [ingest.key])


def _sequential(config: BuildConfig) -> bool:
    """Whether the stack needs the coherence of consecutive dates (``coherence_seq_<p>``):
    for the change labels' pair coherence and the time series' coherence to the previous date."""
    ts = config.outputs.timeseries
    return config.labels.change is not None or (ts is not None and ts.previous_coherence)


def _signatures_key(b: _Build, coregister_key: str) -> str:
    # stored with the dataset's chunks and codecs (and quantisation): the export links them
    storage = {
        "chunks": list(b.config.compute.chunks),
        "quantize": b.settings["outputs"]["quantize"],
    }
    return stage_key(
        "signatures",
        STAGE_VERSIONS["signatures"],
        {**b.settings["signatures"], "storage": storage},
        [coregister_key],
    )


def run_coregister(b: _Build, ingest: _Stage, reference: Scene, secondaries: list[Scene]) -> _Stage:
    """Geometry + resampling + InSAR: ``stack.zarr`` on the reference grid."""
    config = b.config
    key = _coregister_key(b, ingest)
    tasks_key = _tasks_key(b, key)
    if b.cache.is_pruned("coregister", key) and (
        not b.cache.is_complete("signatures", _signatures_key(b, key))
        or (tasks_key is not None and not b.cache.is_complete("tasks", tasks_key))
    ):
        # the new signatures (or detection/change labels) need the SLCs compact mode dropped
        b.cache.discard("coregister", key)

    def compute(folder: Path) -> dict[str, Any]:
        from sarbd.coregistration import coregister_to_zarr, write_stack

        co = config.coregistration
        if b.imported is not None:  # coregistered by another processor: assemble the sarbd stack
            from sarbd.stacks.assemble import assemble_stack

            window = ingest.record.info.get("window")
            stack = assemble_stack(
                b.imported,
                dem=b.dem(),
                polarizations=config.inputs.polarizations,
                window=co.coherence_window,
                chunks=config.compute.chunks,
                aoi=tuple(window) if window else None,
            )
            write_stack(stack, folder / "stack.zarr")
            dates, shape = (
                int(stack.sizes.get("time", 1)),
                [stack.sizes["line"], stack.sizes["pixel"]],
            )
        else:  # date by date, the geometry block by block: memory bounded whatever the scene size
            coregister_to_zarr(
                reference,
                secondaries,
                folder / "stack.zarr",
                dem=b.dem(),
                polarizations=config.inputs.polarizations,
                window=co.coherence_window,
                kernel_taps=co.kernel_taps,
                chunks=config.compute.chunks,
                refine=co.refine,
                esd=co.esd,
                tops_reramp=co.tops_reramp,
                sequential=_sequential(config),
            )
            written = xr.open_zarr(folder / "stack.zarr")
            dates, shape = (
                int(written.sizes.get("time", 1)),
                [
                    written.sizes["line"],
                    written.sizes["pixel"],
                ],
            )
        return {"dates": dates, "shape": [int(n) for n in shape]}

    rec = b.run("coregister", key, compute)
    return _Stage(key, rec, {"stack": xr.open_zarr(rec.path / "stack.zarr")})


def run_signatures(b: _Build, coreg: _Stage) -> _Stage:
    """Signatures of the stack (``features.zarr``) and the samples every date filled (:data:`VALID_SAMPLES`)."""
    config, stack = b.config, coreg.data["stack"]
    key = _signatures_key(b, coreg.key)

    def compute(folder: Path) -> dict[str, Any]:
        import sarbd.signatures as sig
        from sarbd.dataset.border import valid_samples
        from sarbd.export.cube import record_quantization, stage_encoding

        names = None if config.signatures.select == "all" else list(config.signatures.select)
        left_out: list[str] = []
        if stack.sizes.get("time", 1) < 2:
            names, left_out = single_date_selection(stack, names)
            log.warning(
                "one date: the %d signatures that need two or more dates are left out (%s); "
                "give more products for temporal statistics and coherence",
                len(left_out),
                ", ".join(left_out),
            )
        filter_name, filter_kwargs = _signature_filter(config)
        kwargs: dict[str, Any] = {
            "window": config.signatures.window,
            "filter": filter_name,
            "filter_kwargs": filter_kwargs,
        }
        lazy = sig.compute(stack, names, **kwargs)
        # the store's chunks are those compute_to_zarr writes: the signatures' own Dask chunks
        first = next(iter(lazy.data_vars.values()))
        blocks = first.chunks or tuple((n,) for n in first.shape)
        chunks = (blocks[first.dims.index("line")][0], blocks[first.dims.index("pixel")][0])
        quantize = {
            k: v for k, v in (b.settings["outputs"]["quantize"] or {}).items() if v is not None
        }
        encoding = stage_encoding(lazy, chunks, quantize=quantize)
        features = sig.compute_to_zarr(
            stack, folder / "features.zarr", names, encoding=encoding, **kwargs
        )
        quantized = record_quantization(folder / "features.zarr")
        valid = valid_samples(stack)  # read here, while the stack still holds its SLCs
        if valid is not None:
            write_stage(valid.to_dataset(), folder / VALID_SAMPLES, config.compute.chunks)
        return {
            "signatures": len(features.data_vars),
            "quantized": len(quantized),
            "dates": int(stack.sizes.get("time", 1)),
            "left_out_single_date": left_out,
        }

    rec = b.run("signatures", key, compute)
    valid = (
        xr.open_zarr(rec.path / VALID_SAMPLES)["valid_samples"]
        if (rec.path / VALID_SAMPLES).exists()
        else None
    )
    return _Stage(
        key, rec, {"features": xr.open_zarr(rec.path / "features.zarr"), "valid_samples": valid}
    )


def run_radarcode(b: _Build, coreg: _Stage) -> _Stage:
    """Reference layers (vectors, categorical rasters) -> per-class fractions on the radar grid."""
    config, inputs, stack = b.config, b.config.inputs, coreg.data["stack"]
    if not inputs.reference:
        raise ConfigError(
            "inputs.reference is empty: a SARbd dataset needs reference geodata for L2/L3",
            hint="add reference layers (e.g. a GeoPackage of buildings, roads, water)",
        )
    settings = {
        "layers": [
            {**layer.model_dump(mode="json"), "fingerprint": file_fingerprint(layer.path)}
            for layer in inputs.reference
        ],
        "dem": b.dem_fingerprint(),
        "buffer": config.labels.l3_buffer_m,
        "threshold": config.labels.l2_threshold,
    }
    key = stage_key("radarcode", STAGE_VERSIONS["radarcode"], settings, [coreg.key])

    def compute(folder: Path) -> dict[str, Any]:
        from sarbd.radarcode import radarcode, radarcode_raster
        from sarbd.radarcode.merge import stack_reference_layers

        dem, lab, chunks = b.dem(), config.labels, config.compute.chunks
        vectors = [layer for layer in inputs.reference if not is_raster(layer.path)]
        rasters = [layer for layer in inputs.reference if is_raster(layer.path)]
        parts, found = [], set()
        if vectors:
            gdf = read_reference_layers(vectors)
            width_field = "sarbd_width" if "sarbd_width" in gdf.columns else None
            height_field = "sarbd_height" if "sarbd_height" in gdf.columns else None
            parts.append(
                radarcode(
                    gdf,
                    stack,
                    class_field="sarbd_class",
                    dem=dem,
                    buffer=lab.l3_buffer_m,
                    threshold=lab.l2_threshold,
                    width_field=width_field,
                    height_field=height_field,
                    chunks=chunks,
                )
            )
            found |= {str(c) for c in gdf["sarbd_class"].unique()}
        for layer in rasters:  # categorical rasters (land cover) fill what the vectors leave
            classes = raster_classes(layer)
            parts.append(
                radarcode_raster(
                    layer.path,
                    stack,
                    kind="categorical",
                    dem=dem,
                    classes=classes,
                    threshold=lab.l2_threshold,
                    buffer=lab.l3_buffer_m,
                    chunks=chunks,
                )
            )
            found |= set(classes.values())
        codes = {n: i + 1 for i, n in enumerate(inputs.classes)}
        result = (
            parts[0] if len(parts) == 1 else stack_reference_layers(parts, lab.l2_threshold, codes)
        )
        write_stage(result, folder / "reference.zarr", chunks)
        return {"classes": sorted(found)}

    rec = b.run("radarcode", key, compute)
    return _Stage(
        key,
        rec,
        {
            "reference": xr.open_zarr(rec.path / "reference.zarr"),
            "classes": _classes(config, rec.info.get("classes", [])),
        },
    )


def _classes(config: BuildConfig, found: list[str]) -> list[dict[str, Any]]:
    names = list(config.inputs.classes) or sorted(set(found))
    unknown = sorted(set(found) - set(names))
    if unknown and config.inputs.classes:
        log.warning("reference classes %s are not in inputs.classes and are ignored", unknown)
    return [{"id": i + 1, "name": n} for i, n in enumerate(names)]


def run_label(b: _Build, coreg: _Stage, sig: _Stage, rc: _Stage) -> _Stage:
    """SARbd-L1 / L2 / L3 (with quality flags) and the spatial splits: ``labels.zarr``."""
    config = b.config
    classes = rc.data["classes"]
    settings = {**b.settings["labels"], "chips": b.settings["chips"], "classes": classes}
    key = stage_key("label", STAGE_VERSIONS["label"], settings, [sig.key, rc.key])
    stack, features, radarcoded = coreg.data["stack"], sig.data["features"], rc.data["reference"]

    def compute(folder: Path) -> dict[str, Any]:
        from sarbd.dataset import OutlierTest, class_counts, label_l1, label_l2, label_l3
        from sarbd.dataset.border import border_flags
        from sarbd.dataset.splits import assign_splits

        lab = config.labels
        fractions = radarcoded[[v for v in radarcoded.data_vars if str(v).startswith("fraction_")]]
        if lab.l1_method == "wishart_h_alpha":  # unsupervised, quad-pol builds
            from sarbd.dataset.wishart import label_l1_wishart

            l1 = label_l1_wishart(
                features, classes, lab.l1_cluster_classes, max_iterations=lab.l1_wishart_iterations
            )
        else:
            l1 = label_l1(features, [(r.class_name, r.expression) for r in lab.l1_rules], classes)
        l2 = label_l2(fractions, classes, lab.l2_threshold)
        features_present = [f for f in lab.l3_features if _expression_available(f, features)]
        test = (
            OutlierTest(
                tuple(features_present),
                method=lab.l3_outlier_method,
                alpha=1.0 - lab.l3_outlier_probability,
                region_min_pixels=lab.l3_region_min_pixels,
            )
            if features_present
            else None
        )
        filter_name, filter_kwargs = _signature_filter(config)
        border = border_flags(
            sig.data["valid_samples"],
            window=config.signatures.window,
            filter=filter_name,
            filter_kwargs=filter_kwargs,
            coherence_window=config.coregistration.coherence_window,
            kernel_taps=config.coregistration.kernel_taps,
        )
        l3 = label_l3(
            l2,
            features,
            radarcoded["boundary_distance"],
            stack["layover_shadow_mask"],
            lab.l3_buffer_m,
            test,
            fractions,
            lab.l2_threshold,
            border=border,
            required=[
                str(v)
                for v, da in features.data_vars.items()
                if da.dims == ("line", "pixel") and da.dtype.kind == "f"
            ],
        )
        chips = config.chips
        split = assign_splits(
            l2,
            chips.block,
            chips.buffer,
            dict(zip(("train", "validation", "test"), chips.fractions, strict=True)),
            chips.seed,
        )
        labels = xr.merge(
            [l1.rename("label_l1"), l2.rename("label_l2"), l3, split.rename("split")],
            combine_attrs="drop_conflicts",
        )
        write_stage(labels, folder / "labels.zarr", config.compute.chunks)
        labels = xr.open_zarr(
            folder / "labels.zarr"
        )  # counted from the store: the lazy levels are not recomputed
        return {
            "counts": {
                lvl: class_counts(labels[f"label_{lvl}"], classes) for lvl in ("l1", "l2", "l3")
            }
        }

    rec = b.run("label", key, compute)
    return _Stage(key, rec, {"labels": xr.open_zarr(rec.path / "labels.zarr")})


def _expression_available(expression: str, ds: xr.Dataset) -> bool:
    from sarbd.dataset.expressions import variables_in

    return all(name in ds for name in variables_in(expression))


# -- detection and change labels (opt-in: labels.detection, labels.change) -----------------


def _tasks_key(b: _Build, coregister_key: str) -> str | None:
    """The key of the tasks stage, or None when the configuration asks for neither product."""
    det, chg = b.config.labels.detection, b.config.labels.change
    if det is None and chg is None:
        return None
    settings: dict[str, Any] = {"dem": b.dem_fingerprint()}
    if det is not None:
        settings["detection"] = {
            **det.model_dump(mode="json"),
            "reference": file_fingerprint(det.reference),
            "region": file_fingerprint(det.region) if det.region else None,
        }
    if chg is not None:
        settings["change"] = {
            **chg.model_dump(mode="json"),
            "reference": file_fingerprint(chg.reference),
            "polarizations": b.config.inputs.polarizations,
        }
    return stage_key("tasks", STAGE_VERSIONS["tasks"], settings, [coregister_key])


def run_tasks(b: _Build, coreg: _Stage) -> _Stage | None:
    """Detection labels (``detection/``) and change labels (``change/``) of the coregistered stack.

    Detection: each date's target outlines radarcoded one instance per feature
    (:func:`sarbd.radarcode.instances.radarcode_instances`), chips, boxes and masks
    (:func:`sarbd.dataset.stack_labels.detection_from_stack`). Change: per consecutive
    pair the features dated inside it radarcoded (:func:`sarbd.radarcode.radarcode`),
    L2/L3 with the stack's log-ratio and consecutive-date coherence
    (:func:`sarbd.dataset.stack_labels.change_from_stack`). None when neither is configured.
    """
    key = _tasks_key(b, coreg.key)
    if key is None:
        return None
    config, stack = b.config, coreg.data["stack"]

    def compute(folder: Path) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if config.labels.detection is not None:
            info["detection"] = _detection_labels(b, stack, folder / "detection")
        if config.labels.change is not None:
            info["change"] = _change_labels(b, stack, folder / "change")
        return info

    rec = b.run("tasks", key, compute)
    return _Stage(key, rec)


def _acquisition_times(stack: xr.Dataset) -> Any:
    import numpy as np

    return np.asarray(stack["time"].values, "datetime64[ns]").reshape(-1)


def _radarcoded_fraction(b: _Build, gdf: Any, stack: xr.Dataset, name: str) -> xr.DataArray:
    """Area fraction of the features of ``gdf`` on the stack's grid (zeros when none falls on it)."""
    import dask.array as da
    import numpy as np

    from sarbd.errors import NoOverlapError
    from sarbd.radarcode import radarcode

    template = xr.zeros_like(stack["height"], dtype=np.float32).chunk(
        dict(zip(("line", "pixel"), b.config.compute.chunks, strict=True))
    )
    if len(gdf) == 0:
        return template
    g = gdf[[gdf.geometry.name]].copy()
    g["sarbd_class"] = name
    try:
        ds = radarcode(
            g,
            stack,
            class_field="sarbd_class",
            dem=b.dem(),
            threshold=0.5,
            layover_shadow=False,
            chunks=b.config.compute.chunks,
        )
    except NoOverlapError:
        return template
    out = ds[f"fraction_{name}"]
    return out if isinstance(out.data, da.Array) else out.chunk()


def _detection_labels(b: _Build, stack: xr.Dataset, out: Path) -> dict[str, Any]:
    import numpy as np
    import shapely

    from sarbd.dataset.detection_labels import LabelSource
    from sarbd.dataset.stack_labels import detection_from_stack, match_dates
    from sarbd.errors import NoOverlapError
    from sarbd.geometry.geocode import footprint_bounds
    from sarbd.pipeline.input_files import read_detection_reference, read_vector
    from sarbd.radarcode.instances import radarcode_instances

    cfg = b.config.labels.detection
    assert cfg is not None and b.reference is not None
    gdf = read_detection_reference(cfg)
    times = _acquisition_times(stack)
    if cfg.date_field is None:
        dates = [np.arange(times.size)] * len(gdf)
    else:
        idx = match_dates(times, gdf["sarbd_time"].to_numpy(), cfg.date_tolerance_s)
        dates = [np.array([i]) if i >= 0 else np.zeros(0, np.int64) for i in idx]
    categories = list(cfg.categories) or sorted(set(gdf["sarbd_category"]))
    cat_index = {c: i for i, c in enumerate(categories)}
    category_of = {
        int(i): cat_index[c] for i, c in zip(gdf["sarbd_id"], gdf["sarbd_category"], strict=True)
    }
    zeros = xr.zeros_like(stack["height"], dtype=np.int64).chunk(
        dict(zip(("line", "pixel"), b.config.compute.chunks, strict=True))
    )
    instances, feats, matched = [], [], 0
    lonlat = gdf.to_crs("EPSG:4326")
    for d in range(times.size):
        on = np.array([d in ds for ds in dates], dtype=bool)
        sub = gdf[on]
        matched += int(on.sum())
        inst = zeros
        if len(sub):
            grow = {
                int(i): tuple(cfg.grow[c])
                for i, c in zip(sub["sarbd_id"], sub["sarbd_category"], strict=True)
                if c in cfg.grow
            }
            try:
                inst = radarcode_instances(
                    sub,
                    stack,
                    id_field="sarbd_id",
                    dem=b.dem(),
                    height_field="sarbd_height" if "sarbd_height" in sub.columns else None,
                    grow=grow,  # type: ignore[arg-type]
                    min_fraction=cfg.min_fraction,
                    chunks=b.config.compute.chunks,
                )
            except NoOverlapError:
                inst = zeros
        instances.append(inst)
        when = str(np.datetime64(times[d], "s")) + "Z"
        for (_, row), geom in zip(sub.iterrows(), lonlat.geometry[on], strict=True):
            feats.append(
                (
                    geom,
                    {
                        "id": int(row["sarbd_id"]),
                        "category": str(row["sarbd_category"]),
                        "date": d,
                        "datetime": when,
                    },
                )
            )
    if cfg.date_field is not None and matched < len(gdf):
        log.warning(
            "%d of %d detection reference features match no acquisition within %g s; left out",
            len(gdf) - matched,
            len(gdf),
            cfg.date_tolerance_s,
        )
    region = None
    if cfg.region is not None:
        region = _radarcoded_fraction(b, read_vector(cfg.region), stack, "region")
    source = LabelSource(
        name=b.config.outputs.name,
        category_ids={c: i + 1 for i, c in enumerate(categories)},
        dates=[
            {
                "datetime": str(np.datetime64(t, "s")) + "Z",
                "product": f"date {d} of dataset.zarr",
                "href": "../dataset.zarr",
            }
            for d, t in enumerate(times)
        ],
        features=feats,
        extent=shapely.box(*footprint_bounds(b.reference)),
        contributor=f"sarbd build ({cfg.reference.name} radarcoded on the reference grid)",
        description=(
            f"Objects of {cfg.reference.name} radarcoded onto the dataset's reference radar grid, "
            "one feature per object and date; per-chip boxes and masks in COCO and YOLO format "
            "beside this item"
        ),
    )
    chips = detection_from_stack(
        stack,
        instances,
        category_of,
        categories,
        source,
        out,
        region=region,
        polarization=cfg.polarization,
        chip_size=cfg.chip_size,
        looks=cfg.looks,
        min_region=cfg.min_region,
        min_pixels=cfg.min_pixels,
        block=cfg.block,
        seed=b.config.chips.seed,
    )
    return {
        "chips": int(chips.images.shape[0]),
        "objects": int(sum(len(x) for x in chips.labels)),
        "features_matched": matched,
    }


def _change_labels(b: _Build, stack: xr.Dataset, out: Path) -> dict[str, Any]:

    from sarbd.dataset.stack_labels import change_from_stack, in_pair
    from sarbd.pipeline.input_files import read_change_reference

    cfg = b.config.labels.change
    assert cfg is not None
    gdf = read_change_reference(cfg)
    times = _acquisition_times(stack)
    start, end = gdf["sarbd_start"].to_numpy(), gdf["sarbd_end"].to_numpy()
    fractions = []
    for k in range(times.size - 1):
        inside = in_pair(start, end, times[k], times[k + 1])
        fractions.append(_radarcoded_fraction(b, gdf[inside], stack, "change"))
    chips = change_from_stack(
        stack,
        fractions,
        out,
        polarizations=list(b.config.inputs.polarizations),
        chip_size=cfg.chip_size,
        looks=cfg.looks,
        block=cfg.block,
        buffer_px=cfg.buffer_px,
        ratio_db=cfg.ratio_db,
        coherence_max=cfg.coherence_max,
        seed=b.config.chips.seed,
        meta={"reference": str(cfg.reference), "date_field": cfg.date_field},
    )
    return {"chips": int(chips.before.shape[0]), "pairs": int(times.size - 1)}


def run_export(
    b: _Build, coreg: _Stage, sig: _Stage, rc: _Stage, lab: _Stage, tasks: _Stage | None = None
) -> _Stage:
    """The dataset folder: ``outputs.formats`` (dataset.zarr linking the stage stores, netCDF,
    COGs, Parquet, STAC), the detection/change label folders of the tasks stage and
    ``timeseries.zarr`` (``outputs.timeseries``), staged in ``.sarbd-export-*`` and swapped
    into place."""
    config, out = b.config, b.out
    upstream = [lab.key, sig.key, rc.key] + ([tasks.key] if tasks is not None else [])
    key = stage_key("export", STAGE_VERSIONS["export"], b.settings["outputs"], upstream)
    records_so_far = b.cache.records
    stack, features, radarcoded, labels = (
        coreg.data["stack"],
        sig.data["features"],
        rc.data["reference"],
        lab.data["labels"],
    )

    def compute(folder: Path) -> dict[str, Any]:
        from sarbd.dataset.assemble import assemble_dataset
        from sarbd.export.cube import zarr_links
        from sarbd.export.dataset import write_dataset

        info = sig.record.info
        # the coherence of consecutive dates (time series: coherence to the previous date)
        seq = [v for v in map(str, stack.data_vars) if v.startswith("coherence_seq_")]
        ds = assemble_dataset(
            stack,
            xr.merge([features, stack[seq]], compat="override", join="exact") if seq else features,
            radarcoded,
            [labels["label_l1"], labels["label_l2"], labels[["label_l3", "quality_flags"]]],
            rc.data["classes"],
            labels["split"],
            attrs=date_attributes(
                int(info.get("dates", 0)), info.get("left_out_single_date") or []
            ),
        )
        run_log = {
            "sarbd_version": __version__,
            "versions": _versions(),
            "config": b.settings,
            "stages": [
                {
                    "name": r.name,
                    "key": r.key,
                    "cached": r.cached,
                    "seconds": round(r.seconds, 3),
                    "info": r.info,
                }
                for r in records_so_far
            ],
        }
        # everything is written beside the dataset first and swapped in by renames at the end: a
        # failed export (disk full, read-only, killed) leaves the previous dataset as it was
        # (no suffix in the name: pystac would take "x.tmp" for a file and root the catalog one level up)
        staging = Path(tempfile.mkdtemp(prefix=EXPORT_STAGING, dir=out))
        try:
            summary = write_dataset(
                ds,
                staging,
                chip_sizes=config.chips.sizes,
                geocode=config.outputs.cog_geocode,
                cog_variables=config.outputs.cog_variables,
                formats=config.outputs.formats,
                table_features=config.outputs.table_features,
                dem=config.inputs.dem,
                run_log=run_log,
                stac={
                    "collection_id": config.outputs.name,
                    "license": config.outputs.license,
                    "authors": config.outputs.authors,
                },
                links={
                    **zarr_links(stack, coreg.path / "stack.zarr"),
                    **zarr_links(features, sig.path / "features.zarr"),
                    **zarr_links(radarcoded, rc.path / "reference.zarr"),
                    **zarr_links(labels, lab.path / "labels.zarr"),
                },
            )
            summary.update(_export_tasks(b, staging, tasks))
            swap_into(staging, out, keep=(CACHE_FOLDER,))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return json.loads(json.dumps(summary, default=str).replace(str(staging), str(out)))

    formats = config.outputs.formats
    main_output = out / (
        "dataset.zarr"
        if "zarr" in formats
        else "dataset.nc"
        if "netcdf" in formats
        else "run_log.json"
    )
    if b.cache.is_complete("export", key) and not main_output.exists():
        # the dataset was deleted by hand: write it again
        shutil.rmtree(b.cache.path_for("export", key), ignore_errors=True)
    return _Stage(key, b.run("export", key, compute))


def _export_tasks(b: _Build, staging: Path, tasks: _Stage | None) -> dict[str, Any]:
    """Link the tasks stage's label folders into the export and write ``timeseries.zarr``."""
    summary: dict[str, Any] = {}
    if tasks is not None:
        for name in ("detection", "change"):
            src = tasks.path / name
            if src.is_dir():
                shutil.copytree(src, staging / name, copy_function=_link_or_copy)
                summary[f"{name}_labels"] = tasks.record.info.get(name, {})
    ts = b.config.outputs.timeseries
    if ts is not None:
        from sarbd.dataset.timeseries import write_timeseries

        if not (staging / "dataset.zarr").exists():
            raise ConfigError(
                "outputs.timeseries is made from dataset.zarr: add zarr to outputs.formats"
            )
        write_timeseries(
            staging, staging / "timeseries.zarr", chunk_lines=ts.chunk, chunk_pixels=ts.chunk
        )
        summary["timeseries"] = "timeseries.zarr"
    return summary


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link a stage file into the export (no second copy), or copy it across file systems."""
    import os

    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _compact(b: _Build, coreg: _Stage) -> None:
    """``outputs.cache: compact``: drop the stack's per-date rasters once the dataset is final.

    Only the signatures and tasks stages read them (SLCs, interferograms, calibration); what
    radarcode, label and export read (geometry, coordinates, per-date 1-D metadata, the
    consecutive-date coherence) stays.
    """
    if b.config.outputs.cache == "compact":
        b.cache.prune(
            "coregister",
            coreg.key,
            "stack.zarr",
            # coherence_seq_<p> stays: the export puts it into dataset.zarr (hard links, so
            # keeping it costs no space) and a later export (outputs changed) needs it again
            lambda name, dims: (
                {"time", "line", "pixel"} <= set(dims) and not name.startswith("coherence_seq_")
            ),
        )


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


def _build_locked(
    config: BuildConfig, out: Path, on_stage: Callable[[str, str], None] | None
) -> BuildResult:
    start = time.perf_counter()
    remove_stale_staging(out)  # left by a killed export
    b = _Build(
        config,
        out,
        StageCache(out / CACHE_FOLDER),
        config.resolved(),
        on_stage or (lambda name, state: None),
    )
    ingest, reference, secondaries = run_ingest(b)
    coreg = run_coregister(b, ingest, reference, secondaries)
    sig = run_signatures(b, coreg)
    rc = run_radarcode(b, coreg)
    lab = run_label(b, coreg, sig, rc)
    tasks = run_tasks(b, coreg)
    export = run_export(b, coreg, sig, rc, lab, tasks)
    _compact(b, coreg)
    return BuildResult(out, list(b.cache.records), export.record.info, time.perf_counter() - start)
