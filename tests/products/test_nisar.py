"""NISAR RSLC HDF5 reader on the UAVSAR-derived isce3 test products."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest

from sarbd.core.radar_grid import SPEED_OF_LIGHT
from sarbd.errors import InputError
from sarbd.products import open_product

SWATHS = "science/LSAR/SLC/swaths"


@pytest.mark.parametrize(
    ("name", "freq", "shape"),
    [
        ("winnipeg.h5", "A", (250, 250)),
        ("SanAnd_129.h5", "A", (150, 200)),
        ("SanAnd_129.h5", "B", (150, 50)),
        ("SanAnd_138.h5", "A", (150, 400)),
    ],
)
def test_open_nisar(nisar_dir, name, freq, shape):
    s = open_product(nisar_dir / name, frequency=freq)
    assert s.shape == shape and s.polarizations == ("HH",)
    assert s.radar_grid.look_side == "left"
    with h5py.File(nisar_dir / name) as f:
        ref = f[f"{SWATHS}/frequency{freq}/HH"][()]
        sr = f[f"{SWATHS}/frequency{freq}/slantRange"][()]
        zdt = f[f"{SWATHS}/zeroDopplerTime"][()]
        fc = f[f"{SWATHS}/frequency{freq}/processedCenterFrequency"][()]
    np.testing.assert_array_equal(s.slc().values, ref)
    np.testing.assert_allclose(s.radar_grid.slant_ranges(), sr, atol=1e-6)
    np.testing.assert_allclose(
        s.radar_grid.azimuth_times(), zdt, atol=1e-6
    )  # same epoch as the file
    assert s.radar_grid.wavelength == pytest.approx(SPEED_OF_LIGHT / fc)
    assert s.product.frequencies == ("A", "B")
    assert s.orbit.reference_epoch == s.radar_grid.reference_epoch
    assert s.orbit.covers(
        s.radar_grid.line_to_datetime(0), s.radar_grid.line_to_datetime(shape[0] - 1)
    )
    src = pickle.loads(pickle.dumps(s.pixels))
    np.testing.assert_array_equal(src.read("HH", slice(0, 3), slice(0, 4)), ref[:3, :4])


def test_doppler_lut_and_metadata(nisar_dir):
    s = open_product(nisar_dir / "winnipeg.h5")
    dop = s.product.doppler
    assert dop.dims == ("azimuth_time", "slant_range") and dop.shape == (378, 225)
    assert str(dop.azimuth_time.dtype) == "datetime64[ns]" and dop.attrs["units"] == "Hz"
    m = s.metadata
    assert m["absolute_orbit"] == 12061 and m["start_time"].startswith("2012-07-17T14:36:47")
    assert 0 <= m["heading"] < 360 and 0 < m["incidence_angle_mid_swath"] < 90


def test_frequency_or_polarisation_not_there(nisar_dir):
    with pytest.raises(InputError, match="frequency B has no image data"):
        open_product(nisar_dir / "winnipeg.h5", frequency="B")
    # listed in listOfPolarizations but no image dataset
    with pytest.raises(InputError, match="VV"):
        open_product(nisar_dir / "SanAnd_129.h5", polarizations="VV")


def test_truncated_hdf5(nisar_dir, tmp_path):
    bad = tmp_path / "winnipeg.h5"
    bad.write_bytes((nisar_dir / "winnipeg.h5").read_bytes()[:4096])
    with pytest.raises(InputError) as exc:
        open_product(bad)
    assert "winnipeg.h5" in str(exc.value) and "\n" not in str(exc.value)
