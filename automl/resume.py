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

from dataclasses import dataclass

import numpy as np

from automl.cache import CacheEntry
from automl.campaign_state import CampaignState
from automl.candidates import Candidate, CandidateFactory
from automl.evolution.front import FrontMember
from automl.executor import EvaluationTask
from automl.ledger import CampaignLedger
from automl.row_buffer import RowBuffer
from automl.store import CampaignRecord, Store


@dataclass(frozen=True)
class CampaignParts:
    """The parts of a controller that resume fills in."""

    store: Store
    record: CampaignRecord
    factory: CandidateFactory
    ledger: CampaignLedger
    buffer: RowBuffer


def restore(campaign: CampaignParts) -> tuple[int, list[EvaluationTask]]:
    """Fill in counters, cache, best values, front and population; returns the next candidate
    number and the in-flight candidates to dispatch again."""
    store, record, ledger = campaign.store, campaign.record, campaign.ledger
    _restore_counters(campaign)
    cache = ledger.cache
    rows = store.load_cache(record.id, record.settings_hash, limit=cache.capacity)
    complete = cache.capacity is None or len(rows) < cache.capacity
    cache.load([CacheEntry.from_row(row) for row in rows], complete=complete,
               stored_hashes=None if complete else store.cache_hashes(record.id,
                                                                      record.settings_hash))
    snapshot = store.load_state(record.id)
    if snapshot is None:
        _rebuild_population(campaign)
        starts = {}
    else:
        state = CampaignState.from_json(snapshot, ledger.population)
        members = _members(campaign, state.strategy.numbers())
        ledger.population.restore(state.strategy, lambda number, vector: ledger.member(
            members[number], np.asarray(vector, dtype=float)))
        starts = state.starts
    in_flight = store.load_in_flight(record.id)
    campaign.buffer.in_flight_stored = {row.number for row in in_flight}
    redispatch = []
    for row in in_flight:  # the same lookups as when they were made: one dispatch each
        candidate = campaign.factory.from_row(row)
        candidate.set_start(starts.get(row.number))
        if ledger.record_lookup(candidate):
            redispatch.append(EvaluationTask(candidate.number, candidate.program))
    return store.next_candidate_number(record.id), redispatch


def _restore_counters(campaign: CampaignParts) -> None:
    store, record, ledger = campaign.store, campaign.record, campaign.ledger
    counts = store.status_counts(record.id)
    ledger.duplicates = counts.get("duplicate", 0)
    ledger.evaluations = sum(counts.values()) - ledger.duplicates
    ledger.failed = counts.get("failed", 0) + counts.get("rejected", 0)
    statistics = ledger.cache.statistics
    statistics.hits, statistics.misses = ledger.duplicates, ledger.evaluations
    ledger.best.update(store.best_values(record.id, [(o.name, o.direction)
                                                     for o in ledger.objectives]))
    front = store.front(record.id)
    if front is None:  # stored before the store kept a front: every evaluation counts
        front = [(e.candidate_number, e.objectives) for e in store.load_evaluations(record.id)
                 if e.objectives is not None]
    texts = store.get_candidates(record.id, [number for number, _ in front])
    ledger.front.add(FrontMember(number, objectives, texts[number].program)
                     for number, objectives in front if number in texts)


def _members(campaign: CampaignParts, numbers: set[int]) -> dict[int, Candidate]:
    """The population's candidates, as their parents handed them on (an evaluated member
    carries what its evaluation passes to its children, e.g. its fitted constants)."""
    store, record, space = campaign.store, campaign.record, campaign.ledger.space
    rows = store.get_candidates(record.id, numbers)
    evaluations = store.get_evaluations(record.id, [n for n, r in rows.items()
                                                    if r.status == "evaluated"])
    members = {}
    for number, row in rows.items():
        candidate = campaign.factory.from_row(row)
        stored = evaluations.get(number)
        if stored and stored[-1].objectives is not None:
            candidate.program = space.passed_on(candidate.program, stored[-1].metrics)
        members[number] = candidate
    return members


def _rebuild_population(campaign: CampaignParts) -> None:
    """No snapshot (stored before there was one): every result joins again, by number."""
    store, record, ledger = campaign.store, campaign.record, campaign.ledger
    evaluations = {e.candidate_number: e for e in store.load_evaluations(record.id)}
    for row in store.load_candidates(record.id):
        candidate = campaign.factory.from_row(row)
        entry = ledger.cache.get(row.functional_hash)
        objectives = None
        if row.status == "duplicate":
            objectives = ledger.answered_objectives(candidate, entry.objectives if entry else None)
        elif row.status == "evaluated":
            evaluation = evaluations.get(row.number)
            if evaluation is not None and evaluation.objectives is not None:
                candidate.program = ledger.space.passed_on(candidate.program,
                                                           evaluation.metrics)
                objectives = evaluation.objectives
                if entry is not None and entry.objectives is not None:
                    objectives = entry.objectives
        if objectives is not None:
            ledger.add_to_population(candidate, objectives)
