"""A complete synthetic SARbd dataset folder, built once per session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import xarray as xr

from tests.dataset.synthetic import make_dataset

COG_VARIABLES = [
    "sigma0_vv",
    "amplitude_dispersion_vv",
    "label_l1",
    "label_l2",
    "label_l3",
    "quality_flags",
    "split",
]


def build_folder(root: Path, ds: xr.Dataset) -> Path:
    from sarbd.export import write_dataset
    from sarbd.export.dataset import FORMATS

    summary = write_dataset(
        ds,
        root,
        chip_sizes=(16, 64),
        cog_variables=COG_VARIABLES,
        formats=FORMATS,
        run_log={"stages": []},
        stac={"collection_id": "synthetic"},
    )
    (root / "summary.json").write_text(json.dumps(summary, default=str))
    return root


@pytest.fixture(scope="session")
def dataset() -> xr.Dataset:
    return make_dataset()


@pytest.fixture(scope="session")
def dataset_folder(tmp_path_factory, dataset) -> Path:
    return build_folder(tmp_path_factory.mktemp("sarbd") / "dataset", dataset)


@pytest.fixture
def broken_copy(tmp_path, dataset_folder):
    """A fresh copy of the good dataset folder, to break on purpose."""

    def make() -> Path:
        dst = tmp_path / "copy"
        shutil.copytree(dataset_folder, dst)
        return dst

    return make
