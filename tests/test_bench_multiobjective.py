"""scripts/bench_multiobjective.py: the shared objective, the hypervolume bookkeeping and that
every method spends exactly its evaluation budget."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import moocore
import mpmath
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_multiobjective.py"
spec = importlib.util.spec_from_file_location("bench_multiobjective", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

LN2 = math.log(2.0)
TAYLOR_EXP2 = [LN2**k / math.factorial(k) for k in range(4)]


def test_taylor_coefficients_of_2_to_the_x_score_their_known_errors():
    problem = bench.Problem(budget=1)
    exp2_error, exp_error = problem.evaluate(TAYLOR_EXP2)
    # p(x) / 2^x decreases on [0, 1] (its derivative is -ln2^4 x^3 / 6 / 2^x), so the relative
    # error 1 - p(x) / 2^x peaks at x = 1, a grid point
    with mpmath.workdps(40):
        at_one = 1 - sum(mpmath.log(2) ** k / mpmath.factorial(k) for k in range(4)) / 2
    assert 10**exp2_error == pytest.approx(float(at_one), rel=1e-9)
    assert 10**exp2_error == pytest.approx(5.56e-3, rel=1e-3)
    # against e^x, checked with numpy's exp on the same grid
    x = problem.grid
    values = np.polyval(TAYLOR_EXP2[::-1], x)
    expected = np.max(np.abs(values - np.exp(x)) / np.exp(x))
    assert 10**exp_error == pytest.approx(expected, rel=1e-9)
    assert expected > 0.25  # far worse: 2^x's cubic is a poor e^x
    assert problem.evaluations == 1
    with pytest.raises(bench.BudgetExhausted):
        problem.evaluate(TAYLOR_EXP2)


def test_hypervolume_grows_with_a_dominating_point_and_ignores_the_rest():
    assert bench.hypervolume([(-1.0, -1.0)]) == pytest.approx(1.0)
    assert bench.hypervolume([(-1.0, -1.0), (-2.0, -2.0)]) == pytest.approx(4.0)
    assert bench.hypervolume([(-2.0, -2.0), (-1.0, -1.5)]) == pytest.approx(4.0)  # dominated
    assert bench.hypervolume([(-1.0, 0.5), (3.0, -2.0)]) == 0.0  # beyond the reference
    assert bench.hypervolume([(-1.0, -1.0), (-3.0, -0.5)]) == pytest.approx(2.0)


def test_the_incremental_trace_equals_the_hypervolume_of_every_prefix():
    rng = np.random.default_rng(5)
    points = [tuple(p) for p in rng.normal(-1.0, 1.0, size=(120, 2))]
    trace = bench.hypervolume_trace(points)
    reference = np.array(bench.REFERENCE)
    for i in range(len(points)):
        prefix = np.array(points[: i + 1])
        inside = prefix[np.all(prefix < reference, axis=1)]
        expected = float(moocore.hypervolume(inside, ref=reference)) if len(inside) else 0.0
        assert trace[i] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert np.all(np.diff(trace) >= 0)


def test_time_to_target_and_budget_fractions():
    trace = np.array([0.0, 0.5, 0.5, 0.9, 1.0])
    assert bench.first_reaching(trace, 0.9) == 3
    assert bench.first_reaching(trace, 1.1) is None
    assert bench.at_fraction(trace, 0.5) == 0.5  # after ceil(2.5) = 3 evaluations
    assert bench.at_fraction(trace, 1.0) == 1.0
    summary = bench.summarize([3.0, None, 1.0])
    assert (summary["value"], summary["min"], summary["max"]) == (3.0, 1.0, None)


@pytest.mark.parametrize("method", bench.METHODS)
@pytest.mark.parametrize("budget", [5, 37])
def test_each_method_spends_exactly_its_budget(method, budget):
    # the peers come with the bench extra (pip install -e ".[bench]"); the platform needs none
    if method.startswith("optuna"):
        pytest.importorskip("optuna")
    if method in ("deap", "optuna_sbx", "platform_nsga2_sbx"):
        pytest.importorskip("deap")
    problem = bench.run_method(method, budget, population=8, seed=1, grid_points=64)
    assert problem.evaluations == budget == len(problem.times)
    assert np.all(np.diff(problem.times) >= 0)
    assert problem.wall_seconds >= problem.times[-1]
    assert np.all(np.isfinite(problem.points))


def test_the_platform_program_scores_exactly_like_the_shared_objective():
    constants = [1.0001, 0.69, 0.2, 0.09]
    problem = bench.Problem(budget=2)
    space = bench.ConstantsSpace(problem)
    program = space.program(constants)
    assert bench.constants_of(program) == constants
    objectives, metrics = space.evaluate_one(program)
    assert metrics["constants"] == constants
    direct = problem.evaluate(constants)
    assert problem.points[0] == direct  # the interpreter's values are horner_eval's, bitwise
    assert [o.to_minimization(objectives[o.name]) for o in space.objectives] == list(direct)


def test_the_platform_mutation_changes_exactly_one_constant():
    space = bench.ConstantsSpace(bench.Problem(budget=1))
    parent = space.program(TAYLOR_EXP2)
    rng = np.random.default_rng(0)
    for _ in range(50):
        child, kind = space.mutate(parent, rng)
        child, _ = space.simplify(child)
        assert kind == "perturb_constant"
        assert [ins.op for ins in child.instructions] == [ins.op for ins in parent.instructions]
        changed = [a != b for a, b in zip(bench.constants_of(child), TAYLOR_EXP2, strict=True)]
        assert sum(changed) == 1


def test_figures_target_the_best_final_hypervolume_of_the_seed():
    good, poor = bench.Problem(budget=3, grid_points=16), bench.Problem(budget=3, grid_points=16)
    for problem, points in ((good, [(-1.0, -1.0), (-2.0, -1.0), (-2.0, -2.0)]),
                            (poor, [(-1.0, -1.0), (-1.0, -1.0), (-1.5, -1.0)])):
        problem.points, problem.times = points, [0.1, 0.2, 0.3]
        problem.objective_seconds, problem.wall_seconds = 0.03, 0.4
    lines = bench.figures({"good": [good], "poor": [poor]}, [0], 3, [0.3, 0.95], [0.5])
    by_key = {(line["metric"], line["method"]): line for line in lines
              if line.get("target_fraction", 0.95) == 0.95
              and line["metric"] != "hypervolume_at_budget_fraction"}
    low = {line["method"]: line["value"] for line in lines
           if line["metric"] == "time_to_target_evaluations" and line["target_fraction"] == 0.3}
    assert low == {"good": 2, "poor": 3}  # target 0.3 * 4 = 1.2; good: 1, 2, 4; poor: 1, 1, 1.5
    assert by_key["final_hypervolume", "good"]["value"] == pytest.approx(4.0)
    assert by_key["time_to_target_evaluations", "good"]["value"] == 3
    assert by_key["time_to_target_seconds", "good"]["value"] == pytest.approx(0.3)
    assert by_key["time_to_target_evaluations", "poor"]["value"] is None
    assert by_key["time_to_target_evaluations", "poor"]["target_hypervolume"] == \
        pytest.approx([3.8])
    assert by_key["overhead_per_evaluation", "good"]["value"] == pytest.approx(1e6 * 0.37 / 3)
