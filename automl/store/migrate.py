"""Alembic, driven from code: no alembic.ini needed. The connection to migrate is handed to
``migrations/env.py`` through ``config.attributes["connection"]``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from .errors import StoreError, safe_url, translated

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # configparser interpolation: a literal '%' in the path must be doubled
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    with translated("reading the schema revision", engine.url), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


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
    _migrate(engine, "schema upgrade",
             lambda connection: command.upgrade(alembic_config(connection), revision))


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, "schema downgrade",
             lambda connection: command.downgrade(alembic_config(connection), revision))


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Create the schema in an empty database, upgrade an older one (if `auto_upgrade`), and
    refuse one whose revision this code does not know (written by a newer version).

    Safe when several processes open the same database at once: the revision is read again
    under the migration lock, so only the first of them migrates."""
    with translated("connecting to the database", engine.url), engine.connect():
        pass
    head = head_revision()
    if current_revision(engine) == head:  # the common case: no lock taken
        return

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
        command.upgrade(alembic_config(connection), "head")

    _migrate(engine, "schema upgrade", upgrade_if_still_needed)


def _is_known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
