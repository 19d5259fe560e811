"""Activation functions ``y = f(x)`` as programs over the core's arithmetic and the unary ops
of `ops.py`, as in Ramachandran, Zoph & Le (2017), whose search found Swish (``y = x *
sigmoid(x)`` with beta = 1). Objectives: validation accuracy on scikit-learn's digits, the mean
over the networks (an MLP and a CNN, the program as every hidden activation) and seeds, and
op cost (structural: each spelling of a function has its own). Hash: outputs on x in [-8, 8];
a program not finite there, or constant, is rejected before training, and a diverged training
is a failure with its reason.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, Literal

import numpy as np

from automl.evolution.mutations import MutationSettings
from automl.ir import Instruction, Program, Signature, canonical_names, cost, run_numpy
from automl.objective import Objective
from automl.space import (
    BatchEvaluatedSpace,
    Evaluation,
    SpaceSettings,
    checked_evaluation,
    key_setting,
    other_setting,
)
from automl_activations.ops import ERF_IMPORT, OP_NAMES, TABLE

BASELINES = {
    "relu": "y = max(x, 0.0)\n",
    "gelu": "# exact (erf) form\ny = 0.5 * x * (1.0 + erf(x * 0.7071067811865476))\n",
    "swish": "# beta = 1 (SiLU)\ny = x * sigmoid(x)\n",
    "tanh": "y = tanh(x)\n",
}
LITERALS = (0.0, 1.0, -1.0, 0.5, 2.0)  # what random programs' constants are drawn from
PROGRAMS_PER_CALL = 8  # rows of one compiled training call (padding rows are skipped)
# the statement counts programs are encoded at (then max_statements): the interpreter runs
# every encoded statement, so a short program trains ~2x faster encoded at 2 than at 8; each
# count is one compilation per network
LENGTHS = (2, 4)


class ActivationsSettings(SpaceSettings):
    # in the cache key: what is trained and how; out of it: the shape of generated programs
    networks: tuple[Literal["mlp", "cnn"], ...] = key_setting(("mlp", "cnn"), min_length=1)
    steps: int = key_setting(300, ge=1)
    batch_size: int = key_setting(64, ge=1)
    learning_rate: float = key_setting(0.05, gt=0)
    width: int = key_setting(16, ge=2)  # hidden units (MLP), channels of the 2nd conv (CNN)
    seeds: tuple[int, ...] = key_setting((0,), min_length=1)  # accuracy: their mean
    max_statements: int = other_setting(8, ge=1, le=16)
    max_initial_statements: int = other_setting(3, ge=1)


class ActivationsSpace(BatchEvaluatedSpace):
    name = "activations"
    Settings = ActivationsSettings
    evaluator_version = 1
    settings: ActivationsSettings

    @cached_property
    def signature(self) -> Signature:
        return Signature(inputs=("x",), outputs=("y",), ops=OP_NAMES, registry=TABLE)

    @cached_property
    def objectives(self) -> tuple[Objective, ...]:
        return (Objective("accuracy", "maximize", reference=0.0),
                Objective("cost", "minimize", reference=40.0))

    @cached_property
    def mutation_settings(self) -> MutationSettings:
        return MutationSettings(ops=OP_NAMES, max_statements=self.settings.max_statements,
                                literal_probability=0.2)

    def baselines(self) -> dict[str, str]:
        return dict(BASELINES)

    def random(self, rng: np.random.Generator) -> Program:
        """A chain: statement 1 reads x, each later one the statement before; other arguments
        are earlier values or a literal of `LITERALS`. Redrawn until it is not rejected."""
        for _ in range(100):
            instructions: list[Instruction] = []
            count = int(rng.integers(1, min(self.settings.max_initial_statements,
                                            self.settings.max_statements) + 1))
            for i in range(count):
                op = TABLE.get(OP_NAMES[int(rng.integers(len(OP_NAMES)))])
                earlier = ["x", *(ins.register for ins in instructions)]
                args: list[str | float] = [
                    float(LITERALS[int(rng.integers(len(LITERALS)))]) if rng.random() < 0.3
                    else earlier[int(rng.integers(len(earlier)))] for _ in range(op.arity)]
                args[int(rng.integers(op.arity))] = earlier[-1]
                instructions.append(Instruction(f"t{i + 1}", op.name, tuple(args)))
            program = self.simplify(canonical_names(Program(
                ("x",), (), tuple(instructions), (("y", instructions[-1].register),))))[0]
            if len(program) and self.reject(program) is None:
                return program
        return program

    # -- hashing and rejection ------------------------------------------------------------
    def probe(self) -> list[dict[str, np.ndarray]]:
        return [{"x": np.linspace(-8.0, 8.0, 321)}]  # step 0.05, 0 included

    def reject(self, program: Program) -> str | None:
        x = self._probes[0]["x"]
        with np.errstate(all="ignore"):
            y = np.broadcast_to(run_numpy(program, {"x": x}, TABLE)["y"], x.shape)
        if not np.isfinite(y).all():
            return f"activation is not finite at x = {x[~np.isfinite(y)][0]:g}"
        return "constant activation" if np.ptp(y) == 0 else None

    def structural_objectives(self, program: Program) -> dict[str, float]:
        return {"cost": cost(program, ("x",), TABLE)}

    # -- evaluation -----------------------------------------------------------------------
    def evaluate_batch(self, programs: Sequence[Program]) -> list[Evaluation]:
        """Reject, then train the rest in compiled calls of `PROGRAMS_PER_CALL` programs of one
        encoded length (`LENGTHS`), once per seed."""
        from automl_activations import train  # imports jax: only when something trains

        start = time.perf_counter()
        reasons = [self.reject(program) for program in programs]
        s = self.settings
        run = train.trainer(s.networks, s.steps, s.batch_size, s.learning_rate, s.width)
        results = np.zeros((len(programs), len(s.seeds), 2, len(s.networks)))
        buckets: dict[int, list[int]] = {}  # programs are encoded this many statements long
        for i in [i for i, reason in enumerate(reasons) if reason is None]:
            length = next((b for b in LENGTHS if len(programs[i]) <= b),
                          max(len(programs[i]), s.max_statements))
            buckets.setdefault(length, []).append(i)
        for length, members in sorted(buckets.items()):
            for first in range(0, len(members), PROGRAMS_PER_CALL):
                chunk = members[first:first + PROGRAMS_PER_CALL]
                code = train.encode([programs[i] for i in chunk], length, PROGRAMS_PER_CALL)
                for j, seed in enumerate(s.seeds):
                    results[chunk, j] = np.asarray(run(code, seed))[:len(chunk)]
        accuracy, loss = results[:, :, 0], results[:, :, 1]  # (programs, seeds, networks)
        seconds = (time.perf_counter() - start) / max(len(programs), 1)
        evaluations = []
        for i, program in enumerate(programs):
            diverged = [network for network, finite in zip(
                s.networks, np.isfinite(loss[i]).all(axis=0), strict=True) if not finite]
            if reasons[i] is not None or diverged:
                reason = reasons[i] or (f"training diverged on {', '.join(diverged)} "
                                        f"(validation loss not finite)")
                evaluations.append(Evaluation(None, {}, reason, seconds,
                                              rejected=reasons[i] is not None))
                continue
            metrics = {f"{kind}_{network}": float(values[i, :, k].mean())
                       for kind, values in (("accuracy", accuracy), ("loss", loss))
                       for k, network in enumerate(s.networks)}
            evaluations.append(checked_evaluation(
                {"accuracy": float(accuracy[i].mean()), **self.structural_objectives(program)},
                metrics, seconds, self.objectives))
        return evaluations

    def export(self, program: Program, flavor: str = "python",
               metrics: Mapping[str, Any] | None = None) -> str:
        """A standalone module defining ``activation(x)`` (numpy for "python", or jax)."""
        if flavor not in ERF_IMPORT:
            raise ValueError(f"unknown export format {flavor!r}; allowed: python, jax")
        names = {"x": "x", **{ins.register: f"t{i}"
                              for i, ins in enumerate(program.instructions)}}
        body = "".join(f"    {names[ins.register]} = " + TABLE.get(ins.op).code(
            flavor, [names[a] if isinstance(a, str) else f"({a!r})" for a in ins.args]) + "\n"
            for ins in program.instructions)
        erf = ERF_IMPORT[flavor] if any(ins.op == "erf" for ins in program.instructions) else ""
        text = "".join(f"    {line}\n" for line in self.format(program).splitlines())
        return (f'"""An activation found by automl-evolution:\n\n{text}"""\n\nimport '
                f'{"jax.numpy" if flavor == "jax" else "numpy"} as xp\n{erf}\n\n'
                f"def activation(x):\n{body}    return {names[program.outputs[0][1]]}\n")
