"""``sarbd radarcode``: reference geodata (vectors or a raster) onto a radar grid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

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
    product_options,
)
from sarbd.errors import InputError

if TYPE_CHECKING:
    from sarbd.core.scene import Scene


def _pairs(items: list[str], what: str, number: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"{what} {item!r} is not KEY=VALUE", hint=f"e.g. --{what} road=7")
        k, v = item.split("=", 1)
        if number:
            try:
                out[k.strip()] = float(v)
            except ValueError:
                raise InputError(f"{what} {item!r}: {v!r} is not a number") from None
        else:
            out[k.strip()] = v.strip() or None
    return out


@app.command()
def radarcode(
    reference: Path = typer.Argument(
        ..., help="Vector file (GPKG, SHP, GeoJSON, FGB, GeoParquet) or raster (GeoTIFF)."
    ),
    grid: Path = typer.Option(
        ...,
        "--grid",
        help="What defines the radar grid: a stack or dataset (Zarr/netCDF), "
        "a `sarbd geocode` output (.nc), or a product (SAFE zip/folder, annotation XML, "
        "RSLC HDF5; with --swath/--measurement/--offset/--orbit/--frequency).",
    ),
    out: Path = typer.Option(..., "--out", help="Output file: .nc (netCDF4) or .zarr."),
    layer: list[str] = typer.Option([], "--layer", help="Layer to use (repeatable; default all)."),
    class_field: str | None = typer.Option(
        None, "--class-field", help="Attribute with the class of each feature."
    ),
    class_map: list[str] = typer.Option(
        [], "--class-map", help="VALUE=CLASS renaming (repeatable)."
    ),
    width: list[str] = typer.Option(
        [], "--width", help="CLASS=METRES default width of lines/points (repeatable)."
    ),
    dem: str | None = typer.Option(
        None,
        "--dem",
        help="DEM file, or a constant ellipsoidal height in m; default: the stack's height layer.",
    ),
    buffer: float = typer.Option(
        10.0, "--buffer", help="Half-width of the boundary buffer mask, m."
    ),
    building_model: str = typer.Option(
        "volume", "--building-model", help="volume, roof or footprint."
    ),
    threshold: float = typer.Option(0.5, "--threshold", help="Minimum fraction for a hard label."),
    priority: str | None = typer.Option(
        None,
        "--priority",
        help="Comma-separated class order; earlier classes win where classes overlap.",
    ),
    kind: str = typer.Option("auto", "--kind", help="Rasters: auto, categorical or continuous."),
    vertical_datum: VerticalDatum = "auto",
    dem_interpolation: DemInterpolation = "bilinear",
    height_above_geoid: HeightAboveGeoid = None,
    swath: Swath = None,
    measurement: Measurement = None,
    offset: Offset = None,
    orbit: Orbit = None,
    frequency: Frequency = None,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Radarcode reference geodata onto the radar grid of a stack: exact per-class fractions.

    Vectors in any CRS are placed at their ellipsoidal height (DEM + geoid, plus building
    heights), mapped with geo2rdr and rasterised as exact area fractions; rasters are
    area-weighted. No empirical offsets.

    The grid is a stack or dataset written by sarbd, the netCDF of `sarbd geocode`
    (its height layer is the terrain when --dem is not given), or a product opened
    with the same options as `sarbd geocode` (then --dem or a constant height is needed).

    Example: sarbd radarcode top10nl.gpkg --grid stack.zarr --layer gebouw_vlak --dem dem.tif --out labels.nc

    Example (onto one product): sarbd radarcode coast.geojson --grid s1a-iw3-slc-vv.xml --measurement crop.tiff
    --offset 9799,10999 --dem dem.tif --class-field class --out labels.nc
    """
    import numpy as np

    from sarbd.radarcode import radarcode as run
    from sarbd.radarcode import radarcode_raster
    from sarbd.radarcode.formats import is_raster_path
    from sarbd.utils.files import atomic_output

    grid_arg = _grid(
        grid, swath=swath, measurement=measurement, offset=offset, orbit=orbit, frequency=frequency
    )
    dem_arg: object = dem
    if height_above_geoid is not None:
        if dem is not None:
            raise InputError("give either --dem or --height-above-geoid, not both")
        dem_arg = _geoid_surface(grid_arg, height_above_geoid)
    elif dem is not None:
        try:
            dem_arg = float(dem)
        except ValueError:
            dem_arg = _open_dem(Path(dem), grid_arg, vertical_datum, dem_interpolation)
    if building_model not in ("volume", "roof", "footprint"):
        raise InputError(
            f"unknown building model {building_model!r}", hint="use volume, roof or footprint"
        )
    if out.suffix not in (".nc", ".zarr"):
        raise InputError("output must end in .nc or .zarr", path=out)
    if is_raster_path(reference):
        cmap = {_num(k): str(v) for k, v in _pairs(class_map, "class-map", False).items()} or None
        ds = radarcode_raster(
            reference,
            grid_arg,
            kind=kind,  # type: ignore[arg-type]
            dem=dem_arg,  # type: ignore[arg-type]
            classes=cmap,  # type: ignore[arg-type]
            threshold=threshold,
            buffer=buffer,
        )
    else:
        ds = run(
            reference,
            grid_arg,
            layers=layer or None,
            class_field=class_field,
            class_map=_pairs(class_map, "class-map", False) or None,  # type: ignore[arg-type]
            dem=dem_arg,  # type: ignore[arg-type]
            buffer=buffer,
            widths=_pairs(width, "width", True) or None,  # type: ignore[arg-type]
            building_model=building_model,  # type: ignore[arg-type]
            threshold=threshold,  # type: ignore[arg-type]
            priority=[p.strip() for p in priority.split(",") if p.strip()] if priority else None,
        )
    directory = out.suffix == ".zarr"
    with atomic_output(out, directory=directory) as tmp:
        if directory:
            ds.to_zarr(tmp, mode="w", zarr_format=2)
        else:
            ds.to_netcdf(tmp, engine="h5netcdf")
    summary: dict[str, object] = {
        "output": str(out),
        "shape": [int(ds.sizes["line"]), int(ds.sizes["pixel"])],
        "variables": list(ds.data_vars),
    }
    fractions = [v for v in ds.data_vars if str(v).startswith("fraction_")]
    if fractions:
        import xarray as xr

        back = xr.open_zarr(out) if directory else xr.open_dataset(out, engine="h5netcdf")
        with back:
            summary["mean_fraction"] = {
                str(v)[9:]: round(float(np.nanmean(back[v].values)), 6) for v in fractions
            }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(
            f"wrote {out}: {ds.sizes['line']} x {ds.sizes['pixel']}, "
            f"{', '.join(str(v) for v in ds.data_vars)}"
        )


def _num(key: str) -> object:
    try:
        return int(key)
    except ValueError:
        return float(key)


def _is_dataset(path: Path) -> bool:
    """A stack/dataset/geocode output (Zarr or netCDF) rather than an SLC product."""
    if path.suffix.lower() in (".zarr", ".nc", ".nc4"):
        return True
    return path.is_dir() and any(
        (path / m).exists() for m in (".zgroup", ".zmetadata", "zarr.json")
    )


def _grid(
    path: Path,
    *,
    swath: str | None,
    measurement: Path | None,
    offset: str | None,
    orbit: Path | None,
    frequency: str | None,
) -> Path | Scene:
    """The ``grid`` of :func:`sarbd.radarcode`: a dataset path as it is, or a product opened as a Scene."""
    given_options = {
        "--swath": swath,
        "--measurement": measurement,
        "--offset": offset,
        "--orbit": orbit,
        "--frequency": frequency,
    }
    if not path.exists():
        raise InputError("radar grid file not found", path=path)
    if _is_dataset(path):
        given = [k for k, v in given_options.items() if v is not None]
        if given:
            raise InputError(
                f"{', '.join(given)} apply to a product grid, not to a stack or dataset", path=path
            )
        return path
    from sarbd.products import open_product

    return open_product(path, **product_options(swath, measurement, offset, orbit, frequency))


def _open_dem(path: Path, grid: Path | Scene, vertical_datum: str, interpolation: str) -> object:
    """The DEM over the grid's footprint, with the vertical datum said (or assumed, loudly)."""
    from sarbd.geometry import Dem
    from sarbd.radarcode.target import resolve_target

    west, south, east, north = resolve_target(grid).footprint().bounds
    return Dem.open(
        path,
        vertical_datum=vertical_datum,
        bounds=(west, south, east, north),
        margin=0.1,
        interpolation=interpolation,
    )


def _geoid_surface(grid: Path | Scene, height: float) -> object:
    """A constant height above the EGM96 geoid over the grid's footprint, as a DEM."""
    from sarbd.geometry import Dem
    from sarbd.radarcode.target import resolve_target

    west, south, east, north = resolve_target(grid).footprint(height=height).bounds
    return Dem.geoid_surface(
        (west - 0.05, south - 0.05, east + 0.05, north + 0.05), height, spacing=0.01
    )
