"""Radarcoding: reference geodata (vectors, rasters) -> per-class fractions on the radar grid.

:func:`radarcode` is the entry point; see ``docs/radarcoding.md``.

The public name ``sarbd.radarcode`` is both this package and the function: once the
package is imported, Python binds the attribute ``sarbd.radarcode`` to the package,
which would hide the function that ``sarbd/__init__.py`` exposes lazily. The package
is therefore made callable: ``sarbd.radarcode(...)`` calls :func:`radarcode`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from sarbd.radarcode.api import radarcode
from sarbd.radarcode.rasters import radarcode_raster

__all__ = ["radarcode", "radarcode_raster"]


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return radarcode(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
