"""Functional-equivalence cache on vs off: hit rate and evaluations saved.

Runs the same regularized-evolution search twice (same seed, same number of generated
candidates, local executor), once with the cache and once without, and prints JSON lines:

* `fec_hit_rate`: fraction of candidates answered by the cache (the Lion search saw 0.89);
* `fec_evaluations_saved_ratio`: evaluations the uncached run needed to first reach the best
  fitness both runs reached, divided by the evaluations the cached run needed to reach it.

    python scripts/bench_fec.py --space optimizers|autonumerics|evonorm [--candidates 300]
        [--population 100]
        [--settings "{tasks: [logreg_digits], learning_rates: [0.001, 0.01], funnel_tasks: []}"]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

from automl.config import parse_config
from automl.controller import CampaignController
from automl.store import Store

SPACE_SETTINGS = {
    "optimizers": "{funnel_tasks: []}",
    "autonumerics": "{target: exp2, fit_constants: true, max_statements: 12}",
    # one network, short training: the cache's effect, not layer quality, is measured here
    "evonorm": "{architectures: [resnet], steps: 60, max_nodes: 10}",
}
OBJECTIVE = {"optimizers": "score", "autonumerics": "max_relative_error",
             "evonorm": "accuracy_resnet"}


def run(space: str, cache: bool, candidates: int, population: int, tournament: int,
        seed: int, batch_size: int, settings: str) -> dict:
    config = parse_config(f"""
seed: {seed}
space: {{name: {space}, settings: {settings}}}
evolution: {{strategy: regularized, objective: {OBJECTIVE[space]}, population_size: {population},
            tournament_size: {tournament}, max_mutation_tries: 1000}}
budget: {{max_evaluations: {candidates}, max_candidates: {candidates}}}
cache: {{enabled: {str(cache).lower()}}}
executor: {{kind: local, batch_size: {batch_size}}}
""")
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite:///{directory}/fec.db")
        start = time.perf_counter()
        controller = CampaignController.create(config, store, f"fec-{cache}")
        direction = next(o.direction for o in controller.objectives
                         if o.name == OBJECTIVE[space])
        summary = controller.run()
        seconds = time.perf_counter() - start
        candidates_rows = store.load_candidates(summary.campaign.id)
        evaluations = {e.candidate_number: e for e in store.load_evaluations(summary.campaign.id)}
        store.close()
    # best-so-far curve over candidates, with the number of evaluations spent by then; values
    # are signed so that lower is better (EvoNorm's accuracy is maximized: stored negated)
    sign = 1.0 if direction == "minimize" else -1.0
    by_number = {row.number: row for row in candidates_rows}
    curve = []  # (evaluations spent, best value so far)
    spent, best = 0, float("inf")
    for row in candidates_rows:
        if row.status != "duplicate":
            spent += 1
        source = row.duplicate_of if row.status == "duplicate" else row.number
        evaluation = evaluations.get(source)
        if evaluation is not None and evaluation.objectives and \
                by_number[source].status == "evaluated":
            best = min(best, sign * evaluation.objectives[OBJECTIVE[space]])
        curve.append((spent, best))
    return {"seconds": seconds, "hit_rate": summary.cache_hit_rate,
            "evaluations": summary.evaluations, "candidates": summary.candidates,
            "best": best, "sign": sign, "curve": curve}


def evaluations_to_reach(curve: list[tuple[int, float]], target: float) -> int | None:
    return next((spent for spent, best in curve if best <= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--space", choices=sorted(SPACE_SETTINGS), default="optimizers")
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--tournament", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1,
                        help="run seeds seed, seed + 1, ... and print the median of each "
                             "figure (the saved-evaluations ratio is noisy: the two runs "
                             "take different paths once their populations differ)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--settings", help="space settings as a YAML flow mapping (default: "
                                           "the space's entry in SPACE_SETTINGS)")
    arguments = parser.parse_args()
    figures: dict[str, list[float]] = {}
    for seed in range(arguments.seed, arguments.seed + arguments.seeds):
        for line in compare_one_seed(arguments, seed):
            print(json.dumps(line), flush=True)
            if line["value"] is not None:
                figures.setdefault(line["metric"], []).append(line["value"])
    if arguments.seeds > 1:
        for metric, values in figures.items():
            print(json.dumps({"metric": f"{metric}_median",
                              "value": round(statistics.median(values), 3),
                              "values": values, "seeds": arguments.seeds,
                              "space": arguments.space, "candidates": arguments.candidates,
                              "population": arguments.population}), flush=True)


def compare_one_seed(arguments: argparse.Namespace, seed: int) -> list[dict]:
    """The uncached and the cached run of one seed: hit rate, saved ratio, wall-clock ratio."""
    space_settings = arguments.settings or SPACE_SETTINGS[arguments.space]
    settings = (arguments.candidates, arguments.population, arguments.tournament, seed,
                arguments.batch_size, space_settings)
    uncached = run(arguments.space, False, *settings)
    cached = run(arguments.space, True, *settings)
    # the best fitness both runs reached (signed, lower is better): each run's evaluations to it
    target = max(uncached["best"], cached["best"])
    needed_uncached = evaluations_to_reach(uncached["curve"], target)
    needed_cached = evaluations_to_reach(cached["curve"], target)
    context = {"space": arguments.space, "settings": space_settings,
               "candidates": arguments.candidates,
               "population": arguments.population, "tournament": arguments.tournament,
               "seed": seed, "cpus": os.cpu_count(), "machine": platform.machine()}
    ratio = (needed_uncached / needed_cached) if needed_cached else None
    return [
        {"metric": "fec_hit_rate", "value": round(cached["hit_rate"], 3), "unit": "fraction",
         "evaluations_cached": cached["evaluations"],
         "evaluations_uncached": uncached["evaluations"], **context},
        {"metric": "fec_evaluations_saved_ratio", "value": round(ratio, 2) if ratio else None,
         "unit": "x", "target_best": uncached["sign"] * target,
         "evaluations_to_target_uncached": needed_uncached,
         "evaluations_to_target_cached": needed_cached,
         "cached_best": cached["sign"] * cached["best"],
         **context},
        {"metric": "fec_wall_clock_ratio",
         "value": round(uncached["seconds"] / cached["seconds"], 2), "unit": "x",
         "seconds_uncached": round(uncached["seconds"], 1),
         "seconds_cached": round(cached["seconds"], 1), **context},
    ]


if __name__ == "__main__":
    main()
