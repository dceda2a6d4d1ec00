"""``sarbd info``: print a product's metadata and global attributes."""

from __future__ import annotations

from pathlib import Path

import typer

from sarbd.cli.app import app
from sarbd.cli.product_options import Frequency, Measurement, Offset, Orbit, Swath, product_options


@app.command()
def info(
    product: Path = typer.Argument(
        ..., help="SAFE zip/folder, annotation XML, or NISAR RSLC HDF5 file."
    ),
    swath: Swath = None,
    measurement: Measurement = None,
    offset: Offset = None,
    orbit: Orbit = None,
    frequency: Frequency = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON to standard output."),
) -> None:
    """Show a SAR product's metadata (mission, orbit, times, grid, geometry) and global attributes.

    Example: sarbd info S1B_IW_SLC__1SDV_20210401T052622_20210401T052650_026269_032297_EFA4.SAFE.zip --swath IW1
    """
    import json

    from sarbd.products import open_product
    from sarbd.products.metadata import global_attributes

    scene = open_product(product, **product_options(swath, measurement, offset, orbit, frequency))
    meta = dict(scene.metadata)
    attrs = global_attributes(scene)
    if as_json:
        typer.echo(
            json.dumps({"metadata": meta, "global_attributes": attrs}, indent=2, default=str)
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=str(meta.get("product_name", product.name)), show_header=True)
    table.add_column("key", style="bold")
    table.add_column("value")
    for key, value in meta.items():
        table.add_row(key, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
    Console().print(table)
    attr_table = Table(title="global attributes (ACDD-1.3 + sar_*)", show_header=True)
    attr_table.add_column("attribute", style="bold")
    attr_table.add_column("value")
    for key, value in attrs.items():
        attr_table.add_row(key, str(value))
    Console().print(attr_table)
