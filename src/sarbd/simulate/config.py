"""Simulation settings: size presets, land-cover classes and their C-band radar properties.

All values are documented in ``docs/simulator.md`` with their sources. Backscatter
values are representative C-band (5.405 GHz) values at 30-45 deg incidence chosen
inside the ranges reported by

* Ulaby, F. T. & Dobson, M. C. (1989), *Handbook of Radar Scattering Statistics for
  Terrain*, Artech House (water, bare soil, grass, trees, urban);
* Veloso, A. et al. (2017), Understanding the temporal behavior of crops using
  Sentinel-1 and Sentinel-2-like data, *Remote Sens. Environ.* 199, 415-426 (crops,
  VV and VH);
* Frison, P.-L. et al. (2018), Potential of Sentinel-1 data for monitoring temperate
  mixed forest phenology, *Remote Sensing* 10(12), 2049 (forest VV/VH);
* Twele, A. et al. (2016), Sentinel-1-based flood mapping, *Int. J. Remote Sens.*
  37(13), 2990-3004 (open water below about -18 dB VV).

Temporal decorrelation follows the exponential model with a persistent part of
Rocca, F. (2007), Modeling interferogram stacks, *IEEE TGRS* 45(10), 3289-3299:
``gamma(dt) = (gamma0 - gamma_inf) * exp(-dt / tau) + gamma_inf`` for ``dt > 0``;
C-band grass and crops lose coherence within days (Morishita, Y. & Hanssen, R. F.
(2015), *IEEE TGRS* 53(2), 1104-1117).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CLASSES",
    "CLASS_CODES",
    "SIZES",
    "LandClass",
    "SimulationConfig",
    "SizePreset",
]

Size = Literal["tiny", "small", "burst", "burst_quarter", "aoi3"]
Mode = Literal["stripmap", "tops"]


@dataclass(frozen=True)
class LandClass:
    """Radar properties of one land-cover class.

    Parameters
    ----------
    code
        Integer code in class maps (0 is "no data").
    name
        Class name (layer name in the GeoPackages).
    sigma0_vv_db, sigma0_vh_db
        Backscatter coefficient sigma0 (ground-area normalised), dB.
    gamma0
        Short-term coherence (coherence at a vanishing, but non-zero, time lag).
    gamma_inf
        Persistent coherence for long time lags.
    tau_days
        Decorrelation time constant, days (0: fully decorrelated between dates).
    """

    code: int
    name: str
    sigma0_vv_db: float
    sigma0_vh_db: float
    gamma0: float
    gamma_inf: float
    tau_days: float

    def coherence(self, dt_days: float) -> float:
        """True temporal coherence between two dates ``dt_days`` apart (Rocca 2007)."""
        if dt_days == 0:
            return 1.0
        if self.tau_days <= 0:
            return self.gamma_inf
        import math

        return (self.gamma0 - self.gamma_inf) * math.exp(
            -abs(dt_days) / self.tau_days
        ) + self.gamma_inf

    def sigma0(self, polarization: str) -> float:
        """Linear sigma0 of ``"VV"`` or ``"VH"``."""
        db = self.sigma0_vv_db if polarization.upper() == "VV" else self.sigma0_vh_db
        return float(10.0 ** (db / 10.0))


#: The land-cover classes, in rasterisation priority order (first wins).
CLASSES: tuple[LandClass, ...] = (
    LandClass(1, "building", 2.0, -8.0, 0.98, 0.95, 1000.0),
    LandClass(2, "road", -17.0, -25.0, 0.9, 0.6, 60.0),
    LandClass(3, "railway", -8.0, -16.0, 0.9, 0.5, 40.0),
    LandClass(4, "water", -20.0, -27.0, 0.0, 0.0, 0.0),
    LandClass(5, "vegetation", -7.5, -13.0, 0.7, 0.1, 6.0),
    LandClass(6, "field", -10.0, -17.0, 0.8, 0.15, 12.0),
    LandClass(7, "bare", -12.0, -21.0, 0.9, 0.4, 30.0),
)

#: ``{name: code}``.
CLASS_CODES: dict[str, int] = {c.name: c.code for c in CLASSES}


@dataclass(frozen=True)
class SizePreset:
    """Image size and sampling of one preset.

    ``lines`` x ``pixels`` is the reference date's grid; ``map_resolution`` the
    truth class map's pixel size (m) in the projected CRS; ``scatterer_spacing``
    the (east, north) spacing of distributed scatterers on the ground (m).
    """

    lines: int
    pixels: int
    map_resolution: float
    scatterer_spacing: tuple[float, float]
    dem_spacing_arcsec: float
    lines_per_burst: int


SIZES: dict[str, SizePreset] = {
    "tiny": SizePreset(160, 320, 2.0, (2.0, 5.0), 1.0, 64),
    "small": SizePreset(1000, 2500, 5.0, (2.5, 6.5), 1.0, 400),
    "burst": SizePreset(1500, 25000, 10.0, (2.5, 7.0), 1.0, 1500),
    # benchmark presets (benchmarks/build.py): a full-length burst cut to a quarter of
    # the swath width, for machines where a full burst takes too long; and a 3-burst
    # TOPS AOI (three IW bursts of 1500 lines starting 1341 lines apart: 4182 lines, 2500 px) crossing two burst boundaries
    "burst_quarter": SizePreset(1500, 6250, 10.0, (2.5, 7.0), 1.0, 1500),
    "aoi3": SizePreset(4182, 2500, 5.0, (2.5, 6.5), 1.0, 1500),  # bursts start every 1341 lines
}


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that defines a simulated scene (same config + seed -> same bytes).

    Parameters
    ----------
    size
        ``"tiny"``, ``"small"``, ``"burst"``, or the benchmark presets
        ``"burst_quarter"`` and ``"aoi3"`` (see :data:`SIZES`).
    dates
        Number of acquisitions (12 days apart, like one Sentinel-1 satellite).
    seed
        Seed of every random draw.
    mode
        ``"stripmap"`` (a continuous zero-Doppler swath) or ``"tops"`` (bursts with
        azimuth antenna steering and burst overlaps).
    centre_lat, centre_lon
        Scene centre, degrees (default Groningen, NL).
    crs
        Projected CRS of the vector outputs (default RD New, EPSG:28992).
    hilly
        Add rolling terrain (a few hundred metres of relief) instead of a flat lowland.
    pass_direction
        ``"descending"`` or ``"ascending"``.
    incidence_mid_deg
        Ellipsoid incidence angle at the scene centre, degrees.
    nesz_db
        Noise-equivalent sigma zero, dB (constant over the swath).
    max_baseline_m
        Cross-track orbit offsets are drawn uniformly in +-this value (m).
    radial_offset_m
        Standard deviation of the radial orbit offsets (m).
    timing_error_std_s
        Standard deviation of the azimuth timing error: the true acquisition time
        differs from the annotated one by this much (s); coregistration has to
        find it (ESD in TOPS mode).
    grid_shift_max
        Each secondary grid starts up to this many lines and pixels (uniform,
        fractional) away from the reference grid.
    repeat_days
        Days between dates.
    start_date
        UTC date of the first acquisition (ISO).
    corruption
        Fractions used to corrupt the reference vectors (see
        :mod:`sarbd.simulate.reference`).
    targets
        Detection targets on open sea (ships, oil slicks; :mod:`sarbd.simulate.targets`):
        empty (the default) for none, else overrides of
        :class:`~sarbd.simulate.targets.TargetSettings` (``{"enabled": True}`` for the defaults).
    changes
        Land changes between dates (new buildings, cleared vegetation, floods;
        :mod:`sarbd.simulate.changes`): empty (the default) for none, else overrides of
        :class:`~sarbd.simulate.changes.ChangeSettings`.
    """

    size: Size = "tiny"
    dates: int = 7
    seed: int = 0
    mode: Mode = "stripmap"
    centre_lat: float = 53.2194
    centre_lon: float = 6.5665
    crs: str = "EPSG:28992"
    hilly: bool = False
    pass_direction: Literal["descending", "ascending"] = "descending"
    incidence_mid_deg: float = 38.0
    nesz_db: float = -22.0
    max_baseline_m: float = 200.0
    radial_offset_m: float = 30.0
    timing_error_std_s: float = 2.0e-4
    grid_shift_max: float = 4.0
    repeat_days: float = 12.0
    start_date: str = "2022-02-14T05:40:00"
    corruption: dict[str, float] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def preset(self) -> SizePreset:
        """The size preset."""
        return SIZES[self.size]
