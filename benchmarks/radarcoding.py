"""Benchmark of vector radarcoding: buildings with heights plus a road network.

Cases
-----
``crop``  940 x 2350 Sentinel-1 IW-like grid (the AlignSAR demo crop size),
          50,000 building polygons (8-30 m, 3-40 m tall) + a road network;
``burst`` 1500 x 25000 grid (one full IW burst), 1,000,000 building polygons
          (generated here, never stored) and the road network.
          Target (issue 14 item 2): under 2 GiB peak.

Prints wall and CPU seconds per phase (projection; rasterisation + derived layers +
writing a Zarr store, as the build does), output pixels per second and peak resident
memory of the whole process (``resource.getrusage``; the generated input vectors are
part of it). The target is the ``crop`` case under 20 s on 2 cores.

Usage::

    python benchmarks/radarcoding.py              # crop case
    python benchmarks/radarcoding.py --case burst
    python benchmarks/radarcoding.py --threads 2 --buildings 50000
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def _circular_orbit(epoch, duration, u0):  # type: ignore[no-untyped-def]
    import numpy as np

    from sarbd.core import Orbit

    gm, we = 3.986004418e14, 7.2921151467e-5
    a = 6378137.0 + 693e3
    n = np.sqrt(gm / a**3)
    t = np.arange(0.0, duration + 1e-9, 1.0)
    u = u0 + n * t
    inc, raan = np.radians(98.18), 0.2
    r_i = a * np.stack(
        [
            np.cos(raan) * np.cos(u) - np.sin(raan) * np.sin(u) * np.cos(inc),
            np.sin(raan) * np.cos(u) + np.cos(raan) * np.sin(u) * np.cos(inc),
            np.sin(u) * np.sin(inc),
        ],
        -1,
    )
    v_i = (
        a
        * n
        * np.stack(
            [
                -np.cos(raan) * np.sin(u) - np.sin(raan) * np.cos(u) * np.cos(inc),
                -np.sin(raan) * np.sin(u) + np.cos(raan) * np.cos(u) * np.cos(inc),
                np.cos(u) * np.sin(inc),
            ],
            -1,
        )
    )
    c, s = np.cos(-we * t), np.sin(-we * t)

    def rz(v):  # type: ignore[no-untyped-def]
        return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]], -1)

    r_e = rz(r_i)
    v_e = rz(v_i) - np.cross([0.0, 0.0, we], r_e)
    return Orbit(epoch + (t * 1e9).astype("timedelta64[ns]"), r_e, v_e, source="analytic")


def _scene(lines: int, pixels: int):  # type: ignore[no-untyped-def]
    import numpy as np

    from sarbd.core import RadarGrid

    epoch = np.datetime64("2022-02-14T05:40:00", "ns")
    orbit = _circular_orbit(epoch, 120.0, np.radians(52.0))
    grid = RadarGrid(
        epoch, 60.0, 2.055556e-3, 850_000.0, 2.329562, lines, pixels, 0.05546576, "right"
    )
    return grid, orbit


def _vectors(grid, orbit, n_buildings: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """Buildings (rotated rectangles with heights) and a jittered road grid in UTM 32N."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from pyproj import Transformer

    from sarbd.radarcode.target import Target

    fp = Target(grid, orbit).footprint()
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True)
    x, y = tr.transform(*np.asarray(fp.exterior.coords).T)
    region = shapely.Polygon(np.c_[x, y])
    x0, y0, x1, y1 = region.bounds
    rng = np.random.default_rng(seed)
    cx = rng.uniform(x0, x1, 3 * n_buildings)
    cy = rng.uniform(y0, y1, 3 * n_buildings)
    inside = shapely.contains_xy(region, cx, cy)
    cx, cy = cx[inside][:n_buildings], cy[inside][:n_buildings]
    w = rng.uniform(8, 30, cx.size)
    d = rng.uniform(8, 20, cx.size)
    th = rng.uniform(0, np.pi, cx.size)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    px = corners[None, :, 0] * w[:, None]
    py = corners[None, :, 1] * d[:, None]
    rx = cx[:, None] + np.cos(th)[:, None] * px - np.sin(th)[:, None] * py
    ry = cy[:, None] + np.sin(th)[:, None] * px + np.cos(th)[:, None] * py
    buildings = gpd.GeoDataFrame(
        {"height": rng.uniform(3, 40, cx.size)},
        geometry=shapely.polygons(np.stack([rx, ry], -1)),
        crs="EPSG:32632",
    )
    roads = []
    spacing = 250.0
    for xv in np.arange(x0, x1, spacing):
        ys = np.linspace(y0, y1, 30)
        roads.append(shapely.LineString(np.c_[xv + rng.normal(0, 15, ys.size), ys]))
    for yv in np.arange(y0, y1, spacing):
        xs = np.linspace(x0, x1, 30)
        roads.append(shapely.LineString(np.c_[xs, yv + rng.normal(0, 15, xs.size)]))
    road_gdf = gpd.GeoDataFrame(
        {"width": rng.choice([5.0, 7.0, 12.0], len(roads))}, geometry=roads, crs="EPSG:32632"
    )
    return buildings, road_gdf


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", choices=["crop", "burst"], default="crop")
    parser.add_argument(
        "--buildings", type=int, default=None, help="number of buildings (default by case)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--lines", type=int, default=None, help="grid lines (default by case; e.g. a shorter burst)"
    )
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    import dask
    import numba
    import xarray as xr

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    dask.config.set(scheduler="threads", num_workers=args.threads)
    from sarbd.radarcode import radarcode

    lines, pixels = (940, 2350) if args.case == "crop" else (1500, 25000)
    lines = args.lines or lines
    n_b = args.buildings or (50_000 if args.case == "crop" else 1_000_000)
    grid, orbit = _scene(lines, pixels)
    t0 = time.perf_counter()
    buildings, roads = _vectors(grid, orbit, n_b)
    t_gen = time.perf_counter() - t0
    # warm-up on a tiny subset so Numba compilation (cached afterwards) is not timed; one block
    # only: the whole burst's outputs in memory (~0.5 GB) would set the peak before radarcoding
    warm = radarcode(
        {"building": buildings.iloc[:50], "road": roads.iloc[:3]}, grid, orbit=orbit, dem=45.0
    )
    warm.isel(line=slice(0, 512), pixel=slice(0, 2048)).compute()
    del warm
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t1 = time.perf_counter()
    ds = radarcode({"building": buildings, "road": roads}, grid, orbit=orbit, dem=45.0)
    t_graph = time.perf_counter() - t1
    r_mid = resource.getrusage(resource.RUSAGE_SELF)
    # the outputs stream to a Zarr store block by block, as the build writes its stage
    with tempfile.TemporaryDirectory(prefix="sarbd-bench-") as tmp:
        ds.to_zarr(Path(tmp) / "reference.zarr", mode="w")
        t_total = time.perf_counter() - t1
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        back = xr.open_zarr(Path(tmp) / "reference.zarr")
        means = {k: float(back[f"fraction_{k}"].mean().compute()) for k in ("building", "road")}

    def cpu(a, b):  # type: ignore[no-untyped-def]
        return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime)

    n_pix = lines * pixels
    print(
        f"case {args.case}: grid {lines} x {pixels}, {len(buildings)} buildings, {len(roads)} road lines, "
        f"{args.threads} threads, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  vector generation       {t_gen:8.2f} s (not part of radarcoding; peak RSS with the warm-up "
        f"{r0.ru_maxrss / 1024.0:6.0f} MiB)"
    )
    print(
        f"  read+project+split      {t_graph:8.2f} s wall {cpu(r0, r_mid):8.2f} s CPU  "
        f"peak RSS so far {r_mid.ru_maxrss / 1024.0:6.0f} MiB"
    )
    print(
        f"  rasterise+derived+write {t_total - t_graph:8.2f} s wall {cpu(r_mid, r1):8.2f} s CPU  "
        f"peak RSS so far {r1.ru_maxrss / 1024.0:6.0f} MiB"
    )
    print(
        f"  total radarcode         {t_total:8.2f} s wall {cpu(r0, r1):8.2f} s CPU  "
        f"({n_pix / t_total / 1e6:.2f} Mpixel/s wall; on a loaded machine wall overstates)"
    )
    print(
        f"  peak resident memory    {r1.ru_maxrss / 1024.0:8.0f} MiB (whole process, input vectors included)"
    )
    print(f"  mean fractions: building {means['building']:.4f}, road {means['road']:.4f}")


if __name__ == "__main__":
    main()
