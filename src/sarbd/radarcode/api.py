"""``sarbd.radarcode``: reference geodata -> per-class fraction maps on the radar grid.

See ``docs/radarcoding.md`` for the method. The chain for vectors is

``read_reference`` (any OGR format, any CRS; files read near the scene only) -> in
batches of features (:mod:`sarbd.radarcode.tiling`): ``to_local`` (densify, clip,
buffer) -> ``radar_polygons`` (terrain + feature heights, geo2rdr per vertex through one
scene-wide lookup table) -> ``split_by_tiles`` -> compact pieces; then per Dask block:
the pieces meeting it -> ``dissolve_overlaps`` -> exact area-coverage rasterisation in
(line, pixel) -> derived layers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import shapely
import xarray as xr
from numpy.typing import NDArray

from sarbd.core.chunks import DEFAULT_CHUNKS as _DEFAULT_CHUNKS
from sarbd.core.chunks import Chunks, ChunksLike, as_chunks
from sarbd.core.orbit import Orbit
from sarbd.errors import InputError, NoOverlapError
from sarbd.radarcode.derived import MIXED, UNCHARTED, boundary_distance, hard_label
from sarbd.radarcode.prepare import LocalFeatures, resolve_priority, to_local
from sarbd.radarcode.project import BuildingModel, radar_polygons, split_by_tiles
from sarbd.radarcode.target import (
    LUT_MIN_POINTS,
    ConstantHeight,
    DemSource,
    GridSource,
    HeightSource,
    LocalFrame,
    RadarLookup,
    Target,
    _lattice,
    heights_from,
    lookup_size,
    resolve_target,
)
from sarbd.radarcode.tiling import (
    BATCH_FEATURES,
    PieceStore,
    coverage_block,
    estimate_vertices,
    feature_batches,
)
from sarbd.radarcode.vectors import ReferenceSource, read_reference
from sarbd.utils.log import get_logger

__all__ = ["DEFAULT_CHUNKS", "ProjectedReference", "project_reference", "radarcode"]

log = get_logger(__name__)

#: Default densification length, m: DEM postings of 20-30 m are sampled at least twice
#: per posting along every edge, and the map -> radar curvature over 10 m is < 1e-5 m.
DEFAULT_MAX_SEGMENT = 10.0

#: Margin (deg; >= 6 km up to 55 deg latitude) around the footprint within which features
#: are read from files: more than the kept margin ``500 m + 3 H`` for any feature up to
#: 1.8 km tall (the tallest building stands 828 m).
READ_MARGIN_DEG = 0.1

#: Default Dask chunk shape (lines, pixels) of the outputs: the one default of :mod:`sarbd.core.chunks`.
DEFAULT_CHUNKS: Chunks = _DEFAULT_CHUNKS


def _safe_name(name: str) -> str:
    """A CF-safe variable-name part: letters, digits and ``_``, starting with a letter (case kept)."""
    out = "".join(ch if (ch.isascii() and ch.isalnum()) else "_" for ch in name.strip()).strip("_")
    if not out or not out[0].isalpha():
        out = f"class_{out}"
    return out


def _class_codes(names: list[str], class_codes: Mapping[str, int] | None) -> NDArray[np.int64]:
    if class_codes is None:
        return np.arange(1, len(names) + 1, dtype=np.int64)
    codes = []
    for n in names:
        if n not in class_codes:
            raise InputError(
                f"class {n!r} has no code in class_codes",
                hint="give a code (1..254) for every class",
            )
        codes.append(int(class_codes[n]))
    codes_a = np.asarray(codes, dtype=np.int64)
    if codes_a.min() < 1 or codes_a.max() > 254 or np.unique(codes_a).size != codes_a.size:
        raise InputError(
            "class codes must be distinct integers in 1..254 (0 = uncharted, 255 = mixed)"
        )
    return codes_a


def _footprint_text(poly: shapely.Geometry) -> str:
    w, s, e, n = poly.bounds
    return f"lon {w:.4f}..{e:.4f}, lat {s:.4f}..{n:.4f}"


def radarcode(
    reference: ReferenceSource,
    grid: GridSource,
    *,
    layers: Sequence[str] | None = None,
    class_field: str | None = None,
    class_map: Mapping[str, str | None] | None = None,
    dem: DemSource = None,
    buffer: float = 10.0,
    widths: Mapping[str, float] | None = None,
    chunks: ChunksLike = None,
    orbit: Orbit | None = None,
    width_field: str | None = None,
    height_field: str | None = None,
    building_model: BuildingModel = "volume",
    class_codes: Mapping[str, int] | None = None,
    threshold: float = 0.5,
    max_segment: float | None = None,
    max_distance: float = 200.0,
    priority: Sequence[str] | None = None,
    layover_shadow: bool | None = None,
    batch_features: int = BATCH_FEATURES,
) -> xr.Dataset:
    """Radarcode reference vectors onto a radar grid as exact per-class area fractions.

    Parameters
    ----------
    reference
        Vector file(s) in any OGR format and CRS (GeoPackage, Shapefile, GeoJSON,
        FlatGeobuf, GeoParquet), a GeoDataFrame, a list of them, or ``{class: source}``.
        Rasters go through :func:`sarbd.radarcode.radarcode_raster`.
    grid
        The target: a stack/dataset, its path (Zarr/netCDF), a Scene, or a RadarGrid
        (with ``orbit``).
    layers
        Layers of multi-layer files to use (default all).
    class_field, class_map
        Where classes come from: an attribute, the layer names (default), and an
        optional renaming ``{value or layer: class}`` (see :func:`read_reference`).
    dem
        Terrain heights: a DEM file (any CRS; geoid heights converted), a
        :class:`sarbd.geometry.Dem`, a constant ellipsoidal height (m), or None to use
        the stack's ``height`` layer.
    buffer
        Half-width (m) of the boundary buffer mask around class boundaries.
    widths
        Per-class widths (m) for line and point features without a width attribute
        (defaults in :data:`sarbd.radarcode.vectors.DEFAULT_WIDTHS`).
    chunks
        Output Dask chunks ``(lines, pixels)``.
    orbit
        Orbit for a bare RadarGrid (or to override the dataset's).
    width_field, height_field
        Attribute names of feature width (m) and height above terrain (m).
    building_model
        How features with a height are imaged: ``"volume"``, ``"roof"`` or
        ``"footprint"`` (:mod:`sarbd.radarcode.project`).
    class_codes
        ``{class: code}`` for the label layer (default 1..K in order of appearance).
    threshold
        Minimum fraction for a hard label.
    max_segment
        Densification length (m), default :data:`DEFAULT_MAX_SEGMENT`.
    max_distance
        Cap of the boundary distance layer (m).
    priority
        Class names in priority order: where features of different classes overlap on
        the ground, the earlier class keeps the area and later ones lose it (e.g.
        ``["building", "road", "water", "field"]``). Default: classes may overlap and
        each keeps its full area.
    layover_shadow
        Add ``layover_shadow_mask``: copied from the stack when it has one, otherwise
        computed with :func:`sarbd.geometry.rdr2geo_grid` on the DEM (default: when a
        DEM file or :class:`~sarbd.geometry.Dem` is given).
    batch_features
        Features projected together (:mod:`sarbd.radarcode.tiling`): memory is bounded
        by one batch plus the compact projected pieces; the result does not depend on it.

    Returns
    -------
    xarray.Dataset on ``(line, pixel)`` (absolute indices of the root grid) with
    ``fraction_<class>`` (float32, 0..1), ``label`` (uint8, flag_values),
    ``boundary_distance`` (float32, m), ``boundary_mask`` (uint8), and
    ``layover_shadow_mask`` when the target carries one. Lazy (Dask) arrays.
    """
    target = resolve_target(grid, orbit)
    chunk_shape: tuple[int, int] = as_chunks(chunks)
    proj = project_reference(
        reference,
        target,
        layers=layers,
        class_field=class_field,
        class_map=class_map,
        dem=dem,
        widths=widths,
        width_field=width_field,
        height_field=height_field,
        building_model=building_model,
        max_segment=max_segment,
        priority=priority,
        batch_features=batch_features,
    )
    store, terrain, seg, src_name = proj.store, proj.terrain, proj.max_segment, proj.source
    d_az, d_rg = target.ground_spacing()
    names = proj.classes
    codes = _class_codes(names, class_codes)

    nclass = len(names)
    L, W = target.grid.shape
    template = da.zeros(
        (nclass, L, W), dtype=np.float32, chunks=(nclass, chunk_shape[0], chunk_shape[1])
    )
    frac = da.map_blocks(
        coverage_block,
        store,
        nclass,
        dtype=np.float32,
        chunks=template.chunks,
        meta=np.zeros((0, 0, 0), np.float32),
    )
    label = hard_label(frac, codes, threshold)
    _, dist = boundary_distance(frac, label, (d_az, d_rg), max_distance=max_distance)
    mask = (dist <= buffer).astype(np.uint8)

    lines = np.arange(L) + target.grid.first_line
    pixels = np.arange(W) + target.grid.first_pixel
    data_vars: dict[str, Any] = {}
    for k, n in enumerate(names):
        data_vars[f"fraction_{_safe_name(n)}"] = (
            ("line", "pixel"),
            frac[k],
            {
                "long_name": f"fraction of the pixel covered by class {n}",
                "units": "1",
                "valid_min": 0.0,
                "valid_max": 1.0,
                "sarbd_class": n,
                "sarbd_class_code": int(codes[k]),
                "sarbd_category": 3,
            },
        )
    flag_values = np.array([UNCHARTED, *codes.tolist(), MIXED], dtype=np.uint8)
    meanings = " ".join(["uncharted", *[_safe_name(n) for n in names], "mixed"])
    data_vars["label"] = (
        ("line", "pixel"),
        label,
        {
            "long_name": f"hard class label (largest fraction >= {threshold:g})",
            "flag_values": flag_values,
            "flag_meanings": meanings,
            "threshold": threshold,
        },
    )
    data_vars["boundary_distance"] = (
        ("line", "pixel"),
        dist,
        {
            "long_name": "ground distance to the nearest class boundary",
            "units": "m",
            "valid_min": 0.0,
            "valid_max": float(max_distance),
            "comment": f"capped at {max_distance:g} m; pixel steps of {d_az:.3f} m (azimuth) and "
            f"{d_rg:.3f} m (ground range)",
        },
    )
    data_vars["boundary_mask"] = (
        ("line", "pixel"),
        mask,
        {
            "long_name": f"within {buffer:g} m of a class boundary",
            "flag_values": np.array([0, 1], np.uint8),
            "flag_meanings": "interior near_boundary",
            "buffer_m": float(buffer),
        },
    )
    lsm_var = _layover_shadow(target, terrain, layover_shadow, chunk_shape)
    if lsm_var is not None:
        data_vars["layover_shadow_mask"] = lsm_var
    attrs = {
        **target.grid.to_attrs(),
        "sarbd_radarcode_reference": str(src_name) if src_name else "in-memory vectors",
        "sarbd_radarcode_height_model": terrain.description,
        "sarbd_radarcode_building_model": building_model,
        "sarbd_radarcode_priority": " ".join(priority)
        if priority
        else "none (classes may overlap)",
        "sarbd_radarcode_max_segment_m": float(seg),
        "sarbd_radarcode_classes": " ".join(_safe_name(n) for n in names),
        "sarbd_radarcode_method": "exact area fractions of geo2rdr-projected polygons (no empirical offsets)",
    }
    ds = xr.Dataset(data_vars, coords={"line": lines, "pixel": pixels}, attrs=attrs)
    ds["line"].attrs = {"long_name": "line (azimuth) index in the root radar grid", "units": "1"}
    ds["pixel"].attrs = {"long_name": "pixel (range) index in the root radar grid", "units": "1"}
    return ds


@dataclass
class ProjectedReference:
    """Reference features projected onto a radar grid (the first pass of :func:`radarcode`).

    Attributes
    ----------
    store
        The compact (line, pixel) polygon pieces, class index per piece.
    classes
        Class names in class-index order (order of appearance).
    terrain
        The height source the features were placed on.
    max_segment
        Densification length used, m.
    source
        Name of the reference file, if one was given.
    """

    store: PieceStore
    classes: list[str]
    terrain: HeightSource
    max_segment: float
    source: str | None


def project_reference(
    reference: ReferenceSource,
    target: Target,
    *,
    layers: Sequence[str] | None = None,
    class_field: str | None = None,
    class_map: Mapping[str, str | None] | None = None,
    dem: DemSource = None,
    widths: Mapping[str, float] | None = None,
    width_field: str | None = None,
    height_field: str | None = None,
    building_model: BuildingModel = "volume",
    max_segment: float | None = None,
    priority: Sequence[str] | None = None,
    batch_features: int = BATCH_FEATURES,
    grow: Mapping[str, tuple[float, float]] | None = None,
) -> ProjectedReference:
    """Read, prepare and project reference features onto ``target`` (see :func:`radarcode`).

    ``grow`` (``{class: (lines, pixels)}``) dilates the radar polygons of a class by an
    elliptical margin of that many samples (anisotropic buffer: scale, buffer by 1,
    scale back), e.g. the main-lobe half-width of the impulse response around point
    targets, whose image is wider than their footprint.

    Raises
    ------
    NoOverlapError
        No feature falls inside the radar grid.
    """
    # scene footprint and local frame
    h_ref = 0.0
    if isinstance(dem, int | float):
        h_ref = float(dem)
    elif target.dataset is not None and "height" in target.dataset:
        h_ref = float(np.nanmedian(np.asarray(target.dataset["height"].values)))
    fp = target.footprint(height=h_ref)
    # files: only features near the scene are read (READ_MARGIN_DEG covers any layover margin)
    feats_in = read_reference(
        reference,
        layers=layers,
        class_field=class_field,
        class_map=class_map,
        width_field=width_field,
        height_field=height_field,
        bbox=_bounds_with_margin(fp, READ_MARGIN_DEG),
    )
    src_name = _reference_name(reference)
    c = fp.centroid
    frame = LocalFrame(float(c.y), float(c.x))
    seg = float(max_segment) if max_segment is not None else DEFAULT_MAX_SEGMENT
    h_max = max((float(np.max(f.heights)) for f in feats_in if f.heights.size), default=0.0)
    margin = (
        500.0 + 3.0 * h_max
    )  # layover shift of a roof is < H / tan(theta) < 3 H for theta > 18 deg

    # overlap check with both footprints in the message
    ref_bounds = _reference_bounds_ll(feats_in)
    terrain = heights_from(dem, target, _bounds_with_margin(fp, 0.05))
    lookup = _scene_lookup(
        target, terrain, fp, frame, margin, h_max, estimate_vertices(feats_in, seg)
    )
    project = _Projection(target, terrain, building_model, lookup, grow)
    wmap = dict(widths or {})
    n_local = 0
    if priority:
        # priority cuts features by those of other classes: map-side, over all features at once
        local = resolve_priority(
            to_local(feats_in, frame, fp, margin=margin, max_segment=seg, widths=wmap),
            list(priority),
        )
        del feats_in
        n_local = local.geometry.size
        for a in range(0, local.geometry.size, batch_features):
            sl = slice(a, a + batch_features)
            project(
                LocalFeatures(local.geometry[sl], local.classes[sl], local.heights[sl], local.frame)
            )
        del local
    else:
        for batch in feature_batches(feats_in, batch_features, max_segment=seg):
            local = to_local(batch, frame, fp, margin=margin, max_segment=seg, widths=wmap)
            n_local += local.geometry.size
            project(local)
            del local, batch
        del feats_in  # geometries are held once per stage only
    if n_local == 0:
        raise NoOverlapError(
            f"the reference data ({_footprint_text(ref_bounds)}) do not overlap the radar grid "
            f"({_footprint_text(fp)})",
            path=src_name,
            hint="check the CRS of the reference data and that it covers the scene",
        )
    store = project.store
    if not store.touches(target.grid.shape):
        raise NoOverlapError(
            f"no reference feature falls inside the radar grid ({_footprint_text(fp)}); "
            f"reference data cover {_footprint_text(ref_bounds)}",
            path=src_name,
            hint="the features are near but outside the scene",
        )
    log.debug(
        "radarcoding: %d pieces (%.0f MiB) from %d features",
        store.n_pieces,
        store.nbytes / 2**20,
        n_local,
    )
    return ProjectedReference(store, list(project.classes), terrain, seg, src_name)


def _layover_shadow(
    target: Target, terrain: HeightSource, wanted: bool | None, chunks: tuple[int, int]
) -> tuple[tuple[str, str], Any, dict[str, Any]] | None:
    """The layover/shadow mask: the stack's own, or computed on the DEM (rdr2geo_grid)."""
    if wanted is False:
        return None
    if target.dataset is not None and "layover_shadow_mask" in target.dataset:
        lsm = target.dataset["layover_shadow_mask"]
        return (("line", "pixel"), lsm.data, dict(lsm.attrs))
    from sarbd.geometry import Dem

    if not isinstance(terrain, Dem):
        if wanted:
            raise InputError(
                "a layover/shadow mask needs a DEM (or a stack that has one)",
                path=target.path,
                hint="pass --dem DEM.tif",
            )
        return None
    from sarbd.geometry import rdr2geo_grid

    lsm = rdr2geo_grid(target.grid, target.orbit, dem=terrain, layover_shadow=True, chunks=chunks)[
        "layover_shadow_mask"
    ]
    attrs = {k: v for k, v in lsm.attrs.items() if k != "coordinates"}
    return (("line", "pixel"), lsm.data, attrs)


def _reference_name(reference: ReferenceSource) -> str | None:
    if isinstance(reference, str | os.PathLike):
        return str(reference)
    if (
        isinstance(reference, list | tuple)
        and reference
        and isinstance(reference[0], str | os.PathLike)
    ):
        return str(reference[0])
    return None


def _reference_bounds_ll(feats: list[Any]) -> shapely.Geometry:
    from pyproj import Transformer

    boxes = []
    for f in feats:
        w, s, e, n = f.bounds
        tr = Transformer.from_crs(f.crs, "EPSG:4326", always_xy=True)
        x, y = tr.transform(np.array([w, e, e, w]), np.array([s, s, n, n]))
        boxes.append(shapely.box(np.min(x), np.min(y), np.max(x), np.max(y)))
    return shapely.union_all(boxes) if boxes else shapely.Polygon()


def _bounds_with_margin(poly: shapely.Geometry, m: float) -> tuple[float, float, float, float]:
    w, s, e, n = poly.bounds
    return (w - m, s - m, e + m, n + m)


class _Projection:
    """Projects batches of local features into a :class:`PieceStore`; class indices in order of appearance."""

    def __init__(
        self,
        target: Target,
        terrain: HeightSource,
        building_model: BuildingModel,
        lookup: RadarLookup | None,
        grow: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        self.target, self.terrain, self.building_model, self.lookup = (
            target,
            terrain,
            building_model,
            lookup,
        )
        self.grow = dict(grow or {})
        self.classes: dict[str, int] = {}
        self.store = PieceStore()

    def __call__(self, local: LocalFeatures) -> None:
        if local.geometry.size == 0:
            return
        for n in dict.fromkeys(local.classes.tolist()):
            self.classes.setdefault(n, len(self.classes))
        cls_idx = np.array([self.classes[n] for n in local.classes], dtype=np.int64)
        polys, owner, _tall = radar_polygons(
            local, self.target, self.terrain, building_model=self.building_model, lookup=self.lookup
        )
        if self.grow:
            polys = _grow(polys, local.classes[owner], self.grow)
        # (line, pixel) polygons are relative to the grid window; pieces keep that frame
        polys, cls_poly = split_by_tiles(polys, cls_idx[owner])
        self.store.add(polys, cls_poly)


def _grow(
    polys: NDArray[np.object_], classes: NDArray[np.str_], grow: Mapping[str, tuple[float, float]]
) -> NDArray[np.object_]:
    """Polygons (x = line, y = pixel) of the classes in ``grow`` dilated by an ellipse of ``(lines, pixels)``."""
    out = polys.copy()
    for name, (ml, mp) in grow.items():
        sel = classes == name
        if not sel.any() or (ml <= 0 and mp <= 0):
            continue
        ml, mp = max(float(ml), 1e-6), max(float(mp), 1e-6)
        scaled = shapely.transform(out[sel], lambda xy, ml=ml, mp=mp: xy / np.array([ml, mp]))
        grown = shapely.buffer(scaled, 1.0, quad_segs=8)
        out[sel] = shapely.transform(grown, lambda xy, ml=ml, mp=mp: xy * np.array([ml, mp]))
    return out


def _scene_lookup(
    target: Target,
    terrain: HeightSource,
    fp: shapely.Geometry,
    frame: LocalFrame,
    margin: float,
    h_max: float,
    n_vertices: int,
) -> RadarLookup | None:
    """One geo2rdr lookup table over the scene and the heights features can have, or None.

    None (every vertex solved exactly) when there are few vertices or the table would
    need more geo2rdr solutions than half the vertices (the rule of
    :meth:`Target.to_radar`, applied once to the estimated total so that batching
    does not change it). The table covers the footprint plus ``margin`` (plus one
    lattice step) and terrain heights sampled on its lattice (+-10 m) up to the
    tallest feature; vertices outside it are solved exactly.
    """
    if n_vertices < LUT_MIN_POINTS:
        return None
    fx, fy = frame.from_lonlat(*np.asarray(fp.exterior.coords).T)
    region = shapely.Polygon(np.c_[fx, fy]).buffer(margin + 200.0)
    lon, lat = frame.to_lonlat(*np.asarray(region.exterior.coords).T)
    bounds = (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))
    if lookup_size(bounds, (0.0, 1.0)) > n_vertices // 2:
        return None
    dlat, dlon, nla, nlo = _lattice(bounds)
    glat = bounds[1] - 0.5 * dlat + dlat * np.arange(nla)
    glon = bounds[0] - 0.5 * dlon + dlon * np.arange(nlo)
    GL, GO = np.meshgrid(glat, glon, indexing="ij")
    h_t = np.asarray(terrain.height_at(GL, GO), dtype=np.float64)
    if not np.isfinite(h_t).any():
        return None
    pad = 0.0 if isinstance(terrain, ConstantHeight) else 10.0
    h0 = float(np.nanmin(h_t)) - pad
    h1 = float(np.nanmax(h_t)) + pad + h_max
    return target.lookup(bounds, (h0, h1))
