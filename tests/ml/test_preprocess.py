"""Normalisation: fitted on the training split only, dB for wide positive features, NaN + mask."""

from __future__ import annotations

import shutil

import numpy as np
import xarray as xr

from sarbd.ml.data import open_sarbd
from sarbd.ml.datasets import fit_preprocessor
from sarbd.ml.preprocess import Preprocessor


def test_transform_analytic():
    X = np.array(
        [[1.0, 0.5, 10.0], [10.0, np.nan, 20.0], [100.0, 0.7, np.nan], [1000.0, 0.9, 40.0]]
    )
    X = np.vstack([X, X * [1, 1, 1]])
    p = Preprocessor.fit(X, ["power", "coh", "other"])
    assert p.log_features == ["power"]  # 1..1000 spans three decades; the others do not
    assert p.mask_features == ["coh", "other"]
    # power in dB: 0, 10, 20, 30 -> mean 15
    assert np.isclose(p.mean[0], 15.0) and np.isclose(p.median[1], 0.7)
    Z = p.transform(X)
    assert Z.shape == (8, 5) and Z.dtype == np.float32
    np.testing.assert_allclose(Z[:, :3].mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(Z[:, :3].std(axis=0), 1, atol=1e-6)
    assert Z[1, 3] == 1.0 and Z[0, 3] == 0.0 and Z[2, 4] == 1.0  # missing channels
    q = Preprocessor.from_dict(p.to_dict())
    np.testing.assert_array_equal(q.transform(X), Z)
    assert q.channels == ["power", "coh", "other", "coh:missing", "other:missing"]
    # non-positive values of a dB feature and infinities are treated as missing, not -inf
    Zb = p.transform(np.array([[0.0, np.inf, 1.0]]))
    assert np.all(np.isfinite(Zb))


def test_statistics_ignore_everything_outside_the_training_split(synthetic, tmp_path):
    """Changing validation/test signatures must not change the normalisation (no leakage)."""
    ref = fit_preprocessor(open_sarbd(synthetic.path), "L3")
    copy = tmp_path / "ds"
    shutil.copytree(synthetic.path, copy)
    ds = xr.open_zarr(copy / "dataset.zarr", consolidated=False).load()
    outside = ds["split"] != 1
    ds["sigma0_vv"] = ds["sigma0_vv"].where(~outside, 1e6)
    ds["entropy"] = ds["entropy"].where(~outside, -5.0)
    ds.to_zarr(copy / "dataset.zarr", mode="a", consolidated=False)  # overwrite the variables
    changed = fit_preprocessor(open_sarbd(copy), "L3")
    assert changed.to_dict() == ref.to_dict()
    # while the raw values really did change outside the training split
    assert float(xr.open_zarr(copy / "dataset.zarr", consolidated=False)["sigma0_vv"].max()) == 1e6
