"""The ``sarbd`` command-line application: global options and error handling.

Each sub-command lives in its own module of :mod:`sarbd.cli` and registers itself
on :data:`app`; the modules only parse options and call library functions, no
science lives here. A :class:`~sarbd.errors.SarbdError` becomes one line on standard
error and exit status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer

from sarbd import __version__
from sarbd.errors import SarbdError
from sarbd.utils.log import configure_logging

__all__ = ["app", "main"]

#: Exit status for user errors (bad input, bad options).
EXIT_USER_ERROR = 2

app = typer.Typer(
    name="sarbd",
    help=(
        "Create labelled SAR benchmark datasets for machine learning.\n\n"
        "Example: sarbd demo --out sarbd-demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

_state: dict[str, bool] = {"debug": bool(os.environ.get("SARBD_DEBUG"))}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"sarbd {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-vv for debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors; no progress bars."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Create labelled SAR benchmark datasets for machine learning."""
    _state["debug"] = _state["debug"] or debug
    configure_logging(verbosity=verbose, quiet=quiet)


def _report_user_error(exc: SarbdError) -> int:
    if _state["debug"]:
        traceback.print_exception(exc)
    typer.echo(f"sarbd: error: {exc.one_line()}", err=True)
    return EXIT_USER_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the status code."""
    from sarbd.cli import load_commands

    load_commands()
    args = list(sys.argv[1:] if argv is None else argv)
    # reset per call: a previous call's --debug must not leak into this one
    _state["debug"] = bool(os.environ.get("SARBD_DEBUG")) or "--debug" in args
    command = typer.main.get_command(app)
    try:
        # standalone mode: click prints usage errors itself and exits (status 2);
        # our own errors come through as SarbdError.
        command.main(args=args, prog_name="sarbd", standalone_mode=True)
    except SarbdError as exc:
        return _report_user_error(exc)
    except OSError as exc:
        # the OS refusing a write (disk full, read-only, permissions) is the environment, not a bug
        from sarbd.utils.files import is_environment_error, output_error

        if not is_environment_error(exc):
            raise
        return _report_user_error(output_error(exc, exc.filename or "."))
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
