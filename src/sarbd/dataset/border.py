"""The ``border`` quality flag from the samples every date of a stack filled.

:func:`valid_samples` reads the stack's SLCs once (a build stores the result, because
the compact cache drops the SLCs after the export); :func:`border_flags` turns it into
:func:`sarbd.dataset.labels.border_mask` with the reach of the estimators that made the
signatures: the signature window plus filters (:func:`sarbd.signatures.compute.required_halo`)
or the stack's coherence window, whichever is larger, and half the interpolation kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["border_flags", "valid_samples"]


def valid_samples(stack: xr.Dataset) -> xr.DataArray | None:
    """Samples filled in every date of a coregistered stack, as uint8 ``(line, pixel)``.

    A sample is filled when it is finite in every date and not exactly zero in a
    resampled (secondary) date: the coregistration fills outputs whose kernel has no
    source with 0, while a zero DN of the reference itself is a real (dark) sample.
    The reference date is the stack's ``reference_date`` attribute (default the first).

    Returns
    -------
    xarray.DataArray or None
        ``valid_samples`` (1: filled in every date), or ``None`` when the stack holds no SLCs.
    """
    slcs = [v for v in stack.data_vars if str(v).startswith("slc_") and "time" in stack[v].dims]
    if not slcs:
        return None
    times = np.asarray(stack["time"].values).astype("datetime64[s]")
    ref = str(stack.attrs.get("reference_date", ""))[:19]
    hits = np.nonzero(times == np.datetime64(ref, "s"))[0] if ref else np.array([0])
    secondary = xr.DataArray(
        np.arange(times.size) != (int(hits[0]) if hits.size else 0), dims="time"
    )
    valid = xr.DataArray(True)
    for v in slcs:
        s = stack[v]
        valid = valid & (np.isfinite(s.real) & ((s != 0) | ~secondary)).all("time")
    return valid.transpose("line", "pixel").astype(np.uint8).rename("valid_samples")


def border_flags(
    valid: xr.DataArray | None,
    *,
    window: Any,
    filter: Any = None,
    filter_kwargs: dict[str, Any] | None = None,
    coherence_window: tuple[int, int] = (1, 1),
    kernel_taps: int = 0,
) -> xr.DataArray | None:
    """:func:`sarbd.dataset.labels.border_mask` of :func:`valid_samples`.

    Parameters
    ----------
    valid
        :func:`valid_samples` (``None``: no border flag, returns ``None``).
    window, filter, filter_kwargs
        The signatures' window and speckle filter (as :func:`sarbd.signatures.compute`).
    coherence_window
        The stack's coherence estimator window (lines, pixels).
    kernel_taps
        Length of the coregistration interpolation kernel, samples.

    Returns
    -------
    xarray.DataArray or None
        Boolean ``(line, pixel)``, True on border pixels; lazy, on the blocks of ``valid``.
    """
    from sarbd.dataset.labels import border_mask
    from sarbd.signatures.compute import required_halo

    if valid is None:
        return None
    reach = required_halo(window, filter, filter_kwargs) - 1
    reaches = (max(reach, int(coherence_window[0]) // 2), max(reach, int(coherence_window[1]) // 2))
    flags: xr.DataArray = border_mask(valid.astype(bool), reaches, int(kernel_taps) // 2)
    return flags
