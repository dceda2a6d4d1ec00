"""The self-contained HTML report of a SARbd dataset (and optionally a trained baseline).

Every figure is embedded as a base64 PNG, so the page is one file that opens
offline; the same figures are saved as PNG files beside it.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from sarbd import __version__
from sarbd.errors import InputError
from sarbd.report import figures
from sarbd.utils.files import atomic_output

__all__ = ["Report", "write_report"]

#: Signatures shown in the quicklook panel, in this order, when present (like the
#: AlignSAR figure of fourteen signatures, with calibrated values).
QUICKLOOK_ORDER: tuple[tuple[str, str], ...] = (
    ("sigma0_db_vv", "gray"),
    ("sigma0_db_vh", "gray"),
    ("amplitude_vv", "gray"),
    ("amplitude_vh", "gray"),
    ("interferometric_phase_vv", "twilight"),
    ("coherence_vv", "viridis"),
    ("intensity_sum_vv_vh", "gray"),
    ("intensity_difference_vv_vh", "RdBu_r"),
    ("intensity_ratio_db_vv_vh", "magma"),
    ("pol_correlation_vv_vh", "viridis"),
    ("cross_product_vv_vh", "magma"),
    ("entropy_vv_vh", "plasma"),
    ("alpha_vv_vh", "plasma"),
    ("rvi_vv_vh", "YlGn"),
    ("dprvi_vv_vh", "YlGn"),
    ("amplitude_dispersion_vv", "cividis"),
)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em}.note{color:#666;font-style:italic}
"""


@dataclass
class Report:
    """An HTML report under construction: sections of HTML and named figures."""

    title: str
    sections: list[str] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_heading(self, text: str) -> None:
        self.sections.append(f"<h2>{html.escape(text)}</h2>")

    def add_html(self, fragment: str) -> None:
        self.sections.append(fragment)

    def add_note(self, text: str) -> None:
        self.sections.append(f'<p class="note">{html.escape(text)}</p>')

    def add_table(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
            for row in rows
        )
        self.sections.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def add_figure(self, name: str, fig: Figure, caption: str) -> None:
        """Embed ``fig``; what it shows (:func:`figures.figure_properties`) is kept in
        :attr:`properties` and in the PNG's ``sarbd:figure`` text chunk (JSON)."""
        buf = io.BytesIO()
        props = figures.figure_properties(fig)
        self.properties[name] = props
        fig.savefig(buf, format="png", dpi=90, metadata={"sarbd:figure": json.dumps(props)})
        fig.clf()
        import matplotlib.pyplot as plt

        plt.close(fig)
        png = buf.getvalue()
        self.figures[name] = png
        data = base64.b64encode(png).decode("ascii")
        self.sections.append(
            f'<figure id="fig-{html.escape(name)}"><img alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>'
        )

    def render(self) -> str:
        body = "\n".join(self.sections)
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
            f"<body><h1>{html.escape(self.title)}</h1>\n{body}\n"
            f'<p class="note">Made by sarbd {html.escape(__version__)}.</p></body></html>'
        )


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def _class_names(ds: xr.Dataset) -> list[str]:
    raw = ds.attrs.get("sarbd_classes")
    if raw:
        classes = json.loads(raw) if isinstance(raw, str) else raw
        return [c["name"] for c in sorted(classes, key=lambda c: c["id"])]
    for name in ("label_l2", "label_l3", "label_l1"):
        if name in ds and "flag_meanings" in ds[name].attrs:
            return str(ds[name].attrs["flag_meanings"]).split()[1:]
    return []


def _date_index(ds: xr.Dataset) -> int:
    ref = ds.attrs.get("reference_date")
    if ref is not None and "time" in ds.coords:
        times = ds["time"].values.astype("datetime64[D]")
        hits = np.nonzero(times == np.datetime64(str(ref)[:10], "D"))[0]
        if hits.size:
            return int(hits[0])
    return 0


def _two_d(var: xr.DataArray, t: int) -> np.ndarray:
    if "time" in var.dims:
        var = var.isel(time=t)
    return np.asarray(var.values)


def _acquisitions(report: Report, ds: xr.Dataset) -> None:
    report.add_heading("Area and acquisitions")
    attrs = ds.attrs
    facts = [
        ("mission", attrs.get("mission") or attrs.get("platform", "?")),
        (
            "mode / swath",
            f"{attrs.get('sar_instrument_mode') or attrs.get('mode') or '?'} / "
            f"{attrs.get('swath') or attrs.get('sar_subswath') or '?'}",
        ),
        (
            "pass / look side",
            f"{attrs.get('pass_direction') or attrs.get('sar_pass_direction') or '?'} / "
            f"{attrs.get('radar_grid_look_side') or '?'}",
        ),
        ("grid (lines x pixels)", f"{ds.sizes.get('line', '?')} x {ds.sizes.get('pixel', '?')}"),
        ("reference date", attrs.get("reference_date", "?")),
    ]
    report.add_table(["property", "value"], facts)
    if "time" in ds.coords:
        rows = []
        for i, t in enumerate(ds["time"].values):
            row: list[Any] = [str(np.datetime64(t, "s"))]
            for name in ("temporal_baseline", "perpendicular_baseline"):
                row.append(float(ds[name].values[i]) if name in ds else "")
            row.append(str(ds["orbit_source"].values[i]) if "orbit_source" in ds else "")
            rows.append(row)
        report.add_table(
            ["date (UTC)", "temporal baseline (days)", "perpendicular baseline (m)", "orbit"], rows
        )
    if "latitude" in ds and "longitude" in ds:
        report.add_figure(
            "footprint",
            figures.footprint_figure(ds["latitude"].values, ds["longitude"].values),
            "Footprint of the radar grid on the ground (WGS84).",
        )


def _defined_date(ds: xr.Dataset, var: xr.DataArray, t: int) -> int:
    """``t``, or the first other date when ``var`` is undefined at ``t`` (reference-date coherence/phase)."""
    if "time" not in var.dims:
        return t
    undefined = set(str(var.attrs.get("sarbd_undefined_dates", "")).split())
    days = [str(np.datetime64(v, "D")) for v in ds["time"].values]
    if days[t] not in undefined:
        return t
    return next((i for i, d in enumerate(days) if d not in undefined), t)


def _signatures(report: Report, ds: xr.Dataset, t: int, aspect: float, orientation: str) -> None:
    report.add_heading("Signatures (one date, radar geometry)")
    layers = []
    for name, cmap in QUICKLOOK_ORDER:
        if name in ds:
            var = ds[name]
            k = _defined_date(ds, var, t)
            title = name if k == t else f"{name} ({np.datetime64(ds['time'].values[k], 'D')})"
            layers.append((title, _two_d(var, k), cmap, _units(var)))
    if not layers:  # any other per-pixel float variable
        for key, var in ds.data_vars.items():
            if (
                var.dims[-2:] == ("line", "pixel")
                and var.dtype.kind == "f"
                and not str(key).startswith("fraction_")
            ):
                layers.append(
                    (str(key), _two_d(var, _defined_date(ds, var, t)), "gray", _units(var))
                )
            if len(layers) >= 16:
                break
    if layers:
        date = str(np.datetime64(ds["time"].values[t], "D")) if "time" in ds.coords else ""
        report.add_figure(
            "signatures",
            figures.panel_figure(layers, aspect=aspect, orientation=orientation),
            f"Signature quicklooks for {date} (2-98 % stretch unless the quantity has physical "
            "limits; reference-date coherence and phase are undefined, so those panels show the "
            "date named). Drawn to ground scale.",
        )
    else:
        report.add_note("No signatures in this dataset.")


def _units(var: xr.DataArray) -> str:
    """The unit to print (``sarbd_units`` keeps dB where CF needs units '1')."""
    return str(var.attrs.get("sarbd_units") or var.attrs.get("units") or "1")


def _reference(report: Report, ds: xr.Dataset, aspect: float, orientation: str) -> None:
    report.add_heading("Radarcoded reference layers")
    layers = [
        (str(n), ds[n].values, "Greys", "1") for n in ds.data_vars if str(n).startswith("fraction_")
    ]
    if "layover_shadow_mask" in ds:
        layers.append(("layover_shadow_mask", ds["layover_shadow_mask"].values, "", "1"))
    if layers:
        report.add_figure(
            "reference",
            figures.panel_figure(layers, aspect=aspect, orientation=orientation),
            "Per-class area fractions of the reference data in radar geometry.",
        )
    else:
        report.add_note("No radarcoded reference layers in this dataset.")


def _labels(
    report: Report, ds: xr.Dataset, names: list[str], aspect: float, orientation: str
) -> None:
    report.add_heading("Labels: SARbd-L1, L2, L3")
    maps = [
        (f"SARbd-{lvl.upper()}", ds[f"label_{lvl}"].values)
        for lvl in ("l1", "l2", "l3")
        if f"label_{lvl}" in ds
    ]
    if not maps:
        report.add_note("No labels in this dataset.")
        return
    report.add_figure(
        "labels",
        figures.label_maps_figure(maps, names, aspect=aspect, orientation=orientation),
        "Label maps per quality level (grey: unlabelled).",
    )
    rows = []
    for cid, cname in enumerate(names, start=1):
        rows.append([cname, *[int(np.count_nonzero(np.asarray(m) == cid)) for _, m in maps]])
    report.add_table(["class", *[m[0] for m in maps]], rows)


def _insar(report: Report, ds: xr.Dataset, aspect: float, orientation: str) -> None:
    report.add_heading("Coherence and interferogram")
    t_ref = _date_index(ds)
    others = [i for i in range(ds.sizes.get("time", 0)) if i != t_ref]
    layers = []
    for pol in ("vv", "hh", "vh"):
        coh = next((n for n in (f"coherence_{pol}",) if n in ds), None)
        ifg = next(
            (n for n in (f"interferometric_phase_{pol}", f"interferogram_{pol}") if n in ds), None
        )
        if coh and others:
            layers.append(
                (
                    f"{coh} ({np.datetime64(ds['time'].values[others[0]], 'D')})",
                    _two_d(ds[coh], others[0]),
                    "viridis",
                    "1",
                )
            )
        if ifg and others:
            data = _two_d(ds[ifg], others[0])
            if np.iscomplexobj(data):
                data = np.angle(data)
            layers.append(
                (
                    f"{ifg} ({np.datetime64(ds['time'].values[others[0]], 'D')})",
                    data,
                    "twilight",
                    "rad",
                )
            )
        if layers:
            break
    if layers:
        report.add_figure(
            "insar",
            figures.panel_figure(layers, columns=2, aspect=aspect, orientation=orientation),
            "Coherence and flattened interferometric phase against the reference date.",
        )
    else:
        report.add_note("No interferometric layers in this dataset.")


def _provenance(report: Report, dataset_dir: Path, ds: xr.Dataset) -> None:
    report.add_heading("Provenance")
    log_file = dataset_dir / "run_log.json"
    if log_file.is_file():
        log = json.loads(log_file.read_text())
        stages = log.get("stages", [])
        if stages:
            report.add_table(
                ["stage", "seconds", "cached"],
                [
                    [s.get("name"), float(s.get("seconds", 0.0)), s.get("cached", False)]
                    for s in stages
                ],
            )
        versions = log.get("versions", {})
        if versions:
            report.add_table(["package", "version"], sorted(versions.items()))
        if "config" in log:
            report.add_html(f"<pre>{html.escape(json.dumps(log['config'], indent=2))}</pre>")
    else:
        report.add_note("No run log (run_log.json) next to the dataset.")
    keys = ["title", "date_created", "Conventions", "sar_processing_software", "history"]
    report.add_table(["attribute", "value"], [[k, ds.attrs[k]] for k in keys if k in ds.attrs])


def _open_dataset(dataset: Path) -> tuple[xr.Dataset, Path]:
    dataset = Path(dataset)
    if dataset.is_dir() and (dataset / "dataset.zarr").exists():
        return xr.open_zarr(dataset / "dataset.zarr"), dataset
    if dataset.suffix == ".zarr" and dataset.exists():
        return xr.open_zarr(dataset), dataset.parent
    if dataset.suffix == ".nc" and dataset.is_file():
        return xr.open_dataset(dataset), dataset.parent
    raise InputError(
        "not a SARbd dataset (no dataset.zarr inside)",
        path=dataset,
        hint="give the folder written by `sarbd build` or `sarbd demo`",
    )


def write_report(
    dataset: str | Path,
    out: str | Path,
    *,
    run: str | Path | None = None,
    title: str | None = None,
) -> Path:
    """Write the HTML report of a dataset (and of a trained run) and its figures as PNG.

    Parameters
    ----------
    dataset
        Dataset folder (with ``dataset.zarr``), or a ``.zarr``/``.nc`` file.
    out
        HTML file to write; figures go to ``<out stem>_figures/`` beside it.
    run
        Optional training run folder (``sarbd train --out RUN``) whose metrics,
        confusion matrix and predicted map are added.

    Returns
    -------
    Path
        The HTML file.
    """
    ds, dataset_dir = _open_dataset(Path(dataset))
    out = Path(out)
    names = _class_names(ds)
    aspect = figures._aspect(ds)
    orientation = figures.orientation_note(ds)
    report = Report(title or f"SARbd dataset report: {ds.attrs.get('title', dataset_dir.name)}")
    _acquisitions(report, ds)
    _signatures(report, ds, _date_index(ds), aspect, orientation)
    _reference(report, ds, aspect, orientation)
    _labels(report, ds, names, aspect, orientation)
    _insar(report, ds, aspect, orientation)
    if run is not None:
        from sarbd.report.ml_section import add_run_section

        add_run_section(report, Path(run), ds, names, aspect)
    _provenance(report, dataset_dir, ds)
    fig_dir = out.parent / f"{out.stem}_figures"
    with atomic_output(
        fig_dir, directory=True
    ) as tmp_dir:  # replaces only a figures folder sarbd wrote
        for name, png in report.figures.items():
            (tmp_dir / f"{name}.png").write_bytes(png)
    with atomic_output(out) as tmp:
        tmp.write_text(report.render(), encoding="utf-8")
    return out
