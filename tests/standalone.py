"""Import an exported module the way a user would (from its own file), after checking that it
imports nothing outside `allowed` and the standard library (never this platform). Shared by
the export tests; and `script_module`, which imports one of `scripts/` for its tests."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@contextlib.contextmanager
def script_module(name: str) -> Iterator[ModuleType]:
    """`scripts/<name>.py` imported as a module, registered in `sys.modules` while in use
    (dataclasses resolve annotations through it)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


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
