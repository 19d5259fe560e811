"""Held-out evaluation of discovered EvoNorm layers, next to BN-ReLU, EvoNorm-B0 and -S0
(`EvoNormSpace.validate`, `automl validate`).

The best layers of a stored EvoNorm campaign (its Pareto front, ranked by the mean of the proxy
accuracies; option `top`: `best_front_members`) or DSL files, and the baselines, are trained on
an architecture the search never saw (`arch`, default the held-out VGG-style network) at each
of `batch_sizes` (4: where batch normalization suffers; 16), over `seeds` seeds (initial
weights and minibatch order) from `first_seed` on. Every program of a (batch size, seed) run
trains in one compiled batch. One row per program and batch size (mean and per-seed validation
accuracy), then `evonorm_heldout_best_vs_bn_relu` per batch size: the best discovered layer
(chosen by its mean over seeds) minus BN-ReLU.

This module does not import the space (the space imports it): `heldout_accuracies` takes the
space instance. It imports JAX (the training code) only when it trains or reads its options, so
the space stays light to import.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pydantic

from automl.workflows import Candidates, RowRecorder, RowSink, WorkflowOptions, WorkflowReport
from search_spaces.evonorm import interpreter

COMPARED_BASELINES = ("bn_relu", "evonorm_b0", "evonorm_s0")


def _heldout_architecture() -> str:
    from search_spaces.evonorm.models import HELDOUT_ARCHITECTURE

    return HELDOUT_ARCHITECTURE


def _default_steps() -> int:
    from search_spaces.evonorm.training import DEFAULT_STEPS

    return DEFAULT_STEPS


class HeldoutOptions(WorkflowOptions):
    """`automl validate` options of the evonorm space."""

    top: int = pydantic.Field(6, ge=1)  # a campaign's best front members by mean accuracy
    arch: str = pydantic.Field(default_factory=_heldout_architecture)
    batch_sizes: tuple[pydantic.PositiveInt, ...] = (4, 16)
    seeds: int = pydantic.Field(3, ge=1)
    # seeds are first_seed, first_seed + 1, ...: choose a layer on some seeds, confirm it on
    # fresh ones
    first_seed: int = 0
    steps: int = pydantic.Field(default_factory=_default_steps, ge=1)

    @pydantic.field_validator("arch")
    @classmethod
    def _known(cls, value: str) -> str:
        from search_spaces.evonorm.models import ARCHITECTURES

        if value not in ARCHITECTURES:
            raise ValueError(f"allowed: {', '.join(ARCHITECTURES)}")
        return value

    @pydantic.field_validator("batch_sizes")
    @classmethod
    def _some(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("at least one batch size")
        return value


def best_front_members(results: Any, campaign: str | int, top: int) -> Candidates:
    """{ref: DSL} of the campaign's best `top` front members by mean proxy accuracy
    (`results`: `automl.results.Results`)."""
    front = [c for c in results.pareto(campaign) if c.objectives]
    if not front:
        raise ValueError(f"campaign {results.campaign(campaign).name!r} has no evaluated layers")
    front.sort(key=lambda c: -statistics.fmean(c.objectives.values()))
    return Candidates({c.ref: c.program for c in front[:top]},
                      {"campaign": front[0].campaign})


def heldout_accuracies(space: Any, programs: Mapping[str, str], options: HeldoutOptions, *,
                       on_row: RowSink | None = None) -> WorkflowReport:
    """`programs` (name -> DSL) and the compared baselines trained on `options.arch`, with
    `space`'s (an `EvoNormSpace`) layer interpreter, statement count and learning rate."""
    from search_spaces.evonorm import training

    if not programs:
        raise ValueError("no layers to validate")
    baselines = space.baselines()
    candidates = dict(programs)
    named = {**candidates, **{name: baselines[name] for name in COMPARED_BASELINES}}
    parsed = {name: space.parse(text, name) for name, text in named.items()}
    encoded = interpreter.encode(list(parsed.values()), space.settings.max_nodes)
    seeds = list(range(options.first_seed, options.first_seed + options.seeds))
    record = RowRecorder(on_row)
    summary: dict[str, Any] = {}
    table: dict[str, dict[int, list[float]]] = {name: {} for name in parsed}
    for batch_size in options.batch_sizes:
        accuracies: dict[str, list[float]] = {name: [] for name in parsed}
        start = time.perf_counter()
        for seed in seeds:
            train = training.make_trainer(
                options.arch, space.layer(), batch_size, options.steps,
                space.settings.learning_rate, len(parsed), seed=seed, data=space.dataset())
            result = train(encoded)
            for name, accuracy in zip(parsed, result.accuracy, strict=True):
                accuracies[name].append(float(accuracy))
        seconds = time.perf_counter() - start
        means = {name: statistics.fmean(values) for name, values in accuracies.items()}
        for name, values in accuracies.items():
            table[name][batch_size] = values
            record({
                "metric": "evonorm_heldout_accuracy", "program": name,
                "dsl": space.format(parsed[name]), "baseline": name in COMPARED_BASELINES,
                "arch": options.arch, "batch_size": batch_size,
                "value": round(means[name], 4), "unit": "accuracy",
                "spread": round(float(np.std(values)), 4),
                "seeds": seeds, "values": [round(v, 4) for v in values],
                "steps": options.steps})
        best = max(candidates, key=means.__getitem__)
        difference = round(means[best] - means["bn_relu"], 4)
        record({
            "metric": "evonorm_heldout_best_vs_bn_relu", "arch": options.arch,
            "batch_size": batch_size, "value": difference,
            "unit": "accuracy difference", "best": best, "best_accuracy": round(means[best], 4),
            "bn_relu": round(means["bn_relu"], 4),
            "evonorm_b0": round(means["evonorm_b0"], 4),
            "evonorm_s0": round(means["evonorm_s0"], 4), "seeds": seeds,
            "seconds": round(seconds, 1)})
        summary[f"evonorm_heldout_best_vs_bn_relu (batch {batch_size})"] = difference
    return WorkflowReport(
        title=f"held-out {options.arch}: {len(candidates)} layer(s) beside "
              f"{', '.join(COMPARED_BASELINES)} (seeds {seeds[0]}-{seeds[-1]})",
        rows=tuple(record.rows), summary=summary,
        markdown=markdown_table(table, options.arch, options.batch_sizes),
        columns={"evonorm_heldout_accuracy": ("program", "baseline", "batch_size", "value",
                                              "spread", "values"),
                 "evonorm_heldout_best_vs_bn_relu": ("batch_size", "value", "best",
                                                     "best_accuracy", "bn_relu", "evonorm_b0",
                                                     "evonorm_s0", "seconds")})


def markdown_table(table: Mapping[str, Mapping[int, list[float]]], arch: str,
                   batch_sizes: tuple[int, ...]) -> str:
    """Mean ± standard deviation over seeds per layer and batch size, as the README shows."""
    header = ["layer", *(f"{arch}, batch {b}" for b in batch_sizes)]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for name, by_batch in table.items():
        cells = [f"{statistics.fmean(v):.3f} ± {float(np.std(v)):.3f}"
                 for v in (by_batch[b] for b in batch_sizes)]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines) + "\n"
