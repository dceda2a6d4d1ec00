"""Real data through the whole pipeline, as a user runs it: the commands in the header of
``examples/terceira.yaml`` and ``examples/uavsar_sanand.yaml`` -- build, validate, train --
executed literally, then what they wrote is checked.

* Terceira: one real Sentinel-1 date given as annotation XML + measurement TIFF crop +
  offset + orbit file; sea / land digitised from the amplitude (examples/reference/).
* SanAnd: two real UAVSAR RSLC products in the NISAR layout, a real DEM, classes from the DEM.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .conftest import EXAMPLES, header_commands, run_line


def _option(line: str, name: str) -> str:
    words = line.split()
    return words[words.index(name) + 1]


def _run_example(name: str, workspace, monkeypatch) -> dict[str, object]:
    """Run the header commands of an example; the dataset folder, the run folder, its metrics."""
    lines = header_commands(EXAMPLES / name)
    assert [line.split()[1] for line in lines] == ["build", "validate", "train"], lines
    for line in lines:
        assert run_line(line, workspace, monkeypatch) == 0, line
    dataset = workspace / _option(lines[0], "--out")
    assert lines[1].split()[2] == _option(lines[0], "--out")  # validate checks what was built
    run = workspace / _option(lines[2], "--out")
    return {
        "dataset": dataset,
        "run": run,
        "metrics": json.loads((run / "metrics.json").read_text()),
    }


def _macro_f1(metrics: dict[str, object]) -> float:
    found = [v for k, v in _walk(metrics) if k == "macro_f1" and v is not None]
    assert found, "no macro_f1 in metrics.json"
    return float(found[0])


def _walk(obj: object):  # type: ignore[no-untyped-def]
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)


def test_terceira_single_date_crop_builds_validates_and_trains(workspace, monkeypatch, capsys):
    paths = _run_example("terceira.yaml", workspace, monkeypatch)
    ds = xr.open_zarr(paths["dataset"] / "dataset.zarr")
    # the real crop, one date, at its place in the swath
    assert ds.sizes["time"] == 1 and (ds.sizes["line"], ds.sizes["pixel"]) == (601, 1401)
    assert int(ds["line"][0]) == 9799 and int(ds["pixel"][0]) == 10999
    # one date: the signatures that need two are left out, in the log and in the metadata
    assert ds.attrs["sarbd_dates"] == 1 and ds.attrs["sarbd_single_date"] == 1
    left_out = ds.attrs["sarbd_signatures_left_out"].split(", ")
    assert {"coherence_vv", "coherence_mean_vv", "amplitude_dispersion_vv"} <= set(left_out)
    assert not any(name in ds for name in left_out)
    log = " ".join(capsys.readouterr().err.split())  # the console log wraps lines
    assert "one date: the 8 signatures that need two or more dates are left out" in log
    assert "no DEM (inputs.dem): the terrain is taken at 0 m above the EGM96 geoid" in log
    # the radarcoded coast: sea pixels are darker than land pixels by far (C-band VV, calm sea)
    l2 = ds["label_l2"].values
    power = ds["intensity_vv"].isel(time=0).values.astype(np.float64)
    sea, land = (np.median(power[l2 == k]) for k in (1, 2))
    assert 10 * np.log10(land / sea) > 8
    l3 = ds["label_l3"].values
    assert (l3 == 1).sum() > 50_000 and (l3 == 2).sum() > 50_000
    # a trained baseline that separates sea from land on the spatial test split
    assert _macro_f1(paths["metrics"]) > 0.8


def test_uavsar_pair_builds_validates_and_trains(workspace, monkeypatch):
    paths = _run_example("uavsar_sanand.yaml", workspace, monkeypatch)
    ds = xr.open_zarr(paths["dataset"] / "dataset.zarr")
    assert ds.sizes["time"] == 2 and (ds.sizes["line"], ds.sizes["pixel"]) == (150, 200)
    assert "sarbd_single_date" not in ds.attrs and ds.attrs["sarbd_dates"] == 2
    # real coherence of the pair over its common band (tests/coregistration/test_real_data.py)
    assert float(np.nanmean(ds["coherence_mean_hh"].values)) > 0.9
    # the DEM's datum was given, not assumed
    assert "ellipsoidal heights, given" in ds.attrs["sarbd_dem"]
    # the DEM classes land on the grid: L2 lowland pixels are lower than upland ones
    h, l2 = ds["height"].values, ds["label_l2"].values
    assert np.median(h[l2 == 1]) < np.median(h[l2 == 2])
    for k in (1, 2):
        assert (ds["label_l3"].values == k).sum() > 1000
    assert np.isfinite(_macro_f1(paths["metrics"]))
