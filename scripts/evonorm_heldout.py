"""Held-out evaluation of discovered EvoNorm layers, next to BN-ReLU, EvoNorm-B0 and -S0.

Takes the best layers of a stored EvoNorm campaign (its Pareto front, ranked by the mean of
the proxy accuracies; `--top`) and the baselines, and trains each on an architecture the
search never saw (`--arch`, default the held-out VGG-style network) at each `--batch-sizes`
(4: where batch normalization suffers; 16), over `--seeds` seeds (initial weights and
minibatch order). Every program of a (batch size, seed) run trains in one compiled batch.
Prints one JSON line per program and batch size (mean and per-seed validation accuracy), then
`evonorm_heldout_best_vs_bn_relu` per batch size: the best discovered layer (chosen by its
mean over seeds) minus BN-ReLU.

    python scripts/evonorm_heldout.py --db sqlite:///results/automl.db --campaign evonorm-digits
    python scripts/evonorm_heldout.py --program my_layer.dsl [--program other.dsl]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import automl
from search_spaces.evonorm import interpreter, training
from search_spaces.evonorm.models import HELDOUT_ARCHITECTURE
from search_spaces.evonorm.space import BASELINES, EvoNormSpace

COMPARED_BASELINES = ("bn_relu", "evonorm_b0", "evonorm_s0")


def discovered(database: str, campaign: str, top: int) -> dict[str, str]:
    """{ref: DSL} of the campaign's best `top` front members by mean proxy accuracy."""
    with automl.open(database) as results:
        front = [c for c in results.pareto(campaign) if c.objectives]
    front.sort(key=lambda c: -statistics.fmean(c.objectives.values()))
    return {c.ref: c.program for c in front[:top]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="results database URL (with --campaign)")
    parser.add_argument("--campaign")
    parser.add_argument("--program", action="append", default=[], help="a DSL file (repeat)")
    parser.add_argument("--top", type=int, default=6)
    parser.add_argument("--arch", default=HELDOUT_ARCHITECTURE)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds are first-seed, first-seed + 1, ...: choose a layer on "
                             "some seeds, confirm it on fresh ones")
    parser.add_argument("--steps", type=int, default=training.DEFAULT_STEPS)
    arguments = parser.parse_args()
    if not arguments.program and not (arguments.db and arguments.campaign):
        parser.error("give --db and --campaign, or --program FILE")

    space = EvoNormSpace()
    candidates: dict[str, str] = {}
    if arguments.db:
        candidates.update(discovered(arguments.db, arguments.campaign, arguments.top))
    for path in arguments.program:
        candidates[path] = Path(path).read_text()
    if not candidates:
        sys.exit(f"campaign {arguments.campaign!r} has no evaluated layers")
    named = {**candidates, **{name: BASELINES[name] for name in COMPARED_BASELINES}}
    programs = {name: space.parse(text, name) for name, text in named.items()}
    encoded = interpreter.encode(list(programs.values()), space.settings.max_nodes)

    for batch_size in arguments.batch_sizes:
        accuracies = {name: [] for name in programs}
        start = time.perf_counter()
        seeds = range(arguments.first_seed, arguments.first_seed + arguments.seeds)
        for seed in seeds:
            train = training.make_trainer(
                arguments.arch, space.layer(), batch_size, arguments.steps,
                space.settings.learning_rate, len(programs), seed=seed)
            result = train(encoded)
            for name, accuracy in zip(programs, result.accuracy, strict=True):
                accuracies[name].append(float(accuracy))
        seconds = time.perf_counter() - start
        means = {name: statistics.fmean(values) for name, values in accuracies.items()}
        for name, values in accuracies.items():
            print(json.dumps({
                "metric": "evonorm_heldout_accuracy", "program": name,
                "dsl": space.format(programs[name]), "baseline": name in COMPARED_BASELINES,
                "arch": arguments.arch, "batch_size": batch_size,
                "value": round(means[name], 4), "unit": "accuracy",
                "spread": round(float(np.std(values)), 4),
                "seeds": list(seeds), "values": [round(v, 4) for v in values],
                "steps": arguments.steps}),
                flush=True)
        best = max(candidates, key=means.__getitem__)
        print(json.dumps({
            "metric": "evonorm_heldout_best_vs_bn_relu", "arch": arguments.arch,
            "batch_size": batch_size, "value": round(means[best] - means["bn_relu"], 4),
            "unit": "accuracy difference", "best": best, "best_accuracy": round(means[best], 4),
            "bn_relu": round(means["bn_relu"], 4),
            "evonorm_b0": round(means["evonorm_b0"], 4),
            "evonorm_s0": round(means["evonorm_s0"], 4), "seeds": list(seeds),
            "seconds": round(seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
