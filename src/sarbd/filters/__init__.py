"""Speckle and phase filters, chunk-wise with halos (chunk borders leave no trace).

- :func:`boxcar` -- NaN-aware moving average (real or complex)
- :func:`lee` -- Lee (1980) MMSE filter, square window
- :func:`refined_lee` -- refined Lee (1981), edge-aligned 7 x 7 half windows
- :func:`quegan_yu` -- Quegan & Yu (2001) multitemporal filter of an intensity stack
- :func:`goldstein` -- Goldstein & Werner (1998) interferometric phase filter
- :func:`apply_torch` -- a user-supplied PyTorch denoiser, per chunk with halo

All accept NumPy, Dask or xarray arrays with (line, pixel) as the last two axes.
"""

from __future__ import annotations

from sarbd.filters._chunked import apply_spatial
from sarbd.filters.boxcar import boxcar, nan_window_mean
from sarbd.filters.goldstein import goldstein
from sarbd.filters.lee import lee, refined_lee
from sarbd.filters.quegan import quegan_yu
from sarbd.filters.torch_hook import apply_torch

__all__ = [
    "apply_spatial",
    "apply_torch",
    "boxcar",
    "goldstein",
    "lee",
    "nan_window_mean",
    "quegan_yu",
    "refined_lee",
]
