"""``inputs.products`` entries: a path, or a mapping of one product's pieces; one date or more."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from sarbd.errors import ConfigError, InputError
from sarbd.pipeline.build import (
    _entry_fingerprint,
    _open_entry,
    _product_entries,
    single_date_selection,
)
from sarbd.pipeline.config import ProductSpec, load_config, product_main

TERCEIRA = {
    "annotation": "s1a-iw3-slc-vv-20220918t074921-20220918t074946-045056-056232-006.xml",
    "measurement": "s1a-iw3-slc-vv_subset_hight9800_10400_width11000_11000.tiff",
    "offset": [9799, 10999],
    "orbit": "S1A_OPER_AUX_RESORB_OPOD_20220918T093241_V20220918T053155_20220918T084925.EOF",
}


def _write(tmp_path: Path, inputs: dict) -> Path:
    path = tmp_path / "build.yaml"
    path.write_text(yaml.safe_dump({"inputs": inputs}, sort_keys=False))
    return path


def test_paths_and_mappings_resolve_against_the_file(tmp_path):
    cfg = load_config(
        _write(
            tmp_path,
            {
                "products": [
                    "a.SAFE.zip",
                    {"path": "b.h5", "frequency": "b"},
                    {
                        "annotation": "c.xml",
                        "measurement": "c.tiff",
                        "offset": [1, 2],
                        "orbit": "orbits",
                    },
                ]
            },
        )
    )
    a, b, c = cfg.inputs.products
    assert a == (tmp_path / "a.SAFE.zip").resolve()
    assert (
        isinstance(b, ProductSpec)
        and b.path == (tmp_path / "b.h5").resolve()
        and b.frequency == "B"
    )
    assert isinstance(c, ProductSpec) and c.annotation == (tmp_path / "c.xml").resolve()
    assert (
        c.measurement == (tmp_path / "c.tiff").resolve()
        and c.orbit == (tmp_path / "orbits").resolve()
    )
    assert c.offset == (1, 2) and product_main(c) == c.annotation
    # --print-config shows every key of a mapping
    printed = cfg.resolved()["inputs"]["products"]
    assert (
        printed[0] == str(a) and printed[2]["offset"] == [1, 2] and printed[1]["annotation"] is None
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"annotation": "c.xml"}, "needs its `measurement`"),
        ({"path": "a.xml", "annotation": "c.xml", "measurement": "m.tiff"}, "not both"),
        ({"path": "a.h5", "offset": [0, 0]}, "`offset` applies to a measurement"),
        (
            {"annotation": "c.xml", "measurement": "m.tiff", "frequency": "A"},
            "`frequency` applies to NISAR",
        ),
        ({"path": "a.h5", "frequency": "C"}, "frequency"),
        ({"path": "a.h5", "polarisation": "HH"}, "unknown key 'polarisation'"),
    ],
)
def test_a_bad_mapping_is_one_clear_line(tmp_path, entry, message):
    with pytest.raises(ConfigError, match=message) as err:
        load_config(_write(tmp_path, {"products": ["x.SAFE", entry]}))
    text = str(err.value)
    assert "\n" not in text and "line 4" in text and "inputs.products.1" in text


def test_reference_product_picks_the_entry(tmp_path):
    cfg = load_config(
        _write(
            tmp_path,
            {"products": ["a.h5", {"path": "b.h5", "frequency": "A"}], "reference_product": "b.h5"},
        )
    )
    entries, ref = _product_entries(cfg)
    assert len(entries) == 2 and ref == 1


def test_the_terceira_crop_opens_from_a_mapping(shared_data, tmp_path):
    d = shared_data / "s1_terceira"
    entry = {k: str(d / v) if k != "offset" else v for k, v in TERCEIRA.items()}
    cfg = load_config(_write(tmp_path, {"products": [entry], "polarizations": ["VV"]}))
    spec = cfg.inputs.products[0]
    scene = _open_entry(spec, cfg)
    assert scene.shape == (601, 1401)
    assert (scene.radar_grid.first_line, scene.radar_grid.first_pixel) == (9799, 10999)
    assert "RESORB" in scene.orbit.source or "EOF" in scene.orbit.source
    fp = _entry_fingerprint(spec)
    assert fp["offset"] == (9799, 10999) and len(fp["files"]) == 3
    # a missing piece is named
    spec2 = spec.model_copy(update={"measurement": tmp_path / "missing.tiff"})
    with pytest.raises(InputError, match=r"missing\.tiff: product file not found"):
        _open_entry(spec2, cfg)


def _one_date_stack(n_time: int) -> xr.Dataset:
    rng = np.random.default_rng(0)
    shape = (n_time, 16, 20)
    slc = (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(np.complex64)
    dims = ("time", "line", "pixel")
    return xr.Dataset(
        {
            "slc_vv": (dims, slc),
            "cal_sigma0_vv": (dims, np.full(shape, 1e-4, np.float32)),
            "interferogram_vv": (dims, (slc * slc.conj()[:1]).astype(np.complex64)),
            "coherence_vv": (dims, np.ones(shape, np.float32)),
        },
        coords={
            "time": np.arange(n_time).astype("datetime64[D]").astype("datetime64[ns]"),
            "line": np.arange(16),
            "pixel": np.arange(20),
        },
        attrs={"reference_date": "1970-01-01T00:00:00"},
    )


def test_one_date_leaves_out_what_needs_two():
    keep, left = single_date_selection(_one_date_stack(1), None)
    # the reference against itself is no interferometric signature; spreads over time need two dates
    for name in (
        "coherence_vv",
        "interferometric_phase_vv",
        "coherence_mean_vv",
        "backscatter_std_vv",
        "amplitude_dispersion_vv",
        "soil_moisture_index_vv",
    ):
        assert name in left and name not in keep
    for name in ("sigma0_db_vv", "amplitude_vv", "backscatter_mean_db_vv", "backscatter_max_vv"):
        assert name in keep
    with pytest.raises(ConfigError, match="coherence_mean_vv need two or more dates"):
        single_date_selection(_one_date_stack(1), ["sigma0_db", "coherence_mean"])
