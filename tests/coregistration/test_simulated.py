"""Acceptance on simulated Sentinel-1 stacks (sarbd.simulate): offsets, phase and coherence vs truth."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr
from scipy.ndimage import uniform_filter

import sarbd
from sarbd.coregistration.burst import burst_boundary_phase_jumps
from sarbd.coregistration.stack import coregister
from sarbd.insar import expected_coherence
from sarbd.simulate import simulate_scene

#: Effective independent looks of the 2 x 10 window: Sentinel-1 IW data are oversampled
#: by 64.3 / 56.5 in range and 486 / 327 in azimuth, so 20 samples are ~12 looks.
L_EFF = 12


def _simulate(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate_scene(path, **kw)


def _open(sim):
    ref, *secs = (sarbd.open_product(p) for p in sim.safe)
    truth = xr.open_zarr(sim.truth_dir / "truth.zarr").load()
    scene = json.loads((sim.truth_dir / "scene.json").read_text())
    return ref, secs, truth, scene


@pytest.fixture(scope="module")
def stripmap(tmp_path_factory):
    sim = _simulate(tmp_path_factory.mktemp("sim_strip"), size="tiny", dates=3, seed=1)
    ref, secs, truth, scene = _open(sim)
    ds = coregister(ref, secs, dem=sim.dem, chunks=(64, 160)).compute()
    return ds, truth, scene


INNER = (slice(10, -10), slice(10, -10))


def test_stripmap_misregistration_below_0_01_pixel(stripmap) -> None:
    ds, truth, scene = stripmap
    for n in range(1, ds.sizes["time"]):
        dl = (ds["offset_line"][n] - truth["offset_line"][n]).values[INNER]
        dp = (ds["offset_pixel"][n] - truth["offset_pixel"][n]).values[INNER]
        assert np.sqrt(np.mean(dl**2)) < 0.01, n
        assert np.sqrt(np.mean(dp**2)) < 0.01, n
        # the timing error really had to be found (geometry alone is off by it)
        terr = scene["dates"][n]["timing_error_s"] / ds.attrs["radar_grid_azimuth_time_interval_s"]
        assert abs(terr) > 0.02
        assert float(ds["residual_line_shift"][n]) == pytest.approx(terr, abs=0.01)


def test_stripmap_flattened_phase_matches_truth(stripmap) -> None:
    ds, truth, _ = stripmap
    for n in range(1, ds.sizes["time"]):
        ifg = ds["interferogram_vv"].values[n]
        d = ifg * np.exp(-1j * truth["residual_phase"].values[n])
        # mean phase difference: no residual flat-earth / topographic / constant phase
        assert abs(np.angle(np.sum(d[INNER]))) < 0.05
        # locally (8 x 32 looks) the difference is noise around zero, without trend
        ml = uniform_filter(d.real, (8, 32))[INNER] + 1j * uniform_filter(d.imag, (8, 32))[INNER]
        coherent = truth["coherence_vv"].values[n][INNER] > 0.6
        assert np.median(np.abs(np.angle(ml[coherent]))) < 0.1


def test_stripmap_coherence_matches_truth_within_bias(stripmap) -> None:
    ds, truth, _ = stripmap
    p = truth["sigma0_vv"].values
    g = np.linspace(0.0, 0.999, 400)
    lut = expected_coherence(g, L_EFF)
    for n in range(1, ds.sizes["time"]):
        # the estimator sees the power-weighted coherence of its window
        tw = uniform_filter(truth["coherence_vv"].values[n] * p, (2, 10)) / uniform_filter(p, (2, 10))
        expected = np.interp(tw, g, lut)[INNER]
        est = ds["coherence_vv"].values[n][INNER]
        assert abs(np.nanmean(est) - np.mean(expected)) < 0.03
        for lo in (0.2, 0.5, 0.8):
            sel = (tw[INNER] >= lo) & (tw[INNER] < lo + 0.1)
            if sel.sum() > 500:
                assert abs(np.nanmean(est[sel]) - np.mean(expected[sel])) < 0.05, (n, lo)


@pytest.mark.slow
def test_tops_bursts_phase_and_boundaries(tmp_path_factory) -> None:
    """TOPS: per-burst geometry, deramp/reramp and debursting against the truth.

    The simulator ties the azimuth ramp to the burst lines (not to each target), so
    its deramped data are what the truth's phase refers to (tops_reramp="reference"),
    and its timing errors leave no spectral-diversity signal: ESD is checked on a
    physical model in test_refine_tops.py, and here the azimuth offsets are compared
    with the truth minus the timing error.
    """
    sim = _simulate(tmp_path_factory.mktemp("sim_tops"), size="tiny", dates=2, seed=2, mode="tops")
    ref, secs, truth, scene = _open(sim)
    ds = coregister(ref, secs, dem=sim.dem, esd=False, refine="report", tops_reramp="reference").compute()
    valid = np.abs(ds["slc_vv"].values[0]) > 0
    inner = (slice(4, -4), slice(10, -10))
    m = valid[inner]
    terr = scene["dates"][1]["timing_error_s"] / ds.attrs["radar_grid_azimuth_time_interval_s"]
    dl = (ds["offset_line"][1] - truth["offset_line"][1]).values[inner][m] + terr
    dp = (ds["offset_pixel"][1] - truth["offset_pixel"][1]).values[inner][m]
    assert np.sqrt(np.mean(dl**2)) < 1e-3 and np.sqrt(np.mean(dp**2)) < 1e-3
    ifg = ds["interferogram_vv"].values[1]
    d = ifg * np.exp(-1j * truth["residual_phase"].values[1])
    assert abs(np.angle(np.sum(d[inner]))) < 0.05
    cuts = [int(np.ceil(c)) for c in ref.product.deburst.cut_line]
    jumps = burst_boundary_phase_jumps(d, cuts)
    assert len(jumps) == len(cuts) and max(abs(j) for j in jumps) < 0.15


def test_stripmap_calibration_layers_give_true_sigma0(stripmap) -> None:
    """sigma0 = (|DN|^2 - noise) * cal_sigma0 on the reference grid, every date, vs the expected sigma0."""
    ds, truth, _ = stripmap
    assert {"cal_sigma0_vv", "cal_beta0_vv", "cal_gamma0_vv", "noise_vv", "cal_sigma0_vh"} <= set(ds.data_vars)
    sigma0 = (np.abs(ds["slc_vv"].values) ** 2 - ds["noise_vv"].values) * ds["cal_sigma0_vv"].values
    expected = float(truth["sigma0_vv"].values[INNER].mean())
    for n in range(ds.sizes["time"]):
        assert float(np.mean(sigma0[n][INNER])) == pytest.approx(expected, rel=0.05)
