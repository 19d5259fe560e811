"""What happened to every candidate of a running campaign, as the controller learns it.

A candidate is looked up in the functional cache (`record_lookup`): a miss is dispatched and
counts as an evaluation; a hit is answered at once (a 'duplicate' row pointing at its twin, or
a copy of another campaign's result under the shared cache); an in-flight hit waits for its
twin's result. Results arrive through `record_result`. Each outcome becomes store rows (the
`RowBuffer`), counters, the best values, the Pareto front, and a population member.

Answered hits join the population with the next batch of results (`admit_answered`): adding
them at once would re-sort the population between every selection.

Memory stays bounded by what is in flight, the front and the population: nothing here grows
with the campaign's length.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from automl.cache import CacheEntry, FunctionalCache, LookupKind
from automl.candidates import Candidate
from automl.evolution.front import Front, FrontMember
from automl.evolution.selection import Member, SelectionStrategy
from automl.executor import EvaluationResult
from automl.row_buffer import RowBuffer
from automl.space import SearchSpace, best_values
from automl.store import EvaluationRow

FRONT_BATCH = 256  # evaluations merged into the front at once, at most


class CampaignLedger:
    def __init__(self, space: SearchSpace, cache: FunctionalCache, population: SelectionStrategy,
                 buffer: RowBuffer, seed: int) -> None:
        self.space, self.cache, self.population, self.buffer = space, cache, population, buffer
        self.seed = seed
        self.objectives = space.objectives
        self.evaluations = 0  # dispatched (cache misses)
        self.failed = 0
        self.duplicates = 0
        self.best: dict[str, float] = {}  # best value per objective so far
        self._front = Front(self.objectives)
        self._front_arrivals: list[FrontMember] = []  # merged in when the front is read
        self.outstanding: dict[int, Candidate] = {}  # dispatched, by candidate number
        self.waiting: dict[int, Candidate] = {}  # in-flight hits, by candidate number
        self._answered: list[tuple[Candidate, dict[str, float]]] = []  # hits not yet admitted
        self.metrics: Any = None  # the Ray dashboard's (CampaignMetrics), set by the controller

    @property
    def in_flight(self) -> dict[int, Candidate]:
        return {**self.outstanding, **self.waiting}

    # -- lookups ----------------------------------------------------------------------------
    def record_lookup(self, candidate: Candidate) -> bool:
        """Consult the cache. True when the candidate must be evaluated."""
        forget_draw = float(np.random.default_rng([self.seed, candidate.number, 1]).random()
                            ) if self.cache.forget_probability else 1.0
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

    def _record_import(self, candidate: Candidate, entry: CacheEntry,
                       origin: tuple[int, int]) -> None:
        """A hit answered by another campaign's result: stored as a duplicate whose
        evaluation row copies that result and says where it came from."""
        self._count_hit()
        objectives = self.answered_objectives(candidate, entry.objectives)
        candidate.set_start(None)
        self.buffer.candidate_rows.append(candidate.row("duplicate"))
        self._record_evaluation(candidate, objectives, {"shared_cache": {
            "campaign": origin[0], "candidate": origin[1]}}, "cache", 0.0, entry.error)
        if objectives is not None:
            self._answered.append((candidate, objectives))

    def _record_duplicate(self, candidate: Candidate, entry: CacheEntry) -> None:
        """A cache hit is a finished evaluation; it joins the population with this batch's
        results."""
        self._count_hit()
        self.buffer.candidate_rows.append(candidate.row("duplicate", entry.candidate_number))
        objectives = self.answered_objectives(candidate, entry.objectives)
        # a hit was not fitted: the start it inherited is not its own to pass on, and a resumed
        # campaign, which rebuilds it from its text, would not have it either
        candidate.set_start(None)
        if objectives is None:
            return
        if objectives != entry.objectives:
            # written differently from its twin (another cost): it gets its own result row,
            # so the stored front and queries see what this text costs
            self._record_evaluation(candidate, objectives,
                                    {"answered_by": entry.candidate_number}, "cache", 0.0, None)
        self._answered.append((candidate, objectives))

    def _count_hit(self) -> None:
        self.duplicates += 1
        if self.metrics is not None:
            self.metrics.cache_hit()

    def answered_objectives(self, candidate: Candidate, objectives: dict[str, float] | None
                ) -> dict[str, float] | None:
        """A cache hit's objectives: its twin's, except those that depend on the program's
        text (`SearchSpace.structural_objectives`), which come from its own."""
        if objectives is None:
            return None
        return {**objectives, **self.space.structural_objectives(candidate.program)}

    # -- results ----------------------------------------------------------------------------
    def record_result(self, result: EvaluationResult) -> None:
        candidate = self.outstanding.pop(result.candidate_number, None)
        if candidate is None:  # a broken executor: the loop cannot go on consistently
            raise RuntimeError(f"the executor returned candidate {result.candidate_number}, "
                               f"which is not in flight (returned twice, or never submitted)")
        evaluation = result.evaluation
        if evaluation.ok:
            status = "evaluated"
        else:
            status = "rejected" if evaluation.rejected else "failed"
            self.failed += 1
        if self.metrics is not None:
            self.metrics.evaluation(status)
        self.buffer.candidate_rows.append(candidate.row(status))
        self._record_evaluation(candidate, evaluation.objectives, evaluation.metrics,
                                result.worker, evaluation.duration_s, evaluation.error)
        entry, waiters = self.cache.complete(candidate.functional_hash, candidate.number,
                                             evaluation.objectives, evaluation.error,
                                             cacheable=not evaluation.transient)
        objectives = entry.objectives if entry is not None else evaluation.objectives
        if evaluation.ok and objectives is not None:
            # what the parent hands its children (e.g. its fitted constants as their start)
            candidate.program = self.space.passed_on(candidate.program, evaluation.metrics)
            self.add_to_population(candidate, objectives)
        for number in waiters:
            self._record_duplicate(self.waiting.pop(number), entry or CacheEntry(
                candidate.functional_hash, candidate.number, objectives, evaluation.error))

    def _record_evaluation(self, candidate: Candidate, objectives: Mapping[str, float] | None,
                           metrics: Mapping[str, Any], worker: str, seconds: float,
                           error: str | None) -> None:
        """An evaluation row; its objectives (if any) count for the best values and front."""
        self.buffer.evaluation_rows.append(EvaluationRow(
            candidate.number, None if objectives is None else dict(objectives), dict(metrics),
            worker, seconds, error, time.time()))
        if objectives is not None:
            self.best.update(best_values(self.objectives, [self.best or None, objectives]))
            self._front_arrivals.append(FrontMember(candidate.number, dict(objectives),
                                                    candidate.text))
            if len(self._front_arrivals) >= FRONT_BATCH:
                self.front  # noqa: B018  (merges the arrivals: memory stays bounded)

    @property
    def front(self) -> Front:
        """The Pareto front of every evaluation so far (arrivals are merged in when it is
        read: one dominance filter per read instead of one per evaluation)."""
        if self._front_arrivals:
            self._front.add(self._front_arrivals)
            self._front_arrivals = []
        return self._front

    # -- the population ---------------------------------------------------------------------
    def admit_answered(self) -> None:
        for candidate, objectives in self._answered:
            self.add_to_population(candidate, objectives)
        self._answered.clear()

    def member(self, candidate: Candidate, objectives: Mapping[str, float] | np.ndarray
               ) -> Member:
        """`candidate` as a population member (objectives by name, or already a vector)."""
        vector = objectives if isinstance(objectives, np.ndarray) else np.array(
            [o.to_minimization(objectives[o.name]) for o in self.objectives])
        return Member(candidate.number, vector, candidate, identity=candidate.functional_hash)

    def add_to_population(self, candidate: Candidate, objectives: Mapping[str, float]) -> None:
        self.population.add(self.member(candidate, objectives))
