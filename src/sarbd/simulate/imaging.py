"""Image formation: scatterers on the ground -> focused zero-Doppler SLCs of every date.

For every scatterer ``k`` and date ``n`` the zero-Doppler time ``t`` and slant range
``R`` come from :func:`sarbd.geometry.geo2rdr` on that date's orbit; the scatterer
is splatted into the image at line ``(t + timing_error - t_0) / ati`` and pixel
``(R - R_0) / dr`` with the 2-D windowed-sinc response of :mod:`~sarbd.simulate.psf`
and the two-way phase ``exp(-j 4 pi R / lambda)``:

    DN(l, p) = sum_k K(R_k) a_k(n) h_az(l - l_k) h_rg(p - p_k) exp(-j 4 pi R_k / lambda) + noise.

Distributed scatterers sit on a jittered grid (several per resolution cell) with
``E|a_k|^2 = sigma0(class, pol) * dA_k`` (dA the ground area each one stands for), and
complex Gaussian reflectivities, so the image has fully developed speckle whatever
the density (a linear combination of circular Gaussians is circular Gaussian;
Goodman, J. W. (1976), Some fundamental properties of speckle, JOSA 66(11)). Their
time series follows the coherence model of :class:`~sarbd.simulate.config.LandClass`:

    a(n) = sqrt(g_inf) s + sqrt(g0 - g_inf) m(n) + sqrt(1 - g0) e(n),
    m(n) = rho m(n-1) + sqrt(1 - rho^2) w(n),  rho = exp(-dt / tau),

with ``s, m(0), w, e`` independent CN(0, 1): then ``E[a(i) a(j)*] = g_inf + (g0 - g_inf)
exp(-|t_i - t_j| / tau)`` exactly (Rocca 2007). Building roofs sit at roof height
(so they lay over towards near range); each building also has a stable
double-bounce point scatterer at the foot of its wall nearest to the sensor.

The DN scaling ``K = beta_LUT / sqrt(dx_az dr)`` (``dx_az`` the ground distance
between lines, ``dr`` the slant-range spacing) makes ``|DN|^2 / A^2`` equal beta0
and sigma0 for the LUTs written in the calibration annotation (ESA,
S1-RS-MDA-52-7441 sec. 6.3; methods-and-standards.md sec. 4).

Truth accumulated on the reference grid, with the same PSF weights ``|h|^2``: per
class (and for the points) the ground area and the expected signal power of each
polarisation. The expected cross-power with a secondary date is
``sum_k w_k g_k exp(j r_k) |h_k|^2 = sum_c g_c P_c + sum_roofs w_k g_k (exp(j r_k) - 1) |h_k|^2``,
where ``r_k`` is the scatterer's interferometric phase left after removing the phase
of the terrain point seen at the same reference (time, range): zero on the terrain,
non-zero for roofs (not in the bare-earth DEM), which are splatted per date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numba
import numpy as np
from numpy.typing import NDArray

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.geometry.kernels import geo2rdr_point
from sarbd.simulate import sensor as S
from sarbd.simulate.acquisition import DatePlan
from sarbd.simulate.config import CLASSES, SimulationConfig
from sarbd.simulate.landscape import Landscape
from sarbd.simulate.psf import (
    HALF_WIDTH,
    sort_by_line,
    splat_class,
    splat_complex,
    splat_power,
)
from sarbd.simulate.stream import RowWindow
from sarbd.utils.log import get_logger

__all__ = [
    "Frame",
    "ImageSink",
    "ImagingSummary",
    "TruthRows",
    "form_images",
    "scatterer_frame",
]

log = get_logger(__name__)

_NCLASS = len(CLASSES)
_B_AZ = S.AZIMUTH_BANDWIDTH * S.AZIMUTH_TIME_INTERVAL
_B_RG = S.RANGE_BANDWIDTH / S.RANGE_SAMPLING_RATE
_A_AZ = S.AZIMUTH_WINDOW_COEFFICIENT
_A_RG = S.RANGE_WINDOW_COEFFICIENT
_POLS = ("VV", "VH")


@numba.njit(cache=True, parallel=True)
def _zero_doppler(
    xyz: NDArray[np.float64],
    guess: NDArray[np.float64],
    otime: NDArray[np.float64],
    opos: NDArray[np.float64],
    ovel: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """geo2rdr of many ECEF points with the geometry engine's Numba kernel (zero Doppler).

    Same Newton iteration and tolerance (1e-10 s) as :func:`sarbd.geometry.geo2rdr`;
    the ECEF positions are computed once per scatterer instead of once per date.
    """
    n = xyz.shape[0]
    out = np.empty((n, 2))
    ok = np.zeros(n, dtype=np.bool_)
    for i in numba.prange(n):
        ok[i] = geo2rdr_point(xyz[i], otime, opos, ovel, guess[i], 1.0, 0.0, 50, 1e-10, out[i])
    return out, ok


def _geometry() -> tuple[Any, Any]:
    """The project's geometry engine (``rdr2geo``, ``geo2rdr``)."""
    try:
        from sarbd.geometry import geo2rdr, rdr2geo
    except ImportError:  # geometry package without its public __init__ yet
        from sarbd.geometry.solve import geo2rdr, rdr2geo
    return rdr2geo, geo2rdr


@dataclass(frozen=True)
class Frame:
    """The scatterer lattice: ``xy = origin + a * e_a + r * e_r`` (projected metres).

    ``e_a`` points along the azimuth direction on the ground, ``e_r`` along ground
    range (away from the sensor); ``a`` and ``r`` run over ``[a0, a1] x [r0, r1]``
    with spacings ``da, dr``.
    """

    origin: tuple[float, float]
    e_a: tuple[float, float]
    e_r: tuple[float, float]
    a0: float
    a1: float
    r0: float
    r1: float
    da: float
    dr: float

    @property
    def shape(self) -> tuple[int, int]:
        return (math.ceil((self.a1 - self.a0) / self.da), math.ceil((self.r1 - self.r0) / self.dr))

    @property
    def cell_area(self) -> float:
        return abs(self.e_a[0] * self.e_r[1] - self.e_a[1] * self.e_r[0]) * self.da * self.dr

    def bounds(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        """Bounding box of the lattice in projected coordinates."""
        corners = np.array(
            [[self.a0, self.r0], [self.a0, self.r1], [self.a1, self.r0], [self.a1, self.r1]]
        )
        xy = (
            np.array(self.origin)
            + corners[:, :1] * np.array(self.e_a)
            + corners[:, 1:] * np.array(self.e_r)
        )
        return (
            float(xy[:, 0].min() - pad),
            float(xy[:, 1].min() - pad),
            float(xy[:, 0].max() + pad),
            float(xy[:, 1].max() + pad),
        )


def _to_map(crs: str) -> tuple[Any, Any]:
    from pyproj import Transformer

    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return fwd, inv


def scatterer_frame(
    cfg: SimulationConfig, plans: list[DatePlan], height: float, margin: float
) -> Frame:
    """A lattice aligned with the radar geometry that covers every date's image plus ``margin`` m."""
    rdr2geo, _ = _geometry()
    fwd, _ = _to_map(cfg.crs)
    pts = []
    for p in plans:
        g = p.grid
        lines = np.array(
            [
                0,
                g.length - 1,
                0,
                g.length - 1,
                (g.length - 1) / 2,
                (g.length - 1) / 2,
                (g.length - 1) / 2,
            ]
        )
        pix = np.array(
            [0, 0, g.width - 1, g.width - 1, (g.width - 1) / 2, (g.width - 1) / 2, g.width - 1]
        )
        lat, lon, _ = rdr2geo(
            g.line_to_azimuth_time(lines), g.pixel_to_slant_range(pix), p.orbit, height=height
        )
        x, y = fwd.transform(lon, lat)
        pts.append(np.column_stack([x, y]))
    ref = pts[0]
    origin = ref[4]
    e_a = ref[1] - ref[0]
    e_a /= np.linalg.norm(e_a)
    e_r = ref[6] - ref[4]
    e_r /= np.linalg.norm(e_r)
    m = np.column_stack([e_a, e_r])
    ar = np.linalg.solve(m, (np.vstack(pts) - origin).T).T
    da, dr = cfg.preset.scatterer_spacing[1], cfg.preset.scatterer_spacing[0]
    return Frame(
        (float(origin[0]), float(origin[1])),
        (float(e_a[0]), float(e_a[1])),
        (float(e_r[0]), float(e_r[1])),
        float(ar[:, 0].min() - margin),
        float(ar[:, 0].max() + margin),
        float(ar[:, 1].min() - margin),
        float(ar[:, 1].max() + margin),
        da,
        dr,
    )


@dataclass
class TruthRows:
    """Truth accumulators of a block of reference lines, final (every scatterer added).

    ``class_sums`` ``(C + 1, 3, n, W)``: per class (the last entry: point scatterers)
    the ground area, and the expected VV and VH signal power (DN^2);
    ``roof_correction[d]`` ``(4, n, W)``: Re/Im (VV, then VH) of the roofs' term of the
    expected cross-power with the reference (``d >= 1``; ``None`` for the reference).
    """

    class_sums: NDArray[np.float32]
    roof_correction: list[NDArray[np.float32] | None]

    @property
    def class_weight(self) -> NDArray[np.float32]:
        """Ground area of each class, ``(C, n, W)``."""
        return self.class_sums[:_NCLASS, 0]

    @property
    def class_power(self) -> NDArray[np.float32]:
        """Expected signal power (DN^2, VV + VH) of each class, ``(C, n, W)``; the
        double-bounce points count as buildings."""
        p = np.asarray(self.class_sums[:_NCLASS, 1:].sum(axis=1), dtype=np.float32)
        p[0] += self.class_sums[_NCLASS, 1:].sum(axis=0)  # class code 1: building
        return p

    @property
    def power(self) -> NDArray[np.float32]:
        """Expected signal power (DN^2), ``(2, n, W)`` for VV and VH."""
        return np.asarray(self.class_sums[:, 1:].sum(axis=0), dtype=np.float32)

    def cross_power(self, n: int, days: float) -> NDArray[np.complex64]:
        """Expected cross-power with the reference of date ``n`` (``days`` later), ``(2, n, W)``."""
        gam = [c.coherence(days) for c in CLASSES] + [1.0]  # points are stable
        out = np.zeros(self.class_sums.shape[2:], np.complex64)[None].repeat(2, axis=0)
        for c, g in enumerate(gam):
            out += g * self.class_sums[c, 1:]
        rc = self.roof_correction[n]
        if rc is not None:
            out[0] += rc[0] + 1j * rc[1]
            out[1] += rc[2] + 1j * rc[3]
        return out


class ImageSink(Protocol):
    """Where :func:`form_images` hands its final lines (the SAFE and truth writers)."""

    def image_rows(self, date: int, segment: int, first: int, rows: NDArray[np.complex64]) -> None:
        """Noise-free baseband lines ``(2, n, W)`` (VV, VH) of a date's segment (TOPS: a
        burst, rows counted from its first line; stripmap: the grid), from row ``first``."""

    def truth_rows(self, first: int, rows: TruthRows) -> None:
        """Truth accumulators of reference lines ``first .. first + n - 1``."""


@dataclass
class ImagingSummary:
    """What :func:`form_images` counted: scatterers, double-bounce points, ships' image positions."""

    n_scatterers: int
    n_points: int
    #: ``{ship id: {"line", "pixel"}}``: image positions of the ships' scatterers on their date's grid
    target_positions: dict[int, dict[str, NDArray[np.float64]]] = field(default_factory=dict)


@dataclass
class _Scatterers:
    """Scatterers of one date sorted by line (:func:`~sarbd.simulate.psf.sort_by_line`)."""

    order: NDArray[np.int64]
    sline: NDArray[np.float64]
    line: NDArray[np.float64]
    pix: NDArray[np.float64]
    amp: NDArray[np.complex128]

    @classmethod
    def of(
        cls, line: NDArray[np.float64], pix: NDArray[np.float64], amp: NDArray[np.complex128]
    ) -> _Scatterers:
        order, sline = sort_by_line(line)
        return cls(order, sline, line, pix, amp)


@dataclass
class _Segment:
    """A date's image part imaged on its own: a TOPS burst (grid lines ``start ..``) or the grid."""

    start: int
    window: RowWindow


#: Lines below the lowest line of the current tile that a later tile may still reach
#: (lattice jitter and the slight skew of lines across the swath are well under a line).
STREAM_GUARD = 4

#: Scatterers per imaging tile (the tiles' random draws are seeded by tile, so this is part
#: of the scene definition; the streamed block size is not).
TILE_SCATTERERS = 1_000_000

#: Default lines per streamed block.
BLOCK_LINES = 128


class _Stream:
    """The row windows of every date (and the truth accumulators) and when their rows are final.

    Tiles come in azimuth order, so once a tile's lowest line is known no later tile reaches
    more than :data:`STREAM_GUARD` lines below it: the rows under that (less the PSF's half
    width) are final. They get the double-bounce points and ships (added after the tiles, as
    the unstreamed sums did: each pixel's sum keeps its order, so the bytes do not depend on
    the block size), then go to the sink. Every tile is checked against the rows already
    released (:class:`~sarbd.simulate.stream.StreamingError`).
    """

    def __init__(
        self,
        plans: list[DatePlan],
        ramp: Any,
        sink: ImageSink,
        block_lines: int,
        points: list[_Scatterers] | None,
        point_w3: NDArray[np.float64] | None,
        ships: list[_Scatterers | None],
    ) -> None:
        self.plans = plans
        self.ramp = ramp
        self.sink = sink
        self.block = max(1, int(block_lines))
        self.points = points
        self.point_w3 = point_w3
        self.ships = ships
        rows = self.block + 4 * HALF_WIDTH
        self.segments: list[list[_Segment]] = []
        for p in plans:
            W = p.grid.width
            if ramp is None:
                self.segments.append(
                    [_Segment(0, RowWindow((2,), p.grid.length, W, np.complex64, rows))]
                )
            else:
                self.segments.append(
                    [
                        _Segment(s, RowWindow((2,), p.lines_per_burst, W, np.complex64, rows))
                        for s in p.burst_starts
                    ]
                )
        L, W = plans[0].grid.shape
        self.class_sums = RowWindow((_NCLASS + 1, 3), L, W, np.float32, rows)
        self.coh: list[RowWindow | None] = [None] + [
            RowWindow((4,), L, W, np.float32, rows) for _ in plans[1:]
        ]

    # -- truth -------------------------------------------------------------------------
    def _truth_windows(self) -> list[RowWindow]:
        return [self.class_sums] + [w for w in self.coh if w is not None]

    def advance_truth(self, first: NDArray[np.int64]) -> None:
        """Before a tile's reference date: check, release final truth rows, reach the tile."""
        for w in self._truth_windows():
            w.check(first, HALF_WIDTH)
        if first.size:
            final = int(first.min()) - STREAM_GUARD
            if final - self.class_sums.base >= self.block:
                self._release_truth(final)
            for w in self._truth_windows():
                w.reach(int(first.max()) + 2 * HALF_WIDTH)

    def _release_truth(self, hi: int) -> None:
        cs = self.class_sums
        hi = min(hi, cs.length)
        lo = cs.base
        if hi <= lo:
            return
        cs.reach(hi)
        if self.points is not None and self.point_w3 is not None:
            pt = self.points[0]
            i0, i1 = _reach(pt.sline, lo, hi)
            if i1 > i0:
                splat_class(
                    cs.rows(lo, hi),
                    pt.order[i0:i1],
                    np.ascontiguousarray(pt.sline[i0:i1] - lo),
                    pt.pix,
                    np.full(pt.pix.size, _NCLASS, np.int64),
                    self.point_w3,
                    _B_AZ,
                    _A_AZ,
                    _B_RG,
                    _A_RG,
                )
        rows = TruthRows(cs.release(hi), [None if w is None else w.release(hi) for w in self.coh])
        self.sink.truth_rows(lo, rows)

    # -- images ------------------------------------------------------------------------
    def advance_date(self, d: int, first: NDArray[np.int64]) -> None:
        """Before a tile's date ``d``: check, release the final rows of each segment, reach the tile."""
        for b, seg in enumerate(self.segments[d]):
            local = first - seg.start
            seg.window.check(local, HALF_WIDTH)
            if first.size:
                final = int(local.min()) - STREAM_GUARD
                if final - seg.window.base >= self.block:
                    self._release_rows(d, b, final)
                if int(local.max()) + 2 * HALF_WIDTH > 0:
                    seg.window.reach(int(local.max()) + 2 * HALF_WIDTH)

    def _release_rows(self, d: int, b: int, hi: int) -> None:
        seg = self.segments[d][b]
        w = seg.window
        hi = min(hi, w.length)
        lo = w.base
        if hi <= lo:
            return
        w.reach(hi)
        for extra in (None if self.points is None else self.points[d], self.ships[d]):
            if extra is not None:
                _splat_segment(self.plans[d], d, b, seg, lo, hi, extra, self.ramp)
        self.sink.image_rows(d, b, lo, w.release(hi))

    def splat(self, d: int, sc: _Scatterers) -> None:
        """Add a tile's scatterers of date ``d`` to every row its segments hold."""
        for b, seg in enumerate(self.segments[d]):
            _splat_segment(self.plans[d], d, b, seg, seg.window.base, seg.window.top, sc, self.ramp)

    def finish(self) -> None:
        """Release every row left (after the last tile)."""
        self._release_truth(self.class_sums.length)
        for d, segs in enumerate(self.segments):
            for b, seg in enumerate(segs):
                self._release_rows(d, b, seg.window.length)


def _reach(sline: NDArray[np.float64], lo: float, hi: float) -> tuple[int, int]:
    """Index range of the sorted lines whose taps reach rows ``[lo, hi)``."""
    return (
        int(np.searchsorted(sline, lo - HALF_WIDTH - 1.0)),
        int(np.searchsorted(sline, hi + HALF_WIDTH + 0.0)),
    )


def _first_rows(line: NDArray[np.float64], keep: NDArray[np.bool_]) -> NDArray[np.int64]:
    """First PSF tap row of the scatterers that reach the image's columns (``keep``)."""
    return np.floor(line[keep]).astype(np.int64) - HALF_WIDTH + 1


def _seed(cfg: SimulationConfig, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([cfg.seed, *key]))


def _sample_raster(
    raster: NDArray[Any], transform: Any, x: NDArray[np.float64], y: NDArray[np.float64], fill: Any
) -> NDArray[Any]:
    col = np.floor((x - transform.c) / transform.a).astype(np.int64)
    row = np.floor((y - transform.f) / transform.e).astype(np.int64)
    ok = (row >= 0) & (row < raster.shape[0]) & (col >= 0) & (col < raster.shape[1])
    out = np.full(x.shape, fill, dtype=raster.dtype)
    out[ok] = raster[row[ok], col[ok]]
    return out


def dn_scale(plans: list[DatePlan], height: float) -> tuple[float, float]:
    """Coefficients ``(c0, c1)`` of the ground line spacing ``dx_az(R) = c0 + c1 (R - R_mid)`` (m).

    From rdr2geo of the reference grid: the ground distance between points seen
    100 lines apart at the same slant range, at three ranges.
    """
    rdr2geo, _ = _geometry()
    g = plans[0].grid
    from sarbd.core.ellipsoid import llh_to_ecef

    ranges = np.array([g.starting_range, g.mid_range, g.ending_range])
    tm = g.line_to_azimuth_time((g.length - 1) / 2)
    dt = 100 * g.azimuth_time_interval
    la, lo, hh = rdr2geo(np.full(3, tm), ranges, plans[0].orbit, height=height)
    lb, lob, hb = rdr2geo(np.full(3, tm + dt), ranges, plans[0].orbit, height=height)
    d = np.linalg.norm(llh_to_ecef(la, lo, hh) - llh_to_ecef(lb, lob, hb), axis=-1) / 100.0
    c1 = (d[2] - d[0]) / (ranges[2] - ranges[0])
    return float(d[1]), float(c1)


def form_images(
    cfg: SimulationConfig,
    plans: list[DatePlan],
    land: Landscape,
    frame: Frame,
    classes: tuple[NDArray[np.uint8], Any],
    heights: tuple[NDArray[np.float32], Any],
    geoid: Any,
    *,
    ramp: Any = None,
    tile_scatterers: int | None = None,
    targets: Any = None,
    changes: Any = None,
    sink: ImageSink,
    block_lines: int = BLOCK_LINES,
) -> ImagingSummary:
    """Form the noise-free images of every date and the truth accumulators (see module docstring),
    streamed by lines into ``sink``.

    Parameters
    ----------
    ramp
        TOPS only: ``ramp(date, burst, line, pixel) -> phi`` (rad), the burst's deramping
        phase at burst-relative lines and pixels. Each burst is then imaged separately:
        a scatterer at ``(l_k, p_k)`` is splatted into the baseband burst with amplitude
        ``a_k exp(-j phi(l_k, p_k))`` and the burst is later multiplied by
        ``exp(j phi(l, p))``. Around the target this is
        ``h(l - l_k) exp(j 2 pi f_c(l_k) (t - t_k)) exp(j pi k_t (t - t_k)^2)``: the linear
        carrier of the target's own Doppler centroid ``f_c = f_dc + k_t (eta_k - eta_ref)``,
        and the peak keeps the geometric phase ``-4 pi R / lambda`` (phase-preserving
        focusing), whatever the burst timing of the date.
    classes, heights
        Class raster and building-height raster with their affine transforms.
    geoid
        ``geoid(lat, lon) -> N`` (m), EGM96 undulation.
    targets
        Optional :class:`~sarbd.simulate.targets.SeaTargets`: the power gain of open sea
        and oil slicks multiplies the distributed scatterers of each date (date 0's also
        the truth accumulators); the ships are imaged by the caller.
    changes
        Optional :class:`~sarbd.simulate.changes.LandChanges`: from its date on, a changed
        scatterer's power is scaled to the new class and its states are redrawn
        (never on date 0, so the truth accumulators are untouched).
    sink
        Receives every date's final baseband lines and the truth accumulators' final reference
        lines, in blocks of about ``block_lines`` (:class:`ImageSink`). The values do not depend
        on ``block_lines``: only the memory does (a few blocks of every date and of the truth
        accumulators, plus one tile's scatterers), so a full IW burst fits a laptop.
    tile_scatterers
        Scatterers per tile (default :data:`TILE_SCATTERERS`); part of the scene definition
        (each tile has its own random draws).
    """
    if tile_scatterers is None:
        tile_scatterers = TILE_SCATTERERS
    rdr2geo, geo2rdr = _geometry()
    _, inv = _to_map(cfg.crs)
    ref = plans[0].grid
    nd = len(plans)
    c0, c1 = dn_scale(
        plans,
        height=float(geoid(np.array([cfg.centre_lat]), np.array([cfg.centre_lon]))[0])
        + land.terrain.base,
    )
    r_mid = ref.mid_range
    k_phase = 4.0 * math.pi / S.WAVELENGTH

    sig = np.array([[c.sigma0("VV"), c.sigma0("VH")] for c in CLASSES])  # (C, 2)
    g0 = np.array([c.gamma0 for c in CLASSES])
    ginf = np.array([c.gamma_inf for c in CLASSES])
    tau = np.array([c.tau_days for c in CLASSES])
    days = np.array([p.days for p in plans])

    # double-bounce points and ships: geometry now, added to each block of lines when it is final
    points, point_w3, n_points = _point_scatterers(cfg, plans, land, geoid, c0, c1, r_mid)
    ships: list[_Scatterers | None] = [None] * nd
    positions: dict[int, dict[str, NDArray[np.float64]]] = {}
    if targets is not None:
        from sarbd.simulate.targets import ship_scatterers

        ship_list, positions = ship_scatterers(targets, plans, geoid, land.terrain, c0, c1, r_mid)
        ships = [None if v is None else _Scatterers.of(*v) for v in ship_list]
    stream = _Stream(plans, ramp, sink, block_lines, points, point_w3, ships)

    na, nr = frame.shape
    rows_per_tile = max(1, tile_scatterers // nr)
    n_total = 0
    for tile, a_start in enumerate(range(0, na, rows_per_tile)):
        a_idx = np.arange(a_start, min(na, a_start + rows_per_tile))
        rng = _seed(cfg, 1, tile)
        jit = rng.uniform(size=(2, a_idx.size, nr))
        a = frame.a0 + (a_idx[:, None] + jit[0]) * frame.da
        r = frame.r0 + (np.arange(nr)[None, :] + jit[1]) * frame.dr
        x = (frame.origin[0] + a * frame.e_a[0] + r * frame.e_r[0]).ravel()
        y = (frame.origin[1] + a * frame.e_a[1] + r * frame.e_r[1]).ravel()
        a_along = np.broadcast_to(a, (a_idx.size, nr)).ravel()
        del a, r, jit
        cls = _sample_raster(classes[0], classes[1], x, y, 0)
        keep = cls > 0
        x, y, cls, a_along = x[keep], y[keep], cls[keep], a_along[keep]
        ci = cls.astype(np.int64) - 1
        bh = np.where(cls == 1, _sample_raster(heights[0], heights[1], x, y, np.float32(0)), 0.0)
        lon, lat = inv.transform(x, y)
        lon = np.asarray(lon)
        lat = np.asarray(lat)
        h_ground = land.terrain.height(x, y) + geoid(lat, lon)
        h = h_ground + bh
        area = np.full(x.size, frame.cell_area)
        if cfg.hilly:
            e = 1.0
            gx = (land.terrain.height(x + e, y) - land.terrain.height(x - e, y)) / (2 * e)
            gy = (land.terrain.height(x, y + e) - land.terrain.height(x, y - e)) / (2 * e)
            area *= np.sqrt(1.0 + gx * gx + gy * gy)
        n = x.size
        n_total += n
        xyz = np.ascontiguousarray(llh_to_ecef(lat, lon, h))
        var = sig[ci] * area[:, None]  # (n, 2) expected |a|^2 in m^2
        gain = None if targets is None else targets.power_gain(x, y, nd)
        chg = None if changes is None else changes.effects(x, y, ci, nd)
        # reflectivity states (per polarisation)
        s_state = _cn(rng, (n, 2))
        m_state = _cn(rng, (n, 2))
        sq_inf = np.sqrt(ginf[ci])[:, None]
        sq_mid = np.sqrt(g0[ci] - ginf[ci])[:, None]
        sq_white = np.sqrt(1.0 - g0[ci])[:, None]
        roof = np.flatnonzero(bh > 0)
        p0: Any = None
        roof_w: Any = None
        roof_pix: Any = None
        roof_sort: Any = None
        for d, plan in enumerate(plans):
            drng = _seed(cfg, 2, tile, d)
            if d > 0:
                rho = np.where(
                    tau[ci] > 0, np.exp(-(days[d] - days[d - 1]) / np.maximum(tau[ci], 1e-12)), 0.0
                )
                m_state = rho[:, None] * m_state + np.sqrt(1.0 - rho * rho)[:, None] * _cn(
                    drng, (n, 2)
                )
                if (
                    chg is not None and chg[1][d].any()
                ):  # own generator: other draws keep their values
                    crng, sel = _seed(cfg, 41, tile, d), chg[1][d]
                    s_state[sel] = _cn(crng, (int(sel.sum()), 2))
                    m_state[sel] = _cn(crng, (int(sel.sum()), 2))
            z = sq_inf * s_state + sq_mid * m_state + sq_white * _cn(drng, (n, 2))
            g = plan.grid
            # first guess: the frame's along-track coordinate over the ground speed
            t_mid = float(g.line_to_azimuth_time((g.length - 1) / 2))
            tr_, ok = _zero_doppler(
                xyz,
                t_mid + a_along * (g.azimuth_time_interval / c0),
                plan.orbit.time,
                plan.orbit.positions,
                plan.orbit.velocities,
            )
            t, rr = tr_[:, 0], tr_[:, 1]
            line = (t + plan.timing_error - g.sensing_start) / g.azimuth_time_interval
            pix = (rr - g.starting_range) / g.range_pixel_spacing
            kdn = S.BETA_NOUGHT / np.sqrt((c0 + c1 * (rr - r_mid)) * g.range_pixel_spacing)
            amp = (kdn * np.exp(-1j * (k_phase * rr)))[:, None] * np.sqrt(var) * z
            if gain is not None:
                amp *= np.sqrt(gain[d])[:, None]
            if chg is not None:
                amp *= np.sqrt(chg[0][d])
            amp[~ok] = 0.0
            line = np.nan_to_num(line, nan=-1e9)
            pix = np.nan_to_num(pix, nan=-1e9)
            sc = _Scatterers.of(line, pix, amp)
            order, sline = sc.order, sc.sline
            first = _first_rows(line, ok & (pix > -HALF_WIDTH) & (pix < g.width + HALF_WIDTH - 1))
            if d == 0:
                stream.advance_truth(first)
            stream.advance_date(d, first)
            stream.splat(d, sc)
            if d == 0:
                t_ref, r_ref = t, rr
                w3 = np.column_stack([area, (kdn * kdn)[:, None] * var])
                if gain is not None:
                    w3[:, 1:] *= gain[0][:, None]
                w3[~ok] = 0.0
                cs = stream.class_sums
                i0, i1 = _reach(sline, cs.base, cs.top)
                splat_class(
                    cs.rows(cs.base, cs.top),
                    order[i0:i1],
                    np.ascontiguousarray(sline[i0:i1] - cs.base),
                    pix,
                    ci,
                    w3,
                    _B_AZ,
                    _A_AZ,
                    _B_RG,
                    _A_RG,
                )
                if roof.size:
                    # the terrain point seen at each roof scatterer's reference (time, range)
                    plat, plon, ph = rdr2geo(
                        t_ref[roof], r_ref[roof], plan.orbit, height=h_ground[roof]
                    )
                    p0 = (plat, plon, ph)
                    roof_w = ((kdn * kdn)[:, None] * var)[roof]
                    roof_w[~ok[roof]] = 0.0
                    roof_pix = pix[roof]
                    roof_sort = sort_by_line(line[roof])
            elif roof.size and p0 is not None:
                ci_r = ci[roof]
                gam = ginf[ci_r] + (g0[ci_r] - ginf[ci_r]) * np.where(
                    tau[ci_r] > 0, np.exp(-days[d] / np.maximum(tau[ci_r], 1e-12)), 0.0
                )
                _, r_sec0, ok0 = geo2rdr(
                    p0[0], p0[1], p0[2], plan.orbit, azimuth_time_guess=t[roof]
                )
                resid = np.where(ok0 & ok[roof], k_phase * (rr[roof] - r_sec0), 0.0)
                wv = roof_w * gam[:, None]
                w4 = np.column_stack(
                    [
                        wv[:, 0] * (np.cos(resid) - 1.0),
                        wv[:, 0] * np.sin(resid),
                        wv[:, 1] * (np.cos(resid) - 1.0),
                        wv[:, 1] * np.sin(resid),
                    ]
                )
                cw = stream.coh[d]
                assert cw is not None
                i0, i1 = _reach(roof_sort[1], cw.base, cw.top)
                splat_power(
                    cw.rows(cw.base, cw.top),
                    roof_sort[0][i0:i1],
                    np.ascontiguousarray(roof_sort[1][i0:i1] - cw.base),
                    roof_pix,
                    w4,
                    _B_AZ,
                    _A_AZ,
                    _B_RG,
                    _A_RG,
                )
        log.info(
            "imaging: scatterer rows %d/%d (%d scatterers)",
            min(na, a_start + rows_per_tile),
            na,
            n_total,
        )
    stream.finish()
    return ImagingSummary(n_total, n_points, positions)


def _splat_segment(
    plan: DatePlan,
    d: int,
    b: int,
    seg: _Segment,
    lo: int,
    hi: int,
    sc: _Scatterers,
    ramp: Any,
) -> None:
    """Add scatterers to rows ``[lo, hi)`` of a segment: the grid (stripmap), or burst ``b``
    with its carrier (TOPS: amplitude ``a_k exp(-j phi(l_k, p_k))`` in the baseband burst)."""
    if hi <= lo:
        return
    off = seg.start + lo  # grid line of the view's first row
    i0, i1 = _reach(sc.sline, off, seg.start + hi)
    if i1 <= i0:
        return
    view = seg.window.rows(lo, hi)
    rel = np.ascontiguousarray(sc.sline[i0:i1] - off)
    if ramp is None:
        splat_complex(view, sc.order[i0:i1], rel, sc.pix, sc.amp, _B_AZ, _A_AZ, _B_RG, _A_RG)
        return
    sel = sc.order[i0:i1]
    phase = ramp(d, b, sc.line[sel] - seg.start, sc.pix[sel])
    amp_b = sc.amp[sel] * np.exp(-1j * phase)[:, None]
    splat_complex(
        view,
        np.arange(sel.size),
        rel,
        np.ascontiguousarray(sc.pix[sel]),
        np.ascontiguousarray(amp_b),
        _B_AZ,
        _A_AZ,
        _B_RG,
        _A_RG,
    )


def _cn(rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.complex128]:
    """Circular complex Gaussian CN(0, 1)."""
    v = rng.standard_normal((*shape, 2))
    return np.asarray((v[..., 0] + 1j * v[..., 1]) * math.sqrt(0.5), dtype=np.complex128)


def _point_scatterers(
    cfg: SimulationConfig,
    plans: list[DatePlan],
    land: Landscape,
    geoid: Any,
    c0: float,
    c1: float,
    r_mid: float,
) -> tuple[list[_Scatterers] | None, NDArray[np.float64] | None, int]:
    """Double-bounce points: one per building, at the foot of its wall corner nearest the sensor.

    Returns each date's points (sorted by line), their reference-date truth weights
    ``(n, 3)`` (no area; expected VV and VH power) and their number.

    Radar cross-section log-uniform in 10-25 dBm^2 (VV), VH 12 dB lower; stable
    (coherence 1) with a fixed random phase (Franceschetti, G. et al. (2002),
    A canonical problem in electromagnetic backscattering from buildings, IEEE
    TGRS 40(8), 1787-1801: the wall-ground dihedral dominates).
    """
    _, geo2rdr = _geometry()
    _, inv = _to_map(cfg.crs)
    b = land.layers["building"]
    if len(b) == 0:
        return None, None, 0
    rng = _seed(cfg, 3)
    # the sensor is towards -e_r (near range) on the ground: pick the vertex with the smallest r
    ref = plans[0]
    g = ref.grid
    t_mid = g.line_to_azimuth_time((g.length - 1) / 2)
    sat = ref.orbit.position(t_mid)
    from sarbd.core.ellipsoid import ecef_to_llh

    slat, slon, _ = ecef_to_llh(sat)
    fwd, _ = _to_map(cfg.crs)
    sx, sy = fwd.transform(float(slon), float(slat))
    xs, ys = [], []
    for geom in b.geometry:
        poly = geom if geom.geom_type == "Polygon" else max(geom.geoms, key=lambda q: q.area)
        c = np.asarray(poly.exterior.coords)[:-1]
        k = int(np.argmin((c[:, 0] - sx) ** 2 + (c[:, 1] - sy) ** 2))
        xs.append(c[k, 0])
        ys.append(c[k, 1])
    x, y = np.array(xs), np.array(ys)
    lon, lat = inv.transform(x, y)
    lon, lat = np.asarray(lon), np.asarray(lat)
    h = land.terrain.height(x, y) + geoid(lat, lon)
    n = x.size
    rcs_vv = 10.0 ** (rng.uniform(1.0, 2.5, n))
    rcs = np.column_stack([rcs_vv, rcs_vv * 10 ** (-1.2)])
    phase = np.exp(1j * rng.uniform(0, 2 * np.pi, (n, 2)))
    k_phase = 4.0 * math.pi / S.WAVELENGTH
    out: list[_Scatterers] = []
    w3 = np.zeros((n, 3))
    for d, plan in enumerate(plans):
        t, rr, ok = geo2rdr(lat, lon, h, plan.orbit)
        gd = plan.grid
        line = np.nan_to_num(
            (t + plan.timing_error - gd.sensing_start) / gd.azimuth_time_interval, nan=-1e9
        )
        pix = np.nan_to_num((rr - gd.starting_range) / gd.range_pixel_spacing, nan=-1e9)
        kdn = S.BETA_NOUGHT / np.sqrt((c0 + c1 * (rr - r_mid)) * gd.range_pixel_spacing)
        amp = (kdn * np.exp(-1j * k_phase * rr))[:, None] * np.sqrt(rcs) * phase
        amp[~ok] = 0
        out.append(_Scatterers.of(line, pix, amp))
        if d == 0:  # the points are the last "class" of the sums (no area, coherence 1)
            w3 = np.column_stack([np.zeros(n), (kdn * kdn)[:, None] * rcs])
    return out, w3, n
