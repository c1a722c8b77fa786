"""The packages of src/interlace import one way: no cycle between them (docs/design.md).

Read from the source with ``ast`` (imports inside functions count too: a lazy import is still
a dependency), so the test needs no import of interlace's modules.
"""

import ast
from collections import defaultdict

from conftest import ROOT

SRC = ROOT / "src" / "interlace"


def _module_name(path) -> tuple[str, bool]:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _imported(node, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "interlace"]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        return [node.module] if node.module and node.module.split(".")[0] == "interlace" else []
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    if node.module:
        return [".".join(base + [node.module])]
    return [".".join(base + [alias.name]) for alias in node.names]


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_graph() -> dict[str, dict[str, str]]:
    """package -> {package it imports: the first place that does}, for the subpackages."""
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    graph: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted(SRC.rglob("*.py")):
        module, is_package = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _imported(node, module, is_package):
                here, there = _package(module), _package(target)
                if here != there and here in packages and there in packages:
                    graph[here].setdefault(there, f"{path.relative_to(ROOT)}:{node.lineno}")
    return graph


def _reaches(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), {}):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_import_cycle_between_packages():
    graph = package_graph()
    cycles = sorted(f"{a} -> {b} ({where}) and back" for a, targets in graph.items()
                    for b, where in targets.items() if a in _reaches(graph, b))
    assert not cycles, cycles


def test_the_graph_sees_imports_inside_functions():
    """The reader must not miss a lazy import (a cycle hides there first)."""
    graph = package_graph()
    assert "runtime" in graph["engine"]  # engine drives executions
    assert "runtime" not in graph.get("hooks", {})  # the hooks are below the runtime
