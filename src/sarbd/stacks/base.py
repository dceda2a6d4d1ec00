"""What every stack reader returns, and the pieces they share.

A reader of another processor's coregistered stack returns an :class:`ImportedStack`:
the reference date as a :class:`~sarbd.core.scene.Scene` (its radar grid, orbit and
lazy pixels) and one Scene per secondary date whose pixels are *already resampled onto
the reference grid* by that processor. A secondary Scene carries the reference grid with
its own date's sensing start and wavelength, and its own orbit where the format stores
one. :func:`sarbd.stacks.assemble.assemble_stack` turns that into the stack of
``docs/formats.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import RadarGrid
from sarbd.core.scene import Scene
from sarbd.errors import InputError, ProductError

__all__ = [
    "ImportedStack",
    "RawSource",
    "make_grid",
    "orbit_from_positions",
    "read_number",
    "secondary_scene",
]


@dataclass
class ImportedStack:
    """A coregistered stack written by another processor, opened lazily.

    Parameters
    ----------
    reference
        The reference date: grid, orbit, lazy pixels.
    secondaries
        One Scene per other date, pixels on the reference grid (see the module docstring).
    processor
        Short name of the processor (``isce2``, ``snap``, ``gmtsar``, ``doris``).
    source
        The folder or file the stack was read from.
    notes
        Caveats the reader found (recorded in the stack's attributes).
    """

    reference: Scene
    secondaries: list[Scene]
    processor: str
    source: Path
    notes: list[str] = field(default_factory=list)

    @property
    def dates(self) -> list[Scene]:
        """Every date, reference first."""
        return [self.reference, *self.secondaries]


def secondary_scene(
    reference: Scene,
    *,
    sensing_start: np.datetime64 | None,
    orbit: Orbit | None,
    pixels: Any,
    metadata: dict[str, Any],
    wavelength: float | None = None,
) -> Scene:
    """A secondary date already resampled onto ``reference``'s grid.

    Its grid is the reference grid with the secondary's first-line time (when known) and
    wavelength; its orbit is its own, or the reference's when the format stores none (then
    the interferometric phase cannot be flattened, which :func:`assemble_stack` says).
    """
    g = reference.radar_grid
    if sensing_start is not None:
        start = (np.datetime64(sensing_start, "ns") - g.reference_epoch) / np.timedelta64(1, "s")
        g = replace(g, sensing_start=float(start))
    if wavelength is not None:
        g = replace(g, wavelength=float(wavelength))
    return Scene(
        radar_grid=g,
        orbit=orbit if orbit is not None else reference.orbit,
        polarizations=reference.polarizations,
        metadata=metadata,
        pixels=pixels,
        chunks=reference.chunks,
    )


@dataclass(frozen=True)
class RawSource:
    """Complex pixels from headerless binary rasters (picklable: paths only).

    Parameters
    ----------
    files
        ``{polarisation: (path,)}`` for one file of interleaved I/Q samples, or
        ``{polarisation: (path_i, path_q)}`` for separate I and Q bands (SNAP).
    element
        NumPy dtype string of one real component: ``"<f4"``/``">f4"`` (complex float32),
        ``"<i2"``/``">i2"`` (complex int16).
    shape
        ``(lines, pixels)`` of each raster.
    header_bytes
        Bytes to skip at the start of each file.
    """

    files: dict[str, tuple[str, ...]]
    element: str
    shape: tuple[int, int]
    header_bytes: int = 0

    def check(self) -> None:
        """Refuse files whose size does not match the stated shape and sample type."""
        n = np.dtype(self.element).itemsize * self.shape[0] * self.shape[1]
        for paths in self.files.values():
            per = n * (2 if len(paths) == 1 else 1) + self.header_bytes
            for p in paths:
                if not os.path.exists(p):
                    raise InputError("raster file not found", path=p)
                size = os.path.getsize(p)
                if size < per:
                    raise ProductError(
                        f"the raster holds {size} bytes, {per} expected for {self.shape[0]} x {self.shape[1]} "
                        f"samples of {'complex ' if len(paths) == 1 else ''}{np.dtype(self.element).name}",
                        path=p,
                        hint="the file is truncated, or its header states another size or type",
                    )

    def read(self, polarization: str, lines: slice, pixels: slice) -> NDArray[np.complex64]:
        paths = self.files[polarization]
        nl, npx = self.shape
        l0, l1 = lines.start or 0, nl if lines.stop is None else lines.stop
        p0, p1 = pixels.start or 0, npx if pixels.stop is None else pixels.stop
        if l0 < 0 or p0 < 0 or l1 > nl or p1 > npx:
            raise InputError(
                f"window lines {l0}..{l1 - 1}, pixels {p0}..{p1 - 1} lies outside the "
                f"{nl} x {npx} raster",
                path=paths[0],
            )
        if len(paths) == 1:
            mm = np.memmap(
                paths[0], dtype=self.element, mode="r", offset=self.header_bytes, shape=(nl, npx, 2)
            )
            block = np.asarray(mm[l0:l1, p0:p1], dtype=np.float32)
            out = block[..., 0] + 1j * block[..., 1]
        else:
            parts = [
                np.asarray(
                    np.memmap(
                        p, dtype=self.element, mode="r", offset=self.header_bytes, shape=(nl, npx)
                    )[l0:l1, p0:p1],
                    dtype=np.float32,
                )
                for p in paths
            ]
            out = parts[0] + 1j * parts[1]
        return np.asarray(out, dtype=np.complex64)


def orbit_from_positions(
    times: NDArray[np.datetime64],
    positions: NDArray[np.float64],
    *,
    source: str,
    path: str | os.PathLike[str],
) -> Orbit:
    """An :class:`Orbit` from positions only (Doris ``.res`` orbits carry no velocities).

    Each velocity is the derivative, at that vector, of the interpolating polynomial through
    the nearest ``min(9, N)`` positions (degree 8: a Lagrange derivative, as Doris's own
    ``POLYFIT`` orbit interpolation fits polynomials to the positions; Doris user manual,
    ``M_ORB_INTERP``). Its error is of order ``h^8`` times the ninth derivative of the
    orbit: below 1 mm/s for vectors 10 s apart (``tests/stacks/test_doris.py`` measures it
    on a Keplerian orbit).
    """
    from sarbd.errors import OrbitError

    t = np.asarray(times, dtype="datetime64[ns]")
    pos = np.asarray(positions, dtype=np.float64)
    if t.size < 4:
        raise OrbitError(
            f"{t.size} orbit positions: at least 4 are needed to derive velocities", path=path
        )
    order = np.argsort(t)
    t, pos = t[order], pos[order]
    sec = (t - t[0]) / np.timedelta64(1, "s")
    n = min(9, t.size)
    vel = np.empty_like(pos)
    for i in range(t.size):
        j0 = min(max(i - n // 2, 0), t.size - n)
        tt = sec[j0 : j0 + n] - sec[i]
        scale = max(float(np.max(np.abs(tt))), 1.0)
        coeffs = np.polyfit(
            tt / scale, pos[j0 : j0 + n], n - 1
        )  # (degree+1, 3), highest power first
        vel[i] = coeffs[-2] / scale  # d/dt at tt = 0
    return Orbit(times=t, positions=pos, velocities=vel, source=source)


def read_number(
    values: dict[str, str], key: str, path: str | os.PathLike[str], *, positive: bool = False
) -> float:
    """``float(values[key])``, finite (and > 0 if asked); errors name the file and the key."""
    if key not in values:
        raise ProductError(
            f"the metadata has no {key!r}",
            path=path,
            hint="the file is incomplete or not this format",
        )
    text = values[key].strip().split()[0] if values[key].strip() else ""
    try:
        value = float(text)
    except ValueError:
        raise ProductError(f"{key!r} is not a number: {values[key]!r}", path=path) from None
    if not np.isfinite(value) or (positive and value <= 0):
        raise ProductError(
            f"{key!r} must be a finite{' positive' if positive else ''} number, got {value}",
            path=path,
        )
    return value


def make_grid(
    *,
    start: np.datetime64,
    azimuth_time_interval: float,
    starting_range: float,
    range_pixel_spacing: float,
    shape: tuple[int, int],
    wavelength: float,
    look_side: str,
    path: str | os.PathLike[str],
) -> RadarGrid:
    """A :class:`RadarGrid` whose epoch is the first line's whole second; errors name ``path``."""
    if look_side not in ("right", "left"):
        raise ProductError(f"look side must be right or left, got {look_side!r}", path=path)
    epoch = np.datetime64(start, "s").astype("datetime64[ns]")
    try:
        return RadarGrid(
            reference_epoch=epoch,
            sensing_start=float((np.datetime64(start, "ns") - epoch) / np.timedelta64(1, "s")),
            azimuth_time_interval=float(azimuth_time_interval),
            starting_range=float(starting_range),
            range_pixel_spacing=float(range_pixel_spacing),
            length=int(shape[0]),
            width=int(shape[1]),
            wavelength=float(wavelength),
            look_side=look_side,  # type: ignore[arg-type]
        )
    except (ValueError, TypeError, InputError) as exc:
        raise ProductError(f"inconsistent radar grid ({exc})", path=path) from None
