"""Quicklook figures of a SARbd dataset (matplotlib, no display needed).

Each function takes xarray/NumPy data and returns a :class:`matplotlib.figure.Figure`;
:mod:`sarbd.report.html` embeds them in the report and saves them as PNG. Radar
images are shown in radar geometry (line down, pixel across) with an aspect ratio
that makes ground distances about square.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the report never needs a display

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from numpy.typing import NDArray

__all__ = [
    "class_colormap",
    "confusion_matrix_figure",
    "footprint_figure",
    "label_maps_figure",
    "panel_figure",
    "prediction_figure",
]

#: Colours for class ids 1.. (0 = unlabelled is drawn transparent/grey).
CLASS_COLOURS = [
    "#d62728",  # building: red
    "#7f7f7f",  # road: grey
    "#8c564b",  # railway: brown
    "#1f77b4",  # water: blue
    "#2ca02c",  # vegetation: green
    "#bcbd22",  # field: olive
    "#e7ba52",  # bare: sand
    "#9467bd",
    "#17becf",
    "#ff7f0e",
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


def _aspect(ds: xr.Dataset | xr.DataArray) -> float:
    """Display aspect (height/width of one pixel) making ground spacing about square."""
    spacing_line = ds.attrs.get("sar_pixel_spacing_azimuth")
    spacing_pixel = ds.attrs.get("ground_range_pixel_spacing") or ds.attrs.get("sar_pixel_spacing_range")
    try:
        return float(spacing_line) / float(spacing_pixel)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return 1.0


def _decimate(arr: NDArray[Any], max_size: int = 800) -> NDArray[Any]:
    step = max(1, int(np.ceil(max(arr.shape) / max_size)))
    return arr[::step, ::step]


def panel_figure(
    layers: Sequence[tuple[str, NDArray[Any], str, str]],
    *,
    columns: int = 4,
    aspect: float = 1.0,
    title: str | None = None,
) -> Figure:
    """A grid of quicklooks.

    Parameters
    ----------
    layers
        ``(title, 2-D array, colormap, units)`` per panel; percentile-stretched.
    columns
        Panels per row.
    aspect
        Pixel aspect ratio (line spacing / pixel spacing on the ground).
    """
    n = max(len(layers), 1)
    cols = min(columns, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (name, data, cmap, units) in zip(axes.ravel(), layers, strict=False):
        arr = _decimate(np.asarray(data, dtype=np.float64))
        lo, hi = _stretch(arr)
        im = ax.imshow(arr, cmap=cmap, vmin=lo, vmax=hi, aspect=aspect, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_axis_on()
        ax.tick_params(labelsize=6)
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        cb.ax.tick_params(labelsize=6)
        if units and units != "1":
            cb.set_label(units, fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def label_maps_figure(
    maps: Sequence[tuple[str, NDArray[Any]]], class_names: Sequence[str], *, aspect: float = 1.0
) -> Figure:
    """Categorical label maps side by side with a shared legend (ids 1..N, 0 unlabelled)."""
    cmap, norm = class_colormap(len(class_names))
    fig, axes = plt.subplots(1, len(maps), figsize=(4.6 * len(maps), 4.0), squeeze=False)
    for ax, (name, arr) in zip(axes[0], maps, strict=True):
        ax.imshow(_decimate(np.asarray(arr)), cmap=cmap, norm=norm, aspect=aspect, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        ax.tick_params(labelsize=6)
    handles = [
        matplotlib.patches.Patch(color=cmap(i), label=label)
        for i, label in enumerate(["unlabelled", *class_names])
    ]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 8), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def prediction_figure(
    truth: NDArray[Any], predicted: NDArray[Any], class_names: Sequence[str], *, aspect: float = 1.0
) -> Figure:
    """The reference (test) labels next to the model's predicted map."""
    return label_maps_figure([("reference labels", truth), ("predicted", predicted)], class_names, aspect=aspect)


def confusion_matrix_figure(matrix: NDArray[Any], class_names: Sequence[str], title: str = "") -> Figure:
    """A confusion matrix (rows: reference, columns: predicted) with counts and row-normalised shading."""
    m = np.asarray(matrix, dtype=np.float64)
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.1 * len(class_names) + 2.5, 1.0 * len(class_names) + 2))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def footprint_figure(latitude: NDArray[Any], longitude: NDArray[Any], title: str = "footprint") -> Figure:
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
