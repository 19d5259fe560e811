"""The controller's writes not yet in the store, and how they reach it.

The controller is the only writer to the store and batches its writes: candidate and evaluation
rows collect here until `RowBuffer.due` (enough rows, or enough time since the last flush), then
`flush` writes them, the cache entries changed since, which candidates are in flight, and the
campaign state, in one transaction (`Store.write_batch`). What `resume` continues from after a
crash is therefore always consistent with the stored rows. Memory is bounded by the buffer:
nothing here outlives a flush.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from automl.cache import FunctionalCache
from automl.campaign_state import CampaignState
from automl.candidates import Candidate
from automl.store import CacheEntryRow, CandidateRow, EvaluationRow, Store


class RowBuffer:
    def __init__(self, store: Store, campaign_id: int, settings_hash: str, flush_rows: int,
                 flush_seconds: float) -> None:
        self.store, self.campaign_id, self.settings_hash = store, campaign_id, settings_hash
        self.flush_rows, self.flush_seconds = flush_rows, flush_seconds
        self.candidate_rows: list[CandidateRow] = []
        self.evaluation_rows: list[EvaluationRow] = []
        # candidate numbers in the store's in-flight table (resume sets what it found there)
        self.in_flight_stored: set[int] = set()
        self.last_flush = time.monotonic()

    def due(self) -> bool:
        return (len(self.candidate_rows) + len(self.evaluation_rows) >= self.flush_rows
                or time.monotonic() - self.last_flush >= self.flush_seconds)

    def flush(self, cache: FunctionalCache, in_flight: Mapping[int, Candidate],
              state: Callable[[], CampaignState]) -> None:
        """Write everything buffered, the changed cache entries, the in-flight candidates that
        were dispatched or landed since the last flush, and `state()` (only called when there
        is something to write)."""
        changed, forgotten = cache.take_changed()
        cache_rows = [CacheEntryRow(e.functional_hash, self.settings_hash, e.candidate_number,
                                    e.objectives, e.evaluation_count, e.hit_count, e.error)
                      for e in changed]
        dispatched = [candidate.row("in_flight") for number, candidate in sorted(in_flight.items())
                      if number not in self.in_flight_stored]
        landed = sorted(self.in_flight_stored - in_flight.keys())
        if (self.candidate_rows or self.evaluation_rows or cache_rows or forgotten or dispatched
                or landed):
            self.store.write_batch(
                self.campaign_id, candidates=self.candidate_rows,
                evaluations=self.evaluation_rows,
                cache_entries=cache_rows,
                forgotten_cache_entries=[(self.settings_hash, h) for h in forgotten],
                dispatched=dispatched, landed=landed, state=state().to_json())
            self.in_flight_stored = set(in_flight)
        self.candidate_rows, self.evaluation_rows = [], []
        self.last_flush = time.monotonic()
