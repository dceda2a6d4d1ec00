"""ISCE2 topsStack stacks: write a simulated stack as stackSentinel.py does, read it back.

Product XML (``reference/IW1.xml``: ``bursts/burst<k>`` properties and ``orbit/state_vectors``),
merged SLCs with GDAL VRT (reference) and ISCE image XML (secondaries) headers, after ISCE2's
``contrib/stack/topsStack`` layout and ``components/isceobj`` XML dumps.
"""

from __future__ import annotations

import pytest

from sarbd.errors import InputError, ProductError
from sarbd.stacks import detect_format, open_stack

from .roundtrip import check_stack
from .writers import write_isce2


def test_round_trip(sim_stack, tmp_path):
    sim = sim_stack
    only_vv = type(sim)(sim.grid, sim.orbits, sim.starts, {"VV": sim.slc["VV"]}, sim.phase)
    folder = write_isce2(only_vv, tmp_path / "stack")
    assert detect_format(folder) == "isce2"
    stack = open_stack(folder)
    assert stack.processor == "isce2"
    check_stack(stack, only_vv)


def test_errors_name_the_file(sim_stack, tmp_path):
    folder = write_isce2(sim_stack, tmp_path / "stack")
    xml = folder / "reference" / "IW1.xml"
    text = xml.read_text()
    xml.write_text(text.replace('name="startingrange"', 'name="startrange"', 1))
    with pytest.raises(ProductError, match=r"IW1.xml.*burst1.*startingrange"):
        open_stack(folder)
    xml.write_text(text)
    day = sim_stack.days[1]
    hdr = folder / "merged" / "SLC" / day / f"{day}.slc.full.xml"
    hdr.write_text(hdr.read_text().replace("CFLOAT", "FLOAT"))
    with pytest.raises(ProductError, match=rf"{day}.slc.full.xml.*not complex"):
        open_stack(folder)
    hdr.unlink()
    with pytest.raises(InputError, match=rf"{day}.slc.full.*neither a .vrt nor an .xml"):
        open_stack(folder)


def test_stripmap_stack_refused(tmp_path):
    (tmp_path / "merged" / "SLC").mkdir(parents=True)
    (tmp_path / "referenceShelve").mkdir()
    with pytest.raises(InputError, match="shelve"):
        open_stack(tmp_path)
