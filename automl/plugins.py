"""Where the platform finds its parts: search spaces, selection strategies, executors and
command-line plug-ins, each an entry-point group.

The built-in parts are registered exactly like a third party's (see ``pyproject.toml``), so the
core names no space, strategy or Ray module in an import: the layers run one way (core, then
spaces, then Ray workers, then the command line). A notebook or a test can also register an
object directly (`PluginGroup.register`), which takes precedence over an entry point of the
same name.

Groups:

* ``automl.search_spaces``: `SearchSpace` subclasses (`SPACES`);
* ``automl.strategies``: `SelectionStrategy` subclasses (`STRATEGIES`);
* ``automl.executors``: `Executor` subclasses with a ``from_config`` constructor (`EXECUTORS`);
* ``automl.cli``: callables ``register(app)`` adding commands to the `automl` command (`CLI`);
* ``automl.launchers``: callables starting a campaign away from this process, by kind
  (``automl run --detach``; `LAUNCHERS`).
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from automl.extras import EXTRAS, missing_extra

if TYPE_CHECKING:
    from automl.space import SearchSpace


class UnknownPluginError(LookupError):
    """No plug-in of that name; the message names the kind and what is available."""


class UnknownSpaceError(UnknownPluginError):
    pass


class PluginGroup:
    """One entry-point group. Entry points are read once and loaded on first use, so naming
    what exists (`names`, for config validation and messages) imports nothing."""

    def __init__(self, group: str, kind: str, error: type[UnknownPluginError] = UnknownPluginError
                 ) -> None:
        self.group, self.kind, self.error = group, kind, error
        self._registered: dict[str, Any] = {}
        self._loaded: dict[str, Any] = {}
        self._entry_points: dict[str, EntryPoint] | None = None

    def _points(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            self._entry_points = {point.name: point for point in entry_points(group=self.group)}
        return self._entry_points

    def names(self) -> list[str]:
        return sorted({*self._points(), *self._registered})

    def __contains__(self, name: object) -> bool:
        return name in self._registered or name in self._points()

    def load(self, name: str) -> Any:
        if name in self._registered:
            return self._registered[name]
        if name not in self._loaded:
            point = self._points().get(name)
            if point is None:
                raise self.error(self.unknown(name))
            try:
                self._loaded[name] = point.load()
            except ModuleNotFoundError as error:
                # a plug-in of an extra that is not installed: name the extra (a built-in
                # space or executor has an extra of its own name that installs all it needs)
                own_extra = name if name in EXTRAS else None
                missing = missing_extra(error, f"{self.kind} {name!r}", own_extra)
                if missing is None:
                    raise
                raise missing from None
        return self._loaded[name]

    def unknown(self, name: str) -> str:
        known = ", ".join(self.names()) or "none (is the package installed?)"
        return f"unknown {self.kind} {name!r} (available: {known})"

    def all(self) -> dict[str, Any]:
        return {name: self.load(name) for name in self.names()}

    def register(self, name: str, plugin: Any) -> None:
        """Make `plugin` available as `name` in this process (before any entry point)."""
        self._registered[name] = plugin

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)


SPACES = PluginGroup("automl.search_spaces", "search space", UnknownSpaceError)
STRATEGIES = PluginGroup("automl.strategies", "selection strategy")
EXECUTORS = PluginGroup("automl.executors", "executor")
CLI = PluginGroup("automl.cli", "command-line plug-in")
LAUNCHERS = PluginGroup("automl.launchers", "campaign launcher")


def available_spaces() -> dict[str, type[SearchSpace]]:
    """Every registered search space class, by name (loads them all)."""
    return SPACES.all()


def space_class(name: str) -> type[SearchSpace]:
    return SPACES.load(name)


def get_space(name: str, settings: Any = None) -> SearchSpace:
    """An instance of the space `name` with `settings` (a mapping or its Settings model)."""
    return space_class(name)(settings)
