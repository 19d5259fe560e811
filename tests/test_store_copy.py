"""The PostgreSQL write path (`automl.store.writer.copy_tables`: COPY FROM STDIN) stores what the
SQLite path (executemany INSERTs) stores: the same batch reads back identical from both, and on
PostgreSQL the stored text of every column, JSON included, is what an INSERT stores."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import Text, cast, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from automl.store import (
    CacheEntryRow,
    CandidateRow,
    EvaluationRow,
    Store,
    StoreError,
    codec,
    derived,
)
from automl.store.tables import CANDIDATES, EVALUATIONS, IN_FLIGHT, OBJECTIVE_VALUES
from tests.conftest import _empty_pg_schema

pytestmark = pytest.mark.postgres
OBJECTIVES = [("error", "minimize"), ("cost", "minimize")]
NAN, INF = float("nan"), float("inf")
# text COPY escapes: backslash, tab, newline, carriage return, "\N" (its NULL marker), quotes
AWKWARD = 'a\\b\tc\nd\re \\N "q" \'s\' ∂/∂x → ünïcødé 🧬 \x7f'


@pytest.fixture
def pg_url(pg_database: URL) -> str:
    _empty_pg_schema(pg_database)
    return pg_database.render_as_string(hide_password=False)


def batch() -> dict[str, Any]:
    """A batch with NULLs, non-finite values, unicode and escapes, and large JSON."""
    large = {"series": [i / 7 for i in range(20_000)],
             "nested": {f"k{i}": {"ü": [i, None, True, "x" * 50]} for i in range(500)}}
    candidates = [
        CandidateRow(0, "y = x", (), None, "0" * 32, "evaluated", created_at=1.5),
        CandidateRow(1, f"y = x # {AWKWARD}", (0,), AWKWARD, "1" * 32, "failed",
                     simplified_removed=2, created_at=1e300),
        CandidateRow(2, "y = x", tuple(range(300)), "crossover", "2" * 32, "duplicate",
                     duplicate_of=0, created_at=0.0),
        CandidateRow(3, "ŷ = sin(x)", (1, 2), "insert", "3" * 32, "rejected",
                     created_at=0.1 + 0.2),
        CandidateRow(4, "y = x", (3,), "change", "4" * 32, "evaluated", created_at=5e-324),
    ]
    evaluations = [
        EvaluationRow(0, {"error": 0.5, "cost": 3.0}, {"c0": 1.5}, "w1", 0.25, None, 2.0),
        EvaluationRow(1, None, {"why": AWKWARD, "bad": NAN, "inf": [INF, -INF]}, None, 0.0,
                      f"Traceback\n  {AWKWARD}", 3.0),
        EvaluationRow(2, None, None, None, 0.0, "metrics None: JSON null, not SQL NULL", 3.5),
        EvaluationRow(3, {"error": NAN, "cost": INF}, {}, "w\\2", 1e-9, None, 4.0),
        EvaluationRow(4, {"error": 1e-300, "cost": 1.0}, large, "wörker", 12.5, None, 5.0),
        EvaluationRow(4, {"error": 0.1 + 0.2, "cost": 2}, {"again": True}, "w1", 1, None, 6.0),
    ]
    dispatched = [CandidateRow(n, f"z = x # {AWKWARD}", (n - 1,), None if n % 2 else AWKWARD,
                               f"{n:032x}", "in_flight", created_at=float(n))
                  for n in range(5, 9)]
    cache = [CacheEntryRow("0" * 32, "s", 0, {"error": 0.5}, 1, 2, None),
             CacheEntryRow("1" * 32, "s", 1, None, 1, 0, AWKWARD)]
    return {"candidates": candidates, "evaluations": evaluations, "dispatched": dispatched,
            "cache_entries": cache}


def written(url: str) -> dict[str, Any]:
    """Write `batch()`, then one that lands two of its in-flight candidates and evaluates one
    that dominates part of the stored front, and read everything back."""
    with Store.open(url) as store:
        campaign = store.create_campaign("c", "space", 0, {}, "s", "v", objectives=OBJECTIVES).id
        store.write_batch(campaign, **batch())
        before = store.front(campaign)
        # the cache upsert (PostgreSQL: staged by COPY, then one INSERT ... ON CONFLICT)
        # replaces an entry and adds one; the third batch fails (a duplicate candidate) and
        # must leave neither rows nor staged entries behind for the fourth
        store.write_batch(
            campaign, landed=[5, 7],
            candidates=[CandidateRow(9, "y = x", (4,), "m", "9" * 32, "evaluated")],
            evaluations=[EvaluationRow(9, {"error": 1e-301, "cost": 1.0}, {}, "w", 0.0, None,
                                       7.0)],
            cache_entries=[CacheEntryRow("0" * 32, "s", 9, {"error": 1e-301}, 2, 3, None),
                           CacheEntryRow("9" * 32, "s", 9, None, 1, 0, AWKWARD)])
        assert store.front(campaign) != before
        with pytest.raises(StoreError, match="duplicate key|UNIQUE constraint"):
            store.write_batch(
                campaign, candidates=[CandidateRow(9, "y = x", (), None, "9" * 32, "failed")],
                cache_entries=[CacheEntryRow("1" * 32, "s", 1, {"error": 7.0}, 5, 5, None)])
        store.write_batch(campaign, cache_entries=[
            CacheEntryRow("a" * 32, "s", 9, {"error": INF}, 1, 0, None),
            CacheEntryRow("1" * 32, "s", 1, None, 2, 1, "again")])
        return {
            "candidates": store.load_candidates(campaign),
            "evaluations": store.load_evaluations(campaign),
            "in_flight": store.load_in_flight(campaign),
            "cache": store.load_cache(campaign, "s"),
            "cache_written_last": store.load_cache(campaign, "s", limit=2),
            "front": store.front(campaign),
            "top": [store.top(campaign, name, 10) for name, _ in OBJECTIVES],
            "best": store.best_values(campaign, OBJECTIVES),
            "counts": store.status_counts(campaign),
        }


def same(a: Any, b: Any) -> bool:
    """Equality of type and value where NaN equals NaN, through dataclasses."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__"):
        return all(same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return a == b


def test_a_batch_reads_back_from_postgres_as_from_sqlite(pg_url: str, tmp_path: Any) -> None:
    on_sqlite = written(f"sqlite:///{tmp_path / 'run.db'}")
    on_postgres = written(pg_url)
    assert len(on_sqlite["evaluations"]) == 7 and len(on_sqlite["in_flight"]) == 2
    assert on_sqlite["evaluations"][2].metrics is None
    assert on_sqlite["evaluations"][4].metrics["series"][7] == 1.0
    assert [(e.functional_hash[0], e.candidate_number, e.hit_count)
            for e in on_sqlite["cache"]] == [("0", 9, 3), ("1", 1, 1), ("9", 9, 0), ("a", 9, 0)]
    assert [e.functional_hash[0] for e in on_sqlite["cache_written_last"]] == ["1", "a"]
    for part in on_sqlite:
        assert same(on_postgres[part], on_sqlite[part]), part


def test_copy_stores_the_text_an_insert_stores(pg_url: str) -> None:
    """Every column of every row the writer COPYs, as PostgreSQL's text of it (a json column
    keeps its input text), against the same parameters stored by executemany INSERTs."""
    content = batch()
    with Store.open(pg_url) as store:
        copied = store.create_campaign("copied", "s", 0, {}, "s", "v", objectives=OBJECTIVES).id
        inserted = store.create_campaign("inserted", "s", 0, {}, "s", "v").id
        store.write_batch(copied, candidates=content["candidates"],
                          evaluations=content["evaluations"], dispatched=content["dispatched"])
        evaluations = [codec.evaluation_params(inserted, r) for r in content["evaluations"]]
        with store.engine.begin() as conn:
            conn.execute(insert(CANDIDATES),
                         [codec.candidate_params(inserted, r) for r in content["candidates"]])
            conn.execute(insert(EVALUATIONS), evaluations)
            conn.execute(insert(IN_FLIGHT),
                         [codec.in_flight_params(inserted, r) for r in content["dispatched"]])
            conn.execute(insert(OBJECTIVE_VALUES),
                         derived.objective_value_params(inserted, evaluations))

        def stored(table: Any, campaign: int) -> list[tuple[str | None, ...]]:
            columns = [c for c in table.c if c.name not in ("id", "campaign_id")]
            with store.engine.connect() as conn:
                return [tuple(row) for row in conn.execute(
                    select(*(cast(c, Text) for c in columns))
                    .where(table.c.campaign_id == campaign).order_by(table.c.id))]

        for table in (CANDIDATES, EVALUATIONS, IN_FLIGHT, OBJECTIVE_VALUES):
            rows = stored(table, copied)
            assert rows and rows == stored(table, inserted), table.name
        assert any(row[1] is None for row in stored(EVALUATIONS, copied))  # SQL NULL objectives


def test_copy_duplicates_fail_the_batch_as_an_insert_does(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        campaign = store.create_campaign("c", "s", 0, {}, "s", "v", objectives=OBJECTIVES).id
        first = batch()
        store.write_batch(campaign, **first)
        clash = CandidateRow(9, "y = x", (), None, "9" * 32, "evaluated", created_at=0.0)
        for duplicate in (first["candidates"][0], clash):  # against the stored rows / the batch
            with pytest.raises(StoreError, match="duplicate key") as raised:
                store.write_batch(campaign, candidates=[clash, duplicate],
                                  evaluations=[EvaluationRow(9, {"error": 0.0, "cost": 0.0},
                                                             {}, None, 0.0, None, 0.0)])
            assert isinstance(raised.value.__cause__, IntegrityError)
        with pytest.raises(StoreError, match="duplicate key"):  # in flight twice
            store.write_batch(campaign, dispatched=[first["dispatched"][1]])
        assert [c.number for c in store.load_candidates(campaign)] == [0, 1, 2, 3, 4]
        assert len(store.load_evaluations(campaign)) == 6
        assert store.top(campaign, "error", 1)[0][0] == 4
        with pytest.raises(StoreError, match="no campaign"):
            store.write_batch(campaign + 100, candidates=[clash])
