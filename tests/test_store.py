"""The store, on SQLite (a tmp_path file) and PostgreSQL (a throwaway database per module).

PostgreSQL: ``AUTOML_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
is used only to create and drop ``automl_test_<random>``. Unreachable: the PostgreSQL cases are
skipped, except when ``CI`` is set, where they fail.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from automl.store import (
    CANDIDATE_STATUSES,
    CacheEntryRow,
    CampaignExists,
    CandidateRow,
    EvaluationRow,
    Store,
    StoreError,
    codec,
    migrate,
)
from automl.store.models import CAMPAIGN_ROW_TABLES, METADATA, UNKEYED_CAMPAIGN_TABLES
from automl.store.tables import CACHE_ENTRIES, CANDIDATES

NAN, INF = float("nan"), float("inf")


# -- fixtures (db_url, pg_database: tests/conftest.py) ------------------------------------


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url) as opened:
        yield opened


@pytest.fixture
def campaign_id(store: Store) -> int:
    return store.create_campaign("c", "autonumerics", 7, {}, "settings", "v0").id


# -- helpers -------------------------------------------------------------------------------


def candidate(number: int, status: str = "evaluated", **kw: Any) -> CandidateRow:
    fields: dict[str, Any] = {
        "program": f"y = add(x, c{number})",
        "parents": (number - 1,) if number else (),
        "mutation": "insert_statement" if number else None,
        "functional_hash": f"{number:032x}",
        "status": status,
        "created_at": 1000.0 + number,
    }
    return CandidateRow(number=number, **{**fields, **kw})


def evaluation(number: int, **kw: Any) -> EvaluationRow:
    fields: dict[str, Any] = {
        "objectives": {"error": number / 10, "cost": 3.0},
        "metrics": {"c0": 1.5},
        "worker": "w1",
        "duration_s": 0.25,
        "error": None,
        "created_at": 2000.0 + number,
    }
    return EvaluationRow(candidate_number=number, **{**fields, **kw})


def cache_entry(fhash: str, **kw: Any) -> CacheEntryRow:
    fields: dict[str, Any] = {
        "settings_hash": "settings",
        "candidate_number": 0,
        "objectives": {"error": 0.5},
        "evaluation_count": 1,
        "hit_count": 0,
    }
    return CacheEntryRow(functional_hash=fhash, **{**fields, **kw})


def same(a: Any, b: Any) -> bool:
    """Structural equality where NaN equals NaN (dataclasses compare NaN as unequal)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return a == b


def shown_messages(exc: BaseException) -> str:
    """Every message a traceback of `exc` would show (its cause/context chain)."""
    parts = []
    current: BaseException | None = exc
    while current is not None:
        parts.append(f"{type(current).__name__}: {current}")
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:
            current = None
        else:
            current = current.__context__
    return "\n".join(parts)


# -- schema and migrations -----------------------------------------------------------------


@pytest.mark.slow
def test_open_creates_schema_at_head_and_reopen_keeps_data(db_url: str) -> None:
    with Store.open(db_url) as store:
        assert store.schema_revision() == migrate.head_revision()
        cid = store.create_campaign("keep", "space", 1, {}, "s", "v").id
        store.write_batch(cid, candidates=[candidate(0)])
    with Store.open(db_url) as store:
        assert store.schema_revision() == migrate.head_revision()
        assert store.load_candidates(cid) == [candidate(0)]


def test_migrations_build_exactly_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, METADATA) == []
        # the comparison is not vacuous: a model change shows up
        changed = MetaData()
        for table in METADATA.tables.values():
            table.to_metadata(changed)
        changed.tables["evaluations"].append_column(Column("extra", Integer))
        assert [diff[0] for diff in compare_metadata(context, changed)] == ["add_column"]


def test_downgrade_to_base_and_upgrade_again(store: Store) -> None:
    migrate.downgrade(store.engine, "base")
    assert store.schema_revision() is None
    store.upgrade()
    assert store.schema_revision() == migrate.head_revision()
    assert store.list_campaigns() == []


def test_open_refuses_unknown_schema_revision(db_url: str) -> None:
    with Store.open(db_url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(StoreError, match="unknown to this version"):
        Store.open(db_url)


def test_upgrade_to_unknown_revision_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="schema upgrade failed"):
        store.upgrade("nonexistent")


def test_sqlite_pragmas(tmp_path: Any) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'run.db'}") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_small_tables_keep_their_foreign_keys(store: Store) -> None:
    row = {**codec.cache_params(999, cache_entry("a" * 32)), "written": 1}
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(CACHE_ENTRIES), [row])


def test_a_batch_for_a_missing_campaign_stores_nothing(store: Store, campaign_id: int) -> None:
    """The bulk tables have no foreign key (revision 0005): the campaign stamp that opens
    every batch is what refuses a missing campaign, before any row is written."""
    with pytest.raises(StoreError, match="no campaign 999"):
        store.write_batch(999, candidates=[candidate(0)], evaluations=[evaluation(0)])
    with store.engine.connect() as conn:
        for table in UNKEYED_CAMPAIGN_TABLES:
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


def test_revision_0005_drops_the_bulk_keys_and_keeps_the_rows(store: Store, campaign_id: int,
                                                              caplog) -> None:
    store.write_batch(campaign_id, candidates=[candidate(0), candidate(1)],
                      evaluations=[evaluation(0)])
    orphan = {**codec.candidate_params(999, candidate(5))}
    with store.engine.begin() as conn:
        conn.execute(insert(CANDIDATES), [orphan])  # allowed at 0005: no key
    with caplog.at_level("WARNING"):
        migrate.downgrade(store.engine, "0004")
    assert "deleting 1 rows of candidates whose campaign no longer exists" in caplog.text
    with store.engine.connect() as conn:  # the key is back, the orphan it would refuse gone
        assert conn.execute(text("SELECT campaign_id, number FROM candidates ORDER BY number")
                            ).all() == [(campaign_id, 0), (campaign_id, 1)]
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(CANDIDATES), [orphan])
    store.upgrade()
    assert store.schema_revision() == "0005"
    record = store.get_campaign(campaign_id)
    assert (record.candidate_count, record.evaluation_count) == (2, 1)
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, METADATA) == []


def test_landing_many_in_flight_candidates_fits_an_old_sqlite(tmp_path: Any) -> None:
    """SQLite before 3.32 binds at most 999 values a statement: a flush that lands more
    in-flight candidates than that must still go through."""
    with Store.open(f"sqlite:///{tmp_path / 'old.db'}") as store:
        event.listen(store.engine, "connect", lambda dbapi, _: dbapi.setlimit(
            sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999))
        store.engine.dispose()  # new connections, with the limit
        campaign = store.create_campaign("old", "autonumerics", 7, {}, "settings", "v0").id
        store.write_batch(campaign, dispatched=[candidate(n) for n in range(2500)])
        store.write_batch(campaign, landed=list(range(2400)))
        assert [c.number for c in store.load_in_flight(campaign)] == list(range(2400, 2500))


def test_a_large_sqlite_file_is_copied_only_by_db_upgrade(tmp_path: Any, monkeypatch) -> None:
    """Revision 0005 copies four tables on SQLite: past a size, opening the file for any other
    command refuses in one line and leaves it as it was; `automl db upgrade` migrates it."""
    from typer.testing import CliRunner

    from automl.cli import app

    url = f"sqlite:///{tmp_path / 'big.db'}"
    with Store.open(url) as store:
        campaign = store.create_campaign("c", "autonumerics", 7, {}, "settings", "v0").id
        store.write_batch(campaign, candidates=[candidate(0)], evaluations=[evaluation(0)])
        migrate.downgrade(store.engine, "0004")
    monkeypatch.setattr(migrate, "SQLITE_AUTO_COPY_LIMIT_BYTES", 0)
    before = (tmp_path / "big.db").read_bytes()
    with pytest.raises(StoreError, match=r"copies its tables .* run `automl db upgrade`"):
        Store.open(url)
    listed = CliRunner().invoke(app, ["ls", "--db", url])
    assert listed.exit_code == 2 and "automl db upgrade" in listed.output
    assert (tmp_path / "big.db").read_bytes() == before
    upgraded = CliRunner().invoke(app, ["db", "upgrade", "--db", url])
    assert upgraded.exit_code == 0 and "revision 0005" in upgraded.output, upgraded.output
    with Store.open(url) as store:
        assert store.get_campaign(campaign).evaluation_count == 1


def test_a_new_campaign_never_inherits_rows_of_a_campaign_deleted_by_hand(store: Store) -> None:
    """SQLite hands the id of a deleted last row out again: a campaign deleted with raw SQL
    leaves its candidates, evaluations and objective values behind (no foreign key cascades
    them), and the next campaign, given the same id there, must not see them."""
    first = store.create_campaign("first", "autonumerics", 7, {}, "settings", "v0",
                                  objectives=[("error", "minimize"), ("cost", "minimize")]).id
    store.write_batch(first, candidates=[candidate(0), candidate(1)],
                      evaluations=[evaluation(0), evaluation(1)], dispatched=[candidate(2)],
                      cache_entries=[cache_entry("a" * 32)])
    assert store.front(first) and store.load_cache(first, "settings")
    if store.engine.dialect.name == "sqlite":  # as the sqlite3 shell would: foreign keys off
        with sqlite3.connect(store.engine.url.database) as plain:
            plain.execute("DELETE FROM campaigns WHERE id = ?", (first,))
    else:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM campaigns WHERE id = :id"), {"id": first})
    second = store.create_campaign("second", "autonumerics", 7, {}, "settings", "v0",
                                   objectives=[("error", "minimize"), ("cost", "minimize")]).id
    if store.engine.dialect.name == "sqlite":
        assert second == first  # the case the sweep exists for
    record = store.get_campaign(second)
    assert (record.candidate_count, record.evaluation_count) == (0, 0)
    assert store.front(second) == [] and store.load_cache(second, "settings") == []
    with store.engine.connect() as conn:
        for table in CAMPAIGN_ROW_TABLES:
            assert conn.execute(select(func.count()).select_from(table)
                                .where(table.c.campaign_id == second)).scalar_one() == 0


def test_in_memory_sqlite() -> None:
    with Store.open("sqlite://") as store:
        cid = store.create_campaign("m", "space", 1, {}, "s", "v").id
        store.write_batch(cid, candidates=[candidate(0)])
        assert store.max_candidate_number(cid) == 0


# -- URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("foo://x", "unsupported database backend 'foo'"),
        ("mysql://u:secret@localhost/db", "unsupported database backend 'mysql'"),
        ("postgresql+psycopg2://u:secret@localhost/db", "unsupported driver 'psycopg2'"),
        ("not a url", "malformed database URL"),
        ("u:secret@localhost/db", "malformed database URL"),
        ("postgresql://u:secret@localhost:port/db", "malformed database URL"),
        ("postgresql+psycopg://u:secret@localhost/", "no database name"),
        ("sqlite:////nonexistent/dir/x.db", "directory '/nonexistent/dir' of SQLite database"),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/db", "connecting to the database failed"),
    ],
)
def test_bad_urls(url: str, expected: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    assert expected in str(caught.value)
    assert "secret" not in shown_messages(caught.value)


def test_sqlite_path_that_is_a_directory(tmp_path: Any) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(f"sqlite:///{tmp_path}")


def test_sqlite_file_that_is_not_a_database(tmp_path: Any) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database, just text " * 100)
    with pytest.raises(StoreError, match="not a database"):
        Store.open(f"sqlite:///{path}")


def test_errors_of_an_open_store_hide_the_password(db_url: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("SQLite URLs have no password")
    # trust authentication: the password is ignored by the server, but must never be shown
    with Store.open(url.set(password="secret").render_as_string(hide_password=False)) as store:
        assert "secret" not in store.url
        cid = store.create_campaign("p", "space", 1, {}, "s", "v").id
        store.write_batch(cid, candidates=[candidate(0)])
        with pytest.raises(StoreError) as caught:
            store.write_batch(cid, candidates=[candidate(0)])
    assert "***" in str(caught.value)
    assert "secret" not in shown_messages(caught.value)


# -- campaigns -----------------------------------------------------------------------------


def test_create_and_get_campaign(store: Store) -> None:
    config = {"population": 100, "limit": INF, "name": "größe", "nested": {"x": [1, NAN]}}
    created = store.create_campaign("run-1", "autonumerics", 2**40, config, "sh", "abc123")
    assert created.status == "running"
    assert created.created_at == created.updated_at > 0
    for key in (created.id, "run-1"):
        fetched = store.get_campaign(key)
        assert same(fetched, created)
        assert (fetched.candidate_count, fetched.evaluation_count) == (0, 0)


def test_duplicate_campaign_name(store: Store) -> None:
    store.create_campaign("twin", "space", 1, {}, "s", "v")
    with pytest.raises(StoreError, match="a campaign named 'twin' already exists"):
        store.create_campaign("twin", "other", 2, {}, "s", "v")
    assert len(store.list_campaigns()) == 1


def test_numbered_names_take_the_next_free_number(store: Store) -> None:
    assert store.numbered_name("exp2") == "exp2-1"
    for name in ("exp2-1", "exp2-7", "exp2-x", "exp2-07", "exp2-3-1", "exp20-9", "exp_2-40"):
        store.create_campaign(name, "space", 1, {}, "s", "v")
    # only exp2-<number without a leading zero> counts; LIKE's "_" matches no other character
    assert store.numbered_name("exp2") == "exp2-8"
    assert store.numbered_name("exp_2") == "exp_2-41"
    assert store.numbered_name("exp%") == "exp%-1"
    with pytest.raises(CampaignExists):
        store.create_campaign("exp2-7", "space", 1, {}, "s", "v")


def test_missing_campaign(store: Store) -> None:
    with pytest.raises(StoreError, match="no campaign 'nope'"):
        store.get_campaign("nope")
    with pytest.raises(StoreError, match="no campaign 42"):
        store.get_campaign(42)
    for call in (store.load_candidates, store.load_evaluations, store.status_counts):
        with pytest.raises(StoreError, match="no campaign 42"):
            call(42)
    with pytest.raises(StoreError, match="no campaign 42"):
        store.write_batch(42, candidates=[candidate(0)])
    with pytest.raises(StoreError, match="no campaign 42"):
        store.set_campaign_status(42, "finished")


def test_list_campaigns_counts_in_one_query(store: Store) -> None:
    ids = [store.create_campaign(f"c{i}", "space", i, {}, "s", "v").id for i in range(3)]
    store.write_batch(ids[0], candidates=[candidate(n) for n in range(3)])
    store.write_batch(ids[2], candidates=[candidate(0)], evaluations=[evaluation(0), evaluation(0)])
    selects: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        campaigns = store.list_campaigns()
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(selects) == 1
    assert [c.id for c in campaigns] == ids
    assert [(c.candidate_count, c.evaluation_count) for c in campaigns] == [(3, 0), (0, 0), (1, 2)]


def test_set_campaign_status(store: Store, campaign_id: int) -> None:
    before = store.get_campaign(campaign_id)
    store.set_campaign_status(campaign_id, "finished")
    after = store.get_campaign(campaign_id)
    assert after.status == "finished"
    assert after.updated_at >= before.updated_at
    with pytest.raises(StoreError, match="campaign status 'done'"):
        store.set_campaign_status(campaign_id, "done")


# -- batches -------------------------------------------------------------------------------


def test_candidates_round_trip_in_number_order(store: Store, campaign_id: int) -> None:
    rows = [
        candidate(0),
        candidate(1, program="ý = sin(x) # ∂/∂x → ünïcødé 🧬\n\tz = 2", parents=()),
        candidate(2, parents=(0, 1), mutation="crossover", simplified_removed=3),
        candidate(3, status="duplicate", duplicate_of=2),
        candidate(4, status="failed"),
        candidate(5, status="rejected", mutation=None),
    ]
    shuffled = rows[:]
    random.Random(0).shuffle(shuffled)
    store.write_batch(campaign_id, candidates=shuffled[:3])
    store.write_batch(campaign_id, candidates=shuffled[3:])
    loaded = store.load_candidates(campaign_id)
    assert loaded == rows
    assert loaded[1].parents == ()
    assert isinstance(loaded[2].parents, tuple)


def test_evaluations_round_trip_with_nonfinite_values(store: Store, campaign_id: int) -> None:
    rows = [
        evaluation(2, objectives={"error": NAN, "cost": INF, "neg": -INF, "zero": 0.0}),
        evaluation(0, objectives=None, metrics={}, worker=None, error="overflow: ∞"),
        evaluation(2, metrics={"consts": [1.0, NAN, -INF], "deep": {"x": {"y": INF}}, "n": 3}),
        evaluation(1, metrics={"label": "nan", "flag": True, "none": None}),
    ]
    store.write_batch(campaign_id, evaluations=rows)
    loaded = store.load_evaluations(campaign_id)
    expected = [rows[1], rows[3], rows[0], rows[2]]  # by candidate number, then insertion
    assert len(loaded) == 4
    assert all(same(a, b) for a, b in zip(loaded, expected, strict=True)), loaded
    assert math.isnan(loaded[2].objectives["error"])  # type: ignore[index]
    assert loaded[2].objectives["neg"] == -INF  # type: ignore[index]
    assert loaded[1].metrics["label"] == "nan"  # a string stays a string


def test_cache_upsert_replaces_by_key(store: Store, campaign_id: int) -> None:
    store.write_batch(
        campaign_id,
        cache_entries=[
            cache_entry("a" * 32, candidate_number=1),
            cache_entry("b" * 32, candidate_number=2, objectives=None, error="timeout"),
            cache_entry("a" * 32, settings_hash="other", candidate_number=3),
        ],
    )
    store.write_batch(
        campaign_id,
        cache_entries=[
            cache_entry("a" * 32, candidate_number=1, evaluation_count=2, hit_count=5),
            cache_entry("c" * 32, objectives={"error": NAN}, hit_count=1),
            cache_entry("c" * 32, objectives={"error": INF}, hit_count=2),  # last one wins
        ],
    )
    loaded = store.load_cache(campaign_id, "settings")
    assert [e.functional_hash[0] for e in loaded] == ["a", "b", "c"]
    assert (loaded[0].evaluation_count, loaded[0].hit_count) == (2, 5)
    assert loaded[1] == cache_entry("b" * 32, candidate_number=2, objectives=None, error="timeout")
    assert loaded[2] == cache_entry("c" * 32, objectives={"error": INF}, hit_count=2)
    assert store.load_cache(campaign_id, "other") == [
        cache_entry("a" * 32, settings_hash="other", candidate_number=3)
    ]
    assert store.load_cache(campaign_id, "unknown") == []


@pytest.mark.parametrize("duplicate_within_batch", [False, True])
def test_failed_batch_stores_nothing(
    store: Store, campaign_id: int, duplicate_within_batch: bool
) -> None:
    store.write_batch(
        campaign_id,
        candidates=[candidate(0), candidate(1)],
        evaluations=[evaluation(0), evaluation(1)],
        cache_entries=[cache_entry("a" * 32)],
    )
    before = store.get_campaign(campaign_id)
    clash = candidate(3) if duplicate_within_batch else candidate(1)
    with pytest.raises(StoreError, match="nothing|UNIQUE|unique|duplicate"):
        store.write_batch(
            campaign_id,
            candidates=[candidate(2), candidate(3), clash],
            evaluations=[evaluation(2)],
            cache_entries=[cache_entry("a" * 32, hit_count=9), cache_entry("b" * 32)],
        )
    assert store.load_candidates(campaign_id) == [candidate(0), candidate(1)]
    assert store.load_evaluations(campaign_id) == [evaluation(0), evaluation(1)]
    assert store.load_cache(campaign_id, "settings") == [cache_entry("a" * 32)]
    assert store.get_campaign(campaign_id) == before  # updated_at rolled back too
    store.write_batch(campaign_id, candidates=[candidate(2)])  # the store is still usable
    assert store.max_candidate_number(campaign_id) == 2


@pytest.mark.slow
def test_invalid_candidate_status_is_rejected(store: Store, campaign_id: int) -> None:
    with pytest.raises(StoreError, match="status 'pending'"):
        store.write_batch(campaign_id, candidates=[candidate(0), candidate(1, status="pending")])
    assert store.load_candidates(campaign_id) == []


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (evaluation(1, metrics={"c": [1.0, object()]}), "metrics of candidate 1: object"),
        (evaluation(1, metrics={"c": {1, 2}}), "metrics of candidate 1: set"),
        (evaluation(1, objectives={"error": "low"}), "objective 'error': 'low' is not a number"),
    ],
)
def test_unstorable_evaluation_is_rejected(
    store: Store, campaign_id: int, row: EvaluationRow, expected: str
) -> None:
    with pytest.raises(StoreError, match=expected):
        store.write_batch(campaign_id, candidates=[candidate(0)], evaluations=[row])
    assert store.load_candidates(campaign_id) == []
    assert store.load_evaluations(campaign_id) == []


def test_status_counts_and_max_number(store: Store, campaign_id: int) -> None:
    assert store.status_counts(campaign_id) == dict.fromkeys(CANDIDATE_STATUSES, 0)
    assert store.max_candidate_number(campaign_id) is None
    statuses = ["evaluated", "evaluated", "duplicate", "failed", "evaluated", "rejected"]
    store.write_batch(campaign_id, candidates=[candidate(n, s) for n, s in enumerate(statuses)])
    assert store.status_counts(campaign_id) == {
        "evaluated": 3,
        "duplicate": 1,
        "failed": 1,
        "rejected": 1,
    }
    assert store.max_candidate_number(campaign_id) == 5


def test_campaigns_are_isolated(store: Store, campaign_id: int) -> None:
    other = store.create_campaign("other", "space", 1, {}, "settings", "v").id
    store.write_batch(campaign_id, [candidate(0)], [evaluation(0)], [cache_entry("a" * 32)])
    store.write_batch(other, [candidate(0), candidate(1)], [evaluation(1)], [])
    assert store.load_candidates(campaign_id) == [candidate(0)]
    assert store.load_evaluations(other) == [evaluation(1)]
    assert store.load_cache(other, "settings") == []
    assert store.max_candidate_number(other) == 1


def test_empty_batch_is_a_no_op(store: Store, campaign_id: int) -> None:
    before = store.get_campaign(campaign_id)
    store.write_batch(campaign_id)
    assert store.get_campaign(campaign_id) == before


@pytest.mark.slow
def test_large_evaluation_batch(store: Store, campaign_id: int) -> None:
    n = 20_000
    rows = [
        evaluation(i, metrics={"consts": [0.5 * i, 1.0]}, objectives={"error": 1 / (i + 1)})
        for i in range(n)
    ]
    store.write_batch(campaign_id, evaluations=rows)
    assert store.get_campaign(campaign_id).evaluation_count == n
    loaded = store.load_evaluations(campaign_id)
    assert len(loaded) == n
    assert loaded[0] == rows[0] and loaded[-1] == rows[-1]


# -- queries that keep the controller's memory bounded -------------------------------------


def test_load_cache_entry_by_its_key(store: Store, campaign_id: int) -> None:
    other = store.create_campaign("other", "space", 1, {}, "settings", "v").id
    store.write_batch(campaign_id, cache_entries=[
        cache_entry("a" * 32, candidate_number=1),
        cache_entry("a" * 32, settings_hash="other", candidate_number=2, objectives=None,
                    error="timeout"),
        cache_entry("c" * 32, objectives={"error": NAN}),
    ])
    store.write_batch(other, cache_entries=[cache_entry("b" * 32)])
    assert store.load_cache_entry(campaign_id, "settings", "a" * 32) == cache_entry(
        "a" * 32, candidate_number=1)
    assert store.load_cache_entry(campaign_id, "other", "a" * 32) == cache_entry(
        "a" * 32, settings_hash="other", candidate_number=2, objectives=None, error="timeout")
    entry = store.load_cache_entry(campaign_id, "settings", "c" * 32)
    assert entry is not None and math.isnan(entry.objectives["error"])  # type: ignore[index]
    assert store.load_cache_entry(campaign_id, "settings", "b" * 32) is None  # other campaign's
    assert store.load_cache_entry(campaign_id, "unknown", "a" * 32) is None
    store.write_batch(campaign_id, forgotten_cache_entries=[("settings", "a" * 32)])
    assert store.load_cache_entry(campaign_id, "settings", "a" * 32) is None
    # one query per lookup (the controller's hot path): an unknown campaign has no entries
    assert store.load_cache_entry(42, "settings", "a" * 32) is None


def test_load_cache_with_a_limit_keeps_the_latest_writes(store: Store, campaign_id: int) -> None:
    store.write_batch(campaign_id, cache_entries=[cache_entry(h * 32) for h in "abc"])
    store.write_batch(campaign_id, cache_entries=[cache_entry(h * 32) for h in "de"])
    # rewriting an entry (a hit counted, an evaluation joined the mean) makes it recent
    store.write_batch(campaign_id, cache_entries=[cache_entry("b" * 32, hit_count=3)])
    store.write_batch(campaign_id, cache_entries=[cache_entry("f" * 32, settings_hash="other")])
    everything = store.load_cache(campaign_id, "settings")
    assert [e.functional_hash[0] for e in everything] == list("abcde")

    def latest(limit: int | None) -> str:
        return "".join(e.functional_hash[0]
                       for e in store.load_cache(campaign_id, "settings", limit=limit))

    # the last writes, in first-insertion order (ties within one batch: the later row first)
    assert [latest(n) for n in range(7)] == ["", "b", "be", "bde", "bcde", "abcde", "abcde"]
    assert latest(None) == "abcde"
    assert store.load_cache(campaign_id, "settings", limit=2)[0] == cache_entry(
        "b" * 32, hit_count=3)
    assert store.load_cache(campaign_id, "other", limit=5) == [
        cache_entry("f" * 32, settings_hash="other")]
    with pytest.raises(StoreError, match="negative"):
        store.load_cache(campaign_id, "settings", limit=-1)


def test_status_counts_and_best_values(store: Store, campaign_id: int) -> None:
    assert store.status_counts(campaign_id) == dict.fromkeys(CANDIDATE_STATUSES, 0)
    assert store.best_values(campaign_id, [("error", "minimize")]) == {}
    statuses = ["evaluated", "evaluated", "duplicate", "failed"]
    store.write_batch(
        campaign_id, candidates=[candidate(n, s) for n, s in enumerate(statuses)],
        evaluations=[evaluation(0, objectives={"error": 0.5, "cost": 3.0}),
                     evaluation(1, objectives={"error": 0.25, "cost": INF}),
                     evaluation(2, objectives={"error": 0.75, "cost": 2.0}),
                     evaluation(3, objectives=None, error="diverged")],
        dispatched=[candidate(4)])  # in flight: not a candidate row yet
    assert store.status_counts(campaign_id) == {  # the in-flight candidate is not counted
        "evaluated": 2, "duplicate": 1, "failed": 1, "rejected": 0}
    assert store.best_values(campaign_id, [("error", "minimize"), ("cost", "maximize"),
                                           ("speed", "minimize")]) == {"error": 0.25, "cost": 3.0}
    assert store.best_values(campaign_id, [("error", "maximize")]) == {"error": 0.75}
    with pytest.raises(StoreError, match="direction 'up'"):
        store.best_values(campaign_id, [("error", "up")])


def test_next_candidate_number_counts_candidates_in_flight(store: Store, campaign_id: int
                                                           ) -> None:
    assert store.next_candidate_number(campaign_id) == 0
    store.write_batch(campaign_id, candidates=[candidate(0), candidate(1)])
    assert store.next_candidate_number(campaign_id) == 2
    store.write_batch(campaign_id, dispatched=[candidate(2), candidate(3)])
    assert store.max_candidate_number(campaign_id) == 1  # stored candidates only
    assert store.next_candidate_number(campaign_id) == 4
    store.write_batch(campaign_id, candidates=[candidate(3)], landed=[3])
    assert store.next_candidate_number(campaign_id) == 4
    store.write_batch(campaign_id, candidates=[candidate(2)], landed=[2])
    assert store.next_candidate_number(campaign_id) == 4
    other = store.create_campaign("other", "space", 1, {}, "settings", "v").id
    store.write_batch(other, dispatched=[candidate(5)])
    assert (store.next_candidate_number(other), store.max_candidate_number(other)) == (6, None)
    with pytest.raises(StoreError, match="no campaign 42"):
        store.next_candidate_number(42)


@pytest.mark.slow
def test_a_0002_cache_upgrades_to_the_write_order_and_back(store: Store) -> None:
    """Revision 0003 numbers cache writes: entries written before it count as the oldest (in
    id order), and a downgrade to 0002 keeps the entries."""
    migrate.downgrade(store.engine, "0002")
    assert store.schema_revision() == "0002"
    with store.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO campaigns (id, name, space, seed, status, config, settings_hash, "
            "code_version, created_at, updated_at) VALUES (1, 'old', 'autonumerics', 0, "
            "'running', '{}', 'settings', 'v', 0, 0)"))
        for h in "abc":
            conn.execute(text(
                "INSERT INTO cache_entries (campaign_id, settings_hash, functional_hash, "
                "candidate_number, objectives, evaluation_count, hit_count) VALUES (1, "
                "'settings', :h, 0, '{\"error\": 0.5}', 1, 0)"), {"h": h * 32})
    store.upgrade()
    assert store.schema_revision() == migrate.head_revision() == "0005"
    old = [cache_entry(h * 32) for h in "abc"]
    assert store.load_cache(1, "settings") == old
    assert store.load_cache(1, "settings", limit=2) == old[1:]
    store.write_batch(1, cache_entries=[cache_entry("a" * 32, hit_count=1), cache_entry("d" * 32)])
    assert [e.functional_hash[0] for e in store.load_cache(1, "settings", limit=3)] == list("acd")
    migrate.downgrade(store.engine, "0002")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cache_entries")).scalar_one() == 4
    store.upgrade()
    assert [e.functional_hash[0] for e in store.load_cache(1, "settings")] == list("abcd")
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, METADATA) == []


# -- the NaN/inf encoding ------------------------------------------------------------------

finite_or_not = st.floats(allow_nan=True, allow_infinity=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_or_not | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text().filter(lambda k: k != codec.FLOAT_TAG), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), finite_or_not) | st.none())
def test_objectives_encoding_round_trips(objectives: dict[str, float] | None) -> None:
    encoded = codec.encode_objectives(objectives)
    stored = json.loads(json.dumps(encoded, allow_nan=False))
    assert same(codec.decode_objectives(stored), objectives)


@pytest.mark.slow
@given(json_values)
def test_json_encoding_round_trips(value: Any) -> None:
    stored = json.loads(json.dumps(codec.encode_json(value), allow_nan=False))
    assert same(codec.decode_json(stored), value)



# Opens `url` the moment the file `go` appears, having said it is ready; prints the revision.
_OPEN_AT_ONCE = """
import pathlib, sys, time
from automl.store import Store, StoreError
url, ready, go = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.002)
try:
    with Store.open(url) as store:
        print(store.schema_revision())
except StoreError as exc:
    print(exc)
"""


@pytest.mark.slow
def test_processes_opening_one_new_database_at_once_all_succeed(db_url: str,
                                                                 tmp_path: Any) -> None:
    """`automl run` creating its database while `automl ls` (or another machine joining the
    campaign) opens it: each sees an empty schema; one creates it and none fails. Before the
    migration lock, 3 of 5 such SQLite trials and 2 of 6 PostgreSQL ones had a failure."""
    import subprocess
    import sys
    import time

    openers = 4
    go = tmp_path / "go"
    processes = [subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, db_url,
                                   str(tmp_path / f"ready{i}"), str(go)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(openers)]
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"ready{i}").exists() for i in range(openers)):
            assert time.monotonic() < deadline, "openers started within two minutes"
            time.sleep(0.01)
        go.touch()
        outputs = [p.communicate(timeout=120) for p in processes]
    finally:
        for p in processes:
            p.kill()
    assert [out.strip() for out, _ in outputs] == [migrate.head_revision()] * openers, outputs


@pytest.mark.slow
def test_cache_hashes_are_listed_page_by_page(store: Store, campaign_id: int) -> None:
    hashes = [f"{n:032x}" for n in range(25)]
    store.write_batch(campaign_id, cache_entries=[cache_entry(h) for h in hashes[:20]])
    store.write_batch(campaign_id, cache_entries=[cache_entry(h) for h in hashes[20:]]
                      + [cache_entry("f" * 32, settings_hash="other")])
    assert list(store.cache_hashes(campaign_id, "settings", page=10)) == hashes
    assert list(store.cache_hashes(campaign_id, "settings", page=5)) == hashes  # a full page
    assert list(store.cache_hashes(campaign_id, "other")) == ["f" * 32]
    assert list(store.cache_hashes(campaign_id, "none")) == []


def test_the_head_revision_constant_is_alembics_head():
    """Opening a database reads its revision with one query and compares it with
    HEAD_REVISION (Alembic is imported only to migrate): it must name the newest migration."""
    assert migrate.migrations_head() == migrate.HEAD_REVISION
