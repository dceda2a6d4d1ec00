"""`sarbd validate` passes a good dataset and names what is wrong in broken copies."""

from __future__ import annotations

import json

import h5py
import pytest

from sarbd.cli.app import main
from sarbd.errors import InputError
from sarbd.export.validate import validate_dataset


def _errors(folder, compliance_checker=False):
    return [c for c in validate_dataset(folder, compliance_checker) if c.status == "error"]


def test_good_dataset_passes(dataset_folder, capsys):
    checks = validate_dataset(dataset_folder)
    assert not [c for c in checks if c.status == "error"]
    assert not [c for c in checks if c.status == "warning"]  # the IOOS compliance-checker included
    cats = {c.category for c in checks}
    assert cats == {"layout", "cf", "stac", "file", "cog"}
    assert (
        sum(c.category == "stac" and c.status == "ok" for c in checks) == 10
    )  # catalog, collection, 8 items
    assert (
        sum(c.category == "cog" and c.status == "ok" for c in checks) == 9 + 3 * 4
    )  # + per-split label COGs
    assert main(["validate", str(dataset_folder), "--json", "--no-cf-checker"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (
        report["valid"] is True and len(report["checks"]) == len(checks) - 1
    )  # without the compliance-checker row


def test_missing_units(broken_copy, capsys):
    folder = broken_copy()
    with h5py.File(folder / "dataset.nc", "a") as f:
        del f["coherence_vv"].attrs["units"]
    errs = _errors(folder, compliance_checker=True)
    assert any(
        e.target == "dataset.nc" and "coherence_vv: attribute 'units' is missing" in e.message
        for e in errs
    )
    assert main(["validate", str(folder), "--no-cf-checker"]) == 1
    assert "coherence_vv" in capsys.readouterr().out


def test_bad_link(broken_copy):
    folder = broken_copy()
    path = folder / "synthetic" / "collection.json"
    stac = json.loads(path.read_text())
    link = next(link for link in stac["links"] if link["rel"] == "item")
    link["href"] = "./nowhere/nowhere.json"
    path.write_text(json.dumps(stac))
    errs = _errors(folder)
    assert any("link item -> ./nowhere/nowhere.json does not resolve" in e.message for e in errs)


def test_corrupt_cog(broken_copy):
    folder = broken_copy()
    cog = folder / "cog" / "label_l3.tif"
    data = bytearray(cog.read_bytes())
    cog.write_bytes(bytes(data[: len(data) // 3]))  # truncated
    errs = _errors(folder)
    assert any(e.category == "cog" and e.target == "cog/label_l3.tif" for e in errs)
    assert any(
        e.category == "file" and "label_l3" in e.target for e in errs
    )  # size no longer matches


def test_untiled_geotiff_is_not_a_cog(broken_copy):
    import numpy as np
    import rasterio

    folder = broken_copy()
    profile = {
        "driver": "GTiff",
        "width": 600,
        "height": 600,
        "count": 1,
        "dtype": "float32",
        "tiled": False,
        "crs": "EPSG:4326",
        "transform": rasterio.transform.from_origin(5, 52, 1e-4, 1e-4),
    }
    with rasterio.open(folder / "cog" / "strips.tif", "w", **profile) as dst:
        dst.write(np.zeros((1, 600, 600), np.float32))
    errs = _errors(folder)
    assert any(
        e.category == "cog" and e.target == "cog/strips.tif" and "not a valid COG" in e.message
        for e in errs
    )


def test_wrong_checksum(broken_copy):
    folder = broken_copy()
    run_log = folder / "run_log.json"
    text = run_log.read_text()
    run_log.write_text(text.replace("[]", "{}"))  # same size, other bytes
    errs = _errors(folder)
    assert any(
        e.category == "file" and "run_log" in e.target and "checksum mismatch" in e.message
        for e in errs
    )


def test_schema_violation_and_readme(broken_copy):
    folder = broken_copy()
    path = folder / "synthetic" / "synthetic-20220214" / "synthetic-20220214.json"
    stac = json.loads(path.read_text())
    stac["properties"]["sar:frequency_band"] = "Q"
    stac["properties"]["proj:shape"] = [120]
    path.write_text(json.dumps(stac))
    (folder / "README.md").write_text("# no front matter\n")
    errs = _errors(folder)
    msgs = [e.message for e in errs if e.target.endswith("synthetic-20220214.json")]
    assert any("sar" in m and "'Q' is not one of" in m for m in msgs), msgs
    assert any("projection" in m and "proj:shape" in m for m in msgs), msgs
    assert any(e.target == "README.md" and "front-matter" in e.message for e in errs)


def test_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(InputError):
        validate_dataset(tmp_path / "absent")
    assert main(["validate", str(tmp_path / "absent")]) == 2


def test_shipped_schemas_are_the_official_files():
    """Every schema file is byte-identical to the published one (hash of the tagged file)
    and every extension the items declare has one; sarbd refuses an edited copy."""
    import hashlib
    from importlib import resources

    from jsonschema import Draft7Validator

    from sarbd.export.stac import EXTENSIONS
    from sarbd.export.validate import SCHEMA_SOURCES

    root = resources.files("sarbd.export") / "schemas"
    shipped = {}
    for rel, (digest, source) in SCHEMA_SOURCES.items():
        entry = root.joinpath(*rel.split("/"))
        assert hashlib.sha256(entry.read_bytes()).hexdigest() == digest, rel
        schema = json.loads(entry.read_bytes())
        Draft7Validator.check_schema(schema)
        shipped[str(schema.get("$id", "")).rstrip("#")] = source
    assert set(EXTENSIONS.values()) <= set(shipped)
    assert "sar/v1.3.0" in EXTENSIONS["sar"] and "ml-aoi/v0.2.0" in EXTENSIONS["ml-aoi"]
    on_disk = {p.name for p in root.iterdir() if p.name.endswith(".json")}
    assert on_disk == {r for r in SCHEMA_SOURCES if "/" not in r}


def test_official_schema_rules_are_enforced():
    """Rules of the official schemas that the hand-written ones got wrong or missed."""
    from sarbd.export.stac import EXTENSIONS
    from sarbd.export.validate import _schema_errors

    def item(ext, **props):
        return {
            "type": "Feature",
            "stac_extensions": [EXTENSIONS[ext]],
            "assets": {},
            "links": [],
            "properties": props,
        }

    assert (
        _schema_errors(
            item(
                "sar",
                **{
                    "sar:instrument_mode": "IW",
                    "sar:frequency_band": "C",
                    "sar:polarizations": ["VV"],
                    "sar:product_type": "SLC",
                    "sar:center_frequency": 5.405,
                },
            ),
            EXTENSIONS["sar"],
        )
        == []
    )
    for bad in (
        {"sar:polarizations": ["VV", "VV"]},
        {"sar:looks_range": 1.5},
        {"sar:unknown": 1},
        {"sar:frequency_band": "Q"},
    ):
        assert _schema_errors(item("sar", **bad), EXTENSIONS["sar"]), bad
    assert _schema_errors(dict(item("sar"), stac_extensions=[]), EXTENSIONS["sar"])  # not declared
    # sat v1.2.0: declared means at least one sat: field
    assert _schema_errors(item("sat"), EXTENSIONS["sat"])
    assert (
        _schema_errors(
            item("sat", **{"sat:orbit_state": "descending", "sat:relative_orbit": 154}),
            EXTENSIONS["sat"],
        )
        == []
    )
    # ml-aoi v0.2.0: the split is train/validate/test
    assert _schema_errors(item("ml-aoi", **{"ml-aoi:split": "validation"}), EXTENSIONS["ml-aoi"])
    assert (
        _schema_errors(item("ml-aoi", **{"ml-aoi:split": "validate"}), EXTENSIONS["ml-aoi"]) == []
    )
    # label v1.0.1: raster labels have class lists without a property name; counts name strings
    label = {
        "label:properties": None,
        "label:type": "raster",
        "label:description": "x",
        "label:classes": [{"name": None, "classes": [1, 2]}],
        "label:overviews": [{"counts": [{"name": "1", "count": 3}]}],
    }
    assert _schema_errors(item("label", **label), EXTENSIONS["label"]) == []
    assert _schema_errors(
        item("label", **{**label, "label:classes": [{"name": "label", "classes": [1]}]}),
        EXTENSIONS["label"],
    )
    assert _schema_errors(
        item("label", **{**label, "label:overviews": [{"counts": [{"name": 1, "count": 3}]}]}),
        EXTENSIONS["label"],
    )
    proj = item("projection", **{"proj:code": None, "proj:shape": [10, 20]})
    assert _schema_errors(proj, EXTENSIONS["projection"]) == []
    proj["properties"]["proj:epsg"] = 4326  # removed in projection v2.0.0
    assert _schema_errors(proj, EXTENSIONS["projection"])


def test_an_edited_schema_or_an_unknown_extension_is_an_error(broken_copy, monkeypatch):
    from sarbd.errors import SarbdError
    from sarbd.export import validate

    folder = broken_copy()
    path = folder / "synthetic" / "synthetic-20220214" / "synthetic-20220214.json"
    stac = json.loads(path.read_text())
    stac["stac_extensions"].append("https://stac-extensions.github.io/sar/v9.9.9/schema.json")
    path.write_text(json.dumps(stac))
    errs = _errors(folder)
    assert any("no official schema shipped" in e.message and "v9.9.9" in e.message for e in errs)
    monkeypatch.setitem(validate.SCHEMA_SOURCES, "sar-v1.3.0.json", ("0" * 64, "edited"))
    validate._registry.cache_clear()
    try:
        with pytest.raises(SarbdError, match=r"sar-v1\.3\.0\.json: not one of the official"):
            validate._registry()
    finally:
        monkeypatch.undo()
        validate._registry.cache_clear()


def test_without_compliance_checker_the_own_cf_checks_still_run(dataset_folder, monkeypatch):
    import sys

    monkeypatch.setitem(
        sys.modules, "compliance_checker.runner", None
    )  # import fails as if not installed
    checks = [c for c in validate_dataset(dataset_folder) if c.category == "cf"]
    assert any("compliance-checker not installed" in c.message for c in checks)
    assert any(c.message.startswith("CF-1.10/ACDD-1.3 rules of sarbd hold") for c in checks)
    assert not [c for c in checks if c.status == "error"]


def test_layout_follows_the_selected_formats(tmp_path, dataset):
    import shutil

    from sarbd.export import write_dataset

    root = tmp_path / "ds"
    write_dataset(
        dataset,
        root,
        chip_sizes=(16,),
        stac={"collection_id": "default"},
        run_log={"config": {"outputs": {"formats": ["zarr", "stac"]}}},
    )
    assert (
        not (root / "dataset.nc").exists() and not (root / "cog").exists()
    )  # exports are not the default
    assert [
        c for c in validate_dataset(root, compliance_checker=False) if c.status == "error"
    ] == []
    shutil.rmtree(root / "dataset.zarr")
    errors = [c for c in validate_dataset(root, compliance_checker=False) if c.status == "error"]
    assert any(c.target == "dataset.zarr" and "output format zarr" in c.message for c in errors)
