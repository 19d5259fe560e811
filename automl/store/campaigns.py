"""Campaign rows: creating one, reading it back as a `CampaignRecord` with its counts, and
stamping it on every write.

Stamping matters beyond `updated_at`: the UPDATE of the campaign row is the first statement of
every write batch, so on PostgreSQL it row-locks the campaign and serializes concurrent writers
of one campaign (the maintained front and the cache's write counter rely on that), and it is
how a write to a campaign that does not exist fails with "no campaign".
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Double,
    and_,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from . import codec
from .errors import StoreError
from .models import CAMPAIGN_ROW_TABLES
from .records import CampaignRecord
from .tables import CAMPAIGNS, CANDIDATES, EVALUATIONS, check_direction

Directions = tuple[tuple[str, str], ...]  # (objective name, "minimize" | "maximize")


def campaign_values(name: str, space: str, seed: int, config: dict[str, Any],
                    settings_hash: str, code_version: str, objectives: Directions | None,
                    environment: dict[str, Any] | None, owner: str | None = None,
                    status: str = "running") -> dict[str, Any]:
    """The new campaign's row (validated and encoded: errors come before any transaction).
    With `owner` (`lease_owner` text) the campaign is created leased to it; its heartbeat is
    set on insertion, on the database's clock (`insert_campaign`). `status` "stopped": a
    campaign made for another process to run, not running until that one takes it."""
    if not name:
        raise StoreError("a campaign needs a non-empty name")
    if status not in ("running", "stopped"):
        raise StoreError(f"a new campaign is running or stopped, not {status!r}")
    for objective, direction in objectives or ():
        check_direction(direction, f"objective {objective!r}: direction")
    now = time.time()
    return {
        "name": name,
        "space": space,
        "seed": seed,
        "status": status,
        "config": codec.encode_json(config, "campaign config"),
        "settings_hash": settings_hash,
        "code_version": code_version,
        "created_at": now,
        "updated_at": now,
        "objectives": None if objectives is None else [
            {"name": n, "direction": d} for n, d in objectives],
        "environment": None if environment is None else codec.encode_json(
            environment, "campaign environment"),
        "owner": owner,
    }


def registered(objectives: Sequence[tuple[str, str]] | None) -> Directions | None:
    """The (name, direction) pairs a campaign registers, as plain strings."""
    return None if objectives is None else tuple((str(n), str(d)) for n, d in objectives)


def insert_campaign(conn: Connection, values: dict[str, Any]) -> int:
    """Insert the campaign row and return its id, with nothing stored under that id yet: rows
    that a campaign deleted by hand (the platform never deletes one) left behind are swept
    first, since SQLite hands a deleted row's id out again: those of the tables without a
    foreign key, and of every other one too, as a delete with foreign keys off (the sqlite3
    shell's default) cascades nowhere (`models.CAMPAIGN_ROW_TABLES`; each lookup is on an
    index led by the campaign id)."""
    if values.get("owner") is not None:
        values = {**values, "heartbeat_at": database_now(conn)}
    campaign_id = conn.execute(insert(CAMPAIGNS).values(**values)).inserted_primary_key[0]
    for table in CAMPAIGN_ROW_TABLES:
        conn.execute(delete(table).where(table.c.campaign_id == campaign_id))
    return campaign_id


# -- the lease ---------------------------------------------------------------------------------
# Every time compared here is the database's own clock, so that owners on machines whose clocks
# disagree judge each other's heartbeats alike. Each function is one statement, meant to be the
# only one of its (short) transaction, except `renew_lease` inside a write batch.

_NOW = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)",
}


def database_now(conn: Connection) -> ColumnElement[float]:
    """The database's clock in seconds since the epoch, as a SQL expression."""
    return literal_column(_NOW[conn.dialect.name], Double)


def take_lease(conn: Connection, campaign_id: int, owner: str, grace_seconds: float,
               force: bool = False, expected_owner: str | None = None) -> bool:
    """Make `owner` the campaign's owner, status running, heartbeat now: one conditional
    UPDATE, so of two takers at once exactly one wins (PostgreSQL re-checks the condition on the
    row the winner committed; SQLite runs one writer at a time). Allowed when nobody holds a
    live lease: status not running, or no heartbeat, or one older than `grace_seconds`. With
    `force`, whatever holds it; with `expected_owner` as well, only while that one holds it
    (compare-and-swap). True if taken."""
    now = database_now(conn)
    c = CAMPAIGNS.c
    if force:
        condition = c.owner == expected_owner if expected_owner is not None else literal(True)
    else:
        condition = or_(c.status != "running", c.heartbeat_at.is_(None),
                        c.heartbeat_at < now - grace_seconds)
    stmt = (update(CAMPAIGNS).where(and_(c.id == campaign_id, condition))
            .values(owner=owner, heartbeat_at=now, status="running", failure=None,
                    updated_at=time.time()))
    return conn.execute(stmt).rowcount == 1


def renew_lease(conn: Connection, campaign_id: int, owner: str) -> bool:
    """Heartbeat: True while `owner` still holds the lease (then its heartbeat is now)."""
    c = CAMPAIGNS.c
    stmt = (update(CAMPAIGNS).where(c.id == campaign_id, c.owner == owner)
            .values(heartbeat_at=database_now(conn)))
    return conn.execute(stmt).rowcount == 1


def end_lease(conn: Connection, campaign_id: int, owner: str, status: str,
              failure: str | None) -> bool:
    """The owner's last word: status (and failure reason), written only while it holds the
    lease. The owner stays recorded (who ran it last); the heartbeat stops."""
    c = CAMPAIGNS.c
    stmt = (update(CAMPAIGNS).where(c.id == campaign_id, c.owner == owner)
            .values(status=status, failure=failure, heartbeat_at=database_now(conn),
                    updated_at=time.time()))
    return conn.execute(stmt).rowcount == 1


def read_lease(conn: Connection, campaign_id: int) -> tuple[Any, ...] | None:
    """(status, owner text, heartbeat_at, the database's clock now), None: no campaign."""
    c = CAMPAIGNS.c
    return conn.execute(select(c.status, c.owner, c.heartbeat_at,
                               database_now(conn).label("checked_at"))
                        .where(c.id == campaign_id)).first()


def decode_owner(raw: str | None) -> dict[str, Any] | None:
    """The owner text as a mapping (host, pid, token, ...); None when there is none."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return {"owner": raw}
    return value if isinstance(value, dict) else {"owner": raw}


def read_objectives(conn: Connection, campaign_id: int) -> Directions | None:
    raw = conn.execute(select(CAMPAIGNS.c.objectives)
                       .where(CAMPAIGNS.c.id == campaign_id)).scalar_one_or_none()
    return objective_pairs(raw)


def read_state(conn: Connection, campaign_id: int) -> dict[str, Any] | None:
    """The controller state written with the campaign's last batch (None before the first)."""
    raw = conn.execute(select(CAMPAIGNS.c.state).where(CAMPAIGNS.c.id == campaign_id)
                       ).scalar_one_or_none()
    return None if raw is None else codec.decode_json(raw)


def objective_pairs(raw: Any) -> Directions | None:
    if raw is None:
        return None
    return tuple((item["name"], item["direction"]) for item in raw)


def touch(conn: Connection, campaign_id: int, **values: Any) -> None:
    """Set `updated_at` (and `values`) of the campaign; `StoreError` if it does not exist."""
    stmt = (
        update(CAMPAIGNS)
        .where(CAMPAIGNS.c.id == campaign_id)
        .values(updated_at=time.time(), **values)
    )
    if conn.execute(stmt).rowcount == 0:
        raise StoreError(f"no campaign {campaign_id!r}")


def exists(conn: Connection, campaign_id: int) -> bool:
    return conn.execute(select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.id == campaign_id)
                        ).first() is not None


def find(conn: Connection, id_or_name: int | str, counts: bool = True) -> CampaignRecord | None:
    """By id (int) or name (str); with ``counts=False`` the counts (a scan each) are 0."""
    key = CAMPAIGNS.c.name if isinstance(id_or_name, str) else CAMPAIGNS.c.id
    query = with_counts(conn) if counts else select(
        CAMPAIGNS, literal(0).label("candidate_count"), literal(0).label("evaluation_count"),
        database_now(conn).label("checked_at"))
    row = conn.execute(query.where(key == id_or_name)).first()
    return None if row is None else campaign_record(row)


def list_all(conn: Connection) -> list[CampaignRecord]:
    """All campaigns by id, with their counts (one query)."""
    return [campaign_record(row) for row in conn.execute(with_counts(conn))]


def with_counts(conn: Connection) -> Any:
    def count(table: Any, *conditions: Any) -> Any:
        return (
            select(func.count())
            .select_from(table)
            .where(table.c.campaign_id == CAMPAIGNS.c.id, *conditions)
            .scalar_subquery()
        )

    # evaluations run, not result rows: a cache hit can have a row too (an imported result,
    # or a twin's result under its own cost), written by the worker "cache"
    run = or_(EVALUATIONS.c.worker.is_(None), EVALUATIONS.c.worker != "cache")
    return select(
        CAMPAIGNS,
        count(CANDIDATES).label("candidate_count"),
        count(EVALUATIONS, run).label("evaluation_count"),
        database_now(conn).label("checked_at"),
    ).order_by(CAMPAIGNS.c.id)


def campaign_record(row: Any) -> CampaignRecord:
    return CampaignRecord(
        id=row.id,
        name=row.name,
        space=row.space,
        seed=row.seed,
        status=row.status,
        config=codec.decode_json(row.config),
        settings_hash=row.settings_hash,
        code_version=row.code_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        candidate_count=row.candidate_count,
        evaluation_count=row.evaluation_count,
        objectives=objective_pairs(row.objectives),
        environment=None if row.environment is None else codec.decode_json(row.environment),
        owner=decode_owner(row.owner),
        heartbeat_at=row.heartbeat_at,
        # the clock matters only beside a heartbeat (it says how old that is)
        checked_at=row.checked_at if row.heartbeat_at is not None else None,
        failure=row.failure,
    )


def numbered_name(conn: Connection, stem: str) -> str:
    """See `Store.numbered_name`."""
    escaped = stem.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    names = conn.execute(select(CAMPAIGNS.c.name).where(
        CAMPAIGNS.c.name.like(f"{escaped}-%", escape="\\"))).scalars()
    pattern = re.compile(re.escape(stem) + r"-([1-9][0-9]{0,17})")
    numbers = [int(match.group(1)) for name in names if (match := pattern.fullmatch(name))]
    return f"{stem}-{max(numbers, default=0) + 1}"
