"""SNAP BEAM-DIMAP coregistered stacks: write a simulated stack as SNAP does, read it back.

The ``.dim`` follows SNAP's DIMAP writer (``Dataset_Sources/MDElem metadata/Abstracted_Metadata``
attribute names of ``AbstractMetadata.java``, ``Orbit_State_Vectors/orbit_vector<k>``,
``Slave_Metadata``) and ENVI headers (big-endian float32 i/q bands, as SNAP writes them).
"""

from __future__ import annotations

import pytest

from sarbd.errors import InputError, ProductError
from sarbd.stacks import detect_format, open_stack
from sarbd.stacks.snap import read_envi_header

from .roundtrip import check_stack
from .writers import write_snap


@pytest.mark.parametrize("roles", [("mst", "slv"), ("ref", "sec")])
def test_round_trip(sim_stack, tmp_path, roles):
    dim = write_snap(sim_stack, tmp_path, roles=roles)
    assert detect_format(dim) == "snap"
    stack = open_stack(dim)
    assert stack.processor == "snap" and stack.reference.polarizations == ("VH", "VV")
    check_stack(stack, sim_stack)
    assert open_stack(dim.with_suffix(".data")).reference.radar_grid == stack.reference.radar_grid


def test_envi_header(sim_stack, tmp_path):
    write_snap(sim_stack, tmp_path)
    hdr = next((tmp_path / "stack.data").glob("i_VV_mst_*.hdr"))
    h = read_envi_header(hdr)
    assert (h["samples"], h["lines"], h["data type"], h["byte order"]) == ("64", "48", "4", "1")


def test_errors_name_the_file(sim_stack, tmp_path):
    dim = write_snap(sim_stack, tmp_path)
    q = next((tmp_path / "stack.data").glob("q_VH_slv2_*.img"))
    q.write_bytes(q.read_bytes()[:100])
    with pytest.raises(ProductError, match=r"q_VH_slv2.*truncated"):
        open_stack(dim)
    q.unlink()
    with pytest.raises(InputError, match=r"stack.dim.*q_VH_slv2"):
        open_stack(dim)
    text = dim.read_text()
    dim.write_text(text.replace('name="slant_range_to_first_pixel"', 'name="slant_range"'))
    with pytest.raises(ProductError, match=r"stack.dim.*slant_range_to_first_pixel"):
        open_stack(dim)
    dim.write_text(text.replace("Abstracted_Metadata", "Other"))
    with pytest.raises(ProductError, match=r"stack.dim.*Abstracted_Metadata"):
        open_stack(dim)
    dim.write_text(text[: len(text) // 2])
    with pytest.raises(ProductError, match=r"stack.dim.*not a valid XML"):
        open_stack(dim)
