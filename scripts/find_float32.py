"""Float32 programs for the paper's targets from classical forms: a polynomial in fma Horner
form inside a form that keeps the target's rounding errors small, its coefficients fitted in
float64 and then refined on the float32 lattice by the space's own float32 evaluation; written
as a zoo file that `automl reproduce` re-evaluates.

For each target (on the space's built-in interval) a form (q is a polynomial in fma Horner
form, its coefficients c0 (highest power) ... fitted):

* exp on [-ln2/2, ln2/2]: ``f = fma(x, q(x), 1.0)`` (e^x = 1 + x q(x)).
* log on [0.5, 1]: t = x - 1.0 (exact), ``f = fma(t, t * q(t), t)`` (t + t^2 q(t): the zero at
  x = 1 is exact and q's rounding reaches the result scaled by |t| / 2 at most).
* log2 on [1, 2]: t = x - 1.0, s = x - 1.5 (both exact), ``f = fma(t, q(s), t)``: q =
  log2(x) / t - 1 falls from 0.44 to 0 over the interval, and in t's powers its Horner terms of
  ~0.44 cancel to nearly 0 at x = 2 (1.29 ULP over every input at degree 9); centred at 1.5
  they are half as large (0.856 at degree 10).
* erf on [0, 1]: u = x * x, ``f = fma(x, q(u), x)`` (erf x = x + x q(x^2)), q's last Horner
  step split Estrin-wise, ``q = fma(u * u, g(u), fma(u, c5, c6))``: in plain Horner form the
  operand of its last step (~-0.29 near x = 1, where q's terms cancel to -0.16) is rounded,
  0.991 ULP over every normal input; split, 0.886 (one op more). Subnormal inputs are left out
  of the check points (`float32_subnormal_inputs: false`): XLA on a CPU flushes them to zero,
  so no XLA function is within 1 ULP of erf there.

Forms tried first and dropped (degree 9 for log2, 6 for erf; max ULP over every float32 in
[1, 2] and on 2^24 + 2^20 points of [0, 1]): log2 as ``fma(t, C, t * q(t))``, C = 1/ln 2
rounded to float32 as a literal, 1.62 ULP (the product t * q is rounded before the add, and
the lost low part of 1/ln 2 is left to q); log2 as ``fma(t, q(t), t)`` in powers of t, 1.29;
erf as ``fma(x, C, x * q(u))``, C = 2/sqrt(pi) likewise, 1.37 over the normal inputs (not
refined: the space's check points then held subnormal inputs).

The start of the fit is the weighted least-squares fit of q for the least relative error of f
on 3,000 Chebyshev points (mpmath truth); the space's fit (`fit_method` lsq_minimax) moves it
to the minimax, its float32 mode rounds the constants and refines them on the float32 lattice
(`float32.refine_constants`) on its check points, and times the program beside the library
function. Prints the objectives and writes
``search_spaces/autonumerics/discovered/<target>_float32_fma_horner.dsl``.

    python scripts/find_float32.py --target log [--degree 9] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from automl import zoo
from automl.ir import cost
from search_spaces.autonumerics import targets
from search_spaces.autonumerics.ops import TABLE
from search_spaces.autonumerics.space import AutoNumericsSpace

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "search_spaces" / "autonumerics" / "discovered"


@dataclass(frozen=True)
class Form:
    """f = a(x) + b(x) * q(s(x)): the lines before q, the last line, and a, b, s for the
    least-squares start."""

    before: tuple[str, ...]
    variable: str  # what q is a polynomial in
    last: str
    a: Callable[[np.ndarray], np.ndarray]
    b: Callable[[np.ndarray], np.ndarray]
    s: Callable[[np.ndarray], np.ndarray]
    degree: int  # q's default degree
    settings: tuple[tuple[str, object], ...] = ()
    # q = fma(s^2, g(s), fma(s, c{d-1}, c{d})), g the rest in Horner form: the last Horner
    # step's operand, large where q's terms cancel, is rounded no more (one op more)
    split: bool = False


FORMS = {
    "exp": Form((), "x", "f = fma(x, q, 1.0)", np.ones_like, lambda x: x, lambda x: x, 5),
    "log": Form(("t = x - 1.0",), "t", "v = t * q\nf = fma(t, v, t)", lambda x: x - 1,
                lambda x: (x - 1) ** 2, lambda x: x - 1, 9),
    "log2": Form(("t = x - 1.0", "s = x - 1.5"), "s", "f = fma(t, q, t)", lambda x: x - 1,
                 lambda x: x - 1, lambda x: x - 1.5, 10),
    # XLA on a CPU flushes subnormal inputs to zero, where erf's value is subnormal too: no
    # XLA function is within 1 ULP there (`float32.check_points`), so they are not checked
    "erf": Form(("u = x * x",), "u", "f = fma(x, q, x)", lambda x: x, lambda x: x,
                lambda x: x * x, 6, (("float32_subnormal_inputs", False),), split=True),
}

# the float32 search's settings (as configs/autonumerics_exp2_float32.yaml's, with fewer
# refinement rounds' worth of ULPs to start from: a fitted classical form starts within 4)
SETTINGS = {"precision": "float32", "ops": ["add", "sub", "mul", "fma"],
            "float32_check_points": 65_536, "float32_check_uniform": 2**20,
            "float32_refine_rounds": 50, "float32_refine_below_ulp": 4.0,
            "timing_points": 100_000, "timing_repeats": 11}


def program_text(form: Form, degree: int) -> str:
    """The form with q of `degree` in fma Horner form over c0 (highest power) ... c{degree}."""
    lines = list(form.before)
    inner, top = "c0", degree - 2 if form.split else degree
    for i in range(1, top + 1):
        name = "q" if i == degree else f"h{i}"
        lines.append(f"{name} = fma({form.variable}, {inner}, c{i})")
        inner = name
    if form.split:
        s = form.variable
        lines += [f"a = fma({s}, c{degree - 1}, c{degree})", f"{s}2 = {s} * {s}",
                  f"q = fma({s}2, {inner}, a)"]
    return "\n".join([*lines, form.last]) + "\n"


def least_squares_start(target: targets.Target, form: Form, degree: int,
                        points: int = 3000) -> dict[str, float]:
    """q's coefficients for the least sum of squared relative errors of f on Chebyshev
    points (mpmath truth; the target's zero, where the relative error is undefined, left
    out)."""
    middle, half = (target.lower + target.upper) / 2, (target.upper - target.lower) / 2
    x = middle - half * np.cos(np.pi * (np.arange(points) + 0.5) / points)
    exact = targets.ground_truth(target, x)
    keep = exact != 0
    x, exact = x[keep], exact[keep]
    s = form.s(x)
    rows = np.stack([form.b(x) * s**power / exact for power in range(degree + 1)], axis=1)
    coefficients, *_ = np.linalg.lstsq(rows, (exact - form.a(x)) / exact, rcond=None)
    return {f"c{degree - power}": float(c) for power, c in enumerate(coefficients)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, choices=sorted(FORMS))
    parser.add_argument("--degree", type=int, help="q's degree (default: the form's)")
    parser.add_argument("--output", type=Path, help="the zoo file to write (default: "
                        "search_spaces/autonumerics/discovered/<target>_float32_fma_horner.dsl)")
    arguments = parser.parse_args()

    form = FORMS[arguments.target]
    degree = arguments.degree or form.degree
    space = AutoNumericsSpace({"target": arguments.target, **SETTINGS, **dict(form.settings)})
    text = program_text(form, degree)
    program = space.parse(text, f"{arguments.target}_fma_horner_{degree}")
    start = least_squares_start(space.target, form, degree)
    began = time.perf_counter()
    objectives, metrics = space.evaluate_one(program.replace(parameter_values=start))
    seconds = time.perf_counter() - began
    print(json.dumps({"target": arguments.target, "degree": degree, **objectives,
                      "max_relative_error": metrics["max_relative_error"],
                      "time_us": metrics["time_us"],
                      "reference_time_us": metrics["reference_time_us"],
                      "reference_max_ulp_error": metrics["reference_max_ulp_error"],
                      "seconds": round(seconds, 1)}))

    output = arguments.output or ZOO / f"{arguments.target}_float32_fma_horner.dsl"
    try:
        shown = output.resolve().relative_to(ROOT)
    except ValueError:
        shown = output
    command = f"python scripts/find_float32.py --target {arguments.target}"
    if arguments.degree:
        command += f" --degree {degree}"
    checks = space.settings.float32_check_points + space.settings.float32_check_uniform
    ops = cost(program, ("x",), TABLE)
    split = ", its last step split" if form.split else ""
    found_by = (f"{command}: q of degree {degree} in fma Horner form{split} ({ops:.0f} ops in "
                f"all), fitted from its least-squares start and refined on the float32 lattice "
                f"on the space's {checks:,} check points, {seconds:.0f} s on one core; "
                f"max {objectives['max_ulp_error']:.3f} ULP on them ("
                f"{metrics['reference']} {metrics['reference_max_ulp_error']:.3f}). Over every "
                f"float32 input of the interval: scripts/bench_float32.py --zoo --target "
                f"{arguments.target} --exhaustive")
    output.write_text(zoo.entry_text(
        "autonumerics", space.settings.model_dump(mode="json"), objectives, text,
        metrics["constants"], found_by, str(shown), fit_start=metrics.get("fit_start"),
        float32_constants=metrics["float32_constants"]))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
