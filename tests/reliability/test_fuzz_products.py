"""Fuzz the XML readers (annotation, calibration, noise, manifest, EOF): only SarbdError may escape.

Base documents are the real ESA files of ../shared/data, trimmed to a few entries per
list so that one example parses in milliseconds; each base document must open
cleanly (checked first), so a mutation is what makes an example fail.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sarbd.products import open_product
from sarbd.products.orbit_file import read_eof
from sarbd.products.s1_annotation import parse_calibration, parse_noise
from sarbd.products.safe import SafeFiles
from sarbd.products.sentinel1 import _manifest_info
from tests.products.conftest import S1B_ZIP, TERCEIRA_EOF, TERCEIRA_XML
from tests.reliability.fuzzing import (
    long_run,
    mutate_xml,
    only_sarbd_errors,
    read_zip_member,
    short_run,
    trimmed_xml,
)

ANNOTATION_NAME = "s1a-iw3-slc-vv-fuzz.xml"


@functools.cache
def _bases(shared_data: Path) -> dict[str, bytes]:
    zip_path = shared_data / "s1_safe_metadata" / S1B_ZIP
    ann = trimmed_xml(
        (shared_data / "s1_terceira" / TERCEIRA_XML).read_bytes(),
        keep=4,
        keep_lists={"orbitList": 100, "burstList": 2},
    )
    eof = trimmed_xml((shared_data / "s1_terceira" / TERCEIRA_EOF).read_bytes(), keep=40)
    return {
        "annotation": ann,
        "eof": eof,
        "manifest": read_zip_member(zip_path, "manifest.safe"),
        "calibration": trimmed_xml(
            read_zip_member(
                zip_path,
                "calibration-s1b-iw1-slc-vv-20210401t052624-20210401t052649-026269-032297-004.xml",
            )
        ),
        "noise": trimmed_xml(
            read_zip_member(
                zip_path,
                "noise-s1b-iw1-slc-vv-20210401t052624-20210401t052649-026269-032297-004.xml",
            )
        ),
    }


@pytest.fixture(scope="module")
def bases(shared_data: Path) -> Path:
    """The shared data folder (the base documents themselves stay out of hypothesis's reports)."""
    _bases(shared_data)
    return shared_data


def _targets(folder: Path) -> dict[str, object]:
    def annotation(data: bytes) -> None:
        path = folder / ANNOTATION_NAME
        path.write_bytes(data)
        scene = open_product(path)
        assert scene.radar_grid.length > 0 and scene.radar_grid.width > 0

    def eof(data: bytes) -> None:
        path = (
            folder / "S1A_OPER_AUX_RESORB_OPOD_20220918T093241_V20220918T053155_20220918T084925.EOF"
        )
        path.write_bytes(data)
        read_eof(path)

    def manifest(data: bytes) -> None:
        (folder / "manifest.safe").write_bytes(data)
        _manifest_info(SafeFiles(folder, "fuzz", False, "", frozenset({"manifest.safe"})))

    return {
        "annotation": annotation,
        "eof": eof,
        "manifest": manifest,
        "calibration": lambda data: parse_calibration(data, "calibration-fuzz.xml"),
        "noise": lambda data: parse_noise(data, "noise-fuzz.xml"),
    }


NAMES = {
    "annotation": ANNOTATION_NAME,
    "eof": "AUX_RESORB",
    "manifest": "manifest.safe",
    "calibration": "calibration-fuzz.xml",
    "noise": "noise-fuzz.xml",
}
KINDS = list(NAMES)


def test_base_documents_open(bases, tmp_path):
    targets = _targets(tmp_path)
    for kind in KINDS:
        targets[kind](_bases(bases)[kind])  # type: ignore[operator]


def _run(bases, folder, kind, data):
    mutated = mutate_xml(_bases(bases)[kind], data.draw)
    target = _targets(folder)[kind]
    only_sarbd_errors(lambda: target(mutated), NAMES[kind])  # type: ignore[operator]


@pytest.mark.parametrize("kind", KINDS)
@short_run
@given(data=st.data())
def test_fuzz_xml_short(bases, tmp_path, kind, data):
    _run(bases, tmp_path, kind, data)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@long_run
@given(data=st.data())
def test_fuzz_xml_long(bases, tmp_path, kind, data):
    _run(bases, tmp_path, kind, data)
