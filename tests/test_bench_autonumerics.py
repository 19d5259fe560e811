"""scripts/bench_autonumerics.py: how a method's programs are costed and scored (the Recorder, a
prefix tree's cost, an Operon tree's cost and float64 value), and a very short Operon run."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_autonumerics.py"
spec = importlib.util.spec_from_file_location("bench_autonumerics", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_the_recorder_keeps_the_best_error_per_cost_and_its_front():
    truth = np.array([1.0, 2.0, 4.0])
    recorder = bench.Recorder(truth)
    assert recorder.error(np.array([1.0, 2.0, 4.4])) == pytest.approx(0.1)
    assert recorder.error(np.array([1.0, np.nan, 4.0])) == math.inf
    assert recorder.error(np.array([1.0, 2.0, np.inf])) == math.inf
    recorder.record(3, 0.5, "a")
    recorder.record(3, 0.7, "b")  # worse: kept out
    recorder.record(5, 0.01)
    recorder.record(2, math.inf)  # counted, but no error to keep
    assert recorder.best == {3: 0.5, 5: 0.01}
    assert recorder.programs == {3: "a"}
    assert recorder.evaluated == 4
    assert recorder.front(6) == {1: math.inf, 2: math.inf, 3: 0.5, 4: 0.5, 5: 0.01, 6: 0.01}
    assert recorder.time_to_target(0.5, 10) is None  # no times recorded
    timed = bench.Recorder(truth)
    timed.record(4, 0.1, at=1.0)
    timed.record(9, 0.001, at=2.0)
    timed.record(3, 0.01, at=3.0)
    timed.record(3, 0.02, at=0.5)  # no better than cost 3's best: no improvement
    assert timed.time_to_target(0.01, 10) == 2.0
    assert timed.time_to_target(0.01, 5) == 3.0
    assert timed.time_to_target(0.1, 3) == 3.0
    assert timed.time_to_target(1e-4, 10) is None
    table = bench.front_table([{"method": "m", "front_by_cost": {"1": math.inf, "2": 0.0123}}])
    assert table.splitlines()[2:] == ["| 1 | - |", "| 2 | 0.012 |"]


def test_a_prefix_tree_costs_its_operators_over_x_and_constant_subtrees_are_free():
    # add(mul(x, 2.0), sub(3.0, 1.0)): the mul and the add read x, the sub folds to a constant
    nodes = ["add", "mul", "x", 2.0, "sub", 3.0, 1.0]
    arity = {"add": 2, "mul": 2, "sub": 2}
    assert bench.prefix_cost(nodes, lambda n: arity.get(n, 0), lambda n: n == "x") == 2
    assert bench.prefix_cost(["sub", 3.0, 1.0], lambda n: arity.get(n, 0),
                             lambda n: n == "x") == 0


@pytest.fixture(scope="module")
def op():
    return pytest.importorskip("pyoperon", reason="pyoperon is not installed (the bench extra)")


def parse(op, text):
    return list(op.InfixParser.Parse(text, {"X1": X1_HASH}).Nodes)


X1_HASH = 7


def test_an_operon_tree_costs_its_ops_over_x_its_weighted_variables_and_its_scaling(op):
    # 3.0 - x, x / that, 2.0 * that, 0.5 + that: four ops that read x
    assert bench.operon_cost(parse(op, "(0.5 + (2.0 * (X1 / (3.0 - X1))))")) == 4
    # (2.0 - 3.0) folds to a constant: free
    assert bench.operon_cost(parse(op, "((X1 - 1.0) + (2.0 - 3.0))")) == 2
    assert bench.operon_cost(parse(op, "(2.0 - 3.0)")) == 0
    # Operon's variable leaf is w * x: one multiply, unless w is 1
    weighted = [op.Node.Variable(2.5), op.Node.Constant(1.0), op.Node.Add()]
    assert bench.operon_cost(weighted) == 2
    assert bench.operon_cost([op.Node.Variable(1.0)]) == 0
    # the scale multiply and the offset add of linear scaling count where they scale x
    scaled = weighted + [op.Node.Constant(3.0), op.Node.Mul(), op.Node.Constant(0.25),
                         op.Node.Add()]
    assert bench.operon_cost(scaled) == 4
    # in Operon's postfix order the node just before an operator is its first operand
    assert bench.operon_text(scaled) == "(0.25 + (3.0 * (1.0 + (2.5 * x))))"
    with pytest.raises(ValueError, match="not one tree"):
        bench.operon_cost([op.Node.Constant(1.0), op.Node.Constant(2.0)])


def test_an_operon_trees_cost_is_the_platforms_cost_of_the_same_program(op):
    from automl.ir import cost
    from search_spaces.autonumerics.ops import TABLE
    from search_spaces.autonumerics.space import AutoNumericsSpace

    space = AutoNumericsSpace({"target": "exp2", "max_statements": 60})
    trees = [parse(op, text) for text in (
        "(0.5 + (2.0 * (X1 / (3.0 - X1))))", "((X1 - 1.0) + (2.0 - 3.0))",
        # an Operon model of 2^x (600 s, seed 1), its weights written as multiplies
        "(-2.07e-07 + (1.0000001 * ((((-0.49 * X1) - 15.27) / (((9.3 / (4.58 + ((-1.67 * X1)"
        " + -0.18))) - -1.51) / (-0.23 + (0.35 * X1)))) - (-2.36 * X1))))")]
    trees.append([op.Node.Variable(0.75), op.Node.Constant(2.0), op.Node.Constant(3.0),
                  op.Node.Div(), op.Node.Sub(), op.Node.Variable(1.5), op.Node.Mul()])
    for nodes in trees:
        program = space.parse(bench.operon_dsl(nodes), "operon")
        assert bench.operon_cost(nodes) == cost(program, ("x",), TABLE) > 0
        x = space.grid[::64]
        np.testing.assert_array_equal(space.model(program)(np.array([]), x),
                                      bench.operon_values(nodes, x))


def test_an_operon_tree_evaluates_in_float64_as_operon_computes_it_in_float32(op):
    x = np.linspace(0.0, 1.0, 101)
    dataset = op.Dataset(np.asfortranarray(x.reshape(-1, 1)))
    hash_ = dataset.Variables[0].Hash
    text = "((0.5 + (2.0 * (X1 / (3.0 - X1)))) - (X1 / 7.0))"
    tree = op.InfixParser.Parse(text, {"X1": hash_})
    nodes = list(tree.Nodes)
    expected = 0.5 + 2.0 * (x / (3.0 - x)) - x / 7.0  # the operand order: a - b, a / b
    values = bench.operon_values(nodes, x)
    assert values.dtype == np.float64
    np.testing.assert_allclose(values, expected, rtol=1e-15)
    operon = op.Evaluate(op.DispatchTable(), tree, dataset, op.Range(0, len(x)))
    np.testing.assert_allclose(values, operon, rtol=1e-6)  # its float32 evaluation
    # linear scaling (Operon's least squares) of 3 x + 1 against 6 x + 2: scale 2, offset 0
    three_x = op.InfixParser.Parse("((3.0 * X1) + 1.0)", {"X1": hash_})
    scaled = bench.operon_scaled(three_x, x, 6.0 * x + 2.0)
    np.testing.assert_allclose(bench.operon_values(scaled, x), 6.0 * x + 2.0, rtol=1e-6)
    assert bench.operon_cost(scaled) in (3, 4)  # the add only where the offset is not 0.0


def test_a_short_operon_run_scores_its_population_with_the_recorder(op):
    from search_spaces.autonumerics.space import AutoNumericsSpace

    space = AutoNumericsSpace({"target": "exp2"})
    recorder = bench.Recorder(space.truth)
    details = bench.run_operon(space.grid, space.truth, 2.0, 0, recorder, population=200,
                               iterations=5)
    assert details["population_trees"] > 0 and details["front_models"] > 0
    # each tree of the population twice (as evolved, and scaled), plus the front's models
    assert recorder.evaluated == 2 * details["population_trees"] + details["front_models"]
    finite = {c: e for c, e in recorder.best.items() if math.isfinite(e)}
    assert finite and all(isinstance(c, int) and c >= 0 for c in recorder.best)
    # a least-squares line a + b x is within 5% of 2^x on [0, 1] (Operon's own: 4.7%, cost 2):
    # two seconds of Operon find that or better at cost <= 4
    assert recorder.best_at_most(4) < 0.05
    for cost, text in recorder.programs.items():  # every best program's text is scored
        assert "x" in text or cost == 0


def test_automl_settings_reach_the_campaigns_space():
    from automl.config import ConfigError

    # a value the space refuses fails the config before anything runs: the settings arrive
    with pytest.raises(ConfigError, match="fit_least_squares_evaluations: Input should be greater"):
        bench.run_automl("exp2", 1.0, 0, bench.Recorder(np.ones(3)),
                         settings={"fit_least_squares_evaluations": 0})
