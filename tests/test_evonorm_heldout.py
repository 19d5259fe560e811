"""search_spaces/evonorm/heldout.py (`EvoNormSpace.validate`, `automl validate`): discovered
layers and BN-ReLU, EvoNorm-B0, -S0 trained on a network the search never saw. Training is
replaced by a recording trainer with known accuracies (a real run compiles the interpreter on
VGG for ~30 s), called exactly as `training.make_trainer` is declared."""

from __future__ import annotations

import inspect
import json
import statistics
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from automl.cli import app
from search_spaces.evonorm import heldout, training
from search_spaces.evonorm.space import BASELINES, EvoNormSpace

runner = CliRunner()

LAYER = "y = max(v0, (x - batch_mean(x)) / signed_log(batch_std(x)) + signed_log(v1))\n"
OTHER = "y = x / max(batch_std(x), v1 * x + group_std(x))\n"


@pytest.fixture
def calls(monkeypatch):
    """Replaces `training.make_trainer`: program p of the batch (candidates first, then the
    compared baselines) scores 0.5 + 0.1 p + 0.01 seed + 0.001 batch size; so the last
    baseline (EvoNorm-S0) beats every candidate."""
    made = []
    real = inspect.signature(training.make_trainer)

    def make_trainer(*args, **kwargs):
        bound = real.bind(*args, **kwargs)
        bound.apply_defaults()
        made.append(bound.arguments)

        def run(encoded):
            assert len(encoded.lengths) == bound.arguments["num_programs"]
            p = np.arange(bound.arguments["num_programs"])
            accuracy = (0.5 + 0.1 * p + 0.01 * bound.arguments["seed"]
                        + 0.001 * bound.arguments["batch_size"])
            return training.TrainResult(accuracy, np.zeros_like(accuracy), p < 0)

        return run

    monkeypatch.setattr(training, "make_trainer", make_trainer)
    return made


def test_rows_per_layer_and_batch_size_and_the_best_discovered_minus_bn_relu(calls):
    space = EvoNormSpace({"learning_rate": 0.02})
    streamed = []
    report = space.validate({"first": LAYER, "second": OTHER},
                            {"batch_sizes": [4, 16], "seeds": 2, "first_seed": 3,
                             "steps": 7, "arch": "resnet"}, on_row=streamed.append)
    assert list(report.rows) == streamed
    assert [(c["arch"], c["batch_size"], c["steps"], c["seed"], c["num_programs"])
            for c in calls] == [("resnet", 4, 7, 3, 5), ("resnet", 4, 7, 4, 5),
                                ("resnet", 16, 7, 3, 5), ("resnet", 16, 7, 4, 5)]
    assert all(c["learning_rate"] == 0.02 for c in calls)  # the space's settings
    accuracy = report.by_metric("evonorm_heldout_accuracy")
    assert [(r["program"], r["batch_size"]) for r in accuracy] == [
        (name, batch) for batch in (4, 16)
        for name in ("first", "second", *heldout.COMPARED_BASELINES)]
    second = accuracy[1]
    expected = [0.6 + 0.01 * seed + 0.004 for seed in (3, 4)]
    assert second["values"] == [round(v, 4) for v in expected]
    assert second["value"] == round(statistics.fmean(expected), 4)
    assert second["spread"] == round(float(np.std(expected)), 4)
    assert second["seeds"] == [3, 4] and not second["baseline"]
    assert accuracy[2]["baseline"] and accuracy[2]["dsl"] == space.format(
        space.parse(BASELINES["bn_relu"]))
    best = report.by_metric("evonorm_heldout_best_vs_bn_relu")
    assert [r["batch_size"] for r in best] == [4, 16]
    for row in best:  # the best discovered layer, though EvoNorm-S0 scored higher
        assert row["best"] == "second"
        assert row["value"] == pytest.approx(-0.1, abs=1e-4)  # second (p=1) - bn_relu (p=2)
        assert row["evonorm_s0"] > row["best_accuracy"]
    assert report.summary == {"evonorm_heldout_best_vs_bn_relu (batch 4)": -0.1,
                              "evonorm_heldout_best_vs_bn_relu (batch 16)": -0.1}
    assert "| second | 0.639 ± 0.005 | 0.651 ± 0.005 |" in report.markdown


def test_options_are_checked_before_training(calls):
    space = EvoNormSpace()
    for options, message in (({"arch": "alexnet"}, "allowed: resnet"),
                             ({"seeds": 0}, "option seeds=0"),
                             ({"init_seeds": [1]}, "unknown option 'init_seeds'")):
        with pytest.raises(ValueError, match=message):
            space.validate({"a": LAYER}, options)
    with pytest.raises(ValueError, match="no layers"):
        space.validate({}, {})
    assert not calls


def test_a_campaign_contributes_its_best_front_members_by_mean_accuracy():
    front = [SimpleNamespace(ref=f"evo:{n}", campaign="evo", program=f"# {n}\n{LAYER}",
                             objectives=objectives)
             for n, objectives in ((1, {"a": 0.9, "b": 0.5}), (2, {"a": 0.6, "b": 0.9}),
                                   (3, None), (4, {"a": 0.8, "b": 0.8}))]
    results = SimpleNamespace(pareto=lambda campaign: front)
    picked = EvoNormSpace().validation_candidates(results, "evo", {"top": 2})
    assert list(picked.programs) == ["evo:4", "evo:2"]  # means 0.8, 0.75 (then 0.7)
    assert picked.origin == {"campaign": "evo"}
    empty = SimpleNamespace(pareto=lambda campaign: [],
                            campaign=lambda campaign: SimpleNamespace(name="evo"))
    with pytest.raises(ValueError, match="campaign 'evo' has no evaluated layers"):
        heldout.best_front_members(empty, "evo", 6)


def test_automl_validate_runs_layer_files(calls, tmp_path):
    first, second = tmp_path / "first.dsl", tmp_path / "second.dsl"
    first.write_text(LAYER)
    second.write_text(OTHER)
    result = runner.invoke(app, [
        "validate", str(first), str(second), "--space", "evonorm", "--set", "max_nodes=10",
        "--option", "batch_sizes=4", "--option", "seeds=1", "--json", "--markdown"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["program"] for r in rows[:5]] == [str(first), str(second),
                                                *heldout.COMPARED_BASELINES]
    assert rows[5]["metric"] == "evonorm_heldout_best_vs_bn_relu"
    assert rows[5]["best"] == str(second) and rows[5]["seeds"] == [0]
    assert f"| {second} | 0.604 ± 0.000 |" in result.stdout  # --markdown
    assert [c["seed"] for c in calls] == [0]
