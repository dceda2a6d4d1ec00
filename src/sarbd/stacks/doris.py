"""Doris 4/5 stacks (TU Delft; the AlignSAR reference implementation's own input).

Layout (Doris-5 ``doris_stack``, as AlignSAR reads it; see
``../shared/reference/alignsar-reference-implementation.md``)::

    STACK/                       one stack per polarisation (AlignSAR: stack_vv/, stack_vh/)
      YYYYMMDD/                  one folder per date
        master.res               the reference's result file (the same in every folder)
        slave.res                this date's result file: readfiles, orbits, resample
        slave_rsmp.raw           this date resampled onto the reference grid

A result file (``.res``) is text in sections ``*_Start_<step>:`` ... ``* End_<step>:_NORMAL``
of ``Key: value`` lines (Doris user manual, TU Delft DEOS, v4.0, ch. "result files"). Read:

* ``readfiles``: ``First_pixel_azimuth_time (UTC)`` (``01-Mar-2018 17:19:09.165000``),
  ``Pulse_Repetition_Frequency (computed, Hz)``, ``Range_time_to_first_pixel (2way) (ms)``,
  ``Range_sampling_rate (computed, MHz)``, ``Radar_wavelength (m)``;
* ``precise_orbits`` (else ``leader_datapoints``): ``NUMBER_OF_DATAPOINTS`` rows of
  ``t(s) X(m) Y(m) Z(m)``, seconds of the day of the first line, ECEF positions (no velocities:
  they are derived, :func:`~sarbd.stacks.base.orbit_from_positions`);
* ``resample`` (``slave.res``): ``Data_output_file``, ``Data_output_format`` (``complex_real4``:
  complex float32, ``complex_short``: complex int16, little-endian as Doris writes on x86),
  ``First_line``/``Last_line``/``First_pixel``/``Last_pixel (w.r.t. original_master)``, 1-based
  and inclusive: the window of the reference's original grid the stack covers.

Doris is right-looking only. Doris-5 TOPS stacks store ``slave_rsmp.raw`` *deramped*
(AlignSAR notes): interferograms and coherence are unaffected (the reference is deramped
the same way), but the SLC phase of a single date is not the product's.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sarbd.core.chunks import DEFAULT_CHUNKS
from sarbd.core.radar_grid import SPEED_OF_LIGHT
from sarbd.core.scene import Scene
from sarbd.errors import InputError, ProductError
from sarbd.stacks.base import (
    ImportedStack,
    RawSource,
    make_grid,
    orbit_from_positions,
    read_number,
    secondary_scene,
)

__all__ = ["is_doris_stack", "open_doris_stack", "parse_doris_time", "read_res"]

_FORMATS = {"complex_real4": "<f4", "complex_short": "<i2"}
_START = re.compile(r"^\*_Start_([A-Za-z0-9_]+):?")
_END = re.compile(r"^\* End_([A-Za-z0-9_]+):_NORMAL")


def read_res(path: str | os.PathLike[str]) -> dict[str, dict[str, str] | list[list[float]]]:
    """Sections of a Doris result file: ``{step: {key: value}}``; orbit steps also ``{step + "/points": rows}``."""
    path = Path(path)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the Doris result file ({exc.strerror})", path=path) from None
    out: dict[str, dict[str, str] | list[list[float]]] = {}
    current: str | None = None
    for raw in lines:
        line = raw.strip()
        m = _START.match(line)
        if m:
            current = m.group(1)
            out[current] = {}
            continue
        if _END.match(line):
            current = None
            continue
        if current is None or not line or line.startswith("*"):
            continue
        section = out[current]
        assert isinstance(section, dict)
        numbers = line.split()
        if len(numbers) == 4 and all(_is_number(x) for x in numbers):
            pts = out.setdefault(current + "/points", [])
            assert isinstance(pts, list)
            pts.append([float(x) for x in numbers])
        elif ":" in line:
            key, value = line.split(":", 1)
            section[key.strip()] = value.strip()
    if "readfiles" not in out:
        raise ProductError(
            "not a Doris result file (no readfiles section)",
            path=path,
            hint="give the stack folder with YYYYMMDD/slave.res files",
        )
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_doris_time(text: str, path: str | os.PathLike[str]) -> np.datetime64:
    """``01-Mar-2018 17:19:09.165000`` -> ``datetime64[ns]`` (fraction kept to the ns)."""
    m = re.fullmatch(
        r"\s*(\d{1,2}-[A-Za-z]{3}-\d{4})\s+(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?\s*", text
    )
    if not m:
        raise ProductError(
            f"cannot read the time {text!r} (expected DD-Mon-YYYY HH:MM:SS.ffffff)", path=path
        )
    try:
        day = _dt.datetime.strptime(m.group(1).title(), "%d-%b-%Y")
    except ValueError:
        raise ProductError(f"cannot read the date of {text!r}", path=path) from None
    base = np.datetime64(day.strftime("%Y-%m-%d"), "ns")
    seconds = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4))
    frac = (m.group(5) or ".0")[1:10].ljust(9, "0")
    return base + np.timedelta64(seconds, "s") + np.timedelta64(int(frac), "ns")


def _section(
    res: dict[str, dict[str, str] | list[list[float]]], name: str, path: Path
) -> dict[str, str]:
    sec = res.get(name)
    if not isinstance(sec, dict):
        raise ProductError(
            f"the result file has no {name} section",
            path=path,
            hint=f"run Doris up to {name}" if name != "readfiles" else None,
        )
    return sec


def _orbit(res: dict[str, dict[str, str] | list[list[float]]], day: np.datetime64, path: Path):  # type: ignore[no-untyped-def]
    for step in ("precise_orbits", "leader_datapoints"):
        pts = res.get(step + "/points")
        if isinstance(pts, list) and pts:
            sec = res.get(step)
            declared = sec.get("NUMBER_OF_DATAPOINTS") if isinstance(sec, dict) else None
            if declared is not None and int(float(declared)) != len(pts):
                raise ProductError(
                    f"{step}: NUMBER_OF_DATAPOINTS says {declared}, {len(pts)} rows found",
                    path=path,
                )
            a: NDArray[np.float64] = np.asarray(pts, dtype=np.float64)
            times = day + np.round(a[:, 0] * 1e9).astype("timedelta64[ns]")
            return orbit_from_positions(times, a[:, 1:], source=f"doris {step}", path=path)
    raise ProductError(
        "the result file has no orbit (precise_orbits or leader_datapoints)", path=path
    )


def _readfiles(
    res: dict[str, dict[str, str] | list[list[float]]], path: Path
) -> dict[str, float | np.datetime64]:
    rf = _section(res, "readfiles", path)
    key = "First_pixel_azimuth_time (UTC)"
    if key not in rf:
        raise ProductError(f"readfiles has no {key!r}", path=path)
    return {
        "start": parse_doris_time(rf[key], path),
        "prf": read_number(rf, "Pulse_Repetition_Frequency (computed, Hz)", path, positive=True),
        "range_time": read_number(rf, "Range_time_to_first_pixel (2way) (ms)", path, positive=True)
        * 1e-3,
        "rsr": read_number(rf, "Range_sampling_rate (computed, MHz)", path, positive=True) * 1e6,
        "wavelength": read_number(rf, "Radar_wavelength (m)", path, positive=True),
    }


def _window(rs: dict[str, str], path: Path) -> tuple[int, int, int, int]:
    vals = [
        int(read_number(rs, f"{k} (w.r.t. original_master)", path))
        for k in ("First_line", "Last_line", "First_pixel", "Last_pixel")
    ]
    if vals[0] < 1 or vals[2] < 1 or vals[1] < vals[0] or vals[3] < vals[2]:
        raise ProductError(
            f"resample window lines {vals[0]}..{vals[1]}, pixels {vals[2]}..{vals[3]} is not valid",
            path=path,
        )
    return vals[0], vals[1], vals[2], vals[3]


def _raster(
    folder: Path, rs: dict[str, str], res_path: Path, shape: tuple[int, int]
) -> tuple[str, str]:
    fmt = rs.get("Data_output_format", "").strip()
    if fmt not in _FORMATS:
        raise ProductError(
            f"Data_output_format {fmt!r} is not supported (complex_real4, complex_short)",
            path=res_path,
        )
    name = rs.get("Data_output_file", "slave_rsmp.raw").strip()
    return str(folder / name), _FORMATS[fmt]


def is_doris_stack(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder of ``YYYYMMDD/slave.res`` (or such stacks per polarisation)."""
    p = Path(path)
    return p.is_dir() and (
        any(p.glob("[12][0-9][0-9][0-9][01][0-9][0-3][0-9]/slave.res"))
        or any(p.glob("stack_*/[12]*/slave.res"))
    )


def _date_folders(stack_dir: Path) -> list[Path]:
    folders = sorted(
        f
        for f in stack_dir.iterdir()
        if f.is_dir() and re.fullmatch(r"\d{8}", f.name) and (f / "slave.res").exists()
    )
    if not folders:
        raise InputError("no YYYYMMDD/slave.res in the Doris stack folder", path=stack_dir)
    return folders


def _pol_stacks(path: Path, polarization: str | None) -> dict[str, Path]:
    subs = {d.name.split("_", 1)[1].upper(): d for d in sorted(path.glob("stack_*")) if d.is_dir()}
    if subs:
        return subs
    return {(polarization or "VV").upper(): path}


def open_doris_stack(
    path: str | os.PathLike[str],
    *,
    polarization: str | None = None,
    chunks: tuple[int, int] = DEFAULT_CHUNKS,
) -> ImportedStack:
    """Open a Doris stack (one folder per polarisation, ``stack_<pol>/``, or one stack).

    Parameters
    ----------
    path
        A stack folder of ``YYYYMMDD/`` date folders, or a folder of ``stack_vv/``, ``stack_vh/``...
    polarization
        Polarisation of a single stack folder (``.res`` files do not state it); default VV.
    chunks
        Dask chunks of the lazy pixels.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError("a Doris stack is a folder of YYYYMMDD/ date folders", path=path)
    stacks = _pol_stacks(path, polarization)
    per_pol: dict[str, dict[str, tuple[str, str]]] = {}
    ref_info = None
    dates_info: dict[str, tuple[dict[str, float | np.datetime64], object, Path]] = {}
    window = None
    for pol, stack_dir in stacks.items():
        for folder in _date_folders(stack_dir):
            res_path = folder / "slave.res"
            res = read_res(res_path)
            rs = _section(res, "resample", res_path)
            w = _window(rs, res_path)
            if window is None:
                window = w
            elif w != window:
                raise ProductError(
                    f"resample window {w} differs from the stack's {window}",
                    path=res_path,
                    hint="every date of a stack is resampled onto the same reference window",
                )
            shape = (w[1] - w[0] + 1, w[3] - w[2] + 1)
            per_pol.setdefault(pol, {})[folder.name] = _raster(folder, rs, res_path, shape)
            if folder.name not in dates_info:
                info = _readfiles(res, res_path)
                day = np.datetime64(np.datetime64(info["start"], "D"), "ns")
                dates_info[folder.name] = (info, _orbit(res, day, res_path), res_path)
            if ref_info is None:
                mres = folder / "master.res"
                if not mres.exists():
                    raise InputError("master.res not found beside slave.res", path=folder)
                m = read_res(mres)
                info = _readfiles(m, mres)
                day = np.datetime64(np.datetime64(info["start"], "D"), "ns")
                ref_info = (info, _orbit(m, day, mres), mres)
    assert ref_info is not None and window is not None
    info, ref_orbit, mres = ref_info
    l0, l1, p0, p1 = window
    shape = (l1 - l0 + 1, p1 - p0 + 1)
    start = np.datetime64(info["start"], "ns") + np.timedelta64(
        round((l0 - 1) / float(info["prf"]) * 1e9), "ns"
    )  # type: ignore[call-overload]
    r0 = SPEED_OF_LIGHT / 2 * (float(info["range_time"]) + (p0 - 1) / float(info["rsr"]))  # type: ignore[arg-type]
    g = make_grid(
        start=start,
        azimuth_time_interval=1 / float(info["prf"]),
        starting_range=r0,  # type: ignore[arg-type]
        range_pixel_spacing=SPEED_OF_LIGHT / (2 * float(info["rsr"])),
        shape=shape,  # type: ignore[arg-type]
        wavelength=float(info["wavelength"]),
        look_side="right",
        path=mres,
    )  # type: ignore[arg-type]
    ref_day = str(np.datetime64(info["start"], "D")).replace("-", "")
    pols = tuple(per_pol)
    for pol in pols:
        if ref_day not in per_pol[pol]:
            raise InputError(
                f"the reference date {ref_day} has no folder in the {pol} stack "
                "(its slave_rsmp.raw is the reference SLC)",
                path=stacks[pol],
            )

    def source(day: str) -> RawSource:
        elements = {per_pol[p][day][1] for p in pols}
        if len(elements) != 1:
            raise ProductError(
                f"the polarisations of {day} are stored in different sample types", path=path
            )
        src = RawSource({p: (per_pol[p][day][0],) for p in pols}, elements.pop(), shape)
        src.check()
        return src

    common = set.intersection(*(set(per_pol[p]) for p in pols))
    meta = {
        "mission": "unknown",
        "processor": "doris",
        "source_path": str(mres),
        "date": ref_day,
        "product_name": f"doris stack {path.name}",
        "sarbd_stack_caveat": "Doris-5 TOPS stacks hold deramped SLCs (slave_rsmp.raw): interferograms "
        "and coherence are unaffected, the phase of a single date is not the product's",
    }
    reference = Scene(
        radar_grid=g,
        orbit=ref_orbit,
        polarizations=pols,
        metadata=meta,
        pixels=source(ref_day),
        chunks=chunks,
    )
    secondaries = []
    for day in sorted(common - {ref_day}):
        sinfo, orbit, res_path = dates_info[day]
        secondaries.append(
            secondary_scene(
                reference,
                sensing_start=np.datetime64(sinfo["start"], "ns")  # type: ignore[call-overload]
                + np.timedelta64(round((l0 - 1) / float(sinfo["prf"]) * 1e9), "ns"),
                orbit=orbit,  # type: ignore[arg-type]
                wavelength=float(sinfo["wavelength"]),
                pixels=source(day),  # type: ignore[arg-type]
                metadata={"source_path": str(res_path), "date": day, "processor": "doris"},
            )
        )
    return ImportedStack(reference, secondaries, "doris", path, [])
