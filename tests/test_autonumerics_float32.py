"""AutoNumerics float32 mode (ULP error, XLA time beside the library function) and the
multi-start constant fitting the search relies on for squared rationals."""

from __future__ import annotations

import numpy as np
import pytest

from search_spaces.autonumerics import float32, polynomials
from search_spaces.autonumerics.fitting import fit_constants, fit_from_starts, initial_constants
from search_spaces.autonumerics.space import AutoNumericsSpace
from search_spaces.autonumerics.targets import get_target

# 2^x = r(x)^2 with r a rational [3/3] symmetric in x: a structure the search finds, and one
# where a single random start often lands in a poor local optimum
SQUARED_RATIONAL = """x2 = x * x
e = x2 * c0 + c1
o = (x2 + c2) * x
n = e + o
d = e - o
r = n / d
f = r * r
"""


def minimax_program(space: AutoNumericsSpace, degree: int):
    coefficients, _ = polynomials.minimax_polynomial("exp2", degree)
    return space.parse(polynomials.horner_dsl(coefficients), f"minimax_{degree}")


# -- multi-start fitting ---------------------------------------------------------------------

def test_fit_from_starts_keeps_the_best_start_and_counts_all_of_them() -> None:
    space = AutoNumericsSpace({"target": "exp2"})
    program = space.parse(SQUARED_RATIONAL, "squared")
    model = space.model(program)
    starts = [initial_constants(3, np.random.default_rng(seed)) for seed in range(6)]
    singles = [fit_constants(model, space.grid, space.truth, start) for start in starts]
    best = fit_from_starts(model, space.grid, space.truth, starts)
    assert best.max_relative_error == min(fit.max_relative_error for fit in singles)
    assert best.evaluations == sum(fit.evaluations for fit in singles)
    # the starts do not all agree: otherwise this test would not show that restarts matter
    assert max(fit.max_relative_error for fit in singles) > 10 * best.max_relative_error
    # good enough after the first start: the others are not tried
    first = fit_from_starts(model, space.grid, space.truth, starts, good_enough=1.0)
    assert first.evaluations == singles[0].evaluations
    with pytest.raises(ValueError, match="at least one start"):
        fit_from_starts(model, space.grid, space.truth, [])


@pytest.mark.slow
def test_restarts_are_reproducible_and_extend_the_single_start() -> None:
    # trf: with lm, this single start's fit ends with a pole inside [0, 1] (a failed evaluation)
    one = AutoNumericsSpace({"target": "exp2", "fit_solver": "trf"})
    eight = AutoNumericsSpace({"target": "exp2", "fit_restarts": 8, "fit_solver": "trf"})
    # restart 0 is the single-start draw, so fit_restarts: 1 evaluates as before
    assert np.array_equal(eight.constant_starts(3)[0],
                          initial_constants(3, np.random.default_rng(0)))
    assert len({tuple(start) for start in eight.constant_starts(3)}) == 8
    program = one.parse(SQUARED_RATIONAL, "squared")
    single, _ = one.evaluate_one(program)
    multi, metrics = eight.evaluate_one(program)
    again, _ = eight.evaluate_one(program)
    assert multi == again
    assert multi["max_relative_error"] <= single["max_relative_error"]
    assert multi["max_relative_error"] < 1e-9  # the global optimum is ~2e-10
    assert set(metrics["constants"]) == {"c0", "c1", "c2"}


# -- float32 helpers -------------------------------------------------------------------------

def test_ulp_errors_use_the_exact_values_binade() -> None:
    exact = np.array([1.0, 1.0, 1.5, 2.0**-130, 1.0])
    values = np.array([np.nextafter(np.float32(1), np.float32(2)), 1 - 2.0**-24,
                       1.5 + 3 * 2.0**-23, 2.0**-130 + 2.0**-149, np.inf], dtype=np.float64)
    assert float32.ulp_errors(values, exact).tolist() == [1.0, 0.5, 3.0, 1.0, np.inf]


@pytest.mark.parametrize("name", ["exp2", "exp", "log", "erf"])
def test_check_points_cover_the_interval_in_float32(name: str) -> None:
    target = get_target(name)
    points = float32.check_points(target, grid=1000, random=100)
    assert points.dtype == np.float32
    assert np.all(np.diff(points) > 0)
    assert target.lower <= float(points[0]) <= target.lower + 1e-7
    assert target.upper - 1e-7 <= float(points[-1]) <= target.upper
    assert 1000 <= points.size <= 1102
    if target.lower < 0 < target.upper:  # spaced in float32 order: dense near zero
        assert np.sum(np.abs(points) < 1e-3) > 100


def test_check_points_can_leave_out_subnormal_inputs() -> None:
    """XLA on a CPU flushes subnormal inputs to zero: erf's values there are subnormal too, so
    every XLA function, jax.scipy.special.erf included, is millions of ULPs off there."""
    import jax
    import jax.scipy.special

    target = get_target("erf")
    every = float32.check_points(target, grid=4096, random=100)
    normal = float32.check_points(target, grid=4096, random=100, subnormal_inputs=False)
    tiny = (every > 0) & (every < float32.SMALLEST_NORMAL)
    assert tiny.sum() > 10 and np.array_equal(normal, every[~tiny]) and normal[0] == 0.0
    erf = jax.jit(jax.scipy.special.erf)
    assert float(erf(np.float32(1e-40))) == 0.0  # flushed: erf(1e-40) is 1.128e-40
    space = AutoNumericsSpace({"target": "erf", "precision": "float32",
                               "float32_check_points": 4096, "float32_check_uniform": 100,
                               "float32_subnormal_inputs": False})
    assert np.array_equal(space.float32_checks[0], normal)
    # the setting enters the cache key only away from its default
    default = AutoNumericsSpace({"target": "erf", "precision": "float32"})
    explicit = AutoNumericsSpace({"target": "erf", "precision": "float32",
                                  "float32_subnormal_inputs": True})
    assert default.settings_hash() == explicit.settings_hash() != AutoNumericsSpace(
        {"target": "erf", "precision": "float32",
         "float32_subnormal_inputs": False}).settings_hash()


def test_jax_function_names_missing_constants() -> None:
    space = AutoNumericsSpace({"target": "exp2"})
    with pytest.raises(ValueError, match="constants c0 have no value"):
        float32.jax_function(space.parse("f = x * c0", "p"))


# -- the space's float32 mode ----------------------------------------------------------------

@pytest.fixture(scope="module")
def float32_space() -> AutoNumericsSpace:
    return AutoNumericsSpace({"target": "exp2", "precision": "float32",
                              "float32_check_points": 20_000, "timing_repeats": 5})


@pytest.mark.slow
def test_float32_mode_scores_ulps_and_time_beside_jnp_exp2(
        float32_space: AutoNumericsSpace) -> None:
    assert [o.name for o in float32_space.objectives] == ["max_ulp_error", "relative_time"]
    six, metrics = float32_space.evaluate_one(minimax_program(float32_space, 6))
    four, _ = float32_space.evaluate_one(minimax_program(float32_space, 4))
    # degree 6 is faithful in float32 (< 1 ULP); degree 4's ~3e-6 relative error is ~40 ULPs
    assert six["max_ulp_error"] < 1.0
    assert 10 < four["max_ulp_error"] < 200
    assert six["relative_time"] > 0
    assert metrics["reference"] == "jax.numpy.exp2"
    assert 0.5 < metrics["reference_max_ulp_error"] < 3.0
    assert metrics["time_us"] / metrics["reference_time_us"] == pytest.approx(
        six["relative_time"])
    assert metrics["cost"] == 12 and metrics["max_relative_error"] < 1e-8


@pytest.mark.parametrize("refining", [{"float32_refine_rounds": 0},
                                      # a quadratic is thousands of ULPs off: not refined
                                      {"float32_refine_rounds": 20,
                                       "float32_refine_below_ulp": 64.0}])
def test_float32_mode_rounds_fitted_constants_to_float32(refining: dict) -> None:
    rounding = AutoNumericsSpace({"target": "exp2", "precision": "float32",
                                  "float32_check_points": 20_000, "timing_repeats": 5,
                                  **refining})
    objectives, metrics = rounding.evaluate_one(
        rounding.parse("f = (c0 * x + c1) * x + c2", "quadratic"))
    constants = metrics["constants"]
    x, exact = rounding.float32_checks
    c = {k: np.float32(v) for k, v in constants.items()}
    by_hand = (c["c0"] * x + c["c1"]) * x + c["c2"]
    assert objectives["max_ulp_error"] == pytest.approx(
        float(np.max(float32.ulp_errors(by_hand, exact))), rel=1e-6)
    assert metrics["float32_constants"] == {k: float(v) for k, v in c.items()}
    assert metrics["float32_refined"] is False
    assert objectives["max_ulp_error"] > 64.0


def fma_horner(space: AutoNumericsSpace, degree: int):
    """f = fma(x, fma(x, ..., c1), c0) and the minimax coefficients as its constants."""
    coefficients, _ = polynomials.minimax_polynomial("exp2", degree)
    program = space.parse(polynomials.horner_dsl_with_constants(degree, fma=True), "horner")
    return program, {f"c{i}": c for i, c in enumerate(coefficients)}


@pytest.mark.slow
def test_refining_on_the_float32_lattice_lowers_the_ulps_of_the_rounded_fit() -> None:
    space = AutoNumericsSpace({"target": "exp2", "ops": ["add", "mul", "fma"],
                               "float32_check_points": 20_000})
    x, exact = space.float32_checks
    program, constants = fma_horner(space, 6)

    def max_ulp(values: dict[str, float]) -> float:
        function = float32.jax_function(program, values)
        return float(np.max(float32.ulp_errors(np.asarray(function(x)), exact)))

    refined, reported = float32.refine_constants(program, constants, x, exact)
    rounded = max_ulp(constants)
    assert reported < rounded  # 0.80 against 0.86 ULP on the default check points
    assert reported == pytest.approx(max_ulp(refined), rel=1e-6)
    # every refined constant is a float32, a few float32 steps from the rounded float64 fit
    for name, value in refined.items():
        assert float(np.float32(value)) == value
        assert abs(value - constants[name]) <= 2**10 * abs(float(np.spacing(np.float32(value))))
    # the space's float32 mode reports the refined constants and their ULPs
    mode = AutoNumericsSpace({**space.settings.model_dump(), "precision": "float32",
                              "timing_repeats": 3})
    objectives, metrics = mode.float32_objectives(program, constants, {})
    assert objectives["max_ulp_error"] == pytest.approx(reported, rel=1e-6)
    assert metrics["float32_constants"] == refined and metrics["float32_refined"] is True
    # under `float32_refine_below_ulp` only: at 0.5 ULP this program keeps its rounded fit
    strict = AutoNumericsSpace({**mode.settings.model_dump(), "float32_refine_below_ulp": 0.5})
    objectives, metrics = strict.float32_objectives(program, constants, {})
    assert objectives["max_ulp_error"] == pytest.approx(rounded, rel=1e-6)
    assert metrics["float32_refined"] is False



def test_refining_scores_points_whose_exact_value_is_zero() -> None:
    # log x on [0.5, 1] is 0 at x = 1: one float32 ULP there is 2^-149, whose reciprocal
    # overflows float32 unless it is applied in two factors
    space = AutoNumericsSpace({"target": "log", "ops": ["add", "sub", "mul"],
                               "float32_check_points": 4096})
    x, exact = space.float32_checks
    assert exact[-1] == 0.0
    program = space.parse("t = x - 1.0\nf = t * (c0 + c1 * t)\n", "log_quadratic")
    refined, reported = float32.refine_constants(program, {"c0": 1.0, "c1": -0.5}, x, exact)
    values = np.asarray(float32.jax_function(program, refined)(x))
    assert np.isfinite(reported)
    assert reported == pytest.approx(float(np.max(float32.ulp_errors(values, exact))), rel=1e-6)


@pytest.mark.slow
def test_the_exhaustive_check_visits_every_float_and_finds_the_worst() -> None:
    import dataclasses

    # e^x on a sliver across 0 (signed floats, both zeros), in chunks that do not divide it
    target = dataclasses.replace(get_target("exp"), lower=-2.0**-120, upper=2.0**-126 * 3)
    chunks = list(float32.every_float(target, chunk=1000))
    floats = np.concatenate(chunks)
    expected = np.nextafter(np.float32(-2.0**-120), np.float32(1.0))
    assert floats[0] == np.float32(-2.0**-120) and floats[-1] == np.float32(2.0**-126 * 3)
    assert np.all(np.diff(floats.astype(np.float64)) >= 0) and floats[1] == expected
    # one float per bit pattern in between (+0 and -0 are one key)
    bits = lambda v: int(np.float32(v).view(np.uint32))  # noqa: E731
    assert floats.size == (bits(-2.0**-120) - bits(-0.0)) + bits(2.0**-126 * 3) + 1
    assert len({len(chunk) for chunk in chunks[:-1]}) == 1 and len(chunks[-1]) <= 1000

    # a function wrong by a quarter of the result near one input: found there, and sized right
    sliver = dataclasses.replace(get_target("exp2"), lower=0.5, upper=0.5 + 2.0**-14)
    x = np.concatenate(list(float32.every_float(sliver)))
    spike = x[len(x) // 3]

    def off_at_spike(values):
        exact = np.exp2(np.asarray(values, dtype=np.float64)).astype(np.float32)
        return np.where(values == spike, exact * np.float32(1.25), exact)

    worst = float32.exhaustive_max_ulp({"spiked": off_at_spike, "rounded": lambda v: np.exp2(
        np.asarray(v, dtype=np.float64)).astype(np.float32)}, sliver, chunk=333)
    assert worst["spiked"][1] == float(spike)
    assert worst["spiked"][0] == pytest.approx(0.25 * 2**0.5 * 2**23, rel=1e-3)
    assert worst["rounded"][0] <= 0.5 + 1e-6  # correctly rounded: at most half an ULP


# -- the zoo's float32 programs ---------------------------------------------------------------

@pytest.mark.slow
def test_every_shipped_float32_program_reproduces_on_fewer_check_points() -> None:
    """Each float32-mode zoo file re-evaluated as `automl reproduce` does (the float64 fit from
    its recorded start, the constants rounded to float32 and refined on the float32 lattice),
    on 8,192 + 16,384 check points instead of its search's ~1.1 million (the exhaustive figure
    over every float32 input is `scripts/bench_float32.py --target T --zoo --exhaustive`'s):
    the fit ends at the recorded constants, and the refined constants, and the shipped ones, are
    under 1 ULP on those points. ~30 s for the six files on one core."""
    from automl import zoo
    from search_spaces.autonumerics.targets import PAPER_TARGETS

    entries = [entry for entry in zoo.entries() if entry.space == "autonumerics"
               and entry.settings.get("precision") == "float32"]
    assert {entry.settings["target"] for entry in entries} == set(PAPER_TARGETS)
    for entry in entries:
        space = AutoNumericsSpace({**entry.settings, "float32_check_points": 8192,
                                   "float32_check_uniform": 16_384, "timing_points": 1000,
                                   "timing_repeats": 1})
        program = space.parse(entry.program, entry.name)
        objectives, metrics = space.evaluate_one(space.as_evaluated(program, entry.metrics))
        recorded = entry.metrics["constants"]
        # (exp2_float32_faithful's c0, whose degree-9 term weighs little, ends 1.3e-6 off)
        assert metrics["constants"] == pytest.approx(recorded, rel=1e-5, abs=1e-12), entry.name
        assert objectives["max_ulp_error"] < 1.0, (entry.name, objectives)
        _, shipped = space.float32_error(program, entry.metrics["float32_constants"])
        assert shipped < 1.0, (entry.name, shipped)
