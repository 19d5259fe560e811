"""Fitting the learnable constants of one AutoNumerics candidate program.

Evolution proposes the *structure* of a program; its constants c0..c{k-1} are fitted, as in
AutoNumerics-Zero (Real et al. 2023), so that a structure is judged by the best accuracy it can
reach rather than by lucky random constants. The objective is the max relative error over a
training grid (minimax), which is non-smooth, so the default method works in two stages:

1. ``least_squares`` on the relative residuals (smooth, fast, and exact in one Gauss-Newton
   step for programs linear in their constants, e.g. any Horner polynomial), which lands near
   the minimax solution (typically within a factor 1.5-3 of it);
2. Lawson's algorithm (iteratively reweighted least squares): weights grow where the residual
   is large, ``w_i <- w_i |r_i|^p / sum``, and each round re-solves the weighted least squares
   from the current constants with one damped Gauss-Newton step (exact for linear models, whose
   Jacobian, exact or by finite differences, is then reused while its predictions hold: ~1
   model call per round). For linear models the weighted optimum converges to the minimax one and
   ``sqrt(sum w r^2)`` is a lower bound on the minimax error, a certificate to stop on. The
   best max-error constants seen anywhere are kept, since Lawson iterates are not monotone (and
   for nonlinear models not guaranteed to converge).

On 2^x, [0, 1], this reaches the Remez minimax error within 0.1% for Horner degrees 2..7 in
~100-200 model calls (scripts/bench_fitting.py).

"cma" (CMA-ES on log10 of the max relative error) is the derivative-free fallback for programs
where least squares struggles (poles, strong nonlinearity), at a much higher evaluation cost.

A candidate is a vectorised callable ``model(params, x) -> y``; this module does not know about
programs or the rest of the platform. Candidates can be numerically broken (NaN, overflow,
division by zero): they never raise here, they come back with ``max_relative_error = inf``.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from search_spaces.autonumerics.targets import ZERO_FLOOR, relative_error

__all__ = ["FIT_METHODS", "FitResult", "Jacobian", "Model", "fit_constants", "fit_from_starts",
           "initial_constants"]

Model = Callable[[np.ndarray, np.ndarray], np.ndarray]
# d model(params, x) / d params as an (len(x), len(params)) array, exact (e.g. by complex step)
Jacobian = Callable[[np.ndarray, np.ndarray], np.ndarray]
FIT_METHODS = ("lsq_minimax", "cma")


@dataclass(frozen=True, eq=False)
class FitResult:
    """Best constants found and their max relative error on the fitting grid.

    evaluations: number of model calls (each on the whole grid), the cost measure compared
        against `max_evaluations`. converged: the method stopped on its own criterion (rather
        than the budget) with a finite error. eq=False: `params` is an array.
    """

    params: np.ndarray
    max_relative_error: float
    evaluations: int
    method: str
    converged: bool
    seconds: float = 0.0


def initial_constants(k: int, rng: np.random.Generator) -> np.ndarray:
    """`k` random constants: magnitudes log-uniform over [1e-4, 1e4], random sign.

    As in the paper: the right scale of a constant is unknown a priori (2^x polynomial
    coefficients range from 1 down to 1e-5), so starting values are spread over 8 orders.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    magnitudes = 10.0 ** rng.uniform(-4.0, 4.0, size=k)
    signs = rng.choice(np.array([-1.0, 1.0]), size=k)
    return magnitudes * signs


class _BudgetExhausted(Exception):
    """Raised from inside an optimiser's callback to stop it at the evaluation budget."""


class _Objective:
    """Counts model calls, enforces the budget and remembers the best constants seen.

    Residuals are the relative errors with sign, ``(y - truth) / max(|truth|, ZERO_FLOOR)``,
    so that max |residual| is exactly `targets.relative_error`'s max.
    """

    def __init__(self, model: Model, x: np.ndarray, truth: np.ndarray, budget: int,
                 jacobian: Jacobian | None = None):
        self.model = model
        self.jacobian = jacobian
        self.x = x
        self.truth = truth
        self.scale = np.maximum(np.abs(truth), ZERO_FLOOR)
        self.budget = budget
        self.evaluations = 0
        self.best_error = math.inf
        self.best_params: np.ndarray | None = None

    def residuals(self, params: np.ndarray) -> np.ndarray:
        """Signed relative residuals; non-finite entries are left non-finite."""
        if self.evaluations >= self.budget:
            raise _BudgetExhausted
        self.evaluations += 1
        params = np.array(params, dtype=np.float64)
        # np.errstate, not warnings.catch_warnings: the latter is process-global state and not
        # safe if candidates are scored in threads; numpy's error state is per thread/context.
        with np.errstate(all="ignore"):
            try:
                y = np.broadcast_to(np.asarray(self.model(params, self.x), dtype=np.float64),
                                    self.x.shape)
                residuals = (y - self.truth) / self.scale
            except ArithmeticError:
                residuals = np.full(self.x.shape, np.nan)
            error = float(np.max(np.abs(residuals))) if residuals.size else 0.0
        if math.isfinite(error) and error < self.best_error:
            self.best_error = error
            self.best_params = params.copy()
        return residuals

    def residual_jacobian(self, params: np.ndarray) -> np.ndarray:
        """The exact Jacobian of the residuals (one call, counted as one evaluation); a
        non-finite entry is 0, so the solver leaves that constant alone there."""
        assert self.jacobian is not None
        if self.evaluations >= self.budget:
            raise _BudgetExhausted
        self.evaluations += 1
        with np.errstate(all="ignore"):
            try:
                jacobian = np.asarray(self.jacobian(np.array(params, dtype=np.float64), self.x),
                                      dtype=np.float64) / self.scale[:, None]
            except ArithmeticError:
                jacobian = np.zeros((self.x.size, len(params)))
        return np.where(np.isfinite(jacobian), jacobian, 0.0)

    def max_error(self, params: np.ndarray) -> float:
        residuals = self.residuals(params)
        with np.errstate(all="ignore"):
            error = float(np.max(np.abs(residuals))) if residuals.size else 0.0
        return error if math.isfinite(error) else math.inf


def fit_constants(
    model: Model,
    x: np.ndarray,
    truth: np.ndarray,
    initial: np.ndarray,
    *,
    method: str = "lsq_minimax",
    max_evaluations: int = 2000,
    rng: np.random.Generator | None = None,
    lawson_rounds: int = 60,
    lawson_power: float = 1.0,
    tolerance: float = 1e-3,
    popsize: int | None = None,
    jacobian: Jacobian | None = None,
    least_squares_evaluations: int | None = None,
) -> FitResult:
    """Fit the constants of `model` to minimise the max relative error against `truth` on `x`.

    method: "lsq_minimax" (least squares, then Lawson minimax refinement; `lawson_rounds`,
        `lawson_power` = p of the reweighting, `tolerance` = relative gap between the Lawson
        lower bound and the best max error at which to stop, `least_squares_evaluations` =
        the least squares stage's cap on model calls, default 50 (k + 1)) or "cma" (CMA-ES;
        `popsize` defaults to cma's 4 + 3 ln k; `rng` seeds it).
    max_evaluations: hard cap on model calls (finite-difference Jacobians included; an exact
        `jacobian` call counts as one, though a complex-step one costs ~4k model calls' work).
    jacobian: the model's exact Jacobian, when it has one. "lsq_minimax" then runs MINPACK's
        Levenberg-Marquardt on it instead of trf on finite differences (see `_least_squares`
        for why and what it costs).
    Programs without constants (k == 0) are evaluated once. Never raises for a broken model:
    non-finite outputs give ``max_relative_error = inf`` and ``converged = False``.
    """
    if method not in FIT_METHODS:
        raise ValueError(f"unknown fit method {method!r}; known: {', '.join(FIT_METHODS)}")
    if max_evaluations < 1:
        raise ValueError(f"max_evaluations must be >= 1, got {max_evaluations}")
    x = np.asarray(x, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if x.shape != truth.shape or x.ndim != 1:
        raise ValueError(f"x and truth must be 1-d of equal length, got {x.shape}, {truth.shape}")
    initial = np.array(initial, dtype=np.float64).reshape(-1)
    objective = _Objective(model, x, truth, max_evaluations, jacobian)
    started = time.perf_counter()

    converged = False
    try:
        with np.errstate(all="ignore"):  # broken candidates overflow; that is not news
            start_error = objective.max_error(initial)
            if initial.size == 0:
                converged = math.isfinite(start_error)
            elif not np.all(np.isfinite(initial)) or not math.isfinite(start_error):
                converged = False  # cannot start from a broken point: a failed fit
            elif method == "lsq_minimax":
                converged = _lsq_minimax(objective, initial, lawson_rounds, lawson_power,
                                         tolerance, least_squares_evaluations)
            else:
                converged = _cma(objective, initial, rng, popsize)
    except _BudgetExhausted:
        converged = False

    if objective.best_params is None:
        params, error, converged = initial, math.inf, False
    else:
        params = objective.best_params
        with np.errstate(all="ignore"):
            try:
                y = np.broadcast_to(np.asarray(model(params, x), dtype=np.float64), x.shape)
                error = float(np.max(relative_error(y, truth))) if x.size else 0.0
            except ArithmeticError:
                error = math.inf
    if not math.isfinite(error):
        error, converged = math.inf, False
    params = params.copy()
    params.setflags(write=False)
    return FitResult(
        params=params,
        max_relative_error=error,
        evaluations=objective.evaluations,
        method=method,
        converged=bool(converged),
        seconds=time.perf_counter() - started,
    )


def fit_from_starts(model: Model, x: np.ndarray, truth: np.ndarray,
                    starts: Sequence[np.ndarray], *, good_enough: float = 0.0,
                    **options: Any) -> FitResult:
    """`fit_constants` from each start in turn; the best fit, with the evaluations and seconds
    of all of them. Stops early once a fit's error is <= `good_enough`.

    Why: on programs that square a rational (2^x = r(x)^4) one local fit from a random start
    lands in the global basin only ~15% of the time (scripts/bench_fitting.py --part starts),
    so a structure that could win is otherwise judged by a bad local optimum, once and for all
    (its functional hash is cached).
    """
    if not starts:
        raise ValueError("fit_from_starts needs at least one start")
    best: FitResult | None = None
    evaluations, seconds = 0, 0.0
    for start in starts:
        fit = fit_constants(model, x, truth, start, **options)
        evaluations += fit.evaluations
        seconds += fit.seconds
        if best is None or fit.max_relative_error < best.max_relative_error:
            best = fit
        if best.max_relative_error <= good_enough:
            break
    assert best is not None
    return dataclasses.replace(best, evaluations=evaluations, seconds=seconds)


def _least_squares(objective: _Objective, start: np.ndarray, max_nfev: int) -> np.ndarray:
    """Nonlinear least squares on the relative residuals from `start`; the solver's end point.

    With an exact Jacobian, MINPACK's 'lm' on it; else 'trf' with a 2-point Jacobian. Both with
    ``x_scale='jac'`` for constants spread over many orders of magnitude. Non-finite residuals
    are passed in as 1e100, so a step into a NaN/overflow region is just a terrible step that
    the solver rejects and shrinks, not an exception (both accept only cost-decreasing steps,
    so from a finite start the end point is finite).

    Why 'lm' with the exact Jacobian: its fits converge where trf's run out of budget. Over
    the 158 fitted programs (3 starts each) of a 150 s exp2 campaign, 'trf' on finite
    differences took 12.6 s and 77,167 model calls, 'trf' on the exact Jacobian 10.9 s, 'lm' on
    it 7.3 s and 47,682 calls, ending lower on 49 programs and higher on 4. On 40 programs from
    the last quarter of an hour's campaign (~7 constants) 'lm' converged in all 120 fits, trf
    in 70 (49 hit the 2,000-call budget), with a lower mean log error (-4.85 vs -4.80), but it
    took 35 s against 23 s: a complex-step Jacobian of k constants costs ~4k real model calls.
    """

    def fun(params: np.ndarray) -> np.ndarray:
        residuals = objective.residuals(params)
        return np.nan_to_num(residuals, nan=1e100, posinf=1e100, neginf=-1e100)

    if objective.jacobian is not None and objective.x.size >= start.size:  # lm needs m >= n
        method, jac = "lm", objective.residual_jacobian
    else:
        method, jac = "trf", "2-point"
    with np.errstate(all="ignore"):
        result = least_squares(fun, start, method=method, jac=jac, x_scale="jac",
                               max_nfev=max_nfev, xtol=1e-15, ftol=1e-15, gtol=1e-15)
    return np.asarray(result.x, dtype=np.float64)


_FD_STEP = math.sqrt(np.finfo(np.float64).eps)


def _jacobian(objective: _Objective, params: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """The exact Jacobian of the residuals where the model has one, else forward differences
    (k model calls).

    Steps are relative to each constant (constants span many orders of magnitude) and are made
    exactly representable. If a forward step breaks the model (NaN/inf) the backward one is
    tried; a column that fails both ways is zero, so the solver leaves that constant alone.
    """
    if objective.jacobian is not None:
        return objective.residual_jacobian(params)
    jacobian = np.zeros((residuals.size, params.size))
    for j in range(params.size):
        for direction in (1.0, -1.0):
            shifted = params.copy()
            shifted[j] += direction * _FD_STEP * max(abs(params[j]), 1.0)
            step = shifted[j] - params[j]
            column = (objective.residuals(shifted) - residuals) / step
            if np.all(np.isfinite(column)):
                jacobian[:, j] = column
                break
    return jacobian


def _lsq_minimax(
    objective: _Objective, initial: np.ndarray, rounds: int, power: float, tolerance: float,
    least_squares_evaluations: int | None = None,
) -> bool:
    """Least squares, then Lawson rounds. Returns whether a stopping criterion was met."""
    k = initial.size
    # Stage 1: unweighted least squares, enough iterations for a nonlinear model to settle
    # (by default; a cap trades that for more candidates in the same time)
    params = _least_squares(objective, initial, max_nfev=least_squares_evaluations or
                            50 * (k + 1))
    residuals = objective.residuals(params)
    if not np.all(np.isfinite(residuals)):
        return False
    # Stage 2: Lawson. Each round reweights, w <- w |r|^p / sum, and takes one Gauss-Newton
    # step on the weighted problem from the current iterate (not the best one: the algorithm
    # needs its own iterates; the objective keeps the best seen). For a model linear in its
    # constants one step solves the weighted problem exactly, and the Jacobian is reused while
    # the linear prediction of the residuals holds, so a round then costs ~1 model call.
    weights = np.full(residuals.size, 1.0 / residuals.size)
    jacobian: np.ndarray | None = None
    exact = True  # params minimise the weighted problem for `weights` (trusting stage 1)
    stalled, best_seen = 0, objective.best_error
    for _ in range(rounds):
        magnitude = np.abs(residuals)
        # For linear models sqrt(sum w r^2) at the weighted optimum is a lower bound on the
        # minimax error: a certificate that the best max error is within `tolerance` of it.
        lower_bound = float(np.sqrt(np.sum(weights * magnitude**2)))
        if exact and objective.best_error <= (1.0 + tolerance) * lower_bound:
            return True
        weights = weights * magnitude**power
        total = float(np.sum(weights))
        if not (math.isfinite(total) and total > 0.0):
            return True  # all residuals are zero: an exact fit
        weights = np.maximum(weights / total, 1e-300)
        if jacobian is None:
            jacobian = _jacobian(objective, params, residuals)
        root_w = np.sqrt(weights)
        system = root_w[:, None] * jacobian
        scale = np.linalg.norm(system, axis=0)
        scale[scale == 0.0] = 1.0
        step = np.linalg.lstsq(system / scale, -root_w * residuals, rcond=None)[0] / scale
        old_cost = float(np.sum(weights * residuals**2))
        accepted = False
        for fraction in (1.0, 0.5, 0.25, 0.125):
            trial = params + fraction * step
            trial_residuals = objective.residuals(trial)
            cost = float(np.sum(weights * trial_residuals**2))
            if math.isfinite(cost) and cost <= old_cost:
                predicted = residuals + jacobian @ (fraction * step)
                mismatch = float(np.max(np.abs(trial_residuals - predicted)))
                linear = mismatch <= 1e-2 * float(np.max(np.abs(trial_residuals)))
                exact = linear and fraction == 1.0
                if not linear:
                    jacobian = None
                params, residuals, accepted = trial, trial_residuals, True
                break
        if not accepted:
            jacobian, exact = None, False
        # Stagnation: five rounds without a 1e-4 relative improvement of the best error.
        if objective.best_error < best_seen * (1.0 - 1e-4):
            stalled, best_seen = 0, objective.best_error
        else:
            stalled += 1
            if stalled >= 5:
                return True
    return False


def _cma(
    objective: _Objective, initial: np.ndarray, rng: np.random.Generator | None,
    popsize: int | None,
) -> bool:
    """CMA-ES on log10(max relative error). Returns whether cma stopped on a tolerance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cma warns about matplotlib at import
        import cma

    seed = int((rng or np.random.default_rng()).integers(1, 2**31 - 1))
    # One global step size would be wrong for constants spread over 8 orders of magnitude:
    # scale each coordinate's initial step by its own magnitude (floored, so zeros can move).
    stds = np.maximum(np.abs(initial), 1e-3)
    options: dict[str, object] = {
        "seed": seed,
        "verbose": -9,
        "maxfevals": objective.budget - objective.evaluations,
        "CMA_stds": stds.tolist(),
        "tolfun": 1e-11,
        "tolx": 1e-14,
    }
    if popsize is not None:
        options["popsize"] = int(popsize)

    def loss(params: np.ndarray) -> float:
        error = objective.max_error(params)
        return math.log10(max(error, 1e-300)) if math.isfinite(error) else 1e6

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strategy = cma.CMAEvolutionStrategy(initial.tolist(), 0.5, options)
        while not strategy.stop():
            remaining = objective.budget - objective.evaluations
            if remaining <= 0:
                raise _BudgetExhausted
            candidates = strategy.ask()[:remaining]
            values = [loss(np.asarray(c)) for c in candidates]
            if len(values) < strategy.popsize:
                raise _BudgetExhausted
            strategy.tell(candidates, values)
        stop = strategy.stop()
    return any(key in stop for key in ("tolfun", "tolx", "tolfunhist", "tolstagnation",
                                       "ftarget"))
