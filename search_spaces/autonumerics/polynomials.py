"""Polynomial baselines for AutoNumerics, computed by the project itself.

An evolved program is only interesting if it beats what a numerical analyst would write by hand:
a Taylor polynomial (the naive baseline) or, much stronger, the *minimax* polynomial of the same
cost in Horner form. This module computes both from first principles:

* `taylor_coefficients`: closed forms for exp2/exp, `mpmath.taylor` otherwise.
* `minimax_polynomial` / `remez_relative`: the Remez exchange algorithm in mpmath high precision
  for the best polynomial in MAX RELATIVE error (weight 1/f), then an honest float64 measurement
  of the rounded coefficients evaluated in Horner form on a dense grid.
* `horner_dsl` / `horner_dsl_with_constants`: the same polynomials as program text in the
  platform's DSL, so baselines can be seeded into (or compared against) a population.

A Horner polynomial of degree d costs 2d ops (d multiplies, d adds); `horner_op_count`.

Like `targets`, this module depends only on numpy/mpmath and the sibling `targets` module.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from mpmath import mp, mpf

from search_spaces.autonumerics.targets import (
    TARGETS,
    Target,
    get_target,
    ground_truth,
    relative_error,
    training_grid,
    validation_points,
)

__all__ = [
    "MinimaxResult",
    "horner_dsl",
    "horner_dsl_with_constants",
    "horner_eval",
    "horner_op_count",
    "measure_horner_error",
    "minimax_polynomial",
    "remez_relative",
    "taylor_coefficients",
]


def _resolve(target: Target | str) -> Target:
    return get_target(target) if isinstance(target, str) else target


# --------------------------------------------------------------------------------------------
# Horner form: evaluation, cost, DSL text
# --------------------------------------------------------------------------------------------


def horner_op_count(degree: int) -> int:
    """Ops of a degree-`degree` polynomial in Horner form: one multiply and one add per degree."""
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    return 2 * degree


def horner_eval(coeffs: Sequence[float], x: np.ndarray) -> np.ndarray:
    """Evaluate ``c0 + x * (c1 + x * (... + x * cd))`` in float64, in exactly the operation
    order of `horner_dsl` text (no FMA), so its rounding errors are the program's."""
    x = np.asarray(x, dtype=np.float64)
    if len(coeffs) == 0:
        raise ValueError("horner_eval needs at least one coefficient")
    with np.errstate(all="ignore"):
        accumulator = np.full_like(x, float(coeffs[-1]))
        for c in reversed(coeffs[:-1]):
            accumulator = float(c) + x * accumulator
    return accumulator


def literal(value: float) -> str:
    """`repr(float)` is the shortest text that reads back as exactly this float."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"coefficient {value!r} has no literal form")
    return repr(value)


def _check_name(name: str, what: str) -> None:
    if not name.isidentifier():
        raise ValueError(f"{what} {name!r} is not a valid DSL name")


def horner_text(terms: Sequence[str], input: str, fma: bool = False) -> str:
    """Nest terms t0..td as ``t0 + x * (t1 + x * (... + x * td))``, or with `fma` as
    ``fma(x, fma(x, td, ...), t0)`` (one op per step instead of two).

    A negative literal right operand is parenthesised, ``x * (-0.5)``, matching the platform
    printer; a leading ``-0.5`` inside a group or at the start folds into a literal (no op).
    """
    if fma:
        text = terms[-1]
        for term in reversed(terms[:-1]):
            text = f"fma({input}, {text}, {term})"
        return text
    text = terms[-1]
    if len(terms) > 1 and text.startswith("-"):
        text = f"({text})"
    for position, term in enumerate(reversed(terms[:-1])):
        inner_is_group = position > 0  # the innermost product has a bare operand
        text = f"{term} + {input} * ({text})" if inner_is_group else f"{term} + {input} * {text}"
    return text


def horner_dsl(
    coeffs: Sequence[float], input: str = "x", output: str = "f", root: float | None = None,
    fma: bool = False,
) -> str:
    """DSL text of the Horner form, e.g. ``f = 1.0 + x * (0.69 + x * 0.24)``.

    With `root`, the text is ``f = (x - root) * (Horner form)``: the factored form that keeps a
    zero of the target exact (see `remez_relative`); it costs 2 more ops (one sub, one mul), or
    1 for root 0 (``x * (...)``), so degree-d q costs 2d + 2 (2d + 1) ops.

    Coefficients (low -> high order) are written with `repr(float)`, which round-trips exactly,
    so the program computes bit-for-bit what `horner_eval` computes. Degree 0 is refused: a
    program whose output is a literal is not a program (the DSL rejects a constant output).
    """
    _check_name(input, "input")
    _check_name(output, "output")
    body = horner_text([literal(c) for c in coeffs], input, fma) if len(coeffs) else ""
    if root is not None:
        if not coeffs:
            raise ValueError("horner_dsl needs at least one coefficient")
        return f"{output} = {zero_factor(root, input)} * ({body})"
    if len(coeffs) < 2:
        raise ValueError("horner_dsl needs degree >= 1 (a constant output is not a program)")
    return f"{output} = {body}"


def zero_factor(root: float, input: str = "x") -> str:
    """The factor that keeps a zero at `root` exact: ``(x - 1.0)``, ``(x + 0.5)``, or ``x``
    for 0 (one op fewer)."""
    if root == 0.0:
        return input
    shift = literal(root)
    factor = f"{input} + {shift[1:]}" if shift.startswith("-") else f"{input} - {shift}"
    return f"({factor})"


def horner_dsl_with_constants(
    degree: int, input: str = "x", output: str = "f", prefix: str = "c", fma: bool = False
) -> str:
    """``f = c0 + x * (c1 + x * (c2 + ...))``: the Horner skeleton whose c's are fitted.

    Costs `horner_op_count(degree)` ops (`degree` with `fma`); the constants c0..c{degree}
    are learnable parameters.
    """
    _check_name(input, "input")
    _check_name(output, "output")
    _check_name(f"{prefix}0", "constant prefix")
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    return f"{output} = {horner_text([f'{prefix}{i}' for i in range(degree + 1)], input, fma)}"


# --------------------------------------------------------------------------------------------
# Taylor polynomials
# --------------------------------------------------------------------------------------------


def taylor_coefficients(
    target_name: str | Target, degree: int, center: float = 0.0, dps: int = 50
) -> list[float]:
    """Taylor coefficients a_k of the target about `center`, low -> high order, in powers of
    ``(x - center)`` (so at center 0 they are plain monomial coefficients), rounded to float64.

    exp2: a_k = 2^c ln(2)^k / k!;  exp: a_k = e^c / k!  (closed forms, exact up to rounding);
    other targets: `mpmath.taylor` at `dps` digits. The target's interval is ignored: Taylor
    polynomials are local, which is precisely why they lose to minimax ones away from `center`.
    """
    target = _resolve(target_name)
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    with mp.workdps(dps):
        c = mpf(float(center))
        if target == TARGETS["exp2"]:  # the built-in one, not a user's function so named
            scale, ln2 = mp.power(2, c), mp.ln2
            coefficients = [scale * ln2**k / mp.factorial(k) for k in range(degree + 1)]
        elif target == TARGETS["exp"]:
            scale = mp.exp(c)
            coefficients = [scale / mp.factorial(k) for k in range(degree + 1)]
        else:
            try:
                coefficients = mp.taylor(target.mp_function, c, degree)
            except (ValueError, ZeroDivisionError) as error:
                raise ValueError(
                    f"no Taylor expansion of {target.name} about {center}: {error}"
                ) from error
        result = [float(a) for a in coefficients]
    if not all(math.isfinite(a) for a in result):
        raise ValueError(f"{target.name} has no finite Taylor expansion about {center}")
    return result


def pade_coefficients(target_name: str | Target, m: int, n: int, center: float = 0.0,
                      dps: int = 50) -> tuple[list[float], list[float]]:
    """The Pade approximant [m/n] of the target about `center`: (numerator, denominator)
    coefficients, low -> high order in powers of ``(x - center)``, denominator[0] = 1, from the
    Taylor coefficients of degree m + n (`mpmath.pade`, at `dps` digits)."""
    if m < 1 or n < 1:
        raise ValueError(f"Pade orders must be >= 1, got [{m}/{n}]")
    taylor = taylor_coefficients(target_name, m + n, center, dps)
    with mp.workdps(dps):
        numerator, denominator = mp.pade([mpf(a) for a in taylor], m, n)
        scale = denominator[0]
        return ([float(a / scale) for a in numerator], [float(b / scale) for b in denominator])


# --------------------------------------------------------------------------------------------
# Minimax (Remez) in relative error
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinimaxResult:
    """Outcome of `remez_relative`.

    coeffs: float64 monomial coefficients, low -> high (rounded from the mp solution).
    max_relative_error: measured in float64, Horner order, on a dense grid (the number that a
        program would actually achieve; includes rounding of coefficients and arithmetic).
    levelled_error: |E| of the final Remez system in mp precision (pure approximation error).
    reference: final alternation points (float64 roundings of the mp points).
    reference_errors: signed mp relative errors there (alternating, |.| ~ levelled_error).
    iterations: exchange steps taken; converged: ripple reached `tolerance`.
    root: for targets vanishing at an endpoint z, z (else None); then p(x) = (x - z) q(x) and
    quotient_coeffs are q's float64 coefficients, and factored_max_relative_error is the float64
        error of ``(x - z) * q(x)`` (`horner_dsl(quotient_coeffs, root=z)`), which keeps the
        zero exact and is the form to use as a baseline for such targets. None otherwise.
    """

    coeffs: tuple[float, ...]
    max_relative_error: float
    levelled_error: float
    reference: tuple[float, ...]
    reference_errors: tuple[float, ...]
    iterations: int
    converged: bool
    root: float | None = None
    quotient_coeffs: tuple[float, ...] | None = None
    factored_max_relative_error: float | None = None


def _polyval(coefficients: Sequence[mpf], x: mpf) -> mpf:
    accumulator = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        accumulator = c + x * accumulator
    return accumulator


def _endpoint_zero(target: Target) -> mpf | None:
    """An endpoint where the target vanishes (relative error forces p to vanish there too)."""
    for endpoint in (mpf(target.lower), mpf(target.upper)):
        value = target.mp_function(endpoint)
        if abs(value) <= mpf(2) ** (-mp.prec + 8):
            return endpoint
    return None


ZERO_SCAN_POINTS = 257


def _zero(target: Target) -> mpf | None:
    """The target's zero in its interval, which relative error forces p to share: an endpoint
    where it vanishes (log, log2, erf, log1p, expm1), else the one interior point where it
    vanishes or changes sign (tanh, gelu, sin at 0; a user's function anywhere), found on a
    `ZERO_SCAN_POINTS` grid (x = 0 included) and refined by bisection to the working
    precision. ValueError for more than one zero (no single factor (x - z) keeps them all)."""
    endpoint = _endpoint_zero(target)
    if endpoint is not None:
        return endpoint
    f, tiny = target.mp_function, mpf(2) ** (-mp.prec + 8)
    lower, upper = mpf(target.lower), mpf(target.upper)
    xs = sorted({lower + (upper - lower) * i / (ZERO_SCAN_POINTS - 1)
                 for i in range(ZERO_SCAN_POINTS)} | ({mpf(0)} if lower < 0 < upper else set()))
    values = [f(x) for x in xs]
    zeros = [x for x, v in zip(xs, values, strict=True) if abs(v) <= tiny]
    for i in range(len(xs) - 1):
        a, b, fa, fb = xs[i], xs[i + 1], values[i], values[i + 1]
        if abs(fa) <= tiny or abs(fb) <= tiny or (fa > 0) == (fb > 0):
            continue
        for _ in range(mp.prec + 8):  # bisection: a sign change brackets the zero
            middle = (a + b) / 2
            if middle in (a, b):
                break
            fm = f(middle)
            if abs(fm) <= tiny:
                a = b = middle
                break
            a, b, fa = (middle, b, fm) if (fm > 0) == (fa > 0) else (a, middle, fa)
        zeros.append((a + b) / 2)
    if len(zeros) > 1:
        raise ValueError(f"{target.name} has {len(zeros)} zeros in [{target.lower:g}, "
                         f"{target.upper:g}] (near {', '.join(f'{float(z):g}' for z in zeros)}): "
                         f"no polynomial minimax in relative error")
    return zeros[0] if zeros else None


def target_zero(target: Target | str, dps: int = 50) -> float | None:
    """The float64 zero that a bounded relative error forces an approximation to share
    (`_zero`, at `dps` digits; the root of `remez_relative`'s factored forms), or None."""
    with mp.workdps(dps):
        zero = _zero(_resolve(target))
        return None if zero is None else float(zero)


def divided_by_zero(target: Target, zero: float) -> Target:
    """g(x) = f(x) / (x - zero) as a `Target` on f's interval (g(zero) = f'(zero)): what
    p / q approximates in ``(x - zero) * (p / q)``, whose relative error is that of p / q
    against g (its Pade approximant starts the fit of a zero-keeping rational)."""
    f, z = target.mp_function, mpf(zero)

    def g(x: mpf) -> mpf:
        x = mpf(x)
        return mp.diff(f, z) if x == z else f(x) / (x - z)

    return Target(f"{target.name}_over_x_minus_{zero:g}", target.lower, target.upper, g)


def _golden_maximum(h: Callable[[mpf], mpf], lo: mpf, hi: mpf, steps: int) -> tuple[mpf, mpf]:
    """Maximise a unimodal `h` on [lo, hi] by golden-section search; returns (x, h(x)).

    The bracket comes from a dense grid, so ~30 steps locate the extremum to 1e-9 of the
    bracket and the extremal *value* (what the exchange needs) to ~1e-18 relative.
    """
    ratio = (mp.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    hc, hd = h(c), h(d)
    for _ in range(steps):
        if hc >= hd:
            b, d, hd = d, c, hc
            c = b - ratio * (b - a)
            hc = h(c)
        else:
            a, c, hc = c, d, hd
            d = a + ratio * (b - a)
            hd = h(d)
    best = max(((lo, h(lo)), (hi, h(hi)), (c, hc), (d, hd)), key=lambda pair: pair[1])
    return best


def _select_alternating(candidates: list[tuple[mpf, mpf]], count: int) -> list[tuple[mpf, mpf]]:
    """Thin alternating extrema to `count`, keeping alternation and the largest errors.

    Removing an end point, or two adjacent points, preserves alternation; each step removes the
    option whose larger |error| is smallest, so the global maximum always survives.
    """
    points = list(candidates)
    while len(points) > count:
        options: list[tuple[mpf, list[int]]] = [
            (abs(points[0][1]), [0]),
            (abs(points[-1][1]), [len(points) - 1]),
        ]
        if len(points) - count >= 2:
            for i in range(len(points) - 1):
                options.append((max(abs(points[i][1]), abs(points[i + 1][1])), [i, i + 1]))
        _, drop = min(options, key=lambda option: option[0])
        points = [p for i, p in enumerate(points) if i not in drop]
    return points


@functools.lru_cache(maxsize=128)
def remez_relative(
    target: Target | str,
    degree: int,
    *,
    dps: int = 50,
    tolerance: float = 1e-6,
    max_iterations: int = 60,
) -> MinimaxResult:
    """Best degree-`degree` polynomial in max relative error on the target's interval (Remez).

    Relative error is weighted error with weight 1/f, so the reference system at n points is
    ``p(x_i) - f(x_i) = (-1)^i E f(x_i)``, linear in (coefficients, E). Each step solves it in
    mpmath at `dps` digits, finds the extrema of ``e(x) = p(x)/f(x) - 1`` (dense Chebyshev grid,
    one extremum per sign-constant segment, refined by golden section) and exchanges the whole
    reference. Stops when ``(max |e| - |E|) / |E| <= tolerance`` (equal ripple).

    If f vanishes at a point z of the interval (log, log2 at 1; erf at 0; tanh, gelu and sin at
    0 inside theirs: `_zero`), any polynomial with bounded
    relative error must vanish there too, so we write p(x) = (x - z) q(x) and run Remez for q
    against g(x) = f(x)/(x - z) (g(z) = f'(z)), whose relative error equals p's; the result is
    expanded to monomials. Such polynomials then equioscillate at degree + 1 points, not
    degree + 2, and in float64 the expanded Horner form does NOT reproduce the zero exactly, so
    the measured error near z is dominated by rounding (write ``(x - z) * q`` instead).

    Results are cached (same target/degree asked for repeatedly by tests and baselines).
    """
    target = _resolve(target)
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    with mp.workdps(dps):
        lower, upper = mpf(target.lower), mpf(target.upper)
        f = target.mp_function
        zero = _zero(target)
        if zero is None:
            g: Callable[[mpf], mpf] = f
            q_degree = degree
        else:
            if degree < 1:
                raise ValueError(f"{target.name} vanishes at {float(zero)}: a polynomial with "
                                 "bounded relative error needs degree >= 1")
            slope = mp.diff(f, zero)
            z = zero

            def g(x: mpf) -> mpf:
                return slope if x == z else f(x) / (x - z)

            q_degree = degree - 1
        count = q_degree + 2
        middle, half = (lower + upper) / 2, (upper - lower) / 2
        grid_size = max(400, 60 * count)
        grid = [middle - half * mp.cos(mp.pi * i / (grid_size - 1)) for i in range(grid_size)]
        grid[0], grid[-1] = lower, upper
        g_cache: dict[mpf, mpf] = {}

        def g_at(x: mpf) -> mpf:
            value = g_cache.get(x)
            if value is None:
                value = g(x)
                if value == 0:
                    raise ValueError(f"{target.name} vanishes inside the interval at "
                                     f"{float(x)}: no finite relative minimax")
                g_cache[x] = value
            return value

        reference = [middle - half * mp.cos(mp.pi * i / (count - 1)) for i in range(count)]
        reference[0], reference[-1] = lower, upper
        coefficients: list[mpf] = []
        levelled = mpf(0)
        extrema: list[tuple[mpf, mpf]] = []
        converged = False
        iterations = 0
        for _ in range(max_iterations):
            iterations += 1
            matrix = mp.matrix(count, count)
            rhs = mp.matrix(count, 1)
            for i, x in enumerate(reference):
                gx = g_at(x)
                power = mpf(1)
                for j in range(q_degree + 1):
                    matrix[i, j] = power
                    power *= x
                matrix[i, count - 1] = (-1) ** i * gx
                rhs[i] = gx
            solution = mp.lu_solve(matrix, rhs)
            coefficients = [solution[j] for j in range(q_degree + 1)]
            levelled = abs(solution[count - 1])

            def error(x: mpf, coefficients: list[mpf] = coefficients) -> mpf:
                return _polyval(coefficients, x) / g_at(x) - 1

            points = sorted(set(grid) | set(reference))
            values = [error(x) for x in points]
            extrema = []
            start = 0
            for end in range(1, len(points) + 1):
                if end < len(points) and (values[end] >= 0) == (values[start] >= 0):
                    continue
                # segment points[start:end] has constant sign: one extremum in it
                sign = 1 if values[start] >= 0 else -1
                peak = max(range(start, end), key=lambda i: sign * values[i])
                lo = points[max(peak - 1, start)]
                hi = points[min(peak + 1, end - 1)]
                if lo == hi:
                    extrema.append((points[peak], values[peak]))
                else:
                    x_best, h_best = _golden_maximum(lambda x, s=sign: s * error(x), lo, hi, 30)
                    extrema.append((x_best, sign * h_best))
                start = end
            if len(extrema) < count:  # cannot happen for a solved reference; be safe
                break
            extrema = _select_alternating(extrema, count)
            largest = max(abs(e) for _, e in extrema)
            reference = [x for x, _ in extrema]
            if largest - levelled <= tolerance * levelled:
                converged = True
                break

        if zero is None:
            expanded = coefficients
        else:  # p(x) = (x - z) q(x) in monomials
            expanded = [mpf(0)] * (degree + 1)
            for j, c in enumerate(coefficients):
                expanded[j + 1] += c
                expanded[j] -= zero * c
        coeffs = tuple(float(c) for c in expanded)
        quotient = None if zero is None else tuple(float(c) for c in coefficients)
        reference_floats = tuple(float(x) for x, _ in extrema)
        reference_errors = tuple(float(e) for _, e in extrema)
        levelled_float = float(levelled)

    measured = measure_horner_error(target, coeffs, extra_points=reference_floats)
    root = None if zero is None else float(zero)
    factored = None
    if quotient is not None and root is not None:
        factored = measure_horner_error(target, quotient, extra_points=reference_floats,
                                        root=root)
    return MinimaxResult(
        coeffs=coeffs,
        max_relative_error=measured,
        levelled_error=levelled_float,
        reference=reference_floats,
        reference_errors=reference_errors,
        iterations=iterations,
        converged=converged,
        root=root,
        quotient_coeffs=quotient,
        factored_max_relative_error=factored,
    )


def measure_horner_error(
    target: Target | str,
    coeffs: Sequence[float],
    extra_points: Sequence[float] = (),
    root: float | None = None,
) -> float:
    """Max relative error of the float64 Horner evaluation of `coeffs` (times ``(x - root)``
    when `root` is given, as `horner_dsl(..., root=root)` computes) against the correctly
    rounded target, on 20k random points + a 2048-point Chebyshev/uniform grid + `extra_points`
    (pass the minimax alternation points: that is where the maximum sits) and their float64
    neighbours. Uses `relative_error`'s convention at zeros of the target."""
    target = _resolve(target)
    extra = np.asarray(extra_points, dtype=np.float64)
    neighbours = np.concatenate([extra, np.nextafter(extra, -np.inf), np.nextafter(extra, np.inf)])
    neighbours = neighbours[(neighbours >= target.lower) & (neighbours <= target.upper)]
    points = np.unique(np.concatenate([
        validation_points(target, 20_000, seed=12345),
        training_grid(target, 2048),
        neighbours,
    ]))
    truth = ground_truth(target, points)
    approx = horner_eval(coeffs, points)
    if root is not None:
        approx = (points - float(root)) * approx
    return float(np.max(relative_error(approx, truth)))


def minimax_polynomial(target: Target | str, degree: int) -> tuple[list[float], float]:
    """(coefficients low -> high, max relative error) of the relative-minimax polynomial.

    The error is the float64 Horner measurement (`MinimaxResult.max_relative_error`), i.e. what
    the polynomial written as a program achieves; see `remez_relative` for the details.
    """
    result = remez_relative(target, degree)
    return list(result.coeffs), result.max_relative_error
