"""A database written by the previous release opens, upgrades and resumes: what it restores
(population, counters, cache, restart state, in-flight candidates and their inherited fit
starts, the front) is what that release restored, and the campaigns then run to their budget.
The data and how it was made: tests/data/README.md."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from automl.config import parse_config
from automl.controller import CampaignController
from automl.store import Store

DATA = Path(__file__).resolve().parent / "data"
RESTORED = json.loads((DATA / "release-0.1.0-restored.json").read_text())


@pytest.fixture
def old_database(tmp_path) -> str:
    path = tmp_path / "old.db"
    shutil.copy(DATA / "release-0.1.0.db", path)
    return f"sqlite:///{path}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RESTORED))
def test_the_previous_release_database_resumes_as_that_release_restored_it(old_database, name):
    expected = RESTORED[name]
    with Store.open(old_database) as store:
        controller = CampaignController.resume(store, name)
        progress = controller.progress()
        assert [[m.number, m.objectives.tolist()] for m in controller.population.members()] \
            == expected["population"]
        assert progress.candidates == expected["next_number"]
        assert progress.evaluations == expected["evaluations"]
        assert progress.failed == expected["failed"]
        assert progress.best == expected["best"]
        assert controller.cache.statistics.hits == expected["cache_hits"]
        assert controller.cache.statistics.misses == expected["cache_misses"]
        assert [[t.candidate_number, t.program.parameter_values]
                for t in controller.redispatch] == expected["redispatch"]
        if expected["restart"] is not None:
            state = controller.population.state()
            assert {"best": state.best[0], "stalled": state.stalled,
                    "restarts": state.restarts} == expected["restart"]
        # the same members; that release listed them by the last objective, today's code by
        # the first (the order of `automl pareto`)
        last = controller.objectives[-1].name
        by_last = sorted(controller.front(), key=lambda m: (m.objectives[last], m.number))
        assert [[m.number, m.objectives] for m in by_last] == expected["front"]
        summary = controller.run()
        campaign_id = controller.campaign.id
        rows = store.load_candidates(campaign_id)
        assert store.load_in_flight(campaign_id) == []
    assert summary.campaign.status == "finished"
    assert [row.number for row in rows] == list(range(len(rows)))
    assert sum(row.status != "duplicate" for row in rows) == summary.evaluations == 90


SEQUENCES = json.loads(gzip.decompress((DATA / "release-0.1.0-sequences.json.gz").read_bytes()))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_a_campaign_makes_the_candidates_the_previous_release_made(name):
    """Without constant fitting a campaign is computed bit for bit alike in every process, so
    the whole candidate sequence of the previous release must come out again."""
    recorded = SEQUENCES[name]
    with Store.open("sqlite:///:memory:") as store:
        summary = CampaignController.create(parse_config(recorded["config"]), store, name).run()
        rows = store.load_candidates(summary.campaign.id)
    candidates = [[r.number, r.program, r.functional_hash, r.status, list(r.parents), r.mutation,
                   r.duplicate_of] for r in rows]
    assert candidates == recorded["candidates"]
    assert [summary.candidates, summary.evaluations, summary.failed, summary.duplicates,
            summary.restarts] == recorded["summary"]
