"""Several campaigns on one PostgreSQL database: two running at once from two processes, and
the opt-in cache shared between campaigns with the same evaluation settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from automl.config import parse_config
from automl.controller import CampaignController
from automl.plugins import get_space
from automl.store import Store
from tests.conftest import _empty_pg_schema

pytestmark = pytest.mark.postgres
REPOSITORY = Path(__file__).resolve().parents[1]
CONFIG = """
seed: {seed}
space: {{name: autonumerics, settings: {{target: exp2, fit_constants: true, max_statements: 8}}}}
evolution: {{strategy: nsga2, population_size: 12}}
budget: {{max_evaluations: {budget}}}
cache: {{shared: {shared}}}
executor: {{kind: local, batch_size: 4}}
store: {{flush_seconds: 0.05}}
"""


@pytest.fixture
def pg_url(pg_database) -> str:
    _empty_pg_schema(pg_database)
    return pg_database.render_as_string(hide_password=False)


@pytest.mark.slow
def test_two_campaigns_write_to_one_database_at_once(pg_url, tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG.format(seed=0, budget=150, shared="false"))
    Store.open(pg_url).close()  # schema first: two processes must not both create it
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    processes = [subprocess.Popen([sys.executable, "-m", "automl", "run", "c.yaml", "--db",
                                   pg_url, "--name", name, "--seed", str(seed), "--json"],
                                  cwd=tmp_path, env=environment, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for name, seed in (("left", 1), ("right", 2))]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    with Store.open(pg_url) as store:
        for name in ("left", "right"):
            campaign = store.get_campaign(name)
            candidates = store.load_candidates(campaign.id)
            assert campaign.status == "finished"
            assert [c.number for c in candidates] == list(range(len(candidates)))
            assert sum(c.status != "duplicate" for c in candidates) == 150
            assert store.front(campaign.id)


def run(url: str, name: str, seed: int, shared: bool):
    config = parse_config(CONFIG.format(seed=seed, budget=100, shared=str(shared).lower()))
    with Store.open(url) as store:
        summary = CampaignController.create(config, store, name).run()
        return (store.load_candidates(summary.campaign.id),
                {e.candidate_number: e for e in store.load_evaluations(summary.campaign.id)})


@pytest.mark.slow
def test_a_shared_cache_reuses_the_results_of_other_campaigns(pg_url):
    first, first_evaluations = run(pg_url, "first", seed=1, shared=False)
    first_results = {c.functional_hash: first_evaluations[c.number] for c in first
                     if c.status != "duplicate"}
    sharing, sharing_evaluations = run(pg_url, "sharing", seed=2, shared=True)
    alone, _ = run(pg_url, "alone", seed=2, shared=False)

    dispatched = {c.functional_hash for c in sharing if c.status != "duplicate"}
    assert not dispatched & first_results.keys(), "nothing the first campaign ran is rerun"
    imported = [c for c in sharing if c.status == "duplicate" and c.duplicate_of is None]
    assert imported, "some of its candidates were answered by the first campaign"
    space = get_space("autonumerics", {"target": "exp2", "fit_constants": True,
                                       "max_statements": 8})
    for candidate in imported:
        copy = sharing_evaluations[candidate.number]
        original = first_results[candidate.functional_hash]
        # the other campaign's result, with the cost of this candidate's own text
        program = space.parse(candidate.program, "imported")
        assert copy.objectives == (original.objectives and {
            **original.objectives, **space.structural_objectives(program)})
        assert copy.error == original.error
        assert copy.metrics["shared_cache"]["campaign"] == 1
    # the same search without sharing evaluates some of those functions again
    assert {c.functional_hash for c in alone if c.status != "duplicate"} & first_results.keys()
