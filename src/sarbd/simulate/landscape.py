"""Ground truth: a procedural town-and-country landscape in a projected CRS.

The landscape is a set of vector features, one GeoDataFrame per class (building,
road, railway, water, vegetation, field, bare), each with the attributes
``id``, ``class``, ``height`` (m above ground, buildings) and ``width`` (m, roads,
railway, rivers and canals); plus the terrain, an analytic function giving the
orthometric height (m above EGM96) anywhere. Everything is drawn from one
NumPy generator, so the same seed gives the same landscape.

Layout (sizes scale with the area):

* parcels of a rotated field grid, each ``field``, ``bare`` or ``vegetation``;
* a town around the centre: a rotated street grid and building blocks, with
  heights from a log-normal distribution (median 9 m, a few towers);
* country roads, one railway line, a meandering river, a straight canal, a lake;
* scattered farm buildings.

The class map is rasterised from the vectors with a fixed priority (building >
road > railway > water > vegetation > field > bare), the same order as
:data:`sarbd.simulate.config.CLASSES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.simulate.config import CLASS_CODES, CLASSES

__all__ = ["Landscape", "Terrain", "make_landscape", "rasterize_classes", "rasterize_heights"]


@dataclass(frozen=True)
class Terrain:
    """Orthometric terrain height ``H(x, y) = base + sum_k A_k cos(k_x x + k_y y + phi_k)`` (m above EGM96).

    ``x, y`` are projected coordinates (m) relative to ``origin``.
    """

    origin: tuple[float, float]
    base: float
    amplitudes: NDArray[np.float64]
    kx: NDArray[np.float64]
    ky: NDArray[np.float64]
    phases: NDArray[np.float64]

    def height(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Orthometric height (m) at projected coordinates ``x, y`` (m)."""
        xr = np.asarray(x, dtype=np.float64) - self.origin[0]
        yr = np.asarray(y, dtype=np.float64) - self.origin[1]
        h = np.full(np.broadcast(xr, yr).shape, self.base)
        for a, kx, ky, ph in zip(self.amplitudes, self.kx, self.ky, self.phases, strict=True):
            h += a * np.cos(kx * xr + ky * yr + ph)
        return h


def make_terrain(rng: np.random.Generator, origin: tuple[float, float], *, hilly: bool) -> Terrain:
    """Random smooth terrain: gentle lowland undulation (+-1.5 m) or hills (~200 m relief).

    A sum of plane waves with a red spectrum (amplitude proportional to wavelength)
    is a simple stand-in for fractal terrain (Mandelbrot 1982); wavelengths stay
    above 600 m so that a 30 m DEM samples the relief well.
    """
    n = 12
    wavelengths = rng.uniform(600.0, 8000.0, n) if hilly else rng.uniform(1500.0, 12000.0, n)
    direction = rng.uniform(0, 2 * np.pi, n)
    k = 2 * np.pi / wavelengths
    amp = wavelengths / wavelengths.sum() * (220.0 if hilly else 3.0)
    base = 120.0 if hilly else 1.0
    return Terrain(
        origin,
        base,
        amp,
        k * np.cos(direction),
        k * np.sin(direction),
        rng.uniform(0, 2 * np.pi, n),
    )


@dataclass
class Landscape:
    """The true landscape.

    Attributes
    ----------
    crs
        Projected CRS of all coordinates (e.g. ``"EPSG:28992"``).
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the modelled area (m).
    layers
        ``{class name: GeoDataFrame}`` with columns ``id, class, height, width, geometry``.
    terrain
        The terrain height function (orthometric, m).
    """

    crs: str
    bounds: tuple[float, float, float, float]
    layers: dict[str, Any]
    terrain: Terrain
    meta: dict[str, Any] = field(default_factory=dict)

    def all_features(self) -> Any:
        """All layers in one GeoDataFrame, in priority order."""
        import geopandas as gpd
        import pandas as pd

        frames = [
            self.layers[c.name]
            for c in CLASSES
            if c.name in self.layers and len(self.layers[c.name])
        ]
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=self.crs)


def _rot(theta: float) -> NDArray[np.float64]:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def _rect(cx: float, cy: float, w: float, h: float, theta: float) -> Any:
    from shapely.geometry import Polygon

    pts = (
        np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
        @ _rot(theta).T
    )
    return Polygon(pts + np.array([cx, cy]))


def _line_through(
    rng: np.random.Generator,
    bounds: tuple[float, float, float, float],
    *,
    centre: tuple[float, float] | None = None,
    wiggle: float = 0.0,
    wavelength: float = 2000.0,
) -> Any:
    """A straight or meandering line crossing the whole box through a random (or given) point."""
    from shapely.geometry import LineString

    xmin, ymin, xmax, ymax = bounds
    diag = math.hypot(xmax - xmin, ymax - ymin)
    if centre is None:
        centre = (rng.uniform(xmin, xmax), rng.uniform(ymin, ymax))
    theta = rng.uniform(0, np.pi)
    s = np.linspace(-diag, diag, 400)
    off = (
        wiggle * np.sin(2 * np.pi * s / wavelength + rng.uniform(0, 2 * np.pi)) if wiggle else 0 * s
    )
    d = np.array([math.cos(theta), math.sin(theta)])
    nrm = np.array([-d[1], d[0]])
    pts = centre + s[:, None] * d + off[:, None] * nrm
    return LineString(pts)


def make_landscape(
    rng: np.random.Generator,
    bounds: tuple[float, float, float, float],
    crs: str,
    *,
    hilly: bool = False,
) -> Landscape:
    """Draw a landscape covering ``bounds`` (projected metres).

    Parameters
    ----------
    rng
        Random generator (all draws come from it, in a fixed order).
    bounds
        ``(xmin, ymin, xmax, ymax)`` in ``crs``.
    crs
        Projected CRS.
    hilly
        Rolling terrain instead of a flat lowland.
    """
    import geopandas as gpd
    from shapely.geometry import Point, box

    xmin, ymin, xmax, ymax = bounds
    area_box = box(*bounds)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    span = min(xmax - xmin, ymax - ymin)
    big = max(xmax - xmin, ymax - ymin)
    terrain = make_terrain(rng, (cx, cy), hilly=hilly)

    feats: dict[str, list[dict[str, Any]]] = {c.name: [] for c in CLASSES}

    def add(
        cls: str, geom: Any, *, height: float = 0.0, width: float = 0.0, kind: str = ""
    ) -> None:
        geom = geom.intersection(area_box)
        if geom.is_empty or geom.area <= 0:
            return
        feats[cls].append(
            {
                "class": cls,
                "kind": kind or cls,
                "height": float(height),
                "width": float(width),
                "geometry": geom,
            }
        )

    # -- countryside parcels ------------------------------------------------------------
    theta_f = rng.uniform(-0.6, 0.6)
    pw, ph = rng.uniform(180, 320), rng.uniform(90, 200)
    nx = math.ceil(1.5 * big / pw) + 2
    ny = math.ceil(1.5 * big / ph) + 2
    rot = _rot(theta_f)
    for i in range(-nx // 2, nx // 2 + 1):
        for j in range(-ny // 2, ny // 2 + 1):
            c = rot @ np.array([i * pw, j * ph]) + [cx, cy]
            if not (xmin - pw < c[0] < xmax + pw and ymin - pw < c[1] < ymax + pw):
                continue
            u = rng.uniform()
            cls = "field" if u < 0.68 else ("bare" if u < 0.82 else "vegetation")
            # ditches/hedges: parcels are slightly smaller than the grid cell
            add(
                cls,
                _rect(c[0], c[1], pw - 4.0, ph - 4.0, theta_f),
                kind={"field": "cropland", "bare": "bare soil", "vegetation": "woodland"}[cls],
            )

    # -- water ------------------------------------------------------------------------------
    river_w = rng.uniform(35, 70)
    river = _line_through(
        rng,
        bounds,
        centre=(cx + rng.uniform(-0.3, 0.3) * span, cy + rng.uniform(-0.3, 0.3) * span),
        wiggle=0.04 * big + 40,
        wavelength=max(0.35 * big, 600),
    )
    add("water", river.buffer(river_w / 2), width=river_w, kind="river")
    canal_w = rng.uniform(20, 35)
    canal = _line_through(rng, bounds)
    add("water", canal.buffer(canal_w / 2, cap_style="flat"), width=canal_w, kind="canal")
    lr = rng.uniform(0.05, 0.1) * span
    lc = (rng.uniform(xmin + lr, xmax - lr), rng.uniform(ymin + lr, ymax - lr))
    lake = Point(lc).buffer(1.0)
    from shapely import affinity

    lake = affinity.rotate(affinity.scale(lake, lr * 1.4, lr * 0.8), rng.uniform(0, 180), origin=lc)
    add("water", lake, kind="lake")

    # -- transport ---------------------------------------------------------------------------
    rail_w = 9.0  # double track with ballast bed
    rail = _line_through(
        rng, bounds, centre=(cx + rng.uniform(-0.2, 0.2) * span, cy + rng.uniform(-0.2, 0.2) * span)
    )
    add("railway", rail.buffer(rail_w / 2, cap_style="flat"), width=rail_w, kind="railway")
    n_country = max(2, round(big / 2500) + 1)
    for _ in range(n_country):
        w = float(rng.choice([6.0, 7.0, 8.0, 12.0]))
        add(
            "road",
            _line_through(rng, bounds).buffer(w / 2, cap_style="flat"),
            width=w,
            kind="country road",
        )

    # -- town ---------------------------------------------------------------------------------
    town_r = min(0.32 * span, 3000.0)
    town = Point(cx, cy).buffer(town_r)
    theta_t = rng.uniform(0, np.pi / 2)
    rt = _rot(theta_t)
    block = rng.uniform(90, 130)
    street_w = 10.0
    nb = math.ceil(town_r / block) + 1
    d1, d2 = rt @ [1.0, 0.0], rt @ [0.0, 1.0]
    from shapely.geometry import LineString

    for k in range(-nb, nb + 1):
        for d, e in ((d1, d2), (d2, d1)):
            p0 = np.array([cx, cy]) + k * block * e
            line = LineString([p0 - 2 * town_r * d, p0 + 2 * town_r * d]).intersection(town)
            if not line.is_empty:
                add(
                    "road",
                    line.buffer(street_w / 2, cap_style="flat"),
                    width=street_w,
                    kind="street",
                )
    lot = rng.uniform(18, 26)
    inner = block - street_w - 8.0  # 4 m pavement on each side
    nl = max(1, int(inner // lot))
    for i in range(-nb, nb):
        for j in range(-nb, nb):
            bc = np.array([cx, cy]) + (i + 0.5) * block * d1 + (j + 0.5) * block * d2
            if not town.contains(Point(bc)):
                continue
            if rng.uniform() < 0.08:  # a park or square
                add("vegetation", _rect(bc[0], bc[1], inner, inner, theta_t), kind="park")
                continue
            for a in range(nl):
                for b in range(nl):
                    # buildings along the block edge; the centre is a courtyard
                    if 0 < a < nl - 1 and 0 < b < nl - 1:
                        continue
                    if rng.uniform() < 0.15:
                        continue
                    off = ((a + 0.5) / nl - 0.5) * inner * d1 + ((b + 0.5) / nl - 0.5) * inner * d2
                    w, h = lot * rng.uniform(0.6, 0.9), lot * rng.uniform(0.6, 0.9)
                    height = float(np.clip(rng.lognormal(math.log(9.0), 0.35), 4.0, 40.0))
                    if rng.uniform() < 0.03:
                        height = float(rng.uniform(30.0, 60.0))
                    add(
                        "building",
                        _rect(float(bc[0] + off[0]), float(bc[1] + off[1]), w, h, theta_t),
                        height=height,
                        kind="house",
                    )
    # farms in the countryside
    n_farms = max(2, int(big * span / 1.5e6))
    for _ in range(n_farms):
        p = (rng.uniform(xmin, xmax), rng.uniform(ymin, ymax))
        if town.contains(Point(p)):
            continue
        th = rng.uniform(0, np.pi)
        add(
            "building",
            _rect(p[0], p[1], rng.uniform(15, 40), rng.uniform(10, 25), th),
            height=float(rng.uniform(6, 12)),
            kind="farm",
        )

    # -- assemble: higher-priority classes cut lower ones so the layers do not overlap ------
    import shapely
    from shapely.strtree import STRtree

    parcel_kinds = {"cropland", "bare soil", "woodland"}
    layers: dict[str, Any] = {}
    cutters: list[Any] = []
    next_id = 1
    for c in CLASSES:
        rows = feats[c.name]
        for r in rows:
            if r["kind"] in parcel_kinds and r["geometry"].intersects(town):
                r["geometry"] = r["geometry"].difference(town)  # parcels stop at the town edge
        if rows and cutters and c.name != "building":
            tree = STRtree(np.array(cutters, dtype=object))
            for r in rows:
                hits = tree.query(r["geometry"], predicate="intersects")
                if hits.size:
                    cut = shapely.union_all(np.asarray(cutters, dtype=object)[hits])
                    r["geometry"] = shapely.difference(r["geometry"], cut)
        rows = [r for r in rows if not r["geometry"].is_empty and r["geometry"].area > 1.0]
        for r in rows:
            r["id"] = next_id
            next_id += 1
        gdf = gpd.GeoDataFrame(
            rows,
            columns=["id", "class", "kind", "height", "width", "geometry"],
            geometry="geometry",
            crs=crs,
        )
        gdf["id"] = gdf["id"].astype("int64")
        layers[c.name] = gdf
        if c.name in ("road", "railway", "water"):
            cutters.extend(gdf.geometry)
        elif c.name == "vegetation":
            cutters.extend(g for g, k in zip(gdf.geometry, gdf["kind"], strict=True) if k == "park")
    return Landscape(
        crs, bounds, layers, terrain, meta={"town_radius_m": town_r, "centre_xy": (cx, cy)}
    )


def _transform(
    bounds: tuple[float, float, float, float], res: float
) -> tuple[Any, tuple[int, int]]:
    from rasterio.transform import from_origin

    xmin, ymin, xmax, ymax = bounds
    w = math.ceil((xmax - xmin) / res)
    h = math.ceil((ymax - ymin) / res)
    return from_origin(xmin, ymax, res, res), (h, w)


def rasterize_classes(land: Landscape, res: float) -> tuple[NDArray[np.uint8], Any]:
    """Class map (codes of :data:`CLASSES`, 0 = none) at ``res`` metres, with its affine transform."""
    from rasterio.features import rasterize

    transform, shape = _transform(land.bounds, res)
    shapes: list[tuple[Any, int]] = []
    for c in reversed(CLASSES):  # lowest priority first: later shapes overwrite
        gdf = land.layers.get(c.name)
        if gdf is not None:
            shapes.extend((g, CLASS_CODES[c.name]) for g in gdf.geometry)
    out = rasterize(
        shapes, out_shape=shape, transform=transform, fill=CLASS_CODES["field"], dtype="uint8"
    )
    return out, transform


def rasterize_heights(land: Landscape, res: float) -> tuple[NDArray[np.float32], Any]:
    """Building height above ground (m) at ``res`` metres (0 elsewhere)."""
    from rasterio.features import rasterize

    transform, shape = _transform(land.bounds, res)
    gdf = land.layers["building"]
    shapes = [(g, h) for g, h in zip(gdf.geometry, gdf["height"], strict=True)]
    if not shapes:
        return np.zeros(shape, np.float32), transform
    out = rasterize(shapes, out_shape=shape, transform=transform, fill=0.0, dtype="float32")
    return out, transform
