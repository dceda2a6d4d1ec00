"""One exception hierarchy for sarbd.

Every error a user can cause (a bad file, a wrong option, an orbit that does not
cover the acquisition) derives from :class:`SarbdError`. The command line turns
such an error into one line -- what went wrong, which file, what to do -- and exit
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ConfigError",
    "DependencyError",
    "GeometryError",
    "InputError",
    "NoOverlapError",
    "OrbitError",
    "OutputError",
    "ProductError",
    "SarbdError",
]


class SarbdError(Exception):
    """Base class of every error sarbd raises on purpose.

    Parameters
    ----------
    message
        What went wrong, in one sentence.
    path
        The file or folder concerned, if any.
    hint
        What the user can do about it, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The error as one line: ``path: message (hint)``."""
        text = self.message.rstrip(".")
        if self.path is not None:
            text = f"{self.path}: {text}"
        if self.hint:
            text = f"{text}. {self.hint.rstrip('.')}."
        # one line, whatever a library's message held (GDAL and libxml2 end theirs with newlines)
        return " ".join(text.split())


class InputError(SarbdError):
    """An input file, folder or option is missing, malformed or unusable."""


class ProductError(InputError):
    """A SAR product (SAFE, annotation, measurement, HDF5) cannot be read as expected."""


class ConfigError(InputError):
    """A configuration file or option is invalid."""


class NoOverlapError(InputError):
    """Two inputs that must overlap in space or time do not."""


class OutputError(SarbdError):
    """An output cannot be written where asked (exists and is not sarbd's, disk full, read-only)."""


class OrbitError(SarbdError):
    """An orbit cannot answer the request (e.g. a time outside its covered span)."""


class GeometryError(SarbdError):
    """A geometric solution failed (e.g. geo2rdr did not converge)."""


class DependencyError(SarbdError):
    """Something sarbd needs at run time is not installed (e.g. the geoid grid)."""
