"""The time-series layout of a real (simulated) build: values equal the dataset's per-date ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sarbd.dataset.timeseries import write_timeseries


def check_layout_against_dataset(dataset: Path, ts_path: Path, n_pixels: int = 25) -> None:
    """Compare ``ts_path`` with ``dataset/dataset.zarr`` at random pixels, date by date."""
    src = xr.open_zarr(dataset / "dataset.zarr", consolidated=False)
    ts = xr.open_zarr(ts_path, consolidated=False)
    names = [str(f) for f in ts["feature"].values]
    pols = sorted({n.rsplit("_", 1)[1] for n in names})
    assert pols and all(
        f"backscatter_db_{p}" in names and f"coherence_ref_{p}" in names for p in pols
    )
    ref = list(np.datetime_as_string(src["time"].values, unit="D")).index(
        str(src[f"coherence_{pols[0]}"].attrs["sarbd_undefined_dates"]).split()[0]
    )
    assert ts["days"].values[ref] == 0.0 and ts.attrs["sarbd_reference_date"] in str(
        src["time"].values[ref]
    )
    rng = np.random.default_rng(0)
    ny, nx = src.sizes["line"], src.sizes["pixel"]
    for r, c in zip(rng.integers(0, ny, n_pixels), rng.integers(0, nx, n_pixels), strict=True):
        x = ts["x"].isel(line=int(r), pixel=int(c)).values
        for p in pols:
            sig = src[f"sigma0_db_{p}"].isel(line=int(r), pixel=int(c)).values
            coh = src[f"coherence_{p}"].isel(line=int(r), pixel=int(c)).values
            ph = src[f"interferometric_phase_{p}"].isel(line=int(r), pixel=int(c)).values
            np.testing.assert_allclose(x[:, names.index(f"backscatter_db_{p}")], sig, atol=1e-5)
            want_coh = coh.copy()
            want_coh[ref] = 1.0
            np.testing.assert_allclose(x[:, names.index(f"coherence_ref_{p}")], want_coh, atol=1e-6)
            want_cos, want_sin = np.cos(ph), np.sin(ph)
            want_cos[ref], want_sin[ref] = 1.0, 0.0
            np.testing.assert_allclose(x[:, names.index(f"phase_cos_{p}")], want_cos, atol=1e-6)
            np.testing.assert_allclose(x[:, names.index(f"phase_sin_{p}")], want_sin, atol=1e-6)
    np.testing.assert_array_equal(ts["split"].values, src["split"].values)


@pytest.mark.slow
def test_timeseries_layout_of_the_tiny_build(tiny_build, tmp_path: Path) -> None:
    _, _, result = tiny_build
    out = write_timeseries(result.directory, tmp_path / "timeseries.zarr")
    check_layout_against_dataset(result.directory, out)
