"""Plain values passed into and out of the store; no ORM object ever leaves it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CANDIDATE_STATUSES: tuple[str, ...] = ("evaluated", "duplicate", "failed", "rejected")
CAMPAIGN_STATUSES: tuple[str, ...] = ("running", "finished", "stopped", "failed")


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """One generated candidate."""

    number: int  # 0, 1, 2, ... unique within the campaign, assigned by the controller
    program: str  # DSL text of the program
    parents: tuple[int, ...]  # candidate numbers
    mutation: str | None  # e.g. "insert_statement"; None for initial/baseline
    functional_hash: str  # 32 hex chars
    status: str  # one of CANDIDATE_STATUSES
    duplicate_of: int | None = None  # number of the evaluated twin, for status "duplicate"
    simplified_removed: int = 0  # statements removed by simplification
    created_at: float = 0.0  # unix time


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    """One evaluation of a candidate (several per candidate under an aggregating policy)."""

    candidate_number: int
    objectives: dict[str, float] | None  # None when failed; NaN/inf round-trip
    metrics: dict[str, Any]  # JSON-able extra info; non-finite floats round-trip
    worker: str | None
    duration_s: float
    error: str | None  # reason of a failure / rejection
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class CacheEntryRow:
    """A functional-equivalence cache entry; persisted so a resumed campaign keeps its cache."""

    functional_hash: str
    settings_hash: str
    candidate_number: int  # the evaluated original
    objectives: dict[str, float] | None
    evaluation_count: int  # for the aggregating policy (mean of up to M evaluations)
    hit_count: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    id: int
    name: str
    space: str
    seed: int
    status: str  # one of CAMPAIGN_STATUSES
    config: dict[str, Any]
    settings_hash: str
    code_version: str
    created_at: float
    updated_at: float
    candidate_count: int = 0
    evaluation_count: int = 0
    objectives: tuple[tuple[str, str], ...] | None = None  # (name, direction), if registered
    environment: dict[str, Any] | None = None  # versions, host, device at creation
    # the lease (`automl.lease`): who runs it (host, pid, token, Ray ids), its last heartbeat
    # and the database's clock when this record was read (both seconds since the epoch), and
    # why it failed; None where unknown (campaigns stored before revision 0004)
    owner: dict[str, Any] | None = None
    heartbeat_at: float | None = None
    checked_at: float | None = None
    failure: str | None = None
