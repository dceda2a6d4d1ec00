"""DEM-assisted geometric offsets between a reference and a secondary acquisition.

For each reference pixel (line ``i``, pixel ``j``) at azimuth time ``t_ref(i)`` and
slant range ``R_ref(j)``, the ground point ``P`` at height ``h`` is found with
``rdr2geo`` on the reference orbit; ``geo2rdr`` on the secondary orbit gives the
secondary's zero-Doppler time and range of ``P``, hence its line and pixel in the
secondary scene. The offset field is the secondary position minus the reference
position (SNAP BackGeocoding, isce3 ``geo2rdr`` + ``resamp``, Doris ``xyz2t``).

The offsets are computed exactly on a coarse (line, pixel) grid at a few ground
heights spanning the DEM (:class:`~sarbd.coregistration.offsets.OffsetModel`); with the
reference-grid height raster they are interpolated to every pixel. The same model
gives the secondary's slant range to each ground point, ``R_sec = R0_sec + (j + dp)
* dR_sec``, for the geometric (flat-earth + topographic) interferometric phase.

References
----------
Sansosti, E., Berardino, P., Manunta, M., Serafino, F. & Fornaro, G. (2006). Geometrical
SAR image registration. IEEE TGRS 44(10), 2861-2870.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.coregistration.offsets import OffsetModel, coarse_axis
from sarbd.errors import InputError, NoOverlapError
from sarbd.utils.log import get_logger

__all__ = ["geometric_offsets", "height_levels", "range_difference"]

log = get_logger(__name__)


def height_levels(
    h_min: float, h_max: float, n: int = 4, margin: float = 50.0
) -> NDArray[np.float64]:
    """``n`` Chebyshev-spaced heights covering ``[h_min - margin, h_max + margin]`` (m).

    Chebyshev nodes keep the Lagrange interpolation in height well conditioned; with
    offsets nearly linear in height, 3 or 4 levels leave errors far below 1e-4 pixel.
    """
    if not (np.isfinite(h_min) and np.isfinite(h_max)):
        raise InputError("height range is not finite (is the DEM empty over the scene?)")
    if n == 1:
        return np.array([0.5 * (h_min + h_max)])
    lo, hi = h_min - margin, h_max + margin
    k = np.arange(n)
    nodes = np.cos((2 * k + 1) * np.pi / (2 * n))[::-1]  # in (-1, 1), increasing
    # stretch so the outer nodes hit the ends of the interval
    nodes = nodes / nodes[-1]
    return 0.5 * (lo + hi) + 0.5 * (hi - lo) * nodes


def geometric_offsets(
    reference_grid: RadarGrid,
    reference_orbit: Orbit,
    secondary_grid: RadarGrid,
    secondary_orbit: Orbit,
    *,
    heights: NDArray[np.float64] | float = 0.0,
    step: tuple[int, int] = (64, 64),
) -> OffsetModel:
    """Geometric offsets (secondary minus reference position) on a coarse grid.

    Parameters
    ----------
    reference_grid, reference_orbit
        Reference radar grid (zero-Doppler) and orbit.
    secondary_grid, secondary_orbit
        Secondary radar grid and orbit; positions are in the secondary scene's indices.
    heights
        Ellipsoidal height levels, m: one value for a flat surface, or several
        (:func:`height_levels` of the DEM over the scene) for a height-dependent model.
    step
        Coarse grid step (lines, pixels). ``tests/coregistration/test_geometric.py``
        measures the interpolation error (below 1e-4 pixel for the defaults on a
        Sentinel-1-like geometry).

    Returns
    -------
    OffsetModel
        NaN at coarse nodes whose ground point is not seen by the secondary orbit.
    """
    from sarbd.geometry import geo2rdr, rdr2geo

    levels = np.atleast_1d(np.asarray(heights, dtype=np.float64))
    ref = reference_grid.with_epoch(reference_orbit.reference_epoch)
    sec = secondary_grid.with_epoch(secondary_orbit.reference_epoch)
    lines = coarse_axis(ref.length, step[0])
    pixels = coarse_axis(ref.width, step[1])
    t = ref.line_to_azimuth_time(lines)[:, None]
    r = ref.pixel_to_slant_range(pixels)[None, :]
    shape = (levels.size, lines.size, pixels.size)
    dl = np.full(shape, np.nan)
    dp = np.full(shape, np.nan)
    for k, h in enumerate(levels):
        lat, lon, hh = rdr2geo(t, r, reference_orbit, height=float(h), look_side=ref.look_side)
        t_sec, r_sec, ok = geo2rdr(lat, lon, hh, secondary_orbit, look_side=sec.look_side)
        ls = sec.azimuth_time_to_line(t_sec)
        ps = sec.slant_range_to_pixel(r_sec)
        good = ok & np.isfinite(ls) & np.isfinite(ps)
        dl[k] = np.where(good, ls - lines[:, None], np.nan)
        dp[k] = np.where(good, ps - pixels[None, :], np.nan)
    if not np.isfinite(dl).any():
        raise NoOverlapError(
            "the secondary orbit sees none of the reference scene's ground points",
            hint="check that both products cover the same area and that the orbits span the acquisitions",
        )
    n_bad = int(np.size(dl) - np.isfinite(dl).sum())
    if n_bad:
        log.info(
            "geometric offsets: %d of %d coarse nodes have no secondary solution", n_bad, dl.size
        )
    return OffsetModel(lines, pixels, dl, dp, levels)


def range_difference(
    offsets: OffsetModel,
    reference_grid: RadarGrid,
    secondary_grid: RadarGrid,
    lines: NDArray[np.float64],
    pixels: NDArray[np.float64],
    height: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """``R_ref - R_sec`` (m) to the ground point of each reference sample ``lines x pixels``.

    ``R_ref = R0_ref + j dR_ref`` and ``R_sec = R0_sec + (j + dp) dR_sec``, with ``dp``
    from the offset model (the secondary slant range that geo2rdr found).
    """
    _, dp = offsets.evaluate(lines, pixels, height)
    j = np.asarray(pixels, dtype=np.float64)[None, :]
    r_ref = reference_grid.pixel_to_slant_range(j)
    r_sec = secondary_grid.pixel_to_slant_range(j + dp)
    return np.asarray(r_ref - r_sec, dtype=np.float64)
