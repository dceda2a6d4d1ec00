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
        tw = uniform_filter(truth["coherence_vv"].values[n] * p, (2, 10)) / uniform_filter(
            p, (2, 10)
        )
        expected = np.interp(tw, g, lut)[INNER]
        est = ds["coherence_vv"].values[n][INNER]
        assert abs(np.nanmean(est) - np.mean(expected)) < 0.03
        for lo in (0.2, 0.5, 0.8):
            sel = (tw[INNER] >= lo) & (tw[INNER] < lo + 0.1)
            if sel.sum() > 500:
                assert abs(np.nanmean(est[sel]) - np.mean(expected[sel])) < 0.05, (n, lo)


@pytest.fixture(scope="module")
def tops_small(tmp_path_factory):
    """The ``small`` TOPS scene (3 bursts of 400 lines, 42-line overlaps, 2500 pixels), defaults.

    Not ``tiny``: its 64-line bursts overlap by 7 lines (5 valid) x 320 pixels with a
    Doppler difference of ~210 Hz, so ESD's own standard deviation there is ~0.01
    line (docs/coregistration.md, Limits); ``small`` has ~1300 Hz and ~125 000
    overlap samples (~2e-4 line).
    """
    sim = _simulate(tmp_path_factory.mktemp("sim_tops"), size="small", dates=2, seed=2, mode="tops")
    ref, secs, truth, scene = _open(sim)
    ds = coregister(
        ref, secs, dem=sim.dem
    ).compute()  # tops_reramp="secondary", ESD, refine="apply"
    return sim, ref, secs, ds, truth, scene


#: rows summed on each side of a burst cut for the phase-jump statistic
JUMP_ROWS = 8


@pytest.mark.slow
def test_tops_esd_residual_below_0_001_line(tops_small) -> None:
    """Issue 5: simulated TOPS with ESD, azimuth residual against the true offsets < 0.001 line."""
    _, _, _, ds, truth, scene = tops_small
    assert ds.attrs["sarbd_tops_reramp"] == "secondary"
    valid = np.abs(ds["slc_vv"].values[0]) > 0
    inner = (slice(8, -8), slice(16, -16))
    m = valid[inner]
    dl = (ds["offset_line"][1] - truth["offset_line"][1]).values[inner][m]
    dp = (ds["offset_pixel"][1] - truth["offset_pixel"][1]).values[inner][m]
    assert np.sqrt(np.mean(dl**2)) < 1e-3
    assert np.sqrt(np.mean(dp**2)) < 1e-3
    # the timing error (what ESD must find) is far larger than the target
    terr = scene["dates"][1]["timing_error_s"] / ds.attrs["radar_grid_azimuth_time_interval_s"]
    assert abs(terr) > 0.02
    assert np.isfinite(float(ds["esd_azimuth_correction"][1]))


@pytest.mark.slow
def test_tops_phase_matches_truth_without_burst_jumps(tops_small) -> None:
    """Reramped with the secondary's ramp, the flattened phase is the true residual phase and
    continuous across burst cuts; without ESD the timing error shows as jumps."""
    sim, ref, secs, ds, truth, _ = tops_small
    inner = (slice(8, -8), slice(16, -16))
    d = ds["interferogram_vv"].values[1] * np.exp(-1j * truth["residual_phase"].values[1])
    assert abs(np.angle(np.sum(d[inner]))) < 0.02
    coh = ds["coherence_vv"].values[1]
    cuts = [int(np.ceil(c)) for c in ref.product.deburst.cut_line]
    jumps = burst_boundary_phase_jumps(d, cuts, coherence=coh, rows=JUMP_ROWS)
    assert len(jumps) == len(cuts) == 2
    # 0.06 rad ~ 0.0035 line at this overlap's 1300 Hz (measured: 0.032; cross-correlation
    # alone leaves 0.0035 line and 0.08 rad)
    assert max(abs(j) for j in jumps) < 0.06
    # control: geometry only (no ESD, no cross-correlation) leaves the timing error,
    # (0.040 line), whose jump 2 pi Delta f_DC e dt (0.67 rad) is far above that threshold
    bad = coregister(ref, secs, dem=sim.dem, polarizations=["VV"], esd=False, refine="off")
    db = bad["interferogram_vv"].values[1] * np.exp(-1j * truth["residual_phase"].values[1])
    bad_jumps = burst_boundary_phase_jumps(
        db, cuts, coherence=bad["coherence_vv"].values[1], rows=JUMP_ROWS
    )
    assert min(abs(j) for j in bad_jumps) > 0.3


def test_stripmap_calibration_layers_give_true_sigma0(stripmap) -> None:
    """sigma0 = (|DN|^2 - noise) * cal_sigma0 on the reference grid, every date, vs the expected sigma0."""
    ds, truth, _ = stripmap
    assert {"cal_sigma0_vv", "cal_beta0_vv", "cal_gamma0_vv", "noise_vv", "cal_sigma0_vh"} <= set(
        ds.data_vars
    )
    sigma0 = (np.abs(ds["slc_vv"].values) ** 2 - ds["noise_vv"].values) * ds["cal_sigma0_vv"].values
    expected = float(truth["sigma0_vv"].values[INNER].mean())
    for n in range(ds.sizes["time"]):
        assert float(np.mean(sigma0[n][INNER])) == pytest.approx(expected, rel=0.05)
