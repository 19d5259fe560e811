"""The query layer: the store's maintained Pareto front and objective index (SQLite and
PostgreSQL), `automl.open` over real campaigns, and the 0001 -> 0002 migration of old data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, text

import automl
from automl.config import parse_config
from automl.controller import CampaignController
from automl.results import parse_ref
from automl.store import CandidateRow, EvaluationRow, Store, StoreError, migrate
from tests.pareto_reference import bf_ranks


def brute_force_front(points: np.ndarray) -> list[int]:
    return [i for i, rank in enumerate(bf_ranks(points.tolist())) if rank == 0]


DIRECTIONS = (("error", "minimize"), ("accuracy", "maximize"), ("cost", "minimize"))


def _candidate(number: int, parent: int | None = None, status: str = "evaluated",
               duplicate_of: int | None = None) -> CandidateRow:
    return CandidateRow(number, f"f = x * {number}.0\n", () if parent is None else (parent,),
                        None if parent is None else "change_argument", f"{number:032x}",
                        status, duplicate_of=duplicate_of)


def _evaluation(number: int, objectives: dict[str, float] | None) -> EvaluationRow:
    return EvaluationRow(number, objectives, {"n": number}, "w", 0.1,
                         None if objectives else "diverged")


def _oriented(objectives: dict[str, float]) -> list[float]:
    return [objectives[n] if d == "minimize" else -objectives[n] for n, d in DIRECTIONS]


@pytest.mark.slow
def test_maintained_front_equals_brute_force_over_all_batches(db_url: str) -> None:
    """Random batches (ties, failures, non-finite values, maximized objectives): after each
    batch the stored front is exactly the non-dominated set of every finite evaluation."""
    rng = np.random.default_rng(3)
    with Store.open(db_url) as store:
        campaign = store.create_campaign("front", "autonumerics", 0, {}, "s", "v",
                                         objectives=DIRECTIONS)
        finite: list[tuple[int, dict[str, float]]] = []
        number = 0
        for _ in range(6):
            candidates, evaluations = [], []
            for _ in range(int(rng.integers(1, 40))):
                values = {"error": float(rng.integers(0, 6)), "accuracy": float(rng.random()),
                          "cost": float(rng.integers(0, 4))}
                roll = rng.random()
                if roll < 0.1:
                    values = None  # a failure
                elif roll < 0.2:
                    values["error"] = math.nan  # stored, but never on the front
                candidates.append(_candidate(number))
                evaluations.append(_evaluation(number, values))
                if values and all(math.isfinite(v) for v in values.values()):
                    finite.append((number, values))
                number += 1
            store.write_batch(campaign.id, candidates=candidates, evaluations=evaluations)
            expected = {finite[i][0] for i in brute_force_front(
                np.asarray([_oriented(v) for _, v in finite]))}
            front = store.front(campaign.id)
            assert front is not None
            assert {n for n, _ in front} == expected
            for n, values in front:
                assert values == dict(finite)[n]


def test_pareto_lists_a_cache_hit_equal_to_its_twin_once(tmp_path) -> None:
    """Hits of one function with its very objectives are one point of the front (listed as
    the twin); a hit whose cost differs from its twin's is a point of its own."""
    url = f"sqlite:///{tmp_path / 'twins.db'}"
    point = {"error": 0.5, "accuracy": 0.9, "cost": 2.0}
    with Store.open(url) as store:
        campaign = store.create_campaign("twins", "autonumerics", 0, {}, "s", "v",
                                         objectives=DIRECTIONS)
        store.write_batch(campaign.id, candidates=[
            _candidate(0), _candidate(1, 0, "duplicate", duplicate_of=0),
            _candidate(2, 0, "duplicate", duplicate_of=0),
            _candidate(3, 0, "duplicate", duplicate_of=0)], evaluations=[
            _evaluation(0, point), _evaluation(1, point), _evaluation(2, point),
            _evaluation(3, {**point, "cost": 1.0, "accuracy": 0.8})])
    with automl.open(url) as results:
        assert [c.number for c in results.pareto("twins")] == [0, 3]  # 1 and 2: as 0


def test_front_is_none_without_registered_objectives(db_url: str) -> None:
    with Store.open(db_url) as store:
        campaign = store.create_campaign("old", "autonumerics", 0, {}, "s", "v")
        store.write_batch(campaign.id, candidates=[_candidate(0)],
                          evaluations=[_evaluation(0, {"error": 1.0})])
        assert store.front(campaign.id) is None


def test_unknown_direction_is_refused(db_url: str) -> None:
    with Store.open(db_url) as store, pytest.raises(StoreError, match="direction 'up'"):
        store.create_campaign("bad", "autonumerics", 0, {}, "s", "v",
                              objectives=[("error", "up")])


def test_top_orders_by_direction_and_lists_a_candidate_once(db_url: str) -> None:
    with Store.open(db_url) as store:
        campaign = store.create_campaign("top", "autonumerics", 0, {}, "s", "v",
                                         objectives=DIRECTIONS)
        values = [3.0, 1.0, 2.0, 1.0, 5.0]
        store.write_batch(
            campaign.id, candidates=[_candidate(i) for i in range(5)],
            evaluations=[_evaluation(i, {"error": v, "accuracy": v, "cost": 0.0})
                         for i, v in enumerate(values)]
            # candidate 4 evaluated again (aggregating cache): its best value counts, once
            + [_evaluation(4, {"error": 0.5, "accuracy": 0.5, "cost": 0.0}),
               _evaluation(2, None)])
        assert store.top(campaign.id, "error", 3) == [(4, 0.5), (1, 1.0), (3, 1.0)]
        assert store.top(campaign.id, "accuracy", 2, "maximize") == [(4, 5.0), (0, 3.0)]
        assert store.top(campaign.id, "no such objective", 3) == []
        assert len(store.top(campaign.id, "error", 100)) == 5


def test_lineage_follows_first_parents_to_the_seed(db_url: str) -> None:
    with Store.open(db_url) as store:
        campaign = store.create_campaign("tree", "autonumerics", 0, {}, "s", "v")
        parents = {0: None, 1: 0, 2: 1, 3: 1, 4: 3, 5: None, 6: 4, 7: 8, 8: 7}
        store.write_batch(campaign.id,
                          candidates=[_candidate(n, p) for n, p in parents.items()])
        assert [row.number for row in store.lineage(campaign.id, 6)] == [6, 4, 3, 1, 0]
        assert [row.number for row in store.lineage(campaign.id, 5)] == [5]
        # a corrupt, cyclic chain ends (parents are numbered before their children)
        assert [row.number for row in store.lineage(campaign.id, 8)] == [8, 7]
        with pytest.raises(StoreError, match="no candidate 99"):
            store.lineage(campaign.id, 99)


def test_parse_ref() -> None:
    assert parse_ref("lion:digits:42") == ("lion:digits", 42)
    for bad in ("lion", "lion:", ":4", "lion:x"):
        with pytest.raises(ValueError, match="CAMPAIGN:NUMBER"):
            parse_ref(bad)


# -- a real campaign through automl.open -------------------------------------------------------

CONFIG = """
seed: 1
space: {name: autonumerics, settings: {target: exp2, fit_constants: true, max_statements: 10}}
evolution: {strategy: nsga2, population_size: 16}
budget: {max_evaluations: 120}
executor: {kind: local, batch_size: 16}
"""


@pytest.fixture(scope="module")
def campaign_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('results') / 'r.db'}"
    with Store.open(url) as store:
        summary = CampaignController.create(parse_config(CONFIG), store, "exp2").run()
    return url, summary


@pytest.mark.slow
def test_pareto_matches_the_front_recomputed_from_every_evaluation(campaign_db) -> None:
    url, summary = campaign_db
    with automl.open(url) as results:
        names = [o.name for o in results.objectives("exp2")]
        front = results.pareto("exp2")
        evaluations = [e for e in results.evaluations("exp2") if e.objectives]
        points = np.asarray([[e.objectives[n] for n in names] for e in evaluations])
        expected = {evaluations[i].candidate_number for i in brute_force_front(points)}
        assert {c.number for c in front} == expected
        # the controller's final front is made of the same objective vectors
        vectors = {tuple(c.objectives[n] for n in names) for c in front}
        assert {tuple(m.objectives[n] for n in names) for m in summary.front} <= vectors
        first = names[0]
        assert [c.objectives[first] for c in front] == sorted(c.objectives[first] for c in front)


def test_top_show_and_lineage_agree_with_the_stored_rows(campaign_db) -> None:
    url, _ = campaign_db
    with automl.open(url) as results:
        best = results.top("exp2", 5, "max_relative_error")
        errors = sorted(e.objectives["max_relative_error"]
                        for e in results.evaluations("exp2") if e.objectives)
        assert [c.objectives["max_relative_error"] for c in best] == errors[:5]
        chain = results.lineage(best[0].ref)
        assert chain[0].number == best[0].number
        assert chain[-1].parents == () and chain[-1].mutation in ("initial", None)
        for child, parent in zip(chain, chain[1:], strict=False):
            assert child.parents[0] == parent.number and parent.number < child.number
        rows = results.records("exp2")
        duplicates = [r for r in rows if r["status"] == "duplicate"]
        assert duplicates, "a 120-evaluation exp2 campaign always has cache hits"
        twin = duplicates[0]["duplicate_of"]
        info = results.candidate(f"exp2:{twin}")
        assert info.duplicates == sum(r["duplicate_of"] == twin for r in rows)
        duplicate = results.candidate(("exp2", duplicates[0]["number"]))
        assert duplicate.objectives == info.objectives and duplicate.status == "duplicate"
        assert results.campaign("exp2").environment["versions"]["numpy"] == np.__version__


@pytest.mark.slow
def test_queries_name_what_is_missing(campaign_db) -> None:
    url, _ = campaign_db
    with automl.open(url) as results:
        with pytest.raises(StoreError, match="no campaign 'nope'"):
            results.top("nope")
        with pytest.raises(ValueError, match="no objective 'speed'"):
            results.top("exp2", 3, "speed")
        with pytest.raises(StoreError, match="no candidate 999999"):
            results.candidate("exp2:999999")


def test_a_0001_database_upgrades_with_its_objectives_indexed(tmp_path) -> None:
    """Data written before revision 0002 stays, becomes queryable by `top`, and its front is
    computed from the evaluations (its campaign registered no directions)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO campaigns (id, name, space, seed, status, config, settings_hash, "
            "code_version, created_at, updated_at) VALUES (1, 'old', 'autonumerics', 0, "
            "'finished', '{}', 's', 'v', 0, 0)"))
        for number, error, cost in ((0, 0.5, 1.0), (1, 0.1, 3.0), (2, 0.7, 2.0), (3, 0.2, 2.0)):
            conn.execute(text(
                "INSERT INTO candidates (campaign_id, number, program, parents, status, "
                "functional_hash, simplified_removed, created_at) VALUES (1, :n, 'f = x', "
                "'[]', 'evaluated', :h, 0, 0)"), {"n": number, "h": f"{number:032x}"})
            conn.execute(text(
                "INSERT INTO evaluations (campaign_id, candidate_number, objectives, metrics, "
                "duration_s, created_at) VALUES (1, :n, :o, '{}', 0, 0)"),
                {"n": number, "o": f'{{"max_relative_error": {error}, "cost": {cost}}}'})
    engine.dispose()
    with automl.open(url) as results:  # opening upgrades to head
        assert results.store.schema_revision() == migrate.head_revision()
        assert [c.number for c in results.top("old", 2, "max_relative_error")] == [1, 3]
        assert {c.number for c in results.pareto("old")} == {0, 1, 3}


def test_records_and_frame_have_one_row_per_candidate(campaign_db) -> None:
    url, summary = campaign_db
    with automl.open(url) as results:
        rows = results.records("exp2")
        assert [r["number"] for r in rows] == list(range(summary.candidates))
        evaluated = [r for r in rows if r["status"] == "evaluated"]
        assert all(math.isfinite(r["max_relative_error"]) for r in evaluated)
        assert all(math.isnan(r["cost"]) for r in rows if r["status"] == "failed")
        try:
            import pandas  # noqa: F401
        except ImportError:
            with pytest.raises(ImportError, match="pip install pandas"):
                results.frame("exp2")
        else:
            frame = results.frame("exp2")
            assert len(frame) == len(rows) and "max_relative_error" in frame.columns
