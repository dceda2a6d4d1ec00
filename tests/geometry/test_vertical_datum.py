"""A DEM that does not state its vertical datum: the assumption is said loudly and recorded.

The numbers behind the warning (isce3's Winnipeg scene, ``winnipeg.h5`` + ``winnipeg_dem.tif``,
compared with isce3's own rdr2geo output ``isce3_topo_winnipeg/``; measured for issue 16):

====================  ============  ==========  =================
vertical datum        interpolation  horiz. max  height mean (dz)
====================  ============  ==========  =================
auto (EGM96 assumed)  bilinear        75.2 m     -26.3 m
auto (EGM96 assumed)  biquintic       75.6 m     -26.3 m
ellipsoid             bilinear         1.5 m       0.0 m
ellipsoid             biquintic        0.04 m      0.0 m
====================  ============  ==========  =================

The 75 m is the datum (the EGM96 undulation there, -26 m, over tan(28 deg) of incidence);
the DEM interpolation accounts for 1.5 m. The acceptance test
(``test_acceptance.py::test_winnipeg_matches_isce3_topo``) pins the 0.04 m.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

import sarbd
from sarbd.cli.app import main
from sarbd.core.serialization import grid_from_dataset, orbit_from_dataset
from sarbd.geometry import Dem, geoid_height


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_unstated_datum_is_assumed_loudly(shared_data, caplog):
    path = shared_data / "uavsar_nisar" / "SanAnd_dem.tif"
    with caplog.at_level(logging.WARNING, logger="sarbd"):
        dem = Dem.open(path)
    assert dem.vertical_datum == "egm96" and dem.vertical_datum_source == "assumed"
    assert "ASSUMED" in dem.description
    msg = next(m for m in _warnings(caplog) if "vertical datum" in m)
    assert "ASSUMED to be above EGM96" in msg and "--vertical-datum" in msg and "ellipsoid" in msg
    n = geoid_height(np.array([34.17]), np.array([-118.43]))[0]  # about -36 m north of Los Angeles
    assert f"{n:+.1f}"[:3] in msg  # the undulation at stake is in the message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sarbd"):
        given = Dem.open(path, vertical_datum="ellipsoid")
    assert given.vertical_datum_source == "given" and not [
        m for m in _warnings(caplog) if "vertical datum" in m
    ]
    # what is at stake: the two readings differ by the undulation
    assert abs(np.nanmean(dem.data - given.data) - n) < 1.0


def test_geocode_output_records_the_datum_and_is_a_grid(shared_data, tmp_path):
    d = shared_data / "uavsar_nisar"
    out = tmp_path / "g.nc"
    assert (
        main(
            [
                "geocode",
                str(d / "SanAnd_129.h5"),
                "--dem",
                str(d / "SanAnd_dem.tif"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    scene = sarbd.open_product(d / "SanAnd_129.h5")
    with xr.open_dataset(out) as ds:
        assert (
            ds.attrs["dem_vertical_datum"] == "egm96"
            and ds.attrs["dem_vertical_datum_source"] == "assumed"
        )
        assert "ASSUMED" in ds.attrs["height_model"]
        # the orbit and the radar grid travel in the file: it is a radar grid for radarcode
        grid, orbit = grid_from_dataset(ds), orbit_from_dataset(ds)
    assert grid == scene.radar_grid
    np.testing.assert_array_equal(orbit.times, scene.orbit.times)
    np.testing.assert_array_equal(orbit.positions, scene.orbit.positions)
    np.testing.assert_array_equal(orbit.velocities, scene.orbit.velocities)
    assert orbit.reference_epoch == scene.orbit.reference_epoch
