"""An AutoNumerics campaign's front against the baselines, cost by cost, on validation points.

For every cost c up to `--max-cost`: the best evolved program of cost <= c (its fitted constants
re-checked on 10,000 random points plus a dense 2^16-point grid against mpmath:
`AutoNumericsSpace.validation_error`), beside the best minimax polynomial, rational minimax,
Pade and Taylor approximation of cost <= c measured the same way. `dominates` says whether the
evolved front is strictly better than the minimax-polynomial front at every cost in
[`--from-cost`, `--max-cost`]. Then the time-to-target curve: the wall-clock (since the campaign
started) at which the campaign first reached each error at cost <= `--target-cost`.

Prints one JSON line per cost, one per threshold and a summary line; `--markdown` prints the
table as well. `--float32` also runs every evolved front program in float32 under XLA: its max
ULP error and its time beside the library function's (`jnp.exp2` for 2^x), side by side;
`--float32-per-cost K` runs each cost's K best validated programs and keeps the fewest ULPs.
`--until SECONDS` shows the front as it stood that long after the campaign started.

    python scripts/autonumerics_front.py --db sqlite:///results/automl.db --campaign 1
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import automl
from search_spaces.autonumerics.space import AutoNumericsSpace

# minimax_fma (the minimax polynomial with one fma per Horner step) only when fma is in the op
# set; `dominates` compares with minimax (an add and a mul per step), as the issue asks
BASELINE_FAMILIES = ("minimax", "minimax_fma", "rational_minimax", "pade", "taylor")


def family(name: str) -> str | None:
    for prefix in sorted(BASELINE_FAMILIES, key=len, reverse=True):
        if name.startswith(prefix + "_"):
            return prefix
    return None


def baseline_errors(space: AutoNumericsSpace) -> dict[str, dict[float, tuple[float, str]]]:
    """family -> cost -> (validated error, baseline name), the best of each family per cost."""
    best: dict[str, dict[float, tuple[float, str]]] = defaultdict(dict)
    for name, text in space.baselines().items():
        kind = family(name)
        if kind is None:
            continue
        program = space.parse(text, f"baseline {name}")
        error, _ = validated(space, program, {})
        if not math.isfinite(error):  # e.g. a fitted rational with a pole: not a baseline
            continue
        cost = space.structural_objectives(program)["cost"]
        if cost not in best[kind] or error < best[kind][cost][0]:
            best[kind][cost] = (error, name)
    return best


def validated(space: AutoNumericsSpace, program, metrics: dict[str, Any]
              ) -> tuple[float, dict[str, float]]:
    """(validation error, fitted constants) of a stored program: the constants of its
    evaluation, or, for a cache hit stored under its own cost (its twin's fit is not its own),
    fitted here; inf when that fit fails (e.g. a pole inside the interval)."""
    constants = metrics.get("constants")
    if constants is None:
        try:
            constants = space.evaluate_one(program)[1]["constants"]
        except (ValueError, ArithmeticError):
            return math.inf, {}
    return space.validation_error(program, constants), constants


def best_up_to(by_cost: dict[float, tuple[float, Any]], cost: float) -> tuple[float, Any]:
    """The lowest error among entries of cost <= `cost` ((inf, None) if none)."""
    return min((value for c, value in by_cost.items() if c <= cost),
               key=lambda value: value[0], default=(math.inf, None))


def evaluations_until(results: automl.Results, campaign: str | int,
                      until: float = math.inf) -> list:
    """The campaign's evaluations with objectives stored within `until` seconds of its start
    (to compare runs of different lengths at equal budgets), oldest first."""
    start = started(results, campaign)
    return sorted((e for e in results.evaluations(campaign)
                   if e.objectives and e.created_at - start <= until),
                  key=lambda e: e.created_at)


def evolved_candidates(results: automl.Results, campaign: str | int, space: AutoNumericsSpace,
                       per_cost: int, evaluations: Sequence
                       ) -> dict[float, list[tuple[float, dict[str, Any]]]]:
    """cost -> [(validated error, candidate)], best first: at each cost the `per_cost` best
    of `evaluations` (`evaluations_until`) by training error, re-checked on the validation
    points."""
    start = started(results, campaign)
    by_cost: dict[float, list] = defaultdict(list)
    latest = {e.candidate_number: e for e in evaluations}  # one per candidate, as stored last
    for evaluation in latest.values():
        if math.isfinite(evaluation.objectives["max_relative_error"]):
            by_cost[evaluation.objectives["cost"]].append(evaluation)
    checked: dict[float, list[tuple[float, dict[str, Any]]]] = {}
    for cost, group in by_cost.items():
        group.sort(key=lambda e: e.objectives["max_relative_error"])
        chosen = group[:per_cost]
        infos = results.candidates(campaign, [e.candidate_number for e in chosen])
        for evaluation in chosen:
            info = infos[evaluation.candidate_number]
            program = space.parse(info.program, info.ref)
            error, constants = validated(space, program, evaluation.metrics)
            checked.setdefault(cost, []).append((error, {
                "candidate": info.ref, "program": info.program.strip(),
                "training_error": evaluation.objectives["max_relative_error"],
                "constants": constants,
                "found_after_s": round(evaluation.created_at - start, 1)}))
        checked[cost].sort(key=lambda entry: entry[0])
    return checked


def started(results: automl.Results, campaign: str | int) -> float:
    return results.campaign(campaign).created_at


def time_to_target(results: automl.Results, campaign: str | int, space: AutoNumericsSpace,
                   max_cost: float, thresholds: list[float], ordered: Sequence
                   ) -> list[dict[str, Any]]:
    """For each threshold, the earliest of `ordered` (`evaluations_until`, oldest first) at
    cost <= `max_cost` whose error is <= threshold on the training grid and on the validation
    points (no pole either): seconds since the campaign started, and how many evaluations it
    took."""
    start = started(results, campaign)
    validated_errors: dict[int, float] = {}

    def validated_error(evaluation) -> float:
        number = evaluation.candidate_number
        if number not in validated_errors:
            info = results.candidates(campaign, [number])[number]
            program = space.parse(info.program, info.ref)
            validated_errors[number] = validated(space, program, evaluation.metrics)[0]
        return validated_errors[number]

    rows = []
    for threshold in thresholds:
        hit = next(((i + 1, e) for i, e in enumerate(ordered)
                    if e.objectives["cost"] <= max_cost
                    and e.objectives["max_relative_error"] <= threshold
                    and validated_error(e) <= threshold), None)
        rows.append({"metric": "autonumerics_time_to_target", "threshold": threshold,
                     "max_cost": max_cost,
                     "seconds": round(hit[1].created_at - start, 1) if hit else None,
                     "evaluations": hit[0] if hit else None,
                     "candidate": hit[1].candidate_number if hit else None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--campaign", required=True)
    parser.add_argument("--max-cost", type=float, default=16)
    parser.add_argument("--from-cost", type=float, default=4)
    parser.add_argument("--target-cost", type=float, default=10)
    parser.add_argument("--per-cost", type=int, default=20,
                        help="best programs per cost re-checked on the validation points")
    parser.add_argument("--thresholds", type=float, nargs="*",
                        default=[10.0**-k for k in range(3, 15)])
    parser.add_argument("--until", type=float, default=math.inf,
                        help="the front as it stood this many seconds after the campaign "
                             "started (compare runs of different lengths at equal budgets)")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--float32", action="store_true",
                        help="also run each evolved front program in float32 under XLA: max "
                             "ULP error and time beside the library function (jnp.exp2 ...)")
    parser.add_argument("--float32-per-cost", type=int, default=1,
                        help="with --float32: run this many of each cost's best validated "
                             "programs in float32 and report the one with the fewest ULPs")
    parser.add_argument("--timing-repeats", type=int, default=201)
    parser.add_argument("--float32-refine-rounds", type=int,
                        help="with --float32: rounds of refining the rounded constants on the "
                             "float32 lattice (default: the campaign's setting)")
    arguments = parser.parse_args()
    campaign: str | int = int(arguments.campaign) if arguments.campaign.isdigit() \
        else arguments.campaign

    with automl.open(arguments.db) as results:
        space = results.space(campaign)
        assert isinstance(space, AutoNumericsSpace), "not an AutoNumerics campaign"
        target = space.settings.target
        evaluations = evaluations_until(results, campaign, arguments.until)
        candidates = evolved_candidates(results, campaign, space, arguments.per_cost,
                                        evaluations)
        evolved = {cost: checked[0] for cost, checked in candidates.items()}
        baselines = baseline_errors(space)
        table = []
        cost = 1.0
        while cost <= arguments.max_cost:
            error, candidate = best_up_to(evolved, cost)
            row = {"metric": "autonumerics_front", "target": target, "cost": cost,
                   "evolved": error, "candidate": candidate and candidate["candidate"]}
            for kind in BASELINE_FAMILIES:
                row[kind], row[f"{kind}_name"] = best_up_to(baselines.get(kind, {}), cost)
            row["evolved_vs_minimax"] = (row["minimax"] / error if error > 0 else math.inf)
            table.append(row)
            print(json.dumps(row), flush=True)
            cost += 1.0
        for row in time_to_target(results, campaign, space, arguments.target_cost,
                                  arguments.thresholds, evaluations):
            print(json.dumps({**row, "target": target}), flush=True)
        compared = [r for r in table if arguments.from_cost <= r["cost"]]
        dominates = all(r["evolved"] < r["minimax"] for r in compared)
        at_target_cost = best_up_to(evolved, arguments.target_cost)
        print(json.dumps({
            "metric": "autonumerics_front_summary", "target": target,
            "dominates_minimax_polynomial": dominates,
            "costs_compared": [arguments.from_cost, arguments.max_cost],
            "costs_not_dominated": [r["cost"] for r in compared if r["evolved"] >= r["minimax"]],
            "best_error_at_target_cost": at_target_cost[0],
            "best_at_target_cost": at_target_cost[1]}), flush=True)

        if arguments.float32:
            refine_rounds = ({} if arguments.float32_refine_rounds is None else
                             {"float32_refine_rounds": arguments.float32_refine_rounds})
            float32_space = AutoNumericsSpace({
                **space.settings.model_dump(), "precision": "float32",
                "timing_repeats": arguments.timing_repeats, **refine_rounds})
            for cost, checked in sorted(candidates.items()):
                if cost > arguments.max_cost:
                    continue
                # the lowest float64 error need not round best in float32: the
                # `--float32-per-cost` best validated programs are run, the fewest ULPs kept
                rows = []
                for error, candidate in checked[:arguments.float32_per_cost]:
                    if not math.isfinite(error):
                        continue
                    program = space.parse(candidate["program"], candidate["candidate"])
                    objectives, metrics = float32_space.float32_objectives(
                        program, candidate["constants"], {"cost": cost})
                    rows.append({
                        "metric": "autonumerics_float32_front", "target": target,
                        "cost": cost, "candidate": candidate["candidate"],
                        "float64_error": error, "max_ulp_error": objectives["max_ulp_error"],
                        "relative_time": objectives["relative_time"],
                        "checked": min(len(checked), arguments.float32_per_cost),
                        **{k: metrics[k] for k in ("time_us", "reference_time_us",
                                                   "reference_max_ulp_error", "reference",
                                                   "float32_constants")}})
                if rows:
                    print(json.dumps(min(rows, key=lambda r: r["max_ulp_error"])), flush=True)

    if arguments.markdown:
        header = ["cost", "evolved", "minimax poly", "minimax poly (fma)", "rational minimax",
                  "Pade", "Taylor", "evolved vs minimax"]
        print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for r in table:
            cells = [f"{r['cost']:g}", *(f"{r[k]:.3g}" if math.isfinite(r[k]) else "-"
                                         for k in ("evolved", *BASELINE_FAMILIES)),
                     f"{r['evolved_vs_minimax']:.3g}x" if math.isfinite(
                         r["evolved_vs_minimax"]) else "-"]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
