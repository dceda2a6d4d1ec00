"""A synthetic, analytic test scene: circular orbit, zero-Doppler grid, and map polygons
built from radar coordinates with rdr2geo, so their exact radar footprint is known."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.core import Orbit, RadarGrid

OMEGA_E = 7.2921151467e-5  # rad/s, WGS84 Earth rotation rate
GM = 3.986004418e14


def circular_orbit(
    epoch: np.datetime64,
    duration: float = 120.0,
    alt: float = 693e3,
    inc_deg: float = 98.18,
    raan: float = 0.2,
    u0: float = 0.0,
) -> Orbit:
    """A circular orbit (analytic, ECEF), state vectors every 1 s; u0 = argument of latitude at t=0."""
    a = 6378137.0 + alt
    n = np.sqrt(GM / a**3)
    t = np.arange(0.0, duration + 1e-9, 1.0)
    u = u0 + n * t
    inc = np.radians(inc_deg)
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
    th = -OMEGA_E * t
    c, s = np.cos(th), np.sin(th)

    def rz(v):
        return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]], -1)

    r_e = rz(r_i)
    v_e = rz(v_i) - np.cross([0.0, 0.0, OMEGA_E], r_e)
    times = epoch + (t * 1e9).astype("timedelta64[ns]")
    return Orbit(times, r_e, v_e, source="analytic")


@pytest.fixture(scope="session")
def scene():
    """(grid, orbit): a 200 x 400 Sentinel-1-like grid at about 52.5 N, right-looking."""
    epoch = np.datetime64("2022-02-14T05:40:00", "ns")
    # argument of latitude chosen so the scene lies at mid-northern latitudes
    orbit = circular_orbit(epoch, u0=np.radians(52.0))
    grid = RadarGrid(
        epoch,
        sensing_start=60.0,
        azimuth_time_interval=2.0e-3,
        starting_range=850_000.0,
        range_pixel_spacing=2.33,
        length=200,
        width=400,
        wavelength=0.05546576,
        look_side="right",
    )
    return grid, orbit


def radar_rectangle_polygon(grid, orbit, l0, l1, p0, p1, height=0.0, step=0.1):
    """Lon/lat polygon whose radar image at ``height`` is the rectangle lines l0..l1, pixels p0..p1."""
    import shapely

    from sarbd.geometry import rdr2geo

    g = grid.with_epoch(orbit.reference_epoch)
    nl = max(int(np.ceil((l1 - l0) / step)), 1)
    npx = max(int(np.ceil((p1 - p0) / step)), 1)
    sl = np.linspace(l0, l1, nl + 1)
    sp = np.linspace(p0, p1, npx + 1)
    lines = np.concatenate([sl, np.full(npx, l1), sl[::-1][1:], np.full(npx - 1, l0)])
    pixels = np.concatenate([np.full(nl + 1, p0), sp[1:], np.full(nl, p1), sp[::-1][1:-1]])
    lat, lon, _ = rdr2geo(
        g.line_to_azimuth_time(lines),
        g.pixel_to_slant_range(pixels),
        orbit,
        height=height,
        look_side=g.look_side,
    )
    return shapely.Polygon(np.c_[lon, lat])


def stack_dataset(grid, orbit, height: float):
    """A minimal dataset in the stack layout (docs/formats.md): grid attrs, orbit, height layer."""
    from sarbd.core.serialization import orbit_to_dataset

    ds = orbit_to_dataset(orbit)
    ds = ds.assign(
        height=(("line", "pixel"), np.full(grid.shape, height, np.float32)),
        layover_shadow_mask=(("line", "pixel"), np.zeros(grid.shape, np.uint8)),
    )
    ds = ds.assign_coords(line=np.arange(grid.length), pixel=np.arange(grid.width))
    ds.attrs.update(grid.to_attrs())
    ds.attrs["orbit_reference_epoch"] = str(orbit.reference_epoch)
    return ds
