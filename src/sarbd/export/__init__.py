"""Standard outputs of a SARbd dataset: CF netCDF, Zarr, COGs, Parquet tables, STAC + README."""

from __future__ import annotations

from sarbd.export.cf import check_cf, prepare_cf
from sarbd.export.cog import write_cogs
from sarbd.export.cube import write_netcdf, write_zarr
from sarbd.export.dataset import dataset_summary, write_dataset
from sarbd.export.stac import write_readme, write_stac
from sarbd.export.tables import write_parquet

__all__ = [
    "check_cf",
    "dataset_summary",
    "prepare_cf",
    "write_cogs",
    "write_dataset",
    "write_netcdf",
    "write_parquet",
    "write_readme",
    "write_stac",
    "write_zarr",
]
