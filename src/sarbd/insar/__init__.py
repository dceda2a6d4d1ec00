"""Interferometry on a coregistered stack: interferograms, coherence, multilooking."""

from __future__ import annotations

from sarbd.insar.coherence import (
    boxcar,
    coherence,
    coherence_window_from_metres,
    expected_coherence,
)
from sarbd.insar.interferogram import geometric_phase, interferogram
from sarbd.insar.multilook import multilook

__all__ = [
    "boxcar",
    "coherence",
    "coherence_window_from_metres",
    "expected_coherence",
    "geometric_phase",
    "interferogram",
    "multilook",
]
