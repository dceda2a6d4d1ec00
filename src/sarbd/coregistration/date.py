"""Coregistration of one secondary date onto a frame (non-TOPS-swath) reference: offsets,
resampling, range common band, refinement. TOPS swaths: :mod:`sarbd.coregistration.burst`.

1. DEM-assisted geometric offsets (:func:`~sarbd.coregistration.geometric.geometric_offsets`,
   coarse grid x height levels);
2. resampling with the tabulated Knab/sinc kernel
   (:func:`~sarbd.coregistration.warp.resample_image`), the azimuth ramp removed and
   restored (:func:`~sarbd.coregistration.ramps.azimuth_ramp`), the range spectrum
   cut to the band both products share (:func:`common_range_band`);
3. :func:`refine_frame`: the residual constant shift by intensity cross-correlation
   (:mod:`sarbd.coregistration.residual`), applied when significant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import dask.array as da
import numpy as np
from numpy.typing import NDArray

from sarbd.core.capabilities import ProcessedRangeBand
from sarbd.core.chunks import BlockChunks
from sarbd.core.scene import Scene
from sarbd.coregistration.fields import DateOffsets
from sarbd.coregistration.geometric import geometric_offsets
from sarbd.coregistration.offsets import OffsetModel
from sarbd.coregistration.ramps import azimuth_ramp
from sarbd.coregistration.refine import ShiftEstimate
from sarbd.coregistration.resample import InterpolationKernel
from sarbd.coregistration.residual import estimate_residual_shift, significant_shift
from sarbd.coregistration.sources import scene_reader
from sarbd.coregistration.warp import HeightReader, resample_image
from sarbd.errors import InputError
from sarbd.utils.log import get_logger

__all__ = ["DateResult", "Refine", "common_range_band", "coregister_frame", "refine_frame"]

log = get_logger(__name__)

Refine = Literal["off", "report", "apply"]


@dataclass
class DateResult:
    """What coregistration found for one secondary date."""

    scene: Scene
    offsets: DateOffsets  # OffsetModel (frame) or BurstOffsets (TOPS): as used for resampling
    geometric: DateOffsets | None = (
        None  # the geometric model before refinement (for the phase); default: offsets
    )
    refinement: ShiftEstimate | None = None
    esd: dict[str, float] = field(default_factory=dict)
    slc: dict[str, da.Array] = field(default_factory=dict)
    range_band: tuple[float, float] | None = None


def _band(scene: Scene) -> tuple[float, float] | None:
    """``(centre frequency, range bandwidth)`` in Hz, when the product states them."""
    p = scene.product
    fc: float | None = None
    bw: float | None = None
    if isinstance(p, ProcessedRangeBand):
        fc, bw = p.processed_center_frequency, p.processed_range_bandwidth
    if fc is None or bw is None:
        fc = scene.metadata.get("radar_frequency")
        bw = scene.metadata.get("range_bandwidth")
    if fc is None or bw is None:
        return None
    return float(fc), float(bw)


def common_range_band(ref: Scene, sec: Scene) -> tuple[float, float] | None:
    """The secondary's range band (cycles per secondary sample) shared with the reference.

    ``None`` when both products have the same band (or do not state it). The band in
    absolute frequency is ``[max(lo_ref, lo_sec), min(hi_ref, hi_sec)]``; it is
    expressed in the secondary's baseband and normalised by its range sampling rate.
    """
    a, b = _band(ref), _band(sec)
    if a is None or b is None:
        return None
    lo = max(a[0] - a[1] / 2, b[0] - b[1] / 2)
    hi = min(a[0] + a[1] / 2, b[0] + b[1] / 2)
    if hi <= lo:
        raise InputError(
            "the reference and secondary range spectra do not overlap",
            path=sec.metadata.get("source_path"),
            hint="use products of the same band",
        )
    if hi - lo >= 0.99 * b[1]:
        return None  # the secondary has nothing outside the common band
    fs = sec.radar_grid.range_sampling_rate
    return (lo - b[0]) / fs, (hi - b[0]) / fs


def _resampled(
    ref: Scene,
    sec: Scene,
    model: OffsetModel,
    pols: tuple[str, ...] | list[str],
    *,
    kernel: InterpolationKernel,
    read_height: HeightReader,
    chunks: BlockChunks,
    band: tuple[float, float] | None,
) -> dict[str, da.Array]:
    ramp = azimuth_ramp(sec)
    return {
        pol: resample_image(
            scene_reader(sec, pol),
            sec.shape,
            model,
            ref.shape,
            chunks=(chunks[0][0], chunks[1][0]),
            kernel=kernel,
            ramp=ramp,
            height=read_height,
            range_band=band,
        )
        for pol in pols
    }


def coregister_frame(
    ref: Scene,
    sec: Scene,
    pols: tuple[str, ...],
    *,
    kernel: InterpolationKernel,
    levels: NDArray[np.float64],
    read_height: HeightReader,
    offset_step: tuple[int, int],
    chunks: BlockChunks,
) -> DateResult:
    """Stripmap (or any single-frame) scene: one offset model, one ramp.

    ``chunks`` are Dask's normalised chunks of the reference grid; ``levels`` the height
    levels (m) of the offset model; ``read_height`` reads the reference heights.
    """
    model = geometric_offsets(
        ref.radar_grid, ref.orbit, sec.radar_grid, sec.orbit, heights=levels, step=offset_step
    )
    band = common_range_band(ref, sec)
    res = DateResult(scene=sec, offsets=model, range_band=band)
    res.slc = _resampled(
        ref, sec, model, pols, kernel=kernel, read_height=read_height, chunks=chunks, band=band
    )
    return res


def refine_frame(
    ref: Scene,
    res: DateResult,
    pol: str,
    mode: Refine,
    kernel: InterpolationKernel,
    read_height: HeightReader,
    chunks: BlockChunks,
    sec: Scene,
) -> DateResult:
    """Estimate the residual constant shift by intensity cross-correlation (and apply it: ``mode="apply"``)."""
    est = estimate_residual_shift(ref, res.offsets, res.slc[pol], pol)
    res.refinement = est
    log.info(
        "residual shift of %s: %.4f lines, %.4f pixels (+- %.4f, %.4f; %d tiles)",
        sec.metadata.get("source_path", "secondary"),
        est.line,
        est.pixel,
        est.line_std,
        est.pixel_std,
        est.n,
    )
    if mode == "apply" and isinstance(res.offsets, OffsetModel):
        dl, dp = significant_shift(est)
        if dl or dp:
            model = res.offsets.shifted(dl, dp)
            new = DateResult(
                scene=sec,
                offsets=model,
                geometric=res.offsets,
                refinement=est,
                esd=res.esd,
                range_band=res.range_band,
            )
            new.slc = _resampled(
                ref,
                sec,
                model,
                list(res.slc),
                kernel=kernel,
                read_height=read_height,
                chunks=chunks,
                band=res.range_band,
            )
            return new
    return res
