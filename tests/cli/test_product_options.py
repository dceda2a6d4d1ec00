"""The product options shared by info, geocode and radarcode."""

from __future__ import annotations

from pathlib import Path

import pytest

from sarbd.cli.product_options import integer_pair, product_options
from sarbd.errors import InputError


def test_offset_is_two_integers():
    assert integer_pair("9799,10999", "--offset") == (9799, 10999)
    assert integer_pair(None, "--offset") is None
    for bad in ("a,b", "1", "1,2,3"):
        with pytest.raises(InputError, match="--offset must be two integers"):
            integer_pair(bad, "--offset")


def test_options_become_open_product_arguments():
    kw = product_options("IW1", Path("m.tiff"), "1,2", Path("o.EOF"), "A")
    assert kw == {
        "swath": "IW1",
        "measurement": Path("m.tiff"),
        "offset": (1, 2),
        "orbit": Path("o.EOF"),
        "frequency": "A",
    }
