"""EvoNorm space (Liu et al. 2020): normalization-activation layers as programs over NHWC tensors.

A layer is a DAG grown from four initial nodes: the input ``x``, a ``zero`` tensor and the
trainable per-channel vectors ``v0`` (initialized to 0) and ``v1`` (initialized to 1); its output
``y`` is followed by the usual affine ``gamma * y + beta``. In the text form::

    # EvoNorm-S0 (before the affine)
    y = x * sigmoid(v1 * x) / group_std(x)

Primitives and aggregates are in `ops.py` (``/`` is the safe `clamped_div`; layers have no
numeric literals), the compile-once JAX interpreter that trains them in `interpreter.py`.
Evolution: random layers, and mutations that change a node's op, resample its inputs, or
insert/delete a node, within `max_nodes` statements (the shared IR mutations). Functional hash:
the layer's output on seeded random NHWC inputs of two shapes and batch sizes, with fixed random
per-channel probe values for v0 and v1 (so layers that differ only in their use of v0/v1 differ).
Objectives: validation accuracy of a small CNN on digits per architecture (``accuracy_resnet``,
``accuracy_mobilenet``, ``accuracy_efficientnet``, maximized), the layer at every
norm-activation site, trained by `training.py` (an architecture on which training diverged
scores 0; diverging on all of them is a failure). Optional, before training, on the first
architecture: the paper's quality and stability rejections (`quality_check`,
`stability_check`).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pydantic

from automl import dsl
from automl.batching import ProgramBatching, resolve_program_batching
from automl.evolution.mutations import MutationSettings
from automl.hashing import DEFAULT_MANTISSA_BITS, functional_hash
from automl.imports import (
    ImportStringError,
    PluginError,
    PluginRef,
    check_import_string,
    identity,
    plugin_ref,
    resolve_callable,
)
from automl.ir import Instruction, Program, ProgramError, Signature, canonical_names, validate
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
from search_spaces.evonorm import interpreter
from search_spaces.evonorm.heldout import HeldoutOptions, best_front_members, heldout_accuracies
from search_spaces.evonorm.ops import (
    DEFAULT_GROUPS,
    EVONORM_OPS,
    EVONORM_TABLE,
    TEXT_OPS,
    run_layer_numpy,
)

PROBE_SEED = 20200414
# (N, H, W, C): wide enough that group statistics (24 and 10 groups of 4 channels) differ
# from instance statistics; two batch sizes so batch statistics enter with different weights
PROBE_SHAPES = ((4, 3, 3, 96), (3, 2, 4, 40))

BN_RELU = """# BN-ReLU: batch normalization, affine v1, v0, ReLU (moving statistics at inference)
y = max((x - batch_mean(x)) / batch_std(x) * v1 + v0, zero)
"""
GN_RELU = """# GN-ReLU: group normalization (32 groups, fewer if narrow), affine v1, v0, ReLU
y = max((x - group_mean(x)) / group_std(x) * v1 + v0, zero)
"""
IN_RELU = """# LN-ReLU-like: per-sample normalization over (H, W) (instance norm), affine, ReLU.
# Layer norm over (H, W, C) is not expressible with these aggregates (group ones use up to 32
# groups); instance norm is the per-sample normalizer at the other end of group norm.
y = max((x - instance_mean(x)) / instance_std(x) * v1 + v0, zero)
"""
EVONORM_B0 = """# EvoNorm-B0 (batch_std uses the moving variance at inference)
y = x / max(batch_std(x), v1 * x + instance_std(x))
"""
EVONORM_S0 = """# EvoNorm-S0
y = x * sigmoid(v1 * x) / group_std(x)
"""
BASELINES = {"bn_relu": BN_RELU, "gn_relu": GN_RELU, "in_relu": IN_RELU,
             "evonorm_b0": EVONORM_B0, "evonorm_s0": EVONORM_S0}

# architecture (training.py / models.py) -> objective name
OBJECTIVE_NAMES = {"resnet": "accuracy_resnet", "mobilenetv2": "accuracy_mobilenet",
                   "efficientnet": "accuracy_efficientnet", "vgg": "accuracy_vgg"}
# programs per compiled training call: one size, since padding rows are skipped (lax.map runs
# programs one after another and lax.cond skips a padding row), so a partly filled call costs
# what its real programs cost, and each extra size would cost a compilation (~10-30 s a phase).
# (Vmapped on a GPU, padding rows do run, but in parallel with the real ones.)
BATCH_SIZES = (16,)
LENGTH_BUCKETS = (4, 8)  # statement counts programs are encoded at (and max_nodes), see run_phase
NOT_WIRED = "evaluation not wired yet: search_spaces/evonorm/training.py"


def objective_name(architecture: str) -> str:
    """``accuracy_<short name>`` of a built-in architecture; ``accuracy_<pkg.mod.make_net>``
    of a user's network named by import string (its colon made a dot)."""
    return OBJECTIVE_NAMES.get(architecture) or f"accuracy_{architecture.replace(':', '.')}"


class DatasetFile(pydantic.BaseModel):
    """A dataset read from a file: ``{npz: path}`` (a user's images and labels,
    `training.npz_dataset`) or ``{cifar10: directory}`` (the python batches,
    `training.cifar10_dataset`)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    npz: str | None = None
    cifar10: str | None = None

    @pydantic.model_validator(mode="after")
    def _one(self) -> DatasetFile:
        if (self.npz is None) == (self.cifar10 is None):
            raise ValueError("a dataset file is {npz: path} or {cifar10: directory}")
        return self

    @pydantic.model_serializer
    def _as_mapping(self) -> dict[str, str]:
        return {"npz": self.npz} if self.npz is not None else {"cifar10": self.cifar10}


def training_constant(name: str) -> Any:
    from search_spaces.evonorm import training

    return getattr(training, name)


class EvoNormSettings(SpaceSettings):
    # in the cache key (`key_setting`): what is trained and how; out of it (`other_setting`):
    # how layers are hashed and how large the generated and mutated ones may grow
    mantissa_bits: int = other_setting(DEFAULT_MANTISSA_BITS, ge=1, le=52)
    architectures: tuple[str, ...] = key_setting(("resnet", "mobilenetv2", "efficientnet"))
    max_nodes: int = other_setting(interpreter.MAX_NODES, ge=1, le=64)
    max_initial_nodes: int = other_setting(5, ge=1)  # random layers: 1..this many statements
    groups: int = key_setting(DEFAULT_GROUPS, ge=1)
    # training (search_spaces/evonorm/training.py): digits, a few hundred SGD steps
    steps: int = key_setting(300, ge=1)
    batch_size: int = key_setting(4, ge=2)
    learning_rate: float = key_setting(0.05, gt=0)
    optimizer: Literal["momentum", "adam"] = key_setting("momentum")
    seed: int = key_setting(0)
    # the paper's rejection protocols, run on the first architecture before full training
    # (off by default: on these small networks GN/IN-ReLU stay near chance and would be
    # rejected). quality: < 20% validation accuracy after 100 steps, or diverged; stability:
    # gradient norm above 1e8 under adversarial weight perturbation (training.py)
    quality_check: bool = key_setting(False)
    stability_check: bool = key_setting(False)
    program_batching: ProgramBatching = other_setting("auto")  # see automl.batching
    # the images every network trains on: "digits" (scikit-learn's 8x8, built in), a user's
    # {npz: path} or {cifar10: directory} (training.load_dataset); in the key only away from
    # digits, so the keys of campaigns on digits are as they were
    dataset: Literal["digits"] | DatasetFile = key_setting_unless_default("digits")

    @pydantic.field_validator("dataset", mode="before")
    @classmethod
    def _dataset(cls, value: Any) -> Any:
        """One line for anything but digits, {npz: path} or {cifar10: directory}."""
        if value == "digits" or isinstance(value, DatasetFile):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"npz", "cifar10"})
            if unknown or len(value) != 1 or not isinstance(next(iter(value.values())), str):
                raise ValueError(f"expected {{npz: path}} or {{cifar10: directory}}, got "
                                 f"{dict(value)!r}")
            return DatasetFile(**value)
        raise ValueError(f"unknown dataset {value!r}; allowed: digits, {{npz: path}} or "
                         f"{{cifar10: directory}}")

    @pydantic.field_validator("architectures", mode="before")
    @classmethod
    def _passed_functions(cls, value: Any) -> Any:
        """A network function passed from Python (`automl.run`) is recorded by its import
        string (`automl.imports.identity`)."""
        if isinstance(value, list | tuple):
            return [identity(item, "architecture") if callable(item) else item
                    for item in value]
        return value

    @pydantic.field_validator("architectures")
    @classmethod
    def _known_architectures(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Built-in names, or a user's ``"package.module:make_net"`` (its form only: a
        campaign config imports and builds it, `check_plugins`)."""
        unknown = [name for name in value if name not in OBJECTIVE_NAMES and ":" not in name]
        if unknown or not value:
            raise ValueError(f"unknown architecture(s) {', '.join(unknown) or 'none given'}; "
                             f"allowed: {', '.join(OBJECTIVE_NAMES)}, or a user's network as "
                             f"an import string 'package.module:make_net'")
        for name in value:
            if ":" in name:
                check_import_string(name)
        names = [objective_name(name) for name in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"architecture {repeated[0].removeprefix('accuracy_')!r} is "
                             f"named twice")
        return value

    def check_plugins(self) -> None:
        """A dataset file read and checked, and each user network imported, made and built on
        its images with the interpreter's layer at every site (`models.user_architecture`,
        `Architecture.init`): `PluginError`, one line naming the field, the string and the
        reason. Nothing to do for the built-in networks on digits."""
        users = [name for name in self.architectures if ":" in name]
        if self.dataset == "digits" and not users:
            return
        from search_spaces.evonorm import models, training

        try:
            data = training.load_dataset(self.dataset if self.dataset == "digits"
                                         else self.dataset.model_dump())
        except (OSError, ValueError) as error:
            raise PluginError(("dataset",), str(error)) from None
        layer = models.LayerFunctions(
            functools.partial(interpreter.init_layer, max_nodes=self.max_nodes),
            functools.partial(interpreter.apply, groups=self.groups))
        for name in self.architectures:
            try:
                network = models.get_architecture(name)
                network.init(layer, data.input_shape, data.classes)
            except ImportStringError as error:
                raise PluginError(("architectures",), str(error)) from None
            except Exception as error:  # the user's network (or images it cannot take)
                lines = str(error).strip().splitlines()
                raise PluginError(("architectures",), f"{name!r} on {data.name} images "
                                  f"{data.input_shape}: {type(error).__name__}: "
                                  f"{lines[0] if lines else ''}") from None


class EvoNormSpace(BatchEvaluatedSpace):
    name = "evonorm"
    Settings = EvoNormSettings
    evaluator_version = 1
    settings: EvoNormSettings

    def requirements(self) -> dict[str, str]:
        # the built-in data is scikit-learn's digits; an npz file or CIFAR-10 needs none
        return {"sklearn": "evonorm"} if self.settings.dataset == "digits" else {}

    @cached_property
    def signature(self) -> Signature:
        return Signature(
            inputs=interpreter.INPUTS, outputs=(interpreter.OUTPUT,), ops=TEXT_OPS,
            infix=(("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "clamped_div")),
            registry=EVONORM_TABLE,
        )

    @cached_property
    def objectives(self) -> tuple[Objective, ...]:
        return tuple(Objective(objective_name(arch), "maximize", reference=0.0)
                     for arch in self.settings.architectures)

    def plugins(self) -> dict[str, PluginRef]:
        """Each user network's function (import string and declared ``__automl_version__``),
        as ``architectures[i]``, and a dataset file (``npz:PATH``) with the first 16 hex
        digits of its SHA-256 as its version, so that changed images are never served from
        the cache. Built-in networks on digits name none: their keys are as they were."""
        refs = {}
        for index, name in enumerate(self.settings.architectures):
            if ":" in name:
                refs[f"architectures[{index}]"] = plugin_ref(
                    name, resolve_callable(name, f"architectures[{index}]"))
        dataset = self.settings.dataset
        if isinstance(dataset, DatasetFile) and dataset.npz is not None:
            refs["dataset"] = PluginRef(f"npz:{dataset.npz}", _file_digest(dataset.npz))
        return refs

    def dataset(self):
        """The `training.Dataset` the settings name (read once per process)."""
        from search_spaces.evonorm import training

        spec = self.settings.dataset
        return training.load_dataset(spec if spec == "digits" else spec.model_dump())

    @cached_property
    def mutation_settings(self) -> MutationSettings:
        # change_op: a node's op; change_argument: resample an input; insert/delete a node.
        # An insertion applies only where the value it wraps is read later (about a quarter
        # of the draws on small layers), a deletion almost always: inserting is drawn twice as
        # often, or unselected layers drift down to one node.
        return MutationSettings(
            ops=EVONORM_OPS, max_statements=self.settings.max_nodes, literal_probability=0.0,
            weights=(("insert_statement", 2.0), ("delete_statement", 1.0),
                     ("change_argument", 1.0), ("change_op", 1.0)),
        )

    def parse(self, text: str, source: str = "<program>") -> Program:
        program = dsl.parse(text, self.signature, source)
        validate(program, self.signature.registry, self.signature.ops)
        for position, ins in enumerate(program.instructions, start=1):
            literal = next((a for a in ins.args if not isinstance(a, str)), None)
            if literal is not None:
                raise ProgramError(f"{source}: statement {position}: literal {literal!r}: "
                                   f"EvoNorm layers have no constants (use zero, v0, v1)")
        return program

    def baselines(self) -> dict[str, str]:
        return dict(BASELINES)

    def export(self, program: Program, flavor: str = "jax",
               metrics: Mapping[str, Any] | None = None) -> str:
        """A standalone module (`flavor` "jax" or "python" for numpy) with ``init(num_channels)
        -> params``, ``apply(params, x, training) -> y`` (NHWC) and ``update_moving(params,
        x)``; the group limit of the settings is inlined. `metrics` are not needed."""
        from search_spaces.evonorm.export import export_module

        return export_module(program, self.format(program), self.signature.registry,
                             int(self.settings.groups), flavor)

    # -- evolution ------------------------------------------------------------------------
    def random(self, rng: np.random.Generator) -> Program:
        """A random chain-shaped layer: statement 1 reads x, each later statement reads the
        one before (so every node reaches y), other arguments are any earlier node; retried
        until its output on the probes is finite."""
        program = None
        limit = min(self.settings.max_initial_nodes, self.settings.max_nodes)
        for _ in range(100):
            instructions: list[Instruction] = []
            available = list(interpreter.INPUTS)
            for i in range(int(rng.integers(1, limit + 1))):
                op = self.signature.registry.get(EVONORM_OPS[int(rng.integers(len(EVONORM_OPS)))])
                args = [available[int(rng.integers(len(available)))] for _ in range(op.arity)]
                args[int(rng.integers(op.arity))] = "x" if i == 0 else instructions[-1].register
                instructions.append(Instruction(f"t{i + 1}", op.name, tuple(args)))
                available.append(instructions[-1].register)
            program = canonical_names(Program(
                interpreter.INPUTS, (), tuple(instructions),
                ((interpreter.OUTPUT, instructions[-1].register),)))
            program = self.simplify(program)[0]
            if len(program) and all(np.isfinite(output).all()
                                    for output in self._outputs(program)):
                return program
        assert program is not None
        return program

    # -- hashing --------------------------------------------------------------------------
    def probe(self) -> list[dict[str, np.ndarray]]:
        """Per shape: x with per-channel offsets and scales (so batch, instance and group
        statistics all differ), zero, and v0, v1 fixed random per-channel values (away from
        their initial 0 and 1 and from each other) broadcast to NHWC."""
        rng = np.random.default_rng(PROBE_SEED)
        probes = []
        for shape in PROBE_SHAPES:
            channels = shape[-1]
            x = (rng.normal(size=shape) * rng.uniform(0.5, 2.0, channels)
                 + rng.normal(0.0, 1.0, channels))
            signs = rng.choice([-1.0, 1.0], size=(2, channels))
            v0 = signs[0] * rng.uniform(0.2, 0.8, channels)
            v1 = signs[1] * rng.uniform(1.2, 2.0, channels)
            probes.append({"x": x, "zero": np.zeros(shape),
                           "v0": np.broadcast_to(v0, shape).copy(),
                           "v1": np.broadcast_to(v1, shape).copy()})
        return probes

    def _outputs(self, program: Program) -> list[np.ndarray]:
        with np.errstate(all="ignore"):
            return [run_layer_numpy(program, probe, self.settings.groups,
                                    self.signature.registry)["y"] for probe in self._probes]

    def fingerprint(self, program: Program) -> str:
        groups, table = self.settings.groups, self.signature.registry

        def layer(**probe: Any) -> np.ndarray:
            return run_layer_numpy(program, probe, groups, table)["y"]

        return functional_hash(layer, self._probes, self.settings.mantissa_bits)

    # -- evaluation -----------------------------------------------------------------------
    def evaluate_batch(self, programs: Sequence[Program]) -> list[Evaluation]:
        """Train every program on every architecture in compiled batches (one network per
        architecture and batch size serves every program), after the optional rejection
        protocols (`quality_check`, `stability_check`) on the first architecture."""
        start = time.perf_counter()
        if importlib.util.find_spec("search_spaces.evonorm.training") is None:
            return [Evaluation(None, {}, NOT_WIRED) for _ in programs]
        outcome: dict[int, Evaluation] = {}
        pending: list[int] = []
        for index, program in enumerate(programs):
            try:
                interpreter.encode([program], self.settings.max_nodes)
                pending.append(index)
            except interpreter.EncodingError as error:
                outcome[index] = Evaluation(None, {}, f"cannot be evaluated: {error}")
        for check in ("stability", "quality"):
            if pending and getattr(self.settings, f"{check}_check"):
                rows = self.run_phase(check, [programs[i] for i in pending])
                for index, (reason, metrics) in zip(list(pending), rows, strict=True):
                    if reason is not None:
                        outcome[index] = Evaluation(None, metrics, reason, rejected=True)
                        pending.remove(index)
        if pending:
            rows = self.run_phase("proxy", [programs[i] for i in pending])
            for index, row in zip(pending, rows, strict=True):
                outcome[index] = (Evaluation(None, {}, row) if isinstance(row, str)
                                  else Evaluation(row[0], row[1], None))
        seconds = (time.perf_counter() - start) / max(len(programs), 1)
        return [dataclasses.replace(outcome[i], duration_s=seconds) for i in range(len(programs))]

    def run_phase(self, kind: str, programs: Sequence[Program]) -> list:
        """Run the compiled function `kind` ("proxy", "quality", "stability") over `programs`;
        one result row per program, in order (see `_rows`).

        Programs are grouped by length bucket (`LENGTH_BUCKETS`, then `max_nodes`) and encoded
        that long, since the interpreter's cost grows with the encoded statement count (a
        4-statement layer trains ~2x faster encoded as 5 statements than as 14). Each group
        runs in chunks padded up to one of `BATCH_SIZES` with padding rows, which the
        trainers skip, so the number of compiled shapes stays small at no cost."""
        groups: dict[int, list[int]] = {}
        for index, program in enumerate(programs):
            groups.setdefault(self.length_bucket(program), []).append(index)
        rows: list = [None] * len(programs)
        largest = BATCH_SIZES[-1]
        for length, indices in sorted(groups.items()):
            encoded = interpreter.encode([programs[i] for i in indices], length)
            for first in range(0, len(indices), largest):
                chunk = [leaf[first:first + largest] for leaf in encoded]
                count = len(chunk[0])
                size = next(s for s in BATCH_SIZES if s >= count)
                padded = interpreter.EncodedLayers(*(
                    np.concatenate([leaf, np.repeat(leaf[:1], size - count, axis=0)])
                    for leaf in chunk))
                real = np.arange(size) < count
                padded = padded._replace(lengths=np.where(
                    real, padded.lengths, interpreter.PADDING_LENGTH).astype(np.int32))
                result = self._compiled(kind, size)(padded)
                for offset, row in enumerate(self._rows(kind, result, count)):
                    rows[indices[first + offset]] = row
        return rows

    def length_bucket(self, program: Program) -> int:
        """The statement count `run_phase` encodes `program` at: the first of
        `LENGTH_BUCKETS` that holds it, else `max_nodes`."""
        max_nodes = self.settings.max_nodes
        return next((b for b in LENGTH_BUCKETS if len(program) <= b < max_nodes), max_nodes)

    def _rows(self, kind: str, result: Any, count: int) -> list:
        """Per program: proxy -> (objectives, metrics) or an error string; quality and
        stability -> (rejection reason or None, metrics)."""
        arch = self.settings.architectures[0]
        if kind == "quality":
            threshold, steps = (training_constant(n) for n in ("QUALITY_THRESHOLD",
                                                               "QUALITY_STEPS"))
            quality = []
            for p in range(count):
                accuracy = float(result.accuracy[p])
                reason = None
                if result.reject[p]:
                    reason = (f"quality: validation accuracy {accuracy:.3f} after {steps} "
                              f"steps on {arch}" + (", diverged" if result.diverged[p]
                                                    else f" < {threshold}"))
                quality.append((reason, {"quality_accuracy": accuracy}))
            return quality
        if kind == "stability":
            limit = training_constant("STABILITY_THRESHOLD")
            stability = []
            for p in range(count):
                norm = float(result.max_grad_norm[p])
                reason = (f"unstable: gradient norm {norm:.3g} > {limit:.0e} under adversarial "
                          f"weight perturbation on {arch}") if result.reject[p] else None
                stability.append((reason, {"max_gradient_norm": norm if np.isfinite(norm)
                                           else None}))
            return stability
        rows: list = []
        for p in range(count):
            objectives, losses, diverged = {}, {}, []
            for arch in self.settings.architectures:
                trained = result[arch]
                objectives[objective_name(arch)] = float(trained.accuracy[p])
                loss = float(trained.loss[p])
                losses[arch] = loss if np.isfinite(loss) else None
                if trained.diverged[p]:
                    diverged.append(arch)
            if len(diverged) == len(self.settings.architectures):
                rows.append(f"diverged on every architecture ({', '.join(diverged)})")
            else:
                rows.append((objectives, {"validation_loss": losses, "diverged": diverged}))
        return rows

    def _compiled(self, kind: str, num_programs: int):
        """The training-side function for `kind` and batch size (built once per space; jit
        compiles it once per encoded length bucket)."""
        cache = self.__dict__.setdefault("_compiled_functions", {})
        key = (kind, num_programs)
        if key not in cache:
            from search_spaces.evonorm import training

            settings = self.settings
            batching = resolve_program_batching(settings.program_batching)
            options = {"optimizer": settings.optimizer, "seed": settings.seed,
                       "is_padding": interpreter.is_padding, "batching": batching,
                       "data": self.dataset()}
            if kind == "proxy":
                cache[key] = training.make_proxy(
                    self.layer(), num_programs, settings.architectures,
                    batch_size=settings.batch_size, steps=settings.steps,
                    learning_rate=settings.learning_rate, **options)
            elif kind == "quality":
                cache[key] = training.make_quality_check(
                    settings.architectures[0], self.layer(), settings.batch_size, num_programs,
                    learning_rate=settings.learning_rate, **options)
            else:
                cache[key] = training.make_stability_check(
                    settings.architectures[0], self.layer(), settings.batch_size, num_programs,
                    data=self.dataset(), seed=settings.seed, is_padding=interpreter.is_padding,
                    batching=batching)
        return cache[key]

    def layer(self):
        """The interpreter as the `models.Layer` the networks call, with this space's
        statement count and group limit."""
        from search_spaces.evonorm.models import LayerFunctions

        return LayerFunctions(
            init_layer=functools.partial(interpreter.init_layer,
                                         max_nodes=self.settings.max_nodes),
            apply=functools.partial(interpreter.apply, groups=self.settings.groups))

    # -- held-out validation (automl validate; search_spaces/evonorm/heldout.py) ----------
    ValidationOptions = HeldoutOptions

    def validation_candidates(self, results: Any, campaign: str | int,
                              options: Mapping[str, Any]) -> Candidates:
        """The campaign's best `top` front members by mean proxy accuracy."""
        chosen = read_options(self.ValidationOptions, options, f"automl validate ({self.name})")
        return best_front_members(results, campaign, chosen.top)

    def validate(self, programs: Mapping[str, str], options: Mapping[str, Any], *,
                 origin: Mapping[str, Any] | None = None, on_row: RowSink | None = None
                 ) -> WorkflowReport:
        """The layers and BN-ReLU, EvoNorm-B0, -S0 trained on a network the search never saw
        (`heldout.heldout_accuracies`)."""
        chosen = read_options(self.ValidationOptions, options, f"automl validate ({self.name})")
        return heldout_accuracies(self, programs, chosen, on_row=on_row)


def _file_digest(path: str) -> str | None:
    """The first 16 hex digits of the file's SHA-256 (None where it cannot be read)."""
    import hashlib

    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()[:16]
    except OSError:
        return None
