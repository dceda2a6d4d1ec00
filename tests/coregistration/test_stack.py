"""End-to-end coregistration of a synthetic repeat-pass pair with exact geometry."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sarbd.core.serialization import grid_from_dataset, orbit_from_dataset
from sarbd.coregistration.stack import coregister, write_stack
from sarbd.geometry import geo2rdr, rdr2geo

from .synthetic import make_pair

SHAPE = (240, 300)
INNER = (
    slice(15, -15),
    slice(15, -25),
)  # kernel reach (8) + offsets (3.3 lines, 4.6 pixels) from the edges


@pytest.fixture(scope="module")
def pair():
    return make_pair(SHAPE)


@pytest.fixture(scope="module")
def stack(pair):
    ref, sec, dem, _, _ = pair
    return coregister(
        ref,
        [sec],
        dem=dem,
        kernel_taps=16,
        kernel_bandwidth=0.6,
        chunks=(64, 128),
        offset_step=(32, 32),
        sequential=True,
    ).compute()


def test_offsets_match_exact_geometry(pair, stack) -> None:
    """Full-resolution offsets from the coarse, height-level model vs rdr2geo/geo2rdr at every pixel."""
    from sarbd.coregistration.geometric import geometric_offsets, height_levels

    ref, sec, dem, _, _ = pair
    h = stack["height"].values.astype(np.float64)
    model = geometric_offsets(
        ref.radar_grid,
        ref.orbit,
        sec.radar_grid,
        sec.orbit,
        heights=height_levels(h.min(), h.max(), 4),
        step=(32, 32),
    )
    ll, pp = np.meshgrid(
        np.arange(SHAPE[0], dtype=float), np.arange(SHAPE[1], dtype=float), indexing="ij"
    )
    g = ref.radar_grid
    lat, lon, hh = rdr2geo(
        g.line_to_azimuth_time(ll), g.pixel_to_slant_range(pp), ref.orbit, height=dem
    )
    ts, rs, _ok = geo2rdr(lat, lon, hh, sec.orbit)
    dl_true = sec.radar_grid.azimuth_time_to_line(ts) - ll
    dp_true = sec.radar_grid.slant_range_to_pixel(rs) - pp
    dl, dp = model.evaluate(np.arange(SHAPE[0]), np.arange(SHAPE[1]), h)
    assert np.sqrt(np.mean((dl - dl_true) ** 2)) < 1e-4
    assert np.sqrt(np.mean((dp - dp_true) ** 2)) < 1e-4
    assert np.std(dp_true) > 1e-3  # topography really moves the range offsets


def test_stack_baselines_are_the_geometry_baselines(pair, stack) -> None:
    """The stored values, not only their presence: ``sarbd.geometry.baselines`` at the scene
    centre (height 0), and the analytic first-order parallel baseline ``R1 - R2``."""
    from sarbd.geometry import baselines

    ref, sec, _, _, _ = pair
    perp, par = baselines(ref.radar_grid, ref.orbit, sec.orbit, height=0.0)
    np.testing.assert_allclose(
        stack["perpendicular_baseline"].values, [0.0, perp], rtol=1e-6, atol=0
    )
    np.testing.assert_allclose(stack["parallel_baseline"].values, [0.0, par], rtol=1e-6, atol=0)
    # the secondary flies 120 m higher (and slightly aside): Hanssen's B_par = R1 - R2 < 0
    g = ref.radar_grid
    t1 = g.line_to_azimuth_time((g.length - 1) / 2)
    r1 = g.mid_range
    lat, lon, h = rdr2geo(t1, r1, ref.orbit, height=0.0)
    t2, r2, ok = geo2rdr(lat, lon, h, sec.orbit)
    assert ok
    bvec = sec.orbit.position(t2) - ref.orbit.position(t1)
    b = np.linalg.norm(bvec)
    assert 100.0 < b < 200.0
    np.testing.assert_allclose(float(stack["parallel_baseline"][1]), r1 - r2, atol=b**2 / r1)
    assert float(stack["parallel_baseline"][1]) < 0
    # with the along-track component they make up the whole baseline (l, n, v orthonormal)
    v = ref.orbit.velocity(t1)
    along = float(np.dot(bvec, v / np.linalg.norm(v)))
    np.testing.assert_allclose(np.sqrt(perp**2 + par**2 + along**2), b, rtol=1e-6)


def test_flattened_phase_is_the_residual_phase(pair, stack) -> None:
    _, _, _, res_phase, _ = pair
    ll, pp = np.meshgrid(
        np.arange(SHAPE[0], dtype=float), np.arange(SHAPE[1], dtype=float), indexing="ij"
    )
    ifg = stack["interferogram_vv"].values[1]
    # the secondary carries +phi_res, so ref * conj(sec) shows -phi_res
    err = np.angle(ifg * np.exp(1j * res_phase(ll, pp)))[INNER]
    w = np.abs(ifg[INNER])
    assert np.sqrt(np.sum(w * err**2) / np.sum(w)) < 0.01  # rad, amplitude-weighted
    # the reference's own entry is |ref|^2 with phase 0
    np.testing.assert_allclose(np.angle(stack["interferogram_vv"].values[0]), 0.0, atol=1e-6)
    # without removing the geometric phase there would be many fringes
    raw = stack["slc_vv"].values[0] * np.conj(stack["slc_vv"].values[1])
    assert np.ptp(np.unwrap(np.angle(raw[120]))) > 2 * np.pi


def test_resampled_secondary_matches_truth(pair, stack) -> None:
    """The resampled secondary is the ground's reflectivity on the reference grid: misregistration << 0.01 px."""
    _ref, _, _, res_phase, tone = pair
    ll, pp = np.meshgrid(
        np.arange(SHAPE[0], dtype=float), np.arange(SHAPE[1], dtype=float), indexing="ij"
    )
    ifg = stack["interferogram_vv"].values[1] * np.exp(1j * res_phase(ll, pp))
    sec_flat = np.conj(
        ifg / stack["slc_vv"].values[0]
    )  # = sec * exp(+j phi_geom) * exp(-j phi_res)
    truth = tone.grid(SHAPE)
    rel = np.linalg.norm((sec_flat - truth)[INNER]) / np.linalg.norm(truth[INNER])
    assert rel < 2e-3
    # misregistration: least-squares shift d with sec_flat ~ truth + d . grad(truth)
    gy, gx = np.gradient(truth.astype(np.complex128))
    a = np.stack([gy[INNER].ravel(), gx[INNER].ravel()], 1)
    b = (sec_flat - truth)[INNER].ravel()
    d = np.linalg.lstsq(np.vstack([a.real, a.imag]), np.concatenate([b.real, b.imag]), rcond=None)[
        0
    ]
    assert np.all(np.abs(d) < 1e-3), d


def test_coherence_and_layout(stack) -> None:
    ds = stack
    assert ds["slc_vv"].dtype == np.complex64 and ds["slc_vv"].dims == ("time", "line", "pixel")
    assert ds["coherence_vv"].dtype == np.float32
    np.testing.assert_allclose(ds["coherence_vv"].values[0], 1.0, atol=1e-5)
    assert float(ds["coherence_vv"][1][INNER].mean()) > 0.99  # noise-free pair
    assert ds.attrs["coherence_window_line"] == 2 and ds.attrs["coherence_window_pixel"] == 10
    for name in (
        "latitude",
        "longitude",
        "height",
        "incidence_angle",
        "local_incidence_angle",
        "layover_shadow_mask",
        "perpendicular_baseline",
        "parallel_baseline",
        "temporal_baseline",
        "orbit_source",
        "orbit_position",
        "orbit_velocity",
    ):
        assert name in ds.variables, name
    assert 50 < abs(float(ds["perpendicular_baseline"][1])) < 200
    assert ds["latitude"].attrs["standard_name"] == "latitude"
    assert 25 < float(ds["incidence_angle"].mean()) < 45
    assert ds["layover_shadow_mask"].dtype == np.uint8
    # the DEM hill tilts the terrain: local incidence differs from the ellipsoid's
    assert float(np.abs(ds["local_incidence_angle"] - ds["incidence_angle"]).max()) > 1.0
    # residual shift after geometric coregistration: none
    assert abs(float(ds["residual_line_shift"][1])) < 0.02
    assert abs(float(ds["residual_pixel_shift"][1])) < 0.02
    assert "interferogram_seq_vv" in ds and "coherence_seq_vv" in ds


def test_zarr_round_trip(pair, stack, tmp_path) -> None:
    ref, sec, dem, _, _ = pair
    ds = coregister(
        ref,
        [sec],
        dem=dem,
        kernel_taps=16,
        kernel_bandwidth=0.6,
        chunks=(64, 128),
        offset_step=(32, 32),
    )
    out = write_stack(ds, tmp_path / "stack.zarr")
    assert (out / ".zmetadata").exists()  # Zarr format 2, consolidated
    back = xr.open_zarr(out)
    assert back["slc_vv"].encoding["chunks"] == (1, 64, 128)
    assert back["orbit_source"].values.tolist() == ["simulated", "simulated"]
    assert back["slc_vv"].chunks is not None  # lazy
    np.testing.assert_array_equal(back["slc_vv"].values, stack["slc_vv"].values)
    grid = grid_from_dataset(back)
    assert grid == ref.radar_grid
    orbit = orbit_from_dataset(back)
    np.testing.assert_allclose(orbit.positions, ref.orbit.positions)
    assert list(tmp_path.iterdir()) == [out]  # nothing half-written left behind


def test_identity_coregistration_returns_input(pair) -> None:
    """A scene resampled onto its own grid comes back unchanged."""
    ref, _, dem, _, _ = pair
    ds = coregister(ref, [ref], dem=dem, chunks=(64, 128), refine="off").compute()
    a, b = ds["slc_vv"].values
    assert np.linalg.norm(a - b) / np.linalg.norm(a) < 1e-5
