"""The CLI: --help, --version, and the one-line user-error path."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sarbd import __version__
from sarbd.cli import app, load_commands
from sarbd.cli.app import EXIT_USER_ERROR, main
from sarbd.errors import ProductError


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sarbd", *args], capture_output=True, text=True, timeout=120
    )


def test_help_and_version():
    res = run("--help")
    assert res.returncode == 0 and "Usage" in res.stdout and "demo" in res.stdout
    res = run("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"sarbd {__version__}"


def test_every_command_has_help_with_an_example():
    load_commands()
    import typer

    group = typer.main.get_command(app)
    for name in group.commands:  # type: ignore[attr-defined]
        res = run(name, "--help")
        assert res.returncode == 0, (name, res.stderr)
        assert "Example" in res.stdout, f"`sarbd {name} --help` shows no example"


def test_user_error_is_one_line_and_exit_2(capsys, monkeypatch):
    load_commands()

    @app.command("_raise_for_test", hidden=True)
    def _boom() -> None:
        raise ProductError(
            "annotation XML is truncated", path="/data/x.xml", hint="download the product again"
        )

    try:
        status = main(["_raise_for_test"])
        err = capsys.readouterr().err
        assert status == EXIT_USER_ERROR
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines == [
            "sarbd: error: /data/x.xml: annotation XML is truncated. download the product again."
        ]
        assert "Traceback" not in err
        status = main(["--debug", "_raise_for_test"])
        assert status == EXIT_USER_ERROR
        assert "Traceback" in capsys.readouterr().err
    finally:
        app.registered_commands[:] = [
            c for c in app.registered_commands if c.name != "_raise_for_test"
        ]


def test_unknown_option_is_a_usage_error():
    res = run("demo", "--no-such-option")
    assert res.returncode == 2 and "No such option" in res.stderr


@pytest.mark.parametrize("flag", ["-q", "-v", "-vv"])
def test_verbosity_flags_accepted(flag):
    assert run(flag, "--help").returncode == 0
