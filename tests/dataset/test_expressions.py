"""The rule language evaluates what it should and refuses everything else."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sarbd.dataset.expressions import evaluate, variables_in
from sarbd.errors import ConfigError


@pytest.fixture
def ds():
    a = np.array(
        [[[1.0, 0.01], [np.nan, 100.0]], [[3.0, 0.03], [1.0, 100.0]], [[2.0, 0.02], [1.0, 1.0]]]
    )
    return xr.Dataset(
        {
            "s": (("time", "line", "pixel"), a),
            "c": (("line", "pixel"), np.array([[0.1, 0.5], [0.9, 0.2]])),
        }
    )


def test_arithmetic_comparison_and_time_reduction(ds):
    # temporal median of s: [[2, 0.02], [nan, 100]]
    np.testing.assert_allclose(evaluate("s", ds).values, [[2, 0.02], [np.nan, 100]])
    np.testing.assert_allclose(
        evaluate("db(s)", ds).values, [[10 * np.log10(2), -16.98970004], [np.nan, 20]]
    )
    np.testing.assert_allclose(evaluate("max(s) - min(s)", ds).values, [[2, 0.02], [np.nan, 99]])
    np.testing.assert_array_equal(
        evaluate("db(s) < -15 and c < 0.6", ds).values, [[False, True], [False, False]]
    )
    np.testing.assert_array_equal(
        evaluate("not (c > 0.3) or s > 50", ds).values, [[True, False], [False, True]]
    )
    np.testing.assert_array_equal(
        evaluate("0.15 < c <= 0.5", ds).values, [[False, True], [False, True]]
    )
    np.testing.assert_array_equal(
        evaluate("mean(s) >= 2", ds, time_reduce="mean").values, [[True, False], [False, True]]
    )
    assert variables_in("db(median(s)) < -3 * c") == {"s", "c"}


@pytest.mark.parametrize(
    "bad",
    [
        "__import__('os').system('true')",
        "s.values",
        "s[0]",
        "lambda: 1",
        "'text' == s",
        "open(s)",
        "s if c else c",
        "c ** 2",
        "[s]",
        "db(s, 2)",
        "unknown < 1",
        "1 < 2",
        "s <",
    ],
)
def test_refuses_unsafe_or_invalid(ds, bad):
    with pytest.raises(ConfigError):
        evaluate(bad, ds)
