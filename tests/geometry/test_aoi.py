"""AOI -> radar window: a bbox drawn around a known window of the grid maps back onto it."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.core import Scene
from sarbd.errors import InputError
from sarbd.geometry import rdr2geo
from sarbd.geometry.aoi import aoi_geometry, aoi_window


def _corners_lonlat(grid, orbit, l0, p0, nl, npx):
    lines = np.array([l0, l0, l0 + nl - 1, l0 + nl - 1], float)
    pixels = np.array([p0, p0 + npx - 1, p0, p0 + npx - 1], float)
    lat, lon, _ = rdr2geo(
        grid.line_to_azimuth_time(lines),
        grid.pixel_to_slant_range(pixels),
        orbit,
        height=0.0,
        look_side=grid.look_side,
        wavelength=grid.wavelength,
    )
    return lon, lat


def test_bbox_of_a_window_covers_it_and_little_more(kepler_orbit, burst_grid):
    scene = Scene(burst_grid, kepler_orbit, ("VV",))
    lon, lat = _corners_lonlat(burst_grid, kepler_orbit, 400, 150, 300, 200)
    l0, p0, nl, npx = aoi_window(scene, aoi_geometry((lon.min(), lat.min(), lon.max(), lat.max())))
    # the bbox contains the window's corners, so the window contains the window
    assert l0 <= 400 and p0 <= 150 and l0 + nl >= 700 and p0 + npx >= 350
    # the bbox of a (rotated) radar window is larger, but not by the whole scene
    assert nl < burst_grid.length and npx < burst_grid.width
    assert 0 <= l0 and 0 <= p0 and l0 + nl <= burst_grid.length and p0 + npx <= burst_grid.width


def test_an_aoi_off_the_grid_is_an_input_error(kepler_orbit, burst_grid):
    scene = Scene(burst_grid, kepler_orbit, ("VV",))
    lon, lat = _corners_lonlat(burst_grid, kepler_orbit, 0, 0, burst_grid.length, burst_grid.width)
    far = (lon.max() + 5.0, lat.max() + 5.0, lon.max() + 6.0, lat.max() + 6.0)
    with pytest.raises(InputError, match="does not overlap the reference radar grid"):
        aoi_window(scene, aoi_geometry(far), name=far)


def test_a_polygon_without_crs_is_refused(tmp_path):
    import geopandas as gpd
    import shapely

    with pytest.raises(InputError, match="no CRS"):
        aoi_geometry(
            None, gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)]), path=tmp_path / "aoi.gpkg"
        )
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    assert aoi_geometry(None, gdf).equals(shapely.box(0, 0, 1, 1))
