"""`Store`: a thin repository over the SQLAlchemy models, for SQLite and PostgreSQL.

Reads and writes go through SQLAlchemy Core on the model tables; records in and out are the
plain dataclasses of `records`. Each `write_batch` is one transaction of executemany inserts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from . import codec, migrate
from .engine import create_store_engine
from .errors import StoreError, safe_url, translated
from .models import CACHE_KEY, CacheEntry, Campaign, Candidate, Evaluation
from .records import (
    CAMPAIGN_STATUSES,
    CANDIDATE_STATUSES,
    CacheEntryRow,
    CampaignRecord,
    CandidateRow,
    EvaluationRow,
)

CAMPAIGNS = cast(Table, Campaign.__table__)
CANDIDATES = cast(Table, Candidate.__table__)
EVALUATIONS = cast(Table, Evaluation.__table__)
CACHE_ENTRIES = cast(Table, CacheEntry.__table__)

_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class Store:
    """Campaign storage. Build with `Store.open(url)`; close with `close()` or a ``with``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cache_upsert = _cache_upsert(engine.dialect.name)

    @classmethod
    def open(cls, url: str, *, auto_upgrade: bool = True) -> Store:
        """Validate `url`, connect, and create the schema (empty database) or upgrade it to head.

        With ``auto_upgrade=False`` an out-of-date schema raises `StoreError` instead."""
        engine = create_store_engine(url)
        try:
            migrate.ensure_schema(engine, auto_upgrade=auto_upgrade)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return safe_url(self._engine.url)

    def upgrade(self, revision: str = "head") -> None:
        migrate.upgrade(self._engine, revision)

    def schema_revision(self) -> str | None:
        return migrate.current_revision(self._engine)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- campaigns -------------------------------------------------------------------------

    def create_campaign(
        self,
        name: str,
        space: str,
        seed: int,
        config: dict[str, Any],
        settings_hash: str,
        code_version: str,
    ) -> CampaignRecord:
        if not name:
            raise StoreError("a campaign needs a non-empty name")
        now = time.time()
        values = {
            "name": name,
            "space": space,
            "seed": seed,
            "status": "running",
            "config": codec.encode_json(config, "campaign config"),
            "settings_hash": settings_hash,
            "code_version": code_version,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._transaction(f"creating campaign {name!r}") as conn:
                campaign_id = conn.execute(insert(CAMPAIGNS), values).inserted_primary_key[0]
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError) and self._find(name) is not None:
                raise StoreError(f"a campaign named {name!r} already exists") from None
            raise
        return CampaignRecord(id=campaign_id, **{**values, "config": config})

    def get_campaign(self, id_or_name: int | str) -> CampaignRecord:
        """By id (int) or by name (str); `StoreError` "no campaign ..." if absent."""
        record = self._find(id_or_name)
        if record is None:
            raise StoreError(f"no campaign {id_or_name!r}")
        return record

    def list_campaigns(self) -> list[CampaignRecord]:
        """All campaigns by id, with their candidate and evaluation counts (one query)."""
        with self._transaction("listing campaigns") as conn:
            return [_campaign_record(row) for row in conn.execute(_campaign_select())]

    def set_campaign_status(self, campaign_id: int, status: str) -> None:
        if status not in CAMPAIGN_STATUSES:
            raise StoreError(f"campaign status {status!r} is not one of {CAMPAIGN_STATUSES}")
        with self._transaction(f"setting status of campaign {campaign_id}") as conn:
            self._touch(conn, campaign_id, status=status)

    # -- the hot path ------------------------------------------------------------------------

    def write_batch(
        self,
        campaign_id: int,
        candidates: Iterable[CandidateRow] = (),
        evaluations: Iterable[EvaluationRow] = (),
        cache_entries: Iterable[CacheEntryRow] = (),
        forgotten_cache_entries: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Insert candidates and evaluations, upsert cache entries and delete forgotten ones
        (``(settings_hash, functional_hash)`` pairs, deleted before the upserts), all in one
        transaction: on any error nothing of the batch is stored (`StoreError`).

        A cache entry replaces the stored one with the same (settings_hash, functional_hash);
        within a batch the last entry for a key wins."""
        forgotten = [{"campaign": campaign_id, "settings": settings, "hash": functional}
                     for settings, functional in forgotten_cache_entries]
        candidate_params = [codec.candidate_params(campaign_id, row) for row in candidates]
        evaluation_params = [codec.evaluation_params(campaign_id, row) for row in evaluations]
        cache_params = list(
            {
                (row.settings_hash, row.functional_hash): codec.cache_params(campaign_id, row)
                for row in cache_entries
            }.values()
        )
        if not (candidate_params or evaluation_params or cache_params or forgotten):
            return
        with self._transaction(f"write_batch for campaign {campaign_id}") as conn:
            self._touch(conn, campaign_id)
            if candidate_params:
                conn.execute(insert(CANDIDATES), candidate_params)
            if evaluation_params:
                conn.execute(insert(EVALUATIONS), evaluation_params)
            if forgotten:
                columns = CACHE_ENTRIES.c
                conn.execute(delete(CACHE_ENTRIES).where(
                    columns.campaign_id == bindparam("campaign"),
                    columns.settings_hash == bindparam("settings"),
                    columns.functional_hash == bindparam("hash"),
                ), forgotten)
            if cache_params:
                conn.execute(self._cache_upsert, cache_params)

    # -- reads -------------------------------------------------------------------------------

    def load_candidates(self, campaign_id: int) -> list[CandidateRow]:
        """All candidates of the campaign, by number."""
        query = (
            select(CANDIDATES)
            .where(CANDIDATES.c.campaign_id == campaign_id)
            .order_by(CANDIDATES.c.number)
        )
        with self._reading(campaign_id, "loading candidates") as conn:
            return [codec.candidate_row(row) for row in conn.execute(query)]

    def load_evaluations(self, campaign_id: int) -> list[EvaluationRow]:
        """All evaluations of the campaign, by candidate number, then in insertion order."""
        query = (
            select(EVALUATIONS)
            .where(EVALUATIONS.c.campaign_id == campaign_id)
            .order_by(EVALUATIONS.c.candidate_number, EVALUATIONS.c.id)
        )
        with self._reading(campaign_id, "loading evaluations") as conn:
            return [codec.evaluation_row(row) for row in conn.execute(query)]

    def load_cache(self, campaign_id: int, settings_hash: str) -> list[CacheEntryRow]:
        """The campaign's cache entries for `settings_hash`, in first-insertion order."""
        query = (
            select(CACHE_ENTRIES)
            .where(
                CACHE_ENTRIES.c.campaign_id == campaign_id,
                CACHE_ENTRIES.c.settings_hash == settings_hash,
            )
            .order_by(CACHE_ENTRIES.c.id)
        )
        with self._reading(campaign_id, "loading the cache") as conn:
            return [codec.cache_row(row) for row in conn.execute(query)]

    def status_counts(self, campaign_id: int) -> dict[str, int]:
        """Candidates per status; every status of `CANDIDATE_STATUSES` is present (maybe 0)."""
        query = (
            select(CANDIDATES.c.status, func.count())
            .where(CANDIDATES.c.campaign_id == campaign_id)
            .group_by(CANDIDATES.c.status)
        )
        counts = dict.fromkeys(CANDIDATE_STATUSES, 0)
        with self._reading(campaign_id, "counting candidates") as conn:
            counts.update({status: count for status, count in conn.execute(query)})
        return counts

    def max_candidate_number(self, campaign_id: int) -> int | None:
        """The highest candidate number stored, None when there is none (resume from +1)."""
        query = select(func.max(CANDIDATES.c.number)).where(CANDIDATES.c.campaign_id == campaign_id)
        with self._reading(campaign_id, "reading the last candidate number") as conn:
            return conn.execute(query).scalar_one()

    # -- helpers -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        with translated(action, self._engine.url), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _reading(self, campaign_id: int, action: str) -> Iterator[Connection]:
        """A transaction that first checks the campaign exists."""
        with self._transaction(f"{action} of campaign {campaign_id}") as conn:
            exists = select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.id == campaign_id)
            if conn.execute(exists).first() is None:
                raise StoreError(f"no campaign {campaign_id!r}")
            yield conn

    def _find(self, id_or_name: int | str) -> CampaignRecord | None:
        key = CAMPAIGNS.c.name if isinstance(id_or_name, str) else CAMPAIGNS.c.id
        with self._transaction(f"looking up campaign {id_or_name!r}") as conn:
            row = conn.execute(_campaign_select().where(key == id_or_name)).first()
        return None if row is None else _campaign_record(row)

    @staticmethod
    def _touch(conn: Connection, campaign_id: int, **values: Any) -> None:
        """Set `updated_at` (and `values`) of the campaign; `StoreError` if it does not exist."""
        stmt = (
            update(CAMPAIGNS)
            .where(CAMPAIGNS.c.id == campaign_id)
            .values(updated_at=time.time(), **values)
        )
        if conn.execute(stmt).rowcount == 0:
            raise StoreError(f"no campaign {campaign_id!r}")


def _cache_upsert(dialect_name: str) -> Insert:
    if dialect_name not in _DIALECT_INSERT:
        raise StoreError(f"no upsert support for dialect {dialect_name!r}")
    stmt = _DIALECT_INSERT[dialect_name](CACHE_ENTRIES)
    replaced = [c.name for c in CACHE_ENTRIES.columns if c.name not in (*CACHE_KEY, "id")]
    return stmt.on_conflict_do_update(
        index_elements=[CACHE_ENTRIES.c[name] for name in CACHE_KEY],
        set_={name: stmt.excluded[name] for name in replaced},
    )


def _campaign_select() -> Any:
    def count(table: Table) -> Any:
        return (
            select(func.count())
            .select_from(table)
            .where(table.c.campaign_id == CAMPAIGNS.c.id)
            .scalar_subquery()
        )

    return select(
        CAMPAIGNS,
        count(CANDIDATES).label("candidate_count"),
        count(EVALUATIONS).label("evaluation_count"),
    ).order_by(CAMPAIGNS.c.id)


def _campaign_record(row: Any) -> CampaignRecord:
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
    )
