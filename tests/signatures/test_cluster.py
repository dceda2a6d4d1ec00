"""Fused signatures written by the workers of a Dask cluster (sarbd.signatures.cluster)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import xarray as xr

import sarbd.signatures as S
from sarbd.signatures.fused import FUSED
from tests.signatures.test_banded import SMALL, _meta
from tests.signatures.test_fused import _stack


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit="1GiB",
        dashboard_address=None,
    ) as c:
        yield c


def test_cluster_tiles_equal_the_local_writer(tmp_path, cluster, caplog):
    """Column tiles written by two worker processes: the local run's values, chunk files and metadata."""
    from distributed import Client

    from sarbd.signatures.cluster import cluster_client

    st = _stack(7)
    names = [*FUSED, "backscatter_mean"]  # backscatter_mean is not fused: the Dask path
    kw = {"window": (3, 5), "chunks": SMALL, "band_lines": 16}
    assert cluster_client() is None  # the local scheduler
    with Client(cluster) as client:  # the default scheduler while it is open
        assert cluster_client() is client
        with caplog.at_level(logging.INFO, logger="sarbd.signatures.cluster"):
            # a budget of one pixel chunk per tile: three tiles (40 pixels in chunks of 16)
            S.compute_to_zarr(st, tmp_path / "cluster.zarr", names, budget=1.0, **kw)
    assert "3 column tiles of 16 pixels sent to the cluster" in caplog.text
    assert cluster_client() is None  # the local scheduler again
    S.compute_to_zarr(st, tmp_path / "local.zarr", names, **kw)
    local = xr.open_zarr(tmp_path / "local.zarr").load()
    remote = xr.open_zarr(tmp_path / "cluster.zarr").load()
    assert set(local.variables) == set(remote.variables)
    for v in local.variables:
        np.testing.assert_array_equal(remote[v].values, local[v].values, err_msg=v)
    assert _meta(tmp_path / "cluster.zarr") == _meta(tmp_path / "local.zarr")
    assert sorted(
        p.relative_to(tmp_path / "cluster.zarr") for p in (tmp_path / "cluster.zarr").rglob("*")
    ) == sorted(
        p.relative_to(tmp_path / "local.zarr") for p in (tmp_path / "local.zarr").rglob("*")
    )


def test_worker_threads_and_memory(cluster):
    """The smallest worker's threads and memory limit: what sizes a tile."""
    from distributed import Client

    from sarbd.signatures.cluster import _worker_threads_and_memory

    with Client(cluster) as client:
        threads, memory = _worker_threads_and_memory(client)
    assert threads == 1
    assert memory == 2**30
