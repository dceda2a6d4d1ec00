"""Command-line interface (``sarbd ...``). One module per sub-command."""

from __future__ import annotations

import importlib
import sys

from sarbd.cli.app import app
from sarbd.cli.app import main as _main

__all__ = ["app", "load_commands", "main"]

#: Sub-command modules, each registering its command(s) on :data:`app` when imported.
COMMAND_MODULES: tuple[str, ...] = ("demo",)

_loaded: list[bool] = []


def load_commands() -> None:
    """Import every sub-command module once (they register on :data:`app`)."""
    if not _loaded:
        for name in COMMAND_MODULES:
            importlib.import_module(f"sarbd.cli.{name}")
        _loaded.append(True)


def main() -> None:
    """Console-script entry point."""
    sys.exit(_main())
