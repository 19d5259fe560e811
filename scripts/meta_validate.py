"""Meta-validation of a discovered optimizer: held-out tasks, against tuned AdamW.

Takes the best candidate (lowest `score`) of a stored optimizer campaign, or a DSL file, and
trains it and AdamW on the meta-validation tasks (never seen by the search) with the same
learning-rate grid; each gets its best rate per task. Prints one JSON line per task and a
summary line (`meta_validation_tasks_beating_adamw`).

Two baselines: AdamW with weight decay 0.01, as in the seed program
(`meta_validation_tasks_beating_adamw`), and AdamW tuned over weight decay as well, the best of
rate x decay per task (`meta_validation_tasks_beating_adamw_tuned_decay`; decays from
`--adamw-weight-decays`, default 0.01 0.03 0.1, the search's own reference). The second is the
one that counts: on these small full-batch tasks a larger weight decay alone lowers AdamW's
validation loss on 3 of the 4 held-out tasks, so a candidate that only raises its decay beats
the first baseline without discovering anything.

    python scripts/meta_validate.py --db sqlite:///results/automl.db --campaign NAME
    python scripts/meta_validate.py --program my_optimizer.dsl [--adamw-weight-decays ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from automl.store import Store
from search_spaces.optimizers.space import OptimizersSpace
from search_spaces.optimizers.tasks import TASK_NAMES, get_task

META_TASKS = [name for name, kind in TASK_NAMES.items() if kind == "meta_validation"]
SEED_DECAY = 0.01  # the seed program's weight decay: the first baseline


def best_program(database: str, campaign: str) -> tuple[str, dict]:
    """The lowest-score candidate's program and where it came from (with the campaign's
    learning-rate grid: the held-out comparison uses the same one)."""
    with Store.open(database) as store:
        record = store.get_campaign(int(campaign) if campaign.isdigit() else campaign)
        evaluations = [e for e in store.load_evaluations(record.id) if e.objectives]
        candidates = {c.number: c for c in store.load_candidates(record.id)}
    best = min(evaluations, key=lambda e: e.objectives["score"])
    return candidates[best.candidate_number].program, {
        "campaign": record.name, "candidate": best.candidate_number,
        "proxy_score": best.objectives["score"], "evaluations": len(evaluations),
        "learning_rates": record.config["space"]["settings"]["learning_rates"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db")
    parser.add_argument("--campaign")
    parser.add_argument("--program", type=Path)
    parser.add_argument("--adamw-weight-decays", type=float, nargs="+",
                        default=[0.01, 0.03, 0.1],
                        help="the decays tuned AdamW picks from, per task")
    arguments = parser.parse_args()
    if arguments.program:
        text, origin = arguments.program.read_text(), {"file": str(arguments.program)}
    elif arguments.db and arguments.campaign:
        text, origin = best_program(arguments.db, arguments.campaign)
    else:
        sys.exit("give --program FILE or --db URL --campaign NAME")
    grid = origin.get("learning_rates") or OptimizersSpace.Settings().learning_rates
    decays = arguments.adamw_weight_decays
    space = OptimizersSpace({"tasks": META_TASKS, "funnel_tasks": [], "learning_rates": grid,
                             "reference_weight_decays": sorted({SEED_DECAY, *decays})})
    program = space.simplify(space.parse(text, "candidate"))[0]
    start = time.perf_counter()
    (evaluation,) = space.evaluate([program])
    by_decay = space.adamw_losses_by_decay(META_TASKS)
    if evaluation.error:
        print(json.dumps({"metric": "meta_validation_error", "error": evaluation.error,
                          **origin}))
        sys.exit(1)
    wins = wins_tuned = 0
    for task in META_TASKS:
        loss = evaluation.objectives[f"loss_{task}"]
        seed_loss = by_decay[SEED_DECAY][task]
        decay, tuned_loss = min(((d, by_decay[d][task]) for d in decays),
                                key=lambda item: item[1])
        wins += loss < seed_loss
        wins_tuned += loss < tuned_loss
        print(json.dumps({"metric": "meta_validation_loss", "task": task, "value": loss,
                          "unit": "validation loss", "adamw": seed_loss,
                          "beats_adamw": loss < seed_loss, "adamw_tuned_decay": tuned_loss,
                          "adamw_weight_decay": decay, "beats_adamw_tuned_decay":
                          loss < tuned_loss,
                          "candidate_metric": evaluation.metrics["metric"][task],
                          "metric_name": get_task(task).metric_name,
                          "learning_rate": evaluation.metrics["learning_rate"][task]}),
              flush=True)
    print(json.dumps({"metric": "meta_validation_tasks_beating_adamw", "value": wins,
                      "unit": f"of {len(META_TASKS)}", "seconds": round(
                          time.perf_counter() - start, 1), "program": space.format(program),
                      **origin}), flush=True)
    print(json.dumps({"metric": "meta_validation_tasks_beating_adamw_tuned_decay",
                      "value": wins_tuned, "unit": f"of {len(META_TASKS)}",
                      "weight_decays": sorted(decays), **origin}), flush=True)

if __name__ == "__main__":
    main()
