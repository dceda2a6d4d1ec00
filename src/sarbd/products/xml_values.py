"""The one parsing layer for values read from product XML (annotation, manifest, calibration, noise, EOF).

Every number, integer, time and number list a reader takes from an XML element goes
through these functions, so that a malformed value -- ``nan``, ``1e400``, ``abc``,
``1.5`` where an integer is expected, a time that is not a time -- is a
:class:`~sarbd.errors.ProductError` naming the file and the element, never a Python
traceback and never a silently wrong value. Non-finite numbers are refused
everywhere: no Sentinel-1 annotation element legitimately holds NaN or infinity
(S1-RS-MDA-52-7441, XSD types ``double``/``float`` used with finite values only).
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import numpy as np
from lxml import etree
from numpy.typing import NDArray

from sarbd.errors import ProductError

__all__ = [
    "array_at",
    "find",
    "float_at",
    "int_at",
    "optional_float_at",
    "optional_int_at",
    "parse_xml",
    "text_at",
    "time_at",
    "to_float",
    "to_int",
    "to_time",
]

PathLike = str | os.PathLike[str]

_INT = re.compile(r"[+-]?\d+")
_INT64 = np.iinfo(np.int64)


def parse_xml(data: bytes, path: PathLike) -> Any:
    """Parse XML bytes; a truncated or corrupt document raises :class:`ProductError` naming ``path``.

    Entities are not resolved (no external or recursive entity expansion).
    """
    try:
        root = etree.fromstring(
            data, parser=etree.XMLParser(resolve_entities=False, huge_tree=True, no_network=True)
        )
    except etree.XMLSyntaxError as exc:
        raise ProductError(
            f"not a valid XML document (truncated or corrupt: {exc.msg}, line {exc.lineno})",
            path=path,
            hint="download the product again",
        ) from None
    except (ValueError, etree.LxmlError) as exc:  # e.g. a bad encoding declaration
        raise ProductError(f"not a valid XML document ({exc})", path=path) from None
    if root is None:
        raise ProductError("not a valid XML document (empty)", path=path)
    return root


def find(node: Any, xpath: str, path: PathLike) -> Any:
    """The element at ``xpath`` below ``node``; missing -> :class:`ProductError`."""
    found = node.find(xpath)
    if found is None:
        raise ProductError(
            f"required element <{xpath}> is missing",
            path=path,
            hint="the file is not a complete Sentinel-1 annotation",
        )
    return found


def text_at(node: Any, xpath: str, path: PathLike) -> str:
    """The stripped, non-empty text of the element at ``xpath``."""
    text = find(node, xpath, path).text
    if text is None or not str(text).strip():
        raise ProductError(f"element <{xpath}> is empty", path=path)
    return str(text).strip()


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def to_float(
    text: str, what: str, path: PathLike, *, minimum: float | None = None, positive: bool = False
) -> float:
    """A finite float from ``text``; ``what`` names the element in messages.

    ``positive`` requires > 0, ``minimum`` requires >= ``minimum``.
    """
    try:
        value = float(text)
    except (ValueError, TypeError):
        raise ProductError(
            f"element <{what}> is not a number: {_short(str(text))}", path=path
        ) from None
    if not math.isfinite(value):
        raise ProductError(
            f"element <{what}> is not a finite number: {_short(str(text))}", path=path
        )
    if positive and value <= 0:
        raise ProductError(f"element <{what}> must be positive, got {value:g}", path=path)
    if minimum is not None and value < minimum:
        raise ProductError(f"element <{what}> must be >= {minimum:g}, got {value:g}", path=path)
    return value


def to_int(
    text: str, what: str, path: PathLike, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """An integer from ``text`` (decimal digits; an integral float such as ``3.0`` is accepted).

    Values outside int64, or outside ``minimum..maximum``, are errors.
    """
    s = str(text).strip()
    if _INT.fullmatch(s):
        value = int(s)
    else:
        f = to_float(s, what, path)
        if f != math.floor(f):
            raise ProductError(f"element <{what}> is not an integer: {_short(s)}", path=path)
        value = int(f)
    if not _INT64.min <= value <= _INT64.max:
        raise ProductError(f"element <{what}> is out of range: {_short(s)}", path=path)
    if minimum is not None and value < minimum:
        raise ProductError(f"element <{what}> must be >= {minimum}, got {value}", path=path)
    if maximum is not None and value > maximum:
        raise ProductError(f"element <{what}> must be <= {maximum}, got {value}", path=path)
    return value


def to_time(text: str, what: str, path: PathLike) -> np.datetime64:
    """A UTC ``datetime64[ns]`` from an ISO 8601 text (a trailing ``Z`` is allowed)."""
    s = str(text).strip()
    try:
        t = np.datetime64(s.removesuffix("Z"), "ns")
    except (ValueError, TypeError, OverflowError):
        raise ProductError(f"element <{what}> is not a UTC time: {_short(s)}", path=path) from None
    if np.isnat(t) or not re.match(r"\d{4}-\d\d-\d\d", s):
        raise ProductError(f"element <{what}> is not a UTC time: {_short(s)}", path=path)
    return t


def float_at(node: Any, xpath: str, path: PathLike, **bounds: Any) -> float:
    """:func:`to_float` of the element at ``xpath`` (which must exist and be non-empty)."""
    return to_float(text_at(node, xpath, path), xpath, path, **bounds)


def int_at(node: Any, xpath: str, path: PathLike, **bounds: Any) -> int:
    """:func:`to_int` of the element at ``xpath``."""
    return to_int(text_at(node, xpath, path), xpath, path, **bounds)


def time_at(node: Any, xpath: str, path: PathLike) -> np.datetime64:
    """:func:`to_time` of the element at ``xpath``."""
    return to_time(text_at(node, xpath, path), xpath, path)


def optional_float_at(node: Any, xpath: str, path: PathLike, **bounds: Any) -> float | None:
    """:func:`float_at`, or ``None`` when the element is absent."""
    return float_at(node, xpath, path, **bounds) if node.find(xpath) is not None else None


def optional_int_at(node: Any, xpath: str, path: PathLike, **bounds: Any) -> int | None:
    """:func:`int_at`, or ``None`` when the element is absent or empty."""
    el = node.find(xpath)
    if el is None or el.text is None or not el.text.strip():
        return None
    return to_int(el.text, xpath, path, **bounds)


def array_at(node: Any, xpath: str, path: PathLike, dtype: Any = np.float64) -> NDArray[Any]:
    """The whitespace-separated numbers of the element at ``xpath`` as an array of ``dtype``.

    Every value must be finite; for an integer ``dtype`` integral and within its range.
    """
    text = find(node, xpath, path).text or ""
    try:
        values = np.array(text.split(), dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise ProductError(f"element <{xpath}> holds a malformed number list", path=path) from None
    if not np.all(np.isfinite(values)):
        raise ProductError(f"element <{xpath}> holds a non-finite value (nan or inf)", path=path)
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if (
            np.any(values != np.floor(values))
            or np.any(values < info.min)
            or np.any(values > info.max)
        ):
            raise ProductError(
                f"element <{xpath}> holds a value that is not a {dt.name} integer", path=path
            )
    return values.astype(dt)
