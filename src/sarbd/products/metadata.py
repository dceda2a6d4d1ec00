"""Scene metadata and global attributes (ACDD-1.3 plus the AlignSAR ``sar_*`` attributes).

Everything comes from the product itself (never from a folder listing or today's
date), which fixes the AlignSAR reference implementation's wrong dates and
sub-swaths (see ``alignsar-reference-implementation.md`` section 4).

Relative orbit (track) from absolute orbit, Sentinel-1 (175 orbits per 12-day cycle):

* S1A: ``(abs - 73) mod 175 + 1``; S1B: ``(abs - 27) mod 175 + 1``
  (ESA SentiWiki "S1 products", relationship between relative and absolute orbit);
* S1C: ``(abs - 172) mod 175 + 1`` up to absolute orbit 8018, ``(abs - 99) mod 175 + 1``
  after the June 2026 orbital reconfiguration (FRINGE 2026; as implemented in
  isce2 PR #28130 and sentineleof PR #86);
* S1D: ``(abs - 42) mod 175 + 1`` (sentineleof PR #86).

A SAFE product's ``manifest.safe`` states the relative orbit; when present it is used
and the formula only cross-checks it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.core.capabilities import FootprintPolygon, GeolocationGridProvider
from sarbd.core.radar_grid import SPEED_OF_LIGHT
from sarbd.errors import InputError

__all__ = ["geolocation_at", "global_attributes", "iso_time", "relative_orbit"]

#: Last S1C absolute orbit before the June 2026 reconfiguration changed its offset.
S1C_LAST_ORBIT_BEFORE_2026_RECONFIGURATION = 8018


def relative_orbit(mission: str, absolute_orbit: int) -> int:
    """Relative orbit (track, 1..175) of a Sentinel-1 absolute orbit number.

    Parameters
    ----------
    mission
        ``"S1A"``, ``"S1B"``, ``"S1C"`` or ``"S1D"``.
    absolute_orbit
        Absolute orbit number at the start of the acquisition.
    """
    m = mission.upper()
    if m == "S1A":
        offset = 73
    elif m == "S1B":
        offset = 27
    elif m == "S1C":
        offset = 172 if absolute_orbit <= S1C_LAST_ORBIT_BEFORE_2026_RECONFIGURATION else 99
    elif m == "S1D":
        offset = 42
    else:
        raise InputError(f"no relative-orbit rule for mission {mission!r}")
    return (int(absolute_orbit) - offset) % 175 + 1


def iso_time(t: Any) -> str:
    """UTC ``datetime64`` as ISO 8601 with microseconds and a ``Z``."""
    return str(np.datetime_as_string(np.datetime64(t, "us"), unit="us")) + "Z"


def wavelength(radar_frequency: float) -> float:
    """Radar wavelength (m) of a carrier frequency (Hz)."""
    return SPEED_OF_LIGHT / radar_frequency


def geolocation_at(scene: Any, lines: Any, pixels: Any, column: str) -> NDArray[np.float64] | None:
    """A geolocation-grid column (e.g. ``latitude``, ``incidence_angle``) at scene lines/pixels.

    Bilinear interpolation in (azimuth time, slant range) over the annotation's
    geolocation grid (a mesh of rows of equal line and columns of equal pixel; each
    row's time is its mean), with queries clamped to the grid. For metadata only
    (footprints, scene-centre angles), not for geometry: use :mod:`sarbd.geometry`.
    ``None`` when the product has no usable geolocation grid.
    """
    p = scene.product
    grid = p.geolocation_grid if isinstance(p, GeolocationGridProvider) else None
    if grid is None or not len(grid):
        return None
    from scipy.interpolate import RegularGridInterpolator

    g = grid.sort_values(["line", "pixel"])
    n_rows, n_cols = g["line"].nunique(), g["pixel"].nunique()
    if n_rows * n_cols != len(g) or n_rows < 2 or n_cols < 2:
        return None
    rg = scene.radar_grid
    t = ((g["azimuth_time"].to_numpy() - rg.reference_epoch) / np.timedelta64(1, "s")).reshape(
        n_rows, n_cols
    )
    r = (g["slant_range_time"].to_numpy() * SPEED_OF_LIGHT / 2).reshape(n_rows, n_cols)
    t_rows, r_cols = t.mean(axis=1), r.mean(axis=0)
    if np.any(np.diff(t_rows) <= 0) or np.any(np.diff(r_cols) <= 0):
        return None
    qt = np.clip(rg.line_to_azimuth_time(np.ravel(lines)), t_rows[0], t_rows[-1])
    qr = np.clip(rg.pixel_to_slant_range(np.ravel(pixels)), r_cols[0], r_cols[-1])
    values = g[column].to_numpy().reshape(n_rows, n_cols)
    out = RegularGridInterpolator((t_rows, r_cols), values)(np.column_stack([qt, qr]))
    return np.asarray(out, dtype=np.float64).reshape(np.shape(lines))


def _bounds(scene: Any) -> tuple[float, float, float, float] | None:
    """(lat_min, lat_max, lon_min, lon_max) of the scene, from the product's geolocation."""
    rg = scene.radar_grid
    li = np.linspace(0, rg.length - 1, 20)
    pj = np.linspace(0, rg.width - 1, 20)
    edge_l = np.concatenate([li, li, np.zeros(20), np.full(20, rg.length - 1)])
    edge_p = np.concatenate([np.zeros(20), np.full(20, rg.width - 1), pj, pj])
    lat = geolocation_at(scene, edge_l, edge_p, "latitude")
    lon = geolocation_at(scene, edge_l, edge_p, "longitude")
    if lat is not None and lon is not None:
        return float(lat.min()), float(lat.max()), float(lon.min()), float(lon.max())
    product = scene.product
    polygon = product.bounding_polygon if isinstance(product, FootprintPolygon) else None
    if polygon:
        import shapely

        minx, miny, maxx, maxy = shapely.from_wkt(polygon).bounds
        return miny, maxy, minx, maxx
    return None


def _centre(scene: Any, column: str) -> float | None:
    rg = scene.radar_grid
    v = geolocation_at(
        scene, np.array([(rg.length - 1) / 2]), np.array([(rg.width - 1) / 2]), column
    )
    return None if v is None else float(v[0])


def global_attributes(
    scene: Any, *, reference_date: str | None = None, **extra: Any
) -> dict[str, Any]:
    """Global attributes of a scene: ACDD-1.3 and the AlignSAR ``sar_*`` table.

    Parameters
    ----------
    scene
        A :class:`~sarbd.core.Scene` from :func:`sarbd.open_product`.
    reference_date
        ``sar_master_date_time`` for a stack (``YYYY-MM-DD``); the scene's own date by default.
    extra
        More attributes (e.g. ``creator_name``, ``institution``); they override computed ones.

    Returns
    -------
    dict
        Attribute name -> str / int / float / list of numbers (netCDF-ready; no ``None``).

    Notes
    -----
    ``sar_view_azimuth`` is the platform heading in degrees clockwise from north
    (0..360), not the pass direction the reference implementation wrote there; the pass
    is ``sar_pass_direction``. ``sar_view_incidence_angle`` is the mid-swath incidence
    of the product annotation (as AlignSAR); ``sar_scene_centre_incidence_angle`` the
    ellipsoid incidence at the scene's (crop's) centre from the geolocation grid. ``sar_SLC_crop`` is ``[first_line, last_line,
    first_pixel, last_pixel]`` (0-based, inclusive) of the scene in its root grid.
    """
    from sarbd import __version__

    meta = scene.metadata
    rg = scene.radar_grid
    t0 = rg.line_to_datetime(0)[()]
    t1 = rg.line_to_datetime(rg.length - 1)[()]
    date = str(np.datetime_as_string(np.datetime64(t0, "D")))
    attrs: dict[str, Any] = {
        "Conventions": "CF-1.10, ACDD-1.3",
        "title": f"{meta.get('mission', 'SAR')} {meta.get('mode', '')} {meta.get('swath', '')} "
        f"SLC {date}".replace("  ", " "),
        "summary": (
            f"Single-look complex SAR scene from {meta.get('product_name', 'an unnamed product')}, "
            f"lines {rg.first_line}..{rg.first_line + rg.length - 1}, "
            f"pixels {rg.first_pixel}..{rg.first_pixel + rg.width - 1}."
        ),
        "keywords": "SAR, synthetic aperture radar, SLC, benchmark dataset",
        "source": str(meta.get("product_name", "")),
        "platform": str(meta.get("platform", "")),
        "instrument": str(meta.get("instrument", "")),
        "processing_level": "L1 SLC",
        "product_version": str(meta.get("ipf_version") or ""),
        "date_created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "time_coverage_start": iso_time(t0),
        "time_coverage_end": iso_time(t1),
        "time_coverage_duration": f"PT{(t1 - t0) / np.timedelta64(1, 's'):.6f}S",
        "sar_date_time": date,
        "sar_master_date_time": reference_date or date,
        "sar_UTC_time": str(np.datetime_as_string(np.datetime64(t0, "s")))[11:19],
        "sar_instrument_mode": str(meta.get("mode", "")),
        "sar_subswath": str(meta.get("swath", "")),
        "sar_polarizations": " ".join(scene.polarizations),
        "sar_looks_range": 1,
        "sar_looks_azimuth": 1,
        "sar_pixel_spacing_range": float(meta.get("range_pixel_spacing", rg.range_pixel_spacing)),
        "sar_pixel_spacing_azimuth": float(meta.get("azimuth_pixel_spacing", np.nan)),
        "sar_processing_software": f"sarbd {__version__}",
        "sar_absolute_orbit": meta.get("absolute_orbit"),
        "sar_relative_orbit": meta.get("relative_orbit"),
        "sar_pass_direction": str(meta.get("pass_direction", "")),
        "sar_view_azimuth": meta.get("heading"),
        "sar_view_incidence_angle": meta.get("incidence_angle_mid_swath"),
        "sar_scene_centre_incidence_angle": _centre(scene, "incidence_angle"),
        "sar_center_frequency": meta.get("radar_frequency"),
        "sar_SLC_crop": [
            rg.first_line,
            rg.first_line + rg.length - 1,
            rg.first_pixel,
            rg.first_pixel + rg.width - 1,
        ],
        "sar_orbit_source": str(scene.orbit.source),
    }
    if meta.get("burst") is not None:
        attrs["sar_burst"] = str(meta["burst"])
    bounds = _bounds(scene)
    if bounds is not None:
        attrs.update(
            geospatial_lat_min=bounds[0],
            geospatial_lat_max=bounds[1],
            geospatial_lon_min=bounds[2],
            geospatial_lon_max=bounds[3],
            geospatial_lat_units="degrees_north",
            geospatial_lon_units="degrees_east",
        )
    attrs.update(extra)
    return {
        k: (v.item() if isinstance(v, np.generic) else v)
        for k, v in attrs.items()
        if v is not None and not (isinstance(v, float) and np.isnan(v))
    }
