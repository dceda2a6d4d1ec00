"""Reading the dataset folder: features, classes, coordinates, pixel sources, chip windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sarbd.errors import InputError
from sarbd.ml.data import chip_windows, open_sarbd
from tests.ml.synthetic import CLASSES, LINE0, PIXEL0


def test_features_are_signatures_only_one_per_date(synthetic):
    data = open_sarbd(synthetic.path)
    names = data.feature_names
    # the reference fractions are the label source: never inputs
    assert not any(n.startswith("fraction_") for n in names)
    assert "reference_landcover" not in names  # category 3: inherited from the reference
    assert "label_l3" not in names and "split" not in names and "boundary_distance" not in names
    assert {"sigma0_vv_20240105", "sigma0_vv_20240117", "entropy", "amplitude_dispersion"} <= set(
        names
    )
    assert len(names) == 3 * 2 + 2


def test_named_feature_sets(synthetic):
    assert open_sarbd(synthetic.path, "temporal").feature_names == [
        "amplitude_dispersion",
        "entropy",
    ]
    assert (
        open_sarbd(synthetic.path, "all").feature_names == open_sarbd(synthetic.path).feature_names
    )
    with pytest.raises(InputError, match="unknown feature set 'dates'"):
        open_sarbd(synthetic.path, "dates")


def test_classes_from_flag_attributes(synthetic):
    data = open_sarbd(synthetic.path)
    for level in ("L1", "L2", "L3"):
        c = data.classes(level)
        assert c.ids == (1, 2, 3, 4) and c.names == CLASSES
    lut = data.classes("L3").lookup()
    assert lut[0] == -1 and list(lut[1:5]) == [0, 1, 2, 3]
    with pytest.raises(InputError):
        data.classes("L4")


def test_absolute_coordinates_map_to_array_positions(synthetic):
    data = open_sarbd(synthetic.path)
    rows, cols = data.positions(np.array([LINE0, LINE0 + 5]), np.array([PIXEL0 + 7, PIXEL0]))
    assert rows.tolist() == [0, 5] and cols.tolist() == [7, 0]
    with pytest.raises(InputError):
        data.positions(np.array([0]), np.array([0]))  # array positions are not coordinates


def test_zarr_and_parquet_pixels_agree(synthetic):
    data = open_sarbd(synthetic.path)
    a = data.pixels("L3", splits=[1])
    b = data.pixels("L3", splits=[1], source="parquet")
    assert len(a) > 100 and np.array_equal(a.rows, b.rows) and np.array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.X, b.X)  # NaN in the same places, same values
    # the values really are the Zarr values at those coordinates
    ds = xr.open_zarr(synthetic.path / "dataset.zarr", consolidated=False)
    k = a.features.index("sigma0_vh_20240117")
    ref = ds["sigma0_vh"].isel(time=1).values[a.rows, a.cols]
    np.testing.assert_array_equal(a.X[:, k], ref)
    assert np.all(a.split == 1) and np.all(a.labels > 0)
    assert np.array_equal(a.line, LINE0 + a.rows)


def test_missing_inputs_are_one_line_errors(synthetic, tmp_path):
    with pytest.raises(InputError, match=r"no dataset\.zarr"):
        open_sarbd(tmp_path)
    with pytest.raises(InputError, match="not in the dataset"):
        open_sarbd(synthetic.path, features=["fraction_water"])
    # a pixel table without the feature columns
    bad = tmp_path / "copy"
    (bad / "tables").mkdir(parents=True)
    (bad / "dataset.zarr").symlink_to(synthetic.path / "dataset.zarr")
    pd.DataFrame({"line": [LINE0], "pixel": [PIXEL0]}).to_parquet(bad / "tables" / "pixels.parquet")
    with pytest.raises(InputError, match="lacks feature columns"):
        open_sarbd(bad).pixels("L3", source="parquet")


def test_chip_windows_and_window_reads(synthetic):
    data = open_sarbd(synthetic.path)
    size, windows = chip_windows(data)
    assert size == synthetic.block
    assert len(windows) == (96 // size) * (128 // size)
    r, c, s = windows[9]
    assert s in (1, 2, 3) and r % size == 0 and c % size == 0
    block = data.reader().read(r, r + size, c, c + size)
    ds = xr.open_zarr(synthetic.path / "dataset.zarr", consolidated=False)
    k = data.feature_names.index("coherence_vv_20240105")
    np.testing.assert_array_equal(
        block[k], ds["coherence_vv"].isel(time=0).values[r : r + size, c : c + size]
    )
    with pytest.raises(InputError, match="no chip index"):
        chip_windows(data, size=7)


def test_chip_index_split_as_codes_or_names(synthetic, tmp_path):
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(synthetic.path, copy)
    path = copy / "chips" / f"chips_{synthetic.block}.parquet"
    df = pd.read_parquet(path)
    assert not pd.api.types.is_integer_dtype(df["split"])  # names, like sarbd.dataset.chips
    _, by_name = chip_windows(open_sarbd(copy))
    df["split"] = df["split"].map({"train": 1, "validation": 2, "test": 3}).astype("uint8")
    df.to_parquet(path, index=False)
    _, by_code = chip_windows(open_sarbd(copy))
    assert by_name == by_code and {s for _, _, s in by_code} == {1, 2, 3}
    df["split"] = "holdout"
    df.to_parquet(path, index=False)
    with pytest.raises(InputError, match="unknown split"):
        chip_windows(open_sarbd(copy))
