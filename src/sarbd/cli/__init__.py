"""Command-line interface (``sarbd ...``). One module per sub-command."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from sarbd.cli.app import app
from sarbd.cli.app import main as _main
from sarbd.utils.allocator import tune_allocator

__all__ = ["app", "load_commands", "main"]

#: Sub-command modules, each registering its command(s) on :data:`app` when imported.
#: A module that is not part of this installation yet is a stage not yet built and is
#: skipped; a module that exists but fails to import is a bug and raises.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "simulate",
    "info",
    "geocode",
    "coregister",
    "signatures",
    "radarcode",
    "build",
    "validate",
    "train",
    "report",
    "import_stack",
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
    from sarbd.cli.app import _state

    # chunk buffers reused instead of fresh pages per chunk (sarbd.utils.allocator)
    tune_allocator()
    status = _main()
    if status and _state.get("hard_exit"):
        # an output could not be written: everything sarbd wrote is atomic and the error is
        # printed; skip the interpreter's teardown, where a library left in a failed state
        # (HDF5 after a failed write) can crash
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
