"""The ingest stage's inputs: which products (and which is the reference), opened, and the AOI window.

``inputs.products`` entries are paths or :class:`~sarbd.pipeline.config.ProductSpec`
mappings; a ``reference_product`` outside the list is one more date. Opening goes
through :func:`sarbd.open_product`; the AOI (``aoi.window``, ``aoi.bbox`` or
``aoi.polygon``) becomes a window of the reference grid by :func:`sarbd.geometry.aoi.aoi_window`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sarbd.core.scene import Scene
from sarbd.errors import InputError
from sarbd.pipeline.cache import file_fingerprint
from sarbd.pipeline.config import BuildConfig, ProductEntry, ProductSpec, product_main
from sarbd.pipeline.input_files import read_vector

__all__ = ["aoi_window", "entry_fingerprint", "open_entry", "open_scenes", "product_entries"]


def product_entries(config: BuildConfig) -> tuple[list[ProductEntry], int]:
    """The product entries in date order as given, and the index of the reference one."""
    inputs = config.inputs
    entries = list(inputs.products)
    if inputs.reference_product is None:
        return entries, 0
    ref = Path(inputs.reference_product)
    for i, entry in enumerate(entries):
        if product_main(entry) == ref:
            return entries, i
    return [ref, *entries], 0  # a reference outside the list is one more date


def open_entry(entry: ProductEntry, config: BuildConfig) -> Scene:
    """Open one ``inputs.products`` entry (a path, or a mapping of open_product's options)."""
    from sarbd.products import open_product

    inputs = config.inputs
    if not isinstance(entry, ProductSpec):
        entry = ProductSpec(path=Path(entry))
    for f in entry.files():
        if not Path(f).exists():
            raise InputError(
                "product file not found", path=f, hint="check inputs.products in the configuration"
            )
    # an AOI build reads only its strips: the CRC pass over whole measurement TIFFs is skipped (auto)
    aoi = (
        config.aoi.window is not None
        or config.aoi.bbox is not None
        or config.aoi.polygon is not None
    )
    verify = inputs.verify_zip == "always" or (inputs.verify_zip == "auto" and not aoi)
    return open_product(
        entry.main,
        swath=entry.swath or inputs.swath,
        orbit=entry.orbit or inputs.orbits,
        measurement=entry.measurement,
        offset=entry.offset,
        frequency=entry.frequency,
        verify_zip=verify,
    )


def entry_fingerprint(entry: ProductEntry) -> Any:
    """What the ingest key hashes of one product entry (its files' identities and options)."""
    if not isinstance(entry, ProductSpec):
        return file_fingerprint(entry)
    return {
        "files": [file_fingerprint(f) for f in entry.files()],
        "offset": entry.offset,
        "frequency": entry.frequency,
        "swath": entry.swath,
    }


def open_scenes(config: BuildConfig) -> tuple[Scene, list[Scene]]:
    """The reference scene and the secondaries, each checked for ``inputs.polarizations``."""
    inputs = config.inputs
    entries, ref_index = product_entries(config)
    scenes = [open_entry(e, config) for e in entries]
    for e, s in zip(entries, scenes, strict=True):
        missing = [pol for pol in inputs.polarizations if pol not in s.polarizations]
        if missing:
            raise InputError(
                f"product has no {'/'.join(missing)} polarisation (it has {'/'.join(s.polarizations)})",
                path=product_main(e),
                hint="set inputs.polarizations to the polarisations every date has",
            )
    reference = scenes.pop(ref_index)
    return reference, scenes


def aoi_window(config: BuildConfig, reference: Scene) -> tuple[int, int, int, int] | None:
    """The configured AOI as ``(first_line, first_pixel, lines, pixels)`` of the reference grid (None: all)."""
    from sarbd.geometry.aoi import aoi_geometry
    from sarbd.geometry.aoi import aoi_window as window_of

    aoi = config.aoi
    if aoi.window is not None:
        return aoi.window
    if aoi.bbox is None and aoi.polygon is None:
        return None
    polygon = read_vector(aoi.polygon) if aoi.bbox is None and aoi.polygon is not None else None
    geometry = aoi_geometry(aoi.bbox, polygon, path=aoi.polygon)
    heights = aoi_terrain_range(config, geometry)
    return window_of(
        reference, geometry, heights=heights, name=aoi.bbox or aoi.polygon, path=aoi.polygon
    )


def aoi_terrain_range(config: BuildConfig, geometry: Any) -> tuple[float, float]:
    """Ellipsoidal height range (m) of the terrain in the AOI: from ``inputs.dem``, or, without
    a DEM, of the EGM96 geoid (the build's terrain then lies at 0 m above it)."""
    from sarbd.geometry import Dem
    from sarbd.geometry.aoi import terrain_range

    inputs = config.inputs
    w, s, e, n = geometry.envelope.bounds
    if inputs.dem is None:
        dem = Dem.geoid_surface((w, s, e, n), 0.0, spacing=0.01)
    else:
        dem = Dem.open(
            inputs.dem, vertical_datum=inputs.dem_vertical_datum, bounds=(w, s, e, n), margin=0.01
        )
    return terrain_range(dem, geometry)
