"""Shared pieces of the fuzz suite: base documents, mutation strategies, the "only SarbdError" check.

Each fuzz target runs twice: a short deterministic run in the default suite
(``SHORT`` examples, derandomised so CI is reproducible) and a long random run
under ``-m slow`` (``LONG`` examples).
"""

from __future__ import annotations

import copy
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from lxml import etree

from sarbd.errors import SarbdError

SHORT = 60
LONG = 3000

_COMMON = dict(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
short_run = settings(max_examples=SHORT, derandomize=True, database=None, **_COMMON)  # type: ignore[arg-type]
long_run = settings(max_examples=LONG, **_COMMON)  # type: ignore[arg-type]

#: values that broke or could break a number parser
BAD_VALUES = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "+Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "",
    " ",
    "abc",
    "0x1F",
    "1.5",
    "-1",
    "0",
    "9" * 40,
    "1,5",
    "\u0661\u0662",
    "2021-13-45T00:00:00",
    "2021-02-30T00:00:00",
    "T",
    "None",
    "true",
    "\u00a0",
    "1e308",
    "-0",
    "12abc",
    "1 2",
    "2022-09-18T07:49:21.5Z",
    "99999-01-01T00:00:00",
    "-2022-01-01",
    "1.7976931348623157e309",
]

_xml_char = st.characters(exclude_categories=("Cs", "Cc"))
values = st.one_of(
    st.sampled_from(BAD_VALUES),
    st.text(_xml_char, max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def trimmed_xml(data: bytes, keep: int = 3, keep_lists: dict[str, int] | None = None) -> bytes:
    """A smaller valid document: every element with a ``count`` attribute (ESA lists) keeps ``keep`` children."""
    root = etree.fromstring(data)
    for el in root.iter():
        if el.get("count") is not None:
            n = (keep_lists or {}).get(etree.QName(el).localname, keep)
            for child in list(el)[n:]:
                el.remove(child)
            el.set("count", str(min(n, len(el))))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def mutate_xml(data: bytes, draw: Callable[[Any], Any]) -> bytes:
    """One to three mutations: a value replaced, an element deleted or duplicated, bytes truncated or flipped."""
    out = data
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["value", "value", "value", "delete", "duplicate", "truncate", "flip"])
        )
        if kind in ("truncate", "flip"):
            if not out:
                continue
            i = draw(st.integers(0, len(out) - 1))
            if kind == "truncate":
                out = out[:i]
            else:
                out = out[:i] + bytes([out[i] ^ draw(st.integers(1, 255))]) + out[i + 1 :]
            continue
        try:
            root = etree.fromstring(out)
        except etree.XMLSyntaxError:
            continue  # already broken by a byte mutation
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        el = elements[draw(st.integers(0, len(elements) - 1))]
        if kind == "value":
            if len(el):  # an inner element: mutate a leaf below it instead
                leaves = [e for e in el.iter() if isinstance(e.tag, str) and not len(e)]
                el = leaves[draw(st.integers(0, len(leaves) - 1))]
            el.text = draw(values)
        elif kind == "delete" and el is not root:
            el.getparent().remove(el)
        elif kind == "duplicate" and el is not root:
            el.addnext(copy.deepcopy(el))
        out = bytes(etree.tostring(root))
    return out


def only_sarbd_errors(target: Callable[[], Any], name: str | None = None) -> None:
    """Run ``target``; it may succeed or raise a one-line SarbdError (naming ``name``), nothing else."""
    try:
        target()
    except SarbdError as exc:
        text = str(exc)
        assert "\n" not in text, text
        if name is not None:
            assert name in text, text


def read_zip_member(zip_path: Path, suffix: str) -> bytes:
    """The first member of a zip whose name ends with ``suffix``."""
    with zipfile.ZipFile(zip_path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(suffix))
        return zf.read(name)
