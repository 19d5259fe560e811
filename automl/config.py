"""Campaign configuration: pydantic models of the YAML files in configs/.

Errors name the file, the line, the field and what is allowed, e.g.::

    configs/bad.yaml:7: evolution.strategy: unknown selection strategy; allowed: nsga2,
    pareto_tournament, regularized (got 'tournament')
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import yaml

from automl.defaults import DEFAULT_DATABASE
from automl.imports import PluginError
from automl.plugins import EXECUTORS, STRATEGIES, PluginGroup, UnknownSpaceError, space_class


class ConfigError(ValueError):
    """A campaign config is invalid; the message names file, line and field."""


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class SpaceConfig(_Strict):
    name: str
    settings: dict[str, Any] = {}


def _registered(group: PluginGroup, value: str) -> str:
    """`value` must name a plug-in of `group` (checked by name: nothing is imported)."""
    if value not in group:  # the message gets "(got VALUE)" appended (`_describe`)
        raise ValueError(f"unknown {group.kind}; allowed: {', '.join(group.names())}")
    return value


class EvolutionConfig(_Strict):
    # a selection strategy registered under automl.strategies (built in: regularized,
    # pareto_tournament, nsga2)
    strategy: str = "nsga2"
    population_size: int = pydantic.Field(100, ge=2)
    tournament_size: int = pydantic.Field(2, ge=1)
    # single-objective strategies (regularized) select on this objective; default: the first
    objective: str | None = None
    initial_population: int | None = pydantic.Field(None, ge=1)
    include_baselines: bool = False
    max_mutation_tries: int = pydantic.Field(100, ge=1)
    # strategies that select on one objective and can restart (regularized): after this many
    # members in a row join the population without improving the best value of the selected
    # objective, the population restarts from the best member alone (the Lion search's restart
    # from the best program when stalled); None: never
    restart_after: int | None = pydantic.Field(None, ge=1)
    # a plug-in strategy's own options (its from_config reads them)
    options: dict[str, Any] = {}

    @pydantic.field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        return _registered(STRATEGIES, value)

    @pydantic.model_validator(mode="after")
    def _restart_needs_one_objective(self) -> EvolutionConfig:
        if self.restart_after is not None and not STRATEGIES.load(self.strategy).restartable:
            raise _FieldError(("evolution", "restart_after"),
                              f"needs a strategy that selects on one objective and can restart "
                              f"from its best member (regularized), not {self.strategy!r}")
        return self


class BudgetConfig(_Strict):
    max_evaluations: int = pydantic.Field(1000, ge=1)  # evaluations actually run (cache misses)
    max_candidates: int | None = pydantic.Field(None, ge=1)  # candidates generated, hits too
    max_seconds: float | None = pydantic.Field(None, gt=0)


class CacheConfig(_Strict):
    enabled: bool = True
    evaluations_per_entry: int = pydantic.Field(1, ge=1)  # aggregating FEC: mean of up to M
    forget_probability: float = pydantic.Field(0.0, ge=0.0, le=1.0)  # forgetful FEC
    # reuse results of other campaigns in the same database with the same evaluation
    # settings (space, settings, evaluator version), e.g. campaigns running side by side
    shared: bool = False
    # entries kept in the controller's memory (least recently used out first; the store
    # answers for the others), so that memory does not grow with the campaign; None: all
    memory_entries: int | None = pydantic.Field(100_000, ge=1)


class ExecutorConfig(_Strict):
    # an executor registered under automl.executors (built in: local, and ray from workers/)
    kind: str = "local"
    workers: int = pydantic.Field(2, ge=1)
    batch_size: int = pydantic.Field(16, ge=1)
    num_cpus_per_worker: float = pydantic.Field(1.0, ge=0)
    num_gpus_per_worker: float = pydantic.Field(0.0, ge=0)
    resources_per_worker: dict[str, float] = {}
    address: str | None = None  # Ray cluster address; None starts a local Ray
    dashboard: bool = False
    # a candidate whose evaluation runs longer is stopped and recorded as failed (Ray
    # executor: its worker is killed and restarted); None: no limit
    evaluation_timeout_s: float | None = pydantic.Field(None, gt=0)
    # a plug-in executor's own options (its from_config reads them)
    options: dict[str, Any] = {}

    @pydantic.field_validator("kind")
    @classmethod
    def _known_executor(cls, value: str) -> str:
        return _registered(EXECUTORS, value)

    @pydantic.model_validator(mode="after")
    def _timeout_needs_ray(self) -> ExecutorConfig:
        if self.evaluation_timeout_s is not None and self.kind == "local":
            raise _FieldError(("executor", "evaluation_timeout_s"),
                              "needs kind: ray (a local evaluation runs inside the controller's "
                              "process, which cannot stop it; a Ray worker can be killed)")
        return self


class StoreConfig(_Strict):
    flush_rows: int = pydantic.Field(2000, ge=1)
    flush_seconds: float = pydantic.Field(2.0, gt=0)


class LeaseConfig(_Strict):
    """The campaign's lease (`automl.lease`): its owner renews a heartbeat every
    `heartbeat_seconds`; a running campaign whose heartbeat is older than `grace_seconds` is
    stale, and `automl resume` may take it over."""

    heartbeat_seconds: float = pydantic.Field(5.0, gt=0)
    grace_seconds: float = pydantic.Field(30.0, gt=0)

    @pydantic.model_validator(mode="after")
    def _grace_outlasts_heartbeats(self) -> LeaseConfig:
        if self.grace_seconds < 2 * self.heartbeat_seconds:
            raise _FieldError(("lease", "grace_seconds"),
                              f"must be at least twice heartbeat_seconds "
                              f"({self.heartbeat_seconds:g}), or one late heartbeat makes a "
                              f"live campaign look dead (got {self.grace_seconds:g})")
        return self


class CampaignConfig(_Strict):
    name: str | None = None
    seed: int = pydantic.Field(0, ge=0, lt=2**63)
    database: str = DEFAULT_DATABASE
    space: SpaceConfig
    evolution: EvolutionConfig = EvolutionConfig()
    budget: BudgetConfig = BudgetConfig()
    cache: CacheConfig = CacheConfig()
    executor: ExecutorConfig = ExecutorConfig()
    store: StoreConfig = StoreConfig()
    lease: LeaseConfig = LeaseConfig()

    @pydantic.model_validator(mode="after")
    def _space_settings_valid(self) -> CampaignConfig:
        try:
            settings_model = space_class(self.space.name).Settings
        except UnknownSpaceError as error:
            raise _FieldError(("space", "name"), str(error)) from None
        try:
            normalized = settings_model.model_validate(self.space.settings)
        except pydantic.ValidationError as error:
            first = error.errors()[0]
            raise _FieldError(("space", "settings", *first["loc"]),
                              _describe(first, settings_model)) from None
        try:  # a space's settings subclass SpaceSettings, which has it; be lenient anyway
            getattr(normalized, "check_plugins", lambda: None)()
        except PluginError as error:
            raise _FieldError(("space", "settings", *error.field), str(error)) from None
        self.space.settings = normalized.model_dump(mode="json")
        if self.evolution.objective is not None:
            names = [o.name for o in space_class(self.space.name)(normalized).objectives]
            if self.evolution.objective not in names:
                raise _FieldError(("evolution", "objective"),
                                  f"unknown objective {self.evolution.objective!r}; "
                                  f"allowed: {', '.join(names)}")
        return self


class _FieldError(ValueError):
    def __init__(self, location: tuple[Any, ...], message: str):
        super().__init__(message)
        self.location = location
        self.message = message


def _allowed_fields(location: tuple[Any, ...], model: Any = None) -> list[str]:
    """Field names of the model at `location` inside `model` (default: the campaign config),
    for 'unknown field' messages."""
    model = model or CampaignConfig
    for part in location:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))


def _describe(error: dict[str, Any], model: Any = None) -> str:
    """A pydantic error as one phrase; `model` is the one validated (default: the campaign
    config), whose fields an unknown one is told apart from."""
    if error["type"] == "extra_forbidden":
        allowed = _allowed_fields(tuple(error["loc"][:-1]), model)
        return "unknown field" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] not in ("missing",) and "input" in error and not isinstance(
        error["input"], dict
    ):
        message += f" (got {error['input']!r})"
    return message


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the YAML node at `location`, or of its closest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in location:
        key_node = None
        if isinstance(node, yaml.MappingNode):
            key_node, match = next(((k, v) for k, v in node.value if k.value == str(key)),
                                   (None, None))
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(
            node.value
        ):
            match = node.value[key]
        else:
            match = None
        if match is None:
            break
        node = match
        line = (key_node or node).start_mark.line + 1  # a field's line is its key's line
    return line


def parse_config(text: str, source: str = "<config>",
                 overrides: dict[str, Any] | None = None,
                 flags: dict[str, str] | None = None) -> CampaignConfig:
    """A campaign config from YAML text. `overrides` (dotted field -> value) replace fields of
    the file; `flags` names the command-line option each came from, so that an error in one
    blames the option, not a line of the file."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a campaign config must be a mapping of fields")
    return _validated(data, source, overrides, flags, root)


def config_from_mapping(data: Mapping[str, Any], source: str = "<config>",
                        overrides: dict[str, Any] | None = None) -> CampaignConfig:
    """A campaign config from a mapping (`automl.run` with a dict), as `parse_config` makes one
    from YAML text: `overrides` (dotted field -> value) replace fields; an error names `source`
    and the field. Values may be Python objects where a field takes one (a user target's
    function); the mapping itself is not changed."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a campaign config must be a mapping of fields")
    return _validated(_copied(data), source, overrides, None, None)


def _copied(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with every nested mapping and list copied (not the values in them: functions
    stay the objects they are), so overrides never change the caller's mapping."""
    def copy(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: copy(item) for key, item in value.items()}
        if isinstance(value, list):
            return [copy(item) for item in value]
        return value

    return copy(data)


def _validated(data: dict[str, Any], source: str, overrides: dict[str, Any] | None,
               flags: dict[str, str] | None, root: yaml.Node | None) -> CampaignConfig:
    for dotted, value in (overrides or {}).items():
        target = data
        *parents, last = dotted.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{source}: cannot set {dotted}: {part} is not a mapping")
        target[last] = value
    try:
        return CampaignConfig.model_validate(data)
    except pydantic.ValidationError as error:
        location, message = _first_error(error)
        field = ".".join(str(part) for part in location) or "(top level)"
        if field in (flags or {}):
            raise ConfigError(f"{flags[field]}: {message}") from None
        line = _line_of(root, location) if root is not None else None
        where = f"{source}:{line}" if line else source
        raise ConfigError(f"{where}: {field}: {message}") from None


def _first_error(error: pydantic.ValidationError) -> tuple[tuple[Any, ...], str]:
    """(where, what) of the first problem: the field a `_FieldError` names, else pydantic's."""
    first = error.errors()[0]
    if first["type"] == "value_error" and isinstance(first.get("ctx", {}).get("error"),
                                                     _FieldError):
        field_error = first["ctx"]["error"]
        return field_error.location, field_error.message
    return tuple(first["loc"]), _describe(first)


def stored_config(data: dict[str, Any], campaign: str) -> CampaignConfig:
    """A stored campaign's config read back (`automl resume`): an error names the campaign
    and the field, e.g. when the campaign's space is no longer installed."""
    try:
        return CampaignConfig.model_validate(data)
    except pydantic.ValidationError as error:
        location, message = _first_error(error)
        field = ".".join(str(part) for part in location) or "(top level)"
        raise ConfigError(f"campaign {campaign!r}: its stored config: {field}: "
                          f"{message}") from None


def load_config(path: str | Path, overrides: dict[str, Any] | None = None,
                flags: dict[str, str] | None = None) -> CampaignConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config: {error.strerror}") from None
    return parse_config(text, str(path), overrides, flags)
