"""Query latency at 10^6 evaluations: `top`, `pareto` and `lineage` on SQLite (or --db URL).

Fills a fresh database through the store's normal write path (`Store.write_batch`, batches of
10,000, as a long campaign would) with generated campaigns of two and three objectives, then
times the queries the CLI verbs run (`automl.results.Results`). Each query is timed cold
(fresh connection) and repeated; prints one JSON line per figure with the median:

* `query_top_seconds`: top 10 by one objective;
* `query_pareto_seconds`: the whole Pareto front (with programs and objectives);
* `query_lineage_seconds`: the ancestors of the last candidate back to the seed.

    python scripts/bench_queries.py [--evaluations 1000000] [--db sqlite:///tmp/q.db]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

import numpy as np

import automl
from automl.store import CandidateRow, EvaluationRow, Store

BATCH = 10_000
PROGRAM = "t1 = x * c0\nt2 = t1 + c1\nf = t2 * t2\n"


def objectives_for(count: int, dimensions: int, rng: np.random.Generator) -> list[dict]:
    """Two objectives shaped like an AutoNumerics campaign (error falls with cost); three
    like an optimizer campaign (three task losses, correlated)."""
    if dimensions == 2:
        cost = rng.integers(0, 32, count).astype(float)
        error = 10.0 ** (-cost / 2.0 - 3.0 * rng.random(count))
        return [{"max_relative_error": e, "cost": c} for e, c in zip(error, cost, strict=True)]
    shared = rng.random(count)
    losses = 0.5 * shared[:, None] + 0.5 * rng.random((count, 3))
    return [{"loss_a": a, "loss_b": b, "loss_c": c} for a, b, c in losses]


def fill(store: Store, name: str, evaluations: int, dimensions: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    example = objectives_for(1, dimensions, rng)[0]
    campaign = store.create_campaign(
        name, "autonumerics" if dimensions == 2 else "optimizers", seed, {"generated": True},
        "0" * 32, "bench", objectives=[(key, "minimize") for key in example])
    now = time.time()
    for start in range(0, evaluations, BATCH):
        numbers = np.arange(start, min(start + BATCH, evaluations))
        # a parent from the last ~1000 candidates, as a steady-state population would give
        parents = numbers - rng.integers(1, 1000, len(numbers))
        values = objectives_for(len(numbers), dimensions, rng)
        candidates = [CandidateRow(int(n), PROGRAM, () if p < 0 else (int(p),),
                                   None if p < 0 else "change_argument",
                                   f"{n:032x}", "evaluated", created_at=now)
                      for n, p in zip(numbers, parents, strict=True)]
        rows = [EvaluationRow(int(n), v, {"constants": {"c0": 0.5, "c1": 1.5}}, "bench", 0.01,
                              None, now) for n, v in zip(numbers, values, strict=True)]
        store.write_batch(campaign.id, candidates=candidates, evaluations=rows)
    return campaign.id


def timed(function, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evaluations", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    arguments = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="bench_queries_")
    url = arguments.db or f"sqlite:///{directory}/queries.db"
    context = {"evaluations": arguments.evaluations, "backend": url.split(":")[0],
               "cpus": os.cpu_count(), "machine": platform.machine()}
    with Store.open(url) as store:
        for dimensions in (2, 3):
            start = time.perf_counter()
            fill(store, f"generated-{dimensions}d", arguments.evaluations, dimensions, dimensions)
            print(json.dumps({"metric": "query_fill_seconds", "objectives": dimensions,
                              "value": round(time.perf_counter() - start, 1), "unit": "s",
                              **context}), flush=True)
    sizes: dict[str, int] = {}  # rows each query returned (the last run)
    for dimensions in (2, 3):
        campaign = f"generated-{dimensions}d"
        last = f"{campaign}:{arguments.evaluations - 1}"

        def run_top(results, campaign=campaign):
            sizes["top"] = len(results.top(campaign, 10))

        def run_pareto(results, campaign=campaign):
            sizes["pareto"] = len(results.pareto(campaign))

        def run_lineage(results, last=last):
            sizes["lineage"] = len(results.lineage(last))

        for query, function in (("top", run_top), ("pareto", run_pareto),
                                ("lineage", run_lineage)):
            def cold(function=function):  # a fresh connection each time, as the CLI opens one
                with automl.open(url) as results:
                    function(results)

            seconds = timed(cold, arguments.repeats)
            print(json.dumps({"metric": f"query_{query}_seconds", "objectives": dimensions,
                              "value": round(statistics.median(seconds), 4), "unit": "s",
                              "max": round(max(seconds), 4), "rows_returned": sizes[query],
                              "target": 1.0, **context}), flush=True)


if __name__ == "__main__":
    main()
