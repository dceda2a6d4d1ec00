"""The HTML report: every section and figure present, self-contained, PNGs saved."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
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
            "sigma0_db_vv": (
                ("time", "line", "pixel"),
                rng.normal(-10, 3, (nt, nl, npx)).astype(np.float32),
                {"units": "dB"},
            ),
            "coherence_vv": (
                ("time", "line", "pixel"),
                np.concatenate(
                    [np.ones((1, nl, npx)), rng.uniform(0, 1, (nt - 1, nl, npx))]
                ).astype(np.float32),
                {"sarbd_category": "1"},
            ),  # the reference date: 1
            "interferogram_vv": (
                ("time", "line", "pixel"),
                np.exp(1j * rng.uniform(-3, 3, (nt, nl, npx))).astype(np.complex64),
            ),
            "entropy_vv_vh": (("line", "pixel"), rng.uniform(0, 1, (nl, npx)).astype(np.float32)),
            "fraction_building": (
                ("line", "pixel"),
                rng.uniform(0, 1, (nl, npx)).astype(np.float32),
            ),
            "layover_shadow_mask": (
                ("line", "pixel"),
                rng.integers(0, 4, (nl, npx)).astype(np.uint8),
                {
                    "flag_values": np.arange(4, dtype=np.uint8),
                    "flag_meanings": "none layover shadow layover_and_shadow",
                },
            ),
            "label_l1": (
                ("line", "pixel"),
                labels,
                {"flag_values": np.arange(5, dtype=np.uint8), "flag_meanings": meaning},
            ),
            "label_l2": (
                ("line", "pixel"),
                labels,
                {"flag_values": np.arange(5, dtype=np.uint8), "flag_meanings": meaning},
            ),
            "label_l3": (
                ("line", "pixel"),
                np.where(rng.uniform(size=(nl, npx)) < 0.5, labels, 0).astype(np.uint8),
                {"flag_values": np.arange(5, dtype=np.uint8), "flag_meanings": meaning},
            ),
            "temporal_baseline": (("time",), np.array([0, 12, 24], np.float32)),
            "perpendicular_baseline": (("time",), np.array([0, 40, -80], np.float32)),
        },
        coords={
            "time": np.array(["2022-01-09", "2022-01-21", "2022-02-02"], dtype="datetime64[ns]"),
            "line": np.arange(nl),
            "pixel": np.arange(npx),
            "latitude": (("line", "pixel"), lat),
            "longitude": (("line", "pixel"), lon),
        },
        attrs={
            "reference_date": "2022-01-09",
            "title": "test set",
            "pass_direction": "ASCENDING",
            "radar_grid_look_side": "right",
            "mode": "IW",
            "sarbd_classes": json.dumps(
                [
                    {"id": i + 1, "name": n}
                    for i, n in enumerate(["building", "road", "railway", "water"])
                ]
            ),
        },
    )
    from sarbd.dataset.assemble import mask_undefined_dates

    ds = mask_undefined_dates(ds)  # as assemble_dataset does: reference-date coherence -> NaN
    path.mkdir(parents=True)
    ds.to_zarr(path / "dataset.zarr")
    (path / "run_log.json").write_text(
        json.dumps(
            {
                "stages": [{"name": "signatures", "seconds": 1.5, "cached": False}],
                "versions": {"sarbd": "0.1.0"},
                "config": {"a": 1},
            }
        )
    )
    return path


def test_report_has_every_section_and_figure(tmp_path):
    ds_dir = small_dataset(tmp_path / "ds")
    out = write_report(ds_dir, tmp_path / "report.html")
    text = out.read_text()
    for heading in (
        "Area and acquisitions",
        "Signatures",
        "Radarcoded reference layers",
        "Labels",
        "Coherence and interferogram",
        "Provenance",
    ):
        assert heading in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 5  # footprint, signatures, reference, labels, insar
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http" not in text.replace("http-equiv", "")  # self-contained: nothing fetched
    pngs = sorted(p.name for p in (tmp_path / "report_figures").iterdir() if p.suffix == ".png")
    assert pngs == ["footprint.png", "insar.png", "labels.png", "reference.png", "signatures.png"]
    # class counts of the L2 table are the real counts
    n_building = int(
        np.count_nonzero(xr.open_zarr(ds_dir / "dataset.zarr")["label_l2"].values == 1)
    )
    assert "<td>building</td><td>" in text and f"<td>{n_building}</td>" in text


def test_report_cli_and_bad_input(tmp_path, capsys):
    ds_dir = small_dataset(tmp_path / "ds")
    assert main(["report", str(ds_dir), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").is_file()
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "x.html")]) == 2
    assert "not a SARbd dataset" in capsys.readouterr().err


def _ground_aspect(lat, lon):
    """Line over pixel ground spacing (haversine, independent of sarbd's own approximation)."""

    def dist(lat1, lon1, lat2, lon2):
        p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
        a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
        return 2 * 6_371_000 * np.arcsin(np.sqrt(a))

    along_line = np.median(dist(lat[:-1], lon[:-1], lat[1:], lon[1:]))
    along_pixel = np.median(dist(lat[:, :-1], lon[:, :-1], lat[:, 1:], lon[:, 1:]))
    return along_line / along_pixel


def test_quicklooks_are_drawn_to_scale_with_units_limits_and_legends(tmp_path):
    """What the figures show, read back from the PNG files' ``sarbd:figure`` metadata."""
    from PIL import Image

    ds_dir = small_dataset(tmp_path / "ds")
    write_report(ds_dir, tmp_path / "report.html")
    ds = xr.open_zarr(ds_dir / "dataset.zarr")
    aspect = _ground_aspect(ds["latitude"].values, ds["longitude"].values)
    assert 1.4 < aspect < 1.8  # 142 m lines against 90 m pixels: drawn 1.6 times taller than wide
    panels = {}
    for name in ("signatures", "reference", "labels", "insar"):
        meta = json.loads(
            Image.open(tmp_path / "report_figures" / f"{name}.png").text["sarbd:figure"]
        )
        # orientation: lat grows with line, lon with pixel -> down = N, right = E: mirrored
        assert (
            "line = azimuth" in meta["orientation"]
            and "ascending pass right-looking" in meta["orientation"]
        )
        assert "down = N, right = E; mirrored" in meta["orientation"]
        for panel in meta["panels"]:
            panels[(name, panel["title"])] = panel
            assert panel["xlabel"].startswith("pixel (slant range)") and panel["ylabel"].startswith(
                "line (azimuth)"
            )
            assert panel["aspect"] == pytest.approx(aspect, rel=0.01)
            if panel["kind"] == "categorical":
                assert panel["colourbar"] is None
            else:
                assert panel["colourbar"], panel  # a unit on every colourbar ("1": dimensionless)
    coh = next(p for (f, t), p in panels.items() if f == "insar" and t.startswith("coherence_vv"))
    assert coh["clim"] == [0.0, 1.0] and coh["kind"] == "sequential"
    phase = next(
        p for (f, t), p in panels.items() if f == "insar" and t.startswith("interferogram_vv")
    )
    assert phase["clim"] == pytest.approx([-np.pi, np.pi]) and phase["kind"] == "cyclic"
    assert phase["colourbar"].startswith("rad")
    # the reference date's coherence is undefined: the signature panel shows another date
    sig_coh = next(t for (f, t) in panels if f == "signatures" and t.startswith("coherence_vv"))
    assert "2022-01-21" in sig_coh
    frac = panels[("reference", "fraction_building")]
    assert frac["clim"] == [0.0, 1.0] and frac["kind"] == "sequential"
    mask = panels[("reference", "layover_shadow_mask")]
    assert mask["kind"] == "categorical" and mask["legend"] == [
        "none",
        "layover",
        "shadow",
        "layover + shadow",
    ]
    sigma = panels[("signatures", "sigma0_db_vv")]
    assert sigma["kind"] == "sequential" and sigma["colourbar"] == "dB"
    entropy = panels[("signatures", "entropy_vv_vh")]
    assert entropy["clim"] == [0.0, 1.0] and entropy["kind"] == "sequential"
    for (
        _,
        title,
    ), panel in panels.items():  # no diverging map for a quantity that is never negative
        if title.startswith(("coherence", "fraction", "entropy", "sigma0")):
            assert panel["kind"] != "diverging", title
    labels = json.loads(Image.open(tmp_path / "report_figures" / "labels.png").text["sarbd:figure"])
    assert labels["legend"][:3] == ["unlabelled", "building", "road"]
    assert all(p["kind"] == "categorical" for p in labels["panels"])


def test_layer_styles_and_orientation_of_a_descending_pass():
    from sarbd.report.figures import layer_style, orientation_note

    assert layer_style("coherence_vv", "1", np.array([0.2, 0.3])).vmax == 1.0
    assert layer_style("interferometric_phase_vv", "rad", np.array([0.1])).kind == "cyclic"
    assert layer_style("height", "m", np.array([-5.0, 3.0])).kind == "diverging"
    assert layer_style("height", "m", np.array([2.0, 3.0])).kind == "sequential"
    assert layer_style("sigma0_db_vv", "dB", np.array([-20.0, -5.0])).units == "dB"
    # descending, right-looking: lines run south, pixels west -> the image is a mirrored map
    line, pixel = np.meshgrid(np.arange(5), np.arange(6), indexing="ij")
    ds = xr.Dataset(
        coords={
            "latitude": (("line", "pixel"), 50.0 - 1e-3 * line + 1e-5 * pixel),
            "longitude": (("line", "pixel"), 7.0 - 2e-5 * line - 1e-3 * pixel),
        },
        attrs={"pass_direction": "DESCENDING", "radar_grid_look_side": "right"},
    )
    note = orientation_note(ds)
    assert "descending pass right-looking" in note and "down = S, right = W; mirrored" in note
