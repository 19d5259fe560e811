"""Generic mutations of IR programs, shared by every program search space.

Each mutation is a pure function ``(program, settings, rng) -> Program | None`` (None when it
does not apply, e.g. no literal to perturb). `mutate` picks one by weight; `mutate_until_changed`
retries until the child computes something different from its parent (its functional hash
differs), as the Lion and AutoNumerics-Zero searches do.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from automl.ir import (
    Argument,
    Instruction,
    Program,
    Signature,
    canonical_names,
    fresh_name,
    parameter_sort_key,
)

# the Lion and AutoNumerics-Zero papers' mutations: every space's default weights
MUTATION_KINDS = (
    "insert_statement",
    "delete_statement",
    "change_argument",
    "change_op",
    "perturb_constant",
)
# opt-in kinds, drawn only where a space's weights name them
EXTRA_MUTATION_KINDS = ("grow_constant",)


@dataclass(frozen=True)
class MutationSettings:
    """How a space wants its programs mutated.

    `parameter_stem`: new constant arguments become fresh fitted constants (``c7``) when set,
    otherwise literals drawn from N(0, 1). `literal_probability`: chance that a new argument is a
    constant rather than an existing value.
    """

    ops: tuple[str, ...]
    max_statements: int = 30
    literal_probability: float = 0.1
    parameter_stem: str | None = None
    weights: tuple[tuple[str, float], ...] = tuple((kind, 1.0) for kind in MUTATION_KINDS)


class MutationFailed(RuntimeError):
    """No mutation changed the program's function within the allowed tries."""


def _available(program: Program, position: int) -> list[str]:
    """Values readable by a statement at `position`: inputs, parameters, earlier registers."""
    return [
        *program.inputs,
        *program.parameters,
        *(ins.register for ins in program.instructions[:position]),
    ]


def _new_constant(program: Program, settings: MutationSettings, rng: np.random.Generator,
                  reserved: set[str]) -> Argument:
    """A literal from N(0, 1), or a fresh fitted constant not in the program or `reserved`
    (the constants this mutation already introduced)."""
    if settings.parameter_stem is None:
        return float(rng.normal())
    taken = set(program.parameters) | reserved
    index = 0
    while f"{settings.parameter_stem}{index}" in taken:
        index += 1
    name = f"{settings.parameter_stem}{index}"
    reserved.add(name)
    return name


def _random_argument(program: Program, position: int, settings: MutationSettings,
                     rng: np.random.Generator, reserved: set[str] | None = None) -> Argument:
    if rng.random() < settings.literal_probability:
        return _new_constant(program, settings, rng, set() if reserved is None else reserved)
    choices = _available(program, position)
    return choices[int(rng.integers(len(choices)))]


def _with_parameters(program: Program, instructions: list[Instruction],
                     outputs: tuple[tuple[str, str], ...] | None = None) -> Program:
    """Rebuild, recomputing which fitted constants are used (a mutation may add one).
    Register names are left as they are: `mutate` canonicalizes once at the end."""
    registers = {ins.register for ins in instructions}
    parameters = set(program.parameters)
    parameters.update(a for ins in instructions for a in ins.args
                      if isinstance(a, str) and a not in registers and a not in program.inputs)
    ordered = tuple(sorted(parameters, key=parameter_sort_key))
    return (program.replace(
        instructions=tuple(instructions),
        outputs=outputs if outputs is not None else program.outputs,
        parameters=ordered,
    ))


def _fresh_register(program: Program) -> str:
    taken = {ins.register for ins in program.instructions}
    taken.update(program.inputs, program.parameters, program.output_names)
    return fresh_name("t", taken)


def insert_statement(program: Program, settings: MutationSettings, signature: Signature,
                     rng: np.random.Generator) -> Program | None:
    """Insert ``r = op(...)`` and make later code read it: either every later read of one value
    (the text form's reassignment, as in Lion) or a single read (inserting a vertex on an edge,
    as in AutoNumerics-Zero)."""
    if len(program) >= settings.max_statements:
        return None
    position = int(rng.integers(len(program) + 1))
    op = signature.registry.get(settings.ops[int(rng.integers(len(settings.ops)))])
    register = _fresh_register(program)
    available = _available(program, position)
    replaced = available[int(rng.integers(len(available)))]
    reserved: set[str] = set()
    args = [_random_argument(program, position, settings, rng, reserved)
            for _ in range(op.arity)]
    args[int(rng.integers(op.arity))] = replaced  # the new value is computed from the old one
    # read sites after the insertion point: (statement index, argument index), output = -1
    sites = [(j, k) for j in range(position, len(program))
             for k, a in enumerate(program.instructions[j].args) if a == replaced]
    sites += [(-1, k) for k, (_, reg) in enumerate(program.outputs) if reg == replaced]
    if not sites:
        return None
    if rng.random() < 0.5:
        sites = [sites[int(rng.integers(len(sites)))]]
    site_set = set(sites)
    instructions = list(program.instructions)
    for j in {j for j, _ in sites if j >= 0}:
        ins = instructions[j]
        instructions[j] = Instruction(ins.register, ins.op, tuple(
            register if (j, k) in site_set else a for k, a in enumerate(ins.args)))
    outputs = tuple((name, register if (-1, k) in site_set else reg)
                    for k, (name, reg) in enumerate(program.outputs))
    instructions.insert(position, Instruction(register, op.name, tuple(args)))
    return _with_parameters(program, instructions, outputs)


def delete_statement(program: Program, settings: MutationSettings, signature: Signature,
                     rng: np.random.Generator) -> Program | None:
    """Remove one statement; its readers read one of its register arguments instead."""
    if len(program) <= 1:
        return None
    position = int(rng.integers(len(program)))
    removed = program.instructions[position]
    register_args = [a for a in removed.args if isinstance(a, str)]
    if register_args:
        substitute = register_args[int(rng.integers(len(register_args)))]
    else:
        available = _available(program, position)
        substitute = available[int(rng.integers(len(available)))]
    instructions = [
        Instruction(ins.register, ins.op,
                    tuple(substitute if a == removed.register else a for a in ins.args))
        for i, ins in enumerate(program.instructions) if i != position
    ]
    outputs = tuple((name, substitute if reg == removed.register else reg)
                    for name, reg in program.outputs)
    return _with_parameters(program, instructions, outputs)


def change_argument(program: Program, settings: MutationSettings, signature: Signature,
                    rng: np.random.Generator) -> Program | None:
    if not program.instructions:
        return None
    position = int(rng.integers(len(program)))
    ins = program.instructions[position]
    if not ins.args:
        return None
    k = int(rng.integers(len(ins.args)))
    args = list(ins.args)
    args[k] = _random_argument(program, position, settings, rng)
    instructions = list(program.instructions)
    instructions[position] = Instruction(ins.register, ins.op, tuple(args))
    return _with_parameters(program, instructions)


def change_op(program: Program, settings: MutationSettings, signature: Signature,
              rng: np.random.Generator) -> Program | None:
    """Swap a statement's op; arguments are kept, dropped or drawn to fit the new arity."""
    if not program.instructions:
        return None
    position = int(rng.integers(len(program)))
    ins = program.instructions[position]
    choices = [name for name in settings.ops if name != ins.op]
    if not choices:
        return None
    op = signature.registry.get(choices[int(rng.integers(len(choices)))])
    args = list(ins.args[: op.arity])
    reserved: set[str] = set()
    while len(args) < op.arity:
        args.append(_random_argument(program, position, settings, rng, reserved))
    instructions = list(program.instructions)
    instructions[position] = Instruction(ins.register, op.name, tuple(args))
    return _with_parameters(program, instructions)


def grow_constant(program: Program, settings: MutationSettings, signature: Signature,
                  rng: np.random.Generator) -> Program | None:
    """Make one read of a fitted constant an affine function of an earlier value:
    ``c -> fma(v, c_new, c)``, with `v` an input or an earlier register.

    With `c_new` at 0, its fma identity (where a space starts new constants there, as
    AutoNumerics' inheritance does), the child computes its parent's function at first, so
    fitting can only improve on the parent. On the innermost constant of a Horner chain this
    adds a degree: a long chain is a sequence of such steps, each a small gain, where
    insert_statement must draw the op, the edge and both other operands right at once.
    Needs fitted constants and `fma` among the ops; None otherwise."""
    if (settings.parameter_stem is None or "fma" not in settings.ops
            or len(program) >= settings.max_statements):
        return None
    parameters = set(program.parameters)
    sites = [(i, k) for i, ins in enumerate(program.instructions)
             for k, a in enumerate(ins.args) if isinstance(a, str) and a in parameters]
    if not sites:
        return None
    position, k = sites[int(rng.integers(len(sites)))]
    values = [a for a in _available(program, position) if a not in parameters]
    value = values[int(rng.integers(len(values)))]
    grown = program.instructions[position].args[k]
    slope = _new_constant(program, settings, rng, set())
    register = _fresh_register(program)
    instructions = list(program.instructions)
    reader = instructions[position]
    instructions[position] = Instruction(reader.register, reader.op, tuple(
        register if j == k else a for j, a in enumerate(reader.args)))
    instructions.insert(position, Instruction(register, "fma", (value, slope, grown)))
    return _with_parameters(program, instructions)


def perturb_constant(program: Program, settings: MutationSettings, signature: Signature,
                     rng: np.random.Generator) -> Program | None:
    """Redraw a literal from N(0, 1) or scale it by 2^a with a ~ N(0, 1) (Lion's rule)."""
    sites = [(i, k) for i, ins in enumerate(program.instructions)
             for k, a in enumerate(ins.args) if isinstance(a, float)]
    if not sites:
        return None
    i, k = sites[int(rng.integers(len(sites)))]
    ins = program.instructions[i]
    old = ins.args[k]
    assert isinstance(old, float)
    # scaling cannot move 0.0, so a zero literal is always redrawn
    scale = old != 0.0 and rng.random() >= 0.5
    new = old * float(2.0 ** rng.normal()) if scale else float(rng.normal())
    args = list(ins.args)
    args[k] = new
    instructions = list(program.instructions)
    instructions[i] = Instruction(ins.register, ins.op, tuple(args))
    return program.replace(instructions=tuple(instructions))


MUTATIONS: dict[str, Callable[..., Program | None]] = {
    "insert_statement": insert_statement,
    "delete_statement": delete_statement,
    "change_argument": change_argument,
    "change_op": change_op,
    "perturb_constant": perturb_constant,
    "grow_constant": grow_constant,
}


@functools.cache
def _weight_table(weights: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    """Mutation kinds and their cumulative weights (for a draw with one uniform number)."""
    if any(kind not in MUTATIONS for kind, _ in weights) or not weights:
        raise ValueError(f"mutation weights must name kinds among {', '.join(MUTATIONS)}")
    return [kind for kind, _ in weights], list(itertools.accumulate(w for _, w in weights))


def mutate(program: Program, settings: MutationSettings, signature: Signature,
           rng: np.random.Generator, attempts: int = 20, canonical: bool = True
           ) -> tuple[Program, str]:
    """One applicable mutation chosen by weight. Returns the child and the mutation's name.

    `canonical=False` skips renaming registers to their printable form: for callers that
    simplify the child at once (simplification ends with the same renaming).
    """
    kinds, cumulative = _weight_table(settings.weights)
    for _ in range(attempts):
        kind = kinds[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]
        child = MUTATIONS[kind](program, settings, signature, rng)
        if child is not None:
            return (canonical_names(child) if canonical else child), kind
    raise MutationFailed("no mutation applies to this program")


def mutate_until_changed(
    program: Program,
    parent_hash: str,
    mutate_once: Callable[[Program], tuple[Program, str]],
    fingerprint: Callable[[Program], str],
    max_tries: int,
) -> tuple[Program, str, str, int]:
    """Mutate until the child's functional hash differs from the parent's (bounded tries).

    Returns (child, mutation, child hash, tries used). `mutate_once` may simplify too.
    """
    for tries in range(1, max_tries + 1):
        child, kind = mutate_once(program)
        child_hash = fingerprint(child)
        if child_hash != parent_hash:
            return child, kind, child_hash, tries
    raise MutationFailed(f"no functionally different child in {max_tries} tries")
