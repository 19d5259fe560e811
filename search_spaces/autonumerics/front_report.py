"""An AutoNumerics campaign's front against the baselines, cost by cost, on validation points
(`AutoNumericsSpace.front_report`, `automl front`).

For every cost c up to `max_cost`: the best evolved program of cost <= c (its fitted constants
re-checked on 10,000 random points plus a dense 2^16-point grid against mpmath:
`AutoNumericsSpace.validation_error`), beside the best minimax polynomial, rational minimax,
Pade and Taylor approximation of cost <= c measured the same way. `dominates` says whether the
evolved front is strictly better than the minimax-polynomial front at every cost in
[`from_cost`, `max_cost`]. Then the time-to-target curve: the wall-clock (since the campaign
started) at which the campaign first reached each error at cost <= `target_cost`.

Rows: one per cost (`autonumerics_front`), one per threshold (`autonumerics_time_to_target`)
and a summary (`autonumerics_front_summary`); the report's markdown is the table. `float32`
also runs every evolved front program in float32 under XLA: its max ULP error and its time
beside the library function's (`jnp.exp2` for 2^x), side by side (`autonumerics_float32_front`);
`float32_per_cost` K runs each cost's K best validated programs and keeps the fewest ULPs.
`until` shows the front as it stood that long after the campaign started.

This module does not import the space (the space imports it): its functions take the space.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pydantic

from automl.workflows import RowRecorder, RowSink, WorkflowOptions, WorkflowReport
from search_spaces.autonumerics import classical

# minimax_fma (the minimax polynomial with one fma per Horner step) only when fma is in the op
# set; `dominates` compares with minimax (an add and a mul per step), as the issue asks
BASELINE_FAMILIES = ("minimax", "minimax_fma", "rational_minimax", "pade", "taylor")
MARKDOWN_HEADER = ("cost", "evolved", "minimax poly", "minimax poly (fma)", "rational minimax",
                   "Pade", "Taylor", "best classical", "evolved vs minimax")
# within 4 ulps of float64 (relative 4 * 2^-52) an evolved program and the best classical one
# are both at the floor: a tie, neither beaten (issue 28's rule)
FLOAT64_TIE = 4 * 2.0**-52


class FrontReportOptions(WorkflowOptions):
    """`automl front` options of the autonumerics space."""

    max_cost: float = 16
    from_cost: float = 4
    target_cost: float = 10
    # best programs per cost re-checked on the validation points
    per_cost: int = pydantic.Field(20, ge=1)
    thresholds: tuple[float, ...] = tuple(10.0**-k for k in range(3, 15))
    # the front as it stood this many seconds after the campaign started (compare runs of
    # different lengths at equal budgets)
    until: float = math.inf
    # also run each evolved front program in float32 under XLA: max ULP error and time beside
    # the library function (jnp.exp2 ...)
    float32: bool = False
    # with float32: run this many of each cost's best validated programs in float32 and report
    # the one with the fewest ULPs
    float32_per_cost: int = pydantic.Field(1, ge=1)
    timing_repeats: int = pydantic.Field(201, ge=1)
    # with float32: rounds of refining the rounded constants on the float32 lattice (default:
    # the campaign's setting)
    float32_refine_rounds: int | None = pydantic.Field(None, ge=0)


def family(name: str, families: Sequence[str] = BASELINE_FAMILIES) -> str | None:
    """The family of baseline `name` among `families` (`classical.family`)."""
    return classical.family(name, families)


def baseline_errors(space: Any) -> dict[str, dict[float, tuple[float, str]]]:
    """family -> cost -> (validated error, baseline name), the best of each family per cost
    (`space`: an `AutoNumericsSpace`)."""
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


def validated(space: Any, program: Any, metrics: dict[str, Any]
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


def started(results: Any, campaign: str | int) -> float:
    return results.campaign(campaign).created_at


def evaluations_until(results: Any, campaign: str | int, until: float = math.inf) -> list:
    """The campaign's evaluations with objectives stored within `until` seconds of its start
    (to compare runs of different lengths at equal budgets), oldest first (`results`:
    `automl.results.Results`)."""
    start = started(results, campaign)
    return sorted((e for e in results.evaluations(campaign)
                   if e.objectives and e.created_at - start <= until),
                  key=lambda e: e.created_at)


def evolved_candidates(results: Any, campaign: str | int, space: Any, per_cost: int,
                       evaluations: Sequence
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


def time_to_target(results: Any, campaign: str | int, space: Any, max_cost: float,
                   thresholds: Sequence[float], ordered: Sequence) -> list[dict[str, Any]]:
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


def best_classical(rows: Sequence[dict[str, Any]]) -> dict[float, tuple[float, str]]:
    """cost -> (error, name) of the best classical program of that cost the op set writes,
    from `classical.measured` rows (the table `automl baselines` shows as best_classical)."""
    best: dict[float, tuple[float, str]] = {}
    for row in rows:
        if row["in_op_set"] and (row["cost"] not in best or row["error"] < best[row["cost"]][0]):
            best[row["cost"]] = (row["error"], row["name"])
    return best


def front_table(evolved: dict[float, tuple[float, Any]],
                baselines: dict[str, dict[float, tuple[float, str]]], target: str,
                max_cost: float, classical_best: dict[float, tuple[float, str]] | None = None
                ) -> list[dict[str, Any]]:
    """One `autonumerics_front` row per cost 1, 2, ... `max_cost`: the best evolved and
    baseline (per family, and the best classical program of any family, `best_classical`)
    errors at cost <= that cost."""
    table = []
    cost = 1.0
    while cost <= max_cost:
        error, candidate = best_up_to(evolved, cost)
        row = {"metric": "autonumerics_front", "target": target, "cost": cost,
               "evolved": error, "candidate": candidate and candidate["candidate"]}
        for kind in BASELINE_FAMILIES:
            row[kind], row[f"{kind}_name"] = best_up_to(baselines.get(kind, {}), cost)
        row["best_classical"], row["best_classical_name"] = best_up_to(classical_best or {},
                                                                       cost)
        row["evolved_vs_minimax"] = (row["minimax"] / error if error > 0 else math.inf)
        table.append(row)
        cost += 1.0
    return table


def summary_row(table: Sequence[dict[str, Any]], evolved: dict[float, tuple[float, Any]],
                target: str, options: FrontReportOptions) -> dict[str, Any]:
    compared = [r for r in table if options.from_cost <= r["cost"]]
    at_target_cost = best_up_to(evolved, options.target_cost)
    beaten = [r["cost"] for r in compared if r["evolved"] < r["best_classical"]]
    tied = [r["cost"] for r in compared if r["cost"] not in beaten
            and max(r["evolved"], r["best_classical"]) <= FLOAT64_TIE]
    return {
        "metric": "autonumerics_front_summary", "target": target,
        "dominates_minimax_polynomial": all(r["evolved"] < r["minimax"] for r in compared),
        "costs_compared": [options.from_cost, options.max_cost],
        "costs_not_dominated": [r["cost"] for r in compared if r["evolved"] >= r["minimax"]],
        # against the best classical program of each cost (issue 28): beaten, a tie at the
        # float64 floor, or neither
        "costs_beating_best_classical": beaten,
        "costs_tied_at_the_float64_floor": tied,
        "costs_not_beaten": [r["cost"] for r in compared
                             if r["cost"] not in beaten and r["cost"] not in tied],
        "best_error_at_target_cost": at_target_cost[0],
        "best_at_target_cost": at_target_cost[1]}


def float32_front(space: Any, candidates: dict[float, list[tuple[float, dict[str, Any]]]],
                  options: FrontReportOptions) -> list[dict[str, Any]]:
    """Per cost up to `max_cost`, of its `float32_per_cost` best validated programs the one
    with the fewest ULPs in float32 (an `autonumerics_float32_front` row)."""
    refine_rounds = ({} if options.float32_refine_rounds is None else
                     {"float32_refine_rounds": options.float32_refine_rounds})
    float32_space = type(space)({
        **space.settings.model_dump(), "precision": "float32",
        "timing_repeats": options.timing_repeats, **refine_rounds})
    target = space.target.name
    kept = []
    for cost, checked in sorted(candidates.items()):
        if cost > options.max_cost:
            continue
        # the lowest float64 error need not round best in float32: the `float32_per_cost`
        # best validated programs are run, the fewest ULPs kept
        rows = []
        for error, candidate in checked[:options.float32_per_cost]:
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
                "checked": min(len(checked), options.float32_per_cost),
                **{k: metrics[k] for k in ("time_us", "reference_time_us",
                                           "reference_max_ulp_error", "reference",
                                           "float32_constants")}})
        if rows:
            kept.append(min(rows, key=lambda r: r["max_ulp_error"]))
    return kept


def markdown_table(table: Sequence[dict[str, Any]]) -> str:
    """The per-cost table: errors to 3 digits, "-" where there is none."""
    lines = ["| " + " | ".join(MARKDOWN_HEADER) + " |", "|" + "---|" * len(MARKDOWN_HEADER)]
    for r in table:
        cells = [f"{r['cost']:g}", *(f"{r[k]:.3g}" if math.isfinite(r[k]) else "-"
                                     for k in ("evolved", *BASELINE_FAMILIES,
                                               "best_classical")),
                 f"{r['evolved_vs_minimax']:.3g}x" if math.isfinite(
                     r["evolved_vs_minimax"]) else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def front_report(space: Any, results: Any, campaign: str | int,
                 options: FrontReportOptions, *, on_row: RowSink | None = None
                 ) -> WorkflowReport:
    """The whole report of `campaign` (whose space `space` is, with its stored settings)."""
    target = space.target.name
    record = RowRecorder(on_row)
    evaluations = evaluations_until(results, campaign, options.until)
    candidates = evolved_candidates(results, campaign, space, options.per_cost, evaluations)
    evolved = {cost: checked[0] for cost, checked in candidates.items()}
    table = front_table(evolved, baseline_errors(space), target, options.max_cost,
                        best_classical(classical.measured(space, int(options.max_cost))))
    for row in table:
        record(row)
    for row in time_to_target(results, campaign, space, options.target_cost,
                              options.thresholds, evaluations):
        record({**row, "target": target})
    summary = summary_row(table, evolved, target, options)
    record(summary)
    if options.float32:
        for row in float32_front(space, candidates, options):
            record(row)
    name = results.campaign(campaign).name
    return WorkflowReport(
        title=f"{name}: the evolved front against the baselines ({target}, validation points)",
        rows=tuple(record.rows),
        summary={key: summary[key] for key in (
            "dominates_minimax_polynomial", "costs_compared", "costs_not_dominated",
            "costs_beating_best_classical", "costs_tied_at_the_float64_floor",
            "costs_not_beaten", "best_error_at_target_cost")} | {"best_at_target_cost": (
                summary["best_at_target_cost"] or {}).get("candidate")},
        markdown=markdown_table(table),
        columns={
            "autonumerics_front": ("cost", "evolved", "candidate", *BASELINE_FAMILIES,
                                   "best_classical", "evolved_vs_minimax"),
            "autonumerics_time_to_target": ("threshold", "max_cost", "seconds", "evaluations",
                                            "candidate"),
            "autonumerics_front_summary": (),  # in the summary
            "autonumerics_float32_front": ("cost", "candidate", "float64_error",
                                           "max_ulp_error", "relative_time", "time_us",
                                           "reference_time_us", "checked")})
