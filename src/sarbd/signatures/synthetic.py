"""Synthetic coregistered stacks with known truth (``docs/formats.md`` layout).

Used by the tests and the benchmark. Each polarisation's calibrated SLC is a
circular complex Gaussian field of mean power ``power[pol]`` (sigma0, linear),
with

* temporal coherence ``coherence`` between the reference date and every other date
  (``sec = g * ref + sqrt(1 - g^2) * innovation``),
* polarimetric correlation ``pol_correlation`` between the first and every other
  polarisation, on every date,
* additive thermal noise of power NESZ (``nesz_db``, sigma0 units) per channel,
* a per-date power gain ``gains`` (e.g. to mimic wetting and drying),
* Sentinel-1-like calibration LUTs: beta0 constant, sigma0 = beta0 sin(theta),
  gamma0 = beta0 tan(theta), theta from 30 to 45 degrees across the swath.

With ``chunks`` the arrays are lazy Dask arrays, generated chunk by chunk from
seeds derived from the chunk position (so a 1500 x 25000 burst stack can be
streamed to Zarr without holding it in memory).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

__all__ = ["BETA0_A", "synthetic_stack"]

#: Sentinel-1 IW SLC beta-nought calibration constant (DN), A_beta.
BETA0_A = 237.0


def _cgauss(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return ((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2.0)).astype(
        np.complex64
    )


def _slc_block(
    shape: tuple[int, int],
    chunk_id: tuple[int, int],
    *,
    seed: int,
    pol_index: int,
    date: int,
    ref: int,
    coherence: float,
    pol_correlation: float,
    scale: np.ndarray,
    noise_amp: np.ndarray,
) -> np.ndarray:
    """One date of one pol on one spatial chunk (seeded by the chunk position)."""

    def field(kind: int, p: int, t: int = 0) -> np.ndarray:
        return _cgauss(np.random.default_rng([seed, chunk_id[0], chunk_id[1], kind, p, t]), shape)

    def pol_field(kind: int, t: int = 0) -> np.ndarray:
        base = field(kind, 0, t)
        if pol_index == 0:
            return base
        r = pol_correlation
        return (r * base + np.sqrt(1 - r * r) * field(kind, pol_index, t)).astype(np.complex64)

    z = pol_field(0)
    if date != ref:
        g = coherence
        z = (g * z + np.sqrt(1 - g * g) * pol_field(1, date + 1)).astype(np.complex64)
    noise = field(2, pol_index, date)
    return (scale * z + noise_amp * noise).astype(np.complex64)


def synthetic_stack(
    n_dates: int = 4,
    shape: tuple[int, int] = (64, 96),
    pols: Sequence[str] = ("vv", "vh"),
    *,
    power: Mapping[str, float] | None = None,
    coherence: float = 0.7,
    pol_correlation: float = 0.3,
    nesz_db: float | None = -24.0,
    gains: Sequence[float] | None = None,
    reference: int = 0,
    first_line: int = 500,
    first_pixel: int = 16000,
    seed: int = 0,
    chunks: tuple[int, int] | None = None,
    with_coherence: bool = True,
    coherence_window: tuple[int, int] = (3, 3),
) -> xr.Dataset:
    """Build a synthetic coregistered stack (see the module docstring).

    Parameters
    ----------
    n_dates, shape, pols
        Stack size: dates, (lines, pixels), polarisations (lower case).
    power
        Mean sigma0 (linear) per pol; default VV 0.1, VH 0.02, HH 0.12, HV 0.02.
    coherence
        Temporal coherence magnitude between the reference and each other date.
    pol_correlation
        Correlation coefficient between the first pol and each other pol.
    nesz_db
        Thermal noise equivalent sigma0 (dB); ``None`` for no noise.
    gains
        Per-date multiplier of the power (default all 1).
    chunks
        (lines, pixels) Dask chunk size; ``None`` builds NumPy arrays.
    with_coherence
        Include ``coherence_<pol>`` (estimated over ``coherence_window``).
    """
    from sarbd.signatures.inputs import coherence_estimate

    pw = {"vv": 0.1, "vh": 0.02, "hh": 0.12, "hv": 0.02}
    pw.update(power or {})
    gains_a = np.ones(n_dates) if gains is None else np.asarray(gains, dtype=float)
    nl, npx = shape
    ch = chunks or shape
    line = np.arange(first_line, first_line + nl)
    pixel = np.arange(first_pixel, first_pixel + npx)
    nesz = 0.0 if nesz_db is None else 10 ** (nesz_db / 10.0)
    times = np.datetime64("2022-02-14T17:24:00", "ns") + np.arange(n_dates) * np.timedelta64(6, "D")

    # every field is computed per chunk from its position, so nothing full-size is held
    def theta_of(p0: int, p1: int) -> np.ndarray:
        return np.deg2rad(30.0 + 15.0 * np.arange(p0, p1) / max(npx - 1, 1))

    def cal_of(kind: str, p0: int, p1: int) -> np.ndarray:
        th = theta_of(p0, p1)
        base = 1.0 / BETA0_A**2
        return base * {"beta0": np.ones_like(th), "sigma0": np.sin(th), "gamma0": np.tan(th)}[kind]

    def field2d(fn: Any, dtype: Any = np.float32) -> da.Array:
        def block(b: np.ndarray, block_info: Any = None) -> np.ndarray:
            if block_info is None:
                return np.zeros(b.shape, dtype=dtype)
            (l0, l1), (p0, p1) = block_info[0]["array-location"]
            return np.broadcast_to(fn(l0, l1, p0, p1), b.shape).astype(dtype)

        return da.zeros(shape, chunks=ch, dtype=dtype).map_blocks(block, dtype=dtype)

    def per_date(f2d: da.Array) -> da.Array:
        return da.broadcast_to(f2d[None], (n_dates, *shape)).rechunk((1, *ch))

    ds_vars: dict[str, Any] = {}
    for k, pol in enumerate(pols):
        dates = []
        for t in range(n_dates):
            template = da.zeros(shape, chunks=ch, dtype=np.complex64)

            def gen(
                block: np.ndarray, block_info: Any = None, *, t: int = t, k: int = k, pol: str = pol
            ) -> np.ndarray:
                if block_info is None:
                    return np.zeros(block.shape, dtype=np.complex64)
                _, (p0, p1) = block_info[0]["array-location"]
                cal = cal_of("sigma0", p0, p1)[None, :]
                scale = np.sqrt(pw[pol] * gains_a[t] / cal).astype(np.float32)
                namp = np.sqrt(nesz / cal).astype(np.float32)
                return _slc_block(
                    block.shape,
                    tuple(block_info[0]["chunk-location"]),
                    seed=seed,
                    pol_index=k,
                    date=t,
                    ref=reference,
                    coherence=coherence,
                    pol_correlation=pol_correlation,
                    scale=scale,
                    noise_amp=namp,
                )

            dates.append(template.map_blocks(gen, dtype=np.complex64))
        slc = da.stack(dates)
        ifg = (slc[reference : reference + 1] * da.conj(slc)).astype(np.complex64)
        dims3 = ("time", "line", "pixel")
        ds_vars[f"slc_{pol}"] = (dims3, slc)
        for kind in ("sigma0", "beta0", "gamma0"):
            ds_vars[f"cal_{kind}_{pol}"] = (
                dims3,
                per_date(field2d(lambda l0, l1, p0, p1, kind=kind: cal_of(kind, p0, p1)[None, :])),
            )
        ds_vars[f"noise_{pol}"] = (
            dims3,
            per_date(field2d(lambda l0, l1, p0, p1: (nesz / cal_of("sigma0", p0, p1))[None, :])),
        )
        ds_vars[f"interferogram_{pol}"] = (dims3, ifg)
        if with_coherence:
            p = (slc.real**2 + slc.imag**2).astype(np.float32)
            coh = coherence_estimate(ifg, p[reference : reference + 1], p, coherence_window)
            ds_vars[f"coherence_{pol}"] = (dims3, coh)
    inc = field2d(lambda l0, l1, p0, p1: np.rad2deg(theta_of(p0, p1))[None, :])
    ds_vars["incidence_angle"] = (("line", "pixel"), inc)
    ds_vars["local_incidence_angle"] = (("line", "pixel"), inc)
    ds_vars["height"] = (("line", "pixel"), da.zeros(shape, chunks=ch, dtype=np.float32))
    ds_vars["layover_shadow_mask"] = (("line", "pixel"), da.zeros(shape, chunks=ch, dtype=np.uint8))
    tb = ((np.arange(n_dates) - reference) * 6.0).astype(np.float32)
    ds_vars["temporal_baseline"] = (("time",), tb)
    ds_vars["perpendicular_baseline"] = (
        ("time",),
        np.linspace(-50, 50, n_dates).astype(np.float32),
    )
    ds_vars["parallel_baseline"] = (("time",), np.zeros(n_dates, dtype=np.float32))
    ds_vars["orbit_source"] = (("time",), np.array(["simulated"] * n_dates))
    lat = field2d(
        lambda l0, l1, p0, p1: (
            53.2 - 1.2e-4 * np.arange(l0, l1)[:, None] + 1e-5 * np.arange(p0, p1)[None, :]
        ),
        np.float64,
    )
    lon = field2d(
        lambda l0, l1, p0, p1: (
            6.5 + 2.0e-5 * np.arange(p0, p1)[None, :] + 1e-5 * np.arange(l0, l1)[:, None]
        ),
        np.float64,
    )
    ds = xr.Dataset(
        ds_vars,
        coords={
            "time": ("time", times),
            "line": ("line", line.astype(np.int64)),
            "pixel": ("pixel", pixel.astype(np.int64)),
            "latitude": (
                ("line", "pixel"),
                lat,
                {"standard_name": "latitude", "units": "degrees_north"},
            ),
            "longitude": (
                ("line", "pixel"),
                lon,
                {"standard_name": "longitude", "units": "degrees_east"},
            ),
        },
        attrs={
            "title": "sarbd synthetic stack",
            "reference_date": str(times[reference].astype("datetime64[D]")),
            "coherence_window_line": coherence_window[0],
            "coherence_window_pixel": coherence_window[1],
            "sarbd_synthetic_coherence": coherence,
            "sarbd_synthetic_pol_correlation": pol_correlation,
        },
    )
    if chunks is None:
        ds = ds.load()
    return ds
