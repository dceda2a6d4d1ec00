"""Command-line interface (``sarbd ...``). One module per sub-command."""

from __future__ import annotations

import importlib
import importlib.util
import sys

from sarbd.cli.app import app
from sarbd.cli.app import main as _main

__all__ = ["app", "load_commands", "main"]

#: Sub-command modules, each registering its command(s) on :data:`app` when imported.
#: A module that is not part of this installation yet is a stage not yet built and is
#: skipped; a module that exists but fails to import is a bug and raises.
COMMAND_MODULES: tuple[str, ...] = (
    "demo", "simulate", "info", "geocode", "coregister", "signatures", "radarcode",
    "build", "validate", "train", "report",
)

_loaded: list[bool] = []


def load_commands() -> None:
    """Import every sub-command module once (they register on :data:`app`)."""
    if not _loaded:
        for name in COMMAND_MODULES:
            if importlib.util.find_spec(f"sarbd.cli.{name}") is not None:
                importlib.import_module(f"sarbd.cli.{name}")
        _loaded.append(True)


def main() -> None:
    """Console-script entry point."""
    sys.exit(_main())
