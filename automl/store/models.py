"""The schema, as SQLAlchemy Core `Table`s on one `METADATA`. ``migrations/versions`` must build
exactly this (``tests/test_store.py`` checks it with Alembic's ``compare_metadata``).

Only generic types (JSON, Double, String, Text, Integer), so one schema serves SQLite and
PostgreSQL. The store reads and writes through Core statements on these tables; records cross
its boundary as the dataclasses of `records`. Core rather than declarative ORM models: nothing
here maps rows to objects, and the ORM costs every command ~60 ms of import (`automl ls`).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

METADATA = MetaData(naming_convention=NAMING_CONVENTION)

# Python None is stored as SQL NULL (not the JSON literal 'null').
NullableJSON = JSON(none_as_null=True)


def _campaign_fk() -> Column:
    return Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"),
                  nullable=False)


def _campaign_id() -> Column:
    """The campaign of a row of the tables every write batch fills in bulk (candidates,
    evaluations, their objective values, in-flight candidates): no foreign key, by design
    (revision 0005). Their campaign exists by construction: each batch opens with
    `campaigns.touch`, which refuses a missing campaign and holds its row locked against
    deletion until the batch commits; the platform never deletes a campaign; and a new
    campaign sweeps whatever rows of its id a campaign deleted by hand left behind
    (`campaigns.insert_campaign`: SQLite can hand a deleted campaign's id out again). A key's
    check costs PostgreSQL a trigger and a locking lookup per row, run after each COPY (45% of
    its write time, by `perf`), which SQLite does in-process."""
    return Column("campaign_id", Integer, nullable=False)


CAMPAIGNS = Table(
    "campaigns", METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("space", String, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("status", String, nullable=False),
    Column("config", JSON, nullable=False),
    Column("settings_hash", String, nullable=False),
    Column("code_version", String, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    # [{"name": ..., "direction": "minimize"|"maximize"}]; NULL for campaigns stored before
    # revision 0002 (their front is then computed from the evaluations, slowly)
    Column("objectives", NullableJSON, nullable=True),
    # versions of the platform and its libraries, host and device, at creation (reproduce)
    Column("environment", NullableJSON, nullable=True),
    # the controller's state at its last flush (the population, in order), for resume
    Column("state", NullableJSON, nullable=True),
    # the lease (revision 0004): who runs the campaign, as JSON text (host, pid, a token, Ray
    # ids; compared as text, so the same on SQLite and PostgreSQL), when it last renewed it
    # (seconds since the epoch on the database's clock) and why it failed; NULL when unknown
    Column("owner", Text, nullable=True),
    Column("heartbeat_at", Double, nullable=True),
    Column("failure", Text, nullable=True),
)


def _candidate_columns() -> list[Column]:
    """What a candidate has from its creation on (shared by the in-flight table)."""
    return [
        Column("id", Integer, primary_key=True),
        Column("number", Integer, nullable=False),
        Column("program", Text, nullable=False),
        Column("parents", JSON, nullable=False),
        Column("mutation", String, nullable=True),
        Column("functional_hash", String, nullable=False),
        Column("simplified_removed", Integer, nullable=False),
        Column("created_at", Double, nullable=False),
    ]


CANDIDATES = Table(
    "candidates", METADATA,
    *_candidate_columns(),
    _campaign_id(),
    Column("status", String, nullable=False),
    Column("duplicate_of", Integer, nullable=True),
    UniqueConstraint("campaign_id", "number"),
    Index("ix_candidates_campaign_hash", "campaign_id", "functional_hash"),
    Index("ix_candidates_campaign_status", "campaign_id", "status"),
    Index("ix_candidates_campaign_duplicate_of", "campaign_id", "duplicate_of"),
)

EVALUATIONS = Table(
    "evaluations", METADATA,
    Column("id", Integer, primary_key=True),
    _campaign_id(),
    Column("candidate_number", Integer, nullable=False),
    Column("objectives", NullableJSON, nullable=True),
    Column("metrics", JSON, nullable=False),
    Column("worker", String, nullable=True),
    Column("duration_s", Double, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", Double, nullable=False),
    Index("ix_evaluations_campaign_candidate", "campaign_id", "candidate_number"),
)

CACHE_ENTRIES = Table(
    "cache_entries", METADATA,
    Column("id", Integer, primary_key=True),
    _campaign_fk(),
    Column("settings_hash", String, nullable=False),
    Column("functional_hash", String, nullable=False),
    Column("candidate_number", Integer, nullable=False),
    Column("objectives", NullableJSON, nullable=True),
    Column("evaluation_count", Integer, nullable=False),
    Column("hit_count", Integer, nullable=False),
    Column("error", Text, nullable=True),
    # the write that stored the entry last, numbered per (campaign, settings hash): an upsert
    # keeps the row id of the first insertion, so the id alone cannot say which entries a
    # campaign wrote most recently. 0 for entries written before revision 0003
    Column("written", Integer, nullable=False, server_default="0"),
    UniqueConstraint("campaign_id", "settings_hash", "functional_hash"),
    Index("ix_cache_entries_settings_hash_id", "settings_hash", "id"),  # shared cache
    # the entries written last (`Store.load_cache` with a limit) and the next write number
    Index("ix_cache_entries_campaign_settings_written", "campaign_id", "settings_hash",
          "written"),
)

# A candidate dispatched for evaluation whose result is not stored yet. Written with the flush
# after its dispatch and deleted with the flush that stores its result, so a campaign resumed
# after a crash re-dispatches exactly these (once).
IN_FLIGHT = Table(
    "in_flight_candidates", METADATA,
    *_candidate_columns(),
    _campaign_id(),
    UniqueConstraint("campaign_id", "number"),
)

# One finite objective value of one successful evaluation: the index on (campaign, objective,
# value) makes "top k by objective" an index range scan at any campaign size.
OBJECTIVE_VALUES = Table(
    "objective_values", METADATA,
    Column("id", Integer, primary_key=True),
    _campaign_id(),
    Column("candidate_number", Integer, nullable=False),
    Column("objective", String, nullable=False),
    Column("value", Double, nullable=False),
    Index("ix_objective_values_campaign_objective_value", "campaign_id", "objective", "value",
          "candidate_number"),
)

# The campaign's Pareto front over all its successful evaluations, kept up to date by every
# write batch (campaigns with registered objectives), so reading it costs O(front).
FRONT_MEMBERS = Table(
    "front_members", METADATA,
    Column("id", Integer, primary_key=True),
    _campaign_fk(),
    Column("candidate_number", Integer, nullable=False),
    Column("objectives", JSON, nullable=False),
    Index("ix_front_members_campaign", "campaign_id"),
)

CACHE_KEY = ("campaign_id", "settings_hash", "functional_hash")

# the tables whose rows hang off a campaign without a foreign key (see `_campaign_id`)
UNKEYED_CAMPAIGN_TABLES = (CANDIDATES, EVALUATIONS, OBJECTIVE_VALUES, IN_FLIGHT)
# every table with rows of a campaign: a campaign row deleted where foreign keys are off (the
# sqlite3 shell and Python's sqlite3 module leave them off) leaves even the keyed ones behind
CAMPAIGN_ROW_TABLES = (*UNKEYED_CAMPAIGN_TABLES, CACHE_ENTRIES, FRONT_MEMBERS)
