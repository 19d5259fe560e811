"""Seconds per candidate on each task of the optimizer space's tiers (issue 27).

For every task of `DEFAULT_TIERS` (or --tasks): a batch of AdamW mutants trained by the
compile-once interpreter over the space's default learning-rate grid and schedule; prints one
JSON line per task (on JAX's default device: scripts/gpu_check.sh runs it on the GPU for the
language models and the GPU tiers) with the compile time, the training seconds per candidate
(best of --repeats, compile excluded) and per batched step, the task's steps, batch size and
parameters, and its cost (steps x parameters) relative to the proxy it scales (funnel
tasks). The process's CPU seconds are reported beside the wall-clock ones: on a shared machine
they are what one idle core would take. Run it on one core, XLA single-threaded:

    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \
        taskset -c 0 .venv/bin/python scripts/bench_optimizer_tiers.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_optimizer_eval import mutants  # noqa: E402 - the same AdamW mutants

from automl.batching import resolve_program_batching  # noqa: E402
from search_spaces.optimizers import interpreter  # noqa: E402
from search_spaces.optimizers.space import OptimizersSpace  # noqa: E402
from search_spaces.optimizers.tasks import DEFAULT_TIERS, TASK_NAMES, get_task  # noqa: E402

FUNNEL_OF = {"mlp_mnist1d_x": "mlp_mnist1d", "cnn_digits_shift_x": "cnn_digits_shift",
             "mlp_mnist1d_xl": "mlp_mnist1d_l", "cnn_digits_shift_xl": "cnn_digits_shift_l"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+",
                        default=[name for tier in DEFAULT_TIERS.values() for name in tier])
    parser.add_argument("--candidates", type=int, default=16,
                        choices=interpreter.BATCH_SIZES)
    parser.add_argument("--repeats", type=int, default=2)
    options = parser.parse_args()
    space = OptimizersSpace({})
    settings = space.settings
    programs = mutants(space, options.candidates, seed=0)
    encoded = interpreter.encode(programs, settings.max_statements, settings.max_constants)
    context = {"learning_rates": len(settings.learning_rates),
               "lr_schedule": settings.lr_schedule, "candidates": options.candidates,
               "cpus_allowed": len(os.sched_getaffinity(0)), "machine": platform.machine(),
               "device": f"{jax.devices()[0].platform}: {jax.devices()[0].device_kind}"}
    for name in options.tasks:
        task = get_task(name)
        run = interpreter.make_trainer(
            task, options.candidates, settings.max_statements, settings.max_constants,
            settings.learning_rates, batching=resolve_program_batching("auto"),
            lr_schedule=settings.lr_schedule)
        start = time.perf_counter()
        run(encoded)
        first = time.perf_counter() - start
        seconds, cpu_seconds = [], []
        for _ in range(options.repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            run(encoded)
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu_start)
        cost = task.steps * task.parameter_count
        row = {"metric": "optimizer_task_seconds_per_candidate", "task": name,
               "tier": TASK_NAMES[name], "value": round(min(seconds) / options.candidates, 3),
               "unit": "s", "repeats_seconds_per_candidate": [
                   round(s / options.candidates, 3) for s in seconds],
               "cpu_seconds_per_candidate": round(min(cpu_seconds) / options.candidates, 3),
               "first_call_seconds_with_compile": round(first, 1), "steps": task.steps,
               "batch_size": task.batch_size, "parameters": task.parameter_count,
               # one training step of every candidate at every grid point, all at once
               "batched_step_ms": round(1000 * min(seconds) / task.steps, 3), **context}
        if name in FUNNEL_OF:
            proxy = get_task(FUNNEL_OF[name])
            row["cost_over_proxy"] = round(cost / (proxy.steps * proxy.parameter_count), 1)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
