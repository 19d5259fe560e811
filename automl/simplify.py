"""Program simplification: constant folding, common sub-expressions, dead code, operand order.

Simplification runs before hashing and storage, so the stored text is the short form and
programs that differ only in dead statements or operand order print (and hash) alike. The Lion
paper found ~70% of statements in evolved programs redundant: `SimplifyResult.removed` counts
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from automl.ir import (
    Argument,
    Instruction,
    Program,
    canonical_names,
    parameter_sort_key,
)
from automl.ops import CORE_OPS, OpTable


@dataclass(frozen=True)
class SimplifyResult:
    program: Program
    removed: int  # statements removed by folding and dead-code elimination


def simplify(program: Program, registry: OpTable = CORE_OPS) -> SimplifyResult:
    folded = fold_constants(program, registry)
    shared = eliminate_common_subexpressions(folded, registry)
    live = remove_dead_code(shared)
    renumbered = renumber_parameters(live)
    if renumbered is not live:  # renamed constants sort differently: order operands again
        renumbered = order_commutative_operands(renumbered, registry)
    return SimplifyResult(canonical_names(renumbered), len(program) - len(renumbered))


def fold_constants(program: Program, registry: OpTable = CORE_OPS) -> Program:
    """Replace instructions whose arguments are all literals by their (finite) value."""
    literal_of: dict[str, float] = {}
    outputs = set(program.output_registers)
    kept: list[Instruction] = []
    for ins in program.instructions:
        args = ins.args
        if literal_of:
            args = tuple(literal_of.get(a, a) if isinstance(a, str) else a for a in args)
        if all(isinstance(a, float) for a in args) and ins.register not in outputs:
            with np.errstate(all="ignore"):
                value = registry.get(ins.op).numpy_impl(*[np.float64(a) for a in args])
            if np.ndim(value) == 0 and math.isfinite(float(value)):
                literal_of[ins.register] = float(value)
                continue
        kept.append(ins if args == ins.args else Instruction(ins.register, ins.op, args))
    if not literal_of:
        return program
    return program.replace(instructions=tuple(kept))


def remove_dead_code(program: Program) -> Program:
    """Drop instructions whose values never reach an output."""
    needed = set(program.output_registers)
    kept_reversed: list[Instruction] = []
    for ins in reversed(program.instructions):
        if ins.register in needed:
            kept_reversed.append(ins)
            needed.update(a for a in ins.args if isinstance(a, str))
    used_parameters = tuple(p for p in program.parameters if p in needed)
    return program.replace(instructions=tuple(reversed(kept_reversed)),
                           parameters=used_parameters)


def _operand_order(program: Program):
    """Sort key for operands: inputs and parameters, then registers by definition, then
    literals by value."""
    inputs_order = {name: i for i, name in enumerate((*program.inputs, *program.parameters))}
    definition = {ins.register: i for i, ins in enumerate(program.instructions)}

    def key(argument: Argument) -> tuple[int, float, str]:
        if isinstance(argument, float):
            return (2, argument, "")
        if argument in inputs_order:
            return (0, inputs_order[argument], argument)
        return (1, definition[argument], argument)

    return key


def order_commutative_operands(program: Program, registry: OpTable = CORE_OPS) -> Program:
    """Sort the arguments of commutative ops, so ``x*c0`` and ``c0*x`` print alike."""
    key = _operand_order(program)
    instructions = []
    for ins in program.instructions:
        if registry.get(ins.op).commutative:
            ins = Instruction(ins.register, ins.op, tuple(sorted(ins.args, key=key)))
        instructions.append(ins)
    return program.replace(instructions=tuple(instructions))


def eliminate_common_subexpressions(program: Program, registry: OpTable = CORE_OPS) -> Program:
    """Compute each distinct ``op(args)`` once (ops are pure), ordering commutative operands
    first so ``c1*t`` and ``t*c1`` are recognised as one value. A statement computed twice is
    also paid twice by cost objectives, so this keeps costs honest."""
    key = _operand_order(program)
    replacement: dict[str, str] = {}
    seen: dict[tuple, str] = {}
    kept: list[Instruction] = []
    for ins in program.instructions:
        args = tuple(replacement.get(a, a) if isinstance(a, str) else a for a in ins.args)
        if registry.get(ins.op).commutative:
            args = tuple(sorted(args, key=key))
        # literals by their bits: 0.0 and -0.0 compare equal but divide differently
        identity = (ins.op, tuple(a.hex() if isinstance(a, float) else a for a in args))
        if identity in seen:
            replacement[ins.register] = seen[identity]
            continue
        seen[identity] = ins.register
        kept.append(ins if args == ins.args else Instruction(ins.register, ins.op, args))
    if not replacement and all(a is b for a, b in zip(kept, program.instructions, strict=True)):
        return program
    outputs = tuple((name, replacement.get(register, register))
                    for name, register in program.outputs)
    return program.replace(instructions=tuple(kept), outputs=outputs)


def renumber_parameters(program: Program) -> Program:
    """Rename fitted constants in order of first use (``c3*x + c1`` -> ``c0*x + c1``).

    Fitted constants are placeholders: their names carry no meaning, so programs that differ
    only in which names they picked are the same program. Applies when all share one stem.
    """
    stems = {parameter_sort_key(p)[0] for p in program.parameters}
    if len(stems) != 1:
        return program
    (stem,) = stems
    order: list[str] = []
    for ins in program.instructions:
        for arg in ins.args:
            if isinstance(arg, str) and arg in program.parameters and arg not in order:
                order.append(arg)
    order.extend(p for p in program.parameters if p not in order)
    rename = {old: f"{stem}{i}" for i, old in enumerate(order)}
    if all(old == new for old, new in rename.items()):
        return program
    instructions = tuple(
        Instruction(ins.register, ins.op,
                    tuple(rename.get(a, a) if isinstance(a, str) else a for a in ins.args))
        for ins in program.instructions
    )
    outputs = tuple((name, rename.get(reg, reg)) for name, reg in program.outputs)
    parameters = tuple(sorted(rename.values(), key=parameter_sort_key))
    values = program.parameter_values
    if values is not None:
        values = {rename[old]: value for old, value in values.items() if old in rename}
    return program.replace(instructions=instructions, outputs=outputs, parameters=parameters,
                           parameter_values=values)
