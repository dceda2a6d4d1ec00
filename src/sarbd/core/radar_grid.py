"""The zero-Doppler radar grid: where each (line, pixel) sits in azimuth time and slant range.

Conventions (the same as ESA's Sentinel-1 annotation and isce3's
``RadarGridParameters``):

* line ``i`` is imaged at zero-Doppler azimuth time
  ``sensing_start + i * azimuth_time_interval`` (seconds since ``reference_epoch``);
* pixel ``j`` lies at slant range ``starting_range + j * range_pixel_spacing`` (m);
* integer indices are pixel *centres*; fractional indices are allowed everywhere;
* a window (crop) keeps its absolute position in the grid it was cut from through
  ``first_line`` / ``first_pixel``, counted from the root grid (the full swath).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sarbd.errors import InputError

__all__ = ["SPEED_OF_LIGHT", "RadarGrid"]

#: Speed of light in vacuum, m/s (exact, SI definition).
SPEED_OF_LIGHT = 299_792_458.0

LookSide = Literal["right", "left"]


@dataclass(frozen=True)
class RadarGrid:
    """A zero-Doppler radar grid (isce3: ``RadarGridParameters``).

    Parameters
    ----------
    reference_epoch
        UTC epoch that azimuth times are counted from (``datetime64[ns]``).
    sensing_start
        Azimuth time of line 0, seconds since ``reference_epoch``.
    azimuth_time_interval
        Time between lines, s (1 / PRF for unfocused-rate products; the
        annotation's ``azimuthTimeInterval`` for Sentinel-1).
    starting_range
        Slant range of pixel 0, m (two-way range time * c / 2).
    range_pixel_spacing
        Slant-range spacing between pixels, m.
    length, width
        Number of lines and pixels.
    wavelength
        Radar wavelength, m.
    look_side
        ``"right"`` (Sentinel-1, NISAR) or ``"left"``.
    first_line, first_pixel
        Absolute position of line 0 / pixel 0 in the root grid (0 for a full swath).
    """

    reference_epoch: np.datetime64
    sensing_start: float
    azimuth_time_interval: float
    starting_range: float
    range_pixel_spacing: float
    length: int
    width: int
    wavelength: float
    look_side: LookSide = "right"
    first_line: int = 0
    first_pixel: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "reference_epoch", np.datetime64(self.reference_epoch, "ns"))
        if self.length <= 0 or self.width <= 0:
            raise InputError(
                f"a radar grid needs a positive shape, got {self.length} x {self.width}"
            )
        if not (self.azimuth_time_interval > 0 and self.range_pixel_spacing > 0):
            raise InputError("azimuth time interval and range pixel spacing must be positive")
        if not (self.starting_range > 0 and self.wavelength > 0):
            raise InputError("starting range and wavelength must be positive")
        if self.look_side not in ("right", "left"):
            raise InputError(f"look side must be 'right' or 'left', got {self.look_side!r}")

    # -- derived quantities -------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(length, width)``: number of lines and pixels."""
        return (self.length, self.width)

    @property
    def prf(self) -> float:
        """Line rate, Hz (1 / azimuth time interval)."""
        return 1.0 / self.azimuth_time_interval

    @property
    def sensing_stop(self) -> float:
        """Azimuth time of the last line, seconds since ``reference_epoch``."""
        return self.sensing_start + (self.length - 1) * self.azimuth_time_interval

    @property
    def ending_range(self) -> float:
        """Slant range of the last pixel, m."""
        return self.starting_range + (self.width - 1) * self.range_pixel_spacing

    @property
    def mid_range(self) -> float:
        """Slant range of the centre of the swath, m."""
        return 0.5 * (self.starting_range + self.ending_range)

    @property
    def look_sign(self) -> int:
        """+1 for right-looking, -1 for left-looking."""
        return 1 if self.look_side == "right" else -1

    @property
    def range_sampling_rate(self) -> float:
        """Range sampling rate, Hz."""
        return SPEED_OF_LIGHT / (2.0 * self.range_pixel_spacing)

    @property
    def starting_range_time(self) -> float:
        """Two-way slant-range time of pixel 0, s."""
        return 2.0 * self.starting_range / SPEED_OF_LIGHT

    # -- conversions -------------------------------------------------------------
    def line_to_azimuth_time(self, line: ArrayLike) -> NDArray[np.float64]:
        """Zero-Doppler azimuth time (s since ``reference_epoch``) of (fractional) lines."""
        return self.sensing_start + np.asarray(line, dtype=np.float64) * self.azimuth_time_interval

    def azimuth_time_to_line(self, azimuth_time: ArrayLike) -> NDArray[np.float64]:
        """Fractional line of azimuth times (s since ``reference_epoch``)."""
        return (
            np.asarray(azimuth_time, dtype=np.float64) - self.sensing_start
        ) / self.azimuth_time_interval

    def pixel_to_slant_range(self, pixel: ArrayLike) -> NDArray[np.float64]:
        """Slant range (m) of (fractional) pixels."""
        return self.starting_range + np.asarray(pixel, dtype=np.float64) * self.range_pixel_spacing

    def slant_range_to_pixel(self, slant_range: ArrayLike) -> NDArray[np.float64]:
        """Fractional pixel of slant ranges (m)."""
        return (
            np.asarray(slant_range, dtype=np.float64) - self.starting_range
        ) / self.range_pixel_spacing

    def line_to_datetime(self, line: ArrayLike) -> NDArray[np.datetime64]:
        """UTC time (``datetime64[ns]``) of (fractional) lines."""
        ns = np.round(self.line_to_azimuth_time(line) * 1e9).astype(np.int64)
        return self.reference_epoch + ns.astype("timedelta64[ns]")

    def datetime_to_line(self, times: ArrayLike) -> NDArray[np.float64]:
        """Fractional line of UTC times."""
        seconds = (
            np.asarray(times, dtype="datetime64[ns]") - self.reference_epoch
        ) / np.timedelta64(1, "s")
        return self.azimuth_time_to_line(seconds)

    @property
    def sensing_start_datetime(self) -> np.datetime64:
        """UTC time of line 0."""
        return self.line_to_datetime(0)[()]  # type: ignore[return-value]

    def azimuth_times(self) -> NDArray[np.float64]:
        """Azimuth time of every line (s since ``reference_epoch``)."""
        return self.line_to_azimuth_time(np.arange(self.length))

    def slant_ranges(self) -> NDArray[np.float64]:
        """Slant range of every pixel (m)."""
        return self.pixel_to_slant_range(np.arange(self.width))

    # -- windows -------------------------------------------------------------------
    def window(self, line0: int, pixel0: int, length: int, width: int) -> RadarGrid:
        """A crop of this grid that keeps its absolute position.

        Parameters
        ----------
        line0, pixel0
            First line and pixel of the crop, in *this* grid's indices.
        length, width
            Size of the crop; it must lie within this grid.
        """
        if not (
            0 <= line0
            and 0 <= pixel0
            and length > 0
            and width > 0
            and line0 + length <= self.length
            and pixel0 + width <= self.width
        ):
            raise InputError(
                f"window lines {line0}..{line0 + length - 1}, pixels {pixel0}..{pixel0 + width - 1} "
                f"is not inside the {self.length} x {self.width} radar grid"
            )
        return replace(
            self,
            sensing_start=float(self.line_to_azimuth_time(line0)),
            starting_range=float(self.pixel_to_slant_range(pixel0)),
            length=int(length),
            width=int(width),
            first_line=self.first_line + int(line0),
            first_pixel=self.first_pixel + int(pixel0),
        )

    def multilook(self, looks_line: int, looks_pixel: int) -> RadarGrid:
        """The grid of a ``looks_line x looks_pixel`` multilooked product.

        Each output cell is the mean of a block of input cells; its centre sits at
        the block centre, so line 0 of the result is at input line
        ``(looks_line - 1) / 2``.
        """
        if looks_line < 1 or looks_pixel < 1:
            raise InputError(f"looks must be >= 1, got {looks_line} x {looks_pixel}")
        return replace(
            self,
            sensing_start=float(self.line_to_azimuth_time((looks_line - 1) / 2)),
            azimuth_time_interval=self.azimuth_time_interval * looks_line,
            starting_range=float(self.pixel_to_slant_range((looks_pixel - 1) / 2)),
            range_pixel_spacing=self.range_pixel_spacing * looks_pixel,
            length=self.length // looks_line,
            width=self.width // looks_pixel,
            first_line=0,
            first_pixel=0,
        )

    def with_epoch(self, epoch: np.datetime64) -> RadarGrid:
        """The same grid with azimuth times counted from another UTC epoch."""
        shift = (np.datetime64(epoch, "ns") - self.reference_epoch) / np.timedelta64(1, "s")
        return replace(
            self,
            reference_epoch=np.datetime64(epoch, "ns"),
            sensing_start=self.sensing_start - shift,
        )

    def to_attrs(self) -> dict[str, object]:
        """The grid as flat netCDF/Zarr attributes (``radar_grid_*``)."""
        return {
            "radar_grid_reference_epoch": str(self.reference_epoch),
            "radar_grid_sensing_start_s": self.sensing_start,
            "radar_grid_azimuth_time_interval_s": self.azimuth_time_interval,
            "radar_grid_starting_range_m": self.starting_range,
            "radar_grid_range_pixel_spacing_m": self.range_pixel_spacing,
            "radar_grid_length": self.length,
            "radar_grid_width": self.width,
            "radar_grid_wavelength_m": self.wavelength,
            "radar_grid_look_side": self.look_side,
            "radar_grid_first_line": self.first_line,
            "radar_grid_first_pixel": self.first_pixel,
        }

    @classmethod
    def from_attrs(cls, attrs: dict[str, object]) -> RadarGrid:
        """Inverse of :meth:`to_attrs`."""
        try:
            return cls(
                reference_epoch=np.datetime64(str(attrs["radar_grid_reference_epoch"])),
                sensing_start=float(attrs["radar_grid_sensing_start_s"]),  # type: ignore[arg-type]
                azimuth_time_interval=float(attrs["radar_grid_azimuth_time_interval_s"]),  # type: ignore[arg-type]
                starting_range=float(attrs["radar_grid_starting_range_m"]),  # type: ignore[arg-type]
                range_pixel_spacing=float(attrs["radar_grid_range_pixel_spacing_m"]),  # type: ignore[arg-type]
                length=int(attrs["radar_grid_length"]),  # type: ignore[call-overload]
                width=int(attrs["radar_grid_width"]),  # type: ignore[call-overload]
                wavelength=float(attrs["radar_grid_wavelength_m"]),  # type: ignore[arg-type]
                look_side=str(attrs["radar_grid_look_side"]),  # type: ignore[arg-type]
                first_line=int(attrs.get("radar_grid_first_line", 0)),  # type: ignore[call-overload]
                first_pixel=int(attrs.get("radar_grid_first_pixel", 0)),  # type: ignore[call-overload]
            )
        except KeyError as exc:
            raise InputError(f"radar grid attribute {exc.args[0]!r} is missing") from None
