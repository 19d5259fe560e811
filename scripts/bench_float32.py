"""AutoNumerics in float32: error in ULPs and XLA wall-clock of approximations of 2^x on [0, 1],
side by side with `jnp.exp2`, on JAX's default device (CPU here, the GPU on a GPU machine).

Programs: the minimax polynomials in Horner form (`--degrees`, the project's Remez
coefficients), the same in fma Horner form with coefficients refined on the float32 lattice
(`--refined-degrees`, `float32.refine_constants` on 65,536 + 10,000 check points), and any DSL
file given with `--program` (a zoo file, whose header records the
fitted constants, or a program with literals only). Each runs in float32 as one jitted XLA
function (`float32.jax_function`), and so does `jnp.exp2`.

* Error: on `--check-points` float32 inputs evenly spaced in float32 order over [0, 1] (default
  2^24, every 63rd float) plus 10,000 uniform random points, in units of the float32 ULP of the
  exact value's binade (`float32.ulp_errors`; exact from float64 `exp2`, whose own error is
  ~1e-16); `max_ulp` < 1 means faithfully rounded. `--exhaustive` checks every float32 in
  [0, 1] as well (`float32.exhaustive_max_ulp`) and judges faithfulness on those.
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
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from automl import zoo
from search_spaces.autonumerics import float32, polynomials
from search_spaces.autonumerics.space import AutoNumericsSpace, exported_constants


def jax_function(space: AutoNumericsSpace, text: str, source: str,
                 constants: dict[str, float] | None = None):
    """f(x) of a DSL program, jitted; constants from `constants` (a zoo header's)."""
    try:
        return float32.jax_function(space.parse(text, source), constants)
    except ValueError as error:
        raise SystemExit(f"{source}: {error} (a zoo file's header or automl export gives "
                         f"them)") from None


def program_file(space: AutoNumericsSpace, path: Path):
    """A zoo file (its header's fitted constants: the float32 ones of a float32-mode entry) or
    a plain DSL file with literals only."""
    constants = None
    if path.read_text().startswith("#"):
        constants = exported_constants(zoo.read_entry(path).metrics)
    return jax_function(space, path.read_text(), str(path), constants)


def refined_minimax(space: AutoNumericsSpace, degree: int):
    """The degree-`degree` minimax polynomial with fma Horner steps, its coefficients refined
    on the float32 lattice (`float32.refine_constants`) on the space's check points."""
    coefficients, _ = polynomials.minimax_polynomial("exp2", degree)
    program = space.parse(polynomials.horner_dsl_with_constants(degree, fma=True),
                          f"minimax_fma_{degree}")
    x, exact = space.float32_checks
    constants, _ = float32.refine_constants(
        program, {f"c{i}": c for i, c in enumerate(coefficients)}, x, exact)
    return float32.jax_function(program, constants)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--degrees", type=int, nargs="*", default=[5, 6, 7])
    parser.add_argument("--refined-degrees", type=int, nargs="*", default=[6],
                        help="minimax polynomials with fma Horner steps whose coefficients are "
                             "refined on the float32 lattice")
    parser.add_argument("--program", action="append", default=[], help="a DSL file (repeat)")
    parser.add_argument("--points", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--check-points", type=int, default=2**24)
    parser.add_argument("--exhaustive", action="store_true",
                        help="also check every float32 in [0, 1] (1,065,353,217 inputs, ~40 s a "
                             "function on one core); faithfulness is then judged on them")
    arguments = parser.parse_args()

    space = AutoNumericsSpace({"target": "exp2", "ops": ["add", "sub", "mul", "div", "fma"]})
    functions = {"jnp.exp2": jnp.exp2}
    for degree in arguments.degrees:
        coefficients, _ = polynomials.minimax_polynomial("exp2", degree)
        functions[f"minimax_{degree}"] = jax_function(
            space, polynomials.horner_dsl(coefficients), f"minimax_{degree}")
    for degree in arguments.refined_degrees:
        functions[f"minimax_fma_{degree}_refined"] = refined_minimax(space, degree)
    for path in arguments.program:
        functions[path] = program_file(space, Path(path))
    device = jax.devices()[0]
    context = {"device": device.platform, "device_kind": device.device_kind,
               "cpus": os.cpu_count(), "machine": platform.machine(), "jax": jax.__version__}
    compiled = {name: jax.jit(function) for name, function in functions.items()}

    x_check = float32.check_points(space.target, arguments.check_points)
    max_ulp = {}
    for name, function in compiled.items():
        values = np.asarray(function(jnp.asarray(x_check)))
        assert values.dtype == np.float32, (name, values.dtype)
        errors = float32.ulp_errors(values, np.exp2(x_check.astype(np.float64)))
        max_ulp[name] = float(errors.max())
        print(json.dumps({"metric": "autonumerics_float32_max_ulp", "function": name,
                          "value": round(max_ulp[name], 4), "unit": "ulp",
                          "mean_ulp": round(float(errors.mean()), 4),
                          "worst_x": float(x_check[int(errors.argmax())]),
                          "points": len(x_check), **context}), flush=True)

    if arguments.exhaustive:
        for name, (worst, at) in float32.exhaustive_max_ulp(compiled, space.target).items():
            max_ulp[name] = worst
            print(json.dumps({"metric": "autonumerics_float32_max_ulp_exhaustive",
                              "function": name, "value": round(worst, 4), "unit": "ulp",
                              "worst_x": at, "inputs": "every float32 in [0, 1]", **context}),
                  flush=True)

    rng = np.random.default_rng(1)
    for size in arguments.points:
        x = jax.device_put(rng.uniform(0.0, 1.0, size).astype(np.float32))
        seconds = float32.side_by_side_seconds(compiled, x, arguments.repeats)
        medians = float32.median_seconds(seconds)
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
