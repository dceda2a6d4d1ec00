"""``sarbd coregister``: coregister SLCs onto a reference grid and write the stack as Zarr."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sarbd.cli.app import app
from sarbd.core.chunks import DEFAULT_CHUNKS


@app.command()
def coregister(
    more: list[Path] | None = typer.Argument(
        None, help="More secondaries (so that --secondary S1 S2 ... works).", show_default=False
    ),
    reference: Path = typer.Option(
        ..., "--reference", "-r", help="Reference SLC product (SAFE, annotation XML, NISAR HDF5)."
    ),
    secondary: list[Path] = typer.Option(
        ..., "--secondary", "-s", help="Secondary SLC products (repeat the option or list them)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output Zarr store (stack.zarr)."),
    dem: Path | None = typer.Option(
        None, "--dem", help="DEM GeoTIFF (default: the ellipsoid, height 0)."
    ),
    window: tuple[int, int] = typer.Option(
        (2, 10), "--window", help="Coherence window: LINES PIXELS."
    ),
    taps: int = typer.Option(8, "--taps", help="Interpolation kernel length (even, 4..32)."),
    polarization: list[str] | None = typer.Option(
        None, "--pol", help="Polarisations (default: all of the reference's)."
    ),
    swath: str | None = typer.Option(
        None, "--swath", help="Sentinel-1 swath (IW1, IW2, IW3) for SAFE inputs."
    ),
    chunks: tuple[int, int] = typer.Option(
        tuple(DEFAULT_CHUNKS), "--chunks", help="Dask/Zarr chunks: LINES PIXELS."
    ),
    refine: str = typer.Option(
        "apply", "--refine", help="Residual-shift refinement: off, report or apply."
    ),
    no_esd: bool = typer.Option(False, "--no-esd", help="TOPS: skip Enhanced Spectral Diversity."),
    sequential: bool = typer.Option(
        False, "--sequential", help="Also interferograms/coherence of consecutive dates."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Coregister secondary SLCs onto the reference grid; interferograms and coherence.

    Writes the stack of docs/formats.md (Zarr, chunked, compressed, atomically).

    Example: sarbd coregister --reference ref.SAFE --secondary d1.SAFE d2.SAFE --dem dem.tif --out stack.zarr
    """
    import numpy as np

    from sarbd.coregistration import coregister as run
    from sarbd.coregistration import write_stack
    from sarbd.errors import ConfigError

    if refine not in ("off", "report", "apply"):
        raise ConfigError(f"--refine must be off, report or apply, got {refine!r}")
    secondaries = list(secondary) + list(more or [])
    ds = run(
        reference,
        secondaries,
        dem=dem,
        window=window,
        kernel_taps=taps,
        polarizations=polarization or None,
        swath=swath,
        chunks=chunks,
        refine=refine,  # type: ignore[arg-type]
        esd=not no_esd,
        sequential=sequential,
    )
    path = write_stack(ds, out)
    pol = next(name for name in ds.data_vars if str(name).startswith("coherence_"))
    summary = {
        "out": str(path),
        "dates": [str(t)[:19] for t in ds["time"].values],
        "shape": [int(ds.sizes["line"]), int(ds.sizes["pixel"])],
        "perpendicular_baseline_m": [
            round(float(v), 2) for v in ds["perpendicular_baseline"].values
        ],
        "residual_line_shift": [round(float(v), 4) for v in ds["residual_line_shift"].values],
        "residual_pixel_shift": [round(float(v), 4) for v in ds["residual_pixel_shift"].values],
        "esd_azimuth_correction": [round(float(v), 5) for v in ds["esd_azimuth_correction"].values],
    }
    import xarray as xr

    back = xr.open_zarr(path)
    summary[f"mean_{pol}"] = [
        round(float(np.nanmean(back[pol][k].values)), 4) for k in range(back.sizes["time"])
    ]
    if as_json:
        typer.echo(json.dumps(summary, indent=1))
    else:
        typer.echo(
            f"wrote {path}: {len(summary['dates'])} dates, {summary['shape'][0]} x {summary['shape'][1]} pixels"
        )
        for k, date in enumerate(summary["dates"]):
            typer.echo(
                f"  {date}  B_perp {summary['perpendicular_baseline_m'][k]:8.2f} m  "
                f"mean {pol} {summary[f'mean_{pol}'][k]:.3f}"
            )
