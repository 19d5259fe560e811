"""Targets (ground truth, grids, error convention) and constant fitting for AutoNumerics."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search_spaces.autonumerics.fitting import FitResult, fit_constants, initial_constants
from search_spaces.autonumerics.polynomials import horner_eval, minimax_polynomial
from search_spaces.autonumerics.targets import (
    TARGETS,
    ZERO_FLOOR,
    get_target,
    ground_truth,
    relative_error,
    training_grid,
    validation_points,
)

EXP2 = get_target("exp2")


def horner_model(params: np.ndarray, x: np.ndarray) -> np.ndarray:
    accumulator = np.full_like(x, params[-1])
    for c in params[-2::-1]:
        accumulator = c + x * accumulator
    return accumulator


@pytest.fixture(scope="module")
def exp2_grid() -> tuple[np.ndarray, np.ndarray]:
    x = training_grid(EXP2)
    return x, ground_truth(EXP2, x)


# -- targets ---------------------------------------------------------------------------------


def test_registry_and_lookup() -> None:
    from search_spaces.autonumerics.targets import PAPER_TARGETS

    assert list(TARGETS)[:5] == list(PAPER_TARGETS) == ["exp2", "exp", "log", "log2", "erf"]
    assert {"tanh", "sigmoid", "gelu", "softplus", "sin", "cos", "log1p", "expm1",
            "rsqrt"} <= set(TARGETS)
    assert (EXP2.lower, EXP2.upper) == (0.0, 1.0)
    assert get_target("exp").upper == pytest.approx(math.log(2) / 2)
    with pytest.raises(ValueError, match="exp2") as info:
        get_target("sinh")
    assert "sinh" in str(info.value)


def test_ground_truth_is_correctly_rounded() -> None:
    points = np.array([0.0, 0.5, 1.0, 0.1, 1.0 / 3.0, 0.9999999999999999])
    values = ground_truth(EXP2, points)
    assert values[0] == 1.0 and values[2] == 2.0
    assert values[1] == math.sqrt(2.0)  # sqrt is correctly rounded in IEEE
    with mpmath.workdps(120):
        exact = [mpmath.power(2, mpmath.mpf(float(p))) for p in points]
    for value, reference in zip(values, exact, strict=True):
        # the float64 nearest to the exact value: no other float is closer
        error = abs(mpmath.mpf(value) - reference)
        for neighbour in (np.nextafter(value, 0.0), np.nextafter(value, 4.0)):
            assert error <= abs(mpmath.mpf(float(neighbour)) - reference)
    for name in ("log", "log2", "erf", "exp"):
        target = get_target(name)
        x = np.array([target.lower, target.upper])
        expected = {"log": [math.log(0.5), 0.0], "log2": [0.0, 1.0],
                    "erf": [0.0, math.erf(1.0)], "exp": [math.exp(x[0]), math.exp(x[1])]}[name]
        assert ground_truth(target, x) == pytest.approx(expected, rel=1e-15, abs=0.0)


def test_ground_truth_is_cached_and_returns_copies() -> None:
    calls = []

    def counting(x: mpmath.mpf) -> mpmath.mpf:
        calls.append(x)
        return mpmath.power(2, x)

    target = replace(EXP2, name="exp2_counting_test", mp_function=counting)
    points = np.linspace(0.0, 1.0, 17)
    first = ground_truth(target, points)
    assert len(calls) == 17
    first[:] = -1.0  # must not corrupt the cache
    second = ground_truth(target, points.copy())
    assert len(calls) == 17
    assert np.all(second > 0)
    ground_truth(target, points[:-1])
    assert len(calls) == 17 + 16


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(TARGETS)), st.integers(2, 3000))
def test_training_grid_shape(name: str, n: int) -> None:
    target = get_target(name)
    grid = training_grid(target, n)
    assert grid.dtype == np.float64 and grid.shape == (n,)
    assert grid[0] == target.lower and grid[-1] == target.upper
    assert np.all(np.diff(grid) > 0)


def test_training_grid_is_clustered_at_the_ends() -> None:
    grid = training_grid(EXP2, 1024)
    gaps = np.diff(grid)
    assert gaps[0] < 1e-4 < 1.0 / 1024  # Chebyshev points crowd the ends
    assert gaps.max() < 2.0 / 1024  # and the uniform half keeps the middle covered
    with pytest.raises(ValueError):
        training_grid(EXP2, 1)


def test_validation_points() -> None:
    points = validation_points(EXP2, 1000, seed=3)
    assert points.shape == (1000,) and points[0] == 0.0 and points[-1] == 1.0
    assert np.all(np.diff(points) >= 0)
    assert np.array_equal(points, validation_points(EXP2, 1000, seed=3))
    assert not np.array_equal(points, validation_points(EXP2, 1000, seed=4))


def test_relative_error_convention() -> None:
    truth = np.array([2.0, -4.0, 0.0, 0.0, 1e-300, 1.0, 1.0, 1.0])
    approx = np.array([2.5, -3.0, 0.0, 1e-20, 0.0, np.nan, np.inf, -np.inf])
    error = relative_error(approx, truth)
    assert error[:2] == pytest.approx([0.25, 0.25])
    assert error[2] == 0.0  # exact zero reproduced
    assert error[3] == pytest.approx(1e-20 / ZERO_FLOOR)  # absolute error in units of 2^-52
    assert error[4] == pytest.approx(1e-300 / ZERO_FLOOR)
    assert np.all(np.isinf(error[5:]))  # broken approximations are infinitely wrong
    # continuous at the threshold
    just_above = relative_error(np.array([ZERO_FLOOR * 1.5]), np.array([ZERO_FLOOR]))
    assert just_above[0] == pytest.approx(0.5)


# -- fitting ---------------------------------------------------------------------------------


def test_initial_constants() -> None:
    values = initial_constants(10_000, np.random.default_rng(0))
    magnitudes = np.abs(values)
    assert magnitudes.min() >= 1e-4 and magnitudes.max() <= 1e4
    assert 0.45 < np.mean(values > 0) < 0.55
    assert 0.45 < np.mean(magnitudes < 1.0) < 0.55  # log-uniform: median magnitude is 1
    assert initial_constants(0, np.random.default_rng(0)).shape == (0,)
    assert np.array_equal(initial_constants(5, np.random.default_rng(7)),
                          initial_constants(5, np.random.default_rng(7)))


@pytest.mark.parametrize("degree", [3, 4, 5])
def test_lsq_minimax_reaches_remez(degree: int, exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid
    _, remez_error = minimax_polynomial(EXP2, degree)
    for seed in range(3):
        initial = initial_constants(degree + 1, np.random.default_rng(seed))
        fit = fit_constants(horner_model, x, truth, initial, max_evaluations=2000)
        assert isinstance(fit, FitResult) and fit.method == "lsq_minimax"
        assert fit.converged and fit.evaluations <= 2000
        assert 0.99 * remez_error <= fit.max_relative_error <= 1.5 * remez_error
        # and it generalises off the training grid
        dense = validation_points(EXP2, 20_000)
        off_grid = relative_error(horner_eval(list(fit.params), dense), ground_truth(EXP2, dense))
        assert off_grid.max() <= 1.5 * remez_error


@pytest.mark.slow
def test_cma_fits_a_small_polynomial(exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid
    _, remez_error = minimax_polynomial(EXP2, 2)
    rng = np.random.default_rng(1)
    fit = fit_constants(horner_model, x, truth, initial_constants(3, rng), method="cma",
                        max_evaluations=2000, rng=rng)
    assert fit.method == "cma" and fit.evaluations <= 2000
    assert fit.max_relative_error <= 1.5 * remez_error


def test_rational_form_from_a_reasonable_start(exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid

    def rational(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (params[0] + x * (params[1] + x * params[2])) / (params[3] + x)

    fit = fit_constants(rational, x, truth, np.array([-5.0, -2.0, -0.5, -5.0]))
    assert fit.max_relative_error < 3e-5  # the optimum is ~2.50e-5, pole at x ~ 4.84


def test_broken_models_fail_cleanly(exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid

    def nan_model(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.full_like(x, np.nan) * params[0]

    def overflowing(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.exp(1e4 * params[0] * x) / (x - x)

    def raising(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise ZeroDivisionError("1 / 0")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may escape either
        for model in (nan_model, overflowing, raising):
            for method in ("lsq_minimax", "cma"):
                fit = fit_constants(model, x, truth, np.array([0.5]), method=method,
                                    max_evaluations=200)
                assert fit.max_relative_error == math.inf
                assert not fit.converged
                assert fit.params.shape == (1,)


def test_partially_broken_model_still_fits(exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid

    def sqrt_model(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        # NaN when c0 < 0: the optimiser must step around it, not crash
        return np.sqrt(params[0]) + x * (params[1] + x * params[2])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_constants(sqrt_model, x, truth, np.array([0.01, 1.0, 0.1]))
    assert fit.max_relative_error < 2e-3


def test_constant_free_program_just_evaluates(exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid

    def linear(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return 1.0 + x

    fit = fit_constants(linear, x, truth, np.array([]))
    assert fit.evaluations == 1 and fit.converged and fit.params.shape == (0,)
    assert fit.max_relative_error == pytest.approx(relative_error(1.0 + x, truth).max())


def test_budget_and_arguments_are_respected(exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid
    initial = initial_constants(6, np.random.default_rng(0))
    fit = fit_constants(horner_model, x, truth, initial, max_evaluations=15)
    assert fit.evaluations <= 15 and not fit.converged
    assert math.isfinite(fit.max_relative_error)  # best seen so far, not a failure
    fit = fit_constants(horner_model, x, truth, initial, method="cma", max_evaluations=30,
                        rng=np.random.default_rng(0))
    assert fit.evaluations <= 30
    with pytest.raises(ValueError, match="lsq_minimax"):
        fit_constants(horner_model, x, truth, initial, method="nelder-mead")
    with pytest.raises(ValueError):
        fit_constants(horner_model, x, truth[:-1], initial)


# -- the exact-Jacobian path (MINPACK lm) -----------------------------------------------------


def horner_jacobian(params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d horner_model / d params: column j is x**j."""
    return x[:, None] ** np.arange(params.size)[None, :]


@pytest.mark.parametrize("degree", [3, 5])
def test_lm_on_an_exact_jacobian_reaches_remez_in_fewer_calls(
        degree: int, exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid
    _, remez_error = minimax_polynomial(EXP2, degree)
    for seed in range(3):
        initial = initial_constants(degree + 1, np.random.default_rng(seed))
        exact = fit_constants(horner_model, x, truth, initial, jacobian=horner_jacobian)
        differenced = fit_constants(horner_model, x, truth, initial)
        assert exact.converged
        assert 0.99 * remez_error <= exact.max_relative_error <= 1.5 * remez_error
        # one call per Jacobian instead of degree + 1
        assert exact.evaluations < differenced.evaluations


def test_lm_respects_the_budget_and_survives_broken_jacobians(
        exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid
    initial = initial_constants(6, np.random.default_rng(0))
    fit = fit_constants(horner_model, x, truth, initial, max_evaluations=7,
                        jacobian=horner_jacobian)
    assert fit.evaluations <= 7 and not fit.converged
    assert math.isfinite(fit.max_relative_error)

    def nan_jacobian(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.full((x.size, params.size), np.nan)

    def raising_jacobian(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise ZeroDivisionError("1 / 0")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for jacobian in (nan_jacobian, raising_jacobian):
            # no usable direction: the fit keeps its start's error, without raising
            start_error = relative_error(horner_model(initial, x), truth).max()
            fit = fit_constants(horner_model, x, truth, initial, jacobian=jacobian,
                                max_evaluations=200)
            assert math.isfinite(fit.max_relative_error)
            assert fit.max_relative_error <= start_error


def test_fewer_points_than_constants_falls_back_from_lm(exp2_grid) -> None:
    x, truth = exp2_grid
    # MINPACK's lm needs at least as many residuals as constants: trf takes over, no exception
    fit = fit_constants(horner_model, x[:3], truth[:3], np.ones(5), jacobian=horner_jacobian)
    assert math.isfinite(fit.max_relative_error) and fit.params.shape == (5,)


def test_the_least_squares_stage_takes_a_cap_on_its_model_calls(
        exp2_grid: tuple[np.ndarray, np.ndarray]) -> None:
    x, truth = exp2_grid

    def rational(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (params[0] + x * (params[1] + x * params[2])) / (params[3] + x)

    start = np.array([-5.0, -2.0, -0.5, -5.0])
    default = fit_constants(rational, x, truth, start)
    # the default cap is 50 (k + 1): naming it changes nothing
    named = fit_constants(rational, x, truth, start, least_squares_evaluations=250)
    assert np.array_equal(default.params, named.params)
    assert default.evaluations == named.evaluations
    capped = fit_constants(rational, x, truth, start, least_squares_evaluations=5)
    assert capped.evaluations < default.evaluations
    start_error = relative_error(rational(start, x), truth).max()
    assert default.max_relative_error <= capped.max_relative_error < start_error
