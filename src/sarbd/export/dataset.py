"""Write a whole SARbd dataset folder (``docs/formats.md``) from the assembled dataset."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sarbd.dataset.chips import make_chips, pixel_table
from sarbd.dataset.classes import class_counts, classes_from_attrs
from sarbd.dataset.splits import split_class_balance
from sarbd.errors import ConfigError
from sarbd.export.cog import write_cogs
from sarbd.export.cube import write_netcdf, write_zarr
from sarbd.export.stac import write_stac
from sarbd.export.tables import write_parquet
from sarbd.utils.files import atomic_output

__all__ = ["DEFAULT_FORMATS", "FORMATS", "dataset_summary", "write_dataset"]

LABEL_LEVELS = ("label_l1", "label_l2", "label_l3")
#: output formats (``outputs.formats`` of the build configuration)
FORMATS = ("zarr", "netcdf", "cog", "stac", "parquet")
#: written by default: the primary store and its catalog; the others are exports of the same data
DEFAULT_FORMATS = ("zarr", "stac")
log = logging.getLogger(__name__)


def dataset_summary(ds: xr.Dataset) -> dict[str, Any]:
    """Class counts per label level and, with a ``split``, class balance per split (of L3, else L2)."""
    classes = classes_from_attrs(ds.attrs)
    out: dict[str, Any] = {
        "classes": classes,
        "class_counts": {lv: class_counts(ds[lv], classes) for lv in LABEL_LEVELS if lv in ds},
    }
    level = "label_l3" if "label_l3" in ds else "label_l2" if "label_l2" in ds else None
    if "split" in ds and level is not None:
        balance = split_class_balance(ds["split"], ds[level], classes)
        out["split_balance"] = {"level": level, "pixels": balance.to_dict(orient="index")}
    return out


def write_dataset(
    ds: xr.Dataset,
    folder: str | os.PathLike[str],
    *,
    chip_sizes: Sequence[int] = (64, 256),
    chip_level: str = "label_l3",
    chip_min_labelled: float = 0.0,
    cog_variables: Sequence[str] | None = None,
    geocode: bool = False,
    formats: Sequence[str] = DEFAULT_FORMATS,
    table_features: str | Sequence[str] = "temporal",
    dem: str | os.PathLike[str] | None = None,
    run_log: Mapping[str, Any] | None = None,
    stac: Mapping[str, Any] | None = None,
    links: Mapping[str, str | os.PathLike[str]] | None = None,
) -> dict[str, Any]:
    """Write ``dataset.zarr`` (the primary store), ``chips/chips_<size>.parquet`` (chip
    indices), ``run_log.json`` (if given), the STAC catalog and README, and the exports
    asked for: ``dataset.nc``, ``cog/``, ``tables/pixels.parquet``.

    Parameters
    ----------
    ds
        The assembled dataset (:func:`sarbd.dataset.assemble.assemble_dataset`).
    folder
        The dataset folder.
    chip_sizes, chip_level, chip_min_labelled
        Chip sizes (pixels), the label level counted per chip, and the minimum labelled
        fraction of a chip (needs a ``split`` variable).
    cog_variables, geocode, dem
        Passed to :func:`sarbd.export.cog.write_cogs`.
    formats
        Which of :data:`FORMATS` to write (default :data:`DEFAULT_FORMATS`; ``parquet``: the
        pixel table). Chip indices (a few kB) are always written. Outputs of formats left
        out are removed, so the folder never mixes two builds.
    table_features
        Signature columns of the pixel table: ``"temporal"`` (default: the variables without
        a time dimension, which keeps the table a few percent of the cube), ``"all"`` (one
        column per date for per-date signatures too) or a list of variable names.
    run_log
        Written as ``run_log.json`` before the catalog (so it gets a checksum).
    stac
        Keyword arguments of :func:`sarbd.export.stac.write_stac` (``collection_id``,
        ``title``, ``license``, ``authors``, ``source`` ...).
    links
        Stored arrays ``dataset.zarr`` may hard-link instead of writing
        (:func:`sarbd.export.cube.zarr_links`; the build passes its stage stores).

    Returns
    -------
    dict
        :func:`dataset_summary` plus the paths written.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ConfigError(
            f"unknown output format(s) {', '.join(unknown)}", hint=f"use {', '.join(FORMATS)}"
        )
    _remove_unselected(root, set(formats))
    classes = classes_from_attrs(ds.attrs)
    summary = dataset_summary(ds)
    # netCDF goes in a thread: HDF5 writes serialise on its own lock, while Zarr, COG
    # and Parquet writers use the other core(s)
    with ThreadPoolExecutor(max_workers=1) as pool:
        nc_job = pool.submit(write_netcdf, ds, root / "dataset.nc") if "netcdf" in formats else None
        if "zarr" in formats:
            write_zarr(ds, root / "dataset.zarr", links=links)
        cogs = (
            write_cogs(ds, root / "cog", variables=cog_variables, geocode=geocode, dem=dem)
            if "cog" in formats
            else []
        )
        if "parquet" in formats:
            write_parquet(
                pixel_table(ds, _table_variables(ds, table_features)),
                root / "tables" / "pixels.parquet",
                metadata={"classes": classes},
            )
        chips = _write_chips(ds, root, classes, chip_sizes, chip_level, chip_min_labelled)
        if nc_job is not None:
            nc_job.result()
    if run_log is not None:
        with atomic_output(root / "run_log.json") as tmp:
            tmp.write_text(json.dumps(dict(run_log), indent=2, default=str), encoding="utf-8")
    catalog = write_stac(root, ds, **dict(stac or {})) if "stac" in formats else None
    summary.update(
        {
            "catalog": str(catalog) if catalog else None,
            "cogs": [str(c.path) for c in cogs],
            "chips": chips,
            "formats": [f for f in FORMATS if f in formats],
        }
    )
    return summary


def _remove_unselected(root: Path, formats: set[str]) -> None:
    """Delete outputs of formats not selected (left by an earlier build with other settings)."""
    paths = {
        "zarr": [root / "dataset.zarr"],
        "netcdf": [root / "dataset.nc"],
        "cog": [root / "cog"],
        "parquet": [root / "tables"],
        "stac": [root / "catalog.json", *(p.parent for p in root.glob("*/collection.json"))],
    }
    for fmt, found in paths.items():
        for p in found if fmt not in formats else []:
            if p.exists():
                log.info("removing %s (output format %s not selected)", p, fmt)
                shutil.rmtree(p) if p.is_dir() else p.unlink()


def _table_variables(ds: xr.Dataset, table_features: str | Sequence[str]) -> list[str] | None:
    """Signature variables of the pixel table (None: every one, :func:`pixel_table`'s default)."""
    if table_features == "all":
        return None
    if table_features == "temporal":  # pixel_table's default columns, less the per-date ones
        return [
            str(k)
            for k, v in ds.data_vars.items()
            if set(v.dims) == {"line", "pixel"}
            and not str(k).startswith("fraction_")
            and str(k) not in ("latitude", "longitude")
            and np.issubdtype(v.dtype, np.floating)
        ]
    if isinstance(table_features, str):
        raise ConfigError(
            f"unknown pixel-table feature set {table_features!r}",
            hint="use 'temporal', 'all' or a list of variable names",
        )
    missing = [v for v in table_features if v not in ds]
    if missing:
        raise ConfigError(f"pixel-table variables not in the dataset: {', '.join(missing)}")
    return list(table_features)


def _write_chips(
    ds: xr.Dataset,
    root: Path,
    classes: list[dict[str, Any]],
    chip_sizes: Sequence[int],
    chip_level: str,
    chip_min_labelled: float,
) -> dict[int, dict[str, Any]]:
    """``chips/chips_<size>.parquet`` (chip indices); returns the chip summary."""
    chips: dict[int, dict[str, Any]] = {}
    wanted = {f"chips_{int(size)}.parquet" for size in chip_sizes} if "split" in ds else set()
    for stale in (root / "chips").glob("chips_*.parquet"):  # of an earlier build with other sizes
        if stale.name not in wanted:
            stale.unlink()
    if "split" not in ds:
        return chips
    labels = ds[chip_level] if chip_level in ds else None
    for size in chip_sizes:
        table = make_chips(ds["split"], int(size), labels, classes, min_labelled=chip_min_labelled)
        block = int(
            ds["split"].attrs.get("sarbd_split_block", 0) or ds.attrs.get("sarbd_split_block", 0)
        )
        if not len(table):
            log.warning(
                "no %d x %d chip fits inside one split region (split block %d px); "
                "use split blocks larger than the chips plus the buffer",
                size,
                size,
                block,
            )
        path = write_parquet(
            table,
            root / "chips" / f"chips_{int(size)}.parquet",
            metadata={"classes": classes, "label_level": chip_level},
        )
        chips[int(size)] = {
            "path": str(path),
            "count": len(table),
            "per_split": table["split"].value_counts().to_dict() if len(table) else {},
        }
    return chips
