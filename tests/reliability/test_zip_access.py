"""The zip access layer: CRC-32 checked on what is read, unsafe names refused, partial AOI reads."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sarbd.errors import ProductError
from sarbd.products import open_product
from sarbd.products.safe import open_safe_files
from sarbd.products.sources import read_tiff_window
from tests.products.conftest import S1B_ZIP

MEASUREMENT = "measurement/s1b-iw1-slc-vv-20210401t052624-20210401t052649-026269-032297-004.tiff"
ANNOTATION = "annotation/s1b-iw1-slc-vv-20210401t052624-20210401t052649-026269-032297-004.xml"


def _rezip(
    src: Path,
    dst: Path,
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    replace: dict[str, bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", compression) as b:
        for info in a.infolist():
            data = a.read(info.filename)
            for suffix, new in (replace or {}).items():
                if info.filename.endswith(suffix):
                    data = new
            b.writestr(info.filename, data, compress_type=compression)
        for name, data in (extra or {}).items():
            b.writestr(name, data)
    return dst


def _flip_member_byte(zip_path: Path, member_suffix: str, fraction: float = 0.5) -> None:
    """Flip one byte inside a member's stored/compressed data, leaving the zip structure valid."""
    with zipfile.ZipFile(zip_path) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(member_suffix))
    with open(zip_path, "r+b") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        name_len = int.from_bytes(header[26:28], "little")
        extra_len = int.from_bytes(header[28:30], "little")
        pos = info.header_offset + 30 + name_len + extra_len + int(info.compress_size * fraction)
        f.seek(pos)
        byte = f.read(1)
        f.seek(pos)
        f.write(bytes([byte[0] ^ 0x5A]))


@pytest.fixture
def s1b(shared_data: Path) -> Path:
    return shared_data / "s1_safe_metadata" / S1B_ZIP


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_corrupt_measurement_member_is_an_error_naming_it(s1b, tmp_path, compression):
    bad = _rezip(s1b, tmp_path / S1B_ZIP, compression=compression)
    good = open_product(bad, swath="IW1")  # the intact copy opens
    assert good.radar_grid.width == 21632
    _flip_member_byte(bad, MEASUREMENT)
    with pytest.raises(ProductError) as exc:
        open_product(bad, swath="IW1")
    text = str(exc.value)
    assert "\n" not in text and MEASUREMENT in text and "damaged" in text
    if compression == zipfile.ZIP_STORED:
        # stored bytes decode as a valid TIFF: only the CRC-32 can tell
        assert "CRC-32 does not match" in text


def test_corrupt_annotation_member_is_an_error(s1b, tmp_path):
    bad = _rezip(s1b, tmp_path / S1B_ZIP, compression=zipfile.ZIP_STORED)
    _flip_member_byte(bad, ANNOTATION, fraction=0.3)
    with pytest.raises(ProductError, match="CRC-32 does not match") as exc:
        open_product(bad, swath="IW1")
    assert ANNOTATION in str(exc.value)


@pytest.mark.parametrize(
    "name", ["../evil.xml", "/etc/evil.xml", "a/../../evil.xml", "C:/evil.xml"]
)
def test_unsafe_member_names_are_refused(s1b, tmp_path, name):
    bad = _rezip(s1b, tmp_path / S1B_ZIP, extra={name: b"<x/>"})
    with pytest.raises(ProductError, match="leaves the archive") as exc:
        open_product(bad, swath="IW1")
    assert name in str(exc.value)


def test_tiff_decoding_error_names_the_member(s1b, tmp_path):
    # a member whose CRC is right but whose bytes are not a TIFF: GDAL's error names the member
    broken = _rezip(s1b, tmp_path / S1B_ZIP, replace={MEASUREMENT: b"II*\x00" + b"\x00" * 64})
    with pytest.raises(ProductError) as exc:
        open_product(broken, swath="IW1")
    assert MEASUREMENT.rsplit("/", 1)[-1] in str(exc.value) and "\n" not in str(exc.value)


def _rchar() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar"))


@pytest.mark.skipif(
    not os.path.exists("/proc/self/io"), reason="needs Linux /proc/self/io to count bytes read"
)
def test_aoi_window_reads_only_its_strips_from_a_stored_zip_member(tmp_path):
    """A 10-line window of a 2000-line member stored in a zip reads its strips, not the member."""
    import rasterio

    lines, width = 2000, 1000
    data = (np.random.default_rng(0).integers(-500, 500, (lines, width)) * (1 + 1j)).astype(
        np.complex64
    )
    tiff = tmp_path / "m.tiff"
    with rasterio.open(
        tiff,
        "w",
        driver="GTiff",
        width=width,
        height=lines,
        count=1,
        dtype="complex_int16",
        blockysize=1,
    ) as ds:  # one strip per line, as ESA writes them
        ds.write(data, 1)
    member_size = tiff.stat().st_size  # 8 MB
    zpath = tmp_path / "x.SAFE.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_STORED) as zf:
        zf.write(tiff, "x.SAFE/measurement/m.tiff")
        zf.writestr("x.SAFE/annotation/placeholder.xml", b"<x/>")
    safe = open_safe_files(zpath)
    safe.verify_member("measurement/m.tiff")  # the once-per-file CRC pass reads it all, once
    path = safe.raster_path("measurement/m.tiff")
    read_tiff_window(
        path, (0, 1), (0, 16)
    )  # GDAL's own start-up reads (drivers, proj.db) happen once
    before = _rchar()
    window = read_tiff_window(path, (1500, 1510), (200, 300))
    read = _rchar() - before
    np.testing.assert_array_equal(window, data[1500:1510, 200:300])
    window_bytes = 10 * width * 4
    assert read < 0.05 * member_size, (read, member_size)  # 10 of 2000 strips (+ headers), not 8 MB
    assert read >= window_bytes


def test_verify_zip_false_skips_the_crc_pass_over_measurements(s1b, tmp_path):
    """``verify_zip=False`` (AOI builds) reads no measurement member whole: a damaged stored
    member opens (its strips are unchecked), while annotation members are still checked."""
    bad = _rezip(s1b, tmp_path / S1B_ZIP, compression=zipfile.ZIP_STORED)
    _flip_member_byte(bad, MEASUREMENT)
    with pytest.raises(ProductError, match="CRC-32 does not match"):
        open_product(bad, swath="IW1", polarizations="VV")
    scene = open_product(bad, swath="IW1", polarizations="VV", verify_zip=False)
    assert scene.radar_grid.width == 21632
    _flip_member_byte(bad, ANNOTATION, fraction=0.3)
    with pytest.raises(ProductError, match="CRC-32 does not match"):
        open_product(bad, swath="IW1", polarizations="VV", verify_zip=False)


@pytest.mark.parametrize(
    ("verify", "aoi", "checked"),
    [
        ("auto", None, True),
        ("auto", [0, 0, 100, 100], False),
        ("always", [0, 0, 100, 100], True),
        ("never", None, False),
    ],
)
def test_build_checks_measurement_crc_unless_an_aoi_build(s1b, tmp_path, verify, aoi, checked):
    """``inputs.verify_zip``: ``auto`` streams the measurement members (CRC-32) of a
    whole-swath build and skips them for an AOI build, which reads only its strips."""
    from sarbd.pipeline.build import _open_entry
    from sarbd.pipeline.config import BuildConfig

    bad = _rezip(s1b, tmp_path / S1B_ZIP, compression=zipfile.ZIP_STORED)
    _flip_member_byte(bad, MEASUREMENT)
    config = BuildConfig.model_validate(
        {
            "inputs": {
                "products": [str(bad)],
                "swath": "IW1",
                "polarizations": ["VV"],
                "verify_zip": verify,
            },
            "outputs": {"directory": str(tmp_path / "out")},
            "aoi": {"window": aoi},
        }
    )
    if checked:
        with pytest.raises(ProductError, match="CRC-32 does not match"):
            _open_entry(bad, config)
    else:
        assert _open_entry(bad, config).radar_grid.width == 21632
