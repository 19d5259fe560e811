"""Shared fixtures: `db_url` gives an empty database on SQLite (a tmp_path file) and on
PostgreSQL (a throwaway database per module).

PostgreSQL: ``AUTOML_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
is used only to create and drop ``automl_test_<random>``. Unreachable: the PostgreSQL cases are
skipped, except when ``CI`` is set, where they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

# One XLA compilation cache for the whole run, in a directory of its own (so a run starts
# cold and leaves nothing behind): many tests build the same trainer or interpreter afresh,
# from new Python closures that the in-memory jit cache cannot match, and their identical
# programs then compile once. Set in the environment before JAX is imported, so the Ray
# workers that tests start inherit it too.
_JAX_CACHE_DIR = tempfile.mkdtemp(prefix="automl_test_xla_cache_")
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", _JAX_CACHE_DIR)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_JAX_CACHE_DIR, ignore_errors=True)


PG_ADMIN_URL = os.environ.get(
    "AUTOML_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="module")
def pg_database() -> Iterator[URL]:
    """A fresh database on the PostgreSQL server for this module, dropped afterwards."""
    admin = create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        admin.dispose()
        where = make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
        message = f"PostgreSQL unreachable at {where}: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: PostgreSQL tests must not be skipped)")
        pytest.skip(message)
    name = f"automl_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _empty_pg_schema(url: URL) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The URL of an empty database (no schema yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'run.db'}"
    url: URL = request.getfixturevalue("pg_database")
    _empty_pg_schema(url)
    return url.render_as_string(hide_password=False)




def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``-n 2 --dist loadgroup``, scripts/test.sh) the tests that start
    a local Ray instance run one after another on one worker, as they do without xdist; the
    rest spread over the workers."""
    for item in items:
        if item.get_closest_marker("ray") is not None:
            item.add_marker(pytest.mark.xdist_group("ray"))
