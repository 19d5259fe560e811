"""Functional-equivalence cache (FEC): functional hash -> evaluation result, with in-flight dedup.

Key = (functional hash, evaluation-settings hash): results are never reused across different
tasks. Policies from Gillard et al. 2023:
- *aggregating*: an entry answers hits only once it holds `evaluations_per_entry` evaluations;
  until then a twin is evaluated again and its objectives join the mean (noisy fitness);
- *forgetful*: after answering a hit, an entry is dropped with probability `forget_probability`,
  so a lucky evaluation cannot dominate a search forever.
A twin that arrives while its original is still being evaluated waits for that result instead of
being dispatched again (an in-flight hit).

The cache holds no randomness of its own: the caller passes the draw for the forgetful policy,
so that a campaign's candidate sequence derives from its seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class LookupKind(Enum):
    HIT = "hit"
    IN_FLIGHT = "in_flight"
    MISS = "miss"


@dataclass
class CacheEntry:
    functional_hash: str
    candidate_number: int  # the (first) evaluated original
    objectives: dict[str, float] | None  # mean over evaluations; None when the candidate failed
    error: str | None = None
    evaluation_count: int = 1
    hit_count: int = 0


@dataclass(frozen=True)
class Lookup:
    kind: LookupKind
    entry: CacheEntry | None = None  # for hits
    original: int | None = None  # candidate number answering (hit) or being awaited (in flight)


@dataclass
class CacheStatistics:
    misses: int = 0
    hits: int = 0
    in_flight_hits: int = 0
    forgotten: int = 0

    @property
    def lookups(self) -> int:
        return self.misses + self.hits + self.in_flight_hits

    @property
    def hit_rate(self) -> float:
        return (self.hits + self.in_flight_hits) / self.lookups if self.lookups else 0.0


@dataclass
class FunctionalCache:
    settings_hash: str
    enabled: bool = True
    evaluations_per_entry: int = 1
    forget_probability: float = 0.0
    statistics: CacheStatistics = field(default_factory=CacheStatistics)
    _entries: dict[str, CacheEntry] = field(default_factory=dict)
    _pending: dict[str, int] = field(default_factory=dict)  # hash -> candidate being evaluated
    _waiters: dict[str, list[int]] = field(default_factory=dict)
    _changed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.evaluations_per_entry < 1:
            raise ValueError("evaluations_per_entry must be >= 1")
        if not 0.0 <= self.forget_probability <= 1.0:
            raise ValueError("forget_probability must be in [0, 1]")

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, functional_hash: str) -> CacheEntry | None:
        return self._entries.get(functional_hash)

    def lookup(self, functional_hash: str, candidate_number: int, forget_draw: float = 1.0
               ) -> Lookup:
        """Classify a new candidate; a miss registers it as the in-flight evaluation of its hash.

        `forget_draw` is a uniform [0, 1) number used by the forgetful policy.
        """
        if not self.enabled:
            self.statistics.misses += 1
            return Lookup(LookupKind.MISS)
        if functional_hash in self._pending:
            self.statistics.in_flight_hits += 1
            self._waiters.setdefault(functional_hash, []).append(candidate_number)
            return Lookup(LookupKind.IN_FLIGHT, original=self._pending[functional_hash])
        entry = self._entries.get(functional_hash)
        if entry is not None and (entry.evaluation_count >= self.evaluations_per_entry
                                  or entry.objectives is None):
            self.statistics.hits += 1
            entry.hit_count += 1
            self._changed.add(functional_hash)
            if forget_draw < self.forget_probability:
                del self._entries[functional_hash]
                self.statistics.forgotten += 1
            return Lookup(LookupKind.HIT, entry=entry, original=entry.candidate_number)
        self.statistics.misses += 1
        self._pending[functional_hash] = candidate_number
        return Lookup(LookupKind.MISS)

    def complete(self, functional_hash: str, candidate_number: int,
                 objectives: dict[str, float] | None, error: str | None = None
                 ) -> tuple[CacheEntry | None, list[int]]:
        """Record an evaluation's result; returns the entry and the candidates that waited on it.

        With the aggregating policy the entry's objectives become the running mean.
        """
        if not self.enabled:
            return None, []
        self._pending.pop(functional_hash, None)
        waiters = self._waiters.pop(functional_hash, [])
        entry = self._entries.get(functional_hash)
        if entry is None or entry.objectives is None or objectives is None:
            entry = CacheEntry(functional_hash, candidate_number, objectives, error)
            self._entries[functional_hash] = entry
        else:
            n = entry.evaluation_count
            entry.objectives = {name: (entry.objectives[name] * n + objectives[name]) / (n + 1)
                                for name in entry.objectives}
            entry.evaluation_count = n + 1
        entry.hit_count += len(waiters)  # in-flight hits are answered by this entry too
        self._changed.add(functional_hash)
        return entry, waiters

    def in_flight(self) -> dict[str, int]:
        return dict(self._pending)

    def load(self, entries: list[CacheEntry]) -> None:
        """Restore persisted entries (a resumed campaign keeps its cache)."""
        for entry in entries:
            self._entries[entry.functional_hash] = entry

    def take_changed(self) -> list[CacheEntry]:
        """Entries changed since the last call (to persist them); forgotten ones are skipped."""
        changed = [self._entries[h] for h in self._changed if h in self._entries]
        self._changed.clear()
        return changed
