"""search_spaces/autonumerics/front_report.py and `automl front`: per-cost candidates are
validated and ordered, the table puts the evolved front beside the baselines cost by cost, the
float32 front keeps, at each cost, the checked program with the fewest ULPs, and `until` keeps
only what the campaign had found by then."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

import automl
from automl.cli import app
from automl.config import parse_config
from automl.controller import CampaignController
from automl.store import Store
from search_spaces.autonumerics import front_report as front
from search_spaces.autonumerics.space import AutoNumericsSpace

runner = CliRunner()


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


def json_rows(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_candidates_per_cost_are_validated_best_first(campaign_db):
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


def test_front_table_is_the_best_of_cost_at_most_c_for_evolved_and_baselines():
    evolved = {3.0: (1e-3, {"candidate": "c:1"}), 5.0: (1e-5, {"candidate": "c:2"}),
               6.0: (1e-4, {"candidate": "c:3"})}  # worse at 6 than at 5: 5's counts at 6
    baselines = {"minimax": {4.0: (1e-4, "minimax_2"), 6.0: (1e-6, "minimax_3")}}
    classical_best = front.best_classical([  # classical.measured rows
        {"cost": 4.0, "error": 2e-5, "name": "minimax_fma_4", "in_op_set": True},
        {"cost": 4.0, "error": 1e-9, "name": "rational_minimax_2_2", "in_op_set": False},
        {"cost": 6.0, "error": 1e-6, "name": "minimax_fma_6", "in_op_set": True}])
    assert classical_best == {4.0: (2e-5, "minimax_fma_4"), 6.0: (1e-6, "minimax_fma_6")}
    table = front.front_table(evolved, baselines, "exp2", 6, classical_best)
    assert [r["cost"] for r in table] == [1, 2, 3, 4, 5, 6]
    assert [r["evolved"] for r in table] == [math.inf, math.inf, 1e-3, 1e-3, 1e-5, 1e-5]
    assert [r["candidate"] for r in table] == [None, None, "c:1", "c:1", "c:2", "c:2"]
    assert [r["minimax"] for r in table] == [math.inf] * 3 + [1e-4, 1e-4, 1e-6]
    assert table[5]["minimax_name"] == "minimax_3" and table[0]["taylor"] == math.inf
    assert table[4]["evolved_vs_minimax"] == pytest.approx(10.0)
    summary = front.summary_row(table, evolved, "exp2",
                                front.FrontReportOptions(from_cost=4, max_cost=6,
                                                         target_cost=5))
    assert summary["dominates_minimax_polynomial"] is False
    assert summary["costs_not_dominated"] == [4.0, 6.0]
    assert [r["best_classical"] for r in table[3:]] == [2e-5, 2e-5, 1e-6]
    # 5 beats the best classical program of cost <= 5 (2e-5); 4 (1e-3) and 6 (1e-5) do not
    assert summary["costs_beating_best_classical"] == [5.0]
    assert summary["costs_not_beaten"] == [4.0, 6.0]
    assert summary["costs_tied_at_the_float64_floor"] == []
    floor = front.front_table({4.0: (3e-16, {"candidate": "c:4"})},
                              {}, "exp2", 4, {4.0: (2.2e-16, "minimax_fma_4")})
    at_floor = front.summary_row(floor, {}, "exp2", front.FrontReportOptions(
        from_cost=4, max_cost=4, target_cost=4))
    assert at_floor["costs_tied_at_the_float64_floor"] == [4.0]  # both within 4 ulps
    assert at_floor["costs_not_beaten"] == []
    assert summary["best_error_at_target_cost"] == 1e-5
    assert summary["best_at_target_cost"] == {"candidate": "c:2"}
    markdown = front.markdown_table(table).splitlines()
    assert markdown[0].startswith("| cost | evolved | minimax poly |")
    assert markdown[2 + 4] == "| 5 | 1e-05 | 0.0001 | - | - | - | - | 2e-05 | 10x |"


@pytest.mark.slow
def test_automl_front_prints_the_package_report_as_json_lines_and_markdown(campaign_db):
    result = runner.invoke(app, [
        "front", "front", "--db", campaign_db, "--json", "--markdown",
        "--option", "max_cost=6", "--option", "per_cost=3", "--option", "thresholds=[0.1, 1e-3]"])
    assert result.exit_code == 0, result.output
    rows = json_rows(result.stdout)
    with automl.open(campaign_db) as results:
        space = results.space("front")
        report = space.front_report(results, "front", {"max_cost": 6, "per_cost": 3,
                                                       "thresholds": [0.1, 1e-3]})
        checked = front.evolved_candidates(results, "front", space, 3,
                                           front.evaluations_until(results, "front"))
    assert [r["metric"] for r in rows] == (["autonumerics_front"] * 6
                                           + ["autonumerics_time_to_target"] * 2
                                           + ["autonumerics_front_summary"])
    assert rows == json.loads(json.dumps(list(report.rows)))  # the command prints the report
    for row in rows[:6]:  # the best validated program of cost <= c, beside the baselines
        best = min((e for cost, entries in checked.items() if cost <= row["cost"]
                    for e, _ in entries[:1]), default=math.inf)
        assert row["evolved"] == best and row["target"] == "exp2"
    for kind in ("evolved", "minimax", "pade", "taylor"):  # more cost never does worse
        assert [r[kind] for r in rows[:6]] == sorted((r[kind] for r in rows[:6]), reverse=True)
    assert [r["threshold"] for r in rows[6:8]] == [0.1, 1e-3]
    summary = rows[-1]
    assert summary["costs_compared"] == [4, 6]
    assert summary["dominates_minimax_polynomial"] == all(
        r["evolved"] < r["minimax"] for r in rows[3:6])
    assert "| cost | evolved | minimax poly |" in result.stdout  # --markdown, after the rows
    assert result.stdout.rstrip().splitlines()[-1].startswith("| 6 |")

    table = runner.invoke(app, ["front", "1", "--db", campaign_db, "--option", "max_cost=3",
                                "--option", "thresholds=0.1"])  # by id; one threshold
    assert table.exit_code == 0, table.output
    assert "autonumerics_front" in table.stdout and "dominates_minimax_polynomial" in table.stdout
    assert "{" not in table.stdout


def test_automl_front_says_what_is_wrong_on_one_line(campaign_db):
    for args, expected in (
            (["--option", "max_costs=6"], "unknown option 'max_costs'; allowed: max_cost"),
            (["--option", "per_cost=many"], "option per_cost='many'"),
            (["--option", "per_cost"], "--option expects KEY=VALUE")):
        result = runner.invoke(app, ["front", "front", "--db", campaign_db, *args])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    missing = runner.invoke(app, ["front", "nope", "--db", campaign_db])
    assert missing.exit_code == 2 and "nope" in missing.stderr


@pytest.mark.slow
def test_float32_front_keeps_the_fewest_ulps_among_the_checked(campaign_db):
    per_cost, max_cost = 2, 4
    result = runner.invoke(app, [
        "front", "front", "--db", campaign_db, "--json",
        "--option", f"max_cost={max_cost}", "--option", "float32=true",
        "--option", f"float32_per_cost={per_cost}", "--option", "timing_repeats=3",
        "--option", "thresholds=[1e-3]", "--option", "float32_refine_rounds=5"])
    assert result.exit_code == 0, result.output
    float32_rows = [r for r in json_rows(result.stdout)
                    if r["metric"] == "autonumerics_float32_front"]
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


@pytest.mark.slow
def test_until_keeps_only_what_the_campaign_had_found_by_then(campaign_db):
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
        report = space.front_report(results, "front", {"until": until, "per_cost": 1000,
                                                       "thresholds": [1.0]})
    assert all(hit["seconds"] is None or hit["seconds"] <= until + 0.1 for hit in hits)
    assert hits[0]["seconds"] is not None  # something under 100% error was found by then
    found = [c for entries in early.values() for _, c in entries]
    assert found and all(c["found_after_s"] <= until + 0.1 for c in found)
    assert len(found) < len(times)
    # the report's front is that early front
    early_best = {cost: entries[0][0] for cost, entries in early.items()}
    for row in report.by_metric("autonumerics_front"):
        assert row["evolved"] == min((e for c, e in early_best.items() if c <= row["cost"]),
                                     default=math.inf)
