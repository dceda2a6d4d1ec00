"""The ``sarbd simulate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sarbd.cli.app import main


def test_cli_simulate_writes_products(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--size", "tiny", "--dates", "1", "--seed", "3", "--json"]) == 0
    paths = json.loads(capsys.readouterr().out)
    assert len(paths["safe"]) == 1 and Path(paths["safe"][0]).is_dir()
    assert Path(paths["dem"]).is_file() and (Path(paths["truth_dir"]) / "truth.zarr").is_dir()


def test_cli_simulate_bad_size_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--out", str(tmp_path), "--size", "huge"]) == 2
    assert "unknown size" in capsys.readouterr().err
