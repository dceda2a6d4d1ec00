"""NISAR RSLC HDF5 reader (the layout of the NISAR RSLC product specification, JPL D-102268,
which the isce3 test products converted from UAVSAR also follow).

Layout used (``<B>`` the band, ``LSAR`` or ``SSAR``; ``<P>`` ``RSLC`` or the older ``SLC``)::

    science/<B>/identification/{missionId, lookDirection, absoluteOrbitNumber, trackNumber,
                                orbitPassDirection, zeroDopplerStartTime, boundingPolygon, ...}
    science/<B>/<P>/swaths/zeroDopplerTime            (s since the epoch in its units)
    science/<B>/<P>/swaths/zeroDopplerTimeSpacing
    science/<B>/<P>/swaths/frequency{A,B}/{slantRange, slantRangeSpacing, processedCenterFrequency,
                                           listOfPolarizations, <POL> (complex pixels)}
    science/<B>/<P>/metadata/orbit/{time, position, velocity}
    science/<B>/<P>/metadata/processingInformation/parameters/{zeroDopplerTime, slantRange,
                                                               frequency{A,B}/dopplerCentroid, azimuthFMRate}

Each time array carries its own epoch in its ``units`` attribute ("seconds since
YYYY-MM-DD HH:MM:SS"); grid and orbit are brought to the grid's epoch. A
polarisation listed in ``listOfPolarizations`` but without an image dataset is not
offered; the others are all kept (quad-pol: HH, HV, VH, VV; compact-pol: RH, RV), in that
canonical order.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from sarbd.core.ellipsoid import ecef_to_llh
from sarbd.core.orbit import Orbit
from sarbd.core.radar_grid import SPEED_OF_LIGHT, RadarGrid
from sarbd.core.scene import DEFAULT_CHUNKS, Scene
from sarbd.errors import InputError, OrbitError, ProductError
from sarbd.products.metadata import iso_time
from sarbd.products.sources import Hdf5Source

__all__ = ["NisarProduct", "open_nisar"]

PathLike = str | os.PathLike[str]
#: Canonical channel order (listOfPolarizations may list them in any order).
_POL_ORDER = ("HH", "HV", "VH", "VV", "RH", "RV", "LH", "LV")
_EPOCH = re.compile(r"seconds since\s+(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(\.\d+)?)")


@dataclass(frozen=True)
class NisarProduct:
    """What a NISAR scene knows about its product (``scene.product``).

    ``doppler`` and ``azimuth_fm_rate`` are 2-D LUTs (Hz, Hz/s) with dims
    ``(azimuth_time, slant_range)``: UTC ``datetime64[ns]`` and metres.
    ``valid_samples`` is ``(lines, 2)``: first and last valid sample per line.
    """

    @property
    def is_tops(self) -> bool:
        """False: NISAR/UAVSAR RSLC: stripmap (``sarbd.core.capabilities.AcquisitionMode``)."""
        return False

    path: str
    product_name: str
    mission: str
    product_type: str
    product_version: str
    band: str
    frequency: str
    frequencies: tuple[str, ...]
    polarizations: tuple[str, ...]
    listed_polarizations: tuple[str, ...]
    look_side: str
    absolute_orbit: int | None
    track_number: int | None
    pass_direction: str
    start_time: np.datetime64
    stop_time: np.datetime64
    processed_center_frequency: float
    processed_range_bandwidth: float
    nominal_prf: float
    along_track_spacing: float
    bounding_polygon: str | None
    orbit_type: str
    doppler: xr.DataArray | None = None
    azimuth_fm_rate: xr.DataArray | None = None
    valid_samples: NDArray[np.int64] | None = None
    datasets: dict[str, str] = field(default_factory=dict)


def _str(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value[()] if value.shape == () else value.tolist()
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


def _epoch_of(ds: Any, path: PathLike) -> np.datetime64:
    units = _str(ds.attrs.get("units", b""))
    m = _EPOCH.search(units)
    if m is None:
        raise ProductError(
            f"{ds.name} has no 'seconds since <epoch>' units (got {units!r})", path=path
        )
    return np.datetime64(f"{m[1]}T{m[2]}", "ns")


def _get(f: Any, name: str, path: PathLike) -> Any:
    if name not in f:
        raise ProductError(
            f"HDF5 dataset {name} is missing",
            path=path,
            hint="the file is not a NISAR RSLC product (or is incomplete)",
        )
    return f[name]


def _lut(
    f: Any, base: str, name: str, epoch_target: np.datetime64, path: PathLike
) -> xr.DataArray | None:
    params = base.rsplit("/", 1)[0]
    if (
        f"{base}/{name}" not in f
        or f"{params}/zeroDopplerTime" not in f
        or f"{params}/slantRange" not in f
    ):
        return None
    tds = f[f"{params}/zeroDopplerTime"]
    t = _epoch_of(tds, path) + np.round(tds[()] * 1e9).astype("timedelta64[ns]")
    r = f[f"{params}/slantRange"][()]
    ds = f[f"{base}/{name}"]
    units = _str(ds.attrs.get("units", b""))
    return xr.DataArray(
        np.asarray(ds[()], dtype=np.float64),
        dims=("azimuth_time", "slant_range"),
        coords={"azimuth_time": t, "slant_range": r},
        name=name,
        attrs={"units": units, "long_name": _str(ds.attrs.get("description", name))},
    )


def _heading_and_pass(orbit: Orbit, t_mid: float) -> tuple[float, str]:
    """Heading (deg clockwise from north) and pass direction from the orbit at time ``t_mid``."""
    pos, vel, _ = orbit.interpolate(np.array([t_mid]))
    lat, lon, _h = ecef_to_llh(pos)
    la, lo = np.radians(lat[0]), np.radians(lon[0])
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.array([-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)])
    v = vel[0]
    heading = float(np.degrees(np.arctan2(v @ east, v @ north)) % 360.0)
    return heading, ("ASCENDING" if v @ north >= 0 else "DESCENDING")


def _incidence_mid(orbit: Orbit, t_mid: float, slant_range: float) -> float:
    """Ellipsoid incidence angle (deg) at mid-swath, spherical Earth of the nadir's local radius.

    Law of cosines in the triangle Earth centre - platform - target (e.g. Curlander &
    McDonough 1991, eq. 8.2.1): ``cos(look) = (Rs^2 + r^2 - Re^2) / (2 Rs r)``,
    ``sin(inc) = Rs sin(look) / Re``.
    """
    pos = orbit.position(np.array([t_mid]))
    _lat, _lon, h = ecef_to_llh(pos)
    rs = float(np.linalg.norm(pos[0]))
    re = rs - float(h[0])  # geocentric radius of the nadir point (approximately)
    cos_look = (rs**2 + slant_range**2 - re**2) / (2 * rs * slant_range)
    look = np.arccos(np.clip(cos_look, -1, 1))
    return float(np.degrees(np.arcsin(np.clip(rs * np.sin(look) / re, -1, 1))))


def open_nisar(
    path: PathLike,
    *,
    frequency: str = "A",
    polarizations: str | list[str] | tuple[str, ...] | None = None,
    orbit: Any = None,
    chunks: tuple[int, int] | None = None,
) -> Scene:
    """Open a NISAR RSLC HDF5 file (one frequency) as a :class:`~sarbd.core.Scene`.

    Parameters
    ----------
    frequency
        ``"A"`` or ``"B"``.
    polarizations
        Polarisations to keep; all that have image data by default.
    orbit
        ``None`` (the file's orbit) or an :class:`~sarbd.core.Orbit`.
    """
    import h5py

    p = Path(path)
    freq = frequency.upper().removeprefix("FREQUENCY")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise ProductError(
            f"cannot open the HDF5 file ({exc})", path=p, hint="the file is truncated or corrupt"
        ) from None
    with f:
        science = _get(f, "science", p)
        bands = [b for b in ("LSAR", "SSAR") if b in science]
        if not bands:
            raise ProductError("no science/LSAR or science/SSAR group", path=p)
        band = bands[0]
        root = f"science/{band}"
        kinds = [k for k in ("RSLC", "SLC") if f"{root}/{k}/swaths" in f]
        if not kinds:
            raise ProductError(f"no {root}/RSLC/swaths group: not an RSLC product", path=p)
        prod = f"{root}/{kinds[0]}"
        ident = f"{root}/identification"
        swaths = f"{prod}/swaths"
        freqs = tuple(
            sorted(k.removeprefix("frequency") for k in f[swaths] if k.startswith("frequency"))
        )
        fgrp = f"{swaths}/frequency{freq}"
        listed = (
            tuple(_str(x).upper() for x in f[f"{fgrp}/listOfPolarizations"][()])
            if fgrp in f
            else ()
        )
        # every channel with image data (quad-pol products: all four), in the canonical order
        present = tuple(
            sorted(
                (pol for pol in listed if isinstance(f[fgrp].get(pol), h5py.Dataset)),
                key=lambda x: _POL_ORDER.index(x) if x in _POL_ORDER else len(_POL_ORDER),
            )
        )
        if not present:
            have = [
                fr
                for fr in freqs
                if any(
                    isinstance(f[f"{swaths}/frequency{fr}"].get(x), h5py.Dataset)
                    for x in ("HH", "HV", "VH", "VV")
                )
            ]
            raise InputError(
                f"frequency {freq} has no image data in this product",
                path=p,
                hint=f"use frequency= one of {', '.join(have) or 'none'}",
            )
        wanted = present
        if polarizations is not None:
            wanted = tuple(
                x.upper()
                for x in ([polarizations] if isinstance(polarizations, str) else polarizations)
            )
            missing = [x for x in wanted if x not in present]
            if missing:
                raise InputError(
                    f"polarisation {', '.join(missing)} is not in this product "
                    f"(frequency {freq} has {', '.join(present)})",
                    path=p,
                    hint=f"choose from {', '.join(present)}",
                )
        shape = f[f"{fgrp}/{wanted[0]}"].shape
        tds = _get(f, f"{swaths}/zeroDopplerTime", p)
        epoch = _epoch_of(tds, p)
        zdt = np.asarray(tds[()], dtype=np.float64)
        dt = (
            float(f[f"{swaths}/zeroDopplerTimeSpacing"][()])
            if f"{swaths}/zeroDopplerTimeSpacing" in f
            else float(np.median(np.diff(zdt)))
        )
        sr = np.asarray(_get(f, f"{fgrp}/slantRange", p)[()], dtype=np.float64)
        dr = (
            float(f[f"{fgrp}/slantRangeSpacing"][()])
            if f"{fgrp}/slantRangeSpacing" in f
            else float(np.median(np.diff(sr)))
        )
        if zdt.size != shape[0] or sr.size != shape[1]:
            raise ProductError(
                f"image is {shape[0]} x {shape[1]} but has {zdt.size} times and {sr.size} ranges",
                path=p,
            )
        fc = float(_get(f, f"{fgrp}/processedCenterFrequency", p)[()])
        look = (
            _str(f[f"{ident}/lookDirection"][()]).lower()
            if f"{ident}/lookDirection" in f
            else "right"
        )
        if orbit is None:
            ods = _get(f, f"{prod}/metadata/orbit/time", p)
            otimes = _epoch_of(ods, p) + np.round(ods[()] * 1e9).astype("timedelta64[ns]")
            orb = Orbit(
                otimes,
                f[f"{prod}/metadata/orbit/position"][()],
                f[f"{prod}/metadata/orbit/velocity"][()],
                source=_str(f[f"{prod}/metadata/orbit/orbitType"][()])
                if f"{prod}/metadata/orbit/orbitType" in f
                else "file",
            )
        elif isinstance(orbit, Orbit):
            orb = orbit
        else:
            raise InputError("orbit= for a NISAR product must be an Orbit object", path=p)
        params = f"{prod}/metadata/processingInformation/parameters"
        doppler = _lut(f, f"{params}/frequency{freq}", "dopplerCentroid", epoch, p)
        fm_rate = _lut(f, f"{params}/frequency{freq}", "azimuthFMRate", epoch, p)
        valid = None
        for name in ("validSamples", "validSamplesSubSwath1"):
            if f"{fgrp}/{name}" in f:
                valid = np.asarray(f[f"{fgrp}/{name}"][()], dtype=np.int64)
                break

        def ident_value(name: str, default: Any = None) -> Any:
            return f[f"{ident}/{name}"][()] if f"{ident}/{name}" in f else default

        def ident_int(name: str) -> int | None:
            v = ident_value(name)
            try:
                return int(_str(v)) if v is not None else None
            except ValueError:
                return None

        grid = RadarGrid(
            epoch,
            float(zdt[0]),
            dt,
            float(sr[0]),
            dr,
            shape[0],
            shape[1],
            SPEED_OF_LIGHT / fc,
            "left" if look == "left" else "right",
        )
        t_first: np.datetime64 = grid.line_to_datetime(0)[()]  # type: ignore[assignment]
        t_last: np.datetime64 = grid.line_to_datetime(shape[0] - 1)[()]  # type: ignore[assignment]
        if not orb.covers(t_first, t_last):
            raise OrbitError(
                f"orbit ({orb.start_time} .. {orb.end_time}) does not cover the image "
                f"{t_first} .. {t_last}",
                path=p,
            )
        orb = orb.with_epoch(epoch)
        mid = float(grid.line_to_azimuth_time((shape[0] - 1) / 2))
        heading, pass_from_orbit = _heading_and_pass(orb, mid)
        pass_text = _str(ident_value("orbitPassDirection", b"")).upper()
        pass_direction = pass_text if pass_text in ("ASCENDING", "DESCENDING") else pass_from_orbit
        poly = ident_value("boundingPolygon")
        product = NisarProduct(
            path=str(p),
            product_name=p.stem,
            mission=_str(ident_value("missionId", b"NISAR")) or "NISAR",
            product_type=_str(ident_value("productType", b"RSLC")),
            product_version=_str(ident_value("productVersion", b"")),
            band=band,
            frequency=freq,
            frequencies=freqs,
            polarizations=wanted,
            listed_polarizations=listed,
            look_side=grid.look_side,
            absolute_orbit=ident_int("absoluteOrbitNumber"),
            track_number=ident_int("trackNumber"),
            pass_direction=pass_direction,
            start_time=t_first,
            stop_time=t_last,
            processed_center_frequency=fc,
            processed_range_bandwidth=float(f[f"{fgrp}/processedRangeBandwidth"][()])
            if f"{fgrp}/processedRangeBandwidth" in f
            else float("nan"),
            nominal_prf=float(f[f"{fgrp}/nominalAcquisitionPRF"][()])
            if f"{fgrp}/nominalAcquisitionPRF" in f
            else 1.0 / dt,
            along_track_spacing=float(f[f"{fgrp}/sceneCenterAlongTrackSpacing"][()])
            if f"{fgrp}/sceneCenterAlongTrackSpacing" in f
            else float("nan"),
            bounding_polygon=_str(poly) if poly is not None else None,
            orbit_type=orb.source,
            doppler=doppler,
            azimuth_fm_rate=fm_rate,
            valid_samples=valid,
            datasets={pol: f"{fgrp}/{pol}" for pol in wanted},
        )
        incidence = _incidence_mid(orb, mid, grid.mid_range)
    meta: dict[str, Any] = {
        "mission": product.mission,
        "platform": product.mission,
        "instrument": f"{band[0]}-band SAR",
        "product_name": product.product_name,
        "product_type": product.product_type,
        "mode": "",
        "swath": f"frequency{freq}",
        "frequency": freq,
        "polarizations": list(wanted),
        "pass_direction": pass_direction,
        "absolute_orbit": product.absolute_orbit,
        "relative_orbit": product.track_number,
        "start_time": iso_time(t_first),
        "stop_time": iso_time(t_last),
        "radar_frequency": fc,
        "wavelength": grid.wavelength,
        "range_sampling_rate": grid.range_sampling_rate,
        "prf": product.nominal_prf,
        "azimuth_time_interval": dt,
        "slant_range_time": grid.starting_range_time,
        "range_pixel_spacing": dr,
        "azimuth_pixel_spacing": product.along_track_spacing,
        "incidence_angle_mid_swath": incidence,
        "heading": heading,
        "look_side": grid.look_side,
        "ipf_version": product.product_version,
        "orbit_source": orb.source,
        "source_path": str(p),
        "first_line": 0,
        "first_pixel": 0,
        "lines": shape[0],
        "pixels": shape[1],
    }
    return Scene(
        grid,
        orb,
        wanted,
        meta,
        Hdf5Source(str(p.resolve()), product.datasets),
        product,
        chunks or DEFAULT_CHUNKS,
    )
