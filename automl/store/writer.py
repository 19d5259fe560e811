"""The hot path: one write batch, encoded up front and written in one transaction, so a batch
is stored whole or not at all and a crash leaves the campaign as its previous batch left it.

Encoding (`Batch.encode`) happens before the transaction, so a value the database cannot hold
fails without opening one. The transaction (`BatchWriter.write`) stamps the campaign first
(`campaigns.touch`: its row lock serializes writers of one campaign on PostgreSQL), then
writes the rows and keeps the derived tables (`derived`) and the cache's write order in step.

The plain row inserts (candidates, evaluations, their objective values, in-flight candidates)
are executemany INSERTs on SQLite and ``COPY ... FROM STDIN`` on PostgreSQL (`copy_tables`):
on the same connection, so inside the same transaction, with the JSON columns serialized as
the engine serializes them for an INSERT. psycopg's executemany sends and binds one statement
per row; COPY streams the rows, and the client encodes the next table's rows (and computes the
new front) while the server still stores the previous ones. A row COPY cannot store (a
duplicate key) fails the batch as an INSERT would, with the same database error; a missing
campaign fails before any row, at the campaign stamp.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    Integer,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from . import campaigns, codec, derived
from .engine import json_dumps
from .errors import StoreError
from .models import CACHE_KEY
from .records import CacheEntryRow, CandidateRow, EvaluationRow
from .tables import CACHE_ENTRIES, CANDIDATES, EVALUATIONS, IN_FLIGHT, OBJECTIVE_VALUES

# the dialects whose INSERT has ON CONFLICT, imported when a write needs one: a command that
# only reads (`automl ls`) does not pay for PostgreSQL's dialect
_DIALECT_INSERT = {"sqlite": "sqlalchemy.dialects.sqlite",
                   "postgresql": "sqlalchemy.dialects.postgresql"}


@dataclass(frozen=True)
class Batch:
    """A write batch as statement parameters (see `Store.write_batch` for its meaning)."""

    campaign_id: int
    candidates: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    cache_entries: list[dict[str, Any]]  # one per key, the batch's last entry for it
    forgotten: list[dict[str, Any]]
    dispatched: list[dict[str, Any]]
    landed: list[dict[str, Any]]
    state: dict[str, Any] | None = None  # the encoded controller state; None: keep it

    @classmethod
    def encode(cls, campaign_id: int, candidates: Iterable[CandidateRow],
               evaluations: Iterable[EvaluationRow], cache_entries: Iterable[CacheEntryRow],
               forgotten_cache_entries: Iterable[tuple[str, str]],
               dispatched: Iterable[CandidateRow], landed: Iterable[int],
               state: dict[str, Any] | None) -> Batch:
        return cls(
            campaign_id=campaign_id,
            candidates=[codec.candidate_params(campaign_id, row) for row in candidates],
            evaluations=[codec.evaluation_params(campaign_id, row) for row in evaluations],
            cache_entries=list({
                (row.settings_hash, row.functional_hash): codec.cache_params(campaign_id, row)
                for row in cache_entries
            }.values()),
            forgotten=[{"campaign": campaign_id, "settings": settings, "hash": functional}
                       for settings, functional in forgotten_cache_entries],
            dispatched=[codec.in_flight_params(campaign_id, row) for row in dispatched],
            landed=[{"campaign": campaign_id, "number": number} for number in landed],
            state=None if state is None else codec.encode_json(state, "campaign state"),
        )

    def __bool__(self) -> bool:
        return bool(self.candidates or self.evaluations or self.cache_entries or self.forgotten
                    or self.dispatched or self.landed or self.state is not None)


class BatchWriter:
    """Writes `Batch`es on one database dialect (the cache upsert is dialect-specific)."""

    def __init__(self, dialect_name: str) -> None:
        self._copy = dialect_name == "postgresql"
        # PostgreSQL upserts through `upsert_cache_recordset`
        self._cache_upsert = None if self._copy else cache_upsert(dialect_name)

    def write(self, conn: Connection, batch: Batch,
              directions: Callable[[Connection, int], Any]) -> None:
        """Write `batch` inside the caller's transaction. `directions(conn, campaign_id)` gives
        the campaign's registered objectives (None: it keeps no front); it is asked only when
        the batch has evaluations."""
        campaign_id = batch.campaign_id
        if batch.state is None:
            campaigns.touch(conn, campaign_id)
        else:
            campaigns.touch(conn, campaign_id, state=batch.state)
        if batch.landed:
            delete_landed(conn, campaign_id, [row["number"] for row in batch.landed])
        if self._copy:
            _copy_rows_and_front(conn, batch, directions)
        else:
            insert_rows(conn, IN_FLIGHT, batch.dispatched)
            insert_rows(conn, CANDIDATES, batch.candidates)
            if batch.evaluations:
                insert_rows(conn, EVALUATIONS, batch.evaluations)
                insert_rows(conn, OBJECTIVE_VALUES,
                            derived.objective_value_params(campaign_id, batch.evaluations))
                registered = directions(conn, campaign_id)
                if registered:
                    derived.update_front(conn, campaign_id, registered, batch.evaluations)
        _forget(conn, batch.forgotten)
        if batch.cache_entries:
            entries = _stamped(conn, campaign_id, batch.cache_entries)
            if self._copy:
                upsert_cache_recordset(conn, entries)
            else:
                conn.execute(self._cache_upsert, entries)


def _forget(conn: Connection, forgotten: list[dict[str, Any]]) -> None:
    """Delete the forgotten cache entries (before the batch's upserts)."""
    if forgotten:
        columns = CACHE_ENTRIES.c
        conn.execute(delete(CACHE_ENTRIES).where(
            columns.campaign_id == bindparam("campaign"),
            columns.settings_hash == bindparam("settings"),
            columns.functional_hash == bindparam("hash"),
        ), forgotten)


# rows per DELETE ... IN (...): SQLite before 3.32 binds at most 999 values a statement
_DELETE_CHUNK = 900


def delete_landed(conn: Connection, campaign_id: int, numbers: list[int]) -> None:
    """Forget the in-flight records of the candidates `numbers`: set-based DELETEs (an
    executemany of one DELETE per row cost PostgreSQL a round trip each). PostgreSQL takes the
    numbers as one array parameter (``= ANY``: no statement with thousands of placeholders to
    parse); SQLite in chunks of ``IN (...)``."""
    if conn.dialect.name == "postgresql":
        conn.execute(delete(IN_FLIGHT).where(
            IN_FLIGHT.c.campaign_id == campaign_id,
            IN_FLIGHT.c.number == any_(bindparam("numbers", numbers, type_=ARRAY(Integer)))))
        return
    for start in range(0, len(numbers), _DELETE_CHUNK):
        conn.execute(delete(IN_FLIGHT).where(
            IN_FLIGHT.c.campaign_id == campaign_id,
            IN_FLIGHT.c.number.in_(numbers[start:start + _DELETE_CHUNK])))


def upsert_cache_recordset(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """PostgreSQL's form of the cache upsert (`cache_upsert`): the whole batch's entries as one
    JSON parameter, unpacked by ``json_to_recordset`` into one INSERT ... ON CONFLICT DO UPDATE
    (an executemany ran the statement once per entry, a round trip each). Needs no privilege
    beyond the INSERT and leaves nothing in the session (a temporary staging table needed the
    TEMP privilege, which managed databases often withhold, and outlived the transaction
    behind a transaction-pooling proxy). ``json``, not ``jsonb``: an objectives value keeps
    its text as `engine.json_dumps` wrote it, as the executemany stored it; SQL NULL stays
    NULL. `Batch.encode` keeps one entry per key: one statement may not update a row twice."""
    quote = conn.dialect.identifier_preparer.quote
    columns = [c for c in CACHE_ENTRIES.columns if c.name != "id"]
    names = ", ".join(quote(c.name) for c in columns)
    types = ", ".join(f"{quote(c.name)} {c.type.compile(dialect=conn.dialect)}"
                      for c in columns)
    replaced = [quote(c.name) for c in columns if c.name not in CACHE_KEY]
    conn.exec_driver_sql(
        f"INSERT INTO {quote(CACHE_ENTRIES.name)} ({names}) SELECT {names} "
        f"FROM json_to_recordset(%(entries)s::json) AS entry({types}) "
        f"ON CONFLICT ({', '.join(quote(name) for name in CACHE_KEY)}) DO UPDATE SET "
        f"{', '.join(f'{name} = excluded.{name}' for name in replaced)}",
        {"entries": json_dumps([{c.name: entry[c.name] for c in columns} for entry in entries])})


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """An executemany INSERT of `rows` (dicts of column values, all with the same keys)."""
    if rows:
        conn.execute(insert(table), rows)


def _copy_rows_and_front(conn: Connection, batch: Batch,
                         directions: Callable[[Connection, int], Any]) -> None:
    """The PostgreSQL form of the row inserts and the front update: the same statements in the
    same order, except that the stored front is read before the rows are copied (the campaign
    stamp's lock is held already, and the rows do not change the front) so that the new front
    is computed while the server still stores the rows."""
    campaign_id, evaluations = batch.campaign_id, batch.evaluations
    registered = directions(conn, campaign_id) if evaluations else None
    stored = (derived.stored_front(conn, campaign_id)
              if registered and any(p["objectives"] for p in evaluations) else None)
    changes = copy_tables(conn, [
        (IN_FLIGHT, lambda: batch.dispatched),
        (CANDIDATES, lambda: batch.candidates),
        (EVALUATIONS, lambda: evaluations),
        (OBJECTIVE_VALUES, lambda: derived.objective_value_params(campaign_id, evaluations)),
    ], then=lambda: None if stored is None else derived.front_changes(registered, stored,
                                                                        evaluations))
    if changes is not None:
        derived.apply_front_changes(conn, campaign_id, registered, *changes)


def copy_tables(conn: Connection,
                jobs: Sequence[tuple[Table, Callable[[], list[dict[str, Any]]]]],
                then: Callable[[], Any] = lambda: None) -> Any:
    """Store each job's rows (dicts of column values, all with the same keys; the callable
    makes them) with ``COPY table (columns) FROM STDIN``, one table after another, on the
    connection's own DBAPI connection and so in its transaction; returns `then()`.

    A COPY's rows are stored by the server after the client has sent them, so each job's rows
    are made and encoded, and finally `then` runs, before the previous COPY is finished: that
    work overlaps the server's instead of adding to it.

    Stores what `insert_rows` stores: a JSON column's value is serialized by
    `engine.json_dumps` (the engine's serializer, which an INSERT uses too), None is SQL NULL in
    a ``none_as_null`` JSON column and JSON ``null`` in any other (as SQLAlchemy binds it),
    other values are adapted by psycopg as an INSERT's parameters are. A database error comes
    back as SQLAlchemy's wrapping of it (`IntegrityError` for a duplicate key), like an
    INSERT's."""
    dialect = conn.dialect
    dbapi = dialect.loaded_dbapi
    steps: list[Callable[[], Any]] = [
        functools.partial(_copy_input, dialect, table, make) for table, make in jobs]
    steps.append(then)
    prepared = steps[0]()
    statement = None
    try:
        with conn.connection.driver_connection.cursor() as cursor:
            for step in steps[1:]:
                if prepared is None:  # no rows for this table
                    prepared = step()
                    continue
                statement, rows = prepared
                with cursor.copy(statement) as copy:
                    for values in rows:
                        copy.write_row(values)
                    prepared = step()  # while the server stores this table's rows
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi.Error, dialect=dialect) from exc
    return prepared


def _copy_input(dialect: Any, table: Table, make: Callable[[], list[dict[str, Any]]]
                ) -> tuple[str, list[list[Any]]] | None:
    """The COPY statement for the rows `make()` gives and their values in its column order,
    JSON serialized; None without rows."""
    rows = make()
    if not rows:
        return None
    columns = list(rows[0])
    unknown = [name for name in columns if name not in table.c]
    if unknown:
        raise StoreError(f"no column {unknown[0]!r} in table {table.name!r}")
    defaulted = [c.name for c in table.c if c.name not in columns and c.default is not None]
    if defaulted:  # a client-side default: only an INSERT computes it
        raise StoreError(f"COPY into {table.name!r} cannot fill {defaulted[0]!r}")
    json_columns = [(index, not table.c[name].type.none_as_null)
                    for index, name in enumerate(columns)
                    if isinstance(table.c[name].type, JSON)]
    values = [[row[name] for name in columns] for row in rows]
    for index, null_is_json in json_columns:
        for row in values:
            value = row[index]
            if value is not None or null_is_json:
                row[index] = json_dumps(value)
    quote = dialect.identifier_preparer
    return (f"COPY {quote.format_table(table)} "
            f"({', '.join(quote.quote(name) for name in columns)}) FROM STDIN", values)


def _stamped(conn: Connection, campaign_id: int, cache_params: list[dict[str, Any]]
             ) -> list[dict[str, Any]]:
    """The cache entries with their write number: one more than the last one stored for their
    (campaign, settings hash), the same for the whole batch. An upsert keeps an entry's row id
    (its first insertion) but takes the new number, so `written` orders the latest writes
    (`queries.load_cache` with a limit). Consistent under concurrent writers of one campaign:
    the campaign stamp that opens the batch serializes them."""
    columns = CACHE_ENTRIES.c
    numbers = {}
    for settings_hash in {p["settings_hash"] for p in cache_params}:
        last = conn.execute(select(func.max(columns.written)).where(
            columns.campaign_id == campaign_id, columns.settings_hash == settings_hash)
        ).scalar_one()
        numbers[settings_hash] = (last or 0) + 1
    return [{**p, "written": numbers[p["settings_hash"]]} for p in cache_params]


def cache_upsert(dialect_name: str) -> Insert:
    """INSERT of cache entries that replaces the stored entry with the same key (all its
    columns but the key and the row id)."""
    if dialect_name not in _DIALECT_INSERT:
        raise StoreError(f"no upsert support for dialect {dialect_name!r}")
    stmt = importlib.import_module(_DIALECT_INSERT[dialect_name]).insert(CACHE_ENTRIES)
    replaced = [c.name for c in CACHE_ENTRIES.columns if c.name not in (*CACHE_KEY, "id")]
    return stmt.on_conflict_do_update(
        index_elements=[CACHE_ENTRIES.c[name] for name in CACHE_KEY],
        set_={name: stmt.excluded[name] for name in replaced},
    )
