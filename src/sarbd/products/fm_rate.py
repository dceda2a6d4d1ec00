"""The geometric azimuth FM rate, for products that annotate a Doppler centroid but no FM rate.

Envisat/ERS IMS and Radarsat-2 give the Doppler centroid of the data; coregistration's
azimuth ramp (:func:`sarbd.coregistration.ramps.azimuth_ramp`) also wants an FM rate. For
stripmap (steering rate 0) the FM rate only sets a per-range constant phase that deramping
and reramping cancel, so the geometric value below is enough.
"""

from __future__ import annotations

import numpy as np

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import SPEED_OF_LIGHT, RadarGrid
from sarbd.products.s1_annotation import AzimuthFmRate

__all__ = ["geometric_fm_rate"]


def geometric_fm_rate(
    azimuth_time: np.datetime64,
    t0: float,
    grid: RadarGrid,
    orbit: Orbit,
    height: float = 0.0,
    *,
    samples: int = 11,
) -> AzimuthFmRate:
    """``k_a(tau) = -(2 / lambda) R''`` at zero Doppler, fitted as a quadratic in ``tau - t0``.

    For a ground point ``g`` fixed in ECEF and the satellite at ``p``, ``v``, ``a``:
    ``d^2(R^2)/dt^2 = 2 (|v|^2 + a . (p - g))`` and, with ``R' = 0`` at zero Doppler,
    ``R'' = (|v|^2 + a . (p - g)) / R`` (Cumming, I. G. & Wong, F. H., *Digital Processing
    of Synthetic Aperture Radar Data*, 2005, sec. 4.3, eq. 4.38 in its general form).

    Parameters
    ----------
    azimuth_time
        UTC time of the estimate.
    t0
        Reference two-way slant-range time of the polynomial, s.
    grid, orbit
        The scene's radar grid and orbit (the orbit must cover ``azimuth_time``).
    height
        Ellipsoidal height of the ground points, m.
    samples
        Ranges across the swath at which ``k_a`` is evaluated (Hz/s).
    """
    from sarbd.geometry.solve import rdr2geo

    pixels = np.linspace(0, grid.width - 1, samples)
    r = grid.starting_range + pixels * grid.range_pixel_spacing
    ns = (np.datetime64(azimuth_time, "ns") - orbit.reference_epoch) / np.timedelta64(1, "ns")
    t = np.full(r.size, float(ns) * 1e-9)
    lat, lon, h = rdr2geo(t, r, orbit, height=np.full(r.size, height), look_side=grid.look_side)
    g = llh_to_ecef(lat, lon, h)
    pos, vel, acc = orbit.interpolate(t)
    rdd = (np.sum(vel * vel, axis=1) + np.sum(acc * (pos - g), axis=1)) / r
    ka = -2.0 / grid.wavelength * rdd
    tau = 2.0 * r / SPEED_OF_LIGHT
    coef = np.polynomial.polynomial.polyfit(tau - t0, ka, 2)
    return AzimuthFmRate(np.datetime64(azimuth_time, "ns"), t0, np.asarray(coef, dtype=np.float64))
