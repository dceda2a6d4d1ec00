"""A small synthetic SARbd input: stack geometry, signatures, radarcoded fractions, truth.

It follows ``docs/formats.md``: dims ``(time, line, pixel)`` with absolute ``line``/``pixel``
coordinates, 2-D ``latitude``/``longitude``, ``radar_grid_*`` attributes from
:meth:`RadarGrid.to_attrs`, the orbit from :func:`orbit_to_dataset`, ACDD + ``sar_*``
global attributes.

The scene is a mosaic of rectangular parcels drawn on a grid ``OVERSAMPLE`` times finer
than the radar grid, so that pixels on parcel edges are truly mixed. Each parcel has a
true class; the *reference* (what the radarcoded vectors say) is the truth with its
boundaries shifted and about 10 % of the parcels given a wrong class -- the kind of
corruption SARbd-L3 must remove. Signatures are drawn per class from distinct
distributions (log-normal backscatter, beta-like coherence) and mixed in linear power
on mixed pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import ndimage

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.core.serialization import orbit_to_dataset

CLASSES = [
    {"id": 1, "name": "water"},
    {"id": 2, "name": "built_up"},
    {"id": 3, "name": "vegetation"},
    {"id": 4, "name": "bare_soil"},
]
#: per class: VV dB, VH dB, coherence, amplitude dispersion (means)
CLASS_STATS = {
    1: (-20.0, -27.0, 0.15, 0.90),
    2: (3.0, -6.0, 0.85, 0.18),
    3: (-9.0, -15.0, 0.30, 0.55),
    4: (-13.0, -22.0, 0.65, 0.35),
}
OVERSAMPLE = 4
PIXEL_SIZE_M = 10.0


@dataclass
class Synthetic:
    stack: xr.Dataset  # geometry + coords + attrs (no SLCs)
    signatures: xr.Dataset
    fractions: xr.Dataset  # fraction_<class>, boundary_distance, layover_shadow_mask
    truth: xr.DataArray  # majority true class per pixel (uint8)
    truth_pure: xr.DataArray  # True where the pixel is >= 99 % one true class
    classes: list[dict]


def _parcels(shape_fine, rng, min_size=24, max_size=72):
    """Label image of rectangular parcels on the fine grid (ids 0..n-1)."""
    rows, cols = shape_fine
    r_edges = [0]
    while r_edges[-1] < rows:
        r_edges.append(r_edges[-1] + int(rng.integers(min_size, max_size)))
    c_edges = [0]
    while c_edges[-1] < cols:
        c_edges.append(c_edges[-1] + int(rng.integers(min_size, max_size)))
    ri = np.searchsorted(np.array(r_edges[1:]), np.arange(rows), side="right")
    ci = np.searchsorted(np.array(c_edges[1:]), np.arange(cols), side="right")
    # split each row band's columns differently, so parcels do not line up
    jitter = rng.integers(0, min_size, size=len(r_edges))
    ci2 = np.searchsorted(
        np.array(c_edges[1:]), (np.arange(cols)[None, :] + jitter[ri][:, None]) % cols, side="right"
    )
    del ci
    return ri[:, None] * (len(c_edges) + 1) + ci2


def make_synthetic(
    length: int = 120,
    width: int = 150,
    n_time: int = 3,
    seed: int = 0,
    wrong_class_fraction: float = 0.10,
    boundary_shift_px: int = 1,
    line0: int = 200,
    pixel0: int = 1000,
    sd_db: float = 1.2,
) -> Synthetic:
    """Build the synthetic scene (see the module docstring)."""
    rng = np.random.default_rng(seed)
    fine_shape = (length * OVERSAMPLE, width * OVERSAMPLE)
    parcels = _parcels(fine_shape, rng)
    ids = np.unique(parcels)
    ids_class = rng.integers(1, len(CLASSES) + 1, size=ids.max() + 1).astype(np.uint8)
    truth_fine = ids_class[parcels]

    # reference: wrong class for some parcels, boundaries shifted
    ref_class = ids_class.copy()
    wrong = rng.random(ids_class.size) < wrong_class_fraction
    ref_class[wrong] = (ref_class[wrong] % len(CLASSES)) + 1
    ref_fine = ref_class[parcels]
    s = boundary_shift_px * OVERSAMPLE // 2
    ref_fine = np.roll(ref_fine, (s, -s), axis=(0, 1))

    def block_fractions(fine):
        out = {}
        for c in CLASSES:
            onehot = (fine == c["id"]).astype(np.float32)
            out[c["id"]] = onehot.reshape(length, OVERSAMPLE, width, OVERSAMPLE).mean(axis=(1, 3))
        return out

    true_frac = block_fractions(truth_fine)
    ref_frac = block_fractions(ref_fine)
    stack_true = np.stack([true_frac[c["id"]] for c in CLASSES])
    truth = (np.argmax(stack_true, axis=0) + 1).astype(np.uint8)
    truth_pure = stack_true.max(axis=0) >= 0.99

    # distance (m) from each pixel centre to the nearest boundary in the reference
    edge = np.zeros(fine_shape, bool)
    edge[:-1, :] |= ref_fine[:-1, :] != ref_fine[1:, :]
    edge[:, :-1] |= ref_fine[:, :-1] != ref_fine[:, 1:]
    dist_fine = ndimage.distance_transform_edt(~edge) * (PIXEL_SIZE_M / OVERSAMPLE)
    c = OVERSAMPLE // 2
    boundary_distance = dist_fine[c::OVERSAMPLE, c::OVERSAMPLE].astype(np.float32)

    # geometry
    lines = np.arange(line0, line0 + length)
    pixels = np.arange(pixel0, pixel0 + width)
    ll, pp = np.meshgrid(np.arange(length), np.arange(width), indexing="ij")
    lat = 52.0 + 1e-4 * ll * 1.3 - 2e-5 * pp
    lon = 5.0 - 1.5e-5 * ll + 1.4e-4 * pp
    height = (5.0 + 0.02 * pp + 0.01 * ll).astype(np.float32)
    lsm = np.zeros((length, width), np.uint8)
    lsm[10:16, 20:30] = 1
    lsm[30:34, 100:110] = 2
    lsm[31:33, 100:104] = 3

    epoch = np.datetime64("2022-02-14T05:50:00", "ns")
    grid = RadarGrid(epoch, 10.0, 2.055e-3, 8.5e5, 2.33, 1500, 25000, 0.05546576, "right").window(
        line0, pixel0, length, width
    )
    t_orbit = epoch + (np.arange(-30, 60, 10) * 1e9).astype("timedelta64[ns]")
    pos = np.stack([7.0e6 + np.arange(9) * 10.0, 1.0e3 * np.arange(9), np.full(9, 1.0e5)], axis=1)
    vel = np.tile([0.0, 7500.0, 100.0], (9, 1))
    orbit = Orbit(t_orbit, pos, vel, source="simulated")
    times = epoch + (np.arange(n_time) * 12 * 86400 * 1e9).astype("timedelta64[ns]")

    coords = {
        "time": ("time", times),
        "line": ("line", lines),
        "pixel": ("pixel", pixels),
        "latitude": (
            ("line", "pixel"),
            lat,
            {
                "standard_name": "latitude",
                "units": "degrees_north",
                "long_name": "geodetic latitude",
            },
        ),
        "longitude": (
            ("line", "pixel"),
            lon,
            {
                "standard_name": "longitude",
                "units": "degrees_east",
                "long_name": "geodetic longitude",
            },
        ),
    }
    stack = xr.Dataset(
        {
            "height": (
                ("line", "pixel"),
                height,
                {
                    "units": "m",
                    "long_name": "WGS84 ellipsoidal height",
                    "standard_name": "height_above_reference_ellipsoid",
                },
            ),
            "incidence_angle": (
                ("line", "pixel"),
                (30 + 0.01 * pp).astype(np.float32),
                {"units": "degree", "long_name": "incidence angle"},
            ),
            "local_incidence_angle": (
                ("line", "pixel"),
                (30 + 0.01 * pp).astype(np.float32),
                {"units": "degree", "long_name": "local incidence angle"},
            ),
            "layover_shadow_mask": (
                ("line", "pixel"),
                lsm,
                {
                    "long_name": "layover and shadow mask",
                    "units": "1",
                    "flag_values": np.array([0, 1, 2, 3], np.uint8),
                    "flag_meanings": "none layover shadow layover_and_shadow",
                },
            ),
            "perpendicular_baseline": (
                "time",
                rng.normal(0, 50, n_time).astype(np.float32),
                {"units": "m", "long_name": "perpendicular baseline"},
            ),
            "temporal_baseline": (
                "time",
                (np.arange(n_time) * 12.0).astype(np.float32),
                {"units": "day", "long_name": "temporal baseline"},
            ),
        },
        coords=coords,
    )
    stack = stack.merge(orbit_to_dataset(orbit))
    stack.attrs = {
        "title": "synthetic SARbd test scene",
        "summary": "A synthetic scene for sarbd's dataset and export tests.",
        "institution": "sarbd tests",
        "source": "simulated",
        "processing_level": "L1",
        "sar_instrument_mode": "IW",
        "sar_mission": "Sentinel-1A",
        "sar_platform": "sentinel-1a",
        "sar_frequency_band": "C",
        "sar_center_frequency_ghz": 5.405,
        "sar_polarizations": "VV VH",
        "sar_pass": "ASCENDING",
        "sar_absolute_orbit": 41737,
        "sar_relative_orbit": 88,
        "sar_looks_range": 1,
        "sar_looks_azimuth": 1,
        "sar_pixel_spacing_range": 2.33,
        "sar_pixel_spacing_azimuth": 13.9,
        "sar_view_incidence_angle": 39.0,
        "reference_date": str(times[0])[:10],
        **grid.to_attrs(),
    }

    # signatures from the *true* fractions: linear-power mix of class draws
    def mixed_power(idx: int, t: int) -> np.ndarray:
        p = np.zeros((length, width))
        for cid, f in true_frac.items():
            mu = CLASS_STATS[cid][idx]
            p += f * 10 ** ((mu + rng.normal(0, sd_db, (length, width))) / 10)
        return p

    def mixed_value(idx: int, sd: float) -> np.ndarray:
        v = np.zeros((length, width))
        for cid, f in true_frac.items():
            v += f * (CLASS_STATS[cid][idx] + rng.normal(0, sd, (length, width)))
        return v

    vv = np.stack([mixed_power(0, t) for t in range(n_time)]).astype(np.float32)
    vh = np.stack([mixed_power(1, t) for t in range(n_time)]).astype(np.float32)
    coh = np.clip(np.stack([mixed_value(2, 0.05) for _ in range(n_time)]), 0, 1).astype(np.float32)
    coh[0] = 1.0
    disp = np.clip(mixed_value(3, 0.05), 0.01, None).astype(np.float32)
    vv[:, 0, 0] = np.nan  # one undefined value
    sig_coords = {k: v for k, v in coords.items()}
    signatures = xr.Dataset(
        {
            "sigma0_vv": (
                ("time", "line", "pixel"),
                vv,
                {
                    "units": "1",
                    "long_name": "VV backscatter coefficient sigma0",
                    "standard_name": "surface_backwards_scattering_coefficient_of_radar_wave",
                    "sarbd_category": "1",
                    "sarbd_formula": "(|DN|^2 - noise) * cal_sigma0",
                },
            ),
            "sigma0_vh": (
                ("time", "line", "pixel"),
                vh,
                {
                    "units": "1",
                    "long_name": "VH backscatter coefficient sigma0",
                    "standard_name": "surface_backwards_scattering_coefficient_of_radar_wave",
                    "sarbd_category": "1",
                    "sarbd_formula": "(|DN|^2 - noise) * cal_sigma0",
                },
            ),
            "coherence_vv": (
                ("time", "line", "pixel"),
                coh,
                {
                    "units": "1",
                    "long_name": "VV coherence magnitude",
                    "sarbd_category": "2",
                    "sarbd_formula": "|<s1 s2*>| / sqrt(<|s1|^2><|s2|^2>)",
                },
            ),
            "amplitude_dispersion_vv": (
                ("line", "pixel"),
                disp,
                {
                    "units": "1",
                    "long_name": "VV amplitude dispersion index",
                    "sarbd_category": "temporal",
                    "sarbd_formula": "std(A) / mean(A)",
                },
            ),
        },
        coords=sig_coords,
    )
    fr = xr.Dataset(
        {
            f"fraction_{c['name']}": (
                ("line", "pixel"),
                ref_frac[c["id"]],
                {"units": "1", "long_name": f"reference area fraction of class {c['name']}"},
            )
            for c in CLASSES
        },
        coords={k: coords[k] for k in ("line", "pixel", "latitude", "longitude")},
    )
    fr["boundary_distance"] = (
        ("line", "pixel"),
        boundary_distance,
        {"units": "m", "long_name": "distance to the nearest class boundary"},
    )
    fr["layover_shadow_mask"] = stack["layover_shadow_mask"]
    dims = ("line", "pixel")
    return Synthetic(
        stack=stack,
        signatures=signatures,
        fractions=fr,
        truth=xr.DataArray(truth, dims=dims, coords={"line": lines, "pixel": pixels}),
        truth_pure=xr.DataArray(truth_pure, dims=dims, coords={"line": lines, "pixel": pixels}),
        classes=[dict(c) for c in CLASSES],
    )


def make_dataset(length: int = 120, width: int = 150, n_time: int = 3, seed: int = 0) -> xr.Dataset:
    """The assembled SARbd dataset (labels L1/L2/L3, quality flags, split) of :func:`make_synthetic`."""
    from sarbd.dataset import OutlierTest, label_l1, label_l2, label_l3
    from sarbd.dataset.assemble import assemble_dataset
    from sarbd.dataset.splits import assign_splits

    s = make_synthetic(length, width, n_time, seed)
    rules = {
        "water": "db(sigma0_vv) < -16 and coherence_vv < 0.3",
        "built_up": "amplitude_dispersion_vv < 0.25 and db(sigma0_vv) > -3",
    }
    l1 = label_l1(s.signatures, rules, s.classes)
    l2 = label_l2(s.fractions, s.classes, 0.5)
    l3 = label_l3(
        l2,
        s.signatures,
        s.fractions["boundary_distance"],
        s.fractions["layover_shadow_mask"],
        buffer_m=10.0,
        outlier_test=OutlierTest(("db(sigma0_vv)", "db(sigma0_vh)", "coherence_vv")),
        fractions=s.fractions,
    )
    split = assign_splits(l2, block=32, buffer=2, seed=0)
    radarcoded = s.fractions.drop_vars("layover_shadow_mask")
    return assemble_dataset(s.stack, s.signatures, radarcoded, [l1, l2, l3], s.classes, split)
