"""``sarbd demo``: the main job on the embedded simulated scene."""

from __future__ import annotations

from pathlib import Path

import typer

from sarbd.cli.app import app


@app.command()
def demo(
    out: Path = typer.Option(
        Path("sarbd-demo"), "--out", help="Folder for the dataset, model and report."
    ),
    size: str = typer.Option("small", "--size", help="Simulated scene size: tiny or small."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the simulation and training."),
) -> None:
    """Simulate a scene, build a labelled dataset, train a baseline and write a report.

    Example: sarbd demo --out sarbd-demo --size tiny
    """
    from sarbd.pipeline.demo import run_full_demo

    raise typer.Exit(run_full_demo(out=out, size=size, seed=seed))
