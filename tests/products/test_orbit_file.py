"""ESA orbit files: reading and choosing the one that covers an acquisition."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sarbd.errors import OrbitError
from sarbd.products.orbit_file import find_orbit_file, orbit_file_info, read_eof
from tests.products.conftest import TERCEIRA_EOF, TERCEIRA_OFFSET, TERCEIRA_TIFF, TERCEIRA_XML

START, STOP = np.datetime64("2022-09-18T07:49:21"), np.datetime64("2022-09-18T07:49:47")


def test_read_eof(terceira):
    orbit = read_eof(terceira / TERCEIRA_EOF)
    assert orbit.source == "RESORB" and len(orbit) == 1186
    assert orbit.times[0] == np.datetime64("2022-09-18T05:31:55.470319")
    np.testing.assert_array_equal(
        orbit.positions[0], [-7017370.359270, -913614.605891, -40855.463295]
    )
    np.testing.assert_array_equal(orbit.velocities[0], [-238.237193, 1566.344102, 7430.427935])
    # Hermite interpolation of a state vector reproduces it
    t = orbit.time[500]
    np.testing.assert_allclose(orbit.position(t), orbit.positions[500], atol=1e-6)
    info = orbit_file_info(terceira / TERCEIRA_EOF)
    assert info is not None and info.kind == "RESORB" and info.mission == "S1A"


def _poeorb_copy(src, folder, name):
    text = src.read_text().replace("AUX_RESORB", "AUX_POEORB")
    (folder / name).write_text(text)
    return folder / name


def test_find_prefers_poeorb_and_coverage(terceira, tmp_path):
    res = shutil.copy(terceira / TERCEIRA_EOF, tmp_path / TERCEIRA_EOF)
    assert find_orbit_file(tmp_path, START, STOP, "S1A") == res
    poe = _poeorb_copy(
        terceira / TERCEIRA_EOF,
        tmp_path,
        "S1A_OPER_AUX_POEORB_OPOD_20221008T081723_V20220917T225942_20220919T005942.EOF",
    )
    _poeorb_copy(
        terceira / TERCEIRA_EOF,
        tmp_path,  # does not cover
        "S1A_OPER_AUX_POEORB_OPOD_20221009T081723_V20220918T225942_20220920T005942.EOF",
    )
    _poeorb_copy(
        terceira / TERCEIRA_EOF,
        tmp_path,  # wrong mission
        "S1B_OPER_AUX_POEORB_OPOD_20221010T081723_V20220917T225942_20220919T005942.EOF",
    )
    assert find_orbit_file(tmp_path, START, STOP, "S1A") == poe
    assert read_eof(poe).source == "POEORB"
    with pytest.raises(OrbitError, match="no S1C orbit file"):
        find_orbit_file(tmp_path, START, STOP, "S1C")


def test_open_product_with_orbit_folder(terceira, tmp_path):
    from sarbd.products import open_product

    shutil.copy(terceira / TERCEIRA_EOF, tmp_path / TERCEIRA_EOF)
    s = open_product(
        terceira / TERCEIRA_XML,
        measurement=terceira / TERCEIRA_TIFF,
        offset=TERCEIRA_OFFSET,
        orbit=tmp_path,
    )
    assert s.orbit.source == "RESORB"
    assert s.orbit.covers(s.product.start_time, s.product.stop_time)
    assert len(s.orbit) < 40  # cropped around the acquisition
