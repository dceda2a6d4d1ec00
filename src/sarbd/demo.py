"""The main job: simulate -> build -> train -> report, on the embedded default scene.

While the project is being built up, ``run_demo`` checks which stages exist and
says plainly which are not built yet; it never fakes a result.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rich.console import Console
from rich.table import Table

__all__ = ["STAGES", "missing_stages", "run_demo"]

#: The stages of the main job and the module each needs.
STAGES: tuple[tuple[str, str], ...] = (
    ("simulate a scene", "sarbd.simulate"),
    ("read products", "sarbd.products"),
    ("radar geometry", "sarbd.geometry"),
    ("coregister + InSAR", "sarbd.coregistration"),
    ("signatures", "sarbd.signatures"),
    ("radarcode reference data", "sarbd.radarcode"),
    ("labels, chips, splits", "sarbd.dataset"),
    ("export (netCDF, Zarr, COG, STAC)", "sarbd.export"),
    ("build pipeline", "sarbd.pipeline.build"),
    ("train + evaluate", "sarbd.ml"),
    ("HTML report", "sarbd.report"),
)


def missing_stages() -> list[str]:
    """Names of the stages whose module is not part of this installation yet."""
    return [name for name, module in STAGES if importlib.util.find_spec(module) is None]


def run_demo(out: Path, size: str = "small", seed: int = 0) -> int:
    """Run the main job; returns the exit status."""
    console = Console(stderr=False)
    missing = missing_stages()
    if missing:
        table = Table(title="sarbd demo: stages of the main job")
        table.add_column("stage")
        table.add_column("status")
        for name, _module in STAGES:
            table.add_row(name, "[red]not yet built[/red]" if name in missing else "[green]built[/green]")
        console.print(table)
        console.print(
            f"The demo needs every stage; {len(missing)} of {len(STAGES)} are not built yet, "
            "so no dataset was made. Nothing was written."
        )
        return 0
    from sarbd.pipeline.demo import run_full_demo

    return int(run_full_demo(out=out, size=size, seed=seed, console=console))
