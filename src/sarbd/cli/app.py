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
from typing import Any

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

_state: dict[str, Any] = {"debug": bool(os.environ.get("SARBD_DEBUG"))}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"sarbd {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-vv for debug)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors; no progress bars."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Create labelled SAR benchmark datasets for machine learning."""
    _state["debug"] = _state["debug"] or debug
    configure_logging(verbosity=verbose, quiet=quiet)


def _report_user_error(exc: SarbdError) -> int:
    from sarbd.errors import OutputError

    if _state["debug"]:
        traceback.print_exception(exc)
    typer.echo(f"sarbd: error: {exc.one_line()}", err=True)
    # after a failed write, libraries may hold files in a failed state (HDF5 after ENOSPC) and
    # crash in their own teardown: the console script then leaves without it (cli.main)
    _state["hard_exit"] = isinstance(exc, OutputError)
    if _state["hard_exit"]:
        # keep the error (and through its traceback the failed writer's objects) alive until
        # the console script exits: freeing them runs HDF5 finalizers that can crash
        _state["error"] = exc
    return EXIT_USER_ERROR


def _quiet_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """Errors raised in finalizers (``Exception ignored in ... __dealloc__``) go to the debug log.

    They cannot propagate; after a failed write HDF5 reports one per open object, burying
    the one-line error. ``--debug`` prints them as Python would.
    """
    if _state["debug"]:
        sys.__unraisablehook__(unraisable)
        return
    import logging

    logging.getLogger("sarbd").debug("ignored in %r: %s", unraisable.object, unraisable.exc_value)


def _quiet_excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """Tracebacks that C extensions print from finalizers (Cython ``__dealloc__``) go to the debug log.

    Installed only while a command runs: an exception escaping :func:`main` (a bug) is
    printed by the interpreter after the original hook is back.
    """
    if _state["debug"]:
        sys.__excepthook__(kind, value, tb)
        return
    import logging

    logging.getLogger("sarbd").debug("finalizer error: %s: %s", kind.__name__, value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the status code."""
    from sarbd.cli import load_commands

    load_commands()
    args = list(sys.argv[1:] if argv is None else argv)
    # reset per call: a previous call's --debug must not leak into this one
    _state["debug"] = bool(os.environ.get("SARBD_DEBUG")) or "--debug" in args
    command = typer.main.get_command(app)
    _state["hard_exit"] = False
    _state.pop("error", None)
    sys.unraisablehook, sys.excepthook = _quiet_unraisable, _quiet_excepthook
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
    finally:
        sys.unraisablehook, sys.excepthook = sys.__unraisablehook__, sys.__excepthook__
    return 0
