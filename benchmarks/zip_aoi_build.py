"""Benchmark (with assertions) an AOI build from zipped SAFE products: bytes read from the zips.

Usage: python benchmarks/zip_aoi_build.py [--scene DIR | --size tiny] [--mode tops]
                                          [--aoi L0 P0 LINES PIXELS] [--contrast] [--keep DIR]
Zips every SAFE folder of a simulated scene (``--scene``: a scene folder written by
``benchmarks/build.py --scene-cache``; else one of ``--size`` is simulated) without
compression, as ESA does for the measurement TIFFs, and builds the dataset of an AOI
window from the zips. The ingest and coregister stages are where the products are read;
the bytes read from the build's start to the end of coregister (``rchar`` of
/proc/self/io: everything the process read, the products' opening included) must stay
proportional to the AOI: at most ``PASSES`` times what one direct read of the AOI window
costs (:func:`sarbd.products.sources.read_tiff_window`, measured here on one member: GDAL
reads whole strips, i.e. whole lines, through the zip layer's 4 KiB blocks) for every
date and polarisation, plus ``OVERHEAD_BYTES``; nothing may be unpacked. A warm-up build
of another window comes first, so that module, Numba cache and GDAL driver reads are not
counted. ``--contrast`` builds again with ``inputs.verify_zip: always`` (the CRC-32 pass
streams each measurement member once) to show the difference. Linux only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

#: Reads of each product's AOI window the coregister stage may make (the reference window and
#: the secondary's resampling source with its kernel margin, the offset refinement's patches,
#: the burst-overlap reads of ESD).
PASSES = 4
#: Allowed bytes read besides: annotation/calibration/noise XML, TIFF headers and strip
#: tables, the DEM window.
OVERHEAD_BYTES = 8 * 2**20


def _rchar() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar"))


def _zip_safe(folder: Path, dst: Path) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, f"{folder.name}/{p.relative_to(folder).as_posix()}")
    return dst


class ReadMeter:
    """Bytes read from the start of the build (the products are opened there, before the
    first stage) to the end of each stage, from the build's ``on_stage`` callbacks."""

    def __init__(self) -> None:
        self.start = _rchar()
        self.read: dict[str, int] = {}

    def __call__(self, name: str, state: str) -> None:
        if state == "done":
            self.read[name] = _rchar() - self.start


def _build(
    scene: Any, zips: list[Path], out: Path, size: str, aoi: list[int], verify: str
) -> ReadMeter:
    import yaml

    from sarbd.pipeline.build import build
    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.demo import demo_config

    cfg = demo_config(scene, out, size=size, seed=0)
    cfg["inputs"]["products"] = [str(z) for z in zips]
    cfg["inputs"]["verify_zip"] = verify
    cfg["aoi"] = {"window": aoi}
    cfg["chips"]["sizes"] = [16]
    cfg["chips"]["block"] = 32
    cfg_file = out.parent / f"{out.name}.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    meter = ReadMeter()
    build(load_config(cfg_file), on_stage=meter)
    return meter


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scene", type=Path, default=None, help="simulated scene folder")
    parser.add_argument(
        "--size", default="tiny", help="size of the scene simulated without --scene"
    )
    parser.add_argument("--mode", default="tops", choices=["stripmap", "tops"])
    parser.add_argument(
        "--aoi",
        type=int,
        nargs=4,
        default=None,
        metavar=("L0", "P0", "LINES", "PIXELS"),
        help="AOI window in the reference grid (default: the middle tenth of lines, fifth of pixels)",
    )
    parser.add_argument(
        "--contrast", action="store_true", help="also build with verify_zip: always"
    )
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from sarbd.products import open_product
    from sarbd.simulate import simulate_scene
    from sarbd.simulate.api import SimulatedScene

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if args.scene is None:
            scene = simulate_scene(root / "scene", size=args.size, dates=7, seed=0, mode=args.mode)
        else:
            s = args.scene
            scene = SimulatedScene(
                s,
                tuple(sorted(s.glob("*.SAFE"))),
                s / "dem.tif",
                s / "reference.gpkg",
                s / "truth.gpkg",
                s / "truth",
                None,
            )  # type: ignore[arg-type]
        zdir = root / "zips"
        zdir.mkdir(exist_ok=True)
        t = time.perf_counter()
        zips = [_zip_safe(f, zdir / f"{f.name}.zip") for f in scene.safe]
        zip_bytes = sum(z.stat().st_size for z in zips)
        tiff_bytes = 0
        for z in zips:
            with zipfile.ZipFile(z) as zf:
                tiff_bytes += sum(
                    i.file_size for i in zf.infolist() if "/measurement/" in i.filename
                )
        ref = open_product(zips[0], verify_zip=False)
        L, W = ref.radar_grid.shape
        aoi = args.aoi or [int(L * 0.45), int(W * 0.4), max(16, L // 10), max(32, W // 5)]
        from sarbd.products.sources import read_tiff_window

        member = next(iter(ref.pixels.paths.values()))  # type: ignore[union-attr]
        read_tiff_window(member, (0, 1), (0, 1))
        r = _rchar()
        read_tiff_window(member, (aoi[0], aoi[0] + aoi[2]), (aoi[1], aoi[1] + aoi[3]))
        one_read = _rchar() - r
        members = len(zips) * len(ref.polarizations)
        print(
            f"{len(zips)} zips ({zip_bytes / 2**20:.1f} MiB, zipped in {time.perf_counter() - t:.1f} s), "
            f"scene {L} x {W}, AOI window {aoi} ({100 * aoi[2] * aoi[3] / (L * W):.1f} % of the pixels): "
            f"one direct read of it from a zip reads {one_read / 2**20:.2f} MiB "
            f"(its {aoi[2]} lines are {aoi[2] * W * 4 / 2**20:.2f} MiB of strips), x {members} members"
        )
        warm = [max(0, aoi[0] - aoi[2]), max(0, aoi[1] - aoi[3]), aoi[2], aoi[3]]
        _build(scene, zips, root / "warm-up", args.size, warm, "never")
        runs = [("auto", root / "dataset")] + (
            [("always", root / "dataset-crc")] if args.contrast else []
        )
        got_auto = 0
        for verify, out in runs:
            t = time.perf_counter()
            meter = _build(scene, zips, out, args.size, aoi, verify)
            got = meter.read["coregister"]
            print(
                f"verify_zip {verify}: opening the products, ingest and coregister read {got / 2**20:.1f} MiB "
                f"({100 * got / zip_bytes:.1f} % of the zips; build {time.perf_counter() - t:.1f} s)"
            )
            if verify == "auto":
                got_auto = got
                bound = PASSES * members * one_read + OVERHEAD_BYTES
                assert got <= bound, f"read {got} bytes, more than the bound {bound}"
                unpacked = [p for p in root.rglob("*.tiff") if scene.root not in p.parents]
                assert not unpacked, f"measurement TIFFs were unpacked: {unpacked[:3]}"
                print(
                    f"  OK: {got / (members * one_read):.1f} x a direct AOI read per member, everything "
                    f"included (bound {PASSES} x + {OVERHEAD_BYTES / 2**20:.0f} MiB = {bound / 2**20:.1f} MiB)"
                )
            else:
                # the CRC-32 pass streams every measurement member once on top of the AOI reads
                assert got >= got_auto + 0.9 * tiff_bytes, (got, got_auto, tiff_bytes)
                print(
                    f"  the CRC pass read {(got - got_auto) / 2**20:.1f} MiB more "
                    f"(the measurement members: {tiff_bytes / 2**20:.1f} MiB)"
                )


if __name__ == "__main__":
    main()
