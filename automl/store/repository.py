"""`Store`: the one public class of the store, a thin repository for SQLite and PostgreSQL.

It owns the engine, the transactions and the translation of database errors into `StoreError`,
and keeps the API in one place; the work is done by one module per job: `campaigns` (campaign
rows), `writer` (the write batch, the hot path), `derived` (the objective index and the
maintained Pareto front, kept in step with the evaluations) and `queries` (the reads). Records
in and out are the plain dataclasses of `records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from . import campaigns, codec, integrity, migrate, queries
from .engine import create_store_engine, parse_url, require_existing_database
from .errors import CampaignExists, LeaseHeld, LeaseLost, StoreError, safe_url, translated
from .records import (
    CAMPAIGN_STATUSES,
    CacheEntryRow,
    CampaignRecord,
    CandidateRow,
    EvaluationRow,
)
from .tables import check_direction
from .writer import Batch, BatchWriter


class Store:
    """Campaign storage. Build with `Store.open(url)`; close with `close()` or a ``with``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = BatchWriter(engine.dialect.name)
        self._objectives: dict[int, campaigns.Directions | None] = {}  # per campaign
        # the leases this store's owner holds (campaign id -> owner text): every write batch of
        # such a campaign first checks, in its own transaction, that the lease is still held
        self._leases: dict[int, str] = {}

    @classmethod
    def open(cls, url: str, *, auto_upgrade: bool = True, create: bool = True,
             verify: bool = False, copy_tables: bool = False) -> Store:
        """Validate `url`, connect, and create the schema (empty database) or upgrade it to head.

        With ``auto_upgrade=False`` an out-of-date schema raises `StoreError` instead; with
        ``create=False`` so does a SQLite file that does not exist yet. With ``verify`` an
        existing SQLite file is first checked (``PRAGMA quick_check``, before anything can
        write to it) and refused when damaged (`integrity.refuse_damaged`). An upgrade that
        copies the tables of a large SQLite file runs only with ``copy_tables``
        (`migrate.ensure_schema`)."""
        if verify:
            integrity.refuse_damaged(parse_url(url))
        engine = create_store_engine(url)
        try:
            if not create:
                require_existing_database(engine.url)
            migrate.ensure_schema(engine, auto_upgrade=auto_upgrade, copy_tables=copy_tables)
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
        owner: str | None = None,
        status: str = "running",
    ) -> CampaignRecord:
        """`objectives` ((name, direction) pairs) lets the store keep the campaign's Pareto
        front up to date as evaluations arrive; `environment` is recorded for `reproduce`;
        with `owner` the campaign is created leased to it (see `take_lease`); `status`
        "stopped" for one another process will run (`automl run --detach`)."""
        registered = campaigns.registered(objectives)
        values = campaigns.campaign_values(name, space, seed, config, settings_hash,
                                           code_version, registered, environment, owner,
                                           status)
        try:
            with self._transaction(f"creating campaign {name!r}") as conn:
                campaign_id = campaigns.insert_campaign(conn, values)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError) and self._find(name) is not None:
                raise CampaignExists(f"a campaign named {name!r} already exists") from None
            raise
        if owner is not None:
            self._leases[campaign_id] = owner
        return CampaignRecord(id=campaign_id, **{**values, "config": config,
                                                 "objectives": registered,
                                                 "environment": environment,
                                                 "owner": campaigns.decode_owner(owner)})

    def get_campaign(self, id_or_name: int | str, counts: bool = True) -> CampaignRecord:
        """By id (int) or by name (str); `StoreError` "no campaign ..." if absent. With
        ``counts=False`` the candidate and evaluation counts (a scan each) are left at 0."""
        record = self._find(id_or_name, counts)
        if record is None:
            raise StoreError(f"no campaign {id_or_name!r}")
        return record

    def numbered_name(self, stem: str) -> str:
        """``stem-N``, N one more than the largest N a stored campaign ``stem-N`` has (1 for
        the first): the default campaign names, short enough to type back. Two processes may
        pick the same one at once; `create_campaign` then raises `CampaignExists` for one."""
        with self._transaction(f"numbering campaigns named {stem!r}") as conn:
            return campaigns.numbered_name(conn, stem)

    def list_campaigns(self) -> list[CampaignRecord]:
        """All campaigns by id, with their candidate and evaluation counts (one query)."""
        with self._transaction("listing campaigns") as conn:
            return campaigns.list_all(conn)

    def set_campaign_status(self, campaign_id: int, status: str) -> None:
        if status not in CAMPAIGN_STATUSES:
            raise StoreError(f"campaign status {status!r} is not one of {CAMPAIGN_STATUSES}")
        with self._transaction(f"setting status of campaign {campaign_id}") as conn:
            campaigns.touch(conn, campaign_id, status=status)

    def update_campaign_config(self, campaign_id: int, config: dict[str, Any]) -> None:
        """Replace the campaign's stored config (`automl resume --max-evals` extends the
        budget this way)."""
        encoded = codec.encode_json(config, "campaign config")
        with self._transaction(f"updating the config of campaign {campaign_id}") as conn:
            campaigns.touch(conn, campaign_id, config=encoded)

    # -- the lease ---------------------------------------------------------------------------

    def take_lease(self, campaign_id: int, owner: str, grace_seconds: float,
                   force: bool = False, expected_owner: str | None = None) -> None:
        """Become the campaign's one live owner (status running, heartbeat now) in one
        conditional UPDATE: allowed when it is not running or its heartbeat is older than
        `grace_seconds`; `force` skips that check (with `expected_owner`: only while that
        owner holds it). `LeaseHeld` naming the holder when refused. From then on every write
        batch of the campaign checks that this store still holds the lease (`LeaseLost`)."""
        with self._immediate(f"taking the lease of campaign {campaign_id}") as conn:
            if campaigns.take_lease(conn, campaign_id, owner, grace_seconds, force,
                                    expected_owner):
                self._leases[campaign_id] = owner
                return
            lease = campaigns.read_lease(conn, campaign_id)
        if lease is None:
            raise StoreError(f"no campaign {campaign_id!r}")
        raise LeaseHeld(_held_by(campaign_id, lease))

    def renew_lease(self, campaign_id: int, owner: str) -> bool:
        """One heartbeat, its own short transaction: False when another owner took the lease
        (this one must stop without writing)."""
        with self._transaction(f"renewing the lease of campaign {campaign_id}") as conn:
            return campaigns.renew_lease(conn, campaign_id, owner)

    def end_lease(self, campaign_id: int, owner: str, status: str,
                  failure: str | None = None) -> None:
        """Write the owner's final status (and failure reason) while it still holds the
        lease, and let the lease go; `LeaseLost` (nothing written) when another took it."""
        if status not in CAMPAIGN_STATUSES:
            raise StoreError(f"campaign status {status!r} is not one of {CAMPAIGN_STATUSES}")
        self._leases.pop(campaign_id, None)
        with self._transaction(f"setting status of campaign {campaign_id}") as conn:
            if campaigns.end_lease(conn, campaign_id, owner, status, failure):
                return
            lease = campaigns.read_lease(conn, campaign_id)
        raise LeaseLost(_lost_to(campaign_id, lease))

    def lease_holder(self, campaign_id: int) -> str:
        """Who holds the campaign's lease now, in words (for messages)."""
        with self._transaction(f"reading the lease of campaign {campaign_id}") as conn:
            return _held_by(campaign_id, campaigns.read_lease(conn, campaign_id))

    def forget_lease(self, campaign_id: int) -> None:
        """Stop checking writes of this campaign against a lease (it was lost or given up)."""
        self._leases.pop(campaign_id, None)

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
        batch = Batch.encode(campaign_id, candidates, evaluations, cache_entries,
                             forgotten_cache_entries, dispatched, landed, state)
        if not batch:
            return
        owner = self._leases.get(campaign_id)
        with self._transaction(f"write_batch for campaign {campaign_id}") as conn:
            # fencing: a batch of a leased campaign is written only while its lease is held,
            # checked by the batch's first statement (which also renews the heartbeat)
            if owner is not None and not campaigns.renew_lease(conn, campaign_id, owner):
                raise LeaseLost(_lost_to(campaign_id, campaigns.read_lease(conn, campaign_id)))
            self._writer.write(conn, batch, self._registered_objectives)

    # -- reads -------------------------------------------------------------------------------

    def load_candidates(self, campaign_id: int) -> list[CandidateRow]:
        """All candidates of the campaign, by number."""
        with self._reading(campaign_id, "loading candidates") as conn:
            return queries.load_candidates(conn, campaign_id)

    def load_evaluations(self, campaign_id: int) -> list[EvaluationRow]:
        """All evaluations of the campaign, by candidate number, then in insertion order."""
        with self._reading(campaign_id, "loading evaluations") as conn:
            return queries.load_evaluations(conn, campaign_id)

    def load_cache(self, campaign_id: int, settings_hash: str, limit: int | None = None
                   ) -> list[CacheEntryRow]:
        """The campaign's cache entries for `settings_hash`, in first-insertion order. With
        `limit`, only the `limit` most recently written of them (an upsert is a write; a batch
        writes its entries at once), still in first-insertion order."""
        if limit is not None and limit < 0:
            raise StoreError(f"cache limit {limit} is negative")
        with self._reading(campaign_id, "loading the cache") as conn:
            return queries.load_cache(conn, campaign_id, settings_hash, limit)

    def cache_hashes(self, campaign_id: int, settings_hash: str, page: int = 10_000
                     ) -> Iterator[str]:
        """Every functional hash in the campaign's cache for `settings_hash`, a page per short
        transaction: memory stays that of one page however large the cache."""
        after = 0
        while True:
            with self._reading(campaign_id, "listing cached hashes") as conn:
                rows = queries.cache_hashes_page(conn, campaign_id, settings_hash, after, page)
            yield from (functional_hash for _, functional_hash in rows)
            if len(rows) < page:
                return
            after = rows[-1][0]

    def load_cache_entry(self, campaign_id: int, settings_hash: str, functional_hash: str
                         ) -> CacheEntryRow | None:
        """The campaign's cache entry for (`settings_hash`, `functional_hash`), None if it has
        none (one lookup of the cache's unique key)."""
        # the running controller asks this for every miss in its memory: one query, not two
        # (no check that the campaign exists: an unknown one has no entries)
        with self._transaction(f"loading a cache entry of campaign {campaign_id}") as conn:
            return queries.load_cache_entry(conn, campaign_id, settings_hash, functional_hash)

    def load_shared_cache(self, settings_hash: str, exclude_campaign: int, after_id: int = 0
                          ) -> list[tuple[int, int, CacheEntryRow]]:
        """Cache entries of the other campaigns with these evaluation settings, as (entry id,
        campaign id, entry), by id; `after_id` returns only those added since."""
        with self._transaction("loading the shared cache") as conn:
            return queries.load_shared_cache(conn, settings_hash, exclude_campaign, after_id)

    def load_in_flight(self, campaign_id: int) -> list[CandidateRow]:
        """Candidates dispatched but not stored when the campaign last flushed, by number
        (status "in_flight")."""
        with self._reading(campaign_id, "loading candidates in flight") as conn:
            return queries.load_in_flight(conn, campaign_id)

    def load_state(self, campaign_id: int) -> dict[str, Any] | None:
        """The controller state written with the last batch (None before the first)."""
        with self._reading(campaign_id, "loading the controller state") as conn:
            return campaigns.read_state(conn, campaign_id)

    def status_counts(self, campaign_id: int) -> dict[str, int]:
        """Candidates per status; every status of `CANDIDATE_STATUSES` is present (maybe 0)."""
        with self._reading(campaign_id, "counting candidates") as conn:
            return queries.status_counts(conn, campaign_id)

    def rejection_reasons(self, campaign_id: int) -> dict[str, int]:
        """Rejected candidates per kind of reason: the text before the first ':' of their
        evaluation's error (e.g. ``quality``, ``unstable``), most frequent first."""
        with self._reading(campaign_id, "counting rejection reasons") as conn:
            return queries.rejection_reasons(conn, campaign_id)

    def max_candidate_number(self, campaign_id: int) -> int | None:
        """The highest candidate number stored, None when there is none. Candidates in flight
        are not stored ones: a campaign resumes numbering at `next_candidate_number`."""
        with self._reading(campaign_id, "reading the last candidate number") as conn:
            return queries.max_candidate_number(conn, campaign_id)

    def next_candidate_number(self, campaign_id: int) -> int:
        """1 + the highest number among the stored candidates and those in flight; 0 when
        there is none."""
        with self._reading(campaign_id, "reading the next candidate number") as conn:
            return queries.next_candidate_number(conn, campaign_id)

    # -- queries (fast at millions of evaluations) --------------------------------------------

    def top(self, campaign_id: int, objective: str, k: int, direction: str = "minimize"
            ) -> list[tuple[int, float]]:
        """The `k` best (candidate number, value) of `objective`, best first (ties by number);
        a candidate evaluated several times appears once, with its best value."""
        check_direction(direction)
        with self._reading(campaign_id, f"top {k} by {objective}") as conn:
            return queries.top(conn, campaign_id, objective, k, direction)

    def best_values(self, campaign_id: int, objectives: Sequence[tuple[str, str]]
                    ) -> dict[str, float]:
        """The best value of each (name, direction) over every evaluation with objectives (one
        `top` each); an objective that no evaluation has a finite value of is left out."""
        for _, direction in objectives:
            check_direction(direction)
        with self._reading(campaign_id, "reading the best values") as conn:
            return queries.best_values(conn, campaign_id, objectives)

    def front(self, campaign_id: int) -> list[tuple[int, dict[str, float]]] | None:
        """The maintained Pareto front, (candidate number, objectives) by number; None when
        the campaign registered no objectives (stored before the front was kept)."""
        with self._reading(campaign_id, "reading the Pareto front") as conn:
            if self._registered_objectives(conn, campaign_id) is None:
                return None
            return queries.front(conn, campaign_id)

    def get_candidates(self, campaign_id: int, numbers: Iterable[int]) -> dict[int, CandidateRow]:
        """The candidates with these numbers (absent numbers are left out)."""
        with self._reading(campaign_id, "loading candidates") as conn:
            return queries.get_candidates(conn, campaign_id, numbers)

    def get_evaluations(self, campaign_id: int, numbers: Iterable[int]
                        ) -> dict[int, list[EvaluationRow]]:
        """The evaluations of these candidates, in insertion order."""
        with self._reading(campaign_id, "loading evaluations") as conn:
            return queries.get_evaluations(conn, campaign_id, numbers)

    def duplicate_count(self, campaign_id: int, number: int) -> int:
        """How many candidates the cache answered with candidate `number`'s evaluation."""
        with self._reading(campaign_id, "counting duplicates") as conn:
            return queries.duplicate_count(conn, campaign_id, number)

    def lineage(self, campaign_id: int, number: int) -> list[CandidateRow]:
        """Candidate `number`, its first parent, that one's first parent, ... back to a
        candidate without parents (a seed). `StoreError` if `number` does not exist."""
        with self._reading(campaign_id, f"tracing the lineage of candidate {number}") as conn:
            rows = queries.lineage(conn, campaign_id, number)
        if not rows:
            raise StoreError(f"campaign {campaign_id} has no candidate {number}")
        return rows

    # -- helpers -----------------------------------------------------------------------------

    def _registered_objectives(self, conn: Connection, campaign_id: int
                               ) -> campaigns.Directions | None:
        if campaign_id not in self._objectives:  # immutable once created: read once
            self._objectives[campaign_id] = campaigns.read_objectives(conn, campaign_id)
        return self._objectives[campaign_id]

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        with translated(action, self._engine.url), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _immediate(self, action: str) -> Iterator[Connection]:
        """A transaction that takes SQLite's write lock at BEGIN (no snapshot read first, so
        a second writer waits its turn instead of failing); plain BEGIN on PostgreSQL."""
        with translated(action, self._engine.url), self._engine.connect() as conn:
            if self._engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def _reading(self, campaign_id: int, action: str) -> Iterator[Connection]:
        """A transaction that first checks the campaign exists."""
        with self._transaction(f"{action} of campaign {campaign_id}") as conn:
            if not campaigns.exists(conn, campaign_id):
                raise StoreError(f"no campaign {campaign_id!r}")
            yield conn

    def _find(self, id_or_name: int | str, counts: bool = True) -> CampaignRecord | None:
        with self._transaction(f"looking up campaign {id_or_name!r}") as conn:
            return campaigns.find(conn, id_or_name, counts)


def _held_by(campaign_id: int, lease: Any) -> str:
    """Who holds a campaign's lease, from `campaigns.read_lease`'s row."""
    if lease is None:
        return f"no campaign {campaign_id!r}"
    status, raw_owner, heartbeat_at, now = lease
    owner = campaigns.decode_owner(raw_owner) or {}
    who = describe_owner(owner)
    if heartbeat_at is None:
        return f"campaign {campaign_id} is {status}, owned by {who} (no heartbeat)"
    return (f"campaign {campaign_id} is {status}, owned by {who}, last heartbeat "
            f"{max(0.0, now - heartbeat_at):.0f} s ago")


def _lost_to(campaign_id: int, lease: Any) -> str:
    return lost_lease_message(campaign_id, _held_by(campaign_id, lease))


def lost_lease_message(campaign_id: int, holder: str) -> str:
    """What a controller that lost its lease says, found by a write batch (`LeaseLost`) or by
    the heartbeat (`automl.lease.Heartbeat`); `holder` in words (`Store.lease_holder`)."""
    return (f"campaign {campaign_id}: lost its lease ({holder}); stopped without writing, the "
            f"campaign is the new owner's")


def describe_owner(owner: dict[str, Any] | None) -> str:
    """`host H pid P` (and the Ray actor or job), or `nobody` for no owner."""
    if not owner:
        return "nobody"
    parts = [f"host {owner.get('host', '?')} pid {owner.get('pid', '?')}"]
    if owner.get("ray_actor_id"):
        parts.append(f"Ray actor {owner['ray_actor_id']}")
    elif owner.get("ray_job_id"):
        parts.append(f"Ray job {owner['ray_job_id']}")
    return ", ".join(parts)
