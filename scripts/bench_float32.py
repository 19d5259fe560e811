"""AutoNumerics in float32: error in ULPs and XLA wall-clock of approximations of 2^x on [0, 1],
side by side with `jnp.exp2`, on JAX's default device (CPU here, the GPU on a GPU machine).

Programs: the minimax polynomials in Horner form (`--degrees`, the project's Remez
coefficients) and any DSL file given with `--program` (fitted constants inlined as literals,
as the zoo stores them). Each runs in float32 as one jitted XLA function (`automl.ir.run_jax`),
and so does `jnp.exp2`.

* Error: on every float32 in [0, 1] at a stride (`--stride`, default 64: about 16.6 million
  points) plus 10,000 uniform random points, in units of the float32 ULP of the exact value's
  binade (2^floor(log2 2^x) * 2^-23; exact from float64 `exp2`, whose own error is ~1e-16);
  `max_ulp` < 1 means faithfully rounded.
* Time: the median of `--repeats` calls on `--points` uniform random points (10,000 as in the
  issue, and 1,000,000 where the per-call overhead matters less), each call blocked until
  done. The functions take turns within each repeat, so drifting load hits all of them alike.

Prints one JSON line per function and size, then `autonumerics_float32_speedup_vs_exp2`: the
fastest program with max_ulp < 1 against `jnp.exp2` (time of exp2 / time of the program).

    python scripts/bench_float32.py [--degrees 5 6 7] [--program FILE] [--repeats 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from automl.ir import run_jax
from search_spaces.autonumerics import polynomials
from search_spaces.autonumerics.space import AutoNumericsSpace


def jax_function(space: AutoNumericsSpace, text: str, source: str):
    """f(x) of a DSL program without free constants (literals only), for jax arrays."""
    program = space.parse(text, source)
    if program.parameters:
        raise SystemExit(f"{source}: constants {', '.join(program.parameters)} are not "
                         f"inlined: export the fitted program (automl export) first")
    return lambda x: jnp.broadcast_to(run_jax(program, {"x": x})["f"], x.shape)


def check_points(stride: int) -> np.ndarray:
    """Every `stride`-th float32 in [0, 1] (by bit pattern), 1.0, and 10,000 random ones."""
    bits = np.arange(0, np.float32(1.0).view(np.uint32), stride, dtype=np.uint32)
    grid = bits.view(np.float32)
    rng = np.random.default_rng(0)
    random = rng.uniform(0.0, 1.0, 10_000).astype(np.float32)
    return np.concatenate([grid, random, np.array([1.0], np.float32)])


def ulp_errors(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    exact = np.exp2(x.astype(np.float64))
    ulp = np.exp2(np.floor(np.log2(exact)) - 23)
    return np.abs(values.astype(np.float64) - exact) / ulp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--degrees", type=int, nargs="*", default=[5, 6, 7])
    parser.add_argument("--program", action="append", default=[], help="a DSL file (repeat)")
    parser.add_argument("--points", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--stride", type=int, default=64)
    arguments = parser.parse_args()

    space = AutoNumericsSpace({"target": "exp2"})
    functions = {"jnp.exp2": jnp.exp2}
    for degree in arguments.degrees:
        coefficients, _ = polynomials.minimax_polynomial("exp2", degree)
        functions[f"minimax_{degree}"] = jax_function(
            space, polynomials.horner_dsl(coefficients), f"minimax_{degree}")
    for path in arguments.program:
        functions[path] = jax_function(space, Path(path).read_text(), path)
    device = jax.devices()[0]
    context = {"device": device.platform, "device_kind": device.device_kind,
               "cpus": os.cpu_count(), "machine": platform.machine(), "jax": jax.__version__}
    compiled = {name: jax.jit(function) for name, function in functions.items()}

    x_check = check_points(arguments.stride)
    max_ulp = {}
    for name, function in compiled.items():
        values = np.asarray(function(jnp.asarray(x_check)))
        assert values.dtype == np.float32, (name, values.dtype)
        errors = ulp_errors(values, x_check)
        max_ulp[name] = float(errors.max())
        print(json.dumps({"metric": "autonumerics_float32_max_ulp", "function": name,
                          "value": round(max_ulp[name], 4), "unit": "ulp",
                          "mean_ulp": round(float(errors.mean()), 4),
                          "worst_x": float(x_check[int(errors.argmax())]),
                          "points": len(x_check), **context}), flush=True)

    rng = np.random.default_rng(1)
    for size in arguments.points:
        x = jax.device_put(rng.uniform(0.0, 1.0, size).astype(np.float32))
        for function in compiled.values():
            function(x).block_until_ready()  # compile and warm up
        seconds: dict[str, list[float]] = {name: [] for name in compiled}
        for _ in range(arguments.repeats):
            for name, function in compiled.items():
                start = time.perf_counter()
                function(x).block_until_ready()
                seconds[name].append(time.perf_counter() - start)
        medians = {name: statistics.median(values) for name, values in seconds.items()}
        for name, median in medians.items():
            print(json.dumps({"metric": "autonumerics_float32_seconds", "function": name,
                              "points": size, "value": round(median * 1e6, 2), "unit": "us",
                              "p10_us": round(float(np.percentile(seconds[name], 10)) * 1e6, 2),
                              "p90_us": round(float(np.percentile(seconds[name], 90)) * 1e6, 2),
                              "max_ulp": round(max_ulp[name], 4), "repeats": arguments.repeats,
                              **context}), flush=True)
        faithful = [name for name in compiled if name != "jnp.exp2" and max_ulp[name] < 1.0]
        best = min(faithful, key=medians.__getitem__, default=None)
        print(json.dumps({"metric": "autonumerics_float32_speedup_vs_exp2", "points": size,
                          "value": (round(medians["jnp.exp2"] / medians[best], 3)
                                    if best else None), "unit": "x", "program": best,
                          "program_max_ulp": round(max_ulp[best], 4) if best else None,
                          "exp2_max_ulp": round(max_ulp["jnp.exp2"], 4),
                          "exp2_us": round(medians["jnp.exp2"] * 1e6, 2),
                          "program_us": round(medians[best] * 1e6, 2) if best else None,
                          **context}), flush=True)


if __name__ == "__main__":
    main()
