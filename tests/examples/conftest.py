"""A workspace laid out like the repository root, for running documented commands literally.

``ws/examples`` is a copy of ``examples/`` (so nothing is written into the repository) and
``ws/../shared`` points at the real test data, so ``../shared/data/...`` in a command and
``../../shared/data/...`` in an example configuration resolve as they do in a clone.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from sarbd.cli.app import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def make_workspace(root: Path, shared: Path) -> Path:
    """``root/ws`` with a copy of examples/ and ``root/shared`` -> the shared folder."""
    ws = root / "ws"
    shutil.copytree(EXAMPLES, ws / "examples", ignore=shutil.ignore_patterns("*.ipynb"))
    (root / "shared").symlink_to(shared.resolve(), target_is_directory=True)
    return ws


def header_commands(config: Path) -> list[str]:
    """The ``sarbd ...`` command lines in the header comment of an example configuration."""
    lines = []
    for line in config.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text.startswith("sarbd "):
            lines.append(text)
    return lines


def run_line(line: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run one documented ``sarbd ...`` line in-process, in ``cwd``; its exit status."""
    words = shlex.split(line)
    assert words[0] == "sarbd", line
    with monkeypatch.context() as m:
        m.chdir(cwd)
        return main(words[1:])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, shared_data) -> Path:
    return make_workspace(tmp_path_factory.mktemp("examples"), shared_data.parent)
