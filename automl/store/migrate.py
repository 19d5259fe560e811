"""Alembic, driven from code: no alembic.ini needed. The connection to migrate is handed to
``migrations/env.py`` through ``config.attributes["connection"]``.

Alembic is imported only when a schema must change: opening a database that is already at
`HEAD_REVISION` (the common case, every command) reads its revision with one query, so that
`automl ls` does not pay Alembic's import time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from .errors import StoreError, safe_url, translated

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# the newest migration in migrations/versions/ (tests/test_store.py checks it against Alembic's)
HEAD_REVISION = "0005"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    # configparser interpolation: a literal '%' in the path must be doubled
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return HEAD_REVISION


def migrations_head() -> str:
    """The newest revision Alembic finds among the shipped migrations."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None: no schema yet), as Alembic records it, by one query."""
    with translated("reading the schema revision", engine.url), engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        return rows[0][0] if len(rows) == 1 else None


# Any fixed 64-bit key: PostgreSQL advisory locks are per database, named by a number.
_PG_MIGRATION_LOCK = 0x6175746F6D6C  # "automl"


def _migrate(engine: Engine, action: str, run: Callable[[Connection], None]) -> None:
    """Run `run(connection)` in one transaction that holds the database's migration lock from
    its first statement.

    Two processes opening one new database at once (a campaign starting while `automl ls`
    polls it, two machines joining a fresh PostgreSQL campaign) would otherwise both see an
    empty schema and both create it; one of them failed. SQLite: ``BEGIN IMMEDIATE`` takes the
    write lock up front (a deferred BEGIN that read first cannot take it later: "database is
    locked"); PostgreSQL: a transaction-scoped advisory lock."""
    with translated(action, engine.url), engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")  # see engine.py
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": _PG_MIGRATION_LOCK})
            run(connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to `revision`, in one transaction."""
    from alembic import command

    _migrate(engine, "schema upgrade",
             lambda connection: command.upgrade(alembic_config(connection), revision))


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _migrate(engine, "schema downgrade",
             lambda connection: command.downgrade(alembic_config(connection), revision))


# revisions that copy whole tables on SQLite (it cannot drop a constraint in place): on a
# large file that takes a while, about the file's size in free disk, and the write lock
# throughout (a campaign still running under an older version would stall on it), so past
# this size a command does not start one on its own: `automl db upgrade` runs it
COPIES_TABLES_ON_SQLITE = ("0005",)
SQLITE_AUTO_COPY_LIMIT_BYTES = 64 * 2**20


def ensure_schema(engine: Engine, *, auto_upgrade: bool, copy_tables: bool = False) -> None:
    """Create the schema in an empty database, upgrade an older one (if `auto_upgrade`), and
    refuse one whose revision this code does not know (written by a newer version). An
    upgrade that would copy the tables of a SQLite file over `SQLITE_AUTO_COPY_LIMIT_BYTES`
    is refused unless `copy_tables` (`automl db upgrade`).

    Safe when several processes open the same database at once: the revision is read again
    under the migration lock, so only the first of them migrates."""
    with translated("connecting to the database", engine.url), engine.connect():
        pass
    head = head_revision()
    if current_revision(engine) == head:  # the common case: no lock taken
        return

    from alembic import command
    from alembic.runtime.migration import MigrationContext

    def upgrade_if_still_needed(connection: Connection) -> None:
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return  # another process migrated while we waited for the lock
        if current is not None and not _is_known(current):
            raise StoreError(
                f"database {safe_url(engine.url)} has schema revision {current!r}, unknown to "
                f"this version of automl (head is {head!r}); was it written by a newer version?"
            )
        if current is not None and not auto_upgrade:
            raise StoreError(
                f"database {safe_url(engine.url)} has schema revision {current!r}, "
                f"head is {head!r}: run `automl db upgrade`"
            )
        if current is not None and not copy_tables:
            _refuse_large_table_copies(engine, current)
        command.upgrade(alembic_config(connection), "head")

    _migrate(engine, "schema upgrade", upgrade_if_still_needed)


def _refuse_large_table_copies(engine: Engine, current: str) -> None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    copying = [r for r in COPIES_TABLES_ON_SQLITE if r > current]  # zero-padded numbers
    size = Path(database).stat().st_size if Path(database).exists() else 0
    if copying and size > SQLITE_AUTO_COPY_LIMIT_BYTES:
        raise StoreError(
            f"database {safe_url(engine.url)} has schema revision {current!r}; the upgrade to "
            f"{head_revision()!r} copies its tables ({size / 2**20:.0f} MiB: it needs about as "
            f"much free disk, and holds the write lock meanwhile): stop any campaign writing "
            f"to it, then run `automl db upgrade`")


def _is_known(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
