"""The tiny simulated build shared by the pipeline tests (one per session: it takes minutes)."""

from __future__ import annotations

import pytest
import yaml


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    """Simulate 3 tiny dates and build through every stage: ``(root, config file, BuildResult)``.

    Tests that change the build must work on a copy (or restore it, as the e2e tests do).
    """
    from sarbd.pipeline.build import build
    from sarbd.pipeline.demo import demo_config
    from sarbd.simulate import simulate_scene

    root = tmp_path_factory.mktemp("e2e")
    scene = simulate_scene(root / "scene", size="tiny", dates=3, seed=3)
    cfg = demo_config(scene, root / "dataset", size="tiny", seed=3)
    cfg_file = root / "build.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    result = build(cfg_file)
    return root, cfg_file, result
