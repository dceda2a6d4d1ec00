"""Real GMTSAR metadata: a Sentinel-1A IW1 PRM and its LED orbit (gmtsar/gmtsar test data, GPL-3.0).

Source: ``tests/stacks/data/gmtsar_s1a_20150526/README.md``. The pixels are not in the
repository: the SLC is a sparse file of the size the PRM states, with one block written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.geometry import rdr2geo
from sarbd.stacks import open_stack
from sarbd.stacks.base import orbit_from_positions

DATA = Path(__file__).parent / "data" / "gmtsar_s1a_20150526"


def _stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    for f in DATA.glob("S1A*"):
        shutil.copy(f, tmp_path / f.name)
    slc = tmp_path / "S1A20150526_F1.SLC"
    with open(slc, "wb") as fh:
        fh.truncate(12196 * 87712)  # num_lines x bytes_per_line, sparse
        block = np.arange(2 * 3 * 4, dtype="<i2").reshape(3, 4, 2)
        for k in range(3):  # lines 100..102, samples 200..203
            fh.seek((100 + k) * 87712 + 200 * 4)
            fh.write(block[k].tobytes())
    return open_stack(tmp_path, "gmtsar", reference="S1A20150526_F1"), block


def test_grid_orbit_and_pixels(tmp_path):
    stack, block = _stack(tmp_path)
    g = stack.reference.radar_grid
    assert g.shape == (12196, 21928) and g.look_side == "right"
    # SC_clock_start 2015145.0761027229: GMTSAR's day 145 counts from 0, so 26 May (the file's name)
    t0 = np.datetime64("2015-05-26", "ns") + np.timedelta64(round(0.0761027229 * 86400e9), "ns")
    assert abs((g.sensing_start_datetime - t0) / np.timedelta64(1, "us")) < 10
    assert np.isclose(
        g.range_pixel_spacing, 2.329562, atol=1e-6
    )  # Sentinel-1 IW: c / (2 * 64.345 MHz)
    assert np.isclose(g.azimuth_time_interval, 1 / 486.486315) and g.starting_range == 799926.604746
    assert g.wavelength == 0.0554658
    o = stack.reference.orbit
    assert len(o) == 28 and o.times[0] == np.datetime64("2015-05-26T01:47:34", "ns")
    assert o.covers(g.line_to_datetime(0)[()], g.line_to_datetime(g.length - 1)[()])
    speed = np.linalg.norm(o.velocities, axis=1)
    assert np.all(np.abs(speed - 7590) < 30)  # m/s, Sentinel-1's ~693 km orbit
    # the positions alone give the LED's velocities (the Doris path): real-data check, < 1 mm/s
    derived = orbit_from_positions(o.times, o.positions, source="t", path="x")
    assert np.max(np.abs(derived.velocities - o.velocities)) < 1e-3
    got = stack.reference.crop(100, 200, 3, 4).slc("VV").values
    assert np.array_equal(got, (block[..., 0] + 1j * block[..., 1]).astype(np.complex64))


def test_incidence_is_that_of_iw1(tmp_path):
    """Near/far incidence of the grid on the ellipsoid: IW1 spans about 30.9-36.6 deg (ESA S1 user guide)."""
    stack, _ = _stack(tmp_path)
    g = stack.reference.radar_grid
    o = stack.reference.orbit.with_epoch(g.reference_epoch)
    t = float(g.line_to_azimuth_time((g.length - 1) / 2))
    ranges = g.pixel_to_slant_range(np.array([0.0, g.width - 1.0]))
    lat, lon, h = rdr2geo(np.full(2, t), ranges, o, height=0.0)
    p = llh_to_ecef(lat, lon, h)
    s = o.position(np.array([t]))[0]
    up = np.stack(
        [
            np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
            np.cos(np.radians(lat)) * np.sin(np.radians(lon)),
            np.sin(np.radians(lat)),
        ],
        axis=-1,
    )
    look = (s - p) / np.linalg.norm(s - p, axis=1, keepdims=True)
    inc = np.degrees(np.arccos(np.sum(look * up, axis=1)))
    assert 29.5 < inc[0] < 32.5 and 35.0 < inc[1] < 38.0
