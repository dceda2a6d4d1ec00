"""The azimuth phase ramp of a scene or burst, from what its product annotates.

A product provides a ramp when it implements
:class:`sarbd.core.capabilities.AzimuthRampProvider` (Sentinel-1: Doppler-centroid and
FM-rate polynomials, steering rate); the ramp's formula is
:class:`sarbd.coregistration.tops.AzimuthRamp` (ESA COPE-GSEG-EOPG-TN-14-0025). Other
products (NISAR/UAVSAR RSLC, Radarsat-2, Envisat/ERS: stripmap, stated by their
``is_tops``) are resampled without a ramp, and the log says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np

from sarbd.core.capabilities import AzimuthRampProvider, TopsBurstTiming, is_tops_product
from sarbd.core.radar_grid import SPEED_OF_LIGHT
from sarbd.core.scene import Scene
from sarbd.coregistration.tops import AzimuthRamp
from sarbd.utils.log import get_logger

__all__ = ["azimuth_ramp", "is_tops_swath"]

log = get_logger(__name__)


class _Timed(Protocol):
    @property
    def azimuth_time(self) -> np.datetime64: ...


_T = TypeVar("_T", bound=_Timed)


def _nearest(items: Sequence[_T], t: np.datetime64) -> _T:
    return min(items, key=lambda x: abs((x.azimuth_time - t) / np.timedelta64(1, "ns")))


def is_tops_swath(scene: Scene) -> bool:
    """Whether the scene is a debursted (merged) TOPS swath, coregistered burst by burst."""
    p = scene.product
    return is_tops_product(p) and isinstance(p, TopsBurstTiming) and p.layout == "debursted"


def azimuth_ramp(scene: Scene, burst: int | None = None) -> AzimuthRamp | None:
    """The azimuth phase ramp of a Sentinel-1 burst (TOPS) or stripmap scene; ``None`` if not annotated.

    Line indices of the ramp are the scene's own (window) indices. For TOPS the burst
    centre is ``eta = 0``; for stripmap the scene centre. ``None`` for a scene without
    product information, or whose product is not an
    :class:`~sarbd.core.capabilities.AzimuthRampProvider` (logged).
    """
    p = scene.product
    if p is None:
        return None
    if not isinstance(p, AzimuthRampProvider):
        log.debug(
            "%s (%s, %s) annotates no azimuth ramp: resampled without deramping",
            scene.metadata.get("source_path", "scene"),
            type(p).__name__,
            "TOPS" if is_tops_product(p) else "not TOPS",
        )
        return None
    if not p.doppler_centroids:
        return None
    g = scene.radar_grid
    steering_deg, is_tops = p.azimuth_steering_rate, p.is_tops
    dcs, fms = p.doppler_centroids, p.azimuth_fm_rates
    mid_range_time = (
        2.0
        * (
            p.slant_range_time * SPEED_OF_LIGHT / 2
            + p.number_of_samples / 2 * g.range_pixel_spacing
        )
        / SPEED_OF_LIGHT
    )
    if burst is None and isinstance(p, TopsBurstTiming) and p.is_tops and p.crop_burst is not None:
        burst = int(p.crop_burst)  # a TOPS crop inside one burst
    if burst is not None:
        if not isinstance(p, TopsBurstTiming):
            raise TypeError(f"{type(p).__name__} has no bursts (burst={burst} asked)")
        b = p.bursts[burst]
        t_mid = b.azimuth_time + np.timedelta64(
            round(b.lines / 2 * p.azimuth_time_interval * 1e9), "ns"
        )
        mid_line = b.line_offset + b.lines / 2 - g.first_line
        steering = np.radians(steering_deg)
    else:
        mid_line = (g.length - 1) / 2
        t_mid = np.datetime64(g.line_to_datetime(mid_line)[()], "ns")
        steering = np.radians(steering_deg) if is_tops else 0.0
    dc = _nearest(dcs, t_mid)
    fm = _nearest(fms, t_mid)
    orbit = scene.orbit
    tsec = (t_mid - orbit.reference_epoch) / np.timedelta64(1, "s")
    v = float(np.linalg.norm(orbit.velocity(np.array([tsec]))[0]))
    r0 = 2.0 * g.starting_range / SPEED_OF_LIGHT
    fs = g.range_sampling_rate
    return AzimuthRamp(
        azimuth_time_interval=g.azimuth_time_interval,
        mid_line=float(mid_line),
        starting_range_time=r0,
        range_sampling_rate=fs,
        dc_t0=float(dc.t0),
        dc_coefficients=tuple(map(float, dc.data_coefficients)),
        fm_t0=float(fm.t0),
        fm_coefficients=tuple(map(float, fm.coefficients)),
        steering_rate=float(steering),
        velocity=v,
        wavelength=g.wavelength,
        mid_range_time=mid_range_time,
    )
