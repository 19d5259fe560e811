"""AutoNumerics in float32: error in ULPs and XLA wall-clock of approximations of the paper's
five targets (2^x on [0, 1], e^x on [-ln2/2, ln2/2], ln x on [0.5, 1], log2 x on [1, 2], erf on
[0, 1]: the space's built-in intervals), side by side with XLA's own function (`jnp.exp2`,
`jnp.exp`, `jnp.log`, `jnp.log2`, `jax.scipy.special.erf`), on JAX's default device (CPU
here, the GPU on a GPU machine). `--target all` runs the five one after another.

Programs: for 2^x the minimax polynomials in Horner form (`--degrees`, the project's Remez
coefficients) and the same in fma Horner form with coefficients refined on the float32 lattice
(`--refined-degrees`, `float32.refine_constants` on 65,536 + 10,000 check points); for every
target, any DSL file given with `--program` (a zoo file, whose header records the fitted
constants, or a program with literals only) and, with `--zoo`, every float32-mode zoo file of
the target. Each runs in float32 as one jitted XLA function (`float32.jax_function`), and so
does the library function.

* Error: on `--check-points` float32 inputs evenly spaced in float32 order over the interval
  (default 2^24) plus 10,000 uniform random points, in units of the float32 ULP of the exact
  value's binade (`float32.ulp_errors`; exact from the float64 numpy/scipy function, whose own
  error is ~1e-16); `max_ulp` < 1 means faithfully rounded. `--exhaustive` checks every float32
  in the interval as well (`float32.exhaustive_max_ulp`) and judges faithfulness on those.
  Subnormal inputs: XLA on a CPU flushes them to zero, so where the exact value there is
  subnormal too (erf near 0) no XLA function is within 1 ULP there (~9.5e6 ULPs, in units of
  2^-149); for such a target the figures are over the other inputs, and the subnormal inputs'
  own figure is a line of its own (`autonumerics_float32_max_ulp_subnormal_inputs`).
* Time: the median of `--repeats` calls on `--points` uniform random points of the interval
  (10,000 and 1,000,000 by default), each call blocked until done, with the 10th and 90th
  percentiles. The functions take turns within each repeat, so drifting load hits all of them
  alike; `loadavg` is `os.getloadavg()` before the timing.

Prints one JSON line per function and size, then per target and size
`autonumerics_float32_speedup`: the fastest program with max_ulp < 1 against the library
function (its time / the program's).

    python scripts/bench_float32.py [--target exp2|exp|log|log2|erf|all] [--zoo]
        [--degrees 5 6 7] [--program FILE] [--repeats 300] [--exhaustive]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
from pathlib import Path
from typing import NoReturn

import jax
import numpy as np

from automl import zoo
from search_spaces.autonumerics import float32, polynomials, targets
from search_spaces.autonumerics.space import AutoNumericsSpace, exported_constants

TARGETS = targets.PAPER_TARGETS  # exp2, exp, log, log2, erf
LIBRARY = {"exp2": "jnp.exp2", "exp": "jnp.exp", "log": "jnp.log", "log2": "jnp.log2",
           "erf": "jax.scipy.special.erf"}


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
        entry = zoo.read_entry(path)
        target = entry.settings.get("target", space.target.name)
        if target != space.target.name:
            raise SystemExit(f"{path}: a program for {target!r}, not {space.target.name!r}")
        constants = exported_constants(entry.metrics)
    return jax_function(space, path.read_text(), str(path), constants)


def zoo_files(target: str) -> list[Path]:
    """The float32-mode zoo files of `target`."""
    return [entry.path.resolve() for entry in zoo.entries() if entry.space == "autonumerics"
            and entry.settings.get("precision") == "float32"
            and entry.settings.get("target") == target]


def shown(path: Path) -> str:
    """A program's name in the output: its path from the checkout's root where it is in it."""
    root = Path(__file__).resolve().parents[1]
    absolute = path.resolve()
    return str(absolute.relative_to(root) if absolute.is_relative_to(root) else path)


def refined_minimax(space: AutoNumericsSpace, degree: int):
    """The degree-`degree` minimax polynomial with fma Horner steps, its coefficients refined
    on the float32 lattice (`float32.refine_constants`) on the space's check points."""
    coefficients, _ = polynomials.minimax_polynomial(space.target.name, degree)
    program = space.parse(polynomials.horner_dsl_with_constants(degree, fma=True),
                          f"minimax_fma_{degree}")
    x, exact = space.float32_checks
    constants, _ = float32.refine_constants(
        program, {f"c{i}": c for i, c in enumerate(coefficients)}, x, exact)
    return float32.jax_function(program, constants)


def flushes_values(target: targets.Target) -> bool:
    """Whether the interval holds subnormal inputs whose exact values are subnormal as well
    (nonzero): XLA on a CPU reads those inputs as 0, so no XLA function is faithful there."""
    exact = float32._imported(float32.FLOAT64_FUNCTIONS[target.name])
    ends = np.array([2.0**-149, float32.SMALLEST_NORMAL - 2.0**-149])
    x = np.concatenate([ends, -ends])
    x = x[(x >= target.lower) & (x <= target.upper)]
    with np.errstate(all="ignore"):
        values = np.abs(exact(x))
    return bool(np.any((values > 0) & (values < float32.SMALLEST_NORMAL)))


def subnormal_interval(target: targets.Target) -> targets.Target | None:
    """The part of the interval in [0, 2^-126) (the targets with such values start at 0)."""
    lower, upper = max(target.lower, 0.0), min(target.upper, float32.SMALLEST_NORMAL - 2**-149)
    if not lower < upper:
        return None
    return dataclasses.replace(target, lower=lower, upper=upper)


def fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_interval(target: targets.Target) -> None:
    """The float64 function finite at the check points and at 0 when the interval holds it,
    else one line naming the setting and exit 2 (a pole, or outside the function's domain)."""
    exact = float32._imported(float32.FLOAT64_FUNCTIONS[target.name])
    x = float32.check_points(target, 4096, random=0).astype(np.float64)
    if target.lower <= 0.0 <= target.upper:
        x = np.append(x, 0.0)
    with np.errstate(all="ignore"):
        bad = x[~np.isfinite(exact(x))]
    if bad.size:
        fail(f"--interval [{target.lower:g}, {target.upper:g}]: {target.name} is not finite "
             f"at x = {float(bad[0]):g} (a pole or outside its domain): give an interval where "
             f"it is finite")


def bench_target(name: str, arguments: argparse.Namespace, context: dict) -> None:
    settings: dict = {"target": name, "ops": ["add", "sub", "mul", "div", "fma"]}
    space = AutoNumericsSpace(settings)
    target = space.target
    if arguments.interval:
        lower, upper = arguments.interval
        try:
            target = dataclasses.replace(target, lower=lower, upper=upper)
        except ValueError as error:
            fail(f"--interval: {error}")
        check_interval(target)
    flushed = flushes_values(target)
    functions = {LIBRARY[name]: float32.reference_function(name)}
    if name == "exp2":  # the project's Remez polynomials: targets without a zero only
        for degree in arguments.degrees:
            coefficients, _ = polynomials.minimax_polynomial("exp2", degree)
            functions[f"minimax_{degree}"] = jax_function(
                space, polynomials.horner_dsl(coefficients), f"minimax_{degree}")
        for degree in arguments.refined_degrees:
            functions[f"minimax_fma_{degree}_refined"] = refined_minimax(space, degree)
    paths = [Path(p) for p in arguments.program] if arguments.target != "all" else []
    for path in [*paths, *(zoo_files(name) if arguments.zoo else [])]:
        functions[shown(path)] = program_file(space, path)
    compiled = {label: jax.jit(function) for label, function in functions.items()}
    library = LIBRARY[name]
    where = f"[{target.lower:.9g}, {target.upper:.9g}]"
    common = {"target": name, **context}

    x_check = float32.check_points(target, arguments.check_points,
                                   subnormal_inputs=not flushed)
    exact = float32._imported(float32.FLOAT64_FUNCTIONS[name])(x_check.astype(np.float64))
    max_ulp = {}
    for label, function in compiled.items():
        values = np.asarray(function(jax.numpy.asarray(x_check)))
        assert values.dtype == np.float32, (label, values.dtype)
        errors = float32.ulp_errors(values, exact)
        max_ulp[label] = float(errors.max())
        print(json.dumps({"metric": "autonumerics_float32_max_ulp", "function": label,
                          "value": round(max_ulp[label], 4), "unit": "ulp",
                          "mean_ulp": round(float(errors.mean()), 4),
                          "worst_x": float(x_check[int(errors.argmax())]),
                          "points": len(x_check), "subnormal_inputs": not flushed, **common}),
              flush=True)

    inputs = f"every float32 in {where}" + (" but the subnormal ones" if flushed else "")
    if arguments.exhaustive:
        for label, (worst, at) in float32.exhaustive_max_ulp(
                compiled, target, subnormal_inputs=not flushed).items():
            max_ulp[label] = worst
            print(json.dumps({"metric": "autonumerics_float32_max_ulp_exhaustive",
                              "function": label, "value": round(worst, 4), "unit": "ulp",
                              "worst_x": at, "inputs": inputs, **common}), flush=True)
    tiny = subnormal_interval(target) if flushed else None
    if tiny is not None:
        for label, (worst, at) in float32.exhaustive_max_ulp(compiled, tiny).items():
            print(json.dumps({"metric": "autonumerics_float32_max_ulp_subnormal_inputs",
                              "function": label, "value": round(worst, 1), "unit": "ulp",
                              "worst_x": at, "inputs": f"every float32 in [{tiny.lower:g}, "
                              "2^-126) (XLA on a CPU flushes them to zero)", **common}),
                  flush=True)

    rng = np.random.default_rng(1)
    for size in arguments.points:
        x = jax.device_put(rng.uniform(target.lower, target.upper, size).astype(np.float32))
        load = os.getloadavg()
        seconds = float32.side_by_side_seconds(compiled, x, arguments.repeats)
        medians = float32.median_seconds(seconds)
        spread = {label: (round(float(np.percentile(values, 10)) * 1e6, 2),
                          round(float(np.percentile(values, 90)) * 1e6, 2))
                  for label, values in seconds.items()}
        for label, median in medians.items():
            print(json.dumps({"metric": "autonumerics_float32_seconds", "function": label,
                              "points": size, "value": round(median * 1e6, 2), "unit": "us",
                              "p10_us": spread[label][0], "p90_us": spread[label][1],
                              "max_ulp": round(max_ulp[label], 4), "repeats": arguments.repeats,
                              "loadavg": [round(v, 2) for v in load], **common}), flush=True)
        faithful = [label for label in compiled if label != library and max_ulp[label] < 1.0]
        best = min(faithful, key=medians.__getitem__, default=None)
        print(json.dumps({
            "metric": "autonumerics_float32_speedup", "points": size,
            "value": round(medians[library] / medians[best], 3) if best else None, "unit": "x",
            "program": best, "library": library,
            "program_max_ulp": round(max_ulp[best], 4) if best else None,
            "library_max_ulp": round(max_ulp[library], 4),
            "ulp_over": inputs if arguments.exhaustive else f"{len(x_check):,} check points",
            "library_us": round(medians[library] * 1e6, 2),
            "library_p10_p90_us": spread[library],
            "program_us": round(medians[best] * 1e6, 2) if best else None,
            "program_p10_p90_us": spread[best] if best else None,
            "repeats": arguments.repeats, "loadavg": [round(v, 2) for v in load], **common}),
            flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="exp2", choices=[*TARGETS, "all"])
    parser.add_argument("--degrees", type=int, nargs="*", default=[5, 6, 7],
                        help="2^x only: minimax polynomials in Horner form")
    parser.add_argument("--refined-degrees", type=int, nargs="*", default=[6],
                        help="2^x only: minimax polynomials with fma Horner steps whose "
                             "coefficients are refined on the float32 lattice")
    parser.add_argument("--program", action="append", default=[],
                        help="a DSL file (repeat; not with --target all)")
    parser.add_argument("--zoo", action="store_true",
                        help="add every float32-mode zoo file of the target")
    parser.add_argument("--interval", type=float, nargs=2, metavar=("LOWER", "UPPER"),
                        help="another interval than the target's (checked for poles)")
    parser.add_argument("--points", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--check-points", type=int, default=2**24)
    parser.add_argument("--exhaustive", action="store_true",
                        help="also check every float32 in the interval (1,065,353,217 in [0, "
                             "1], ~40 s a function on one core); faithfulness is then judged "
                             "on them")
    arguments = parser.parse_args()
    if arguments.target == "all" and arguments.program:
        parser.error("--program names one target's programs: give --target, or --zoo")

    device = jax.devices()[0]
    context = {"device": device.platform, "device_kind": device.device_kind,
               "cpus": os.cpu_count(), "machine": platform.machine(), "jax": jax.__version__}
    for name in TARGETS if arguments.target == "all" else (arguments.target,):
        bench_target(name, arguments, context)


if __name__ == "__main__":
    main()
