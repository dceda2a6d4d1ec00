"""Multilooking: block means of ``looks_line x looks_pixel`` samples.

The centre of output cell ``(k, l)`` sits at input position
``(k * looks_line + (looks_line - 1) / 2, l * looks_pixel + (looks_pixel - 1) / 2)``,
as :meth:`sarbd.core.radar_grid.RadarGrid.multilook` states; trailing samples that do
not fill a whole block are dropped.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd.errors import InputError

__all__ = ["multilook"]


def multilook(data, looks: tuple[int, int]):  # type: ignore[no-untyped-def]
    """Mean over non-overlapping ``(looks_line, looks_pixel)`` blocks of the last two dims.

    NumPy arrays give NumPy arrays; Dask arrays stay lazy; xarray objects with
    ``line``/``pixel`` dims are coarsened and their coordinates become the block
    centres (fractional root-grid indices).
    """
    ll, lp = int(looks[0]), int(looks[1])
    if ll < 1 or lp < 1:
        raise InputError(f"looks must be >= 1, got {looks}")
    if isinstance(data, xr.DataArray | xr.Dataset):
        return data.coarsen(line=ll, pixel=lp, boundary="trim").mean()
    n0 = (data.shape[-2] // ll) * ll
    n1 = (data.shape[-1] // lp) * lp
    trimmed = data[..., :n0, :n1]
    shape = (*data.shape[:-2], n0 // ll, ll, n1 // lp, lp)
    out: NDArray[np.generic] = trimmed.reshape(shape).mean(axis=(-3, -1))
    return out
