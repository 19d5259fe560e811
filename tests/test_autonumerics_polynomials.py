"""Baselines: Remez minimax (against independent reference numbers), Taylor, Horner DSL text."""

from __future__ import annotations

import ast
import math
import operator

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search_spaces.autonumerics.polynomials import (
    horner_dsl,
    horner_dsl_with_constants,
    horner_eval,
    horner_op_count,
    measure_horner_error,
    minimax_polynomial,
    remez_relative,
    taylor_coefficients,
)
from search_spaces.autonumerics.targets import get_target

# Measured elsewhere (float64, Horner form) for 2^x on [0, 1]: ops -> max relative error.
REFERENCE_MINIMAX = {4: 1.7e-3, 6: 7.5e-5, 8: 2.6e-6, 10: 7.5e-8, 12: 1.9e-9, 14: 4.0e-11,
                     16: 7.8e-13}
REFERENCE_TAYLOR_10_OPS = 8.5e-5


@pytest.mark.parametrize("ops", sorted(REFERENCE_MINIMAX))
def test_remez_matches_independent_reference(ops: int) -> None:
    degree = ops // 2
    assert horner_op_count(degree) == ops
    coeffs, error = minimax_polynomial("exp2", degree)
    assert len(coeffs) == degree + 1
    assert error == pytest.approx(REFERENCE_MINIMAX[ops], rel=0.10)


def test_taylor_baseline_matches_reference() -> None:
    coeffs = taylor_coefficients("exp2", 5, center=0.0)
    with mpmath.workdps(40):
        assert coeffs[:3] == [1.0, float(mpmath.ln2), float(mpmath.ln2**2 / 2)]  # rounded once
    error = measure_horner_error("exp2", coeffs)
    assert error == pytest.approx(REFERENCE_TAYLOR_10_OPS, rel=0.10)
    # same cost, minimax is ~1000x better: the point of the baseline
    assert minimax_polynomial("exp2", 5)[1] < error / 500


def test_taylor_closed_forms_agree_with_mpmath_taylor() -> None:
    for name, function in (("exp2", lambda x: mpmath.power(2, x)), ("exp", mpmath.exp)):
        for center in (0.0, 0.5):
            with mpmath.workdps(40):
                expected = [float(a) for a in mpmath.taylor(function, center, 6)]
            assert taylor_coefficients(name, 6, center=center) == pytest.approx(expected,
                                                                                 rel=1e-14)
    log_coeffs = taylor_coefficients("log", 3, center=1.0)
    assert log_coeffs == pytest.approx([0.0, 1.0, -0.5, 1.0 / 3.0], abs=1e-15)
    with pytest.raises(ValueError):
        taylor_coefficients("log", 3, center=0.0)


@pytest.mark.parametrize("degree", [2, 3, 4, 5, 6])
def test_remez_equioscillates(degree: int) -> None:
    result = remez_relative("exp2", degree)
    assert result.converged
    assert len(result.reference) == degree + 2
    assert list(result.reference) == sorted(result.reference)
    signs = np.sign(result.reference_errors)
    assert np.all(signs[1:] == -signs[:-1])
    magnitudes = np.abs(result.reference_errors)
    assert np.all(np.abs(magnitudes / result.levelled_error - 1.0) < 1e-6)
    # Independent check in mpmath of the *returned float64* coefficients: the error alternates
    # at the reference with equal magnitude (up to coefficient rounding) and nothing on a dense
    # grid exceeds it, i.e. those really are the extrema.
    with mpmath.workdps(40):
        coefficients = [mpmath.mpf(c) for c in result.coeffs]

        def error(x: float) -> mpmath.mpf:
            p = mpmath.mpf(0)
            for c in reversed(coefficients):
                p = c + mpmath.mpf(x) * p
            return p / mpmath.power(2, x) - 1

        at_reference = [error(x) for x in result.reference]
        dense = max(abs(error(x)) for x in np.linspace(0.0, 1.0, 801))
        level = float(max(abs(e) for e in at_reference))
        assert all(float(abs(e)) == pytest.approx(level, rel=1e-3) for e in at_reference)
        assert all(np.sign(float(a)) == -np.sign(float(b))
                   for a, b in zip(at_reference, at_reference[1:], strict=False))
        assert float(dense) <= level * (1 + 1e-3)
    assert result.max_relative_error == pytest.approx(result.levelled_error, rel=1e-3)


@pytest.mark.slow
def test_remez_targets_with_a_zero_vanish_there() -> None:
    for name, zero in (("log", 1.0), ("erf", 0.0)):
        result = remez_relative(name, 4)
        assert result.converged
        assert result.root == zero
        assert len(result.reference) == 4 + 1  # p = (x - z) q with deg q = 3
        assert abs(sum(c * zero**i for i, c in enumerate(result.coeffs))) < 1e-15
        # the factored form keeps the zero exact, so float64 sees the approximation error
        assert result.factored_max_relative_error == pytest.approx(result.levelled_error,
                                                                   rel=1e-2)
    # e^x on [-ln2/2, ln2/2] is 2^t on [-1/2, 1/2]: the same relative problem as exp2 on [0, 1]
    assert remez_relative("exp", 4).levelled_error == pytest.approx(
        remez_relative("exp2", 4).levelled_error, rel=1e-9)


def test_horner_dsl_text() -> None:
    assert horner_dsl([1.0, 0.5, 0.25]) == "f = 1.0 + x * (0.5 + x * 0.25)"
    assert horner_dsl([1.0, -0.5]) == "f = 1.0 + x * (-0.5)"
    assert horner_dsl([-1.0, 2.0, -3.0], input="u", output="y") == (
        "y = -1.0 + u * (2.0 + u * (-3.0))"
    )
    assert horner_dsl([1e-08, 0.1]) == "f = 1e-08 + x * 0.1"
    assert horner_dsl([2.0], root=1.0) == "f = (x - 1.0) * (2.0)"
    assert horner_dsl([2.0, 3.0], root=-0.5) == "f = (x + 0.5) * (2.0 + x * 3.0)"
    assert horner_dsl([2.0, 3.0], root=0.0) == "f = x * (2.0 + x * 3.0)"
    assert horner_dsl_with_constants(0) == "f = c0"
    assert horner_dsl_with_constants(1) == "f = c0 + x * c1"
    assert horner_dsl_with_constants(3) == "f = c0 + x * (c1 + x * (c2 + x * c3))"
    with pytest.raises(ValueError):
        horner_dsl([1.0])  # a constant output is not a program
    with pytest.raises(ValueError):
        horner_dsl([1.0, math.nan])
    with pytest.raises(ValueError):
        horner_dsl([1.0, 2.0], input="not a name")


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv}


def _evaluate(text: str, x: float) -> tuple[float, int]:
    """Evaluate one `name = expr` statement (test-only, on our own generated text) in IEEE
    float64 with Python floats; returns (value, number of binary ops)."""
    target, expression = text.split(" = ", 1)
    tree = ast.parse(expression, mode="eval").body
    ops = 0

    def visit(node: ast.AST) -> float:
        nonlocal ops
        if isinstance(node, ast.BinOp):
            ops += 1
            return _BINARY[type(node.op)](visit(node.left), visit(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            assert isinstance(node.operand, ast.Constant), "only literals are negated"
            return -float(node.operand.value)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return x
        raise AssertionError(f"unexpected node {ast.dump(node)}")

    return visit(tree), ops


finite = st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e300,
                   max_value=1e300)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=2, max_size=9), st.floats(0.0, 1.0))
def test_horner_dsl_round_trips_exactly(coeffs: list[float], x: float) -> None:
    text = horner_dsl(coeffs)
    value, ops = _evaluate(text, x)
    assert ops == horner_op_count(len(coeffs) - 1)
    expected = float(horner_eval(coeffs, np.array([x]))[0])
    assert value == expected or (math.isnan(value) and math.isnan(expected))


def test_minimax_horner_text_reproduces_measured_polynomial() -> None:
    coeffs, _ = minimax_polynomial("exp2", 4)
    text = horner_dsl(coeffs)
    for x in (0.0, 0.3, 1.0):
        assert _evaluate(text, x)[0] == horner_eval(coeffs, np.array([x]))[0]
    assert measure_horner_error(get_target("exp2"), coeffs) < 2.7e-6


def test_pade_approximants_have_the_closed_forms():
    """[1/1] of e^x is (1 + x/2) / (1 - x/2) (2^x: x scaled by ln 2); [2/2] of e^x is
    (1 + x/2 + x^2/12) / (1 - x/2 + x^2/12)."""
    from search_spaces.autonumerics.polynomials import pade_coefficients

    numerator, denominator = pade_coefficients("exp2", 1, 1)
    half_ln2 = math.log(2) / 2
    assert numerator == pytest.approx([1.0, half_ln2], rel=1e-15)
    assert denominator == pytest.approx([1.0, -half_ln2], rel=1e-15)
    numerator, denominator = pade_coefficients("exp", 2, 2)
    assert numerator == pytest.approx([1.0, 0.5, 1 / 12], rel=1e-14)
    assert denominator == pytest.approx([1.0, -0.5, 1 / 12], rel=1e-14)
    with pytest.raises(ValueError, match="orders"):
        pade_coefficients("exp2", 0, 2)
