"""Coregistration of SLC stacks onto a reference radar grid (see ``docs/coregistration.md``).

- :func:`coregister` -- the whole stack (geometry, resampling, TOPS, refinement,
  interferograms, coherence) as an :class:`xarray.Dataset` (``docs/formats.md``);
  :func:`write_stack` stores it as Zarr;
- :func:`geometric_offsets` / :class:`OffsetModel` -- DEM-assisted offsets;
- :func:`knab_kernel`, :func:`resample`, :func:`resample_image` -- interpolation;
- :class:`AzimuthRamp` -- TOPS / stripmap deramping;
- :func:`cross_correlation_shift`, :func:`esd_shift` -- refinement.
"""

from __future__ import annotations

from sarbd.coregistration.geometric import geometric_offsets, height_levels, range_difference
from sarbd.coregistration.offsets import OffsetModel
from sarbd.coregistration.refine import ShiftEstimate, cross_correlation_shift, esd_shift
from sarbd.coregistration.resample import InterpolationKernel, knab_kernel, resample, resample_block
from sarbd.coregistration.stack import coregister, coregister_to_zarr, write_stack
from sarbd.coregistration.tops import AzimuthRamp
from sarbd.coregistration.warp import resample_image

__all__ = [
    "AzimuthRamp",
    "InterpolationKernel",
    "OffsetModel",
    "ShiftEstimate",
    "coregister",
    "coregister_to_zarr",
    "cross_correlation_shift",
    "esd_shift",
    "geometric_offsets",
    "height_levels",
    "knab_kernel",
    "range_difference",
    "resample",
    "resample_block",
    "resample_image",
    "write_stack",
]
