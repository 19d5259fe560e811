"""`automl.fma.fma`: a * b + c rounded once, checked against exact rational arithmetic (a
`Fraction` rounded to the nearest float64, ties to even, by hand below: not by `float()`,
which the slow path of `automl.fma` itself uses)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from automl.fma import fma, two_product, two_sum
from automl.ops import CORE_OPS

MAX_FINITE = np.finfo(np.float64).max


def nearest(q: Fraction) -> float:
    """`q` rounded to the nearest float64, ties to even; ±inf past the overflow threshold;
    a rounded-away tiny value keeps its sign (±0.0)."""
    sign = -1.0 if q < 0 else 1.0
    q = abs(q)
    if q == 0:
        return 0.0
    exponent = q.numerator.bit_length() - q.denominator.bit_length()
    if Fraction(2) ** exponent > q:
        exponent -= 1
    quantum = max(exponent, -1022) - 52  # the ulp's exponent (fixed 2^-1074 when subnormal)
    scaled = q / Fraction(2) ** quantum
    whole = scaled.numerator // scaled.denominator
    rest = scaled - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2 == 1):
        whole += 1
    if whole * Fraction(2) ** quantum >= Fraction(2) ** 1024:
        return sign * math.inf
    return sign * math.ldexp(whole, quantum)


def exact_fma(a: float, b: float, c: float) -> float:
    """IEEE fusedMultiplyAdd of finite a, b, c (signed zeros as IEEE has them)."""
    product = Fraction(a) * Fraction(b)
    value = product + Fraction(c)
    if value == 0:
        if product == 0 and c == 0:  # the sign of a sum of zeros: -0 only for -0 + -0
            negative = (math.copysign(1.0, a) * math.copysign(1.0, b) < 0
                        and math.copysign(1.0, c) < 0)
            return -0.0 if negative else 0.0
        return 0.0  # an exact cancellation rounds to +0 (to nearest)
    return nearest(value)


def same(got: float, expected: float) -> bool:
    """Equal as floats, including the sign of a zero and NaN."""
    if math.isnan(expected):
        return math.isnan(got)
    return got == expected and math.copysign(1.0, got) == math.copysign(1.0, expected)


def check(a, b, c) -> None:
    got = fma(a, b, c)
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))
    for index in np.ndindex(got.shape):
        args = (float(a[index]), float(b[index]), float(c[index]))
        expected = exact_fma(*args)
        assert same(float(got[index]), expected), (args, float(got[index]), expected)


def test_the_reference_rounds_ties_to_even_and_past_the_ends():
    one_ulp = 2.0**-52
    assert nearest(1 + Fraction(1, 2**53)) == 1.0  # a tie: to the even 1.0
    assert nearest(1 + Fraction(3, 2**53)) == 1 + 2 * one_ulp  # a tie: to the even neighbour
    assert nearest(1 + Fraction(1, 2**53) + Fraction(1, 2**200)) == 1 + one_ulp
    assert nearest(Fraction(2) ** -1075) == 0.0  # half the smallest subnormal: to even 0
    assert nearest(Fraction(3, 2**1076)) == 2.0**-1074
    assert nearest(Fraction(2) ** 1024 - Fraction(2) ** 970) == math.inf  # the tie: overflow
    assert nearest(Fraction(2) ** 1024 - Fraction(2) ** 970 - 1) == MAX_FINITE


def test_naive_a_times_b_plus_c_rounds_twice_and_fma_once():
    a = b = 1.0 + 2.0**-30
    c = -(a * b)  # the rounded product: the exact a*b + c is its rounding error, 2^-60
    assert a * b + c == 0.0
    assert fma(a, b, c) == 2.0**-60
    assert CORE_OPS.get("fma").numpy_impl(a, b, c) == 2.0**-60


def test_two_product_and_two_sum_are_exact():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(-4, 4, 500), rng.uniform(-4, 4, 500)
    p, e = two_product(a, b)
    s, t = two_sum(a, b)
    for i in range(a.size):
        assert Fraction(p[i]) + Fraction(e[i]) == Fraction(a[i]) * Fraction(b[i])
        assert Fraction(s[i]) + Fraction(t[i]) == Fraction(a[i]) + Fraction(b[i])


def near_ties(rng: np.random.Generator, n: int, scale: float = 1.0):
    """a * b + c within a few units of the last place of a rounding midpoint: c is half an
    ulp of the rounded product (or a few ulps), so the product's low part decides, and where
    it is tiny, the fma's rounding must see it (the double-rounding hazard)."""
    a = rng.uniform(0.5, 2.0, n) * np.where(rng.random(n) < 0.5, -1.0, 1.0) * scale
    b = rng.uniform(0.5, 2.0, n)
    # a short significand in half of the b's: a * b then has a tiny or zero low part
    b = np.where(rng.random(n) < 0.5, np.round(b * 2**20) / 2**20, b)
    product = a * b
    ulp = np.spacing(np.abs(product))
    half_steps = rng.integers(-6, 7, n).astype(np.float64)
    c = np.where(rng.random(n) < 0.5, half_steps * ulp / 2,
                 -product + half_steps * ulp / 2)  # a cancellation leaves the low part
    # half an ulp minus the product's low part, give or take a few of c's own ulps: the tail
    # tl + ul is a hair off half an ulp, which rounding it to nearest makes an exact tie
    with np.errstate(all="ignore"):
        _, low = two_product(a, b)
        tail = ulp / 2 - low
        c = np.where(rng.random(n) < 0.3, tail + rng.integers(-3, 4, n) * np.spacing(tail), c)
    return a, b, np.where(np.isfinite(c), c, 1.0)  # (past 2^1023 an ulp overflows)


def test_near_ties_and_cancellations_are_rounded_once():
    rng = np.random.default_rng(7)
    a, b, c = near_ties(rng, 4000)
    check(a, b, c)
    assert np.any(fma(a, b, c) != a * b + c)  # where double rounding would have been wrong


def test_rounding_the_tail_to_odd_matters():
    """Where th + RN(tl + ul), a double-double sum, is wrong: RN makes the tail an exact half
    ulp of th, a false tie (found by a search like `near_ties`'s last case)."""
    cases = [(1.4331269402364737, 1.3333098434150479, 9.533086828179843e-18),
             (1.648547207079825, 1.7885225908773066, 8.404573300726421e-17),
             (1.603743933216741, 1.3346621620124628, 7.66174098005189e-17)]
    for a, b, c in cases:
        uh, ul = two_product(np.float64(a), np.float64(b))
        th, tl = two_sum(np.float64(c), uh)
        assert th + (tl + ul) != exact_fma(a, b, c)
        assert fma(a, b, c) == exact_fma(a, b, c)


def test_exact_ties_go_to_even():
    # (1 + 2^-52)^2 = 1 + 2^-51 + 2^-104; + (2^-53 - 2^-104) is 1 + 2^-51 + 2^-53: a tie
    a = b = 1.0 + 2.0**-52
    c = 2.0**-53 - 2.0**-104
    assert fma(a, b, c) == 1.0 + 2.0**-51  # the even neighbour
    assert fma(a, b, c + 2.0**-104) == 1.0 + 2.0**-51 + 2.0**-52  # just past it: up
    check([a, a, -a], [b, b, b], [c, c + 2.0**-104, -c])


def test_huge_and_tiny_exponents_subnormals_and_an_overflowing_product():
    cases = [
        (2.0**600, 2.0**600, -MAX_FINITE),  # a * b overflows, a * b + c does not: inf - max
        (1.5 * 2.0**600, 2.0**424, -MAX_FINITE),  # 1.5 * 2^1024 - max: finite
        (MAX_FINITE, 2.0, -MAX_FINITE),  # = max
        (MAX_FINITE, 1.0 + 2.0**-52, 0.0),  # overflows: inf
        (2.0**-600, 2.0**-600, 1.0),  # a product far below 1: 1 + 2^-1200 rounds to 1
        (2.0**-600, 2.0**-600, -0.0),  # 2^-1200: below the subnormals, rounds to +0
        (-(2.0**-537), 2.0**-537, 0.0),  # -2^-1074: the smallest subnormal, exactly
        (2.0**-537, 2.0**-538 * 1.5, 0.0),  # 1.5 * 2^-1075: a subnormal tie, to even 2^-1074
        (2.0**-1074, 0.5, 2.0**-1074),  # 1.5 ulp of the subnormals: to even
        (3.0 * 2.0**-1074, 2.0**-1, 0.0),  # 1.5 * 2^-1074: to even 2 * 2^-1074
        (1.0 + 2.0**-52, 2.0**-1022, -(2.0**-1022)),  # a cancellation into the subnormals
        (2.0**-500, 2.0**-500, -(2.0**-1000)),  # = 0: +0
        (2.0**1000, 2.0**-1000, -1.0),  # = 0 with huge and tiny factors
        (2.0**996, 3.0, -(2.0**997)),  # past Veltkamp's split limit
        (3.0 * 2.0**-1030, 2.0**1000, 2.0**-83),  # a subnormal factor times a huge one
    ]
    a, b, c = (np.array(values) for values in zip(*cases, strict=True))
    check(a, b, c)
    assert fma(2.0**600, 2.0**600, -MAX_FINITE) == nearest(
        Fraction(2) ** 1200 - Fraction(MAX_FINITE))  # inf (past the threshold) either way


def test_special_values_are_ieee_fma():
    inf, nan = math.inf, math.nan
    cases = [
        ((inf, 0.0, 1.0), nan), ((inf, 2.0, -inf), nan), ((inf, 2.0, 1.0), inf),
        ((-inf, 2.0, 1.0), -inf), ((1.0, 2.0, inf), inf), ((1.0, 2.0, nan), nan),
        ((nan, 0.0, 0.0), nan), ((0.0, inf, 1.0), nan),
        # a, b finite: the fma is c itself where c is infinite, even if a * b overflows
        ((2.0**600, 2.0**600, -inf), -inf), ((2.0**600, -(2.0**600), inf), inf),
        ((-0.0, 1.0, -0.0), -0.0), ((0.0, -1.0, -0.0), -0.0), ((0.0, -1.0, 0.0), 0.0),
        ((0.0, 1.0, -0.0), 0.0), ((-0.0, 5.0, 3.0), 3.0), ((1.0, -1.0, 1.0), 0.0),
    ]
    for (a, b, c), expected in cases:
        assert same(float(fma(a, b, c)), expected), ((a, b, c), fma(a, b, c))
        assert same(float(fma(np.array([a]), b, c)[0]), expected)


def test_zero_factors_beside_ordinary_elements():
    """A grid holding x = 0 (2^x, erf on [0, 1]) stays on the vectorised path: zero products
    are exact there; each exact zero gets IEEE's sign."""
    a = np.array([0.0, -0.0, 0.0, 0.5, 1.0, -0.0, 0.0, 1.5, 2.0**-30 + 1])
    b = np.array([1.5, 2.0, -3.0, 0.25, -1.0, 1e300, 0.0, 2.0, 2.0**-30 + 1])
    c = np.array([-0.0, -0.0, -0.0, -0.125, 1.0, 0.0, -(2.0**-1074), 0.5, -(1 + 2.0**-29)])
    check(a, b, c)
    check(a, 2.0, c)
    check(np.linspace(0.0, 1.0, 9), 0.5, np.linspace(-0.5, 0.0, 9))


def test_shapes_scalars_and_complex_steps():
    x = np.linspace(0.0, 1.0, 7)
    constants = np.array([[0.5], [1.5]])
    assert fma(x[None, :], constants, 0.25).shape == (2, 7)
    assert isinstance(fma(0.5, 0.25, 1.0), np.float64)
    got = fma(np.float64(3.0), 2, 1)  # integers: as float64
    assert got == 7.0 and got.dtype == np.float64
    # the complex step of a fit: a * b + c, whose derivative is the fma's
    h = 1e-30
    z = fma(x + 1j * h, 0.75 + 0j, 0.1)
    np.testing.assert_array_equal(np.imag(z) / h, np.full(7, 0.75))
    np.testing.assert_array_equal(np.real(z), x * 0.75 + 0.1)
    # an input that is not writable (a broadcast view) is not written to
    a = np.broadcast_to(np.array(2.0**600), (3,))
    assert np.all(fma(a, a, -MAX_FINITE) == fma(2.0**600, 2.0**600, -MAX_FINITE))


finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-(2.0**60), max_value=2.0**60, allow_nan=False).filter(
    lambda v: v == 0 or abs(v) > 2.0**-60)


@settings(max_examples=400, deadline=None)
@given(finite, finite, finite)
def test_any_finite_inputs(a, b, c):
    check([a], [b], [c])


@settings(max_examples=400, deadline=None)
@given(moderate, moderate, moderate, st.integers(-3, 3))
def test_cancellations_near_the_rounded_product(a, b, c, steps):
    product = a * b
    if not math.isfinite(product):
        return
    near = -product + steps * float(np.spacing(abs(product))) / 2
    check([a, a], [b, b], [c, near])


def test_many_near_ties_at_every_scale():
    rng = np.random.default_rng(11)
    for exponent in (-1000, -900, -500, -60, 0, 60, 500, 900, 1000):
        a, b, c = near_ties(rng, 3000, 2.0**exponent)
        check(a, b, c)


def test_xla_on_the_cpu_computes_a_mul_feeding_an_add_as_one_fma():
    """What docs/architecture.md ("fma") says of the float32 path: jitted by XLA on the CPU,
    ``a * b + c`` rounds once, even written as two statements (as a program's mul and add
    are). c = -(a * b rounded) leaves the product's rounding error, which only an fma sees;
    for float32 inputs it is exact in float64. If this fails, XLA stopped contracting: the
    docs and the float32 numbers of fma-free programs change."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    a, b = (rng.uniform(1.0, 2.0, 1000).astype(np.float32) for _ in range(2))
    c = -(a * b)
    exact = (a.astype(np.float64) * b + c).astype(np.float32)
    assert np.count_nonzero(exact) > 900 and not np.any(a * b + c)  # numpy: two roundings

    def two_statements(a, b, c):
        t = a * b
        return t + c

    for function in (lambda a, b, c: a * b + c, two_statements):
        got = np.asarray(jax.jit(function)(jnp.asarray(a), jnp.asarray(b), jnp.asarray(c)))
        np.testing.assert_array_equal(got, exact)
