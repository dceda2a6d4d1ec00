"""COGs in radar geometry with GCPs, and geocoded through the per-pixel geolocation arrays."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr
from pyproj import Transformer
from rio_cogeo.cogeo import cog_validate

from sarbd.dataset.classes import class_colour
from sarbd.export.cog import overview_count, radar_gcps, write_cogs


def test_radar_geometry_cogs_with_pixel_centre_gcps(dataset, tmp_path):
    recs = write_cogs(
        dataset, tmp_path, variables=["sigma0_vv", "label_l3", "quality_flags"], max_gcps_per_axis=7
    )
    recs = [r for r in recs if r.split is None]  # the per-split label COGs: test_split_label_cogs
    names = sorted(r.path.name for r in recs)
    assert names == [
        "label_l3.tif",
        "quality_flags.tif",
        "sigma0_vv_20220214.tif",
        "sigma0_vv_20220226.tif",
        "sigma0_vv_20220310.tif",
    ]
    lat, lon = dataset["latitude"].values, dataset["longitude"].values
    for r in recs:
        valid, errors, _ = cog_validate(str(r.path), quiet=True)
        assert valid, errors
        with rasterio.open(r.path) as src:
            gcps, crs = src.gcps
            assert crs.to_epsg() == 4326 and len(gcps) == 49
            for g in gcps:  # the GCP of pixel (i, j) sits at its centre (i + 0.5, j + 0.5)
                i, j = int(g.row - 0.5), int(g.col - 0.5)
                assert g.row == i + 0.5 and g.col == j + 0.5
                assert g.y == pytest.approx(lat[i, j]) and g.x == pytest.approx(lon[i, j])
            assert (i, j) == (lat.shape[0] - 1, lat.shape[1] - 1)  # the far corner is a tie point
            data = src.read(1)
            assert src.tags()["sarbd_variable"] == r.variable
        if r.variable == "sigma0_vv":
            k = list(dataset["time"].values).index(r.time)
            np.testing.assert_array_equal(data, dataset["sigma0_vv"].values[k])
        else:
            assert data.dtype == dataset[r.variable].dtype
            np.testing.assert_array_equal(data, dataset[r.variable].values)


def _forward(i, j, wave):
    return 7.0 - 2e-5 * i + 1.3e-4 * j + wave * np.sin(
        2 * np.pi * j / 30
    ), 45.0 + 9e-5 * i - 1.5e-5 * j


def _linear_scene(n=60, m=80, wave=0.0):
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    lat = 45.0 + 9e-5 * i - 1.5e-5 * j
    lon = 7.0 - 2e-5 * i + 1.3e-4 * j + wave * np.sin(2 * np.pi * j / 30)
    ds = xr.Dataset(
        {
            "row": (
                ("line", "pixel"),
                i.astype(np.float32),
                {"units": "1", "long_name": "line index"},
            ),
            "col": (
                ("line", "pixel"),
                j.astype(np.float32),
                {"units": "1", "long_name": "pixel index"},
            ),
            "cls": (
                ("line", "pixel"),
                (1 + (i // 20)).astype(np.uint8),
                {
                    "units": "1",
                    "long_name": "bands",
                    "flag_values": np.array([1, 2, 3], np.uint8),
                    "flag_meanings": "a b c",
                },
            ),
        },
        coords={
            "line": np.arange(n),
            "pixel": np.arange(m),
            "latitude": (("line", "pixel"), lat),
            "longitude": (("line", "pixel"), lon),
        },
    )
    # inverse of the (linear) geolocation: (lon, lat) -> fractional (i, j)
    a = np.array([[9e-5, -1.5e-5], [-2e-5, 1.3e-4]])

    def inverse(lon_, lat_):
        ij = np.linalg.solve(a, np.stack([lat_ - 45.0, lon_ - 7.0]).reshape(2, -1))
        return ij[0].reshape(np.shape(lat_)), ij[1].reshape(np.shape(lat_))

    return ds, inverse


@pytest.mark.parametrize("wave", [0.0, 1.5e-4])
def test_geocoded_cogs_follow_the_per_pixel_geolocation(tmp_path, wave):
    """Each map pixel gets the radar pixel whose own lat/lon lies there.

    ``wave`` adds a ~1.1-pixel wavy east-west displacement (like terrain in radar
    geometry) that no low-order GCP polynomial can follow; the geolocation arrays can.
    """
    ds, inverse = _linear_scene(wave=wave)
    recs = write_cogs(ds, tmp_path, variables=["row", "col", "cls"], geocode=True, resolution=5.0)
    geo = {r.variable: r.path for r in recs if r.geocoded}
    assert set(geo) == {"row", "col", "cls"}
    with rasterio.open(geo["row"]) as src:
        assert src.crs.to_epsg() == 32632 and cog_validate(str(geo["row"]), quiet=True)[0]
        row = src.read(1)
        rr, cc = np.meshgrid(np.arange(src.height), np.arange(src.width), indexing="ij")
        x, y = rasterio.transform.xy(src.transform, rr.ravel(), cc.ravel())
    with rasterio.open(geo["col"]) as src:
        col = src.read(1)
    with rasterio.open(geo["cls"]) as src:
        cls = src.read(1)
        assert cls.dtype == np.uint8
    lon, lat = Transformer.from_crs(32632, 4326, always_xy=True).transform(np.array(x), np.array(y))
    lon, lat = lon.reshape(row.shape), lat.reshape(row.shape)
    ei, ej = inverse(lon, lat)  # exact only without the wave; used for the footprint and classes
    inside = (ei > 2) & (ei < 57) & (ej > 2) & (ej < 77)
    ok = inside & np.isfinite(row) & np.isfinite(col)
    assert ok.sum() > 0.9 * inside.sum()  # the footprint is filled
    # the radar pixel found at each map pixel lies, by its own geolocation, at that map pixel:
    # ground distance between forward(row, col) and the map pixel centre < 0.15 pixel
    flon, flat = _forward(row[ok], col[ok], wave)
    err_m = np.hypot(
        (flon - lon[ok]) * 111_320 * np.cos(np.radians(45.0)), (flat - lat[ok]) * 110_950
    )
    assert err_m.max() < 1.5, err_m.max()  # a half-pixel convention slip gives ~6 m
    # categories are resampled by nearest neighbour: only valid class values; outside the
    # scene the type's largest value, the nodata of a categorical layer without a 0 = nodata class
    assert set(np.unique(cls)) <= {1, 2, 3, 255}
    with rasterio.open(geo["cls"]) as src:
        assert src.nodata == 255
    far = inside & (np.abs((ei % 20) - 10) < 7)
    np.testing.assert_array_equal(cls[far], (1 + ei[far] // 20).astype(np.uint8))


def test_geocoding_onto_a_dem_grid(tmp_path):
    ds, _ = _linear_scene()
    dem = tmp_path / "dem.tif"
    transform = rasterio.transform.from_origin(6.99, 45.01, 2e-4, 2e-4)
    with rasterio.open(
        dem,
        "w",
        driver="GTiff",
        width=90,
        height=80,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=transform,
    ) as d:
        d.write(np.zeros((1, 80, 90), np.float32))
    recs = write_cogs(ds, tmp_path / "out", variables=["row"], geocode=True, dem=dem)
    with rasterio.open(next(r.path for r in recs if r.geocoded)) as src:
        assert src.crs.to_epsg() == 4326 and src.shape == (80, 90) and src.transform == transform
    compound = tmp_path / "dem_egm96.tif"  # a DEM in "WGS 84 + EGM96 height" (EPSG:9707)
    with rasterio.open(
        compound,
        "w",
        driver="GTiff",
        width=90,
        height=80,
        count=1,
        dtype="float32",
        crs="EPSG:9707",
        transform=transform,
    ) as d:
        d.write(np.zeros((1, 80, 90), np.float32))
    recs = write_cogs(ds, tmp_path / "out2", variables=["row"], geocode=True, dem=compound)
    with rasterio.open(next(r.path for r in recs if r.geocoded)) as src:
        assert src.crs.to_epsg() == 4326  # the horizontal part: the map grid of the COG


def test_gcps_need_latitude_longitude(dataset):
    gcps = radar_gcps(dataset, max_per_axis=3)
    assert len(gcps) == 9 and gcps[0].z == pytest.approx(float(dataset["height"].values[0, 0]))
    with pytest.raises(Exception, match="latitude"):
        write_cogs(
            dataset.drop_vars(["latitude", "longitude"]), "/nonexistent", variables=["height"]
        )


def test_label_cogs_have_nodata_colours_and_a_full_pyramid(dataset, tmp_path):
    recs = write_cogs(dataset, tmp_path, variables=["label_l3", "split", "sigma0_vv"])
    paths = {r.variable: r.path for r in recs if r.split is None and r.time is None}
    with rasterio.open(paths["label_l3"]) as src:
        assert src.nodata == 0  # 0 = unlabelled: transparent in QGIS, not a class
        cmap = src.colormap(1)
        assert cmap[0][3] == 0
        ids = [int(v) for v in dataset["label_l3"].attrs["flag_values"] if v > 0]
        assert len(ids) >= 3
        for cid in ids:
            rgb = class_colour(cid).lstrip("#")
            assert cmap[cid][:3] == tuple(int(rgb[k : k + 2], 16) for k in (0, 2, 4))
        # 120 x 150 px: 150 -> 75 -> 38 -> 19 (<= 32 px): three overview levels, all readable
        assert overview_count(src.height, src.width) == 3
        assert src.overviews(1) == [2, 4, 8]
    with rasterio.open(paths["split"]) as src:
        assert src.nodata == 0 and src.colormap(1)[1][3] == 255
    assert overview_count(1000, 3000) == 7 and overview_count(20, 30) == 0


def test_split_label_cogs_hold_their_split_only(dataset, tmp_path):
    recs = write_cogs(dataset, tmp_path, variables=["label_l3", "quality_flags"])
    split = dataset["split"].values
    found = {(r.variable, r.split): r.path for r in recs if r.split}
    present = {"train", "validation", "test"} & {
        ["unassigned", "train", "validation", "test"][v] for v in np.unique(split)
    }
    assert {s for _, s in found} == present
    for (variable, name), path in found.items():
        sid = {"train": 1, "validation": 2, "test": 3}[name]
        assert path.parent.name == name and cog_validate(str(path), quiet=True)[0]
        with rasterio.open(path) as src:
            data = src.read(1)
            assert src.tags()["sarbd_split"] == name
            inside = split == sid
            np.testing.assert_array_equal(data[inside], dataset[variable].values[inside])
            # other splits: nodata (0 for labels; the largest uint16 for flags, where 0 means "no flag")
            assert np.all(data[~inside] == src.nodata)
            assert src.nodata == (0 if variable == "label_l3" else 65535)


def test_geocoded_cogs_read_with_a_crs_like_torchgeo(dataset, tmp_path):
    """What ``torchgeo.datasets.RasterDataset`` does with a file (TorchGeo itself needs
    torchvision/lightning builds matching this torch, so it is not a test dependency):
    a valid CRS, a north-up transform, bounds, a WarpedVRT to another CRS and windowed
    reads by map bounds."""
    from rasterio.vrt import WarpedVRT
    from rasterio.windows import from_bounds

    recs = write_cogs(dataset, tmp_path, variables=["sigma0_vv", "label_l3"], geocode=True)
    geo = [r for r in recs if r.geocoded and r.split is None]
    assert {r.variable for r in geo} == {"sigma0_vv", "label_l3"}
    for r in geo:
        assert cog_validate(str(r.path), quiet=True)[0]
        with rasterio.open(r.path) as src:
            assert src.crs is not None and src.crs.is_valid and src.crs.to_epsg() is not None
            assert (
                src.transform.b == 0
                and src.transform.d == 0
                and src.transform.e < 0 < src.transform.a
            )
            left, bottom, right, top = src.bounds
            cx, cy = (left + right) / 2, (bottom + top) / 2
            half = 10 * src.res[0]
            window = from_bounds(cx - half, cy - half, cx + half, cy + half, src.transform)
            chip = src.read(1, window=window, boundless=True, fill_value=src.nodata)
            assert chip.shape == (20, 20)
            if r.variable == "label_l3":
                assert src.nodata == 0 and src.colormap(1)[1][3] == 255
                assert set(np.unique(chip)) <= {
                    int(v) for v in dataset["label_l3"].attrs["flag_values"]
                }
                assert np.count_nonzero(src.read(1)) > 0
            else:
                assert np.isfinite(chip).mean() > 0.9
            with WarpedVRT(src, crs="EPSG:4326") as vrt:
                assert vrt.crs.to_epsg() == 4326
                sample = vrt.read(
                    1,
                    window=from_bounds(*vrt.bounds, vrt.transform).round_offsets().round_lengths(),
                )
                assert sample.size > 0
