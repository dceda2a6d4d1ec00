"""SNAP BEAM-DIMAP coregistered stacks (``Back-Geocoding`` / ``Create Stack`` + ``Coregistration``).

A stack is ``NAME.dim`` (XML) beside ``NAME.data/`` holding one ENVI raster per band
(``<band>.img`` + ``<band>.hdr``). Complex dates are band pairs ``i_<POL>_<role>_<DDMonYYYY>`` /
``q_<POL>_<role>_<DDMonYYYY>`` with role ``mst`` / ``slv<k>`` (SNAP <= 8) or ``ref`` / ``sec<k>``
(SNAP 9 and later); an exported single-date product has no role.

Read from the ``.dim`` (SNAP ``AbstractMetadata``; ESA SNAP engine, ``AbstractMetadata.java``):

* ``Dataset_Sources/MDElem[@name="metadata"]/MDElem[@name="Abstracted_Metadata"]`` -- the
  reference: ``first_line_time`` (UTC ``DD-MON-YYYY HH:MM:SS.ffffff``), ``line_time_interval``
  (s), ``slant_range_to_first_pixel`` (m), ``range_spacing`` (m, slant range: ``srgr_flag`` 0),
  ``radar_frequency`` (MHz), ``antenna_pointing`` (right/left), ``num_output_lines``,
  ``num_samples_per_line``, and ``Orbit_State_Vectors/orbit_vector<k>`` (``time``,
  ``x_pos``..``z_pos`` m, ``x_vel``..``z_vel`` m/s, ECEF);
* ``.../MDElem[@name="Slave_Metadata"]`` (``Secondary_Metadata`` in SNAP 9+) -- one element per
  secondary with the same attributes (its own first-line time, frequency, orbit).

ENVI headers (``samples``, ``lines``, ``data type`` 2 = int16 / 4 = float32, ``byte order``
0 little / 1 big endian, ``header offset``; ENVI header format, L3Harris) give the pixel layout.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from sarbd.core.chunks import DEFAULT_CHUNKS
from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import SPEED_OF_LIGHT
from sarbd.core.scene import Scene
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products.xml_values import parse_xml
from sarbd.stacks.base import ImportedStack, RawSource, make_grid, read_number, secondary_scene
from sarbd.stacks.doris import parse_doris_time

__all__ = ["open_snap_stack", "read_envi_header"]

_BAND = re.compile(r"^([iq])_([HV]{2})(?:_(mst|ref|slv\d*|sec\d*))?_(\d{2}[A-Za-z]{3}\d{4})$")
_ENVI_TYPES = {2: "i2", 4: "f4"}


def _attrs(elem: Any) -> dict[str, str]:
    return {a.get("name"): (a.text or "").strip() for a in elem.findall("MDATTR")}


def _elem(parent: Any, name: str) -> Any:
    return parent.find(f"MDElem[@name='{name}']") if parent is not None else None


def read_envi_header(path: str | os.PathLike[str]) -> dict[str, str]:
    """``key = value`` pairs of an ENVI ``.hdr`` (braced values may span lines)."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read the ENVI header ({exc.strerror})", path=path) from None
    if not text.lstrip().startswith("ENVI"):
        raise ProductError("not an ENVI header (no leading 'ENVI')", path=path)
    out: dict[str, str] = {}
    for m in re.finditer(r"^\s*([^=\n]+?)\s*=\s*(\{[^}]*\}|[^\n]*)", text, flags=re.M):
        out[m.group(1).strip().lower()] = m.group(2).strip()
    return out


def _orbit(meta: Any, path: Path, what: str) -> Orbit:
    osv = _elem(meta, "Orbit_State_Vectors")
    vectors = [] if osv is None else osv.findall("MDElem")
    if len(vectors) < 2:
        raise OrbitError(
            f"{what}: Orbit_State_Vectors holds {len(vectors)} vectors (2 or more needed)",
            path=path,
        )
    times, pos, vel = [], [], []
    for v in vectors:
        a = _attrs(v)
        if "time" not in a:
            raise ProductError(f"{what}: orbit vector {v.get('name')} has no time", path=path)
        times.append(parse_doris_time(a["time"], path))
        pos.append([read_number(a, k, path) for k in ("x_pos", "y_pos", "z_pos")])
        vel.append([read_number(a, k, path) for k in ("x_vel", "y_vel", "z_vel")])
    order = np.argsort(np.array(times, dtype="datetime64[ns]"))
    try:
        return Orbit(
            times=np.array(times, dtype="datetime64[ns]")[order],
            positions=np.array(pos)[order],
            velocities=np.array(vel)[order],
            source="snap Orbit_State_Vectors",
        )
    except OrbitError as exc:
        raise OrbitError(f"{what}: {exc.message}", path=path) from None


def _band_files(data_dir: Path, name: str, dim: Path) -> tuple[Path, dict[str, str]]:
    hdr, img = data_dir / f"{name}.hdr", data_dir / f"{name}.img"
    if not hdr.exists() or not img.exists():
        raise InputError(f"band {name} has no {hdr.name}/{img.name} in {data_dir.name}", path=dim)
    return img, read_envi_header(hdr)


def _element(header: dict[str, str], path: Path, shape: tuple[int, int]) -> str:
    try:
        dtype = _ENVI_TYPES[int(header.get("data type", "-1"))]
        order = ">" if int(header.get("byte order", "0")) == 1 else "<"
        samples, lines = int(header["samples"]), int(header["lines"])
    except (KeyError, ValueError):
        raise ProductError(
            "ENVI header lacks samples/lines/data type (2 int16 or 4 float32 supported)", path=path
        ) from None
    if (lines, samples) != shape:
        raise ProductError(
            f"band is {lines} x {samples}, the product {shape[0]} x {shape[1]}", path=path
        )
    return order + dtype


def open_snap_stack(
    path: str | os.PathLike[str], *, chunks: tuple[int, int] = DEFAULT_CHUNKS
) -> ImportedStack:
    """Open a SNAP BEAM-DIMAP coregistered stack (the ``.dim`` file, or its ``.data`` folder)."""
    path = Path(path)
    dim = path.with_suffix(".dim") if path.suffix == ".data" else path
    if dim.suffix != ".dim" or not dim.exists():
        raise InputError("a SNAP stack is a .dim file beside its .data folder", path=path)
    data_dir = dim.with_suffix(".data")
    root = parse_xml(dim.read_bytes(), dim)
    meta_root = root.find("Dataset_Sources/MDElem[@name='metadata']")
    abstracted = _elem(meta_root, "Abstracted_Metadata")
    if abstracted is None:
        raise ProductError(
            "no Abstracted_Metadata in Dataset_Sources (not a SNAP SAR product)", path=dim
        )
    a = _attrs(abstracted)
    if a.get("srgr_flag", "0").strip() not in ("0", "false"):
        raise ProductError(
            "the product is in ground range (srgr_flag 1): not an SLC stack", path=dim
        )
    shape = (
        int(read_number(a, "num_output_lines", dim, positive=True)),
        int(read_number(a, "num_samples_per_line", dim, positive=True)),
    )
    if "first_line_time" not in a:
        raise ProductError("Abstracted_Metadata has no first_line_time", path=dim)
    look = a.get("antenna_pointing", "right").strip().lower()
    g = make_grid(
        start=parse_doris_time(a["first_line_time"], dim),
        azimuth_time_interval=read_number(a, "line_time_interval", dim, positive=True),
        starting_range=read_number(a, "slant_range_to_first_pixel", dim, positive=True),
        range_pixel_spacing=read_number(a, "range_spacing", dim, positive=True),
        shape=shape,
        wavelength=SPEED_OF_LIGHT / (read_number(a, "radar_frequency", dim, positive=True) * 1e6),
        look_side=look,
        path=dim,
    )
    ref_orbit = _orbit(abstracted, dim, "Abstracted_Metadata")

    # bands: {date: {pol: (i_img, q_img, element)}}, and each date's role
    names = [(b.text or "").strip() for b in root.iter("BAND_NAME")]
    dates: dict[str, dict[str, dict[str, tuple[Path, str]]]] = {}
    roles: dict[str, str] = {}
    for name in names:
        m = _BAND.match(name)
        if not m:
            continue
        part, pol, role, day = m.groups()
        img, hdr = _band_files(data_dir, name, dim)
        dates.setdefault(day, {}).setdefault(pol, {})[part] = (
            img,
            _element(hdr, data_dir / f"{name}.hdr", shape),
        )
        roles[day] = role or "mst"
    if not dates:
        raise ProductError(
            "no complex bands i_<POL>_..._<DDMonYYYY> / q_... in the product",
            path=dim,
            hint="export the coregistered stack with its i/q bands (not intensity only)",
        )
    ref_days = [d for d, r in roles.items() if r in ("mst", "ref")]
    if len(ref_days) != 1:
        raise ProductError(
            f"{len(ref_days)} reference dates among the bands (one _mst_/_ref_ date expected)",
            path=dim,
        )
    pols = tuple(sorted(dates[ref_days[0]]))

    def source(day: str) -> RawSource:
        files: dict[str, tuple[str, ...]] = {}
        elements = set()
        for pol in pols:
            parts = dates[day].get(pol, {})
            if set(parts) != {"i", "q"}:
                raise ProductError(
                    f"{day} {pol}: an i band without its q band (or the reverse)", path=dim
                )
            files[pol] = (str(parts["i"][0]), str(parts["q"][0]))
            elements |= {parts["i"][1], parts["q"][1]}
        if len(elements) != 1:
            raise ProductError(f"{day}: i/q bands of different sample types", path=dim)
        src = RawSource(files, elements.pop(), shape)
        src.check()
        return src

    meta = {
        "mission": a.get("MISSION", "unknown"),
        "product_name": a.get("PRODUCT", dim.stem),
        "processor": "snap",
        "source_path": str(dim),
        "date": ref_days[0],
    }
    reference = Scene(
        radar_grid=g,
        orbit=ref_orbit,
        polarizations=pols,
        metadata=meta,
        pixels=source(ref_days[0]),
        chunks=chunks,
    )
    sec_meta = _elem(meta_root, "Slave_Metadata")
    if sec_meta is None:
        sec_meta = _elem(meta_root, "Secondary_Metadata")
    by_day: dict[str, Any] = {}
    for e in [] if sec_meta is None else sec_meta.findall("MDElem"):
        ea = _attrs(e)
        if "first_line_time" in ea:
            t = parse_doris_time(ea["first_line_time"], dim)
            by_day[_dmy(t)] = e
    secondaries = []
    notes: list[str] = []
    for day in sorted(set(dates) - {ref_days[0]}, key=lambda d: _parse_dmy(d)):
        e = by_day.get(day)
        if e is None:
            notes.append(
                f"{day}: no Slave_Metadata element; the reference orbit and timing are used"
            )
            secondaries.append(
                secondary_scene(
                    reference,
                    sensing_start=np.datetime64(_parse_dmy(day), "ns"),
                    orbit=None,
                    pixels=source(day),
                    metadata={"date": day, "source_path": str(dim)},
                )
            )
            continue
        ea = _attrs(e)
        secondaries.append(
            secondary_scene(
                reference,
                sensing_start=parse_doris_time(ea["first_line_time"], dim),
                orbit=_orbit(e, dim, f"Slave_Metadata/{e.get('name')}"),
                wavelength=SPEED_OF_LIGHT
                / (read_number(ea, "radar_frequency", dim, positive=True) * 1e6),
                pixels=source(day),
                metadata={
                    "date": day,
                    "source_path": str(dim),
                    "product_name": ea.get("PRODUCT", ""),
                },
            )
        )
    return ImportedStack(reference, secondaries, "snap", dim, notes)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _dmy(t: np.datetime64) -> str:
    y, m, d = str(np.datetime64(t, "D")).split("-")
    return f"{d}{_MONTHS[int(m) - 1]}{y}"


def _parse_dmy(day: str) -> np.datetime64:
    return np.datetime64(f"{day[5:]}-{_MONTHS.index(day[2:5].title()) + 1:02d}-{day[:2]}", "D")
