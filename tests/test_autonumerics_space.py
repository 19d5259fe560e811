"""AutoNumerics evaluation checks that the fit cannot see: poles between grid points, and the
error on validation points."""

from __future__ import annotations

import math

import numpy as np
import pytest

from search_spaces.autonumerics.space import AutoNumericsSpace, pole_inside

# found by a search: 146/(x - 1.08e-8) cancels out of the ratio, so the error on every grid
# point is 7.5e-9, but the division's denominator crosses zero inside [0, 1]
HIDDEN_POLE = """t3 = x - c0
t1 = c1 + t3
t4 = c2 / t3
t2 = c3 - t4
t8 = c4 * t3
t6 = x * t1
t9 = t2 - t6
t5 = c5 + t9
t7 = t2 + t8
f = t5 / t7
"""
CONSTANTS = {"c0": 1.0847107671089593e-08, "c1": 11.513963283731165,
             "c2": 146.15745328497817, "c3": 38.460871411582694, "c4": -3.063044471223589,
             "c5": -101.30870739626917}


@pytest.fixture(scope="module")
def space() -> AutoNumericsSpace:
    return AutoNumericsSpace({"target": "exp2"})


def test_a_denominator_crossing_zero_between_grid_points_is_a_pole(space) -> None:
    program = space.parse(HIDDEN_POLE, "hidden pole")
    model = space.model(program)
    grid_error = np.max(np.abs(model(np.array(list(CONSTANTS.values())), space.grid)
                               / space.truth - 1))
    assert grid_error < 1e-8  # the grid alone sees a fine approximation ...
    with np.errstate(all="ignore"):  # ... which is NaN at x = c0
        at_pole = model(np.array(list(CONSTANTS.values())), np.array([CONSTANTS["c0"]]))
    assert np.isnan(at_pole).all()
    assert "t4 = c2 / t3" in pole_inside(program, CONSTANTS, space.grid)
    assert space.validation_error(program, CONSTANTS) == math.inf
    # moved off the interval, the same program has no pole
    assert pole_inside(program, {**CONSTANTS, "c0": -0.5}, space.grid) is None


def test_evaluation_fails_a_fit_with_a_pole_inside_and_names_it(space) -> None:
    with pytest.raises(ValueError, match=r"pole inside \[0, 1\]: the denominator of t1"):
        space.evaluate_one(space.parse("t1 = c0 / x\nf = t1 + c1", "pole at 0"))
    (evaluation,) = space.evaluate([space.parse("t1 = c0 / x\nf = t1 + c1", "pole at 0")])
    assert evaluation.objectives is None and "pole inside" in evaluation.error


def test_validation_error_checks_points_the_fit_never_saw(space) -> None:
    program = space.parse("f = (c0 * x + c1) * x + c2", "quadratic")
    objectives, metrics = space.evaluate_one(program)
    validated = space.validation_error(program, metrics["constants"])
    # the training grid holds the extrema of a near-minimax fit: validation agrees closely
    assert validated == pytest.approx(objectives["max_relative_error"], rel=0.05)
    x, truth = space.validation
    assert x.size > 60_000 and x[0] == 0.0 and x[-1] == 1.0


def test_new_constant_probability_steers_mutation_not_evaluation() -> None:
    """More fresh constants per mutation (a search setting) must not change what a program
    evaluates to, so stored results and cache entries stay valid across the two settings."""
    from automl.evolution.mutations import mutate

    rare = AutoNumericsSpace({"target": "exp2", "new_constant_probability": 0.0})
    often = AutoNumericsSpace({"target": "exp2", "new_constant_probability": 1.0})
    assert rare.evaluation_settings() == often.evaluation_settings()
    program = rare.parse("t1 = x * c0\nf = t1 + x\n")

    def constants_added(space: AutoNumericsSpace) -> int:
        rng = np.random.default_rng(0)
        return sum(len(mutate(program, space.mutation_settings, space.signature, rng)[0]
                       .parameters) - len(program.parameters) for _ in range(200))

    assert constants_added(rare) < constants_added(often)


def test_the_complex_step_jacobian_is_the_derivative_and_only_for_analytic_ops() -> None:
    space = AutoNumericsSpace({"target": "exp2", "ops": ["add", "sub", "mul", "div", "fma"]})
    program = space.parse("t = fma(x, c0, c1)\nd = c2 - x\nf = fma(t, x, c3) / d * t\n", "r")
    jacobian = space.model_jacobian(program)
    model = space.model(program)
    params = np.array([0.3, -1.2, 2.5, 0.7])
    x = np.linspace(0.0, 1.0, 33)
    exact = jacobian(params, x)
    assert exact.shape == (33, 4)
    for j in range(4):  # central differences agree to their own truncation error
        step = np.zeros(4)
        step[j] = 1e-6
        central = (model(params + step, x) - model(params - step, x)) / 2e-6
        np.testing.assert_allclose(exact[:, j], central, rtol=1e-6, atol=1e-8)
    # |a| under sqrt is not complex-analytic: finite differences instead
    with_sqrt = AutoNumericsSpace({"target": "exp2", "ops": ["add", "mul", "sqrt"]})
    assert with_sqrt.model_jacobian(with_sqrt.parse("t = sqrt(x)\nf = t * c0 + c1\n", "s")) is None
    assert AutoNumericsSpace({"target": "exp2", "fit_solver": "trf"}).fit_jacobian(program) is None
    assert space.fit_jacobian(program) is not None


def test_a_cap_on_the_least_squares_stage_reaches_the_fit_and_its_default_changes_nothing(
        ) -> None:
    text = "p = c1 * x + c0\nq = c2 * x + c3\nr = p / q\nf = r + c4 * x\n"
    default = AutoNumericsSpace({"target": "exp2"})
    named = AutoNumericsSpace({"target": "exp2", "fit_least_squares_evaluations": None})
    capped = AutoNumericsSpace({"target": "exp2", "fit_least_squares_evaluations": 3})
    results = [space.evaluate_one(space.parse(text, "r")) for space in (default, named, capped)]
    assert results[0] == results[1]
    (error, _), (capped_error, capped_metrics) = [
        (objectives["max_relative_error"], metrics) for objectives, metrics in results[::2]]
    assert capped_metrics["constants"] != results[0][1]["constants"]
    assert math.isfinite(error) and math.isfinite(capped_error)
