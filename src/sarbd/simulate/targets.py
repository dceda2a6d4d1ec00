"""Detection targets with known truth on open water: ships and oil slicks (opt-in).

Turned on by a non-empty ``SimulationConfig.targets`` mapping (keys: the fields of
:class:`TargetSettings`); without it nothing here runs and a scene keeps its bytes.

Open sea
    The far-range ``sea_fraction`` of the scene becomes open sea (class ``water``,
    kind ``sea``) behind a gently curved coastline. Wind-roughened sea is brighter
    than the calm inland water of the ``water`` class (-20 dB VV): CMOD5 gives
    sigma0_VV of about -14 dB at 38 deg incidence for a 5-6 m/s wind (Hersbach, H.,
    Stoffelen, A. & de Haan, S. (2007), An improved C-band scatterometer ocean
    geophysical model function: CMOD5, *J. Geophys. Res.* 112, C03006), so sea
    scatterers get the power gain ``10^((sea_sigma0_vv_db + 20) / 10)`` in VV and VH.
Ships (``category`` ``ship``)
    Each date has its own ships (ships move between acquisitions). Length ``L``
    log-uniform in ``ship_length_m`` (20-300 m), beam ``L / 7`` (length-to-beam ratio
    of merchant ships, 6-8), random heading. A ship is a few strong point scatterers
    (``clip(round(L / 20), 3, 15)``) on its deck and superstructure (heights 2 m to
    ``0.1 L + 5`` m), each imaged with the sensor's windowed-sinc PSF like every other
    scatterer. Total VV radar cross-section from Skolnik's empirical formula
    ``sigma = 52 f^(1/2) D^(3/2)`` (m^2, ``f`` in MHz, ``D`` displacement in kt;
    Skolnik, M. I. (1974), An empirical formula for the radar cross section of ships
    at grazing incidence, *IEEE Trans. AES* 10(2), 292) with ``D = 0.7 * 1.025 t/m^3 *
    L * (L/7) * (L/18)`` (block coefficient 0.7, draught L/18), capped at
    ``ship_rcs_cap_dbm2`` (45 dBm^2) so that the CInt16 samples do not clip; the
    formula is for grazing incidence and is an upper bound at SAR incidence angles.
    VH is ``ship_vh_offset_db`` (6 dB) below VV (an assumption: cross-pol returns of
    ships are far above the sea's). The shares of the scatterers are exponential
    draws (a few dominate, as in real ship signatures).
Oil slicks (``category`` ``oil_slick``)
    Surface films damp the short (Bragg) waves, so a slick is darker than the sea
    around it. Every distributed scatterer inside a slick gets the power factor
    ``10^(-damping/10)`` with ``damping`` uniform in ``damping_db`` (5-10 dB): C-band VV
    damping ratios of mineral oil reported by Gade, M. et al. (1998), Imaging of
    biogenic and anthropogenic ocean surface films by the multifrequency/
    multipolarization SIR-C/X-SAR, *J. Geophys. Res.* 103(C9), 18851-18866; Alpers, W.
    & Huehnerfuss, H. (1989), The damping of ocean waves by surface films, *J.
    Geophys. Res.* 94(C5), 6251-6265. Shapes: elongated, slightly bent ellipses (spills
    from moving ships are long and thin; Brekke, C. & Solberg, A. H. S. (2005), Oil
    spill detection by satellite remote sensing, *Remote Sens. Environ.* 95(1), 1-13;
    Topouzelis, K. N. (2008), *Sensors* 8(10), 6642-6659) with length log-uniform in
    ``slick_length_m`` and length/width ratio uniform in ``slick_aspect`` (4-15). The
    default lengths (150 m - 2 km) are the short end of reported spill sizes, so that
    slicks fit the simulated scenes.

Truth (``truth/targets/``): ``targets.json`` (every object of every date with its
parameters, its polygon in the scene CRS and lat/lon, and its bounding box on that
date's own radar grid) and ``instances_<date>.tif`` (band 1: instance id, 0 none;
band 2: 1 on open sea), both on each date's own grid, the geometry of that date's SLC.
A ship's mask is the convex hull of its scatterers' image positions grown by the
PSF's main-lobe half-width (``1 / b`` samples, ``b`` the bandwidth ratio); a slick's
mask is its polygon seen on the terrain.

Reference (for ``sarbd build``, ``labels.detection``): ``reference_targets.geojson``, every
imaged object as a lon/lat polygon with ``id``, ``category``, ``date_index``, ``datetime``
(its acquisition's first line) and ``height_m`` (a ship: the convex hull of its scatterers
on the map and the tallest one's height; a slick: its polygon, height 0), and
``sea.geojson``, the open sea (the chip region).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.errors import ConfigError

__all__ = [
    "CATEGORIES",
    "SeaTargets",
    "TargetSettings",
    "add_sea",
    "draw_targets",
    "ship_rcs_m2",
    "target_settings",
]

#: Detection categories: ``{name: id}`` (COCO category ids start at 1).
CATEGORIES: dict[str, int] = {"ship": 1, "oil_slick": 2}

#: sigma0 VV of the ``water`` class (dB), see :data:`sarbd.simulate.config.CLASSES`.
_WATER_VV_DB = -20.0


@dataclass(frozen=True)
class TargetSettings:
    """Settings of the detection targets (``SimulationConfig.targets`` keys); see the module docstring."""

    sea_fraction: float = 0.4
    sea_sigma0_vv_db: float = -14.0
    ships_per_date: int = 6
    slicks_per_date: int = 2
    ship_length_m: tuple[float, float] = (20.0, 300.0)
    ship_rcs_cap_dbm2: float = 45.0
    ship_vh_offset_db: float = 6.0
    damping_db: tuple[float, float] = (5.0, 10.0)
    slick_length_m: tuple[float, float] = (150.0, 2000.0)
    slick_aspect: tuple[float, float] = (4.0, 15.0)


def target_settings(options: dict[str, Any] | None) -> TargetSettings | None:
    """The settings from ``SimulationConfig.targets`` (None when empty: targets off).

    Raises
    ------
    ConfigError
        An unknown key or a value out of range.
    """
    if not options:
        return None
    known = {f.name for f in fields(TargetSettings)}
    bad = sorted(set(options) - known - {"enabled"})
    if bad:
        raise ConfigError(
            f"unknown targets option(s) {', '.join(bad)}", hint=f"use {', '.join(sorted(known))}"
        )
    kw: dict[str, Any] = {
        k: (tuple(float(x) for x in v) if isinstance(v, (list, tuple)) else v)
        for k, v in options.items()
        if k != "enabled"
    }
    s = TargetSettings(**kw)
    if not 0.05 <= s.sea_fraction <= 0.9:
        raise ConfigError(f"targets.sea_fraction must be in [0.05, 0.9], got {s.sea_fraction}")
    for name in ("ship_length_m", "damping_db", "slick_length_m", "slick_aspect"):
        lo, hi = getattr(s, name)
        if not 0 < lo <= hi:
            raise ConfigError(
                f"targets.{name} must be an increasing positive range, got {(lo, hi)}"
            )
    if s.ships_per_date < 0 or s.slicks_per_date < 0:
        raise ConfigError("targets.ships_per_date and slicks_per_date must be >= 0")
    return s


def ship_rcs_m2(length_m: NDArray[np.float64] | float, frequency_hz: float) -> NDArray[np.float64]:
    """Skolnik's (1974) ship radar cross-section ``52 sqrt(f_MHz) D_kt^1.5`` (m^2) from the length (m).

    The displacement is ``D = 0.7 * 1.025 * L * (L/7) * (L/18)`` tonnes (block
    coefficient 0.7, sea water 1.025 t/m^3, beam L/7, draught L/18).
    """
    L = np.asarray(length_m, dtype=np.float64)
    d_kt = 0.7 * 1.025 * L * (L / 7.0) * (L / 18.0) / 1000.0
    return np.asarray(52.0 * math.sqrt(frequency_hz / 1e6) * d_kt**1.5)


@dataclass
class Ship:
    """One ship: hull polygon (scene CRS), scatterer positions/heights and RCS (m^2, VV, VH)."""

    id: int
    date: int
    x: float
    y: float
    length: float
    heading: float
    hull: Any
    sx: NDArray[np.float64]
    sy: NDArray[np.float64]
    sh: NDArray[np.float64]
    rcs: NDArray[np.float64]  # (n, 2)
    phase: NDArray[np.float64]  # (n, 2)


@dataclass
class Slick:
    """One slick: polygon (scene CRS) and its damping (dB)."""

    id: int
    date: int
    polygon: Any
    length: float
    width: float
    damping_db: float


@dataclass
class SeaTargets:
    """The sea polygon and every date's ships and slicks."""

    settings: TargetSettings
    sea: Any
    ships: list[Ship]
    slicks: list[Slick]
    crs: str

    def power_gain(
        self, x: NDArray[np.float64], y: NDArray[np.float64], n_dates: int
    ) -> NDArray[np.float64] | None:
        """Power factor of distributed scatterers at ``x, y`` on every date, ``(n_dates, n)``; None if all 1."""
        import shapely

        in_sea = shapely.contains_xy(self.sea, x, y)
        if not in_sea.any():
            return None
        g = np.ones((n_dates, x.size))
        g[:, in_sea] = 10.0 ** ((self.settings.sea_sigma0_vv_db - _WATER_VV_DB) / 10.0)
        idx = np.flatnonzero(in_sea)
        for s in self.slicks:
            inside = shapely.contains_xy(s.polygon, x[idx], y[idx])
            g[s.date, idx[inside]] *= 10.0 ** (-s.damping_db / 10.0)
        return g


def add_sea(land: Any, frame: Any, rng: np.random.Generator, fraction: float) -> Any:
    """Turn the far-range ``fraction`` of the frame into open sea (in place); returns the sea polygon.

    Every other feature is cut by the sea; the sea is added to the ``water`` layer
    with kind ``sea`` and a new id.
    """
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Polygon, box

    r_cut = frame.r1 - fraction * (frame.r1 - frame.r0)
    pad = 200.0
    a = np.linspace(frame.a0 - pad, frame.a1 + pad, 200)
    amp = rng.uniform(0.01, 0.03) * (frame.r1 - frame.r0)
    wl = rng.uniform(0.5, 1.5) * (frame.a1 - frame.a0)
    coast = r_cut + amp * np.sin(2 * np.pi * a / wl + rng.uniform(0, 2 * np.pi))
    ar = np.concatenate(
        [
            np.column_stack([a, coast]),
            [[frame.a1 + pad, frame.r1 + pad], [frame.a0 - pad, frame.r1 + pad]],
        ]
    )
    xy = np.array(frame.origin) + ar[:, :1] * np.array(frame.e_a) + ar[:, 1:] * np.array(frame.e_r)
    sea = Polygon(xy).intersection(box(*land.bounds))
    next_id = 1 + max((int(g["id"].max()) for g in land.layers.values() if len(g)), default=0)
    for name, gdf in land.layers.items():
        if not len(gdf):
            continue
        cut = gdf.copy()
        cut["geometry"] = cut.geometry.difference(sea)
        land.layers[name] = cut[~cut.geometry.is_empty & (cut.geometry.area > 1.0)].reset_index(
            drop=True
        )
    water = land.layers["water"]
    row = gpd.GeoDataFrame(
        [
            {
                "id": next_id,
                "class": "water",
                "kind": "sea",
                "height": 0.0,
                "width": 0.0,
                "geometry": sea,
            }
        ],
        geometry="geometry",
        crs=land.crs,
    )
    land.layers["water"] = gpd.GeoDataFrame(
        pd.concat([water, row], ignore_index=True), geometry="geometry", crs=land.crs
    )
    land.layers["water"]["id"] = land.layers["water"]["id"].astype("int64")
    land.meta["sea_fraction"] = fraction
    return sea


def _ellipse_slick(
    rng: np.random.Generator, cx: float, cy: float, length: float, width: float, theta: float
) -> Any:
    from shapely.geometry import Polygon

    s = np.linspace(-1.0, 1.0, 48)
    half = (
        0.5
        * width
        * np.sqrt(np.clip(1.0 - s * s, 0.0, None))
        * (1.0 + 0.25 * np.sin(3 * np.pi * s + rng.uniform(0, 6.3)))
    )
    bend = rng.uniform(-0.15, 0.15) * length * (s * s - 1.0 / 3.0)
    u = 0.5 * length * s
    pts = np.concatenate(
        [np.column_stack([u, bend + half]), np.column_stack([u[::-1], (bend - half)[::-1]])]
    )
    c, sn = math.cos(theta), math.sin(theta)
    rot = pts @ np.array([[c, sn], [-sn, c]])
    return Polygon(rot + np.array([cx, cy])).buffer(0)


def _random_point(
    rng: np.random.Generator, region: Any, tries: int = 200
) -> tuple[float, float] | None:
    import shapely

    if region.is_empty:
        return None
    xmin, ymin, xmax, ymax = region.bounds
    for _ in range(tries):
        x, y = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
        if shapely.contains_xy(region, x, y):
            return float(x), float(y)
    return None


def draw_targets(
    settings: TargetSettings, sea: Any, n_dates: int, seed: int, crs: str, frequency_hz: float
) -> SeaTargets:
    """Draw every date's ships and slicks inside ``sea`` (each date from its own seeded generator)."""
    from shapely.geometry import MultiPoint

    from sarbd.simulate.landscape import _rect

    ships: list[Ship] = []
    slicks: list[Slick] = []
    next_id = 1
    for d in range(n_dates):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 30, d]))
        taken: list[Any] = []
        for _ in range(settings.slicks_per_date):
            lo, hi = settings.slick_length_m
            length = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            width = length / float(rng.uniform(*settings.slick_aspect))
            p = _random_point(rng, sea.buffer(-0.3 * length))
            if p is None:
                continue
            poly = _ellipse_slick(rng, p[0], p[1], length, width, float(rng.uniform(0, np.pi)))
            poly = poly.intersection(sea)
            if poly.is_empty or any(poly.intersects(t) for t in taken):
                continue
            slicks.append(
                Slick(next_id, d, poly, length, width, float(rng.uniform(*settings.damping_db)))
            )
            taken.append(poly.buffer(30.0))
            next_id += 1
        for _ in range(settings.ships_per_date):
            lo, hi = settings.ship_length_m
            length = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            beam = length / 7.0
            heading = float(rng.uniform(0, 2 * np.pi))
            p = _random_point(rng, sea.buffer(-(0.5 * length + 30.0)))
            if p is None:
                continue
            hull = _rect(p[0], p[1], length, beam, heading)
            if any(hull.intersects(t) for t in taken):
                continue
            n = int(np.clip(round(length / 20.0), 3, 15))
            along = rng.uniform(-0.45, 0.45, n) * length
            across = rng.uniform(-0.4, 0.4, n) * beam
            c, s = math.cos(heading), math.sin(heading)
            sx = p[0] + along * c - across * s
            sy = p[1] + along * s + across * c
            sh = rng.uniform(2.0, 0.1 * length + 5.0, n)
            total = min(
                float(ship_rcs_m2(length, frequency_hz)),
                10.0 ** (settings.ship_rcs_cap_dbm2 / 10.0),
            )
            share = rng.exponential(1.0, n)
            share /= share.sum()
            rcs_vv = total * share
            rcs = np.column_stack([rcs_vv, rcs_vv * 10.0 ** (-settings.ship_vh_offset_db / 10.0)])
            ships.append(
                Ship(
                    next_id,
                    d,
                    p[0],
                    p[1],
                    length,
                    heading,
                    hull,
                    sx,
                    sy,
                    sh,
                    rcs,
                    rng.uniform(0, 2 * np.pi, (n, 2)),
                )
            )
            taken.append(
                MultiPoint(np.column_stack([sx, sy]))
                .convex_hull.buffer(0.5 * beam + 40.0)
                .union(hull.buffer(40.0))
            )
            next_id += 1
    return SeaTargets(settings, sea, ships, slicks, crs)


def ship_scatterers(
    targets: SeaTargets,
    plans: list[Any],
    geoid: Any,
    terrain: Any,
    c0: float,
    c1: float,
    r_mid: float,
) -> tuple[
    list[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.complex128]] | None],
    dict[int, dict[str, NDArray[np.float64]]],
]:
    """Every date's ship scatterers as ``(line, pixel, amplitude (n, 2))`` on that date's grid
    (``None`` for a date without ships; :func:`sarbd.simulate.imaging.form_images` splats them),
    and each ship's scatterer ``line``/``pixel``.

    Same geometry, DN scaling and PSF as the double-bounce points of
    :func:`sarbd.simulate.imaging._point_scatterers`; ships are not in the truth
    accumulators of the land cover (their own truth is in ``truth/targets``).
    """
    from sarbd.simulate import sensor as S
    from sarbd.simulate.imaging import _geometry, _to_map

    _, geo2rdr = _geometry()
    _, inv = _to_map(targets.crs)
    k_phase = 4.0 * math.pi / S.WAVELENGTH
    out: dict[int, dict[str, NDArray[np.float64]]] = {}
    per_date: list[
        tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.complex128]] | None
    ] = []
    for d, plan in enumerate(plans):
        ships = [s for s in targets.ships if s.date == d]
        if not ships:
            per_date.append(None)
            continue
        x = np.concatenate([s.sx for s in ships])
        y = np.concatenate([s.sy for s in ships])
        lon, lat = inv.transform(x, y)
        lon, lat = np.asarray(lon), np.asarray(lat)
        h = terrain.height(x, y) + geoid(lat, lon) + np.concatenate([s.sh for s in ships])
        t, rr, ok = geo2rdr(lat, lon, h, plan.orbit)
        g = plan.grid
        line = np.nan_to_num(
            (t + plan.timing_error - g.sensing_start) / g.azimuth_time_interval, nan=-1e9
        )
        pix = np.nan_to_num((rr - g.starting_range) / g.range_pixel_spacing, nan=-1e9)
        kdn = S.BETA_NOUGHT / np.sqrt((c0 + c1 * (rr - r_mid)) * g.range_pixel_spacing)
        rcs = np.concatenate([s.rcs for s in ships])
        phase = np.exp(1j * np.concatenate([s.phase for s in ships]))
        amp = (kdn * np.exp(-1j * k_phase * rr))[:, None] * np.sqrt(rcs) * phase
        amp[~ok] = 0
        per_date.append((line, pix, amp))
        k = 0
        for s in ships:
            n = s.sx.size
            out[s.id] = {"line": line[k : k + n], "pixel": pix[k : k + n]}
            k += n
    return per_date, out


def _map_coords(
    plan: Any, height_fn: Any, crs: str, step: int = 8
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scene-CRS coordinates of every pixel of a date's grid, seen on the terrain (coarse grid, bilinear)."""
    from scipy.ndimage import map_coordinates

    from sarbd.simulate.api import _terrain_rdr2geo
    from sarbd.simulate.imaging import _to_map

    g = plan.grid
    L, W = g.shape
    cl = np.unique(np.append(np.arange(0, L, step), L - 1))
    cp = np.unique(np.append(np.arange(0, W, step), W - 1))
    CL, CP = np.meshgrid(cl, cp, indexing="ij")
    t = g.line_to_azimuth_time(CL.ravel()) - plan.timing_error  # the ground a line shows
    lat, lon, _ = _terrain_rdr2geo(t, g.pixel_to_slant_range(CP.ravel()), plan, height_fn)
    fwd, _ = _to_map(crs)
    x, y = fwd.transform(lon, lat)
    fl = np.interp(np.arange(L), cl, np.arange(cl.size))
    fp = np.interp(np.arange(W), cp, np.arange(cp.size))
    FL, FP = np.meshgrid(fl, fp, indexing="ij")
    X = map_coordinates(np.asarray(x).reshape(CL.shape), [FL, FP], order=1)
    Y = map_coordinates(np.asarray(y).reshape(CL.shape), [FL, FP], order=1)
    return X, Y


def _bbox(mask: NDArray[np.bool_]) -> list[int] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return [int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1]


def write_target_truth(
    folder: Path,
    targets: SeaTargets,
    plans: list[Any],
    height_fn: Any,
    positions: dict[int, dict[str, NDArray[np.float64]]],
    safes: list[Path],
) -> Path:
    """Write ``truth/targets/`` (see the module docstring); returns the folder."""
    import warnings

    import rasterio
    import shapely
    from rasterio.features import rasterize
    from rasterio.transform import Affine
    from shapely import affinity
    from shapely.geometry import MultiPoint

    from sarbd.simulate import sensor as S
    from sarbd.simulate.imaging import _to_map
    from sarbd.utils.files import atomic_output

    _, inv = _to_map(targets.crs)
    margin_l = 1.0 / (S.AZIMUTH_BANDWIDTH * S.AZIMUTH_TIME_INTERVAL)
    margin_p = 1.0 / (S.RANGE_BANDWIDTH / S.RANGE_SAMPLING_RATE)

    def to_ll(geom: Any) -> Any:
        return shapely.transform(
            geom, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1]))
        )

    records: list[dict[str, Any]] = []
    with atomic_output(folder, directory=True) as tmp:
        for d, plan in enumerate(plans):
            L, W = plan.grid.shape
            X, Y = _map_coords(plan, height_fn, targets.crs)
            inst = np.zeros((L, W), np.uint16)
            sea = shapely.contains_xy(targets.sea, X, Y)
            objects: list[dict[str, Any]] = []
            for sl in (q for q in targets.slicks if q.date == d):
                m = shapely.contains_xy(sl.polygon, X, Y)
                inst[m] = sl.id
                objects.append(
                    {
                        "id": sl.id,
                        "category": "oil_slick",
                        "length_m": sl.length,
                        "width_m": sl.width,
                        "damping_db": sl.damping_db,
                        "area_m2": float(sl.polygon.area),
                        "geometry_wkt": sl.polygon.wkt,
                        "geometry_lonlat_wkt": to_ll(sl.polygon).wkt,
                    }
                )
            for s in (q for q in targets.ships if q.date == d):
                pos = positions.get(s.id)
                if pos is None:
                    continue
                # (pixel, line) plane, grown by the main-lobe half-width (anisotropic: scale, buffer, unscale)
                pts = np.column_stack([pos["pixel"] / margin_p, pos["line"] / margin_l])
                hull = affinity.scale(
                    MultiPoint(pts).convex_hull.buffer(1.0), margin_p, margin_l, origin=(0, 0)
                )
                m = rasterize(
                    [(hull, 1)],
                    out_shape=(L, W),
                    transform=Affine.translation(-0.5, -0.5),
                    fill=0,
                    dtype="uint8",
                ).astype(bool)
                inst[m] = s.id
                total = float(s.rcs[:, 0].sum())
                objects.append(
                    {
                        "id": s.id,
                        "category": "ship",
                        "height_m": float(s.sh.max()),
                        "length_m": s.length,
                        "heading_deg": math.degrees(s.heading) % 360.0,
                        "n_scatterers": int(s.sx.size),
                        "rcs_vv_dbm2": 10 * math.log10(total),
                        "geometry_wkt": s.hull.wkt,
                        "geometry_lonlat_wkt": to_ll(s.hull).wkt,
                    }
                )
            for o in objects:
                o["bbox_line_pixel"] = _bbox(inst == o["id"])
                o["area_px"] = int(np.count_nonzero(inst == o["id"]))
            objects = [o for o in objects if o["area_px"] > 0]
            name = f"instances_{d}.tif"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
                with rasterio.open(
                    tmp / name,
                    "w",
                    driver="GTiff",
                    width=W,
                    height=L,
                    count=2,
                    dtype="uint16",
                    compress="deflate",
                ) as ds:
                    ds.write(inst, 1)
                    ds.write(sea.astype(np.uint16), 2)
                    ds.set_band_description(1, "target instance id (0: none)")
                    ds.set_band_description(2, "open sea (1)")
            records.append(
                {
                    "date": d,
                    "epoch": str(plan.epoch),
                    "safe": safes[d].name,
                    "instances": name,
                    "shape": [L, W],
                    "objects": objects,
                }
            )
        _write_reference_targets(tmp, targets, plans, records, to_ll)
        meta = {
            "categories": CATEGORIES,
            "crs": targets.crs,
            "settings": asdict(targets.settings),
            "sea_wkt": targets.sea.wkt,
            "psf_margin_lines": margin_l,
            "psf_margin_pixels": margin_p,
            "dates": records,
        }
        (tmp / "targets.json").write_text(json.dumps(meta, indent=1))
    return folder


#: The reference files ``sarbd build`` reads for detection labels (``labels.detection``).
REFERENCE_TARGETS = "reference_targets.geojson"
SEA_REGION = "sea.geojson"


def _write_reference_targets(
    folder: Path, targets: SeaTargets, plans: list[Any], records: list[dict[str, Any]], to_ll: Any
) -> None:
    """``reference_targets.geojson`` (every object: lon/lat polygon, ``id``, ``category``,
    ``datetime`` of its acquisition's first line, ``height_m``) and ``sea.geojson`` (the open sea).

    These are the vectors a user would bring (ship outlines, slick outlines from a spill
    report), so that ``sarbd build`` radarcodes them like any reference. A ship's outline
    is the convex hull of its scatterers on the map (deck and superstructure, what the
    radar images; the hull rectangle is in ``targets.json``) with the tallest scatterer's
    height, so the radarcoded volume spans the scatterers' layover; slicks lie flat on the sea.
    """
    import shapely
    from shapely.geometry import MultiPoint

    hulls = {}
    for ship in targets.ships:
        hull = MultiPoint(np.column_stack([ship.sx, ship.sy])).convex_hull
        hulls[ship.id] = hull if hull.geom_type == "Polygon" else hull.buffer(1.0)  # collinear
    slicks = {s.id: s.polygon for s in targets.slicks}
    feats = []
    for d, rec in enumerate(records):
        g = plans[d].grid
        start = np.datetime64(plans[d].epoch, "ns") + np.timedelta64(
            round(g.sensing_start * 1e9), "ns"
        )
        when = str(np.datetime64(start, "ms")) + "Z"
        for o in rec["objects"]:
            geom = hulls[o["id"]] if o["category"] == "ship" else slicks[o["id"]]
            feats.append(
                {
                    "type": "Feature",
                    "properties": {
                        "id": o["id"],
                        "category": o["category"],
                        "date_index": d,
                        "datetime": when,
                        "height_m": float(o.get("height_m", 0.0)),
                    },
                    "geometry": shapely.geometry.mapping(to_ll(geom)),
                }
            )
    collection = {"type": "FeatureCollection", "features": feats}
    (folder / REFERENCE_TARGETS).write_text(json.dumps(collection, indent=1))
    sea = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "open sea"},
                "geometry": shapely.geometry.mapping(to_ll(targets.sea)),
            }
        ],
    }
    (folder / SEA_REGION).write_text(json.dumps(sea))
