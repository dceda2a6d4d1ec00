"""Doris 4/5 stacks (AlignSAR's input): write a simulated stack as Doris does, read it back.

The ``.res`` layout (section markers, key spellings, ``t(s) X(m) Y(m) Z(m)`` orbit rows, the
``resample`` window "w.r.t. original_master", ``complex_real4``/``complex_short``) follows
Doris 4.13's own result files (TU Delft DEOS, Doris user manual); no public sample with a
clear licence was found, so the test writes them (``writers.write_doris``).
"""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.stacks import detect_format, open_stack
from sarbd.stacks.base import orbit_from_positions
from sarbd.stacks.doris import parse_doris_time, read_res

from .roundtrip import check_stack
from .writers import write_doris


def test_round_trip_dual_pol(sim_stack, tmp_path):
    write_doris(sim_stack, tmp_path)
    assert detect_format(tmp_path) == "doris"
    stack = open_stack(tmp_path)
    assert stack.processor == "doris" and stack.reference.polarizations == ("VH", "VV")
    # Doris orbits carry no velocities: derived from the positions (10 s apart) to < 1 mm/s
    check_stack(stack, sim_stack, velocity_tol=1e-3)


def test_round_trip_complex_short_single_stack(sim_stack_int16, tmp_path):
    write_doris(sim_stack_int16, tmp_path, fmt="complex_short", window_origin=(0, 0))
    stack = open_stack(tmp_path / "stack_vv", "doris", polarization="VV")
    check_stack(stack, sim_stack_int16, velocity_tol=1e-3)


def test_time_keeps_the_fraction():
    t = parse_doris_time("01-MAR-2018 17:19:09.165000123", "x.res")
    assert t == np.datetime64("2018-03-01T17:19:09.165000123", "ns")
    assert parse_doris_time("16-Jan-2004 16:36:31.238", "x.res") == np.datetime64(
        "2004-01-16T16:36:31.238", "ns"
    )
    with pytest.raises(ProductError, match=r"x\.res"):
        parse_doris_time("2018-03-01T17:19:09", "x.res")


def test_velocity_from_positions_matches_kepler(sim_stack):
    o = sim_stack.orbits[0]
    derived = orbit_from_positions(o.times, o.positions, source="t", path="x")
    assert np.max(np.abs(derived.velocities - o.velocities)) < 1e-3  # m/s, of ~7600 m/s
    with pytest.raises(OrbitError, match="at least 4"):
        orbit_from_positions(o.times[:3], o.positions[:3], source="t", path="x")


def test_sections_parsed(sim_stack, tmp_path):
    write_doris(sim_stack, tmp_path)
    res = read_res(tmp_path / "stack_vv" / sim_stack.days[1] / "slave.res")
    assert res["resample"]["Data_output_format"] == "complex_real4"
    assert len(res["precise_orbits/points"]) == len(sim_stack.orbits[1])


def test_errors_name_the_file(sim_stack, tmp_path):
    write_doris(sim_stack, tmp_path)
    day = tmp_path / "stack_vv" / sim_stack.days[2]
    raw = day / "slave_rsmp.raw"
    good = raw.read_bytes()
    raw.write_bytes(good[:-8])
    with pytest.raises(ProductError, match=r"slave_rsmp.raw.*truncated"):
        open_stack(tmp_path)
    raw.unlink()
    text = (day / "slave.res").read_text()
    (day / "slave.res").write_text(text.replace("complex_real4", "complex_real8"))
    with pytest.raises(ProductError, match=r"slave.res.*complex_real8"):
        open_stack(tmp_path)
    (day / "slave.res").write_text(text.split("*_Start_resample:")[0])
    with pytest.raises(ProductError, match=r"slave.res.*no resample section"):
        open_stack(tmp_path)
    (day / "slave.res").write_text(text)
    raw.write_bytes(good)
    vh = tmp_path / "stack_vh" / sim_stack.days[2] / "slave.res"  # the first stack read
    vh.write_text(text.replace("NUMBER_OF_DATAPOINTS: \t\t\t", "NUMBER_OF_DATAPOINTS: \t\t\t9"))
    with pytest.raises(ProductError, match=r"stack_vh.*NUMBER_OF_DATAPOINTS says 9"):
        open_stack(tmp_path)
    with pytest.raises(InputError, match="not a stack"):
        detect_format(tmp_path / "stack_vv" / sim_stack.days[0] / "master.res")
