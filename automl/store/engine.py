"""Database URL validation and engine creation (SQLite pragmas, PostgreSQL connect options)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from .errors import StoreError, safe_url

# backend -> (driver used when the URL names none, drivers accepted)
BACKENDS: dict[str, tuple[str, frozenset[str]]] = {
    "sqlite": ("pysqlite", frozenset({"pysqlite"})),
    "postgresql": ("psycopg", frozenset({"psycopg"})),
}
EXAMPLES = "sqlite:///path/run.db or postgresql+psycopg://user@host:5432/dbname"
PG_CONNECT_TIMEOUT_S = 10
SQLITE_WAL_SWITCH_TIMEOUT_S = 10.0

# NaN/inf are encoded by `codec` before they get here; refuse any that slip through instead of
# writing JSON that PostgreSQL rejects and SQLite accepts. The writer's COPY path serializes its
# JSON columns with this too, so both paths store the same text. One encoder, built once: what
# json.dumps(value, allow_nan=False, ensure_ascii=False) writes, without building an encoder
# for every value (a third of the serializer's time on small values).
json_dumps = json.JSONEncoder(allow_nan=False, ensure_ascii=False).encode


def parse_url(raw: str | URL) -> URL:
    """The validated URL with its driver made explicit, or `StoreError`.

    Never echoes an unparsable string back: it may hold a password."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError, TypeError):
        raise StoreError(f"malformed database URL (expected e.g. {EXAMPLES})") from None
    backend = url.get_backend_name()  # get_driver_name() would import the dialect
    driver = url.drivername.partition("+")[2]
    if backend not in BACKENDS:
        supported = ", ".join(BACKENDS)
        raise StoreError(
            f"unsupported database backend {backend!r} in {safe_url(url)} (supported: {supported})"
        )
    default_driver, drivers = BACKENDS[backend]
    if not driver:
        url = url.set(drivername=f"{backend}+{default_driver}")
    elif driver not in drivers:
        raise StoreError(
            f"unsupported driver {driver!r} for {backend} in {safe_url(url)} "
            f"(supported: {', '.join(sorted(drivers))})"
        )
    if backend == "sqlite":
        _check_sqlite_path(url)
    elif not url.database:
        raise StoreError(f"no database name in {safe_url(url)} (expected e.g. {EXAMPLES})")
    return url


def is_sqlite_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names; None for other backends, in-memory and `uri=true` URLs."""
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url) or url.query.get("uri"):
        return None
    return Path(str(url.database))


def _check_sqlite_path(url: URL) -> None:
    path = sqlite_file(url)
    if path is None:
        return
    if path.is_dir():
        raise StoreError(f"SQLite path {str(path)!r} is a directory, not a database file")
    if not path.parent.is_dir():
        raise StoreError(f"directory {str(path.parent)!r} of SQLite database does not exist")


def require_existing_database(url: URL) -> None:
    """`StoreError` where a SQLite URL names a file that is not there: a command that only
    reads (`automl ls`, `status`, `automl.open`) must not leave an empty database behind a
    mistyped path and then report that it holds no campaigns."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StoreError(f"no SQLite database at {str(path)!r} (`automl run` creates one; "
                         f"check --db or $AUTOML_DB)")


def create_store_engine(raw: str | URL) -> Engine:
    """An engine for a validated URL. Does not connect yet."""
    url = parse_url(raw)
    kwargs: dict[str, Any] = {"json_serializer": json_dumps}
    if url.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        if "connect_timeout" not in url.query:
            kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see `_sqlite_on_begin`): the sqlite3 module's legacy
    # transaction control does not BEGIN before DDL, so migrations would not be atomic.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        _enter_wal_mode(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _enter_wal_mode(cursor: Any) -> None:
    """Switch a new database file to WAL (a setting the file keeps), waiting out others.

    Changing the journal mode needs the file to itself and answers "database is locked" at
    once, without waiting the busy timeout, when another process opens the same new file in
    the same instant (a campaign starting while `automl ls` polls for it)."""
    deadline = time.monotonic() + SQLITE_WAL_SWITCH_TIMEOUT_S
    while True:
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_on_begin(connection: Connection) -> None:
    # "BEGIN IMMEDIATE" where the caller asks for the write lock up front (migrations)
    connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))
