"""Each failure class of issue 15, one test per example: a one-line SarbdError naming the file."""

from __future__ import annotations

import errno
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from sarbd.errors import ConfigError, InputError, OutputError, ProductError
from sarbd.pipeline.config import load_config
from sarbd.pipeline.input_files import check_chip_sizes, check_inputs, read_vector
from sarbd.pipeline.lock import build_lock
from sarbd.products import open_product
from sarbd.products.orbit_file import read_eof
from sarbd.utils.files import MARKER, atomic_output
from tests.products.conftest import S1B_ZIP, TERCEIRA_EOF, TERCEIRA_XML


def _one_line(exc: pytest.ExceptionInfo, *names: str) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    for name in names:
        assert name in text, text
    return text


# -- numbers in the XML readers -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("element", "value", "expect"),
    [
        ("numberOfLines", "nan", "not a finite number"),
        ("numberOfLines", "1e400", "not a finite number"),
        ("numberOfSamples", "1.5", "not an integer"),
        ("numberOfSamples", "-4", "must be >= 1"),
        ("absoluteOrbitNumber", "99999999999999999999999", "out of range"),
        ("radarFrequency", "inf", "not a finite number"),
        ("azimuthTimeInterval", "0", "must be positive"),
        ("burstId", "abc", "not a number"),
        ("byteOffset", "nan", "not a finite number"),
    ],
)
def test_bad_annotation_numbers(terceira, tmp_path, element, value, expect):
    data = (terceira / TERCEIRA_XML).read_bytes()
    tag = element.encode()
    start = data.index(b"<" + tag)
    start = data.index(b">", start) + 1  # after the tag and its attributes (burstId has one)
    end = data.index(b"</" + tag + b">", start)
    bad = tmp_path / TERCEIRA_XML
    bad.write_bytes(data[:start] + value.encode() + data[end:])
    with pytest.raises(ProductError) as exc:
        open_product(bad)
    _one_line(exc, TERCEIRA_XML, element, expect)


def test_bad_number_in_a_list(terceira, tmp_path):
    data = (terceira / TERCEIRA_XML).read_bytes()
    start = data.index(b"<firstValidSample")
    start = data.index(b">", start) + 1
    bad = tmp_path / TERCEIRA_XML
    bad.write_bytes(data[:start] + b"nan " + data[start:])
    with pytest.raises(ProductError) as exc:
        open_product(bad)
    _one_line(exc, TERCEIRA_XML, "firstValidSample")


@pytest.mark.parametrize("value", ["abc", "nan", "1e400", "0", "176"])
def test_garbled_relative_orbit_in_the_manifest(shared_data, tmp_path, value):
    src = shared_data / "s1_safe_metadata" / S1B_ZIP
    bad = tmp_path / S1B_ZIP
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as b:
        for info in a.infolist():
            data = a.read(info.filename)
            if info.filename.endswith("manifest.safe"):
                start = data.index(b'<safe:relativeOrbitNumber type="start">') + 39
                end = data.index(b"</safe:relativeOrbitNumber>", start)
                data = data[:start] + value.encode() + data[end:]
            b.writestr(info, data)
    with pytest.raises(ProductError) as exc:
        open_product(bad, swath="IW1")
    _one_line(exc, "manifest.safe", "relativeOrbitNumber")


@pytest.mark.parametrize("value", [b"nan", b"1e400", b"x"])
def test_bad_orbit_file_numbers(terceira, tmp_path, value):
    data = (terceira / TERCEIRA_EOF).read_bytes()
    start = data.index(b'<X unit="m">') + len(b'<X unit="m">')
    end = data.index(b"</X>", start)
    bad = tmp_path / TERCEIRA_EOF
    bad.write_bytes(data[:start] + value + data[end:])
    with pytest.raises(ProductError) as exc:
        read_eof(bad)
    _one_line(exc, TERCEIRA_EOF, "OSV/X")


# -- files opened by the build configuration -------------------------------------------------------
def _config(folder: Path, text: str) -> Path:
    path = folder / "build.yaml"
    path.write_text(text)
    return path


def test_binary_config_is_refused(tmp_path):
    path = tmp_path / "build.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe garbage")
    with pytest.raises(ConfigError, match="not a text file") as exc:
        load_config(path)
    _one_line(exc, "build.yaml")


def test_duplicate_yaml_key_names_both_lines(tmp_path):
    path = _config(tmp_path, "inputs:\n  products: [a.SAFE]\n  swath: IW1\n  swath: IW2\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    _one_line(exc, "build.yaml", "line 4", "duplicate key 'swath'", "line 3")
    # a YAML merge key may be overridden on purpose: not a duplicate
    ok = _config(
        tmp_path, "base: &b {swath: IW1}\ninputs:\n  <<: *b\n  products: [a.SAFE]\n  swath: IW2\n"
    )
    with pytest.raises(ConfigError, match="unknown key 'base'"):
        load_config(ok)


def _gpkg(path: Path, layer: str = "buildings") -> Path:
    import geopandas as gpd
    import shapely

    gpd.GeoDataFrame(
        {"kind": ["a"]}, geometry=[shapely.box(6.5, 53.1, 6.6, 53.2)], crs="EPSG:4326"
    ).to_file(path, layer=layer, driver="GPKG")
    return path


def _build_config(folder: Path, products: list[str], extra: str = "") -> Path:
    for p in products:
        (folder / p).mkdir(exist_ok=True)
    return _config(folder, f"inputs:\n  products: [{', '.join(products)}]\n{extra}")


def test_same_product_twice_is_refused(tmp_path):
    cfg = load_config(_build_config(tmp_path, ["a.SAFE", "b.SAFE"]))
    check_inputs(cfg)  # distinct products pass
    (tmp_path / "link.SAFE").symlink_to(tmp_path / "a.SAFE")
    for products in (
        ["a.SAFE", "b.SAFE", "a.SAFE"],
        ["a.SAFE", "./a.SAFE"],
        ["a.SAFE", "link.SAFE"],
    ):
        cfg = load_config(_config(tmp_path, f"inputs:\n  products: [{', '.join(products)}]\n"))
        with pytest.raises(ConfigError, match="same product twice") as exc:
            check_inputs(cfg)
        _one_line(exc, "a.SAFE", "entries")  # symlinks are resolved: link.SAFE is a.SAFE


def test_missing_aoi_polygon_file(tmp_path):
    cfg = load_config(_build_config(tmp_path, ["a.SAFE"], "aoi:\n  polygon: nowhere.gpkg\n"))
    with pytest.raises(InputError, match="AOI polygon file not found") as exc:
        check_inputs(cfg)
    _one_line(exc, "nowhere.gpkg", "aoi.polygon")


def test_truncated_geopackage_and_missing_layer(tmp_path):
    gpkg = _gpkg(tmp_path / "reference.gpkg")
    extra = "  reference:\n    - path: reference.gpkg\n      layer: {layer}\n      class_name: building\n"
    check_inputs(load_config(_build_config(tmp_path, ["a.SAFE"], extra.format(layer="buildings"))))
    cfg = load_config(_build_config(tmp_path, ["a.SAFE"], extra.format(layer="roads")))
    with pytest.raises(InputError, match="layer 'roads' is not in the file") as exc:
        check_inputs(cfg)
    _one_line(exc, "reference.gpkg", "buildings")
    data = gpkg.read_bytes()
    gpkg.write_bytes(data[: len(data) // 3])  # truncated
    cfg = load_config(_build_config(tmp_path, ["a.SAFE"], extra.format(layer="buildings")))
    with pytest.raises(InputError, match="cannot read") as exc:
        check_inputs(cfg)
    _one_line(exc, "reference.gpkg")
    with pytest.raises(InputError, match="cannot read") as exc:
        read_vector(gpkg, "buildings")
    _one_line(exc, "reference.gpkg")


def test_chips_larger_than_the_scene(tmp_path):
    cfg = load_config(_build_config(tmp_path, ["a.SAFE"], "chips:\n  sizes: [32, 256]\n"))
    check_chip_sizes(cfg, (300, 400))
    with pytest.raises(ConfigError, match=r"chips\.sizes 256 px is larger than the scene") as exc:
        check_chip_sizes(cfg, (120, 400))
    _one_line(exc, "120 x 400")


# -- outputs: never remove or replace what sarbd did not create ------------------------------------
def test_a_file_output_never_replaces_a_folder(tmp_path):
    folder = tmp_path / "existing_folder.nc"
    folder.mkdir()
    (folder / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputError, match="is a folder") as exc, atomic_output(folder) as tmp:
        tmp.write_text("netcdf")
    _one_line(exc, "existing_folder.nc")
    assert (folder / "thesis.docx").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing_folder.nc"]


def test_a_folder_output_replaces_only_a_folder_sarbd_wrote(tmp_path):
    target = tmp_path / "stack.zarr"
    target.mkdir()
    (target / "mine.txt").write_text("user data")
    with (
        pytest.raises(OutputError, match="did not write"),
        atomic_output(target, directory=True) as tmp,
    ):
        (tmp / "a").write_text("x")
    assert (target / "mine.txt").read_text() == "user data"
    shutil.rmtree(target)
    for content in ("one", "two"):  # sarbd's own folder (with its marker) is replaced
        with atomic_output(target, directory=True) as tmp:
            (tmp / "a").write_text(content)
        assert (target / "a").read_text() == content and (target / MARKER).is_file()
    file_target = tmp_path / "x.zarr"
    file_target.write_text("a file")
    with (
        pytest.raises(OutputError, match="not a folder"),
        atomic_output(file_target, directory=True),
    ):
        pass
    assert file_target.read_text() == "a file"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EDQUOT])
def test_disk_full_while_writing_keeps_the_previous_output(tmp_path, code):
    target = tmp_path / "out.json"
    target.write_text(json.dumps({"previous": True}))
    with (
        pytest.raises(OutputError, match="cannot write the output") as exc,
        atomic_output(target) as tmp,
    ):
        tmp.write_text("half")
        raise OSError(code, "simulated", str(tmp))
    _one_line(exc, "previous output is unchanged")
    assert json.loads(target.read_text()) == {"previous": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_geocode_into_an_existing_folder_is_an_error(terceira, tmp_path, capsys):
    from sarbd.cli.app import main

    folder = tmp_path / "existing_folder.nc"
    folder.mkdir()
    (folder / "keep.txt").write_text("user file")
    status = main(["geocode", str(terceira / TERCEIRA_XML), "--out", str(folder)])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "existing_folder.nc" in err and "folder" in err
    assert (folder / "keep.txt").read_text() == "user file" and len(list(folder.iterdir())) == 1


def test_build_refuses_a_foreign_output_folder(tmp_path):
    from sarbd.pipeline.build import _dataset_folder

    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("x")
    with pytest.raises(OutputError, match="not a sarbd dataset folder") as exc:
        _dataset_folder(out)
    _one_line(exc, "mine")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    fresh = _dataset_folder(tmp_path / "new")
    assert (fresh / MARKER).is_file() and _dataset_folder(fresh) == fresh


def test_second_lock_holder_is_refused(tmp_path):
    with build_lock(tmp_path):
        with pytest.raises(OutputError, match="another sarbd build") as exc, build_lock(tmp_path):
            pass
        _one_line(exc, "pid")
    with build_lock(tmp_path):  # released on exit
        pass


def test_claim_folder_accepts_only_sarbd_folders(tmp_path):
    from sarbd.utils.files import claim_folder

    old_demo = tmp_path / "old-demo"
    old_demo.mkdir()
    (old_demo / "demo_summary.json").write_text("{}")  # left by an earlier sarbd version
    assert claim_folder(old_demo, accept=("demo_summary.json",)) == old_demo
    assert (old_demo / MARKER).is_file()
    user = tmp_path / "user"
    user.mkdir()
    (user / "data.csv").write_text("1,2")
    with pytest.raises(OutputError, match="not a sarbd demo folder"):
        claim_folder(user, accept=("demo_summary.json",), what="demo folder")
    assert sorted(p.name for p in user.iterdir()) == ["data.csv"]
