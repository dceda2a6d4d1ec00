"""Interferograms with the geometric (flat-earth + topographic) phase removed.

A focused SLC sample carries the two-way propagation phase ``-4 pi R / lambda`` of its
slant range ``R`` (Hanssen 2001, eq. 2.4.1; the sign convention of ESA and isce3
products and of :mod:`sarbd.simulate`). For a ground point seen at ``R_ref`` by the
reference and ``R_sec`` by the secondary, ``ref * conj(sec)`` therefore carries::

    phi_geom = -4 pi / lambda * (R_ref - R_sec)

which holds the flat-earth and the topographic phase together (both follow from the
ranges to the DEM-height ground point). The flattened interferogram is::

    ifg = ref * conj(sec) * exp(-j phi_geom)

leaving deformation, atmosphere, DEM error and noise.

References
----------
Hanssen, R. F. (2001). Radar Interferometry, Kluwer, secs. 2.4 and 4.2.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["geometric_phase", "interferogram"]


def geometric_phase(
    range_reference: ArrayLike,
    range_secondary: ArrayLike,
    wavelength: float,
    wavelength_secondary: float | None = None,
) -> NDArray[np.float64]:
    """``phi_geom = -4 pi / lambda * (R_ref - R_sec)``, radians (float64).

    Parameters
    ----------
    range_reference, range_secondary
        Slant ranges (m) from each date's orbit to the same ground points.
    wavelength
        Radar wavelength, m (of the reference).
    wavelength_secondary
        The secondary's wavelength when its carrier differs (e.g. NISAR/UAVSAR
        products of different centre frequencies); then
        ``phi_geom = -4 pi (R_ref / lambda_ref - R_sec / lambda_sec)``, the phase each
        product's focusing leaves (Hanssen 2001, eq. 2.4.1, per carrier).
    """
    r_ref = np.asarray(range_reference, dtype=np.float64)
    r_sec = np.asarray(range_secondary, dtype=np.float64)
    if wavelength_secondary is None or wavelength_secondary == wavelength:
        return -4.0 * np.pi / wavelength * (r_ref - r_sec)
    return -4.0 * np.pi * (r_ref / wavelength - r_sec / wavelength_secondary)


def interferogram(reference, secondary, phase=None):  # type: ignore[no-untyped-def]
    """``reference * conj(secondary) * exp(-j phase)`` as complex64.

    Works on NumPy, Dask and xarray objects alike (element-wise, lazy for Dask).

    Parameters
    ----------
    reference, secondary
        Coregistered complex images.
    phase
        Geometric phase to remove (radians), e.g. :func:`geometric_phase`; ``None``
        for none.
    """
    ifg = reference * np.conj(secondary)
    if phase is not None:
        ifg = ifg * np.exp(-1j * phase)
    return ifg.astype(np.complex64)
