"""AOI -> radar window: a bbox drawn around a known window of the grid maps back onto it."""

from __future__ import annotations

import numpy as np
import pytest

from sarbd.core import Scene
from sarbd.errors import InputError
from sarbd.geometry import rdr2geo
from sarbd.geometry.aoi import aoi_geometry, aoi_window


def _corners_lonlat(grid, orbit, l0, p0, nl, npx, height=0.0):
    lines = np.array([l0, l0, l0 + nl - 1, l0 + nl - 1], float)
    pixels = np.array([p0, p0 + npx - 1, p0, p0 + npx - 1], float)
    lat, lon, _ = rdr2geo(
        grid.line_to_azimuth_time(lines),
        grid.pixel_to_slant_range(pixels),
        orbit,
        height=height,
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


def test_window_covers_an_aoi_on_high_terrain_only_with_its_heights(kepler_orbit, burst_grid):
    """Terrain 2500 m above the ellipsoid is imaged ~h / tan(incidence) nearer in range: a
    window from height 0 cuts it, one over the AOI's height range covers it."""
    scene = Scene(burst_grid, kepler_orbit, ("VV",))
    lon, lat = _corners_lonlat(burst_grid, kepler_orbit, 400, 150, 300, 200, height=2500.0)
    aoi = aoi_geometry((lon.min(), lat.min(), lon.max(), lat.max()))

    def covers(w):
        l0, p0, nl, npx = w
        return l0 <= 400 and p0 <= 150 and l0 + nl >= 700 and p0 + npx >= 350

    assert not covers(aoi_window(scene, aoi))  # at the ellipsoid: off by hundreds of pixels
    assert covers(aoi_window(scene, aoi, heights=(0.0, 2500.0)))
    assert covers(aoi_window(scene, aoi, heights=(2500.0, 2500.0)))
    with pytest.raises(InputError, match="finite"):
        aoi_window(scene, aoi, heights=(10.0, 0.0))


def test_terrain_range_of_a_dem_over_an_aoi():
    from rasterio.transform import from_origin

    from sarbd.geometry import Dem
    from sarbd.geometry.aoi import terrain_range

    # 0.01 deg posts over 4.0-5.0 E, 52.0-53.0 N; height = 100 * (lon - 4) * 100 m
    lon = 4.0 + 0.01 * (np.arange(100) + 0.5)
    data = np.repeat((100.0 * (lon - 4.0) * 100.0)[None, :], 100, axis=0)
    dem = Dem.from_array(data, from_origin(4.0, 53.0, 0.01, 0.01), "EPSG:4326", description="ramp")
    lo, hi = terrain_range(dem, aoi_geometry((4.2, 52.2, 4.4, 52.4)))
    assert lo == pytest.approx(2000.0, abs=60.0) and hi == pytest.approx(4000.0, abs=60.0)
    with pytest.raises(InputError, match="no valid height"):
        terrain_range(dem, aoi_geometry((10.0, 10.0, 10.5, 10.5)))
