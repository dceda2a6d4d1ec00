"""``sarbd coregister`` on the real UAVSAR pair (skipped without ../shared/data), and its errors."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from sarbd.cli.app import main


def test_cli_coregister_uavsar(shared_data, tmp_path, capsys) -> None:
    d = shared_data / "uavsar_nisar"
    out = tmp_path / "stack.zarr"
    code = main(
        [
            "coregister",
            "--reference",
            str(d / "SanAnd_129.h5"),
            "--secondary",
            str(d / "SanAnd_138.h5"),
            str(d / "SanAnd_138.h5"),
            "--dem",
            str(d / "SanAnd_dem.tif"),
            "--window",
            "4",
            "4",
            "--chunks",
            "64",
            "128",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["dates"]) == 3 and summary["mean_coherence_hh"][1] > 0.95
    ds = xr.open_zarr(out)
    assert ds["slc_hh"].dims == ("time", "line", "pixel") and ds["slc_hh"].dtype == np.complex64
    assert ds["slc_hh"].encoding["chunks"] == (1, 64, 128)
    assert ds.attrs["coherence_window_line"] == 4


def test_cli_errors_are_one_line(tmp_path, capsys) -> None:
    code = main(
        [
            "coregister",
            "--reference",
            str(tmp_path / "missing.h5"),
            "--secondary",
            str(tmp_path / "x.h5"),
            "--out",
            str(tmp_path / "s.zarr"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sarbd: error:")
    assert not (tmp_path / "s.zarr").exists()
