"""Signatures that need two or more dates, and what a one-date build leaves out.

With one date the stack's ``interferogram`` and ``coherence`` are the reference against
itself (phase 0, coherence 1) and temporal statistics have one sample: none of them is
a signature. :func:`single_date_selection` drops them from a selection (and refuses a
selection that names them); :func:`date_attributes` says so in the dataset attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr

from sarbd.errors import ConfigError

__all__ = ["MULTI_DATE_INPUTS", "date_attributes", "needs_two_dates", "single_date_selection"]

#: Signature inputs that need a second date.
MULTI_DATE_INPUTS = ("time2", "coherence", "interferogram")


def needs_two_dates(sig: Any) -> bool:
    """Whether a registered signature reads an input of :data:`MULTI_DATE_INPUTS`."""
    return any(r.partition(":")[0] in MULTI_DATE_INPUTS for r in sig.inputs)


def single_date_selection(
    stack: xr.Dataset, names: list[str] | None
) -> tuple[list[str], list[str]]:
    """Signatures to compute on a one-date stack, and those left out because they need two dates.

    Parameters
    ----------
    stack
        The coregistered stack (one date).
    names
        The configured selection (``None``: every signature the stack allows).

    Returns
    -------
    (selected variable names, left-out variable names)

    Raises
    ------
    ConfigError
        A signature selected by name needs two or more dates.
    """
    from sarbd.signatures.compute import plan
    from sarbd.signatures.inputs import StackInputs
    from sarbd.signatures.registry import all_signatures

    inputs = StackInputs(stack)
    left_out = [
        sig.variable_name(key)
        for sig in all_signatures()
        if needs_two_dates(sig)
        for key in inputs.keys(sig.scope)
    ]
    chosen = plan(inputs, names)
    if names is not None:
        bad = [var for sig, _, var in chosen if needs_two_dates(sig)]
        if bad:
            raise ConfigError(
                f"signatures.select: {', '.join(bad)} need two or more dates, and this build has one",
                hint="add products (dates) or drop them from signatures.select",
            )
    return [var for sig, _, var in chosen if not needs_two_dates(sig)], left_out


def date_attributes(dates: int, left_out: Sequence[str] = ()) -> dict[str, Any]:
    """Dataset attributes saying how many dates there are and what one date leaves out."""
    attrs: dict[str, Any] = {"sarbd_dates": int(dates)}
    if left_out:
        attrs["sarbd_single_date"] = 1
        attrs["sarbd_signatures_left_out"] = ", ".join(left_out)
        attrs["sarbd_signatures_left_out_reason"] = (
            "one date: temporal statistics, coherence and "
            "interferometric phase need two or more dates"
        )
    return attrs
