"""The import graph reads core ← accounts ← matching, with audit beside accounts, demo on top
and the engine below everything; and no two project modules import each other, directly or
round a loop, outside the engine.

Every import counts, also one inside a function: such an import hides a dependency from the
reader without removing it. Relative imports are resolved, and ``from package import name``
is an import of the submodule when ``name`` is one. Migrations are left out: they name other
apps' migrations by design.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("config", "core", "accounts", "audit", "matching", "demo")
ENGINE = "matching.engine"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the project module imported (or the top package of a third-party one)
    where: str  # file:line

    def __str__(self):
        return f"{self.where}: {self.source} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    modules = {}
    for package in PROJECT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = path
    return modules


MODULES = _sources()


def _resolve(dotted: str) -> str:
    """The longest known project module that ``dotted`` names or lies in; else its top package."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return parts[0]


def _imports_of(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [Import(module, _resolve(alias.name), where) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                found.append(Import(module, submodule if submodule in MODULES else _resolve(origin), where))
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports_of(module, path)]


def _top(module: str) -> str:
    return module.split(".")[0]


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _violations(source_package: str, forbidden) -> list[str]:
    return [
        str(imp) for imp in IMPORTS if _in(imp.source, source_package) and any(_in(imp.target, f) for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("core", ("accounts", "audit", "matching", "demo")),
        ("accounts", ("matching", "demo")),
        ("audit", ("accounts", "matching", "demo")),
        ("matching", ("demo",)),
    ],
)
def test_a_layer_imports_nothing_above_it(package, forbidden):
    if offending := _violations(package, forbidden):
        pytest.fail("\n".join(offending))


def test_the_engine_imports_neither_django_nor_any_app():
    offending = [
        str(imp)
        for imp in IMPORTS
        if _in(imp.source, ENGINE)
        and (_top(imp.target) == "django" or (_top(imp.target) in PROJECT and not _in(imp.target, ENGINE)))
    ]
    if offending:
        pytest.fail("\n".join(offending))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
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
                    components.append(sorted(component))
    return components


def test_the_cycle_finder_finds_a_loop_and_nothing_else():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_project_modules_outside_the_engine():
    edges: dict[str, set[str]] = {module: set() for module in MODULES if not _in(module, ENGINE)}
    lines: dict[tuple[str, str], list[str]] = {}
    for imp in IMPORTS:
        if imp.source in edges and imp.target in edges and imp.source != imp.target:
            edges[imp.source].add(imp.target)
            lines.setdefault((imp.source, imp.target), []).append(imp.where)
    report = []
    for component in _cycles(edges):
        members = set(component)
        report.append("cycle: " + ", ".join(component))
        report += [
            f"  {where}: {source} imports {target}"
            for (source, target), wheres in sorted(lines.items())
            if source in members and target in members
            for where in wheres
        ]
    if report:
        pytest.fail("\n".join(report))
