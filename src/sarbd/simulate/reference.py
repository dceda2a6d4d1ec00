"""The "reference" vectors as users get them: the truth with documented errors.

Real reference geodata (cadastre, topographic maps, OpenStreetMap) disagree with
what the radar sees in known ways; every one of them is applied here in a fixed,
documented fraction and logged feature by feature, so that label purity can be
measured against the truth later.

Corruptions (fractions are of the truth features of each class; defaults in
:data:`DEFAULT_CORRUPTION`):

``shift``
    one global misregistration vector of ``shift_m`` metres in a random direction
    (datum/georeferencing error), plus per-feature jitter of ``jitter_m`` (std, m);
``omit``
    features missing from the reference (not yet mapped);
``extra``
    features in the reference that are not on the ground (demolished buildings,
    planned roads): copies of real features moved to a random place;
``wrong_class``
    features with a wrong class (e.g. field <-> bare, road <-> railway);
``outdated``
    polygons whose shape is out of date (buildings extended or shrunk by 15-40 %).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sarbd.simulate.config import CLASSES
from sarbd.simulate.landscape import Landscape

__all__ = ["DEFAULT_CORRUPTION", "WRONG_CLASS", "corrupt_reference"]

#: Default corruption settings.
DEFAULT_CORRUPTION: dict[str, float] = {
    "shift_m": 3.0,
    "jitter_m": 0.5,
    "omit": 0.05,
    "extra": 0.03,
    "wrong_class": 0.03,
    "outdated": 0.05,
}

#: The class a mislabelled feature receives.
WRONG_CLASS: dict[str, str] = {
    "building": "bare",
    "road": "railway",
    "railway": "road",
    "water": "field",
    "vegetation": "field",
    "field": "bare",
    "bare": "field",
}


def corrupt_reference(
    land: Landscape, rng: np.random.Generator, settings: dict[str, float] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Make the reference layers and the corruption log.

    Parameters
    ----------
    land
        The true landscape.
    rng
        Random generator.
    settings
        Overrides of :data:`DEFAULT_CORRUPTION`.

    Returns
    -------
    layers, log
        ``{class: GeoDataFrame}`` (columns ``id, truth_id, class, height, width,
        geometry``; ``truth_id`` -1 for extra features) and a JSON-able log:
        ``{"settings": ..., "shift": [dx, dy], "features": [{truth_id, ref_id,
        class, action, ...}, ...], "counts": {...}}``.
    """
    import geopandas as gpd
    import pandas as pd
    from shapely import affinity

    cfg = {**DEFAULT_CORRUPTION, **(settings or {})}
    angle = rng.uniform(0, 2 * np.pi)
    shift = (cfg["shift_m"] * math.cos(angle), cfg["shift_m"] * math.sin(angle))
    xmin, ymin, xmax, ymax = land.bounds
    events: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    next_id = 1
    for c in CLASSES:
        gdf = land.layers[c.name]
        n = len(gdf)
        if n == 0:
            continue
        action = np.full(n, "keep", dtype=object)
        u = rng.uniform(size=n)
        edges = np.cumsum(
            [cfg["omit"], cfg["wrong_class"], cfg["outdated"] if c.name == "building" else 0.0]
        )
        action[u < edges[2]] = "outdated"
        action[u < edges[1]] = "wrong_class"
        action[u < edges[0]] = "omit"
        jit = rng.normal(0.0, cfg["jitter_m"], size=(n, 2))
        scale = rng.uniform(0.15, 0.40, size=n) * rng.choice([-1.0, 1.0], size=n)
        for k, (tid, geom, height, width) in enumerate(
            zip(gdf["id"], gdf.geometry, gdf["height"], gdf["width"], strict=True)
        ):
            act = str(action[k])
            if act == "omit":
                events.append(
                    {"truth_id": int(tid), "ref_id": None, "class": c.name, "action": "omit"}
                )
                continue
            cls = c.name
            g = geom
            ev: dict[str, Any] = {"truth_id": int(tid), "class": c.name, "action": act}
            if act == "wrong_class":
                cls = WRONG_CLASS[c.name]
                ev["reference_class"] = cls
            elif act == "outdated":
                # extend or shrink along the building's long axis (an extension or a partial demolition)
                f = 1.0 + float(scale[k])
                g = affinity.scale(g, xfact=f, yfact=1.0, origin="centroid")
                ev["scale"] = f
            dx, dy = shift[0] + jit[k, 0], shift[1] + jit[k, 1]
            g = affinity.translate(g, dx, dy)
            ev["offset_m"] = [float(dx), float(dy)]
            ev["ref_id"] = next_id
            rows.append(
                {
                    "id": next_id,
                    "truth_id": int(tid),
                    "class": cls,
                    "height": float(height),
                    "width": float(width),
                    "geometry": g,
                }
            )
            if act != "keep":
                events.append(ev)
            next_id += 1
        # extra features: copies of real ones dropped somewhere else
        n_extra = int(rng.binomial(n, cfg["extra"]))
        picks = rng.integers(0, n, size=n_extra)
        for k in picks:
            geom = gdf.geometry.iloc[int(k)]
            cxy = geom.centroid
            tx, ty = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
            g = affinity.translate(geom, tx - cxy.x, ty - cxy.y)
            rows.append(
                {
                    "id": next_id,
                    "truth_id": -1,
                    "class": c.name,
                    "height": float(gdf["height"].iloc[int(k)]),
                    "width": float(gdf["width"].iloc[int(k)]),
                    "geometry": g,
                }
            )
            events.append(
                {
                    "truth_id": None,
                    "ref_id": next_id,
                    "class": c.name,
                    "action": "extra",
                    "copied_from": int(gdf["id"].iloc[int(k)]),
                    "centre": [float(tx), float(ty)],
                }
            )
            next_id += 1
    ref = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["id", "truth_id", "class", "height", "width", "geometry"]),
        geometry="geometry",
        crs=land.crs,
    )
    layers = {c.name: ref[ref["class"] == c.name].reset_index(drop=True) for c in CLASSES}
    counts: dict[str, dict[str, int]] = {}
    for e in events:
        counts.setdefault(e["class"], {}).setdefault(e["action"], 0)
        counts[e["class"]][e["action"]] += 1
    log = {
        "settings": cfg,
        "shift_m": [float(shift[0]), float(shift[1])],
        "counts": counts,
        "features": events,
    }
    return layers, log
