"""A simulated coregistered stack with a Sentinel-1-like geometry (sarbd.simulate.orbit).

Three dates 12 days apart on an exact-repeat orbit, the secondaries displaced by
+-150 m cross-track and 20 m radially. The reference SLC is circular Gaussian speckle;
each secondary is the reference times ``exp(-j phi_geom)``, with the geometric phase
``phi_geom = -4 pi / lambda (R_ref - R_sec)`` of the ellipsoid (height 0) computed here
pixel by pixel with rdr2geo/geo2rdr, so that a correctly flattened interferogram has
zero phase and unit coherence everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid


@dataclass
class SimStack:
    grid: RadarGrid  # the reference grid
    orbits: list[Orbit]  # one per date, reference first
    starts: list[np.datetime64]  # first-line UTC time of each date
    slc: dict[str, list[NDArray[np.complex64]]]  # pol -> one array per date
    phase: list[NDArray[np.float64]]  # geometric phase of each date (0 for the reference)

    @property
    def days(self) -> list[str]:
        return [str(np.datetime64(t, "D")).replace("-", "") for t in self.starts]


def _simulate(
    pols: tuple[str, ...], scale: float, shape: tuple[int, int] = (48, 64), phases: bool = True
) -> SimStack:
    from sarbd.core.ellipsoid import llh_to_ecef
    from sarbd.geometry import geo2rdr, rdr2geo
    from sarbd.simulate.orbit import design_orbit, make_orbit, offset_elements

    epoch = np.datetime64("2020-01-10T05:43:12", "ns")
    el = design_orbit(45.0, 10.0, 0.0, 35.0, pass_direction="descending")
    ati, dr, wl = 1 / 1717.128973878037, 2.329562114715323, 0.05546576
    target = llh_to_ecef(np.array([45.0]), np.array([10.0]), np.array([0.0]))[0]
    orbits, starts = [], []
    for k, (cross, radial) in enumerate([(0.0, 0.0), (150.0, 20.0), (-150.0, -20.0)]):
        e = el if k == 0 else offset_elements(el, cross, radial)
        day_epoch = epoch + np.timedelta64(12 * k, "D")
        orbits.append(make_orbit(e, day_epoch, -40.0, 40.0, spacing=10.0))
        starts.append(
            day_epoch + np.timedelta64(round((-shape[0] / 2 * ati + 1.25e-3 * k) * 1e9), "ns")
        )
    r_target = float(np.linalg.norm(orbits[0].position(np.array([0.0]))[0] - target))
    grid = RadarGrid(
        reference_epoch=epoch,
        sensing_start=(starts[0] - epoch) / np.timedelta64(1, "s"),
        azimuth_time_interval=ati,
        starting_range=r_target - shape[1] / 2 * dr,
        range_pixel_spacing=dr,
        length=shape[0],
        width=shape[1],
        wavelength=wl,
    )
    geometric = [np.zeros(shape)]
    if phases:  # (benchmarks skip it: per-pixel rdr2geo/geo2rdr on large grids is slow)
        t = grid.line_to_azimuth_time(np.arange(shape[0]))[:, None] * np.ones((1, shape[1]))
        r = grid.pixel_to_slant_range(np.arange(shape[1]))[None, :] * np.ones((shape[0], 1))
        lat, lon, h = rdr2geo(t, r, orbits[0], height=0.0)
        for o in orbits[1:]:
            _, rs, ok = geo2rdr(lat, lon, h, o)
            assert np.all(ok)
            geometric.append(-4 * np.pi / wl * (r - rs))
    else:
        geometric += [np.zeros(shape)] * (len(orbits) - 1)
    rng = np.random.default_rng(17)
    slc: dict[str, list[NDArray[np.complex64]]] = {}
    for pol in pols:
        ref = (rng.normal(size=shape) + 1j * rng.normal(size=shape)) * scale
        slc[pol] = [(ref * np.exp(-1j * ph)).astype(np.complex64) for ph in geometric]
    return SimStack(grid, orbits, starts, slc, geometric)


@pytest.fixture(scope="session")
def sim_stack() -> SimStack:
    """Dual-pol (VV, VH), float pixels of unit scale."""
    return _simulate(("VV", "VH"), 1.0)


@pytest.fixture(scope="session")
def sim_stack_int16() -> SimStack:
    """Single-pol VV with amplitudes of a few thousand DN, for complex int16 formats."""
    s = _simulate(("VV",), 2000.0)
    s.slc["VV"] = [np.round(a.real) + 1j * np.round(a.imag) for a in s.slc["VV"]]
    s.slc["VV"] = [a.astype(np.complex64) for a in s.slc["VV"]]
    return s
