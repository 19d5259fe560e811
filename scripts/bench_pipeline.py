"""Candidates/s through the whole campaign loop (select, mutate, simplify, hash, cache,
evaluate, store) on the AutoNumerics space with constant fitting off, and the fraction of a
real campaign's time the platform itself takes.

Prints one JSON line per figure, each the median over --repeats runs:

* `pipeline_local_candidates_per_s`, `pipeline_ray_candidates_per_s`: the local executor (one
  process) and the Ray executor with 2 workers, side by side in one run, fitting off;
* `pipeline_overhead_fraction`: on the real AutoNumerics workload (constant fitting on, local
  executor, one process), the fraction of wall time spent outside the space's evaluation
  (select, mutate, simplify, hash, cache, store, bookkeeping). Both times come from the same
  run, so machine drift cancels out. One line per config: ``demo`` (the settings of
  configs/autonumerics_exp2.yaml, the quick start's) and ``hour`` (those of
  configs/autonumerics_exp2_hour.yaml, which the README's one-CPU-hour 2^x results ran:
  fma, three fit starts, grow_constant, a population of 256).

    python scripts/bench_pipeline.py [--candidates 20000] [--repeats 3] [--skip-ray]
        [--overhead-candidates 3000] [--overhead-configs demo hour] [--overhead-repeats N]
        [--skip-overhead]
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

CONFIG = """
seed: {seed}
space:
  name: autonumerics
  settings: {{target: exp2, fit_constants: false, max_statements: 16}}
evolution: {{strategy: nsga2, population_size: 100, tournament_size: 2}}
budget: {{max_evaluations: {candidates}, max_candidates: {candidates}}}
executor: {{kind: {executor}, workers: 2, batch_size: {batch_size}}}
store: {{flush_rows: 5000, flush_seconds: 5}}
"""


def run_once(executor: str, candidates: int, seed: int, batch_size: int) -> dict:
    config = parse_config(CONFIG.format(seed=seed, candidates=candidates, executor=executor,
                                        batch_size=batch_size))
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite:///{directory}/bench.db")
        controller = CampaignController.create(config, store, f"bench-{executor}-{seed}")
        if executor == "ray":  # start Ray and the actors before the clock starts
            from automl.executor import make_executor

            controller.executor = make_executor(config, controller.space)
        start = time.perf_counter()
        summary = controller.run()
        seconds = time.perf_counter() - start
        if executor == "ray":
            controller.executor.close()
        stored = len(store.load_candidates(summary.campaign.id))
        store.close()
    return {"seconds": seconds, "candidates": summary.candidates, "stored": stored,
            "evaluations": summary.evaluations, "hit_rate": summary.cache_hit_rate}


OVERHEAD_CONFIGS = {
    "demo": """
seed: {seed}
space:
  name: autonumerics
  settings: {{target: exp2, ops: [add, sub, mul, div], fit_constants: true, max_statements: 16}}
evolution: {{strategy: nsga2, population_size: 64, tournament_size: 2}}
budget: {{max_evaluations: {candidates}, max_candidates: {candidates}}}
executor: {{kind: local, batch_size: 8}}
""",
    "hour": """
seed: {seed}
space:
  name: autonumerics
  settings: {{target: exp2, ops: [add, sub, mul, div, fma], fit_constants: true, fit_restarts: 3,
             max_statements: 16, new_constant_probability: 0.5, inherit_constants: true,
             grow_constant_weight: 1.0}}
evolution: {{strategy: nsga2, population_size: 256, tournament_size: 2}}
budget: {{max_evaluations: {candidates}, max_candidates: {candidates}}}
executor: {{kind: local, batch_size: 8}}
""",
}


def overhead_once(candidates: int, seed: int, config_name: str = "demo") -> dict:
    """One campaign of those settings; the space's evaluation is timed from inside."""
    config = parse_config(OVERHEAD_CONFIGS[config_name].format(seed=seed, candidates=candidates))
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite:///{directory}/bench.db")
        controller = CampaignController.create(config, store, f"overhead-{seed}")
        space, evaluating = controller.space, [0.0]
        evaluate = space.evaluate

        def timed(programs):  # the local executor calls this, in this process
            start = time.perf_counter()
            try:
                return evaluate(programs)
            finally:
                evaluating[0] += time.perf_counter() - start

        space.evaluate = timed
        start = time.perf_counter()
        summary = controller.run()
        seconds = time.perf_counter() - start
        store.close()
    return {"seconds": seconds, "evaluating": evaluating[0], "candidates": summary.candidates,
            "evaluations": summary.evaluations, "hit_rate": summary.cache_hit_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--overhead-candidates", type=int, default=3000)
    parser.add_argument("--overhead-configs", nargs="+", default=["demo", "hour"],
                        choices=sorted(OVERHEAD_CONFIGS))
    parser.add_argument("--overhead-repeats", type=int,
                        help="runs per overhead config (default: --repeats)")
    parser.add_argument("--skip-overhead", action="store_true")
    arguments = parser.parse_args()
    machine = {"machine": platform.machine(), "cpus": os.cpu_count(),
               "python": platform.python_version()}
    runs = [("local", "pipeline_local_candidates_per_s", 16)]
    if not arguments.skip_ray:
        runs.append(("ray", "pipeline_ray_candidates_per_s", 256))
    for executor, metric, batch_size in runs:
        rates, details = [], []
        for repeat in range(arguments.repeats):
            result = run_once(executor, arguments.candidates, repeat, batch_size)
            assert result["stored"] == result["candidates"], result
            rates.append(result["candidates"] / result["seconds"])
            details.append(result)
        print(json.dumps({
            "metric": metric, "value": round(statistics.median(rates), 1),
            "unit": "candidates/s", "runs": [round(r, 1) for r in rates],
            "candidates": arguments.candidates, "batch_size": batch_size,
            "workers": 2 if executor == "ray" else 1,
            "cache_hit_rate": round(statistics.median(d["hit_rate"] for d in details), 3),
            **machine,
        }), flush=True)
    if executor == "ray":
        import ray

        ray.shutdown()
    for config_name in [] if arguments.skip_overhead else arguments.overhead_configs:
        runs = [overhead_once(arguments.overhead_candidates, seed, config_name)
                for seed in range(arguments.overhead_repeats or arguments.repeats)]
        fractions = [1.0 - r["evaluating"] / r["seconds"] for r in runs]
        print(json.dumps({
            "metric": "pipeline_overhead_fraction", "value": round(statistics.median(fractions), 4),
            "unit": "of wall time", "runs": [round(f, 4) for f in fractions],
            "candidates": arguments.overhead_candidates,
            "evaluations": [r["evaluations"] for r in runs],
            "platform_ms_per_candidate": round(statistics.median(
                1000 * (r["seconds"] - r["evaluating"]) / r["candidates"] for r in runs), 4),
            "evaluation_ms": round(statistics.median(
                1000 * r["evaluating"] / r["evaluations"] for r in runs), 3),
            "cache_hit_rate": round(statistics.median(r["hit_rate"] for r in runs), 3),
            "config": config_name, **machine,
        }), flush=True)


if __name__ == "__main__":
    main()
