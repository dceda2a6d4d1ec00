"""The documentation cannot rot: every `sarbd ...` command line in docs/ and the README
names a real command and only options that command has; every linked page exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from sarbd.cli import app, load_commands

REPO = Path(__file__).resolve().parents[1]
PAGES = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
GLOBAL_OPTIONS = {"-v", "--verbose", "-vv", "-q", "--quiet", "--debug", "--version", "--help"}


def _command_lines(text: str) -> list[str]:
    lines = []
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("sarbd "):
                lines.append(line)
    return lines


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_command_lines_are_valid(page):
    load_commands()
    group = typer.main.get_command(app)
    for line in _command_lines(page.read_text()):
        words = shlex.split(line)[1:]
        while words and words[0] in GLOBAL_OPTIONS:
            words.pop(0)
        if not words:
            continue
        name = words[0]
        assert name in group.commands, f"{page.name}: unknown command in `{line}`"  # type: ignore[attr-defined]
        command = group.commands[name]  # type: ignore[attr-defined]
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for word in words[1:]:
            if word.startswith("-"):
                assert word.split("=")[0] in known | {"--help"}, f"{page.name}: `{line}`: no option {word}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
