"""Per-pixel time series of a SARbd dataset: the ``timeseries.zarr`` layout for sequence models.

From ``dataset.zarr`` (the per-date signatures that ``sarbd build`` exports; they survive
``outputs.cache: compact``, which prunes only the coregistered stack in the stage cache),
one array ``x(line, pixel, time, feature)`` float32 with, per polarisation ``p``:

- ``backscatter_db_<p>``: sigma0 in dB (``sigma0_db_<p>``; else gamma0/beta0 in dB; else
  ``10 log10`` of the linear sigma0/gamma0/beta0, or of ``intensity_<p>`` for an
  uncalibrated stack). NaN where the backscatter is not positive or undefined.
- ``coherence_ref_<p>``: coherence magnitude to the reference date (``coherence_<p>``).
  The reference date's own value is 1 (a date's coherence with itself, exactly).
- ``coherence_prev_<p>``: coherence to the previous date, where the dataset carries
  ``coherence_seq_<p>``, the stack's coherence of consecutive dates
  (:func:`sarbd.insar.coherence.coherence` of ``s_(k-1) s_k* exp(-j (phi_k - phi_(k-1)))``,
  written by ``sarbd build`` with ``outputs.timeseries`` (``previous_coherence``, the
  default) or ``labels.change``, and by ``sarbd coregister --sequential``). Its first date
  is 1 (it has no previous date; its own pair).
- ``phase_cos_<p>``, ``phase_sin_<p>``: ``cos`` / ``sin`` of the interferometric phase to the
  reference (``interferometric_phase_<p>``, flat-earth and topographic phase removed),
  the phase history as a continuous, wrap-free pair. The reference date's is (1, 0).

NaN handling: undefined values (NaN in ``dataset.zarr``: no signal, borders, invalid
signatures) stay NaN here; the reference date's coherence and phase, which
``dataset.zarr`` stores as NaN (undefined against itself), are set to their exact values
above. Readers decide what to do with the remaining NaN (:mod:`sarbd.ml.sequence`
replaces them by the training mean, 0 after standardisation).

Coordinates: ``time`` (datetime64), ``days(time)`` = days since the reference date
(the date where ``dataset.zarr`` marks coherence undefined, ``sarbd_undefined_dates``; else
the first date; negative before it), ``feature`` names, and the dataset's absolute
``line``/``pixel``; ``label_l1/l2/l3`` and ``split`` are copied so the layout is
self-contained. Chunks: ``chunk_lines`` x ``chunk_pixels`` x all dates x all features, written
chunk by chunk by Dask (memory: a few chunks of every per-date source layer).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr

from sarbd.errors import InputError

__all__ = [
    "SequenceSource",
    "reference_index",
    "sequence_sources",
    "timeseries_dataset",
    "write_timeseries",
]

#: (feature kind, candidate source variables in order of preference, transform)
_BACKSCATTER = (
    ("{s}_db_{p}", "db"),
    ("{s}_{p}_db", "db"),
)
_STEMS = ("sigma0", "gamma0", "beta0")
_POL_STEMS = (
    "coherence",
    "interferometric_phase",
    "sigma0",
    "sigma0_db",
    "gamma0",
    "gamma0_db",
    "beta0",
    "beta0_db",
    "intensity",
)


@dataclass(frozen=True)
class SequenceSource:
    """One feature of the layout: ``name`` from per-date variable ``var`` by ``transform``.

    ``transform`` is ``"db"`` (as is), ``"to_db"`` (10 log10, NaN where <= 0),
    ``"coherence"`` (as is, reference date 1), ``"coherence_prev"`` (as is, first date 1), ``"cos"`` / ``"sin"`` (of a phase in
    radians, reference date 1 / 0).
    """

    name: str
    var: str
    transform: str


def _per_date(ds: xr.Dataset, name: str) -> bool:
    return name in ds.data_vars and ds[name].dims == ("time", "line", "pixel")


def _polarisations(ds: xr.Dataset) -> list[str]:
    pols: set[str] = set()
    for name in map(str, ds.data_vars):
        for stem in _POL_STEMS:
            if name.startswith(stem + "_") and _per_date(ds, name):
                tail = name[len(stem) + 1 :]
                if tail.isalpha() and len(tail) == 2:
                    pols.add(tail)
    return sorted(pols)


def sequence_sources(ds: xr.Dataset) -> list[SequenceSource]:
    """The features of the layout found in ``ds`` (module docstring), polarisation by polarisation."""
    out: list[SequenceSource] = []
    for p in _polarisations(ds):
        back: SequenceSource | None = None
        for stem in _STEMS:
            for tmpl, _ in _BACKSCATTER:
                if back is None and _per_date(ds, tmpl.format(s=stem, p=p)):
                    back = SequenceSource(f"backscatter_db_{p}", tmpl.format(s=stem, p=p), "db")
        for stem in (*_STEMS, "intensity"):
            if back is None and _per_date(ds, f"{stem}_{p}"):
                back = SequenceSource(f"backscatter_db_{p}", f"{stem}_{p}", "to_db")
        if back is not None:
            out.append(back)
        if _per_date(ds, f"coherence_{p}"):
            out.append(SequenceSource(f"coherence_ref_{p}", f"coherence_{p}", "coherence"))
        if _per_date(ds, f"coherence_seq_{p}"):
            out.append(
                SequenceSource(f"coherence_prev_{p}", f"coherence_seq_{p}", "coherence_prev")
            )
        if _per_date(ds, f"interferometric_phase_{p}"):
            out.append(SequenceSource(f"phase_cos_{p}", f"interferometric_phase_{p}", "cos"))
            out.append(SequenceSource(f"phase_sin_{p}", f"interferometric_phase_{p}", "sin"))
    return out


def _transform(a: da.Array, transform: str, ref_index: int = 0) -> da.Array:
    """(time, line, pixel) source -> feature values; date ``ref_index`` is the reference."""
    a = a.astype(np.float32)
    a = da.where(da.isfinite(a), a, np.float32(np.nan))
    if transform == "to_db":
        return da.where(a > 0, 10.0 * da.log10(da.where(a > 0, a, 1.0)), np.nan).astype(np.float32)
    if transform == "db":
        return a
    if transform in ("cos", "sin"):
        v = da.cos(a) if transform == "cos" else da.sin(a)
        ref = np.float32(1.0 if transform == "cos" else 0.0)
    elif transform == "coherence":
        v, ref = a, np.float32(1.0)
    elif transform == "coherence_prev":
        # the first date has no previous one: its "pair" is itself, coherence 1 by definition
        v, ref, ref_index = a, np.float32(1.0), 0
    else:
        raise ValueError(f"unknown transform {transform!r}")
    own = da.full_like(v[:1], ref)
    return da.concatenate([v[:ref_index], own, v[ref_index + 1 :]], axis=0).astype(np.float32)


def reference_index(ds: xr.Dataset) -> int:
    """Index of the reference date: the date where coherence/phase is undefined
    (``sarbd_undefined_dates``, :func:`sarbd.dataset.assemble.mask_undefined_dates`), else 0."""
    days = list(np.datetime_as_string(np.asarray(ds["time"].values, "datetime64[ns]"), unit="D"))
    for name in map(str, ds.data_vars):
        if name.startswith(("coherence_", "interferometric_phase_")) and _per_date(ds, name):
            for d in str(ds[name].attrs.get("sarbd_undefined_dates", "")).split():
                if d in days:
                    return days.index(d)
    return 0


def _open(dataset: str | os.PathLike[str]) -> tuple[Path, xr.Dataset]:
    p = Path(dataset)
    store = p if p.suffix == ".zarr" else p / "dataset.zarr"
    if not store.exists():
        raise InputError(
            "no dataset.zarr found", path=store, hint="give a SARbd dataset folder (`sarbd build`)"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*consolidated metadata.*")
        ds = xr.open_dataset(store, engine="zarr", chunks={})
    return store, ds


def timeseries_dataset(
    dataset: str | os.PathLike[str], *, chunk_lines: int = 64, chunk_pixels: int = 64
) -> xr.Dataset:
    """The lazy (Dask) ``timeseries.zarr`` dataset of a SARbd dataset folder (module docstring)."""
    store, ds = _open(dataset)
    if "time" not in ds.dims or ds.sizes["time"] < 2:
        raise InputError("dataset.zarr has fewer than two dates: no time series", path=store)
    sources = sequence_sources(ds)
    if not sources:
        raise InputError(
            "dataset.zarr has no per-date backscatter, coherence or phase signature",
            path=store,
            hint="build with per-date sigma0/coherence/interferometric_phase signatures",
        )
    ny, nx = ds.sizes["line"], ds.sizes["pixel"]
    cl, cp = min(chunk_lines, ny), min(chunk_pixels, nx)
    ref = reference_index(ds)
    feats = [_transform(ds[s.var].data.rechunk((-1, cl, cp)), s.transform, ref) for s in sources]
    x = da.stack(feats, axis=-1).transpose(1, 2, 0, 3).rechunk((cl, cp, -1, -1))
    times = np.asarray(ds["time"].values, "datetime64[ns]")
    days = ((times - times[ref]) / np.timedelta64(1, "D")).astype(np.float32)
    attrs_x = {
        "long_name": "per-pixel time series of SAR features (feature names in `feature`)",
        "units": "1",
        "sarbd_features": " ".join(s.name for s in sources),
        "sarbd_sources": " ".join(f"{s.name}={s.transform}({s.var})" for s in sources),
        "sarbd_nan": "undefined source values are NaN; reference-date coherence = 1, phase (cos, sin) = (1, 0)",
        "coverage_content_type": "physicalMeasurement",
    }
    out = xr.Dataset(
        {"x": (("line", "pixel", "time", "feature"), x, attrs_x)},
        coords={
            "line": ds["line"],
            "pixel": ds["pixel"],
            "time": ("time", times, {"long_name": "acquisition time", "axis": "T"}),
            "days": ("time", days, {"long_name": "days since the reference date", "units": "days"}),
            "feature": (
                "feature",
                np.array([s.name for s in sources], dtype=object),
                {"long_name": "feature name"},
            ),
        },
        attrs={
            "title": f"{ds.attrs.get('title', 'SARbd dataset')}: per-pixel time series",
            "Conventions": "CF-1.10",
            "sarbd_layout": "timeseries",
            "sarbd_reference_date": str(np.datetime_as_string(times[ref], unit="D")),
            "source": store.name,
            "sarbd_classes": ds.attrs.get("sarbd_classes", "[]"),
        },
    )
    for var in ("label_l1", "label_l2", "label_l3", "split"):
        if var in ds:
            out[var] = ds[var].chunk({"line": cl, "pixel": cp})
    return out


def write_timeseries(
    dataset: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    chunk_lines: int = 64,
    chunk_pixels: int = 64,
) -> Path:
    """Write ``timeseries.zarr`` (default: beside ``dataset.zarr``) atomically; returns its path."""
    from sarbd.utils.files import atomic_output

    ts = timeseries_dataset(dataset, chunk_lines=chunk_lines, chunk_pixels=chunk_pixels)
    base = Path(dataset)
    target = (
        Path(out)
        if out is not None
        else (base.parent if base.suffix == ".zarr" else base) / "timeseries.zarr"
    )
    for v in ts.variables.values():
        v.encoding.clear()
    ts["feature"] = ts["feature"].astype(str)
    with atomic_output(target, directory=True) as tmp:
        ts.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
    return target
