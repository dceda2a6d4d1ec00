"""Simulated scenes shared by the simulator tests (each is simulated once per session)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from sarbd.simulate import SimulatedScene, simulate_scene

#: Zero-baseline settings: identical orbits and grids on every date, so the pixels of
#: two dates are co-registered by construction.
ZERO_BASELINE = {
    "max_baseline_m": 0.0,
    "radial_offset_m": 0.0,
    "timing_error_std_s": 0.0,
    "grid_shift_max": 0.0,
}


def _simulate(path: Path, **kw: object) -> SimulatedScene:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate_scene(path, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tiny_scene(tmp_path_factory: pytest.TempPathFactory) -> SimulatedScene:
    """The default tiny scene: 2 dates, baselines, timing errors and shifted grids."""
    return _simulate(tmp_path_factory.mktemp("sim_default"), size="tiny", dates=2, seed=0)


@pytest.fixture(scope="session")
def zero_baseline_scene(tmp_path_factory: pytest.TempPathFactory) -> SimulatedScene:
    """Two dates with identical geometry (coherence and radiometry tests)."""
    return _simulate(
        tmp_path_factory.mktemp("sim_zero_baseline"), size="tiny", dates=2, seed=1, **ZERO_BASELINE
    )


@pytest.fixture(scope="session")
def tops_scene(tmp_path_factory: pytest.TempPathFactory) -> SimulatedScene:
    """Two dates in TOPS mode (3 bursts each)."""
    return _simulate(tmp_path_factory.mktemp("sim_tops"), size="tiny", dates=2, seed=2, mode="tops")
