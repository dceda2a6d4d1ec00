"""Regenerate the two small reference layers of the real-data examples (provenance script).

Run from the repository root (``../shared/data`` must exist)::

    python examples/reference/make_reference.py

* ``sanand_terrain.geojson`` -- classes from the DEM: the cells of ``SanAnd_dem.tif`` over
  the UAVSAR pair's footprint split at the median height there into ``lowland`` and
  ``upland``, as polygons (EPSG:4326). Derived from the DEM only, never from the SAR
  pixels (so the two classes need not differ in their SAR signatures: see the README).
* ``terceira_coast.geojson`` -- ``sea`` and ``land`` digitised from the Terceira crop's
  amplitude: the single-look amplitude averaged over 15 x 45 pixels (about 200 m x 200 m
  on the ground), thresholded half-way (in dB) between the open-sea and land modes, the
  largest connected region of each class kept, its outline simplified by 3 pixels and
  mapped to longitude/latitude with rdr2geo at 0 m above the EGM96 geoid (the coastline
  is at sea level, so this places it right without a DEM). A map traced from the amplitude
  is what a user digitising the coast from the image would draw; it is a reference for
  testing the pipeline, not independent truth.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DATA = Path("../shared/data")
HERE = Path(__file__).resolve().parent


def _write(path: Path, features: list[dict[str, object]], source: str) -> None:
    fc = {
        "type": "FeatureCollection",
        "name": path.stem,
        "source": source,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": features,
    }
    path.write_text(json.dumps(fc, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(features)} features)")


def _round(geom: object) -> dict[str, object]:
    import shapely

    mapping = shapely.geometry.mapping(shapely.set_precision(geom, 1e-6))
    return json.loads(json.dumps(mapping))


def sanand() -> None:
    import rasterio
    import rasterio.features
    import shapely

    import sarbd
    from sarbd.radarcode.target import resolve_target

    d = DATA / "uavsar_nisar"
    scenes = [sarbd.open_product(d / f) for f in ("SanAnd_129.h5", "SanAnd_138.h5")]
    foot = shapely.union_all([resolve_target(s).footprint(height=130.0) for s in scenes]).buffer(
        0.002
    )
    with rasterio.open(d / "SanAnd_dem.tif") as src:
        dem = src.read(1).astype(np.float64)
        inside = rasterio.features.geometry_mask([foot], dem.shape, src.transform, invert=True)
        threshold = float(np.median(dem[inside]))
        classes = np.where(dem < threshold, 1, 2).astype(np.uint8)
        classes[~inside] = 0
        features = []
        for geom, value in rasterio.features.shapes(
            classes, mask=classes > 0, transform=src.transform
        ):
            name = {1: "lowland", 2: "upland"}[int(value)]
            poly = shapely.geometry.shape(geom).simplify(1e-5)
            features.append(
                {"type": "Feature", "properties": {"class": name}, "geometry": _round(poly)}
            )
    _write(
        HERE / "sanand_terrain.geojson",
        features,
        f"SanAnd_dem.tif (isce3 tests/data, Apache-2.0) split at {threshold:.1f} m (median over the footprint)",
    )


def terceira() -> None:
    import rasterio.features
    import shapely
    from scipy import ndimage

    import sarbd
    from sarbd.geometry import geoid_height, rdr2geo

    d = DATA / "s1_terceira"
    scene = sarbd.open_product(
        d / "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml",
        measurement=d / "s1a-iw3-slc-vv_subset_hight9800_10400_width11000_11000.tiff",
        offset=(9799, 10999),
        orbit=d / "S1A_OPER_AUX_RESORB_OPOD_20220918T093241_V20220918T053155_20220918T084925.EOF",
    )
    power = ndimage.uniform_filter(
        np.abs(scene.slc("VV").values.astype(np.complex128)) ** 2, (15, 45)
    )
    db = 10 * np.log10(np.maximum(power, 1e-3))
    sea_mode = np.median(db[460:590, 100:1300])  # open sea south of Angra
    land_mode = np.median(db[20:230, 100:1300])  # town and fields
    land = db > 0.5 * (sea_mode + land_mode)
    out = np.zeros(land.shape, np.uint8)
    for value, mask in ((1, ~land), (2, land)):
        lab, n = ndimage.label(mask)
        sizes = ndimage.sum(mask, lab, range(1, n + 1))
        out[lab == 1 + int(np.argmax(sizes))] = value
    out[out == 0] = 2  # small islands of either class join the land (harbour works, boats)
    grid = scene.radar_grid.with_epoch(scene.orbit.reference_epoch)
    features = []
    for geom, value in rasterio.features.shapes(
        out, transform=rasterio.Affine(1, 0, -0.5, 0, 1, -0.5)
    ):
        poly = shapely.geometry.shape(geom).simplify(3.0)
        rings = []
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)
            pixel = np.clip(xy[:, 0], -0.5, grid.width - 0.5)
            line = np.clip(xy[:, 1], -0.5, grid.length - 0.5)
            t, r = grid.line_to_azimuth_time(line), grid.pixel_to_slant_range(pixel)
            lat, lon, _ = rdr2geo(t, r, scene.orbit, height=0.0, look_side=grid.look_side)
            for _ in range(3):  # 0 m above the geoid: iterate the undulation
                n_geoid = geoid_height(lat, lon)
                lat, lon, _ = rdr2geo(t, r, scene.orbit, height=n_geoid, look_side=grid.look_side)
            rings.append(np.c_[lon, lat])
        geo = shapely.make_valid(shapely.Polygon(rings[0], rings[1:]))
        name = {1: "sea", 2: "land"}[int(value)]
        features.append({"type": "Feature", "properties": {"class": name}, "geometry": _round(geo)})
    _write(
        HERE / "terceira_coast.geojson",
        features,
        f"digitised from the amplitude of the Terceira crop (SARProcessing.jl test data, MIT): threshold "
        f"{0.5 * (sea_mode + land_mode):.1f} dB (sea mode {sea_mode:.1f}, land mode {land_mode:.1f})",
    )


if __name__ == "__main__":
    sanand()
    terceira()
