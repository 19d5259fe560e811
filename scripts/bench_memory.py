"""Peak memory of the controller over a long, cheap campaign: it must stay flat after warm-up,
bounded by the population, the front, the unflushed rows and the cache's memory
(`cache.memory_entries`), not by the campaign's length.

Each campaign runs in a fresh process (so its peak RSS is its own): AutoNumerics 2^x without
constant fitting on a 64-point grid (evaluations take microseconds: the controller is what is
measured), nsga2, local executor, SQLite in a temporary directory. RSS is sampled at tenths of
the campaign. Prints one JSON line per campaign size:
``controller_peak_rss_mib`` (with the samples and the growth over the second half).

    python scripts/bench_memory.py [--candidates 100000 1000000] [--memory-entries 20000]

``--memory-entries 0`` leaves the setting out of the config (for code that predates it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

CONFIG = """
seed: 0
space:
  name: autonumerics
  settings: {{target: exp2, fit_constants: false, grid_points: 64, max_statements: 16}}
evolution: {{strategy: nsga2, population_size: 100, tournament_size: 2}}
budget: {{max_evaluations: {candidates}, max_candidates: {candidates}}}
cache: {{enabled: true{memory}}}
executor: {{kind: local, batch_size: 16}}
store: {{flush_rows: 5000, flush_seconds: 5}}
"""


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def campaign(candidates: int, memory_entries: int) -> dict:
    """Run one campaign in this process; RSS at each tenth of it and the peak."""
    from automl.config import parse_config
    from automl.controller import CampaignController
    from automl.store import Store

    memory = f", memory_entries: {memory_entries}" if memory_entries else ""
    config = parse_config(CONFIG.format(candidates=candidates, memory=memory))
    samples: list[tuple[int, float]] = []
    marks = [candidates * k // 10 for k in range(1, 11)]

    def on_progress(progress) -> None:
        while marks and progress.candidates >= marks[0]:
            samples.append((marks.pop(0), round(rss_mib(), 1)))

    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite:///{directory}/memory.db")
        controller = CampaignController.create(config, store, "memory",
                                               on_progress=on_progress)
        start = time.perf_counter()
        summary = controller.run()
        seconds = time.perf_counter() - start
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"candidates": summary.candidates, "evaluations": summary.evaluations,
            "seconds": round(seconds, 1), "peak_rss_mib": round(peak, 1), "samples": samples,
            "cache_entries_in_memory": len(controller.cache)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--memory-entries", type=int, default=20_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(campaign(arguments.child, arguments.memory_entries)))
        return
    machine = {"machine": platform.machine(), "cpus": os.cpu_count(),
               "python": platform.python_version()}
    for candidates in arguments.candidates:
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(candidates), "--memory-entries",
             str(arguments.memory_entries)], check=True, capture_output=True, text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        samples = result["samples"]
        half = [rss for _, rss in samples[len(samples) // 2 - 1:]]
        print(json.dumps({
            "metric": "controller_peak_rss_mib", "value": result["peak_rss_mib"], "unit": "MiB",
            "candidates": result["candidates"], "evaluations": result["evaluations"],
            "seconds": result["seconds"],
            "rss_growth_second_half_mib": round(max(half) - half[0], 1) if half else None,
            "rss_samples_mib": samples, "memory_entries": arguments.memory_entries or None,
            "cache_entries_in_memory": result["cache_entries_in_memory"], **machine,
        }), flush=True)


if __name__ == "__main__":
    main()
