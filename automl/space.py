"""The contract every search space implements: `SearchSpace`, its `Objective`s, the
`Evaluation` it returns and its `SpaceSettings`.

A space owns its program signature (inputs, outputs, op table), mutation settings, probe inputs
for hashing, evaluation (a batch at a time, so workers can compile once) and hand-written
baselines. Spaces are found through the entry-point group ``automl.search_spaces``
(`automl.plugins.SPACES`), so a third-party package adds one by declaring an entry point; the
contract tests in ``tests/test_space_contract.py`` run against every registered space.
"""

from __future__ import annotations

import inspect
import math
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pydantic

from automl import dsl
from automl.evolution.mutations import MutationSettings, mutate
from automl.extras import require
from automl.hashing import DEFAULT_MANTISSA_BITS, hash_program, settings_hash
from automl.imports import PluginRef
from automl.ir import Program, Signature, validate
from automl.objective import Objective
from automl.simplify import simplify
from automl.workflows import Candidates, RowSink, WorkflowOptions, WorkflowReport


@dataclass(frozen=True)
class Evaluation:
    """What evaluating one candidate produced. `error` is set (and `objectives` None) when the
    candidate failed or was rejected; a failure is a result, never a crash of the campaign."""

    objectives: dict[str, float] | None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0
    rejected: bool = False
    # the failure came from the infrastructure (a worker died), not from the program: the
    # cache must not remember it
    transient: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


# -- settings and the cache key -------------------------------------------------------------
# Every settings field says whether it belongs to the cache key (`SearchSpace.
# evaluation_settings`), in its pydantic metadata: a new setting cannot change the key, or fail
# to, by being forgotten in a hand-written list. The contract tests refuse an undeclared field.

CACHE_KEY_METADATA = "cache_key"  # the json_schema_extra entry that holds a declaration
UNLESS_DEFAULT = "unless_default"


def key_setting(default: Any, **options: Any) -> Any:
    """A setting that can change what an evaluation returns: part of the cache key, so results
    evaluated under another value are never reused. `options` go to `pydantic.Field`."""
    return _setting(True, default, options)


def other_setting(default: Any, **options: Any) -> Any:
    """A setting that cannot change what an evaluation returns (how programs are hashed,
    generated or mutated, how fast a batch runs): not part of the cache key, so changing it
    keeps every cached result. `options` go to `pydantic.Field`."""
    return _setting(False, default, options)


def key_setting_unless_default(default: Any, **options: Any) -> Any:
    """Part of the cache key only when not at `default`: for a setting added after results were
    cached, whose default evaluates as they were evaluated; leaving it out at its default keeps
    their cache keys valid. `options` go to `pydantic.Field`."""
    return _setting(UNLESS_DEFAULT, default, options)


def _setting(role: bool | str, default: Any, options: dict[str, Any]) -> Any:
    extra = options.pop("json_schema_extra", None) or {}
    return pydantic.Field(default, json_schema_extra={**extra, CACHE_KEY_METADATA: role}, **options)


def cache_key_role(info: Any) -> bool | str | None:
    """How a settings field (its pydantic `FieldInfo`) enters the cache key: True, False,
    `UNLESS_DEFAULT`, or None when it declares nothing."""
    extra = info.json_schema_extra
    return extra.get(CACHE_KEY_METADATA) if isinstance(extra, dict) else None


def undeclared_settings(model: type[pydantic.BaseModel]) -> list[str]:
    """The fields of a settings model that do not say whether they belong to the cache key."""
    return [name for name, info in model.model_fields.items()
            if cache_key_role(info) not in (True, False, UNLESS_DEFAULT)]


def cache_key_settings(settings: pydantic.BaseModel) -> dict[str, Any]:
    """The settings that belong to the cache key, as JSON values. A field that declares nothing
    is included: a needless cache miss costs an evaluation, a wrong hit a wrong result."""
    dumped = settings.model_dump(mode="json")
    key = {}
    for name, info in type(settings).model_fields.items():
        role = cache_key_role(info)
        if role is False:
            continue
        if role == UNLESS_DEFAULT and \
                getattr(settings, name) == info.get_default(call_default_factory=True):
            continue
        key[name] = dumped[name]
    return key


class SpaceSettings(pydantic.BaseModel):
    """Base of each space's evaluation settings (validated from the campaign config). Each
    field is declared with `key_setting`, `other_setting` or `key_setting_unless_default`."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    # the rounding of probe outputs before hashing, so which programs count as one function:
    # in the key here (as the optimizers' key always had it); AutoNumerics and EvoNorm
    # re-declare it as an `other_setting`, as theirs never had it
    mantissa_bits: int = key_setting(DEFAULT_MANTISSA_BITS, ge=1, le=52)

    def check_plugins(self) -> None:
        """Import and try the user plug-ins these settings name (`automl.imports`), raising
        `automl.imports.PluginError` (its `field`, one line) for one that cannot work. A
        campaign config runs this when it is read (`automl.config`), so a dangling import
        string is refused before anything is stored; validating the settings alone imports
        nothing, so reading a campaign's stored results needs none of its plug-ins.
        Default: nothing to check."""


class SearchSpace(ABC):
    name: ClassVar[str]
    Settings: ClassVar[type[SpaceSettings]] = SpaceSettings
    # bump when evaluation code changes meaning: it is part of the cache key
    evaluator_version: ClassVar[int] = 1

    def __init__(self, settings: SpaceSettings | Mapping[str, Any] | None = None):
        if settings is None:
            settings = {}
        if isinstance(settings, Mapping):
            try:
                settings = self.Settings.model_validate(dict(settings))
            except pydantic.ValidationError as error:
                first = error.errors()[0]
                field = ".".join(str(part) for part in first["loc"]) or "settings"
                message = first["msg"].removeprefix("Value error, ")
                raise ValueError(f"{self.name} settings: {field}: {message}") from None
        self.settings = settings

    # -- what programs look like ----------------------------------------------------------
    @property
    @abstractmethod
    def signature(self) -> Signature: ...

    @property
    @abstractmethod
    def objectives(self) -> tuple[Objective, ...]: ...

    @property
    @abstractmethod
    def mutation_settings(self) -> MutationSettings: ...

    def parse(self, text: str, source: str = "<program>") -> Program:
        program = dsl.parse(text, self.signature, source)
        validate(program, self.signature.registry, self.signature.ops)
        return program

    def format(self, program: Program) -> str:
        return dsl.print_program(program, self.signature)

    # -- evolution ------------------------------------------------------------------------
    @abstractmethod
    def random(self, rng: np.random.Generator) -> Program: ...

    def initial_population(self, rng: np.random.Generator, size: int) -> list[Program]:
        return [self.random(rng) for _ in range(size)]

    def mutate(self, program: Program, rng: np.random.Generator, canonical: bool = True
               ) -> tuple[Program, str]:
        """A mutated child and the mutation's name. With `canonical=False` the child's
        register names may not print yet (the caller simplifies it, which fixes them)."""
        return mutate(program, self.mutation_settings, self.signature, rng,
                      canonical=canonical)

    def simplify(self, program: Program) -> tuple[Program, int]:
        result = simplify(program, self.signature.registry)
        return result.program, result.removed

    # -- hashing --------------------------------------------------------------------------
    @abstractmethod
    def probe(self) -> list[dict[str, np.ndarray]]:
        """Fixed, seeded inputs (fitted constants included) on which programs are hashed."""

    @cached_property
    def _probes(self) -> list[dict[str, np.ndarray]]:
        return self.probe()

    def probes_for(self, program: Program) -> list[dict[str, np.ndarray]]:
        """The probe inputs for one program; spaces whose programs read a variable number of
        fitted constants add a value per constant here."""
        return self._probes

    def fingerprint(self, program: Program) -> str:
        return hash_program(program, self.probes_for(program), self.settings.mantissa_bits,
                            self.signature.registry)

    def evaluation_settings(self) -> dict[str, Any]:
        """Everything that changes an evaluation's result (the cache key's second half): the
        space, its evaluator version and the settings their declarations put in the key
        (`cache_key_settings`)."""
        settings = {"space": self.name, "evaluator_version": self.evaluator_version,
                    "settings": cache_key_settings(self.settings)}
        plugins = self.plugins()
        if plugins:  # only then: the keys of spaces without user plug-ins stay as they were
            settings["plugins"] = {field: ref.as_json() for field, ref in plugins.items()}
        data = self.data_sources()
        if data:  # likewise
            settings["data"] = dict(data)
        return settings

    def data_sources(self) -> dict[str, str]:
        """What made the data these settings evaluate on, where the settings do not fix it: a
        generator package's version, the Python whose standard library ships a text. It joins
        the cache key, so a result computed on other data is never reused (a shared cache
        across machines, a campaign resumed after an upgrade). Cheap: versions, not data.
        Default: none."""
        return {}

    def plugins(self) -> dict[str, PluginRef]:
        """The user plug-ins these settings name (e.g. an AutoNumerics target function given by
        an import string), by settings field: their identity and declared version
        (`automl.imports`) join the cache key, so a result of another function or of an older
        version of it is never reused. Default: none."""
        return {}

    def settings_hash(self) -> str:
        return settings_hash(self.evaluation_settings())

    def structural_objectives(self, program: Program) -> dict[str, float]:
        """Objectives that depend on how a program is written, not on what it computes (e.g.
        an op count): programs with one functional hash can differ in them, so a cache hit
        takes its twin's other objectives and these from its own text. Default: none."""
        return {}

    def passed_on(self, program: Program, metrics: Mapping[str, Any]) -> Program:
        """`program` as a parent hands it to its children after its evaluation gave `metrics`
        (e.g. carrying its fitted constants as where its children's fits start). The
        controller calls this on every evaluated candidate. Default: nothing is passed on."""
        return program

    def as_evaluated(self, program: Program, metrics: Mapping[str, Any]) -> Program:
        """`program` with what its stored evaluation (`metrics`) says it was evaluated from
        beyond its text (e.g. where its constants' fit started), so that re-evaluating it
        reproduces that evaluation. Default: the text is everything."""
        return program

    # -- evaluation -----------------------------------------------------------------------
    def reject(self, program: Program) -> str | None:
        """A reason to reject without full evaluation (cheap early rejection), or None."""
        return None

    def requirements(self) -> dict[str, str]:
        """Libraries this space's evaluation needs with these settings beyond what importing
        the space already needs: module -> the package extra that installs it
        (`automl.extras`). Checked before a campaign evaluates anything."""
        return {}

    def check_requirements(self) -> None:
        """Raise `automl.extras.MissingExtraError` naming the extra to install when a library
        of `requirements` is missing (before evaluating: not as every candidate's failure)."""
        require(self.requirements(), f"search space {self.name!r} with these settings")

    @abstractmethod
    def evaluate_one(self, program: Program) -> tuple[dict[str, float], dict[str, Any]]:
        """Objectives and extra metrics of one program. May raise: that is a failure."""

    def evaluate(self, programs: Sequence[Program]) -> list[Evaluation]:
        """Evaluate a batch; never raises. Spaces override `evaluate_batch`, not this."""
        try:
            evaluations = self.evaluate_batch(programs)
        except ModuleNotFoundError:
            raise  # a library missing here fails every candidate alike: not the programs' fault
        except Exception as error:  # the whole batch failed: each candidate records why
            reason = f"batch evaluation raised {type(error).__name__}: {error}"
            return [Evaluation(None, {}, reason) for _ in programs]
        if len(evaluations) != len(programs):
            reason = f"evaluator returned {len(evaluations)} results for {len(programs)}"
            return [Evaluation(None, {}, reason) for _ in programs]
        return evaluations

    def evaluate_batch(self, programs: Sequence[Program]) -> list[Evaluation]:
        """One evaluation per program. The default evaluates one at a time through
        `evaluate_one`; spaces with a compiled batched evaluator override this."""
        return [self._evaluate_guarded(program) for program in programs]

    def _evaluate_guarded(self, program: Program) -> Evaluation:
        start = time.perf_counter()
        reason = self.reject(program)
        if reason is not None:
            return Evaluation(None, {}, reason, time.perf_counter() - start, rejected=True)
        try:
            with np.errstate(all="ignore"):
                objectives, metrics = self.evaluate_one(program)
        except ModuleNotFoundError:
            raise  # the environment's failure (an extra not installed), not the candidate's
        except Exception as error:  # a candidate's failure is data, not a crash
            return Evaluation(None, {}, f"{type(error).__name__}: {error}",
                              time.perf_counter() - start)
        return checked_evaluation(objectives, metrics, time.perf_counter() - start,
                                  self.objectives)

    @abstractmethod
    def baselines(self) -> dict[str, str]:
        """Hand-written reference programs: name -> DSL text."""

    def baseline_report(self, *, on_row: RowSink | None = None) -> WorkflowReport | None:
        """What `automl baselines` shows beside each baseline's objectives: the references
        set out for comparison (AutoNumerics: every classical family's best at each cost, and
        the best of them, `best_classical`). Default: None, nothing more."""
        return None

    @classmethod
    def zoo_directory(cls) -> Path | None:
        """Where the space ships the programs it discovered (`automl zoo` lists them), or None.
        Default: the ``discovered`` folder beside the module that defines the space."""
        folder = Path(inspect.getfile(cls)).resolve().parent / "discovered"
        return folder if folder.is_dir() else None

    @classmethod
    def package_root(cls) -> Path:
        """The folder that holds the space's top-level package (zoo paths are shown from it)."""
        top = sys.modules[cls.__module__.split(".")[0]]
        return Path(inspect.getfile(top)).resolve().parent.parent

    def export(self, program: Program, flavor: str,
               metrics: Mapping[str, Any] | None = None) -> str:
        """A standalone module (`flavor` "python" for numpy, or "jax") that imports nothing
        from this platform. `metrics` are the stored evaluation's (e.g. fitted constants)."""
        raise ValueError(f"the {self.name} space cannot export programs as {flavor!r} yet")

    # -- research workflows beyond search (automl.workflows; `automl validate`, `automl front`)
    # each workflow's options, validated by `automl.workflows.read_options`: a space that
    # defines a workflow declares its options here
    ValidationOptions: ClassVar[type[WorkflowOptions]] = WorkflowOptions
    FrontOptions: ClassVar[type[WorkflowOptions]] = WorkflowOptions

    def validation_candidates(self, results: Any, campaign: str | int,
                              options: Mapping[str, Any]) -> Candidates:
        """The programs a stored campaign contributes to `validate` (`results`: an
        `automl.results.Results`; `options` as `validate` takes them). Default: its best
        candidate by its first objective."""
        best = results.top(campaign, 1)
        if not best:
            raise ValueError(f"campaign {results.campaign(campaign).name!r} has no evaluated "
                             f"candidates")
        return Candidates({best[0].ref: best[0].program},
                          {"campaign": best[0].campaign, "candidate": best[0].number})

    def validate(self, programs: Mapping[str, str], options: Mapping[str, Any], *,
                 origin: Mapping[str, Any] | None = None, on_row: RowSink | None = None
                 ) -> WorkflowReport:
        """Held-out evaluation: `programs` (name -> DSL text) on what the search never saw,
        beside the space's references, under `options` (`ValidationOptions`). `origin` says
        where the programs came from (`validation_candidates`); `on_row` gets each row as it
        is made. Default: the space defines none."""
        raise ValueError(f"the {self.name} space defines no held-out validation")

    def front_report(self, results: Any, campaign: str | int, options: Mapping[str, Any], *,
                     on_row: RowSink | None = None) -> WorkflowReport:
        """A stored campaign's front (`results`: an `automl.results.Results`) against the
        space's baselines, under `options` (`FrontOptions`); `on_row` gets each row as it is
        made. Default: the space defines none."""
        raise ValueError(f"the {self.name} space defines no front report against baselines")


class BatchEvaluatedSpace(SearchSpace):
    """A space whose evaluator is batched (it overrides `evaluate_batch`): one program is
    evaluated as a batch of one. A ``program_batching`` setting (`resolve_program_batching`)
    changes how fast a batch runs, not its results, so it is an `other_setting`."""

    def evaluate_one(self, program: Program) -> tuple[dict[str, float], dict[str, Any]]:
        (evaluation,) = self.evaluate([program])
        if evaluation.error:
            raise RuntimeError(evaluation.error)
        return dict(evaluation.objectives or {}), evaluation.metrics


def checked_evaluation(objectives: Mapping[str, float], metrics: dict[str, Any],
                       duration_s: float, expected: Sequence[Objective]) -> Evaluation:
    """Turn raw objectives into an Evaluation, failing it on a missing or non-finite value."""
    values: dict[str, float] = {}
    for objective in expected:
        if objective.name not in objectives:
            return Evaluation(None, metrics, f"objective {objective.name!r} missing", duration_s)
        value = float(objectives[objective.name])
        if not math.isfinite(value):
            return Evaluation(None, metrics, f"objective {objective.name!r} is {value}",
                              duration_s)
        values[objective.name] = value
    return Evaluation(values, metrics, None, duration_s)


def best_values(objectives: Sequence[Objective],
                results: Iterable[Mapping[str, float] | None]) -> dict[str, float]:
    """Best value of each objective over evaluation results (None results are skipped)."""
    best: dict[str, float] = {}
    for result in results:
        if result is None:
            continue
        for objective in objectives:
            value = result[objective.name]
            if objective.better(value, best.get(objective.name)):
                best[objective.name] = value
    return best
