"""Detection and change labels of a coregistered stack (the ``sarbd build`` path, any scene).

The simulator path (:func:`sarbd.dataset.detection_labels.build_detection_dataset`,
:func:`sarbd.dataset.change_labels.build_change_dataset`) reads the simulator's truth;
this module makes the same products from what a build has: the coregistered stack
(``slc_<p>``, the sigma0 calibration factors ``cal_sigma0_<p>``, ``coherence_seq_<p>``)
and reference features radarcoded onto its grid by :mod:`sarbd.radarcode`. Both write
through the one writer of each product (:func:`~sarbd.dataset.detection_labels.write_detection_folder`,
:func:`~sarbd.dataset.change_labels.write_change_folder`), so ``sarbd train --task
detection|change`` reads either.

Backscatter: sigma0 ``|DN|^2 / A_sigma^2`` without noise removal (so never negative or
NaN; Miranda & Meadows 2015), or the uncalibrated intensity ``|DN|^2`` for a stack
without calibration, averaged over ``looks`` = (azimuth, range) samples (xarray
``coarsen``, edges trimmed). Computed one date at a time from the Dask stack: memory is
a few looked full-grid layers, not the stack.

Dates of reference features: each feature's timestamp is matched to the acquisition
nearest to it (:func:`match_dates`), within a tolerance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd.dataset.change_labels import ChangeChips, pair_labels, write_change_folder
from sarbd.dataset.detection_labels import (
    DateLayers,
    DetectionChips,
    LabelSource,
    chip_fractions,
    cut_chips,
    write_detection_folder,
)
from sarbd.errors import InputError

__all__ = [
    "change_from_stack",
    "detection_from_stack",
    "in_pair",
    "looked_intensity",
    "match_dates",
]


def looked_intensity(
    stack: xr.Dataset, polarization: str, looks: tuple[int, int], date: int
) -> NDArray[np.float32]:
    """One date's looked sigma0 (or ``|DN|^2`` without calibration), ``(lines // la, pixels // lr)``."""
    p = polarization.lower()
    if f"slc_{p}" not in stack:
        raise InputError(
            f"the stack has no SLC of {polarization} (slc_{p})",
            hint="the labels need the stack's SLCs: build with that polarisation",
        )
    slc = stack[f"slc_{p}"].isel(time=date)
    power = slc.real**2 + slc.imag**2
    cal = f"cal_sigma0_{p}"
    if cal in stack:
        power = power * stack[cal].isel(time=date)
    la, lr = looks
    looked = power.astype(np.float64).coarsen(line=la, pixel=lr, boundary="trim").mean()
    # float64 per Dask block (the mean of looks), float32 whole: half the memory of the date
    return np.asarray(looked.astype(np.float32).values)


def _look_max(a: xr.DataArray, looks: tuple[int, int]) -> NDArray[np.int32]:
    # instance ids (< 2^31): int32 on the whole looked grid
    looked = a.coarsen(line=looks[0], pixel=looks[1], boundary="trim").max()
    return np.asarray(looked.astype(np.int32).values)


def _look_mean(a: xr.DataArray, looks: tuple[int, int]) -> NDArray[np.float64]:
    looked = a.astype(np.float64).coarsen(line=looks[0], pixel=looks[1], boundary="trim").mean()
    return np.asarray(looked.values)


def match_dates(
    times: NDArray[np.datetime64], when: NDArray[np.datetime64], tolerance_s: float
) -> NDArray[np.int64]:
    """Index of the acquisition in ``times`` nearest to each ``when`` (-1 if farther than ``tolerance_s``)."""
    t = np.asarray(times, "datetime64[ns]").astype(np.int64)
    w = np.asarray(when, "datetime64[ns]").astype(np.int64)
    if w.size == 0:
        return np.zeros(0, np.int64)
    dist = np.abs(w[:, None] - t[None, :])
    best = np.argmin(dist, axis=1)
    ok = dist[np.arange(w.size), best] <= tolerance_s * 1e9
    return np.where(ok, best, -1).astype(np.int64)


def in_pair(
    start: NDArray[np.datetime64], end: NDArray[np.datetime64], t0: np.datetime64, t1: np.datetime64
) -> NDArray[np.bool_]:
    """Features that changed between acquisitions ``t0 < t1``: appeared in ``(t0, t1]``, or
    disappeared in ``(t0, t1]`` (``end`` NaT: never disappears)."""
    start, end = np.asarray(start, "datetime64[ns]"), np.asarray(end, "datetime64[ns]")
    t0, t1 = np.datetime64(t0, "ns"), np.datetime64(t1, "ns")
    appeared = ~np.isnat(start) & (start > t0) & (start <= t1)
    gone = ~np.isnat(end) & (end > t0) & (end <= t1)
    return np.asarray(appeared | gone)


def detection_from_stack(
    stack: xr.Dataset,
    instances: list[xr.DataArray],
    category_of: dict[int, int],
    categories: list[str],
    source: LabelSource,
    out: Path,
    *,
    region: xr.DataArray | None = None,
    polarization: str = "VV",
    chip_size: int = 64,
    looks: tuple[int, int] = (1, 1),
    min_region: float = 0.5,
    min_pixels: int = 4,
    block: int = 2,
    seed: int = 0,
) -> DetectionChips:
    """Write detection labels of every date of ``stack`` into ``out`` (COCO, YOLO, chips, STAC item).

    Parameters
    ----------
    stack
        The coregistered stack (``slc_<p>``, optionally ``cal_sigma0_<p>``).
    instances
        Per date, the instance-id raster of that date's objects on the stack's grid
        (:func:`sarbd.radarcode.instances.radarcode_instances`); a looked pixel takes
        the largest id of its samples.
    category_of
        ``{instance id: category index}`` into ``categories``.
    source
        What the COCO info and the STAC item say (:class:`LabelSource`); its ``origin``
        is set from the stack's first line/pixel.
    region
        ``(line, pixel)`` area fraction of the region chips are cut from (e.g. open sea);
        a chip is kept when its mean is at least ``min_region``. None: every chip.
    """
    origin = (int(stack["line"].values[0]), int(stack["pixel"].values[0]))
    source = LabelSource(**{**source.__dict__, "origin": origin})
    keep = None
    if region is not None:
        keep = chip_fractions(_look_mean(region, looks), chip_size) >= min_region
    layers = []
    for d, inst in enumerate(instances):
        i1 = looked_intensity(stack, polarization, looks, d)
        db = (10.0 * np.log10(np.maximum(i1, np.float32(1e-6)))).astype(np.float32)
        nr, nc = db.shape[0] // chip_size, db.shape[1] // chip_size
        layers.append(
            DateLayers(
                d,
                db,
                _look_max(inst, looks),
                np.ones((nr, nc), bool) if keep is None else keep,
                category_of,
            )
        )
    chips, objects = cut_chips(
        layers,
        categories,
        chip_size=chip_size,
        min_pixels=min_pixels,
        block=block,
        seed=seed,
        where=source.name,
    )
    write_detection_folder(out, chips, objects, source, looks, chip_size)
    return chips


def change_from_stack(
    stack: xr.Dataset,
    reference_fractions: list[xr.DataArray],
    out: Path,
    *,
    polarizations: list[str],
    chip_size: int = 16,
    looks: tuple[int, int] = (2, 2),
    block: int = 2,
    buffer_px: int = 1,
    ratio_db: float = 3.0,
    coherence_max: float = 0.3,
    seed: int = 0,
    meta: dict[str, Any] | None = None,
) -> ChangeChips:
    """Write change labels of every consecutive date pair of ``stack`` into ``out``.

    Parameters
    ----------
    reference_fractions
        Per pair ``(k, k + 1)``, the ``(line, pixel)`` area fraction of the reference
        features dated inside the pair (radarcoded on the stack's grid).
    polarizations
        The polarisations of the before/after images (e.g. VV, VH); the first one's
        ``coherence_seq_<p>`` (coherence of consecutive dates) is the pair coherence.
    """
    n = int(stack.sizes.get("time", 1))
    if n < 2:
        raise InputError("change labels need two or more dates; the stack has one")
    p0 = polarizations[0].lower()
    if f"coherence_seq_{p0}" not in stack:
        raise InputError(
            f"the stack has no coherence of consecutive dates (coherence_seq_{p0})",
            hint="the build computes it when labels.change is set; rebuild",
        )
    pairs = [(k, k + 1) for k in range(n - 1)]
    inten = [
        np.stack([looked_intensity(stack, p, looks, d) for p in polarizations]) for d in range(n)
    ]
    maps = []
    for (i, j), frac in zip(pairs, reference_fractions, strict=True):
        coh = _look_mean(stack[f"coherence_seq_{p0}"].isel(time=j), looks)
        maps.append(
            pair_labels(
                _look_mean(frac, looks),
                inten[i],
                inten[j],
                np.nan_to_num(coh, nan=0.0),
                buffer_px=buffer_px,
                ratio_db=ratio_db,
                coherence_max=coherence_max,
            )
        )
    info = {
        "pairs": pairs,
        "epochs": [str(np.datetime64(t, "s")) + "Z" for t in stack["time"].values],
        "chip_size": chip_size,
        "looks": list(looks),
        "block": block,
        "buffer_px": buffer_px,
        "ratio_db": ratio_db,
        "coherence_max": coherence_max,
        "coherence": f"coherence_seq_{p0} of the stack (coregistration.coherence_window), looked",
        "polarizations": list(polarizations),
        "seed": seed,
        "truth": None,
        **(meta or {}),
    }
    return write_change_folder(
        out,
        pairs,
        maps,
        chip_size=chip_size,
        block=block,
        seed=seed,
        meta=info,
        where=out,
    )
