"""scripts/autonumerics_front.py: per-cost candidates are validated and ordered, and the float32
front keeps, at each cost, the checked program with the fewest ULPs."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import automl
from automl.config import parse_config
from automl.controller import CampaignController
from automl.store import Store
from search_spaces.autonumerics.space import AutoNumericsSpace
from tests.standalone import SCRIPTS, script_module


@pytest.fixture(scope="module")
def front():
    with script_module("autonumerics_front") as module:
        yield module


@pytest.fixture(scope="module")
def campaign_db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('front')}/front.db"
    # float32_check_points: the float32 front's exact values come from mpmath, ~6 s a process
    # for the default 65,536 points (plus 10,000 random ones)
    config = parse_config("""
seed: 3
space: {name: autonumerics, settings: {target: exp2, fit_constants: true, max_statements: 6,
                                       float32_check_points: 1024}}
evolution: {strategy: nsga2, population_size: 16}
budget: {max_evaluations: 120}
executor: {kind: local, batch_size: 8}
""")
    store = Store.open(url)
    CampaignController.create(config, store, "front").run()
    store.close()
    return url


def test_candidates_per_cost_are_validated_best_first(front, campaign_db):
    with automl.open(campaign_db) as results:
        space = results.space("front")
        checked = front.evolved_candidates(results, "front", space, 3,
                                           front.evaluations_until(results, "front"))
    assert len(checked) >= 3  # several costs were explored
    for cost, entries in checked.items():
        assert 1 <= len(entries) <= 3
        errors = [error for error, _ in entries]
        assert errors == sorted(errors), cost
        for error, candidate in entries:
            assert candidate["candidate"].startswith("front:")
            # the validation points include the training grid's range densely, so a finite
            # validation error cannot be far below the training error
            if math.isfinite(error):
                assert error >= 0.5 * candidate["training_error"]


def test_float32_front_keeps_the_fewest_ulps_among_the_checked(front, campaign_db):
    per_cost, max_cost = 2, 4
    output = subprocess.run(
        [sys.executable, str(SCRIPTS / "autonumerics_front.py"), "--db", campaign_db,
         "--campaign", "front",
         "--max-cost", str(max_cost), "--float32", "--float32-per-cost", str(per_cost),
         "--timing-repeats", "3", "--thresholds", "1e-3", "--float32-refine-rounds", "5"],
        check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    float32_rows = [r for r in rows if r["metric"] == "autonumerics_float32_front"]
    assert float32_rows
    with automl.open(campaign_db) as results:
        space = results.space("front")
        checked = front.evolved_candidates(results, "front", space, per_cost,
                                           front.evaluations_until(results, "front"))
    float32_space = AutoNumericsSpace({**space.settings.model_dump(), "precision": "float32",
                                       "timing_repeats": 3, "float32_refine_rounds": 5})
    for row in float32_rows:
        assert row["cost"] <= max_cost
        entries = [(e, c) for e, c in checked[row["cost"]] if math.isfinite(e)]
        assert row["candidate"] in {c["candidate"] for _, c in entries}
        ulps = [float32_space.float32_objectives(space.parse(c["program"]), c["constants"],
                                                 {"cost": row["cost"]})[0]["max_ulp_error"]
                for _, c in entries]
        assert row["max_ulp_error"] == pytest.approx(min(ulps))


def test_until_keeps_only_what_the_campaign_had_found_by_then(front, campaign_db):
    with automl.open(campaign_db) as results:
        space = results.space("front")
        everything = front.evolved_candidates(results, "front", space, 1000,
                                              front.evaluations_until(results, "front"))
        times = sorted(c["found_after_s"] for entries in everything.values()
                       for _, c in entries)
        until = times[len(times) // 2]
        stored_early = front.evaluations_until(results, "front", until)
        early = front.evolved_candidates(results, "front", space, 1000, stored_early)
        hits = front.time_to_target(results, "front", space, 16, [1.0, 1e-2, 1e-3],
                                    stored_early)
    assert all(hit["seconds"] is None or hit["seconds"] <= until + 0.1 for hit in hits)
    assert hits[0]["seconds"] is not None  # something under 100% error was found by then
    found = [c for entries in early.values() for _, c in entries]
    assert found and all(c["found_after_s"] <= until + 0.1 for c in found)
    assert len(found) < len(times)
