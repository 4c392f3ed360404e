"""The house: no import circles, layers that run one way, no app importing the dev tools.

Read from the source (every import, also those inside functions), not from what happens to be
loaded, so a circle hidden behind a function-level import fails too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["portal", "institutions", "metrics", "reports", "demo", "emulator", "bench"]
# Lower layers first: a module may import only from its own layer or lower ones.
LAYERS = ["portal", "institutions", "metrics", "reports"]
# The root URLconf and router compose the apps: Django's one sanctioned upward reference.
COMPOSITION_ROOTS = {"portal.urls"}
DEV_TOOLS = {"emulator", "demo", "bench"}
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The most specific project module a dotted name refers to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(node: ast.AST, current: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = current.split(".")
        anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, base] if base else anchor)
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            for target in _imported(node, name, path.name == "__init__.py"):
                resolved = _resolve(target, modules)
                if resolved and resolved != name and not name.startswith(resolved + "."):
                    graph[name].add(resolved)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_the_circle_finder_sees_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_run_one_way():
    upward = []
    for module, targets in import_graph().items():
        if _top(module) not in LAYERS or module in COMPOSITION_ROOTS:
            continue
        level = LAYERS.index(_top(module))
        upward += [f"{module} → {t}" for t in targets
                   if _top(t) in LAYERS and LAYERS.index(_top(t)) > level]
    assert upward == []


def test_no_app_imports_the_development_tools():
    offending = [f"{module} → {t}" for module, targets in import_graph().items()
                 if _top(module) in LAYERS for t in targets if _top(t) in DEV_TOOLS]
    assert offending == []


def test_services_never_import_task_modules():
    offending = [f"{module} → {t}" for module, targets in import_graph().items()
                 if not module.endswith(".tasks") and _top(module) in LAYERS
                 for t in targets if t.endswith(".tasks")]
    assert offending == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_500_lines(package):
    long = {name: n for name, path in project_modules().items()
            if name.split(".")[0] == package
            and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
