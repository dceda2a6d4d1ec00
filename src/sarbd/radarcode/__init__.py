"""Radarcoding: reference geodata (vectors, rasters) -> per-class fractions on the radar grid.

:func:`radarcode` is the entry point; see ``docs/radarcoding.md``.

The public name ``sarbd.radarcode`` is both this package and the function: once the
package is imported, Python binds the attribute ``sarbd.radarcode`` to the package,
which would hide the function that ``sarbd/__init__.py`` exposes lazily. The package
is therefore made callable: ``sarbd.radarcode(...)`` calls :func:`radarcode`.

The functions are imported on first use, so that light modules of the package
(:mod:`sarbd.radarcode.formats`) can be imported without the whole chain.

Layers, lowest first (a module imports only from those above it in this list):
``formats``, ``shapes``, ``coverage``, ``derived``, ``target``, ``vectors`` ->
``prepare`` (map side) -> ``project`` (radar side) -> ``tiling`` (batches, blocks) ->
``rasters``, ``merge`` -> ``api``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sarbd.radarcode.api import radarcode
    from sarbd.radarcode.rasters import radarcode_raster

__all__ = ["radarcode", "radarcode_raster"]

_LAZY = {"radarcode": "sarbd.radarcode.api", "radarcode_raster": "sarbd.radarcode.rasters"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return __getattr__("radarcode")(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
