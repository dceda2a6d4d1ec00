"""Fixtures: the synthetic SARbd input (see tests/dataset/synthetic.py)."""

from __future__ import annotations

import pytest

from tests.dataset.synthetic import Synthetic, make_synthetic


@pytest.fixture(scope="session")
def synthetic() -> Synthetic:
    return make_synthetic()
