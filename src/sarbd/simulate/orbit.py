"""A sun-synchronous, Sentinel-1-like orbit: Keplerian elements -> ECEF state vectors.

The orbit is circular (Sentinel-1: 693 km altitude at the equator, inclination
98.18 deg, 175 orbits in 12 days). Positions and velocities are analytic: the
inertial circular motion rotated into the Earth-fixed frame,

    r_ecef(t) = R_z(-w_E t) r_eci(t),   v_ecef = R_z(-w_E t) v_eci - w_E x r_ecef,

so every state vector is exactly consistent with its neighbours (what Hermite
interpolation needs). J2 and drag are left out: over the ~3 minutes that an
annotation covers they move the satellite by metres *along the orbit that is
written*, and the simulated images are formed from the written state vectors, so
the geometry stays exact.

Each date repeats the reference ground track (the 12-day repeat cycle and the
sun-synchronous nodal precession cancel Earth's extra rotation), plus its own
cross-track offset (inclination and node change), radial offset (semi-major axis)
and timing offset.

References
----------
Vallado, D. A. (2013), *Fundamentals of Astrodynamics and Applications*, 4th ed.,
sec. 2.6 (perifocal -> inertial rotation) and 3.7 (ECI <-> ECEF, Earth rotation rate).
ESA, *Sentinel-1 User Handbook* (2013), orbit: 693 km, 98.18 deg, 12-day repeat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from sarbd.core.ellipsoid import WGS84_A, llh_to_ecef
from sarbd.core.orbit import Orbit

__all__ = [
    "EARTH_ROTATION_RATE",
    "GM",
    "OrbitElements",
    "design_orbit",
    "make_orbit",
    "offset_elements",
    "orbit_state_vectors",
]

#: Earth's rotation rate, rad/s (WGS84).
EARTH_ROTATION_RATE = 7.2921151467e-5
#: Earth's gravitational constant, m^3/s^2 (WGS84).
GM = 3.986004418e14
#: Sentinel-1 semi-major axis, m (693 km altitude over the equatorial radius).
S1_SEMI_MAJOR_AXIS = WGS84_A + 693_000.0
#: Sentinel-1 inclination, degrees.
S1_INCLINATION_DEG = 98.18


@dataclass(frozen=True)
class OrbitElements:
    """A circular orbit, with angles at the date's reference time ``t = 0``.

    Parameters
    ----------
    semi_major_axis
        m.
    inclination, node
        Inclination and right ascension of the ascending node measured in the
        Earth-fixed frame at ``t = 0`` (radians).
    argument_of_latitude
        Angle from the ascending node at ``t = 0`` (radians).
    """

    semi_major_axis: float
    inclination: float
    node: float
    argument_of_latitude: float

    @property
    def mean_motion(self) -> float:
        """rad/s."""
        return math.sqrt(GM / self.semi_major_axis**3)


def _eci_state(
    el: OrbitElements, t: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = el.mean_motion
    u = el.argument_of_latitude + n * t
    ci, si = math.cos(el.inclination), math.sin(el.inclination)
    co, so = math.cos(el.node), math.sin(el.node)
    cu, su = np.cos(u), np.sin(u)
    a = el.semi_major_axis
    r = a * np.stack([cu * co - su * so * ci, cu * so + su * co * ci, su * si], axis=-1)
    v = a * n * np.stack([-su * co - cu * so * ci, -su * so + cu * co * ci, cu * si], axis=-1)
    return r, v


def orbit_state_vectors(
    el: OrbitElements, t: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """ECEF positions (m) and velocities (m/s) at times ``t`` (s since the elements' epoch)."""
    t = np.asarray(t, dtype=np.float64)
    r, v = _eci_state(el, t)
    th = -EARTH_ROTATION_RATE * t
    c, s = np.cos(th), np.sin(th)
    x = c * r[..., 0] - s * r[..., 1]
    y = s * r[..., 0] + c * r[..., 1]
    vx = c * v[..., 0] - s * v[..., 1]
    vy = s * v[..., 0] + c * v[..., 1]
    pos = np.stack([x, y, r[..., 2]], axis=-1)
    # v_ecef = R v_eci - w x r_ecef, with w = (0, 0, w_E)
    vel = np.stack([vx + EARTH_ROTATION_RATE * y, vy - EARTH_ROTATION_RATE * x, v[..., 2]], axis=-1)
    return pos, vel


def design_orbit(
    lat_deg: float,
    lon_deg: float,
    height: float,
    incidence_deg: float,
    *,
    pass_direction: str = "descending",
    look_side: str = "right",
) -> OrbitElements:
    """Elements of a Sentinel-1-like orbit that sees a target at a given incidence at ``t = 0``.

    The orbital plane is chosen so that the target lies at the Earth-central angle
    ``psi`` from it (on the look side), where ``psi = theta_i - alpha`` and the look
    angle obeys ``sin(alpha) = R_t / a * sin(theta_i)`` (law of sines in the
    satellite-Earth centre-target triangle). The argument of latitude places the
    satellite abeam of the target at ``t = 0``; the exact zero-Doppler time is then
    found by geo2rdr.
    """
    p = llh_to_ecef(np.array([lat_deg]), np.array([lon_deg]), np.array([height]))[0]
    rt = float(np.linalg.norm(p))
    a = S1_SEMI_MAJOR_AXIS
    inc = math.radians(S1_INCLINATION_DEG)
    theta = math.radians(incidence_deg)
    # Geocentric incidence is close enough for the design; the exact value is reported.
    alpha = math.asin(rt / a * math.sin(theta))
    psi = theta - alpha
    ph = p / rt
    sign = -1.0 if look_side == "right" else 1.0  # right-looking: target on the -h side

    def normal(node: float) -> NDArray[np.float64]:
        return np.array(
            [math.sin(inc) * math.sin(node), -math.sin(inc) * math.cos(node), math.cos(inc)]
        )

    def f(node: float) -> float:
        return float(ph @ normal(node)) - sign * math.sin(psi)

    lon = math.atan2(ph[1], ph[0])
    grid = lon + np.linspace(-math.pi, math.pi, 721)
    vals = np.array([f(g) for g in grid])
    roots = []
    for k in range(len(grid) - 1):
        if vals[k] == 0 or vals[k] * vals[k + 1] < 0:
            roots.append(brentq(f, grid[k], grid[k + 1], xtol=1e-14))
    for node in roots:
        h = normal(node)
        # in-plane position of the target's projection
        q = ph - (ph @ h) * h
        q /= np.linalg.norm(q)
        nhat = np.array([math.cos(node), math.sin(node), 0.0])
        u = math.atan2(float(np.cross(nhat, q) @ h), float(nhat @ q))
        el = OrbitElements(a, inc, node, u)
        _, v = _eci_state(el, np.array([0.0]))
        descending = v[0, 2] < 0
        if descending == (pass_direction == "descending"):
            return el
    raise RuntimeError("no orbit geometry found for the requested target")  # pragma: no cover


def offset_elements(el: OrbitElements, cross_track: float, radial: float) -> OrbitElements:
    """The orbit moved by ``cross_track`` and ``radial`` metres at ``t = 0``.

    A cross-track displacement ``c`` at argument of latitude ``u`` is produced by
    rotating the orbital plane about the satellite's radius vector: an inclination
    change ``c sin(u) / a`` and a node change ``-c cos(u) / (a sin i)`` (the
    displacement normal to the plane of ``di`` is ``a di sin u`` and of ``dO`` is
    ``-a dO sin i cos u``; Vallado 2013, sec. 6.4). The node change also moves the
    satellite along the orbit by ``a dO cos i``, which the argument of latitude
    compensates (``du = -dO cos i``). A radial offset changes the semi-major axis
    (the orbit stays circular).
    """
    a = el.semi_major_axis
    u = el.argument_of_latitude
    di = cross_track * math.sin(u) / a
    dnode = -cross_track * math.cos(u) / (a * math.sin(el.inclination))
    du = -dnode * math.cos(el.inclination)
    return replace(
        el,
        semi_major_axis=a + radial,
        inclination=el.inclination + di,
        node=el.node + dnode,
        argument_of_latitude=u + du,
    )


def make_orbit(
    el: OrbitElements,
    epoch: np.datetime64,
    t0: float,
    t1: float,
    *,
    spacing: float = 10.0,
    time_shift: float = 0.0,
    source: str = "simulated",
) -> Orbit:
    """State vectors every ``spacing`` s covering ``[t0, t1]`` s after ``epoch`` (UTC).

    ``time_shift`` (s) labels each state with a time that is ``time_shift`` later
    than the one it was computed for (an azimuth timing error of the annotation).
    Vector times fall on whole multiples of ``spacing`` after ``epoch``.
    """
    k0 = math.floor(t0 / spacing) - 1
    k1 = math.ceil(t1 / spacing) + 1
    t = np.arange(k0, k1 + 1, dtype=np.float64) * spacing
    pos, vel = orbit_state_vectors(el, t - time_shift)
    times = np.datetime64(epoch, "ns") + np.round(t * 1e9).astype("int64").astype("timedelta64[ns]")
    return Orbit(times, pos, vel, reference_epoch=np.datetime64(epoch, "ns"), source=source)
