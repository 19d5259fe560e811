"""search_spaces/optimizers/validation.py (`OptimizersSpace.validate`, `automl validate`):
meta-validation of a discovered optimizer against tuned AdamW on held-out tasks. The
bookkeeping (which decay each side is taken at, seed aggregation, the three counts) runs on a
stand-in space; one real run, from a file through the command, trains AdamW with its decay
written in against AdamW with the same decay added."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from automl.cli import app
from search_spaces.optimizers import validation
from search_spaces.optimizers.space import OptimizersSpace, adamw_dsl, aggregate_ratios

runner = CliRunner()

CANDIDATE = "update = sign(g) * lr\n"


class StandInSpace:
    """What `meta_validate` uses of an `OptimizersSpace`: settings, a constructor taking them,
    parse/simplify/format, and `losses_by_weight_decay`, with losses that depend on the
    program, the task, the decay and the init seed."""

    # (program, task) -> {decay: (loss at seed 0, rate)}; a seed s multiplies by 1 + s / 10
    LOSSES = {
        ("candidate", "linreg_large"): {0.0: (0.5, 0.01), 0.01: (0.4, 0.1), 0.1: (0.45, 0.01)},
        ("adamw", "linreg_large"): {0.0: (0.6, 0.1), 0.01: (0.55, 0.01), 0.1: (0.3, 0.01)},
        ("candidate", "spirals_deep"): {0.0: (0.1, 0.01), 0.01: (0.2, 0.01), 0.1: (0.3, 0.1)},
        ("adamw", "spirals_deep"): {0.0: (0.5, 0.01), 0.01: (0.4, 0.01), 0.1: (0.2, 0.1)},
        # AdamW with b1 0.65: better than 0.9 at decays 0 and 0.1, worse at 0.01
        ("adamw_b1_0.65", "linreg_large"): {0.0: (0.35, 0.01), 0.01: (0.7, 0.1),
                                            0.1: (0.25, 0.1)},
    }

    def __init__(self, settings):
        self.settings = SimpleNamespace(**settings)
        self.settings.model_dump = lambda: dict(settings)

    def parse(self, text, name):
        if text == CANDIDATE:
            return "candidate"
        return "adamw_b1_0.65" if "interp(g, m, 0.65)" in text else "adamw"

    def simplify(self, program):
        return program, 0

    def format(self, program):
        return f"<{program}>"

    def losses_by_weight_decay(self, task, program):
        assert set(self.settings.weight_decays) == {0.0, 0.01, 0.1}
        factor = 1 + self.settings.init_seed / 10
        return {decay: (loss * factor, rate)
                for decay, (loss, rate) in self.LOSSES[(program, task)].items()}


def stand_in(**settings) -> StandInSpace:
    return StandInSpace({"learning_rates": (0.01, 0.1), "lr_schedule": "constant",
                         "init_seed": 0, "max_statements": 30, **settings})


def run(options, **keywords):
    return validation.meta_validate(
        stand_in(), {"my.dsl": CANDIDATE},
        validation.MetaValidationOptions.model_validate(options),
        adamw_texts=[adamw_dsl(0.0)], aggregate=aggregate_ratios, **keywords)


def test_compare_takes_each_side_at_its_best_decay_and_as_written():
    space = stand_in(weight_decays=(0.0, 0.01, 0.1))
    row = validation.compare(space, "linreg_large", "candidate", ["adamw"])
    assert row == {"value": 0.4, "weight_decay": 0.01, "learning_rate": 0.1,
                   "adamw": 0.3, "adamw_weight_decay": 0.1, "adamw_learning_rate": 0.01,
                   "as_written": 0.5, "adamw_seed_decay": 0.55}
    assert validation.outcome(row) == {"both_tuned": False, "tuned_decay": False,
                                       "seed_decay": True}


def test_adamw_tuned_over_b1_is_its_best_variant_at_each_decay(monkeypatch):
    space = stand_in(weight_decays=(0.0, 0.01, 0.1))
    row = validation.compare(space, "linreg_large", "candidate", ["adamw", "adamw_b1_0.65"])
    # b1 0.65's 0.25 at decay 0.1 (rate 0.1) is AdamW's best; at the seed's decay 0.01,
    # b1 0.9's 0.55 is
    assert (row["adamw"], row["adamw_weight_decay"], row["adamw_learning_rate"]) == (
        0.25, 0.1, 0.1)
    assert row["adamw_seed_decay"] == 0.55
    # the space passes one text per b1: the options', else its own reference_b1s
    texts = {}

    def meta_validate(space, programs, options, *, adamw_texts, **_):
        texts[options.adamw_b1s] = adamw_texts

    monkeypatch.setattr("search_spaces.optimizers.space.meta_validate", meta_validate)
    OptimizersSpace({"reference_b1s": [0.65, 0.9]}).validate({"a": CANDIDATE}, {})
    OptimizersSpace().validate({"a": CANDIDATE}, {"adamw_b1s": [0.8]})
    assert texts == {None: [adamw_dsl(0.0, 0.65), adamw_dsl(0.0)],
                     (0.8,): [adamw_dsl(0.0, 0.8)]}
    with pytest.raises(ValueError, match="adamw_b1s"):
        OptimizersSpace().validate({"a": CANDIDATE}, {"adamw_b1s": [1.5]})


def test_one_seed_rows_and_the_three_counts():
    streamed = []
    report = run({"tasks": ["linreg_large", "spirals_deep"], "weight_decays": [0.1]},
                 origin={"file": "my.dsl"}, on_row=streamed.append)
    assert list(report.rows) == streamed  # each row handed on as it was made
    linreg, spirals, both, tuned_decay, seed_decay = report.rows
    assert (linreg["task"], linreg["value"], linreg["adamw"]) == ("linreg_large", 0.4, 0.3)
    assert linreg["per_seed"] is None and linreg["unit"] == "validation loss"
    assert linreg["metric_name"] == "loss" and spirals["metric_name"] == "accuracy"
    # spirals: the candidate as written (0.1) beats AdamW at its best (0.2, decay 0.1)
    assert (spirals["beats_adamw_both_tuned"], spirals["beats_adamw_tuned_decay"],
            spirals["beats_adamw_seed_decay"]) == (True, True, True)
    assert [both["metric"], tuned_decay["metric"], seed_decay["metric"]] == list(
        validation.SUMMARY_METRICS)
    assert (both["value"], tuned_decay["value"], seed_decay["value"]) == (1, 1, 2)
    for summary in (both, tuned_decay, seed_decay):
        assert summary["unit"] == "of 2" and summary["file"] == "my.dsl"
        assert summary["weight_decays"] == [0.0, 0.01, 0.1]  # 0 and the seed's 0.01 added
        assert summary["learning_rates"] == [0.01, 0.1]  # the space's, by default
        assert summary["init_seeds"] == [0] and summary["lr_schedule"] == "constant"
    assert both["program"] == "<candidate>" and seed_decay["adamw_weight_decay"] == 0.01
    assert report.summary == {"meta_validation_tasks_beating_adamw_both_tuned": 1,
                              "meta_validation_tasks_beating_adamw_tuned_decay": 1,
                              "meta_validation_tasks_beating_adamw": 2, "tasks": 2}


def test_several_seeds_compare_geometric_means():
    report = run({"tasks": ["linreg_large"], "weight_decays": [0.1], "init_seeds": [2, 0, 2],
                  "learning_rates": [0.3], "lr_schedule": "cosine"})
    row = report.rows[0]
    assert len(row["per_seed"]) == 2 and "geometric mean over init seeds [0, 2]" in row["unit"]
    assert row["per_seed"][1]["value"] == pytest.approx(0.4 * 1.2)
    for key in validation.LOSSES:
        values = [seeded[key] for seeded in row["per_seed"]]
        assert row[key] == pytest.approx(math.exp(np.mean(np.log(values))))
    assert row["seeds_won_both_tuned"] == 0
    assert report.rows[-1]["init_seeds"] == [0, 2]
    assert report.rows[-1]["learning_rates"] == [0.3]
    assert report.rows[-1]["lr_schedule"] == "cosine"


def test_one_program_at_a_time_and_options_checked():
    with pytest.raises(ValueError, match="compares one program with AdamW, got 2"):
        validation.meta_validate(stand_in(), {"a": CANDIDATE, "b": CANDIDATE},
                                 validation.MetaValidationOptions(), adamw_texts=[""],
                                 aggregate=aggregate_ratios)
    space = OptimizersSpace()
    for options, message in (({"tasks": ["spirals"]}, "not meta-validation task"),
                             ({"weight_decays": [-1]}, "option weight_decays=[-1]"),
                             ({"lr_schedule": "linear"}, "allowed: constant, cosine"),
                             ({"seeds": [0]}, "unknown option 'seeds'")):
        with pytest.raises(ValueError, match=re.escape(message)):
            space.validate({"a": CANDIDATE}, options)


@dataclass
class Evaluation:
    candidate_number: int
    objectives: dict | None


def test_a_campaign_contributes_its_lowest_score():
    evaluations = [Evaluation(1, {"score": 1.2}), Evaluation(2, None),
                   Evaluation(3, {"score": 0.9}), Evaluation(4, {"score": 1.0})]
    results = SimpleNamespace(
        campaign=lambda campaign: SimpleNamespace(name="lion"),
        evaluations=lambda campaign: evaluations,
        candidates=lambda campaign, numbers: {n: SimpleNamespace(
            ref=f"lion:{n}", program=f"# {n}\n{CANDIDATE}") for n in numbers})
    picked = OptimizersSpace().validation_candidates(results, "lion", {})
    assert picked.programs == {"lion:3": f"# 3\n{CANDIDATE}"}
    assert picked.origin == {"campaign": "lion", "candidate": 3, "proxy_score": 0.9,
                             "evaluations": 3}
    with pytest.raises(ValueError, match="no evaluated candidates"):
        validation.best_candidate(SimpleNamespace(
            campaign=lambda c: SimpleNamespace(name="lion"), evaluations=lambda c: []), "lion")


@pytest.mark.slow
def test_automl_validate_trains_a_file_against_adamw(tmp_path):
    """AdamW with decay 0.01 written in, as written, is AdamW without decay at the added
    decay 0.01: the two losses agree."""
    program = tmp_path / "adamw_001.dsl"
    program.write_text(adamw_dsl(0.01))
    result = runner.invoke(app, [
        "validate", str(program), "--space", "optimizers", "--set", "learning_rates=[0.01]",
        "--option", "tasks=linreg_large", "--option", "weight_decays=[0]",
        "--option", "init_seeds=1", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["metric"] for r in rows] == ["meta_validation_loss",
                                           *validation.SUMMARY_METRICS]
    task = rows[0]
    assert task["as_written"] == pytest.approx(task["adamw_seed_decay"], rel=1e-4)
    assert task["learning_rate"] == task["adamw_learning_rate"] == 0.01
    assert 0 < task["value"] <= task["as_written"]  # its best decay, at worst 0
    assert task["weight_decay"] in (0.0, 0.01) and task["per_seed"] is None
    assert task["beats_adamw_both_tuned"] == (task["value"] < task["adamw"])
    assert rows[1]["file"] == str(program) and rows[1]["learning_rates"] == [0.01]
    assert rows[1]["weight_decays"] == [0.0, 0.01] and rows[1]["init_seeds"] == [1]
    assert "0.01" in rows[1]["program"]  # the decay written in, after simplification
    assert rows[1]["value"] == int(task["beats_adamw_both_tuned"])
