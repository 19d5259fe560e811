"""AutoNumerics in float32: error in ULPs, and XLA wall-clock measured beside the library function.

A float32 approximation is judged the way a libm is: by its worst error in units in the last
place (ULP) of the exact value, over many float32 inputs, and by how fast XLA runs it compared
with what it would replace (``jnp.exp2`` for 2^x), measured side by side on the same machine in
the same process (so a loaded machine slows both alike; the ratio is what carries over).

jax is imported lazily: the float64 space must not pay for it.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from automl.ir import Program, run_jax
from search_spaces.autonumerics.ops import TABLE
from search_spaces.autonumerics.targets import Target

__all__ = ["FLOAT64_FUNCTIONS", "REFERENCE_FUNCTIONS", "SMALLEST_NORMAL", "check_points",
           "every_float", "exhaustive_max_ulp", "jax_function", "reference_function",
           "refine_constants", "side_by_side_seconds", "ulp_errors"]

# jax.numpy / jax.scipy / jax.nn function a target's approximation would replace (every
# built-in target has one; a user's target has none, and float32 mode refuses it)
REFERENCE_FUNCTIONS = {"exp2": "jax.numpy.exp2", "exp": "jax.numpy.exp", "log": "jax.numpy.log",
                       "log2": "jax.numpy.log2", "erf": "jax.scipy.special.erf",
                       "tanh": "jax.numpy.tanh", "sigmoid": "jax.nn.sigmoid",
                       "gelu": "search_spaces.autonumerics.float32.gelu_erf",
                       "softplus": "jax.nn.softplus", "sin": "jax.numpy.sin",
                       "cos": "jax.numpy.cos", "log1p": "jax.numpy.log1p",
                       "expm1": "jax.numpy.expm1", "rsqrt": "jax.lax.rsqrt"}

# float64 numpy/scipy functions for checking every float32 input (10^9 of them: mpmath, ~10 us
# a point, is out of reach); their ~1e-16 relative error is ~1e-9 of a float32 ULP
FLOAT64_FUNCTIONS = {"exp2": "numpy.exp2", "exp": "numpy.exp", "log": "numpy.log",
                     "log2": "numpy.log2", "erf": "scipy.special.erf", "tanh": "numpy.tanh",
                     "sigmoid": "scipy.special.expit",
                     "gelu": "search_spaces.autonumerics.float32.gelu_float64",
                     "softplus": "search_spaces.autonumerics.float32.softplus_float64",
                     "sin": "numpy.sin", "cos": "numpy.cos", "log1p": "numpy.log1p",
                     "expm1": "numpy.expm1",
                     "rsqrt": "search_spaces.autonumerics.float32.rsqrt_float64"}


def gelu_erf(x: Any) -> Any:
    """GELU in its exact erf form, x * Phi(x) (jax.nn.gelu's default is the tanh form)."""
    import jax

    return jax.nn.gelu(x, approximate=False)


def gelu_float64(x: np.ndarray) -> np.ndarray:
    from scipy.special import erfc

    return x * erfc(-x / math.sqrt(2.0)) / 2.0


def softplus_float64(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def rsqrt_float64(x: np.ndarray) -> np.ndarray:
    return 1.0 / np.sqrt(x)


_SIGN = np.uint32(0x80000000)


def _ordered(values: np.ndarray) -> np.ndarray:
    """float32 -> int64 keys in the floats' order (adjacent floats get adjacent keys)."""
    bits = values.astype(np.float32).view(np.uint32).astype(np.int64)
    return np.where(bits & int(_SIGN), -(bits & 0x7FFFFFFF), bits)


def _from_ordered(keys: np.ndarray) -> np.ndarray:
    bits = np.where(keys < 0, (-keys) | int(_SIGN), keys).astype(np.uint32)
    return bits.view(np.float32)


def _float32_interval(target: Target) -> tuple[np.float32, np.float32]:
    """The smallest and largest float32 in [lower, upper] (the interval's endpoints rounded to
    float32 may fall outside it: step inward)."""
    lower, upper = np.float32(target.lower), np.float32(target.upper)
    if float(lower) < target.lower:
        lower = np.nextafter(lower, np.float32(np.inf))
    if float(upper) > target.upper:
        upper = np.nextafter(upper, np.float32(-np.inf))
    return lower, upper


def every_float(target: Target, chunk: int = 2**22) -> Iterator[np.ndarray]:
    """Every float32 in [lower, upper], in order, `chunk` at a time (1,065,353,217 of them in
    [0, 1])."""
    lower, upper = (int(_ordered(np.array([end]))[0]) for end in _float32_interval(target))
    for start in range(lower, upper + 1, chunk):
        yield _from_ordered(np.arange(start, min(start + chunk, upper + 1), dtype=np.int64))


def exhaustive_max_ulp(functions: Mapping[str, Callable[[Any], Any]], target: Target,
                       chunk: int = 2**22, subnormal_inputs: bool = True
                       ) -> dict[str, tuple[float, float]]:
    """Each function's max ULP error over every float32 input in the target's interval (the
    check a libm is held to; `check_points` samples it), and the input where it occurs, exact
    values from the target's float64 function (`FLOAT64_FUNCTIONS`). ~40 s a function for
    [0, 1] on one CPU core. Without `subnormal_inputs`, the nonzero inputs below
    `SMALLEST_NORMAL` in magnitude are left out (see `check_points`)."""
    path = FLOAT64_FUNCTIONS.get(target.name)
    if path is None:
        raise ValueError(f"no float64 function to check target {target.name!r} exhaustively; "
                         f"known: {', '.join(FLOAT64_FUNCTIONS)}")
    exact_function = _imported(path)
    worst = {name: (-1.0, math.nan) for name in functions}
    for x in every_float(target, chunk):
        if not subnormal_inputs:
            x = x[~_subnormal(x)]
            if not x.size:
                continue
        exact = exact_function(x.astype(np.float64))
        for name, function in functions.items():
            errors = ulp_errors(np.asarray(function(x)), exact)
            at = int(np.argmax(errors))
            if errors[at] > worst[name][0]:
                worst[name] = (float(errors[at]), float(x[at]))
    return worst


def check_points(target: Target, grid: int, random: int = 10_000, seed: int = 0,
                 subnormal_inputs: bool = True) -> np.ndarray:
    """Float32 inputs in [lower, upper]: `grid` points evenly spaced in float32 order (a stride
    through the bit patterns, so every binade is covered by how many floats it holds), both
    endpoints, and `random` uniform ones. Sorted, unique.

    Without `subnormal_inputs`, nonzero inputs below `SMALLEST_NORMAL` (2^-126) in magnitude
    are left out: XLA on a CPU flushes subnormals to zero (FTZ/DAZ), so where the target's
    value there is itself subnormal (erf near 0) every XLA function, the library's included,
    is ~2^23 ULPs off there whatever it computes (ULPs of the subnormal spacing, 2^-149)."""
    lower, upper = _float32_interval(target)
    keys = np.linspace(_ordered(np.array([lower]))[0], _ordered(np.array([upper]))[0], grid)
    spaced = _from_ordered(np.round(keys).astype(np.int64))
    uniform = np.random.default_rng(seed).uniform(float(lower), float(upper), random)
    points = np.unique(np.clip(np.concatenate([spaced, uniform.astype(np.float32),
                                               [lower, upper]]), lower, upper))
    return points if subnormal_inputs else points[~_subnormal(points)]


SMALLEST_NORMAL = 2.0**-126


def _subnormal(x: np.ndarray) -> np.ndarray:
    magnitude = np.abs(x)
    return (magnitude > 0) & (magnitude < SMALLEST_NORMAL)


def _ulp_exponents(exact: np.ndarray) -> np.ndarray:
    """log2 of the float32 ULP of each exact value's binade: floor(log2|exact|) - 23, and -149
    (the subnormal spacing) at the bottom."""
    magnitude = np.maximum(np.abs(np.asarray(exact, dtype=np.float64)), 2.0**-126)
    return np.floor(np.log2(magnitude)) - 23


def ulp_errors(values: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|value - exact| in float32 ULPs of the exact value's binade (`_ulp_exponents`).
    `exact` is float64 (from the mpmath ground truth): its own error, ~1e-16 relative, is 1e-9
    of a float32 ULP. Non-finite values give inf."""
    exact = np.asarray(exact, dtype=np.float64)
    ulp = np.exp2(_ulp_exponents(exact))
    with np.errstate(all="ignore"):
        errors = np.abs(np.asarray(values, dtype=np.float64) - exact) / ulp
    return np.where(np.isfinite(errors), errors, np.inf)


def reference_function(target_name: str) -> Callable[[Any], Any]:
    """The jax function the approximation of `target_name` competes with (jnp.exp2, ...)."""
    path = REFERENCE_FUNCTIONS.get(target_name)
    if path is None:
        raise ValueError(f"no float32 reference function for target {target_name!r}; known: "
                         f"{', '.join(REFERENCE_FUNCTIONS)}")
    return _imported(path)


def _imported(path: str) -> Callable[[Any], Any]:
    """The function at dotted `path` ("numpy.exp2"), imported on first use."""
    import importlib

    module, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def jax_function(program: Program, constants: Mapping[str, float] | None = None
                 ) -> Callable[[Any], Any]:
    """f(x) of `program` for jax arrays, its fitted constants baked in as float32 literals
    (weakly typed, so a float32 x computes in float32 throughout), jitted."""
    import jax
    import jax.numpy as jnp

    missing = [name for name in program.parameters if name not in (constants or {})]
    if missing:
        raise ValueError(f"constants {', '.join(missing)} have no value: fit or export first")
    values = {name: float(np.float32(constants[name])) for name in program.parameters}

    def f(x):
        return jnp.broadcast_to(run_jax(program, {"x": x, **values}, TABLE)["f"], x.shape)

    return jax.jit(f)


def _ulp_scales(exact: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1 / the float32 ULP of each exact value's binade as two power-of-two factors, each
    finite in float32 (the ULP of the subnormals, 2^-149, has no float32 reciprocal)."""
    exponent = -_ulp_exponents(exact)
    half = np.floor(exponent / 2)
    return np.exp2(half), np.exp2(exponent - half)


def refine_constants(program: Program, constants: Mapping[str, float], x: np.ndarray,
                     exact: np.ndarray, *, max_rounds: int = 200, max_step_bits: int = 16,
                     batch: int = 256) -> tuple[dict[str, float], float]:
    """Float32 constants for `program` with a lower max ULP error on `x` than its float64 fit
    rounded to float32: the float32 analogue of fitting, searched on the float32 lattice.

    Why: a float64 fit minimises the error of exact arithmetic; in float32 each op rounds and
    each constant moves by up to half an ULP when rounded, and which combination of roundings
    is best is not what the float64 optimum says (Brisebarre and Chevillard's fpminimax makes
    the same point for polynomials). Starting from the rounded fit, each round tries every
    constant moved by +-1, 2, 4, ... 2^`max_step_bits` float32 steps, all at once (one jitted
    XLA call per `batch` of trials broadcast together, in float32 as the program will run), and
    takes the best trial if it lowers (max ULP error, sum of squared ULP errors); it stops when
    none does or after `max_rounds`. Returns the constants (float32 values, as floats) and
    their max ULP error, which equals ``ulp_errors(jax_function(program, them)(x), exact)``'s
    max up to XLA's constant folding (a literal vs an argument)."""
    import jax
    import jax.numpy as jnp

    names = program.parameters
    rounded = np.array([np.float32(constants[name]) for name in names], dtype=np.float32)
    x32 = jnp.asarray(np.asarray(x, dtype=np.float32))
    # exact = hi + lo in float32: (value - hi) is exact (Sterbenz) where value is near, and
    # the error of subtracting lo is ~2^-24 of an ULP
    exact = np.asarray(exact, dtype=np.float64)
    hi = exact.astype(np.float32)
    lo = (exact - hi.astype(np.float64)).astype(np.float32)
    reference = tuple(jnp.asarray(a.astype(np.float32)) for a in (hi, lo, *_ulp_scales(exact)))

    @jax.jit
    def scores(trials, x32, hi, lo, scale, scale2):  # (m, k) -> (m,) max ULP, sum of squares
        values = run_jax(program, {"x": x32[None, :],
                                   **{name: trials[:, i, None] for i, name in enumerate(names)}},
                         TABLE)
        values = jnp.broadcast_to(values["f"], (trials.shape[0], x32.size))
        errors = jnp.abs((values - hi) - lo) * scale * scale2
        errors = jnp.where(jnp.isfinite(errors), errors, jnp.inf)
        return jnp.max(errors, axis=1), jnp.sum(jnp.minimum(errors, 1e15) ** 2, axis=1)

    def score_all(trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        maxima, squares = [], []
        for start in range(0, len(trials), batch):
            chunk = trials[start:start + batch]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], batch - len(chunk), 0)])
            m, q = scores(jnp.asarray(padded), x32, *reference)
            maxima.append(np.asarray(m)[:len(chunk)])
            squares.append(np.asarray(q)[:len(chunk)])
        return np.concatenate(maxima), np.concatenate(squares)

    if not names:
        return {}, float(score_all(np.zeros((1, 0), dtype=np.float32))[0][0])
    steps = np.array([sign * 2**bit for bit in range(max_step_bits + 1) for sign in (1, -1)])
    best = rounded
    best_score = tuple(float(v[0]) for v in score_all(best[None, :]))
    for _ in range(max_rounds):
        keys = _ordered(best)
        trials = np.repeat(best[None, :], len(names) * len(steps), axis=0)
        rows = np.arange(len(trials))
        columns = rows // len(steps)
        trials[rows, columns] = _from_ordered(keys[columns] + np.tile(steps, len(names)))
        maxima, squares = score_all(trials)
        order = np.lexsort((squares, maxima))[0]
        if (float(maxima[order]), float(squares[order])) >= best_score:
            break
        best, best_score = trials[order], (float(maxima[order]), float(squares[order]))
    return {name: float(value) for name, value in zip(names, best, strict=True)}, best_score[0]


def side_by_side_seconds(functions: Mapping[str, Callable[[Any], Any]], x: Any,
                         repeats: int) -> dict[str, list[float]]:
    """Wall-clock of each function on `x` (blocked until done), `repeats` times, the
    functions taking turns within each repeat so drifting load hits all of them alike. One
    warm-up call each first (compilation)."""
    for function in functions.values():
        function(x).block_until_ready()
    seconds: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function(x).block_until_ready()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def median_seconds(seconds: Mapping[str, Sequence[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in seconds.items()}
