"""AutoNumerics against symbolic regression: DEAP, gplearn and Operon, same target, same op set,
same wall-clock budget, one after another in one run.

Each method searches approximations of the target (default 2^x on [0, 1]) with add, sub, mul
and div on the space's training grid, minimizing the max relative error against mpmath's
ground truth, for `--seconds` of wall clock on one process. Every program any method evaluates
is recorded with its cost (ops that depend on x: a tree's operator nodes whose subtree holds
x; constant-only subtrees fold to a literal and are free, as in the platform), and the figure
is the best error at cost <= `--max-cost` (default 10); `--table-costs 16` also prints, per
method, the best error at every cost 1-16 (at exactly that cost, and the front: at most it), and
a markdown table of the fronts.

* automl: this platform (NSGA-II on error and cost, DAG programs, constants fitted per
  candidate, functional-hash cache), local executor;
* DEAP: `gp` trees with ephemeral random constants, tournament selection, one-point crossover
  and uniform subtree mutation, tree height <= 8;
* gplearn: `SymbolicRegressor` with the same function set (its protected division) and the
  max relative error as fitness, generations added (warm start) until the budget is spent;
* Operon (pyoperon's `SymbolicRegressor`): NSGA-II on R^2 and tree length, Levenberg-Marquardt
  constant fitting (`--operon-iterations` steps per candidate), linear scaling, `max_time` =
  the budget, one thread. Operon fits least squares, not the max relative error; what it
  returns is scored here like every other method's programs: its whole final population (each
  tree as evolved, and with the scale and offset Operon's own least squares gives it, as
  Operon returns models) and its Pareto front, evaluated in float64 numpy on the same grid.
  Its cost counts what the tree computes from x: operator nodes whose subtree holds x, a
  weighted variable (Operon's leaf `w * x`, w != 1) as one multiply, and the scale multiply
  and offset add at the root when they apply (`operon_cost`, the platform's own cost of the
  same program: `operon_dsl`). The pyoperon wheel (0.6.2) is a single-precision build: its
  search and fits run in float32 and its constants are float32 values. Only what Operon holds
  at the end is seen: a program it evolved and then lost from its population is not counted.

Prints one JSON line per method (`autonumerics_peer_best_error_cost_le_10`), then the ratios.
Needs the `bench` extra (deap, gplearn, pyoperon). `--methods automl,operon` runs a subset;
`--table-from FILE...` prints the table of JSON lines written earlier (runs made in parallel,
each pinned to its own core).

    python scripts/bench_autonumerics.py [--seconds 60] [--target exp2] [--max-cost 10]
        [--methods automl,deap,gplearn,operon] [--ops add,sub,mul,div] [--table-costs 16]
        [--seed 0] [--automl-settings '{"fit_least_squares_evaluations": 20}']
        [--automl-population 64] [--operon-iterations 10]
    python scripts/bench_autonumerics.py --table-from automl.jsonl operon.jsonl
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
from pathlib import Path

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
        self.programs: dict[int, str] = {}  # the best program's text, where a method gives it
        self.improvements: list[tuple[float, int, float]] = []  # (seconds, cost, error)
        self.evaluated = 0

    def error(self, values: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            values = np.broadcast_to(np.asarray(values, np.float64), self.truth.shape)
            error = float(np.max(np.abs(values - self.truth) / np.abs(self.truth)))
        return error if math.isfinite(error) else math.inf

    def record(self, cost: int, error: float, program: str | None = None,
               at: float | None = None) -> None:
        """One evaluated program; `at`: when (seconds since the method started), where the
        method says (then `time_to_target` can answer)."""
        self.evaluated += 1
        if error < self.best.get(cost, math.inf):
            self.best[cost] = error
            if program is not None:
                self.programs[cost] = program
            if at is not None:
                self.improvements.append((at, cost, error))

    def time_to_target(self, threshold: float, max_cost: int) -> float | None:
        """The first time a program of cost <= `max_cost` reached `threshold` (None: never,
        or the method records no times)."""
        return min((at for at, cost, error in self.improvements
                    if cost <= max_cost and error <= threshold), default=None)

    def best_at_most(self, max_cost: int) -> float:
        return min((e for c, e in self.best.items() if c <= max_cost), default=math.inf)

    def front(self, max_cost: int) -> dict[int, float]:
        """The best error at cost <= c for every c in 1..max_cost (inf where none yet)."""
        return {c: self.best_at_most(c) for c in range(1, max_cost + 1)}


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


OPS = ("add", "sub", "mul", "div")  # the op set every method may take a subset of


def run_automl(target: str, seconds: float, seed: int, recorder: Recorder,
               ops: Sequence[str] = OPS, settings: dict | None = None,
               population: int = 64) -> dict:
    """`settings`: more of the space's settings (JSON values), e.g. to compare a search
    change with the defaults at the same budget; `population`: NSGA-II's size."""
    extra = "".join(f", {name}: {json.dumps(value)}" for name, value in (settings or {}).items())
    config = parse_config(f"""
seed: {seed}
space: {{name: autonumerics, settings: {{target: {target}, ops: [{", ".join(ops)}],
        fit_constants: true, max_statements: 16{extra}}}}}
evolution: {{strategy: nsga2, population_size: {population}, tournament_size: 2}}
budget: {{max_evaluations: 100000000, max_seconds: {seconds}}}
executor: {{kind: local, batch_size: 8}}
""")
    with tempfile.TemporaryDirectory() as directory, \
            Store.open(f"sqlite:///{directory}/peers.db") as store:
        started = time.time()
        summary = CampaignController.create(config, store, "peers").run()
        evaluations = sorted(store.load_evaluations(summary.campaign.id),
                             key=lambda evaluation: evaluation.created_at)
        texts = {candidate.number: candidate.program
                 for candidate in store.load_candidates(summary.campaign.id)}
        for evaluation in evaluations:
            if evaluation.objectives:
                recorder.record(int(evaluation.objectives["cost"]),
                                evaluation.objectives["max_relative_error"],
                                texts.get(evaluation.candidate_number),
                                at=evaluation.created_at - started)
    return {"candidates": summary.candidates, "cache_hit_rate": round(summary.cache_hit_rate, 3),
            "population": population}


def run_deap(x: np.ndarray, seconds: float, seed: int, recorder: Recorder,
             ops: Sequence[str] = OPS) -> dict:
    import operator

    from deap import algorithms, base, creator, gp, tools

    def protected_div(a, b):
        with np.errstate(all="ignore"):
            return np.where(np.abs(b) > 1e-12, np.divide(a, np.where(b == 0, 1.0, b)), 1.0)

    rng = random.Random(seed)
    pset = gp.PrimitiveSet("MAIN", 1)
    pset.renameArguments(ARG0="x")
    functions = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": protected_div}
    for name in ops:
        pset.addPrimitive(functions[name], 2, name=name)
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
                recorder: Recorder, ops: Sequence[str] = OPS) -> dict:
    from gplearn.fitness import make_fitness
    from gplearn.genetic import SymbolicRegressor

    def max_relative_error(y, y_pred, sample_weight):
        with np.errstate(all="ignore"):
            error = np.max(np.abs(y_pred - y) / np.abs(y))
        return error if np.isfinite(error) else 1e300

    estimator = SymbolicRegressor(
        population_size=1000, generations=1, function_set=tuple(ops),
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


def operon_cost(nodes: Sequence) -> int:
    """What an Operon tree (its nodes in Operon's postfix order) computes from x: operator
    nodes whose subtree holds x, plus one multiply for each weighted variable (Operon's
    variable leaf is w * x; w == 1 is x itself). Constant-only subtrees are free, as in the
    platform. The scale and offset of linear scaling are nodes at the root of the trees
    Operon returns (`operon_scaled`), counted like any other."""
    from pyoperon import NodeType

    cost, holds_x = 0, []
    for node in nodes:
        if node.Type == NodeType.Variable:
            holds_x.append(True)
            cost += node.Value != 1.0
        elif node.Arity == 0:
            holds_x.append(False)
        else:
            children = [holds_x.pop() for _ in range(node.Arity)]
            holds_x.append(any(children))
            cost += holds_x[-1]
    if len(holds_x) != 1:
        raise ValueError(f"not one tree: {len(holds_x)} roots")
    return cost


def operon_values(nodes: Sequence, x: np.ndarray) -> np.ndarray:
    """An Operon tree evaluated in float64 numpy at `x` (its constants and variable weights
    are the float32 values it evolved: this pyoperon build is single precision). In Operon's
    postfix order a node's first operand is the node just before it, so with a stack the
    first operand is the first one popped: a - b pops a, then b."""
    from pyoperon import NodeType

    binary = {NodeType.Add: np.add, NodeType.Sub: np.subtract, NodeType.Mul: np.multiply,
              NodeType.Div: np.divide}
    stack: list[np.ndarray | float] = []
    with np.errstate(all="ignore"):
        for node in nodes:
            if node.Type == NodeType.Variable:
                stack.append(float(node.Value) * x)
            elif node.Type == NodeType.Constant:
                stack.append(float(node.Value))
            elif node.Type in binary and node.Arity == 2:
                first = stack.pop()
                stack.append(binary[node.Type](first, stack.pop()))
            else:
                raise ValueError(f"op {node.Name!r} (arity {node.Arity}) is outside the op set")
    if len(stack) != 1:
        raise ValueError(f"not one tree: {len(stack)} roots")
    return np.broadcast_to(np.asarray(stack[0], np.float64), x.shape)


def operon_text(nodes: Sequence) -> str:
    """An Operon tree in infix, its constants and weights in full (repr of the float)."""
    from pyoperon import NodeType

    symbols = {NodeType.Add: "+", NodeType.Sub: "-", NodeType.Mul: "*", NodeType.Div: "/"}
    stack: list[str] = []
    for node in nodes:
        if node.Type == NodeType.Variable:
            stack.append("x" if node.Value == 1.0 else f"({float(node.Value)!r} * x)")
        elif node.Arity == 0:
            stack.append(repr(float(node.Value)))
        else:
            first = stack.pop()
            stack.append(f"({first} {symbols.get(node.Type, node.Name)} {stack.pop()})")
    return stack[0]


def operon_dsl(nodes: Sequence) -> str:
    """An Operon tree as a program of the platform's DSL (one statement per operator node and
    per weighted variable, its constants as literals), for `automl.ir.cost` to count as the
    platform counts its own programs (a tree without an operator reads ``f = v + 0.0``)."""
    from pyoperon import NodeType

    names = {NodeType.Add: "+", NodeType.Sub: "-", NodeType.Mul: "*", NodeType.Div: "/"}
    lines: list[str] = []
    stack: list[str] = []

    def statement(expression: str) -> str:
        lines.append(f"t{len(lines)} = {expression}")
        return f"t{len(lines) - 1}"

    for node in nodes:
        if node.Type == NodeType.Variable:
            stack.append("x" if node.Value == 1.0 else
                         statement(f"{float(node.Value)!r} * x"))
        elif node.Arity == 0:
            stack.append(repr(float(node.Value)))
        else:
            first = stack.pop()
            stack.append(statement(f"{first} {names[node.Type]} {stack.pop()}"))
    return "\n".join([*lines, f"f = {stack[0]}" if lines else f"f = {stack[0]} + 0.0"]) + "\n"


def operon_scaled(tree, x: np.ndarray, truth: np.ndarray) -> list:
    """The nodes of `tree` with the linear scaling Operon puts on the models it returns (its
    own `SymbolicRegressor.fit`): scale and offset by Operon's least squares on its float32
    output, a multiply when scale != 1, an add when offset != 0."""
    import pyoperon as op

    dataset = op.Dataset(np.asfortranarray(x.reshape(-1, 1)))
    predicted = op.Evaluate(op.DispatchTable(), tree, dataset, op.Range(0, len(x)))
    scale, offset = op.FitLeastSquares(predicted, truth)
    nodes = list(tree.Nodes)
    if scale != 1:
        nodes += [op.Node.Constant(scale), op.Node.Mul()]
    if offset != 0:
        nodes += [op.Node.Constant(offset), op.Node.Add()]
    return nodes


def run_operon(x: np.ndarray, truth: np.ndarray, seconds: float, seed: int,
               recorder: Recorder, ops: Sequence[str] = OPS,
               iterations: int = 10, population: int = 1000, max_length: int = 50) -> dict:
    from pyoperon.sklearn import SymbolicRegressor

    estimator = SymbolicRegressor(
        allowed_symbols=",".join([*ops, "constant", "variable"]), objectives=["r2", "length"],
        optimizer="lm", optimizer_iterations=iterations, population_size=population,
        max_length=max_length, generations=10**9, max_evaluations=10**12,
        max_time=max(1, round(seconds)), n_threads=1, random_state=seed)
    estimator.fit(x.reshape(-1, 1), truth)
    models = [model["tree"] for model in estimator.pareto_front_]
    trees = [individual.Genotype for individual in estimator.individuals_]
    programs = [list(tree.Nodes) for tree in models]
    for tree in trees:  # as evolved, and scaled as Operon would return it
        programs += [list(tree.Nodes), operon_scaled(tree, x, truth)]
    for nodes in programs:
        recorder.record(operon_cost(nodes), recorder.error(operon_values(nodes, x)),
                        operon_text(nodes))
    return {"generations": estimator.stats_["generations"], "population": population,
            "front_models": len(models), "population_trees": len(trees),
            "residual_evaluations": estimator.stats_["residual_evaluations"],
            "jacobian_evaluations": estimator.stats_["jacobian_evaluations"],
            "operon_iterations": iterations, "max_length": max_length}


METHODS = ("automl", "deap", "gplearn", "operon")
# the time-to-target thresholds (max relative error), where a method records times
TARGETS = (1e-3, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7)


def front_table(lines: Sequence[dict]) -> str:
    """A markdown table of the methods' fronts (`front_by_cost`: the best error at cost <= c)
    from their JSON lines, one column per method, one row per cost."""
    costs = sorted({int(c) for line in lines for c in line["front_by_cost"]})
    rows = ["| cost | " + " | ".join(line["method"] for line in lines) + " |",
            "|---:|" + "---:|" * len(lines)]
    for cost in costs:
        cells = []
        for line in lines:
            value = line["front_by_cost"].get(str(cost), line["front_by_cost"].get(cost))
            cells.append("-" if value is None or value == math.inf else f"{value:.2g}")
        rows.append(f"| {cost} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--target", default="exp2")
    parser.add_argument("--max-cost", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated subset of " + ", ".join(METHODS))
    parser.add_argument("--ops", default=",".join(OPS),
                        help="comma-separated subset of " + ", ".join(OPS))
    parser.add_argument("--table-costs", type=int, default=0,
                        help="also report every cost 1..N (the front per cost, and a table)")
    parser.add_argument("--automl-settings", type=json.loads, default={},
                        help="more AutoNumerics settings, as a JSON object")
    parser.add_argument("--automl-population", type=int, default=64,
                        help="the platform's NSGA-II population")
    parser.add_argument("--operon-iterations", type=int, default=10,
                        help="Operon's Levenberg-Marquardt steps per candidate")
    parser.add_argument("--table-from", nargs="+", metavar="FILE",
                        help="print the front table of these files' JSON lines; run nothing")
    arguments = parser.parse_args()
    if arguments.table_from:
        lines = [json.loads(text) for name in arguments.table_from
                 for text in Path(name).read_text().splitlines() if '"front_by_cost"' in text]
        print(front_table(lines))
        return
    methods = [m for m in arguments.methods.split(",") if m]
    ops = tuple(o for o in arguments.ops.split(",") if o)
    if unknown := sorted(set(methods) - set(METHODS)) + sorted(set(ops) - set(OPS)):
        parser.error(f"unknown method or op: {', '.join(unknown)}")
    space = AutoNumericsSpace({"target": arguments.target})
    x, truth = space.grid, space.truth
    context = {"target": arguments.target, "seconds_budget": arguments.seconds,
               "max_cost": arguments.max_cost, "grid_points": len(x), "seed": arguments.seed,
               "ops": list(ops), "cpus": os.cpu_count(), "machine": platform.machine()}
    if hasattr(os, "sched_getaffinity"):
        context["affinity"] = sorted(os.sched_getaffinity(0))
    if arguments.automl_settings:
        context["automl_settings"] = arguments.automl_settings
    runners = {
        "automl": lambda r: run_automl(arguments.target, arguments.seconds, arguments.seed, r,
                                       ops, arguments.automl_settings,
                                       arguments.automl_population),
        "deap": lambda r: run_deap(x, arguments.seconds, arguments.seed, r, ops),
        "gplearn": lambda r: run_gplearn(x, truth, arguments.seconds, arguments.seed, r, ops),
        "operon": lambda r: run_operon(x, truth, arguments.seconds, arguments.seed, r, ops,
                                       iterations=arguments.operon_iterations),
    }
    best, lines = {}, []
    for name in methods:
        recorder = Recorder(truth)
        load_before = os.getloadavg()
        start, cpu_start = time.perf_counter(), time.process_time()
        details = runners[name](recorder)
        cpu_seconds = time.process_time() - cpu_start
        best[name] = recorder.best_at_most(arguments.max_cost)
        line = {
            "metric": f"autonumerics_peer_best_error_cost_le_{arguments.max_cost}",
            "method": name, "value": best[name], "unit": "max relative error",
            "seconds": round(time.perf_counter() - start, 1),
            "cpu_seconds": round(cpu_seconds, 1),
            "programs_evaluated": recorder.evaluated,
            "best_by_cost": {c: recorder.best[c] for c in sorted(recorder.best)
                             if c <= max(arguments.max_cost, arguments.table_costs)},
            **details, **context,
            "loadavg_before": [round(v, 2) for v in load_before],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()]}
        if arguments.table_costs:
            line["front_by_cost"] = recorder.front(arguments.table_costs)
        if recorder.improvements:
            line["time_to_target"] = {
                f"cost_le_{cost}": {f"{threshold:g}": recorder.time_to_target(threshold, cost)
                                    for threshold in TARGETS}
                for cost in sorted({arguments.max_cost, arguments.table_costs or 16})}
        if recorder.programs:
            line["best_program_by_cost"] = {
                c: recorder.programs[c] for c in sorted(recorder.programs)
                if c <= max(arguments.max_cost, arguments.table_costs)}
        lines.append(line)
        print(json.dumps(line), flush=True)
    if "automl" in best:
        for peer in (m for m in methods if m != "automl"):
            print(json.dumps({
                "metric": f"autonumerics_error_ratio_vs_{peer}",
                "value": (best[peer] / best["automl"]) if best["automl"] > 0 else None,
                "unit": "x (peer's best error / automl's, cost <= max_cost)", **context}),
                flush=True)
    if arguments.table_costs:
        print(front_table(lines), flush=True)


if __name__ == "__main__":
    main()
