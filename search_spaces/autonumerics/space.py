"""AutoNumerics space (Real et al. 2023): programs from x to f approximating a target function.

A program is a DAG over add/sub/mul/div (fma and sqrt optional); names ``c0, c1, ...`` are
constants fitted per candidate, numeric literals are fixed. Objectives: maximum relative error
against a high-precision (mpmath) ground truth on a dense grid, and cost = number of ops whose
value depends on x (constant sub-expressions fold away, so they are free).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pydantic

from automl import dsl
from automl.evolution.mutations import MUTATION_KINDS, MutationSettings
from automl.hashing import DEFAULT_MANTISSA_BITS
from automl.imports import (
    PluginError,
    PluginRef,
    check_import_string,
    identity,
    plugin_ref,
    resolve_callable,
)
from automl.ir import (
    Instruction,
    Program,
    Signature,
    canonical_names,
    cost,
    parameter_sort_key,
    register_values,
    run_numpy,
)
from automl.ops import OpTable
from automl.space import (
    Objective,
    SearchSpace,
    SpaceSettings,
    key_setting,
    key_setting_unless_default,
    other_setting,
)
from automl.workflows import RowSink, WorkflowReport, read_options
from search_spaces.autonumerics import classical, fitting, float32, polynomials, targets
from search_spaces.autonumerics.front_report import FrontReportOptions, front_report
from search_spaces.autonumerics.ops import TABLE

ALLOWED_OPS = ("add", "sub", "mul", "div", "fma", "sqrt")
PARAMETER_STEM = "c"
PROBE_SEED = 20230101
# a fit this accurate cannot improve in float64 arithmetic: more restarts would be wasted
FLOAT64_FLOOR = 2.0**-50
# ops whose numpy implementation is complex-analytic, so a complex step differentiates them
# exactly (sqrt is of |a|: not analytic, its programs fall back to finite differences; fma
# of complex arrays is a * b + c, whose derivative is the single-rounding fma's: `automl.fma`)
COMPLEX_STEP_OPS = frozenset({"add", "sub", "mul", "div", "fma", "neg"})
# small enough that the step's h^2 terms vanish (1e-60 relative), large enough that no
# imaginary part is subnormal: with 1e-200 they were, and importing jax (which flushes
# subnormals to zero) changed fits, so a zoo entry reproduced differently in the CLI and tests
COMPLEX_STEP = 1e-30
# how fma rounds in float64 (numpy) evaluation, in the cache key of every op set with fma:
# once, since `automl.fma` replaced a * b + c (two roundings), whose results it keeps out
FMA_ROUNDING = "once"


class UserTarget(pydantic.BaseModel):
    """A target the user brings: ``{function: "pkg.mod:fn", interval: [a, b], name: my_fn}``.
    `fn` maps an mpmath number to an mpmath number (accurate to the current ``mp.dps``, as
    mpmath's own functions are). From Python, `function` may be the function itself: it is
    recorded by its import string ``module:qualname`` (`automl.imports.identity`), which must
    import it again. `name` defaults to the function's attribute name."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    function: str
    interval: tuple[float, float]
    name: str

    def resolved(self) -> targets.Target:
        """The `targets.Target` this names (imports the function)."""
        function = resolve_callable(self.function, "function")
        return targets.Target(self.name, self.interval[0], self.interval[1], function)


def user_target(value: Mapping[str, Any]) -> UserTarget:
    """A `UserTarget` from the mapping in a config (a function object becomes its import
    string): ValueError (one line) for unknown fields, a malformed import string or a bad
    interval. Nothing is imported here (reading a stored campaign needs no user code); a
    campaign config imports and tries the function (`AutoNumericsSettings.check_plugins`)."""
    data = dict(value)
    unknown = sorted(set(data) - {"function", "interval", "name"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} of a user target (allowed: function, "
                         f"interval, name)")
    if "function" not in data or "interval" not in data:
        raise ValueError("a user target needs function ('package.module:function') and "
                         "interval ([lower, upper])")
    function = data["function"]
    if callable(function) and not isinstance(function, str):
        data["function"] = identity(function, "function")
    elif not isinstance(function, str):
        raise ValueError(f"function: expected an import string 'package.module:function' or "
                         f"a function, got {type(function).__name__}")
    elif function in targets.TARGETS:
        raise ValueError(f"function: {function!r} is a built-in target: write target: "
                         f"{function}")
    check_import_string(data["function"], "function")
    data.setdefault("name", data["function"].rpartition(":")[2].rpartition(".")[2])
    try:
        interval = tuple(float(bound) for bound in data["interval"])
    except (TypeError, ValueError):
        interval = ()
    if len(interval) != 2:
        raise ValueError(f"interval: expected [lower, upper], got {data['interval']!r}")
    if not (all(math.isfinite(bound) for bound in interval) and interval[0] < interval[1]):
        raise ValueError(f"interval: need finite lower < upper, got [{interval[0]:g}, "
                         f"{interval[1]:g}]")
    data["interval"] = interval
    try:
        return UserTarget.model_validate(data)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{field}: {first['msg']}") from None


class AutoNumericsSettings(SpaceSettings):
    # in the cache key (`key_setting`): what is evaluated and how; out of it (`other_setting`):
    # how programs are hashed, generated and mutated
    mantissa_bits: int = other_setting(DEFAULT_MANTISSA_BITS, ge=1, le=52)
    # a built-in target's name (`targets.TARGETS`), or a `UserTarget` mapping
    target: str | UserTarget = key_setting("exp2")
    grid_points: int = key_setting(1024, ge=8, le=1_000_000)
    fit_constants: bool = key_setting(True)
    fit_method: Literal["lsq_minimax", "cma"] = key_setting("lsq_minimax")
    fit_max_evaluations: int = key_setting(2000, ge=10)
    # least squares stage of "lsq_minimax": "lm" = MINPACK Levenberg-Marquardt on the exact
    # (complex-step) Jacobian, where the program's ops are complex-analytic (else "trf");
    # "trf" = scipy's trf on 2-point finite differences, what every result before 2026-11-27
    # was fitted with (the zoo's older entries say so, and reproduce with it)
    fit_solver: Literal["lm", "trf"] = key_setting("lm")
    # independent random starts per fit, the best kept (fitting.fit_from_starts)
    fit_restarts: int = key_setting(1, ge=1, le=64)
    # cap on the model calls of the fit's least squares stage (`fitting.fit_constants`'s
    # `least_squares_evaluations`; None: 50 (k + 1) for k constants, as every result before it
    # was fitted). ~3/4 of a campaign's time is that stage (py-spy, 2^x, 60 s); Operon runs 10
    # Levenberg-Marquardt steps per candidate and leaves the rest to its descendants, which
    # start from the fitted constants, as here with `inherit_constants`
    fit_least_squares_evaluations: int | None = key_setting_unless_default(None, ge=1)
    ops: tuple[str, ...] = key_setting(("add", "sub", "mul", "div"))
    max_statements: int = other_setting(20, ge=1, le=200)
    initial_statements: int = other_setting(2, ge=1)
    # chance that a mutation's new argument is a fresh fitted constant rather than an existing
    # value: the best 2^x programs at costs 12-16 of one-CPU-hour searches carried only 5-7
    # constants (a degree-8 polynomial has 9), and refitting them did not help
    new_constant_probability: float = other_setting(0.2, ge=0.0, le=1.0)
    # a parent passes its fitted constants on: its child's first fit starts from them (new
    # constants from their op's identity, `inherited_start`), as symbolic regression keeps
    # constants in the expression. From random starts alone, one fit reaches a rational
    # structure's optimum for a few percent of starts (2^x as (E + O)/(E - O), cost 10: 1 start
    # in 20 gets within 1e5x of its 1.2e-14), so a structure found once, with lucky constants,
    # is otherwise lost to its children
    inherit_constants: bool = key_setting(True)
    # weight of the grow_constant mutation (c -> fma(v, c_new, c): a Horner step grown at a
    # constant, needs fma in the ops) beside the paper's five kinds at weight 1 each; 0 = off
    grow_constant_weight: float = other_setting(0.0, ge=0.0)
    probe_points: int = other_setting(16, ge=2)
    constants_seed: int = key_setting(0)
    # float32 mode: objectives max ULP error and XLA time relative to the library function
    precision: Literal["float64", "float32"] = key_setting("float64")
    float32_check_points: int = key_setting(65_536, ge=16)  # spaced in float32 order
    # ...and this many uniform in value: float32 order gives [0.5, 1) of 2^x 1/127 of the
    # points, yet the worst ULPs sit near x = 1 (a program at 0.75 ULP on the defaults was
    # 1.13 over every float32 input, `float32.exhaustive_max_ulp`)
    float32_check_uniform: int = key_setting(10_000, ge=0)
    # False: no subnormal inputs among the check points (`float32.check_points`): XLA on a CPU
    # flushes them to zero, so for erf on [0, 1], whose values there are subnormal too, every
    # program and jax.scipy.special.erf scored ~9.5 million ULPs there, and none was refined
    float32_subnormal_inputs: bool = key_setting_unless_default(True)
    timing_points: int = key_setting(10_000, ge=1)
    timing_repeats: int = key_setting(31, ge=1)
    # rounds of moving the rounded constants on the float32 lattice for fewer ULPs
    # (`float32.refine_constants`; 0 = the float64 fit rounded to float32, as before)
    float32_refine_rounds: int = key_setting(200, ge=0)
    # ...only for programs whose rounded fit is already within this many ULPs: refining moves
    # the max error by a fraction (1.25 -> 0.84 ULP for a degree-6 polynomial, 43.6 -> 41.9 for
    # degree 4), so it cannot rescue a 10^4-ULP program, and it is ~90% of a float32
    # evaluation's time (0.4-3.6 s against ~0.1 s for fit, compile and timing, on one core)
    float32_refine_below_ulp: float = key_setting(64.0, gt=0)

    @pydantic.field_validator("target", mode="before")
    @classmethod
    def _known_target(cls, value: Any) -> str | UserTarget:
        if isinstance(value, UserTarget):
            return value
        if isinstance(value, Mapping):
            return user_target(value)
        if not isinstance(value, str) or value not in targets.TARGETS:
            raise ValueError(f"unknown target {value!r}; allowed: {', '.join(targets.TARGETS)}"
                             f", or a mapping {{function: 'package.module:function', "
                             f"interval: [lower, upper], name: ...}}")
        return value

    def check_plugins(self) -> None:
        """A user target's function imported and tried at the interval's ends and middle,
        then at every training grid point (where each candidate is scored: a function not
        finite at one of them would fail every candidate): `PluginError` (one line) for an
        import string that names nothing usable or a function that raises or returns no
        finite real number there (the first such x)."""
        if isinstance(self.target, UserTarget):
            try:
                target = self.target.resolved()
                targets.check_target(target)
                targets.ground_truth(target, targets.training_grid(target, self.grid_points))
            except ValueError as error:
                raise PluginError(("target",), str(error)) from None

    @pydantic.model_validator(mode="after")
    def _float32_needs_reference(self) -> AutoNumericsSettings:
        if self.precision == "float32" and (not isinstance(self.target, str) or
                                            self.target not in float32.REFERENCE_FUNCTIONS):
            name = self.target if isinstance(self.target, str) else self.target.function
            raise ValueError(f"precision float32 compares programs with a library function, "
                             f"and target {name!r} has none (float32 targets: "
                             f"{', '.join(float32.REFERENCE_FUNCTIONS)})")
        return self

    @pydantic.model_validator(mode="after")
    def _no_inert_settings(self) -> AutoNumericsSettings:
        """A setting that changes nothing under the others is refused, not keyed: it would
        only split the cache (re-evaluating what is stored) and mislead the reader."""
        if not self.float32_subnormal_inputs and self.precision != "float32":
            raise _InertSetting("float32_subnormal_inputs", "precision: float32")
        if self.fit_least_squares_evaluations is not None and self.fit_method != "lsq_minimax":
            raise _InertSetting("fit_least_squares_evaluations", "fit_method: lsq_minimax")
        return self

    @pydantic.field_validator("ops")
    @classmethod
    def _known_ops(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [op for op in value if op not in ALLOWED_OPS]
        if unknown or not value:
            raise ValueError(f"ops must be a non-empty subset of {', '.join(ALLOWED_OPS)}; "
                             f"got {', '.join(unknown) or 'none'}")
        return value


class _InertSetting(ValueError):
    def __init__(self, setting: str, needs: str) -> None:
        super().__init__(f"{setting} applies only with {needs}: remove it, or set {needs}")


class AutoNumericsSpace(SearchSpace):
    name = "autonumerics"
    Settings = AutoNumericsSettings
    # 2: a program whose fitted denominator has a zero inside the interval fails. Since then
    # fma rounds once (`automl.fma`; it was a * b + c, rounded twice): that changed only
    # programs with fma, which only an op set with fma admits, so instead of a version 3 for
    # every key, those keys say how fma rounds (`FMA_ROUNDING`, `evaluation_settings`)
    evaluator_version = 2
    settings: AutoNumericsSettings

    @cached_property
    def signature(self) -> Signature:
        return Signature(inputs=("x",), outputs=("f",), ops=self.settings.ops,
                         parameter_pattern=rf"{PARAMETER_STEM}\d+", registry=TABLE)

    def evaluation_settings(self) -> dict[str, Any]:
        """The cache key's settings (`SearchSpace.evaluation_settings`), and where fma is among
        the ops how it rounds (`FMA_ROUNDING`): results computed with the twice-rounded fma are
        never reused, while every key without fma stays as it was, and with it the campaigns
        and cache entries stored under it (tests/data's release database resumes)."""
        settings = super().evaluation_settings()
        if "fma" in self.settings.ops:
            settings["fma"] = FMA_ROUNDING
        return settings

    def requirements(self) -> dict[str, str]:
        # float32 mode compiles the programs and the library function with XLA
        return {"jax": "jax"} if self.settings.precision == "float32" else {}

    @property
    def objectives(self) -> tuple[Objective, ...]:
        if self.settings.precision == "float32":
            # references: 2^23 ULPs is a relative error of ~1, worthless; 10x slower than the
            # library function is not worth having
            return (Objective("max_ulp_error", "minimize", log_scale=True,
                              reference=23 * math.log10(2.0)),
                    Objective("relative_time", "minimize", reference=10.0, measured=True))
        # references: error 1 (log10 = 0) is worthless; cost cannot exceed the statement limit
        return (Objective("max_relative_error", "minimize", log_scale=True, reference=0.0),
                Objective("cost", "minimize", reference=self.settings.max_statements + 1.0))

    @cached_property
    def mutation_settings(self) -> MutationSettings:
        weights = tuple((kind, 1.0) for kind in MUTATION_KINDS)
        if self.settings.grow_constant_weight > 0:
            weights += (("grow_constant", self.settings.grow_constant_weight),)
        return MutationSettings(ops=self.settings.ops, max_statements=self.settings.max_statements,
                                literal_probability=self.settings.new_constant_probability,
                                parameter_stem=PARAMETER_STEM, weights=weights)

    @cached_property
    def target(self) -> targets.Target:
        if isinstance(self.settings.target, UserTarget):
            return self.settings.target.resolved()
        return targets.get_target(self.settings.target)

    def plugins(self) -> dict[str, PluginRef]:
        """A user target's function (its import string and declared ``__automl_version__``)."""
        if isinstance(self.settings.target, UserTarget):
            return {"target": plugin_ref(self.settings.target.function,
                                         self.target.mp_function)}
        return {}

    @cached_property
    def grid(self) -> np.ndarray:
        return targets.training_grid(self.target, self.settings.grid_points)

    @cached_property
    def truth(self) -> np.ndarray:
        return targets.ground_truth(self.target, self.grid)

    # -- evolution ------------------------------------------------------------------------
    def random(self, rng: np.random.Generator) -> Program:
        """A random small DAG whose first statement reads x (so f depends on x)."""
        ops = self.settings.ops
        instructions: list[Instruction] = []
        available: list[str] = ["x"]
        parameters: list[str] = []
        for i in range(self.settings.initial_statements):
            op = self.signature.registry.get(ops[int(rng.integers(len(ops)))])
            args: list[str | float] = []
            for k in range(op.arity):
                if i == 0 and k == 0:
                    args.append("x")
                elif rng.random() < 0.5:
                    parameters.append(f"{PARAMETER_STEM}{len(parameters)}")
                    args.append(parameters[-1])
                else:
                    args.append(available[int(rng.integers(len(available)))])
            if i > 0 and instructions[-1].register not in args:
                args[int(rng.integers(len(args)))] = instructions[-1].register
            register = f"t{i + 1}"
            instructions.append(Instruction(register, op.name, tuple(args)))
            available.append(register)
        program = Program(("x",), tuple(parameters), tuple(instructions),
                          (("f", instructions[-1].register),))
        return canonical_names(program)

    def simplify(self, program: Program) -> tuple[Program, int]:
        """Generic simplification, then (when constants are fitted) every statement computed
        from constants alone becomes one fresh fitted constant: ``c0 + c0`` and ``c0 - c1``
        both fit to the same value as ``c2``, so they are the same candidate."""
        simplified, removed = super().simplify(program)
        if not self.settings.fit_constants:
            return simplified, removed
        collapsed = collapse_constant_statements(simplified, self.signature.registry)
        if collapsed is simplified:
            return simplified, removed
        again, removed_again = super().simplify(collapsed)
        return again, len(program) - len(again)

    # -- hashing --------------------------------------------------------------------------
    def probe(self) -> list[dict[str, np.ndarray]]:
        rng = np.random.default_rng(PROBE_SEED)
        return [{"x": rng.uniform(self.target.lower, self.target.upper,
                                  self.settings.probe_points)}]

    def probes_for(self, program: Program) -> list[dict[str, np.ndarray]]:
        """Fitted constants are probe inputs too (so programs that differ only in constant
        values collide before fitting): one fixed value per constant index, any number."""
        probe = dict(self._probes[0])
        for name in program.parameters:
            probe[name] = constant_probe_value(parameter_sort_key(name)[1])
        return [probe]

    def structural_objectives(self, program: Program) -> dict[str, float]:
        # the cost counts ops as written: `x*c0 + x*c1` and `x*(c0 + c1)` hash alike (one
        # function) but cost 3 and 2, and the cheaper form must be able to win
        if self.settings.precision == "float32":
            return {}  # its cost, the measured time, needs a run
        return {"cost": cost(program, ("x",), TABLE)}

    # -- evaluation -----------------------------------------------------------------------
    def model(self, program: Program):
        names = program.parameters

        def evaluate(params: np.ndarray, x: np.ndarray) -> np.ndarray:
            values = {"x": x, **{name: float(v) for name, v in zip(names, params, strict=True)}}
            return np.broadcast_to(run_numpy(program, values, TABLE)["f"], x.shape)

        return evaluate

    def fit_jacobian(self, program: Program) -> fitting.Jacobian | None:
        """The exact Jacobian the fit uses under ``fit_solver: lm``, None under "trf"."""
        return self.model_jacobian(program) if self.settings.fit_solver == "lm" else None

    def model_jacobian(self, program: Program) -> fitting.Jacobian | None:
        """d f / d constants at every x, exact to rounding, by complex step: all k constants
        stepped at once, one by each row of ``params + i h I`` (h = `COMPLEX_STEP`; no subtractive
        cancellation, unlike finite differences), in one vectorised run of the program; the
        imaginary part over h is the derivative. None when the program uses an op that is not
        complex-analytic (then the fit takes finite differences)."""
        if not {ins.op for ins in program.instructions} <= COMPLEX_STEP_OPS:
            return None
        names = program.parameters

        def jacobian(params: np.ndarray, x: np.ndarray) -> np.ndarray:
            stepped = params[None, :] + 1j * COMPLEX_STEP * np.eye(len(names))
            values = {"x": x[None, :], **{name: stepped[:, i, None]
                                          for i, name in enumerate(names)}}
            rows = np.broadcast_to(run_numpy(program, values, TABLE)["f"],
                                   (len(names), x.size))
            return np.imag(rows).T / COMPLEX_STEP

        return jacobian

    def passed_on(self, program: Program, metrics: Mapping[str, Any]) -> Program:
        """With `inherit_constants`, the program carries its fitted constants to its children
        as where their fits start (`Program.parameter_values`, re-keyed through renames)."""
        constants = metrics.get("constants")
        if not (self.settings.inherit_constants and self.settings.fit_constants and constants):
            return program
        return program.replace(parameter_values=dict(constants))

    def as_evaluated(self, program: Program, metrics: Mapping[str, Any]) -> Program:
        """The recorded start of the constants' fit (``metrics["fit_start"]``), if any."""
        start = metrics.get("fit_start")
        return program.replace(parameter_values=dict(start)) if start else program

    def evaluate_one(self, program: Program) -> tuple[dict[str, float], dict[str, Any]]:
        model = self.model(program)
        count = len(program.parameters)
        starts = self.constant_starts(count)
        inherited = self.inherited_start(program, starts[0])
        if inherited is not None:  # the same number of fits: the inherited one first
            starts = [inherited, *starts[:-1]]
        if self.settings.fit_constants and count:
            fit = fitting.fit_from_starts(
                model, self.grid, self.truth, starts, good_enough=FLOAT64_FLOOR,
                method=self.settings.fit_method, max_evaluations=self.settings.fit_max_evaluations,
                rng=np.random.default_rng(self.settings.constants_seed),
                jacobian=self.fit_jacobian(program),
                least_squares_evaluations=self.settings.fit_least_squares_evaluations)
            params, error = fit.params, fit.max_relative_error
        else:
            params = starts[0]
            error = float(np.max(targets.relative_error(model(params, self.grid), self.truth)))
        constants = {name: float(v) for name, v in zip(program.parameters, params, strict=True)}
        pole = pole_inside(program, constants, self.grid)
        if pole is not None:
            raise ValueError(f"pole inside [{self.target.lower:g}, {self.target.upper:g}]: "
                             f"{pole} (with the fitted constants)")
        objectives = {"max_relative_error": error, "cost": cost(program, ("x",), TABLE)}
        metrics: dict[str, Any] = {"constants": constants}
        if inherited is not None:  # what re-evaluating needs to reproduce this fit
            metrics["fit_start"] = {name: float(v) for name, v in
                                    zip(program.parameters, inherited, strict=True)}
        if self.settings.precision == "float32":
            float32_objectives, float32_metrics = self.float32_objectives(program, constants,
                                                                          objectives)
            return float32_objectives, {**metrics, **float32_metrics}
        return objectives, metrics

    def inherited_start(self, program: Program, fallback: np.ndarray) -> np.ndarray | None:
        """The fit's start from `program.parameter_values`, or None when it carries none or
        constants are not fitted. A constant without a value (new in this child) starts as
        the identity of the op that first reads it, where it has one (0 added, 1 multiplied
        or divided by: `identity_argument`), so that a statement inserted on an edge starts
        out passing its input through and the child starts where its parent ended; else
        from `fallback`'s draw."""
        values = program.parameter_values
        if not (values and self.settings.fit_constants and program.parameters):
            return None
        identity: dict[str, float] = {}
        new = set(program.parameters) - set(values)
        for ins in program.instructions:
            for position, arg in enumerate(ins.args):
                if arg in new and arg not in identity:
                    identity[arg] = identity_argument(ins, position, new)
        start = []
        for i, name in enumerate(program.parameters):
            value = values.get(name, identity.get(name, math.nan))
            start.append(fallback[i] if math.isnan(value) else value)
        return np.array(start, dtype=np.float64)

    @cached_property
    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        """Points no fit saw, for the final front: 10,000 uniform random ones plus a dense
        2^16-point Chebyshev/uniform grid, with the mpmath ground truth there."""
        x = np.unique(np.concatenate([targets.validation_points(self.target, 10_000, seed=1),
                                      targets.training_grid(self.target, 2**16)]))
        return x, targets.ground_truth(self.target, x)

    def validation_error(self, program: Program, constants: Mapping[str, float]) -> float:
        """Max relative error (float64) of `program` with its fitted `constants` on the
        validation points: the figure to report for a front member, since the training grid's
        error can be optimistic between its points."""
        x, truth = self.validation
        if pole_inside(program, constants, x) is not None:
            return math.inf
        values = self.model(program)(np.array([constants[name] for name in
                                               program.parameters]), x)
        with np.errstate(all="ignore"):
            return float(np.max(targets.relative_error(values, truth)))

    # -- float32 mode ---------------------------------------------------------------------
    @cached_property
    def float32_checks(self) -> tuple[np.ndarray, np.ndarray]:
        """Float32 check inputs (`float32.check_points`) and the exact target there."""
        x = float32.check_points(self.target, self.settings.float32_check_points,
                                 random=self.settings.float32_check_uniform,
                                 subnormal_inputs=self.settings.float32_subnormal_inputs)
        return x, targets.ground_truth(self.target, x.astype(np.float64))

    @cached_property
    def float32_reference(self) -> tuple[Any, float]:
        """The jitted library function this target's programs compete with, and its max ULP
        error on the check points."""
        import jax

        function = jax.jit(float32.reference_function(self.target.name))
        x, exact = self.float32_checks
        return function, float(np.max(float32.ulp_errors(np.asarray(function(x)), exact)))

    def float32_objectives(self, program: Program, constants: dict[str, float],
                           float64: dict[str, float]) -> tuple[dict[str, float], dict[str, Any]]:
        """Max ULP error of the program run in float32 under XLA on the check points
        (constants rounded to float32, then, if that is within `float32_refine_below_ulp`,
        refined on the float32 lattice: `float32_refine_rounds`), and its wall-clock on
        `timing_points` random inputs over the library function's, medians of
        `timing_repeats` calls taken in turns."""
        x, exact = self.float32_checks
        rounded = {name: float(np.float32(value)) for name, value in constants.items()}
        function, max_ulp = self.float32_error(program, rounded)
        refined = bool(self.settings.float32_refine_rounds and program.parameters
                       and max_ulp < self.settings.float32_refine_below_ulp)
        if refined:
            constants, _ = float32.refine_constants(program, rounded, x, exact,
                                                    max_rounds=self.settings.float32_refine_rounds)
            function, max_ulp = self.float32_error(program, constants)
        else:
            constants = rounded
        reference, reference_ulp = self.float32_reference
        rng = np.random.default_rng(PROBE_SEED)
        timing_x = rng.uniform(self.target.lower, self.target.upper,
                               self.settings.timing_points).astype(np.float32)
        medians = float32.median_seconds(float32.side_by_side_seconds(
            {"program": function, "reference": reference}, timing_x,
            self.settings.timing_repeats))
        objectives = {"max_ulp_error": max_ulp,
                      "relative_time": medians["program"] / medians["reference"]}
        metrics = {"float32_constants": constants, "float32_refined": refined, **float64,
                   "time_us": medians["program"] * 1e6,
                   "reference_time_us": medians["reference"] * 1e6,
                   "reference_max_ulp_error": reference_ulp,
                   "reference": float32.REFERENCE_FUNCTIONS[self.target.name]}
        return objectives, metrics

    def float32_error(self, program: Program, constants: Mapping[str, float]
                      ) -> tuple[Any, float]:
        """`program` jitted in float32 with `constants`, and its max ULP error on the check
        points."""
        x, exact = self.float32_checks
        function = float32.jax_function(program, constants)
        values = np.asarray(function(x))
        if values.dtype != np.float32:
            raise RuntimeError(f"program computes in {values.dtype}, not float32")
        return function, float(np.max(float32.ulp_errors(values, exact)))

    def constant_starts(self, count: int) -> list[np.ndarray]:
        """`fit_restarts` random starting points for `count` constants, a pure function of
        the settings (so an evaluation is reproducible): the first is the draw of
        ``default_rng(constants_seed)``, restart r draws from ``default_rng([seed, r])``."""
        seed = self.settings.constants_seed
        return [fitting.initial_constants(count, np.random.default_rng(
                    seed if restart == 0 else [seed, restart]))
                for restart in range(self.settings.fit_restarts)]

    def baselines(self) -> dict[str, str]:
        programs = baseline_programs(self.target)
        if "div" in self.settings.ops:
            programs.update(self.rational_minimax())
        if "fma" in self.settings.ops:
            # with fma a Horner step costs 1, not 2: the polynomial front to beat moves
            programs.update(fma_minimax_programs(self.target))
        # only what the op set writes (`classical.written_with`, the rule best_classical
        # follows): the paper's {add, mul, fma} has no Pade approximant (div), and writes
        # log's (x - 1) * q(x) as (x + (-1)) * q(x); without this its campaigns and
        # `automl baselines` failed on the first such program
        every_op = dataclasses.replace(self.signature, ops=ALLOWED_OPS)
        kept = {}
        for name, text in programs.items():
            parsed = dsl.parse(text, every_op, name)
            written = classical.written_with(parsed, self.settings.ops)
            if written is not None:
                kept[name] = text if written == parsed else self.format(written)
        return kept

    def baseline_report(self, *, on_row: RowSink | None = None) -> WorkflowReport | None:
        """The classical approximations at their strongest with this op set, cost by cost
        (`classical.classical_report`): minimax polynomials in Horner form with and without
        fma and in Estrin's, minimax-fitted rationals with and without fma, Pade and Taylor,
        and ``best_classical`` per cost, measured as evolved programs are. None in float32
        mode, whose cost is measured time, not ops."""
        if self.settings.precision == "float32":
            return None
        return classical.classical_report(self, on_row=on_row)

    def classical_programs(self, max_cost: int = 16) -> dict[str, str]:
        """Name -> DSL text of every classical approximation of `classical.FAMILIES` up to
        about `max_cost` ops: minimax polynomials by degree in Horner form without and with
        fma and in Estrin's scheme, minimax-fitted rationals of `classical.rational_orders`
        without and with fma (zero-keeping: ``(x - z) * (p / q)``), Pade and Taylor. Its
        rationals parse only with div and sub in the op set (`classical.measuring_space`)."""
        target = self.target
        programs = {name: text for name, text in baseline_programs(
            target, range(1, max_cost // 2 + 1)).items() if not name.startswith("horner_fitted")}
        programs.update(fma_minimax_programs(target, range(1, max_cost + 1)))
        programs.update(classical.estrin_programs(target, range(2, max_cost + 1)))
        orders = classical.rational_orders(max_cost)
        programs.update(self.rational_minimax([(m, n) for m, n in orders
                                               if 2 * (m + n) + 1 <= max_cost], keep_zero=True))
        programs.update(self.rational_minimax(orders, fma=True, keep_zero=True))
        return programs

    def rational_minimax(self, orders: Sequence[tuple[int, int]] | None = None,
                         fma: bool = False, keep_zero: bool = False) -> dict[str, str]:
        """Rational approximations p/q by `orders` (default `PADE_ORDERS`; q's constant term
        1), constants fitted
        for the least max relative error on the training grid (least squares, then Lawson
        minimax refinement: `fitting.fit_constants`) starting from the Pade approximant;
        literal coefficients. ``rational_minimax_m_n`` costs what ``pade_m_n`` costs. With
        `fma`, p and q are fma Horner forms (``rational_minimax_fma_m_n``: m + n + 1 ops, and
        1 for the shift). With `keep_zero`, a target vanishing at z in its interval (log, log2
        at 1, erf at 0) is ``(x - z) * (p / q)`` with p / q fitted to f / (x - z) from its Pade
        approximant (2 ops more, 1 for z = 0), so the relative error at z is bounded."""
        center = expansion_center(self.target)
        zero = polynomials.target_zero(self.target) if keep_zero else None
        # the Pade approximant of f / (x - z) where the zero is kept
        expanded = self.target if zero is None else polynomials.divided_by_zero(self.target,
                                                                                zero)
        programs = {}
        for m, n in PADE_ORDERS if orders is None else orders:
            try:
                numerator, denominator = polynomials.pade_coefficients(expanded, m, n, center)
            except (NotImplementedError, ValueError, ZeroDivisionError):
                continue
            names = [f"c{i}" for i in range(m + n + 1)]
            skeleton = self.parse(rational_text(names[:m + 1], ["1.0", *names[m + 1:]], center,
                                                fma, zero), f"rational [{m}/{n}]")
            initial = np.array([*numerator, *denominator[1:]])
            fit = fitting.fit_constants(self.model(skeleton), self.grid, self.truth, initial,
                                        max_evaluations=4000,
                                        jacobian=self.fit_jacobian(skeleton))
            if not np.isfinite(fit.max_relative_error):
                continue
            fitted = [float(c) for c in fit.params]
            programs[f"rational_minimax{'_fma' if fma else ''}_{m}_{n}"] = rational_text(
                [polynomials.literal(c) for c in fitted[:m + 1]],
                ["1.0", *(polynomials.literal(c) for c in fitted[m + 1:])], center, fma, zero)
        return programs

    def export(self, program: Program, flavor: str = "jax",
               metrics: Mapping[str, Any] | None = None) -> str:
        """A standalone module (`flavor` "jax" or "python" for numpy) defining ``f(x)``, with
        the fitted constants inlined: those in the stored evaluation's `metrics`, else the
        program is evaluated here to fit them. A float32-mode evaluation's jax module gets
        its ``float32_constants`` (refined on the float32 lattice: what its ULPs were measured
        with); the numpy module, which computes in float64, the float64 fit's ``constants``."""
        from search_spaces.autonumerics.export import check_flavor, export_module

        check_flavor(flavor)  # before a fit, not after it
        constants = exported_constants(metrics, flavor)
        if constants is None:  # fit them, as an evaluation does
            constants = self.evaluate_one(program)[1]["constants"] if program.parameters else {}
        return export_module(program, self.format(program), self.signature.registry,
                             self.target, constants, flavor)

    # -- the front against the baselines (automl front; autonumerics/front_report.py) -----
    FrontOptions = FrontReportOptions

    def front_report(self, results: Any, campaign: str | int, options: Mapping[str, Any], *,
                     on_row: RowSink | None = None) -> WorkflowReport:
        """The campaign's front beside the minimax, rational, Pade and Taylor baselines cost by
        cost on the validation points, with the time-to-target curve
        (`front_report.front_report`)."""
        chosen = read_options(self.FrontOptions, options, f"automl front ({self.name})")
        return front_report(self, results, campaign, chosen, on_row=on_row)


def exported_constants(metrics: Mapping[str, Any] | None,
                       flavor: str = "jax") -> dict[str, float] | None:
    """The constants to run a stored evaluation's program with: float32 ones (from a
    float32-mode evaluation) where the code runs in float32 (`flavor` "jax"), else the float64
    fit's; None when `metrics` holds neither."""
    metrics = metrics or {}
    if flavor == "jax" and metrics.get("float32_constants") is not None:
        return dict(metrics["float32_constants"])
    return metrics.get("constants")


# (op, argument position) -> the value there that makes the statement pass another argument
# through: x + 0, x - 0, x * 1, x / 1 (fma: `identity_argument`)
IDENTITY_ARGUMENT: dict[tuple[str, int], float] = {
    ("add", 0): 0.0, ("add", 1): 0.0, ("sub", 1): 0.0, ("mul", 0): 1.0, ("mul", 1): 1.0,
    ("div", 1): 1.0}


def identity_argument(ins: Instruction, position: int, new: set[str]) -> float:
    """The start of a new constant at `position` of `ins` that makes the statement pass its
    other argument through, or nan where none does (c - v, c / v). fma(a, b, c) passes a value
    through two ways: fma(v, 1, 0) = v when its addend is new (a constant too), and
    fma(a, 0, v) = v when its addend is an existing value, the one an insertion on an edge
    spliced in there; a Horner step fma(x, c, v) inserted on the edge that read v thus starts
    out as its parent (with 1 it would start at x + v)."""
    if ins.op == "fma":
        return 0.0 if position == 2 or ins.args[2] not in new else 1.0
    return IDENTITY_ARGUMENT.get((ins.op, position), math.nan)


@functools.cache
def constant_probe_value(index: int) -> float:
    """The probe value of constant c<index>: a fixed draw in ±[0.5, 2] (away from 0 and from
    each other, so distinct constant expressions give distinct probe outputs)."""
    rng = np.random.default_rng([PROBE_SEED, index])
    return float(rng.uniform(0.5, 2.0) * rng.choice([-1.0, 1.0]))


def pole_inside(program: Program, constants: Mapping[str, float], x: np.ndarray) -> str | None:
    """Which division's denominator vanishes or changes sign between consecutive points of
    the sorted `x` (so it has a zero in the interval: a pole, or at best a removable one that
    floating point turns into NaN at one input the grid happens to miss), or None. The fit
    only sees grid points, so it can park such a zero between two of them."""
    with np.errstate(all="ignore"):
        env = register_values(program, {"x": x, **constants}, TABLE)
    for ins in program.instructions:
        if ins.op != "div":
            continue
        denominator = ins.args[1]
        value = env[denominator] if isinstance(denominator, str) else denominator
        signs = np.sign(np.broadcast_to(value, x.shape))
        if np.any(signs == 0) or np.any(signs[1:] != signs[:-1]):
            return f"the denominator of {ins.register} = {ins.args[0]} / {denominator} " \
                   f"changes sign or vanishes"
    return None


def collapse_constant_statements(program: Program, table: OpTable = TABLE) -> Program:
    """Replace statements that read only constants by a fresh fitted constant (folding their
    start values with `table`'s ops)."""
    constant = set(program.parameters)
    used = {parameter_sort_key(p)[1] for p in program.parameters}
    # a fresh constant starts its fit from the value the statement had (when its inputs have
    # start values), so the child computes what the parent did
    values = dict(program.parameter_values or {})
    replacement: dict[str, str] = {}
    kept: list[Instruction] = []
    for ins in program.instructions:
        args = tuple(replacement.get(a, a) if isinstance(a, str) else a for a in ins.args)
        if all(isinstance(a, float) or a in constant for a in args) and \
                ins.register not in program.output_registers:
            index = 0
            while index in used:
                index += 1
            used.add(index)
            name = replacement[ins.register] = f"{PARAMETER_STEM}{index}"
            constant.add(name)
            if all(isinstance(a, float) or a in values for a in args):
                with np.errstate(all="ignore"):
                    value = float(table.get(ins.op).numpy_impl(
                        *[a if isinstance(a, float) else values[a] for a in args]))
                if math.isfinite(value):
                    values[name] = value
            continue
        kept.append(Instruction(ins.register, ins.op, args))
    if not replacement:
        return program
    parameters = tuple(sorted(constant, key=parameter_sort_key))
    return canonical_names(program.replace(
        instructions=tuple(kept), parameters=parameters,
        parameter_values=values if program.parameter_values is not None else None))


# Pade [m/n] orders among the baselines: cost 2(m + n) + 1 (plus 1 for a shifted center)
PADE_ORDERS = ((1, 1), (2, 1), (2, 2), (3, 2), (3, 3), (4, 3), (4, 4))


def expansion_center(target: targets.Target) -> float:
    """Where Taylor and Pade baselines expand: the interval's middle, or 0 when the interval
    starts at 0 (then the expansion needs no shift)."""
    return 0.5 * (target.lower + target.upper) if target.lower > 0 else 0.0


def rational_text(numerator: Sequence[str], denominator: Sequence[str], center: float,
                  fma: bool = False, zero: float | None = None) -> str:
    """``f = p / q`` with p and q in Horner form over terms (literals or constant names), in
    powers of ``u = x - center`` (of x itself when center is 0); with `fma`, one fma per
    Horner step; with `zero` z, ``f = (x - z) * (p / q)`` (``x * (p / q)`` for z = 0)."""
    u = "x" if center == 0.0 else "u"
    shift = "" if center == 0.0 else f"u = x - {center!r}\n"
    ratio = "p / q" if zero is None else (
        f"{polynomials.zero_factor(zero, 'x')} * (p / q)")
    return (f"{shift}p = {polynomials.horner_text(numerator, u, fma)}\n"
            f"q = {polynomials.horner_text(denominator, u, fma)}\nf = {ratio}")


def baseline_programs(target: str | targets.Target, degrees: range = range(2, 9)
                      ) -> dict[str, str]:
    """Taylor and minimax polynomials in Horner form (literal coefficients), and Horner forms
    with fitted constants, by degree (cost = 2 * degree); Pade approximants [m/n] (two Horner
    forms and a division, literal coefficients) by `PADE_ORDERS`. `target`: a built-in name
    or a `targets.Target`. A family the target has none of (no Taylor expansion, more than one
    zero for a relative minimax) is left out."""
    target = targets.get_target(target) if isinstance(target, str) else target
    center = expansion_center(target)
    programs = {}
    for degree in degrees:
        try:
            taylor = polynomials.taylor_coefficients(target, degree, center=center)
            programs[f"taylor_{degree}"] = _shifted_horner(taylor, center)
        except (NotImplementedError, ValueError):
            pass
        minimax = _minimax(target, degree)
        if minimax is not None:
            # a target vanishing in its interval (log, log2, tanh) keeps its zero exact:
            # (x - z) * q(x)
            programs[f"minimax_{degree}"] = (
                polynomials.horner_dsl(minimax.quotient_coeffs, root=minimax.root)
                if minimax.root is not None and minimax.quotient_coeffs is not None
                else polynomials.horner_dsl(minimax.coeffs))
        programs[f"horner_fitted_{degree}"] = polynomials.horner_dsl_with_constants(degree)
    for m, n in PADE_ORDERS:
        try:
            numerator, denominator = polynomials.pade_coefficients(target, m, n, center)
        except (NotImplementedError, ValueError, ZeroDivisionError):
            continue
        programs[f"pade_{m}_{n}"] = rational_text(
            [polynomials.literal(c) for c in numerator],
            [polynomials.literal(c) for c in denominator], center)
    return programs


def _minimax(target: targets.Target, degree: int) -> polynomials.MinimaxResult | None:
    """`polynomials.remez_relative`, or None where the target has no relative minimax
    polynomial (more than one zero in its interval: a user's target may)."""
    try:
        return polynomials.remez_relative(target, degree)
    except ValueError:
        return None


def fma_minimax_programs(target: str | targets.Target, degrees: range = range(2, 13)
                         ) -> dict[str, str]:
    """``minimax_fma_<d>``: the minimax polynomial of degree d (relative error, Remez) in
    Horner form with one fma per step, ``fma(x, fma(x, a_d, a_{d-1}), ...)``: cost d. Targets
    whose minimax keeps a zero exact are written as that factor times the Horner
    form (cost d + 1, or d for a zero at 0)."""
    target = targets.get_target(target) if isinstance(target, str) else target
    programs = {}
    for degree in degrees:
        minimax = _minimax(target, degree)
        if minimax is None:
            continue
        if minimax.root is not None and minimax.quotient_coeffs is not None:
            if len(minimax.quotient_coeffs) < 2:
                continue  # a constant quotient: no Horner step to write
            text = polynomials.horner_dsl(minimax.quotient_coeffs, root=minimax.root, fma=True)
        else:
            text = polynomials.horner_dsl(minimax.coeffs, fma=True)
        programs[f"minimax_fma_{degree}"] = text
    return programs


def _shifted_horner(coefficients: list[float], center: float) -> str:
    if center == 0.0:
        return polynomials.horner_dsl(coefficients)
    return f"u = x - {center!r}\n" + polynomials.horner_dsl(coefficients, input="u")
