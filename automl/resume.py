"""Resume: a controller continues a stored campaign from the database alone.

What it reads is bounded by the population, the front, what was in flight and the cache's
memory, never by the campaign's length: counters and best values come from indexed aggregate
queries, the front from the store's maintained one, the population from the campaign state
(`automl.campaign_state`) and only its members' rows. Candidates that were in flight are looked
up again, as they were when they were made (with their inherited fit starts), and those that
miss are dispatched again, once.

Campaigns stored before the state existed (no snapshot at all) rebuild their population by
re-adding every result in candidate order: that path reads every row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from automl.cache import CacheEntry
from automl.campaign_state import CampaignState
from automl.candidates import Candidate
from automl.evolution.front import FrontMember
from automl.evolution.selection import Member
from automl.executor import EvaluationTask

if TYPE_CHECKING:
    from automl.controller import CampaignController


def restore(controller: CampaignController) -> None:
    """Counters, cache, best values, front, population, and the in-flight candidates to
    dispatch again (`controller._redispatch`)."""
    store, campaign, ledger = controller.store, controller.campaign, controller.ledger
    _restore_counters(controller)
    capacity = controller.cache.capacity
    rows = store.load_cache(campaign.id, campaign.settings_hash, limit=capacity)
    controller.cache.load([CacheEntry(e.functional_hash, e.candidate_number, e.objectives,
                                      e.error, e.evaluation_count, e.hit_count) for e in rows],
                          complete=capacity is None or len(rows) < capacity)
    snapshot = store.load_state(campaign.id)
    if snapshot is None:
        _rebuild_population(controller)
        starts = {}
    else:
        state = CampaignState.from_json(snapshot, controller.population)
        members = _members(controller, state.strategy.numbers())
        controller.population.restore(state.strategy, lambda number, vector: Member(
            number, np.asarray(vector, dtype=float), members[number],
            identity=members[number].functional_hash))
        starts = state.starts
    in_flight = store.load_in_flight(campaign.id)
    controller.next_number = store.next_candidate_number(campaign.id)
    controller.buffer.in_flight_stored = {row.number for row in in_flight}
    for row in in_flight:  # the same lookups as when they were made: one dispatch each
        candidate = controller.factory.from_row(row).with_start(starts.get(row.number))
        if ledger.record_lookup(candidate):
            controller._redispatch.append(EvaluationTask(candidate.number, candidate.program))


def _restore_counters(controller: CampaignController) -> None:
    store, campaign, ledger = controller.store, controller.campaign, controller.ledger
    counts = store.status_counts(campaign.id)
    ledger.duplicates = counts.get("duplicate", 0)
    ledger.evaluations = sum(counts.values()) - ledger.duplicates
    ledger.failed = counts.get("failed", 0) + counts.get("rejected", 0)
    statistics = controller.cache.statistics
    statistics.hits, statistics.misses = ledger.duplicates, ledger.evaluations
    ledger.best.update(store.best_values(campaign.id, [(o.name, o.direction)
                                                       for o in controller.objectives]))
    front = store.front(campaign.id)
    if front is None:  # stored before the store kept a front: every evaluation counts
        front = [(e.candidate_number, e.objectives) for e in store.load_evaluations(campaign.id)
                 if e.objectives is not None]
    texts = store.get_candidates(campaign.id, [number for number, _ in front])
    ledger.front.add(FrontMember(number, objectives, texts[number].program)
                     for number, objectives in front if number in texts)


def _members(controller: CampaignController, numbers: set[int]) -> dict[int, Candidate]:
    """The population's candidates, as their parents handed them on (an evaluated member
    carries what its evaluation passes to its children, e.g. its fitted constants)."""
    store, campaign = controller.store, controller.campaign
    rows = store.get_candidates(campaign.id, numbers)
    evaluations = store.get_evaluations(campaign.id, [n for n, r in rows.items()
                                                      if r.status == "evaluated"])
    members = {}
    for number, row in rows.items():
        candidate = controller.factory.from_row(row)
        stored = evaluations.get(number)
        if stored and stored[-1].objectives is not None:
            candidate.program = controller.space.passed_on(candidate.program, stored[-1].metrics)
        members[number] = candidate
    return members


def _rebuild_population(controller: CampaignController) -> None:
    """No snapshot (stored before there was one): every result joins again, by number."""
    store, campaign, ledger = controller.store, controller.campaign, controller.ledger
    evaluations = {e.candidate_number: e for e in store.load_evaluations(campaign.id)}
    for row in store.load_candidates(campaign.id):
        candidate = controller.factory.from_row(row)
        entry = controller.cache.get(row.functional_hash)
        objectives = None
        if row.status == "duplicate":
            objectives = ledger.answer(candidate, entry.objectives if entry else None)
        elif row.status == "evaluated":
            evaluation = evaluations.get(row.number)
            if evaluation is not None and evaluation.objectives is not None:
                candidate.program = controller.space.passed_on(candidate.program,
                                                               evaluation.metrics)
                objectives = evaluation.objectives
                if entry is not None and entry.objectives is not None:
                    objectives = entry.objectives
        if objectives is not None:
            ledger.add_to_population(candidate, objectives)
