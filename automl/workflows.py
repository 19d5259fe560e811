"""The research workflows a space may define beyond search, and what they hand back.

Two are part of the space contract (`automl.space.SearchSpace`), so that the command line names
no space:

* held-out validation, `SearchSpace.validate(programs, options)`: programs (a campaign's best,
  as `SearchSpace.validation_candidates` picks them, or files) evaluated on what the search
  never saw, beside the space's baselines (`automl validate`);
* the front against the baselines, `SearchSpace.front_report(results, campaign, options)`:
  a stored campaign's Pareto front set beside the space's hand-written programs
  (`automl front`).

Each returns a `WorkflowReport`: its rows are the JSON lines `--json` prints (one object per
line, in the order they were made), its summary the headline figures. A space declares each
workflow's options as a `WorkflowOptions` model (`SearchSpace.ValidationOptions`,
`SearchSpace.FrontOptions`); `read_options` checks what was given against it, and an unknown or
ill-typed option is a `ValueError` naming the option and what is allowed.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic

RowSink = Callable[[dict[str, Any]], None]
"""Called with each row as a workflow makes it (a long run prints as it goes)."""

Options = TypeVar("Options", bound="WorkflowOptions")


class WorkflowOptions(pydantic.BaseModel):
    """Base of a workflow's options: unknown names are refused, values are immutable, and
    where a list is expected a single value is a list of one (``--option init_seeds=3``) and a
    text with commas its comma-separated items (``--option init_seeds=0,1,2,3``)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _scalars_as_lists(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        listed = dict(data)
        for name, value in data.items():
            info = cls.model_fields.get(name)
            if (info is None or not _is_sequence(info.annotation)
                    or isinstance(value, list | tuple) or value is None):
                continue
            listed[name] = ([item.strip() for item in value.split(",")]
                            if isinstance(value, str) else [value])
        return listed


@dataclass(frozen=True)
class Candidates:
    """What a stored campaign contributes to a validation: programs by name (a candidate's
    ``CAMPAIGN:NUMBER``) and where they came from (repeated in the report's summary rows)."""

    programs: dict[str, str]
    origin: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowReport:
    """What a workflow found.

    `rows`: the JSON lines, each a dict with a ``metric`` key; `summary`: the headline figures
    by name (also in `rows`: a summary is never the only place a figure appears); `markdown`:
    an optional table for a write-up; `columns`: per metric, the keys a table of its rows
    shows (default: every key; none: no table, as for rows the summary already gives)."""

    title: str
    rows: tuple[dict[str, Any], ...]
    summary: dict[str, Any] = field(default_factory=dict)
    markdown: str | None = None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def json_lines(self) -> list[str]:
        """One JSON object per row (non-finite floats as JSON's Infinity and NaN)."""
        return [json.dumps(row) for row in self.rows]

    def metrics(self) -> list[str]:
        """The rows' metric names, in the order they first appear."""
        return list(dict.fromkeys(str(row.get("metric", "")) for row in self.rows))

    def by_metric(self, metric: str) -> list[dict[str, Any]]:
        return [row for row in self.rows if row.get("metric") == metric]


class RowRecorder:
    """Collects a workflow's rows, handing each to `on_row` as it is made."""

    def __init__(self, on_row: RowSink | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.on_row = on_row

    def __call__(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.on_row is not None:
            self.on_row(row)


def read_options(model: type[Options], options: Mapping[str, Any] | WorkflowOptions | None,
                 what: str) -> Options:
    """`options` validated by `model` (already a `model`: returned as is). `what` names the
    workflow in messages, e.g. "automl validate (optimizers)"."""
    if isinstance(options, model):
        return options
    if isinstance(options, WorkflowOptions):
        options = options.model_dump()
    try:
        return model.model_validate(dict(options or {}))
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "options"
        if first["type"] == "extra_forbidden":
            raise ValueError(f"{what}: unknown option {name!r}; allowed: "
                             f"{describe_options(model)}") from None
        message = first["msg"].removeprefix("Value error, ")
        expected = (f" (expected {_type_name(model.model_fields[name].annotation)})"
                    if name in model.model_fields and "allowed" not in message else "")
        given = dict(options or {}).get(name, first.get("input"))
        raise ValueError(f"{what}: option {name}={given!r}: {message}{expected}") from None


def describe_options(model: type[WorkflowOptions]) -> str:
    """``name (type, default ...)`` for each option of `model`, or "none"."""
    described = []
    for name, info in model.model_fields.items():
        default = info.get_default(call_default_factory=True)
        shown = list(default) if isinstance(default, tuple) else default
        described.append(f"{name} ({_type_name(info.annotation)}, default {shown!r})")
    return ", ".join(described) or "none"


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(value) for value in arguments)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(argument) for argument in arguments)
    if origin in (tuple, list) and arguments:
        return f"list of {_type_name(arguments[0])}"
    if annotation is type(None):
        return "null"
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_name(arguments[0])
    return getattr(annotation, "__name__", str(annotation))


def _is_sequence(annotation: Any) -> bool:
    """Whether a field takes a list (tuple[...] or list[...], maybe optional)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(argument) for argument in typing.get_args(annotation))
    return origin in (tuple, list)
