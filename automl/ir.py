"""Program IR: an SSA instruction list (= a DAG), run and checked with an op table (`automl.ops`).

A `Program` reads named inputs (e.g. ``x``) and named *parameters* (constants a space fits per
candidate, e.g. ``c0``), runs instructions ``register = op(arg, ...)`` in order, and names its
outputs. An argument is either a register name (``str``) or a numeric literal (``float``).

Register names are unique (SSA). When the text form reassigns a name (``m = interp(g, m, 0.9)``)
the parser gives the new value the register ``m'1``; the printer turns that back into ``m``.
`canonical_names` keeps every program in that form, which is what makes ``parse(print(p)) == p``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Op, OpTable and ProgramError live in automl.ops; imported from here too, as they always were
from automl.ops import CORE_OPS, IDENTIFIER, Op, OpTable, ProgramError  # noqa: F401

Argument = str | float
VERSION_MARK = "'"


OpRegistry = OpTable  # the old name, for old imports
OPS = CORE_OPS  # the core's table: the default wherever no space's table is given


@dataclass(frozen=True)
class Instruction:
    register: str
    op: str
    args: tuple[Argument, ...]


@dataclass(frozen=True)
class Program:
    """An SSA program. `outputs` maps each output name to the register holding its value.

    `parameter_values`: where a fit of the parameters should start, by name (e.g. the fitted
    constants a parent passed on to this child); not part of the program's identity, text or
    hash. `replace` keeps the values of the parameters that remain; code that renames
    parameters re-keys them.
    """

    inputs: tuple[str, ...]
    parameters: tuple[str, ...]
    instructions: tuple[Instruction, ...]
    outputs: tuple[tuple[str, str], ...]
    parameter_values: Mapping[str, float] | None = field(default=None, repr=False,
                                                         compare=False)
    _index: dict[str, int] = field(default=None, init=False, repr=False, compare=False)  # type: ignore[assignment]

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.outputs)

    @property
    def output_registers(self) -> tuple[str, ...]:
        return tuple(register for _, register in self.outputs)

    def definition_index(self) -> dict[str, int]:
        """Register -> position of its defining instruction (inputs and parameters: -1)."""
        if self._index is None:
            index = {name: -1 for name in (*self.inputs, *self.parameters)}
            index.update({ins.register: i for i, ins in enumerate(self.instructions)})
            object.__setattr__(self, "_index", index)
        return self._index

    def __len__(self) -> int:
        return len(self.instructions)

    def replace(self, **changes: Any) -> Program:
        values = {
            "inputs": self.inputs,
            "parameters": self.parameters,
            "instructions": self.instructions,
            "outputs": self.outputs,
            "parameter_values": self.parameter_values,
        }
        values.update(changes)
        known = values["parameter_values"]
        if known is not None:
            known = {name: float(known[name]) for name in values["parameters"] if name in known}
            values["parameter_values"] = known or None
        return Program(**values)


def base_name(register: str) -> str:
    """The user-visible name of a register: ``m'2`` -> ``m``."""
    return register.split(VERSION_MARK, 1)[0]


def validate(program: Program, registry: OpTable = OPS, allowed_ops: Iterable[str] | None = None
             ) -> None:
    """Raise `ProgramError` naming the first problem found."""
    allowed = None if allowed_ops is None else set(allowed_ops)
    defined = set(program.inputs) | set(program.parameters)
    if len(defined) != len(program.inputs) + len(program.parameters):
        raise ProgramError("inputs and parameters must have distinct names")
    for position, ins in enumerate(program.instructions, start=1):
        op = registry.get(ins.op)
        if allowed is not None and ins.op not in allowed:
            raise ProgramError(f"statement {position}: op {ins.op!r} is not in this space's op set")
        if len(ins.args) != op.arity:
            raise ProgramError(
                f"statement {position}: {ins.op} takes {op.arity} argument(s), got {len(ins.args)}"
            )
        for arg in ins.args:
            if isinstance(arg, str):
                if arg not in defined:
                    raise ProgramError(f"statement {position}: {base_name(arg)!r} is not defined")
            elif not isinstance(arg, float):
                raise ProgramError(f"statement {position}: {arg!r} is not a name or a number")
        if ins.register in defined:
            raise ProgramError(f"statement {position}: register {ins.register!r} assigned twice")
        defined.add(ins.register)
    names = [name for name, _ in program.outputs]
    if len(set(names)) != len(names):
        raise ProgramError("an output is named twice")
    for name, register in program.outputs:
        if register not in defined:
            raise ProgramError(f"output {name!r} is never assigned")


def uses(program: Program) -> dict[str, int]:
    """Register -> number of times it is read (by instructions and outputs)."""
    counts: dict[str, int] = {}
    for ins in program.instructions:
        for arg in ins.args:
            if isinstance(arg, str):
                counts[arg] = counts.get(arg, 0) + 1
    for register in program.output_registers:
        counts[register] = counts.get(register, 0) + 1
    return counts


def canonical_names(program: Program) -> Program:
    """Rename registers to the form the parser produces, so that printing is exact.

    Each destination keeps its user-visible base name, as version ``base'k`` of it, whenever no
    later statement still reads an earlier version of that base name (then the text form can
    say ``base = ...`` again). Otherwise it gets a fresh base name. Outputs whose register is not
    the last version of their own name are printed as aliases (``f = t3``).
    """
    instructions = program.instructions
    # last position at which each register is read (outputs read "after the end")
    last_read: dict[str, int] = {}
    end = len(instructions)
    for position, ins in enumerate(instructions):
        for arg in ins.args:
            if isinstance(arg, str):
                last_read[arg] = position
    for register in program.output_registers:
        last_read[register] = end

    taken_bases = {base_name(ins.register) for ins in instructions}
    taken_bases.update(program.inputs, program.parameters)
    taken_bases.update(program.output_names)
    # base name -> (its current register in the new naming, the same register's original name)
    current: dict[str, tuple[str, str]] = {
        name: (name, name) for name in (*program.inputs, *program.parameters)
    }
    version: dict[str, int] = {}
    rename: dict[str, str] = {name: name for name in (*program.inputs, *program.parameters)}
    new_instructions = []
    # Parameters are never shadowed: constants are identified by name when they are fitted.
    protected = set(program.parameters)
    # a register that is an output prefers the output's name, so `f = t2` aliases are rare
    output_of = {register: name for name, register in reversed(program.outputs)}
    for position, ins in enumerate(instructions):
        args = tuple(rename[a] if isinstance(a, str) else a for a in ins.args)
        own = base_name(ins.register)
        # the output's name first, then the register's own name, then a fresh one: trying the
        # own name before inventing one keeps canonical_names idempotent
        choices = [output_of[ins.register], own] if ins.register in output_of else [own]
        for base in choices:
            previous = current.get(base)
            if base not in protected and (
                previous is None or last_read.get(previous[1], -1) <= position
            ):
                break
        else:
            base = fresh_name(choices[0], taken_bases)
            taken_bases.add(base)
            previous = None
        if previous is None:
            new_register = base
            version[base] = 0
        else:
            version[base] = version.get(base, 0) + 1
            new_register = f"{base}{VERSION_MARK}{version[base]}"
        current[base] = (new_register, ins.register)
        rename[ins.register] = new_register
        if new_register == ins.register and args == ins.args:
            new_instructions.append(ins)
        else:
            new_instructions.append(Instruction(new_register, ins.op, args))
    outputs = tuple((name, rename[register]) for name, register in program.outputs)
    # the text form lists no parameters: only those read exist after a round trip
    parameters = tuple(p for p in program.parameters if p in last_read)
    if (outputs == program.outputs and parameters == program.parameters
            and all(a is b for a, b in zip(new_instructions, instructions, strict=True))):
        return program  # already canonical (the common case): no new objects
    return program.replace(instructions=tuple(new_instructions), outputs=outputs,
                           parameters=parameters)


def fresh_name(base: str, taken: set[str]) -> str:
    """`base` with the smallest numeric suffix not in `taken` (``t`` -> ``t1``)."""
    stem = base.rstrip("0123456789") or "t"
    counter = 1
    while f"{stem}{counter}" in taken:
        counter += 1
    return f"{stem}{counter}"


def run_numpy(program: Program, values: Mapping[str, Any], registry: OpTable = OPS
              ) -> dict[str, Any]:
    """Execute with the numpy implementations. `values` holds inputs and parameters."""
    env = register_values(program, values, registry)
    return {name: env[register] for name, register in program.outputs}


def register_values(program: Program, values: Mapping[str, Any], registry: OpTable = OPS
                    ) -> dict[str, Any]:
    """Every value the program computes (numpy), by register, with `values` (inputs and
    parameters): for checks on intermediate values, e.g. a denominator's sign."""
    env: dict[str, Any] = dict(values)
    for ins in program.instructions:
        op = registry.get(ins.op)
        env[ins.register] = op.numpy_impl(*[env[a] if isinstance(a, str) else a for a in ins.args])
    return env


def run_jax(program: Program, values: Mapping[str, Any], registry: OpTable = OPS
            ) -> dict[str, Any]:
    """Execute with the jax implementations, straight-line (jit-able: the program is static).
    Literals stay Python floats, so they take the dtype of the arrays they meet (float32
    inputs compute in float32)."""
    env: dict[str, Any] = dict(values)
    for ins in program.instructions:
        op = registry.get(ins.op)
        if op.jax_impl is None:
            raise ProgramError(f"op {ins.op!r} has no jax implementation")
        env[ins.register] = op.jax_impl(*[env[a] if isinstance(a, str) else a
                                          for a in ins.args])
    return {name: env[register] for name, register in program.outputs}


def cost(program: Program, depends_on: Iterable[str], registry: OpTable = OPS) -> float:
    """Sum of op costs over instructions whose value depends on any of `depends_on`.

    Instructions over constants only cost nothing: they fold into a constant at export time.
    """
    dependent = set(depends_on)
    total = 0.0
    for ins in program.instructions:
        if any(isinstance(a, str) and a in dependent for a in ins.args):
            dependent.add(ins.register)
            total += registry.get(ins.op).cost
    return total



@dataclass(frozen=True)
class Signature:
    """What a space's programs look like: their inputs, outputs, fitted constants and op set.

    `parameter_pattern` is a regular expression for names that are constants fitted per
    candidate (``c0``, ``c1``, ...); `infix` maps the text form's operators to ops, so a space can
    make ``/`` mean a safe division; `named_constants` are names that read as literals (``pi``).
    """

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    ops: tuple[str, ...] | None = None
    parameter_pattern: str | None = None
    infix: tuple[tuple[str, str], ...] = (("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "div"))
    negate: str = "neg"
    named_constants: tuple[tuple[str, float], ...] = ()
    registry: OpTable = field(default=OPS, compare=False, repr=False)

    def is_parameter(self, name: str) -> bool:
        return self.parameter_pattern is not None and re.fullmatch(
            self.parameter_pattern, name
        ) is not None

    def op_allowed(self, name: str) -> bool:
        return name in self.registry and (self.ops is None or name in self.ops)


def parameter_sort_key(name: str) -> tuple[str, int]:
    """Natural order, so c2 comes before c10."""
    stem = name.rstrip("0123456789")
    digits = name[len(stem):]
    return stem, int(digits) if digits else -1
