"""Detection labels, change labels and the time series as products of `sarbd build`.

One tiny simulated scene with ships, oil slicks and land changes (3 dates; ``--changes``
makes the dates share one geometry) is built through the `build.yaml` that
`sarbd simulate` writes; the products are checked against the simulator's truth.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from sarbd.errors import InputError

TARGETS = {"ships_per_date": 6, "slicks_per_date": 2, "slick_length_m": [150, 600]}
CHANGES = {"new_buildings": 20, "cleared": 6, "floods": 2}
ZERO_BASELINE = {
    "max_baseline_m": 0.0,
    "radial_offset_m": 0.0,
    "timing_error_std_s": 0.0,
    "grid_shift_max": 0.0,
}


@pytest.fixture(scope="module")
def task_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(scene folder, dataset folder)`` of the scene built with its own build.yaml (+ time series)."""
    from sarbd.pipeline.build import build
    from sarbd.pipeline.demo import write_scene_config
    from sarbd.simulate import simulate_scene

    root = tmp_path_factory.mktemp("tasks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scene = simulate_scene(
            root / "scene",
            size="tiny",
            dates=3,
            seed=0,
            targets={"enabled": True, **TARGETS},
            changes={"enabled": True, **CHANGES},
            **ZERO_BASELINE,
        )
    cfg_file = write_scene_config(scene, size="tiny", seed=0)
    cfg = yaml.safe_load(cfg_file.read_text())
    assert set(cfg["labels"]) >= {"detection", "change"}  # written by sarbd simulate
    cfg["outputs"].update({"timeseries": True, "cache": "keep"})
    cfg_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    result = build(cfg_file)
    assert "tasks" in result.recomputed
    return scene.root, result.directory


def test_rebuild_recomputes_nothing(task_build: tuple[Path, Path]) -> None:
    from sarbd.pipeline.build import build

    scene, _ = task_build
    assert build(scene / "build.yaml").recomputed == []


@pytest.mark.slow
def test_compact_cache_reexport_keeps_previous_coherence(
    task_build: tuple[Path, Path], tmp_path: Path
) -> None:
    """After `outputs.cache: compact` pruned the stack, a new export (outputs changed) still
    has the consecutive-date coherence, and the labels come from the tasks stage's cache."""
    from sarbd.pipeline.build import build

    scene, _ = task_build
    cfg = yaml.safe_load((scene / "build.yaml").read_text())
    cfg["outputs"].update({"cache": "compact", "directory": str(tmp_path / "ds")})
    f = scene / "build_compact.yaml"
    f.write_text(yaml.safe_dump(cfg, sort_keys=False))
    build(f)
    cfg["outputs"]["name"] = "renamed"
    f.write_text(yaml.safe_dump(cfg, sort_keys=False))
    again = build(f)
    assert again.recomputed == ["export"]
    ts = xr.open_zarr(tmp_path / "ds" / "timeseries.zarr", consolidated=False)
    assert "coherence_prev_vv" in [str(v) for v in ts["feature"].values]
    assert (tmp_path / "ds" / "detection" / "coco_test.json").is_file()
    assert (tmp_path / "ds" / "change" / "chips.npz").is_file()


def _boxes(dataset: Path) -> dict[tuple[int, int], list[float]]:
    """Each object's box on the root grid, ``(date, id) -> [l0, p0, l1, p1]``, the union of its chips' boxes."""
    out: dict[tuple[int, int], list[float]] = {}
    for name in ("train", "validation", "test"):
        coco = json.loads((dataset / "detection" / f"coco_{name}.json").read_text())
        images = {i["id"]: i for i in coco["images"]}
        for a in coco["annotations"]:
            im = images[a["image_id"]]
            x, y, w, h = a["bbox"]
            l0, p0 = im["sarbd:line0"], im["sarbd:pixel0"]
            b = [l0 + y, p0 + x, l0 + y + h, p0 + x + w]
            key = (im["sarbd:date"], a["sarbd:instance_id"])
            o = out.get(key, b)
            out[key] = [min(o[0], b[0]), min(o[1], b[1]), max(o[2], b[2]), max(o[3], b[3])]
    return out


def _iou(a: list[float], b: list[float]) -> float:
    il = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ip = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = il * ip
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_build_detection_boxes_match_the_truth(task_build: tuple[Path, Path]) -> None:
    from sarbd.dataset.detection_labels import load_detection_dataset, validate_label_item

    scene, dataset = task_build
    truth = json.loads((scene / "truth" / "targets" / "targets.json").read_text())
    boxes = _boxes(dataset)
    ious: dict[str, list[float]] = {"ship": [], "oil_slick": []}
    for entry in truth["dates"]:
        for o in entry["objects"]:
            t = o[
                "bbox_line_pixel"
            ]  # [l0, p0, l1, p1] on the date's grid (= the reference grid here)
            if o["area_px"] < 8 or (entry["date"], o["id"]) not in boxes:
                continue  # too small for a chip's min_pixels, or outside the kept (sea) chips
            ious[o["category"]].append(_iou(t, boxes[(entry["date"], o["id"])]))
    assert len(ious["ship"]) >= 10 and len(ious["oil_slick"]) >= 3
    # slicks are flat polygons: the radarcoded outline is the truth's; ships are a few imaged
    # scatterers whose hull and layover volume (radarcoded) is a little larger than the hull
    # of their image positions (the truth)
    assert np.median(ious["oil_slick"]) > 0.9
    assert np.median(ious["ship"]) > 0.65 and min(ious["ship"]) > 0.4
    # every truth object large enough and on sea is labelled
    n_truth = sum(
        1
        for e in truth["dates"]
        for o in e["objects"]
        if o["area_px"] >= 8 and any(k[1] == o["id"] for k in boxes)  # inside a kept chip
    )
    assert n_truth == len(ious["ship"]) + len(ious["oil_slick"])
    # YOLO lines: one per COCO annotation, class index of the COCO category
    for name in ("train", "validation", "test"):
        coco = json.loads((dataset / "detection" / f"coco_{name}.json").read_text())
        cats = {c["id"]: k for k, c in enumerate(coco["categories"])}
        for im in coco["images"]:
            anns = [a for a in coco["annotations"] if a["image_id"] == im["id"]]
            txt = dataset / "detection" / "labels" / name / f"{Path(im['file_name']).stem}.txt"
            lines = txt.read_text().splitlines()
            assert sorted(int(s.split()[0]) for s in lines) == sorted(
                cats[a["category_id"]] for a in anns
            )
            for a, line in zip(
                sorted(anns, key=lambda a: a["id"]), lines, strict=True
            ):  # written in annotation order
                x, y, w, h = a["bbox"]
                xc, yc, ww, hh = (float(v) for v in line.split()[1:])
                np.testing.assert_allclose(
                    [xc, yc, ww, hh],
                    [(x + w / 2) / 32, (y + h / 2) / 32, w / 32, h / 32],
                    atol=1e-6,
                )
    item = json.loads((dataset / "detection" / "item.json").read_text())
    assert item["properties"]["label:tasks"] == ["detection", "segmentation"]
    assert validate_label_item(item) == []
    chips = load_detection_dataset(dataset / "detection")
    assert set(np.unique(chips.split)) == {1, 2, 3}


def test_build_change_labels_agree_with_the_truth(task_build: tuple[Path, Path]) -> None:
    import rasterio

    from sarbd.dataset.change_labels import load_change_dataset
    from sarbd.simulate.changes import pair_truth

    scene, dataset = task_build
    meta = json.loads((dataset / "change" / "labels.json").read_text())
    assert meta["pairs"] == [[0, 1], [1, 2]] and meta["looks"] == [2, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(scene / "truth" / "changes" / "change_map.tif") as src:
            kmap = src.read(2)
    with np.load(dataset / "change" / "maps.npz") as z:
        maps = {k: z[k] for k in z.files}
    for p, (i, j) in enumerate(meta["pairs"]):
        t = pair_truth(kmap, i, j).astype(np.float64)
        L, W = t.shape[0] // 2 * 2, t.shape[1] // 2 * 2
        truth = t[:L, :W].reshape(L // 2, 2, W // 2, 2).mean(axis=(1, 3)) >= 0.5
        l2, l3 = maps[f"l2_{p}"], maps[f"l3_{p}"]
        assert (maps[f"truth_{p}"] == -1).all()  # a build has no truth
        if (l3 == 1).sum() >= 20:
            # L3 change pixels are truly changed; the reference's digitising errors sit in L2
            assert truth[l3 == 1].mean() > 0.8
            assert truth[l3 == 1].mean() >= truth[l2 == 1].mean() - 0.02
        assert (~truth[l3 == 0]).mean() > 0.98  # L3 no-change is no change
        assert truth[l2 >= 0].sum() > 0 or truth.sum() == 0
    chips = load_change_dataset(dataset / "change")
    assert chips.before.shape[1] == 2 and set(np.unique(chips.split)) == {1, 2, 3}


def test_build_timeseries_previous_coherence(task_build: tuple[Path, Path]) -> None:
    """``coherence_prev`` equals the coherence of consecutive dates computed directly from the stack."""
    from sarbd.insar.coherence import coherence

    _, dataset = task_build
    ts = xr.open_zarr(dataset / "timeseries.zarr", consolidated=False)
    names = [str(f) for f in ts["feature"].values]
    assert {"coherence_prev_vv", "coherence_prev_vh", "coherence_ref_vv"} <= set(names)
    x = ts["x"].values
    prev = x[..., names.index("coherence_prev_vv")]
    assert np.all(prev[:, :, 0] == 1.0)  # the first date has no previous date
    (stack_path,) = (dataset / ".sarbd-cache").glob("coregister-*/stack.zarr")
    stack = xr.open_zarr(stack_path)
    # (0, 1) is the same pair as the stack's coherence to the reference (the dataset's
    # coherence_ref is the signatures' estimate, bit-rounded by the demo settings)
    np.testing.assert_allclose(prev[:, :, 1], stack["coherence_vv"].values[1], atol=1e-6)
    ifg = stack["interferogram_vv"].values.astype(np.complex128)  # r s_k* exp(-j phi_k)
    s = stack["slc_vv"].values.astype(np.complex128)
    window = tuple(
        stack["coherence_vv"].attrs[k] for k in ("coherence_window_line", "coherence_window_pixel")
    )
    r2 = np.abs(s[0]) ** 2
    ok = r2 > 0
    # s_1 s_2* exp(-j (phi_2 - phi_1)) = conj(I_1) I_2 / |r|^2, exactly
    pair = np.where(ok, np.conj(ifg[1]) * ifg[2] / np.where(ok, r2, 1.0), 0.0)
    direct = coherence(pair, np.abs(s[1]) ** 2, np.abs(s[2]) ** 2, window=window)
    # compared where the window holds no zero reference sample (the identity needs r != 0)
    from scipy.ndimage import minimum_filter

    good = minimum_filter(ok, size=(window[0] + 2, window[1] + 2), mode="nearest")
    assert good.mean() > 0.9
    np.testing.assert_allclose(prev[:, :, 2][good], np.asarray(direct)[good], atol=2e-4)


@pytest.mark.slow
def test_train_detection_and_change_on_the_build(
    task_build: tuple[Path, Path], tmp_path: Path
) -> None:
    from sarbd.cli.app import main

    _, dataset = task_build
    for task in ("detection", "change"):
        run = tmp_path / task
        code = main(
            ["train", str(dataset / task), "--task", task, "--epochs", "2", "--out", str(run)]
        )
        assert code == 0
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["task"] == task and "headline" in metrics
    change = json.loads((tmp_path / "change" / "metrics.json").read_text())
    assert "L3" in change["headline"]["split"]  # no truth in built labels: scored against L3


@pytest.fixture(scope="module")
def baseline_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A targets-only scene with the default geometry (baselines, timing errors, shifted grids)."""
    from sarbd.pipeline.build import build
    from sarbd.pipeline.demo import write_scene_config
    from sarbd.simulate import simulate_scene

    root = tmp_path_factory.mktemp("tasks_baseline")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scene = simulate_scene(
            root / "scene", size="tiny", dates=3, seed=0, targets={"enabled": True, **TARGETS}
        )
    cfg_file = write_scene_config(scene, size="tiny", seed=0)
    assert "change" not in yaml.safe_load(cfg_file.read_text())["labels"]
    return scene.root, build(cfg_file).directory


@pytest.mark.slow
def test_build_detection_through_coregistration(baseline_build: tuple[Path, Path]) -> None:
    """Dates on shifted grids: the build's boxes (reference grid) match each date's truth box
    moved onto the reference grid by the simulator's true offsets."""
    scene, dataset = baseline_build
    truth = json.loads((scene / "truth" / "targets" / "targets.json").read_text())
    offsets = xr.open_zarr(scene / "truth" / "truth.zarr")
    l_off, p_off = offsets["offset_line"].values, offsets["offset_pixel"].values
    assert np.abs(l_off[1:]).max() + np.abs(p_off[1:]).max() > 1.0  # the grids do differ
    l_first, p_first = int(offsets["line"].values[0]), int(offsets["pixel"].values[0])
    boxes = _boxes(dataset)
    ious = []
    for entry in truth["dates"]:
        d = entry["date"]
        for o in entry["objects"]:
            if o["area_px"] < 8 or (d, o["id"]) not in boxes:
                continue
            l0, p0, l1, p1 = o["bbox_line_pixel"]  # on date d's own grid
            r = min(max(int((l0 + l1) / 2) - l_first, 0), l_off.shape[1] - 1)
            c = min(max(int((p0 + p1) / 2) - p_first, 0), l_off.shape[2] - 1)
            dl, dp = float(l_off[d, r, c]), float(p_off[d, r, c])
            t = [l0 - dl, p0 - dp, l1 - dl, p1 - dp]
            ious.append(_iou(t, boxes[(d, o["id"])]))
    assert len(ious) >= 12
    assert np.median(ious) > 0.6 and np.mean(np.array(ious) > 0.4) > 0.85


# -- configuration and input checks (fast) --------------------------------------------------


def _config(tmp_path: Path, labels: dict) -> Path:
    safe = tmp_path / "a.SAFE"
    safe.mkdir(exist_ok=True)
    cfg = {"inputs": {"products": [str(safe)]}, "labels": labels}
    f = tmp_path / "build.yaml"
    f.write_text(yaml.safe_dump(cfg))
    return f


def _geojson(path: Path, props: list[dict]) -> Path:
    feats = [
        {
            "type": "Feature",
            "properties": p,
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[5.0, 52.0], [5.001, 52.0], [5.001, 52.001], [5.0, 52.0]]],
            },
        }
        for p in props
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_detection_reference_errors_name_the_file(tmp_path: Path) -> None:
    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.input_files import check_inputs

    missing = load_config(_config(tmp_path, {"detection": {"reference": "nope.geojson"}}))
    with pytest.raises(InputError, match="detection reference file not found") as e:
        check_inputs(missing)
    assert "nope.geojson" in str(e.value)
    ref = _geojson(tmp_path / "t.geojson", [{"category": "ship", "datetime": "yesterday"}])
    bad_time = load_config(_config(tmp_path, {"detection": {"reference": str(ref)}}))
    with pytest.raises(InputError, match="not a date/time") as e:
        check_inputs(bad_time)
    assert "t.geojson" in str(e.value)
    ref = _geojson(
        tmp_path / "u.geojson",
        [{"cls": "ship", "id": 3, "datetime": "2022-02-14T05:40:02Z"}] * 2,
    )
    no_field = load_config(_config(tmp_path, {"detection": {"reference": str(ref)}}))
    with pytest.raises(InputError, match="no attribute 'category'"):
        check_inputs(no_field)
    dup = load_config(
        _config(
            tmp_path, {"detection": {"reference": str(ref), "class_field": "cls", "id_field": "id"}}
        )
    )
    with pytest.raises(InputError, match="unique positive integers"):
        check_inputs(dup)


def test_change_reference_needs_its_date_field(tmp_path: Path) -> None:
    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.input_files import check_inputs, read_change_reference

    ref = _geojson(tmp_path / "c.geojson", [{"when": "2022-02-20T00:00:00Z"}])
    cfg = load_config(_config(tmp_path, {"change": {"reference": str(ref)}}))
    with pytest.raises(InputError, match="no attribute 'change_date'"):
        check_inputs(cfg)
    cfg = load_config(_config(tmp_path, {"change": {"reference": str(ref), "date_field": "when"}}))
    check_inputs(cfg)
    assert read_change_reference(cfg.labels.change)["sarbd_start"].to_numpy()[0] == np.datetime64(
        "2022-02-20T00:00:00", "ns"
    )


def test_config_timeseries_flag_and_sections(tmp_path: Path) -> None:
    from sarbd.errors import ConfigError
    from sarbd.pipeline.config import load_config

    f = _config(tmp_path, {})
    cfg = yaml.safe_load(f.read_text())
    cfg["outputs"] = {"timeseries": True}
    f.write_text(yaml.safe_dump(cfg))
    ts = load_config(f).outputs.timeseries
    assert ts is not None and ts.previous_coherence and ts.chunk == 64
    cfg["outputs"] = {"timeseries": False}
    f.write_text(yaml.safe_dump(cfg))
    assert load_config(f).outputs.timeseries is None
    cfg["labels"] = {"detection": {"reference": "x.gpkg", "looks": [0, 1]}}
    f.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="looks must be >= 1"):
        load_config(f)


def test_match_dates_nearest_within_tolerance() -> None:
    from sarbd.dataset.stack_labels import match_dates

    times = np.array(["2022-02-14T05:40:02", "2022-02-26T05:40:02"], "datetime64[ns]")
    when = np.array(
        ["2022-02-14T05:40:00", "2022-02-26T06:00:00", "2022-02-20T00:00:00"], "datetime64[ns]"
    )
    assert match_dates(times, when, 3600.0).tolist() == [0, 1, -1]
    assert match_dates(times, when, 60.0).tolist() == [0, -1, -1]


def test_in_pair_appear_and_disappear() -> None:
    from sarbd.dataset.stack_labels import in_pair

    t = np.array(["2022-02-14", "2022-02-26", "2022-03-10"], "datetime64[ns]")
    start = np.array(["2022-02-20", "2022-02-26", "2022-01-01", "2022-03-01"], "datetime64[ns]")
    end = np.array(["NaT", "NaT", "2022-02-15", "NaT"], "datetime64[ns]")
    # appeared inside, appeared on the second date (in (t0, t1]), demolished inside, later
    assert in_pair(start, end, t[0], t[1]).tolist() == [True, True, True, False]
    assert in_pair(start, end, t[1], t[2]).tolist() == [False, False, False, True]


def test_pair_labels_hand_case() -> None:
    """L2 from the reference, L3 kept only where the log-ratio or the coherence agree."""
    from sarbd.dataset.change_labels import pair_labels

    frac = np.zeros((12, 12))
    frac[2:6, 2:6] = 1.0  # a changed field in the reference...
    frac[7:11, 7:11] = 1.0  # ...and one whose change the SAR does not show
    i1 = np.ones((1, 12, 12))
    i2 = np.ones((1, 12, 12))
    i2[0, 1:7, 1:7] = 10.0  # +10 dB where the first one is
    coh = np.full((12, 12), 0.9)
    m = pair_labels(frac, i1, i2, coh, buffer_px=1, ratio_db=3.0, coherence_max=0.3)
    assert m.l2[3, 3] == 1 and m.l2[8, 8] == 1 and m.l2[0, 11] == 0
    assert m.l2[2, 2] == -1  # on the outline: ignored
    assert m.l3[3, 3] == 1 and m.l3[8, 8] == -1  # no SAR evidence: not L3
    assert m.l3[0, 11] == 0 and (m.truth == -1).all()
    np.testing.assert_allclose(m.after[0, 3, 3] - m.before[0, 3, 3], 10.0, atol=1e-5)


def test_scene_config_leaves_out_classes_without_features(tmp_path: Path) -> None:
    """A class whose reference layer is empty (the railway under a --targets sea) is not listed."""
    import geopandas as gpd
    from shapely.geometry import box

    from sarbd.pipeline.demo import _reference_classes

    gpkg = tmp_path / "reference.gpkg"
    gpd.GeoDataFrame({"id": [1]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:28992").to_file(
        gpkg, layer="building"
    )
    gpd.GeoDataFrame({"id": []}, geometry=[], crs="EPSG:28992").to_file(gpkg, layer="railway")
    assert _reference_classes(gpkg) == {"building"}
