"""Multi-objective peers: Optuna (NSGA-II sampler), DEAP (NSGA-II) and this platform on one
shared problem, at equal evaluation budgets: hypervolume and time-to-target.

The shared problem: choose the four constants of a fixed AutoNumerics-style program, the cubic
in Horner form (literal coefficients, exactly what `polynomials.horner_dsl` writes and
`polynomials.horner_eval` computes)::

    f = c0 + x * (c1 + x * (c2 + x * c3))

to minimize TWO maximum relative errors at once, on the project's 1,024-point training grid of
[0, 1] (`targets.training_grid`) against the correctly rounded mpmath ground truth
(`targets.ground_truth`, `targets.relative_error`):

* objective 1: log10 max relative error against 2^x on [0, 1] (the registry's ``exp2``);
* objective 2: log10 max relative error against e^x on [0, 1] (defined here as a `Target`; the
  registry's ``exp`` lives on [-ln2/2, ln2/2]).

A cubic cannot be good at both (2^1 = 2, e^1 = 2.72), so the front runs between the two
degree-3 minimax polynomials: (-4.13, -0.58) for 2^x's and (-0.45, -3.49) for e^x's
(`polynomials.remez_relative`; printed as ``minimax_log10_error`` lines). Getting near those
ends needs the constants to ~4 significant digits, so the benchmark measures fine tuning as
well as spreading along the front. Why this problem: every method can run it unchanged (a
4-dimensional real box for Optuna and DEAP; a program whose constants are literals for the
platform), and it is the platform's own object, a program with constants, scored by the
platform's own ground truth.

Search range: every constant c_k in [-2, 2] (both minimax polynomials lie well inside; the box
favours neither target). Optuna: `suggest_float(name, -2, 2)`; DEAP: the bounds of its bounded
operators; the platform: initial constants uniform in the box, after which its mutation is
unbounded (it scales a literal by 2^a, a ~ N(0, 1), or redraws it from N(0, 1)).

Hypervolume: `moocore.hypervolume` of all points evaluated so far, minimization, reference point
(0, 0) in log10 error, i.e. relative error 1 against both targets (points at or beyond it add
nothing). Unit: decades^2 (an area in log10-error units).

Methods (population --population, default 48, for all; same --evaluations budget, counted as
calls of the shared objective, each method stopping at exactly that many):

* ``optuna``: `optuna.samplers.NSGAIISampler(population_size=P, seed=S)` with its defaults
  (uniform crossover with probability 0.9; each constant mutated with probability 1/4, and a
  mutated constant is redrawn uniformly from its range), in-memory storage, `study.optimize`.
* ``optuna_sbx``: the same sampler with DEAP's operators, ``crossover=SBXCrossover(eta=20)``,
  ``mutation=PolynomialMutation(eta=20)`` (experimental in Optuna 5), so that Optuna and DEAP
  differ only in their NSGA-II machinery.
* ``deap``: NSGA-II as in DEAP's example (``examples/ga/nsga2.py``): `tools.selTournamentDCD`
  parents, `tools.cxSimulatedBinaryBounded` (eta 20, probability 0.9),
  `tools.mutPolynomialBounded` (eta 20, 1/4 per constant), survival `tools.selNSGA2` of
  parents + offspring (mu = lambda = P; P must be a multiple of 4 for selTournamentDCD).
* ``platform``: a real campaign through the normal path (`parse_config` ->
  `CampaignController.create(...).run()` with the local executor and a SQLite store in a
  temporary directory): steady-state NSGA-II (``evolution.strategy: nsga2``, tournament 2,
  population P), functional-hash cache on, executor batch 16. The program's constants are
  literals and the only mutation is ``perturb_constant`` (no crossover). Both come from a small
  search space defined here, `ConstantsSpace`, handed to the controller through its ``space=``
  argument (as the platform's own tests do with their spaces); the config names the registered
  ``autonumerics`` space only because a config must name a registered space (only the stored
  campaign row says so). The budget counts evaluations, i.e. cache misses; cache hits (exact
  functional duplicates) cost no objective call. Its clock starts after the SQLite store is
  opened and includes everything else (candidate storage, hashing, simplification).
* ``platform_nsga2_sbx``: NOT a campaign: the platform's NSGA-II population class
  (`automl.evolution.selection.NSGA2`: tournament selection, steady-state rank/crowding
  eviction) driven directly on the constant vectors, with DEAP's SBX + polynomial mutation
  (same parameters as ``deap``) for the children. It separates the platform's selection and
  survival from its variation operator.

Figures, one JSON line each on stdout (progress goes to stderr), medians over --seeds seeds with
min, max and the per-seed values (``null``: a target not reached):

* ``final_hypervolume`` and ``hypervolume_at_budget_fraction`` (``fraction`` 0.25, 0.5);
* ``time_to_target_evaluations`` / ``time_to_target_seconds``: the first evaluation at which
  the method's hypervolume reaches a fraction (--target-fractions, default 0.8 and 0.95) of
  the best final hypervolume any method reached in that seed (the per-seed targets are in the
  line; the seconds are since the method's clock started);
* ``wall_seconds``, ``wall_per_evaluation`` (wall / evaluations) and
  ``overhead_per_evaluation`` (wall minus the time inside the shared objective, / evaluations);
* ``best_log10_error`` per target: each method's best single-objective value;
* ``minimax_log10_error``: the Remez optimum per target, and ``minimax_pair_hypervolume``:
  the hypervolume of those two polynomials alone, a lower bound on the true front's
  (context, not a method).

Command line (defaults: about 2 minutes on one busy core, most of it in Optuna)::

    python scripts/bench_multiobjective.py [--evaluations 5000] [--seeds 3] [--population 48]
        [--methods optuna,optuna_sbx,deap,platform,platform_nsga2_sbx]
        [--target-fractions 0.8,0.95] [--fractions 0.25,0.5] [--grid-points 1024]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import mpmath
import numpy as np

from automl.evolution import pareto
from automl.evolution.mutations import MutationSettings
from automl.evolution.selection import NSGA2, Member
from automl.ir import Program, Signature, run_numpy
from automl.space import Objective, SearchSpace
from search_spaces.autonumerics import polynomials, targets

DEGREE = 3
NUM_CONSTANTS = DEGREE + 1
LOWER, UPPER = -2.0, 2.0
REFERENCE = (0.0, 0.0)  # log10 max relative error against 2^x and against e^x
GRID_POINTS = 1024
EXP2 = targets.get_target("exp2")
EXP_UNIT = targets.Target("exp_unit", 0.0, 1.0, mpmath.exp)  # e^x on [0, 1]
TARGETS = (EXP2, EXP_UNIT)
OBJECTIVE_NAMES = ("max_relative_error_exp2", "max_relative_error_exp")
METHODS = ("optuna", "optuna_sbx", "deap", "platform", "platform_nsga2_sbx")
# DEAP's NSGA-II example settings, used by both SBX methods
CROSSOVER_PROBABILITY = 0.9
ETA = 20.0
PLATFORM_BATCH_SIZE = 16
HV_UNIT = "decades^2"


class BudgetExhausted(RuntimeError):
    """A method asked for more evaluations than its budget (a bug in the method's loop)."""


class Problem:
    """The shared objective and the log of every call: points in evaluation order (log10 max
    relative errors) and when each call finished, in seconds since `start_clock`."""

    def __init__(self, budget: int, grid_points: int = GRID_POINTS):
        self.budget = budget
        self.grid = targets.training_grid(EXP2, grid_points)  # [0, 1] for both targets
        self.truths = tuple(targets.ground_truth(target, self.grid) for target in TARGETS)
        self.points: list[tuple[float, float]] = []
        self.times: list[float] = []
        self.objective_seconds = 0.0
        self.wall_seconds = 0.0  # set by run_method
        self._start = time.perf_counter()

    def start_clock(self) -> None:
        self._start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    @property
    def evaluations(self) -> int:
        return len(self.points)

    @property
    def remaining(self) -> int:
        return self.budget - len(self.points)

    def errors(self, values: np.ndarray) -> tuple[float, float]:
        """Max relative errors of `values` (the program on the grid) against both targets."""
        with np.errstate(all="ignore"):
            return tuple(float(np.max(targets.relative_error(values, truth)))
                         for truth in self.truths)

    def record_values(self, values: np.ndarray, started: float) -> tuple[float, float]:
        """Score one evaluation's program values, log it, return its raw max errors.
        `started`: `time.perf_counter()` when the evaluation began (objective time)."""
        if len(self.points) >= self.budget:
            raise BudgetExhausted(f"evaluation {len(self.points) + 1} over a budget of "
                                  f"{self.budget}")
        errors = self.errors(values)
        self.points.append(tuple(log10_error(e) for e in errors))
        now = time.perf_counter()
        self.objective_seconds += now - started
        self.times.append(now - self._start)
        return errors

    def evaluate(self, constants: Sequence[float]) -> tuple[float, float]:
        """log10 max relative errors of the Horner cubic with `constants` (c0..c3)."""
        started = time.perf_counter()
        self.record_values(polynomials.horner_eval(list(constants), self.grid), started)
        return self.points[-1]


_LOG_ERROR = Objective("max_relative_error", "minimize", log_scale=True)


def log10_error(error: float) -> float:
    """The platform's log scale (`Objective.to_minimization`): log10, floored at 1e-300."""
    return _LOG_ERROR.to_minimization(error)


# -- hypervolume and figures ----------------------------------------------------------------
def hypervolume(points: Sequence[Sequence[float]]) -> float:
    """The platform's hypervolume (moocore) of the points inside the reference box."""
    return pareto.hypervolume(np.asarray(points, dtype=float).reshape(-1, 2), REFERENCE)


def hypervolume_trace(points: Sequence[Sequence[float]]) -> np.ndarray:
    """Hypervolume of the first i + 1 points, for every i (kept incrementally: it changes only
    when a point inside the reference box is not weakly dominated by the front so far)."""
    trace = np.zeros(len(points))
    front: list[tuple[float, float]] = []
    current = 0.0
    for i, (a, b) in enumerate(points):
        if a < REFERENCE[0] and b < REFERENCE[1] and not any(
                fa <= a and fb <= b for fa, fb in front):
            front = [(fa, fb) for fa, fb in front if not (a <= fa and b <= fb)]
            front.append((a, b))
            current = hypervolume(front)
        trace[i] = current
    return trace


def first_reaching(trace: np.ndarray, target: float) -> int | None:
    """Index of the first entry >= target, or None."""
    hits = np.flatnonzero(trace >= target)
    return int(hits[0]) if hits.size else None


def at_fraction(trace: np.ndarray, fraction: float) -> float:
    """The trace's value after ceil(fraction * length) evaluations."""
    return float(trace[max(math.ceil(fraction * len(trace)), 1) - 1])


# -- Optuna ---------------------------------------------------------------------------------
def run_optuna(problem: Problem, population: int, seed: int, sbx: bool = False) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem.start_clock()
    operators: dict[str, Any] = {}
    if sbx:
        from optuna.samplers.nsgaii import PolynomialMutation, SBXCrossover

        with warnings.catch_warnings():  # PolynomialMutation is experimental in Optuna 5
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            operators = {"crossover": SBXCrossover(eta=ETA), "mutation": PolynomialMutation(ETA)}
    sampler = optuna.samplers.NSGAIISampler(population_size=population, seed=seed,
                                            **operators)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)

    def objective(trial: Any) -> tuple[float, float]:
        return problem.evaluate([trial.suggest_float(f"c{k}", LOWER, UPPER)
                                 for k in range(NUM_CONSTANTS)])

    study.optimize(objective, n_trials=problem.remaining)


def run_optuna_sbx(problem: Problem, population: int, seed: int) -> None:
    run_optuna(problem, population, seed, sbx=True)


# -- DEAP -----------------------------------------------------------------------------------
def _deap_types() -> tuple[Any, Any]:
    from deap import base, creator

    if not hasattr(creator, "BenchFitnessMin2"):
        creator.create("BenchFitnessMin2", base.Fitness, weights=(-1.0, -1.0))
        creator.create("BenchIndividual", list, fitness=creator.BenchFitnessMin2)
    return creator.BenchFitnessMin2, creator.BenchIndividual


def _vary_pair(first: list, second: list) -> None:
    """SBX with probability 0.9, then polynomial mutation of each (DEAP's NSGA-II example)."""
    from deap import tools

    if random.random() <= CROSSOVER_PROBABILITY:
        tools.cxSimulatedBinaryBounded(first, second, eta=ETA, low=LOWER, up=UPPER)
    for child in (first, second):
        tools.mutPolynomialBounded(child, eta=ETA, low=LOWER, up=UPPER,
                                   indpb=1.0 / NUM_CONSTANTS)


def run_deap(problem: Problem, population: int, seed: int) -> None:
    from deap import tools

    if population % 4:
        raise ValueError(f"deap: selTournamentDCD needs a population divisible by 4, "
                         f"got {population}")
    _, individual = _deap_types()
    random.seed(seed)  # DEAP's operators draw from the random module
    problem.start_clock()
    pop = [individual(random.uniform(LOWER, UPPER) for _ in range(NUM_CONSTANTS))
           for _ in range(min(population, problem.remaining))]
    for ind in pop:
        ind.fitness.values = problem.evaluate(ind)
    if problem.remaining == 0:
        return
    pop = tools.selNSGA2(pop, population)  # assigns the crowding distances selTournamentDCD uses
    while problem.remaining > 0:
        offspring = [individual(ind) for ind in tools.selTournamentDCD(pop, len(pop))]
        for first, second in zip(offspring[::2], offspring[1::2], strict=True):
            _vary_pair(first, second)
        offspring = offspring[:problem.remaining]  # the last generation may be cut short
        for ind in offspring:
            ind.fitness.values = problem.evaluate(ind)
        pop = tools.selNSGA2(pop + offspring, population)


# -- the platform, through a campaign --------------------------------------------------------
def program_text(constants: Sequence[float]) -> str:
    return polynomials.horner_dsl([float(c) for c in constants])


class ConstantsSpace(SearchSpace):
    """The fixed Horner cubic with literal constants; mutation: ``perturb_constant`` only;
    objectives: max relative errors against 2^x and e^x on [0, 1] (log scale, reference 1).
    Every evaluation goes through `problem`, the objective the other methods call."""

    name = "bench_multiobjective_constants"

    def __init__(self, problem: Problem, settings: Any = None):
        super().__init__(settings)
        self.problem = problem

    @cached_property
    def signature(self) -> Signature:
        return Signature(inputs=("x",), outputs=("f",), ops=("add", "mul"))

    @property
    def objectives(self) -> tuple[Objective, ...]:
        return tuple(Objective(name, "minimize", log_scale=True, reference=reference)
                     for name, reference in zip(OBJECTIVE_NAMES, REFERENCE, strict=True))

    @cached_property
    def mutation_settings(self) -> MutationSettings:
        return MutationSettings(ops=("add", "mul"), max_statements=2 * DEGREE,
                                literal_probability=0.0,
                                weights=(("perturb_constant", 1.0),))

    def program(self, constants: Sequence[float]) -> Program:
        return self.simplify(self.parse(program_text(constants)))[0]

    def random(self, rng: np.random.Generator) -> Program:
        return self.program(rng.uniform(LOWER, UPPER, NUM_CONSTANTS))

    def probe(self) -> list[dict[str, np.ndarray]]:
        return [{"x": np.random.default_rng(20230101).uniform(0.0, 1.0, 16)}]

    def evaluate_one(self, program: Program) -> tuple[dict[str, float], dict[str, Any]]:
        started = time.perf_counter()
        grid = self.problem.grid
        values = np.broadcast_to(run_numpy(program, {"x": grid})["f"], grid.shape)
        errors = self.problem.record_values(values, started)
        return (dict(zip(OBJECTIVE_NAMES, errors, strict=True)),
                {"constants": constants_of(program)})

    def baselines(self) -> dict[str, str]:
        return {f"taylor_{target.name}": program_text(polynomials.taylor_coefficients(
                    "exp2" if target is EXP2 else "exp", DEGREE)) for target in TARGETS}


def constants_of(program: Program) -> list[float]:
    """c0..c3 of a Horner-cubic program: its literals, last statement's first."""
    literals = [a for ins in program.instructions for a in ins.args if isinstance(a, float)]
    return literals[::-1]


def run_platform(problem: Problem, population: int, seed: int) -> None:
    from automl.config import parse_config
    from automl.controller import CampaignController
    from automl.store import Store

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        config = parse_config(f"""
seed: {seed}
database: "{url}"
space: {{name: autonumerics, settings: {{}}}}
evolution: {{strategy: nsga2, population_size: {population}, tournament_size: 2}}
budget: {{max_evaluations: {problem.remaining}}}
cache: {{enabled: true}}
executor: {{kind: local, batch_size: {PLATFORM_BATCH_SIZE}}}
""")
        with Store.open(url) as store:
            problem.start_clock()
            space = ConstantsSpace(problem)
            controller = CampaignController.create(config, store, f"multiobjective-{seed}",
                                                   space=space)
            summary = controller.run()
            if summary.evaluations != problem.evaluations:
                raise RuntimeError(f"platform: the campaign counted {summary.evaluations} "
                                   f"evaluations, the objective {problem.evaluations}")


# -- the platform's NSGA-II selection on vectors ----------------------------------------------
def run_platform_nsga2_sbx(problem: Problem, population: int, seed: int) -> None:
    random.seed(seed)  # DEAP's operators
    rng = np.random.default_rng(seed)  # the platform's selection
    problem.start_clock()
    pool = NSGA2(population_size=population, tournament_size=2)
    number = 0

    def evaluate_and_add(constants: list[float]) -> None:
        nonlocal number
        pool.add(Member(number, np.asarray(problem.evaluate(constants)), list(constants)))
        number += 1

    for _ in range(min(population, problem.remaining)):
        evaluate_and_add([random.uniform(LOWER, UPPER) for _ in range(NUM_CONSTANTS)])
    while problem.remaining > 0:
        first = list(pool.select_parent(rng).payload)
        second = list(pool.select_parent(rng).payload)
        _vary_pair(first, second)
        for child in (first, second)[:problem.remaining]:
            evaluate_and_add(child)


RUNNERS: dict[str, Callable[[Problem, int, int], None]] = {
    "optuna": run_optuna,
    "optuna_sbx": run_optuna_sbx,
    "deap": run_deap,
    "platform": run_platform,
    "platform_nsga2_sbx": run_platform_nsga2_sbx,
}


def run_method(method: str, evaluations: int, population: int, seed: int,
               grid_points: int = GRID_POINTS) -> Problem:
    """One run of `method`; the returned problem holds its evaluation log and timings."""
    problem = Problem(evaluations, grid_points)
    RUNNERS[method](problem, population, seed)
    problem.wall_seconds = problem.elapsed()
    if problem.evaluations != evaluations:
        raise RuntimeError(f"{method}: {problem.evaluations} evaluations, budget {evaluations}")
    return problem


# -- reporting ------------------------------------------------------------------------------
def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def summarize(values: Sequence[float | None]) -> dict[str, Any]:
    """Median, min and max over seeds; None (not reached) counts as +inf and prints null."""
    numbers = [math.inf if v is None else float(v) for v in values]
    return {"value": _finite_or_none(statistics.median(numbers)),
            "min": _finite_or_none(min(numbers)), "max": _finite_or_none(max(numbers)),
            "per_seed": [None if v is None else float(v) for v in values]}


def figures(runs: dict[str, list[Problem]], seeds: Sequence[int], evaluations: int,
            target_fractions: Sequence[float], fractions: Sequence[float]
            ) -> list[dict[str, Any]]:
    """The JSON lines, from every method's run at every seed (runs[method][seed index])."""
    traces = {method: [hypervolume_trace(p.points) for p in problems]
              for method, problems in runs.items()}
    best_final = [max(traces[m][i][-1] for m in runs) for i in range(len(seeds))]
    lines = []

    def line(metric: str, unit: str, method: str, values: Sequence[float | None],
             **context: Any) -> None:
        lines.append({"metric": metric, **summarize(values), "unit": unit, "method": method,
                      "evaluations": evaluations, "seeds": list(seeds), **context})

    for method, problems in runs.items():
        method_traces = traces[method]
        line("final_hypervolume", HV_UNIT, method, [t[-1] for t in method_traces],
             reference=list(REFERENCE))
        for fraction in fractions:
            line("hypervolume_at_budget_fraction", HV_UNIT, method,
                 [at_fraction(t, fraction) for t in method_traces], fraction=fraction,
                 reference=list(REFERENCE))
        for target_fraction in target_fractions:
            targets_hv = [target_fraction * best for best in best_final]
            reached = [first_reaching(t, target)
                       for t, target in zip(method_traces, targets_hv, strict=True)]
            context = {"target_fraction": target_fraction, "target_hypervolume": targets_hv}
            line("time_to_target_evaluations", "evaluations", method,
                 [None if r is None else r + 1 for r in reached], **context)
            line("time_to_target_seconds", "s", method,
                 [None if r is None else p.times[r]
                  for r, p in zip(reached, problems, strict=True)], **context)
        line("wall_seconds", "s", method, [p.wall_seconds for p in problems])
        line("wall_per_evaluation", "us", method,
             [1e6 * p.wall_seconds / p.evaluations for p in problems])
        line("overhead_per_evaluation", "us", method,
             [1e6 * (p.wall_seconds - p.objective_seconds) / p.evaluations for p in problems])
        for k, target in enumerate(TARGETS):
            line("best_log10_error", "log10(max relative error)", method,
                 [min(point[k] for point in p.points) for p in problems], target=target.name)
    return lines


def minimax_lines(grid_points: int) -> list[dict[str, Any]]:
    """Context: the degree-3 minimax polynomial of each target, scored by the shared
    objective (the ends of the true front), and the hypervolume of those two points alone (a
    lower bound on the true front's)."""
    problem = Problem(len(TARGETS), grid_points)
    lines = []
    for k, target in enumerate(TARGETS):
        point = problem.evaluate(polynomials.remez_relative(target, DEGREE).coeffs)
        lines.append({"metric": "minimax_log10_error", "value": point[k],
                      "unit": "log10(max relative error)", "method": "remez",
                      "target": target.name, "other_target_value": point[1 - k],
                      "degree": DEGREE})
    lines.append({"metric": "minimax_pair_hypervolume", "value": hypervolume(problem.points),
                  "unit": HV_UNIT, "method": "remez", "reference": list(REFERENCE),
                  "degree": DEGREE})
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluations", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--population", type=int, default=48)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--target-fractions", default="0.8,0.95")
    parser.add_argument("--fractions", default="0.25,0.5")
    parser.add_argument("--grid-points", type=int, default=GRID_POINTS)
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in RUNNERS]
    if unknown or not methods:
        parser.error(f"--methods: unknown {unknown}; allowed: {', '.join(METHODS)}")
    if args.evaluations < 1 or args.seeds < 1 or args.population < 4:
        parser.error("--evaluations and --seeds must be >= 1, --population >= 4")
    if "deap" in methods and args.population % 4:
        parser.error("--population must be a multiple of 4 (DEAP's selTournamentDCD)")
    fractions = [float(f) for f in args.fractions.split(",") if f]
    target_fractions = [float(f) for f in args.target_fractions.split(",") if f]
    seeds = list(range(args.seeds))
    runs: dict[str, list[Problem]] = {m: [] for m in methods}
    for seed in seeds:
        for method in methods:
            problem = run_method(method, args.evaluations, args.population, seed,
                                 args.grid_points)
            runs[method].append(problem)
            print(f"seed {seed} {method}: {problem.wall_seconds:.1f} s, hypervolume "
                  f"{hypervolume(problem.points):.3f}", file=sys.stderr, flush=True)
    for line in minimax_lines(args.grid_points) + figures(
            runs, seeds, args.evaluations, target_fractions, fractions):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
