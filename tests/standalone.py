"""Import an exported module the way a user would (from its own file), after checking that it
imports nothing outside `allowed` and the standard library (never this platform). Shared by
the export tests."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def imported_packages(source: str) -> set[str]:
    """Top-level packages the source imports, the standard library left out."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names)


def load_standalone(source: str, directory: Path, name: str,
                    allowed: set[str] = frozenset({"jax", "numpy", "scipy"})) -> ModuleType:
    imported = imported_packages(source)
    assert imported <= allowed, f"exported module imports {imported}, allowed {allowed}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
