"""Fixtures for the product readers: paths to the real Sentinel-1 and NISAR test data."""

from __future__ import annotations

from pathlib import Path

import pytest

TERCEIRA_XML = "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml"
TERCEIRA_TIFF = "s1a-iw3-slc-vv_subset_hight9800_10400_width11000_11000.tiff"
TERCEIRA_EOF = "S1A_OPER_AUX_RESORB_OPOD_20220918T093241_V20220918T053155_20220918T084925.EOF"
TERCEIRA_OFFSET = (9799, 10999)
S1B_ZIP = "S1B_IW_SLC__1SDV_20210401T052622_20210401T052650_026269_032297_EFA4.SAFE.zip"


@pytest.fixture(scope="session")
def terceira(shared_data: Path) -> Path:
    return shared_data / "s1_terceira"


@pytest.fixture(scope="session")
def s1b_zip(shared_data: Path) -> Path:
    return shared_data / "s1_safe_metadata" / S1B_ZIP


@pytest.fixture(scope="session")
def nisar_dir(shared_data: Path) -> Path:
    return shared_data / "uavsar_nisar"


@pytest.fixture(scope="session")
def terceira_scene(terceira: Path):
    from sarbd.products import open_product

    return open_product(
        terceira / TERCEIRA_XML, measurement=terceira / TERCEIRA_TIFF, offset=TERCEIRA_OFFSET
    )


@pytest.fixture(scope="session")
def s1b_scenes(s1b_zip: Path):
    from sarbd.products import open_safe

    return open_safe(s1b_zip)


#: Real ASAR IMS header + annotation (no MDS1): pyroSAR ``tests/data/`` at e16d63b (MIT), Rome
#: 2004-07-03, DORIS-precise orbit; with two ERS headers in ``tests/data/envisat/`` (SOURCES.md).
ASAR_IMS_REAL = "ASA_IMS_1PNESA20040703_205338_000000182028_00172_12250_00001672562030318361237.N1"
ENVISAT_SAMPLES = Path(__file__).resolve().parents[1] / "data" / "envisat"


@pytest.fixture(scope="session")
def asar_ims_real() -> Path:
    path = ENVISAT_SAMPLES / ASAR_IMS_REAL
    assert path.is_file(), f"{path} is part of the repository (tests/data/envisat/SOURCES.md)"
    return path
