"""Run a build with progress on a console and an optional Dask cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sarbd.pipeline.build import BuildResult, build
from sarbd.pipeline.config import BuildConfig

__all__ = ["dask_scheduler", "run_build"]


@contextlib.contextmanager
def dask_scheduler(address: str | None) -> Iterator[Any]:
    """Use the Dask cluster at ``address`` for the duration (the local scheduler when None)."""
    if not address:
        yield None
        return
    from distributed import Client

    from sarbd.errors import InputError

    try:
        client = Client(address, timeout="20s")
    except OSError as exc:
        raise InputError(
            f"cannot reach the Dask scheduler at {address} ({exc})",
            hint="start it with `dask scheduler` or drop --scheduler",
        ) from None
    try:
        yield client
    finally:
        client.close()


def run_build(config: BuildConfig, console: Any = None) -> BuildResult:
    """:func:`sarbd.pipeline.build.build` with a line per stage on ``console``."""
    import time

    starts: dict[str, float] = {}

    def on_stage(name: str, state: str) -> None:
        if console is None:
            return
        if state == "start":
            starts[name] = time.perf_counter()
            console.print(f"[bold]{name}[/bold] ...")
        elif state == "done":
            console.print(
                f"[green]{name}[/green] done in {time.perf_counter() - starts.get(name, time.perf_counter()):.1f} s"
            )
        elif state == "cached" and name not in starts:
            starts[name] = 0.0
            console.print(f"[dim]{name}[/dim] unchanged (cached)")

    with dask_scheduler(config.compute.scheduler):
        return build(config, on_stage=on_stage)
