"""What a reader's product object provides: typed joints between readers and coregistration.

``Scene.product`` is reader-specific; its type is :data:`ProductDetails` (an
:class:`AcquisitionMode`, or ``None`` for a scene without product information, e.g. an
imported stack's reference). Code that needs more of it checks the capability's
:class:`typing.Protocol` here with ``isinstance`` (all are ``runtime_checkable``)
instead of guessing attribute by attribute, and every reader states
:attr:`AcquisitionMode.is_tops` explicitly (Sentinel-1 from its bursts; NISAR, UAVSAR,
Radarsat-2, Envisat/ERS are stripmap: ``False``).

- :class:`AcquisitionMode`: ``is_tops``; every reader's product implements it.
- :class:`AzimuthRampProvider`: the annotation of the azimuth phase ramp (Doppler
  centroid and azimuth FM-rate polynomials in two-way range time, antenna steering
  rate): Sentinel-1 (TOPS and stripmap), Envisat/ERS IMS and Radarsat-2 (annotated Doppler
  centroid, geometric FM rate; Radarsat-2 without a ``dopplerCentroid`` has no ramp).
  Products without it (NISAR/UAVSAR RSLC) are resampled without a ramp.
- :class:`TopsBurstTiming`: the bursts of a TOPS swath and how a debursted swath's
  lines map onto them (Sentinel-1 IW/EW).
- :class:`CalibrationProvider`: radiometric calibration and noise LUTs per polarisation,
  on measurement-raster (TIFF) lines (Sentinel-1, Radarsat-2, Envisat).
- :class:`GeolocationGridProvider`: the annotation's tie-point grid (Sentinel-1,
  Radarsat-2, Envisat), for metadata and the annotation height model.
- :class:`FootprintPolygon`: a footprint polygon as WKT (NISAR/UAVSAR RSLC), for
  metadata when there is no geolocation grid.
- :class:`ProcessedRangeBand`: the processed range band (NISAR/UAVSAR RSLC), for the
  common-band filter of coregistration.

The ramp itself is :class:`sarbd.coregistration.tops.AzimuthRamp`
(ESA COPE-GSEG-EOPG-TN-14-0025; Miranda 2017).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AcquisitionMode",
    "AzimuthRampProvider",
    "BurstTiming",
    "CalibrationProvider",
    "DeburstMap",
    "DopplerPolynomial",
    "FmRatePolynomial",
    "FootprintPolygon",
    "GeolocationGridProvider",
    "ProcessedRangeBand",
    "ProductDetails",
    "TopsBurstTiming",
    "is_tops_product",
]


@runtime_checkable
class AcquisitionMode(Protocol):
    """A product that states whether it is TOPS (bursts) or not (stripmap / spotlight)."""

    @property
    def is_tops(self) -> bool:
        """True for TOPS (Sentinel-1 IW/EW) products."""
        ...


class DopplerPolynomial(Protocol):
    """A Doppler-centroid estimate ``f_dc(tau) = sum c_i (tau - t0)^i`` (Hz; ``tau`` two-way range time, s)."""

    @property
    def azimuth_time(self) -> np.datetime64: ...
    @property
    def t0(self) -> float: ...
    @property
    def data_coefficients(self) -> Sequence[float]: ...


class FmRatePolynomial(Protocol):
    """An azimuth FM rate ``k_a(tau) = sum c_i (tau - t0)^i`` (Hz/s)."""

    @property
    def azimuth_time(self) -> np.datetime64: ...
    @property
    def t0(self) -> float: ...
    @property
    def coefficients(self) -> Sequence[float]: ...


@runtime_checkable
class AzimuthRampProvider(Protocol):
    """A product whose annotation defines its azimuth phase ramp (see the module docstring)."""

    @property
    def is_tops(self) -> bool: ...
    @property
    def doppler_centroids(self) -> Sequence[DopplerPolynomial]: ...
    @property
    def azimuth_fm_rates(self) -> Sequence[FmRatePolynomial]: ...
    @property
    def azimuth_steering_rate(self) -> float:
        """Antenna azimuth steering rate, deg/s as annotated (0 for stripmap)."""
        ...

    @property
    def slant_range_time(self) -> float:
        """Two-way slant-range time of the first sample, s."""
        ...

    @property
    def number_of_samples(self) -> int: ...


class BurstTiming(Protocol):
    """One TOPS burst: first zero-Doppler time, lines, first line in the measurement TIFF, valid lines."""

    @property
    def azimuth_time(self) -> np.datetime64: ...
    @property
    def lines(self) -> int: ...
    @property
    def line_offset(self) -> int: ...
    @property
    def valid_lines(self) -> tuple[int, int]: ...


class DeburstMap(Protocol):
    """How the lines of a debursted swath map onto bursts (arrays indexed by merged line)."""

    @property
    def burst(self) -> NDArray[np.integer]: ...
    @property
    def tiff_line(self) -> NDArray[np.integer]: ...
    @property
    def burst_start_line(self) -> NDArray[np.floating]: ...
    @property
    def first_valid(self) -> NDArray[np.integer]: ...
    @property
    def last_valid(self) -> NDArray[np.integer]: ...


@runtime_checkable
class TopsBurstTiming(Protocol):
    """A TOPS product's burst timing (Sentinel-1 IW/EW; ESA S1-RS-MDA-52-7441 sec. 10.6)."""

    @property
    def is_tops(self) -> bool: ...
    @property
    def layout(self) -> str:
        """``"debursted"`` for a merged swath, ``"tiff"`` for TIFF lines (crops, bursts)."""
        ...

    @property
    def bursts(self) -> Sequence[BurstTiming]: ...
    @property
    def lines_per_burst(self) -> int: ...
    @property
    def azimuth_time_interval(self) -> float: ...
    @property
    def crop_burst(self) -> int | None: ...
    @property
    def deburst(self) -> DeburstMap | None: ...


#: The type of ``Scene.product``: every reader's product states its acquisition mode;
#: ``None`` is a scene without product information.
ProductDetails: TypeAlias = "AcquisitionMode | None"


@runtime_checkable
class CalibrationProvider(Protocol):
    """A product with calibration and noise LUTs: polarisation -> LUT (``sarbd.products.calibration``).

    The LUTs' lines are lines of the measurement raster (TIFF); :meth:`tiff_lines` maps
    the scene's root-grid lines onto them (-1 where a line has no TIFF line).
    """

    @property
    def calibration(self) -> Mapping[str, object]: ...
    @property
    def noise(self) -> Mapping[str, object]: ...
    def tiff_lines(self, lines: NDArray[np.int64]) -> NDArray[np.int64]: ...


@runtime_checkable
class GeolocationGridProvider(Protocol):
    """A product with an annotation geolocation grid: a DataFrame of tie points.

    Columns ``line``, ``pixel`` (root-grid indices), ``azimuth_time``, ``slant_range_time``,
    ``latitude``, ``longitude``, ``height`` (ellipsoidal, m), ``incidence_angle`` ...
    (``sarbd.products.radarsat2.complete_geolocation_grid`` fills them for non-S1 readers).
    """

    @property
    def geolocation_grid(self) -> pd.DataFrame: ...


@runtime_checkable
class FootprintPolygon(Protocol):
    """A product stating its footprint as a WKT polygon (``None`` when the file has none)."""

    @property
    def bounding_polygon(self) -> str | None: ...


@runtime_checkable
class ProcessedRangeBand(Protocol):
    """A product stating its processed range band: centre frequency and bandwidth, Hz."""

    @property
    def processed_center_frequency(self) -> float: ...
    @property
    def processed_range_bandwidth(self) -> float: ...


def is_tops_product(product: object) -> bool:
    """Whether a scene's product is TOPS; ``None`` (no product information) is not.

    Raises
    ------
    TypeError
        If the product does not state its acquisition mode (a reader without
        ``is_tops``): it would otherwise be treated as stripmap silently.
    """
    if product is None:
        return False
    if not isinstance(product, AcquisitionMode):
        raise TypeError(
            f"{type(product).__name__} does not state whether it is TOPS (no is_tops): "
            "readers must implement sarbd.core.capabilities.AcquisitionMode"
        )
    return bool(product.is_tops)
