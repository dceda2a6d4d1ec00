"""Fuzz the YAML build-configuration loader and the label-rule language: only SarbdError may escape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sarbd.dataset.expressions import evaluate
from sarbd.pipeline.config import load_config
from sarbd.pipeline.input_files import check_inputs
from tests.reliability.fuzzing import BAD_VALUES, long_run, only_sarbd_errors, short_run

REPO = Path(__file__).resolve().parents[2]

BASE_CONFIG = """\
inputs:
  products: [a.SAFE, b.SAFE, c.SAFE]
  swath: IW1
  polarizations: [VV, VH]
  dem: dem.tif
  reference:
    - path: reference.gpkg
      layer: buildings
      class_name: building
    - path: landcover.tif
      class_map: {'10': vegetation, '80': water}
  classes: [building, vegetation, water]
aoi:
  bbox: [6.5, 53.1, 6.7, 53.3]
coregistration: {kernel_taps: 12, coherence_window: [2, 10], refine: apply}
signatures:
  select: all
  filter: {name: lee, window: 5}
labels:
  l1_rules:
    - {class_name: water, expression: "backscatter_mean_db_vv < -18"}
  l2_threshold: 0.5
chips: {sizes: [32, 64], block: 128, fractions: [0.7, 0.15, 0.15]}
outputs: {directory: out, formats: [zarr, netcdf]}
compute: {chunks: [256, 512]}
"""

_chars = st.characters(exclude_categories=("Cs",))
yaml_scalars = st.one_of(
    st.sampled_from(
        [
            *BAD_VALUES,
            "~",
            "[]",
            "{}",
            "&a x",
            "*a",
            "!!binary xx",
            "!!python/object:os.system",
            "<<: *a",
            "- -",
            ": :",
            "'",
            '"',
            "|",
            ">",
            "? x",
            "%YAML 1.1",
            "---",
            "2021-13-45",
            "0o999",
            "1_000",
            ".nan",
            "-.inf",
            "\t",
        ]
    ),
    st.text(_chars, max_size=15),
)


@st.composite
def mutated_config(draw: st.DrawFn) -> bytes:
    lines = BASE_CONFIG.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(
            st.sampled_from(["value", "value", "delete", "duplicate", "insert", "indent", "bytes"])
        )
        if kind == "value" and ":" in lines[i]:
            key, _, _ = lines[i].partition(":")
            lines[i] = f"{key}: {draw(yaml_scalars)}"
        elif kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "insert":
            lines.insert(i, draw(yaml_scalars))
        elif kind == "indent":
            lines[i] = " " * draw(st.integers(0, 6)) + lines[i].lstrip()
        if not lines:
            lines = [""]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and data:
        j = draw(st.integers(0, len(data) - 1))
        data = data[:j] + draw(st.binary(max_size=4)) + data[j + draw(st.integers(0, 3)) :]
    return data


def _load(folder: Path, data: bytes) -> None:
    path = folder / "build.yaml"
    path.write_bytes(data)
    config = load_config(path)
    check_inputs(config)  # the files it names do not exist: an InputError naming the first


def test_base_config_loads(tmp_path):
    config = load_config(_write(tmp_path, BASE_CONFIG.encode()))
    assert config.inputs.swath == "IW1" and config.chips.sizes == [32, 64]
    assert yaml.safe_load(BASE_CONFIG)["outputs"]["formats"] == ["zarr", "netcdf"]


def _write(folder: Path, data: bytes) -> Path:
    path = folder / "build.yaml"
    path.write_bytes(data)
    return path


@short_run
@given(data=mutated_config())
def test_fuzz_config_short(tmp_path, data):
    only_sarbd_errors(lambda: _load(tmp_path, data))


@pytest.mark.slow
@long_run
@given(data=mutated_config())
def test_fuzz_config_long(tmp_path, data):
    only_sarbd_errors(lambda: _load(tmp_path, data))


# -- the label-rule expression language ------------------------------------------------------
_VARIABLES = xr.Dataset(
    {
        "sigma0_vv": (
            ("time", "line", "pixel"),
            np.random.default_rng(0).gamma(1.0, 0.1, (3, 4, 5)),
        ),
        "coherence_vv": (("line", "pixel"), np.linspace(0, 1, 20).reshape(4, 5)),
    }
)
_TOKENS = [
    "sigma0_vv",
    "coherence_vv",
    "unknown_var",
    "db",
    "log10",
    "abs",
    "sqrt",
    "median",
    "mean",
    "min",
    "max",
    "std",
    "(",
    ")",
    "(",
    ")",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "+",
    "-",
    "*",
    "/",
    "**",
    "%",
    "and",
    "or",
    "not",
    "0",
    "1",
    "-3",
    "1e400",
    "0.5",
    "1e-3",
    "nan",
    "True",
    "None",
    "'x'",
    ",",
    ".",
    "[",
    "]",
    "lambda",
    "__import__",
    "x.y",
    "@",
    "~",
    "if",
    "else",
    "1j",
    "\x00",
    "\n",
    "0x10",
    "9" * 400,
    "1 / 0",
    "not 1",
    "((((((((((",
    "))))))))))",
]


@st.composite
def expressions(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return str(draw(st.text(max_size=30)))
    return " ".join(draw(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=12)))


def _evaluate(expression: str) -> None:
    result = evaluate(expression, _VARIABLES)
    assert result.dims == ("line", "pixel")


def test_rules_evaluate():
    mask = evaluate("db(sigma0_vv) < -10 and coherence_vv > 0.5", _VARIABLES)
    assert mask.dtype == bool and mask.shape == (4, 5)


@short_run
@given(expression=expressions())
def test_fuzz_rules_short(expression):
    only_sarbd_errors(lambda: _evaluate(expression))


@pytest.mark.slow
@long_run
@given(expression=expressions())
def test_fuzz_rules_long(expression):
    only_sarbd_errors(lambda: _evaluate(expression))
