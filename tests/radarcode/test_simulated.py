"""Acceptance on a simulated scene: radarcoded truth vectors against the simulator's truth.

The simulator (``sarbd.simulate``) places every ground scatterer at its terrain height
and building scatterers on their roofs, images them with the SAR point-spread function
(PSF) and records per-class shares of the PSF-weighted ground area on the reference
grid (``truth.zarr:class_fraction``). Radarcoding gives exact pixel-area fractions; to
compare like with like, the same PSF energy weighting (a known linear operator) is
applied to them before normalising. Geometry is not adjusted in any way.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sarbd.simulate.api")


def _psf_kernel(b: float, a: float, n: int = 4, sub: int = 64) -> np.ndarray:
    """Mean of the unit-sum |h|^2 taps over target positions inside a pixel (1-D)."""
    from sarbd.simulate.psf import hamming_sinc

    k = np.zeros(2 * n + 1)
    for x in (np.arange(sub) + 0.5) / sub - 0.5:
        taps = np.array([hamming_sinc(m - x, b, a) for m in range(-n, n + 1)]) ** 2
        k += taps / taps.sum()
    return k / sub


def _psf_weighted(frac: np.ndarray) -> np.ndarray:
    from scipy.ndimage import convolve1d

    from sarbd.simulate import sensor as S

    kaz = _psf_kernel(S.AZIMUTH_BANDWIDTH * S.AZIMUTH_TIME_INTERVAL, S.AZIMUTH_WINDOW_COEFFICIENT)
    krg = _psf_kernel(S.RANGE_BANDWIDTH / S.RANGE_SAMPLING_RATE, S.RANGE_WINDOW_COEFFICIENT)
    out = convolve1d(convolve1d(frac, kaz, axis=1, mode="constant"), krg, axis=2, mode="constant")
    tot = out.sum(axis=0)
    return np.where(tot > 0, out / np.where(tot > 0, tot, 1.0), 0.0)


def _shift(ours: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(line, pixel) shift of ``ours`` against ``truth``: peak of the summed class cross-correlations,
    refined by a parabola through the peak and its neighbours."""
    c = np.zeros(truth.shape[1:])
    for a, b in zip(ours, truth, strict=True):
        a = a - a.mean()
        b = b - b.mean()
        c += np.real(np.fft.ifft2(np.fft.fft2(a) * np.conj(np.fft.fft2(b))))
    i, j = np.unravel_index(np.argmax(c), c.shape)
    n0, n1 = c.shape

    def parabola(m: float, z: float, p: float) -> float:
        return 0.5 * (m - p) / (m - 2 * z + p)

    di = parabola(c[i - 1, j], c[i, j], c[(i + 1) % n0, j])
    dj = parabola(c[i, j - 1], c[i, j], c[i, (j + 1) % n1])
    i = i if i < n0 // 2 else i - n0
    j = j if j < n1 // 2 else j - n1
    return float(i + di), float(j + dj)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    import geopandas as gpd
    import pandas as pd
    import rasterio
    import shapely
    import xarray as xr

    import sarbd
    from sarbd.simulate.api import simulate_scene
    from sarbd.simulate.config import CLASSES

    sim = simulate_scene(tmp_path_factory.mktemp("sim"), size="tiny", dates=1, seed=3)
    names = [c.name for c in CLASSES]
    layers = {n: gpd.read_file(sim.truth_gpkg, layer=n) for n in names}
    # the simulator's class map is "field" wherever no truth vector lies: add that background
    with rasterio.open(sim.truth_dir / "class_map.tif") as r:
        bounds = r.bounds
    covered = shapely.union_all(pd.concat([g.geometry for g in layers.values()]).to_numpy())
    background = shapely.difference(shapely.box(*bounds), covered)
    layers["field"] = pd.concat(
        [
            layers["field"],
            gpd.GeoDataFrame(
                {"class": ["field"], "height": [0.0]},
                geometry=[background],
                crs=layers["field"].crs,
            ),
        ],
        ignore_index=True,
    )
    scene = sarbd.open_product(sim.safe[0])
    truth = xr.open_zarr(sim.truth_dir / "truth.zarr")["class_fraction"].values
    return sim, scene, layers, names, truth


def _fractions(ds, names):
    return np.stack([ds[f"fraction_{n}"].values for n in names]).astype(np.float64)


def test_truth_vectors_reproduce_the_truth_map(simulated):
    from sarbd.radarcode import radarcode

    sim, scene, layers, names, truth = simulated
    # the simulator images roofs (no walls): building_model="roof"
    ds = radarcode(layers, scene, dem=sim.dem, building_model="roof", priority=names)
    ours = _psf_weighted(_fractions(ds, names))
    mae = np.abs(ours - truth)[:, 4:-4, 4:-4].mean(axis=(1, 2))
    assert np.all(mae < 0.05), dict(zip(names, mae.round(4), strict=True))
    dl, dp = _shift(ours, truth)
    assert abs(dl) < 0.1 and abs(dp) < 0.1, (dl, dp)
    # with a DEM and no stack, the layover/shadow mask comes from rdr2geo_grid on the DEM
    lsm = ds["layover_shadow_mask"]
    assert lsm.dtype == np.uint8 and lsm.shape == truth.shape[1:]
    assert set(np.unique(lsm.values)) <= {0, 1, 2, 3} and "flag_meanings" in lsm.attrs


def test_building_layover_is_reproduced(simulated):
    from sarbd.radarcode import radarcode

    sim, scene, layers, names, truth = simulated
    k = names.index("building")
    roof = _psf_weighted(
        _fractions(
            radarcode(layers, scene, dem=sim.dem, building_model="roof", priority=names), names
        )
    )
    foot = _psf_weighted(
        _fractions(
            radarcode(layers, scene, dem=sim.dem, building_model="footprint", priority=names), names
        )
    )
    err_roof = np.abs(roof[k] - truth[k]).mean()
    err_foot = np.abs(foot[k] - truth[k]).mean()
    assert err_roof < 0.6 * err_foot
    # footprints sit at far range of the roofs: height-less radarcoding is shifted by the layover
    _, dp_foot = _shift(foot[k : k + 1], truth[k : k + 1])
    _, dp_roof = _shift(roof[k : k + 1], truth[k : k + 1])
    assert dp_foot > 1.0 and abs(dp_roof) < 0.2
