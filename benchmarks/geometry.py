"""Benchmark: rdr2geo / geo2rdr throughput on a full Sentinel-1 IW burst grid.

A synthetic Sentinel-1-like orbit (circular, 693 km altitude, 10 s state vectors)
and an IW burst grid (1500 lines x 25000 pixels, 2.056 ms, 2.33 m) are geolocated

1. exactly per pixel at a constant height (all layers: lat/lon/height, incidence,
   local incidence, heading, look angle, LOS vector);
2. exactly per pixel on a synthetic DEM (hills up to 800 m; DEM iteration plus
   layover/shadow mask);
3. on a coarse grid + bicubic interpolation (the interpolation error is printed);

and the resulting lat/lon/height rasters go back through geo2rdr (exact per pixel
and coarse + interpolation). Printed: wall-clock time, total CPU time of all threads
(on a shared machine, CPU time / cores is the estimate for dedicated cores), and the
process's peak resident memory. Numba compilation is excluded (a warm-up run on a small
grid first).

Usage::

    python benchmarks/geometry.py                 # full burst
    python benchmarks/geometry.py --lines 300     # a fifth of a burst
    NUMBA_NUM_THREADS=2 taskset -c 0,1 python benchmarks/geometry.py   # pin 2 cores
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np


def _orbit(epoch: np.datetime64):  # type: ignore[no-untyped-def]
    from sarbd.core import Orbit

    gm, we, a, inc, raan, u0 = 3.986004418e14, 7.2921151467e-5, 7.07e6, np.radians(98.18), 0.3, 0.9
    t = np.arange(0.0, 200.0 + 1e-9, 10.0)
    n = np.sqrt(gm / a**3)
    u = u0 + n * t
    r_pf = np.stack([a * np.cos(u), a * np.sin(u), 0 * u], -1)
    v_pf = np.stack([-a * n * np.sin(u), a * n * np.cos(u), 0 * u], -1)
    ci, si, cr, sr = np.cos(inc), np.sin(inc), np.cos(raan), np.sin(raan)
    q = np.array([[cr, -sr * ci, sr * si], [sr, cr * ci, -cr * si], [0.0, si, ci]])
    r_i, v_i = r_pf @ q.T, v_pf @ q.T
    c, s = np.cos(-we * t), np.sin(-we * t)

    def rz(v: np.ndarray) -> np.ndarray:
        return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]], -1)

    r_e = rz(r_i)
    v_e = rz(v_i) - np.cross([0.0, 0.0, we], r_e)
    return Orbit(
        epoch + (t * 1e9).astype("timedelta64[ns]"),
        r_e,
        v_e,
        reference_epoch=epoch,
        source="simulated",
    )


def _grid(epoch: np.datetime64, lines: int, pixels: int):  # type: ignore[no-untyped-def]
    from sarbd.core import RadarGrid

    return RadarGrid(
        reference_epoch=epoch,
        sensing_start=90.0,
        azimuth_time_interval=2.055556e-3,
        starting_range=800_000.0,
        range_pixel_spacing=2.329562,
        length=lines,
        width=pixels,
        wavelength=0.05546576,
        look_side="right",
    )


def _hills(ds):  # type: ignore[no-untyped-def]
    """A DEM of smooth hills (0..800 m) over the footprint, 1 arcsecond spacing."""
    from rasterio.transform import from_origin

    from sarbd.geometry import Dem

    w, e = float(ds.longitude.min()) - 0.05, float(ds.longitude.max()) + 0.05
    s, n = float(ds.latitude.min()) - 0.05, float(ds.latitude.max()) + 0.05
    step = 1.0 / 3600
    lon = w + step * (np.arange(int((e - w) / step)) + 0.5)
    lat = n - step * (np.arange(int((n - s) / step)) + 0.5)
    h = 400.0 + 400.0 * np.sin(lat[:, None] * 60.0) * np.cos(lon[None, :] * 45.0)
    return Dem.from_array(h, from_origin(w, n, step, step), description="synthetic hills")


def _horizontal(a, b) -> float:  # type: ignore[no-untyped-def]
    from sarbd.core.ellipsoid import llh_to_ecef

    pa = llh_to_ecef(a.latitude.values, a.longitude.values, a.height.values)
    pb = llh_to_ecef(b.latitude.values, b.longitude.values, a.height.values)
    return float(np.nanmax(np.linalg.norm(pa - pb, axis=-1)))


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1500)
    parser.add_argument("--pixels", type=int, default=25000)
    parser.add_argument("--coarse", type=int, nargs=2, default=(64, 512), metavar=("DL", "DP"))
    parser.add_argument("--skip-dem", action="store_true", help="skip the DEM case")
    args = parser.parse_args()

    import dask
    import numba

    from sarbd.geometry import geo2rdr_grid, rdr2geo_grid

    dask.config.set(scheduler="synchronous")  # Numba kernels are parallel themselves
    epoch = np.datetime64("2022-09-18T07:49:00", "ns")
    orbit = _orbit(epoch)
    grid = _grid(epoch, args.lines, args.pixels)
    npx = grid.length * grid.width
    print(
        f"grid {grid.length} x {grid.width} = {npx / 1e6:.1f} Mpixel; numba threads "
        f"{numba.get_num_threads()}; cpus {os.cpu_count()}; affinity {len(os.sched_getaffinity(0))}"
    )

    # warm-up: compile every kernel on a tiny grid
    small = _grid(epoch, 20, 50)
    w = rdr2geo_grid(small, orbit, height=0.0).compute()
    rdr2geo_grid(small, orbit, height=0.0, coarse_step=(8, 16)).compute()
    geo2rdr_grid(w.latitude, w.longitude, w.height, small, orbit).compute()
    geo2rdr_grid(w.latitude, w.longitude, w.height, small, orbit, coarse_step=(8, 16)).compute()
    rdr2geo_grid(small, orbit, dem=_hills(w)).compute()

    def run(label: str, fn):  # type: ignore[no-untyped-def]
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"{label:<46s} wall {dt:7.2f} s ({npx / dt / 1e6:5.2f} Mpx/s)  CPU {cpu:7.2f} s "
            f"({cpu / npx * 1e9:5.0f} ns/px)  peak RSS {_peak_rss_mib():6.0f} MiB"
        )
        return out

    exact = run(
        "rdr2geo exact, constant height (all layers)",
        lambda: rdr2geo_grid(grid, orbit, height=100.0).compute(),
    )
    coarse = run(
        f"rdr2geo coarse {args.coarse[0]}x{args.coarse[1]} + bicubic",
        lambda: rdr2geo_grid(
            grid, orbit, height=100.0, coarse_step=tuple(args.coarse), max_interpolation_error=0.01
        ).compute(),
    )
    print(
        f"    coarse step used {coarse.attrs['coarse_step']}, max interpolation error: "
        f"{_horizontal(exact, coarse) * 1000:.2f} mm horizontal (checked at cell centres: "
        f"{coarse.attrs['interpolation_max_horizontal_error_m'] * 1000:.2f} mm), incidence "
        f"{float(np.nanmax(np.abs(exact.incidence_angle - coarse.incidence_angle))):.2e} deg"
    )
    del coarse
    if not args.skip_dem:
        dem = _hills(exact)
        with_dem = run(
            "rdr2geo exact on a DEM (+ layover/shadow mask)",
            lambda: rdr2geo_grid(grid, orbit, dem=dem).compute(),
        )
        print(f"    converged {float(with_dem.converged.mean()) * 100:.3f} %")
        del with_dem
    lat, lon, h = exact.latitude.values, exact.longitude.values, exact.height.values
    g = run("geo2rdr exact (per pixel)", lambda: geo2rdr_grid(lat, lon, h, grid, orbit).compute())
    line = np.arange(grid.length)[:, None]
    pixel = np.arange(grid.width)[None, :]
    print(
        f"    max |line error| {np.nanmax(np.abs(g.radar_line.values - line)):.2e}, "
        f"|pixel error| {np.nanmax(np.abs(g.radar_pixel.values - pixel)):.2e}, "
        f"not converged {int((~g.converged.values).sum())}"
    )
    gc = run(
        f"geo2rdr coarse {args.coarse[0]}x{args.coarse[1]} + bicubic",
        lambda: geo2rdr_grid(lat, lon, h, grid, orbit, coarse_step=tuple(args.coarse)).compute(),
    )
    print(
        f"    coarse step used {gc.attrs['coarse_step']}, max interpolation error: line "
        f"{np.nanmax(np.abs(gc.radar_line.values - g.radar_line.values)):.2e}, pixel "
        f"{np.nanmax(np.abs(gc.radar_pixel.values - g.radar_pixel.values)):.2e}"
    )


if __name__ == "__main__":
    main()
