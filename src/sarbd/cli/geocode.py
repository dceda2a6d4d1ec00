"""``sarbd geocode``: per-pixel radar geometry of a product as CF netCDF."""

from __future__ import annotations

from pathlib import Path

import typer

from sarbd.cli.app import app
from sarbd.cli.product_options import (
    DemInterpolation,
    Frequency,
    HeightAboveGeoid,
    Measurement,
    Offset,
    Orbit,
    Swath,
    VerticalDatum,
    integer_pair,
    product_options,
)


@app.command()
def geocode(
    product: Path = typer.Argument(
        ..., help="SAFE zip/folder, annotation XML, or NISAR RSLC HDF5 file."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output netCDF file (.nc)."),
    dem: Path = typer.Option(
        None, "--dem", help="DEM GeoTIFF (any CRS); default: no DEM (see below)."
    ),
    vertical_datum: VerticalDatum = "auto",
    dem_interpolation: DemInterpolation = "bilinear",
    height_above_geoid: HeightAboveGeoid = None,
    swath: Swath = None,
    measurement: Measurement = None,
    offset: Offset = None,
    orbit: Orbit = None,
    frequency: Frequency = None,
    coarse: str = typer.Option(
        None, "--coarse", help="Solve every DL,DP lines/pixels and interpolate (error-checked)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary to standard output."),
) -> None:
    """Write latitude, longitude, height, incidence, local incidence and layover/shadow per pixel.

    The output is CF-1.10 / ACDD-1.3 netCDF on the product's (line, pixel) grid, with
    2-D latitude/longitude auxiliary coordinates. Heights come from --dem (converted
    to ellipsoidal heights with EGM96 unless the DEM says otherwise), or a constant
    --height-above-geoid, or else the product's geolocation grid floored at the geoid;
    the choice is recorded in the file's height_model attribute.

    Example: sarbd geocode s1a-iw3-slc-vv.xml --measurement crop.tiff --offset 9799,10999 --out geometry.nc
    """
    import json

    import numpy as np

    from sarbd.geometry.geocode import geocode_scene, write_geometry_netcdf
    from sarbd.products import open_product

    step = integer_pair(coarse, "--coarse")
    scene = open_product(product, **product_options(swath, measurement, offset, orbit, frequency))
    ds = geocode_scene(
        scene,
        dem=dem,
        vertical_datum=vertical_datum,
        dem_interpolation=dem_interpolation,
        height_above_geoid=height_above_geoid,
        coarse_step=step,
    )
    path = write_geometry_netcdf(ds, out)
    if as_json:
        import xarray as xr

        with xr.open_dataset(path) as saved:
            conv = saved["converged"].values
            mask = saved["layover_shadow_mask"].values
            summary = {
                "path": str(path),
                "shape": [int(saved.sizes["line"]), int(saved.sizes["pixel"])],
                "height_model": saved.attrs.get("height_model"),
                "orbit_source": saved.attrs.get("orbit_source"),
                "converged_fraction": float(np.mean(conv == 1)),
                "layover_pixels": int(np.count_nonzero(mask & 1)),
                "shadow_pixels": int(np.count_nonzero(mask & 2)),
                "latitude_range": [float(saved.latitude.min()), float(saved.latitude.max())],
                "longitude_range": [float(saved.longitude.min()), float(saved.longitude.max())],
            }
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(
            f"wrote {path} ({ds.sizes['line']} x {ds.sizes['pixel']}; height model: "
            f"{ds.attrs.get('height_model')})"
        )
