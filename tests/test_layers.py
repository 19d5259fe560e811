"""The layers run one way: core (`automl`), then the spaces (`search_spaces`), then the Ray
workers (`workers`), then the command line (`automl.cli`, and the cluster commands the Ray layer
plugs into it, `workers.cli`). Every import of the package's own modules is read from the
source (`ast`, function-level and TYPE_CHECKING imports included) and checked: no import from a
lower layer to a higher one, no file under ``automl/`` that names ``search_spaces`` or
``workers``, each space importing only the core, and no import cycle between files or between
packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("automl", "search_spaces", "workers")
COMMAND_LINE = ("automl.cli", "automl.__main__", "workers.cli")
LAYERS = {"core": 0, "spaces": 1, "workers": 2, "command line": 3}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:  # Alembic's scripts, loaded by path
                continue
            modules[module_name(path)] = path
    return modules


MODULES = source_modules()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imported_modules(name: str) -> set[str]:
    """The package's own modules that module `name` imports (anywhere in the file)."""
    tree = ast.parse(MODULES[name].read_text(), str(MODULES[name]))
    package = name if is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from automl import dsl` imports the module automl.dsl
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # `import automl.evolution.selection`
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
                # importing a.b.c runs a/b/__init__.py first: an edge to every package above
                # the target that is not above the importer too (those are already running)
                parts = target.split(".")
                for depth in range(1, len(parts)):
                    package = ".".join(parts[:depth])
                    if (package in MODULES and package != name
                            and not name.startswith(package + ".")):
                        found.add(package)
    return found


GRAPH = {name: imported_modules(name) for name in MODULES}


def layer(name: str) -> str:
    if any(name == prefix or name.startswith(prefix + ".") for prefix in COMMAND_LINE):
        return "command line"
    return {"automl": "core", "search_spaces": "spaces", "workers": "workers"}[
        name.split(".")[0]]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of `graph` as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return stack[stack.index(successor):] + [successor]
            if successor not in state:
                cycle = visit(successor)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_checker_sees_the_imports_it_must_judge():
    assert "automl.ir" in GRAPH["automl.dsl"]  # from automl.ir import (...)
    # `from automl.evolution.mutations import ...` runs automl/evolution/__init__.py too
    assert "automl.evolution" in GRAPH["automl.space"]
    assert "automl.cli.common" in GRAPH["automl.cli.campaigns"]
    assert "automl.space" in GRAPH["search_spaces.base"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_runs_up_a_layer(name):
    upward = sorted(target for target in GRAPH[name]
                    if LAYERS[layer(target)] > LAYERS[layer(name)])
    assert not upward, f"{name} ({layer(name)}) imports {upward} from a higher layer"


@pytest.mark.parametrize("name", sorted(n for n in MODULES
                                        if n.startswith("automl") and layer(n) != "core"))
def test_the_command_line_reaches_spaces_and_workers_only_through_plugins(name):
    named = sorted(t for t in GRAPH[name] if t.split(".")[0] in ("search_spaces", "workers"))
    assert not named, f"{name} imports {named}: use automl.plugins"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("search_spaces.")
                                        and n.count(".") >= 1))
def test_each_space_imports_only_the_core_and_itself(name):
    own = ".".join(name.split(".")[:2])
    foreign = sorted(t for t in GRAPH[name] if t.startswith("search_spaces")
                     and t != own and not t.startswith(own + "."))
    assert not foreign, f"{name} imports another space: {foreign}"


def test_no_cycle_between_files():
    cycle = find_cycle(GRAPH)
    assert cycle is None, " -> ".join(cycle)


def test_no_cycle_between_the_layers_top_level_packages():
    def unit(name: str) -> str:
        return "command line" if layer(name) == "command line" else name.split(".")[0]

    graph: dict[str, set[str]] = {}
    for name, targets in GRAPH.items():
        graph.setdefault(unit(name), set()).update(unit(t) for t in targets
                                                   if unit(t) != unit(name))
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("parent", sorted(n for n in MODULES if is_package(n)))
def test_no_cycle_between_sibling_packages(parent):
    """Within each package, its sub-packages (automl.store, automl.evolution, automl.cli;
    search_spaces.autonumerics, ...) import each other without a cycle."""
    def child(name: str) -> str | None:
        if not name.startswith(parent + "."):
            return None
        first = parent + "." + name[len(parent) + 1:].split(".")[0]
        return first if first in MODULES and is_package(first) else None

    graph: dict[str, set[str]] = {}
    for name, targets in GRAPH.items():
        source = child(name)
        if source is not None:
            graph.setdefault(source, set()).update(
                c for c in map(child, targets) if c is not None and c != source)
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)
