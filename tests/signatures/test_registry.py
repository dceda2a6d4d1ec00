"""Registry completeness, plug-ins, the catalogue table, docs currency and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sarbd.signatures as S
from sarbd.errors import ConfigError
from sarbd.signatures import registry
from sarbd.signatures.synthetic import synthetic_stack

DOC = Path(__file__).resolve().parents[2] / "docs" / "signatures.md"


def test_every_signature_is_fully_described():
    sigs = S.all_signatures()
    assert len({s.name for s in sigs}) == len(sigs) >= 40
    for s in sigs:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", s.name)
        assert s.long_name and s.units and s.formula and s.reference, s.name
        assert s.category in registry.CATEGORIES
        assert callable(s.compute)
        assert s.inputs
    cats = {s.category for s in sigs}
    assert {"1", "2", "temporal"} <= cats
    # the one CF standard name used is the one the CF table has for sigma0
    assert {s.standard_name for s in sigs if s.standard_name} == {
        "surface_backwards_scattering_coefficient_of_radar_wave"
    }
    # no "cross product" that is really an intensity difference (AlignSAR bug)
    assert "|C12|" in S.get("cross_product").formula


def test_plugin_through_entry_points(monkeypatch):
    from importlib.metadata import EntryPoint

    def load_ndi(inputs, pair):
        b1, b2 = inputs.backscatter(pair[0]), inputs.backscatter(pair[1])
        return (b1 - b2) / (b1 + b2)

    plugin = S.Signature(
        name="test_ndpi",
        long_name="normalised difference of {pair}",
        units="1",
        category="2",
        formula="(b1 - b2) / (b1 + b2)",
        inputs=("backscatter",),
        valid_range=(-1.0, 1.0),
        reference="test",
        compute=load_ndi,
        scope="cross_pair",
    )
    import sys
    import types

    mod = types.ModuleType("sarbd_test_plugin")
    mod.SIGNATURES = [plugin]
    monkeypatch.setitem(sys.modules, "sarbd_test_plugin", mod)
    ep = EntryPoint(name="ndpi", value="sarbd_test_plugin:SIGNATURES", group=S.ENTRY_POINT_GROUP)
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [ep] if group == S.ENTRY_POINT_GROUP else []
    )
    try:
        S.load_plugins(reload=True)
        assert S.get("test_ndpi") is plugin
        f = S.compute(synthetic_stack(2, (20, 20), nesz_db=None), ["test_ndpi"]).load()
        v = f.test_ndpi_vv_vh
        assert v.attrs["sarbd_category"] == "2" and float(v.min()) >= -1 and float(v.max()) <= 1
        with pytest.raises(ConfigError, match="already registered"):
            S.register(plugin)
    finally:
        S.unregister("test_ndpi")


def test_broken_plugin_does_not_break_the_catalogue(monkeypatch, caplog):
    from importlib.metadata import EntryPoint

    ep = EntryPoint(name="bad", value="no_such_module_xyz:THING", group=S.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    S.load_plugins(reload=True)
    assert "could not load signature plug-in bad" in caplog.text
    assert len(S.all_signatures()) >= 40


def test_invalid_signature_definitions():
    with pytest.raises(ConfigError):
        S.Signature("Bad Name", "x", "1", "1", "f", ("slc",), (None, None), "r", lambda i, k: None)
    with pytest.raises(ConfigError):
        S.Signature("ok", "x", "1", "9", "f", ("slc",), (None, None), "r", lambda i, k: None)


def test_docs_table_is_current(tmp_path):
    text = DOC.read_text()
    begin, end = registry.DOC_BEGIN, registry.DOC_END
    assert begin in text and end in text
    table = text.split(begin)[1].split(end)[0].strip()
    assert table == S.markdown_table().strip(), (
        "docs/signatures.md is out of date: run sarbd.signatures.registry.update_doc('docs/signatures.md')"
    )
    copy = tmp_path / "doc.md"
    copy.write_text(text.replace("| `sigma0` |", "| `sigma_zero` |"))
    assert registry.update_doc(str(copy)) and copy.read_text() == text


def test_docs_usage_example_runs(tmp_path, monkeypatch):
    code = DOC.read_text().split("```python")[1].split("```")[0]
    code = code.replace("/tmp/", str(tmp_path) + "/")
    exec(compile(code, str(DOC), "exec"), {})
    assert (tmp_path / "features.zarr").is_dir()
    assert (tmp_path / "features-banded.zarr").is_dir()


def test_cli_list_json(capsys):
    from sarbd.cli.app import main

    assert main(["signatures", "--list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"sigma0", "entropy", "rvi", "amplitude_dispersion"}
    assert main(["signatures", "--list"]) == 0
    assert "entropy" in capsys.readouterr().out


def test_cli_compute_writes_zarr(tmp_path, capsys):
    from sarbd.cli.app import main

    st = synthetic_stack(2, (24, 30), seed=3)
    st.to_zarr(tmp_path / "stack.zarr")
    out = tmp_path / "features.zarr"
    rc = main(
        [
            "signatures",
            str(tmp_path / "stack.zarr"),
            "--out",
            str(out),
            "--select",
            "sigma0_db",
            "--select",
            "rvi",
            "--filter",
            "lee",
            "--filter-window",
            "5",
            "--window",
            "3",
            "3",
        ]
    )
    assert rc == 0, capsys.readouterr()
    f = xr.open_zarr(out)
    assert set(f.data_vars) == {"sigma0_db_vv", "sigma0_db_vh", "rvi_vv_vh"}
    assert f.attrs["sarbd_speckle_filter"] == "lee window=5"
    assert np.isfinite(f.rvi_vv_vh).all()
    # user errors: one line, exit 2
    assert main(["signatures", str(tmp_path / "missing.zarr"), "--out", str(out)]) == 2
    assert (
        main(["signatures", str(tmp_path / "stack.zarr"), "--out", str(out), "--select", "nope"])
        == 2
    )
    assert "unknown signature" in capsys.readouterr().err
