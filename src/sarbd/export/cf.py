"""CF-1.10 + ACDD-1.3 metadata for SARbd datasets in radar geometry, and its checks.

Radar-geometry rasters follow CF §5.2 ("two-dimensional latitude, longitude, coordinate
variables"): dims ``(time, line, pixel)``, auxiliary coordinates ``latitude(line, pixel)``
(``standard_name = latitude``, ``units = degrees_north``) and ``longitude`` named in each
data variable's ``coordinates`` attribute; class rasters carry ``flag_values`` /
``flag_meanings`` and bit fields ``flag_masks`` (CF §3.5). Global attributes follow
ACDD-1.3 (https://wiki.esipfed.org/Attribute_Convention_for_Data_Discovery_1-3).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from sarbd import __version__
from sarbd.errors import InputError

__all__ = ["CONVENTIONS", "GRID_MAPPING", "char_attributes", "check_cf", "prepare_cf"]

CONVENTIONS = "CF-1.10, ACDD-1.3"

#: ACDD-1.3 "highly recommended" and the "recommended" ones sarbd always fills.
ACDD_REQUIRED = ("title", "summary", "keywords", "Conventions")
ACDD_FILLED = (
    "date_created",
    "geospatial_lat_min",
    "geospatial_lat_max",
    "geospatial_lon_min",
    "geospatial_lon_max",
    "time_coverage_start",
    "time_coverage_end",
)

_COORD_ATTRS: dict[str, dict[str, str]] = {
    "line": {"long_name": "line (azimuth) index in the root radar grid", "units": "1"},
    "pixel": {"long_name": "pixel (slant range) index in the root radar grid", "units": "1"},
    "time": {"long_name": "acquisition start time (UTC)", "standard_name": "time"},
    "orbit_time": {"long_name": "orbit state vector time (UTC)"},
    "xyz": {"long_name": "ECEF axis", "units": "1"},
    "latitude": {
        "long_name": "geodetic latitude (WGS84)",
        "standard_name": "latitude",
        "units": "degrees_north",
    },
    "longitude": {
        "long_name": "geodetic longitude (WGS84)",
        "standard_name": "longitude",
        "units": "degrees_east",
    },
}


#: The grid-mapping variable naming the datum of ``latitude``/``longitude`` (CF 5.6:
#: ``latitude_longitude`` on the WGS84 ellipsoid, EPSG:4326).
GRID_MAPPING = "crs"
_WGS84_ATTRS: dict[str, Any] = {
    "grid_mapping_name": "latitude_longitude",
    "long_name": "WGS84 geodetic datum of latitude and longitude (EPSG:4326)",
    "longitude_of_prime_meridian": 0.0,
    "semi_major_axis": 6378137.0,
    "inverse_flattening": 298.257223563,
    "horizontal_datum_name": "WGS_1984",
    "reference_ellipsoid_name": "WGS 84",
    "prime_meridian_name": "Greenwich",
    "epsg_code": "EPSG:4326",
}


def _wgs84_wkt() -> str:
    from pyproj import CRS

    return str(CRS.from_epsg(4326).to_wkt())


def _flag_integer_type(v: xr.DataArray) -> np.dtype | None:
    """The unsigned integer type a float flag variable should have (None: leave it)."""
    if v.dtype.kind != "f" or not ({"flag_values", "flag_masks"} & set(v.attrs)):
        return None
    values = np.atleast_1d(v.attrs.get("flag_values", v.attrs.get("flag_masks", [])))
    top = float(np.nanmax(values)) if values.size else 0.0
    return np.dtype(np.uint8) if top < 255 else np.dtype(np.uint16)


def _local_path(key: str, value: Any) -> Any:
    """A path attribute without the writer's local folders (its base name)."""
    import os

    if isinstance(value, str) and "path" in key.lower() and os.path.isabs(value):
        return os.path.basename(value.rstrip("/\\")) or value
    return value


def char_attributes(path: Any) -> int:
    """Rewrite the string attributes of a netCDF-4 file as classic text (``NC_CHAR``), in place.

    h5netcdf stores Python strings as variable-length HDF5 strings, which netCDF-C reads
    as ``NC_STRING`` -- a netCDF-4-only type older readers struggle with; netCDF-C
    itself (and netCDF4-python) write text attributes as fixed-length, NUL-terminated
    strings, read back as ``NC_CHAR``. This writes every variable-length string attribute
    (a single string) that way, ASCII or UTF-8 like netCDF-C; string *arrays* stay.

    Returns the number of attributes rewritten.
    """
    import h5py

    count = 0

    def rewrite(obj: Any) -> None:
        nonlocal count
        for name in list(obj.attrs):
            attr_id = h5py.h5a.open(obj.id, name.encode())
            tid = attr_id.get_type()
            space = attr_id.get_space()
            if not (
                isinstance(tid, h5py.h5t.TypeStringID)
                and tid.is_variable_str()
                and space.get_simple_extent_type() == h5py.h5s.SCALAR
            ):
                continue
            value = obj.attrs[name]
            text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
            raw = text.encode("utf-8")
            if not raw:  # a zero-length fixed string is not allowed in HDF5; netCDF-C keeps it too
                continue
            del attr_id
            new = h5py.h5t.C_S1.copy()
            new.set_size(len(raw))
            new.set_strpad(h5py.h5t.STR_NULLTERM)
            new.set_cset(h5py.h5t.CSET_ASCII if text.isascii() else h5py.h5t.CSET_UTF8)
            h5py.h5a.delete(obj.id, name.encode())
            aid = h5py.h5a.create(obj.id, name.encode(), new, h5py.h5s.create(h5py.h5s.SCALAR))
            aid.write(np.array(raw), mtype=aid.get_type())
            count += 1

    with h5py.File(path, "r+") as f:
        rewrite(f)
        f.visititems(lambda _, obj: rewrite(obj))
    return count


def _content_type(name: str) -> str:
    """ACDD-1.3 ``coverage_content_type`` of a SARbd variable, from its name."""
    if name.startswith("label_") or name == "split":
        return "thematicClassification"
    if name in ("quality_flags", "layover_shadow_mask"):
        return "qualityInformation"
    if name.startswith("fraction_") or name == "boundary_distance":
        return "referenceInformation"
    if (
        name.startswith("orbit_")
        or name in ("height", "incidence_angle", "local_incidence_angle")
        or name.endswith("_baseline")
    ):
        return "auxiliaryInformation"
    return "physicalMeasurement"


def _attr_value(value: Any) -> Any:
    """An attribute value netCDF can store (no bool, dict, None, datetime)."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, np.datetime64):
        return str(value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    if isinstance(value, list | tuple):
        if (
            all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in value)
            and value
        ):
            return np.asarray(value)
        return json.dumps(list(value), default=str)
    return value


def _clean_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _local_path(str(k), _attr_value(v)) for k, v in attrs.items() if v is not None}


def prepare_cf(ds: xr.Dataset, split_complex: bool = True) -> xr.Dataset:
    """A copy of ``ds`` with the CF/ACDD metadata sarbd writes; raises if a variable lacks units/long_name.

    * dimension coordinates get ``long_name``/``units`` (``line``/``pixel``/``time``...);
      ``latitude``/``longitude`` become coordinates with their CF attributes;
    * complex variables become ``<name>_real`` / ``<name>_imag`` float pairs when
      ``split_complex`` (netCDF has no complex type in CF);
    * attributes are made storable (booleans as ``"true"``/``"false"``, dicts as JSON);
      path attributes keep only the file name (no local folders);
    * flag variables stored as floats become unsigned integers (NaN -> the type's largest
      value, its ``_FillValue``); orbit vectors are stored ``(xyz, orbit_time)`` (CF 2.4);
    * a ``crs`` grid-mapping variable (WGS84, CF 5.6) names the datum of
      ``latitude``/``longitude``; every raster's ``grid_mapping`` points at it;
    * ``Conventions``, ``date_created``, ``geospatial_*``, ``time_coverage_*`` and
      ``sarbd_version`` are filled; ``title``/``summary``/``keywords`` get defaults when absent.

    Raises
    ------
    InputError
        A data variable has no ``units`` or ``long_name`` (name them all in the message).
    """
    out = ds.drop_vars(
        [GRID_MAPPING], errors="ignore"
    ).copy()  # re-made below (a dataset read back has one)
    for c in ("latitude", "longitude"):
        if c in out.data_vars:
            out = out.set_coords(c)
    if split_complex:
        for name in [k for k, v in out.data_vars.items() if np.iscomplexobj(v.dtype.type(0))]:
            v = out[name]
            real_dtype = np.float32 if v.dtype == np.complex64 else np.float64
            for part, fn in (("real", np.real), ("imag", np.imag)):
                attrs = dict(v.attrs)
                attrs["long_name"] = f"{attrs.get('long_name', name)} ({part} part)"
                out[f"{name}_{part}"] = (
                    xr.apply_ufunc(fn, v, dask="allowed").astype(real_dtype).assign_attrs(attrs)
                )
            out = out.drop_vars([name])
    for name, defaults in _COORD_ATTRS.items():
        if name in out.variables:
            attrs = dict(out[name].attrs)
            for k, val in defaults.items():
                attrs.setdefault(k, val)
            out[name].attrs = attrs
    for name, v in list(out.data_vars.items()):
        if "orbit_time" in v.dims and v.ndim > 1:  # CF 2.4: other dimensions left of the time axis
            out[name] = v.transpose(..., "orbit_time")
            v = out[name]
        itype = _flag_integer_type(v)
        if itype is not None:  # CF 3.5: flag_values take the variable's (integer) type
            fill = np.iinfo(itype).max
            out[name] = v.fillna(fill).astype(itype).assign_attrs(v.attrs)
            if bool(v.isnull().any()):
                out[name].attrs["_FillValue"] = fill
    for name, v in out.data_vars.items():
        # flags and strings are dimensionless: CF's canonical unit for them is "1"
        if "units" not in v.attrs and (
            {"flag_values", "flag_masks"} & set(v.attrs) or v.dtype.kind in "OSUT"
        ):
            out[name].attrs = {**v.attrs, "units": "1"}
    missing = [
        f"{k} ({', '.join(a for a in ('units', 'long_name') if a not in v.attrs)})"
        for k, v in out.data_vars.items()
        if not {"units", "long_name"} <= set(v.attrs)
    ]
    if missing:
        raise InputError(
            f"variables without CF attributes: {'; '.join(missing)}",
            hint="give every variable 'units' and 'long_name' (units '1' when dimensionless)",
        )
    for name in out.variables:
        out[name].attrs = _clean_attrs(out[name].attrs)
        out[name].encoding = {}
    if "latitude" in out.variables and "longitude" in out.variables:
        # a data variable, not a coordinate: xarray would list a coordinate in every
        # variable's ``coordinates`` attribute, and CF names it in ``grid_mapping`` only
        out[GRID_MAPPING] = xr.DataArray(
            np.int32(0), attrs={**_WGS84_ATTRS, "crs_wkt": _wgs84_wkt()}
        )
    for name, v in out.data_vars.items():
        if name == GRID_MAPPING:
            continue
        v.attrs.setdefault("coverage_content_type", _content_type(str(name)))
        out[name].attrs = _typed_attrs(v.attrs, v.dtype)
        if GRID_MAPPING in out.variables and {"line", "pixel"} <= set(v.dims):
            out[name].attrs["grid_mapping"] = GRID_MAPPING
    attrs = _clean_attrs(out.attrs)
    attrs["Conventions"] = CONVENTIONS
    attrs.setdefault("title", "SARbd dataset")
    attrs.setdefault("summary", "Labelled SAR benchmark dataset in radar geometry made with sarbd.")
    attrs.setdefault("keywords", "SAR, InSAR, benchmark, machine learning, radar geometry, SARbd")
    attrs.setdefault("standard_name_vocabulary", "CF Standard Name Table v84")
    history = f"{_dt.datetime.now(_dt.UTC):%Y-%m-%dT%H:%M:%SZ} written by sarbd {__version__}"
    attrs["history"] = f"{attrs['history']}\n{history}" if attrs.get("history") else history
    attrs["date_created"] = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    attrs["sarbd_version"] = __version__
    if "latitude" in out.variables and "longitude" in out.variables:
        # reductions (chunk by chunk for Dask-backed layers), not the whole lat/lon arrays in memory
        import dask

        lat, lon = out["latitude"], out["longitude"]
        lat_min, lat_max, lon_min, lon_max = (
            float(r) for r in dask.compute(lat.min(), lat.max(), lon.min(), lon.max())
        )
        attrs.update(
            {
                "geospatial_lat_min": lat_min,
                "geospatial_lat_max": lat_max,
                "geospatial_lon_min": lon_min,
                "geospatial_lon_max": lon_max,
                "geospatial_lat_units": "degrees_north",
                "geospatial_lon_units": "degrees_east",
            }
        )
    if "time" in out.variables and out["time"].size:
        t = np.asarray(out["time"].values).astype("datetime64[s]")
        attrs["time_coverage_start"] = str(t.min()) + "Z"
        attrs["time_coverage_end"] = str(t.max()) + "Z"
    out.attrs = attrs
    return out


#: Attributes CF wants in the data type of their variable (CF 2.5.1, 3.5).
_TYPED_ATTRS = ("flag_values", "flag_masks", "valid_min", "valid_max", "valid_range", "_FillValue")


def _typed_attrs(attrs: Mapping[str, Any], dtype: np.dtype) -> dict[str, Any]:
    """Attributes with CF's type and unit rules applied.

    * ``flag_values``/``flag_masks``/``valid_*`` take the variable's data type;
    * a decibel quantity gets ``units = "1"`` (UDUNITS, which CF units must follow, has no
      logarithmic units); its ``long_name`` says "(dB)" and ``sarbd_units = "dB"`` keeps
      the unit for software.
    """
    out = dict(attrs)
    if dtype.kind in "iuf":
        for key in _TYPED_ATTRS:
            if key in out and out[key] is not None and not isinstance(out[key], str):
                out[key] = np.asarray(out[key]).astype(dtype)
    if str(out.get("units", "")).strip().lower() == "db":
        out["units"] = "1"
        out["sarbd_units"] = "dB"
        if "(dB)" not in str(out.get("long_name", "")) and " dB" not in str(
            out.get("long_name", "")
        ):
            out["long_name"] = f"{out.get('long_name', '')} (dB)".strip()
    return out


def _flag_problems(name: str, attrs: Mapping[str, Any]) -> list[str]:
    problems = []
    meanings = str(attrs.get("flag_meanings", "")).split()
    for key in ("flag_values", "flag_masks"):
        if key in attrs:
            n = np.atleast_1d(attrs[key]).size
            if n != len(meanings):
                problems.append(
                    f"{name}: {key} has {n} entries but flag_meanings has {len(meanings)}"
                )
    if meanings and not ({"flag_values", "flag_masks"} & set(attrs)):
        problems.append(f"{name}: flag_meanings without flag_values or flag_masks")
    return problems


def check_cf(ds: xr.Dataset) -> list[str]:
    """The CF/ACDD rules sarbd promises (see the module docstring); returns the problems found.

    Checks: ``Conventions`` names CF-1.x and ACDD-1.3; ACDD highly-recommended attributes;
    every data variable has ``units`` and ``long_name``; rasters on ``(line, pixel)`` have
    dims ordered ``(time,) line, pixel`` and a ``coordinates`` attribute naming
    ``latitude`` and ``longitude``; those have the CF standard names and units; flags are
    consistent; no variable or dimension name has characters outside ``[A-Za-z0-9_]``.
    """
    import re

    problems: list[str] = []
    conv = str(ds.attrs.get("Conventions", ""))
    if not re.search(r"CF-1\.\d+", conv) or "ACDD-1.3" not in conv:
        problems.append(f"global: Conventions is {conv!r}, expected 'CF-1.10, ACDD-1.3'")
    for a in ACDD_REQUIRED + ACDD_FILLED:
        if a not in ds.attrs:
            problems.append(f"global: ACDD attribute {a!r} is missing")
    for c, units in (("latitude", "degrees_north"), ("longitude", "degrees_east")):
        if c not in ds.variables:
            problems.append(
                f"{c}: auxiliary coordinate is missing (required without a grid mapping)"
            )
            continue
        if ds[c].attrs.get("standard_name") != c or ds[c].attrs.get("units") != units:
            problems.append(f"{c}: needs standard_name={c!r} and units={units!r}")
    name_re = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
    for name in list(ds.variables) + list(ds.dims):
        if not name_re.match(str(name)):
            problems.append(f"{name!r}: name is not CF-safe (letters, digits, '_')")
    for name, v in ds.data_vars.items():
        if "grid_mapping_name" in v.attrs:  # a grid-mapping variable (CF 5.6) has no units
            continue
        for a in ("units", "long_name"):
            if a not in v.attrs:
                problems.append(f"{name}: attribute {a!r} is missing")
        problems += _flag_problems(str(name), v.attrs)
        if {"line", "pixel"} <= set(v.dims):
            order = [d for d in v.dims if d in ("time", "line", "pixel")]
            if order != [d for d in ("time", "line", "pixel") if d in v.dims]:
                problems.append(f"{name}: dims {v.dims} are not ordered (time, line, pixel)")
            coords = str(v.encoding.get("coordinates", v.attrs.get("coordinates", ""))).split()
            coords += [
                c for c in ("latitude", "longitude") if c in v.coords
            ]  # xarray writes these itself
            if not {"latitude", "longitude"} <= set(coords):
                problems.append(
                    f"{name}: 'coordinates' attribute does not name latitude and longitude"
                )
    return problems
