"""`Store`: a thin repository over the SQLAlchemy models, for SQLite and PostgreSQL.

Reads and writes go through SQLAlchemy Core on the model tables; records in and out are the
plain dataclasses of `records`. Each `write_batch` is one transaction of executemany inserts.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, cast

import numpy as np
from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from automl.evolution.pareto import non_dominated_mask

from . import codec, migrate
from .engine import create_store_engine, require_existing_database
from .errors import StoreError, safe_url, translated
from .models import (
    CACHE_KEY,
    CacheEntry,
    Campaign,
    Candidate,
    Evaluation,
    FrontMember,
    InFlightCandidate,
    ObjectiveValue,
)
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
OBJECTIVE_VALUES = cast(Table, ObjectiveValue.__table__)
FRONT_MEMBERS = cast(Table, FrontMember.__table__)
IN_FLIGHT = cast(Table, InFlightCandidate.__table__)
DIRECTIONS = ("minimize", "maximize")

_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class Store:
    """Campaign storage. Build with `Store.open(url)`; close with `close()` or a ``with``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cache_upsert = _cache_upsert(engine.dialect.name)
        self._objectives: dict[int, tuple[tuple[str, str], ...] | None] = {}  # per campaign

    @classmethod
    def open(cls, url: str, *, auto_upgrade: bool = True, create: bool = True) -> Store:
        """Validate `url`, connect, and create the schema (empty database) or upgrade it to head.

        With ``auto_upgrade=False`` an out-of-date schema raises `StoreError` instead; with
        ``create=False`` so does a SQLite file that does not exist yet."""
        engine = create_store_engine(url)
        try:
            if not create:
                require_existing_database(engine.url)
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
        objectives: Sequence[tuple[str, str]] | None = None,
        environment: dict[str, Any] | None = None,
    ) -> CampaignRecord:
        """`objectives` ((name, direction) pairs) lets the store keep the campaign's Pareto
        front up to date as evaluations arrive; `environment` is recorded for `reproduce`."""
        if not name:
            raise StoreError("a campaign needs a non-empty name")
        registered = None if objectives is None else tuple(
            (str(n), str(d)) for n, d in objectives)
        for objective, direction in registered or ():
            if direction not in DIRECTIONS:
                raise StoreError(f"objective {objective!r}: direction {direction!r} is not one "
                                 f"of {DIRECTIONS}")
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
            "objectives": None if registered is None else [
                {"name": n, "direction": d} for n, d in registered],
            "environment": None if environment is None else codec.encode_json(
                environment, "campaign environment"),
        }
        try:
            with self._transaction(f"creating campaign {name!r}") as conn:
                campaign_id = conn.execute(insert(CAMPAIGNS), values).inserted_primary_key[0]
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError) and self._find(name) is not None:
                raise StoreError(f"a campaign named {name!r} already exists") from None
            raise
        return CampaignRecord(id=campaign_id, **{**values, "config": config,
                                                 "objectives": registered,
                                                 "environment": environment})

    def get_campaign(self, id_or_name: int | str, counts: bool = True) -> CampaignRecord:
        """By id (int) or by name (str); `StoreError` "no campaign ..." if absent. With
        ``counts=False`` the candidate and evaluation counts (a scan each) are left at 0."""
        record = self._find(id_or_name, counts)
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
        dispatched: Iterable[CandidateRow] = (),
        landed: Iterable[int] = (),
        state: dict[str, Any] | None = None,
    ) -> None:
        """Insert candidates and evaluations, upsert cache entries and delete forgotten ones
        (``(settings_hash, functional_hash)`` pairs, deleted before the upserts), record the
        candidates `dispatched` for evaluation and forget the in-flight ones that `landed`
        (numbers), and replace the controller's `state`: all in one transaction, so on any
        error nothing of the batch is stored (`StoreError`) and a crash leaves the state of
        the previous batch, consistent with its rows.

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
        dispatched_params = [codec.in_flight_params(campaign_id, row) for row in dispatched]
        landed_params = [{"campaign": campaign_id, "number": number} for number in landed]
        if not (candidate_params or evaluation_params or cache_params or forgotten
                or dispatched_params or landed_params or state is not None):
            return
        with self._transaction(f"write_batch for campaign {campaign_id}") as conn:
            if state is None:
                self._touch(conn, campaign_id)
            else:
                self._touch(conn, campaign_id, state=codec.encode_json(state, "campaign state"))
            if landed_params:
                conn.execute(delete(IN_FLIGHT).where(
                    IN_FLIGHT.c.campaign_id == bindparam("campaign"),
                    IN_FLIGHT.c.number == bindparam("number")), landed_params)
            if dispatched_params:
                conn.execute(insert(IN_FLIGHT), dispatched_params)
            if candidate_params:
                conn.execute(insert(CANDIDATES), candidate_params)
            if evaluation_params:
                conn.execute(insert(EVALUATIONS), evaluation_params)
                values = _objective_value_params(campaign_id, evaluation_params)
                if values:
                    conn.execute(insert(OBJECTIVE_VALUES), values)
                self._update_front(conn, campaign_id, evaluation_params)
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

    def load_shared_cache(self, settings_hash: str, exclude_campaign: int, after_id: int = 0
                          ) -> list[tuple[int, int, CacheEntryRow]]:
        """Cache entries of the other campaigns with these evaluation settings, as (entry id,
        campaign id, entry), by id; `after_id` returns only those added since."""
        columns = CACHE_ENTRIES.c
        query = (select(CACHE_ENTRIES)
                 .where(columns.settings_hash == settings_hash,
                        columns.campaign_id != exclude_campaign, columns.id > after_id)
                 .order_by(columns.id))
        with self._transaction("loading the shared cache") as conn:
            return [(row.id, row.campaign_id, codec.cache_row(row)) for row in conn.execute(query)]

    def load_in_flight(self, campaign_id: int) -> list[CandidateRow]:
        """Candidates dispatched but not stored when the campaign last flushed, by number
        (status "in_flight")."""
        query = (select(IN_FLIGHT).where(IN_FLIGHT.c.campaign_id == campaign_id)
                 .order_by(IN_FLIGHT.c.number))
        with self._reading(campaign_id, "loading candidates in flight") as conn:
            return [codec.in_flight_row(row) for row in conn.execute(query)]

    def load_state(self, campaign_id: int) -> dict[str, Any] | None:
        """The controller state written with the last batch (None before the first)."""
        query = select(CAMPAIGNS.c.state).where(CAMPAIGNS.c.id == campaign_id)
        with self._reading(campaign_id, "loading the controller state") as conn:
            raw = conn.execute(query).scalar_one_or_none()
        return None if raw is None else codec.decode_json(raw)

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

    def rejection_reasons(self, campaign_id: int) -> dict[str, int]:
        """Rejected candidates per kind of reason: the text before the first ':' of their
        evaluation's error (e.g. ``quality``, ``unstable``), most frequent first."""
        query = (
            select(EVALUATIONS.c.error)
            .join(CANDIDATES, (CANDIDATES.c.campaign_id == EVALUATIONS.c.campaign_id)
                  & (CANDIDATES.c.number == EVALUATIONS.c.candidate_number))
            .where(EVALUATIONS.c.campaign_id == campaign_id,
                   CANDIDATES.c.status == "rejected")
        )
        with self._reading(campaign_id, "counting rejection reasons") as conn:
            kinds = Counter((error or "no reason given").split(":", 1)[0].strip()
                            for (error,) in conn.execute(query))
        return dict(kinds.most_common())

    def max_candidate_number(self, campaign_id: int) -> int | None:
        """The highest candidate number stored, None when there is none (resume from +1)."""
        query = select(func.max(CANDIDATES.c.number)).where(CANDIDATES.c.campaign_id == campaign_id)
        with self._reading(campaign_id, "reading the last candidate number") as conn:
            return conn.execute(query).scalar_one()

    # -- queries (fast at millions of evaluations) --------------------------------------------

    def top(self, campaign_id: int, objective: str, k: int, direction: str = "minimize"
            ) -> list[tuple[int, float]]:
        """The `k` best (candidate number, value) of `objective`, best first (ties by number);
        a candidate evaluated several times appears once, with its best value."""
        if direction not in DIRECTIONS:
            raise StoreError(f"direction {direction!r} is not one of {DIRECTIONS}")
        columns = OBJECTIVE_VALUES.c
        value_order = columns.value.asc() if direction == "minimize" else columns.value.desc()
        best: dict[int, float] = {}
        limit = max(k, 1) * 2
        with self._reading(campaign_id, f"top {k} by {objective}") as conn:
            while True:  # re-query with a larger limit only when repeats filled the page
                rows = conn.execute(
                    select(columns.candidate_number, columns.value)
                    .where(columns.campaign_id == campaign_id, columns.objective == objective)
                    .order_by(value_order, columns.candidate_number).limit(limit)).all()
                best = {}
                for number, value in rows:
                    best.setdefault(number, value)
                if len(best) >= k or len(rows) < limit:
                    break
                limit *= 4
        return list(best.items())[:k]

    def front(self, campaign_id: int) -> list[tuple[int, dict[str, float]]] | None:
        """The maintained Pareto front, (candidate number, objectives) by number; None when
        the campaign registered no objectives (stored before the front was kept)."""
        with self._reading(campaign_id, "reading the Pareto front") as conn:
            if self._registered_objectives(conn, campaign_id) is None:
                return None
            rows = conn.execute(
                select(FRONT_MEMBERS.c.candidate_number, FRONT_MEMBERS.c.objectives)
                .where(FRONT_MEMBERS.c.campaign_id == campaign_id)
                .order_by(FRONT_MEMBERS.c.candidate_number)).all()
        return [(number, codec.decode_objectives(values) or {}) for number, values in rows]

    def get_candidates(self, campaign_id: int, numbers: Iterable[int]) -> dict[int, CandidateRow]:
        """The candidates with these numbers (absent numbers are left out)."""
        wanted = sorted(set(numbers))
        found: dict[int, CandidateRow] = {}
        with self._reading(campaign_id, "loading candidates") as conn:
            for start in range(0, len(wanted), 500):
                query = select(CANDIDATES).where(
                    CANDIDATES.c.campaign_id == campaign_id,
                    CANDIDATES.c.number.in_(wanted[start:start + 500]))
                found.update((row.number, codec.candidate_row(row)) for row in conn.execute(query))
        return found

    def get_evaluations(self, campaign_id: int, numbers: Iterable[int]
                        ) -> dict[int, list[EvaluationRow]]:
        """The evaluations of these candidates, in insertion order."""
        wanted = sorted(set(numbers))
        found: dict[int, list[EvaluationRow]] = {number: [] for number in wanted}
        with self._reading(campaign_id, "loading evaluations") as conn:
            for start in range(0, len(wanted), 500):
                query = select(EVALUATIONS).where(
                    EVALUATIONS.c.campaign_id == campaign_id,
                    EVALUATIONS.c.candidate_number.in_(wanted[start:start + 500]),
                ).order_by(EVALUATIONS.c.id)
                for row in conn.execute(query):
                    found[row.candidate_number].append(codec.evaluation_row(row))
        return found

    def duplicate_count(self, campaign_id: int, number: int) -> int:
        """How many candidates the cache answered with candidate `number`'s evaluation."""
        query = select(func.count()).select_from(CANDIDATES).where(
            CANDIDATES.c.campaign_id == campaign_id, CANDIDATES.c.duplicate_of == number)
        with self._reading(campaign_id, "counting duplicates") as conn:
            return int(conn.execute(query).scalar_one())

    def lineage(self, campaign_id: int, number: int) -> list[CandidateRow]:
        """Candidate `number`, its first parent, that one's first parent, ... back to a
        candidate without parents (a seed). `StoreError` if `number` does not exist.

        One recursive query (the chain can be thousands of generations long)."""
        columns = CANDIDATES.c
        first_parent = columns.parents[0].as_integer()
        chain = (select(columns.number, first_parent.label("parent"), literal(0).label("depth"))
                 .where(columns.campaign_id == campaign_id, columns.number == number)
                 .cte("chain", recursive=True))
        step = (select(columns.number, first_parent, chain.c.depth + 1)
                # a parent is always numbered before its child: this also makes a corrupt,
                # cyclic chain end instead of looping
                .join(chain, and_(columns.campaign_id == campaign_id,
                                  columns.number == chain.c.parent,
                                  columns.number < chain.c.number)))
        chain = chain.union_all(step)
        query = (select(CANDIDATES).join(chain, and_(columns.campaign_id == campaign_id,
                                                     columns.number == chain.c.number))
                 .order_by(chain.c.depth))
        with self._reading(campaign_id, f"tracing the lineage of candidate {number}") as conn:
            rows = [codec.candidate_row(row) for row in conn.execute(query)]
        if not rows:
            raise StoreError(f"campaign {campaign_id} has no candidate {number}")
        return rows

    # -- helpers -----------------------------------------------------------------------------

    def _registered_objectives(self, conn: Connection, campaign_id: int
                               ) -> tuple[tuple[str, str], ...] | None:
        if campaign_id not in self._objectives:  # immutable once created: read once
            raw = conn.execute(select(CAMPAIGNS.c.objectives)
                               .where(CAMPAIGNS.c.id == campaign_id)).scalar_one_or_none()
            self._objectives[campaign_id] = _objective_pairs(raw)
        return self._objectives[campaign_id]

    def _update_front(self, conn: Connection, campaign_id: int,
                      evaluation_params: list[dict[str, Any]]) -> None:
        """Merge the batch's successful evaluations into the stored front. Runs after
        `_touch`, whose UPDATE of the campaign row serializes concurrent writers of one
        campaign on PostgreSQL (SQLite has one writer anyway)."""
        objectives = self._registered_objectives(conn, campaign_id)
        if not objectives:
            return
        names = [name for name, _ in objectives]
        arrivals = [(p["candidate_number"], values) for p in evaluation_params
                    if (values := _finite_vector(p["objectives"], names)) is not None]
        if not arrivals:
            return
        stored = conn.execute(
            select(FRONT_MEMBERS.c.id, FRONT_MEMBERS.c.candidate_number,
                   FRONT_MEMBERS.c.objectives)
            .where(FRONT_MEMBERS.c.campaign_id == campaign_id)).all()
        vectors = [[float(row.objectives[n]) for n in names] for row in stored]
        vectors += [values for _, values in arrivals]
        signs = np.array([1.0 if d == "minimize" else -1.0 for _, d in objectives])
        keep = non_dominated_mask(np.asarray(vectors) * signs)
        dropped = [{"member": row.id} for row, kept in zip(stored, keep, strict=False)
                   if not kept]
        added = [{"campaign_id": campaign_id, "candidate_number": number,
                  "objectives": dict(zip(names, values, strict=True))}
                 for (number, values), kept in zip(arrivals, keep[len(stored):], strict=True)
                 if kept]
        if dropped:
            conn.execute(delete(FRONT_MEMBERS).where(FRONT_MEMBERS.c.id == bindparam("member")),
                         dropped)
        if added:
            conn.execute(insert(FRONT_MEMBERS), added)


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

    def _find(self, id_or_name: int | str, counts: bool = True) -> CampaignRecord | None:
        key = CAMPAIGNS.c.name if isinstance(id_or_name, str) else CAMPAIGNS.c.id
        query = _campaign_select() if counts else select(
            CAMPAIGNS, literal(0).label("candidate_count"), literal(0).label("evaluation_count"))
        with self._transaction(f"looking up campaign {id_or_name!r}") as conn:
            row = conn.execute(query.where(key == id_or_name)).first()
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


def _objective_pairs(raw: Any) -> tuple[tuple[str, str], ...] | None:
    if raw is None:
        return None
    return tuple((item["name"], item["direction"]) for item in raw)


def _finite_vector(objectives: dict[str, Any] | None, names: list[str]) -> list[float] | None:
    """The objective values in `names` order, None unless all are present and finite
    (encoded objectives hold non-finite values as strings)."""
    if not objectives:
        return None
    values = [objectives.get(name) for name in names]
    if all(type(v) in (float, int) and math.isfinite(v) for v in values):
        return [float(v) for v in values]  # type: ignore[arg-type]
    return None


def _objective_value_params(campaign_id: int, evaluation_params: list[dict[str, Any]]
                            ) -> list[dict[str, Any]]:
    return [{"campaign_id": campaign_id, "candidate_number": p["candidate_number"],
             "objective": name, "value": float(value)}
            for p in evaluation_params if p["objectives"]
            for name, value in p["objectives"].items()
            if type(value) in (float, int) and math.isfinite(value)]


def _campaign_select() -> Any:
    def count(table: Table, *conditions: Any) -> Any:
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
        objectives=_objective_pairs(row.objectives),
        environment=None if row.environment is None else codec.decode_json(row.environment),
    )
