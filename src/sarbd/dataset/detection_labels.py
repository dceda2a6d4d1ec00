"""Object-detection labels: per-chip boxes and instance masks in COCO JSON and YOLO text, and a STAC label item.

Input: a simulated scene with detection targets (``truth/targets``, written by
:mod:`sarbd.simulate.targets`): every date's SLC, calibrated to sigma0 VV
(``|DN|^2 / A_sigma^2``, no noise removal, so no NaN) and averaged over ``looks``
(azimuth, range) samples, cut into ``chip_size`` square chips where at least
``min_sea`` of the chip is open sea; the instance raster of the same date, looked the
same way (a looked pixel takes the largest instance id of its window; instances of one
date do not overlap), gives every object's mask in the chip and the box is the mask's
extent. An object is labelled in every chip holding at least ``min_pixels`` of its
pixels (``truncated`` says it continues outside the chip), so no target pixel is left
unlabelled.

Split (spatial): the chip grid is cut into ``block`` x ``block`` chip blocks; a seeded
shuffle gives whole blocks to train / validation / test (70/15/15 by largest
remainders), the same for every date, so a test chip's place is never seen in training
(Roberts et al. 2017, *Ecography* 40:913).

Formats
-------
COCO (Lin, T.-Y. et al. 2014, Microsoft COCO, ECCV; https://cocodataset.org/#format-data):
``coco_<split>.json`` with ``images``, ``annotations`` (``bbox`` ``[x, y, w, h]`` in
pixels, x along the chip's columns = range, ``area`` the mask's pixel count,
``segmentation`` uncompressed RLE over the column-major mask, ``iscrowd`` 0) and
``categories`` (``ship`` 1, ``oil_slick`` 2).
YOLO (ultralytics): ``labels/<split>/<name>.txt``, one ``class x_c y_c w h`` line per
object (0-based class, coordinates divided by the chip size), ``images/<split>/<name>.png``
(8-bit: sigma0 dB linearly mapped from ``[-30, 5]`` dB) and ``data.yaml``.
``chips.npz``: the float32 dB chips, split, date and chip origin (the training input).
STAC: ``item.json`` with the label extension v1.0.1 (``label:type`` vector,
``label:tasks`` detection and segmentation) whose ``labels`` asset ``labels.geojson``
holds every object's polygon in lon/lat; validated against the official schemas shipped
in ``sarbd/export/schemas``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.errors import InputError

__all__ = [
    "DateLayers",
    "DetectionChips",
    "LabelSource",
    "build_detection_dataset",
    "chip_fractions",
    "cut_chips",
    "load_detection_dataset",
    "mask_to_rle",
    "rle_to_mask",
    "split_blocks",
    "write_detection_folder",
]

SPLITS = {1: "train", 2: "validation", 3: "test"}
_DB_RANGE = (-30.0, 5.0)
LABEL_EXTENSION = "https://stac-extensions.github.io/label/v1.0.1/schema.json"


@dataclass
class DetectionChips:
    """Chips and their objects.

    Attributes
    ----------
    images
        ``(N, S, S)`` float32 sigma0 VV, dB.
    split
        ``(N,)`` split codes (1 train, 2 validation, 3 test).
    date, line0, pixel0
        ``(N,)`` date index and chip origin on that date's looked grid.
    boxes
        Per chip, ``(k, 4)`` float ``x0, y0, x1, y1`` (pixel edges, x = column).
    labels
        Per chip, ``(k,)`` 0-based category index.
    categories
        Category names in index order.
    """

    images: NDArray[np.float32]
    split: NDArray[np.int64]
    date: NDArray[np.int64]
    line0: NDArray[np.int64]
    pixel0: NDArray[np.int64]
    boxes: list[NDArray[np.float64]]
    labels: list[NDArray[np.int64]]
    categories: list[str]

    def subset(self, split: int) -> DetectionChips:
        """The chips of one split."""
        idx = np.flatnonzero(self.split == split)
        return DetectionChips(
            self.images[idx],
            self.split[idx],
            self.date[idx],
            self.line0[idx],
            self.pixel0[idx],
            [self.boxes[i] for i in idx],
            [self.labels[i] for i in idx],
            self.categories,
        )


def mask_to_rle(mask: NDArray[np.bool_]) -> dict[str, Any]:
    """COCO uncompressed RLE: run lengths over the column-major mask, starting with a run of zeros."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    edges = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(edges).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"counts": [int(c) for c in counts], "size": [int(mask.shape[0]), int(mask.shape[1])]}


def rle_to_mask(rle: dict[str, Any]) -> NDArray[np.bool_]:
    """Inverse of :func:`mask_to_rle`."""
    h, w = rle["size"]
    vals = np.zeros(h * w, bool)
    pos = 0
    for k, c in enumerate(rle["counts"]):
        if k % 2:
            vals[pos : pos + c] = True
        pos += c
    return vals.reshape((h, w), order="F")


def split_blocks(
    shape: tuple[int, int],
    block: int,
    keep: NDArray[np.bool_],
    seed: int,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
) -> NDArray[np.int64]:
    """Split code of every cell of a ``shape`` grid: whole ``block`` x ``block`` blocks, only blocks with a kept cell.

    Blocks are shuffled with ``seed`` and given to train/validation/test by largest
    remainders of ``fractions`` (each split at least one block when there are three).
    """
    br = np.arange(shape[0])[:, None] // block
    bc = np.arange(shape[1])[None, :] // block
    bid = br * (shape[1] // block + 1) + bc
    used = np.unique(bid[keep])
    rng = np.random.default_rng(seed)
    order = rng.permutation(used.size)
    raw = np.asarray(fractions) / sum(fractions) * used.size
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: used.size - counts.sum()]:
        counts[i] += 1
    for i in range(3):
        if counts[i] == 0 and used.size >= 3:
            counts[i] = 1
            counts[int(np.argmax(counts))] -= 1
    codes = np.repeat([1, 2, 3], counts)
    table = dict(zip(used[order].tolist(), codes.tolist(), strict=True))
    out = np.zeros(shape, np.int64)
    for (r, c), b in np.ndenumerate(bid):
        if keep[r, c]:
            out[r, c] = table[int(b)]
    return out


def _look(a: NDArray[Any], looks: tuple[int, int], how: str) -> NDArray[Any]:
    la, lr = looks
    L, W = a.shape[0] // la * la, a.shape[1] // lr * lr
    v = a[:L, :W].reshape(L // la, la, W // lr, lr)
    return v.mean(axis=(1, 3)) if how == "mean" else v.max(axis=(1, 3))


def _sigma0_vv(safe: Path) -> NDArray[np.float64]:
    import warnings

    import sarbd
    from sarbd.products.calibration import calibrate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scene = sarbd.open_product(safe)
        return np.asarray(
            calibrate(scene, "VV", "sigma0", remove_noise=False).values, dtype=np.float64
        )


@dataclass
class LabelSource:
    """Where detection labels came from: what the COCO info, the STAC item and the GeoJSON say.

    Attributes
    ----------
    name
        Item id prefix (scene or dataset name).
    category_ids
        ``{category name: COCO id}`` (ids from 1).
    dates
        Per date index ``{"datetime": ISO 8601 UTC, "product": name, "href": link}``.
    features
        Every labelled object as ``(lon/lat shapely geometry, properties)``; the
        properties hold ``category`` and ``date`` (index).
    extent
        The labels' area (lon/lat shapely geometry): the item's geometry.
    contributor, description
        COCO ``info.contributor`` and STAC ``label:description``.
    origin
        ``(first_line, first_pixel)`` of the looked grid's sample 0 in the root grid.
    """

    name: str
    category_ids: dict[str, int]
    dates: list[dict[str, str]]
    features: list[tuple[Any, dict[str, Any]]]
    extent: Any
    contributor: str
    description: str
    origin: tuple[int, int] = (0, 0)


@dataclass
class DateLayers:
    """One date's looked layers: the chips are cut from these.

    ``db``: sigma0 (or intensity) in dB; ``instances``: instance id per looked pixel
    (the largest id of its samples; 0 none); ``keep``: the chip-grid cells kept (e.g.
    enough open sea); ``category``: ``{instance id: category index}``.
    """

    date: int
    db: NDArray[np.float32]
    instances: NDArray[np.integer[Any]]
    keep: NDArray[np.bool_]
    category: dict[int, int]


def chip_fractions(fraction: NDArray[np.floating[Any]], chip_size: int) -> NDArray[np.float64]:
    """Mean of a looked ``fraction`` layer over each cell of the ``chip_size`` chip grid (edges trimmed)."""
    nr, nc = fraction.shape[0] // chip_size, fraction.shape[1] // chip_size
    f = np.asarray(fraction[: nr * chip_size, : nc * chip_size], dtype=np.float64)
    return f.reshape(nr, chip_size, nc, chip_size).mean(axis=(1, 3))


def cut_chips(
    layers: list[DateLayers],
    categories: list[str],
    *,
    chip_size: int,
    min_pixels: int,
    block: int,
    seed: int,
    where: str | Path,
) -> tuple[DetectionChips, list[list[dict[str, Any]]]]:
    """Chips of every date, each object's mask and box in every chip holding ``min_pixels`` of it.

    The spatial split is one for all dates (:func:`split_blocks` of the chip grid over
    the cells any date keeps).

    Raises
    ------
    InputError
        No chip is kept (``where`` is named in the message).
    """
    keep_grid = None
    for lay in layers:
        nr, nc = lay.db.shape[0] // chip_size, lay.db.shape[1] // chip_size
        if nr == 0 or nc == 0:
            raise InputError(
                f"looked image {lay.db.shape} smaller than one {chip_size}-pixel chip", path=where
            )
        keep_grid = lay.keep if keep_grid is None else keep_grid | lay.keep
    if keep_grid is None or not keep_grid.any():
        raise InputError(f"no {chip_size}-pixel chip is kept (none on the chip region)", path=where)
    grid_split = split_blocks(keep_grid.shape, block, keep_grid, seed)
    images: list[NDArray[np.float32]] = []
    rec: list[tuple[int, int, int]] = []
    objects: list[list[dict[str, Any]]] = []
    for lay in layers:
        inst, cat_of = lay.instances, lay.category
        # every object's pixel count on the whole date, once (not one full-image pass per chip)
        ids, sizes = np.unique(inst[inst > 0], return_counts=True)
        size_of = dict(zip(ids.tolist(), sizes.tolist(), strict=True))
        for r, c in zip(*np.nonzero(lay.keep), strict=True):
            l0, p0 = int(r) * chip_size, int(c) * chip_size
            chip = lay.db[l0 : l0 + chip_size, p0 : p0 + chip_size]
            ci = inst[l0 : l0 + chip_size, p0 : p0 + chip_size]
            objs = []
            for oid in np.unique(ci[ci > 0]):
                m = ci == oid
                n_in = int(m.sum())
                if n_in < min_pixels or int(oid) not in cat_of:
                    continue
                rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
                objs.append(
                    {
                        "instance_id": int(oid),
                        "category": cat_of[int(oid)],
                        "mask": m,
                        "box": [
                            float(cols[0]),
                            float(rows[0]),
                            float(cols[-1] + 1),
                            float(rows[-1] + 1),
                        ],
                        "truncated": bool(n_in < size_of[int(oid)]),
                    }
                )
            images.append(chip)
            rec.append((lay.date, l0, p0))
            objects.append(objs)
    split = np.array([grid_split[lo // chip_size, po // chip_size] for _, lo, po in rec], np.int64)
    chips = DetectionChips(
        np.stack(images).astype(np.float32),
        split,
        np.array([r[0] for r in rec], np.int64),
        np.array([r[1] for r in rec], np.int64),
        np.array([r[2] for r in rec], np.int64),
        [np.array([o["box"] for o in objs], np.float64).reshape(-1, 4) for objs in objects],
        [np.array([o["category"] for o in objs], np.int64) for objs in objects],
        list(categories),
    )
    return chips, objects


def build_detection_dataset(
    scene_dir: str | Path,
    out_dir: str | Path,
    *,
    chip_size: int = 64,
    looks: tuple[int, int] = (1, 4),
    min_sea: float = 0.5,
    min_pixels: int = 4,
    block: int = 2,
    seed: int = 0,
) -> DetectionChips:
    """Write the detection labels of a simulated scene with targets (see the module docstring).

    Raises
    ------
    InputError
        The scene has no ``truth/targets/targets.json`` (simulate with targets) or
        no chip is on open sea.
    """
    import warnings

    import rasterio

    scene_dir = Path(scene_dir)
    meta_file = scene_dir / "truth" / "targets" / "targets.json"
    if not meta_file.is_file():
        raise InputError(
            "no detection targets in this scene",
            path=meta_file,
            hint="simulate with targets, e.g. `sarbd simulate --targets`",
        )
    meta = json.loads(meta_file.read_text())
    cats = sorted(meta["categories"], key=lambda k: meta["categories"][k])
    cat_index = {c: i for i, c in enumerate(cats)}
    layers = []
    for entry in meta["dates"]:
        d = int(entry["date"])
        sig = _sigma0_vv(scene_dir / entry["safe"])
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", rasterio.errors.NotGeoreferencedWarning
            )  # radar geometry
            with rasterio.open(scene_dir / "truth" / "targets" / entry["instances"]) as src:
                inst_full, sea_full = src.read(1), src.read(2)
        if inst_full.shape != sig.shape:
            raise InputError(
                f"instance raster {inst_full.shape} does not match the SLC {sig.shape}",
                path=scene_dir / "truth" / "targets" / entry["instances"],
            )
        db = (10.0 * np.log10(np.maximum(_look(sig, looks, "mean"), 1e-6))).astype(np.float32)
        sea = _look(sea_full.astype(np.float64), looks, "mean")
        if db.shape[0] < chip_size or db.shape[1] < chip_size:
            raise InputError(
                f"looked image {db.shape} smaller than one {chip_size}-pixel chip", path=scene_dir
            )
        layers.append(
            DateLayers(
                d,
                db,
                _look(inst_full, looks, "max"),
                chip_fractions(sea, chip_size) >= min_sea,
                {o["id"]: cat_index[o["category"]] for o in entry["objects"]},
            )
        )
    try:
        chips, objects = cut_chips(
            layers,
            cats,
            chip_size=chip_size,
            min_pixels=min_pixels,
            block=block,
            seed=seed,
            where=scene_dir,
        )
    except InputError:
        raise InputError(
            f"no {chip_size}-pixel chip has {min_sea:.0%} open sea", path=scene_dir
        ) from None
    source = _simulated_source(meta, scene_dir)
    write_detection_folder(Path(out_dir), chips, objects, source, looks, chip_size)
    return chips


def _simulated_source(meta: dict[str, Any], scene_dir: Path) -> LabelSource:
    """The :class:`LabelSource` of a simulated scene's ``truth/targets/targets.json``."""
    import shapely
    from shapely import wkt

    from sarbd.simulate.imaging import _to_map

    feats = []
    for entry in meta["dates"]:
        for o in entry["objects"]:
            props = {k: v for k, v in o.items() if not k.startswith("geometry")}
            props.update(
                {
                    "date": entry["date"],
                    "datetime": entry["epoch"][:19] + "Z",
                    "safe": entry["safe"],
                }
            )
            feats.append((wkt.loads(o["geometry_lonlat_wkt"]), props))
    _, inv = _to_map(meta["crs"])
    sea = wkt.loads(meta["sea_wkt"])
    sea_ll = shapely.transform(sea, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))
    return LabelSource(
        name=scene_dir.name,
        category_ids=dict(meta["categories"]),
        dates=[
            {
                "datetime": e["epoch"][:19] + "Z",
                "product": e["safe"],
                "href": f"../{scene_dir.name}/{e['safe']}",
            }
            for e in meta["dates"]
        ],
        features=feats,
        extent=shapely.box(*sea_ll.bounds),
        contributor="sarbd.simulate (known truth)",
        description=(
            "Ships and oil slicks placed by the sarbd simulator (known truth), one "
            "feature per object and date; per-chip boxes and masks in COCO and YOLO "
            "format beside this item"
        ),
    )


def _chip_name(d: int, l0: int, p0: int) -> str:
    return f"d{d}_l{l0:05d}_p{p0:05d}"


def write_detection_folder(
    out: Path,
    chips: DetectionChips,
    objects: list[list[dict[str, Any]]],
    source: LabelSource,
    looks: tuple[int, int],
    size: int,
) -> None:
    """Write ``out`` atomically: ``chips.npz``, COCO, YOLO, ``labels.geojson`` and the STAC label item."""
    from sarbd.utils.files import atomic_output

    with atomic_output(out, directory=True) as tmp:
        _write_formats(tmp, chips, objects, source, looks, size)


def _write_formats(
    root: Path,
    chips: DetectionChips,
    objects: list[list[dict[str, Any]]],
    source: LabelSource,
    looks: tuple[int, int],
    size: int,
) -> None:
    from PIL import Image

    np.savez_compressed(
        root / "chips.npz",
        images=chips.images,
        split=chips.split,
        date=chips.date,
        line0=chips.line0,
        pixel0=chips.pixel0,
        looks=np.array(looks),
    )
    categories = [
        {"id": source.category_ids[c], "name": c, "supercategory": "target"}
        for c in chips.categories
    ]
    ann_id = 1
    counts = {c: 0 for c in chips.categories}
    for code, name in SPLITS.items():
        (root / "images" / name).mkdir(parents=True)
        (root / "labels" / name).mkdir(parents=True)
        coco: dict[str, Any] = {
            "info": {
                "description": f"sarbd detection chips ({name} split) of {source.name}",
                "version": "1",
                "contributor": source.contributor,
            },
            "images": [],
            "annotations": [],
            "categories": categories,
        }
        for i in np.flatnonzero(chips.split == code):
            d, l0, p0 = int(chips.date[i]), int(chips.line0[i]), int(chips.pixel0[i])
            fname = _chip_name(d, l0, p0)
            lo, hi = _DB_RANGE
            png = (
                np.clip((chips.images[i] - lo) / (hi - lo) * 255.0, 0, 255).round().astype(np.uint8)
            )
            Image.fromarray(png).save(root / "images" / name / f"{fname}.png")
            image_id = int(i) + 1
            coco["images"].append(
                {
                    "id": image_id,
                    "file_name": f"images/{name}/{fname}.png",
                    "width": size,
                    "height": size,
                    "sarbd:date": d,
                    "sarbd:datetime": source.dates[d]["datetime"],
                    "sarbd:line0": source.origin[0] + l0 * looks[0],
                    "sarbd:pixel0": source.origin[1] + p0 * looks[1],
                    "sarbd:looks": list(looks),
                    "sarbd:product": source.dates[d]["product"],
                }
            )
            lines = []
            for o in objects[i]:
                x0, y0, x1, y1 = o["box"]
                cname = chips.categories[o["category"]]
                counts[cname] += 1
                coco["annotations"].append(
                    {
                        "id": ann_id,
                        "image_id": image_id,
                        "category_id": source.category_ids[cname],
                        "bbox": [x0, y0, x1 - x0, y1 - y0],
                        "area": int(o["mask"].sum()),
                        "iscrowd": 0,
                        "segmentation": mask_to_rle(o["mask"]),
                        "sarbd:instance_id": o["instance_id"],
                        "sarbd:truncated": o["truncated"],
                    }
                )
                ann_id += 1
                lines.append(
                    f"{o['category']} {(x0 + x1) / 2 / size:.6f} {(y0 + y1) / 2 / size:.6f} "
                    f"{(x1 - x0) / size:.6f} {(y1 - y0) / size:.6f}"
                )
            (root / "labels" / name / f"{fname}.txt").write_text("".join(f"{s}\n" for s in lines))
        (root / f"coco_{name}.json").write_text(json.dumps(coco))
    names = "".join(f"  {i}: {c}\n" for i, c in enumerate(chips.categories))
    (root / "data.yaml").write_text(
        f"# YOLO (ultralytics) dataset file\npath: .\ntrain: images/train\n"
        f"val: images/validation\ntest: images/test\nnames:\n{names}"
    )
    item, geojson = label_item(source, counts)
    (root / "labels.geojson").write_text(json.dumps(geojson))
    (root / "item.json").write_text(json.dumps(item, indent=1))
    errors = validate_label_item(item)
    if errors:
        raise InputError(
            "the detection label item does not validate: " + "; ".join(errors[:3]),
            path=root / "item.json",
        )


def label_item(
    source: LabelSource, counts: dict[str, int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The STAC label item (vector, detection + segmentation) and its GeoJSON of every object."""
    import shapely

    feats = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": props}
        for g, props in source.features
    ]
    env = source.extent
    epochs = sorted(e["datetime"] for e in source.dates)
    item = {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": [LABEL_EXTENSION],
        "id": f"{source.name}-detection-labels",
        "geometry": shapely.geometry.mapping(env),
        "bbox": list(env.bounds),
        "properties": {
            "datetime": None,
            "start_datetime": epochs[0],
            "end_datetime": epochs[-1],
            "label:type": "vector",
            "label:tasks": ["detection", "segmentation"],
            "label:properties": ["category"],
            "label:methods": ["automated"],
            "label:description": source.description,
            "label:classes": [{"name": "category", "classes": sorted(counts)}],
            "label:overviews": [
                {
                    "property_key": "category",
                    "counts": [{"name": k, "count": int(v)} for k, v in sorted(counts.items())],
                }
            ],
        },
        "links": [
            {
                "rel": "source",
                "href": e["href"],
                "type": "application/xml",
                "title": f"SAR product of date {d}",
            }
            for d, e in enumerate(source.dates)
        ],
        "assets": {
            "labels": {
                "href": "./labels.geojson",
                "type": "application/geo+json",
                "roles": ["labels"],
                "title": "every object's polygon (lon/lat)",
            },
            "coco_train": {
                "href": "./coco_train.json",
                "type": "application/json",
                "roles": ["labels"],
            },
            "coco_validation": {
                "href": "./coco_validation.json",
                "type": "application/json",
                "roles": ["labels"],
            },
            "coco_test": {
                "href": "./coco_test.json",
                "type": "application/json",
                "roles": ["labels"],
            },
            "yolo": {"href": "./data.yaml", "type": "application/yaml", "roles": ["labels"]},
        },
    }
    # JSON round trip: shapely's mappings hold tuples, which JSON Schema does not count as arrays
    return json.loads(json.dumps(item)), json.loads(
        json.dumps({"type": "FeatureCollection", "features": feats})
    )


def validate_label_item(item: dict[str, Any]) -> list[str]:
    """Errors of ``item`` against the official STAC item and label extension schemas (offline); [] if valid."""
    from sarbd.export.validate import _core_uri, _schema_errors

    return _schema_errors(item, _core_uri(item)) + _schema_errors(item, LABEL_EXTENSION)


def load_detection_dataset(folder: str | Path) -> DetectionChips:
    """Read ``chips.npz`` and the COCO files written by :func:`build_detection_dataset`."""
    folder = Path(folder)
    f = folder / "chips.npz"
    if not f.is_file():
        raise InputError("not a detection label folder (no chips.npz)", path=folder)
    z = np.load(f)
    n = z["images"].shape[0]
    boxes: list[list[list[float]]] = [[] for _ in range(n)]
    labels: list[list[int]] = [[] for _ in range(n)]
    cats: list[str] = []
    for name in SPLITS.values():
        coco = json.loads((folder / f"coco_{name}.json").read_text())
        cats = [c["name"] for c in sorted(coco["categories"], key=lambda c: c["id"])]
        ids = {c["id"]: k for k, c in enumerate(sorted(coco["categories"], key=lambda c: c["id"]))}
        for a in coco["annotations"]:
            i = a["image_id"] - 1
            x, y, w, h = a["bbox"]
            boxes[i].append([x, y, x + w, y + h])
            labels[i].append(ids[a["category_id"]])
    return DetectionChips(
        z["images"],
        z["split"],
        z["date"],
        z["line0"],
        z["pixel0"],
        [np.array(b, np.float64).reshape(-1, 4) for b in boxes],
        [np.array(lab, np.int64) for lab in labels],
        cats,
    )
