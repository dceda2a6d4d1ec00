"""An imported stack (:class:`~sarbd.stacks.base.ImportedStack`) -> the stack of ``docs/formats.md``.

The other processor resampled every date onto the reference grid; what sarbd adds is what
its own coregister stage would have written next to the SLCs, computed the same way
(:func:`sarbd.coregistration.coregister`): the reference geometry (rdr2geo on the DEM),
interferograms with the geometric (flat-earth + topographic) phase of each date's orbit
removed, coherence (Touzi-bias estimator of :mod:`sarbd.insar`), baselines. Everything
but the reference geometry is lazy (Dask): no date is read until the stack is written.

Not written, because the other processor applied them and does not store them in a form
sarbd can trust: ``offset_line``/``offset_pixel``, calibration and noise layers (imported
SLCs are uncalibrated DN); ``residual_*_shift`` and ``esd_azimuth_correction`` are NaN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
import xarray as xr

from sarbd.core.chunks import DEFAULT_CHUNKS
from sarbd.errors import InputError
from sarbd.stacks.base import ImportedStack
from sarbd.utils.log import get_logger

if TYPE_CHECKING:
    from sarbd.geometry.dem import DemInput

__all__ = ["assemble_stack"]

log = get_logger(__name__)


def _crop(stack: ImportedStack, window: tuple[int, int, int, int] | None) -> ImportedStack:
    if window is None:
        return stack
    ref = stack.reference.crop(*window)
    secs = [s.crop(*window) for s in stack.secondaries]
    return ImportedStack(ref, secs, stack.processor, stack.source, list(stack.notes))


def assemble_stack(
    stack: ImportedStack,
    *,
    dem: DemInput = None,
    polarizations: list[str] | tuple[str, ...] | None = None,
    window: tuple[int, int] = (2, 10),
    chunks: tuple[int, int] = DEFAULT_CHUNKS,
    aoi: tuple[int, int, int, int] | None = None,
    n_height_levels: int = 4,
) -> xr.Dataset:
    """The lazy stack (``docs/formats.md``) of a coregistered stack from another processor.

    Parameters
    ----------
    stack
        What a reader of :mod:`sarbd.stacks` returned.
    dem
        A :class:`~sarbd.geometry.Dem`, a DEM path, or ``None`` (ellipsoid, height 0): heights
        for the reference geometry and the topographic phase.
    polarizations
        Polarisations to keep (default: all of the reference's).
    window
        Coherence window ``(lines, pixels)``.
    chunks
        Dask chunks ``(lines, pixels)``.
    aoi
        ``(line0, pixel0, lines, pixels)`` window of the reference grid, or ``None``.
    n_height_levels
        Height levels of the geometric-phase model (as in :func:`~sarbd.coregistration.coregister`).
    """
    from sarbd.coregistration.fields import geometric_phase_array
    from sarbd.coregistration.geometric import geometric_offsets
    from sarbd.coregistration.stack import (
        date_variables,
        geometry_layers,
        reference_pair_variables,
        reference_terrain,
        stack_coords,
        stack_dataset,
    )
    from sarbd.geometry.baseline import centre_baselines

    stack = _crop(stack, aoi)
    ref = stack.reference
    pols = tuple(
        p.upper() for p in (polarizations if polarizations is not None else ref.polarizations)
    )
    for s in stack.dates:
        missing = [p for p in pols if p not in s.polarizations]
        if missing:
            raise InputError(
                f"polarisation(s) {', '.join(missing)} missing in a date of the {stack.processor} stack",
                path=s.metadata.get("source_path", stack.source),
                hint=f"the stack has {'/'.join(s.polarizations)}; set inputs.polarizations",
            )
    g = ref.radar_grid
    terrain = reference_terrain(ref, dem, n_height_levels, chunks)
    geo, levels = terrain.geometry, terrain.levels
    out_chunks, h_da = terrain.chunks, terrain.height

    notes = list(stack.notes)
    phases = [da.zeros(g.shape, chunks=out_chunks, dtype=np.float64)]
    for sec in stack.secondaries:
        if sec.orbit is ref.orbit:
            notes.append(
                f"{sec.metadata.get('date', '?')}: no orbit of its own; interferogram phase not flattened"
            )
            phases.append(da.zeros(g.shape, chunks=out_chunks, dtype=np.float64))
            continue
        model = geometric_offsets(
            g, ref.orbit, sec.radar_grid, sec.orbit, heights=levels, step=(64, 64)
        )
        phases.append(geometric_phase_array(model, g, sec.radar_grid, h_da))

    times = np.array(
        [s.radar_grid.sensing_start_datetime for s in stack.dates], dtype="datetime64[ns]"
    )
    if np.unique(times).size != times.size:
        raise InputError("two dates of the stack have the same acquisition time", path=stack.source)
    coords = stack_coords(g, times, geo)
    data_vars: dict[str, Any] = {}
    win = (int(window[0]), int(window[1]))
    for pol in pols:
        slcs = [s.slc(pol).data.rechunk(out_chunks) for s in stack.dates]
        pair_vars, _, _ = reference_pair_variables(
            pol,
            slcs,
            phases,
            win,
            slc_long_name=f"coregistered SLC ({pol}) from {stack.processor}, radiometrically uncalibrated DN",
        )
        data_vars.update(pair_vars)
    data_vars["height"] = (("line", "pixel"), h_da.astype(np.float32), dict(geo["height"].attrs))
    data_vars.update(geometry_layers(geo, out_chunks))
    # a date without its own orbit (the reference's) has no baseline to speak of
    baselines = [
        centre_baselines(ref.radar_grid, ref.orbit, s.orbit)
        if s.orbit is not ref.orbit
        else (np.nan, np.nan)
        for s in stack.secondaries
    ]
    data_vars.update(date_variables(ref, stack.dates, baselines))
    n = len(stack.dates)
    nan = np.full(n, np.nan, np.float32)
    nan[0] = 0.0
    for name, what in (
        ("residual_line_shift", "lines"),
        ("residual_pixel_shift", "pixels"),
        ("esd_azimuth_correction", "lines"),
    ):
        data_vars[name] = (
            "time",
            nan.copy(),
            {
                "units": "1",
                "long_name": f"{name.replace('_', ' ')} ({what}); "
                f"NaN: applied by {stack.processor}, not known to sarbd",
            },
        )
    for note in notes:
        log.warning("%s stack %s: %s", stack.processor, stack.source, note)
    return stack_dataset(
        data_vars,
        coords,
        ref,
        win,
        {
            "sarbd_coregistration": f"imported: coregistered by {stack.processor}",
            "sarbd_stack_source": str(stack.source),
            "sarbd_stack_notes": "; ".join(notes) if notes else "none",
            "sarbd_offset_height_levels_m": [float(x) for x in levels],
            "sarbd_dem": terrain.dem_description,
        },
    )
