"""Compute signatures of a stack into an ``xarray.Dataset``, and write it to Zarr."""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from sarbd.core.chunks import ChunksLike
from sarbd.errors import ConfigError, InputError
from sarbd.signatures.inputs import StackInputs, elementwise
from sarbd.signatures.kernels import finite_or_nan
from sarbd.signatures.registry import Signature, all_signatures

__all__ = ["compute", "compute_to_zarr", "plan", "required_halo", "write"]

log = logging.getLogger(__name__)

_COORDS_2D = ("latitude", "longitude")


def plan(
    inputs: StackInputs, names: Sequence[str] | None = None
) -> list[tuple[Signature, Any, str]]:
    """Which (signature, key, variable name) to compute for a stack.

    With ``names=None`` every registered signature whose inputs the stack has.
    ``names`` may hold base names (``entropy``: every pair) or variable names
    (``entropy_vv_vh``); an unknown name, or one the stack cannot provide, raises.
    """
    sigs = all_signatures()
    possible: list[tuple[Signature, Any, str, list[str]]] = []
    for sig in sigs:
        for key in inputs.keys(sig.scope):
            missing = [r for r in sig.inputs if not inputs.available(r, key)]
            possible.append((sig, key, sig.variable_name(key), missing))
    if names is None:
        out = []
        for sig, key, var, missing in possible:
            if missing:
                log.debug("skipping %s: stack lacks %s", var, ", ".join(missing))
            else:
                out.append((sig, key, var))
        return out
    wanted = list(dict.fromkeys(names))
    base = {s.name for s in sigs}
    chosen: list[tuple[Signature, Any, str]] = []
    for name in wanted:
        hits = [p for p in possible if p[0].name == name or p[2] == name]
        if not hits:
            if name in base:
                raise InputError(
                    f"signature {name!r} does not apply to this stack (polarisations: {', '.join(inputs.pols)})",
                    hint="run `sarbd signatures --list` to see which polarisations each signature needs",
                )
            raise ConfigError(
                f"unknown signature {name!r}",
                hint="run `sarbd signatures --list` for the catalogue",
            )
        for sig, key, var, missing in hits:
            if missing:
                raise InputError(
                    f"signature {var!r} needs {', '.join(missing)}, which the stack does not provide",
                    hint="drop it from the selection or give a stack with those inputs (docs/formats.md)",
                )
            if all(c[2] != var for c in chosen):
                chosen.append((sig, key, var))
    return chosen


def _attrs(sig: Signature, key: Any, inputs: StackInputs) -> dict[str, Any]:
    label = key if isinstance(key, str) else "/".join(key) if key else ""
    a: dict[str, Any] = {
        "long_name": sig.long_name.replace("{pol}", label.upper()).replace("{pair}", label.upper()),
        "units": sig.units,
    }
    if sig.standard_name:
        a["standard_name"] = sig.standard_name
    lo, hi = sig.valid_range
    if lo is not None:
        a["valid_min"] = np.float32(lo)
    if hi is not None:
        a["valid_max"] = np.float32(hi)
    if sig.flags:
        a["flag_values"] = np.array(sorted(sig.flags), dtype=np.float32)
        a["flag_meanings"] = " ".join(sig.flags[k] for k in sorted(sig.flags))
    a["sarbd_category"] = sig.category
    a["sarbd_formula"] = sig.formula
    a["sarbd_reference"] = sig.reference
    a["sarbd_signature"] = sig.name
    if isinstance(key, str):
        a["sarbd_polarization"] = key
    elif key:
        a["sarbd_polarizations"] = " ".join(key)
    if sig.name == "ps_candidate":
        a["sarbd_threshold"] = inputs.ps_threshold
    return a


def _stack_inputs(
    stack: xr.Dataset,
    *,
    window: int | tuple[int, int] = (5, 5),
    filter: Any = None,
    filter_kwargs: dict[str, Any] | None = None,
    phase_filter: str | None = None,
    phase_filter_kwargs: dict[str, Any] | None = None,
    backscatter: str | None = None,
    noise_removal: bool = True,
    negative: str = "nan",
    floor: float = 1e-5,
    ps_threshold: float = 0.25,
    zero_is_nodata: bool = False,
    chunks: ChunksLike = None,
    **_: Any,
) -> StackInputs:
    """The :class:`StackInputs` of :func:`compute`'s keyword arguments."""
    return StackInputs(
        stack,
        window=window,
        backscatter=backscatter,
        noise_removal=noise_removal,
        negative=negative,
        floor=floor,
        speckle_filter=filter,
        filter_kwargs=filter_kwargs,
        phase_filter=phase_filter,
        phase_filter_kwargs=phase_filter_kwargs,
        ps_threshold=ps_threshold,
        zero_is_nodata=zero_is_nodata,
        chunks=chunks,
    )


def compute(
    stack: xr.Dataset,
    names: Sequence[str] | None = None,
    *,
    window: int | tuple[int, int] = (5, 5),
    filter: Any = None,
    filter_kwargs: dict[str, Any] | None = None,
    phase_filter: str | None = None,
    phase_filter_kwargs: dict[str, Any] | None = None,
    backscatter: str | None = None,
    noise_removal: bool = True,
    negative: str = "nan",
    floor: float = 1e-5,
    ps_threshold: float = 0.25,
    zero_is_nodata: bool = False,
    chunks: ChunksLike = None,
    fused: bool = True,
) -> xr.Dataset:
    """Compute SAR signatures of a coregistered stack (lazy, Dask-backed).

    Parameters
    ----------
    stack
        Coregistered stack (``docs/formats.md``), or a backscatter-only stack with
        ``sigma0_<pol>``/``beta0_<pol>``/``gamma0_<pol>`` linear power.
    names
        Signatures to compute: base names (``"entropy"``) or variable names
        (``"entropy_vv_vh"``). ``None``: all that the stack's inputs allow.
    window
        (lines, pixels) of the window means: C2 matrix, coherence (when estimated
        here) and the co-pol phase statistics.
    filter, filter_kwargs
        Speckle filter of the calibrated intensities used by the backscatter
        signatures (category 1 sigma0/beta0/gamma0, category 2 sum/difference/ratio,
        temporal backscatter statistics): ``None``, ``"boxcar"``, ``"lee"``,
        ``"refined_lee"``, ``"quegan_yu"``, a ``torch.nn.Module`` or a callable on the
        ``(time, line, pixel)`` Dask array. C2 is always a boxcar mean over ``window``;
        the amplitude dispersion always uses unfiltered amplitudes.
    phase_filter, phase_filter_kwargs
        ``"goldstein"`` to filter the interferometric phase (``alpha``, ``block``, ``step``).
    backscatter
        Calibration used by category 2 and temporal signatures: ``sigma0``, ``beta0``
        or ``gamma0`` (default: sigma0 when available).
    noise_removal, negative, floor
        Thermal-noise subtraction and the rule for negative results (``"nan"`` or
        ``"floor"``); see :mod:`sarbd.signatures.inputs`.
    ps_threshold
        Amplitude-dispersion threshold of the PS candidate mask.
    zero_is_nodata
        Treat SLC samples exactly 0 + 0j as no data (for zero-filled stacks).
    chunks
        Dask chunks for the stack's variables: ``(lines, pixels)`` (a :class:`sarbd.core.chunks.Chunks`,
        all dates per chunk) or e.g. ``{"time": -1, "line": 256, "pixel": 4096}``;
        default :func:`sarbd.signatures.inputs.default_chunks` (all dates per chunk,
        about 4 million samples). Results do not depend on the chunking.
    fused
        Compute the signatures of :data:`sarbd.signatures.fused.FUSED` of each SLC pair
        (amplitudes, intensity sum/difference/ratio, C2 elements, span, correlation,
        cross product, eigen-descriptors) in one compiled pass per date and chunk
        (:func:`sarbd.signatures.fused.fused_block`); ``False``: each signature's
        step-by-step path. Both agree to float32 rounding.

    Returns
    -------
    xarray.Dataset
        One float32 variable per signature, dims ``(time, line, pixel)`` for per-date
        signatures and ``(line, pixel)`` for temporal ones, with the stack's
        coordinates and CF attributes. Undefined values are NaN, never inf.
    """
    inputs = _stack_inputs(
        stack,
        window=window,
        filter=filter,
        filter_kwargs=filter_kwargs,
        phase_filter=phase_filter,
        phase_filter_kwargs=phase_filter_kwargs,
        backscatter=backscatter,
        noise_removal=noise_removal,
        negative=negative,
        floor=floor,
        ps_threshold=ps_threshold,
        zero_is_nodata=zero_is_nodata,
        chunks=chunks,
    )
    todo = plan(inputs, names)
    coords: dict[str, Any] = {}
    for c in ("time", "line", "pixel", *_COORDS_2D):
        if c in stack.coords or c in stack.variables:
            coords[c] = stack[
                c
            ].variable  # latitude/longitude become coordinates even if stored as data
    variables: dict[str, xr.DataArray] = {}
    precomputed: dict[str, da.Array] = {}
    if fused:
        from sarbd.signatures.fused import fused_block, fused_rows

        for pair, items in fused_rows(inputs, todo).items():
            block = fused_block(inputs, pair, [row for _, row in items])
            precomputed.update({var: block[i] for i, (var, _) in enumerate(items)})
    for sig, key, var in todo:
        if var in precomputed:
            data = precomputed[var]  # float32, never +-inf already
        else:
            data = sig.compute(inputs, key)
            if not isinstance(data, da.Array):
                data = da.asarray(data)
            data = elementwise(finite_or_nan, data.astype(np.float32))  # never +-inf (one pass)
        dims = ("time", "line", "pixel") if sig.per_date else ("line", "pixel")
        if data.ndim != len(dims):
            raise ValueError(f"signature {sig.name} returned {data.ndim} dims, expected {dims}")
        variables[var] = xr.DataArray(data, dims=dims, attrs=_attrs(sig, key, inputs))
    ds = xr.Dataset(variables, coords={k: v for k, v in coords.items()})
    ds.attrs.update(dict(stack.attrs))
    ds.attrs.update(
        {
            "Conventions": "CF-1.10, ACDD-1.3",
            "sarbd_signature_window_line": inputs.window[0],
            "sarbd_signature_window_pixel": inputs.window[1],
            "sarbd_backscatter": inputs.backscatter_kind,
            "sarbd_speckle_filter": _filter_label(filter, filter_kwargs),
            "sarbd_phase_filter": phase_filter or "none",
            "sarbd_noise_removal": int(bool(noise_removal)),
            "sarbd_negative_rule": negative if negative == "nan" else f"floor {floor:g}",
        }
    )
    ref = inputs.reference_index()
    if ref is not None:
        ds.attrs["sarbd_reference_index"] = ref
    return ds


def _filter_label(f: Any, kw: dict[str, Any] | None) -> str:
    if f is None:
        return "none"
    name = f if isinstance(f, str) else type(f).__name__
    if kw:
        name += " " + " ".join(f"{k}={v}" for k, v in sorted(kw.items()))
    return str(name)


def write(
    features: xr.Dataset,
    path: str | os.PathLike[str],
    *,
    encoding: dict[str, dict[str, Any]] | None = None,
    compute_kwargs: dict[str, Any] | None = None,
) -> None:
    """Write a signature dataset to Zarr atomically (temporary name, then rename).

    The Dask graph of all variables is computed in one pass, so intermediates
    (calibrated power, C2, eigen-descriptors) are shared. Zarr format 2 with
    consolidated metadata, like the stack. Variables are compressed with Blosc LZ4 +
    bit shuffle unless ``encoding`` says otherwise: on float32 signatures it
    compresses as well as Zstd and costs a third of its CPU (with Zstd the compression
    was a third of the catalogue's total run time; byte shuffle stored 7 % more bytes
    at 1.5 times the encoding time). For large scenes prefer
    :func:`compute_to_zarr`, whose memory does not grow with the scene.
    """
    from sarbd.utils.files import atomic_output

    ds = features.copy()
    enc: dict[str, dict[str, Any]] = {}
    for name, v in ds.variables.items():
        v.encoding = {}  # the stack's encoding (chunks, Zarr 3 codecs) does not apply here
        if name in ds.data_vars:
            enc[str(name)] = _default_encoding()
    enc.update(encoding or {})
    with atomic_output(path, directory=True) as tmp:
        ds.to_zarr(
            tmp,
            mode="w",
            consolidated=True,
            compute=True,
            encoding=enc,
            zarr_format=2,
            **(compute_kwargs or {}),
        )


def _default_encoding() -> dict[str, Any]:
    """Blosc LZ4 + bit shuffle (Zarr format 2, like the stack; see docs/formats.md).

    Bit shuffle groups the sign, exponent and leading mantissa bits of neighbouring
    floats (Masui et al. 2015, Astronomy and Computing 12), as the build's codec does
    (:func:`sarbd.export.cube.compressor_for`); lossless.
    """
    from numcodecs import Blosc

    return {"compressors": (Blosc(cname="lz4", clevel=5, shuffle=Blosc.BITSHUFFLE),)}


def required_halo(
    window: int | tuple[int, int] = (5, 5),
    filter: Any = None,
    filter_kwargs: dict[str, Any] | None = None,
    phase_filter: str | None = None,
    phase_filter_kwargs: dict[str, Any] | None = None,
    **_: Any,
) -> int:
    """Lines of context a band of signatures needs on each side (sum of all reaches).

    Conservative: the reaches of the signature window, the speckle filter and the
    phase filter are added, as if they were chained.
    """
    from sarbd.filters._chunked import as_window

    kw = filter_kwargs or {}
    halo = max(as_window(window)) // 2 + 1
    if filter == "refined_lee":
        halo += 3
    elif filter in ("boxcar", "lee", "quegan_yu"):
        default = {"boxcar": 5, "lee": 7, "quegan_yu": 7}[filter]
        halo += max(as_window(kw.get("window", default))) // 2
    elif filter is not None:
        depth = kw.get("depth", kw.get("halo", 32))
        halo += max(depth) if isinstance(depth, tuple | list) else int(depth)
    if phase_filter == "goldstein":
        halo += int((phase_filter_kwargs or {}).get("block", 32))
    return halo


def compute_to_zarr(
    stack: xr.Dataset,
    path: str | os.PathLike[str],
    names: Sequence[str] | None = None,
    *,
    band_lines: int | None = None,
    encoding: dict[str, dict[str, Any]] | None = None,
    direct: bool = True,
    budget: float = 2**30,
    **kwargs: Any,
) -> xr.Dataset:
    """Compute signatures band by band and write them to Zarr atomically.

    Memory stays bounded whatever the scene size: the stack is processed in tiles of
    ``band_lines`` lines by as many whole pixel chunks as ``budget`` allows (all pixels
    when they fit), each computed from the tile plus :func:`required_halo` samples of
    context on every side and cropped, so the result equals ``write(compute(stack,
    ...))`` (the windows see the same samples) while Dask never holds more than one
    tile's intermediates.

    Parameters
    ----------
    stack, names, kwargs
        As for :func:`compute`.
    path
        Output Zarr store (replaced atomically).
    band_lines
        Lines per band; rounded to a multiple of the line chunk. Default: one row
        of chunks per band (peak memory grows with the band).
    encoding
        Per-variable Zarr encoding overrides (default Blosc LZ4 + bit shuffle).
    budget
        Bytes a tile may hold (inputs, halo, intermediates and outputs; default 1 GiB):
        sets the tile width. Narrower tiles decode the chunks of their pixel halo twice.
    direct
        Write the fused dual-pol signatures (``fused=True``, the default) band by band
        straight into the store (:func:`sarbd.signatures.banded.write_fused_bands`: no
        Dask graph, both cores busy) with the local Dask scheduler, or one column tile
        per task on the workers of a ``distributed`` cluster
        (:func:`sarbd.signatures.cluster.write_fused_tiles`); the other signatures, and
        all with ``False``, go through Dask and ``to_zarr``. Same chunks, codecs,
        attributes and values either way.

    Returns
    -------
    The lazy signature dataset of the whole stack (for its metadata).
    """
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import wait as futures_wait

    from sarbd.signatures.banded import direct_scheduler, tile_width, write_fused_bands
    from sarbd.signatures.cluster import cluster_client, write_fused_tiles
    from sarbd.signatures.fused import fused_rows
    from sarbd.utils.files import atomic_output

    full = compute(stack, names, **kwargs)
    n_lines = stack.sizes["line"]
    first = next(iter(full.data_vars.values()), None)
    if first is None:
        raise InputError("no signature to write", hint="check the selection")
    chunks_of = first.chunks or tuple((n,) for n in first.shape)
    cl = chunks_of[first.dims.index("line")][0]
    cp = chunks_of[first.dims.index("pixel")][0]
    # one chunk row per band by default: Dask then holds at most one row of chunks (inputs,
    # halos, intermediates, outputs) -- 0.8 GiB for the 7-date 940 x 2350 dual-pol stack
    # in 256-line chunks, against 1.3 GiB for eight rows, for the same CPU time
    rows = 1 if band_lines is None else max(1, -(-band_lines // cl))
    band = rows * cl
    halo = required_halo(**kwargs)
    # Goldstein blocks are anchored to the first line of the array they see: start
    # every band's context on the same block grid as the whole stack
    align = (
        int((kwargs.get("phase_filter_kwargs") or {}).get("step", 8))
        if kwargs.get("phase_filter")
        else 1
    )
    enc: dict[str, dict[str, Any]] = {str(n): _default_encoding() for n in full.data_vars}
    enc.update(encoding or {})
    chunking = {"time": -1, "line": cl, "pixel": cp}
    with atomic_output(path, directory=True) as tmp:
        template = full.chunk({d: c for d, c in chunking.items() if d in full.dims})
        for v in template.variables.values():
            v.encoding = {}  # the stack's encoding (chunks, Zarr 3 codecs) does not apply here

        def write_template() -> None:
            # write_empty_chunks: every chunk is written, no per-chunk comparison with the
            # fill value (a tenth of the write time; signature chunks are never all-NaN)
            template.to_zarr(
                tmp,
                mode="w",
                compute=False,
                consolidated=True,
                encoding=enc,
                zarr_format=2,
                write_empty_chunks=True,
            )

        local = direct_scheduler()
        client = None if local else cluster_client()
        groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
        if direct and kwargs.get("fused", True) and (local or client is not None):
            # the fused rows straight into the store, band by band (no Dask graph, no
            # to_zarr): here, or by the cluster's workers, one column tile each
            kw = {**kwargs, "chunks": chunking}
            inputs = _stack_inputs(stack, **kw)
            groups = fused_rows(inputs, plan(inputs, names))
        written = {var for items in groups.values() for var, _ in items}
        # every variable written directly: only the coordinates along lines are left,
        # sliced from the lazy result (no per-band recomputation of the signatures' graph)
        only_fused = bool(written) and written >= set(map(str, full.data_vars))
        # the pixel chunk of the fused arrays (the encoding may set their chunks)
        store_cp = {int((enc.get(v) or {}).get("chunks", (cp,))[-1]) for v in written}
        if groups and local and len(store_cp) == 1:
            # the store's metadata (and the line coordinates) are written on a thread
            # while the band writer reads and computes its first band: the kernel and
            # the codecs release the GIL, so the two overlap
            def metadata() -> None:
                write_template()
                if only_fused:
                    _write_line_coordinates(full, tmp, chunking, band)

            with ThreadPoolExecutor(1) as pool:
                ready = pool.submit(metadata)
                try:
                    write_fused_bands(
                        inputs, groups, tmp, n_lines, band, budget=budget,
                        store_ready=ready, chunk_pixels=store_cp.pop(),
                    )  # fmt: skip
                finally:
                    futures_wait([ready])  # nothing left writing when the store is removed
            ready.result()
        else:
            write_template()
            if groups and local:
                write_fused_bands(inputs, groups, tmp, n_lines, band, budget=budget)
            elif groups:
                write_fused_tiles(client, stack, kw, groups, str(tmp), n_lines, band, budget=budget)
            if only_fused:
                _write_line_coordinates(full, tmp, chunking, band)
        if only_fused:
            return full
        rest = [n for n in full.data_vars if n not in written]
        n_pixels = stack.sizes.get("pixel", 1)
        # column tiles of whole chunks, as wide as the budget allows for what the band
        # holds: each output of the band, counted four times (inputs, halo, intermediates)
        per_pixel = 4 * sum(
            full[n].dtype.itemsize * full[n].size / max(n_lines * n_pixels, 1) * band
            for n in rest
            if "pixel" in full[n].dims and "line" in full[n].dims
        )
        tile = tile_width(n_pixels, cp, per_pixel, budget)
        for p0, b0 in itertools.product(range(0, n_pixels, tile), range(0, n_lines, band)):
            # the rest and the (line, pixel) coordinates, tile by tile
            b1, p1 = min(b0 + band, n_lines), min(p0 + tile, n_pixels)
            lo, hi = max(0, b0 - halo), min(n_lines, b1 + halo)
            lo -= lo % align
            plo, phi = max(0, p0 - halo), min(n_pixels, p1 + halo)
            plo -= plo % align
            kw = dict(kwargs)
            kw["chunks"] = {"time": -1, "line": cl, "pixel": cp}
            part = compute(stack.isel(line=slice(lo, hi), pixel=slice(plo, phi)), names, **kw)
            part = part.isel(line=slice(b0 - lo, b1 - lo), pixel=slice(p0 - plo, p1 - plo))
            part = part.drop_vars([n for n in written if n in part.variables])
            part = part.drop_vars(
                [n for n in part.variables if "line" not in part[n].dims]
                + [n for n in part.variables if "pixel" not in part[n].dims and p0 > 0]
            )
            part = part.chunk({d: c for d, c in chunking.items() if d in part.dims})
            for v in part.variables.values():
                v.encoding.clear()
            part.attrs = {}
            region = {"line": slice(b0, b1), "pixel": slice(p0, p1)}
            part.to_zarr(
                tmp,
                region={d: r for d, r in region.items() if d in part.dims},
                mode="r+",
                write_empty_chunks=True,
            )
            log.info(
                "signatures: lines %d-%d, pixels %d-%d of %d x %d written",
                b0,
                b1,
                p0,
                p1,
                n_lines,
                n_pixels,
            )
    return full


def _write_line_coordinates(
    full: xr.Dataset, store: Any, chunking: dict[str, int], band: int, limit: int = 128 * 2**20
) -> None:
    """Write the coordinates of ``full`` that run along lines into ``store`` (regions of ``limit`` bytes).

    The template write created them (``compute=False``); here their values go in, in
    whole multiples of ``band`` lines.
    """
    coords = full.drop_vars(list(full.data_vars)).copy(deep=False)
    coords = coords.drop_vars([n for n in coords.variables if "line" not in coords[n].dims])
    if not coords.variables:
        return
    n_lines = full.sizes["line"]
    per_line = sum(v.dtype.itemsize * v.size for v in coords.variables.values()) / max(n_lines, 1)
    step = max(band, int(limit // max(per_line, 1)) // band * band)
    coords.attrs = {}
    for v in coords.variables.values():
        v.encoding = {}
    for b0 in range(0, n_lines, step):
        part = coords.isel(line=slice(b0, min(b0 + step, n_lines)))
        part = part.chunk({d: c for d, c in chunking.items() if d in part.dims})
        part.to_zarr(
            store,
            region={"line": slice(b0, b0 + part.sizes["line"])},
            mode="r+",
            write_empty_chunks=True,
        )
