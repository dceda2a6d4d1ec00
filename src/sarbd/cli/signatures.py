"""``sarbd signatures``: list the catalogue, or compute signatures of a stack to Zarr."""

from __future__ import annotations

from pathlib import Path

import typer

from sarbd.cli.app import app


@app.command()
def signatures(
    stack: Path | None = typer.Argument(
        None, help="Coregistered stack (Zarr), see docs/formats.md."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output Zarr store of the signatures."
    ),
    select: list[str] | None = typer.Option(
        None,
        "--select",
        "-s",
        help="Signature to compute (base or variable name); repeat. Default: all.",
    ),
    window: tuple[int, int] = typer.Option(
        (5, 5), "--window", help="Window (lines pixels) of C2/coherence."
    ),
    speckle_filter: str | None = typer.Option(
        None,
        "--filter",
        help="Speckle filter of the backscatter: boxcar, lee, refined_lee, quegan_yu.",
    ),
    filter_window: int | None = typer.Option(
        None, "--filter-window", help="Window of boxcar/lee/quegan_yu."
    ),
    enl: float | None = typer.Option(
        None, "--enl", help="Equivalent number of looks for lee/refined_lee."
    ),
    phase_filter: str | None = typer.Option(
        None, "--phase-filter", help="Interferometric phase filter: goldstein."
    ),
    backscatter: str | None = typer.Option(
        None, "--backscatter", help="sigma0, beta0 or gamma0 (default sigma0)."
    ),
    negative: str = typer.Option(
        "nan", "--negative", help="Negative noise-corrected power: nan or floor."
    ),
    floor: float = typer.Option(1e-5, "--floor", help="Floor (linear) for --negative floor."),
    no_noise_removal: bool = typer.Option(
        False, "--no-noise-removal", help="Keep the thermal noise."
    ),
    list_: bool = typer.Option(False, "--list", help="Print the signature catalogue and exit."),
    as_json: bool = typer.Option(False, "--json", help="With --list: print the catalogue as JSON."),
) -> None:
    """Compute SAR signatures (categories 1, 2, temporal) of a stack, or list the catalogue.

    Example: sarbd signatures stack.zarr --out features.zarr --select sigma0_db --select entropy --filter lee
    """
    import json

    from sarbd.errors import ConfigError, InputError

    if list_:
        from sarbd.signatures import table_rows

        rows = table_rows()
        if as_json:
            typer.echo(json.dumps(rows, indent=1))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title="sarbd signatures")
        for col in ("name", "cat.", "per", "units", "long name", "formula"):
            table.add_column(col, overflow="fold")
        for r in rows:
            per = r["scope"] + (", date" if r["per_date"] else "")
            table.add_row(r["name"], r["category"], per, r["units"], r["long_name"], r["formula"])
        Console(width=200).print(table)
        return
    if stack is None or out is None:
        raise ConfigError(
            "give a STACK and --out FEATURES.zarr (or --list)", hint="see `sarbd signatures --help`"
        )
    if not stack.exists():
        raise InputError(
            "stack not found", path=stack, hint="give the stack.zarr written by `sarbd coregister`"
        )
    import xarray as xr

    from sarbd.signatures import compute_to_zarr

    try:
        ds = xr.open_zarr(stack)
    except Exception as exc:  # zarr/xarray raise many kinds
        raise InputError(f"cannot open the stack as Zarr ({exc})", path=stack) from None
    kw: dict[str, float | int] = {}
    if filter_window is not None:
        kw["window"] = filter_window
    if enl is not None:
        kw["enl"] = enl
    feats = compute_to_zarr(
        ds,
        out,
        select or None,
        window=window,
        filter=speckle_filter,
        filter_kwargs=kw or None,
        phase_filter=phase_filter,
        backscatter=backscatter,
        noise_removal=not no_noise_removal,
        negative=negative,
        floor=floor,
    )
    typer.echo(f"wrote {len(feats.data_vars)} signatures to {out}")
