"""The residual constant shift of a resampled date: intensity cross-correlation on a central window.

:func:`estimate_residual_shift` measures it
(:func:`~sarbd.coregistration.refine.cross_correlation_shift`, Guizar-Sicairos et al.
2008); :func:`significant_shift` keeps what is worth correcting.
"""

from __future__ import annotations

from collections.abc import Callable

import dask.array as da
import numpy as np
from numpy.typing import NDArray

from sarbd.core.scene import Scene
from sarbd.coregistration.fields import DateOffsets
from sarbd.coregistration.offsets import OffsetModel
from sarbd.coregistration.refine import ShiftEstimate, cross_correlation_shift

__all__ = ["MIN_SHIFT", "estimate_residual_shift", "significant_shift"]

#: Smallest residual shifts (line, pixel) that refine="apply" corrects: annotation timing
#: errors are common in azimuth (ms); in range the orbit geometry is good to a few cm,
#: so only a gross error is corrected.
MIN_SHIFT = (0.005, 0.3)


def estimate_residual_shift(
    ref: Scene,
    offsets: DateOffsets,
    slc: da.Array,
    pol: str,
    deramp: Callable[[int, int, int, int], NDArray[np.float64]] | None = None,
) -> ShiftEstimate:
    """Intensity cross-correlation of the reference and a resampled secondary (central window).

    A window of at most 1024 x 1024 samples, away from the edges where the secondary
    may not cover the reference, in tiles of 256 x 256
    (:func:`~sarbd.coregistration.refine.cross_correlation_shift`).

    ``deramp(l0, nl, p0, npx) -> phi`` (TOPS): the reference's azimuth ramp (rad) on
    that window, removed from both images before the chips are oversampled. TOPS
    data sweep through more Doppler than the line rate within a tile, so their
    azimuth spectrum wraps around and FFT oversampling would distort the intensity
    (biasing the peak towards zero lag); deramped, it is baseband. ``|x|^2`` itself
    is unchanged.
    """
    g = ref.radar_grid
    if isinstance(offsets, OffsetModel):
        max_l, max_p = (
            np.nanmax(np.abs(offsets.line_offset)),
            np.nanmax(np.abs(offsets.pixel_offset)),
        )
    else:
        max_l, max_p = (abs(v) for v in offsets.median_offsets())
    margin_l = min(int(np.ceil(max_l)) + 2, g.length // 4)
    margin_p = min(int(np.ceil(max_p)) + 2, g.width // 4)
    nl, npx = min(1024, g.length - 2 * margin_l), min(1024, g.width - 2 * margin_p)
    l0, p0 = (g.length - nl) // 2, (g.width - npx) // 2
    m = np.asarray(ref.slc(pol).data[l0 : l0 + nl, p0 : p0 + npx].compute())
    s = np.asarray(slc[l0 : l0 + nl, p0 : p0 + npx].compute())
    if deramp is not None:
        phasor = np.exp(-1j * np.asarray(deramp(l0, nl, p0, npx)))
        m, s = m * phasor, s * phasor
    return cross_correlation_shift(m, s, tile=256)


def significant_shift(
    est: ShiftEstimate, min_shift: tuple[float, float] = MIN_SHIFT
) -> tuple[float, float]:
    """The parts of a shift estimate worth correcting (above 3 standard errors and ``min_shift``)."""
    if est.n == 0:
        return 0.0, 0.0
    dl = est.line if abs(est.line) > max(min_shift[0], 3 * est.line_std) else 0.0
    dp = est.pixel if abs(est.pixel) > max(min_shift[1], 3 * est.pixel_std) else 0.0
    return dl, dp
