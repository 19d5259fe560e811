"""Functional-equivalence cache (FEC): functional hash -> evaluation result, with in-flight dedup.

Key = (functional hash, evaluation-settings hash): results are never reused across different
tasks. Policies from Gillard et al. 2023:
- *aggregating*: an entry answers hits only once it holds `evaluations_per_entry` evaluations;
  until then a twin is evaluated again and its objectives join the mean (noisy fitness);
- *forgetful*: after answering a hit, an entry is dropped with probability `forget_probability`,
  so a lucky evaluation cannot dominate a search forever.
A twin that arrives while its original is still being evaluated waits for that result instead of
being dispatched again (an in-flight hit).

*Shared* (opt-in): entries of other campaigns with the same evaluation settings answer hits
too. The first such hit imports the entry, with the candidate it answered as its original, so
later twins point inside this campaign.

The cache holds no randomness of its own: the caller passes the draw for the forgetful policy,
so that a campaign's candidate sequence derives from its seed alone.

*Bounded* (`capacity`): at most that many entries stay in memory, least recently used first
out; an entry changed since the last `take_changed` (not yet stored) is never dropped. Once one
has been dropped, or `load` was given only part of the stored entries, a lookup that misses in
memory asks `backing` (the store) before it calls the candidate new, so answers do not depend on
what is in memory: the campaign makes the candidates an unbounded cache would, with memory that
does not grow with its length. Most such misses are new programs, which the store does not have:
a fixed-size Bloom filter of every hash ever kept (`SeenFilter`) answers those without asking.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SEEN_FILTER_BITS = 2**24  # 2 MiB: a false "maybe" 1 in ~500 at 10^6 entries (4 probes)


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

    @classmethod
    def from_row(cls, row: Any) -> CacheEntry:
        """A stored entry (the store's ``CacheEntryRow``, or anything with its fields)."""
        return cls(row.functional_hash, row.candidate_number, row.objectives, row.error,
                   row.evaluation_count, row.hit_count)


@dataclass(frozen=True)
class Lookup:
    kind: LookupKind
    entry: CacheEntry | None = None  # for hits
    original: int | None = None  # candidate number answering (hit) or being awaited (in flight)
    # for a hit answered by another campaign's entry: (campaign id, candidate number there)
    foreign: tuple[int, int] | None = None


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


class SeenFilter:
    """A Bloom filter of functional hashes: `maybe(h)` is False only for a hash never `add`ed,
    in fixed memory. A false True costs one needless question to the store."""

    def __init__(self, bits: int = SEEN_FILTER_BITS, probes: int = 4) -> None:
        self.bits, self.probes = bits, probes
        self._array = bytearray(bits // 8)

    def _positions(self, functional_hash: str) -> list[int]:
        digest = int.from_bytes(hashlib.blake2b(functional_hash.encode(),
                                                digest_size=4 * self.probes).digest(), "little")
        return [(digest >> (32 * i)) % self.bits for i in range(self.probes)]

    def add(self, functional_hash: str) -> None:
        for position in self._positions(functional_hash):
            self._array[position >> 3] |= 1 << (position & 7)

    def maybe(self, functional_hash: str) -> bool:
        return all(self._array[position >> 3] & (1 << (position & 7))
                   for position in self._positions(functional_hash))


@dataclass
class FunctionalCache:
    settings_hash: str
    enabled: bool = True
    evaluations_per_entry: int = 1
    forget_probability: float = 0.0
    # entries kept in memory (and, under the shared cache, other campaigns' entries on offer);
    # None: all
    capacity: int | None = None
    # the stored entry of a hash (None when there is none), for entries not in memory
    backing: Callable[[str], CacheEntry | None] | None = None
    statistics: CacheStatistics = field(default_factory=CacheStatistics)
    _entries: dict[str, CacheEntry] = field(default_factory=dict, init=False)
    # hash -> candidates being evaluated
    _pending: dict[str, list[int]] = field(default_factory=dict, init=False)
    _forgotten: set[str] = field(default_factory=set, init=False)
    _waiters: dict[str, list[int]] = field(default_factory=dict, init=False)
    _changed: set[str] = field(default_factory=set, init=False)
    # other campaigns' entries on offer (shared cache), with their campaign's id
    _foreign: dict[str, tuple[CacheEntry, int]] = field(default_factory=dict, init=False)
    _complete: bool = field(default=True, init=False)  # all entries in memory: no `backing`
    # every hash ever kept in memory (and those the store holds beyond `load`), once memory is
    # bounded: a miss in memory that it has not seen is new, with no question to `backing`
    _seen: SeenFilter | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.evaluations_per_entry < 1:
            raise ValueError("evaluations_per_entry must be >= 1")
        if not 0.0 <= self.forget_probability <= 1.0:
            raise ValueError("forget_probability must be in [0, 1]")
        if self.capacity is not None and self.capacity < 1:
            raise ValueError("capacity must be >= 1 (or None)")

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, functional_hash: str) -> CacheEntry | None:
        """The entry of a hash, from memory or else from `backing` (then kept in memory)."""
        entry = self._entries.get(functional_hash)
        if entry is not None:
            if self.capacity is not None:  # most recently used last
                del self._entries[functional_hash]
                self._entries[functional_hash] = entry
            return entry
        if (self._complete or self.backing is None or functional_hash in self._forgotten
                or (self._seen is not None and not self._seen.maybe(functional_hash))):
            return None
        entry = self.backing(functional_hash)
        if entry is not None:
            self._keep(entry)
        return entry

    def _keep(self, entry: CacheEntry) -> None:
        """Put `entry` in memory, dropping the least recently used unchanged entries beyond
        `capacity`."""
        self._entries[entry.functional_hash] = entry
        if self._seen is not None:
            self._seen.add(entry.functional_hash)
        self._trim(keep=entry.functional_hash)

    def _trim(self, keep: str | None = None) -> None:
        excess = len(self._entries) - (self.capacity or len(self._entries))
        if excess <= 0:
            return
        if self._complete and self._seen is None:
            # the first entry leaves memory: until now every entry ever kept is here (a
            # forgotten one left the store too), so the filter starts complete
            self._seen = SeenFilter()
            for functional_hash in self._entries:
                self._seen.add(functional_hash)
        dropped = []
        for functional_hash in self._entries:
            if functional_hash not in self._changed and functional_hash != keep:
                dropped.append(functional_hash)
                if len(dropped) == excess:
                    break
        for functional_hash in dropped:
            del self._entries[functional_hash]
        if dropped:
            self._complete = False

    def lookup(self, functional_hash: str, candidate_number: int, forget_draw: float = 1.0
               ) -> Lookup:
        """Classify a new candidate; a miss registers it as an in-flight evaluation of its hash.

        `forget_draw` is a uniform [0, 1) number used by the forgetful policy.
        """
        if not self.enabled:
            self.statistics.misses += 1
            return Lookup(LookupKind.MISS)
        entry = self.get(functional_hash)
        pending = self._pending.get(functional_hash, [])
        if entry is not None and (entry.objectives is None
                                  or entry.evaluation_count >= self.evaluations_per_entry):
            self.statistics.hits += 1
            entry.hit_count += 1
            self._changed.add(functional_hash)
            if forget_draw < self.forget_probability:
                del self._entries[functional_hash]
                self._forgotten.add(functional_hash)
                self.statistics.forgotten += 1
            return Lookup(LookupKind.HIT, entry=entry, original=entry.candidate_number)
        foreign = self._foreign.get(functional_hash)
        if entry is None and not pending and foreign is not None:
            return self._import(foreign, candidate_number)
        evaluations_due = (entry.evaluation_count if entry else 0) + len(pending)
        if pending and evaluations_due >= self.evaluations_per_entry:
            # the evaluations in flight will fill the entry: wait for them, never re-dispatch
            self.statistics.in_flight_hits += 1
            self._waiters.setdefault(functional_hash, []).append(candidate_number)
            return Lookup(LookupKind.IN_FLIGHT, original=pending[0])
        self.statistics.misses += 1
        self._pending.setdefault(functional_hash, []).append(candidate_number)
        return Lookup(LookupKind.MISS)

    def complete(self, functional_hash: str, candidate_number: int,
                 objectives: dict[str, float] | None, error: str | None = None,
                 cacheable: bool = True) -> tuple[CacheEntry | None, list[int]]:
        """Record an evaluation's result; returns the entry and the candidates answered by it.

        With the aggregating policy the entry's objectives become the running mean. A failure
        never replaces an entry that has objectives, and a failure that says nothing about the
        program (`cacheable=False`, e.g. its worker died) is not remembered at all.
        Waiters are returned once no evaluation of their hash is in flight any more.
        """
        if not self.enabled:
            return None, []
        pending = self._pending.get(functional_hash, [])
        if candidate_number in pending:
            pending.remove(candidate_number)
        if not pending:
            self._pending.pop(functional_hash, None)
        entry = self.get(functional_hash)
        if objectives is not None:
            if entry is None or entry.objectives is None:
                entry = CacheEntry(functional_hash, candidate_number, dict(objectives))
                self._changed.add(functional_hash)
                self._keep(entry)
            else:
                n = entry.evaluation_count
                entry.objectives = {name: (entry.objectives[name] * n + objectives[name]) / (n + 1)
                                    for name in entry.objectives}
                entry.evaluation_count = n + 1
            self._changed.add(functional_hash)
        elif entry is None and cacheable:
            entry = CacheEntry(functional_hash, candidate_number, None, error)
            self._changed.add(functional_hash)
            self._keep(entry)
        if pending:
            return entry, []
        waiters = self._waiters.pop(functional_hash, [])
        if entry is not None:
            entry.hit_count += len(waiters)  # in-flight hits are answered by this entry too
        return entry, waiters

    def add_foreign(self, entry: CacheEntry, campaign_id: int) -> None:
        """An entry of another campaign with the same settings (shared cache). Only complete
        results are offered: a failure, or as many evaluations as this policy wants."""
        if entry.objectives is None or entry.evaluation_count >= self.evaluations_per_entry:
            self._foreign[entry.functional_hash] = (entry, campaign_id)
            if self.capacity is not None and len(self._foreign) > self.capacity:
                # bounded like the own entries: the oldest offer goes (its function is then
                # evaluated again if it comes up: the shared cache saves work, it is not a
                # promise)
                del self._foreign[next(iter(self._foreign))]

    def _import(self, foreign: tuple[CacheEntry, int], candidate_number: int) -> Lookup:
        source, campaign_id = foreign
        entry = CacheEntry(source.functional_hash, candidate_number,
                           None if source.objectives is None else dict(source.objectives),
                           source.error, source.evaluation_count)
        self._changed.add(entry.functional_hash)
        self._keep(entry)
        del self._foreign[entry.functional_hash]
        self.statistics.hits += 1
        return Lookup(LookupKind.HIT, entry=entry, original=None,
                      foreign=(campaign_id, source.candidate_number))

    def in_flight(self) -> dict[str, list[int]]:
        return {h: list(numbers) for h, numbers in self._pending.items()}

    def load(self, entries: list[CacheEntry], complete: bool = True,
             stored_hashes: Iterable[str] | None = None) -> None:
        """Restore persisted entries (a resumed campaign keeps its cache); `complete`: they
        are all there are (else `backing` answers for the others). With only part of them,
        `stored_hashes` (every hash the store holds) lets a new program skip the store; without
        it every miss in memory asks the store."""
        if not complete and stored_hashes is not None:
            self._seen = SeenFilter()
            for functional_hash in stored_hashes:
                self._seen.add(functional_hash)
        for entry in entries:
            self._keep(entry)
        self._complete = self._complete and complete

    def take_changed(self) -> tuple[list[CacheEntry], list[str]]:
        """Entries changed since the last call, and hashes forgotten since then (to persist
        both; a forgotten entry must not come back when a campaign resumes)."""
        forgotten = sorted(h for h in self._forgotten if h not in self._entries)
        changed = [self._entries[h] for h in sorted(self._changed) if h in self._entries]
        self._changed.clear()
        self._forgotten.clear()
        self._trim()  # what was held back for the store may leave memory now
        return changed, forgotten
