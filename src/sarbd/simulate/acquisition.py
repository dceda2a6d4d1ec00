"""Acquisition plans: each date's orbit, radar grid, timing error and TOPS burst layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.simulate import sensor as S
from sarbd.simulate.config import SimulationConfig
from sarbd.simulate.orbit import design_orbit, make_orbit, offset_elements

__all__ = ["DatePlan", "plan_acquisitions"]


@dataclass(frozen=True)
class DatePlan:
    """One simulated acquisition.

    Attributes
    ----------
    index
        Date number (0 is the reference date).
    epoch
        UTC epoch of the date's orbit and grid (float times count from it).
    orbit
        The (annotated, exact) orbit.
    grid
        The continuous zero-Doppler grid (for TOPS: the debursted grid; bursts are
        windows of it).
    timing_error
        Azimuth timing error (s): a target at zero-Doppler time ``t`` appears at
        line ``(t + timing_error - sensing_start) / ati``.
    cross_track, radial
        Orbit offsets from the reference date at the scene centre (m).
    days
        Days since the reference date.
    burst_starts
        First line of each burst in the continuous grid (TOPS), else ``(0,)``.
    lines_per_burst
        Lines of each burst (TOPS), else the grid length.
    """

    index: int
    epoch: np.datetime64
    orbit: Orbit
    grid: RadarGrid
    timing_error: float
    cross_track: float
    radial: float
    days: float
    burst_starts: tuple[int, ...] = (0,)
    lines_per_burst: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def plan_acquisitions(
    cfg: SimulationConfig, centre_height: float, rng: np.random.Generator
) -> list[DatePlan]:
    """Orbits, grids and timing of every date (see :mod:`sarbd.simulate.orbit`).

    Dates are ``repeat_days`` apart. Date 0 has no orbit offset and no timing
    error; the others draw a cross-track offset uniformly in
    ``+-max_baseline_m``, a radial offset ``N(0, radial_offset_m)``, a timing error
    ``N(0, timing_error_std_s)`` and a grid shifted by up to ``grid_shift_max`` lines and pixels
    (fractional), so that no two grids coincide.
    """
    from sarbd.geometry.solve import geo2rdr

    preset = cfg.preset
    el0 = design_orbit(
        cfg.centre_lat,
        cfg.centre_lon,
        centre_height,
        cfg.incidence_mid_deg,
        pass_direction=cfg.pass_direction,
    )
    start = np.datetime64(cfg.start_date, "ns")
    width = preset.pixels
    if cfg.mode == "tops":
        lpb = preset.lines_per_burst
        cycle = round(lpb * S.BURST_CYCLE_LINES / 1501)
        n_bursts = max(1, round((preset.lines - lpb) / cycle) + 1)
        length = (n_bursts - 1) * cycle + lpb
        starts = tuple(b * cycle for b in range(n_bursts))
    else:
        lpb, length, starts = 0, preset.lines, (0,)
    plans = []
    for n in range(cfg.dates):
        if n == 0:
            ct, rad, terr, dl, dp = 0.0, 0.0, 0.0, 0.0, 0.0
        else:
            ct = float(rng.uniform(-cfg.max_baseline_m, cfg.max_baseline_m))
            rad = float(rng.normal(0.0, cfg.radial_offset_m))
            terr = float(rng.normal(0.0, cfg.timing_error_std_s))
            dl, dp = (float(v) for v in rng.uniform(-cfg.grid_shift_max, cfg.grid_shift_max, 2))
        el = offset_elements(el0, ct, rad)
        nominal = start + np.timedelta64(round(n * cfg.repeat_days * 86400), "s")
        epoch = nominal.astype("datetime64[s]").astype("datetime64[ns]")
        probe = make_orbit(el, epoch, -120.0, 120.0)
        tc_arr, rc_arr, _ = geo2rdr(cfg.centre_lat, cfg.centre_lon, centre_height, probe)
        t_c, r_c = float(tc_arr), float(rc_arr)
        ss = t_c - (length - 1) / 2 * S.AZIMUTH_TIME_INTERVAL + dl * S.AZIMUTH_TIME_INTERVAL
        r0 = r_c - (width - 1) / 2 * S.RANGE_PIXEL_SPACING + dp * S.RANGE_PIXEL_SPACING
        stop = ss + length * S.AZIMUTH_TIME_INTERVAL
        orbit = make_orbit(el, epoch, ss - 70.0, stop + 70.0)
        grid = RadarGrid(
            epoch,
            ss,
            S.AZIMUTH_TIME_INTERVAL,
            r0,
            S.RANGE_PIXEL_SPACING,
            length,
            width,
            S.WAVELENGTH,
            "right",
        )
        plans.append(
            DatePlan(
                n,
                epoch,
                orbit,
                grid,
                terr,
                ct,
                rad,
                n * cfg.repeat_days,
                starts,
                lpb if lpb else length,
                {"line_shift": dl, "pixel_shift": dp},
            )
        )
    return plans
