"""The STAC catalog: structure, extensions, relative links, checksums, README front-matter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pystac
import pytest
import yaml

from sarbd.export.stac import EXTENSIONS, multihash_sha256


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_catalog_structure_and_extensions(dataset_folder, dataset):
    cat = pystac.Catalog.from_file(str(dataset_folder / "catalog.json"))
    (coll,) = list(cat.get_children())
    assert coll.id == "synthetic" and coll.license == "CC-BY-4.0"
    items = {i.id: i for i in coll.get_items()}
    assert {
        "synthetic-20220214",
        "synthetic-20220226",
        "synthetic-20220310",
        "synthetic-static",
        "synthetic-labels-train",
        "synthetic-labels-validation",
        "synthetic-labels-test",
        "synthetic-labels",
    } == set(items)
    date = items["synthetic-20220226"]
    assert set(date.assets) == {"sigma0_vv"} and "sigma0" in date.assets["sigma0_vv"].roles
    assert date.properties["proj:code"] is None and date.properties["proj:shape"] == [120, 150]
    assert date.properties["sar:frequency_band"] == "C" and date.properties[
        "sar:polarizations"
    ] == ["VV", "VH"]
    assert (
        date.properties["sat:orbit_state"] == "ascending"
        and date.properties["sat:relative_orbit"] == 88
    )
    assert (
        "view:incidence_angle" in date.properties
        and date.properties["processing:software"]["sarbd"]
    )
    for ext in ("sar", "sat", "view", "processing", "projection", "file"):
        assert EXTENSIONS[ext] in date.stac_extensions
    # every field the dataset knows (sar v1.3.0, sat v1.2.0, common metadata)
    assert (
        date.properties["sar:instrument_mode"] == "IW"
        and date.properties["sar:center_frequency"] == 5.405
    )
    assert (
        date.properties["sat:absolute_orbit"] == 41737
        and date.properties["platform"] == "sentinel-1a"
    )
    assert date.properties["constellation"] == "sentinel-1"
    lab = items["synthetic-labels-validation"]
    assert lab.properties["ml-aoi:split"] == "validate" and lab.properties["label:type"] == "raster"
    assert lab.properties["label:properties"] is None
    # one vocabulary: the raster values, in label:classes and in label:overviews alike
    ids = [c["id"] for c in json.loads(dataset.attrs["sarbd_classes"])]
    assert lab.properties["label:classes"] == [{"name": None, "classes": ids}]
    counts = {c["name"]: c["count"] for c in lab.properties["label:overviews"][0]["counts"]}
    assert set(counts) == {str(i) for i in ids}
    split, l3 = dataset["split"].values, dataset["label_l3"].values
    assert counts["1"] == int(((split == 2) & (l3 == 1)).sum())
    # the split's own label COGs (other splits are nodata), named by classification:classes
    assert {"label_l1", "label_l2", "label_l3", "quality_flags"} == set(lab.assets)
    for asset in lab.assets.values():
        assert "/splits/validation/" in asset.get_absolute_href()
        assert asset.extra_fields["ml-aoi:role"] == "label"
    names = {
        c["value"]: c["name"] for c in lab.assets["label_l3"].extra_fields["classification:classes"]
    }
    assert names[1] == "water" and names[0] == "unlabelled"
    bits = lab.assets["quality_flags"].extra_fields["classification:bitfields"]
    assert [b["name"] for b in bits][:2] == ["no_reference", "mixed"] and bits[1]["offset"] == 1
    others = {items[f"synthetic-labels-{n}"].assets["label_l3"].href for n in ("train", "test")}
    assert lab.assets["label_l3"].href not in others  # each split item points at its own subset
    assert "split raster" in lab.properties["label:description"]
    scene = items["synthetic-labels"]  # the whole scene: the scene-wide COGs and the split raster
    assert "ml-aoi:split" not in scene.properties and "split" in scene.assets
    assert "/splits/" not in scene.assets["label_l3"].get_absolute_href()
    assert "1 train, 2 validation, 3 test" in scene.properties["label:description"]
    # label:assets name the assets of the source item, not the label item's own
    sources = [link for link in lab.links if link.rel == "source"]
    assert len(sources) == 4
    for link in sources:
        target = items[_load(Path(lab.get_self_href()).parent / link.href)["id"]]
        assert link.extra_fields["label:assets"] == sorted(target.assets)
    assert set(coll.assets) >= {
        "netcdf",
        "zarr",
        "pixels",
        "chips_16",
        "chips_64",
        "readme",
        "run_log",
    }
    # the footprint covers the scene corners
    lon0, lat0 = float(dataset["longitude"].values[0, 0]), float(dataset["latitude"].values[0, 0])
    assert [lon0, lat0] in [list(p) for p in date.geometry["coordinates"][0]]


def test_links_and_hrefs_are_relative_and_checksums_right(dataset_folder):
    for path in dataset_folder.rglob("*.json"):
        if path.parent.name.endswith(".zarr") or ".zarr" in str(path):
            continue
        stac = _load(path)
        for link in stac.get("links", []):
            assert "://" not in link["href"] and not link["href"].startswith("/"), (path, link)
            assert (path.parent / link["href"]).resolve().exists()
        for asset in stac.get("assets", {}).values():
            target = (path.parent / asset["href"]).resolve()
            assert target.exists() and not asset["href"].startswith("/")
            if target.is_file():
                assert asset["file:size"] == target.stat().st_size
                assert asset["file:checksum"] == multihash_sha256(target)
                assert (
                    asset["file:checksum"].startswith("1220") and len(asset["file:checksum"]) == 68
                )


def test_readme_front_matter_for_eotdl(dataset_folder):
    text = (dataset_folder / "README.md").read_text()
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---")[1])
    assert front["name"] == "synthetic" and front["license"] == "CC-BY-4.0"
    assert front["authors"] and front["source"]
    assert _load(dataset_folder / "catalog.json")["type"] == "Catalog"


def test_write_dataset_layout_and_summary(dataset_folder, dataset):
    import pandas as pd

    for rel in (
        "README.md",
        "catalog.json",
        "dataset.zarr",
        "dataset.nc",
        "cog/label_l3.tif",
        "tables/pixels.parquet",
        "chips/chips_16.parquet",
        "chips/chips_64.parquet",
        "run_log.json",
    ):
        assert (dataset_folder / rel).exists(), rel
    summary = json.loads((dataset_folder / "summary.json").read_text())
    l3 = dataset["label_l3"].values
    assert summary["class_counts"]["label_l3"]["water"] == int((l3 == 1).sum())
    assert summary["split_balance"]["level"] == "label_l3"
    assert summary["split_balance"]["pixels"]["train"]["water"] == int(
        ((dataset["split"].values == 1) & (l3 == 1)).sum()
    )
    chips = pd.read_parquet(dataset_folder / "chips" / "chips_16.parquet")
    assert len(chips) == summary["chips"]["16"]["count"] > 0
    pixels = pd.read_parquet(dataset_folder / "tables" / "pixels.parquet")
    assert len(pixels) == int(
        ((dataset["label_l1"].values > 0) | (dataset["label_l2"].values > 0) | (l3 > 0)).sum()
    )
    # default table: every time-invariant signature, no per-date column
    assert "amplitude_dispersion_vv" in pixels.columns
    assert not any(c.startswith("sigma0_vv_") for c in pixels.columns)


def test_formats_subset_and_all_table_columns(tmp_path, dataset):
    import pandas as pd

    from sarbd.errors import ConfigError
    from sarbd.export import write_dataset

    root = tmp_path / "ds"
    (root / "cog").mkdir(parents=True)
    (root / "cog" / "stale.tif").write_bytes(b"old")
    (root / "dataset.nc").write_bytes(b"old")
    summary = write_dataset(
        dataset, root, chip_sizes=(16,), formats=("zarr", "parquet"), table_features="all"
    )
    assert summary["formats"] == ["zarr", "parquet"] and summary["catalog"] is None
    assert sorted(p.name for p in root.iterdir()) == [
        "chips",
        "dataset.zarr",
        "tables",
    ]  # stale outputs gone
    pixels = pd.read_parquet(root / "tables" / "pixels.parquet")
    dates = [np.datetime_as_string(t, unit="D").replace("-", "") for t in dataset["time"].values]
    assert {f"sigma0_vv_{d}" for d in dates} <= set(pixels.columns)
    write_dataset(
        dataset, root, chip_sizes=(16,), formats=("parquet",), table_features=["sigma0_vv"]
    )
    assert not (root / "dataset.zarr").exists()
    cols = set(pd.read_parquet(root / "tables" / "pixels.parquet").columns)
    assert f"sigma0_vv_{dates[0]}" in cols and "amplitude_dispersion_vv" not in cols
    with pytest.raises(ConfigError, match="unknown output format"):
        write_dataset(dataset, root, formats=("geojson",))
    with pytest.raises(ConfigError, match="not in the dataset"):
        write_dataset(dataset, root, formats=("parquet",), table_features=["nope"])


def test_without_split_one_label_item_and_rewrite_replaces(tmp_path, dataset):
    from sarbd.export import write_cogs, write_stac

    ds = dataset.drop_vars("split")
    write_cogs(ds, tmp_path / "cog", variables=["label_l3"])
    write_stac(tmp_path, ds, collection_id="nosplit")
    write_stac(tmp_path, ds, collection_id="nosplit")  # a second write replaces the first cleanly
    cat = pystac.Catalog.from_file(str(tmp_path / "catalog.json"))
    ids = sorted(i.id for i in cat.get_items(recursive=True))
    assert ids == ["nosplit-20220214", "nosplit-20220226", "nosplit-20220310", "nosplit-labels"]
    lab = next(i for i in cat.get_items(recursive=True) if i.id == "nosplit-labels")
    assert "ml-aoi:split" not in lab.properties
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "README.md",
        "catalog.json",
        "cog",
        "nosplit",
    ]


def test_geocoded_cogs_are_assets_with_their_projection(tmp_path, dataset):
    from sarbd.export import write_cogs, write_stac
    from sarbd.export.validate import validate_dataset

    write_cogs(
        dataset, tmp_path / "cog", variables=["amplitude_dispersion_vv", "label_l3"], geocode=True
    )
    write_stac(tmp_path, dataset, collection_id="geo")
    cat = pystac.Catalog.from_file(str(tmp_path / "catalog.json"))
    items = {i.id: i for i in cat.get_items(recursive=True)}
    asset = items["geo-static"].assets["amplitude_dispersion_vv_geocoded"]
    assert (
        asset.extra_fields["proj:code"] == "EPSG:32631"
        and len(asset.extra_fields["proj:transform"]) == 6
    )
    assert (
        items["geo-static"].properties["proj:code"] is None
    )  # the item default stays radar geometry
    assert "label_l3_geocoded" in items["geo-labels-train"].assets
    errors = [
        c
        for c in validate_dataset(tmp_path, compliance_checker=False)
        if c.status == "error" and c.category in ("stac", "file", "cog")
    ]
    assert errors == []


def test_footprint_and_bbox_read_only_edges_of_dask_coordinates():
    """Footprint and bbox of Dask-backed lat/lon equal those of the in-memory arrays, and the
    footprint's graph touches only the chunks on the grid's edges."""
    import dask.array as da
    import xarray as xr

    from sarbd.export.stac import _bbox, _footprint

    n, m = 300, 500
    li, pj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    lat = 45.0 + 1e-4 * li - 2e-5 * pj + 1e-9 * pj**2
    lon = 7.0 + 3e-5 * li + 2e-4 * pj
    lat[0, 3] = np.nan  # an unfilled edge sample is left out, not used
    lat[150, 250] = 80.0  # an interior extreme: the bbox sees it, the footprint does not
    mem = xr.Dataset(
        coords={"latitude": (("line", "pixel"), lat), "longitude": (("line", "pixel"), lon)}
    )
    reads: list[tuple[int, ...]] = []

    def counted(block, block_info=None):  # records the chunks Dask computes
        reads.append(tuple(block_info[0]["chunk-location"]))
        return block

    def lazy_of(a):
        return da.from_array(a, chunks=(50, 100)).map_blocks(counted, dtype=a.dtype)

    lazy = xr.Dataset(
        coords={
            "latitude": (("line", "pixel"), lazy_of(lat)),
            "longitude": (("line", "pixel"), lazy_of(lon)),
        }
    )
    assert _bbox(lazy) == pytest.approx([lon.min(), np.nanmin(lat), lon.max(), 80.0])
    reads.clear()
    fp = _footprint(lazy)
    # only the 18 border chunks of the 6 x 5 chunk grid, of each coordinate (corners read twice)
    assert len(reads) <= 2 * (6 + 6 + 5 + 5)
    assert len(set(reads)) == 18
    ring = fp["coordinates"][0]
    assert fp == _footprint(mem)
    for i, j in ((0, 0), (0, m - 1), (n - 1, m - 1), (n - 1, 0)):
        assert [lon[i, j], lat[i, j]] in [list(p) for p in ring]
    assert all(abs(p[1] - 80.0) > 1 for p in ring)
