"""``sarbd report``: a self-contained HTML page about a dataset (and a trained run)."""

from __future__ import annotations

from pathlib import Path

import typer

from sarbd.cli.app import app


@app.command()
def report(
    dataset: Path = typer.Argument(
        ...,
        help="Dataset folder written by `sarbd build` (contains dataset.zarr), "
        "or a `sarbd train --task detection` run folder.",
    ),
    out: Path = typer.Option(
        Path("report.html"), "--out", help="HTML file to write (figures go beside it)."
    ),
    run: Path | None = typer.Option(
        None, "--run", help="Training run folder (`sarbd train --out RUN`)."
    ),
) -> None:
    """Write an HTML report with embedded figures; figures are also saved as PNG.

    Example: sarbd report sarbd-demo/dataset --run sarbd-demo/run-ann --out sarbd-demo/report.html
    """
    from sarbd.report import write_report

    if (dataset / "run.json").is_file() and not (dataset / "dataset.zarr").exists():
        from sarbd.report.task_section import write_task_report

        typer.echo(f"report: {write_task_report(dataset, out)}")
        return
    path = write_report(dataset, out, run=run)
    typer.echo(f"report: {path}")
