"""The documentation cannot rot: every `sarbd ...` command line in docs/ and the README
names a real command and only options that command has, and is *executed*, exactly as
written, from a folder laid out like the repository root (``examples/`` copied, the real
data at ``../shared/data``); every linked page exists.

Execution is split three ways, and a test checks that no command falls through:

* lines that work on the simulated scene (``sim``, ``sim-sarbd``, the demo) or on the ML
  fixture (``syn``) run in order, page by page, in ``test_slow_doc_commands_run``
  (``-m slow``: simulating and building a scene takes minutes on 2 cores);
* lines that are the header commands of an example configuration (``examples/*.yaml``)
  are run, verbatim, by ``tests/examples/test_real_builds.py``;
* every other line runs by default in ``test_fast_doc_commands_run`` (real-data ``info``,
  ``geocode``, ``radarcode``, ``--print-config``, ``--help``...).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from sarbd.cli import app, load_commands
from tests.examples.conftest import EXAMPLES, header_commands, make_workspace, run_line

REPO = Path(__file__).resolve().parents[1]
PAGES = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
GLOBAL_OPTIONS = {"-v", "--verbose", "-vv", "-q", "--quiet", "--debug", "--version", "--help"}
SHELL_LANGUAGES = {"", "bash", "sh", "console", "shell"}
_FENCE = re.compile(r"^\s*```\s*([\w+-]*)\s*$")
#: Words that put a line in the slow, simulated-scene flow.
_SLOW_WORDS = re.compile(r"^(sim|sim-sarbd|sim-run|sim-report\.html|syn|runs/\w+|sarbd-demo)(/|$)")


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Fenced code blocks as ``(language, lines)``, fences matched line by line."""
    blocks: list[tuple[str, list[str]]] = []
    lang: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        m = _FENCE.match(line)
        if m and lang is None:
            lang, body = m.group(1).lower(), []
        elif line.strip() == "```" and lang is not None:
            blocks.append((lang, body))
            lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def _strip_comment(line: str) -> str:
    """The line without a trailing shell comment (a '#' that starts a word outside quotes)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return " ".join(shlex.quote(w) for w in lexer)


def _command_lines(text: str) -> list[str]:
    """Every ``sarbd ...`` command line of the shell blocks, continuation lines joined."""
    lines = []
    for lang, body in _blocks(text):
        if lang not in SHELL_LANGUAGES:
            continue
        joined: list[str] = []
        pending = ""
        for raw in body:
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            joined.append(pending + raw)
            pending = ""
        for line in joined:
            line = _strip_comment(line.strip())
            if line.startswith("sarbd "):
                lines.append(line)
    return lines


def _doc_commands() -> list[tuple[Path, str]]:
    return [(page, line) for page in PAGES for line in _command_lines(page.read_text())]


def _example_lines() -> set[str]:
    return {line for config in sorted(EXAMPLES.glob("*.yaml")) for line in header_commands(config)}


def _is_slow(line: str) -> bool:
    words = shlex.split(line)[1:]
    return bool(words) and (
        words[0] in ("demo", "simulate") or any(_SLOW_WORDS.match(w) for w in words)
    )


def _kind(line: str) -> str:
    if _is_slow(line):
        return "slow"
    if line in _example_lines():
        return "example"
    return "fast"


def test_the_docs_have_commands_of_every_kind():
    kinds = {_kind(line) for _, line in _doc_commands()}
    assert kinds == {"slow", "example", "fast"}
    # the example configurations' own commands all appear in the tutorial
    tutorial = set(_command_lines((REPO / "docs" / "tutorial.md").read_text()))
    for config in ("terceira.yaml", "uavsar_sanand.yaml"):
        assert set(header_commands(EXAMPLES / config)) <= tutorial, config


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
            if word.startswith("-") and not _is_number(word):
                assert word.split("=")[0] in known | {"--help"}, (
                    f"{page.name}: `{line}`: no option {word}"
                )


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def test_continuations_and_comments_are_parsed():
    text = "```bash\nsarbd geocode a.h5 \\\n    --dem d.tif   # the DEM\n# sarbd no\n```\n```text\nsarbd x\n```\n"
    assert _command_lines(text) == ["sarbd geocode a.h5 --dem d.tif"]


@pytest.fixture
def workspace(tmp_path, shared_data):
    return make_workspace(tmp_path, shared_data.parent)


def test_fast_doc_commands_run(workspace, monkeypatch):
    ran = []
    for page, line in _doc_commands():
        if _kind(line) != "fast":
            continue
        assert run_line(line, workspace, monkeypatch) == 0, f"{page.name}: `{line}` failed"
        ran.append(line)
    assert len(ran) >= 6  # --version, --help, info, geocode, radarcode x2 at least


@pytest.mark.slow
def test_slow_doc_commands_run(tmp_path, shared_data, monkeypatch):
    """README, tutorial and ml.md followed literally, each page in its own fresh workspace."""
    import yaml

    from sarbd.pipeline.config import load_config

    by_page: dict[Path, list[str]] = {}
    for page, line in _doc_commands():
        if _kind(line) == "slow":
            by_page.setdefault(page, []).append(line)
    assert {p.name for p in by_page} >= {"README.md", "tutorial.md", "ml.md"}
    for page, lines in by_page.items():
        ws = make_workspace(tmp_path / page.stem, shared_data.parent)
        if page.name == "ml.md":  # its setup line: the synthetic fixture dataset, as the page says
            from tests.ml.synthetic import make_synthetic_dataset

            with monkeypatch.context() as m:
                m.chdir(ws)
                make_synthetic_dataset("syn")
        for line in lines:
            assert run_line(line, ws, monkeypatch) == 0, f"{page.name}: `{line}` failed"
        if (ws / "sim" / "build.yaml").exists():
            # examples/simulated.yaml is the configuration `sarbd simulate` writes, paths aside
            a = load_config(ws / "sim" / "build.yaml").resolved()
            b = load_config(ws / "examples" / "simulated.yaml").resolved()
            assert a == b, yaml.safe_dump({"simulate": a, "examples": b})


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
