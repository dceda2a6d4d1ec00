"""The HTML report: every section and figure present, self-contained, PNGs saved."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import xarray as xr

from sarbd.cli.app import main
from sarbd.report import write_report


def small_dataset(path):
    rng = np.random.default_rng(0)
    nt, nl, npx = 3, 40, 60
    lat = 53.2 + np.linspace(0, 0.05, nl)[:, None] + 0 * np.arange(npx)
    lon = 6.5 + np.linspace(0, 0.08, npx)[None, :] + 0 * np.arange(nl)[:, None]
    labels = rng.integers(0, 5, (nl, npx)).astype(np.uint8)
    meaning = "unlabelled building road railway water"
    ds = xr.Dataset(
        {
            "sigma0_db_vv": (("time", "line", "pixel"), rng.normal(-10, 3, (nt, nl, npx)).astype(np.float32),
                             {"units": "dB"}),
            "coherence_vv": (("time", "line", "pixel"), rng.uniform(0, 1, (nt, nl, npx)).astype(np.float32)),
            "interferogram_vv": (("time", "line", "pixel"),
                                 np.exp(1j * rng.uniform(-3, 3, (nt, nl, npx))).astype(np.complex64)),
            "entropy_vv_vh": (("line", "pixel"), rng.uniform(0, 1, (nl, npx)).astype(np.float32)),
            "fraction_building": (("line", "pixel"), rng.uniform(0, 1, (nl, npx)).astype(np.float32)),
            "label_l1": (("line", "pixel"), labels, {"flag_values": np.arange(5, dtype=np.uint8),
                                                     "flag_meanings": meaning}),
            "label_l2": (("line", "pixel"), labels, {"flag_values": np.arange(5, dtype=np.uint8),
                                                     "flag_meanings": meaning}),
            "label_l3": (("line", "pixel"), np.where(rng.uniform(size=(nl, npx)) < 0.5, labels, 0).astype(np.uint8),
                         {"flag_values": np.arange(5, dtype=np.uint8), "flag_meanings": meaning}),
            "temporal_baseline": (("time",), np.array([0, 12, 24], np.float32)),
            "perpendicular_baseline": (("time",), np.array([0, 40, -80], np.float32)),
        },
        coords={
            "time": np.array(["2022-01-09", "2022-01-21", "2022-02-02"], dtype="datetime64[ns]"),
            "line": np.arange(nl), "pixel": np.arange(npx),
            "latitude": (("line", "pixel"), lat), "longitude": (("line", "pixel"), lon),
        },
        attrs={"reference_date": "2022-01-09", "title": "test set",
               "sarbd_classes": json.dumps([{"id": i + 1, "name": n} for i, n in
                                            enumerate(["building", "road", "railway", "water"])])},
    )
    path.mkdir(parents=True)
    ds.to_zarr(path / "dataset.zarr")
    (path / "run_log.json").write_text(json.dumps({"stages": [{"name": "signatures", "seconds": 1.5,
                                                              "cached": False}],
                                                   "versions": {"sarbd": "0.1.0"}, "config": {"a": 1}}))
    return path


def test_report_has_every_section_and_figure(tmp_path):
    ds_dir = small_dataset(tmp_path / "ds")
    out = write_report(ds_dir, tmp_path / "report.html")
    text = out.read_text()
    for heading in ("Area and acquisitions", "Signatures", "Radarcoded reference layers", "Labels",
                    "Coherence and interferogram", "Provenance"):
        assert heading in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 5  # footprint, signatures, reference, labels, insar
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http" not in text.replace("http-equiv", "")  # self-contained: nothing fetched
    pngs = sorted(p.name for p in (tmp_path / "report_figures").iterdir() if p.suffix == ".png")
    assert pngs == ["footprint.png", "insar.png", "labels.png", "reference.png", "signatures.png"]
    # class counts of the L2 table are the real counts
    n_building = int(np.count_nonzero(xr.open_zarr(ds_dir / "dataset.zarr")["label_l2"].values == 1))
    assert "<td>building</td><td>" in text and f"<td>{n_building}</td>" in text


def test_report_cli_and_bad_input(tmp_path, capsys):
    ds_dir = small_dataset(tmp_path / "ds")
    assert main(["report", str(ds_dir), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").is_file()
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "x.html")]) == 2
    assert "not a SARbd dataset" in capsys.readouterr().err
