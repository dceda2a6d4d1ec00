"""Acceptance tests: simulated products read by the real reader, radiometry, coherence, phase, determinism."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sarbd
from sarbd.simulate import CLASSES, SimulatedScene, simulate_scene

warnings.filterwarnings("ignore", module="rasterio")


def _open(path: Path, **kw: object) -> sarbd.Scene:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sarbd.open_product(path, **kw)  # type: ignore[arg-type]


def _truth(scene: SimulatedScene) -> xr.Dataset:
    return xr.open_zarr(scene.truth_dir / "truth.zarr").load()


def test_outputs_and_real_reader(tiny_scene: SimulatedScene) -> None:
    import geopandas as gpd
    import pyogrio

    from sarbd.geometry import Dem, geoid_height

    assert len(tiny_scene.safe) == 2
    assert not [
        p for p in tiny_scene.root.iterdir() if p.name.startswith(".")
    ]  # nothing half-written
    for k, safe in enumerate(tiny_scene.safe):
        assert safe.name.startswith("S1A_S3_SLC__1SDV_") and safe.suffix == ".SAFE"
        scene = _open(safe)
        assert set(scene.polarizations) == {"VV", "VH"}
        assert scene.shape == (160, 320)
        assert np.all(np.diff(scene.orbit.time) == 10.0)  # state vectors every 10 s
        assert scene.radar_grid.range_pixel_spacing == pytest.approx(2.329562, abs=1e-6)
        slc = scene.slc("VV").values
        assert slc.dtype == np.complex64 and np.isfinite(slc).all() and np.abs(slc).mean() > 10
        rec = json.loads((tiny_scene.truth_dir / "scene.json").read_text())["dates"][k]
        assert rec["safe"] == safe.name
    # perpendicular baseline of the secondary: tens to ~200 m
    rec = json.loads((tiny_scene.truth_dir / "scene.json").read_text())["dates"][1]
    assert 1.0 < abs(rec["perpendicular_baseline_m"]) < 250.0
    # DEM: EGM96 heights; the geometry package converts them to ellipsoidal heights
    dem = Dem.open(tiny_scene.dem)
    lat, lon = 53.2194, 6.5665
    assert float(dem.height_at(lat, lon)) - float(geoid_height(lat, lon)) == pytest.approx(
        1.0, abs=4.0
    )
    # vectors: one layer per class, projected CRS, attributes
    for gpkg in (tiny_scene.truth_gpkg, tiny_scene.reference_gpkg):
        layers = [name for name, _ in pyogrio.list_layers(gpkg)]
        assert layers == [c.name for c in CLASSES]
        b = gpd.read_file(gpkg, layer="building")
        assert b.crs.is_projected and {"class", "height", "width"} <= set(b.columns)
        assert len(b) > 10
    truth = _truth(tiny_scene)
    assert truth.class_map.shape == (160, 320)
    assert set(np.unique(truth.class_map.values)) <= {c.code for c in CLASSES}
    assert truth.offset_line.shape == (2, 160, 320)
    log = json.loads((tiny_scene.truth_dir / "corruption_log.json").read_text())
    assert log["features"] and "building" in log["counts"]


def test_noise_lut_is_the_stated_nesz(zero_baseline_scene: SimulatedScene) -> None:
    from sarbd.products.calibration import calibration_factor, noise_power

    scene = _open(zero_baseline_scene.safe[0])
    nesz = (noise_power(scene, "VV") * calibration_factor(scene, "VV")).values
    assert 10 * np.log10(nesz) == pytest.approx(-22.0, abs=0.01)


def _pure(truth: xr.Dataset, code: int) -> np.ndarray:
    return (truth.class_map.values == code) & (truth.class_fraction.values[code - 1] > 0.99)


@pytest.mark.parametrize("pol", ["VV", "VH"])
def test_multilooked_sigma0_per_class(zero_baseline_scene: SimulatedScene, pol: str) -> None:
    """Noise-subtracted mean intensity per class = configured sigma0, within the speckle error.

    Buildings are left out (their mean includes the double-bounce points and layover).
    The standard error of a mean of N speckled pixels is sigma0 / sqrt(N_eff); pixels
    are correlated by the oversampled PSF, so N_eff = N / 3 is used (conservative),
    and the noise adds its own variance.
    """
    from sarbd.products.calibration import calibrate, calibration_factor, noise_power

    truth = _truth(zero_baseline_scene)
    for date in (0, 1):
        scene = _open(zero_baseline_scene.safe[date])
        raw = calibrate(scene, pol, remove_noise=False).values
        eta = (noise_power(scene, pol) * calibration_factor(scene, pol)).values
        checked = 0
        for c in CLASSES:
            if c.name in ("building",):
                continue
            sel = _pure(truth, c.code)
            n = int(sel.sum())
            if n < 300:
                continue
            measured = float(np.mean(raw[sel] - eta[sel]))
            expected = c.sigma0(pol)
            noise = float(eta.mean())
            tol = 4.0 * (expected + noise) / math.sqrt(n / 3.0)
            assert measured == pytest.approx(expected, abs=tol), (c.name, pol, measured, expected)
            checked += 1
        assert checked >= 3


def test_sample_coherence_matches_true_coherence(zero_baseline_scene: SimulatedScene) -> None:
    """Zero baseline: the two dates' pixels see the same ground, so the pooled sample coherence
    of each class equals the true coherence (temporal x SNR), up to the estimator's bias
    (about 1 / sqrt(N_eff) for small coherence; Touzi et al. 1999)."""
    truth = _truth(zero_baseline_scene)
    a = _open(zero_baseline_scene.safe[0])
    b = _open(zero_baseline_scene.safe[1])
    for pol in ("VV", "VH"):
        m, s = a.slc(pol).values, b.slc(pol).values
        checked = 0
        for c in CLASSES:
            sel = _pure(truth, c.code)
            n = int(sel.sum())
            if n < 300 or c.name == "building":
                continue
            x, y = m[sel], s[sel]
            gamma = np.abs(np.sum(x * np.conj(y))) / np.sqrt(
                np.sum(np.abs(x) ** 2) * np.sum(np.abs(y) ** 2)
            )
            true = float(truth[f"coherence_{pol.lower()}"].values[1][sel].mean())
            bias = math.sqrt(math.pi / 4 / (n / 3.0))
            assert gamma == pytest.approx(true, abs=0.03 + bias), (c.name, pol, gamma, true)
            checked += 1
        assert checked >= 3
    # water decorrelates completely between dates, fields keep some coherence (configured model)
    water = next(c for c in CLASSES if c.name == "water")
    assert water.coherence(12) == 0.0


def test_flat_earth_phase_matches_geometry_engine(tiny_scene: SimulatedScene) -> None:
    """ref x conj(sec) resampled at the true offsets, minus the geometry engine's flat-earth and
    topographic phase (rdr2geo on the DEM, geo2rdr on the secondary orbit), leaves the true
    residual phase; the geometry offsets equal the true ones up to the timing error."""
    from scipy.ndimage import map_coordinates

    from sarbd.geometry import Dem, geo2rdr, rdr2geo

    truth = _truth(tiny_scene)
    rec = json.loads((tiny_scene.truth_dir / "scene.json").read_text())["dates"][1]
    a, b = _open(tiny_scene.safe[0]), _open(tiny_scene.safe[1])
    ga, gb = a.radar_grid, b.radar_grid
    oa, ob = a.orbit.with_epoch(ga.reference_epoch), b.orbit.with_epoch(gb.reference_epoch)
    L, P = np.mgrid[30:130:2, 40:280:2]
    lat, lon, h = rdr2geo(
        ga.line_to_azimuth_time(L), ga.pixel_to_slant_range(P), oa, height=Dem.open(tiny_scene.dem)
    )
    tb, rb, ok = geo2rdr(lat, lon, h, ob)
    assert ok.all()
    off_l_true = truth.offset_line.values[1][L, P]
    off_p_true = truth.offset_pixel.values[1][L, P]
    # geometry offsets = true offsets, except the annotation's azimuth timing error
    timing_lines = rec["timing_error_s"] / ga.azimuth_time_interval
    assert np.abs(gb.azimuth_time_to_line(tb) - L + timing_lines - off_l_true).max() < 2e-3
    assert np.abs(gb.slant_range_to_pixel(rb) - P - off_p_true).max() < 2e-3
    phi_geom = -4 * np.pi / ga.wavelength * (ga.pixel_to_slant_range(P) - rb)
    assert np.ptp(phi_geom) > np.pi  # flat-earth fringes across the block
    m = a.slc("VV").values[L, P]
    full = b.slc("VV").values
    coords = [L + off_l_true, P + off_p_true]
    s = map_coordinates(full.real, coords, order=3) + 1j * map_coordinates(
        full.imag, coords, order=3
    )
    ifg = (
        m * np.conj(s) * np.exp(-1j * phi_geom) * np.exp(-1j * truth.residual_phase.values[1][L, P])
    )
    natural = np.isin(truth.class_map.values[L, P], [5, 6, 7])
    assert abs(np.angle(ifg[natural].sum())) < 0.05
    # without removing the flat-earth phase the fringes cancel in the sum
    raw = m * np.conj(s)
    assert np.abs(raw[natural].sum()) < 0.7 * np.abs(ifg[natural].sum())


def test_tops_bursts_need_the_annotated_deramping(tops_scene: SimulatedScene) -> None:
    """The Doppler centroid sweeps along each burst; the deramping function built from the
    annotation (coregistration's ramp, ESA TN COPE-GSEG-EOPG-TN-14-0025) brings it to 0 Hz."""
    from sarbd.coregistration.stack import azimuth_ramp
    from sarbd.products import burst_scene

    scene = _open(tops_scene.safe[0], swath="IW2")
    assert scene.metadata.get("mode") == "IW"
    bursts = scene.product.bursts
    assert len(bursts) == 3
    ati = scene.radar_grid.azimuth_time_interval

    def dc(x: np.ndarray) -> float:
        return float(np.angle(np.sum(x[1:] * np.conj(x[:-1]))) / (2 * np.pi * ati))

    for k in range(len(bursts)):
        bs = burst_scene(scene, k)
        data = bs.slc("VV").values
        ramp = azimuth_ramp(bs, burst=k)
        L, P = np.mgrid[0 : data.shape[0], 0 : data.shape[1]]
        deramped = data * np.exp(-1j * ramp(L, P))
        q = data.shape[0] // 4
        sweep = dc(data[-q:-2]) - dc(data[2:q])
        expected = (
            float(ramp.doppler_rate(ramp.range_time(np.array(160.0))))
            * (data.shape[0] - q - 2)
            * ati
        )
        assert sweep == pytest.approx(expected, rel=0.25)
        assert abs(dc(deramped[2:q])) < 10.0 and abs(dc(deramped[-q:-2])) < 10.0
    # burst overlap: consecutive bursts share lines
    starts = scene.product.deburst.burst_start_line
    assert np.all(np.diff(starts) < bursts[0].lines)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(zero_baseline_scene: SimulatedScene, tmp_path: Path) -> None:
    from tests.simulate.conftest import ZERO_BASELINE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = simulate_scene(tmp_path / "again", size="tiny", dates=2, seed=1, **ZERO_BASELINE)  # type: ignore[arg-type]
    first, second = _digests(zero_baseline_scene.root), _digests(again.root)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_bad_options_are_user_errors(tmp_path: Path) -> None:
    from sarbd.errors import ConfigError

    with pytest.raises(ConfigError):
        simulate_scene(tmp_path, size="huge")
    with pytest.raises(ConfigError):
        simulate_scene(tmp_path, mode="scansar")
    with pytest.raises(ConfigError):
        simulate_scene(tmp_path, nonsense=1)


def test_tops_interferogram_has_no_burst_phase_jumps(tops_scene: SimulatedScene) -> None:
    """Deramp, resample at the true offsets and reramp the secondary (per burst, with its own
    annotated ramp): the interferogram minus the geometric and true residual phase is ~0 in
    every burst, and two bursts agree where they overlap (the ESD premise)."""
    from scipy.ndimage import map_coordinates

    from sarbd.coregistration.stack import azimuth_ramp
    from sarbd.products import burst_scene

    truth = _truth(tops_scene)
    a, b = _open(tops_scene.safe[0], swath="IW2"), _open(tops_scene.safe[1], swath="IW2")
    ga, gb = a.radar_grid, b.radar_grid
    starts = [int(np.rint(s)) for s in a.product.deburst.burst_start_line]
    per_burst = []
    for k in range(len(starts)):
        ra, rb = burst_scene(a, k), burst_scene(b, k)
        m, s = ra.slc("VV").values, rb.slc("VV").values
        lpb, width = m.shape
        ramp = azimuth_ramp(rb, burst=k)
        i, p = np.mgrid[0:lpb, 0:width]
        line = i + starts[k]
        i_sec = i + truth.offset_line.values[1][line, p]
        p_sec = p + truth.offset_pixel.values[1][line, p]
        der = s * np.exp(-1j * ramp(i, p))
        sec = map_coordinates(der.real, [i_sec, p_sec], order=3) + 1j * map_coordinates(
            der.imag, [i_sec, p_sec], order=3
        )
        sec *= np.exp(1j * ramp(i_sec, p_sec))
        geom = (
            -4
            * np.pi
            / ga.wavelength
            * (ga.pixel_to_slant_range(p) - gb.pixel_to_slant_range(p_sec))
        )
        ifg = (
            m
            * np.conj(sec)
            * np.exp(-1j * geom)
            * np.exp(-1j * truth.residual_phase.values[1][line, p])
        )
        valid = (i > 0) & (i < lpb - 1) & (p > 5) & (p < width - 6)
        valid &= np.isin(truth.class_map.values[line, p], [5, 6, 7])
        assert abs(np.angle(ifg[valid].sum())) < 0.1
        per_burst.append((line[:, 0], ifg, valid))
    for k in range(len(starts) - 1):
        (l1, f1, v1), (l2, f2, v2) = per_burst[k], per_burst[k + 1]
        common = np.intersect1d(l1[v1.any(axis=1)], l2[v2.any(axis=1)])
        assert common.size >= 3
        x1 = f1[np.isin(l1, common)][v1[np.isin(l1, common)] & v2[np.isin(l2, common)]]
        x2 = f2[np.isin(l2, common)][v1[np.isin(l1, common)] & v2[np.isin(l2, common)]]
        assert abs(np.angle(np.sum(x1 * np.conj(x2)))) < 0.3
