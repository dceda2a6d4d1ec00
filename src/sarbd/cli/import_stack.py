"""``sarbd import-stack``: another processor's coregistered stack -> a sarbd stack (Zarr)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from sarbd.cli.app import app
from sarbd.core.chunks import DEFAULT_CHUNKS


@app.command("import-stack")
def import_stack(
    path: Path = typer.Argument(
        ...,
        help="ISCE2 topsStack folder, SNAP .dim, GMTSAR folder of .PRM files, "
        "or Doris stack folder.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output Zarr store (stack.zarr)."),
    fmt: str = typer.Option(
        "auto", "--format", "-f", help="isce2, snap, gmtsar, doris (auto: detect)."
    ),
    dem: Path | None = typer.Option(
        None, "--dem", help="DEM GeoTIFF (default: the ellipsoid, height 0)."
    ),
    polarization: list[str] | None = typer.Option(
        None, "--pol", help="Polarisations to keep (default: all)."
    ),
    stack_pol: str | None = typer.Option(
        None, "--stack-pol", help="Polarisation of a single-pol stack (default VV)."
    ),
    reference: str | None = typer.Option(
        None, "--reference", help="GMTSAR: reference date YYYYMMDD or PRM name."
    ),
    window: tuple[int, int] = typer.Option(
        (2, 10), "--window", help="Coherence window: LINES PIXELS."
    ),
    chunks: tuple[int, int] = typer.Option(
        (DEFAULT_CHUNKS.lines, DEFAULT_CHUNKS.pixels),
        "--chunks",
        help="Dask/Zarr chunks: LINES PIXELS.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Open a coregistered stack from ISCE2, SNAP, GMTSAR or Doris and write the sarbd stack.

    Adds what sarbd's coregister stage writes next to the SLCs (flattened interferograms,
    coherence, geometry, baselines; docs/formats.md), chunk by chunk.

    Example: sarbd import-stack --format isce2 stack_dir --out stack.zarr
    """
    from sarbd.coregistration import write_stack
    from sarbd.errors import ConfigError
    from sarbd.stacks import FORMATS
    from sarbd.stacks import import_stack as run

    if fmt != "auto" and fmt not in FORMATS:
        raise ConfigError(f"--format must be auto or one of {', '.join(FORMATS)}, got {fmt!r}")
    options: dict[str, Any] = {
        k: v for k, v in (("polarization", stack_pol), ("reference", reference)) if v is not None
    }
    ds = run(
        path,
        fmt,
        dem=dem,
        polarizations=polarization or None,
        window=window,
        chunks=chunks,
        **options,
    )
    written = write_stack(ds, out)
    summary = {
        "out": str(written),
        "processor": ds.attrs["sarbd_coregistration"],
        "dates": [str(t)[:19] for t in ds["time"].values],
        "shape": [int(ds.sizes["line"]), int(ds.sizes["pixel"])],
        "polarizations": sorted(
            str(v)[4:].upper() for v in ds.data_vars if str(v).startswith("slc_")
        ),
        "perpendicular_baseline_m": [
            round(float(v), 2) for v in ds["perpendicular_baseline"].values
        ],
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=1))
    else:
        typer.echo(
            f"wrote {written}: {len(summary['dates'])} dates, {summary['shape'][0]} x {summary['shape'][1]} "
            f"pixels, {'/'.join(summary['polarizations'])} ({summary['processor']})"
        )
