"""Sentinel-1 IW-like sensor and processor constants used by the simulator.

Values are those of real Sentinel-1 IW SLC annotations (e.g. the S1B product in
``../shared/data/s1_safe_metadata``: ``rangeSamplingRate``, ``radarFrequency``,
``azimuthTimeInterval``, ``swathProcParams``) and the Sentinel-1 product
definition (ESA, S1-RS-MDA-52-7441).
"""

from __future__ import annotations

from sarbd.core.radar_grid import SPEED_OF_LIGHT

__all__ = [
    "AZIMUTH_BANDWIDTH",
    "AZIMUTH_STEERING_RATE_DEG",
    "AZIMUTH_TIME_INTERVAL",
    "AZIMUTH_WINDOW_COEFFICIENT",
    "BETA_NOUGHT",
    "BURST_CYCLE_LINES",
    "PRF",
    "RADAR_FREQUENCY",
    "RANGE_BANDWIDTH",
    "RANGE_PIXEL_SPACING",
    "RANGE_SAMPLING_RATE",
    "RANGE_WINDOW_COEFFICIENT",
    "WAVELENGTH",
]

#: Carrier frequency, Hz (annotation ``radarFrequency``).
RADAR_FREQUENCY = 5.405000454334350e9
#: Wavelength, m.
WAVELENGTH = SPEED_OF_LIGHT / RADAR_FREQUENCY
#: Range sampling rate, Hz (annotation ``rangeSamplingRate``).
RANGE_SAMPLING_RATE = 6.434523812571428e7
#: Slant-range pixel spacing, m.
RANGE_PIXEL_SPACING = SPEED_OF_LIGHT / (2.0 * RANGE_SAMPLING_RATE)
#: Processed range bandwidth, Hz (IW2 ``processingBandwidth`` is 56.5 MHz, IW1 56.5, IW3 42.8).
RANGE_BANDWIDTH = 5.65e7
#: Generalised Hamming coefficient of the range window (``windowCoefficient``).
RANGE_WINDOW_COEFFICIENT = 0.75
#: Azimuth time interval of IW SLC lines, s (``azimuthTimeInterval``).
AZIMUTH_TIME_INTERVAL = 2.055556299999998e-3
#: Processed azimuth bandwidth, Hz (``azimuthProcessing/processingBandwidth``).
AZIMUTH_BANDWIDTH = 327.0
#: Generalised Hamming coefficient of the azimuth window.
AZIMUTH_WINDOW_COEFFICIENT = 0.70
#: Pulse repetition frequency, Hz (``downlinkInformation/prf``, IW2-like).
PRF = 1717.128973878037
#: Azimuth antenna steering rate of IW, degrees per second (``azimuthSteeringRate``).
AZIMUTH_STEERING_RATE_DEG = 1.590368784
#: Burst cycle of a real IW swath in lines (2.758 s / azimuth time interval).
BURST_CYCLE_LINES = 1342
#: betaNought calibration constant of IPF >= 2.9 SLCs (constant over the swath).
BETA_NOUGHT = 2.369867e2
