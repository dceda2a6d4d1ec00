"""Build configuration: defaults, path resolution, and errors that name the line."""

from __future__ import annotations

import pytest

from sarbd.errors import ConfigError
from sarbd.pipeline.config import load_config

GOOD = """\
inputs:
  products: [a.SAFE, b.SAFE]
  dem: dem.tif
  reference:
    - path: ref.gpkg
      layer: buildings
      class_name: building
aoi:
  window: [0, 0, 100, 200]
labels:
  l2_threshold: 0.6
"""


def test_good_config_resolves_defaults_and_paths(tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(GOOD)
    cfg = load_config(cfg_file)
    assert cfg.inputs.products[0] == (tmp_path / "a.SAFE").resolve()
    assert cfg.inputs.reference[0].path == (tmp_path / "ref.gpkg").resolve()
    assert cfg.labels.l2_threshold == 0.6
    assert cfg.coregistration.coherence_window == (2, 10)
    resolved = cfg.resolved()
    assert resolved["compute"]["chunks"] == [512, 1024]
    assert resolved["inputs"]["polarizations"] == ["VV", "VH"]


def test_unknown_key_names_the_line(tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(GOOD.replace("  l2_threshold: 0.6", "  l2_treshold: 0.6"))
    with pytest.raises(
        ConfigError, match=r"line 11: labels.l2_treshold: unknown key 'l2_treshold'"
    ):
        load_config(cfg_file)


def test_impossible_value_names_the_line(tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(GOOD.replace("0.6", "1.7"))
    with pytest.raises(ConfigError, match=r"cfg.yaml: line 11: labels.l2_threshold"):
        load_config(cfg_file)
    cfg_file.write_text(GOOD.replace("[0, 0, 100, 200]", "[0, 0, -5, 200]"))
    with pytest.raises(ConfigError, match=r"line 8: aoi: .*positive lines"):
        load_config(cfg_file)


def test_folder_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_bad_polarisation(tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(GOOD.replace("  dem: dem.tif", "  dem: dem.tif\n  polarizations: [VV, XX]"))
    with pytest.raises(ConfigError, match="unknown polarisation"):
        load_config(cfg_file)
