"""``sarbd simulate``: write a simulated multi-date Sentinel-1 scene with known truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from sarbd.cli.app import app


@app.command()
def simulate(
    out: Path = typer.Option(
        ..., "--out", help="Output folder (SAFE products, DEM, vectors, truth/)."
    ),
    size: str = typer.Option(
        "tiny", "--size", help="tiny (160x320 px), small (1000x2500) or burst (1500x25000)."
    ),
    dates: int = typer.Option(7, "--dates", min=1, help="Number of acquisitions, 12 days apart."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same bytes."),
    mode: str = typer.Option(
        "stripmap", "--mode", help="stripmap or tops (bursts with azimuth steering)."
    ),
    hilly: bool = typer.Option(False, "--hilly", help="Rolling terrain instead of a flat lowland."),
    targets: bool = typer.Option(
        False, "--targets", help="Open sea with ships and oil slicks (detection truth)."
    ),
    target_settings: str | None = typer.Option(
        None,
        "--target-settings",
        help="JSON overrides of the target settings (implies --targets), e.g. '{\"ships_per_date\": 12}'.",
    ),
    changes: bool = typer.Option(
        False,
        "--changes",
        help="Land changes between dates (new buildings, cleared "
        "vegetation, floods; change truth); zero-baseline geometry so date pairs align.",
    ),
    change_settings: str | None = typer.Option(
        None,
        "--change-settings",
        help="JSON overrides of the change settings (implies --changes), e.g. '{\"new_buildings\": 20}'.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the written paths as JSON."),
) -> None:
    """Simulate Sentinel-1-like SLCs of a town-and-country scene, its DEM, reference vectors and truth.

    Also writes OUT/build.yaml, a ready build configuration for the scene, and prints
    the `sarbd build` command that turns it into a dataset (OUT-sarbd, beside OUT).

    Example: sarbd simulate --out sim --size tiny --dates 3 --seed 1
    """
    import shlex

    from sarbd.pipeline.demo import write_scene_config
    from sarbd.simulate import simulate_scene

    extra: dict[str, Any] = {"targets": {"enabled": True}} if targets or target_settings else {}
    if target_settings:
        try:
            extra["targets"].update(json.loads(target_settings))
        except (json.JSONDecodeError, AttributeError, TypeError):
            raise typer.BadParameter("give a JSON object", param_hint="--target-settings") from None
    if (
        changes or change_settings
    ):  # pairs are compared pixel by pixel: identical orbits and grids on every date
        extra.update(
            {
                "changes": {"enabled": True},
                "max_baseline_m": 0.0,
                "radial_offset_m": 0.0,
                "timing_error_std_s": 0.0,
                "grid_shift_max": 0.0,
            }
        )
        try:
            extra["changes"].update(json.loads(change_settings or "{}"))
        except (json.JSONDecodeError, AttributeError, TypeError):
            raise typer.BadParameter("give a JSON object", param_hint="--change-settings") from None
    scene = simulate_scene(out, size=size, dates=dates, seed=seed, mode=mode, hilly=hilly, **extra)
    config = write_scene_config(scene, size=size, seed=seed)
    config_arg = out / config.name  # as the user named the folder, so the command can be pasted
    command = f"sarbd build {shlex.quote(str(config_arg))}"
    paths = {
        "root": str(scene.root),
        "safe": [str(p) for p in scene.safe],
        "dem": str(scene.dem),
        "reference_gpkg": str(scene.reference_gpkg),
        "truth_gpkg": str(scene.truth_gpkg),
        "truth_dir": str(scene.truth_dir),
        "build_config": str(config),
        "build_command": command,
    }
    if as_json:
        typer.echo(json.dumps(paths, indent=1))
    else:
        typer.echo(
            f"{len(scene.safe)} SAFE products, DEM, reference and truth written to {scene.root}"
        )
        typer.echo(f"build configuration: {config}")
        typer.echo(f"next: {command}")
