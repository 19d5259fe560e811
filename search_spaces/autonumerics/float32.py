"""AutoNumerics in float32: error in ULPs, and XLA wall-clock measured beside the library function.

A float32 approximation is judged the way a libm is: by its worst error in units in the last
place (ULP) of the exact value, over many float32 inputs, and by how fast XLA runs it compared
with what it would replace (``jnp.exp2`` for 2^x), measured side by side on the same machine in
the same process (so a loaded machine slows both alike; the ratio is what carries over).

jax is imported lazily: the float64 space must not pay for it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from automl.ir import Program, run_jax
from search_spaces.autonumerics.targets import Target

__all__ = ["REFERENCE_FUNCTIONS", "check_points", "jax_function", "reference_function",
           "side_by_side_seconds", "ulp_errors"]

# jax.numpy / jax.scipy function a target's approximation would replace
REFERENCE_FUNCTIONS = {"exp2": "jax.numpy.exp2", "exp": "jax.numpy.exp", "log": "jax.numpy.log",
                       "log2": "jax.numpy.log2", "erf": "jax.scipy.special.erf"}

_SIGN = np.uint32(0x80000000)


def _ordered(values: np.ndarray) -> np.ndarray:
    """float32 -> int64 keys in the floats' order (adjacent floats get adjacent keys)."""
    bits = values.astype(np.float32).view(np.uint32).astype(np.int64)
    return np.where(bits & int(_SIGN), -(bits & 0x7FFFFFFF), bits)


def _from_ordered(keys: np.ndarray) -> np.ndarray:
    bits = np.where(keys < 0, (-keys) | int(_SIGN), keys).astype(np.uint32)
    return bits.view(np.float32)


def check_points(target: Target, grid: int, random: int = 10_000, seed: int = 0) -> np.ndarray:
    """Float32 inputs in [lower, upper]: `grid` points evenly spaced in float32 order (a stride
    through the bit patterns, so every binade is covered by how many floats it holds), both
    endpoints, and `random` uniform ones. Sorted, unique."""
    lower, upper = np.float32(target.lower), np.float32(target.upper)
    # the interval's float32 endpoints may round outside it: step inward
    if float(lower) < target.lower:
        lower = np.nextafter(lower, np.float32(np.inf))
    if float(upper) > target.upper:
        upper = np.nextafter(upper, np.float32(-np.inf))
    keys = np.linspace(_ordered(np.array([lower]))[0], _ordered(np.array([upper]))[0], grid)
    spaced = _from_ordered(np.round(keys).astype(np.int64))
    uniform = np.random.default_rng(seed).uniform(float(lower), float(upper), random)
    points = np.concatenate([spaced, uniform.astype(np.float32), [lower, upper]])
    return np.unique(np.clip(points, lower, upper))


def ulp_errors(values: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|value - exact| in float32 ULPs of the exact value's binade (2^(floor(log2|exact|) - 23),
    subnormal spacing 2^-149 at the bottom). `exact` is float64 (from the mpmath ground truth):
    its own error, ~1e-16 relative, is 1e-9 of a float32 ULP. Non-finite values give inf."""
    exact = np.asarray(exact, dtype=np.float64)
    magnitude = np.maximum(np.abs(exact), 2.0**-126)
    ulp = np.exp2(np.floor(np.log2(magnitude)) - 23)
    with np.errstate(all="ignore"):
        errors = np.abs(np.asarray(values, dtype=np.float64) - exact) / ulp
    return np.where(np.isfinite(errors), errors, np.inf)


def reference_function(target_name: str) -> Callable[[Any], Any]:
    """The jax function the approximation of `target_name` competes with (jnp.exp2, ...)."""
    import importlib

    path = REFERENCE_FUNCTIONS.get(target_name)
    if path is None:
        raise ValueError(f"no float32 reference function for target {target_name!r}; known: "
                         f"{', '.join(REFERENCE_FUNCTIONS)}")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


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
        return jnp.broadcast_to(run_jax(program, {"x": x, **values})["f"], x.shape)

    return jax.jit(f)


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
