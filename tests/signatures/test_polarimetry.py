"""Full (quad) and compact polarimetry: analytic targets, invariances, real ALOS PALSAR data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sarbd.signatures as S
from sarbd.errors import InputError
from sarbd.signatures import polarimetry_kernels as K
from sarbd.signatures.compact_pol import simulate_ctlr
from sarbd.signatures.synthetic import synthetic_stack

ALOS = "alos_quadpol/calib_RSLC_ALPSRP025826990_RIO_BRANCO_CR.h5"
QUAD = ("hh", "hv", "vh", "vv")


def _t3_args(t: np.ndarray) -> tuple[np.ndarray, ...]:
    return (
        t[..., 0, 0].real,
        t[..., 1, 1].real,
        t[..., 2, 2].real,
        t[..., 0, 1],
        t[..., 0, 2],
        t[..., 1, 2],
    )


def _random_t3(n: int, looks: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((n, 3, 3)) + 1j * rng.standard_normal((n, 3, 3))
    k = mix @ (rng.standard_normal((n, 3, looks)) + 1j * rng.standard_normal((n, 3, looks)))
    return k @ np.conj(np.swapaxes(k, 1, 2)) / looks


def _stack(hh: np.ndarray, hv: np.ndarray, vh: np.ndarray, vv: np.ndarray) -> xr.Dataset:
    """A one-date quad-pol stack of calibrated channels (no calibration factors: RSLC-like)."""
    dims = ("time", "line", "pixel")
    data = {
        f"slc_{p}": (dims, np.asarray(v, np.complex64)[None])
        for p, v in zip(QUAD, (hh, hv, vh, vv), strict=True)
    }
    return xr.Dataset(data, coords={"time": [np.datetime64("2020-01-01", "ns")]})


def _speckle(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2)


# -- kernels ------------------------------------------------------------------------------
def test_jacobi_matches_numpy_eigh():
    t = _random_t3(2000)
    out = K.t3_eigen(*_t3_args(t))
    w, v = np.linalg.eigh(t)
    w, v = w[:, ::-1], v[:, :, ::-1]
    np.testing.assert_allclose(out[:3].T, w, rtol=1e-5, atol=1e-6 * w.max())
    p = w / w.sum(1, keepdims=True)
    np.testing.assert_allclose(out[3], -(p * np.log(p) / np.log(3)).sum(1), atol=1e-5)
    np.testing.assert_allclose(out[4], (w[:, 1] - w[:, 2]) / (w[:, 1] + w[:, 2]), atol=1e-5)
    alpha = (p * np.degrees(np.arccos(np.abs(v[:, 0, :])))).sum(1)
    np.testing.assert_allclose(out[5], alpha, atol=1e-3)


@pytest.mark.parametrize(
    ("t3", "h", "alpha", "zone"),
    [
        (np.diag([2.0, 0, 0]), 0.0, 0.0, 9),  # trihedral / sphere: s_HH = s_VV
        (np.diag([0.0, 2, 0]), 0.0, 90.0, 7),  # dihedral: s_HH = -s_VV
        (np.diag([0.0, 0, 2]), 0.0, 90.0, 7),  # 45-degree dihedral
        (np.eye(3), 1.0, 60.0, 1),  # fully random: T3 ~ I
    ],
)
def test_eigen_of_canonical_targets(t3, h, alpha, zone):
    out = K.t3_eigen(*_t3_args(t3.astype(complex)[None]))[:, 0]
    assert out[3] == pytest.approx(h, abs=1e-6)
    assert out[5] == pytest.approx(alpha, abs=1e-4)
    assert out[6] == zone
    assert np.isnan(out[4]) if h == 0 else out[4] == pytest.approx(0.0, abs=1e-6)


def test_dipole_and_rotation_invariance():
    # horizontal dipole: s_HH = 1, others 0 -> k_P = [1, 1, 0]/sqrt2: rank 1, alpha = 45 degrees
    k = np.array([1.0, 1.0, 0.0]) / math.sqrt(2)
    out = K.t3_eigen(*_t3_args(np.outer(k, k.conj()).astype(complex)[None]))[:, 0]
    assert out[3] == pytest.approx(0.0, abs=1e-6) and out[5] == pytest.approx(45.0, abs=1e-4)
    # rotation about the line of sight: T3(theta) = R T3 R^T, R mixing rows 2 and 3 by 2 theta
    t = _random_t3(500, seed=3)
    ref = K.t3_eigen(*_t3_args(t))
    for theta in (0.3, 1.1, -0.7):
        c, s = math.cos(2 * theta), math.sin(2 * theta)
        r = np.array([[1, 0, 0], [0, c, s], [0, -s, c]])
        rot = K.t3_eigen(*_t3_args(r @ t @ r.T))
        for row in (0, 1, 2, 3, 4, 5):  # eigenvalues, H, A, alpha
            np.testing.assert_allclose(
                rot[row], ref[row], rtol=1e-4, atol=1e-4, err_msg=K.EIGEN_DESCRIPTORS[row]
            )
        assert not np.allclose(r @ t @ r.T, t)  # the matrices did change


def test_freeman_durden_and_yamaguchi_models():
    # Freeman-Durden volume (randomly oriented thin cylinders), C3 = fv [[1,0,1/3],[0,2/3,0],[1/3,0,1]]
    fd = K.freeman_durden(
        np.array([1.0]), np.array([2 / 3]), np.array([1.0]), np.array([1 / 3 + 0j])
    )[:, 0]
    np.testing.assert_allclose(fd, [0.0, 0.0, 8 / 3], atol=1e-6)
    t = c3_to_t3_np(np.array([[1, 0, 1 / 3], [0, 2 / 3, 0], [1 / 3, 0, 1]], complex))
    y4 = K.yamaguchi4(
        t[0, 0].real, t[1, 1].real, t[2, 2].real, t[0, 1], t[1, 2], np.array(1.0), np.array(1.0)
    )
    np.testing.assert_allclose(y4, [0.0, 0.0, 8 / 3, 0.0], atol=1e-6)
    # pure surface (Bragg, beta = 0.5) and pure dihedral (alpha = -0.4 + 0.3j)
    for vec, want in (([0.5, 0, 1], 0), ([-0.4 + 0.3j, 0, 1], 1)):
        k = np.array(vec, complex)
        c = np.outer(k, k.conj())
        fd = K.freeman_durden(c[0, 0].real, c[1, 1].real, c[2, 2].real, c[0, 2])
        span = np.trace(c).real
        assert fd[want] == pytest.approx(span, rel=1e-5) and fd[2] == pytest.approx(0, abs=1e-6)
        t = c3_to_t3_np(c)
        y4 = K.yamaguchi4(
            t[0, 0].real, t[1, 1].real, t[2, 2].real, t[0, 1], t[1, 2], c[0, 0].real, c[2, 2].real
        )
        assert y4[want] == pytest.approx(span, rel=1e-5) and y4[2] == pytest.approx(0, abs=1e-6)


def c3_to_t3_np(c: np.ndarray) -> np.ndarray:
    u = np.array([[1, 0, 1], [1, 0, -1], [0, math.sqrt(2), 0]]) / math.sqrt(2)
    t = u @ c @ u.conj().T
    # the module's element formulas give the same matrix
    mine = K.c3_to_t3(c[0, 0].real, c[1, 1].real, c[2, 2].real, c[0, 1], c[0, 2], c[1, 2])
    for (i, j), v in zip(((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)), mine, strict=True):
        assert v == pytest.approx(t[i, j], abs=1e-12)
    return t


def test_decompositions_conserve_power_and_negative_rules():
    t = _random_t3(3000, looks=3, seed=5)
    u = np.array([[1, 0, 1], [1, 0, -1], [0, math.sqrt(2), 0]]) / math.sqrt(2)
    c = np.conj(u.T) @ t @ u  # C3 = U^H T3 U
    span = np.trace(t, axis1=1, axis2=2).real
    y4 = K.yamaguchi4(
        t[:, 0, 0].real,
        t[:, 1, 1].real,
        t[:, 2, 2].real,
        t[:, 0, 1],
        t[:, 1, 2],
        c[:, 0, 0].real,
        c[:, 2, 2].real,
    )
    assert (y4 >= 0).all()
    np.testing.assert_allclose(y4.sum(0), span, rtol=1e-4)
    fd = K.freeman_durden(c[:, 0, 0].real, c[:, 1, 1].real, c[:, 2, 2].real, c[:, 0, 2])
    assert (fd >= 0).all()
    realisable = np.abs(c[:, 0, 2] - c[:, 1, 1].real / 2) ** 2 <= (
        c[:, 0, 0].real - 1.5 * c[:, 1, 1].real
    ) * (c[:, 2, 2].real - 1.5 * c[:, 1, 1].real)
    np.testing.assert_allclose(fd.sum(0)[realisable], span[realisable], rtol=1e-4)
    # cross-pol stronger than the co-pol: everything is volume (FD) / volume + helix (Y4)
    fd = K.freeman_durden(np.array(0.1), np.array(1.0), np.array(0.1), np.array(0j))
    np.testing.assert_allclose(fd, [0, 0, 1.2], atol=1e-6)
    # NaN in, NaN out; zero span -> NaN
    assert np.isnan(
        K.freeman_durden(np.array(np.nan), np.array(1.0), np.array(1.0), np.array(0j))
    ).all()
    assert np.isnan(K.t3_eigen(*(np.zeros(1),) * 3, *(np.zeros(1, complex),) * 3)).all()


# -- through the registry -------------------------------------------------------------------
def test_quad_stack_gets_polarimetry_automatically():
    quad = synthetic_stack(1, (20, 20), pols=QUAD, seed=1)
    names = [v for _, _, v in S.plan(S.StackInputs(quad))]
    for v in (
        "quad_entropy",
        "quad_alpha",
        "t3_11",
        "c3_13_imag",
        "freeman_volume",
        "yamaguchi_helix",
        "quad_rvi",
        "copol_correlation",
        "pauli_surface",
        "entropy_vv_vh",
    ):
        assert v in names, v
    dual = synthetic_stack(1, (20, 20), seed=1)
    assert not any(
        v.startswith(("quad_", "t3_", "freeman")) for _, _, v in S.plan(S.StackInputs(dual))
    )
    with pytest.raises(InputError, match="does not apply"):
        S.compute(dual, ["quad_entropy"])
    assert S.get("quad_entropy").variable_name(QUAD) == "quad_entropy"


def test_trihedral_dihedral_and_random_volume_stacks():
    a = _speckle((30, 30), 1) * 3.0
    zero = np.zeros_like(a)
    names = [
        "quad_entropy",
        "quad_alpha",
        "freeman_surface",
        "freeman_double_bounce",
        "freeman_volume",
        "yamaguchi_surface",
        "yamaguchi_double_bounce",
        "quad_span",
        "pauli_surface",
        "quad_rvi",
        "t3_11",
    ]
    tri = S.compute(_stack(a, zero, zero, a), names).load()
    np.testing.assert_allclose(tri.quad_entropy, 0.0, atol=1e-4)
    np.testing.assert_allclose(tri.quad_alpha, 0.0, atol=0.05)
    np.testing.assert_allclose(tri.freeman_surface, tri.quad_span, rtol=1e-4)
    np.testing.assert_allclose(tri.yamaguchi_surface, tri.quad_span, rtol=1e-4)
    np.testing.assert_allclose(tri.freeman_volume, 0.0, atol=1e-6)
    np.testing.assert_allclose(
        tri.pauli_surface[0], 2 * np.abs(a) ** 2, rtol=1e-5
    )  # |hh + vv|^2 / 2
    np.testing.assert_allclose(tri.quad_rvi, 0.0, atol=1e-6)
    dih = S.compute(_stack(a, zero, zero, -a), names).load()
    np.testing.assert_allclose(dih.quad_alpha, 90.0, atol=0.05)
    np.testing.assert_allclose(dih.freeman_double_bounce, dih.quad_span, rtol=1e-4)
    np.testing.assert_allclose(dih.yamaguchi_double_bounce, dih.quad_span, rtol=1e-4)
    # independent channels of equal power: T3 -> I (H -> 1) as the looks grow
    ch = [_speckle((60, 60), s) for s in (2, 3, 4, 5)]
    vol = (
        S.compute(_stack(*ch), names, window=(15, 15))
        .load()
        .isel(line=slice(7, -7), pixel=slice(7, -7))
    )
    assert float(vol.quad_entropy.mean()) > 0.97
    # near-degenerate eigenvalues: the eigenvectors are random, E|e(1)|^2 = 1/3, and the mean
    # alpha lies between arccos(1/sqrt3) = 54.7 and the exact-degeneracy value 60 degrees
    assert 54.0 < float(vol.quad_alpha.mean()) < 60.5
    # reciprocity: HV and VH averaged, so s_x = (1 + 1)/2 -> T33 = 2 |s_x|^2 window mean
    one = np.ones((9, 9), complex)
    rec = S.compute(
        _stack(0 * one, one, 3 * one, 0 * one), ["t3_33", "quad_rvi"], window=(3, 3)
    ).load()
    np.testing.assert_allclose(rec.t3_33, 8.0, rtol=1e-6)  # 2 |(1 + 3)/2|^2
    np.testing.assert_allclose(rec.quad_rvi, 4.0, rtol=1e-6)


def test_calibration_and_noise_and_chunking():
    st = synthetic_stack(2, (48, 40), pols=QUAD, nesz_db=-22.0, seed=12)
    names = ["quad_entropy", "quad_alpha", "yamaguchi_volume", "t3_22", "copol_ratio_db"]
    big = S.compute(st, names).load()
    small = S.compute(st, names, chunks={"time": 1, "line": 13, "pixel": 17}).load()
    for v in names:
        np.testing.assert_allclose(
            small[v], big[v], rtol=1e-4, atol=1e-6, equal_nan=True, err_msg=v
        )
    # the calibration factors are applied: sigma0 power of the synthetic stack (about -12 dB
    # co-pol), not DN^2; noise removal lowers the cross-pol power
    c11 = S.compute(st, ["c3_11"], window=(9, 9)).load().c3_11
    assert 0.02 < float(c11.median()) < 0.2
    raw = S.compute(st, ["c3_22"], noise_removal=False).load().c3_22
    assert float(S.compute(st, ["c3_22"]).load().c3_22.median()) < float(raw.median())
    partial = st.drop_vars("cal_sigma0_hv")
    with pytest.raises(InputError, match="some quad-pol channels"):
        S.compute(partial, ["quad_entropy"]).load()


def test_compact_pol_from_simulated_ctlr():
    a = _speckle((20, 20), 7) * 2.0
    zero = np.zeros_like(a)
    names = [
        "cp_degree_of_polarization",
        "cp_relative_phase",
        "mchi_surface",
        "mchi_double_bounce",
        "mchi_volume",
        "mdelta_surface",
        "cprvi",
        "stokes_s0",
        "stokes_s3",
    ]
    tri = S.compute(simulate_ctlr(_stack(a, zero, zero, a)), names).load()
    np.testing.assert_allclose(tri.cp_degree_of_polarization, 1.0, atol=1e-5)
    np.testing.assert_allclose(tri.stokes_s3, -tri.stokes_s0, rtol=1e-5)
    np.testing.assert_allclose(tri.cp_relative_phase, -90.0, atol=1e-3)
    np.testing.assert_allclose(tri.mchi_surface, tri.stokes_s0, rtol=1e-5)
    np.testing.assert_allclose(tri.mdelta_surface, tri.stokes_s0, rtol=1e-5)
    np.testing.assert_allclose(tri.cprvi, 0.0, atol=1e-5)  # a pure odd-bounce target: no vegetation
    dih = S.compute(simulate_ctlr(_stack(a, zero, zero, -a)), names).load()
    np.testing.assert_allclose(dih.cp_relative_phase, 90.0, atol=1e-3)
    np.testing.assert_allclose(dih.mchi_double_bounce, dih.stokes_s0, rtol=1e-5)
    ch = [_speckle((50, 50), s) for s in (2, 3, 4, 5)]
    vol = (
        S.compute(simulate_ctlr(_stack(*ch)), names, window=(15, 15))
        .load()
        .isel(line=slice(7, -7), pixel=slice(7, -7))
    )
    assert float(vol.cp_degree_of_polarization.mean()) < 0.15
    assert float(vol.cprvi.mean()) > 0.8
    np.testing.assert_allclose(
        vol.mchi_volume + vol.mchi_surface + vol.mchi_double_bounce, vol.stokes_s0, rtol=1e-4
    )
    with pytest.raises(InputError, match="slc_vh"):
        simulate_ctlr(_stack(a, zero, zero, a).drop_vars("slc_vh"))


# -- real data: ALOS PALSAR quad-pol, Rio Branco corner reflector ---------------------------------
@pytest.fixture(scope="module")
def alos(shared_data: Path) -> xr.Dataset:
    from sarbd.products import open_product

    scene = open_product(shared_data / ALOS)
    assert scene.polarizations == ("HH", "HV", "VH", "VV")  # all four channels, canonical order
    return _stack(*(np.asarray(scene.slc(p.upper()).values) for p in QUAD))


def test_alos_corner_reflector_is_odd_bounce(alos):
    f = (
        S.compute(
            alos,
            [
                "quad_entropy",
                "quad_alpha",
                "pauli_surface",
                "freeman_surface",
                "quad_span",
                "yamaguchi_surface",
                "quad_halpha_zone",
            ],
            window=(3, 3),
        )
        .load()
        .isel(time=0)
    )
    i, j = np.unravel_index(int(np.nanargmax(f.pauli_surface.values)), f.pauli_surface.shape)
    assert (i, j) == (50, 25)  # the trihedral near the centre of the crop
    h, alpha = float(f.quad_entropy[i, j]), float(f.quad_alpha[i, j])
    assert alpha < 20.0 and h < 0.15
    assert float(f.freeman_surface[i, j]) > 0.95 * float(f.quad_span[i, j])
    assert float(f.yamaguchi_surface[i, j]) > 0.95 * float(f.quad_span[i, j])
    assert int(f.quad_halpha_zone[i, j]) == 9  # low-entropy surface scattering
    away = np.ones(f.quad_entropy.shape, bool)
    away[i - 6 : i + 7, j - 6 : j + 7] = False  # outside the reflector's response
    h_bg = f.quad_entropy.values[away]
    assert np.nanmedian(h_bg) > 0.5 and np.nanpercentile(h_bg, 5) > 3 * h


def test_alos_through_coregistration_keeps_quad_pol(shared_data: Path):
    """Reader -> coregistered stack -> signatures: all four channels travel, quad-pol follows."""
    from sarbd.coregistration.stack import coregister

    path = shared_data / ALOS
    stack = coregister(path, [path], refine="off", chunks=(64, 64))  # the date against itself
    assert {f"slc_{p}" for p in QUAD} <= set(stack.data_vars)
    names = [v for _, _, v in S.plan(S.StackInputs(stack))]
    assert {"quad_entropy", "yamaguchi_helix", "t3_23_imag", "copol_correlation"} <= set(names)
    f = S.compute(stack, ["quad_alpha", "quad_entropy"], window=(3, 3)).load()
    assert float(f.quad_alpha[1, 50, 25]) < 20.0 and float(f.quad_entropy[1, 50, 25]) < 0.15


def test_quad_signatures_export_as_cf(tmp_path: Path):
    """The export carries quad-pol signatures like any other: CF attributes, flags, netCDF round trip."""
    from sarbd.export.cf import check_cf, prepare_cf
    from sarbd.export.cube import write_netcdf

    st = synthetic_stack(2, (24, 20), pols=QUAD, seed=4)
    names = ["quad_entropy", "quad_halpha_zone", "yamaguchi_helix", "t3_12_imag", "cprvi"]
    feats = S.compute(simulate_ctlr(st), names).load()
    cf = prepare_cf(feats)
    assert check_cf(cf) == []
    zone = cf.quad_halpha_zone
    assert zone.attrs["flag_meanings"].split()[-1] == "low_entropy_surface_scattering"
    assert feats.t3_12_imag.attrs["sarbd_polarizations"] == "hh hv vh vv"
    path = write_netcdf(cf, tmp_path / "quad.nc")
    back = xr.open_dataset(path)
    np.testing.assert_allclose(back.quad_entropy, feats.quad_entropy, rtol=1e-6, equal_nan=True)
    back.close()


def test_rotation_about_line_of_sight_through_the_stack():
    """Rotating every scattering matrix, S' = R S R^T, leaves H, A, alpha and the span unchanged."""
    rng = np.random.default_rng(21)
    shape = (24, 24)
    base = [_speckle(shape, s) for s in (11, 12, 13)]
    hh = base[0] + 0.5 * base[1]
    vv = 0.8 * base[0] - 0.3j * base[2]
    hv = 0.3 * base[1] + 0.2 * base[2] + 0.05 * _speckle(shape, 14)
    names = ["quad_entropy", "quad_anisotropy", "quad_alpha", "quad_span"]
    ref = S.compute(_stack(hh, hv, hv, vv), names, window=(7, 7)).load()
    for theta in rng.uniform(-np.pi / 2, np.pi / 2, 2):
        c, s = math.cos(theta), math.sin(theta)
        r = np.array([[c, s], [-s, c]])
        m = np.array([[hh, hv], [hv, vv]])  # (2, 2, line, pixel)
        rot = np.einsum("ij,jkab,lk->ilab", r, m, r)
        out = S.compute(
            _stack(rot[0, 0], rot[0, 1], rot[1, 0], rot[1, 1]), names, window=(7, 7)
        ).load()
        assert not np.allclose(rot[0, 0], hh)
        for v in names:
            np.testing.assert_allclose(out[v], ref[v], rtol=2e-3, atol=2e-3, err_msg=v)
