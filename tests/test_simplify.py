"""Tests for automl.simplify: constant folding, dead code, operand order, parameter renumbering."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from program_fixtures import ADAM, HYPOTHESIS, NUMERICS, OPTIMIZER, REG, SEEDS, mutated

from automl.dsl import parse, print_program
from automl.evolution.mutations import MutationSettings
from automl.ir import (
    OPS,
    Instruction,
    OpRegistry,
    Program,
    Signature,
    canonical_names,
    run_numpy,
    validate,
)
from automl.simplify import (
    SimplifyResult,
    fold_constants,
    order_commutative_operands,
    remove_dead_code,
    renumber_parameters,
    simplify,
)

XY = Signature(inputs=("x", "y"), outputs=("f",), parameter_pattern=r"c\d+")


def s(text: str, signature: Signature = NUMERICS) -> SimplifyResult:
    return simplify(parse(text, signature), signature.registry)


def text_of(text: str, signature: Signature = NUMERICS) -> str:
    return print_program(s(text, signature).program, signature)


def outputs(program: Program, values: dict, registry: OpRegistry = OPS, n: int = 32) -> list:
    with np.errstate(all="ignore"):
        result = run_numpy(program, values, registry)
    return [np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in result.values()]


def same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        np.allclose(u, w, rtol=1e-12, atol=0, equal_nan=True)
        and np.array_equal(np.isnan(u), np.isnan(w))
        for u, w in zip(a, b, strict=True)
    )


# --------------------------------------------------------------------------------------------
# dead code
# --------------------------------------------------------------------------------------------


def test_dead_statements_removed_and_counted():
    result = s("d = x * 7\ne = d + 1\nf = x + 1\nz = f * e")
    assert result.removed == 3
    assert result.program == parse("f = x + 1", NUMERICS)


def test_dead_code_keeps_what_outputs_need():
    result = s("a = x * x\nb = a + x\nunused = b * 9\nf = b - a")
    assert result.removed == 1
    assert [ins.op for ins in result.program.instructions] == ["mul", "add", "sub"]


def test_dead_code_drops_unused_parameters():
    result = s("dead = c0 * x\nf = c1 * x")
    assert result.program.parameters == ("c0",)  # renumbered from c1
    assert result.removed == 1


def test_nothing_to_remove():
    result = s("t = x * x\nf = t + x")
    assert result.removed == 0
    assert result.program == parse("t = x * x\nf = x + t", NUMERICS)  # x is defined first


def test_pass_through_outputs_survive():
    result = s("dead = g * 2\nupdate = lr * g", OPTIMIZER)
    assert result.removed == 1
    assert dict(result.program.outputs) == {"update": "update", "m": "m", "v": "v"}


def test_remove_dead_code_direct():
    p = Program(inputs=("x",), parameters=("c0", "c1"),
                instructions=(Instruction("a", "mul", ("x", "c0")),
                              Instruction("b", "mul", ("x", "c1")),
                              Instruction("f", "add", ("a", 1.0))),
                outputs=(("f", "f"),))
    live = remove_dead_code(p)
    assert [ins.register for ins in live.instructions] == ["a", "f"]
    assert live.parameters == ("c0",)


# --------------------------------------------------------------------------------------------
# constant folding
# --------------------------------------------------------------------------------------------


def test_constant_folding_matches_literal():
    folded = s("f = x * (2 * 3)")
    assert folded.removed == 1
    assert folded.program == s("f = x * 6").program
    assert print_program(folded.program, NUMERICS) == "f = x * 6.0\n"


def test_constant_folding_chain_and_unary():
    result = s("a = 2 * 3\nb = a + 1\nk = sqrt(16)\nf = x * b - k + max(1, 2)")
    assert result.program == s("f = x * 7 - 4 + 2").program
    assert result.removed == 4


def test_fold_with_space_registry():
    result = s("k = interp(1, 3, 0.25)\nupdate = g * k", OPTIMIZER)
    (ins,) = result.program.instructions
    assert ins.op == "mul" and ins.args == ("g", 1.5)


def test_fold_keeps_non_finite_values_as_instructions():
    # (sqrt is safe, sqrt(|x|), so sqrt(-1) folds to 1.0 and is not among these)
    for text in ["f = x * (1 / 0)", "f = x + (-1 / 0)", "f = x * (0 / 0)"]:
        result = s(text)
        assert result.removed == 0
        assert len(result.program) == 2
        x = np.linspace(-1, 1, 5)
        assert same(outputs(parse(text, NUMERICS), {"x": x}, n=5),
                    outputs(result.program, {"x": x}, n=5))


def test_fold_does_not_touch_fitted_constants():
    result = s("f = x * (c0 * 2)")
    assert result.removed == 0
    assert len(result.program) == 2


def test_fold_keeps_constant_output_register():
    # an output must stay a computed register even when its arguments are literals
    result = s("t = 2 * 3\nf = t + 1")
    assert len(result.program) == 1
    (ins,) = result.program.instructions
    assert ins.register == "f" and ins.op == "add" and sorted(ins.args) == [1.0, 6.0]
    validate(result.program)


def test_fold_constants_direct():
    p = parse("a = 1.5 * 2\nf = x + a", NUMERICS)
    folded = fold_constants(p)
    assert folded.instructions == (Instruction("f", "add", ("x", 3.0)),)


# --------------------------------------------------------------------------------------------
# commutative operand order
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("f = x * c0", "f = c0 * x"),
        ("f = x + c0", "f = c0 + x"),
        ("f = max(x, c0)", "f = max(c0, x)"),
        ("f = min(2, x)", "f = min(x, 2)"),
        ("f = x * 3 + c0", "f = c0 + 3 * x"),
        ("t = x * x\nf = t * x", "t = x * x\nf = x * t"),
        ("f = (x + 1) * (x * c0)", "f = (1 + x) * (c0 * x)"),
    ],
)
def test_commuted_operands_print_identically(a, b):
    assert text_of(a) == text_of(b)
    assert s(a).program == s(b).program


def test_non_commutative_operands_keep_their_order():
    assert text_of("f = c0 - x") != text_of("f = x - c0")
    assert text_of("f = c0 / x") != text_of("f = x / c0")
    assert text_of("f = fma(x, c0, 1)") != text_of("f = fma(c0, x, 1)")


def test_commutative_order_registers_before_literals():
    p = order_commutative_operands(parse("t = 2 * x\nf = 3 + t", NUMERICS))
    assert p.instructions[0].args == ("x", 2.0)
    assert p.instructions[1].args == ("t", 3.0)


# --------------------------------------------------------------------------------------------
# parameter renumbering
# --------------------------------------------------------------------------------------------


def test_parameter_renumbering():
    a = s("f = c3 * x + c1").program
    b = s("f = c0 * x + c1").program
    assert a == b
    assert a.parameters == ("c0", "c1")
    assert print_program(a, NUMERICS) == print_program(b, NUMERICS)


def test_renumbering_follows_first_use():
    p = renumber_parameters(parse("t = x * c7\nf = t + c2", NUMERICS))
    assert p.parameters == ("c0", "c1")
    assert p.instructions[0].args == ("x", "c0")
    assert p.instructions[1].args[1] == "c1"


def test_renumbering_output_that_is_a_parameter():
    sig = Signature(inputs=("x",), outputs=("f", "g"), parameter_pattern=r"c\d+")
    p = simplify(parse("f = x * c5\ng = c9", sig)).program
    assert p.parameters == ("c0", "c1")
    assert dict(p.outputs)["g"] == "c1"


def test_renumbering_needs_a_single_stem():
    sig = Signature(inputs=("x",), outputs=("f",), parameter_pattern=r"[ab]\d+")
    p = parse("f = a3 * x + b1", sig)
    assert renumber_parameters(p) == p


def test_simplify_idempotent_simple():
    for text in ["f = c3 * x + c1", "d = x * 7\nf = (c2 + x) * (2 * 3)", ADAM]:
        sig = OPTIMIZER if text is ADAM else NUMERICS
        once = s(text, sig).program
        twice = simplify(once, sig.registry)
        assert twice.program == once
        assert twice.removed == 0


def test_simplify_canonical_under_parameter_renaming():
    """BUG (automl/simplify.py simplify): commutative order is decided before renumbering.

    ``s = c0 * c1`` is sorted by the old names, then renumbering swaps c0/c1, leaving
    ``s = c1 * c0``. The two programs below differ only in which names they picked for their
    fitted constants, yet simplify prints them differently, and simplify is not idempotent.
    """
    a = s("t = x - c1\ns = c0 * c1\nf = t * s").program
    b = s("t = x - c0\ns = c1 * c0\nf = t * s").program
    assert simplify(a).program == a  # idempotent
    assert print_program(a, NUMERICS) == print_program(b, NUMERICS)


# --------------------------------------------------------------------------------------------
# properties over random programs
# --------------------------------------------------------------------------------------------


@HYPOTHESIS
@given(SEEDS, st.integers(0, 2**32 - 1))
def test_simplify_never_changes_the_function_literals(seeds, value_seed):
    mutation = MutationSettings(ops=("add", "sub", "mul", "div"), parameter_stem=None,
                                literal_probability=0.3)
    p = mutated(parse("f = 0.5 * x + 1.5 * (2 * 3)", NUMERICS), NUMERICS, mutation, seeds)
    result = simplify(p)
    validate(result.program)
    assert result.removed == len(p) - len(result.program) >= 0
    assert result.program.inputs == p.inputs
    assert result.program.output_names == p.output_names
    x = np.random.default_rng(value_seed).uniform(-3, 3, 32)
    assert same(outputs(p, {"x": x}), outputs(result.program, {"x": x}))
    assert parse(print_program(result.program, NUMERICS), NUMERICS) == result.program


@HYPOTHESIS
@given(SEEDS, st.integers(0, 2**32 - 1))
def test_simplify_never_changes_the_function_up_to_parameter_renaming(seeds, value_seed):
    mutation = MutationSettings(ops=("add", "sub", "mul", "div"), parameter_stem="c")
    p = mutated(parse("f = c0 * x + c1", NUMERICS), NUMERICS, mutation, seeds)
    assume(len(p.parameters) <= 5)
    result = simplify(p).program
    validate(result)
    assert len(result.parameters) <= len(p.parameters)
    assert list(result.parameters) == [f"c{i}" for i in range(len(result.parameters))]
    rng = np.random.default_rng(value_seed)
    x = rng.uniform(-3, 3, 32)
    values = {name: rng.uniform(0.5, 2.0) * rng.choice([-1, 1]) for name in p.parameters}
    expected = outputs(p, {"x": x, **values})
    # renumbering renames constants: some injective assignment of the old values must match
    assert any(
        same(expected, outputs(result, {"x": x, **dict(zip(result.parameters, chosen,
                                                           strict=True))}))
        for chosen in itertools.permutations(values.values(), len(result.parameters))
    )


@HYPOTHESIS
@given(SEEDS, st.integers(0, 2**32 - 1))
def test_simplify_never_changes_the_function_optimizer(seeds, value_seed):
    mutation = MutationSettings(ops=("add", "sub", "mul", "div", "interp", "sign", "sqrt"),
                                literal_probability=0.3)
    p = mutated(parse(ADAM, OPTIMIZER), OPTIMIZER, mutation, seeds)
    result = simplify(p, REG)
    validate(result.program, REG)
    rng = np.random.default_rng(value_seed)
    values = {name: rng.uniform(0.5, 2.0, 32) for name in OPTIMIZER.inputs}
    assert same(outputs(p, values, REG), outputs(result.program, values, REG))


@HYPOTHESIS
@given(SEEDS)
def test_simplify_result_is_in_canonical_names_and_stable(seeds):
    mutation = MutationSettings(ops=("add", "sub", "mul", "div"), parameter_stem="c")
    p = mutated(parse("f = c0 * x + c1", NUMERICS), NUMERICS, mutation, seeds)
    result = simplify(p).program
    assert canonical_names(result) == result
    again = simplify(result)
    assert again.removed == 0
    assert print_program(again.program, NUMERICS) == print_program(result, NUMERICS)
