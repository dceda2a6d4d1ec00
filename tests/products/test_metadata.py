"""Global attributes (ACDD + sar_*) and relative orbit numbers; the `sarbd info` command."""

from __future__ import annotations

import json

import pytest

from sarbd.errors import InputError
from sarbd.products.metadata import global_attributes, relative_orbit


def test_relative_orbit_rules():
    assert relative_orbit("S1A", 45056) == 9  # Terceira product
    assert relative_orbit("S1B", 26269) == 168  # the S1B SAFE's manifest says 168
    assert relative_orbit("S1A", 73) == 1 and relative_orbit("S1B", 27) == 1
    assert relative_orbit("S1C", 1681) == 110  # sentineleof test case
    assert (
        relative_orbit("S1C", 8018) == 147 and relative_orbit("S1C", 8019) == 46
    )  # 2026 reconfiguration
    assert relative_orbit("S1D", 42) == 1
    for m in ("S1A", "S1B", "S1C"):
        assert all(1 <= relative_orbit(m, a) <= 175 for a in range(1, 2000, 37))
    with pytest.raises(InputError):
        relative_orbit("S2A", 1)


def test_global_attributes_from_the_product(terceira_scene):
    a = global_attributes(terceira_scene)
    assert a["Conventions"] == "CF-1.10, ACDD-1.3"
    assert a["sar_date_time"] == "2022-09-18" and a["sar_UTC_time"].startswith("07:49")
    assert a["sar_absolute_orbit"] == 45056 and a["sar_relative_orbit"] == 9
    assert a["sar_instrument_mode"] == "IW" and a["sar_subswath"] == "IW3"
    assert isinstance(a["sar_view_azimuth"], float) and 180 < a["sar_view_azimuth"] < 200
    assert a["sar_pass_direction"] == "DESCENDING"
    assert a["sar_view_incidence_angle"] == pytest.approx(43.7997, abs=1e-4)
    assert a["sar_SLC_crop"] == [9799, 10399, 10999, 12399]
    # the crop sits mid-swath (pixels 10999..12399 of 24203): its centre incidence is near the mid-swath one
    assert abs(a["sar_scene_centre_incidence_angle"] - a["sar_view_incidence_angle"]) < 0.3
    assert a["sar_burst"] == "6"
    # Terceira (Angra do Heroismo): about 38.65 N, 27.2 W
    assert a["geospatial_lat_min"] < 38.66 < a["geospatial_lat_max"]
    assert a["geospatial_lon_min"] < -27.2 < a["geospatial_lon_max"]
    assert a["geospatial_lat_max"] - a["geospatial_lat_min"] < 0.2
    assert all(v is not None for v in a.values())


def test_info_json(s1b_zip, capsys):
    from sarbd.cli.app import main

    assert main(["info", str(s1b_zip), "--swath", "IW2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metadata"]["swath"] == "IW2" and out["metadata"]["relative_orbit"] == 168
    assert out["global_attributes"]["sar_date_time"] == "2021-04-01"
    assert main(["info", str(s1b_zip)]) == 2  # several swaths, none chosen
    assert "IW1, IW2" in capsys.readouterr().err


def test_info_table(nisar_dir, capsys):
    from sarbd.cli.app import main

    assert main(["info", str(nisar_dir / "winnipeg.h5")]) == 0
    assert "sar_view_azimuth" in capsys.readouterr().out
