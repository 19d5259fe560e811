"""Functional-equivalence cache on vs off: hit rate and evaluations saved.

Runs a regularized-evolution search with the cache (local executor) and prints JSON lines:

* `fec_hit_rate`: fraction of candidates answered by the cache (the Lion search saw 0.89);
* `fec_evaluations_saved_ratio` (paired): the same candidate sequence without the cache
  evaluates every candidate; this is the candidates the search generated until it first reached
  its best fitness, divided by the evaluations the cache let through until then. It is how the
  Lion paper turns its 89% hit rate into "about 10x". It assumes a hit's own evaluation would
  have scored what its twin scored, so
* `fec_answer_agreement` checks that: a sample of hits written differently from their twins is
  evaluated again, and the line gives the fraction whose objectives agree with the cached
  answer to `--agreement-tolerance` (relative), with the largest difference;
* `fec_evaluations_saved_ratio_unpaired`: a second search with the cache off (same seed and
  candidate count): the evaluations it needed to first reach the best fitness both runs
  reached, over the cached run's. Once a hit changes what the population holds, the two runs
  generate different candidates, so this figure is mostly path noise (it ranged 0.25-3.3 over
  three seeds); `--skip-uncached` leaves it out, and with it half of the time.

`--restart-after N` runs the searches with the Lion search's restarts from the best
(`evolution.restart_after`). A search that stalls early reaches its best before most hits, so
its paired ratio stays near 1; restarting keeps it improving while the population fills with
twins of the best (optimizers, 10,000 candidates, 3 seeds, 2026-12-06: paired ratio 1.38 ->
2.61 and hit rate 0.613 -> 0.645 with `--restart-after 500`, medians).

    python scripts/bench_fec.py --space optimizers|autonumerics|evonorm [--candidates 10000]
        [--population 100] [--seeds 3] [--skip-uncached] [--restart-after 500]
        [--settings "{tasks: [logreg_digits], learning_rates: [0.001, 0.01], funnel_tasks: []}"]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import tempfile
import time

import numpy as np

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
        seed: int, batch_size: int, settings: str, restart_after: int | None = None,
        agreement_sample: int = 0) -> dict:
    config = parse_config(f"""
seed: {seed}
space: {{name: {space}, settings: {settings}}}
evolution: {{strategy: regularized, objective: {OBJECTIVE[space]}, population_size: {population},
            tournament_size: {tournament}, max_mutation_tries: 1000,
            restart_after: {"null" if restart_after is None else restart_after}}}
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
    curve = []  # (evaluations spent, candidates generated, best value so far)
    spent, best = 0, float("inf")
    for generated, row in enumerate(candidates_rows, start=1):
        if row.status != "duplicate":
            spent += 1
        source = row.duplicate_of if row.status == "duplicate" else row.number
        evaluation = evaluations.get(source)
        if evaluation is not None and evaluation.objectives and \
                by_number[source].status == "evaluated":
            best = min(best, sign * evaluation.objectives[OBJECTIVE[space]])
        curve.append((spent, generated, best))
    result = {"seconds": seconds, "hit_rate": summary.cache_hit_rate,
              "evaluations": summary.evaluations, "candidates": summary.candidates,
              "best": best, "sign": sign, "curve": curve, "restarts": summary.restarts}
    if agreement_sample:
        result["agreement"] = reevaluate_hits(controller.space, candidates_rows, evaluations,
                                              agreement_sample, seed)
    return result


def reevaluate_hits(space, rows: list, evaluations: dict, sample: int, seed: int) -> dict:
    """Evaluate again a random sample of the hits written differently from their twins (a hit
    with its twin's very text is scored alike by construction) and compare each objective with
    the answer the cache gave: the relative differences, per hit the largest."""
    by_number = {row.number: row for row in rows}
    hits = [row for row in rows if row.status == "duplicate"
            and by_number[row.duplicate_of].status == "evaluated"]
    differently_written = [row for row in hits
                           if row.program != by_number[row.duplicate_of].program]
    rng = np.random.default_rng(seed)
    chosen = [differently_written[i] for i in sorted(rng.choice(
        len(differently_written), min(sample, len(differently_written)), replace=False))]
    programs = [space.parse(row.program, f"candidate {row.number}") for row in chosen]
    fresh = space.evaluate(programs) if programs else []
    differences = []
    for row, program, evaluation in zip(chosen, programs, fresh, strict=True):
        answered = evaluations[row.duplicate_of].objectives
        if evaluation.objectives is None:
            differences.append(math.inf)
            continue
        # a text-dependent objective (AutoNumerics' cost) is the hit's own either way
        own = space.structural_objectives(program)
        differences.append(max(
            (abs(value - answered[name]) / max(abs(answered[name]), 1e-300)
             for name, value in evaluation.objectives.items() if name not in own),
            default=0.0))
    return {"hits": len(hits), "differently_written": len(differently_written),
            "differences": differences}


def evaluations_to_reach(curve: list[tuple[int, int, float]], target: float,
                         paired: bool = False) -> int | None:
    """Evaluations spent (or, `paired`, candidates generated: what the same search without a
    cache would have evaluated) when the best-so-far first reached `target`."""
    return next((generated if paired else spent
                 for spent, generated, best in curve if best <= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--space", choices=sorted(SPACE_SETTINGS), default="optimizers")
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--population", type=int, default=100,
                        help="the Lion search's 1000 reaches its hit rate only after ~100x "
                             "that many candidates (0.25 at 12,000 here)")
    parser.add_argument("--tournament", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1,
                        help="run seeds seed, seed + 1, ... and print the median of each figure")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--settings", help="space settings as a YAML flow mapping (default: "
                                           "the space's entry in SPACE_SETTINGS)")
    parser.add_argument("--restart-after", type=int,
                        help="restart from the best after this many members without a better "
                             "one (evolution.restart_after; the Lion search restarted)")
    parser.add_argument("--skip-uncached", action="store_true",
                        help="no second search with the cache off (no unpaired ratio)")
    parser.add_argument("--agreement-sample", type=int, default=200,
                        help="hits to evaluate again for fec_answer_agreement (0: none)")
    parser.add_argument("--agreement-tolerance", type=float, default=1e-4)
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
    """The cached run of one seed (hit rate, paired saved ratio, answer agreement) and, unless
    skipped, the uncached run beside it (unpaired saved ratio, wall-clock ratio)."""
    space_settings = arguments.settings or SPACE_SETTINGS[arguments.space]
    settings = (arguments.candidates, arguments.population, arguments.tournament, seed,
                arguments.batch_size, space_settings, arguments.restart_after)
    cached = run(arguments.space, True, *settings, agreement_sample=arguments.agreement_sample)
    context = {"space": arguments.space, "settings": space_settings,
               "candidates": arguments.candidates,
               "population": arguments.population, "tournament": arguments.tournament,
               "restart_after": arguments.restart_after, "seed": seed,
               "cpus": os.cpu_count(), "machine": platform.machine()}
    # paired: the cached run's own best, and what reaching it cost with and without the cache
    generated = evaluations_to_reach(cached["curve"], cached["best"], paired=True)
    spent = evaluations_to_reach(cached["curve"], cached["best"])
    lines = [
        {"metric": "fec_hit_rate", "value": round(cached["hit_rate"], 3), "unit": "fraction",
         "evaluations_cached": cached["evaluations"], "restarts": cached["restarts"],
         **context},
        {"metric": "fec_evaluations_saved_ratio",
         "value": round(generated / spent, 2) if spent else None, "unit": "x",
         "target_best": cached["sign"] * cached["best"],
         "candidates_to_target": generated, "evaluations_to_target_cached": spent,
         "seconds_cached": round(cached["seconds"], 1), **context},
    ]
    if "agreement" in cached:
        agreement = cached["agreement"]
        differences = np.array(agreement["differences"])
        lines.append({
            "metric": "fec_answer_agreement",
            "value": round(float(np.mean(differences <= arguments.agreement_tolerance)), 3)
            if differences.size else None,
            "unit": "fraction", "tolerance": arguments.agreement_tolerance,
            "reevaluated": int(differences.size), "hits": agreement["hits"],
            "hits_written_differently": agreement["differently_written"],
            "median_relative_difference": float(np.median(differences))
            if differences.size else None,
            "max_relative_difference": float(differences.max()) if differences.size else None,
            **context})
    if arguments.skip_uncached:
        return lines
    uncached = run(arguments.space, False, *settings)
    # the best fitness both runs reached (signed, lower is better): each run's evaluations to it
    target = max(uncached["best"], cached["best"])
    needed_uncached = evaluations_to_reach(uncached["curve"], target)
    needed_cached = evaluations_to_reach(cached["curve"], target)
    ratio = (needed_uncached / needed_cached) if needed_cached else None
    return [*lines,
            {"metric": "fec_evaluations_saved_ratio_unpaired",
             "value": round(ratio, 2) if ratio else None, "unit": "x",
             "target_best": uncached["sign"] * target,
             "evaluations_to_target_uncached": needed_uncached,
             "evaluations_to_target_cached": needed_cached,
             "uncached_best": uncached["sign"] * uncached["best"], **context},
            {"metric": "fec_wall_clock_ratio",
             "value": round(uncached["seconds"] / cached["seconds"], 2), "unit": "x",
             "seconds_uncached": round(uncached["seconds"], 1),
             "seconds_cached": round(cached["seconds"], 1), **context}]


if __name__ == "__main__":
    main()
