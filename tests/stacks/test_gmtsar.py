"""GMTSAR aligned stacks: write a simulated stack as GMTSAR does (PRM, int16 SLC, LED), read it back.

PRM keys and the LED layout follow GMTSAR's ``PRM.c`` / ``make_s1a_tops`` / ``ext_orb_s1a``
(Sandwell et al. 2011; github.com/gmtsar/gmtsar).
"""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.stacks import detect_format, open_stack
from sarbd.stacks.gmtsar import prm_start_time

from .roundtrip import check_stack
from .writers import write_gmtsar


def test_round_trip(sim_stack_int16, tmp_path):
    folder = write_gmtsar(sim_stack_int16, tmp_path / "SLC")
    assert detect_format(folder) == "gmtsar"
    stack = open_stack(folder)  # the reference from align.in
    assert stack.processor == "gmtsar"
    check_stack(stack, sim_stack_int16, time_tol_ns=100)


def test_reference_option_and_missing_reference(sim_stack_int16, tmp_path):
    folder = write_gmtsar(sim_stack_int16, tmp_path / "SLC")
    (folder / "align.in").unlink()
    with pytest.raises(InputError, match=r"SLC.*reference"):
        open_stack(folder)
    stack = open_stack(folder, reference=sim_stack_int16.days[0])
    assert stack.reference.metadata["date"] == sim_stack_int16.days[0]


def test_clock_start():
    t = prm_start_time(
        {"SC_clock_start": "2020010.239722222222", "clock_start": "10.239722222222222"}, "x.PRM"
    )
    # GMTSAR's day of year counts from 0 on 1 January: day 10 is 11 January
    assert abs((t - np.datetime64("2020-01-11T05:45:12", "ns")) / np.timedelta64(1, "us")) < 1
    with pytest.raises(ProductError, match="out of range"):
        prm_start_time({"SC_clock_start": "2020366.5"}, "x.PRM")


def test_errors_name_the_file(sim_stack_int16, tmp_path):
    folder = write_gmtsar(sim_stack_int16, tmp_path / "SLC")
    stem = f"S1_{sim_stack_int16.days[1]}_ALL_F1"
    prm = folder / f"{stem}.PRM"
    text = prm.read_text()
    prm.write_text(text.replace("bytes_per_line\t\t= 256", "bytes_per_line\t\t= 300"))
    with pytest.raises(ProductError, match=rf"{stem}.PRM.*bytes_per_line"):
        open_stack(folder)
    prm.write_text(text.replace("PRF", "PRX"))
    with pytest.raises(ProductError, match=rf"{stem}.PRM.*'PRF'"):
        open_stack(folder, reference=stem)
    prm.write_text(text)
    led = folder / f"{stem}.LED"
    led.write_text(led.read_text().replace("11 ", "12 ", 1))
    with pytest.raises(OrbitError, match=rf"{stem}.LED.*12 state vectors"):
        open_stack(folder)
