"""EvoNorm evaluation: what the rejection protocols remove and save, and the compile-once
interpreter vs per-candidate `jax.jit`.

Random layers (`EvoNormSpace.random`, the search's initial population) go through each phase
of `EvoNormSpace.evaluate` on its own, compiled first (each phase is timed on its second call):

* stability (adversarial weight perturbation) and quality (accuracy after 100 steps on the
  first architecture), then the proxy (full training on every architecture);
* `evonorm_rejected_fraction`: candidates either protocol rejects (the per-protocol fractions
  ride along);
* `evonorm_rejection_time_saved_ratio`: proxy time for every candidate / (time of both checks
  for every candidate + proxy time for the survivors). The proxy trains programs one after the
  other (`lax.map`), so the survivors' share is their fraction of the measured proxy time.
* `evonorm_batched_speedup`: candidates/s of the batched interpreter (proxy, compiled) / those
  of per-candidate jit, where each candidate's layer is its own unrolled code
  (`interpreter.unrolled_layer`) and every candidate pays its own compilation, as generated
  code would. `evonorm_per_candidate_training_only_seconds` is that code run again: the
  ceiling of any compile-once scheme.

Prints JSON lines. On 2 CPU cores the default settings take about 5 minutes.

    python scripts/bench_evonorm.py [--candidates 16] [--per-candidate 3] [--steps 300]
                                    [--part all|rejection|speedup]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import jax
import numpy as np

from search_spaces.evonorm import interpreter, training
from search_spaces.evonorm.space import EvoNormSpace


def timed(function, *args, **kwargs):
    """(result, seconds) of `function(*args)`."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def compiled_then_timed(space: EvoNormSpace, kind: str, programs) -> tuple[list, float, float]:
    """(rows, seconds of the timed call, seconds of the first call with its compilation)."""
    _, first = timed(space.run_phase, kind, programs)
    rows, seconds = timed(space.run_phase, kind, programs)
    return rows, seconds, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=16)
    parser.add_argument("--per-candidate", type=int, default=3,
                        help="candidates timed with per-candidate jit (each compiles)")
    parser.add_argument("--steps", type=int, default=300, help="proxy training steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=("all", "rejection", "speedup"), default="all")
    arguments = parser.parse_args()

    space = EvoNormSpace({"steps": arguments.steps, "quality_check": True,
                          "stability_check": True})
    rng = np.random.default_rng(arguments.seed)
    programs = [space.random(rng) for _ in range(arguments.candidates)]
    settings = space.settings
    context = {"candidates": len(programs), "architectures": list(settings.architectures),
               "steps": settings.steps, "batch_size": settings.batch_size,
               "device": jax.devices()[0].platform,
               "device_kind": jax.devices()[0].device_kind, "cpus": os.cpu_count(),
               "machine": platform.machine(), "jax": jax.__version__}

    proxy_rows, proxy_seconds, proxy_first = compiled_then_timed(space, "proxy", programs)
    batched_rate = len(programs) / proxy_seconds
    print(json.dumps({"metric": "evonorm_batched_candidates_per_s",
                      "value": round(batched_rate, 3), "unit": "candidates/s",
                      "seconds": round(proxy_seconds, 2),
                      "first_call_seconds_with_compile": round(proxy_first, 2), **context}),
          flush=True)

    if arguments.part in ("all", "rejection"):
        rejected = {}
        check_seconds = 0.0
        for check in ("stability", "quality"):
            rows, seconds, _ = compiled_then_timed(space, check, programs)
            rejected[check] = {i for i, (reason, _) in enumerate(rows) if reason is not None}
            check_seconds += seconds
        either = rejected["stability"] | rejected["quality"]
        survivors = len(programs) - len(either)
        with_rejection = check_seconds + proxy_seconds * survivors / len(programs)
        # what the rejected ones would have scored: are the protocols throwing good layers away?
        rejected_best = max((min(proxy_rows[i][0].values()) for i in either
                             if not isinstance(proxy_rows[i], str)), default=None)
        fractions = {f"{check}_fraction": round(len(ids) / len(programs), 3)
                     for check, ids in rejected.items()}
        print(json.dumps({"metric": "evonorm_rejected_fraction",
                          "value": round(len(either) / len(programs), 3), "unit": "fraction",
                          **fractions, "best_min_accuracy_of_rejected": rejected_best,
                          **context}), flush=True)
        print(json.dumps({"metric": "evonorm_rejection_time_saved_ratio",
                          "value": round(proxy_seconds / with_rejection, 2), "unit": "x",
                          "proxy_seconds_all": round(proxy_seconds, 2),
                          "check_seconds_all": round(check_seconds, 2),
                          "seconds_with_rejection": round(with_rejection, 2), **context}),
              flush=True)

    if arguments.part in ("all", "speedup"):
        per_candidate, run_only = [], []
        for program in programs[:arguments.per_candidate]:
            encoded = interpreter.encode([program], settings.max_nodes)
            proxy, seconds = timed(training.make_proxy, interpreter.unrolled_layer(
                program, groups=settings.groups, max_nodes=settings.max_nodes), 1,
                settings.architectures, settings.batch_size, settings.steps,
                settings.learning_rate, optimizer=settings.optimizer, seed=settings.seed)
            _, first = timed(proxy, encoded)
            per_candidate.append(seconds + first)
            run_only.append(timed(proxy, encoded)[1])
        per_candidate_rate = 1.0 / statistics.median(per_candidate)
        print(json.dumps({"metric": "evonorm_per_candidate_jit_candidates_per_s",
                          "value": round(per_candidate_rate, 3), "unit": "candidates/s",
                          "seconds_each": [round(s, 2) for s in per_candidate], **context}),
              flush=True)
        print(json.dumps({"metric": "evonorm_per_candidate_training_only_seconds",
                          "value": round(statistics.median(run_only), 3), "unit": "s",
                          "seconds_each": [round(s, 3) for s in run_only], **context}),
              flush=True)
        print(json.dumps({"metric": "evonorm_batched_speedup",
                          "value": round(batched_rate / per_candidate_rate, 2), "unit": "x",
                          "batched_candidates_per_s": round(batched_rate, 3),
                          "per_candidate_candidates_per_s": round(per_candidate_rate, 3),
                          **context}), flush=True)


if __name__ == "__main__":
    main()
