"""The campaign loop: steady-state, asynchronous, multi-objective evolution.

One candidate's path::

    population.select -> space.mutate -> simplify -> fingerprint -> cache.lookup
        hit       -> a 'duplicate' row pointing at the original; its objectives are reused
        in flight -> waits for the pending evaluation (never dispatched twice)
        miss      -> executor.submit(batch) -> ... -> complete(): store, cache, population

The controller is the only writer to the store and batches its writes. Randomness is
counter-based: candidate n draws everything from ``default_rng([seed, n])``, so a run needs no
pickled RNG state, and with the local executor the same config and seed give the same candidates.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from automl import environment
from automl.cache import CacheEntry, FunctionalCache, LookupKind
from automl.config import CampaignConfig
from automl.evolution.mutations import MutationFailed, mutate_until_changed
from automl.evolution.pareto import hypervolume, non_dominated_mask
from automl.evolution.selection import Member, RegularizedEvolution, make_strategy
from automl.executor import EvaluationResult, EvaluationTask, Executor, make_executor
from automl.ir import Program
from automl.metrics import CampaignMetrics
from automl.plugins import get_space
from automl.space import SearchSpace, best_values
from automl.store import (
    CacheEntryRow,
    CampaignRecord,
    CandidateRow,
    EvaluationRow,
    Store,
    safe_url,
)

# Without a candidate cap, a search stuck on cache hits would never reach its evaluation budget.
DEFAULT_CANDIDATES_PER_EVALUATION = 50
CODE_VERSION = "0.1.0"


@dataclass
class Candidate:
    number: int
    program: Program
    text: str
    functional_hash: str
    parents: tuple[int, ...]
    mutation: str | None
    simplified_removed: int
    created_at: float


@dataclass
class Progress:
    candidates: int
    evaluations: int
    max_evaluations: int
    cache_hit_rate: float
    failed: int
    best: dict[str, float]


@dataclass
class FrontMember:
    number: int
    program: str
    objectives: dict[str, float]


@dataclass
class CampaignSummary:
    campaign: CampaignRecord
    candidates: int
    evaluations: int
    failed: int
    duplicates: int
    cache_hits: int
    in_flight_hits: int
    cache_hit_rate: float
    seconds: float
    stopped: bool
    front: list[FrontMember] = field(default_factory=list)
    hypervolume: float | None = None
    restarts: int = 0  # evolution.restart_after: times the population restarted from the best


class CampaignController:
    def __init__(self, config: CampaignConfig, store: Store, campaign: CampaignRecord,
                 executor: Executor | None = None, space: SearchSpace | None = None,
                 on_progress: Callable[[Progress], None] | None = None):
        self.config = config
        self.store = store
        self.campaign = campaign
        self.space = space or get_space(config.space.name, config.space.settings)
        self.executor = executor
        self.on_progress = on_progress
        self.objectives = self.space.objectives
        names = [objective.name for objective in self.objectives]
        evolution = config.evolution
        strategy_args: dict[str, Any] = {"population_size": evolution.population_size,
                                         "tournament_size": evolution.tournament_size}
        if evolution.strategy == "regularized":
            objective = evolution.objective or names[0]
            if objective not in names:
                raise ValueError(f"evolution.objective {objective!r} is not one of {names}")
            strategy_args["objective_index"] = names.index(objective)
        self.population = make_strategy(evolution.strategy, **strategy_args)
        # restart from the best on a stall (regularized only): the best member so far by the
        # selected objective and how many members have joined since it did
        self.restart_after = evolution.restart_after
        self._best_member: Member | None = None
        self._stalled = 0
        self.restarts = 0
        self.cache = FunctionalCache(
            campaign.settings_hash, enabled=config.cache.enabled,
            evaluations_per_entry=config.cache.evaluations_per_entry,
            forget_probability=config.cache.forget_probability,
        )
        budget = config.budget
        self.max_evaluations = budget.max_evaluations
        self.max_candidates = budget.max_candidates or (
            DEFAULT_CANDIDATES_PER_EVALUATION * budget.max_evaluations)
        self.next_number = 0
        self.evaluations = 0  # evaluations dispatched (cache misses)
        self.failed = 0
        self.duplicates = 0
        self.outstanding: dict[int, Candidate] = {}
        self.waiting: dict[int, Candidate] = {}  # in-flight hits, by candidate number
        self._answered: list[tuple[Candidate, dict[str, float]]] = []  # hits not yet admitted
        self.evaluated: dict[int, dict[str, float]] = {}  # every successful evaluation
        self.best: dict[str, float] = {}  # best value per objective so far
        self.initial_programs = self._initial_programs()
        self._candidate_rows: list[CandidateRow] = []
        self._evaluation_rows: list[EvaluationRow] = []
        self._last_flush = time.monotonic()
        self._last_report = 0.0
        self._last_hypervolume = 0.0
        self.stop_requested = False
        self.metrics: CampaignMetrics | None = None  # Ray dashboard metrics, set by run()
        self._shared_after = 0  # shared cache: id of the last foreign entry seen
        self._last_shared_pull = -float("inf")
        self._persisted_in_flight: set[int] = set()  # in the store's in-flight table
        self._redispatch: list[EvaluationTask] = []  # in flight when the campaign stopped

    # -- campaign lifecycle ---------------------------------------------------------------
    @classmethod
    def create(cls, config: CampaignConfig, store: Store, name: str, **kwargs: Any
               ) -> CampaignController:
        space = kwargs.pop("space", None) or get_space(config.space.name, config.space.settings)
        stored_config = config.model_dump(mode="json")
        # the campaign row is shared with everyone who reads the database: no password in it
        stored_config["database"] = safe_url(config.database)
        campaign = store.create_campaign(
            name=name, space=config.space.name, seed=config.seed, config=stored_config,
            settings_hash=space.settings_hash(), code_version=CODE_VERSION,
            objectives=[(o.name, o.direction) for o in space.objectives],
            environment=environment.capture(),
        )
        return cls(config, store, campaign, space=space, **kwargs)

    @classmethod
    def resume(cls, store: Store, campaign: int | str, **kwargs: Any) -> CampaignController:
        """Continue a stored campaign from the database alone: population, cache, counters."""
        record = store.get_campaign(campaign)
        config = CampaignConfig.model_validate(record.config)
        controller = cls(config, store, record, **kwargs)
        if controller.space.settings_hash() != record.settings_hash:
            raise ValueError(
                f"campaign {record.name!r}: evaluation settings changed since it started "
                f"(space settings or evaluator version); its stored results would not be "
                f"comparable, so it cannot be resumed with this code")
        controller._restore()
        return controller

    def _restore(self) -> None:
        """Counters and cache from the stored rows; the population from the state written
        with the last batch (exactly as it was then; campaigns without one re-add their
        members in number order); candidates that were in flight are dispatched again."""
        rows = self.store.load_candidates(self.campaign.id)
        evaluations = {e.candidate_number: e for e in self.store.load_evaluations(self.campaign.id)}
        self.cache.load([CacheEntry(e.functional_hash, e.candidate_number, e.objectives, e.error,
                                    e.evaluation_count, e.hit_count)
                         for e in self.store.load_cache(self.campaign.id,
                                                        self.campaign.settings_hash)])
        state = self.store.load_state(self.campaign.id)
        by_number: dict[int, Candidate] = {}
        for row in rows:
            candidate = self._candidate_from_row(row)
            by_number[row.number] = candidate
            entry = self.cache.get(row.functional_hash)
            if row.status == "duplicate":
                self.duplicates += 1
                self.cache.statistics.hits += 1
                objectives = self._answer(candidate, entry.objectives if entry else None)
            else:
                self.evaluations += 1
                self.cache.statistics.misses += 1
                evaluation = evaluations.get(row.number)
                objectives = evaluation.objectives if evaluation else None
                if row.status == "evaluated" and objectives is not None:
                    assert evaluation is not None
                    candidate.program = self.space.passed_on(candidate.program,
                                                             evaluation.metrics)
                    self.evaluated[row.number] = objectives
                    self.best.update(best_values(self.objectives, [self.best or None,
                                                                   objectives]))
                    if entry is not None and entry.objectives is not None:
                        objectives = entry.objectives
                else:
                    self.failed += 1
            if state is None and objectives is not None:  # no snapshot: number order
                self._add_to_population(candidate, objectives)
        if state is not None:
            for number, vector in state["population"]:
                candidate = by_number[number]
                self.population.add(Member(number, np.asarray(vector, dtype=float), candidate,
                                           identity=candidate.functional_hash))
            if "restart" in state:
                number, vector = state["restart"]["best"]
                candidate = by_number[number]
                self._best_member = Member(number, np.asarray(vector, dtype=float), candidate,
                                           identity=candidate.functional_hash)
                self._stalled = state["restart"]["stalled"]
                self.restarts = state["restart"]["restarts"]
        in_flight = self.store.load_in_flight(self.campaign.id)
        numbers = [row.number for row in rows] + [row.number for row in in_flight]
        self.next_number = max(numbers) + 1 if numbers else 0
        self._persisted_in_flight = {row.number for row in in_flight}
        starts = (state or {}).get("starts", {})
        for row in in_flight:  # the same lookups as when they were made: one dispatch each
            candidate = self._candidate_from_row(row)
            if str(row.number) in starts:
                candidate.program = candidate.program.replace(
                    parameter_values=starts[str(row.number)])
            if self._lookup(candidate):
                self._redispatch.append(EvaluationTask(candidate.number, candidate.program))

    def _candidate_from_row(self, row: CandidateRow) -> Candidate:
        program = self.space.parse(row.program, f"candidate {row.number}")
        return Candidate(row.number, program, row.program, row.functional_hash,
                         tuple(row.parents), row.mutation, row.simplified_removed,
                         row.created_at)

    def _initial_programs(self) -> list[tuple[str, Program | None]]:
        """(mutation label, program) for the first candidates; None: drawn from the space's
        `initial_population` when the candidate is made (from its own random stream)."""
        evolution = self.config.evolution
        programs: list[tuple[str, Program | None]] = []
        if evolution.include_baselines:
            for name, text in self.space.baselines().items():
                programs.append((f"baseline:{name}", self.space.parse(text, f"baseline {name}")))
        count = evolution.initial_population or evolution.population_size
        programs.extend(("initial", None) for _ in range(count))
        return programs

    def run(self) -> CampaignSummary:
        start = time.monotonic()
        owns_executor = self.executor is None
        if self.executor is None:
            self.executor = make_executor(self.config, self.space)
        self.metrics = CampaignMetrics(self.campaign.name, self.campaign.space,
                                       [o.name for o in self.objectives])
        self.store.set_campaign_status(self.campaign.id, "running")
        self._pull_shared_cache()
        status = "failed"
        previous_handler = self._stop_on_interrupt()
        try:
            self._loop(start)
            status = "stopped" if self.stop_requested else "finished"
        except KeyboardInterrupt:
            self.stop_requested = True
            status = "stopped"
            self._drain(timeout=0.0)
            self._report_metrics(final=True)  # the drained results reach the dashboard too
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)
            self.flush()
            self.store.set_campaign_status(self.campaign.id, status)
            if owns_executor:
                self.executor.close()
        return self.summary(time.monotonic() - start)

    def _stop_on_interrupt(self) -> Any:
        """First Ctrl-C: stop making candidates, finish what is in flight, store everything.
        A second Ctrl-C interrupts at once (what finished is still stored)."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def request_stop(signum: int, frame: Any) -> None:
            if self.stop_requested:
                raise KeyboardInterrupt
            self.stop_requested = True

        return signal.signal(signal.SIGINT, request_stop)

    def _budget_left(self, start: float) -> bool:
        max_seconds = self.config.budget.max_seconds
        return (not self.stop_requested
                and self.evaluations < self.max_evaluations
                and self.next_number < self.max_candidates
                and (max_seconds is None or time.monotonic() - start < max_seconds))

    def _loop(self, start: float) -> None:
        executor = self.executor
        assert executor is not None
        if self._redispatch:
            executor.submit(self._redispatch)
            self._redispatch = []
        while True:
            batch: list[EvaluationTask] = []
            while (self._budget_left(start)
                   and len(self.outstanding) < executor.capacity
                   and len(batch) < executor.batch_size):
                candidate = self._make_candidate()
                if candidate is None:  # needs a parent but none has been evaluated yet
                    break
                if self._lookup(candidate):
                    batch.append(EvaluationTask(candidate.number, candidate.program))
            if batch:
                executor.submit(batch)
            if not self.outstanding and not batch and not self._budget_left(start):
                break
            for result in executor.poll(timeout=0.05 if self.outstanding else 0.0):
                self._complete(result)
            # everything answered this round joins the population before a flush can
            # snapshot it: the stored state is always consistent with the stored rows
            self._admit_answered()
            self._maybe_flush()
            self._report_progress()
        self._report_progress(final=True)

    def _report_progress(self, final: bool = False) -> None:
        """At most ten progress reports a second: the callback redraws a terminal, and the
        dashboard's gauges follow."""
        now = time.monotonic()
        if not final and now - self._last_report < 0.1:
            return
        self._last_report = now
        if self.on_progress is not None:
            self.on_progress(self.progress())
        self._report_metrics(final)

    def _report_metrics(self, final: bool) -> None:
        if self.metrics is None:
            return
        now = time.monotonic()
        hypervolume = None
        if final or now - self._last_hypervolume >= 5.0:  # O(evaluations): not every time
            self._last_hypervolume = now
            hypervolume = self.hypervolume()
        self.metrics.gauges(in_flight=len(self.outstanding) + len(self.waiting),
                            population=len(self.population), best=self.best,
                            hypervolume=hypervolume)

    def _drain(self, timeout: float) -> None:
        if self.executor is not None:
            for result in self.executor.poll(timeout=timeout):
                if result.candidate_number in self.outstanding:
                    self._complete(result)

    # -- making candidates ----------------------------------------------------------------
    def _make_candidate(self) -> Candidate | None:
        number = self.next_number
        rng = np.random.default_rng([self.config.seed, number])
        parents: tuple[int, ...] = ()
        program: Program | None = None
        if number < len(self.initial_programs):
            mutation, program = self.initial_programs[number]
        elif len(self.population) == 0:
            if self.outstanding:
                return None  # wait for the initial population's results
            mutation = "random_restart"
        else:
            parent = self.population.select_parent(rng)
            try:
                child, mutation, child_hash, removed = self._mutate(parent.payload, rng)
            except MutationFailed:
                mutation = "random_restart"
            else:
                self.next_number += 1
                return Candidate(number, child, self.space.format(child), child_hash,
                                 (parent.number,), mutation, removed, time.time())
        if program is None:  # the space decides what initial programs are (random, a seed)
            program = (self.space.initial_population(rng, 1)[0] if mutation == "initial"
                       else self.space.random(rng))
        self.next_number += 1
        program, removed = self.space.simplify(program)
        return Candidate(number, program, self.space.format(program),
                         self.space.fingerprint(program), parents, mutation, removed, time.time())

    def _mutate(self, parent: Candidate, rng: np.random.Generator
                ) -> tuple[Program, str, str, int]:
        """A simplified child whose function differs from the parent's, with its hash and the
        number of statements simplification removed."""
        removed_by_try: list[int] = []

        def mutate_once(program: Program) -> tuple[Program, str]:
            child, kind = self.space.mutate(program, rng, canonical=False)
            simplified, removed = self.space.simplify(child)
            removed_by_try.append(removed)
            return simplified, kind

        child, kind, child_hash, _ = mutate_until_changed(
            parent.program, parent.functional_hash, mutate_once, self.space.fingerprint,
            self.config.evolution.max_mutation_tries)
        return child, kind, child_hash, removed_by_try[-1]

    def _lookup(self, candidate: Candidate) -> bool:
        """Consult the cache. True when the candidate must be evaluated."""
        forget_draw = float(np.random.default_rng([self.config.seed, candidate.number, 1])
                            .random()) if self.cache.forget_probability else 1.0
        lookup = self.cache.lookup(candidate.functional_hash, candidate.number, forget_draw)
        if lookup.kind is LookupKind.MISS:
            self.outstanding[candidate.number] = candidate
            self.evaluations += 1
            return True
        if lookup.kind is LookupKind.IN_FLIGHT:
            self.waiting[candidate.number] = candidate
            return False
        assert lookup.entry is not None
        if lookup.foreign is not None:
            self._record_import(candidate, lookup.entry, lookup.foreign)
        else:
            self._record_duplicate(candidate, lookup.entry)
        return False

    def _pull_shared_cache(self) -> None:
        """Shared cache: offer the entries other campaigns stored since the last pull."""
        if not (self.config.cache.shared and self.cache.enabled):
            return
        self._last_shared_pull = time.monotonic()
        for entry_id, campaign_id, row in self.store.load_shared_cache(
                self.campaign.settings_hash, self.campaign.id, self._shared_after):
            self._shared_after = entry_id
            self.cache.add_foreign(CacheEntry(row.functional_hash, row.candidate_number,
                                              row.objectives, row.error, row.evaluation_count),
                                   campaign_id)

    def _record_import(self, candidate: Candidate, entry: CacheEntry,
                       origin: tuple[int, int]) -> None:
        """A hit answered by another campaign's result: stored as a duplicate whose
        evaluation row copies that result and says where it came from."""
        self.duplicates += 1
        if self.metrics is not None:
            self.metrics.cache_hit()
        objectives = self._answer(candidate, entry.objectives)
        self._drop_start(candidate)
        self._candidate_rows.append(self._row(candidate, "duplicate"))
        self._evaluation_rows.append(EvaluationRow(
            candidate.number, objectives,
            {"shared_cache": {"campaign": origin[0], "candidate": origin[1]}}, "cache", 0.0,
            entry.error, time.time()))
        if objectives is not None:
            self.evaluated[candidate.number] = objectives
            self.best.update(best_values(self.objectives, [self.best or None, objectives]))
            self._answered.append((candidate, objectives))

    # -- results --------------------------------------------------------------------------
    def _complete(self, result: EvaluationResult) -> None:
        candidate = self.outstanding.pop(result.candidate_number)
        evaluation = result.evaluation
        if evaluation.ok:
            status = "evaluated"
        else:
            status = "rejected" if evaluation.rejected else "failed"
            self.failed += 1
        if self.metrics is not None:
            self.metrics.evaluation(status)
        self._candidate_rows.append(self._row(candidate, status))
        self._evaluation_rows.append(EvaluationRow(
            candidate.number, evaluation.objectives, evaluation.metrics, result.worker,
            evaluation.duration_s, evaluation.error, time.time()))
        entry, waiters = self.cache.complete(candidate.functional_hash, candidate.number,
                                             evaluation.objectives, evaluation.error,
                                             cacheable=not evaluation.transient)
        objectives = entry.objectives if entry is not None else evaluation.objectives
        if evaluation.ok and objectives is not None:
            # what the parent hands its children (e.g. its fitted constants as their start)
            candidate.program = self.space.passed_on(candidate.program, evaluation.metrics)
            self.evaluated[candidate.number] = dict(evaluation.objectives or {})
            self.best.update(best_values(self.objectives, [self.best or None,
                                                           evaluation.objectives]))
            self._add_to_population(candidate, objectives)
        for number in waiters:
            waiting = self.waiting.pop(number)
            self._record_duplicate(waiting, entry or CacheEntry(
                candidate.functional_hash, candidate.number, objectives, evaluation.error))

    def _record_duplicate(self, candidate: Candidate, entry: CacheEntry) -> None:
        """A cache hit is a finished evaluation; it joins the population with this batch's
        results (adding it at once would re-sort the population between every selection)."""
        self.duplicates += 1
        if self.metrics is not None:
            self.metrics.cache_hit()
        self._candidate_rows.append(self._row(candidate, "duplicate", entry.candidate_number))
        objectives = self._answer(candidate, entry.objectives)
        self._drop_start(candidate)
        if objectives is None:
            return
        if objectives != entry.objectives:
            # written differently from its twin (another cost): it gets its own result row,
            # so the stored front and queries see what this text costs
            self._evaluation_rows.append(EvaluationRow(
                candidate.number, objectives, {"answered_by": entry.candidate_number},
                "cache", 0.0, None, time.time()))
            self.best.update(best_values(self.objectives, [self.best or None, objectives]))
        self._answered.append((candidate, objectives))

    @staticmethod
    def _drop_start(candidate: Candidate) -> None:
        """A cache hit was not fitted: the start it inherited (its parent's constants) is not
        its own to pass on, and a resumed campaign, which rebuilds it from its text, would not
        have it either."""
        if candidate.program.parameter_values is not None:
            candidate.program = candidate.program.replace(parameter_values=None)

    def _answer(self, candidate: Candidate, objectives: dict[str, float] | None
                ) -> dict[str, float] | None:
        """A cache hit's objectives: its twin's, except those that depend on the program's
        text (`SearchSpace.structural_objectives`), which come from its own."""
        if objectives is None:
            return None
        return {**objectives, **self.space.structural_objectives(candidate.program)}

    def _admit_answered(self) -> None:
        for candidate, objectives in self._answered:
            self._add_to_population(candidate, objectives)
        self._answered.clear()

    def _add_to_population(self, candidate: Candidate, objectives: dict[str, float]) -> None:
        vector = np.array([o.to_minimization(objectives[o.name]) for o in self.objectives])
        member = Member(candidate.number, vector, candidate, identity=candidate.functional_hash)
        self.population.add(member)
        if self.restart_after is not None:
            self._restart_if_stalled(member)

    def _restart_if_stalled(self, member: Member) -> None:
        """Count members that do not improve on the best by the selected objective; after
        `restart_after` of them in a row the population restarts from the best alone."""
        population = self.population
        assert isinstance(population, RegularizedEvolution) and self.restart_after is not None
        index = population.objective_index
        best = self._best_member
        value = member.objectives[index]
        # an improvement within float noise is none: a resumed campaign refits its parents'
        # constants from their stored values and can land 1e-14 away, which must not change
        # when it restarts
        if best is None or (value < best.objectives[index]
                            and not math.isclose(value, best.objectives[index], rel_tol=1e-9)):
            self._best_member, self._stalled = member, 0
            return
        self._stalled += 1
        if self._stalled >= self.restart_after:
            population.restart(best)
            self._stalled = 0
            self.restarts += 1

    @staticmethod
    def _row(candidate: Candidate, status: str, duplicate_of: int | None = None) -> CandidateRow:
        return CandidateRow(candidate.number, candidate.text, candidate.parents,
                            candidate.mutation, candidate.functional_hash, status, duplicate_of,
                            candidate.simplified_removed, candidate.created_at)

    # -- storage --------------------------------------------------------------------------
    def _maybe_flush(self) -> None:
        pending = len(self._candidate_rows) + len(self._evaluation_rows)
        if (pending >= self.config.store.flush_rows
                or time.monotonic() - self._last_flush >= self.config.store.flush_seconds):
            self.flush()

    def flush(self) -> None:
        """Write, in one transaction: buffered rows, changed cache entries, which candidates
        are in flight, and the population (what `resume` continues from after a crash)."""
        self._admit_answered()
        changed, forgotten = self.cache.take_changed()
        settings = self.campaign.settings_hash
        cache_rows = [CacheEntryRow(e.functional_hash, settings, e.candidate_number, e.objectives,
                                    e.evaluation_count, e.hit_count, e.error) for e in changed]
        in_flight = {**self.outstanding, **self.waiting}
        dispatched = [self._row(c, "in_flight") for n, c in sorted(in_flight.items())
                      if n not in self._persisted_in_flight]
        landed = sorted(self._persisted_in_flight - in_flight.keys())
        if self._candidate_rows or self._evaluation_rows or cache_rows or forgotten or \
                dispatched or landed:
            state = {"population": [[m.number, m.objectives.tolist()]
                                    for m in self.population.members()],
                     # where in-flight candidates' fits start (inherited from their parents,
                     # not in their text): a resumed campaign dispatches them as they were
                     "starts": {str(n): dict(c.program.parameter_values)
                                for n, c in sorted(in_flight.items())
                                if c.program.parameter_values}}
            if self._best_member is not None:  # restart_after: where the stall count stands
                best = self._best_member
                state["restart"] = {"best": [best.number, best.objectives.tolist()],
                                    "stalled": self._stalled, "restarts": self.restarts}
            self.store.write_batch(self.campaign.id, candidates=self._candidate_rows,
                                   evaluations=self._evaluation_rows, cache_entries=cache_rows,
                                   forgotten_cache_entries=[(settings, h) for h in forgotten],
                                   dispatched=dispatched, landed=landed, state=state)
            self._persisted_in_flight = set(in_flight)
        self._candidate_rows, self._evaluation_rows = [], []
        self._last_flush = time.monotonic()
        if self._last_flush - self._last_shared_pull >= 5.0:
            self._pull_shared_cache()

    # -- reporting ------------------------------------------------------------------------
    def progress(self) -> Progress:
        return Progress(self.next_number, self.evaluations, self.max_evaluations,
                        self.cache.statistics.hit_rate, self.failed, dict(self.best))

    def front(self) -> list[FrontMember]:
        numbers = sorted(self.evaluated)
        if not numbers:
            return []
        points = self._minimization_points(numbers)
        mask = non_dominated_mask(points)
        texts = {c.number: c for c in self._all_candidates()}
        members = [FrontMember(n, texts[n].program if n in texts else "", self.evaluated[n])
                   for n, keep in zip(numbers, mask, strict=True) if keep]
        last = self.objectives[-1].name
        return sorted(members, key=lambda m: (m.objectives[last], m.number))

    def _minimization_points(self, numbers: list[int]) -> np.ndarray:
        return np.array([[o.to_minimization(self.evaluated[n][o.name]) for o in self.objectives]
                         for n in numbers])

    def _all_candidates(self) -> list[CandidateRow]:
        self.flush()
        return self.store.load_candidates(self.campaign.id)

    def hypervolume(self) -> float | None:
        reference = [o.reference for o in self.objectives]
        if not self.evaluated or any(r is None for r in reference):
            return None
        return hypervolume(self._minimization_points(sorted(self.evaluated)), reference)

    def summary(self, seconds: float) -> CampaignSummary:
        statistics = self.cache.statistics
        return CampaignSummary(
            campaign=self.store.get_campaign(self.campaign.id), candidates=self.next_number,
            evaluations=self.evaluations, failed=self.failed, duplicates=self.duplicates,
            cache_hits=statistics.hits, in_flight_hits=statistics.in_flight_hits,
            cache_hit_rate=statistics.hit_rate, seconds=seconds, stopped=self.stop_requested,
            front=self.front(), hypervolume=self.hypervolume(), restarts=self.restarts,
        )

