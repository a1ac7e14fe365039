"""The package's import graph, read from the source with ``ast`` (imports inside functions
included): no module of rag/ may reach itself through imports, and rag/ never imports web/
(web is a shell over rag, never the other way)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "rag"


def module_names() -> dict[str, Path]:
    """Dotted module name -> file, for every module under rag/ (a package is its __init__.py)."""
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imported(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import statement in the module, wherever it stands;
    ``from .pkg import mod`` counts as importing the module pkg.mod when there is one."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                module = ".".join(parts[:len(parts) - node.level + 1] + ([module] if module else []))
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                out.append((sub if sub in modules else module, node.lineno))
    return out


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {rag module it imports: line of the first such import}."""
    modules = module_names()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        graph[name] = {}
        for target, line in imported(name, path, modules):
            if target in modules and target != name:
                graph[name].setdefault(target, line)
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle for each strongly connected group of modules (Tarjan), as a path back to its start."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, set(group)) for group in groups]


def _cycle_in(graph: dict[str, dict[str, int]], group: set[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    return paths[v] + [start]
                if w in group and w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return sorted(group)  # pragma: no cover - a strongly connected group always has a cycle


def describe(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"


def test_no_import_cycle_among_rag_modules():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in rag/:\n" + "\n".join(describe(graph, c) for c in cycles)


def test_rag_never_imports_web():
    modules = module_names()
    found = [f"{path.relative_to(ROOT)}:{line} imports {target}"
             for name, path in modules.items() for target, line in imported(name, path, modules)
             if target == "web" or target.startswith("web.")]
    assert not found, "\n".join(found)


def test_the_graph_reader_sees_relative_and_function_level_imports(tmp_path, monkeypatch):
    # A tiny package where a.py imports b at the top and b.py imports a inside a function.
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    for f in ("__init__.py", "sub/__init__.py"):
        (pkg / f).write_text("")
    (pkg / "sub" / "a.py").write_text("from .b import g\n")
    (pkg / "sub" / "b.py").write_text("def g():\n    from ..sub import a\n    return a\n")
    (pkg / "c.py").write_text("from .sub import b\nimport web.app\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    graph = import_graph()
    assert graph["rag.sub.a"] == {"rag.sub.b": 1}
    assert graph["rag.sub.b"] == {"rag.sub.a": 2}
    assert graph["rag.c"] == {"rag.sub.b": 1}
    assert find_cycles(graph) == [["rag.sub.a", "rag.sub.b", "rag.sub.a"]]
