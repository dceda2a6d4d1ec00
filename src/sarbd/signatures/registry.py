"""The signature registry: what each signature is, and how to compute it.

A :class:`Signature` describes one per-pixel feature (name, units, formula,
reference, category, inputs) and carries its compute function. Built-in
signatures register themselves when :mod:`sarbd.signatures` is imported; other
packages add theirs through the ``sarbd.signatures`` entry-point group::

    # pyproject.toml of a plug-in package
    [project.entry-points."sarbd.signatures"]
    my_index = "my_package.sarbd_plugin:SIGNATURES"

The entry point may name a :class:`Signature`, an iterable of them, or a callable
returning either; they are loaded (through :func:`register`) the first time the
registry is listed or looked up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from sarbd.errors import ConfigError

__all__ = [
    "CATEGORIES",
    "ENTRY_POINT_GROUP",
    "SCOPES",
    "Signature",
    "all_signatures",
    "get",
    "load_plugins",
    "markdown_table",
    "register",
    "table_rows",
    "unregister",
]

log = logging.getLogger(__name__)

#: Entry-point group through which other packages register signatures.
ENTRY_POINT_GROUP = "sarbd.signatures"

#: AlignSAR categories: 1 single-pol, 2 multi-pol, temporal (over the stack), 3 inherited.
CATEGORIES = ("1", "2", "temporal", "3")

#: What one output variable is computed for, and how its name is suffixed:
#: ``pol`` -> ``<name>_<pol>``; the pair scopes -> ``<name>_<pol1>_<pol2>``;
#: ``stack`` -> ``<name>``.
#: ``pair`` = any dual-pol pair (co/cross and HH/VV); ``cross_pair`` = co/cross only
#: (VV/VH, HH/HV); ``copol_pair`` = HH/VV only; ``quad`` = the four linear channels
#: HH, HV, VH, VV and ``compact`` = the CTLR channels RH, RV (both -> ``<name>``).
SCOPES = ("pol", "pair", "cross_pair", "copol_pair", "stack", "quad", "compact")


@dataclass(frozen=True)
class Signature:
    """One registered signature.

    Attributes
    ----------
    name
        snake_case base name; output variables add the polarisation(s), e.g.
        ``sigma0_db`` -> ``sigma0_db_vv``, ``entropy`` -> ``entropy_vv_vh``.
    long_name
        CF ``long_name`` (``{pol}`` / ``{pair}`` are replaced).
    units
        CF/UDUNITS ``units`` (``"1"`` dimensionless, ``"dB"``, ``"rad"``, ``"degree"``).
    category
        One of :data:`CATEGORIES`.
    formula
        The formula in plain text.
    inputs
        Stack inputs needed, from the vocabulary of
        :meth:`sarbd.signatures.inputs.StackInputs.available` (``slc``,
        ``backscatter``, ``calibration:<kind>``, ``interferogram``, ``coherence``).
    valid_range
        (min, max) of the defined values; ``None`` for an open end.
    reference
        Literature reference.
    compute
        ``compute(inputs, key) -> dask.array``; ``key`` is a pol (``"vv"``), a pair
        (``("vv", "vh")``), the channel tuple of the ``quad``/``compact`` scopes
        (``("hh", "hv", "vh", "vv")``, ``("rh", "rv")``) or ``None`` for the ``stack`` scope.
    scope
        One of :data:`SCOPES`.
    per_date
        True if the result has a ``time`` axis.
    standard_name
        CF standard name, only where the CF table has one.
    flags
        For class rasters: ``{value: meaning}`` (CF ``flag_values``/``flag_meanings``).
    """

    name: str
    long_name: str
    units: str
    category: str
    formula: str
    inputs: tuple[str, ...]
    valid_range: tuple[float | None, float | None]
    reference: str
    compute: Callable[..., Any] = field(repr=False, compare=False)
    scope: str = "pol"
    per_date: bool = True
    standard_name: str | None = None
    flags: dict[int, str] | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ConfigError(f"signature name {self.name!r} is not snake_case")
        if self.category not in CATEGORIES:
            raise ConfigError(f"signature {self.name!r}: category must be one of {CATEGORIES}")
        if self.scope not in SCOPES:
            raise ConfigError(f"signature {self.name!r}: scope must be one of {SCOPES}")

    def variable_name(self, key: Any) -> str:
        """Output variable name for a pol, pair or ``None`` (stack scope)."""
        if key is None or self.scope in ("quad", "compact"):
            return self.name
        if isinstance(key, str):
            return f"{self.name}_{key}"
        return f"{self.name}_{'_'.join(key)}"


_REGISTRY: dict[str, Signature] = {}
_plugins_loaded: list[bool] = []


def register(signature: Signature, *, replace: bool = False) -> Signature:
    """Add a signature to the registry (used by built-ins and plug-ins alike).

    Raises
    ------
    ConfigError
        If the name is taken and ``replace`` is false.
    """
    if not isinstance(signature, Signature):
        raise ConfigError(f"cannot register {signature!r}: not a sarbd.signatures.Signature")
    if signature.name in _REGISTRY and not replace:
        raise ConfigError(
            f"signature {signature.name!r} is already registered",
            hint="choose another name, or pass replace=True",
        )
    _REGISTRY[signature.name] = signature
    return signature


def unregister(name: str) -> None:
    """Remove a signature (mainly for tests)."""
    _REGISTRY.pop(name, None)


def _register_object(obj: Any, origin: str) -> None:
    if callable(obj) and not isinstance(obj, Signature):
        obj = obj()
    items: Iterable[Any] = [obj] if isinstance(obj, Signature) else obj
    for item in items:
        register(item)
        log.debug("registered signature %s from %s", item.name, origin)


def load_plugins(*, reload: bool = False) -> None:
    """Load signatures from the ``sarbd.signatures`` entry points (once)."""
    if _plugins_loaded and not reload:
        return
    _plugins_loaded.append(True)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            _register_object(ep.load(), f"entry point {ep.name} ({ep.value})")
        except Exception as exc:  # a broken plug-in must not break the catalogue
            log.warning("could not load signature plug-in %s (%s): %s", ep.name, ep.value, exc)


def all_signatures() -> list[Signature]:
    """Every registered signature, built-ins first, in registration order."""
    load_plugins()
    # stable sort: category order, then registration order
    return sorted(_REGISTRY.values(), key=lambda s: CATEGORIES.index(s.category))


def get(name: str) -> Signature:
    """Look up a signature by base name."""
    load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown signature {name!r}", hint="run `sarbd signatures --list` for the catalogue"
        ) from None


def _fmt_range(r: tuple[float | None, float | None]) -> str:
    def f(v: float | None, inf: str) -> str:
        if v is None:
            return inf
        return f"{v:g}"

    return f"[{f(r[0], '-inf')}, {f(r[1], 'inf')}]"


def table_rows() -> list[dict[str, Any]]:
    """The catalogue as a list of plain dicts (JSON-ready)."""
    rows = []
    for s in all_signatures():
        rows.append(
            {
                "name": s.name,
                "category": s.category,
                "scope": s.scope,
                "per_date": s.per_date,
                "long_name": s.long_name,
                "units": s.units,
                "standard_name": s.standard_name,
                "formula": s.formula,
                "inputs": list(s.inputs),
                "valid_range": [s.valid_range[0], s.valid_range[1]],
                "reference": s.reference,
                "flags": {str(k): v for k, v in s.flags.items()} if s.flags else None,
            }
        )
    return rows


def markdown_table() -> str:
    """The catalogue as a Markdown table (``docs/signatures.md`` embeds it)."""
    head = "| name | cat. | per | units | long name | formula | valid range | CF standard_name | reference |"
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for s in all_signatures():
        per = {"pol": "pol", "stack": "stack"}.get(s.scope, s.scope.replace("_", " "))
        per += ", date" if s.per_date else ""
        cells = [
            f"`{s.name}`",
            s.category,
            per,
            f"`{s.units}`",
            s.long_name.replace("{pol}", "POL").replace("{pair}", "PAIR").replace("|", "\\|"),
            s.formula.replace("|", "\\|"),
            _fmt_range(s.valid_range),
            f"`{s.standard_name}`" if s.standard_name else "",
            s.reference.replace("|", "\\|"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: Markers around the generated catalogue in ``docs/signatures.md``.
DOC_BEGIN = "<!-- BEGIN CATALOGUE (generated by sarbd.signatures.markdown_table) -->"
DOC_END = "<!-- END CATALOGUE -->"


def update_doc(path: str) -> bool:
    """Rewrite the catalogue table between the markers of a Markdown file.

    Returns True if the file changed. Run after changing the registry:
    ``python -c "from sarbd.signatures.registry import update_doc; update_doc('docs/signatures.md')"``.
    """
    from pathlib import Path

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if DOC_BEGIN not in text or DOC_END not in text:
        raise ConfigError(
            "the catalogue markers are missing", path=p, hint=f"add {DOC_BEGIN} and {DOC_END}"
        )
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    new = f"{head}{DOC_BEGIN}\n{markdown_table()}{DOC_END}{tail}"
    if new != text:
        p.write_text(new, encoding="utf-8")
        return True
    return False
