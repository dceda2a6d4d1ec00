"""Logging and progress bars.

``sarbd`` logs through the standard :mod:`logging` module under the ``"sarbd"``
logger. The CLI sets the level from ``-v/--verbose`` and ``-q/--quiet``. Progress
bars (Rich) appear only when standard error is a terminal and output is not quiet,
so logs in CI and in files stay clean.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["configure_logging", "get_logger", "is_quiet", "progress", "progress_enabled"]

T = TypeVar("T")

_state = {"quiet": False}


def get_logger(name: str) -> logging.Logger:
    """A logger below the ``sarbd`` namespace (pass ``__name__``)."""
    return logging.getLogger(name if name.startswith("sarbd") else f"sarbd.{name}")


def configure_logging(verbosity: int = 0, quiet: bool = False) -> None:
    """Set up the ``sarbd`` logger: WARNING by default, INFO with -v, DEBUG with -vv, ERROR with -q."""
    _state["quiet"] = quiet
    level = (
        logging.ERROR
        if quiet
        else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)]
    )
    logger = logging.getLogger("sarbd")
    logger.setLevel(level)
    if not logger.handlers:
        try:
            from rich.logging import RichHandler

            handler: logging.Handler = RichHandler(
                console=_stderr_console(), show_path=False, rich_tracebacks=False
            )
        except ImportError:  # pragma: no cover - rich is a dependency
            handler = logging.StreamHandler(sys.stderr)
        logger.addHandler(handler)
    logger.propagate = False


def _stderr_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)


def is_quiet() -> bool:
    """Whether the CLI was asked for ``-q/--quiet``."""
    return _state["quiet"]


def progress_enabled() -> bool:
    """Whether progress bars are shown: standard error is a terminal and not ``--quiet``."""
    return (not _state["quiet"]) and sys.stderr.isatty()


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` with a progress bar when :func:`progress_enabled`, silently otherwise."""
    if not progress_enabled():
        yield from items
        return
    from rich.progress import track

    yield from track(
        items, description=description, total=total, console=_stderr_console(), transient=True
    )
