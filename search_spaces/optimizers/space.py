"""Optimizer update rules (Lion: Chen et al. 2023): `train(w, g, m, v, lr, t) -> (update, m, v)`.

A program is applied to every parameter tensor and the outer loop does ``w = w - update``;
`m` and `v` start at zero and carry state between steps; `t` is the 1-based step number (for
bias corrections: with it, the DSL AdamW is exactly `optax.adamw`). Candidates are trained on
small proxy tasks with a grid of learning rates (the best counts) by the compile-once batched
interpreter; the objectives are the validation loss on each task and `score`, which aggregates
the ratios of those losses to tuned AdamW's (AdamW at its best learning rate and weight decay
per task): their worst (the default: below 1 means better than AdamW on every task) or their
geometric mean (below 1: better on average).
Candidates that beat AdamW on the proxy tasks are re-evaluated on ~10x larger funnel tasks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pydantic

from automl.batching import ProgramBatching, resolve_program_batching
from automl.evolution.mutations import MutationSettings
from automl.hashing import functional_hash
from automl.imports import (
    PluginError,
    PluginRef,
    check_import_string,
    identity,
    plugin_ref,
    resolve_callable,
)
from automl.ir import Program, Signature, run_numpy
from automl.space import (
    BatchEvaluatedSpace,
    Evaluation,
    Objective,
    SpaceSettings,
    key_setting,
    key_setting_unless_default,
    other_setting,
)
from automl.workflows import Candidates, RowSink, WorkflowReport, read_options
from search_spaces.optimizers import interpreter
from search_spaces.optimizers.ops import NAMED_CONSTANTS, OPTIMIZER_OPS, OPTIMIZER_TABLE
from search_spaces.optimizers.tasks import (
    DEFAULT_TIERS,
    TASK_NAMES,
    data_sources,
    is_user_task,
    task_label,
)
from search_spaces.optimizers.validation import (
    MetaValidationOptions,
    best_candidate,
    check_b1s,
    meta_validate,
)


def adamw_dsl(weight_decay: float = 0.01, b1: float = 0.9) -> str:
    """AdamW as a DSL program (the seed; other decays and first-moment rates for baselines
    tuned over them)."""
    header = (f"# AdamW (optax.adamw: b1 {b1!r}, b2 0.999, eps 1e-8, weight decay "
              f"{weight_decay!r}), bias-corrected")
    return f"""{header}
m = interp(g, m, {b1!r})
v = interp(square(g), v, 0.999)
m_hat = m / (1 - exp(t * {math.log(b1)!r}))
v_hat = v / (1 - exp(t * {math.log(0.999)!r}))
update = m_hat / sqrt(v_hat)
update = update + w * {weight_decay!r}
update = update * lr
"""


ADAMW = adamw_dsl()
LION = """# Lion (optax.lion: b1 0.9, b2 0.99, weight decay 0.01)
update = interp(g, m, 0.9)
update = sign(update)
m = interp(g, m, 0.99)
update = update + w * 0.01
update = update * lr
"""
SGD_MOMENTUM = """# SGD with momentum 0.9 (optax.sgd(lr, momentum=0.9))
m = m * 0.9 + g
update = m * lr
"""
SIGN_SGD = """# signSGD
update = sign(g) * lr
"""
BASELINES = {"adamw": ADAMW, "lion": LION, "sgd_momentum": SGD_MOMENTUM, "sign_sgd": SIGN_SGD}


class OptimizersSettings(SpaceSettings):
    # in the cache key (`key_setting`), as they always were: every setting, the mutation limits
    # and the hashing ones (the base's `mantissa_bits` too) included, but `program_batching`;
    # two that came later enter it only away from their defaults (`key_setting_unless_default`)
    # the minibatch tiers (tasks.DEFAULT_TIERS, since evaluator version 6); the full-batch
    # tasks of before (logreg_digits, mlp_digits, linreg_noisy, spirals; funnel mlp_digits_x10,
    # spirals_x10) remain by name
    tasks: tuple[str, ...] = key_setting(DEFAULT_TIERS["proxy"])
    funnel_tasks: tuple[str, ...] = key_setting(DEFAULT_TIERS["funnel"])
    learning_rates: tuple[float, ...] = key_setting((3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1))
    max_statements: int = key_setting(30, ge=1, le=64)
    max_constants: int = key_setting(8, ge=1, le=32)
    hash_steps: int = key_setting(4, ge=1)
    init_seed: int = key_setting(0)
    # a proxy winner that fails the funnel scores its worst funnel ratio (>= 1: no better than
    # AdamW): only survivors advance, as in the Lion search, not programs overfitted to the
    # proxies. (A flat 1.0, as before evaluator version 5, ranked such a failure above every
    # program that never beat the decay-tuned reference on all proxies: searches bred it.)
    funnel_gates_score: bool = key_setting(True)
    # the baseline every ratio is taken against: AdamW at its best learning rate of the grid and
    # best of these weight decays, per task. With 0.01 alone, a candidate could beat it by
    # raising its weight decay: on these small full-batch tasks that alone lowers AdamW's
    # validation loss on 3 of the 4 held-out tasks (automl validate).
    reference_weight_decays: tuple[float, ...] = key_setting((0.01, 0.03, 0.1))
    # AdamW's first-moment rates (b1) the reference is tuned over too, with the rate and decay:
    # a candidate that is AdamW with a shorter momentum (b1 0.65 wins every held-out task on
    # the minibatch tiers, 2026-12-08) found a hyperparameter, not an update rule; searching
    # against AdamW tuned over b1 asks for more than that
    reference_b1s: tuple[float, ...] = key_setting_unless_default((0.9,))
    # decoupled weight decays (`lr * wd * w` added to the update, as optax.adamw does) that
    # every program, candidates and reference variants alike, is tuned over with the learning
    # rate: the best (rate, decay) pair counts. None: rates only, a program's decay is its own.
    # With [0, ...] and reference_weight_decays [0], both sides get the same tuning, as when
    # Lion and AdamW are compared each at its best rate and decay; candidates then win by
    # their update direction, not by regularizing more than a decay grid's edge allows.
    weight_decays: tuple[float, ...] | None = key_setting_unless_default(None)
    # the learning rate over a task's steps, for every program alike (the `lr` a program
    # reads and the added decay's): "constant", or "cosine" decay to zero over the task's
    # steps, as the Lion paper's comparisons train. Under a constant rate a sign-based update
    # cannot settle below a step of lr: Lion tuned over rate x decay loses spirals_deep to
    # AdamW 5x (geometric mean over 4 init seeds, 2026-12-06)
    # "warmup_cosine" (the default since evaluator version 6): a linear warmup from 0 over 5%
    # of the steps, then cosine decay to zero (optax.warmup_cosine_decay_schedule)
    lr_schedule: Literal["constant", "cosine", "warmup_cosine"] = key_setting_unless_default(
        "warmup_cosine")
    # clip each step's gradient to this global norm (over all parameter tensors) before the
    # program sees it, as optax.clip_by_global_norm does; None: no clipping
    gradient_clip: float | None = key_setting_unless_default(None, gt=0)
    # "worst_task": the largest ratio; "geometric_mean": their geometric mean, under which one
    # task's large gain (spirals' tiny losses) could outweigh losing on the others
    score: Literal["worst_task", "geometric_mean"] = key_setting("worst_task")
    program_batching: ProgramBatching = other_setting("auto")  # see automl.batching

    @pydantic.field_validator("tasks", "funnel_tasks", mode="before")
    @classmethod
    def _passed_functions(cls, value: Any) -> Any:
        """A task function passed from Python (`automl.run`) is recorded by its import string
        (`automl.imports.identity`: it must import back to that function)."""
        if isinstance(value, list | tuple):
            return [identity(item, "task") if callable(item) else item for item in value]
        return value

    @pydantic.field_validator("tasks", "funnel_tasks")
    @classmethod
    def _known_tasks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Built-in names, or a user's ``"package.module:make_task"`` (its form only: a
        campaign config imports and tries it, `check_plugins`)."""
        return check_task_names(value)

    def check_plugins(self) -> None:
        """Each user task imported and made (`tasks.user_task`): `PluginError`, one line
        naming the list, the import string and the reason (not found, raised, returned
        something other than a `Task`)."""
        from search_spaces.optimizers.tasks import get_task, is_user_task

        for field in ("tasks", "funnel_tasks"):
            for name in getattr(self, field):
                if is_user_task(name):
                    try:
                        get_task(name)
                    except ValueError as error:
                        raise PluginError((field,), str(error)) from None

    @pydantic.field_validator("learning_rates")
    @classmethod
    def _positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not (lr > 0 and math.isfinite(lr)) for lr in value):
            raise ValueError("learning_rates must be a non-empty list of positive numbers")
        return value

    @pydantic.field_validator("reference_b1s")
    @classmethod
    def _rates_of_a_moving_average(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return check_b1s(value, "reference_b1s")

    @pydantic.field_validator("reference_weight_decays", "weight_decays")
    @classmethod
    def _non_negative(cls, value: tuple[float, ...] | None, info: pydantic.ValidationInfo
                      ) -> tuple[float, ...] | None:
        if value is not None and (not value or any(not (decay >= 0 and math.isfinite(decay))
                                                   for decay in value)):
            raise ValueError(f"{info.field_name} must be a non-empty list of numbers >= 0")
        return value


class OptimizersSpace(BatchEvaluatedSpace):
    name = "optimizers"
    Settings = OptimizersSettings
    # 2: funnel failures are scored 1.0 (funnel_gates_score); 3: a second hash probe (see
    # `probe`), so no cache entry keyed by the old hash answers a new one; 4: ratios against
    # decay-tuned AdamW (reference_weight_decays) and the worst-task score; 5: a funnel failure
    # scores its worst funnel ratio; 6: the minibatch tasks and a warmup-cosine schedule are
    # the defaults (a stored default campaign trained under a constant rate)
    evaluator_version = 6
    settings: OptimizersSettings

    def requirements(self) -> dict[str, str]:
        """The tasks' data: scikit-learn's digits; the `mnist1d` package's generator when a
        task of these settings is on MNIST-1D."""
        needed = {"sklearn": "optimizers"}
        if any("mnist1d" in name for name in (*self.settings.tasks, *self.settings.funnel_tasks)
               if not is_user_task(name)):
            needed["mnist1d"] = "optimizers"
        return needed

    @cached_property
    def signature(self) -> Signature:
        return Signature(
            inputs=interpreter.INPUTS, outputs=interpreter.OUTPUTS, ops=OPTIMIZER_OPS,
            infix=(("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "safe_div")),
            named_constants=NAMED_CONSTANTS, registry=OPTIMIZER_TABLE,
        )

    @cached_property
    def grid(self) -> list[tuple[float, float | None]]:
        """The (learning rate, decoupled weight decay or None) pairs each program is tried
        with, in the order of the trainers' output columns."""
        return interpreter.hyperparameter_grid(self.settings.learning_rates,
                                               self.settings.weight_decays)

    @cached_property
    def objectives(self) -> tuple[Objective, ...]:
        return (Objective("score", "minimize"),
                *(Objective(f"loss_{task_label(task)}", "minimize", log_scale=True)
                  for task in self.settings.tasks))

    def data_sources(self) -> dict[str, str]:
        """The generators of the built-in tasks' data that these settings train on (the
        `mnist1d` package's version, the Python that ships ``pydoc_data``), by
        `tasks.data_sources`."""
        return data_sources(name for name in (*self.settings.tasks, *self.settings.funnel_tasks)
                            if not is_user_task(name))

    def plugins(self) -> dict[str, PluginRef]:
        """Each user task's function (import string and declared ``__automl_version__``), as
        ``tasks[i]`` / ``funnel_tasks[i]``; built-in tasks name none, so their keys are as
        they were."""
        refs = {}
        for field in ("tasks", "funnel_tasks"):
            for index, name in enumerate(getattr(self.settings, field)):
                if is_user_task(name):
                    refs[f"{field}[{index}]"] = plugin_ref(
                        name, resolve_callable(name, f"{field}[{index}]"))
        return refs

    @cached_property
    def mutation_settings(self) -> MutationSettings:
        return MutationSettings(
            ops=OPTIMIZER_OPS, max_statements=self.settings.max_statements,
            literal_probability=0.15,
            weights=(("insert_statement", 1.0), ("delete_statement", 1.0),
                     ("change_argument", 1.0), ("perturb_constant", 0.5)),
        )

    # -- evolution ------------------------------------------------------------------------
    @cached_property
    def adamw(self) -> Program:
        return self.parse(ADAMW, "baseline adamw")

    def initial_population(self, rng: np.random.Generator, size: int) -> list[Program]:
        """Warm start from AdamW, as the Lion search did."""
        return [self.adamw] * size

    def random(self, rng: np.random.Generator) -> Program:
        program = self.adamw
        for _ in range(int(rng.integers(1, 4))):
            program, _ = self.mutate(program, rng)
        return program

    def baselines(self) -> dict[str, str]:
        return dict(BASELINES)

    def export(self, program: Program, flavor: str = "jax",
               metrics: Mapping[str, Any] | None = None) -> str:
        """A standalone module (`flavor` "jax" or "python" for numpy) with `init(params)` and
        `update(grads, state, params, lr) -> (updates, state)` over pytrees."""
        from search_spaces.optimizers.export import export_module

        return export_module(program, self.format(program), self.signature.registry, flavor)

    # -- hashing: the trajectory of `update` over a few steps on seeded random tensors -----
    def probe(self) -> list[dict[str, np.ndarray]]:
        """Two probes: random state with lr 0.1, and the state training starts from (m = v =
        0) with an unround lr. With the first alone, `w * lr * lr` hashed like `w * 0.01`
        and `relu(v)` like `v` (a probe's v was positive), though they train differently:
        1% of the differently written cache hits of a search scored 0.2-85% off their twins'
        answers when evaluated again (scripts/bench_fec.py, fec_answer_agreement)."""
        rng = np.random.default_rng(20230213)
        shape = (2, 8)  # two "parameter tensors": per-tensor and global reductions differ
        probes = []
        for start, lr in (("random", 0.1), ("zero", 0.0037)):
            probe: dict[str, Any] = {name: rng.normal(size=shape) for name in ("w", "m", "v")}
            probe["v"] = np.abs(probe["v"])
            if start == "zero":
                probe["m"], probe["v"] = np.zeros(shape), np.zeros(shape)
            for step in range(self.settings.hash_steps):
                probe[f"g{step}"] = rng.normal(size=shape)
            probe["lr"] = lr
            probes.append(probe)
        return probes

    def fingerprint(self, program: Program) -> str:
        steps = self.settings.hash_steps
        table = self.signature.registry

        def trajectory(**probe: Any) -> list[np.ndarray]:
            w, m, v = probe["w"], probe["m"], probe["v"]
            updates = []
            for step in range(steps):
                outputs = run_numpy(program, {"w": w, "g": probe[f"g{step}"], "m": m, "v": v,
                                              "lr": probe["lr"], "t": float(step + 1)},
                                    table)
                update = np.broadcast_to(outputs["update"], w.shape)
                m = np.broadcast_to(outputs["m"], w.shape)
                v = np.broadcast_to(outputs["v"], w.shape)
                w = w - update
                updates.append(update)
            return updates

        return functional_hash(trajectory, self._probes, self.settings.mantissa_bits)

    # -- evaluation -----------------------------------------------------------------------
    def evaluate_batch(self, programs: Sequence[Program]) -> list[Evaluation]:
        """Train every program on every proxy task in compiled batches."""
        start = time.perf_counter()
        results: list[dict[str, Any]] = [{} for _ in programs]
        encodable: list[int] = []
        errors: dict[int, str] = {}
        for index, program in enumerate(programs):
            try:
                interpreter.encode([program], self.settings.max_statements,
                                   self.settings.max_constants)
                encodable.append(index)
            except (interpreter.EncodingError, KeyError) as error:
                errors[index] = f"cannot be evaluated: {error}"
        if encodable:
            batch = [programs[i] for i in encodable]
            per_task = {task: self._train(task, batch) for task in self.settings.tasks}
            reference = self.reference_losses(self.settings.tasks)
            for position, index in enumerate(encodable):
                results[index] = self._summarize(position, per_task, reference)
            self._run_funnel(batch, encodable, results)
        seconds = (time.perf_counter() - start) / max(len(programs), 1)
        evaluations = []
        for index in range(len(programs)):
            result = results[index]
            error = errors.get(index) or result.get("error")
            if error:
                evaluations.append(Evaluation(None, result.get("metrics", {}), error, seconds))
            else:
                evaluations.append(Evaluation(result["objectives"], result["metrics"], None,
                                              seconds))
        return evaluations

    def _summarize(self, position: int, per_task: dict[str, tuple[np.ndarray, np.ndarray]],
                   reference: dict[str, float]) -> dict[str, Any]:
        objectives: dict[str, float] = {}
        metrics: dict[str, Any] = {"learning_rate": {}, "metric": {}}
        if self.settings.weight_decays is not None:
            metrics["weight_decay"] = {}
        ratios = []
        for task, (losses, task_metrics) in per_task.items():
            loss, best = lowest_finite(losses[position])
            if best is None:
                return {"error": f"diverged on {task} at every learning rate",
                        "metrics": metrics}
            objectives[f"loss_{task_label(task)}"] = loss
            learning_rate, weight_decay = self.grid[best]
            metrics["learning_rate"][task] = learning_rate
            if weight_decay is not None:
                metrics["weight_decay"][task] = weight_decay
            metrics["metric"][task] = float(task_metrics[position, best])
            ratios.append(loss_ratio(loss, reference[task]))
        objectives["score"] = aggregate_ratios(ratios, self.settings.score)
        return {"objectives": objectives, "metrics": metrics}

    def _run_funnel(self, batch: list[Program], indexes: list[int],
                    results: list[dict[str, Any]]) -> None:
        """Re-test proxy winners (score < 1) on the larger funnel tasks; record the outcome
        (and, with `funnel_gates_score`, score a winner that fails it by its worst funnel
        ratio, at least 1: no better than tuned AdamW, and no better than programs that never
        won on the proxy by as little as it lost in the funnel)."""
        winners = [p for p, i in enumerate(indexes)
                   if "objectives" in results[i] and results[i]["objectives"]["score"] < 1.0]
        if not winners or not self.settings.funnel_tasks:
            return
        programs = [batch[p] for p in winners]
        reference = self.reference_losses(self.settings.funnel_tasks)
        outcome: dict[int, dict[str, float]] = {p: {} for p in winners}
        for task in self.settings.funnel_tasks:
            losses, _ = self._train(task, programs)
            for row, p in enumerate(winners):
                outcome[p][task] = lowest_finite(losses[row])[0]
        for p in winners:
            result = results[indexes[p]]
            metrics = result["metrics"]
            metrics["funnel"] = outcome[p]
            ratios = [loss_ratio(outcome[p][t], reference[t]) for t in outcome[p]]
            metrics["funnel_passed"] = max(ratios) < 1.0
            if not metrics["funnel_passed"] and self.settings.funnel_gates_score:
                metrics["proxy_score"] = result["objectives"]["score"]
                result["objectives"]["score"] = max(ratios)

    def _train(self, task_name: str, programs: Sequence[Program]
               ) -> tuple[np.ndarray, np.ndarray]:
        """Validation losses and metrics, shape (len(programs), len(self.grid))."""
        encoded = interpreter.encode(programs, self.settings.max_statements,
                                     self.settings.max_constants)
        losses, metrics = [], []
        largest = interpreter.BATCH_SIZES[-1]
        for start in range(0, len(programs), largest):
            chunk = _slice(encoded, start, start + largest)
            size = next(s for s in interpreter.BATCH_SIZES if s >= len(chunk))
            chunk_losses, chunk_metrics = self._trainer(task_name, size)(
                interpreter.pad(chunk, size))
            losses.append(chunk_losses[: len(chunk)])
            metrics.append(chunk_metrics[: len(chunk)])
        return np.concatenate(losses), np.concatenate(metrics)

    def _trainer(self, task_name: str, batch_size: int):
        key = (task_name, batch_size)
        cache = self.__dict__.setdefault("_trainers", {})
        if key not in cache:
            from search_spaces.optimizers.tasks import get_task

            cache[key] = interpreter.make_trainer(
                get_task(task_name), batch_size, self.settings.max_statements,
                self.settings.max_constants, self.settings.learning_rates,
                seed=self.settings.init_seed,
                batching=resolve_program_batching(self.settings.program_batching),
                weight_decays=self.settings.weight_decays, lr_schedule=self.settings.lr_schedule,
                gradient_clip=self.settings.gradient_clip)
        return cache[key]

    def losses_by_weight_decay(self, task: str, program: Program
                               ) -> dict[float | None, tuple[float, float | None]]:
        """`program`'s best validation loss on `task` over the learning rates and that rate,
        per decoupled weight decay of the grid (None without `weight_decays`); (inf, None)
        where it diverged at every rate."""
        (losses,), _ = self._train(task, [program])
        best: dict[float | None, tuple[float, float | None]] = {}
        for decay in dict.fromkeys(decay for _, decay in self.grid):
            columns = [c for c, (_, d) in enumerate(self.grid) if d == decay]
            loss, index = lowest_finite(losses[columns])
            best[decay] = (loss, None if index is None else self.grid[columns[index]][0])
        return best

    def reference_losses(self, tasks: Sequence[str]) -> dict[str, float]:
        """Tuned AdamW's validation loss per task: the best over the hyperparameter grid
        (`grid`), `reference_weight_decays` and `reference_b1s`."""
        by_decay = self.adamw_losses_by_decay(tasks)
        return {task: min(losses[task] for losses in by_decay.values()) for task in tasks}

    def adamw_losses_by_decay(self, tasks: Sequence[str]) -> dict[float, dict[str, float]]:
        """AdamW's best validation loss over the hyperparameter grid and `reference_b1s` (inf
        if it diverged everywhere), per weight decay of `reference_weight_decays` and task."""
        decays, b1s = self.settings.reference_weight_decays, self.settings.reference_b1s
        cache = self.__dict__.setdefault("_reference", {})
        missing = [task for task in tasks if task not in cache]
        if missing:
            variants = [self.parse(adamw_dsl(decay, b1), f"adamw weight decay {decay} b1 {b1}")
                        for decay in decays for b1 in b1s]
            for task in missing:
                losses, _ = self._train(task, variants)
                best = [lowest_finite(row)[0] for row in losses]  # decay-major, as `variants`
                cache[task] = [min(best[i * len(b1s):(i + 1) * len(b1s)])
                               for i in range(len(decays))]
        return {decay: {task: cache[task][i] for task in tasks}
                for i, decay in enumerate(decays)}

    # -- held-out validation (automl validate; search_spaces/optimizers/validation.py) ----
    ValidationOptions = MetaValidationOptions

    def validation_candidates(self, results: Any, campaign: str | int,
                              options: Mapping[str, Any]) -> Candidates:
        """The campaign's lowest-`score` candidate."""
        read_options(self.ValidationOptions, options, f"automl validate ({self.name})")
        return best_candidate(results, campaign)

    def validate(self, programs: Mapping[str, str], options: Mapping[str, Any], *,
                 origin: Mapping[str, Any] | None = None, on_row: RowSink | None = None
                 ) -> WorkflowReport:
        """Meta-validation: the one program and AdamW on the held-out tasks, both tuned over
        this space's learning rates x decoupled weight decays (`validation.meta_validate`)."""
        chosen = read_options(self.ValidationOptions, options, f"automl validate ({self.name})")
        b1s = chosen.adamw_b1s or self.settings.reference_b1s
        return meta_validate(self, programs, chosen,
                             adamw_texts=[adamw_dsl(0.0, b1) for b1 in b1s],
                             aggregate=aggregate_ratios, origin=origin, on_row=on_row)


def check_task_names(names: Sequence[str]) -> tuple[str, ...]:
    """`names` if each is a built-in task or has the form of an import string
    ``package.module:make_task`` (nothing imported), and no two share an objective name
    (`tasks.task_label`); ValueError (one line) otherwise."""
    for name in names:
        if is_user_task(name):
            check_import_string(name)
        elif name not in TASK_NAMES:
            raise ValueError(f"unknown task {name!r}; allowed: {', '.join(TASK_NAMES)}, or a "
                             f"user's task as an import string 'package.module:make_task'")
    labels = [task_label(name) for name in names]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"task {repeated[0]!r} is named twice")
    return tuple(names)


def lowest_finite(losses: np.ndarray) -> tuple[float, int | None]:
    """The lowest finite loss and its index; (inf, None) where every entry diverged."""
    finite = np.isfinite(losses)
    if not finite.any():
        return math.inf, None
    index = int(np.argmin(np.where(finite, losses, np.inf)))
    return float(losses[index]), index


def loss_ratio(loss: float, reference: float) -> float:
    """A loss relative to the reference's (below 1: better); a reference of 0 counts as 1e-12."""
    return loss / max(reference, 1e-12)


def aggregate_ratios(ratios: Sequence[float], how: str) -> float:
    """One score from per-task loss ratios to the baseline (`OptimizersSettings.score`)."""
    if how == "worst_task":
        return float(max(ratios))
    if how == "geometric_mean":
        return float(np.exp(np.mean(np.log(np.maximum(ratios, 1e-12)))))
    raise ValueError(f"unknown score aggregation {how!r}")


def _slice(encoded: interpreter.EncodedPrograms, start: int, stop: int
           ) -> interpreter.EncodedPrograms:
    return interpreter.EncodedPrograms(
        encoded.opcodes[start:stop], encoded.args[start:stop], encoded.constants[start:stop],
        encoded.outputs[start:stop], encoded.lengths[start:stop])
