"""sarbd: create labelled SAR benchmark datasets for machine learning.

The public surface (see ``docs/ARCHITECTURE.md``):

- :func:`sarbd.open_product` -- read an SLC product into a :class:`~sarbd.core.Scene`
- :func:`sarbd.rdr2geo`, :func:`sarbd.geo2rdr` -- radar geometry
- :func:`sarbd.signatures.compute` -- per-pixel SAR signatures
- :func:`sarbd.radarcode` -- external geodata onto the radar grid
- :func:`sarbd.build` -- the whole pipeline from one configuration

Heavy sub-packages are imported on first use, so ``import sarbd`` stays fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sarbd.core import Orbit, RadarGrid, Scene
from sarbd.errors import SarbdError

try:
    __version__ = version("sarbd")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

# public name -> module that defines it (imported lazily)
_LAZY: dict[str, str] = {
    "open_product": "sarbd.products",
    "rdr2geo": "sarbd.geometry",
    "geo2rdr": "sarbd.geometry",
    "radarcode": "sarbd.radarcode",
    "build": "sarbd.pipeline",
}

__all__ = ["Orbit", "RadarGrid", "SarbdError", "Scene", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return getattr(module, name)
    raise AttributeError(f"module 'sarbd' has no attribute {name!r}")
