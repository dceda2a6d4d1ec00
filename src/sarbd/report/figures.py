"""Quicklook figures of a SARbd dataset (matplotlib, no display needed).

Each function takes xarray/NumPy data and returns a :class:`matplotlib.figure.Figure`;
:mod:`sarbd.report.html` embeds them in the report and saves them as PNG. Radar
images are shown in radar geometry (line = azimuth down, pixel = slant range across),
drawn to ground scale (pixels as tall as a line is long on the ground and as wide as a
pixel is, from the latitude/longitude layers), with axis labels, an orientation note
(compass directions, pass, look side, mirroring), a unit on every colourbar, physical
limits where a quantity has them (coherence 0-1, phase -pi..pi) and legends for
categorical masks. :func:`figure_properties` lists what a figure shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the report never needs a display

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from numpy.typing import NDArray

from sarbd.dataset.classes import CLASS_COLOURS

__all__ = [
    "MASK_LEGENDS",
    "Style",
    "class_colormap",
    "confusion_matrix_figure",
    "figure_properties",
    "footprint_figure",
    "ground_spacing",
    "label_maps_figure",
    "layer_style",
    "orientation_note",
    "panel_figure",
    "prediction_figure",
]


def class_colormap(n_classes: int) -> tuple[ListedColormap, BoundaryNorm]:
    """A categorical colour map for ids 0..n (0 = unlabelled, light grey)."""
    colours = ["#eeeeee", *[CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(n_classes)]]
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(-0.5, n_classes + 1.5), cmap.N)
    return cmap, norm


def _stretch(data: NDArray[Any], low: float = 2.0, high: float = 98.0) -> tuple[float, float]:
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(finite, [low, high])
    return (float(lo), float(hi)) if hi > lo else (float(lo), float(lo) + 1.0)


@dataclass(frozen=True)
class Style:
    """How a layer is drawn: colour map, kind, fixed limits (None: 2-98 % stretch), colourbar label."""

    cmap: str
    kind: str  # "sequential", "diverging", "cyclic" or "categorical"
    vmin: float | None
    vmax: float | None
    units: str


#: Layers with physical limits: name prefix -> (colour map, kind, vmin, vmax, units).
_FIXED: tuple[tuple[str, tuple[str, str, float, float, str]], ...] = (
    ("coherence", ("viridis", "sequential", 0.0, 1.0, "1 (coherence magnitude)")),
    ("pol_correlation", ("viridis", "sequential", 0.0, 1.0, "1 (correlation magnitude)")),
    ("fraction_", ("Greys", "sequential", 0.0, 1.0, "1 (area fraction)")),
    ("entropy", ("plasma", "sequential", 0.0, 1.0, "1 (entropy)")),
    ("alpha", ("plasma", "sequential", 0.0, 90.0, "deg")),
    ("interferometric_phase", ("twilight", "cyclic", -np.pi, np.pi, "rad")),
    ("interferogram", ("twilight", "cyclic", -np.pi, np.pi, "rad (phase)")),
    ("phase", ("twilight", "cyclic", -np.pi, np.pi, "rad")),
)

#: Categorical layers drawn with a legend: name -> [(value, label, colour)].
MASK_LEGENDS: dict[str, list[tuple[int, str, str]]] = {
    "layover_shadow_mask": [
        (0, "none", "#f0f0f0"),
        (1, "layover", "#e6550d"),
        (2, "shadow", "#3182bd"),
        (3, "layover + shadow", "#756bb1"),
    ],
}


def layer_style(name: str, units: str, data: NDArray[Any]) -> Style:
    """The :class:`Style` of a layer from its name, units and values.

    Coherence-like magnitudes are drawn 0-1, phases -pi..pi on a cyclic map; a quantity
    that is never negative (or a logarithm of one, dB) on a sequential map with a 2-98 %
    stretch; a signed one on a diverging map centred on 0. Every colourbar names a unit
    ("1" for dimensionless quantities).
    """
    for prefix, (cmap, kind, lo, hi, unit) in _FIXED:
        if name.startswith(prefix):
            return Style(cmap, kind, lo, hi, unit)
    unit = units or "1"
    if unit.lower() == "db" or "_db" in name:
        return Style("gray", "sequential", None, None, "dB")
    finite = np.asarray(data, float)[np.isfinite(data)]
    if finite.size and finite.min() < 0 < finite.max():
        return Style("RdBu_r", "diverging", None, None, unit)
    return Style("magma", "sequential", None, None, unit)


def ground_spacing(ds: xr.Dataset | xr.DataArray) -> tuple[float, float] | None:
    """Median ground distance (m) between neighbouring lines and between neighbouring pixels.

    From the ``latitude``/``longitude`` layers (local equirectangular approximation on a
    6 371 km sphere, good to < 1 % over a pixel); ``None`` when they are missing.
    """
    if "latitude" not in ds.coords and not (isinstance(ds, xr.Dataset) and "latitude" in ds):
        return None
    lat = np.radians(np.asarray(ds["latitude"].transpose("line", "pixel").values, float))
    lon = np.radians(np.asarray(ds["longitude"].transpose("line", "pixel").values, float))
    if lat.shape[0] < 2 or lat.shape[1] < 2:
        return None
    radius = 6_371_000.0

    def step(axis: int) -> float:
        dy = np.diff(lat, axis=axis)
        dx = np.diff(lon, axis=axis) * np.cos(lat[:-1] if axis == 0 else lat[:, :-1])
        d = radius * np.hypot(dx, dy)
        return float(np.nanmedian(d))

    dl, dp = step(0), step(1)
    return (dl, dp) if np.isfinite(dl) and np.isfinite(dp) and dl > 0 and dp > 0 else None


def _aspect(ds: xr.Dataset | xr.DataArray) -> float:
    """Display aspect (height / width of one pixel) that draws ground distances to scale.

    The ground spacings come from latitude/longitude (:func:`ground_spacing`); without
    them, from ``sar_pixel_spacing_azimuth`` over the ground-range spacing
    (``ground_range_pixel_spacing``, or the slant-range spacing over the sine of the mean
    incidence angle).
    """
    spacing = ground_spacing(ds)
    if spacing is not None:
        return spacing[0] / spacing[1]
    spacing_line = ds.attrs.get("sar_pixel_spacing_azimuth")
    spacing_pixel = ds.attrs.get("ground_range_pixel_spacing")
    if spacing_pixel is None and ds.attrs.get("sar_pixel_spacing_range") is not None:
        inc = ds.attrs.get("sar_view_incidence_angle")
        if isinstance(ds, xr.Dataset) and "incidence_angle" in ds:
            inc = float(np.nanmean(np.asarray(ds["incidence_angle"].values)))
        if inc is not None:
            spacing_pixel = float(ds.attrs["sar_pixel_spacing_range"]) / np.sin(
                np.radians(float(inc))
            )
    try:
        return float(spacing_line) / float(spacing_pixel)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return 1.0


_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _bearing(dlat: float, dlon_east: float) -> str:
    angle = (np.degrees(np.arctan2(dlon_east, dlat)) + 360.0) % 360.0
    return _COMPASS[int(((angle + 22.5) % 360) // 45)]


def orientation_note(ds: xr.Dataset) -> str:
    """One line saying how a radar-geometry image lies on the ground.

    Line = azimuth (time runs down), pixel = slant range (near range at the left); the
    compass directions of "down" and "right" and whether the image is mirrored against a
    north-up map come from the latitude/longitude layers; pass direction and look side
    from the attributes.
    """
    attrs = ds.attrs
    parts = [
        "radar geometry: line = azimuth (time runs down), pixel = slant range (near range left)"
    ]
    pass_dir = str(attrs.get("sar_pass_direction", attrs.get("pass_direction", ""))).lower()
    look = str(attrs.get("radar_grid_look_side", "")).lower()
    if pass_dir in ("ascending", "descending") or look in ("left", "right"):
        parts.append(
            " ".join(
                x
                for x in (pass_dir + " pass" if pass_dir else "", look + "-looking" if look else "")
                if x
            )
        )
    if (
        "latitude" in ds.variables
        and "longitude" in ds.variables
        and ds.sizes.get("line", 0) > 1
        and ds.sizes.get("pixel", 0) > 1
    ):
        lat = np.asarray(ds["latitude"].transpose("line", "pixel").values, float)
        lon = np.asarray(ds["longitude"].transpose("line", "pixel").values, float)
        coslat = np.cos(np.radians(np.nanmean(lat)))
        down = (
            float(np.nanmean(np.diff(lat, axis=0))),
            float(np.nanmean(np.diff(lon, axis=0)) * coslat),
        )
        right = (
            float(np.nanmean(np.diff(lat, axis=1))),
            float(np.nanmean(np.diff(lon, axis=1)) * coslat),
        )
        # (east, north) of "right" and "down"; a north-up map has right = E, down = S (det < 0)
        det = right[1] * down[0] - right[0] * down[1]
        parts.append(
            f"down = {_bearing(*down)}, right = {_bearing(*right)}"
            + ("; mirrored against a north-up map" if det > 0 else "")
        )
    return "; ".join(parts)


def _decimate(arr: NDArray[Any], max_size: int = 800) -> NDArray[Any]:
    step = max(1, int(np.ceil(max(arr.shape) / max_size)))
    return arr[::step, ::step]


def _radar_axes(ax: Any) -> None:
    ax.set_xlabel("pixel (slant range) \u2192", fontsize=7)
    ax.set_ylabel("line (azimuth) \u2193", fontsize=7)
    ax.tick_params(labelsize=6)


def _mask_legend(ax: Any, entries: Sequence[tuple[int, str, str]]) -> None:
    handles = [matplotlib.patches.Patch(color=colour, label=label) for _, label, colour in entries]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=6, frameon=False
    )


def panel_figure(
    layers: Sequence[tuple[str, NDArray[Any], str, str]],
    *,
    columns: int = 4,
    aspect: float = 1.0,
    title: str | None = None,
    orientation: str | None = None,
) -> Figure:
    """A grid of radar-geometry quicklooks drawn to ground scale.

    Parameters
    ----------
    layers
        ``(name, 2-D array, colormap, units)`` per panel. The style comes from
        :func:`layer_style` (fixed physical limits where a quantity has them, else a
        2-98 % stretch; a colourbar with units, or a legend for categorical masks of
        :data:`MASK_LEGENDS`); ``colormap`` is used for sequential layers only.
    columns
        Panels per row.
    aspect
        Ground size of a line over that of a pixel (:func:`_aspect`): pixels are drawn
        that much taller than wide, so the image has the scene's ground proportions.
    orientation
        A note on how the image lies on the ground (:func:`orientation_note`), drawn
        under the panels.
    """
    n = max(len(layers), 1)
    cols = min(columns, n)
    rows = int(np.ceil(n / cols))
    shapes = [np.shape(d) for _, d, _, _ in layers] or [(1, 1)]
    ratio = float(
        np.clip(max(s[0] for s in shapes) * aspect / max(max(s[1] for s in shapes), 1), 0.25, 4.0)
    )
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 1.0 + 3.2 * rows * ratio**0.5), squeeze=False
    )
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (name, data, cmap, units) in zip(axes.ravel(), layers, strict=False):
        arr = _decimate(np.asarray(data, dtype=np.float64))
        ax.set_axis_on()
        ax.set_title(name, fontsize=9)
        _radar_axes(ax)
        if name in MASK_LEGENDS:
            entries = MASK_LEGENDS[name]
            cm = ListedColormap([c for _, _, c in entries])
            norm = BoundaryNorm(np.arange(-0.5, len(entries) + 0.5), cm.N)
            im = ax.imshow(arr, cmap=cm, norm=norm, aspect=aspect, interpolation="nearest")
            im.sarbd_style = Style(cm.name, "categorical", 0.0, float(len(entries) - 1), "class")  # type: ignore[attr-defined]
            _mask_legend(ax, entries)
            continue
        style = layer_style(name, units, arr)
        if style.kind == "sequential" and cmap and style.vmin is None:
            style = Style(
                cmap if cmap not in ("RdBu_r", "RdBu", "coolwarm", "seismic") else "magma",
                style.kind,
                None,
                None,
                style.units,
            )
        if style.vmin is not None and style.vmax is not None:
            lo, hi = style.vmin, style.vmax
        elif style.kind == "diverging":
            top = max(abs(v) for v in _stretch(arr))
            lo, hi = -top, top
        else:
            lo, hi = _stretch(arr)
        im = ax.imshow(
            arr, cmap=style.cmap, vmin=lo, vmax=hi, aspect=aspect, interpolation="nearest"
        )
        im.sarbd_style = style  # type: ignore[attr-defined]
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        cb.ax.tick_params(labelsize=6)
        cb.set_label(style.units, fontsize=7)
        if style.kind == "cyclic" and style.units.startswith("rad"):
            cb.set_ticks([-np.pi, 0, np.pi], labels=["-\u03c0", "0", "\u03c0"])
    if title:
        fig.suptitle(title)
    if orientation:
        fig.text(
            0.5, 0.005, orientation, ha="center", va="bottom", fontsize=7, color="#444", wrap=True
        )
    fig.tight_layout(rect=(0, 0.04 if orientation else 0, 1, 1))
    fig.sarbd_orientation = orientation  # type: ignore[attr-defined]
    return fig


def figure_properties(fig: Figure) -> dict[str, Any]:
    """What a quicklook shows, for checks and the PNG metadata: per image axes, its title,
    axis labels, display aspect, colour map, limits, style kind and colourbar label or legend."""
    panels = []
    colourbars = {id(ax): ax for ax in fig.axes if ax.get_label() == "<colorbar>"}
    for ax in fig.axes:
        if id(ax) in colourbars or not ax.images:
            continue
        im = ax.images[0]
        style = getattr(im, "sarbd_style", None)
        cbar = getattr(im, "colorbar", None)
        legend = ax.get_legend()
        panels.append(
            {
                "title": ax.get_title(),
                "xlabel": ax.get_xlabel(),
                "ylabel": ax.get_ylabel(),
                "aspect": float(ax.get_aspect())
                if not isinstance(ax.get_aspect(), str)
                else ax.get_aspect(),
                "cmap": im.get_cmap().name,
                "clim": [float(v) for v in im.get_clim()],
                "kind": style.kind if style else None,
                "colourbar": cbar.ax.get_ylabel() if cbar is not None else None,
                "legend": [t.get_text() for t in legend.get_texts()]
                if legend is not None
                else None,
            }
        )
    return {
        "panels": panels,
        "orientation": getattr(fig, "sarbd_orientation", None),
        "legend": [t.get_text() for lg in fig.legends for t in lg.get_texts()],
    }


def label_maps_figure(
    maps: Sequence[tuple[str, NDArray[Any]]],
    class_names: Sequence[str],
    *,
    aspect: float = 1.0,
    orientation: str | None = None,
) -> Figure:
    """Categorical label maps side by side with a shared legend (ids 1..N, 0 unlabelled), to ground scale."""
    cmap, norm = class_colormap(len(class_names))
    fig, axes = plt.subplots(1, len(maps), figsize=(4.6 * len(maps), 4.4), squeeze=False)
    for ax, (name, arr) in zip(axes[0], maps, strict=True):
        im = ax.imshow(
            _decimate(np.asarray(arr)), cmap=cmap, norm=norm, aspect=aspect, interpolation="nearest"
        )
        im.sarbd_style = Style("classes", "categorical", 0.0, float(len(class_names)), "class")  # type: ignore[attr-defined]
        ax.set_title(name, fontsize=10)
        _radar_axes(ax)
    handles = [
        matplotlib.patches.Patch(color=cmap(i), label=label)
        for i, label in enumerate(["unlabelled", *class_names])
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.04 if orientation else 0.0),
        ncol=min(len(handles), 8),
        fontsize=8,
        frameon=False,
    )
    if orientation:
        fig.text(
            0.5, 0.005, orientation, ha="center", va="bottom", fontsize=7, color="#444", wrap=True
        )
    fig.tight_layout(rect=(0, 0.13 if orientation else 0.08, 1, 1))
    fig.sarbd_orientation = orientation  # type: ignore[attr-defined]
    return fig


def prediction_figure(
    truth: NDArray[Any],
    predicted: NDArray[Any],
    class_names: Sequence[str],
    *,
    aspect: float = 1.0,
    orientation: str | None = None,
) -> Figure:
    """The reference (test) labels next to the model's predicted map."""
    return label_maps_figure(
        [("reference labels", truth), ("predicted", predicted)],
        class_names,
        aspect=aspect,
        orientation=orientation,
    )


def confusion_matrix_figure(
    matrix: NDArray[Any], class_names: Sequence[str], title: str = ""
) -> Figure:
    """A confusion matrix (rows: reference, columns: predicted) with counts and row-normalised shading."""
    m = np.asarray(matrix, dtype=np.float64)
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.1 * len(class_names) + 2.5, 1.0 * len(class_names) + 2))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(
                j,
                i,
                f"{int(m[i, j])}",
                ha="center",
                va="center",
                color="white" if norm[i, j] > 0.5 else "black",
                fontsize=8,
            )
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def footprint_figure(
    latitude: NDArray[Any], longitude: NDArray[Any], title: str = "footprint"
) -> Figure:
    """The radar grid's outline on the ground (WGS84), with the first line/pixel marked."""
    lat = np.asarray(latitude)
    lon = np.asarray(longitude)
    edge_lat = np.concatenate([lat[0, :], lat[:, -1], lat[-1, ::-1], lat[::-1, 0]])
    edge_lon = np.concatenate([lon[0, :], lon[:, -1], lon[-1, ::-1], lon[::-1, 0]])
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(edge_lon, edge_lat, "-", color="#1f77b4")
    ax.plot(lon[0, 0], lat[0, 0], "o", color="#d62728", label="line 0, pixel 0")
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_aspect(1.0 / max(np.cos(np.radians(np.nanmean(lat))), 1e-3))
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
