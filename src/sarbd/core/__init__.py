"""Core radar data model: orbits, zero-Doppler radar grids, scenes, the WGS84 ellipsoid."""

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import SPEED_OF_LIGHT, RadarGrid
from sarbd.core.scene import ArrayPixelSource, PixelSource, Scene

__all__ = ["SPEED_OF_LIGHT", "ArrayPixelSource", "Orbit", "PixelSource", "RadarGrid", "Scene"]
