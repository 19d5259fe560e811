"""User plug-ins named by an import string, ``package.module:attribute`` (as uvicorn and Hydra
name them), and what the cache key records of them.

`resolve` imports the module with `importlib` and walks the (possibly dotted) attribute with
`getattr`; the string is never passed to `eval` or `exec`. Every failure is one
`ImportStringError` line naming where the string came from (`where`, e.g. the config field), the
string and the reason: malformed, module not found, attribute missing, not callable.

A function passed from Python instead of a string is recorded by its `identity`
(``module:qualname``), which must import back to that same function (so a campaign can be
resumed, reproduced or run on a worker from its stored config): a lambda or a function defined
inside another one cannot be, and is refused in one line.

Validating settings only checks an import string's form (`check_import_string`); a campaign
config imports and tries each plug-in (`automl.space.SpaceSettings.check_plugins`, raising
`PluginError`), so a stored campaign's results can be read without its plug-ins installed.

`version` is what the user declares as the plug-in's version: the function's own
``__automl_version__`` attribute, else its module's, else None. Spaces put
``{"identity": ..., "version": ...}`` of each plug-in into their evaluation settings
(`automl.space.SearchSpace.plugins`), so a result computed by another function, or by a version
the user bumped, is never served from the cache.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["ImportStringError", "PluginError", "PluginRef", "check_import_string", "identity",
           "made_by", "plugin_ref", "resolve", "resolve_callable", "version"]

VERSION_ATTRIBUTE = "__automl_version__"

# dotted identifiers, a colon, a dotted attribute path: "pkg.mod:fn", "pkg:Class.method"
_PATTERN = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


class ImportStringError(ValueError):
    """A user's import string (or passed object) that names nothing usable; one line."""


class PluginError(ValueError):
    """A plug-in named in a space's settings cannot work: `field` is where in the settings
    (a tuple of keys), the message one line."""

    def __init__(self, field: tuple[str, ...], message: str):
        super().__init__(message)
        self.field = field


def _fail(where: str, spec: str, reason: str) -> ImportStringError:
    prefix = f"{where}: " if where else ""
    return ImportStringError(f"{prefix}{spec!r}: {reason}")


def check_import_string(spec: Any, where: str = "") -> str:
    """`spec` if it has the form ``package.module:attribute`` (nothing is imported)."""
    if not isinstance(spec, str):
        raise ImportStringError(f"{where + ': ' if where else ''}expected an import string "
                                f"'package.module:attribute', got {type(spec).__name__}")
    if not _PATTERN.fullmatch(spec):
        raise _fail(where, spec, "not an import string 'package.module:attribute'")
    return spec


def resolve(spec: str, where: str = "") -> Any:
    """The object that ``"package.module:attribute"`` names (the attribute may be dotted).
    `where` (e.g. ``"space.settings.target.function"``) starts the error message."""
    check_import_string(spec, where)
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or module_name
        raise _fail(where, spec, f"module {missing!r} not found") from None
    except Exception as error:  # the user's module raised while importing
        raise _fail(where, spec, f"importing {module_name!r} raised "
                                 f"{type(error).__name__}: {_one_line(error)}") from None
    value: Any = module
    walked = module_name
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise _fail(where, spec, f"{walked!r} has no attribute {part!r}") from None
        walked = f"{walked}{'.' if walked != module_name else ':'}{part}"
    return value


def resolve_callable(spec: str, where: str = "") -> Any:
    """`resolve`, and the result must be callable."""
    value = resolve(spec, where)
    if not callable(value):
        raise _fail(where, spec, f"is a {type(value).__name__}, not a callable")
    return value


def identity(function: Any, where: str = "") -> str:
    """``module:qualname`` of a passed function, checked to import back to that function."""
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not (isinstance(module, str) and isinstance(qualname, str)):
        raise ImportStringError(f"{where + ': ' if where else ''}{function!r} has no "
                                f"module and name to record it by; pass an import string")
    spec = f"{module}:{qualname}"
    if "<" in qualname:  # <lambda>, <locals>
        raise _fail(where, spec, "a lambda or a function defined inside another cannot be "
                                 "imported again (by a resume, a reproduce or a worker); "
                                 "define it at the top level of a module")
    if module == "__main__":  # the script or notebook running now: no other process has it
        raise _fail(where, spec, "a function of the script or notebook being run cannot be "
                                 "imported again (by a resume, a reproduce or a worker); "
                                 "define it in a module on the path and import it from there")
    if module not in sys.modules:
        raise _fail(where, spec, f"module {module!r} is not imported")
    if resolve(spec, where) is not function:
        raise _fail(where, spec, "imports a different object than the one passed")
    return spec


def version(function: Any) -> str | None:
    """The declared version: ``function.__automl_version__``, else its module's, else None
    (as text, so 2 and "2" are one version)."""
    declared = getattr(function, VERSION_ATTRIBUTE, None)
    if declared is None:
        module = sys.modules.get(getattr(function, "__module__", None) or "")
        declared = getattr(module, VERSION_ATTRIBUTE, None)
    return None if declared is None else str(declared)


@dataclass(frozen=True)
class PluginRef:
    """What the cache key records of a user plug-in: its import string and declared version."""

    identity: str
    version: str | None

    def as_json(self) -> dict[str, Any]:
        return {"identity": self.identity, "version": self.version}


def made_by(spec: str, expected: type, where: str = "") -> Any:
    """What the user's factory ``make()`` named by `spec` returns, checked to be an
    `expected` (a task, a network); one line naming `where`, the string and the reason when
    it cannot be imported, raises (the user's code: never a traceback) or returns another
    type."""
    make = resolve_callable(spec, where)
    try:
        made = make()
    except Exception as error:  # noqa: BLE001 - the user's code: reported in one line
        raise _fail(where, spec, f"raised {type(error).__name__}: {_one_line(error)}") from None
    if not isinstance(made, expected):
        raise _fail(where, spec, f"returned {type(made).__name__}, not a "
                                 f"{expected.__module__.rsplit('.', 1)[0]}.{expected.__name__}")
    return made


def plugin_ref(spec: str, function: Any) -> PluginRef:
    return PluginRef(spec, version(function))


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else ""
