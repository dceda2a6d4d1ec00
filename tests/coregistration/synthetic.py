"""A small synthetic repeat-pass stack with exact geometry (for pipeline tests).

The ground's complex reflectivity is a band-limited function ``C`` of the *reference*
radar coordinates (a sum of tones). The reference image is ``C(i, j)``; the secondary
pixel ``(l, p)`` sees the ground point ``P`` (rdr2geo on the secondary orbit with the
DEM) that the reference sees at ``xi = (i, j)`` (geo2rdr on the reference orbit), so its
value is ``C(xi) * exp(-j 4 pi (R_sec - R_ref) / lambda) * exp(j phi_res(xi))``, the
propagation phase difference plus a known residual phase. Hence the true offsets, the
true geometric phase and the true residual phase are all known exactly.
"""

from __future__ import annotations

import numpy as np
from affine import Affine

from sarbd.core import RadarGrid, Scene
from sarbd.core.scene import ArrayPixelSource
from sarbd.geometry import Dem, geo2rdr, rdr2geo

from .conftest import EPOCH, ToneImage, make_orbit


def make_dem(ref_orbit, grid: RadarGrid, hill: float = 300.0) -> Dem:
    g = grid.with_epoch(ref_orbit.reference_epoch)
    t = g.line_to_azimuth_time(np.linspace(0, g.length - 1, 5))[:, None]
    r = g.pixel_to_slant_range(np.linspace(0, g.width - 1, 5))[None, :]
    lat, lon, _ = rdr2geo(t + 0 * r, r + 0 * t, ref_orbit, height=0.0)
    w, e, s, n = lon.min() - 0.05, lon.max() + 0.05, lat.min() - 0.05, lat.max() + 0.05
    ny, nx = 300, 300
    dx, dy = (e - w) / nx, (n - s) / ny
    yy, xx = np.meshgrid(
        n - (np.arange(ny) + 0.5) * dy, w + (np.arange(nx) + 0.5) * dx, indexing="ij"
    )
    cy, cx = lat.mean(), lon.mean()
    rr = ((yy - cy) / (0.25 * (n - s))) ** 2 + ((xx - cx) / (0.25 * (e - w))) ** 2
    data = 50.0 + hill * np.exp(-rr) + 20.0 * np.sin(xx * 300.0)
    return Dem.from_array(data, Affine(dx, 0, w, 0, -dy, n), "EPSG:4326")


def make_pair(shape=(240, 300), sec_shift=(3.3, -4.6), residual=0.8, seed=3, max_freq=0.3):
    """Reference and secondary scenes, DEM and truth (offsets, residual phase)."""
    ref_orbit = make_orbit()
    sec_orbit = make_orbit(a=7.07e6 + 120.0, raan=0.3 + 1.0e-5)
    dt, dr = 2.055556e-3, 2.329562 * 4
    grid = RadarGrid(EPOCH, 100.0, dt, 850_000.0, dr, shape[0], shape[1], 0.05546576)
    sec_grid = RadarGrid(
        EPOCH,
        100.0 + sec_shift[0] * dt,
        dt,
        850_000.0 + sec_shift[1] * dr,
        dr,
        shape[0],
        shape[1],
        0.05546576,
    )
    dem = make_dem(ref_orbit, grid)
    tone = ToneImage(24, max_freq, seed)

    def res_phase(i, j):
        return residual * np.sin(2 * np.pi * i / shape[0]) * np.cos(2 * np.pi * j / shape[1])

    # secondary pixels -> ground -> reference coordinates
    ll, pp = np.meshgrid(
        np.arange(shape[0], dtype=float), np.arange(shape[1], dtype=float), indexing="ij"
    )
    lat, lon, h = rdr2geo(
        sec_grid.line_to_azimuth_time(ll), sec_grid.pixel_to_slant_range(pp), sec_orbit, height=dem
    )
    tr, rr, ok = geo2rdr(lat, lon, h, ref_orbit)
    xi_l = grid.azimuth_time_to_line(tr)
    xi_p = grid.slant_range_to_pixel(rr)
    r_sec = sec_grid.pixel_to_slant_range(pp)
    sec = (
        tone(xi_l, xi_p)
        * np.exp(-4j * np.pi * (r_sec - rr) / grid.wavelength)
        * np.exp(1j * res_phase(xi_l, xi_p))
    )
    sec = np.where(ok, sec, 0).astype(np.complex64)
    ref = tone.grid(shape)
    ref_scene = Scene(
        grid,
        ref_orbit,
        ("VV",),
        {"source_path": "synthetic-ref"},
        ArrayPixelSource({"VV": ref}),
        None,
        (64, 128),
    )
    sec_scene = Scene(
        sec_grid,
        sec_orbit,
        ("VV",),
        {"source_path": "synthetic-sec"},
        ArrayPixelSource({"VV": sec}),
        None,
        (64, 128),
    )
    return ref_scene, sec_scene, dem, res_phase, tone
