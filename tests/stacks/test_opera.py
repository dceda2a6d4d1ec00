"""OPERA CSLC-S1 is geocoded: recognised and refused with the reason and the way forward."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sarbd.errors import InputError
from sarbd.stacks import detect_format, import_stack


def test_cslc_refused(tmp_path):
    path = tmp_path / "cslc.h5"  # the identification group of the CSLC-S1 product specification
    with h5py.File(path, "w") as f:
        f["identification/product_type"] = np.bytes_("CSLC-S1")
        f["data/VV"] = np.zeros((4, 4), np.complex64)
    assert detect_format(path) == "opera_cslc"
    with pytest.raises(InputError, match=r"cslc.h5.*geocoded.*not radar geometry.*SAFE"):
        import_stack(path)
