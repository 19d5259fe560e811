"""Tests for automl.evolution.mutations."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from program_fixtures import ADAM, ARITHMETIC, HYPOTHESIS, NUMERICS, OPTIMIZER, OPTIMIZER_MUTATIONS

from automl.dsl import parse, print_program
from automl.evolution.mutations import (
    EXTRA_MUTATION_KINDS,
    MUTATION_KINDS,
    MUTATIONS,
    MutationFailed,
    MutationSettings,
    change_argument,
    change_op,
    delete_statement,
    grow_constant,
    insert_statement,
    mutate,
    mutate_until_changed,
    perturb_constant,
)
from automl.hashing import hash_program
from automl.ir import Program, Signature, canonical_names, run_numpy, validate
from automl.simplify import simplify

FITTED = MutationSettings(ops=ARITHMETIC, parameter_stem="c")
LITERALS = MutationSettings(ops=ARITHMETIC, parameter_stem=None, literal_probability=0.3)
WITH_FMA = MutationSettings(ops=(*ARITHMETIC, "fma"), parameter_stem="c")
HORNER2 = "t = fma(x, c0, c1)\nf = fma(x, t, c2)"

# mutation histories: unlike program_fixtures.SEEDS these may be empty and are at most 10 long
HISTORIES = st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=10)
SEED = st.integers(0, 2**32 - 1)

CASES = {
    "numerics-fitted": (NUMERICS, FITTED, "f = c0 * x + c1"),
    "numerics-literals": (NUMERICS, LITERALS, "f = 0.5 * x * x + 1.5"),
    "numerics-fma": (NUMERICS, WITH_FMA, HORNER2),
    "optimizer": (OPTIMIZER, OPTIMIZER_MUTATIONS, ADAM),
}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def evolve(case: str, seeds: list[int]) -> Program:
    signature, mutation, text = CASES[case]
    p = parse(text, signature)
    for seed in seeds:
        p, _ = mutate(p, mutation, signature, rng(seed))
    return p


def literal_sites(p: Program) -> dict[tuple[int, int], float]:
    return {(i, k): a for i, ins in enumerate(p.instructions)
            for k, a in enumerate(ins.args) if isinstance(a, float)}


def read_parameters(p: Program, signature: Signature) -> set[str]:
    read = {a for ins in p.instructions for a in ins.args if isinstance(a, str)}
    read.update(p.output_registers)
    return {name for name in read if signature.is_parameter(name)}


def unread(p: Program) -> set[str]:
    read = {a for ins in p.instructions for a in ins.args if isinstance(a, str)}
    return {ins.register for ins in p.instructions} - read - set(p.output_registers)


def test_mutation_table_matches_kinds():
    assert set(MUTATIONS) == set(MUTATION_KINDS) | set(EXTRA_MUTATION_KINDS)
    # the opt-in kinds are not drawn unless a space's weights name them
    assert {kind for kind, _ in MutationSettings(ops=ARITHMETIC).weights} == set(MUTATION_KINDS)


# --------------------------------------------------------------------------------------------
# every kind gives a valid program or None
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@HYPOTHESIS
@given(st.sampled_from(sorted(CASES)), st.sampled_from(sorted(MUTATIONS)), HISTORIES, SEED)
def test_each_kind_gives_valid_program_or_none(case, kind, history, seed):
    signature, mutation, _ = CASES[case]
    parent = evolve(case, history)
    child = MUTATIONS[kind](parent, mutation, signature, rng(seed))
    if child is None:
        return
    validate(child, signature.registry)
    allowed = set(mutation.ops) | {ins.op for ins in parent.instructions}
    assert {ins.op for ins in child.instructions} <= allowed
    assert child.inputs == parent.inputs
    assert child.output_names == parent.output_names
    # single kinds return valid SSA; `mutate` renames it once into printable form, which
    # also drops constants no statement reads any more
    assert set(child.parameters) >= read_parameters(child, signature)
    child = canonical_names(child)
    assert set(child.parameters) == read_parameters(child, signature)
    assert canonical_names(child) == child
    assert parse(print_program(child, signature), signature) == child


@HYPOTHESIS
@given(HISTORIES, SEED)
def test_literal_mode_never_adds_fitted_constants(history, seed):
    p = evolve("numerics-literals", [*history, seed])
    assert p.parameters == ()
    assert not any(isinstance(a, str) and NUMERICS.is_parameter(a)
                   for ins in p.instructions for a in ins.args)


@HYPOTHESIS
@given(HISTORIES)
def test_fitted_mode_never_adds_literals(history):
    p = evolve("numerics-fitted", history)
    assert literal_sites(p) == {}
    assert all(NUMERICS.is_parameter(c) for c in p.parameters)


def test_new_constants_are_named_with_the_stem_and_fresh():
    parent = parse("f = c0 * x + c2", NUMERICS)
    always_constant = MutationSettings(ops=ARITHMETIC, parameter_stem="c",
                                       literal_probability=1.0)
    new_names = set()
    for seed in range(40):
        child = change_argument(parent, always_constant, NUMERICS, rng(seed))
        assert child is not None
        new_names |= set(child.parameters) - set(parent.parameters)
    assert new_names == {"c1"}  # the smallest unused index


def test_literal_constants_are_drawn_from_a_normal():
    parent = parse("f = x * x", NUMERICS)
    always_constant = MutationSettings(ops=ARITHMETIC, literal_probability=1.0)
    drawn = []
    for seed in range(200):
        child = change_argument(parent, always_constant, NUMERICS, rng(seed))
        drawn.extend(literal_sites(child).values())
    drawn = np.array(drawn)
    assert len(drawn) == 200
    assert abs(drawn.mean()) < 0.3 and 0.7 < drawn.std() < 1.3


# --------------------------------------------------------------------------------------------
# not applicable -> None
# --------------------------------------------------------------------------------------------

EMPTY = Program(inputs=("x",), parameters=(), instructions=(), outputs=(("f", "x"),))


def test_not_applicable_returns_none():
    one = parse("f = x * x", NUMERICS)
    for seed in range(10):
        assert delete_statement(one, FITTED, NUMERICS, rng(seed)) is None
        assert delete_statement(EMPTY, FITTED, NUMERICS, rng(seed)) is None
        assert change_argument(EMPTY, FITTED, NUMERICS, rng(seed)) is None
        assert change_op(EMPTY, FITTED, NUMERICS, rng(seed)) is None
        only_mul = MutationSettings(ops=("mul",))
        assert change_op(one, only_mul, NUMERICS, rng(seed)) is None
        assert perturb_constant(one, FITTED, NUMERICS, rng(seed)) is None
        assert perturb_constant(EMPTY, FITTED, NUMERICS, rng(seed)) is None


def test_grow_constant_needs_fitted_constants_fma_and_room():
    horner = parse(HORNER2, NUMERICS)
    for seed in range(10):
        assert grow_constant(horner, FITTED, NUMERICS, rng(seed)) is None  # no fma
        literal = MutationSettings(ops=WITH_FMA.ops, parameter_stem=None)
        assert grow_constant(parse("f = fma(x, 0.5, 1.5)", NUMERICS), literal, NUMERICS,
                             rng(seed)) is None
        assert grow_constant(parse("f = x * x", NUMERICS), WITH_FMA, NUMERICS,
                             rng(seed)) is None  # no constant to grow
        full = MutationSettings(ops=WITH_FMA.ops, parameter_stem="c", max_statements=2)
        assert grow_constant(horner, full, NUMERICS, rng(seed)) is None


def test_grow_constant_makes_one_constant_read_affine_and_at_zero_changes_nothing():
    parent = parse(HORNER2, NUMERICS)
    values = {"c0": 0.3, "c1": 0.7, "c2": 1.1}
    x = np.linspace(-1.0, 2.0, 13)
    expected = run_numpy(parent, {"x": x, **values})["f"]
    grown = Counter()
    for seed in range(60):
        child = grow_constant(parent, WITH_FMA, NUMERICS, rng(seed))
        validate(child)
        assert len(child) == len(parent) + 1
        (slope,) = set(child.parameters) - set(parent.parameters)
        (new,) = [ins for ins in child.instructions if slope in ins.args]
        value, multiplicand, constant = new.args
        assert new.op == "fma" and multiplicand == slope and constant in values
        assert value not in child.parameters  # an input or an earlier register
        # the grown constant is read through the new statement only
        readers = [ins for ins in child.instructions if constant in ins.args]
        assert readers == [new]
        np.testing.assert_allclose(
            run_numpy(child, {"x": x, **values, slope: 0.0})["f"], expected, rtol=1e-15)
        assert not np.allclose(run_numpy(child, {"x": x, **values, slope: 0.5})["f"], expected)
        grown[constant] += 1
    # any read may grow; c0, the innermost Horner constant, is the one that adds a degree
    assert set(grown) == set(values)


def test_insert_into_empty_program_reads_the_pass_through_value():
    for seed in range(20):
        child = insert_statement(EMPTY, FITTED, NUMERICS, rng(seed))
        if child is None:
            continue
        validate(child)
        assert len(child) == 1
        assert child.output_registers == (child.instructions[0].register,)


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_insert_respects_max_statements(limit):
    settings_ = MutationSettings(ops=ARITHMETIC, max_statements=limit)
    p = parse("\n".join(["f = x * 2"] + ["f = f + 1"] * (limit - 1)), NUMERICS)
    assert len(p) == limit
    for seed in range(20):
        assert insert_statement(p, settings_, NUMERICS, rng(seed)) is None


@HYPOTHESIS
@given(st.integers(1, 8), st.lists(SEED, min_size=1, max_size=25))
def test_repeated_insertion_never_exceeds_max_statements(limit, seeds):
    only_insert = MutationSettings(ops=ARITHMETIC, max_statements=limit,
                                   weights=(("insert_statement", 1.0),))
    p = parse("f = c0 * x", NUMERICS)
    for seed in seeds:
        try:
            p, kind = mutate(p, only_insert, NUMERICS, rng(seed))
        except MutationFailed:
            assert len(p) >= limit or len(p) == 1
            continue
        assert kind == "insert_statement"
        assert len(p) <= max(limit, 1)


# --------------------------------------------------------------------------------------------
# what each kind changes
# --------------------------------------------------------------------------------------------


@HYPOTHESIS
@given(st.sampled_from(sorted(CASES)), HISTORIES, SEED)
def test_insert_adds_one_statement_that_is_read(case, history, seed):
    signature, mutation, _ = CASES[case]
    parent = evolve(case, history)
    child = insert_statement(parent, mutation, signature, rng(seed))
    if child is None:
        return
    assert len(child) == len(parent) + 1
    # the new statement is spliced into an existing read site, so it is read: the number of
    # statements nobody reads does not grow
    assert len(unread(child)) <= len(unread(parent))


@HYPOTHESIS
@given(st.sampled_from(sorted(CASES)), HISTORIES, SEED)
def test_delete_removes_one_statement(case, history, seed):
    signature, mutation, _ = CASES[case]
    parent = evolve(case, history)
    child = delete_statement(parent, mutation, signature, rng(seed))
    if child is None:
        assert len(parent) <= 1
        return
    assert len(child) == len(parent) - 1


@HYPOTHESIS
@given(st.sampled_from(sorted(CASES)), HISTORIES, SEED)
def test_change_op_changes_one_op(case, history, seed):
    signature, mutation, _ = CASES[case]
    parent = evolve(case, history)
    child = change_op(parent, mutation, signature, rng(seed))
    if child is None:
        return
    assert len(child) == len(parent)
    changed = [(a.op, b.op) for a, b in zip(parent.instructions, child.instructions, strict=True)
               if a.op != b.op]
    assert len(changed) == 1
    assert changed[0][1] in mutation.ops


@HYPOTHESIS
@given(st.sampled_from(sorted(CASES)), HISTORIES, SEED)
def test_change_argument_keeps_ops(case, history, seed):
    signature, mutation, _ = CASES[case]
    parent = evolve(case, history)
    child = change_argument(parent, mutation, signature, rng(seed))
    if child is None:
        return
    assert [i.op for i in child.instructions] == [i.op for i in parent.instructions]


@HYPOTHESIS
@given(st.sampled_from(["numerics-literals", "optimizer"]), HISTORIES, SEED)
def test_perturb_constant_changes_exactly_one_literal(case, history, seed):
    signature, mutation, _ = CASES[case]
    parent = evolve(case, history)
    child = perturb_constant(parent, mutation, signature, rng(seed))
    before = literal_sites(parent)
    if child is None:
        assert before == {}
        return
    after = literal_sites(child)
    assert after.keys() == before.keys()
    changed = [site for site in before if before[site] != after[site]]
    if all(value != 0.0 for value in before.values()):
        assert len(changed) == 1
    else:  # scaling a 0.0 literal by 2^a leaves it 0.0
        assert len(changed) <= 1
    assert all(np.isfinite(v) for v in after.values())
    # registers, ops, outputs and every non-literal argument are untouched
    assert child.outputs == parent.outputs and child.parameters == parent.parameters
    for a, b in zip(parent.instructions, child.instructions, strict=True):
        assert (a.register, a.op) == (b.register, b.op)
        assert [x for x in a.args if isinstance(x, str)] == [
            x for x in b.args if isinstance(x, str)]


def test_perturb_constant_nonzero_literals():
    parent = parse("f = x * 0.9 + 1e-8 - 2.5 * x", NUMERICS)
    for seed in range(50):
        child = perturb_constant(parent, LITERALS, NUMERICS, rng(seed))
        before, after = literal_sites(parent), literal_sites(child)
        assert sum(before[s] != after[s] for s in before) == 1


# --------------------------------------------------------------------------------------------
# mutate
# --------------------------------------------------------------------------------------------


def test_mutate_returns_the_kind_it_applied():
    parent = parse("t = x * 0.5\nf = t + x", NUMERICS)
    for kind in MUTATION_KINDS:
        only = MutationSettings(ops=ARITHMETIC, weights=((kind, 1.0),))
        child, applied = mutate(parent, only, NUMERICS, rng(1))
        assert applied == kind
        validate(child)


def test_mutate_respects_weights():
    parent = parse("t = x * 0.5\nf = t + x", NUMERICS)
    weighted = MutationSettings(ops=ARITHMETIC, weights=(("change_op", 3.0),
                                                          ("perturb_constant", 1.0),
                                                          ("delete_statement", 0.0)))
    generator = rng(5)
    counts = Counter(mutate(parent, weighted, NUMERICS, generator)[1] for _ in range(400))
    assert set(counts) == {"change_op", "perturb_constant"}
    assert 2.0 < counts["change_op"] / counts["perturb_constant"] < 4.5


def test_mutate_raises_when_nothing_applies():
    only_perturb = MutationSettings(ops=ARITHMETIC, weights=(("perturb_constant", 1.0),))
    with pytest.raises(MutationFailed, match="no mutation applies"):
        mutate(parse("f = c0 * x", NUMERICS), only_perturb, NUMERICS, rng(0))


def test_mutate_is_deterministic_given_the_generator_state():
    parent = parse(ADAM, OPTIMIZER)
    for seed in range(10):
        a = mutate(parent, OPTIMIZER_MUTATIONS, OPTIMIZER, rng(seed))
        b = mutate(parent, OPTIMIZER_MUTATIONS, OPTIMIZER, rng(seed))
        assert a == b


# --------------------------------------------------------------------------------------------
# mutate_until_changed
# --------------------------------------------------------------------------------------------

PROBES = [{"x": np.linspace(0.5, 2.0, 16), "c0": 0.75, "c1": -1.25, "c2": 1.5, "c3": 0.3,
           "c4": 2.2, "c5": -0.4, "c6": 0.9, "c7": 1.1, "c8": -2.0, "c9": 0.6}]


def fingerprint(p: Program) -> str:
    return hash_program(simplify(p).program, PROBES)


@HYPOTHESIS
@given(SEED)
def test_mutate_until_changed_returns_a_functionally_different_child(seed):
    parent = parse("f = c0 * x + c1", NUMERICS)
    parent_hash = fingerprint(parent)
    generator = rng(seed)
    calls = []

    def once(p):
        calls.append(p)
        return mutate(p, FITTED, NUMERICS, generator)

    child, kind, child_hash, tries = mutate_until_changed(parent, parent_hash, once,
                                                          fingerprint, max_tries=50)
    validate(child)
    assert kind in MUTATION_KINDS
    assert child_hash != parent_hash
    assert child_hash == fingerprint(child)
    assert 1 <= tries == len(calls) <= 50
    assert all(p is parent for p in calls)  # every try mutates the parent, not a failed child


def test_mutate_until_changed_skips_unchanged_children():
    parent = parse("f = c0 * x + c1", NUMERICS)
    different = parse("f = c0 * x - c1", NUMERICS)
    equivalent = parse("f = c1 + x * c0\ndead = x * 3", NUMERICS)
    queue = [(equivalent, "change_argument"), (parent, "perturb_constant"),
             (different, "change_op")]
    child, kind, child_hash, tries = mutate_until_changed(
        parent, fingerprint(parent), lambda p: queue.pop(0), fingerprint, max_tries=10)
    assert child == different and kind == "change_op" and tries == 3
    assert child_hash == fingerprint(different)


def test_mutate_until_changed_raises_when_the_function_never_changes():
    parent = parse("f = c0 * x + c1", NUMERICS)
    calls = []

    def identity(p):
        calls.append(p)
        return p, "delete_statement"

    with pytest.raises(MutationFailed, match="7 tries"):
        mutate_until_changed(parent, fingerprint(parent), identity, fingerprint, max_tries=7)
    assert len(calls) == 7


def test_mutate_until_changed_raises_for_equivalent_rewrites():
    parent = parse("f = x * 2", NUMERICS)
    rewrites = iter([parse("f = x + x", NUMERICS), parse("f = 2 * x", NUMERICS),
                     parse("t = x * 3\nf = x * 2", NUMERICS)])
    with pytest.raises(MutationFailed):
        mutate_until_changed(parent, fingerprint(parent),
                             lambda p: (next(rewrites), "insert_statement"), fingerprint,
                             max_tries=3)


def test_mutate_until_changed_zero_tries():
    parent = parse("f = x * 2", NUMERICS)
    with pytest.raises(MutationFailed):
        mutate_until_changed(parent, fingerprint(parent),
                             lambda p: (parse("f = x", NUMERICS), "x"), fingerprint, max_tries=0)
