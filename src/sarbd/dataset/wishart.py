"""Unsupervised SARbd-L1 labeller: the Wishart H-alpha classification of quad-pol data.

Lee et al. (1999): every pixel starts in its Cloude-Pottier H-alpha zone (the eight
feasible zones of the plane; zone 3 is used too if it has pixels), the class centres
``V_m`` are the mean coherency matrices of the classes, and pixels are reassigned to the
class of minimum Wishart distance

    d(T, V_m) = ln det V_m + tr(V_m^-1 T)

(the maximum-likelihood rule of the complex Wishart distribution of multi-look T3),
until fewer than ``tolerance`` of the pixels change class or ``max_iterations`` is
reached. Clusters keep the code of the zone they started from, so ``cluster 9`` is
the refined "low-entropy surface" class.

The coherency matrices come from the ``t3_*`` signatures of a quad-pol build
(:mod:`sarbd.signatures.quad_pol`); with several dates they are averaged over time
(temporal multi-looking, a valid Wishart matrix of more looks) unless ``date`` picks
one. :func:`label_l1_wishart` maps clusters to the build's classes for SARbd-L1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import dask.array as da
import numba
import numpy as np
import xarray as xr

from sarbd.dataset.classes import check_classes, label_attrs
from sarbd.errors import ConfigError, InputError
from sarbd.signatures.polarimetry_kernels import HALPHA_ZONES, t3_eigen

__all__ = ["T3_VARIABLES", "label_l1_wishart", "wishart_h_alpha"]

#: The signature variables the labeller reads (``sarbd.signatures.quad_pol``).
T3_VARIABLES = (
    "t3_11",
    "t3_22",
    "t3_33",
    "t3_12_real",
    "t3_12_imag",
    "t3_13_real",
    "t3_13_imag",
    "t3_23_real",
    "t3_23_imag",
)
LEE99 = (
    "Lee, J.-S., Grunes, M. R., Ainsworth, T. L., Du, L.-J., Schuler, D. L. & Cloude, S. R. (1999), "
    "Unsupervised classification using polarimetric decomposition and the complex Wishart classifier, "
    "IEEE TGRS 37(5):2249-2258"
)


@numba.njit(parallel=True, cache=True)
def _assign(t, inv, logdet, out):  # type: ignore[no-untyped-def]
    """out[k] = argmin_m ln det V_m + tr(V_m^-1 T_k); t is (9, n) real, inv (m, 3, 3) complex."""
    n = t.shape[1]
    m = inv.shape[0]
    for k in numba.prange(n):
        t11, t22, t33 = t[0, k], t[1, k], t[2, k]
        t12 = complex(t[3, k], t[4, k])
        t13 = complex(t[5, k], t[6, k])
        t23 = complex(t[7, k], t[8, k])
        if not math.isfinite(
            t11 + t22 + t33 + t12.real + t12.imag + t13.real + t13.imag + t23.real + t23.imag
        ):
            out[k] = -1
            continue
        best = np.inf
        arg = -1
        for c in range(m):
            w = inv[c]
            # tr(W T) = sum_ij W_ij T_ji with T Hermitian: T_ji = conj(T_ij)
            tr = (
                w[0, 0].real * t11
                + w[1, 1].real * t22
                + w[2, 2].real * t33
                + 2.0
                * (
                    (w[0, 1] * np.conj(t12)).real
                    + (w[0, 2] * np.conj(t13)).real
                    + (w[1, 2] * np.conj(t23)).real
                )
            )
            d = logdet[c] + tr
            if d < best:
                best = d
                arg = c
        out[k] = arg


def _t3_of(
    signatures: xr.Dataset | Mapping[str, xr.DataArray], date: int | None
) -> tuple[da.Array, xr.DataArray]:
    """The nine real T3 elements as one lazy ``(9, line, pixel)`` float64 array (the
    ``(line, pixel)`` blocks of the signatures, all elements per block) and a template."""
    missing = [v for v in T3_VARIABLES if v not in signatures]
    if missing:
        raise InputError(
            f"the Wishart H-alpha labeller needs the quad-pol signatures {', '.join(missing)}",
            hint="build from a quad-pol (HH, HV, VH, VV) stack and keep the t3_* signatures",
        )
    layers = []
    template = None
    for v in T3_VARIABLES:
        a = signatures[v]
        if "time" in a.dims:
            a = a.isel(time=date) if date is not None else a.mean("time", skipna=False)
        a = a.transpose("line", "pixel")
        template = a if template is None else template
        data = a.data if isinstance(a.data, da.Array) else da.from_array(np.asarray(a.values))
        layers.append(data.astype(np.float64))
    assert template is not None
    chunks = layers[0].chunks
    return da.stack([x.rechunk(chunks) for x in layers]).rechunk({0: -1}), template


def _zone_block(t: np.ndarray) -> np.ndarray:
    """Initial cluster codes of one block: the H-alpha zone, 0 where T3 is not valid."""
    flat = t.reshape(9, -1)
    z = t3_eigen(
        flat[0],
        flat[1],
        flat[2],
        flat[3] + 1j * flat[4],
        flat[5] + 1j * flat[6],
        flat[7] + 1j * flat[8],
    )
    zone = z[6]
    valid = np.isfinite(zone) & np.isfinite(flat).all(axis=0)
    return np.where(valid, np.nan_to_num(zone), 0).astype(np.uint8).reshape(t.shape[1:])


def _sums(t: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``(10, 10)``: per cluster code (columns) the pixel count (row 0) and the sums of the nine
    T3 elements (rows 1-9) of one block; code 0 (invalid) gathers nothing usable."""
    flat = t.reshape(9, -1)
    c = codes.reshape(-1).astype(np.int64)
    out = np.empty((10, 10))
    out[0] = np.bincount(c, minlength=10)
    for i, row in enumerate(flat):
        out[i + 1] = np.bincount(c, weights=np.where(c > 0, row, 0.0), minlength=10)
    return out


def _first_block(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Initial codes of a block and their cluster sums."""
    codes = _zone_block(t)
    return codes, _sums(t, codes)


def _assign_block(
    t: np.ndarray, codes: np.ndarray, inv: np.ndarray, logdet: np.ndarray, present: np.ndarray
) -> tuple[np.ndarray, int, np.ndarray]:
    """One reassignment pass over a block: new codes, pixels changed, their cluster sums."""
    flat = np.ascontiguousarray(t.reshape(9, -1))
    idx = np.empty(flat.shape[1], np.int64)
    _assign(flat, inv, logdet, idx)
    old = codes.reshape(-1)
    new = np.where((old > 0) & (idx >= 0), present[np.maximum(idx, 0)], 0).astype(np.uint8)
    new = new.reshape(codes.shape)
    return new, int(np.count_nonzero(new != codes)), _sums(t, new)


def _block_slices(chunks: tuple[tuple[int, ...], ...]) -> list[tuple[slice, slice]]:
    edges = [np.cumsum((0, *c)) for c in chunks]
    return [
        (
            slice(int(edges[0][i]), int(edges[0][i + 1])),
            slice(int(edges[1][j]), int(edges[1][j + 1])),
        )
        for i in range(len(chunks[0]))
        for j in range(len(chunks[1]))
    ]


def _centres_of(sums: np.ndarray) -> dict[int, np.ndarray]:
    """Mean T3 (9 real elements) of every non-empty cluster from the summed block tables."""
    return {c: sums[1:, c] / sums[0, c] for c in sorted(HALPHA_ZONES) if sums[0, c] > 0}


def wishart_h_alpha(
    signatures: xr.Dataset | Mapping[str, xr.DataArray],
    *,
    max_iterations: int = 10,
    tolerance: float = 0.05,
    date: int | None = None,
) -> xr.DataArray:
    """Wishart H-alpha clusters of a quad-pol signature dataset (module doc).

    Runs block by block on the signatures' ``(line, pixel)`` Dask blocks: each pass reads
    the T3 blocks once and keeps only the uint8 cluster codes of the image and the class
    sums (memory: one byte per pixel plus the blocks in flight, at any scene size). Block
    sums are added in a fixed order, so the result does not depend on the scheduler.

    Parameters
    ----------
    signatures
        A dataset with the ``t3_*`` variables (:data:`T3_VARIABLES`), per date or not.
    max_iterations
        Upper bound of reassignment passes (Lee et al. 1999 converge in a few).
    tolerance
        Stop when fewer than this fraction of the valid pixels change class.
    date
        Index of the date to classify; ``None`` averages T3 over the dates.

    Returns
    -------
    xarray.DataArray
        ``wishart_cluster`` (uint8, ``(line, pixel)``): the zone code (1-9) each cluster
        started from, 0 where T3 is not valid. Attributes: CF flags, iterations run,
        fraction changed in the last pass, and the cluster centres (JSON).
    """
    import dask

    if max_iterations < 0 or not 0.0 <= tolerance < 1.0:
        raise ConfigError("max_iterations must be >= 0 and tolerance in [0, 1)")
    t, template = _t3_of(signatures, date)
    slices = _block_slices(t.chunks[1:])
    blocks = list(t.to_delayed().ravel())
    first = dask.compute(*[dask.delayed(_first_block)(b) for b in blocks])
    codes = np.zeros(t.shape[1:], np.uint8)
    for (ls, ps), (c, _) in zip(slices, first, strict=True):
        codes[ls, ps] = c
    sums = np.sum([s for _, s in first], axis=0)
    n_valid = int(sums[0, 1:].sum())
    centres = _centres_of(sums)
    iterations, changed = 0, 0.0
    for it in range(max_iterations):
        if n_valid == 0:
            break
        present = np.asarray(sorted(centres), np.int64)
        inv = np.empty((len(present), 3, 3), np.complex128)
        logdet = np.empty(len(present))
        for i, c in enumerate(present):
            v = _matrix(centres[int(c)])
            sign, ld = np.linalg.slogdet(v)
            if sign <= 0 or not np.isfinite(ld):  # singular centre (a pure-target class)
                v = v + np.eye(3) * 1e-6 * np.trace(v).real
                sign, ld = np.linalg.slogdet(v)
            inv[i] = np.linalg.inv(v)
            logdet[i] = ld
        passes = dask.compute(
            *[
                dask.delayed(_assign_block)(b, codes[ls, ps], inv, logdet, present)
                for b, (ls, ps) in zip(blocks, slices, strict=True)
            ]
        )
        for (ls, ps), (c, _, _) in zip(slices, passes, strict=True):
            codes[ls, ps] = c
        changed = sum(n for _, n, _ in passes) / n_valid
        centres = _centres_of(np.sum([s for _, _, s in passes], axis=0))
        iterations = it + 1
        if changed < tolerance:
            break
    out = codes
    attrs = {
        "long_name": "Wishart H-alpha cluster (initial Cloude-Pottier zone code)",
        "units": "1",
        "flag_values": np.array([0, *sorted(HALPHA_ZONES)], np.uint8),
        "flag_meanings": " ".join(
            ["invalid", *(f"wishart_{HALPHA_ZONES[c]}" for c in sorted(HALPHA_ZONES))]
        ),
        "sarbd_wishart_iterations": iterations,
        "sarbd_wishart_changed_fraction": changed,
        "sarbd_wishart_centres": json.dumps(
            {str(c): [float(x) for x in v] for c, v in centres.items()}
        ),
        "sarbd_wishart_t3_elements": " ".join(T3_VARIABLES),
        "sarbd_reference": LEE99,
    }
    coords = {str(k): v for k, v in template.coords.items() if set(v.dims) <= {"line", "pixel"}}
    return xr.DataArray(
        out, dims=("line", "pixel"), coords=coords, name="wishart_cluster", attrs=attrs
    )


def _matrix(v: np.ndarray) -> np.ndarray:
    t12, t13, t23 = complex(v[3], v[4]), complex(v[5], v[6]), complex(v[7], v[8])
    return np.array(
        [[v[0], t12, t13], [np.conj(t12), v[1], t23], [np.conj(t13), np.conj(t23), v[2]]],
        np.complex128,
    )


def label_l1_wishart(
    signatures: xr.Dataset | Mapping[str, xr.DataArray],
    classes: Sequence[Mapping[str, Any]],
    cluster_classes: Mapping[str, Sequence[int]],
    **kwargs: Any,
) -> xr.DataArray:
    """SARbd-L1 from the Wishart H-alpha clusters, mapped to classes.

    Parameters
    ----------
    signatures
        Signature dataset with the ``t3_*`` variables.
    classes
        ``[{"id", "name"}, ...]``.
    cluster_classes
        ``{class_name: [cluster codes]}``, e.g. ``{"water": [9], "urban": [7, 4]}``
        (codes 1-9 of :data:`sarbd.signatures.polarimetry_kernels.HALPHA_ZONES`);
        clusters not listed stay unlabelled (0).
    kwargs
        Passed to :func:`wishart_h_alpha`.

    Returns
    -------
    xarray.DataArray
        ``label_l1`` (uint8, ``(line, pixel)``), with the clustering's attributes.
    """
    classes = check_classes(classes)
    ids = {c["name"]: c["id"] for c in classes}
    lut = np.zeros(10, np.uint8)
    for name, codes in cluster_classes.items():
        if name not in ids:
            raise ConfigError(
                f"Wishart cluster mapping names unknown class {name!r}",
                hint=f"classes: {', '.join(ids)}",
            )
        for code in codes:
            if int(code) not in HALPHA_ZONES:
                raise ConfigError(
                    f"Wishart cluster code {code} for class {name!r} is not an H-alpha zone (1-9)"
                )
            if lut[int(code)] and lut[int(code)] != ids[name]:
                raise ConfigError(f"Wishart cluster {code} is mapped to two classes")
            lut[int(code)] = ids[name]
    clusters = wishart_h_alpha(signatures, **kwargs)
    out = lut[clusters.values]
    attrs = label_attrs(
        classes, "L1", "Wishart H-alpha clusters (Lee et al. 1999) mapped to classes"
    )
    attrs.update({k: v for k, v in clusters.attrs.items() if k.startswith("sarbd_")})
    attrs["sarbd_l1_method"] = "wishart_h_alpha"
    attrs["sarbd_cluster_classes"] = json.dumps(
        {k: [int(c) for c in v] for k, v in cluster_classes.items()}
    )
    return xr.DataArray(
        out, dims=("line", "pixel"), coords=clusters.coords, name="label_l1", attrs=attrs
    )
