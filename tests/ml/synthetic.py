"""A small synthetic SARbd dataset folder that follows ``docs/formats.md`` exactly.

It stands in for ``sarbd build`` output while the ML code is developed and tested:

- ``dataset.zarr`` with absolute ``line``/``pixel`` coordinates (not starting at 0,
  so code that confuses coordinates with array positions fails), ``latitude`` /
  ``longitude``, per-date and temporal signatures carrying ``sarbd_category`` /
  ``sarbd_formula``, ``fraction_<class>``, ``label_l1/l2/l3`` (uint8, 0 unlabelled,
  ``flag_values``/``flag_meanings``), ``quality_flags``, ``boundary_distance`` and a
  spatially blocked ``split`` with an unassigned buffer between blocks of different splits;
- ``tables/pixels.parquet`` (one row per pixel labelled at any level) and
  ``chips/chips_<size>.parquet`` (one chip per split block).

Classes are spatially clustered regions, and the signature distributions depend on the
class (plus spatially correlated noise), so models can really learn and spatial
autocorrelation exists for the random-pixel protocol to exploit. ``truth`` (the class
map without label noise) is returned for the L2-vs-L3 comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

CLASSES = ("building", "road", "water", "vegetation")
LINE0, PIXEL0 = 1200, 3400  # absolute root-grid offsets of the crop


@dataclass
class SyntheticDataset:
    path: Path
    truth: np.ndarray  # (line, pixel) uint8 class ids, 0 nowhere
    block: int
    buffer: int


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="reflect")
    return field / field.std()


def make_synthetic_dataset(
    root: Path,
    *,
    shape: tuple[int, int] = (96, 128),
    block: int = 16,
    buffer: int = 2,
    n_dates: int = 2,
    seed: int = 0,
) -> SyntheticDataset:
    """Write ``root/dataset.zarr``, ``root/tables/pixels.parquet`` and ``root/chips/chips_<block>.parquet``."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    nclass = len(CLASSES)

    # class regions: argmax of smooth random fields (blobs tens of pixels wide)
    fields = np.stack([_smooth_noise(rng, shape, 7.0) for _ in range(nclass)])
    truth = (np.argmax(fields, axis=0) + 1).astype(np.uint8)

    # distance to the nearest class boundary (pixels; spacing 10 m -> metres below)
    boundary = np.zeros(shape, bool)
    boundary[:-1] |= truth[:-1] != truth[1:]
    boundary[1:] |= truth[:-1] != truth[1:]
    boundary[:, :-1] |= truth[:, :-1] != truth[:, 1:]
    boundary[:, 1:] |= truth[:, :-1] != truth[:, 1:]
    bdist = ndimage.distance_transform_edt(~boundary)

    # labels: L2 = truth with noise near boundaries (mixed pixels take a neighbour's class);
    # L3 = truth away from boundaries; L1 = L2 with extra random noise
    neighbour = ndimage.maximum_filter(truth, size=3)
    near = bdist <= 1.0
    flip = near & (rng.random(shape) < 0.5)
    l2 = np.where(flip, neighbour, truth).astype(np.uint8)
    l3 = np.where(bdist >= 2.0, truth, 0).astype(np.uint8)
    noise = rng.random(shape) < 0.08
    l1 = np.where(noise, rng.integers(1, nclass + 1, shape), l2).astype(np.uint8)

    # spatially blocked split with a buffer between blocks of different splits
    nby, nbx = -(-ny // block), -(-nx // block)
    block_split = rng.choice([1, 1, 1, 2, 3], size=(nby, nbx)).astype(np.uint8)
    block_split.flat[:3] = [1, 2, 3]  # every split present
    split_full = np.kron(block_split, np.ones((block, block), np.uint8))[:ny, :nx]
    size = 2 * buffer + 1
    mixed = ndimage.maximum_filter(split_full, size=size, mode="nearest") != ndimage.minimum_filter(
        split_full, size=size, mode="nearest"
    )
    split = np.where(mixed, 0, split_full).astype(np.uint8)

    # signatures: class means + spatially correlated noise + white noise
    times = np.array(["2024-01-05", "2024-01-17", "2024-01-29"][:n_dates], dtype="datetime64[ns]")
    cls = truth - 1
    mean_db_vv = np.array([2.0, -9.0, -20.0, -7.0])[cls]
    mean_db_vh = np.array([-8.0, -17.0, -27.0, -13.0])[cls]
    mean_coh = np.array([0.85, 0.55, 0.10, 0.30])[cls]
    # a regional offset shared by all dates (terrain, moisture, incidence): spatially
    # autocorrelated, so the random-pixel protocol can memorise it and the spatial one cannot
    regional = _smooth_noise(rng, shape, 10.0)
    sig_vv, sig_vh, coh = [], [], []
    for _ in range(n_dates):
        corr = _smooth_noise(rng, shape, 2.0)
        vv_db = mean_db_vv + 4.0 * regional + 2.0 * corr + 4.0 * rng.standard_normal(shape)
        vh_db = mean_db_vh + 4.0 * regional + 2.0 * corr + 4.0 * rng.standard_normal(shape)
        sig_vv.append(10 ** (vv_db / 10))
        sig_vh.append(10 ** (vh_db / 10))
        coh.append(
            np.clip(
                mean_coh
                + 0.15 * regional
                + 0.08 * _smooth_noise(rng, shape, 2.0)
                + 0.2 * rng.standard_normal(shape),
                0,
                1,
            )
        )
    sigma0_vv = np.stack(sig_vv).astype(np.float32)
    sigma0_vh = np.stack(sig_vh).astype(np.float32)
    coherence_vv = np.stack(coh).astype(np.float32)
    entropy = np.clip(
        np.array([0.4, 0.6, 0.8, 0.9])[cls] + 0.1 * regional + 0.25 * rng.standard_normal(shape),
        0,
        1,
    )
    entropy = entropy.astype(np.float32)
    entropy[rng.random(shape) < 0.03] = np.nan  # undefined values are NaN (formats.md)
    dispersion = (
        np.array([0.2, 0.35, 0.6, 0.45])[cls] + 0.1 * regional + 0.15 * rng.standard_normal(shape)
    )
    dispersion = dispersion.astype(np.float32)

    lines = LINE0 + np.arange(ny)
    pixels = PIXEL0 + np.arange(nx)
    lat = 52.0 + 1e-4 * (lines[:, None] - LINE0) + 0 * pixels[None, :]
    lon = 6.0 + 1e-4 * (pixels[None, :] - PIXEL0) + 0 * lines[:, None]
    flag_values = np.arange(1, nclass + 1, dtype=np.uint8)
    meanings = " ".join(CLASSES)

    def sig(
        data: np.ndarray,
        dims: tuple[str, ...],
        category: str,
        formula: str,
        units: str,
        long_name: str,
    ) -> xr.DataArray:
        return xr.DataArray(
            data,
            dims=dims,
            attrs={
                "units": units,
                "long_name": long_name,
                "sarbd_category": category,
                "sarbd_formula": formula,
            },
        )

    def label(data: np.ndarray, level: str) -> xr.DataArray:
        # both forms the contract allows: L1 lists 0 "unlabelled" among the flags, L2/L3 do not
        values, names = (
            (np.r_[0, flag_values], f"unlabelled {meanings}")
            if level == "L1"
            else (flag_values, meanings)
        )
        return xr.DataArray(
            data,
            dims=("line", "pixel"),
            attrs={
                "long_name": f"SARbd-{level} class",
                "flag_values": values.astype(np.uint8),
                "flag_meanings": names,
            },
        )

    tld = ("time", "line", "pixel")
    ld = ("line", "pixel")
    ds = xr.Dataset(
        {
            "sigma0_vv": sig(
                sigma0_vv,
                tld,
                "single_pol",
                "(|DN|^2 - noise) * cal_sigma0",
                "1",
                "sigma nought VV",
            ),
            "sigma0_vh": sig(
                sigma0_vh,
                tld,
                "single_pol",
                "(|DN|^2 - noise) * cal_sigma0",
                "1",
                "sigma nought VH",
            ),
            "coherence_vv": sig(
                coherence_vv,
                tld,
                "single_pol",
                "|<s1 s2*>|/sqrt(<|s1|^2><|s2|^2>)",
                "1",
                "coherence VV",
            ),
            "entropy": sig(entropy, ld, "multi_pol", "-sum p log2 p", "1", "dual-pol entropy"),
            "amplitude_dispersion": sig(
                dispersion, ld, "temporal", "std(A)/mean(A)", "1", "amplitude dispersion"
            ),
            # a category-3 signature (inherited from reference geodata): a label leak if used as input
            "reference_landcover": sig(
                truth.astype(np.float32), ld, "3", "radarcoded land cover", "1", "land cover"
            ),
            **{
                f"fraction_{name}": xr.DataArray(
                    (truth == i + 1).astype(np.float32),
                    dims=ld,
                    attrs={"units": "1", "long_name": f"{name} fraction"},
                )
                for i, name in enumerate(CLASSES)
            },
            "label_l1": label(l1, "L1"),
            "label_l2": label(l2, "L2"),
            "label_l3": label(l3, "L3"),
            "quality_flags": xr.DataArray(
                np.where(l3 == 0, 2, 0).astype(np.uint16),
                dims=ld,
                attrs={
                    "flag_masks": np.array([1, 2, 4, 8, 16, 32, 64], np.uint16),
                    "flag_meanings": "no_reference mixed boundary_buffer layover shadow sar_outlier invalid_signature",
                },
            ),
            "boundary_distance": xr.DataArray(
                (10.0 * bdist).astype(np.float32), dims=ld, attrs={"units": "m"}
            ),
            "split": xr.DataArray(
                split,
                dims=ld,
                attrs={
                    "flag_values": np.array([0, 1, 2, 3], np.uint8),
                    "flag_meanings": "unassigned train validation test",
                },
            ),
        },
        coords={
            "time": ("time", times),
            "line": ("line", lines.astype(np.int64)),
            "pixel": ("pixel", pixels.astype(np.int64)),
            "latitude": (ld, lat, {"standard_name": "latitude", "units": "degrees_north"}),
            "longitude": (ld, lon, {"standard_name": "longitude", "units": "degrees_east"}),
        },
        attrs={
            "title": "synthetic SARbd test dataset",
            "sarbd_classes": json.dumps([{"id": i + 1, "name": n} for i, n in enumerate(CLASSES)]),
            "split_block_size": block,
            "split_buffer": buffer,
            "split_seed": seed,
        },
    )
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    ds.chunk({"time": 1, "line": 32, "pixel": 64}).to_zarr(
        root / "dataset.zarr", mode="w", consolidated=False
    )

    # pixel table: every pixel labelled at any level; per-date signatures named <var>_<YYYYMMDD>
    labelled = (l1 > 0) | (l2 > 0) | (l3 > 0)
    rr, cc = np.nonzero(labelled)
    table: dict[str, np.ndarray] = {
        "line": lines[rr],
        "pixel": pixels[cc],
        "split": split[rr, cc],
        "label_l1": l1[rr, cc],
        "label_l2": l2[rr, cc],
        "label_l3": l3[rr, cc],
    }
    for name in ("sigma0_vv", "sigma0_vh", "coherence_vv"):
        for t, day in enumerate(np.datetime_as_string(times, unit="D")):
            table[f"{name}_{day.replace('-', '')}"] = ds[name].values[t][rr, cc]
    for name in ("entropy", "amplitude_dispersion"):
        table[name] = ds[name].values[rr, cc]
    (root / "tables").mkdir(exist_ok=True)
    pd.DataFrame(table).to_parquet(root / "tables" / "pixels.parquet", index=False)

    # chip index: one chip per split block (absolute line0/pixel0), split name, class counts at L3
    rows = []
    for by in range(ny // block):
        for bx in range(nx // block):
            win = l3[by * block : (by + 1) * block, bx * block : (bx + 1) * block]
            rows.append(
                {
                    "chip_id": len(rows),
                    "line0": int(lines[by * block]),
                    "pixel0": int(pixels[bx * block]),
                    # split by name, as sarbd.dataset.chips writes it (codes are accepted too)
                    "size": block,
                    "split": ("unassigned", "train", "validation", "test")[block_split[by, bx]],
                    **{f"count_{n}": int((win == i + 1).sum()) for i, n in enumerate(CLASSES)},
                }
            )
    (root / "chips").mkdir(exist_ok=True)
    pd.DataFrame(rows).to_parquet(root / "chips" / f"chips_{block}.parquet", index=False)
    return SyntheticDataset(path=root, truth=truth, block=block, buffer=buffer)
