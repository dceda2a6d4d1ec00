"""Raster reference data (any CRS) -> the radar grid, by exact footprint-area weighting.

Every source cell is a quadrilateral on the ground. Its four corners are placed at
their terrain height (DEM, ellipsoidal) and mapped to fractional (line, pixel) with
geo2rdr; the quadrilateral is then rasterised exactly like a polygon
(:mod:`sarbd.radarcode.coverage`), depositing ``area(cell ∩ pixel)``. Hence

* **categorical** rasters (land cover): per-class fraction of each radar pixel
  ``f_k = sum_{cells of class k} area(cell ∩ pixel) / area(pixel)``;
* **continuous** rasters (LiDAR heights, temperature, atmospheric phase): the mean over
  the ground area each radar pixel covers,
  ``v = sum area(cell ∩ pixel) * value / sum area(cell ∩ pixel)`` over valid cells.
  Nodata cells contribute to neither sum; a pixel whose valid covered fraction is
  below ``min_valid_fraction`` is NaN (nodata propagated), and that fraction is
  returned as ``<name>_valid_fraction``.

Areas are radar-plane areas; within one pixel the map -> radar transformation is
affine to a relative accuracy of ~1e-6 (curvature over tens of metres), so these are
ground-area weights. This is first-order conservative remapping (Jones, P. W. (1999),
First- and second-order conservative remapping schemes for grids in spherical
coordinates, *Mon. Weather Rev.* 127(9), 2204-2210), here on a terrain-aware grid.

Work is done per output Dask block: the block's outline goes to the ground with
rdr2geo, the raster window under it (plus a margin) is read, transformed and
deposited; memory is bounded by the block and its window.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import dask.array as da
import numba
import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd.core.chunks import ChunksLike, as_chunks
from sarbd.core.orbit import Orbit
from sarbd.errors import InputError, NoOverlapError
from sarbd.radarcode.coverage import _edge
from sarbd.radarcode.derived import MIXED, UNCHARTED, boundary_distance, hard_label
from sarbd.radarcode.target import (
    DemSource,
    GridSource,
    HeightSource,
    Target,
    heights_from,
    resolve_target,
)
from sarbd.utils.log import get_logger

__all__ = ["radarcode_raster"]

log = get_logger(__name__)

RasterKind = Literal["auto", "categorical", "continuous"]


@numba.njit(cache=True, nogil=True)
def _deposit_quads(
    cl: NDArray[np.float64],
    cp: NDArray[np.float64],
    cls: NDArray[np.int64],
    weight: NDArray[np.float64],
    nclass: int,
    line0: float,
    pixel0: float,
    nrows: int,
    ncols: int,
) -> NDArray[np.float64]:
    """Rasterise every cell quad ``(i, j)`` with corners ``(cl, cp)[i:i+2, j:j+2]`` into ``nclass`` layers."""
    acc = np.zeros((nclass, nrows, ncols + 1))
    ny = cls.shape[0]
    nx = cls.shape[1]
    ys = np.empty(5)
    xs = np.empty(5)
    for i in range(ny):
        for j in range(nx):
            k = cls[i, j]
            if k < 0:
                continue
            ys[0] = cl[i, j]
            xs[0] = cp[i, j]
            ys[1] = cl[i, j + 1]
            xs[1] = cp[i, j + 1]
            ys[2] = cl[i + 1, j + 1]
            xs[2] = cp[i + 1, j + 1]
            ys[3] = cl[i + 1, j]
            xs[3] = cp[i + 1, j]
            ys[4] = ys[0]
            xs[4] = xs[0]
            lo_l = min(min(ys[0], ys[1]), min(ys[2], ys[3]))
            hi_l = max(max(ys[0], ys[1]), max(ys[2], ys[3]))
            lo_p = min(min(xs[0], xs[1]), min(xs[2], xs[3]))
            hi_p = max(max(xs[0], xs[1]), max(xs[2], xs[3]))
            if not (
                math.isfinite(lo_l)
                and math.isfinite(hi_l)
                and math.isfinite(lo_p)
                and math.isfinite(hi_p)
            ):
                continue
            if hi_l - line0 + 0.5 <= 0 or lo_l - line0 + 0.5 >= nrows:
                continue
            if lo_p - pixel0 + 0.5 >= ncols or hi_p - pixel0 + 0.5 <= 0:
                continue
            area = 0.0
            for q in range(4):
                area += ys[q] * xs[q + 1] - ys[q + 1] * xs[q]
            if area == 0.0:
                continue
            w = weight[i, j] if area > 0 else -weight[i, j]
            for q in range(4):
                _edge(
                    acc,
                    k,
                    ys[q] - line0 + 0.5,
                    xs[q] - pixel0 + 0.5,
                    ys[q + 1] - line0 + 0.5,
                    xs[q + 1] - pixel0 + 0.5,
                    w,
                    0,
                    nrows,
                    ncols,
                )
    out = np.empty((nclass, nrows, ncols))
    for k in range(nclass):
        for r in range(nrows):
            run = 0.0
            for c in range(ncols):
                run += acc[k, r, c]
                out[k, r, c] = run
    return out


class _RasterSource:
    """What each block task needs; holds a path, not an open handle (picklable)."""

    def __init__(
        self,
        path: Path,
        band: int,
        target: Target,
        terrain: HeightSource,
        h_ref: float,
        margin_m: float,
    ) -> None:
        import rasterio
        from pyproj import CRS

        self.path = path
        self.band = band
        self.target = target
        self.terrain = terrain
        self.h_ref = h_ref
        self.margin_m = margin_m
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputError(
                    "the raster has no coordinate reference system",
                    path=path,
                    hint="set one, e.g. gdal_edit.py -a_srs EPSG:XXXX FILE",
                )
            self.crs = CRS.from_wkt(src.crs.to_wkt())
            self.transform = src.transform
            self.shape = (src.height, src.width)
            self.nodata = src.nodata
            self.dtype = np.dtype(src.dtypes[band - 1])
            self.unit_m = (
                111_320.0
                if self.crs.is_geographic
                else float(self.crs.axis_info[0].unit_conversion_factor or 1.0)
            )

    def window_for(self, lines: tuple[float, float], pixels: tuple[float, float]) -> Any:
        """Raster window under a block of the grid (rdr2geo of its outline) plus the margin."""
        from pyproj import Transformer
        from rasterio.windows import Window, from_bounds

        from sarbd.geometry import rdr2geo

        g = self.target.grid.with_epoch(self.target.orbit.reference_epoch)
        n = 8
        s = np.linspace(0, 1, n)
        l0, l1 = lines
        p0, p1 = pixels
        ll = np.concatenate(
            [np.full(n, l0), l0 + s * (l1 - l0), np.full(n, l1), l0 + s * (l1 - l0)]
        )
        pp = np.concatenate(
            [p0 + s * (p1 - p0), np.full(n, p1), p0 + s * (p1 - p0), np.full(n, p0)]
        )
        t = np.clip(
            g.line_to_azimuth_time(ll), self.target.orbit.time[0], self.target.orbit.time[-1]
        )
        lat, lon, _ = rdr2geo(
            t,
            g.pixel_to_slant_range(pp),
            self.target.orbit,
            height=self.h_ref,
            look_side=g.look_side,
            wavelength=g.wavelength,
        )
        ok = np.isfinite(lat)
        tr = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        x, y = tr.transform(lon[ok], lat[ok])
        m = self.margin_m / self.unit_m
        win = from_bounds(
            np.min(x) - m, np.min(y) - m, np.max(x) + m, np.max(y) + m, self.transform
        )
        c0, r0 = math.floor(win.col_off), math.floor(win.row_off)
        win = Window(
            c0,
            r0,
            math.ceil(win.col_off + win.width) - c0,
            math.ceil(win.row_off + win.height) - r0,
        )
        full = Window(0, 0, self.shape[1], self.shape[0])
        try:
            return win.intersection(full)
        except Exception:
            return None

    def read(
        self, window: Any
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
        """Values, validity and corner (line, pixel) of the cells in ``window``."""
        import rasterio
        from pyproj import Transformer

        with rasterio.open(self.path) as src:
            data = src.read(self.band, window=window, masked=True)
            t = src.window_transform(window)
        values = np.asarray(data.filled(0), dtype=np.float64)
        valid = ~np.ma.getmaskarray(data) & np.isfinite(values)
        ny, nx = values.shape
        jj, ii = np.meshgrid(
            np.arange(nx + 1, dtype=np.float64), np.arange(ny + 1, dtype=np.float64)
        )
        x = t.c + t.a * jj + t.b * ii
        y = t.f + t.d * jj + t.e * ii
        tr = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(x, y)
        lon = np.asarray(lon)
        lat = np.asarray(lat)
        h = np.asarray(self.terrain.height_at(lat, lon), dtype=np.float64)
        if not np.isfinite(h).all():
            h = np.where(np.isfinite(h), h, np.nanmedian(h) if np.isfinite(h).any() else self.h_ref)
        cl, cp = self.target.to_radar(lat, lon, h)
        return values, valid, np.ascontiguousarray(cl), np.ascontiguousarray(cp)


def _block(
    src: _RasterSource,
    kind: str,
    class_values: NDArray[np.float64],
    nout: int,
    block_info: dict[Any, Any] | None = None,
) -> NDArray[np.float32]:
    assert block_info is not None
    (_, _), (l0, l1), (p0, p1) = block_info[None]["array-location"]
    nl, npx = l1 - l0, p1 - p0
    window = src.window_for((l0 - 0.5, l1 - 0.5), (p0 - 0.5, p1 - 0.5))
    if window is None or window.width <= 0 or window.height <= 0:
        out = np.zeros((nout, nl, npx), dtype=np.float32)
        if kind == "continuous":
            out[0] = np.nan
        return out
    values, valid, cl, cp = src.read(window)
    if kind == "categorical":
        idx = np.searchsorted(class_values, values)
        idx = np.clip(idx, 0, max(class_values.size - 1, 0))
        hit = valid & (class_values.size > 0) & (class_values[idx] == values)
        cls = np.where(hit, idx, -1).astype(np.int64)
        acc = _deposit_quads(
            cl, cp, cls, np.ones(values.shape), class_values.size, float(l0), float(p0), nl, npx
        )
        return np.clip(acc, 0.0, 1.0).astype(np.float32)
    # continuous: layer 0 = sum(value * area), layer 1 = valid area
    cls0 = np.where(valid, 0, -1).astype(np.int64)
    num = _deposit_quads(cl, cp, cls0, values, 1, float(l0), float(p0), nl, npx)[0]
    den = _deposit_quads(cl, cp, cls0, np.ones(values.shape), 1, float(l0), float(p0), nl, npx)[0]
    out = np.empty((2, nl, npx), dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[0] = num / den
    out[1] = np.clip(den, 0.0, 1.0)
    return out


def radarcode_raster(
    raster: str | os.PathLike[str],
    grid: GridSource,
    *,
    kind: RasterKind = "auto",
    dem: DemSource = None,
    orbit: Orbit | None = None,
    band: int = 1,
    classes: Mapping[Any, str] | None = None,
    name: str | None = None,
    chunks: ChunksLike = None,
    min_valid_fraction: float = 0.5,
    threshold: float = 0.5,
    buffer: float = 10.0,
    max_distance: float = 200.0,
) -> xr.Dataset:
    """Radarcode a raster (any CRS) onto a radar grid; see the module docstring.

    Parameters
    ----------
    raster
        A raster file GDAL reads (GeoTIFF, COG, VRT, ...).
    grid, orbit, dem, chunks
        As in :func:`sarbd.radarcode`.
    kind
        ``"categorical"`` (class fractions), ``"continuous"`` (area-weighted mean), or
        ``"auto"``: integer rasters are categorical, floating-point ones continuous.
    band
        Band to use (1-based).
    classes
        ``{raster value: class name}`` for a categorical raster (default: every value
        present, named ``class_<value>``); values not in it are left out.
    name
        Output variable name of a continuous raster (default: the file stem).
    min_valid_fraction
        Continuous rasters: a pixel needs this fraction of its area covered by valid
        cells, else it is NaN.
    threshold, buffer, max_distance
        For the derived layers of a categorical raster (see :func:`sarbd.radarcode`).

    Returns
    -------
    xarray.Dataset on ``(line, pixel)``: ``fraction_<class>`` + ``label`` +
    ``boundary_distance`` + ``boundary_mask`` (categorical), or ``<name>`` +
    ``<name>_valid_fraction`` (continuous).
    """
    import rasterio

    from sarbd.radarcode.api import _safe_name

    path = Path(raster)
    if not path.exists():
        raise InputError("reference raster not found", path=path)
    target = resolve_target(grid, orbit)
    chunk_shape: tuple[int, int] = as_chunks(chunks)
    h_ref = float(dem) if isinstance(dem, int | float) else 0.0
    fp = target.footprint(height=h_ref)
    terrain = heights_from(
        dem,
        target,
        (fp.bounds[0] - 0.05, fp.bounds[1] - 0.05, fp.bounds[2] + 0.05, fp.bounds[3] + 0.05),
    )
    src = _RasterSource(path, band, target, terrain, h_ref, margin_m=500.0)
    whole = src.window_for((-0.5, target.grid.length - 0.5), (-0.5, target.grid.width - 0.5))
    if whole is None:
        with rasterio.open(path) as r:
            b = r.bounds
        raise NoOverlapError(
            f"the raster (bounds {b.left:.4f}, {b.bottom:.4f}, {b.right:.4f}, {b.top:.4f} in "
            f"{src.crs.to_string()}) does not overlap the radar grid (lon {fp.bounds[0]:.4f}.."
            f"{fp.bounds[2]:.4f}, lat {fp.bounds[1]:.4f}..{fp.bounds[3]:.4f})",
            path=path,
            hint="check the raster's CRS and extent",
        )
    if kind == "auto":
        kind = "categorical" if np.issubdtype(src.dtype, np.integer) else "continuous"
    L, W = target.grid.shape
    coords = {
        "line": np.arange(L) + target.grid.first_line,
        "pixel": np.arange(W) + target.grid.first_pixel,
    }
    attrs = {
        **target.grid.to_attrs(),
        "sarbd_radarcode_reference": str(path),
        "sarbd_radarcode_height_model": terrain.description,
        "sarbd_radarcode_method": "exact footprint-area weighting of geo2rdr-projected raster cells",
    }
    data_vars: dict[str, Any] = {}
    if kind == "categorical":
        if classes is None:
            with rasterio.open(path) as r:
                d = r.read(band, window=whole, masked=True)
            vals = np.unique(d.compressed())
            classes = {v.item(): f"class_{v.item()}" for v in vals}
        class_values = np.array(sorted(float(k) for k in classes), dtype=np.float64)
        names = [classes[_key(classes, v)] for v in class_values]
        nclass = class_values.size
        frac = da.map_blocks(
            _block,
            src,
            "categorical",
            class_values,
            nclass,
            dtype=np.float32,
            chunks=((nclass,), *_chunks(L, W, chunk_shape)),
            meta=np.zeros((0, 0, 0), np.float32),
        )
        codes = np.arange(1, nclass + 1, dtype=np.int64)
        label = hard_label(frac, codes, threshold)
        d_az, d_rg = target.ground_spacing()
        _, dist = boundary_distance(frac, label, (d_az, d_rg), max_distance=max_distance)
        for k, n in enumerate(names):
            data_vars[f"fraction_{_safe_name(n)}"] = (
                ("line", "pixel"),
                frac[k],
                {
                    "long_name": f"fraction of the pixel covered by class {n} (raster value "
                    f"{class_values[k]:g})",
                    "units": "1",
                    "valid_min": 0.0,
                    "valid_max": 1.0,
                    "sarbd_class": n,
                    "sarbd_class_code": int(codes[k]),
                    "sarbd_category": 3,
                },
            )
        data_vars["label"] = (
            ("line", "pixel"),
            label,
            {
                "long_name": f"hard class label (largest fraction >= {threshold:g})",
                "flag_values": np.array([UNCHARTED, *codes.tolist(), MIXED], dtype=np.uint8),
                "flag_meanings": " ".join(["uncharted", *[_safe_name(n) for n in names], "mixed"]),
            },
        )
        data_vars["boundary_distance"] = (
            ("line", "pixel"),
            dist,
            {
                "long_name": "ground distance to the nearest class boundary",
                "units": "m",
                "valid_max": float(max_distance),
            },
        )
        data_vars["boundary_mask"] = (
            ("line", "pixel"),
            (dist <= buffer).astype(np.uint8),
            {
                "long_name": f"within {buffer:g} m of a class boundary",
                "flag_values": np.array([0, 1], np.uint8),
                "flag_meanings": "interior near_boundary",
            },
        )
    else:
        vname = _safe_name(name or path.stem)
        out = da.map_blocks(
            _block,
            src,
            "continuous",
            np.zeros(0),
            2,
            dtype=np.float32,
            chunks=((2,), *_chunks(L, W, chunk_shape)),
            meta=np.zeros((0, 0, 0), np.float32),
        )
        valid = out[1]
        mean = da.where(valid >= min_valid_fraction, out[0], np.nan)
        data_vars[vname] = (
            ("line", "pixel"),
            mean,
            {
                "long_name": f"{path.stem}: mean over the ground area of each radar pixel",
                "units": _units_of(path, band),
                "sarbd_category": 3,
                "comment": f"NaN where less than {min_valid_fraction:g} of the pixel has valid data",
            },
        )
        data_vars[f"{vname}_valid_fraction"] = (
            ("line", "pixel"),
            valid,
            {"long_name": "fraction of the pixel covered by valid raster cells", "units": "1"},
        )
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _key(mapping: Mapping[Any, str], value: float) -> Any:
    for k in mapping:
        if float(k) == value:
            return k
    raise KeyError(value)


def _chunks(L: int, W: int, chunks: tuple[int, int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    def split(n: int, c: int) -> tuple[int, ...]:
        return tuple([c] * (n // c) + ([n % c] if n % c else []))

    return split(L, chunks[0]), split(W, chunks[1])


def _units_of(path: Path, band: int) -> str:
    import rasterio

    with rasterio.open(path) as r:
        units = r.units[band - 1] if r.units else None
    return units or "1"
