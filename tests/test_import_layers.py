"""The modules of the geometry and coregistration layers import each other as a DAG (no circles).

Every ``import`` in ``src/sarbd`` is read with :mod:`ast` -- at module level and inside
functions (a deferred import is still a dependency) -- except under ``if TYPE_CHECKING:``.
``from sarbd.pkg import name`` counts as a dependency on the module that defines
``name`` (followed through the package's ``__init__`` re-exports and lazy-import
tables); a package ``__init__`` itself is a facade, not a layer, so its own imports
are not edges. The test fails on any import cycle that touches ``sarbd.core``,
``sarbd.geometry``, ``sarbd.coregistration`` or ``sarbd.insar``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
LAYERED = ("sarbd.core", "sarbd.geometry", "sarbd.coregistration", "sarbd.insar")


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "sarbd").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                skip.update(id(n) for n in ast.walk(sub))
    return skip


def _imports(name: str) -> list[tuple[str, str | None]]:
    """``(module, imported name or None)`` of every import in a module."""
    tree = ast.parse(MODULES[name].read_text())
    skip = _type_checking_nodes(tree)
    package = name if _is_package(name) else name.rpartition(".")[0]
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out += [(base, a.name) for a in node.names]
    return out


def _lazy_table(package: str) -> dict[str, str]:
    """``name -> module`` of a package's lazy-import dictionary (``{"baselines": "sarbd.geometry.baseline"}``)."""
    table = {}
    for node in ast.walk(ast.parse(MODULES[package].read_text())):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(k, ast.Constant)
                    and isinstance(v, ast.Constant)
                    and isinstance(v.value, str)
                    and v.value in MODULES
                ):
                    table[str(k.value)] = v.value
    return table


def _resolve(module: str, name: str | None, depth: int = 0) -> str | None:
    """The sarbd module an import depends on (``None`` outside sarbd)."""
    if not module.startswith("sarbd"):
        return None
    if name is not None and f"{module}.{name}" in MODULES:
        return f"{module}.{name}"
    if name is None or not _is_package(module) or depth > 10:
        return module if module in MODULES else None
    for src, imported in _imports(module):
        if imported == name:
            return _resolve(src, name, depth + 1)
    return _lazy_table(module).get(name, module)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        if _is_package(m):
            continue  # a facade
        for src, name in _imports(m):
            target = _resolve(src, name)
            if target is not None and target != m:
                graph[m].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_resolved_to_defining_modules() -> None:
    graph = _graph()
    # through the facade's re-export / lazy table to the defining module
    assert "sarbd.coregistration.tops" in graph["sarbd.coregistration.ramps"]
    assert "sarbd.geometry.baseline" in graph["sarbd.coregistration.stack"]
    assert "sarbd.coregistration.stack" not in graph["sarbd.coregistration.burst"]


def test_no_import_cycles_in_the_geometry_and_coregistration_layers() -> None:
    bad = [c for c in _cycles(_graph()) if any(m.startswith(LAYERED) for m in c)]
    assert not bad, f"import cycles: {bad}"
