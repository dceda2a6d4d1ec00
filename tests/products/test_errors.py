"""Bad input gives one clear error line that names the file."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products import open_product
from tests.products.conftest import TERCEIRA_EOF, TERCEIRA_OFFSET, TERCEIRA_TIFF, TERCEIRA_XML


def _one_line(exc, name):
    text = str(exc.value)
    assert "\n" not in text and name in text, text


def test_truncated_xml(terceira, tmp_path):
    bad = tmp_path / TERCEIRA_XML
    data = (terceira / TERCEIRA_XML).read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProductError, match="truncated or corrupt") as exc:
        open_product(bad)
    _one_line(exc, TERCEIRA_XML)


def test_corrupt_xml(terceira, tmp_path):
    bad = tmp_path / TERCEIRA_XML
    bad.write_bytes(
        (terceira / TERCEIRA_XML).read_bytes().replace(b"</adsHeader>", b"</adsHeadr>", 1)
    )
    with pytest.raises(ProductError) as exc:
        open_product(bad)
    _one_line(exc, TERCEIRA_XML)
    # well-formed XML that is not an annotation
    other = tmp_path / "other.xml"
    other.write_text("<root><a>1</a></root>")
    with pytest.raises(ProductError, match="not a Sentinel-1 product annotation") as exc:
        open_product(other)
    _one_line(exc, "other.xml")
    # an element that is missing
    gone = tmp_path / "gone.xml"
    gone.write_bytes(
        (terceira / TERCEIRA_XML)
        .read_bytes()
        .replace(b"<azimuthTimeInterval>", b"<x>", 1)
        .replace(b"</azimuthTimeInterval>", b"</x>", 1)
    )
    with pytest.raises(ProductError, match="azimuthTimeInterval") as exc:
        open_product(gone)
    _one_line(exc, "gone.xml")


def test_missing_measurement(terceira, tmp_path):
    with pytest.raises(InputError, match="not found") as exc:
        open_product(
            terceira / TERCEIRA_XML, measurement=tmp_path / "nope.tiff", offset=TERCEIRA_OFFSET
        )
    _one_line(exc, "nope.tiff")
    # a truncated TIFF
    bad = tmp_path / TERCEIRA_TIFF
    bad.write_bytes((terceira / TERCEIRA_TIFF).read_bytes()[:1000])
    with pytest.raises(ProductError) as exc:
        open_product(terceira / TERCEIRA_XML, measurement=bad, offset=TERCEIRA_OFFSET)
    _one_line(exc, TERCEIRA_TIFF)
    # a crop without its offset
    with pytest.raises(InputError, match="offset") as exc:
        open_product(terceira / TERCEIRA_XML, measurement=terceira / TERCEIRA_TIFF)
    _one_line(exc, TERCEIRA_TIFF)


def test_missing_measurement_in_safe(s1b_zip, tmp_path):
    import zipfile

    bad = tmp_path / s1b_zip.name
    with zipfile.ZipFile(s1b_zip) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            if "measurement/s1b-iw2" not in item.filename:
                dst.writestr(item, src.read(item.filename))
    with pytest.raises(ProductError, match=r"s1b-iw2-slc-vh.*missing") as exc:
        open_product(bad, swath="IW2")
    _one_line(exc, s1b_zip.name)


def test_polarisation_not_there(terceira_scene, terceira):
    with pytest.raises(InputError, match="VH") as exc:
        open_product(
            terceira / TERCEIRA_XML,
            measurement=terceira / TERCEIRA_TIFF,
            offset=TERCEIRA_OFFSET,
            polarizations="VH",
        )
    _one_line(exc, TERCEIRA_XML)
    with pytest.raises(InputError, match="HH") as exc:
        terceira_scene.slc("HH")


def test_folder_where_a_file_is_expected(terceira, tmp_path):
    with pytest.raises(InputError, match="folder") as exc:
        open_product(terceira / TERCEIRA_XML, measurement=tmp_path, offset=TERCEIRA_OFFSET)
    _one_line(exc, str(tmp_path))
    with pytest.raises(ProductError, match="not a Sentinel-1 SAFE") as exc:
        open_product(tmp_path)
    _one_line(exc, str(tmp_path))
    from sarbd.products.orbit_file import read_eof

    with pytest.raises(InputError, match="folder"):
        read_eof(tmp_path)


def test_crop_outside_or_across_bursts(terceira):
    with pytest.raises(InputError, match="span bursts 5 and 6"):
        open_product(
            terceira / TERCEIRA_XML, measurement=terceira / TERCEIRA_TIFF, offset=(9000, 10999)
        )
    with pytest.raises(InputError, match="not inside"):
        open_product(
            terceira / TERCEIRA_XML, measurement=terceira / TERCEIRA_TIFF, offset=(9799, 23000)
        )


def test_orbit_file_not_covering(terceira, tmp_path):
    shifted = tmp_path / TERCEIRA_EOF.replace(
        "20220918T053155_20220918T084925", "20220917T053155_20220917T084925"
    )
    shifted.write_text(
        (terceira / TERCEIRA_EOF).read_text().replace("UTC=2022-09-18", "UTC=2022-09-17")
    )
    with pytest.raises(OrbitError, match="does not cover") as exc:
        open_product(
            terceira / TERCEIRA_XML,
            measurement=terceira / TERCEIRA_TIFF,
            offset=TERCEIRA_OFFSET,
            orbit=shifted,
        )
    _one_line(exc, shifted.name)
    # in a folder, the non-covering file is not picked
    folder = tmp_path / "orbits"
    folder.mkdir()
    shutil.move(shifted, folder / shifted.name)
    with pytest.raises(OrbitError, match="no S1A orbit file covers") as exc:
        open_product(terceira / TERCEIRA_XML, orbit=folder)
    _one_line(exc, "orbits")
    assert np.datetime64("2022-09-18") > np.datetime64("2022-09-17")


def test_cli_prints_one_line(terceira, tmp_path, capsys):
    from sarbd.cli.app import main

    bad = tmp_path / TERCEIRA_XML
    bad.write_bytes((terceira / TERCEIRA_XML).read_bytes()[:5000])
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and TERCEIRA_XML in err and "truncated" in err
