"""best_classical per cost for AutoNumerics targets, and the shipped zoo beside it (issue 28).

JSON lines on stdout:

- ``{"metric": "best_classical", "target", "ops", "cost", "error", "name", "family",
  "program_cost"}`` for each target and cost from --min-cost to --max-cost: the least
  validation error of the classical approximations the op set writes, of at most that cost
  (`search_spaces.autonumerics.classical`, as `automl baselines --json` lists under by_cost);
- ``{"metric": "zoo_vs_classical", "file", "target", "cost", "error", "best_classical",
  "best_classical_name", "ratio", "beats"}`` for each float64 zoo entry of those targets: its
  program with its recorded constants on the validation points (the fma rounded once), beside
  best_classical at its cost under the op set it was found with.

    .venv/bin/python scripts/classical_baselines.py --targets exp2 exp log log2 erf
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from automl.plugins import get_space
from automl.zoo import read_entry
from search_spaces.autonumerics.classical import MAX_COST, classical_report
from search_spaces.autonumerics.targets import PAPER_TARGETS

ZOO = Path(__file__).resolve().parents[1] / "search_spaces" / "autonumerics" / "discovered"
SEARCH_OPS = ("add", "sub", "mul", "div", "fma")


def emit(row: dict) -> None:
    sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()


def best_classical(target: str, ops: tuple[str, ...], max_cost: int) -> dict[int, dict]:
    space = get_space("autonumerics", {"target": target, "ops": list(ops)})
    report = classical_report(space, max_cost=max_cost)
    return {int(row["cost"]): row for row in report.by_metric("autonumerics_best_classical")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", nargs="+", default=list(PAPER_TARGETS))
    parser.add_argument("--ops", nargs="+", default=list(SEARCH_OPS))
    parser.add_argument("--min-cost", type=int, default=4)
    parser.add_argument("--max-cost", type=int, default=MAX_COST)
    parser.add_argument("--no-zoo", action="store_true", help="Skip the zoo comparison.")
    args = parser.parse_args()
    tables: dict[tuple[str, tuple[str, ...]], dict[int, dict]] = {}
    for target in args.targets:
        ops = tuple(args.ops)
        tables[target, ops] = best = best_classical(target, ops, args.max_cost)
        for cost in range(args.min_cost, args.max_cost + 1):
            row = best[cost]
            emit({"metric": "best_classical", "target": target, "ops": list(ops),
                  "cost": cost, "error": row["error"], "name": row["name"],
                  "family": row["family"], "program_cost": row["program_cost"]})
    if args.no_zoo:
        return
    for path in sorted(ZOO.glob("*.dsl")):
        entry = read_entry(path)
        settings = dict(entry.settings)
        target = settings.get("target")
        if target not in args.targets or settings.get("precision", "float64") != "float64":
            continue
        space = get_space("autonumerics", settings)
        program = space.parse(entry.program, path.name)
        constants = entry.metrics.get("constants") or {}
        error = space.validation_error(program, constants)
        cost = int(space.structural_objectives(program)["cost"])
        ops = tuple(space.settings.ops)
        if (target, ops) not in tables:
            tables[target, ops] = best_classical(target, ops, args.max_cost)
        classical = tables[target, ops].get(min(cost, args.max_cost))
        emit({"metric": "zoo_vs_classical", "file": path.name, "target": target,
              "ops": list(ops), "cost": cost, "error": error,
              "best_classical": classical["error"] if classical else None,
              "best_classical_name": classical["name"] if classical else None,
              "ratio": (classical["error"] / error if classical and error > 0 else math.inf),
              "beats": bool(classical and error < classical["error"])})


if __name__ == "__main__":
    main()
