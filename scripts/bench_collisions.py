"""Functional-hash collisions: candidates per hash vs. mantissa bits, and how many true
non-equivalences a collision merged (checked by evaluating both programs).

1. A candidate stream is generated the way a search makes it: random programs, then children by
   `space.mutate` + `space.simplify`, retried until the child's functional hash (at the space's
   configured `mantissa_bits`, 24 by default) differs from its parent's
   (`mutate_until_changed`, as `CampaignController._mutate` does).
   * ``--stream search`` (AutoNumerics' default) runs the real controller (`CampaignController`,
     NSGA-II, population `--population`, cache on, local executor, a temporary SQLite store)
     for `--candidates` candidates and reads back every candidate's program, duplicates
     included: parents are chosen by fitness, as in a campaign. Costs the search's evaluations.
   * ``--stream drift`` (the optimizers space's default) evaluates nothing: each parent is drawn
     uniformly from the last `--population` candidates (an aging population without fitness),
     the same per-candidate seeding and mutate/simplify/hash path otherwise. Cheap, but for
     AutoNumerics it drifts to very small programs (no selection pressure towards accuracy).
   The stream is fixed once; a search run at other `mantissa_bits` would take another path
   (its cache and its "did the mutation change the function" test would answer differently).
2. For each `--bits` b, every candidate is hashed by the space's own hash path
   (`space.fingerprint`) on a copy of the space whose only changed setting is
   ``mantissa_bits: b``. Reported: distinct hashes, candidates per hash (mean; largest group),
   and the cache-hit rate such a cache would give, 1 - distinct hashes / candidates. For
   comparison, the first line gives the distinct program texts (a purely syntactic cache).
3. True non-equivalences merged: hash groups holding at least two distinct programs are
   sampled (up to `--check-groups` per bits, reproducibly from `--seed`). In a group the cache
   evaluates the first program the stream produced and hands its result to every later member;
   each other distinct member is compared with that first one in two ways:
   * by objectives: both are evaluated (`space.evaluate`, for AutoNumerics with constants
     fitted), and they differ when one failed and the other did not, or when any objective
     differs by more than `--rtol` (relative); the line gives how many members differed by
     each reason ("failed", or an objective's name: AutoNumerics' `cost` counts statements,
     so equal functions written differently have different costs);
   * by outputs, with no fitting: both run on `--points` fresh inputs (AutoNumerics: the
     target interval's two endpoints, which the evaluation grid holds, and uniform random x
     over it, the fitted constants at their probe values `constant_probe_value`; optimizers:
     a `hash_steps`-step trajectory on random tensors of `--points` entries, as the hash runs
     it), compared at full precision: "bitwise" (any output bit differs; NaNs alike,
     -0.0 = 0.0) and "beyond round-off" (some output differs by more than `--output-rtol`
     relative plus 64 float64 epsilons of the output's scale, so that re-associated
     arithmetic does not count).
   Per bits and criterion: groups checked, groups that merged truly different functions, and
   the fraction of all candidates affected (members that would receive a wrong cached result;
   with sampling, scaled from the checked groups to all groups with several programs).

Each figure is one JSON line ("metric", "value", "unit", plus context).

    python scripts/bench_collisions.py [--space autonumerics] [--candidates 3000]
        [--bits 1 5 7 24] [--seed 0] [--check-groups 200] [--rtol 1e-6]
        [--output-rtol 1e-9] [--points 4096] [--stream search|drift] [--population 100]
        [--settings "{target: exp2, fit_constants: true}"]

Spaces: autonumerics and optimizers (evonorm's evaluation trains networks: too slow here).
For optimizers the objectives check trains every checked program on the proxy tasks (compiled
batches, seconds each on a CPU): use a small `--check-groups` there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from automl.config import CampaignConfig
from automl.evolution.mutations import MutationFailed, mutate_until_changed
from automl.hashing import program_function, quantize
from automl.ir import Program, parameter_sort_key, run_numpy
from automl.plugins import get_space
from automl.space import Evaluation, SearchSpace

DEFAULT_SETTINGS = {
    "autonumerics": {"target": "exp2", "fit_constants": True},
    "optimizers": {"funnel_tasks": []},
}
DEFAULT_STREAM = {"autonumerics": "search", "optimizers": "drift"}
EVALUATION_CHUNK = 64
_EPSILON = float(np.finfo(np.float64).eps)


def space_with_bits(name: str, settings: dict[str, Any], bits: int) -> SearchSpace:
    """The space with its settings unchanged except ``mantissa_bits``."""
    return get_space(name, {**settings, "mantissa_bits": bits})


# -- the candidate stream -------------------------------------------------------------------
def drift_stream(space: SearchSpace, candidates: int, seed: int, population: int = 100,
                 max_tries: int = 100) -> list[str]:
    """Program texts of `candidates` candidates made as the controller makes them (same seeding,
    mutate + simplify + hash, retried until the hash changes), parents drawn uniformly from the
    last `population` candidates (no evaluation, so no fitness)."""
    window: list[tuple[Program, str]] = []
    texts: list[str] = []
    for number in range(candidates):
        rng = np.random.default_rng([seed, number])
        program: Program | None = None
        if number < population:
            program = space.initial_population(rng, 1)[0]
        else:
            parent, parent_hash = window[int(rng.integers(len(window)))]

            def mutate_once(current: Program, rng: np.random.Generator = rng
                            ) -> tuple[Program, str]:
                child, kind = space.mutate(current, rng, canonical=False)
                return space.simplify(child)[0], kind

            try:
                child, _, child_hash, _ = mutate_until_changed(
                    parent, parent_hash, mutate_once, space.fingerprint, max_tries)
            except MutationFailed:
                program = space.random(rng)
            else:
                window.append((child, child_hash))
                texts.append(space.format(child))
        if program is not None:
            program = space.simplify(program)[0]
            window.append((program, space.fingerprint(program)))
            texts.append(space.format(program))
        del window[:-population]
    return texts


def search_stream(space_name: str, settings: dict[str, Any], candidates: int, seed: int,
                  population: int = 100) -> list[str]:
    """Program texts of every candidate (duplicates included) of a real campaign: NSGA-II,
    cache on, local executor, stopped after `candidates` candidates."""
    from automl.controller import CampaignController
    from automl.store import Store

    with tempfile.TemporaryDirectory() as directory:
        config = CampaignConfig.model_validate({
            "seed": seed, "database": f"sqlite:///{directory}/collisions.db",
            "space": {"name": space_name, "settings": settings},
            "evolution": {"strategy": "nsga2", "population_size": population},
            "budget": {"max_evaluations": candidates, "max_candidates": candidates},
            "cache": {"enabled": True},
            "executor": {"kind": "local", "batch_size": 8},
        })
        store = Store.open(config.database)
        try:
            summary = CampaignController.create(config, store, "collisions").run()
            rows = store.load_candidates(summary.campaign.id)
        finally:
            store.close()
    return [row.program for row in rows]


# -- hashing --------------------------------------------------------------------------------
def hash_groups(space: SearchSpace, texts: Sequence[str], programs: dict[str, Program]
                ) -> dict[str, list[int]]:
    """Functional hash -> indexes (stream order) of the candidates with that hash; each
    distinct program is hashed once."""
    by_text = {text: space.fingerprint(programs[text]) for text in dict.fromkeys(texts)}
    groups: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        groups.setdefault(by_text[text], []).append(index)
    return groups


# -- checking whether two programs are the same function --------------------------------------
def autonumerics_outputs(space: Any, program: Program, points: int, seed: int
                         ) -> list[np.ndarray]:
    """f on the target interval's endpoints (which the evaluation grid holds) and `points` - 2
    uniform inputs over it, constants at their probe values (the values the hash uses)."""
    from search_spaces.autonumerics.space import constant_probe_value

    rng = np.random.default_rng([seed, 1])
    lower, upper = space.target.lower, space.target.upper
    x = np.concatenate([[lower, upper], rng.uniform(lower, upper, max(points - 2, 0))])
    values: dict[str, Any] = {"x": x}
    for name in program.parameters:
        values[name] = constant_probe_value(parameter_sort_key(name)[1])
    with np.errstate(all="ignore"):
        outputs = program_function(program, space.signature.registry)(**values)
    return [np.broadcast_to(np.asarray(out, np.float64), values["x"].shape) for out in outputs]


def optimizers_outputs(space: Any, program: Program, points: int, seed: int
                       ) -> list[np.ndarray]:
    """The updates of a `hash_steps`-step trajectory (w -= update; m, v carried) on random
    tensors of `points` entries in 4 rows, as `OptimizersSpace.fingerprint` runs it."""
    rng = np.random.default_rng([seed, 2])
    shape = (4, max(points // 4, 2))
    w, m, v = (rng.normal(size=shape) for _ in range(3))
    v = np.abs(v)
    updates = []
    for step in range(space.settings.hash_steps):
        with np.errstate(all="ignore"):
            outputs = run_numpy(program, {"w": w, "g": rng.normal(size=shape), "m": m, "v": v,
                                          "lr": 0.1, "t": float(step + 1)},
                                space.signature.registry)
        update = np.broadcast_to(outputs["update"], shape)
        m = np.broadcast_to(outputs["m"], shape)
        v = np.broadcast_to(outputs["v"], shape)
        w = w - update
        updates.append(np.asarray(update, np.float64))
    return updates


OUTPUTS: dict[str, Callable[[Any, Program, int, int], list[np.ndarray]]] = {
    "autonumerics": autonumerics_outputs,
    "optimizers": optimizers_outputs,
}


def outputs_differ(first: Sequence[np.ndarray], second: Sequence[np.ndarray],
                   output_rtol: float) -> tuple[bool, bool]:
    """(differ bitwise, differ beyond round-off) of two programs' outputs."""
    if len(first) != len(second) or any(a.shape != b.shape for a, b in
                                        zip(first, second, strict=True)):
        return True, True
    bitwise = beyond = False
    with np.errstate(all="ignore"):
        for a, b in zip(first, second, strict=True):
            if np.array_equal(quantize(a, 52), quantize(b, 52)):
                continue
            bitwise = True
            nan_a, nan_b = np.isnan(a), np.isnan(b)
            finite = np.isfinite(a) & np.isfinite(b)
            both = np.concatenate([np.abs(a[finite]), np.abs(b[finite])])
            scale = float(both.max()) if both.size else 0.0
            tolerance = output_rtol * np.maximum(np.abs(a), np.abs(b)) + 64 * _EPSILON * scale
            close = np.where(finite, np.abs(a - b) <= tolerance, (a == b) | (nan_a & nan_b))
            if not close.all():
                beyond = True
    return bitwise, beyond


def evaluations_differ(first: Evaluation, second: Evaluation, rtol: float) -> list[str]:
    """Why the two evaluations differ: ["failed"] when one failed and the other did not, else
    the objectives more than `rtol` (relative) apart; empty when they agree."""
    if first.ok != second.ok:
        return ["failed"]
    if not first.ok:
        return []  # both failed: the cached failure is the right answer
    assert first.objectives is not None and second.objectives is not None
    return [name for name, value in first.objectives.items()
            if not math.isclose(value, second.objectives[name], rel_tol=rtol, abs_tol=0.0)]


@dataclass
class Checker:
    """Evaluations and dense outputs of programs, each computed once."""

    space: SearchSpace
    programs: dict[str, Program]
    points: int = 4096
    seed: int = 0
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    outputs: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def evaluate(self, texts: Sequence[str]) -> None:
        missing = [text for text in dict.fromkeys(texts) if text not in self.evaluations]
        for start in range(0, len(missing), EVALUATION_CHUNK):
            chunk = missing[start:start + EVALUATION_CHUNK]
            results = self.space.evaluate([self.programs[text] for text in chunk])
            self.evaluations.update(zip(chunk, results, strict=True))

    def output(self, text: str) -> list[np.ndarray]:
        if text not in self.outputs:
            self.outputs[text] = OUTPUTS[self.space.name](self.space, self.programs[text],
                                                          self.points, self.seed)
        return self.outputs[text]


CRITERIA = ("objectives", "outputs", "outputs_bitwise")


def check_groups(groups: Sequence[list[int]], texts: Sequence[str], checker: Checker,
                 rtol: float, output_rtol: float) -> tuple[dict[str, tuple[int, int]],
                                                           Counter[str]]:
    """Per criterion: (groups merging different functions, candidates affected), and how often
    each reason ("failed", an objective's name) made a member's objectives differ. A candidate
    is affected when its program differs from its group's first program (the one evaluated)."""
    checker.evaluate([texts[i] for group in groups for i in group])
    result = {criterion: (0, 0) for criterion in CRITERIA}
    reasons: Counter[str] = Counter()
    for group in groups:
        members = list(dict.fromkeys(texts[i] for i in group))
        first = members[0]
        different: dict[str, set[str]] = {criterion: set() for criterion in CRITERIA}
        for text in members[1:]:
            why = evaluations_differ(checker.evaluations[first], checker.evaluations[text],
                                     rtol)
            if why:
                different["objectives"].add(text)
                reasons.update(why)
            bitwise, beyond = outputs_differ(checker.output(first), checker.output(text),
                                             output_rtol)
            if bitwise:
                different["outputs_bitwise"].add(text)
            if beyond:
                different["outputs"].add(text)
        for criterion, texts_differing in different.items():
            merged, affected = result[criterion]
            result[criterion] = (merged + bool(texts_differing),
                                 affected + sum(texts[i] in texts_differing for i in group))
    return result, reasons


# -- the study ------------------------------------------------------------------------------
def study(space_name: str, settings: dict[str, Any], texts: Sequence[str],
          bits: Sequence[int] = (1, 5, 7, 24), check: int = 200, rtol: float = 1e-6,
          output_rtol: float = 1e-9, seed: int = 0, points: int = 4096,
          context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The figures (JSON-able dicts) for the candidate stream `texts` (DSL programs)."""
    base = get_space(space_name, settings)
    programs = {text: base.parse(text, f"candidate {i}")
                for i, text in enumerate(dict.fromkeys(texts))}
    checker = Checker(base, programs, points, seed)
    total = len(texts)
    context = {"space": space_name, "candidates": total, "seed": seed, **(context or {})}
    figures: list[dict[str, Any]] = [{
        "metric": "collisions_distinct_programs", "value": len(programs), "unit": "programs",
        "syntactic_hit_rate": round(1 - len(programs) / total, 4), **context}]
    for b in bits:
        start = time.perf_counter()
        groups = list(hash_groups(space_with_bits(space_name, settings, b), texts,
                                  programs).values())
        hash_seconds = time.perf_counter() - start
        sizes = [len(group) for group in groups]
        eligible = [group for group in groups if len({texts[i] for i in group}) > 1]
        chosen = eligible
        if len(eligible) > check:
            picks = np.random.default_rng([seed, b]).choice(len(eligible), check, replace=False)
            chosen = [eligible[i] for i in sorted(picks)]
        start = time.perf_counter()
        merged, reasons = check_groups(chosen, texts, checker, rtol, output_rtol)
        check_seconds = time.perf_counter() - start
        eligible_candidates = sum(len(group) for group in eligible)
        checked_candidates = sum(len(group) for group in chosen)
        scale = eligible_candidates / checked_candidates if checked_candidates else 0.0
        line = {"bits": b, **context}
        figures += [
            {"metric": "collisions_distinct_hashes", "value": len(groups), "unit": "hashes",
             "hash_seconds": round(hash_seconds, 3), **line},
            {"metric": "collisions_candidates_per_hash", "value": round(total / len(groups), 3),
             "unit": "candidates", "max_group_size": max(sizes),
             "groups_with_several_programs": len(eligible), **line},
            {"metric": "collisions_cache_hit_rate", "value": round(1 - len(groups) / total, 4),
             "unit": "fraction", **line},
        ]
        for criterion in CRITERIA:
            count, affected = merged[criterion]
            figures.append({
                "metric": f"collisions_merged_groups_by_{criterion}", "value": count,
                "unit": "groups", "groups_checked": len(chosen),
                "groups_with_several_programs": len(eligible),
                "check_seconds": round(check_seconds, 2), **line,
                **({"rtol": rtol, "programs_differing_by": dict(sorted(reasons.items()))}
                   if criterion == "objectives" else
                   {"output_rtol": output_rtol, "points": points}
                   if criterion == "outputs" else {"points": points})})
            figures.append({
                "metric": f"collisions_affected_fraction_by_{criterion}",
                "value": round(affected * scale / total, 5), "unit": "fraction",
                "affected_in_checked_groups": affected,
                "candidates_in_checked_groups": checked_candidates,
                "estimated": len(chosen) < len(eligible), **line})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", choices=sorted(OUTPUTS), default="autonumerics")
    parser.add_argument("--candidates", type=int, default=3000)
    parser.add_argument("--bits", type=int, nargs="+", default=[1, 5, 7, 24])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check-groups", type=int, default=200,
                        help="hash groups (with several programs) checked per bits")
    parser.add_argument("--rtol", type=float, default=1e-6,
                        help="objectives further apart (relative) are different")
    parser.add_argument("--output-rtol", type=float, default=1e-9,
                        help="outputs further apart (relative, beyond round-off) differ")
    parser.add_argument("--points", type=int, default=4096,
                        help="random inputs of the outputs check")
    parser.add_argument("--stream", choices=("search", "drift"),
                        help="how candidates are made (default: search for autonumerics, "
                             "drift for optimizers)")
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--settings", help="space settings as a YAML flow mapping (default: "
                                           "the space's entry in DEFAULT_SETTINGS)")
    arguments = parser.parse_args()
    settings = (yaml.safe_load(arguments.settings) if arguments.settings
                else DEFAULT_SETTINGS[arguments.space])
    stream = arguments.stream or DEFAULT_STREAM[arguments.space]
    start = time.perf_counter()
    if stream == "search":
        texts = search_stream(arguments.space, settings, arguments.candidates, arguments.seed,
                              arguments.population)
    else:
        texts = drift_stream(get_space(arguments.space, settings), arguments.candidates,
                             arguments.seed, arguments.population)
    context = {"stream": stream, "settings": settings, "population": arguments.population}
    print(json.dumps({"metric": "collisions_stream_seconds",
                      "value": round(time.perf_counter() - start, 1), "unit": "s",
                      "space": arguments.space, "candidates": len(texts), "seed": arguments.seed,
                      **context, "cpus": os.cpu_count(), "machine": platform.machine()}),
          flush=True)
    for figure in study(arguments.space, settings, texts, arguments.bits,
                        arguments.check_groups, arguments.rtol, arguments.output_rtol,
                        arguments.seed, arguments.points, context):
        print(json.dumps(figure), flush=True)


if __name__ == "__main__":
    main()
