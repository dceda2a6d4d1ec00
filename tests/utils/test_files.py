"""atomic_output: nothing half-written, and outputs get normal permissions."""

from __future__ import annotations

import os

import pytest

from sarbd.utils.files import atomic_output


def test_success_replaces_and_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_output(target) as tmp:
        tmp.write_text("one")
    assert target.read_text() == "one"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_files_and_folders_get_umask_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "a.nc") as tmp:
            tmp.write_text("x")
        with atomic_output(tmp_path / "b.zarr", directory=True) as tmp:
            (tmp / "c").write_text("y")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.nc").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.zarr").stat().st_mode & 0o777 == 0o755


def test_zarr_store_is_claimed_in_its_attributes_not_by_a_stray_file(tmp_path):
    """A Zarr v2 store carries the claim as a root attribute (also in its consolidated
    metadata): zarr-python reports unknown files such as the marker on every open."""
    import json
    import os
    import warnings

    import numpy as np
    import xarray as xr

    from sarbd.errors import OutputError
    from sarbd.utils.files import MARKER, ZARR_CLAIM, check_replaceable, is_sarbd_folder

    target = tmp_path / "x.zarr"
    original = tmp_path / "zattrs-original"
    with atomic_output(target, directory=True) as tmp:
        xr.Dataset({"a": ("x", np.arange(3))}, attrs={"title": "t"}).to_zarr(
            tmp, mode="w", zarr_format=2, consolidated=True
        )
        os.link(tmp / ".zattrs", original)  # as a stage-cache file hard-linked into a dataset
    assert not (target / MARKER).exists() and is_sarbd_folder(target)
    assert json.loads(json.loads((target / ".zattrs").read_text())[ZARR_CLAIM])["name"] == "x.zarr"
    assert ZARR_CLAIM not in json.loads(original.read_text())  # the linked original untouched
    check_replaceable(target, directory=True)  # sarbd may replace what it wrote
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for consolidated in (True, False):
            ds = xr.open_zarr(target, consolidated=consolidated)
            assert ds.attrs["title"] == "t" and ZARR_CLAIM in ds.attrs
    foreign = tmp_path / "y.zarr"
    xr.Dataset({"a": ("x", np.arange(3))}).to_zarr(foreign, zarr_format=2)
    assert not is_sarbd_folder(foreign)
    with pytest.raises(OutputError):
        check_replaceable(foreign, directory=True)
