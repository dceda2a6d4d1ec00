"""The main job on the embedded default: simulate -> build -> train -> report.

Everything runs through the real code paths: the simulator writes Sentinel-1 SAFE
products, a DEM and reference vectors with realistic errors; ``sarbd build`` reads
them like any user's data; the ANN baseline trains on the dataset folder; the report
reads what was written. Because the simulator knows the truth, the demo also reports
how pure each label level is.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from sarbd.errors import ConfigError
from sarbd.pipeline.config import BuildConfig, load_config

__all__ = [
    "DEMO_L1_RULES",
    "SCENE_CONFIG",
    "TRUTH_MAPS",
    "demo_config",
    "label_purity",
    "run_full_demo",
    "task_labels_config",
    "write_scene_config",
]

#: SARbd-L1 rules for the simulated scene. The thresholds lie half-way between the C-band
#: signatures the simulator documents (``sarbd.simulate.config.CLASSES``: sigma0 VV / VH in dB,
#: and the mean 12-day coherence ``gamma_inf + (gamma0 - gamma_inf) exp(-12 / tau)``) of the
#: classes each rule has to separate:
#:
#: ========== ======= ======= =========
#: class      VV dB   VH dB   coh. 12 d
#: ========== ======= ======= =========
#: building     2.0    -8.0     0.95
#: road       -17.0   -25.0     0.85
#: railway     -8.0   -16.0     0.80
#: water      -20.0   -27.0     0.00
#: vegetation  -7.5   -13.0     0.18
#: field      -10.0   -17.0     0.39
#: bare       -12.0   -21.0     0.74
#: ========== ======= ======= =========
#:
#: Open water is dark in both polarisations and incoherent; buildings are bright and stable;
#: asphalt is dark but coherent; bare soil is coherent between the two; vegetation and
#: fields are incoherent and differ in backscatter. The coherence threshold under 0.3 allows
#: for the estimator's bias at low coherence. Railway has no rule: its signature (bright and
#: coherent) is that of building sidelobes and layover at Sentinel-1 resolution. The rules
#: use the temporal (speckle-filtered) statistics. See docs/labels.md.
DEMO_L1_RULES: tuple[tuple[str, str], ...] = (
    (
        "water",
        "backscatter_mean_db_vv < -18.5 and backscatter_mean_db_vh < -23 and coherence_mean_vv < 0.3",
    ),
    ("building", "backscatter_mean_db_vv > -3 and coherence_mean_vv > 0.8"),
    (
        "road",
        "backscatter_mean_db_vv < -14.5 and backscatter_mean_db_vh < -21 and coherence_mean_vv > 0.6",
    ),
    (
        "bare",
        "backscatter_mean_db_vv > -14.5 and backscatter_mean_db_vv < -11 and backscatter_mean_db_vh < -19"
        " and coherence_mean_vv > 0.56",
    ),
    (
        "vegetation",
        "backscatter_mean_db_vv > -8.75 and backscatter_mean_db_vv < -3"
        " and backscatter_mean_db_vh > -15 and coherence_mean_vv < 0.29",
    ),
    (
        "field",
        "backscatter_mean_db_vv > -11 and backscatter_mean_db_vv < -8.75 and backscatter_mean_db_vh > -19"
        " and backscatter_mean_db_vh < -15 and coherence_mean_vv > 0.29 and coherence_mean_vv < 0.56",
    ),
)

#: Variables the demo writes as COGs (the full catalogue is in dataset.zarr/.nc; writing
#: every signature of every date as a COG would dominate the demo's run time).
DEMO_COGS: tuple[str, ...] = (
    "label_l1",
    "label_l2",
    "label_l3",
    "quality_flags",
    "split",
    "sigma0_db_vv",
    "sigma0_db_vh",
    "coherence_vv",
    "entropy_vv_vh",
    "backscatter_mean_db_vv",
    "amplitude_dispersion_vv",
)

#: The demo stores its signatures bit-rounded to 7 mantissa bits (relative error <= 2^-8 = 0.39 %:
#: 0.017 dB on a linear power, up to 0.18 dB on a dB value near -46 dB; docs/outputs.md,
#: "Quantisation"), well below single-look speckle (5.6 dB), which keeps the ``small`` demo
#: folder under 1.5 GB (1.4 GB; 2.9 GB lossless); lossless float32 is the build's default.
DEMO_KEEPBITS = 7

#: Class-balanced draws per ANN epoch (20 epochs): about the number of L3 training pixels of
#: ``tiny``, a ninth of those of ``small`` (~880 000), which keeps its training near a minute.
_SAMPLES_PER_EPOCH = {"tiny": 20_000, "small": 100_000}

#: Per size: chip sizes and split block (blocks must hold a chip plus the buffer).
_CHIPS = {
    "tiny": ([32], 48),
    "small": ([64], 128),
    "burst": ([64, 256], 288),
    "burst_quarter": ([64, 256], 288),
    "aoi3": ([64, 256], 288),
}


def demo_config(scene: Any, directory: Path, *, size: str, seed: int) -> dict[str, Any]:
    """The build configuration (as YAML-ready dict) for a simulated scene."""
    from sarbd.simulate.config import CLASSES

    sizes, block = _CHIPS.get(size, ([64], 128))
    return {
        "inputs": {
            "products": [str(p) for p in scene.safe],
            "polarizations": ["VV", "VH"],
            "dem": str(scene.dem),
            "reference": [
                {
                    "path": str(scene.reference_gpkg),
                    "height_field": "height",
                    "width_field": "width",
                }
            ],
            "classes": [c.name for c in sorted(CLASSES, key=lambda c: c.code)],
        },
        "labels": {"l1_rules": [{"class_name": c, "expression": e} for c, e in DEMO_L1_RULES]},
        "chips": {"sizes": sizes, "block": block, "buffer": 8, "seed": seed},
        "outputs": {
            "directory": str(directory),
            "name": f"sarbd-demo-{size}",
            "cog_variables": list(DEMO_COGS),
            "authors": ["sarbd demo (simulated data)"],
            "quantize": {"keepbits": DEMO_KEEPBITS},
        },
    }


#: File name of the build configuration ``sarbd simulate`` writes into the scene folder.
SCENE_CONFIG = "build.yaml"


def write_scene_config(scene: Any, *, size: str, seed: int) -> Path:
    """Write a ready build configuration into the scene folder (``<scene>/build.yaml``).

    Paths in it are relative to the scene folder, so the folder can be moved; the dataset
    goes beside the scene, to ``<scene>-sarbd``. Returns the file written.
    """
    from sarbd.utils.files import atomic_output

    root = Path(scene.root)
    cfg = demo_config(scene, Path(f"../{root.name}-sarbd"), size=size, seed=seed)

    def rel(path: Any) -> str:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()

    inputs = cfg["inputs"]
    # a class the scene has no reference feature of (e.g. the railway under the open sea of a
    # --targets scene) has no fraction to label with: the build would stop on it
    present = _reference_classes(Path(scene.reference_gpkg))
    inputs["classes"] = [c for c in inputs["classes"] if c in present]
    inputs["products"] = [rel(p) for p in inputs["products"]]
    inputs["dem"] = rel(inputs["dem"])
    for layer in inputs["reference"]:
        layer["path"] = rel(layer["path"])
    cfg["outputs"]["name"] = f"{root.name}-sarbd"
    cfg["outputs"]["authors"] = ["sarbd simulate (simulated data)"]
    cfg["labels"].update(task_labels_config(root, size=size))
    header = (
        f"# Build configuration for the simulated scene in this folder (written by sarbd simulate,\n"
        f"# size {size}, seed {seed}). Paths are relative to this file. Run:\n"
        f"#   sarbd build {root.name}/{SCENE_CONFIG}\n"
    )
    path = root / SCENE_CONFIG
    with atomic_output(path) as tmp:
        tmp.write_text(header + yaml.safe_dump(cfg, sort_keys=False))
    return path


def _reference_classes(gpkg: Path) -> set[str]:
    """Layers (classes) of the simulator's reference GeoPackage that hold at least one feature."""
    import geopandas as gpd
    import pyogrio

    out = set()
    for name, _ in pyogrio.list_layers(gpkg):
        if len(gpd.read_file(gpkg, layer=name, rows=1)):
            out.add(str(name))
    return out


def task_labels_config(root: Path, *, size: str) -> dict[str, Any]:
    """``labels.detection`` / ``labels.change`` for a scene simulated with targets / changes.

    They name the reference files the simulator writes beside its truth
    (``truth/targets/reference_targets.geojson`` and ``sea.geojson``,
    ``truth/changes/reference_changes.geojson``), relative to the scene folder; ships'
    outlines are grown by the impulse response's main-lobe half-width the simulator
    used (``targets.json``), as their image is wider than their hull. Empty for a scene
    without either.
    """
    from sarbd.simulate.targets import REFERENCE_TARGETS, SEA_REGION

    out: dict[str, Any] = {}
    targets = root / "truth" / "targets"
    if (targets / REFERENCE_TARGETS).is_file():
        meta = json.loads((targets / "targets.json").read_text())
        out["detection"] = {
            "reference": f"truth/targets/{REFERENCE_TARGETS}",
            "class_field": "category",
            "categories": sorted(meta["categories"], key=lambda k: meta["categories"][k]),
            "id_field": "id",
            "date_field": "datetime",
            "height_field": "height_m",
            "grow": {
                "ship": [
                    round(float(meta["psf_margin_lines"]), 4),
                    round(float(meta["psf_margin_pixels"]), 4),
                ]
            },
            "region": f"truth/targets/{SEA_REGION}",
            "chip_size": 32 if size == "tiny" else 64,
            "looks": [1, 1],
        }
    if (root / "truth" / "changes" / "reference_changes.geojson").is_file():
        out["change"] = {
            "reference": "truth/changes/reference_changes.geojson",
            "date_field": "change_date",
            "chip_size": 16,
            "looks": [2, 2],
        }
    return out


#: The simulator's two truth maps on the radar grid (docs/simulator.md, "Truth"): the class
#: dominating each pixel's expected signal power, and the class with the largest ground area.
TRUTH_MAPS = {"signal": "signal_class_map_radar.tif", "ground_area": "class_map_radar.tif"}


def label_purity(
    dataset_dir: Path, truth_dir: Path, classes: list[dict[str, Any]]
) -> dict[str, Any]:
    """Per-class precision and share of L2 kept of each label level against each truth map.

    Returns ``{"signal": DataFrame, "ground_area": DataFrame}``
    (:func:`sarbd.dataset.labels.level_precision`). The signal truth is the one a label
    should match: where a roof lays over the ground in front of it, the pixel shows the roof.
    """
    import warnings

    import rasterio
    import xarray as xr

    from sarbd.dataset.labels import level_precision

    ds = xr.open_zarr(dataset_dir / "dataset.zarr")
    lines, pixels = ds["line"].values, ds["pixel"].values
    levels = {name: ds[name].values for name in ("label_l1", "label_l2", "label_l3") if name in ds}
    tables = {}
    for key, name in TRUTH_MAPS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(truth_dir / name) as src:
                truth = src.read(1)
        tables[key] = level_precision(truth[lines][:, pixels], levels, classes)
    return tables


def run_full_demo(out: Path, size: str = "small", seed: int = 0, console: Any = None) -> int:
    """Simulate a scene, build the dataset, train the ANN baseline, write the report.

    Returns the exit status (0).
    """
    from rich.console import Console

    if size not in ("tiny", "small"):
        raise ConfigError(f"unknown demo size {size!r}", hint="use --size tiny or --size small")
    console = console or Console()
    with _progress_logging():
        return _run_full_demo(out, size, seed, console)


@contextlib.contextmanager
def _progress_logging() -> Iterator[None]:
    """INFO messages of the ``sarbd`` logger (simulation tiles, epochs) for the demo's duration,
    so progress stays visible between the stage lines; ``-q`` and ``-v`` keep their level."""
    import logging

    from sarbd.utils.log import configure_logging, is_quiet

    logger = logging.getLogger("sarbd")
    level = logger.level
    if not is_quiet() and (level == logging.NOTSET or level > logging.INFO):
        if not logger.handlers:
            configure_logging(1)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(level)


def _run_full_demo(out: Path, size: str, seed: int, console: Any) -> int:
    from sarbd.ml import format_summary, train_run
    from sarbd.pipeline.run import run_build
    from sarbd.report import write_report
    from sarbd.simulate import simulate_scene
    from sarbd.utils.files import claim_folder

    # a new folder, or one an earlier demo wrote: the demo never writes into a user's folder
    out = claim_folder(
        Path(out).resolve(), accept=("demo_summary.json", "demo.yaml"), what="demo folder"
    )
    t0 = time.perf_counter()

    console.rule(f"sarbd demo ({size}, seed {seed})")
    console.print(
        "[bold]1/4 simulate[/bold] a 7-date dual-pol Sentinel-1-like scene with known truth"
    )
    scene = simulate_scene(out / "scene", size=size, dates=7, seed=seed)
    t_sim = time.perf_counter() - t0

    console.print("[bold]2/4 build[/bold] the SARbd dataset (sarbd build)")
    cfg_dict = demo_config(scene, out / "dataset", size=size, seed=seed)
    cfg_file = out / "demo.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg_dict, sort_keys=False))
    config: BuildConfig = load_config(cfg_file)
    result = run_build(config, console=console)
    t_build = time.perf_counter() - t0 - t_sim

    console.print(
        "[bold]3/4 train[/bold] the AlignSAR dense ANN on SARbd-L3, evaluate on held-out blocks"
    )
    run_dir = out / "run-ann"
    # 20 epochs of 100k class-balanced draws: the paper's balanced recipe at a cost that keeps
    # the small demo within minutes on 2 cores
    metrics = train_run(
        result.directory,
        run_dir,
        model="ann",
        level="L3",
        seed=seed,
        epochs=20,
        samples_per_epoch=_SAMPLES_PER_EPOCH[size],
    )
    t_train = time.perf_counter() - t0 - t_sim - t_build

    console.print("[bold]4/4 report[/bold]")
    report = write_report(result.directory, out / "report.html", run=run_dir)
    classes = [{"id": i + 1, "name": n} for i, n in enumerate(config.inputs.classes)]
    purity = label_purity(result.directory, scene.truth_dir, classes)
    purity["signal"].to_csv(out / "label_purity.csv")
    purity["ground_area"].to_csv(out / "label_purity_ground_area.csv")
    total = time.perf_counter() - t0

    counts = result.summary.get("class_counts") or {}
    console.rule("summary")
    console.print(f"scene (SAFE, DEM, reference, truth): {scene.root}")
    console.print(f"dataset:  {result.directory}")
    console.print(f"model:    {run_dir}")
    console.print(f"report:   {report}")
    if counts:
        console.print("class counts per level:")
        console.print(json.dumps(counts, indent=1))
    console.print(
        "label precision against the simulator's truth, all classes pooled (share of L2 kept):"
    )
    for key, label in (
        ("signal", "class dominating the pixel's signal"),
        ("ground_area", "class with the largest ground area"),
    ):
        row = purity[key].loc["all"]
        console.print(
            f"  {label}: "
            + "  ".join(
                f"{lv[6:].upper()} {row[f'{lv}_precision']:.3f}"
                for lv in ("label_l1", "label_l2", "label_l3")
            )
            + f"  (L3 keeps {row['label_l3_kept']:.2f})"
        )
    console.print(format_summary(metrics))
    console.print(
        f"time: {total:.0f} s (simulate {t_sim:.0f} s, build {t_build:.0f} s, "
        f"train+evaluate {t_train:.0f} s)"
    )
    (out / "demo_summary.json").write_text(
        json.dumps(
            {
                "seconds": {"total": total, "simulate": t_sim, "build": t_build, "train": t_train},
                "class_counts": counts,
                "label_purity": {
                    k: json.loads(v.to_json(orient="index")) for k, v in purity.items()
                },
                "headline": {
                    k: metrics["protocols"]["spatial"].get(k)
                    for k in ("overall_accuracy", "cohen_kappa", "macro_f1")
                },
                "paths": {
                    "scene": str(scene.root),
                    "dataset": str(result.directory),
                    "run": str(run_dir),
                    "report": str(report),
                },
            },
            indent=2,
            default=str,
        )
    )
    return 0
