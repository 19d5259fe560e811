"""Benchmark constant fitting for AutoNumerics: lsq_minimax vs CMA-ES on 2^x over [0, 1].

Prints one JSON line per figure (median wall time per fit, median/best final max relative
error on the training grid, median model evaluations), for Horner polynomials of degree 2..7
(compared with the project's own Remez minimax error) and for the rational form
(c0 + c1 x + c2 x^2) / (c3 + x). Every fit starts from `initial_constants` (log-uniform
magnitudes 1e-4..1e4, random sign), as evolution would; both methods get the same starts.

    .venv/bin/python scripts/bench_fitting.py [--repeats 5] [--max-evaluations 2000]
        [--cma-budgets 2000,20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np

from search_spaces.autonumerics.fitting import fit_constants, initial_constants
from search_spaces.autonumerics.polynomials import minimax_polynomial
from search_spaces.autonumerics.targets import get_target, ground_truth, training_grid

Model = Callable[[np.ndarray, np.ndarray], np.ndarray]


def horner_model(params: np.ndarray, x: np.ndarray) -> np.ndarray:
    accumulator = np.full_like(x, params[-1])
    for c in params[-2::-1]:
        accumulator = c + x * accumulator
    return accumulator


def rational_model(params: np.ndarray, x: np.ndarray) -> np.ndarray:
    c0, c1, c2, c3 = params
    return (c0 + x * (c1 + x * c2)) / (c3 + x)


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def bench(name: str, model: Model, k: int, extra: dict[str, object], args: argparse.Namespace,
          x: np.ndarray, truth: np.ndarray) -> None:
    runs = [("lsq_minimax", args.max_evaluations)]
    runs += [("cma", int(budget)) for budget in args.cma_budgets.split(",")]
    for method, budget in runs:
        seconds, errors, evaluations = [], [], []
        for repeat in range(args.repeats):
            rng = np.random.default_rng(1000 + repeat)
            initial = initial_constants(k, rng)
            started = time.perf_counter()
            fit = fit_constants(model, x, truth, initial, method=method,
                                max_evaluations=budget, rng=rng)
            seconds.append(time.perf_counter() - started)
            errors.append(fit.max_relative_error)
            evaluations.append(fit.evaluations)
        common = {"method": method, "form": name, **extra, "repeats": args.repeats,
                  "max_evaluations": budget}
        emit(metric="fit_seconds_median", value=statistics.median(seconds), unit="s", **common)
        emit(metric="max_relative_error_median", value=statistics.median(errors), unit="1",
             **common)
        emit(metric="max_relative_error_best", value=min(errors), unit="1", **common)
        emit(metric="evaluations_median", value=statistics.median(evaluations), unit="calls",
             **common)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-evaluations", type=int, default=2000)
    parser.add_argument("--cma-budgets", default="2000,20000",
                        help="comma-separated max_evaluations for CMA-ES runs")
    parser.add_argument("--grid-points", type=int, default=1024)
    args = parser.parse_args()
    target = get_target("exp2")
    x = training_grid(target, args.grid_points)
    truth = ground_truth(target, x)
    for degree in range(2, 8):
        _, remez_error = minimax_polynomial(target, degree)
        emit(metric="remez_max_relative_error", value=remez_error, unit="1", method="remez",
             form="horner", degree=degree)
        bench("horner", horner_model, degree + 1, {"degree": degree, "cost": 2 * degree},
              args, x, truth)
    bench("(c0+c1x+c2x^2)/(c3+x)", rational_model, 4, {"cost": 6}, args, x, truth)


if __name__ == "__main__":
    main()
