"""Can the optimizer benchmark tell optimizers apart? (issue 27)

Trains the reference optimizers, written as programs of the optimizers space's DSL (AdamW,
Lion, SGD with momentum 0.9, signSGD; the DSL AdamW and Lion are optax's, see
tests/test_optimizers_space.py), on held-out tasks, each tuned over the same grid of
learning rates x decoupled weight decays (`lr * wd * w` added to the update, as optax.adamw
does) under one schedule, from several init seeds (a seed fixes the initial parameters and
the minibatches). Per task and reference it reports the geometric mean over seeds of the
ratio of the reference's best validation loss to tuned AdamW's from the same seed, with a
95% bootstrap interval (seeds resampled with replacement). AdamW's row is 1 by construction
(a check of the pairing). The four programs train in one compiled batch per task, compiled
once for all seeds.

    .venv/bin/python scripts/meta_validate.py                       # the defaults below
    .venv/bin/python scripts/meta_validate.py --tasks mlp_mnist1d --seeds 0 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automl.batching import resolve_program_batching  # noqa: E402
from search_spaces.optimizers import interpreter  # noqa: E402
from search_spaces.optimizers.space import (  # noqa: E402
    SGD_MOMENTUM,
    SIGN_SGD,
    OptimizersSpace,
    adamw_dsl,
    lowest_finite,
)
from search_spaces.optimizers.tasks import DEFAULT_TIERS, get_task  # noqa: E402

# Lion without its own weight decay (the grid's decoupled decay is added to every program)
LION_NO_DECAY = """# Lion (optax.lion: b1 0.9, b2 0.99), its decay from the grid
update = interp(g, m, 0.9)
update = sign(update)
m = interp(g, m, 0.99)
update = update * lr
"""
REFERENCES = {"adamw": adamw_dsl(0.0), "lion": LION_NO_DECAY, "sgd_momentum": SGD_MOMENTUM,
              "sign_sgd": SIGN_SGD}
RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
DECAYS = (0.0, 0.1)


def bootstrap_interval(log_ratios: np.ndarray, rng: np.random.Generator, resamples: int
                       ) -> tuple[float, float]:
    """95% percentile interval of the geometric mean, seeds resampled with replacement."""
    if not np.all(np.isfinite(log_ratios)):
        return math.inf, math.inf
    draws = rng.integers(0, len(log_ratios), size=(resamples, len(log_ratios)))
    means = log_ratios[draws].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(np.exp(low)), float(np.exp(high))


def evaluate_task(task_name: str, seeds: list[int], rates, decays, schedule: str,
                  gradient_clip: float | None) -> dict:
    space = OptimizersSpace({})
    programs = [space.parse(text, name) for name, text in REFERENCES.items()]
    settings = space.settings
    task = get_task(task_name)
    start = time.perf_counter()
    run = interpreter.make_trainer(
        task, len(programs), settings.max_statements, settings.max_constants, rates,
        batching=resolve_program_batching("auto"), weight_decays=decays,
        lr_schedule=schedule, gradient_clip=gradient_clip)
    encoded = interpreter.encode(programs, settings.max_statements, settings.max_constants)
    grid = interpreter.hyperparameter_grid(rates, decays)
    best: dict[str, list[float]] = {name: [] for name in REFERENCES}
    chosen: dict[str, list[tuple[float, float]]] = {name: [] for name in REFERENCES}
    seconds = []
    for seed in seeds:
        began = time.perf_counter()
        losses, _ = run(encoded, seed)
        seconds.append(time.perf_counter() - began)
        for row, name in enumerate(REFERENCES):
            loss, index = lowest_finite(losses[row])
            best[name].append(loss)
            chosen[name].append(grid[index] if index is not None else (math.nan, math.nan))
    return {"task": task_name, "steps": task.steps, "batch_size": task.batch_size,
            "parameters": task.parameter_count, "best_loss": best, "best_grid_point": chosen,
            "seconds_first_seed_with_compile": round(seconds[0], 2),
            "seconds_per_seed_after": [round(s, 2) for s in seconds[1:]],
            "seconds_total": round(time.perf_counter() - start, 1)}


def summarize(result: dict, rng: np.random.Generator, resamples: int) -> dict[str, dict]:
    adamw = np.asarray(result["best_loss"]["adamw"])
    rows = {}
    for name, losses in result["best_loss"].items():
        log_ratios = np.log(np.asarray(losses)) - np.log(adamw)
        mean = float(np.exp(log_ratios.mean())) if np.all(np.isfinite(log_ratios)) else math.inf
        low, high = bootstrap_interval(log_ratios, rng, resamples)
        rows[name] = {"geometric_mean_ratio": mean, "ci95": [low, high],
                      "per_seed_ratio": [float(np.exp(x)) for x in log_ratios]}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TIERS["meta_validation"]))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    parser.add_argument("--rates", nargs="+", type=float, default=list(RATES))
    parser.add_argument("--decays", nargs="+", type=float, default=list(DECAYS))
    parser.add_argument("--schedule", default="warmup_cosine",
                        choices=interpreter.LR_SCHEDULES)
    parser.add_argument("--gradient-clip", type=float, default=None)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=None, help="write every number here")
    options = parser.parse_args()
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    report = {"settings": {k: (str(v) if isinstance(v, Path) else v)
                           for k, v in vars(options).items()}, "tasks": []}
    print(f"| task | {' | '.join(REFERENCES)} |")
    print(f"|---|{'---|' * len(REFERENCES)}")
    for task_name in options.tasks:
        result = evaluate_task(task_name, options.seeds, tuple(options.rates),
                               tuple(options.decays), options.schedule, options.gradient_clip)
        result["ratios"] = summarize(result, rng, options.resamples)
        report["tasks"].append(result)
        cells = [f"{row['geometric_mean_ratio']:.3f} [{row['ci95'][0]:.3f}, "
                 f"{row['ci95'][1]:.3f}]" for row in result["ratios"].values()]
        print(f"| {task_name} | {' | '.join(cells)} |", flush=True)
        if options.json:  # after every task: a long run keeps what it finished
            options.json.write_text(json.dumps(report, indent=1))
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(f"geometric mean over seeds {options.seeds} of the best validation loss over "
          f"{len(options.rates)} rates x {len(options.decays)} decays ({options.schedule}) "
          f"relative to tuned AdamW's, [95% bootstrap interval]; {report['seconds']} s")
    if options.json:
        options.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
