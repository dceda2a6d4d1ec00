"""Perpendicular and parallel baselines between two acquisitions.

For a target ``P`` seen by the reference at zero-Doppler time ``t1`` (rdr2geo on
the reference grid) and by the secondary at ``t2`` (geo2rdr on the secondary orbit),
the baseline vector is ``B = S2(t2) - S1(t1)``. With ``l`` the unit vector from the
target to the reference satellite and ``n = +-(v1 x l) / |v1 x l|`` the unit vector
orthogonal to ``l`` in the reference zero-Doppler plane, oriented away from the
Earth (``n . S1 > 0``):

* ``parallel = B . l``: positive when the secondary is farther from the target
  (to first order ``R2 - R1``);
* ``perpendicular = B . n``: positive when the secondary lies above the
  reference line of sight (on the far-from-Earth side).

The interferometric phase of a height ``dh`` is then
``phi = -4 pi / lambda * perpendicular * dh / (R1 sin(theta))`` for the convention
``reference * conj(secondary)`` (Hanssen 2001, *Radar Interferometry*, sec. 2.4;
Zebker & Goldstein 1986).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.errors import GeometryError
from sarbd.geometry.dem import Dem
from sarbd.geometry.solve import geo2rdr, rdr2geo

__all__ = ["baselines"]


def baselines(
    reference_grid: RadarGrid,
    reference_orbit: Orbit,
    secondary_orbit: Orbit,
    *,
    height: float | ArrayLike | Dem = 0.0,
    lines: ArrayLike | None = None,
    pixels: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Perpendicular and parallel baselines (m) at points of the reference grid.

    Parameters
    ----------
    reference_grid, reference_orbit
        The reference acquisition (zero-Doppler grid).
    secondary_orbit
        The secondary acquisition's orbit.
    height
        Ellipsoidal height of the targets (m), or a DEM.
    lines, pixels
        Grid-relative (fractional) lines and pixels, broadcast together; the scene
        centre by default.

    Returns
    -------
    perpendicular, parallel
        Metres, shaped like the broadcast ``lines``/``pixels`` (scalars by default);
        sign convention in the module docstring.

    Raises
    ------
    GeometryError
        If a target has no zero-Doppler solution on the secondary orbit.
    """
    grid = reference_grid
    ref = reference_orbit.with_epoch(grid.reference_epoch)
    ln = np.asarray((grid.length - 1) / 2 if lines is None else lines, dtype=np.float64)
    px = np.asarray((grid.width - 1) / 2 if pixels is None else pixels, dtype=np.float64)
    ln, px = np.broadcast_arrays(ln, px)
    t1 = grid.line_to_azimuth_time(ln)
    r1 = grid.pixel_to_slant_range(px)
    lat, lon, h = rdr2geo(t1, r1, ref, height=height, look_side=grid.look_side)
    t2, _, ok = geo2rdr(lat, lon, h, secondary_orbit, look_side=grid.look_side,
                        azimuth_time_guess=secondary_orbit.seconds_since_epoch(grid.line_to_datetime(ln)))
    if not np.all(ok):
        raise GeometryError(
            f"{int(np.size(ok) - np.count_nonzero(ok))} target(s) have no zero-Doppler time on the "
            f"secondary orbit ({secondary_orbit.start_time} .. {secondary_orbit.end_time})",
            hint="check that the secondary orbit covers the reference scene")
    from sarbd.core.ellipsoid import llh_to_ecef

    p = llh_to_ecef(lat, lon, h)
    s1, v1, _ = ref.interpolate(t1)
    s2 = secondary_orbit.position(t2)
    b = s2 - s1
    look = s1 - p
    look /= np.linalg.norm(look, axis=-1, keepdims=True)
    n = np.cross(v1, look)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    n *= np.sign(np.sum(n * s1, axis=-1))[..., None]
    perpendicular = np.sum(b * n, axis=-1)
    parallel = np.sum(b * look, axis=-1)
    return perpendicular, parallel
