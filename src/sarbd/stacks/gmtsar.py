"""GMTSAR aligned stacks (``.PRM`` + ``.SLC`` + ``.LED`` per date).

GMTSAR (Sandwell et al., GMTSAR: An InSAR Processing System Based on Generic Mapping Tools,
2011; ``gmtsar/PRM.c`` and ``gmtsar/SAT*`` sources) writes, per date:

* ``NAME.PRM``: ``key = value`` text. Read: ``num_lines``, ``num_rng_bins``, ``bytes_per_line``
  (4 per sample: complex int16 I/Q; 8: complex float32), ``PRF`` (Hz), ``rng_samp_rate`` (Hz),
  ``near_range`` (m), ``SC_clock_start`` (``YYYYDDD.fraction``: year and day of year of the
  first line, fraction of the day), ``clock_start`` (``DDD.fraction``, more digits), where the
  day of year counts from **0 on 1 January** (GMTSAR ``preproc/S1A_preproc/lib/xml.c``,
  ``str_date2JD``: ``doy = MJD(date) - MJD(1 January)``; the real ``S1A20150526_F1`` test files
  say day 145 for 26 May 2015),
  ``radar_wavelength`` (m), ``lookdir`` (R/L), ``SLC_file``, ``led_file``;
* ``NAME.SLC``: headerless complex samples, little-endian (as written on x86), ``num_lines`` rows
  of ``bytes_per_line`` bytes;
* ``NAME.LED``: the orbit: a line ``n year doy sec dt`` then ``n`` lines ``year doy sec x y z vx
  vy vz`` (same 0-based day, seconds of day, ECEF m and m/s), as ``ext_orb_s1a`` writes it.

After ``align_tops.csh`` / ``align_batch.csh`` every secondary ``.SLC`` is resampled onto the
reference's grid (same ``num_lines`` x ``num_rng_bins``). GMTSAR does not mark the reference in
the PRM: it is the first entry of ``align.in`` / ``data.in`` / ``align_batch.in`` when one is beside
the PRMs, or the ``reference`` option (a date ``YYYYMMDD`` or a PRM stem).
"""

from __future__ import annotations

import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from sarbd.core.chunks import DEFAULT_CHUNKS
from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import SPEED_OF_LIGHT
from sarbd.core.scene import Scene
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.stacks.base import ImportedStack, RawSource, make_grid, read_number, secondary_scene

__all__ = ["open_gmtsar_stack", "prm_start_time", "read_led", "read_prm"]


def read_prm(path: str | os.PathLike[str]) -> dict[str, str]:
    """``{key: value}`` of a GMTSAR PRM file (later lines override earlier ones, as GMTSAR reads them)."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read the PRM file ({exc.strerror})", path=path) from None
    out: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    if "num_rng_bins" not in out:
        raise ProductError("not a GMTSAR PRM file (no num_rng_bins)", path=path)
    return out


def _day_time(year: int, doy_frac: Decimal, path: Path) -> np.datetime64:
    """Year + GMTSAR day of year (0 = 1 January) + fraction of the day -> UTC."""
    doy = int(doy_frac)
    if not 0 <= doy <= 365:
        raise ProductError(
            f"day of year {doy} is out of range (GMTSAR counts 0..365 from 1 January)", path=path
        )
    day = np.datetime64(f"{year:04d}-01-01", "ns") + np.timedelta64(doy, "D")
    return day + np.timedelta64(int((doy_frac - doy) * Decimal(86400 * 10**9)), "ns")


def prm_start_time(prm: dict[str, str], path: str | os.PathLike[str]) -> np.datetime64:
    """UTC time of the first line from ``SC_clock_start`` (year) and ``clock_start`` (day of year)."""
    path = Path(path)
    if "SC_clock_start" not in prm:
        raise ProductError("the PRM has no SC_clock_start", path=path)
    try:
        sc = Decimal(prm["SC_clock_start"].split()[0])
        year = int(sc) // 1000
        doy = Decimal(prm["clock_start"].split()[0]) if "clock_start" in prm else sc - year * 1000
    except (InvalidOperation, IndexError):
        raise ProductError(
            f"SC_clock_start {prm['SC_clock_start']!r} is not YYYYDDD.fraction", path=path
        ) from None
    if not 1900 < year < 2200:
        raise ProductError(
            f"SC_clock_start {prm['SC_clock_start']!r} is not YYYYDDD.fraction", path=path
        )
    return _day_time(year, doy, path)


def read_led(path: str | os.PathLike[str]) -> Orbit:
    """The orbit of a GMTSAR ``.LED`` file."""
    path = Path(path)
    try:
        rows = [
            line.split() for line in path.read_text(errors="replace").splitlines() if line.strip()
        ]
    except OSError as exc:
        raise InputError(f"cannot read the LED orbit file ({exc.strerror})", path=path) from None
    if not rows or len(rows[0]) < 5:
        raise OrbitError("the LED file has no header line 'n year doy sec dt'", path=path)
    try:
        n = int(float(rows[0][0]))
        data = np.array(
            [[float(x) for x in r[:9]] for r in rows[1:] if len(r) >= 9], dtype=np.float64
        )
    except ValueError:
        raise OrbitError("the LED file holds a non-numeric value", path=path) from None
    if data.shape[0] != n:
        raise OrbitError(
            f"the LED header says {n} state vectors, {data.shape[0]} rows found", path=path
        )
    times = []
    for year, doy, sec in data[:, :3]:
        base = np.datetime64(f"{int(year):04d}-01-01", "ns") + np.timedelta64(
            int(doy), "D"
        )  # 0-based day
        times.append(base + np.timedelta64(round(sec * 1e9), "ns"))
    try:
        return Orbit(
            times=np.array(times),
            positions=data[:, 3:6],
            velocities=data[:, 6:9],
            source="gmtsar LED",
        )
    except OrbitError as exc:
        raise OrbitError(exc.message, path=path) from None


def _reference_stem(folder: Path, stems: list[str], reference: str | None) -> str:
    if reference is None:
        for name in ("align.in", "align_batch.in", "data.in"):
            f = folder / name
            if f.exists():
                first = f.read_text(errors="replace").split()
                if first:
                    reference = Path(first[0].split(":")[0]).stem
                    break
    if reference is None:
        raise InputError(
            "the GMTSAR stack does not say which date is the reference",
            path=folder,
            hint="give reference: YYYYMMDD (or the PRM name) in the stack options",
        )
    hits = [s for s in stems if s == reference or reference in s]
    if len(hits) != 1:
        raise InputError(
            f"reference {reference!r} matches {len(hits)} of the PRM files {stems}", path=folder
        )
    return hits[0]


def open_gmtsar_stack(
    path: str | os.PathLike[str],
    *,
    reference: str | None = None,
    polarization: str | None = None,
    chunks: tuple[int, int] = DEFAULT_CHUNKS,
) -> ImportedStack:
    """Open a folder of aligned GMTSAR ``.PRM``/``.SLC``/``.LED`` files (``SLC/`` of a GMTSAR run)."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError("a GMTSAR stack is a folder of .PRM/.SLC/.LED files", path=folder)
    prms = sorted(folder.glob("*.PRM"))
    if not prms:
        raise InputError("no .PRM files in the GMTSAR stack folder", path=folder)
    stems = [p.stem for p in prms]
    ref_stem = _reference_stem(folder, stems, reference)
    pol = (polarization or "VV").upper()

    def date(stem: str) -> tuple[dict[str, str], Path, np.datetime64, Orbit, RawSource]:
        prm_path = folder / f"{stem}.PRM"
        prm = read_prm(prm_path)
        lines = int(read_number(prm, "num_lines", prm_path, positive=True))
        width = int(read_number(prm, "num_rng_bins", prm_path, positive=True))
        bpl = int(read_number(prm, "bytes_per_line", prm_path, positive=True))
        if bpl not in (4 * width, 8 * width):
            raise ProductError(
                f"bytes_per_line {bpl} is neither 4 (int16 I/Q) nor 8 (float32 I/Q) x num_rng_bins "
                f"{width}",
                path=prm_path,
            )
        slc = folder / Path(prm.get("SLC_file", f"{stem}.SLC")).name
        led = folder / Path(prm.get("led_file", f"{stem}.LED")).name
        if not led.exists():
            raise InputError("orbit file (led_file) not found", path=led)
        src = RawSource({pol: (str(slc),)}, "<i2" if bpl == 4 * width else "<f4", (lines, width))
        src.check()
        return prm, prm_path, prm_start_time(prm, prm_path), read_led(led), src

    prm, prm_path, start, orbit, src = date(ref_stem)
    look = {"R": "right", "L": "left"}.get(prm.get("lookdir", "R").strip().upper()[:1], "?")
    fs = read_number(prm, "rng_samp_rate", prm_path, positive=True)
    g = make_grid(
        start=start,
        azimuth_time_interval=1 / read_number(prm, "PRF", prm_path, positive=True),
        starting_range=read_number(prm, "near_range", prm_path, positive=True),
        range_pixel_spacing=SPEED_OF_LIGHT / (2 * fs),
        shape=src.shape,
        wavelength=read_number(prm, "radar_wavelength", prm_path, positive=True),
        look_side=look,
        path=prm_path,
    )
    day = re.search(r"(\d{8})", ref_stem)
    meta = {
        "mission": "unknown",
        "processor": "gmtsar",
        "source_path": str(prm_path),
        "product_name": ref_stem,
        "date": day.group(1) if day else str(np.datetime64(start, "D")),
    }
    ref = Scene(
        radar_grid=g, orbit=orbit, polarizations=(pol,), metadata=meta, pixels=src, chunks=chunks
    )
    secondaries = []
    for stem in stems:
        if stem == ref_stem:
            continue
        sprm, spath, sstart, sorbit, ssrc = date(stem)
        if ssrc.shape != src.shape:
            raise ProductError(
                f"{stem} is {ssrc.shape[0]} x {ssrc.shape[1]}, the reference {src.shape[0]} x "
                f"{src.shape[1]}: not aligned onto the reference",
                path=spath,
                hint="run GMTSAR's alignment (align_tops.csh / align_batch.csh) first",
            )
        secondaries.append(
            secondary_scene(
                ref,
                sensing_start=sstart,
                orbit=sorbit,
                wavelength=read_number(sprm, "radar_wavelength", spath, positive=True),
                pixels=ssrc,
                metadata={"source_path": str(spath), "product_name": stem},
            )
        )
    secondaries.sort(key=lambda s: s.radar_grid.sensing_start_datetime)
    return ImportedStack(ref, secondaries, "gmtsar", folder, [])
