"""The ``sarbd simulate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sarbd.cli.app import main


def test_cli_simulate_writes_products(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(out),
                "--size",
                "tiny",
                "--dates",
                "1",
                "--seed",
                "3",
                "--json",
            ]
        )
        == 0
    )
    paths = json.loads(capsys.readouterr().out)
    assert len(paths["safe"]) == 1 and Path(paths["safe"][0]).is_dir()
    assert Path(paths["dem"]).is_file() and (Path(paths["truth_dir"]) / "truth.zarr").is_dir()
    # a ready build configuration beside the scene, and the command that builds it
    from sarbd.pipeline.config import load_config

    config = Path(paths["build_config"])
    assert (
        config == out / "build.yaml"
        and paths["build_command"] == f"sarbd build {out / 'build.yaml'}"
    )
    cfg = load_config(config)
    assert cfg.inputs.products == [Path(p).resolve() for p in paths["safe"]]
    assert cfg.inputs.dem == Path(paths["dem"]).resolve()
    assert cfg.outputs.directory == (tmp_path / "sim-sarbd").resolve()
    assert "../" not in str(cfg.inputs.reference[0].path) and cfg.inputs.reference[0].path.is_file()
    assert "/" not in config.read_text().split("products:")[1].split("polarizations")[0].replace(
        "- ", ""
    )  # relative


def test_cli_simulate_prints_the_build_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (
        main(["simulate", "--out", "scene", "--size", "tiny", "--dates", "1", "--seed", "4"]) == 0
    )
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "next: sarbd build scene/build.yaml"
    assert (tmp_path / "scene" / "build.yaml").is_file()


def test_cli_simulate_bad_size_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--out", str(tmp_path), "--size", "huge"]) == 2
    assert "unknown size" in capsys.readouterr().err
