"""docs/cli.md is generated from the commands and must be current."""

from __future__ import annotations

from pathlib import Path

from sarbd.cli.reference import markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current():
    assert DOC.read_text() == markdown(), (
        "regenerate with: python -m sarbd.cli.reference > docs/cli.md"
    )
