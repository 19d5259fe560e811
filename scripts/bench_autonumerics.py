"""AutoNumerics against tree genetic programming: DEAP and gplearn, same target, same op set,
same wall-clock budget, one after another in one run.

Each method searches approximations of the target (default 2^x on [0, 1]) with add, sub, mul
and div on the space's training grid, minimizing the max relative error against mpmath's
ground truth, for `--seconds` of wall clock on one process. Every program any method evaluates
is recorded with its cost (ops that depend on x: a tree's operator nodes whose subtree holds
x; constant-only subtrees fold to a literal and are free, as in the platform), and the figure
is the best error at cost <= `--max-cost` (default 10).

* automl: this platform (NSGA-II on error and cost, DAG programs, constants fitted per
  candidate, functional-hash cache), local executor;
* DEAP: `gp` trees with ephemeral random constants, tournament selection, one-point crossover
  and uniform subtree mutation, tree height <= 8;
* gplearn: `SymbolicRegressor` with the same function set (its protected division) and the
  max relative error as fitness, generations added (warm start) until the budget is spent.

Prints one JSON line per method (`autonumerics_peer_best_error_cost_le_10`), then the ratios.
Needs the `bench` extra (deap, gplearn).

    python scripts/bench_autonumerics.py [--seconds 60] [--target exp2] [--max-cost 10]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable, Sequence

import numpy as np

from automl.config import parse_config
from automl.controller import CampaignController
from automl.store import Store
from search_spaces.autonumerics.space import AutoNumericsSpace


class Recorder:
    """Best error per cost over every program a method evaluates."""

    def __init__(self, truth: np.ndarray) -> None:
        self.truth = truth
        self.best: dict[int, float] = {}
        self.evaluated = 0

    def error(self, values: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            values = np.broadcast_to(np.asarray(values, np.float64), self.truth.shape)
            error = float(np.max(np.abs(values - self.truth) / np.abs(self.truth)))
        return error if math.isfinite(error) else math.inf

    def record(self, cost: int, error: float) -> None:
        self.evaluated += 1
        if error < self.best.get(cost, math.inf):
            self.best[cost] = error

    def best_at_most(self, max_cost: int) -> float:
        return min((e for c, e in self.best.items() if c <= max_cost), default=math.inf)


def prefix_cost(nodes: Sequence, arity: Callable, is_x: Callable) -> int:
    """Operator nodes whose subtree holds x, for a tree in prefix order."""
    cost = 0

    def walk(index: int) -> tuple[int, bool]:  # (next index, subtree holds x)
        nonlocal cost
        node = nodes[index]
        count = arity(node)
        if count == 0:
            return index + 1, is_x(node)
        holds_x, position = False, index + 1
        for _ in range(count):
            position, child = walk(position)
            holds_x |= child
        cost += holds_x
        return position, holds_x

    walk(0)
    return cost


def run_automl(target: str, seconds: float, seed: int, recorder: Recorder) -> dict:
    config = parse_config(f"""
seed: {seed}
space: {{name: autonumerics, settings: {{target: {target}, ops: [add, sub, mul, div],
        fit_constants: true, max_statements: 16}}}}
evolution: {{strategy: nsga2, population_size: 64, tournament_size: 2}}
budget: {{max_evaluations: 100000000, max_seconds: {seconds}}}
executor: {{kind: local, batch_size: 8}}
""")
    with tempfile.TemporaryDirectory() as directory, \
            Store.open(f"sqlite:///{directory}/peers.db") as store:
        summary = CampaignController.create(config, store, "peers").run()
        for evaluation in store.load_evaluations(summary.campaign.id):
            if evaluation.objectives:
                recorder.record(int(evaluation.objectives["cost"]),
                                evaluation.objectives["max_relative_error"])
    return {"candidates": summary.candidates, "cache_hit_rate": round(summary.cache_hit_rate, 3)}


def run_deap(x: np.ndarray, seconds: float, seed: int, recorder: Recorder) -> dict:
    import operator

    from deap import algorithms, base, creator, gp, tools

    def protected_div(a, b):
        with np.errstate(all="ignore"):
            return np.where(np.abs(b) > 1e-12, np.divide(a, np.where(b == 0, 1.0, b)), 1.0)

    rng = random.Random(seed)
    pset = gp.PrimitiveSet("MAIN", 1)
    pset.renameArguments(ARG0="x")
    for function, name in ((np.add, "add"), (np.subtract, "sub"), (np.multiply, "mul"),
                           (protected_div, "div")):
        pset.addPrimitive(function, 2, name=name)
    pset.addEphemeralConstant(f"c{os.getpid()}_{seed}", lambda: rng.uniform(-2.0, 2.0))
    if not hasattr(creator, "FitnessMin"):
        creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
        creator.create("Individual", gp.PrimitiveTree, fitness=creator.FitnessMin)
    toolbox = base.Toolbox()
    toolbox.register("expr", gp.genHalfAndHalf, pset=pset, min_=1, max_=4)
    toolbox.register("individual", tools.initIterate, creator.Individual, toolbox.expr)
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)

    def evaluate(individual):
        function = gp.compile(individual, pset)
        error = recorder.error(function(x))
        recorder.record(prefix_cost(individual, lambda n: n.arity,
                                    lambda n: getattr(n, "value", None) == "x"), error)
        return (error,)

    toolbox.register("evaluate", evaluate)
    toolbox.register("select", tools.selTournament, tournsize=3)
    toolbox.register("mate", gp.cxOnePoint)
    toolbox.register("expr_mut", gp.genFull, min_=0, max_=2)
    toolbox.register("mutate", gp.mutUniform, expr=toolbox.expr_mut, pset=pset)
    for name in ("mate", "mutate"):
        toolbox.decorate(name, gp.staticLimit(key=operator.attrgetter("height"),
                                              max_value=8))
    random.seed(seed)
    population = toolbox.population(n=300)
    for individual in population:
        individual.fitness.values = toolbox.evaluate(individual)
    generations, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        offspring = algorithms.varAnd(toolbox.select(population, len(population)), toolbox,
                                      cxpb=0.5, mutpb=0.2)
        for individual in offspring:
            if not individual.fitness.valid:
                individual.fitness.values = toolbox.evaluate(individual)
        population = offspring
        generations += 1
    return {"generations": generations, "population": 300}


def run_gplearn(x: np.ndarray, truth: np.ndarray, seconds: float, seed: int,
                recorder: Recorder) -> dict:
    from gplearn.fitness import make_fitness
    from gplearn.genetic import SymbolicRegressor

    def max_relative_error(y, y_pred, sample_weight):
        with np.errstate(all="ignore"):
            error = np.max(np.abs(y_pred - y) / np.abs(y))
        return error if np.isfinite(error) else 1e300

    estimator = SymbolicRegressor(
        population_size=1000, generations=1, function_set=("add", "sub", "mul", "div"),
        metric=make_fitness(function=max_relative_error, greater_is_better=False, wrap=False),
        const_range=(-2.0, 2.0), parsimony_coefficient=0.0, warm_start=True, random_state=seed,
        n_jobs=1)
    features = x.reshape(-1, 1)
    generations, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        generations += 1
        estimator.set_params(generations=generations)
        estimator.fit(features, truth)
        for program in estimator._programs[-1]:
            if program is None:
                continue
            nodes = program.program
            cost = prefix_cost(nodes, lambda n: getattr(n, "arity", 0),
                               lambda n: isinstance(n, int))
            recorder.record(cost, recorder.error(program.execute(features)))
    return {"generations": generations, "population": 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--target", default="exp2")
    parser.add_argument("--max-cost", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    space = AutoNumericsSpace({"target": arguments.target})
    x, truth = space.grid, space.truth
    context = {"target": arguments.target, "seconds_budget": arguments.seconds,
               "max_cost": arguments.max_cost, "grid_points": len(x), "seed": arguments.seed,
               "cpus": os.cpu_count(), "machine": platform.machine()}
    runners = {
        "automl": lambda r: run_automl(arguments.target, arguments.seconds, arguments.seed, r),
        "deap": lambda r: run_deap(x, arguments.seconds, arguments.seed, r),
        "gplearn": lambda r: run_gplearn(x, truth, arguments.seconds, arguments.seed, r),
    }
    best = {}
    for name, runner in runners.items():
        recorder = Recorder(truth)
        start = time.perf_counter()
        details = runner(recorder)
        best[name] = recorder.best_at_most(arguments.max_cost)
        print(json.dumps({
            "metric": f"autonumerics_peer_best_error_cost_le_{arguments.max_cost}",
            "method": name, "value": best[name], "unit": "max relative error",
            "seconds": round(time.perf_counter() - start, 1),
            "programs_evaluated": recorder.evaluated,
            "best_by_cost": {c: recorder.best[c] for c in sorted(recorder.best)
                             if c <= arguments.max_cost},
            **details, **context}), flush=True)
    for peer in ("deap", "gplearn"):
        print(json.dumps({
            "metric": f"autonumerics_error_ratio_vs_{peer}",
            "value": (best[peer] / best["automl"]) if best["automl"] > 0 else None,
            "unit": "x (peer's best error / automl's, cost <= max_cost)", **context}),
            flush=True)


if __name__ == "__main__":
    main()
