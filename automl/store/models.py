"""SQLAlchemy declarative models: the schema. ``migrations/versions`` must build exactly this
(``tests/test_store.py`` checks it with Alembic's ``compare_metadata``).

Only generic types (JSON, Double, String, Text, Integer), so one schema serves SQLite and
PostgreSQL. The repository reads and writes through Core on ``Model.__table__``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Python None is stored as SQL NULL (not the JSON literal 'null').
NullableJSON = JSON(none_as_null=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _campaign_fk() -> Mapped[int]:
    return mapped_column(Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, nullable=False, unique=True)
    space: Mapped[str] = mapped_column(String, nullable=False)
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    settings_hash: Mapped[str] = mapped_column(String, nullable=False)
    code_version: Mapped[str] = mapped_column(String, nullable=False)
    created_at: Mapped[float] = mapped_column(Double, nullable=False)
    updated_at: Mapped[float] = mapped_column(Double, nullable=False)
    # [{"name": ..., "direction": "minimize"|"maximize"}]; NULL for campaigns stored before
    # revision 0002 (their front is then computed from the evaluations, slowly)
    objectives: Mapped[list[dict[str, str]] | None] = mapped_column(NullableJSON, nullable=True)
    # versions of the platform and its libraries, host and device, at creation (reproduce)
    environment: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, nullable=True)
    # the controller's state at its last flush (the population, in order), for resume
    state: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, nullable=True)
    # the lease (revision 0004): who runs the campaign, as JSON text (host, pid, a token, Ray
    # ids; compared as text, so the same on SQLite and PostgreSQL), when it last renewed it
    # (seconds since the epoch on the database's clock) and why it failed; NULL when unknown
    owner: Mapped[str | None] = mapped_column(Text, nullable=True)
    heartbeat_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)


class _CandidateColumns:
    """What a candidate has from its creation on (shared by the in-flight table)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    program: Mapped[str] = mapped_column(Text, nullable=False)
    parents: Mapped[list[int]] = mapped_column(JSON, nullable=False)
    mutation: Mapped[str | None] = mapped_column(String, nullable=True)
    functional_hash: Mapped[str] = mapped_column(String, nullable=False)
    simplified_removed: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[float] = mapped_column(Double, nullable=False)


class Candidate(_CandidateColumns, Base):
    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        Index("ix_candidates_campaign_hash", "campaign_id", "functional_hash"),
        Index("ix_candidates_campaign_status", "campaign_id", "status"),
        Index("ix_candidates_campaign_duplicate_of", "campaign_id", "duplicate_of"),
    )

    campaign_id: Mapped[int] = _campaign_fk()
    status: Mapped[str] = mapped_column(String, nullable=False)
    duplicate_of: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Evaluation(Base):
    __tablename__ = "evaluations"
    __table_args__ = (
        Index("ix_evaluations_campaign_candidate", "campaign_id", "candidate_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = _campaign_fk()
    candidate_number: Mapped[int] = mapped_column(Integer, nullable=False)
    objectives: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    worker: Mapped[str | None] = mapped_column(String, nullable=True)
    duration_s: Mapped[float] = mapped_column(Double, nullable=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Double, nullable=False)


class CacheEntry(Base):
    __tablename__ = "cache_entries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "settings_hash", "functional_hash"),
        Index("ix_cache_entries_settings_hash_id", "settings_hash", "id"),  # shared cache
        # the entries written last (`Store.load_cache` with a limit) and the next write number
        Index("ix_cache_entries_campaign_settings_written", "campaign_id", "settings_hash",
              "written"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = _campaign_fk()
    settings_hash: Mapped[str] = mapped_column(String, nullable=False)
    functional_hash: Mapped[str] = mapped_column(String, nullable=False)
    candidate_number: Mapped[int] = mapped_column(Integer, nullable=False)
    objectives: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, nullable=True)
    evaluation_count: Mapped[int] = mapped_column(Integer, nullable=False)
    hit_count: Mapped[int] = mapped_column(Integer, nullable=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the write that stored the entry last, numbered per (campaign, settings hash): an upsert
    # keeps the row id of the first insertion, so the id alone cannot say which entries a
    # campaign wrote most recently. 0 for entries written before revision 0003
    written: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class InFlightCandidate(_CandidateColumns, Base):
    """A candidate dispatched for evaluation whose result is not stored yet. Written with the
    flush after its dispatch and deleted with the flush that stores its result, so a campaign
    resumed after a crash re-dispatches exactly these (once)."""

    __tablename__ = "in_flight_candidates"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    campaign_id: Mapped[int] = _campaign_fk()


class ObjectiveValue(Base):
    """One finite objective value of one successful evaluation: the index on (campaign,
    objective, value) makes "top k by objective" an index range scan at any campaign size."""

    __tablename__ = "objective_values"
    __table_args__ = (
        Index("ix_objective_values_campaign_objective_value", "campaign_id", "objective", "value",
              "candidate_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = _campaign_fk()
    candidate_number: Mapped[int] = mapped_column(Integer, nullable=False)
    objective: Mapped[str] = mapped_column(String, nullable=False)
    value: Mapped[float] = mapped_column(Double, nullable=False)


class FrontMember(Base):
    """The campaign's Pareto front over all its successful evaluations, kept up to date by
    every write batch (campaigns with registered objectives), so reading it costs O(front)."""

    __tablename__ = "front_members"
    __table_args__ = (Index("ix_front_members_campaign", "campaign_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = _campaign_fk()
    candidate_number: Mapped[int] = mapped_column(Integer, nullable=False)
    objectives: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


CACHE_KEY = ("campaign_id", "settings_hash", "functional_hash")
