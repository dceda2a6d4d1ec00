"""A small, safe expression language for labelling rules on SAR signatures.

Rules are strings such as ``"db(sigma0_vv) < -15 and coherence_vv < 0.3"``. They are
parsed with :mod:`ast` and evaluated by walking a whitelist of node types on xarray
objects; nothing is passed to :func:`eval`, so a rule cannot call arbitrary Python.

Grammar (Python syntax, restricted):

* names of variables in the signature dataset; numbers (``1.5``, ``-3``, ``1e-3``);
* arithmetic ``+ - * /`` and unary ``-``; parentheses;
* comparisons ``< <= > >= == !=``, chained (``0.2 < coherence_vv < 0.6``);
* boolean ``and``, ``or``, ``not`` (element-wise);
* functions ``db(x)`` (``10 log10 x``), ``log10``, ``abs``, ``sqrt``, and the temporal
  reductions ``median``, ``mean``, ``min``, ``max``, ``std`` over the ``time`` dimension.

A per-date variable (one with a ``time`` dimension) named outside a temporal reduction is
reduced with ``time_reduce`` (the temporal median by default), so every rule yields one
``(line, pixel)`` mask. Comparisons with NaN are false, so pixels with undefined
signatures never match.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from sarbd.errors import ConfigError

__all__ = ["evaluate", "parse_rule", "variables_in"]

_TIME_REDUCTIONS: dict[str, str] = {
    "median": "median",
    "mean": "mean",
    "min": "min",
    "max": "max",
    "std": "std",
}


def _db(x: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10.0 * np.log10(x.where(x > 0) if isinstance(x, xr.DataArray) else x)


def _log10(x: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(x.where(x > 0) if isinstance(x, xr.DataArray) else x)


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "db": _db,
    "log10": _log10,
    "abs": abs,
    "sqrt": np.sqrt,
}
_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}


def parse_rule(expression: str) -> ast.Expression:
    """Parse and check a rule; raises :class:`ConfigError` naming the offending part."""
    if not isinstance(expression, str) or len(expression) > MAX_RULE_LENGTH:
        raise ConfigError(
            f"a rule must be a text of at most {MAX_RULE_LENGTH} characters",
            hint="split long rules into several",
        )
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(
            f"rule {expression!r} is not a valid expression ({exc.msg})",
            hint="use comparisons, and/or/not, + - * /, numbers and signature names",
        ) from None
    except (
        ValueError,
        RecursionError,
        MemoryError,
    ) as exc:  # NUL bytes; nesting too deep for the parser
        raise ConfigError(
            f"rule {expression!r} is not a valid expression ({exc})",
            hint="use comparisons, and/or/not, + - * /, numbers and signature names",
        ) from None
    if _depth(tree) > MAX_RULE_DEPTH:
        raise ConfigError(f"rule {expression!r} is nested more than {MAX_RULE_DEPTH} levels deep")
    for node in ast.walk(tree):
        ok = (
            isinstance(
                node,
                ast.Expression
                | ast.BoolOp
                | ast.And
                | ast.Or
                | ast.UnaryOp
                | ast.Not
                | ast.USub
                | ast.UAdd
                | ast.BinOp
                | ast.Compare
                | ast.Name
                | ast.Load
                | ast.Constant
                | ast.Call,
            )
            or type(node) in _BINOPS
            or type(node) in _CMPOPS
        )
        if not ok:
            raise ConfigError(
                f"rule {expression!r}: {type(node).__name__} is not allowed",
                hint="use comparisons, and/or/not, + - * /, numbers and signature names",
            )
        if isinstance(node, ast.Constant) and not (
            isinstance(node.value, int | float) and not isinstance(node.value, bool)
        ):
            raise ConfigError(
                f"rule {expression!r}: only numbers may appear as constants, got {node.value!r}"
            )
        if isinstance(node, ast.Constant):
            try:
                float(node.value)  # type: ignore[arg-type]  # a number, checked just above
            except OverflowError:
                raise ConfigError(
                    f"rule {expression!r}: the number {str(node.value)[:20]}... is too large"
                ) from None
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in _FUNCTIONS and name not in _TIME_REDUCTIONS:
                raise ConfigError(
                    f"rule {expression!r}: unknown function {ast.unparse(node.func)!r}",
                    hint=f"allowed: {', '.join(sorted([*_FUNCTIONS, *_TIME_REDUCTIONS]))}",
                )
            if len(node.args) != 1 or node.keywords:
                raise ConfigError(f"rule {expression!r}: {name}() takes exactly one argument")
    return tree


#: limits that keep a rule far from Python's recursion limit
MAX_RULE_LENGTH = 2000
MAX_RULE_DEPTH = 60


def _depth(node: ast.AST) -> int:
    """Depth of an AST, iteratively (a recursive walk could itself overflow)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return deepest


def variables_in(expression: str) -> set[str]:
    """Names of the signature variables a rule refers to."""
    tree = parse_rule(expression)
    funcs = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - funcs


def evaluate(
    expression: str, variables: Mapping[str, xr.DataArray] | xr.Dataset, time_reduce: str = "median"
) -> xr.DataArray:
    """Evaluate a rule on signature variables.

    Parameters
    ----------
    expression
        The rule (see the module docstring for the grammar).
    variables
        Dataset or mapping of name -> DataArray (dims ``(line, pixel)`` or ``(time, line, pixel)``).
    time_reduce
        Reduction applied to per-date variables used outside a temporal function.

    Returns
    -------
    xarray.DataArray
        The value of the expression, ``(line, pixel)``; boolean for a rule.
    """
    if time_reduce not in _TIME_REDUCTIONS:
        raise ConfigError(
            f"time_reduce must be one of {sorted(_TIME_REDUCTIONS)}, got {time_reduce!r}"
        )
    tree = parse_rule(expression)

    def reduce_time(x: Any, how: str) -> Any:
        if isinstance(x, xr.DataArray) and "time" in x.dims:
            return (
                getattr(x, how)("time", skipna=False)
                if how != "median"
                else x.median("time", skipna=False)
            )
        return x

    def ev(node: ast.AST, in_time_fn: bool) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body, in_time_fn)
        if isinstance(node, ast.Constant):
            # NumPy floats: 1/0 is inf (as for arrays), not a ZeroDivisionError
            return np.float64(node.value)  # type: ignore[arg-type]  # parse_rule allows numbers only
        if isinstance(node, ast.Name):
            if node.id not in variables:
                raise ConfigError(
                    f"rule {expression!r} uses {node.id!r}, which is not a computed signature",
                    hint=f"available: {', '.join(sorted(map(str, variables)))}",
                )
            value = variables[node.id]
            return value if in_time_fn else reduce_time(value, time_reduce)
        if isinstance(node, ast.UnaryOp):
            operand = ev(node.operand, in_time_fn)
            if isinstance(node.op, ast.Not):
                return ~_as_bool(operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](ev(node.left, in_time_fn), ev(node.right, in_time_fn))
        if isinstance(node, ast.BoolOp):
            values = [_as_bool(ev(v, in_time_fn)) for v in node.values]
            out = values[0]
            for v in values[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.Compare):
            left = ev(node.left, in_time_fn)
            result = None
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = ev(comp, in_time_fn)
                part = _CMPOPS[type(op)](left, right)
                result = part if result is None else (result & part)
                left = right
            return result
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[attr-defined]
            if name in _TIME_REDUCTIONS:
                return reduce_time(ev(node.args[0], True), _TIME_REDUCTIONS[name])
            return _FUNCTIONS[name](ev(node.args[0], in_time_fn))
        raise ConfigError(
            f"rule {expression!r}: {type(node).__name__} is not allowed"
        )  # pragma: no cover

    with np.errstate(all="ignore"):
        result = ev(tree, False)
    if isinstance(result, xr.DataArray) and "time" in result.dims:
        result = reduce_time(result, time_reduce)
    if not isinstance(result, xr.DataArray):
        raise ConfigError(
            f"rule {expression!r} refers to no signature", hint="name at least one variable"
        )
    return result


def _as_bool(x: Any) -> Any:
    if isinstance(x, xr.DataArray):
        return x.fillna(0) != 0 if x.dtype != bool else x
    return np.bool_(x != 0 and not np.isnan(x))  # a number: NaN counts as false, like masked pixels
