"""Perpendicular and parallel baselines between two acquisitions: the one home of the formula.

For a target ``P`` seen by the reference at zero-Doppler time ``t1`` (rdr2geo on
the reference grid) and by the secondary at ``t2`` (geo2rdr on the secondary orbit),
the baseline vector is ``B = S2(t2) - S1(t1)``. With ``l = (P - S1) / |P - S1|`` the
reference look direction (from the satellite to the target) and
``n = +-(l x v1) / |l x v1|`` the unit vector orthogonal to ``l`` in the reference
zero-Doppler plane, oriented away from the Earth (``n . S1 > 0``):

* ``parallel = B . l``: to first order the range difference ``R1 - R2``, positive
  when the secondary is *closer* to the target;
* ``perpendicular = B . n``: positive when the secondary lies above the
  reference line of sight (on the far-from-Earth side).

This is the definition of Hanssen (2001, *Radar Interferometry*, sec. 2.4):
``B_par = B sin(theta - alpha)``, ``B_perp = B cos(theta - alpha)`` for a baseline of
length ``B`` at angle ``alpha`` from the horizontal and the look angle ``theta``
(a secondary straight above the reference, ``alpha = 90 deg``, has
``B_par = -B cos(theta)`` and ``B_perp = B sin(theta)``); of Rosen et al. (2000,
Proc. IEEE 88(3), ``b_par = <l, B>``); and of isce3's NISAR workflow
(``nisar/workflows/baseline.py``: the parallel baseline is positive along the LOS
from the reference sensor to the target). The interferometric phase of
``reference * conj(secondary)`` is then ``phi = -4 pi / lambda * parallel``, and that
of a height ``dh`` is ``phi = -4 pi / lambda * perpendicular * dh / (R1 sin(theta))``
(Hanssen 2001, sec. 2.4; Zebker & Goldstein 1986).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.errors import GeometryError
from sarbd.geometry.dem import Dem
from sarbd.geometry.solve import geo2rdr, rdr2geo

__all__ = ["baseline_components", "baselines", "centre_baselines"]


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
    t2, _, ok = geo2rdr(
        lat,
        lon,
        h,
        secondary_orbit,
        look_side=grid.look_side,
        azimuth_time_guess=secondary_orbit.seconds_since_epoch(grid.line_to_datetime(ln)),
    )
    if not np.all(ok):
        raise GeometryError(
            f"{int(np.size(ok) - np.count_nonzero(ok))} target(s) have no zero-Doppler time on the "
            f"secondary orbit ({secondary_orbit.start_time} .. {secondary_orbit.end_time})",
            hint="check that the secondary orbit covers the reference scene",
        )
    p = llh_to_ecef(lat, lon, h)
    s1, v1, _ = ref.interpolate(t1)
    s2 = secondary_orbit.position(t2)
    return baseline_components(s1, v1, s2, p)


def centre_baselines(
    reference_grid: RadarGrid, reference_orbit: Orbit, secondary_orbit: Orbit
) -> tuple[float, float]:
    """Perpendicular and parallel baselines (m) at the reference scene centre, height 0.

    The per-date baselines of a stack (``coregister`` and ``stacks.assemble_stack``):
    :func:`baselines` at the default point, ``(nan, nan)`` when the centre has no
    zero-Doppler time on the secondary orbit (a stack then still has its other dates).
    """
    try:
        perp, par = baselines(reference_grid, reference_orbit, secondary_orbit, height=0.0)
    except GeometryError:
        return float("nan"), float("nan")
    return float(perp), float(par)


def baseline_components(
    reference_position: ArrayLike,
    reference_velocity: ArrayLike,
    secondary_position: ArrayLike,
    target: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Perpendicular and parallel baselines (m) of given ECEF positions (module docstring).

    Parameters
    ----------
    reference_position, reference_velocity
        ``(..., 3)`` ECEF position (m) and velocity (m/s) of the reference at the
        target's zero-Doppler time.
    secondary_position
        ``(..., 3)`` ECEF position (m) of the secondary at its zero-Doppler time of the
        same target.
    target
        ``(..., 3)`` ECEF position of the target (m).

    Returns
    -------
    perpendicular, parallel
        Metres, shaped like the broadcast inputs without their last axis:
        ``parallel = B . l`` (~ ``R1 - R2``) and ``perpendicular = B . n`` (``n`` in the
        reference zero-Doppler plane, away from the Earth).
    """
    s1 = np.asarray(reference_position, dtype=np.float64)
    v1 = np.asarray(reference_velocity, dtype=np.float64)
    b = np.asarray(secondary_position, dtype=np.float64) - s1
    look = np.asarray(target, dtype=np.float64) - s1
    look = look / np.linalg.norm(look, axis=-1, keepdims=True)
    n = np.cross(look, v1)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    n = n * np.sign(np.sum(n * s1, axis=-1))[..., None]
    return np.sum(b * n, axis=-1), np.sum(b * look, axis=-1)
