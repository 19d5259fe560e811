"""Alembic, driven from code: no alembic.ini needed. The connection to migrate is handed to
``migrations/env.py`` through ``config.attributes["connection"]``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to `revision`, in one transaction."""
    with translated("schema upgrade", engine.url), engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with translated("schema downgrade", engine.url), engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Create the schema in an empty database, upgrade an older one (if `auto_upgrade`), and
    refuse one whose revision this code does not know (written by a newer version)."""
    with translated("connecting to the database", engine.url), engine.connect():
        pass
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is not None and not _is_known(current):
        raise StoreError(
            f"database {safe_url(engine.url)} has schema revision {current!r}, unknown to this "
            f"version of automl (head is {head!r}); was it written by a newer version?"
        )
    if current is not None and not auto_upgrade:
        raise StoreError(
            f"database {safe_url(engine.url)} has schema revision {current!r}, "
            f"head is {head!r}: run `automl db upgrade`"
        )
    upgrade(engine)


def _is_known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
