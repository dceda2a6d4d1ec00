"""Write a whole SARbd dataset folder (``docs/formats.md``) from the assembled dataset."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from sarbd.dataset.chips import make_chips, pixel_table
from sarbd.dataset.classes import class_counts, classes_from_attrs
from sarbd.dataset.splits import split_class_balance
from sarbd.export.cog import write_cogs
from sarbd.export.cube import write_netcdf, write_zarr
from sarbd.export.stac import write_stac
from sarbd.export.tables import write_parquet
from sarbd.utils.files import atomic_output

__all__ = ["dataset_summary", "write_dataset"]

LABEL_LEVELS = ("label_l1", "label_l2", "label_l3")
log = logging.getLogger(__name__)


def dataset_summary(ds: xr.Dataset) -> dict[str, Any]:
    """Class counts per label level and, with a ``split``, class balance per split (of L3, else L2)."""
    classes = classes_from_attrs(ds.attrs)
    out: dict[str, Any] = {"classes": classes,
                           "class_counts": {lv: class_counts(ds[lv], classes) for lv in LABEL_LEVELS if lv in ds}}
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
    dem: str | os.PathLike[str] | None = None,
    run_log: Mapping[str, Any] | None = None,
    stac: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``dataset.nc``, ``dataset.zarr``, ``cog/``, ``tables/pixels.parquet``,
    ``chips/chips_<size>.parquet``, ``run_log.json`` (if given), the STAC catalog and README.

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
    run_log
        Written as ``run_log.json`` before the catalog (so it gets a checksum).
    stac
        Keyword arguments of :func:`sarbd.export.stac.write_stac` (``collection_id``,
        ``title``, ``license``, ``authors``, ``source`` ...).

    Returns
    -------
    dict
        :func:`dataset_summary` plus the paths written.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    classes = classes_from_attrs(ds.attrs)
    summary = dataset_summary(ds)
    write_netcdf(ds, root / "dataset.nc")
    write_zarr(ds, root / "dataset.zarr")
    cogs = write_cogs(ds, root / "cog", variables=cog_variables, geocode=geocode, dem=dem)
    write_parquet(pixel_table(ds), root / "tables" / "pixels.parquet", metadata={"classes": classes})
    chips = {}
    if "split" in ds:
        labels = ds[chip_level] if chip_level in ds else None
        for size in chip_sizes:
            table = make_chips(ds["split"], int(size), labels, classes, min_labelled=chip_min_labelled)
            block = int(ds["split"].attrs.get("sarbd_split_block", 0) or ds.attrs.get("sarbd_split_block", 0))
            if not len(table):
                log.warning("no %d x %d chip fits inside one split region (split block %d px); "
                            "use split blocks larger than the chips plus the buffer", size, size, block)
            path = write_parquet(table, root / "chips" / f"chips_{int(size)}.parquet",
                                 metadata={"classes": classes, "label_level": chip_level})
            chips[int(size)] = {"path": str(path), "count": len(table),
                                "per_split": table["split"].value_counts().to_dict() if len(table) else {}}
    if run_log is not None:
        with atomic_output(root / "run_log.json") as tmp:
            tmp.write_text(json.dumps(dict(run_log), indent=2, default=str), encoding="utf-8")
    catalog = write_stac(root, ds, **dict(stac or {}))
    summary.update({"catalog": str(catalog), "cogs": [str(c.path) for c in cogs], "chips": chips})
    return summary
