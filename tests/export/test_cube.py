"""netCDF and Zarr outputs: content, CF/ACDD metadata, chunking, atomicity."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import xarray as xr

from sarbd.errors import InputError
from sarbd.export.cf import check_cf
from sarbd.export.cube import write_netcdf, write_zarr


def test_netcdf_round_trip_and_cf(dataset, tmp_path):
    path = write_netcdf(dataset, tmp_path / "d.nc")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        assert check_cf(back) == []
        assert back["sigma0_vv"].dims == ("time", "line", "pixel") and back.sizes["time"] == 3
        np.testing.assert_array_equal(back["sigma0_vv"].values, dataset["sigma0_vv"].values)
        np.testing.assert_array_equal(back["label_l3"].values, dataset["label_l3"].values)
        np.testing.assert_array_equal(back["time"].values, dataset["time"].values)
        np.testing.assert_array_equal(back["line"].values, dataset["line"].values)
        assert back["label_l3"].dtype == np.uint8 and back["quality_flags"].dtype == np.uint16
        assert back["sigma0_vv"].encoding["coordinates"] in (
            "latitude longitude",
            "longitude latitude",
        )
        assert back["latitude"].attrs["standard_name"] == "latitude"
        assert back.attrs["Conventions"] == "CF-1.10, ACDD-1.3"
        assert back.attrs["geospatial_lat_min"] == pytest.approx(float(dataset["latitude"].min()))
        assert back.attrs["time_coverage_start"].startswith("2022-02-14T05:50:00")
        assert back["quality_flags"].attrs["flag_meanings"].split()[-1] == "border"
        np.testing.assert_array_equal(back["split"].attrs["flag_values"], [0, 1, 2, 3])
        assert back["sigma0_vv"].attrs["coverage_content_type"] == "physicalMeasurement"
    with h5py.File(path) as f:  # chunked and compressed, one chunk per date
        assert f["sigma0_vv"].chunks[0] == 1 and f["sigma0_vv"].compression == "gzip"
        assert "_FillValue" not in f["time"].attrs


def test_netcdf_refuses_variables_without_units_and_leaves_nothing(dataset, tmp_path):
    bad = dataset.copy()
    bad["sigma0_vv"] = bad["sigma0_vv"].copy()
    bad["sigma0_vv"].attrs = {"long_name": "x"}
    with pytest.raises(InputError, match=r"sigma0_vv \(units\)"):
        write_netcdf(bad, tmp_path / "d.nc")
    assert list(tmp_path.iterdir()) == []


def test_complex_variables_become_real_imag_pairs(dataset, tmp_path):
    ds = dataset[["height"]].copy()
    z = (np.arange(ds["height"].size).reshape(ds["height"].shape) * (1 + 2j)).astype(np.complex64)
    ds["interferogram_vv"] = (("line", "pixel"), z, {"units": "1", "long_name": "interferogram"})
    path = write_netcdf(ds, tmp_path / "c.nc")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        np.testing.assert_array_equal(back["interferogram_vv_real"].values, z.real)
        np.testing.assert_array_equal(back["interferogram_vv_imag"].values, z.imag)
        assert back["interferogram_vv_imag"].attrs["long_name"] == "interferogram (imag part)"


def test_zarr_round_trip(dataset, tmp_path):
    path = write_zarr(dataset, tmp_path / "d.zarr")
    assert (path / ".zmetadata").is_file()  # consolidated, format 2
    back = xr.open_zarr(path)
    assert check_cf(back) == []
    np.testing.assert_array_equal(back["coherence_vv"].values, dataset["coherence_vv"].values)
    assert back["sigma0_vv"].encoding["chunks"][0] == 1
    assert back.attrs["sarbd_classes"] == dataset.attrs["sarbd_classes"]


def test_check_cf_reports_each_broken_rule(dataset):
    from sarbd.export.cf import prepare_cf

    good = prepare_cf(dataset)
    assert check_cf(good) == []
    bad = good.copy()
    bad["height"].attrs.pop("units")
    bad["label_l2"].attrs["flag_values"] = np.array([0, 1], np.uint8)
    bad["latitude"].attrs["units"] = "degree"
    bad.attrs["Conventions"] = "CF-1.6"
    bad = bad.rename({"coherence_vv": "coherence vv"})
    problems = "\n".join(check_cf(bad))
    for needle in (
        "height: attribute 'units' is missing",
        "label_l2: flag_values has 2 entries",
        "latitude: needs standard_name",
        "Conventions",
        "'coherence vv': name is not CF-safe",
    ):
        assert needle in problems


def _stage(dataset, names, path, **kw):
    """Write ``names`` of ``dataset`` as a build stage does and open them again."""
    from sarbd.pipeline.cache import write_stage

    write_stage(dataset[names], path, (64, 96), **kw)
    return xr.open_zarr(path)


def test_dataset_zarr_links_unchanged_stage_arrays(dataset, tmp_path):
    import os

    from sarbd.export.cube import zarr_links

    store = tmp_path / "stage.zarr"
    staged = _stage(dataset, ["sigma0_vv", "label_l2", "quality_flags", "coherence_vv"], store)
    ds = dataset.copy()
    for name in ("sigma0_vv", "label_l2", "quality_flags"):
        ds[name] = staged[name].assign_attrs(dataset[name].attrs)
    ds["coherence_vv"] = (staged["coherence_vv"] * 1).assign_attrs(
        dataset["coherence_vv"].attrs
    )  # a new array
    path = write_zarr(ds, tmp_path / "d.zarr", links=zarr_links(staged, store))
    for name, linked in (
        ("sigma0_vv", True),
        ("label_l2", True),
        ("quality_flags", True),
        ("coherence_vv", False),
    ):
        chunks = sorted(p.name for p in (store / name).iterdir() if not p.name.startswith("."))
        assert chunks
        same = [
            os.stat(store / name / c).st_ino == os.stat(path / name / c).st_ino
            for c in chunks
            if (path / name / c).exists()
        ]
        assert same and all(same) == linked and any(same) == linked, name
    back = xr.open_zarr(path)
    assert check_cf(back) == []
    for name in ("sigma0_vv", "label_l2", "quality_flags", "coherence_vv", "label_l3", "height"):
        np.testing.assert_array_equal(back[name].values, dataset[name].values)
        assert back[name].dtype == dataset[name].dtype
    assert back["label_l2"].attrs["flag_meanings"] == dataset["label_l2"].attrs["flag_meanings"]
    assert set(back["sigma0_vv"].coords) >= {"latitude", "longitude"}
    # the cache can go: the dataset keeps its data
    import shutil

    shutil.rmtree(store)
    np.testing.assert_array_equal(
        xr.open_zarr(path)["sigma0_vv"].values, dataset["sigma0_vv"].values
    )


def test_codecs_per_variable(dataset, tmp_path):
    import json

    path = write_zarr(dataset, tmp_path / "d.zarr")
    meta = {
        n: json.loads((path / n / ".zarray").read_text())
        for n in ("sigma0_vv", "label_l3", "quality_flags")
    }
    assert (
        meta["sigma0_vv"]["compressor"]["cname"] == "zstd"
        and meta["sigma0_vv"]["compressor"]["shuffle"] == 2
    )
    assert meta["label_l3"]["dtype"] == "|u1" and meta["label_l3"]["compressor"]["shuffle"] == 1
    assert (
        meta["quality_flags"]["dtype"] == "<u2" and meta["sigma0_vv"]["filters"] is None
    )  # lossless


@pytest.mark.parametrize("keepbits", [4, 9, 16])
def test_bit_rounding_error_bound(tmp_path, keepbits):
    from sarbd.export.cube import record_quantization

    rng = np.random.default_rng(keepbits)
    x = (rng.standard_normal((2, 70, 90)) * 10.0 ** rng.uniform(-6, 3, (2, 70, 90))).astype(
        np.float32
    )
    x[0, :3] = np.nan
    ds = xr.Dataset(
        {
            "s": (("time", "line", "pixel"), x, {"units": "1", "long_name": "s"}),
            "label": (("line", "pixel"), rng.integers(0, 5, (70, 90)).astype(np.uint8)),
        }
    )
    store = tmp_path / "q.zarr"
    _stage(ds, ["s", "label"], store, quantize={"keepbits": keepbits})
    assert record_quantization(store) == ["s"]
    back = xr.open_zarr(store)
    y = back["s"].values
    bound = 2.0 ** -(keepbits + 1)
    assert np.array_equal(np.isnan(y), np.isnan(x))
    rel = np.abs(y - x)[np.isfinite(x)] / np.abs(x[np.isfinite(x)])
    assert rel.max() <= bound and rel.max() > bound / 4  # the bound holds and is nearly reached
    np.testing.assert_array_equal(back["label"].values, ds["label"].values)  # labels stay lossless
    assert f"relative error <= {bound:.3g}" in back["s"].attrs["sarbd_quantization"]


@pytest.mark.parametrize("absolute", [0.05, 0.01, 1e-3])
def test_absolute_quantisation_error_bound(tmp_path, absolute):
    from sarbd.export.cube import quantize_filter, record_quantization

    x = np.random.default_rng(1).uniform(-40, 10, (1, 80, 80)).astype(np.float32)  # e.g. dB values
    ds = xr.Dataset({"db": (("time", "line", "pixel"), x, {"units": "dB", "long_name": "db"})})
    store = tmp_path / "a.zarr"
    _stage(ds, ["db"], store, quantize={"absolute": absolute})
    record_quantization(store)
    err = np.abs(xr.open_zarr(store)["db"].values - x).max()
    _, bound, _ = quantize_filter(absolute=absolute)
    assert bound <= absolute and err <= bound and err > bound / 4


def test_quantisation_settings_are_checked():
    from sarbd.errors import ConfigError
    from sarbd.export.cube import quantize_filter

    for kw in (
        {},
        {"keepbits": 3, "absolute": 0.1},
        {"keepbits": 0},
        {"keepbits": 24},
        {"absolute": -1.0},
    ):
        with pytest.raises(ConfigError):
            quantize_filter(**kw)


def test_netcdf_attributes_are_classic_text_with_a_grid_mapping(dataset, tmp_path):
    """Issue 21: text attributes NC_CHAR (not NC_STRING), the WGS84 datum of latitude/longitude
    in a grid-mapping variable, flag variables in integer types, no local absolute path."""
    ds = dataset.copy()
    ds.attrs["source_path"] = "/home/someone/data/S1A_X.SAFE"
    ds.attrs["summary"] = "σ0 and friends"  # non-ASCII: still text, UTF-8 like netCDF-C
    zones = np.where(
        np.isfinite(ds["height"].values), 1.0 + (ds["height"].values > 0), np.nan
    ).astype(np.float32)
    zones[0, 0] = np.nan
    ds["zone"] = (
        ("line", "pixel"),
        zones,
        {
            "units": "1",
            "long_name": "a float flag layer",
            "flag_values": np.array([1.0, 2.0], np.float32),
            "flag_meanings": "low high",
        },
    )
    path = write_netcdf(ds, tmp_path / "d.nc")
    with h5py.File(path) as f:
        for obj in [f, *(f[k] for k in f)]:
            for name in obj.attrs:
                tid = h5py.h5a.open(obj.id, name.encode()).get_type()
                if isinstance(
                    tid, h5py.h5t.TypeStringID
                ):  # every single string: fixed length (NC_CHAR)
                    assert not tid.is_variable_str(), (obj.name, name)
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        assert nc.summary == "σ0 and friends" and nc.source_path == "S1A_X.SAFE"
        assert nc["crs"].grid_mapping_name == "latitude_longitude"
        assert nc["crs"].semi_major_axis == 6378137.0 and "WGS 84" in nc["crs"].crs_wkt
        assert nc["sigma0_vv"].grid_mapping == "crs" and nc["label_l3"].grid_mapping == "crs"
        assert "crs" not in nc["sigma0_vv"].coordinates.split()
        assert nc["zone"].dtype == np.uint8 and nc["zone"].flag_values.dtype == np.uint8
        assert nc["zone"]._FillValue == 255
    with xr.open_dataset(path, engine="h5netcdf") as back:
        assert check_cf(back) == []
        assert np.isnan(back["zone"].values[0, 0]) or back["zone"].values[0, 0] == 255
