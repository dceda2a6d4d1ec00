"""``sarbd validate``: offline checks of a SARbd dataset folder."""

from __future__ import annotations

from pathlib import Path

import typer

from sarbd.cli.app import app

#: Exit status when the dataset fails validation (2 stays for user errors).
EXIT_INVALID = 1


@app.command()
def validate(
    dataset: Path = typer.Argument(..., help="Dataset folder written by `sarbd build`."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
    show_ok: bool = typer.Option(False, "--all", help="Also list the checks that passed."),
    no_cf_checker: bool = typer.Option(
        False,
        "--no-cf-checker",
        help="Skip the IOOS compliance-checker (sarbd's own CF checks still run).",
    ),
) -> None:
    """Check a SARbd dataset offline: CF/ACDD netCDF and Zarr, STAC schemas and links, checksums, COGs.

    Prints a table of problems (or every check with --all) and exits with status 1
    when any check fails.

    Example: sarbd validate sarbd-demo/dataset --json
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from sarbd.export.validate import validate_dataset

    checks = validate_dataset(dataset, compliance_checker=not no_cf_checker)
    errors = [c for c in checks if c.status == "error"]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "dataset": str(dataset),
                    "valid": not errors,
                    "checks": [c.as_dict() for c in checks],
                },
                indent=2,
            )
        )
    else:
        console = Console()
        table = Table(title=f"sarbd validate {dataset}")
        for col in ("category", "target", "status", "message"):
            table.add_column(col, overflow="fold")
        colour = {"ok": "green", "warning": "yellow", "error": "red"}
        for c in checks:
            if show_ok or c.status != "ok":
                table.add_row(c.category, c.target, f"[{colour[c.status]}]{c.status}[/]", c.message)
        console.print(table)
        n_warn = sum(c.status == "warning" for c in checks)
        console.print(
            f"{len(checks)} checks: {len(errors)} errors, {n_warn} warnings -> "
            + ("[red]INVALID[/]" if errors else "[green]VALID[/]")
        )
    if errors:
        raise typer.Exit(EXIT_INVALID)
