"""Alembic environment for the automl store.

From code (`automl.store.migrate`), the connection comes in ``config.attributes["connection"]``
and the caller owns its transaction. From the ``alembic`` CLI, pass the URL with
``alembic -c automl/store/migrations/alembic.ini -x url=sqlite:///run.db upgrade head``
(or set ``sqlalchemy.url`` / ``AUTOML_DB_URL``).
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from automl.store.models import METADATA

config = context.config
target_metadata = METADATA

if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _cli_url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("AUTOML_DB_URL")
    )
    if not url:
        raise SystemExit("no database URL: pass -x url=... or set AUTOML_DB_URL")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER support on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_cli_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from automl.store.engine import create_store_engine

    engine = create_store_engine(_cli_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
