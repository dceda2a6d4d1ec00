"""Filled samples of a stack and the border flag's reach (window, coherence window, kernel)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from sarbd.dataset.border import border_flags, valid_samples


def _stack(slc: np.ndarray, reference_index: int) -> xr.Dataset:
    times = np.array(["2022-01-01T00:00:00", "2022-01-13T00:00:00"], "datetime64[ns]")
    return xr.Dataset(
        {"slc_vv": (("time", "line", "pixel"), slc)},
        coords={"time": times},
        attrs={"reference_date": str(times[reference_index])},
    )


def test_zero_is_unfilled_only_in_a_resampled_date():
    slc = np.ones((2, 4, 5), np.complex64)
    slc[1, 0, 0] = 0  # zero in the secondary (date 1): no kernel support
    slc[0, 1, 1] = 0  # zero DN in the reference: a dark sample, filled
    slc[1, 2, 2] = np.nan  # not finite in any date: unfilled
    v = valid_samples(_stack(slc, reference_index=0)).values
    assert v.dtype == np.uint8 and v.sum() == 20 - 2
    assert v[0, 0] == 0 and v[1, 1] == 1 and v[2, 2] == 0
    # the reference is the second date: now the first date's zero is the resampled one
    v = valid_samples(_stack(slc, reference_index=1)).values
    assert v[0, 0] == 1 and v[1, 1] == 0 and v[2, 2] == 0


def test_no_slc_no_flag():
    ds = xr.Dataset({"height": (("line", "pixel"), np.zeros((3, 3)))})
    assert valid_samples(ds) is None
    assert border_flags(None, window=(5, 5)) is None


def test_reach_is_the_larger_window_plus_half_the_kernel():
    valid = xr.DataArray(np.ones((60, 60), np.uint8), dims=("line", "pixel"))
    valid[30, 30] = 0
    # signature window 5 x 5: reach 2; coherence window (2, 10): reach (1, 5); 8 taps: 4 more
    flags = border_flags(valid, window=(5, 5), coherence_window=(2, 10), kernel_taps=8)
    assert flags is not None
    flags = np.asarray(flags.values)
    rows = np.nonzero(flags[:, 30][10:50])[0] + 10
    cols = np.nonzero(flags[30, :][15:45])[0] + 15
    assert (rows.min(), rows.max()) == (30 - 6, 30 + 6)
    assert (cols.min(), cols.max()) == (30 - 9, 30 + 9)
    # the image edge: windows reaching past it (2 lines, 5 pixels), not the kernel
    assert flags[1, 15] and not flags[2, 15] and flags[15, 4] and not flags[15, 5]
