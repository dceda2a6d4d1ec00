"""Scene simulator: the embedded default of sarbd (see ``docs/simulator.md``).

:func:`simulate_scene` writes a multi-date, dual-polarisation Sentinel-1-like scene
(SAFE products that :func:`sarbd.open_product` reads with no special case), a DEM
above EGM96, the true and the "reference" vectors (GeoPackage) and a truth folder
(class maps, true offsets, coherence, residual phase, corruption log), all from one
seed.
"""

from __future__ import annotations

from sarbd.simulate.api import SimulatedScene, simulate_scene
from sarbd.simulate.config import CLASSES, SIZES, LandClass, SimulationConfig

__all__ = ["CLASSES", "SIZES", "LandClass", "SimulatedScene", "SimulationConfig", "simulate_scene"]
