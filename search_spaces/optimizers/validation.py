"""Meta-validation of a discovered optimizer: held-out tasks, against tuned AdamW
(`OptimizersSpace.validate`, `automl validate`).

The candidate (a campaign's lowest `score`: `best_candidate`, or a DSL file) and AdamW are
trained on the meta-validation tasks (never seen by the search) over the same grid: the
campaign's learning rates (under its schedule, or the `lr_schedule` option) x decoupled weight
decays (`weight_decays`, default 0 0.01 0.03 0.1 0.3 1; `lr * wd * w` added to the update, as
optax.adamw does). AdamW is the seed program without its own decay, so at decay wd it is exactly
AdamW with weight decay wd. One row per task, then three counts of held-out tasks won:

* `meta_validation_tasks_beating_adamw_both_tuned`: each at its best (rate, decay) per task,
  the way Lion and AdamW are compared. This is the issue's "beats tuned AdamW";
* `meta_validation_tasks_beating_adamw_tuned_decay`: the candidate as written (best rate, no
  added decay) against AdamW at its best (rate, decay): stricter, the candidate's own
  constants must regularize as well as a tuned decay does;
* `meta_validation_tasks_beating_adamw`: the candidate as written against AdamW at the seed's
  decay of 0.01 (best rate). On these small full-batch tasks a larger decay alone lowers
  AdamW's validation loss on 3 of the 4 tasks, so this one is easy to win without
  discovering anything.

With `init_seeds: [0, 1, 2, 3]` each task is trained from several initializations and a task is
won when the geometric mean of the candidate's losses over them is lower than AdamW's. One seed
(the default, 0) is not enough to call a winner: tuned AdamW from init seeds 2 and 3 "beats"
tuned AdamW from seed 0 on 3 of the 4 tasks (convnet 0.85-1.09x, wide MLP 0.74-1.01x, two
spirals 0.23-0.82x over seeds 1-3; 2026-12-06).

This module does not import the space (the space imports it): `meta_validate` takes the space,
the AdamW text and the seed aggregation from `OptimizersSpace.validate`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pydantic

from automl.imports import check_import_string
from automl.ir import Program
from automl.workflows import Candidates, RowRecorder, RowSink, WorkflowOptions, WorkflowReport
from search_spaces.optimizers.interpreter import LR_SCHEDULES
from search_spaces.optimizers.tasks import DEFAULT_TIERS, TASK_NAMES, get_task, is_user_task

META_TASKS = tuple(name for name, kind in TASK_NAMES.items() if kind == "meta_validation")
SEED_DECAY = 0.01  # the seed program's weight decay: the easy baseline
WEIGHT_DECAYS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)
LOSSES = ("value", "adamw", "as_written", "adamw_seed_decay")  # what `compare` returns
SUMMARY_METRICS = ("meta_validation_tasks_beating_adamw_both_tuned",
                   "meta_validation_tasks_beating_adamw_tuned_decay",
                   "meta_validation_tasks_beating_adamw")


class MetaValidationOptions(WorkflowOptions):
    """`automl validate` options of the optimizers space."""

    # the decoupled weight decays both are tuned over, per task (0 and 0.01 always added)
    weight_decays: tuple[float, ...] = WEIGHT_DECAYS
    # initializations each task is trained from (geometric mean over them)
    init_seeds: tuple[int, ...] = (0,)
    # the held-out minibatch tasks (the full-batch ones of before remain by name)
    tasks: tuple[str, ...] = DEFAULT_TIERS["meta_validation"]
    # the rates both are tuned over (default: the space's, i.e. the campaign's)
    learning_rates: tuple[float, ...] | None = None
    # the schedule both train under (default: the space's, i.e. the campaign's)
    lr_schedule: str | None = None
    # AdamW's first-moment rates it is tuned over too (default: the space's `reference_b1s`,
    # i.e. the campaign's): the best variant per task and decay counts
    adamw_b1s: tuple[float, ...] | None = None

    @pydantic.field_validator("weight_decays")
    @classmethod
    def _decays(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not (decay >= 0 and math.isfinite(decay)) for decay in value):
            raise ValueError("a non-empty list of numbers >= 0")
        return value

    @pydantic.field_validator("init_seeds")
    @classmethod
    def _seeds(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("at least one seed")
        return value

    @pydantic.field_validator("tasks")
    @classmethod
    def _meta_tasks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in META_TASKS and not is_user_task(name)]
        if unknown or not value:
            raise ValueError(f"not meta-validation task(s): {', '.join(unknown) or 'none'}; "
                             f"allowed: {', '.join(META_TASKS)}, or a user's task as an "
                             f"import string 'package.module:make_task'")
        for name in value:
            if is_user_task(name):
                check_import_string(name)
        return value

    @pydantic.field_validator("learning_rates")
    @classmethod
    def _rates(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None and (not value or any(not (lr > 0 and math.isfinite(lr))
                                                   for lr in value)):
            raise ValueError("a non-empty list of positive numbers")
        return value

    @pydantic.field_validator("adamw_b1s")
    @classmethod
    def _b1s(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        return value if value is None else check_b1s(value, "")

    @pydantic.field_validator("lr_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None and value not in LR_SCHEDULES:
            raise ValueError(f"allowed: {', '.join(LR_SCHEDULES)}")
        return value


def check_b1s(value: tuple[float, ...], name: str) -> tuple[float, ...]:
    """`value` if it is a non-empty list of AdamW first-moment rates, each in (0, 1);
    ValueError naming `name` (e.g. the setting) otherwise."""
    if not value or any(not 0 < b1 < 1 for b1 in value):
        raise ValueError(f"{name + ' must be ' if name else ''}a non-empty list of numbers "
                         f"in (0, 1)")
    return value


def best_candidate(results: Any, campaign: str | int) -> Candidates:
    """The lowest-`score` candidate of a stored campaign (`results`: `automl.results.Results`)
    and where it came from."""
    name = results.campaign(campaign).name
    evaluations = [e for e in results.evaluations(campaign) if e.objectives]
    if not evaluations:
        raise ValueError(f"campaign {name!r} has no evaluated candidates")
    best = min(evaluations, key=lambda e: e.objectives["score"])
    info = results.candidates(campaign, [best.candidate_number])[best.candidate_number]
    return Candidates({info.ref: info.program}, {
        "campaign": name, "candidate": best.candidate_number,
        "proxy_score": best.objectives["score"], "evaluations": len(evaluations)})


def compare(space: Any, task: str, candidate: Program, adamw: Sequence[Program]
            ) -> dict[str, Any]:
    """The candidate and AdamW (its variants `adamw`, the best per decay counting) on `task`
    from `space`'s initialization (an `OptimizersSpace` whose grid has decays 0 and
    `SEED_DECAY`): each at its best (rate, decay), the candidate as written (no added decay),
    and AdamW at the seed's decay."""
    # one program per call: a batch of two would be padded to four
    ours = space.losses_by_weight_decay(task, candidate)
    variants = [space.losses_by_weight_decay(task, program) for program in adamw]
    theirs = {decay: min((variant[decay] for variant in variants), key=lambda pair: pair[0])
              for decay in variants[0]}
    ours_decay = min(ours, key=lambda d: ours[d][0])
    theirs_decay = min(theirs, key=lambda d: theirs[d][0])
    return {"value": ours[ours_decay][0], "weight_decay": ours_decay,
            "learning_rate": ours[ours_decay][1], "adamw": theirs[theirs_decay][0],
            "adamw_weight_decay": theirs_decay, "adamw_learning_rate": theirs[theirs_decay][1],
            "as_written": ours[0.0][0], "adamw_seed_decay": theirs[SEED_DECAY][0]}


def outcome(row: Mapping[str, float]) -> dict[str, bool]:
    """Which of the three comparisons the candidate won on one task's (aggregated) losses."""
    return {"both_tuned": row["value"] < row["adamw"],
            "tuned_decay": row["as_written"] < row["adamw"],
            "seed_decay": row["as_written"] < row["adamw_seed_decay"]}


def meta_validate(space: Any, programs: Mapping[str, str], options: MetaValidationOptions, *,
                  adamw_texts: Sequence[str], aggregate: Callable[[Sequence[float], str], float],
                  origin: Mapping[str, Any] | None = None, on_row: RowSink | None = None
                  ) -> WorkflowReport:
    """The candidate (the one program of `programs`) and AdamW without decay (`adamw_texts`:
    one per first-moment rate it is tuned over)
    on `options.tasks`, per init seed in a copy of `space` (an `OptimizersSpace`: its other
    settings, e.g. `max_statements`, kept) with those tasks, the options' rates, decays and
    schedule (default: `space`'s); losses over seeds combine by `aggregate(values,
    "geometric_mean")`."""
    if len(programs) != 1:
        raise ValueError(f"optimizers validation compares one program with AdamW, got "
                         f"{len(programs)}: {', '.join(programs) or 'none'}")
    ((name, text),) = programs.items()
    settings = space.settings
    rates = tuple(options.learning_rates or settings.learning_rates)
    schedule = options.lr_schedule or settings.lr_schedule
    decays = sorted({0.0, SEED_DECAY, *options.weight_decays})
    seeds = sorted(set(options.init_seeds))
    base = settings.model_dump()
    spaces = [type(space)({**base, "tasks": options.tasks, "funnel_tasks": [],
                           "learning_rates": rates, "weight_decays": decays,
                           "lr_schedule": schedule, "init_seed": seed}) for seed in seeds]
    candidate = spaces[0].simplify(spaces[0].parse(text, name))[0]
    adamw = [spaces[0].parse(text, "adamw without weight decay") for text in adamw_texts]
    record = RowRecorder(on_row)
    start = time.perf_counter()
    counts = {"both_tuned": 0, "tuned_decay": 0, "seed_decay": 0}
    for task in options.tasks:
        per_seed = [compare(seeded, task, candidate, adamw) for seeded in spaces]
        row = per_seed[0] if len(per_seed) == 1 else {
            key: aggregate([result[key] for result in per_seed], "geometric_mean")
            for key in LOSSES}
        won = outcome(row)
        for key, value in won.items():
            counts[key] += value
        record({
            "metric": "meta_validation_loss", "task": task, "unit": "validation loss"
            + (f", geometric mean over init seeds {seeds}" if len(seeds) > 1 else ""),
            **row, "metric_name": get_task(task).metric_name,
            **{f"beats_adamw_{k}": v for k, v in won.items()},
            "seeds_won_both_tuned": sum(r["value"] < r["adamw"] for r in per_seed),
            "per_seed": per_seed if len(seeds) > 1 else None})
    summary = {"unit": f"of {len(options.tasks)}", "weight_decays": decays,
               "lr_schedule": schedule, "init_seeds": seeds, **(origin or {}),
               "learning_rates": list(rates)}
    record({"metric": SUMMARY_METRICS[0], "value": counts["both_tuned"],
            "seconds": round(time.perf_counter() - start, 1),
            "program": spaces[0].format(candidate), **summary})
    record({"metric": SUMMARY_METRICS[1], "value": counts["tuned_decay"], **summary})
    record({"metric": SUMMARY_METRICS[2], "value": counts["seed_decay"],
            "adamw_weight_decay": SEED_DECAY, **summary})
    return WorkflowReport(
        title=f"meta-validation of {name} against AdamW on {len(options.tasks)} held-out "
              f"task(s)",
        rows=tuple(record.rows),
        summary={metric: row["value"] for metric, row in zip(
            SUMMARY_METRICS, record.rows[-3:], strict=True)} | {"tasks": len(options.tasks)},
        columns={
            "meta_validation_loss": ("task", "value", "adamw", "as_written",
                                     "adamw_seed_decay", "weight_decay", "adamw_weight_decay",
                                     "beats_adamw_both_tuned"),
            **{metric: () for metric in SUMMARY_METRICS}})  # in the summary
