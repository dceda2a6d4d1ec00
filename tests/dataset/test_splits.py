"""Spatial splits are disjoint with a buffer; chips stay inside one split; tables are right."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import ndimage

from sarbd.dataset.chips import make_chips, pixel_table
from sarbd.dataset.splits import assign_splits, split_class_balance
from sarbd.errors import ConfigError


def _template(shape=(300, 420), line0=50, pixel0=7):
    return xr.DataArray(
        np.zeros(shape),
        dims=("line", "pixel"),
        coords={
            "line": np.arange(line0, line0 + shape[0]),
            "pixel": np.arange(pixel0, pixel0 + shape[1]),
        },
    )


@pytest.mark.parametrize("buffer", [0, 1, 4, 7])
def test_splits_are_separated_by_the_buffer(buffer):
    split = assign_splits(_template(), block=40, buffer=buffer, seed=3)
    s = split.values
    assert set(np.unique(s)) <= {0, 1, 2, 3} and {1, 2, 3} <= set(np.unique(s))
    for sid in (1, 2, 3):
        # chessboard distance from every pixel to the nearest pixel of split sid
        dist = ndimage.distance_transform_cdt(s != sid, metric="chessboard")
        others = (s > 0) & (s != sid)
        assert dist[others].min() >= buffer + 1
    assert split.attrs["sarbd_split_block"] == 40 and split.attrs["sarbd_split_seed"] == 3
    np.testing.assert_array_equal(split["line"].values, np.arange(50, 350))


def test_split_fractions_and_seed():
    a = assign_splits(
        (400, 400),
        block=20,
        buffer=0,
        seed=1,
        fractions={"train": 0.6, "validation": 0.2, "test": 0.2},
    )
    b = assign_splits(
        (400, 400),
        block=20,
        buffer=0,
        seed=1,
        fractions={"train": 0.6, "validation": 0.2, "test": 0.2},
    )
    c = assign_splits(
        (400, 400),
        block=20,
        buffer=0,
        seed=2,
        fractions={"train": 0.6, "validation": 0.2, "test": 0.2},
    )
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    counts = np.bincount(a.values.ravel(), minlength=4) / a.size
    np.testing.assert_allclose(counts[1:], [0.6, 0.2, 0.2], atol=1e-9)  # 400 blocks: exact
    no_val = assign_splits((100, 100), block=10, buffer=2, fractions={"train": 1.0, "test": 1.0})
    assert 2 not in np.unique(no_val.values)
    for bad in ({"train": -1.0}, {"training": 1.0}):
        with pytest.raises(ConfigError):
            assign_splits((100, 100), block=10, buffer=2, fractions=bad)
    with pytest.raises(ConfigError):
        assign_splits((100, 100), block=10, buffer=10)


@pytest.mark.parametrize("size", [16, 64])
def test_chips_lie_in_one_split_and_never_near_another(size):
    buffer = 6
    split = assign_splits(_template((400, 520)), block=96, buffer=buffer, seed=0)
    s = split.values
    labels = xr.DataArray(
        np.random.default_rng(0).integers(0, 3, s.shape).astype(np.uint8),
        dims=("line", "pixel"),
        coords=split.coords,
    )
    classes = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    chips = make_chips(split, size, labels=labels, classes=classes)
    assert len(chips) > 0 and set(chips["split"]) == {"train", "validation", "test"}
    assert list(chips.columns[:6]) == ["chip_id", "line0", "pixel0", "size", "split", "n_labelled"]
    names = {1: "train", 2: "validation", 3: "test"}
    occupied = np.zeros(s.shape, int)
    for row in chips.itertuples():
        i0, j0 = row.line0 - 50, row.pixel0 - 7  # absolute -> array index
        window = s[i0 : i0 + size, j0 : j0 + size]
        assert window.shape == (size, size)
        sid = {v: k for k, v in names.items()}[row.split]
        assert np.all(window == sid)
        # nothing of another split within `buffer` pixels of the chip
        lo_i, lo_j = max(i0 - buffer, 0), max(j0 - buffer, 0)
        ring = s[lo_i : i0 + size + buffer, lo_j : j0 + size + buffer]
        assert not np.any((ring > 0) & (ring != sid))
        occupied[i0 : i0 + size, j0 : j0 + size] += 1
        lab = labels.values[i0 : i0 + size, j0 : j0 + size]
        assert row.count_a == (lab == 1).sum() and row.count_b == (lab == 2).sum()
        assert row.n_labelled == (lab > 0).sum()
    assert occupied.max() == 1  # chips do not overlap
    assert chips["chip_id"].is_unique


def test_class_balance_and_pixel_table(synthetic):
    s = synthetic
    split = assign_splits(s.truth, block=30, buffer=2, seed=0)
    bal = split_class_balance(split, s.truth, s.classes)
    assert list(bal.index) == ["train", "validation", "test"]
    assert bal["total"].sum() == (split.values > 0).sum()
    assert bal.loc["train", "water"] == ((split.values == 1) & (s.truth.values == 1)).sum()
    ds = s.signatures.copy()
    ds["label_l2"] = s.truth.where(s.fractions["boundary_distance"] > 5, 0).astype(np.uint8)
    ds["split"] = split
    table = pixel_table(ds)
    n = int((ds["label_l2"].values > 0).sum())
    assert len(table) == n
    assert {
        "line",
        "pixel",
        "latitude",
        "longitude",
        "split",
        "label_l2",
        "amplitude_dispersion_vv",
    } <= set(table.columns)
    dates = [np.datetime_as_string(t, unit="D").replace("-", "") for t in ds["time"].values]
    assert f"sigma0_vv_{dates[1]}" in table.columns
    row = table.iloc[5]
    i, j = int(row.line - ds.line.values[0]), int(row.pixel - ds.pixel.values[0])
    assert row[f"sigma0_vv_{dates[1]}"] == pytest.approx(float(ds["sigma0_vv"].values[1, i, j]))
    assert row.label_l2 == ds["label_l2"].values[i, j]


def test_assemble_dataset_follows_the_contract(synthetic):
    import json

    from sarbd.dataset import label_l2
    from sarbd.dataset.assemble import assemble_dataset

    s = synthetic
    radarcoded = s.fractions.drop_vars("layover_shadow_mask")
    radarcoded["label"] = s.truth  # radarcode's own hard label is not carried over
    l2 = label_l2(s.fractions, s.classes)
    split = assign_splits(l2, block=30, buffer=2, seed=4)
    ds = assemble_dataset(
        s.stack, s.signatures, radarcoded, [l2], s.classes, split, attrs={"title": "x"}
    )
    assert "label" not in ds and {
        "fraction_water",
        "boundary_distance",
        "label_l2",
        "split",
        "sigma0_vv",
        "height",
        "orbit_position",
        "layover_shadow_mask",
    } <= set(ds.variables)
    assert json.loads(ds.attrs["sarbd_classes"])[0] == {"id": 1, "name": "water"}
    assert ds.attrs["sarbd_split_seed"] == 4 and ds.attrs["sarbd_split_block"] == 30
    assert ds.attrs["radar_grid_first_line"] == 200 and ds.attrs["title"] == "x"
    assert ds["latitude"].dims == ("line", "pixel")
