"""Can the optimizer benchmark tell optimizers apart? (issue 27)

Trains the reference optimizers, written as programs of the optimizers space's DSL (AdamW,
Lion, SGD with momentum 0.9, signSGD; the DSL AdamW and Lion are optax's, see
tests/test_optimizers_space.py), on held-out tasks, each tuned over the same grid of
learning rates x decoupled weight decays (`lr * wd * w` added to the update, as optax.adamw
does) under one schedule, from several init seeds (a seed fixes the initial parameters and
the minibatches). Per task and reference it reports the geometric mean over seeds of the
ratio of the reference's best validation loss to tuned AdamW's from the same seed, with a
95% bootstrap interval (seeds resampled with replacement). AdamW's row is 1 by construction
(a check of the pairing). The programs train in one compiled batch per task, compiled once
for all seeds.

`--adamw-b1s 0.65 0.8 0.9` tunes the AdamW reference over its first-moment rate too (per seed
its best variant counts), the way a search with `reference_b1s` does.

`--program NAME=FILE` adds a program of the DSL (a discovered one, e.g. a zoo file) beside the
references; `--references adamw` keeps only those named (AdamW always stays: every ratio is
taken against it). Beside the bootstrap interval each row has a Student-t interval of the
mean log ratio (`ci95_t`): with four seeds the percentile bootstrap has at most 35 distinct
resamples and covers less than 95%, so a claim should hold under both. A last row,
`optimizer_heldout_geomean_ratio`, is each program's geometric mean over all the tasks and
seeds, with both intervals taken over seeds (a seed's log ratio averaged over the tasks; the
bootstrap resamples seeds within each task). JSON has null where a ratio is infinite (a
program diverged at every grid point on some seed).

    .venv/bin/python scripts/meta_validate.py                       # the defaults below
    .venv/bin/python scripts/meta_validate.py --tasks mlp_mnist1d --seeds 0 1 --json out.json
    .venv/bin/python scripts/meta_validate.py --jobs 2 --adamw-b1s 0.65 0.8 0.9 \
        --program found=search_spaces/optimizers/discovered/FILE.dsl --json heldout.json
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy import stats

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


def t_interval(log_ratios: np.ndarray) -> tuple[float, float]:
    """95% Student-t interval of the geometric mean (n - 1 degrees of freedom); the point
    itself for one seed or no spread; inf where any ratio is infinite."""
    if not np.all(np.isfinite(log_ratios)):
        return math.inf, math.inf
    mean = float(log_ratios.mean())
    if len(log_ratios) < 2 or np.ptp(log_ratios) == 0:
        return math.exp(mean), math.exp(mean)
    half = (stats.t.ppf(0.975, len(log_ratios) - 1) * log_ratios.std(ddof=1)
            / math.sqrt(len(log_ratios)))
    return math.exp(mean - half), math.exp(mean + half)


def evaluate_task(task_name: str, seeds: list[int], rates, decays, schedule: str,
                  gradient_clip: float | None, programs_text: dict[str, str] | None = None
                  ) -> dict:
    """Each program of `programs_text` (default: `REFERENCES`; it must hold "adamw") trained
    from every seed: its best validation loss over the grid and where it was."""
    programs_text = REFERENCES if programs_text is None else programs_text
    space = OptimizersSpace({})
    programs = [space.parse(text, name) for name, text in programs_text.items()]
    settings = space.settings
    task = get_task(task_name)
    start = time.perf_counter()
    run = interpreter.make_trainer(
        task, len(programs), settings.max_statements, settings.max_constants, rates,
        batching=resolve_program_batching("auto"), weight_decays=decays,
        lr_schedule=schedule, gradient_clip=gradient_clip)
    encoded = interpreter.encode(programs, settings.max_statements, settings.max_constants)
    grid = interpreter.hyperparameter_grid(rates, decays)
    best: dict[str, list[float]] = {name: [] for name in programs_text}
    chosen: dict[str, list[tuple[float, float]]] = {name: [] for name in programs_text}
    seconds = []
    for seed in seeds:
        began = time.perf_counter()
        losses, _ = run(encoded, seed)
        seconds.append(time.perf_counter() - began)
        for row, name in enumerate(programs_text):
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
                      "ci95_t": list(t_interval(log_ratios)),
                      "per_seed_ratio": [float(np.exp(x)) for x in log_ratios]}
    return rows


def summarize_overall(results: list[dict], rng: np.random.Generator, resamples: int
                      ) -> dict[str, dict]:
    """Per program, the geometric mean of its ratio to AdamW over every (task, seed) of
    `results` (tasks trained from the same seeds), the tasks won (geometric mean below 1) and
    two 95% intervals over seeds: Student-t of a seed's log ratio averaged over the tasks, and
    a bootstrap that resamples the seeds of each task."""
    logs = {name: np.array([np.log(np.asarray(r["best_loss"][name]))
                            - np.log(np.asarray(r["best_loss"]["adamw"])) for r in results])
            for name in results[0]["best_loss"]}  # (tasks, seeds)
    rows = {}
    for name, log_ratios in logs.items():
        if not np.all(np.isfinite(log_ratios)):
            rows[name] = {"geometric_mean_ratio": math.inf, "ci95": [math.inf, math.inf],
                          "ci95_t": [math.inf, math.inf], "tasks_won": None}
            continue
        tasks, seeds = log_ratios.shape
        draws = rng.integers(0, seeds, size=(resamples, tasks, seeds))
        means = np.take_along_axis(log_ratios[None], draws, axis=2).mean(axis=(1, 2))
        low, high = np.exp(np.percentile(means, [2.5, 97.5]))
        rows[name] = {"geometric_mean_ratio": float(np.exp(log_ratios.mean())),
                      "ci95": [float(low), float(high)],
                      "ci95_t": list(t_interval(log_ratios.mean(axis=0))),
                      "tasks_won": int((log_ratios.mean(axis=1) < 0).sum())}
    return rows


def finite_json(value):
    """`value` with every non-finite float as None (JSON has no Infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def read_programs(specs: list[str], references: list[str]) -> dict[str, str]:
    """The references named (AdamW first, always) and each ``NAME=FILE`` program's text."""
    unknown = sorted(set(references) - set(REFERENCES))
    if unknown:
        raise SystemExit(f"meta_validate: --references: unknown {unknown[0]!r}; known: "
                         f"{', '.join(REFERENCES)}")
    programs = {"adamw": REFERENCES["adamw"]}
    programs.update((name, REFERENCES[name]) for name in references)
    for spec in specs:
        name, separator, path = spec.partition("=")
        if not separator or not name or not path:
            raise SystemExit(f"meta_validate: --program {spec!r}: expected NAME=FILE")
        if name in programs:
            raise SystemExit(f"meta_validate: --program {spec!r}: {name!r} is taken")
        try:
            programs[name] = Path(path).read_text()
        except OSError as error:
            raise SystemExit(f"meta_validate: --program {spec!r}: {error.strerror}") from None
    return programs


def adamw_variants(programs: dict[str, str], b1s: list[float]) -> dict[str, str]:
    """`programs` with AdamW replaced by one variant per first-moment rate of `b1s` (named
    ``adamw_b1=B1``; `tuned_over_b1` makes them one reference again); unchanged for [0.9]."""
    if list(b1s) == [0.9]:
        return programs
    if any(not 0 < b1 < 1 for b1 in b1s):
        raise SystemExit(f"meta_validate: --adamw-b1s {b1s}: each must be in (0, 1)")
    variants = {f"adamw_b1={b1:g}": adamw_dsl(0.0, b1) for b1 in b1s}
    return {**variants, **{name: text for name, text in programs.items() if name != "adamw"}}


def tuned_over_b1(result: dict) -> dict:
    """`result` (of `evaluate_task`) with the AdamW variants folded into "adamw": per seed,
    the best variant's loss and grid point (its b1 appended); the variants' own losses move
    to ``adamw_variants``."""
    names = [name for name in result["best_loss"] if name.startswith("adamw_b1=")]
    if not names:
        return result
    losses = np.array([result["best_loss"].pop(name) for name in names])  # (variants, seeds)
    points = [result["best_grid_point"].pop(name) for name in names]
    best = np.argmin(np.where(np.isfinite(losses), losses, np.inf), axis=0)
    result["adamw_variants"] = {name: row.tolist() for name, row in zip(names, losses, strict=True)}
    result["best_loss"] = {"adamw": [float(losses[b, seed]) for seed, b in enumerate(best)],
                           **result["best_loss"]}
    result["best_grid_point"]["adamw"] = [
        (*points[b][seed], float(names[b].partition("=")[2])) for seed, b in enumerate(best)]
    return result


def trained_tasks(options: argparse.Namespace, programs: dict[str, str]) -> Iterator[dict]:
    """`evaluate_task` of each of `options.tasks`, in order; with `options.jobs` > 1 that many
    tasks train at once, in spawned processes (JAX does not survive a fork). The numbers are
    the one-process run's: each task's training is seeded, and the intervals are drawn in the
    parent, in task order."""
    def arguments(name: str) -> tuple:
        return (name, options.seeds, tuple(options.rates), tuple(options.decays),
                options.schedule, options.gradient_clip, programs)

    if options.jobs <= 1:
        yield from (evaluate_task(*arguments(name)) for name in options.tasks)
        return
    with ProcessPoolExecutor(options.jobs, mp_context=multiprocessing.get_context("spawn")
                             ) as pool:
        futures = [pool.submit(evaluate_task, *arguments(name)) for name in options.tasks]
        yield from (future.result() for future in futures)


def cell(row: dict) -> str:
    low, high = row["ci95"]
    low_t, high_t = row["ci95_t"]
    return (f"{row['geometric_mean_ratio']:.3f} [{low:.3f}, {high:.3f}] "
            f"t[{low_t:.3f}, {high_t:.3f}]")


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
    parser.add_argument("--program", action="append", default=[], metavar="NAME=FILE",
                        help="a DSL program to validate beside the references (repeatable)")
    parser.add_argument("--references", nargs="+", default=list(REFERENCES),
                        help=f"which of {', '.join(REFERENCES)} to train (adamw always)")
    parser.add_argument("--adamw-b1s", nargs="+", type=float, default=[0.9],
                        help="tune the AdamW reference over these first-moment rates too")
    parser.add_argument("--jobs", type=int, default=1,
                        help="train this many tasks at once, one process each")
    parser.add_argument("--json", type=Path, default=None, help="write every number here")
    options = parser.parse_args()
    programs = read_programs(options.program, options.references)
    names = [name for name in programs if name != "adamw"]
    programs = adamw_variants(programs, options.adamw_b1s)
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    report = {"settings": {k: (str(v) if isinstance(v, Path) else v)
                           for k, v in vars(options).items()},
              "programs": programs, "tasks": []}

    def write() -> None:
        if options.json:
            options.json.write_text(json.dumps(finite_json(report), indent=1))

    print(f"| task | {' | '.join(names)} |")
    print(f"|---|{'---|' * len(names)}")
    for task_name, result in zip(options.tasks, trained_tasks(options, programs), strict=True):
        result = tuned_over_b1(result)
        result["ratios"] = summarize(result, rng, options.resamples)
        report["tasks"].append(result)
        print(f"| {task_name} | {' | '.join(cell(result['ratios'][n]) for n in names)} |",
              flush=True)
        write()  # after every task: a long run keeps what it finished
    overall = summarize_overall(report["tasks"], rng, options.resamples)
    report["overall"] = overall
    print(f"| all tasks | {' | '.join(cell(overall[n]) for n in names)} |")
    for name in names:
        print(json.dumps(finite_json({
            "metric": "optimizer_heldout_geomean_ratio", "program": name,
            "value": overall[name]["geometric_mean_ratio"], "unit": "x tuned AdamW",
            "ci95_bootstrap": overall[name]["ci95"], "ci95_t": overall[name]["ci95_t"],
            "tasks_won": overall[name]["tasks_won"], "tasks": options.tasks,
            "seeds": options.seeds})))
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(f"geometric mean over seeds {options.seeds} of the best validation loss over "
          f"{len(options.rates)} rates x {len(options.decays)} decays ({options.schedule}) "
          f"relative to tuned AdamW's (b1 {options.adamw_b1s}), [95% bootstrap interval] "
          f"t[95% Student-t interval]; "
          f"{report['seconds']} s")
    write()


if __name__ == "__main__":
    main()
