"""``sarbd geocode``: CF netCDF output on real products, height models, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from sarbd.cli.app import main

TERCEIRA_XML = "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml"
TERCEIRA_TIFF = "s1a-iw3-slc-vv_subset_hight9800_10400_width11000_11000.tiff"


def test_geocode_terceira_crop_without_dem(shared_data, tmp_path, capsys):
    d = shared_data / "s1_terceira"
    out = tmp_path / "geometry.nc"
    status = main(
        [
            "geocode",
            str(d / TERCEIRA_XML),
            "--measurement",
            str(d / TERCEIRA_TIFF),
            "--offset",
            "9799,10999",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["shape"] == [601, 1401] and summary["converged_fraction"] == 1.0
    with xr.open_dataset(out) as ds:
        assert ds.attrs["Conventions"] == "CF-1.10, ACDD-1.3"
        assert (
            ds.attrs["height_model"]
            == "annotation geolocation grid heights, floored at the geoid (EGM96)"
        )
        assert ds.incidence_angle.encoding["coordinates"] == "latitude longitude"
        assert ds.latitude.attrs["units"] == "degrees_north" and ds.height.attrs["units"] == "m"
        assert (
            ds.layover_shadow_mask.attrs["flag_meanings"]
            == "none layover shadow layover_and_shadow"
        )
        assert int(ds.line[0]) == 9799 and int(ds.pixel[0]) == 10999
        # the crop covers Angra do Heroismo (38.65 N, 27.22 W)
        assert 38.60 < float(ds.latitude.min()) < 38.66 < float(ds.latitude.max()) < 38.70
        assert -27.27 < float(ds.longitude.min()) < -27.22 < float(ds.longitude.max()) < -27.18
        # heights never sit below the geoid (~52 m above the ellipsoid there)
        assert float(ds.height.min()) > 45.0
        assert 30 < float(ds.incidence_angle.mean()) < 47
    assert not list(tmp_path.glob(".*.tmp*"))  # written atomically, no leftovers


def test_geocode_winnipeg_with_dem(shared_data, tmp_path):
    d = shared_data / "uavsar_nisar"
    out = tmp_path / "wpg.nc"
    status = main(
        [
            "geocode",
            str(d / "winnipeg.h5"),
            "--dem",
            str(d / "winnipeg_dem.tif"),
            "--vertical-datum",
            "ellipsoid",
            "--dem-interpolation",
            "biquintic",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    with xr.open_dataset(out) as ds:
        assert (
            "winnipeg_dem.tif (ellipsoidal heights, given), biquintic" in ds.attrs["height_model"]
        )
        # the radar grid, and the orbit that places it (sarbd radarcode --grid reads both)
        assert (ds.sizes["line"], ds.sizes["pixel"], ds.sizes["xyz"]) == (250, 250, 3) and ds.sizes[
            "orbit_time"
        ] > 10
        assert int(ds.converged.sum()) == 250 * 250
        assert np.isfinite(ds.local_incidence_angle).all()


def test_geocode_nisar_without_dem_is_a_clear_error(shared_data, tmp_path, capsys):
    status = main(
        [
            "geocode",
            str(shared_data / "uavsar_nisar" / "winnipeg.h5"),
            "--out",
            str(tmp_path / "x.nc"),
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "no height model" in err and "--dem" in err
    assert not (tmp_path / "x.nc").exists()


@pytest.mark.parametrize("args", [["--coarse", "10"], ["--offset", "a,b"]])
def test_geocode_bad_options(shared_data, tmp_path, capsys, args):
    d = shared_data / "s1_terceira"
    status = main(["geocode", str(d / TERCEIRA_XML), "--out", str(tmp_path / "x.nc"), *args])
    assert status == 2
    assert "must be two integers" in capsys.readouterr().err
