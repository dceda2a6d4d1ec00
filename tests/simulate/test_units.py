"""Unit tests of the simulator's building blocks: orbit, PSF, coherence model, landscape, reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.simulate import sensor as S
from sarbd.simulate.config import CLASSES, LandClass
from sarbd.simulate.orbit import design_orbit, make_orbit, offset_elements, orbit_state_vectors
from sarbd.simulate.psf import hamming_sinc, sort_by_line, splat_complex

EPOCH = np.datetime64("2022-02-14T05:40:00", "ns")


@pytest.mark.parametrize("pass_direction", ["descending", "ascending"])
def test_designed_orbit_sees_the_target_at_the_requested_incidence(pass_direction: str) -> None:
    from sarbd.geometry import geo2rdr

    lat, lon, h, inc = 53.2194, 6.5665, 41.0, 38.0
    el = design_orbit(lat, lon, h, inc, pass_direction=pass_direction)
    orbit = make_orbit(el, EPOCH, -60.0, 60.0)
    t, _, ok = geo2rdr(lat, lon, h, orbit)
    assert ok
    s, v, _ = orbit.interpolate(np.array(t))
    p = llh_to_ecef(lat, lon, h)
    los = (p - s) / np.linalg.norm(p - s)
    la, lo = math.radians(lat), math.radians(lon)
    normal = np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])
    assert math.degrees(math.acos(-los @ normal)) == pytest.approx(inc, abs=0.05)
    assert (v[2] < 0) == (pass_direction == "descending")
    # Sentinel-1: ~7.59 km/s, 693 km above the equatorial radius; right-looking
    assert np.linalg.norm(v) == pytest.approx(7590, abs=15)
    assert float(np.cross(v, s) @ (p - s)) > 0  # target on the right of the velocity (looking down)


def test_state_vectors_are_consistent_derivatives() -> None:
    """Velocities are the time derivative of the positions (what Hermite interpolation assumes)."""
    el = design_orbit(53.2, 6.6, 40.0, 38.0)
    t = np.array([-1e-3, 0.0, 1e-3])
    pos, vel = orbit_state_vectors(el, t)
    assert np.allclose((pos[2] - pos[0]) / 2e-3, vel[1], atol=1e-3)


def test_orbit_offset_is_cross_track_and_of_the_requested_size() -> None:
    el = design_orbit(53.2, 6.6, 40.0, 38.0)
    p0, v0 = orbit_state_vectors(el, np.array([0.0]))
    p1, _ = orbit_state_vectors(offset_elements(el, 120.0, 0.0), np.array([0.0]))
    d = (p1 - p0)[0]
    assert np.linalg.norm(d) == pytest.approx(120.0, rel=1e-3)
    # no component along the inertial velocity (v_ecef + w x r): a pure cross-track move
    from sarbd.simulate.orbit import EARTH_ROTATION_RATE

    v_inertial = v0[0] + np.cross([0.0, 0.0, EARTH_ROTATION_RATE], p0[0])
    assert abs(d @ v_inertial) / np.linalg.norm(v_inertial) < 1e-3
    p2, _ = orbit_state_vectors(offset_elements(el, 0.0, 30.0), np.array([0.0]))
    assert np.linalg.norm(p2) - np.linalg.norm(p0) == pytest.approx(30.0, abs=1e-6)


@pytest.mark.parametrize(
    ("b", "a"),
    [
        (S.RANGE_BANDWIDTH / S.RANGE_SAMPLING_RATE, 0.75),
        (S.AZIMUTH_BANDWIDTH * S.AZIMUTH_TIME_INTERVAL, 0.70),
    ],
)
def test_psf_energy_matches_parseval(b: float, a: float) -> None:
    """sum_n h(n - x)^2 = (a^2 + (1 - a)^2 / 2) / b for any sub-sample position x (Parseval)."""
    n = np.arange(-3000, 3001)
    expected = (a * a + (1 - a) ** 2 / 2) / b
    for x in (0.0, 0.25, 0.5, 0.83):
        h = np.array([hamming_sinc(k - x, b, a) for k in n])
        assert (h**2).sum() == pytest.approx(expected, rel=2e-3)
    assert hamming_sinc(0.0, b, a) == pytest.approx(a)


def test_psf_resolution_matches_the_hamming_broadening() -> None:
    """-3 dB width of the range response: 1.13 c / (2 B) for a = 0.75 (Harris 1978 broadening ~1.13)."""
    b = S.RANGE_BANDWIDTH / S.RANGE_SAMPLING_RATE
    x = np.linspace(0, 2, 20001)
    h = np.array([hamming_sinc(v, b, 0.75) for v in x]) / 0.75
    half = x[np.argmax(h**2 < 0.5)]
    width_m = 2 * half * S.RANGE_PIXEL_SPACING
    assert width_m == pytest.approx(
        0.886 * 1.13 * 299_792_458.0 / (2 * S.RANGE_BANDWIDTH), rel=0.03
    )


def test_splatting_keeps_energy_and_phase() -> None:
    img = np.zeros((1, 40, 40), np.complex64)
    amp = np.array([[3.0 * np.exp(1j * 0.7)]])
    order, sline = sort_by_line(np.array([20.3]))
    splat_complex(img, order, sline, np.array([17.6]), amp, 0.67, 0.7, 0.88, 0.75)
    assert (np.abs(img) ** 2).sum() == pytest.approx(9.0, rel=1e-5)
    peak = np.unravel_index(np.argmax(np.abs(img[0])), img.shape[1:])
    assert peak == (20, 18)
    assert np.angle(img[0][peak]) == pytest.approx(0.7, abs=1e-6)


def test_coherence_model() -> None:
    c = LandClass(9, "x", -10, -15, gamma0=0.8, gamma_inf=0.2, tau_days=12.0)
    assert c.coherence(0) == 1.0
    assert c.coherence(12) == pytest.approx(0.2 + 0.6 / math.e)
    assert c.coherence(1e6) == pytest.approx(0.2)
    water = next(k for k in CLASSES if k.name == "water")
    assert water.coherence(12) == 0.0


def test_landscape_layers_and_reference_corruption() -> None:
    from sarbd.simulate.landscape import make_landscape, rasterize_classes
    from sarbd.simulate.reference import corrupt_reference

    bounds = (230000.0, 580000.0, 233000.0, 582000.0)
    land = make_landscape(np.random.default_rng(3), bounds, "EPSG:28992")
    counts = {k: len(v) for k, v in land.layers.items()}
    assert all(counts[c.name] > 0 for c in CLASSES), counts
    assert land.layers["building"]["height"].between(4, 60).all()
    assert (land.layers["road"]["width"] > 0).all()
    cm, _ = rasterize_classes(land, 4.0)
    share = np.bincount(cm.ravel(), minlength=8) / cm.size
    assert share[1] > 0.005 and share[6] > 0.2  # buildings and fields present
    # the same seed gives the same landscape
    again = make_landscape(np.random.default_rng(3), bounds, "EPSG:28992")
    assert (
        again.layers["building"]
        .geometry.geom_equals_exact(land.layers["building"].geometry, 0.0)
        .all()
    )

    ref, log = corrupt_reference(land, np.random.default_rng(4), {"omit": 0.1, "wrong_class": 0.05})
    n_build = counts["building"]
    omitted = {e["truth_id"] for e in log["features"] if e["action"] == "omit"}
    n_omit_b = log["counts"]["building"]["omit"]
    # binomial fraction within 4 sigma
    assert abs(n_omit_b / n_build - 0.1) < 4 * math.sqrt(0.1 * 0.9 / n_build)
    ref_truth_ids = {int(t) for layer in ref.values() for t in layer["truth_id"]}
    assert not omitted & ref_truth_ids
    assert math.hypot(*log["shift_m"]) == pytest.approx(3.0)
    wrong = [e for e in log["features"] if e["action"] == "wrong_class"]
    assert wrong
    for e in wrong[:20]:
        layer = ref[e["reference_class"]]
        assert (layer["truth_id"] == e["truth_id"]).any()
    extras = [e for e in log["features"] if e["action"] == "extra"]
    assert all((ref[e["class"]]["id"] == e["ref_id"]).any() for e in extras)


def test_parallel_splatting_equals_a_direct_sum() -> None:
    """Bands of rows give the same image as summing every scatterer's response directly."""
    from sarbd.simulate.psf import HALF_WIDTH

    rng = np.random.default_rng(0)
    n = 300
    line = rng.uniform(-5, 45, n)
    pix = rng.uniform(-5, 35, n)
    amp = rng.standard_normal((n, 1)) + 1j * rng.standard_normal((n, 1))
    img = np.zeros((1, 40, 30), np.complex64)
    order, sline = sort_by_line(line)
    splat_complex(img, order, sline, pix, amp, 0.67, 0.7, 0.88, 0.75)
    ref = np.zeros((40, 30), np.complex128)
    for k in range(n):
        ia = np.arange(
            int(np.floor(line[k])) - HALF_WIDTH + 1, int(np.floor(line[k])) + HALF_WIDTH + 1
        )
        ir = np.arange(
            int(np.floor(pix[k])) - HALF_WIDTH + 1, int(np.floor(pix[k])) + HALF_WIDTH + 1
        )
        ha = np.array([hamming_sinc(i - line[k], 0.67, 0.7) for i in ia])
        hr = np.array([hamming_sinc(j - pix[k], 0.88, 0.75) for j in ir])
        ha /= np.sqrt((ha**2).sum())
        hr /= np.sqrt((hr**2).sum())
        for a, va in zip(ia, ha, strict=True):
            for r, vr in zip(ir, hr, strict=True):
                if 0 <= a < 40 and 0 <= r < 30:
                    ref[a, r] += amp[k, 0] * va * vr
    assert np.allclose(img[0], ref, atol=1e-4)


@pytest.mark.parametrize("x", [0.0, 3.25, 17.5, -2.999999, 100.0 + 1e-13, 41.83])
def test_fast_taps_equal_the_windowed_sinc(x: float) -> None:
    """The recurrence taps of the splatting kernels are hamming_sinc's, normalised to unit energy."""
    from sarbd.simulate.psf import HALF_WIDTH, _taps

    for b, a in ((0.67, 0.7), (0.88, 0.75)):
        out = np.empty(2 * HALF_WIDTH)
        first = _taps(x, b, a, HALF_WIDTH, out)
        ref = np.array([hamming_sinc(first + k - x, b, a) for k in range(2 * HALF_WIDTH)])
        assert first == np.floor(x) - HALF_WIDTH + 1
        np.testing.assert_allclose(out, ref / np.sqrt((ref**2).sum()), rtol=0, atol=1e-13)
