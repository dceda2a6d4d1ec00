"""SAR signatures: a registry of named per-pixel features and their computation.

>>> import sarbd.signatures as sig
>>> feats = sig.compute(stack, ["sigma0_db", "entropy"], window=(5, 5))  # doctest: +SKIP

- :func:`compute` -- signatures of a coregistered stack as a lazy ``xarray.Dataset``
- :func:`write` -- write them to Zarr atomically
- :func:`compute_to_zarr` -- compute and write band by band (bounded memory, any scene size)
- :class:`Signature`, :func:`register`, :func:`all_signatures`, :func:`get` -- the registry
  (plug-ins: entry-point group ``sarbd.signatures``)
- :func:`markdown_table`, :func:`table_rows` -- the catalogue as text / data

Built-in signatures: :mod:`~sarbd.signatures.single_pol` (category 1),
:mod:`~sarbd.signatures.multi_pol` (category 2), :mod:`~sarbd.signatures.quad_pol` and
:mod:`~sarbd.signatures.compact_pol` (category 2, full and compact polarimetry),
:mod:`~sarbd.signatures.temporal`.
See ``docs/signatures.md``.
"""

from __future__ import annotations

from sarbd.signatures import compact_pol, multi_pol, quad_pol, single_pol, temporal  # noqa: F401  (register built-ins)
from sarbd.signatures.compute import compute, compute_to_zarr, plan, required_halo, write
from sarbd.signatures.inputs import StackInputs, coherence_estimate
from sarbd.signatures.registry import (
    ENTRY_POINT_GROUP,
    Signature,
    all_signatures,
    get,
    load_plugins,
    markdown_table,
    register,
    table_rows,
    unregister,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Signature",
    "StackInputs",
    "all_signatures",
    "coherence_estimate",
    "compute",
    "compute_to_zarr",
    "get",
    "load_plugins",
    "markdown_table",
    "plan",
    "register",
    "required_halo",
    "table_rows",
    "unregister",
    "write",
]
