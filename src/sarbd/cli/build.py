"""``sarbd build``: the whole pipeline from one YAML configuration."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sarbd.cli.app import app


@app.command()
def build(
    config: Path = typer.Argument(..., help="YAML build configuration (see examples/)."),
    print_config: bool = typer.Option(
        False, "--print-config", help="Print the fully resolved configuration and exit."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of a Dask scheduler to run on."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Dataset folder (overrides outputs.directory)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the build summary as JSON."),
) -> None:
    """Build a labelled SARbd dataset: ingest, coregister, signatures, radarcode, label, tasks, export.

    Re-running an unchanged build recomputes nothing; after a change only the stages
    that depend on it run again; an interrupted build resumes. The tasks stage runs when
    the configuration asks for detection or change labels (labels.detection, labels.change).

    `sarbd simulate --out sim` writes sim/build.yaml for its scene; examples/ holds
    configurations for the real Sentinel-1 crop (terceira.yaml), the UAVSAR pair
    (uavsar_sanand.yaml) and the simulated scene (simulated.yaml).

    Example: sarbd build examples/terceira.yaml --out terceira-sarbd
    """
    from rich.console import Console

    from sarbd.pipeline.config import load_config
    from sarbd.pipeline.run import run_build

    cfg = load_config(config)
    if out is not None:
        cfg.outputs.directory = out.resolve()
    if scheduler is not None:
        cfg.compute.scheduler = scheduler
    if print_config:
        typer.echo(json.dumps(cfg.resolved(), indent=2))
        return
    console = Console(stderr=True)
    result = run_build(cfg, console=console)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "directory": str(result.directory),
                    "seconds": result.seconds,
                    "recomputed": result.recomputed,
                    "summary": result.summary,
                },
                default=str,
                indent=2,
            )
        )
    else:
        typer.echo(
            f"dataset: {result.directory} ({result.seconds:.1f} s; recomputed: "
            f"{', '.join(result.recomputed) or 'nothing'})"
        )
