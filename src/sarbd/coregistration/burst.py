"""TOPS coregistration burst by burst, ESD, and debursting onto the reference's merged grid.

The reference is a debursted (merged) Sentinel-1 TOPS swath: merged line ``i``
between the cuts ``c_{k-1} <= i < c_k`` (middle of the valid burst overlaps) holds
line ``round(i - s_k)`` of reference burst ``k`` (``s_k``: the burst's start in merged
lines, :class:`sarbd.products.sentinel1.DeburstPlan`). For every reference burst:

1. the merged rows it supplies form a window of the burst's *own* grid (exact burst
   timing, not the merged grid's nominal timing);
2. the secondary burst covering the same times is found, and geometric offsets from
   that window to the secondary burst's grid are computed (DEM, height levels);
3. the secondary burst is deramped with its own Doppler centroid / FM rate / steering
   ramp, resampled, and reramped at the resampled positions
   (:mod:`sarbd.coregistration.tops`);
4. rows outside the reference's valid samples are set to 0, as in the reference.

ESD (:func:`sarbd.coregistration.refine.esd_shift`) on the burst overlaps measures the
residual azimuth misregistration; it is added to every burst's line offsets and the
secondary resampled again (Fattahi et al. 2017).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import dask.array as da
import numpy as np
from numpy.typing import NDArray

from sarbd.core.capabilities import DeburstMap, TopsBurstTiming
from sarbd.core.chunks import BlockChunks
from sarbd.core.radar_grid import RadarGrid
from sarbd.core.scene import Scene
from sarbd.coregistration.date import DateResult
from sarbd.coregistration.fields import geometric_phase_array, offset_arrays
from sarbd.coregistration.geometric import geometric_offsets
from sarbd.coregistration.offsets import OffsetModel
from sarbd.coregistration.ramps import azimuth_ramp
from sarbd.coregistration.refine import esd_shift
from sarbd.coregistration.resample import InterpolationKernel
from sarbd.coregistration.residual import estimate_residual_shift, significant_shift
from sarbd.coregistration.sources import HeightRaster, scene_reader
from sarbd.coregistration.tops import AzimuthRamp, burst_doppler_difference
from sarbd.coregistration.warp import resample_image, warp_block
from sarbd.errors import NoOverlapError
from sarbd.insar.coherence import coherence as coherence_fn
from sarbd.insar.interferogram import interferogram
from sarbd.utils.log import get_logger

__all__ = ["BurstOffsets", "Segment", "burst_boundary_phase_jumps", "coregister_tops"]

log = get_logger(__name__)


@dataclass
class Segment:
    """The merged rows ``rows[0]:rows[1]`` of the reference, taken from reference burst ``ref_burst``.

    ``grid`` is the window of the reference burst's own grid those rows are;
    ``sec_burst``/``sec_grid``/``sec_scene`` the secondary burst that covers them and
    ``sec_start`` its start ``s_m`` in the secondary's merged lines; ``model`` the
    offsets from ``grid`` to the secondary burst (its own line indices); ``ramp`` the
    secondary burst's azimuth ramp and ``ref_ramp`` the reference burst's.
    """

    rows: tuple[int, int]
    ref_burst: int
    burst_row0: int
    grid: RadarGrid
    sec_burst: int
    sec_scene: Scene
    sec_start: float
    model: OffsetModel
    geometric: OffsetModel
    ramp: AzimuthRamp | None
    ref_ramp: AzimuthRamp | None


@dataclass
class BurstOffsets:
    """Per-segment offset models of a TOPS date (the stack's ``offsets`` for TOPS)."""

    segments: list[Segment]
    shape: tuple[int, int]
    geometric_only: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def median_offsets(self) -> tuple[float, float]:
        """Median line / pixel offset, in the secondary's merged lines."""
        dl = [
            float(np.nanmedian(s.model.line_offset)) + s.sec_start - s.rows[0]
            for s in self.segments
        ]
        dp = [float(np.nanmedian(s.model.pixel_offset)) for s in self.segments]
        return float(np.median(dl)), float(np.median(dp))

    def _concat(self, parts: list[tuple[int, da.Array]], h_da: da.Array, dtype: Any) -> da.Array:
        out = []
        pos = 0
        for a, arr in parts:
            if a > pos:
                out.append(
                    da.zeros(
                        (a - pos, self.shape[1]), dtype=dtype, chunks=(a - pos, h_da.chunks[1])
                    )
                )
            out.append(arr)
            pos = a + arr.shape[0]
        if pos < self.shape[0]:
            out.append(
                da.zeros(
                    (self.shape[0] - pos, self.shape[1]),
                    dtype=dtype,
                    chunks=(self.shape[0] - pos, h_da.chunks[1]),
                )
            )
        return da.concatenate(out, axis=0).rechunk(h_da.chunks)

    def offset_arrays(self, h_da: da.Array) -> tuple[da.Array, da.Array]:
        """Full-resolution offsets in merged lines (secondary merged line minus reference merged line)."""
        lp, pp = [], []
        for s in self.segments:
            a, b = s.rows
            model = s.geometric if self.geometric_only else s.model
            dl, dp = offset_arrays(model, h_da[a:b].rechunk((b - a, h_da.chunks[1])))
            lp.append((a, dl + np.float32(s.sec_start - a)))
            pp.append((a, dp))
        return self._concat(lp, h_da, np.float32), self._concat(pp, h_da, np.float32)

    def phase(self, h_da: da.Array) -> da.Array:
        """Geometric phase ``-4 pi / lambda (R_ref - R_sec)`` on the merged grid."""
        parts = []
        for s in self.segments:
            a, b = s.rows
            parts.append(
                (
                    a,
                    geometric_phase_array(
                        s.geometric,
                        s.grid,
                        s.sec_scene.radar_grid,
                        h_da[a:b].rechunk((b - a, h_da.chunks[1])),
                    ),
                )
            )
        return self._concat(parts, h_da, np.float64)


def _timing(scene: Scene) -> TopsBurstTiming:
    """The scene's TOPS burst timing (its product must provide it)."""
    p = scene.product
    if not isinstance(p, TopsBurstTiming):
        raise TypeError(
            f"{type(p).__name__} provides no TOPS burst timing "
            "(sarbd.core.capabilities.TopsBurstTiming)"
        )
    return p


def _deburst(scene: Scene) -> DeburstMap:
    """How the lines of a debursted TOPS swath map onto its bursts (see ``ramps.is_tops_swath``)."""
    plan = _timing(scene).deburst
    if plan is None:
        raise TypeError(f"{scene} is not a debursted TOPS swath (its product has no deburst map)")
    return plan


def _burst_time(scene: Scene, k: int) -> float:
    b = _timing(scene).bursts[k]
    return float((b.azimuth_time - scene.radar_grid.reference_epoch) / np.timedelta64(1, "s"))


def _segments(
    ref: Scene, sec: Scene, levels: NDArray[np.float64], offset_step: tuple[int, int]
) -> list[Segment]:
    from sarbd.geometry import geo2rdr, rdr2geo
    from sarbd.products import burst_scene

    plan, ref_timing, sec_timing = _deburst(ref), _timing(ref), _timing(sec)
    g = ref.radar_grid
    lines = np.arange(g.first_line, g.first_line + g.length)
    bursts = plan.burst[lines]
    tiff = plan.tiff_line[lines]
    sec_plan = _deburst(sec)
    sec_times = np.array([_burst_time(sec, m) for m in range(len(sec_timing.bursts))])
    segments = []
    for k in np.unique(bursts[bursts >= 0]):
        rows = np.flatnonzero((bursts == k) & (tiff >= 0))
        if rows.size == 0:
            continue
        a, b = int(rows[0]), int(rows[-1]) + 1
        rb = burst_scene(ref, int(k))
        burst = ref_timing.bursts[int(k)]
        u0 = int(tiff[a]) - burst.line_offset - (rb.radar_grid.first_line - burst.line_offset)
        seg_grid = rb.radar_grid.window(u0, 0, b - a, rb.radar_grid.width)
        # the secondary burst whose centre is closest in time to when the secondary saw
        # this segment's centre (geo2rdr of its ground point on the secondary orbit)
        mid = seg_grid.with_epoch(ref.orbit.reference_epoch)
        lat, lon, hh = rdr2geo(
            float(mid.line_to_azimuth_time((b - a - 1) / 2)),
            mid.mid_range,
            ref.orbit,
            height=float(np.mean(levels)),
            look_side=mid.look_side,
        )
        t_sec, _, ok = geo2rdr(lat, lon, hh, sec.orbit, look_side=mid.look_side)
        if not bool(ok):
            continue
        t_sec_grid = float(
            (sec.orbit.to_datetime(np.atleast_1d(t_sec))[0] - sec.radar_grid.reference_epoch)
            / np.timedelta64(1, "s")
        )
        sec_mid = sec_times + sec_timing.lines_per_burst / 2 * sec.radar_grid.azimuth_time_interval
        m = int(np.argmin(np.abs(sec_mid - t_sec_grid)))
        sb = burst_scene(sec, m)
        model = geometric_offsets(
            seg_grid, ref.orbit, sb.radar_grid, sb.orbit, heights=levels, step=offset_step
        )
        segments.append(
            Segment(
                rows=(a, b),
                ref_burst=int(k),
                burst_row0=u0,
                grid=seg_grid,
                sec_burst=m,
                sec_scene=sb,
                sec_start=float(sec_plan.burst_start_line[m]),
                model=model,
                geometric=model,
                ramp=azimuth_ramp(sb, burst=m),
                ref_ramp=azimuth_ramp(rb, burst=int(k)),
            )
        )
    if not segments:
        raise NoOverlapError(
            "the reference TOPS swath has no burst lines", path=ref.metadata.get("source_path")
        )
    return segments


def _valid_mask_rows(ref: Scene, a: int, b: int) -> tuple[NDArray[np.integer], NDArray[np.integer]]:
    plan = _deburst(ref)
    g = ref.radar_grid
    lines = np.arange(g.first_line + a, g.first_line + b)
    return plan.first_valid[lines] - g.first_pixel, plan.last_valid[lines] - g.first_pixel


def _resample_segments(
    ref: Scene,
    segments: list[Segment],
    pol: str,
    kernel: InterpolationKernel,
    height: HeightRaster,
    chunks: BlockChunks,
    reramp_with: str = "secondary",
) -> da.Array:
    g = ref.radar_grid
    parts: list[da.Array] = []
    pos = 0
    for s in segments:
        a, b = s.rows
        if a > pos:
            parts.append(
                da.zeros((a - pos, g.width), dtype=np.complex64, chunks=(a - pos, chunks[1]))
            )
        sb = s.sec_scene

        def read_h(lines: slice, pixels: slice, a: int = a, b: int = b) -> NDArray[np.float64]:
            lo = min(max(a + lines.start, 0), g.length - 1)
            hi = min(max(a + lines.stop, lo + 1), g.length)
            return np.asarray(height[lo:hi, pixels], dtype=np.float64)

        reramp = None
        if reramp_with == "reference" and s.ref_ramp is not None:
            ref_ramp, row0 = s.ref_ramp, s.burst_row0

            def reramp(
                lines: Any, pixels: Any, ref_ramp: AzimuthRamp = ref_ramp, row0: int = row0
            ) -> Any:
                return ref_ramp(lines + row0, pixels)

        arr = resample_image(
            scene_reader(sb, pol),
            sb.shape,
            s.model,
            (b - a, g.width),
            chunks=(b - a, chunks[1][0]),
            kernel=kernel,
            ramp=s.ramp,
            height=read_h,
            reramp=reramp,
        )
        first, last = _valid_mask_rows(ref, a, b)
        cols = np.arange(g.width)[None, :]
        valid = (cols >= first[:, None]) & (cols <= last[:, None]) & (first[:, None] >= 0)
        parts.append(da.where(da.from_array(valid, chunks=arr.chunks), arr, np.complex64(0)))
        pos = b
    if pos < g.length:
        parts.append(
            da.zeros(
                (g.length - pos, g.width), dtype=np.complex64, chunks=(g.length - pos, chunks[1])
            )
        )
    return da.concatenate(parts, axis=0).rechunk(chunks)


def _overlap_ifgs(
    ref: Scene,
    segments: list[Segment],
    pol: str,
    kernel: InterpolationKernel,
    height: HeightRaster,
    reramp_with: str = "secondary",
) -> list[tuple[Any, Any, Any, Any, Any]]:
    """For each pair of consecutive segments: the burst-overlap interferograms of both bursts.

    Returns ``(ifg_first, ifg_second, delta_fdc, coherence_first, coherence_second)`` per overlap.
    """
    from sarbd.products import burst_scene

    g = ref.radar_grid
    out = []
    for s1, s2 in itertools.pairwise(segments):
        if s2.ref_burst != s1.ref_burst + 1:
            continue
        b1 = _timing(ref).bursts[s1.ref_burst]
        b2 = _timing(ref).bursts[s2.ref_burst]
        v1 = b1.valid_lines
        v2 = b2.valid_lines
        # the overlap in burst-1 local lines: from where burst 2's valid lines start to
        # the last valid line of burst 1 (same zero-Doppler times: u2 = u1 - shift)
        t1 = (
            s1.grid.line_to_azimuth_time(0) - s1.burst_row0 * g.azimuth_time_interval
        )  # burst-1 line 0
        t2 = s2.grid.line_to_azimuth_time(0) - s2.burst_row0 * g.azimuth_time_interval
        shift = (t2 - t1) / g.azimuth_time_interval  # burst-2 line 0 in burst-1 lines
        u_lo = int(np.ceil(shift + v2[0]))
        u_hi = int(np.floor(min(v1[1], shift + v2[1])))
        if u_hi - u_lo + 1 < 2:
            continue
        u1 = np.arange(u_lo, u_hi + 1, dtype=np.float64)
        u2 = u1 - shift  # fractional: burst start times are not whole lines apart
        pixels = np.arange(g.width, dtype=np.float64)
        rb1, rb2 = burst_scene(ref, s1.ref_burst), burst_scene(ref, s2.ref_burst)
        # heights of the overlap rows (merged rows nearest to those times)
        rows = np.clip(np.round(u1 - s1.burst_row0 + s1.rows[0]).astype(int), 0, g.length - 1)
        h = height[rows].astype(np.float64)
        # reference burst samples (burst 2 interpolated at fractional lines, deramped)
        m1 = np.asarray(
            scene_reader(rb1, pol)(slice(int(u1[0]), int(u1[-1]) + 1), slice(0, g.width))
        )
        m2 = warp_block(
            scene_reader(rb2, pol),
            rb2.shape,
            OffsetModel.constant(0.0, 0.0, rb2.shape),
            u2,
            pixels,
            kernel,
            ramp=s2.ref_ramp,
        )
        # secondary: each burst resampled onto the overlap lines with its own model
        sec1 = _warp_rows(s1, pol, u1 - s1.burst_row0, pixels, kernel, h, reramp_with)
        sec2 = _warp_rows(s2, pol, u2 - s2.burst_row0, pixels, kernel, h, reramp_with)
        i1 = interferogram(m1, sec1)
        i2 = interferogram(m2, sec2)
        lines_1 = u1[:, None] + 0 * pixels[None, :]
        lines_2 = u2[:, None] + 0 * pixels[None, :]
        dfdc = (
            burst_doppler_difference(
                s1.ref_ramp,
                s2.ref_ramp,
                lines_1 + b1.line_offset - rb1.radar_grid.first_line,
                lines_2 + b2.line_offset - rb2.radar_grid.first_line,
                pixels,
            )
            if s1.ref_ramp is not None and s2.ref_ramp is not None
            else np.zeros(i1.shape)
        )
        window = (min(2, i1.shape[0]), 10)
        c1 = coherence_fn(i1, np.abs(m1) ** 2, np.abs(sec1) ** 2, window=window)
        c2 = coherence_fn(i2, np.abs(m2) ** 2, np.abs(sec2) ** 2, window=window)
        out.append((i1, i2, dfdc, c1, c2))
    return out


def _deramp_phase(
    segments: list[Segment], l0: int, nl: int, p0: int, npx: int
) -> NDArray[np.float64]:
    """The reference bursts' azimuth ramp (rad) on merged rows ``l0:l0+nl``, pixels ``p0:p0+npx``."""
    out = np.zeros((nl, npx))
    pix = np.arange(p0, p0 + npx, dtype=np.float64)[None, :]
    for s in segments:
        a, b = max(s.rows[0], l0), min(s.rows[1], l0 + nl)
        if s.ref_ramp is None or b <= a:
            continue
        rows = np.arange(a, b, dtype=np.float64)[:, None] - s.rows[0] + s.burst_row0
        out[a - l0 : b - l0] = s.ref_ramp(rows, pix)
    return out


def _warp_rows(
    seg: Segment,
    pol: str,
    rows: NDArray[np.float64],
    pixels: NDArray[np.float64],
    kernel: InterpolationKernel,
    height: NDArray[np.float64],
    reramp_with: str = "secondary",
) -> NDArray[np.complex64]:
    """Resample the segment's secondary burst at fractional rows of the segment grid."""
    sb = seg.sec_scene
    dl, dp = seg.model.evaluate_points(
        np.repeat(rows[:, None], pixels.size, 1), np.repeat(pixels[None, :], rows.size, 0), height
    )
    from sarbd.coregistration.resample import resample_block

    line_pos = rows[:, None] + dl
    pixel_pos = pixels[None, :] + dp
    y0 = max(int(np.floor(np.nanmin(line_pos))) - kernel.taps, 0)
    y1 = min(int(np.ceil(np.nanmax(line_pos))) + kernel.taps + 1, sb.shape[0])
    if y1 - y0 < 1:
        log.debug(
            "ESD: overlap rows %s map outside secondary burst %d", rows[[0, -1]], seg.sec_burst
        )
        return np.zeros(line_pos.shape, dtype=np.complex64)
    src = scene_reader(sb, pol)(slice(y0, y1), slice(0, sb.shape[1]))
    if seg.ramp is not None:
        ys = np.arange(y0, y1, dtype=np.float64)[:, None]
        xs = np.arange(sb.shape[1], dtype=np.float64)[None, :]
        src = (src * np.exp(-1j * seg.ramp(ys, xs))).astype(np.complex64)
    out = resample_block(src, line_pos - y0, pixel_pos, kernel=kernel)
    if reramp_with == "reference" and seg.ref_ramp is not None:
        out = (
            out * np.exp(1j * seg.ref_ramp(rows[:, None] + seg.burst_row0, pixels[None, :]))
        ).astype(np.complex64)
    elif seg.ramp is not None:
        out = (out * np.exp(1j * seg.ramp(line_pos, pixel_pos))).astype(np.complex64)
    return out


def coregister_tops(
    ref: Scene,
    sec: Scene,
    pols: tuple[str, ...],
    *,
    kernel: InterpolationKernel,
    levels: NDArray[np.float64],
    height: HeightRaster,
    offset_step: tuple[int, int],
    chunks: BlockChunks,
    esd: bool = True,
    esd_iterations: int = 2,
    reramp_with: str = "secondary",
    refine: str = "apply",
    esd_max_correction: float = 0.1,
) -> DateResult:
    """Coregister one TOPS secondary onto the merged reference grid (see the module docstring).

    ``reramp_with``: how the resampled secondary burst gets its azimuth phase back:
    ``"secondary"`` (its own ramp at the resampled positions; isce2, SNAP and
    methods-and-standards §4 -- right for focused TOPS data, whose point-target
    responses carry the ramp relative to their own position) or ``"reference"`` (the
    reference burst's ramp at the reference positions, i.e. an interferogram of
    deramped data; right for data whose ramp is tied to the burst lines only).

    ``refine``: intensity cross-correlation before ESD (``"report"`` or ``"apply"``):
    ESD is ambiguous beyond ``1 / (2 Delta f_DC dt)`` (about 0.05 line for Sentinel-1
    IW), so a larger timing error is first corrected coarsely; an ESD correction larger
    than ``esd_max_correction`` lines is rejected (logged, not applied).
    """
    segments = _segments(ref, sec, levels, offset_step)
    info: dict[str, float] = {}
    estimate = None
    if refine != "off":
        probe = _resample_segments(ref, segments, pols[0], kernel, height, chunks, reramp_with)
        estimate = estimate_residual_shift(
            ref,
            BurstOffsets(segments, ref.shape),
            probe,
            pols[0],
            deramp=lambda *w: _deramp_phase(segments, *w),
        )
        log.info(
            "TOPS residual shift before ESD: %.4f lines, %.4f pixels (%d tiles)",
            estimate.line,
            estimate.pixel,
            estimate.n,
        )
        if refine == "apply":
            dl, dp = significant_shift(estimate)
            for s in segments:
                s.model = s.model.shifted(dl, dp)
    if esd:
        total = 0.0
        for _ in range(esd_iterations):
            ov = _overlap_ifgs(ref, segments, pols[0], kernel, height, reramp_with)
            if not ov:
                log.warning("ESD: no burst overlaps; azimuth not refined")
                break
            corr, std, n = esd_shift(
                [(o[0], o[1], o[2]) for o in ov],
                ref.radar_grid.azimuth_time_interval,
                coherence=[np.sqrt(np.clip(o[3] * o[4], 0, 1)) for o in ov],
            )
            if not np.isfinite(corr):
                log.warning("ESD: no coherent overlap samples; azimuth not refined")
                break
            if abs(corr) > esd_max_correction:
                # after geometric (and cross-correlation) alignment a correction this large
                # is not credible: an ESD phase outside its ambiguity interval, or data
                # whose ramps do not match their annotation
                log.warning(
                    "ESD: correction of %.3f lines rejected (more than %.2f); azimuth not refined",
                    corr,
                    esd_max_correction,
                )
                info.update(rejected=corr)
                break
            total += corr
            info.update(correction=total, std=std, samples=float(n))
            for s in segments:
                s.model = s.model.shifted(corr, 0.0)
            log.info("ESD: azimuth correction %.5f lines (+- %.5f, %d samples)", total, std, n)
            if abs(corr) < 1e-4:
                break
    offsets = BurstOffsets(segments, ref.shape)
    geometric = BurstOffsets(segments, ref.shape, geometric_only=True)
    res = DateResult(scene=sec, offsets=offsets, geometric=geometric, esd=info, refinement=estimate)
    for pol in pols:
        res.slc[pol] = _resample_segments(ref, segments, pol, kernel, height, chunks, reramp_with)
    return res


def burst_boundary_phase_jumps(
    interferogram: NDArray[np.complexfloating],
    cut_rows: list[int],
    coherence: NDArray[np.floating] | None = None,
    rows: int = 1,
) -> list[float]:
    """Phase jump (rad) across each burst cut of a flattened, debursted interferogram.

    The interferometric phase changes smoothly along azimuth; an azimuth
    misregistration ``e`` (lines) in TOPS shows as a jump ``2 pi Delta f_DC e dt`` at
    the cuts, where the data switch from burst ``i`` to burst ``i + 1`` (Doppler
    centroids ``Delta f_DC`` apart; Prats-Iraola et al. 2012, TGRS 50(8), sec. II).

    Each row is first summed along range (``p_r = sum_j w ifg[r, j]``: the row's mean
    phasor, so the interferogram should be flattened). The jump at cut ``c`` is the
    phase of the ``k = rows`` row sums after the cut relative to the ``k`` before,
    ``arg (sum_{c..c+k-1} p) (sum_{c-k..c-1} p)^*``, minus ``k`` times the phase
    gradient per row, ``arg (sum p_{r+L} p_r^*) / L`` over the row pairs ``L =
    max(1, (k + 1) // 2)`` apart inside the ``k + 1`` rows on each side (rows
    ``c-k-1 .. c+k``; no pair straddles the cut), which removes a smooth phase
    gradient (the lag keeps the gradient's noise, multiplied by ``k``, from
    dominating). Row sums rather than per-pixel products of adjacent rows: the
    latter carry the azimuth spectral shift of the decorrelated part (a bias of
    ``2 pi (f_ref - f_sec) dt`` per row when the two dates' bursts are not aligned).

    Parameters
    ----------
    interferogram
        Complex, flattened interferogram on the debursted grid (rows: lines).
    cut_rows
        First row of each burst after a cut.
    coherence
        Optional weights (same shape), e.g. the coherence.
    rows
        Rows ``k`` on each side of the cut (>= 1); the noise of the jump falls as
        ``1 / sqrt(k)`` while the phase is smooth over ``2 k + 2`` rows.

    Returns
    -------
    list of float
        One jump (rad, in ``(-pi, pi]``) per cut with ``k + 1`` rows on both sides
        inside the array; cuts too close to an edge are skipped.
    """
    k = max(int(rows), 1)
    ifg = np.asarray(interferogram)
    w = np.ones(ifg.shape) if coherence is None else np.asarray(coherence, dtype=np.float64)
    p = np.nansum(np.where(np.isfinite(w), w, 0.0) * ifg, axis=1)
    jumps = []
    for c in cut_rows:
        if c - k - 1 < 0 or c + k >= p.size:
            continue
        across = np.angle(np.sum(p[c : c + k]) * np.conj(np.sum(p[c - k : c])))
        before = p[c - k - 1 : c]
        after = p[c : c + k + 1]
        lag = max(1, (k + 1) // 2)
        step = np.sum(before[lag:] * np.conj(before[:-lag])) + np.sum(
            after[lag:] * np.conj(after[:-lag])
        )
        jumps.append(float(np.angle(np.exp(1j * (across - k * np.angle(step) / lag)))))
    return jumps
