"""Land changes with known truth between dates: new buildings, cleared vegetation, floods (opt-in).

Turned on by a non-empty ``SimulationConfig.changes`` mapping (keys: the fields of
:class:`ChangeSettings`); without it nothing here runs and a scene keeps its bytes.

Every change has a polygon and a date index ``k >= 1``: the distributed scatterers
inside it show the old land cover on dates ``< k`` and the new one on dates ``>= k``
(the change happened between acquisition ``k - 1`` and ``k``; its ``change_date`` is
the midpoint). The new cover multiplies each scatterer's power by
``sigma0_new / sigma0_old`` per polarisation, from the class table
:data:`sarbd.simulate.config.CLASSES` (whose values are cited there), and the
scatterer's reflectivity states are redrawn at date ``k`` (the arrangement of the
scatterers is destroyed: the coherence of a pair across the change is ~0).

New buildings (``new_building``)
    Rectangles of ``building_size_m`` on ``field`` or ``bare`` land take the ``building``
    class's sigma0 (+2 dB VV, -8 dB VH: the wall-ground double bounce dominates urban
    returns; Franceschetti, G. et al. (2002), *IEEE TGRS* 40(8), 1787-1801): a rise of
    about 12-14 dB VV over a field. Construction decorrelates the pair across ``k``.
Cleared vegetation (``cleared``)
    Parts of ``vegetation`` polygons become ``bare``: -4.5 dB VV and -8 dB VH, the
    cross-pol drop being the larger one as reported for Sentinel-1 clear-cuts (Bouvet,
    A. et al. (2018), Use of the SAR shadowing effect for deforestation detection with
    Sentinel-1 time series, *Remote Sens.* 10(8), 1250; Reiche, J. et al. (2021),
    Forest disturbance alerts for the Congo Basin using Sentinel-1, *Environ. Res.
    Lett.* 16, 024005: VH drops of a few dB after clearing).
Floods (``flood``)
    Ellipses of ``flood_size_m`` over land (buildings excepted) become specular open
    water (``water``: -20 dB VV, -27 dB VH; flood thresholds of -15 to -18 dB VV in
    Twele, A. et al. (2016), Sentinel-1-based flood mapping: a fully automated
    processing chain, *Int. J. Remote Sens.* 37(13), 2990-3004), i.e. about -10 dB VV
    over fields. Water has no coherence (gamma 0): the states are redrawn on every
    flooded date. Floods last to the end of the stack.

Truth (``truth/changes/``): ``changes.json`` (every change: id, type, date index,
``change_date``, ``date_start``/``date_end`` (the acquisitions before and after),
polygon in the scene CRS and lon/lat), ``change_map.tif`` on the reference (date 0)
radar grid (band 1 change id, band 2 date index ``k``, band 3 type code; 0 none), so
the truth of a pair ``(i, j)`` is ``i < k <= j`` (:func:`pair_truth`); ``lonlat.tif``
(float64 longitude and latitude, degrees, of every reference-grid pixel seen on the
terrain: the geocoding a dataset would carry); and ``reference_changes.geojson``:
the dated *reference* features (lon/lat, ``type``, ``change_date``, ``date_start``,
``date_end``) with digitising errors (each polygon shifted by ``N(0, ref_shift_m)`` per
axis and grown or shrunk by up to ``ref_buffer_m``), from which L2 change labels are
derived.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.errors import ConfigError

__all__ = [
    "CHANGE_TYPES",
    "ChangeSettings",
    "LandChanges",
    "change_settings",
    "draw_changes",
    "pair_truth",
    "write_change_truth",
]

#: Change types: ``{name: code}`` (0: no change).
CHANGE_TYPES: dict[str, int] = {"new_building": 1, "cleared": 2, "flood": 3}
_NEW_CLASS = {"new_building": "building", "cleared": "bare", "flood": "water"}


@dataclass(frozen=True)
class ChangeSettings:
    """Settings of the land changes (``SimulationConfig.changes`` keys); see the module docstring."""

    new_buildings: int = 8
    cleared: int = 3
    floods: int = 1
    building_size_m: tuple[float, float] = (40.0, 90.0)
    clear_size_m: tuple[float, float] = (150.0, 350.0)
    flood_size_m: tuple[float, float] = (300.0, 600.0)
    ref_shift_m: float = 8.0
    ref_buffer_m: float = 8.0


def change_settings(options: dict[str, Any] | None) -> ChangeSettings | None:
    """The settings from ``SimulationConfig.changes`` (None when empty: changes off).

    Raises
    ------
    ConfigError
        An unknown key or a value out of range.
    """
    if not options:
        return None
    known = {f.name for f in fields(ChangeSettings)}
    bad = sorted(set(options) - known - {"enabled"})
    if bad:
        raise ConfigError(
            f"unknown changes option(s) {', '.join(bad)}", hint=f"use {', '.join(sorted(known))}"
        )
    kw: dict[str, Any] = {
        k: (tuple(float(x) for x in v) if isinstance(v, (list, tuple)) else v)
        for k, v in options.items()
        if k != "enabled"
    }
    s = ChangeSettings(**kw)
    for name in ("building_size_m", "clear_size_m", "flood_size_m"):
        lo, hi = getattr(s, name)
        if not 0 < lo <= hi:
            raise ConfigError(
                f"changes.{name} must be an increasing positive range, got {(lo, hi)}"
            )
    if min(s.new_buildings, s.cleared, s.floods) < 0 or s.ref_shift_m < 0 or s.ref_buffer_m < 0:
        raise ConfigError("changes counts and reference errors must be >= 0")
    return s


@dataclass
class Change:
    """One change: type, polygon (scene CRS), first date showing it, and the reference polygon."""

    id: int
    type: str
    date: int
    polygon: Any
    reference: Any


@dataclass
class LandChanges:
    """Every change of a scene, and the per-scatterer gains and state redraws they cause."""

    settings: ChangeSettings
    changes: list[Change]
    crs: str

    def effects(
        self, x: NDArray[np.float64], y: NDArray[np.float64], ci: NDArray[np.int64], n_dates: int
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]] | None:
        """Power gain ``(n_dates, n, 2)`` (VV, VH) and state redraws ``(n_dates, n)``; None if nothing changes.

        ``ci`` is each scatterer's 0-based class index in :data:`~sarbd.simulate.config.CLASSES`.
        """
        import shapely

        from sarbd.simulate.config import CLASS_CODES, CLASSES

        sig = np.array([[c.sigma0("VV"), c.sigma0("VH")] for c in CLASSES])
        gain: NDArray[np.float64] | None = None
        redraw = np.zeros((n_dates, x.size), bool)
        for c in self.changes:
            if c.date >= n_dates:
                continue
            xmin, ymin, xmax, ymax = c.polygon.bounds
            cand = np.flatnonzero((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
            if cand.size == 0:
                continue
            cand = cand[shapely.contains_xy(c.polygon, x[cand], y[cand])]
            # buildings stay (new buildings are drawn off them; floods spare them)
            cand = cand[ci[cand] != CLASS_CODES["building"] - 1]
            if cand.size == 0:
                continue
            if gain is None:
                gain = np.ones((n_dates, x.size, 2))
            new = sig[CLASS_CODES[_NEW_CLASS[c.type]] - 1]
            gain[c.date :, cand] = new[None, None, :] / sig[ci[cand]][None]
            if c.type == "flood":
                redraw[c.date :, cand] = True
            else:
                redraw[c.date, cand] = True
        return None if gain is None else (gain, redraw)


def _ellipse(rng: np.random.Generator, cx: float, cy: float, a: float, b: float) -> Any:
    from shapely import affinity
    from shapely.geometry import Point

    return affinity.rotate(
        affinity.scale(Point(cx, cy).buffer(1.0, 32), a, b), float(rng.uniform(0, 180))
    )


def _reference(rng: np.random.Generator, poly: Any, s: ChangeSettings) -> Any:
    from shapely import affinity

    dx, dy = rng.normal(0.0, s.ref_shift_m, 2)
    out = affinity.translate(poly, float(dx), float(dy)).buffer(
        float(rng.uniform(-1, 1) * s.ref_buffer_m)
    )
    return out if not out.is_empty else poly


def draw_changes(
    settings: ChangeSettings, land: Any, frame_area: Any, n_dates: int, seed: int, crs: str
) -> LandChanges:
    """Draw the changes inside ``frame_area`` (scene CRS polygon) on ``land``; dates uniform in ``1..n_dates-1``.

    Raises
    ------
    ConfigError
        Fewer than two dates (a change needs a before and an after).
    """
    import shapely
    from shapely.ops import unary_union

    from sarbd.simulate.landscape import _rect
    from sarbd.simulate.targets import _random_point

    if n_dates < 2:
        raise ConfigError("changes need at least 2 dates")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 40]))
    layers = land.layers
    area = frame_area.buffer(-100.0)

    def region(*names: str) -> Any:
        geoms = [g for n in names if n in layers and len(layers[n]) for g in layers[n].geometry]
        return unary_union(geoms).intersection(area) if geoms else area.buffer(-1e9)

    buildings = region("building").buffer(15.0)
    taken: list[Any] = [buildings]
    out: list[Change] = []

    def add(kind: str, poly: Any) -> None:
        if (
            poly.is_empty
            or poly.area < 100.0
            or any(poly.intersection(t).area > 1.0 for t in taken)
        ):
            return
        date = int(rng.integers(1, n_dates))
        out.append(Change(len(out) + 1, kind, date, poly, _reference(rng, poly, settings)))
        taken.append(poly.buffer(30.0))

    open_land = region("field", "bare")
    for _ in range(settings.new_buildings * 4):
        if sum(c.type == "new_building" for c in out) >= settings.new_buildings:
            break
        w = float(rng.uniform(*settings.building_size_m))
        p = _random_point(rng, open_land.buffer(-w))
        if p is not None:
            add(
                "new_building",
                _rect(
                    p[0], p[1], w, w * float(rng.uniform(0.5, 1.0)), float(rng.uniform(0, np.pi))
                ),
            )
    veg = region("vegetation")
    for _ in range(settings.cleared * 4):
        if sum(c.type == "cleared" for c in out) >= settings.cleared:
            break
        r = float(rng.uniform(*settings.clear_size_m))
        p = _random_point(rng, veg.buffer(-0.3 * r))
        if p is not None:
            add(
                "cleared",
                _rect(
                    p[0], p[1], r, r * float(rng.uniform(0.5, 1.0)), float(rng.uniform(0, np.pi))
                ).intersection(veg),
            )
    for _ in range(settings.floods * 4):
        if sum(c.type == "flood" for c in out) >= settings.floods:
            break
        r = float(rng.uniform(*settings.flood_size_m))
        p = _random_point(rng, area.buffer(-r))
        if p is not None:
            poly = _ellipse(rng, p[0], p[1], r, r * float(rng.uniform(0.4, 0.8)))
            add("flood", shapely.difference(poly, unary_union(taken)))
    return LandChanges(settings, out, crs)


def _iso(t: np.datetime64) -> str:
    return str(np.datetime64(t, "s")) + "Z"


def write_change_truth(
    folder: Path, changes: LandChanges, plans: list[Any], height_fn: Any
) -> Path:
    """Write ``truth/changes/`` (see the module docstring); returns the folder."""
    import warnings

    import rasterio
    import shapely
    from rasterio.transform import Affine

    from sarbd.simulate.imaging import _to_map
    from sarbd.simulate.targets import _map_coords
    from sarbd.utils.files import atomic_output

    _, inv = _to_map(changes.crs)

    def to_ll(geom: Any) -> Any:
        return shapely.transform(
            geom, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1]))
        )

    ref = plans[0]
    L, W = ref.grid.shape
    X, Y = _map_coords(ref, height_fn, changes.crs)
    bands = np.zeros((3, L, W), np.uint16)
    records, feats = [], []
    for c in changes.changes:
        m = shapely.contains_xy(c.polygon, X, Y)
        bands[0][m], bands[1][m], bands[2][m] = c.id, c.date, CHANGE_TYPES[c.type]
        t0, t1 = plans[c.date - 1].epoch, plans[c.date].epoch
        mid = t0 + (t1 - t0) / 2
        props = {
            "id": c.id,
            "type": c.type,
            "date_index": c.date,
            "change_date": _iso(mid),
            "date_start": _iso(t0),
            "date_end": _iso(t1),
        }
        records.append(
            {
                **props,
                "area_m2": float(c.polygon.area),
                "area_px": int(m.sum()),
                "geometry_wkt": c.polygon.wkt,
                "geometry_lonlat_wkt": to_ll(c.polygon).wkt,
                "reference_wkt": c.reference.wkt,
            }
        )
        feats.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": shapely.geometry.mapping(to_ll(c.reference)),
            }
        )
    with atomic_output(folder, directory=True) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(
                tmp / "change_map.tif",
                "w",
                driver="GTiff",
                width=W,
                height=L,
                count=3,
                dtype="uint16",
                compress="deflate",
                transform=Affine.identity(),
            ) as ds:
                ds.write(bands)
                for b, text in enumerate(
                    (
                        "change id (0: none)",
                        "first date index showing the change",
                        "change type code",
                    ),
                    start=1,
                ):
                    ds.set_band_description(b, text)
            lon, lat = inv.transform(X, Y)
            with rasterio.open(
                tmp / "lonlat.tif",
                "w",
                driver="GTiff",
                width=W,
                height=L,
                count=2,
                dtype="float64",
                compress="deflate",
                transform=Affine.identity(),
            ) as ds:
                ds.write(np.stack([np.asarray(lon), np.asarray(lat)]))
                ds.set_band_description(1, "longitude (deg)")
                ds.set_band_description(2, "latitude (deg)")
        meta = {
            "types": CHANGE_TYPES,
            "crs": changes.crs,
            "settings": asdict(changes.settings),
            "epochs": [_iso(p.epoch) for p in plans],
            "shape": [L, W],
            "changes": records,
        }
        (tmp / "changes.json").write_text(json.dumps(meta, indent=1))
        (tmp / "reference_changes.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": feats}, indent=1)
        )
    return folder


def pair_truth(change_map: NDArray[np.integer[Any]], i: int, j: int) -> NDArray[np.bool_]:
    """Truth change mask of the pair ``(i, j)``, ``i < j``, from band 2 (date index) of ``change_map.tif``."""
    if not 0 <= i < j:
        raise ValueError(f"need 0 <= i < j, got {(i, j)}")
    k = np.asarray(change_map)
    return (k > i) & (k <= j)
