"""Tests for automl.ir and automl.ops: op tables, validate, canonical_names, run_numpy and cost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from program_fixtures import (
    ADAM,
    HYPOTHESIS,
    NUMERICS,
    OPTIMIZER,
    OPTIMIZER_MUTATIONS,
    REG,
    mutated,
    optimizer_registry,
)

from automl.dsl import parse
from automl.evolution.mutations import MutationSettings
from automl.fma import fma
from automl.ir import (
    OPS,
    Instruction,
    Op,
    OpRegistry,
    Program,
    ProgramError,
    Signature,
    base_name,
    canonical_names,
    cost,
    parameter_sort_key,
    run_numpy,
    uses,
    validate,
)
from automl.ops import CORE_OPS, OpTable


def program(instructions, outputs=(("f", "f"),), inputs=("x",), parameters=()) -> Program:
    return Program(
        inputs=tuple(inputs),
        parameters=tuple(parameters),
        instructions=tuple(Instruction(r, op, tuple(args)) for r, op, args in instructions),
        outputs=tuple(outputs),
    )


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


def test_global_registry_has_the_arithmetic_ops():
    for name, arity in [("add", 2), ("sub", 2), ("mul", 2), ("div", 2), ("neg", 1),
                        ("fma", 3), ("sqrt", 1), ("max", 2), ("min", 2)]:
        assert name in OPS
        assert OPS.get(name).arity == arity
    assert OPS.get("add").commutative and OPS.get("mul").commutative
    assert not OPS.get("sub").commutative and not OPS.get("div").commutative
    assert OPS.names() == sorted(OPS.names())


def test_registry_get_unknown_is_program_error():
    with pytest.raises(ProgramError, match="unknown op 'nope'"):
        OPS.get("nope")
    assert "nope" not in OPS


def test_registry_rejects_conflicting_redefinition_and_bad_names():
    reg = OpRegistry()
    op = Op("twice", 1, lambda a: 2 * a)
    assert reg.register(op) is op
    reg.register(op)  # the same definition again is fine
    with pytest.raises(ValueError, match="already registered"):
        reg.register(Op("twice", 1, lambda a: a + a))
    with pytest.raises(ValueError, match="not an identifier"):
        reg.register(Op("two words", 1, lambda a: a))
    with pytest.raises(ValueError, match="not an identifier"):
        reg.register(Op("1st", 1, lambda a: a))
    assert reg.names() == ["twice"]


def test_the_old_names_are_the_core_table():
    assert OpRegistry is OpTable and OPS is CORE_OPS
    assert "sigmoid" not in OPS and "log" not in OPS  # the spaces' ops stay in their tables


def test_derived_tables_each_define_an_op_their_own_way():
    plain = CORE_OPS.extended([Op("log", 1, np.log, source="xp.log({0})")])
    safe = CORE_OPS.extended([Op("log", 1, lambda a: np.log(np.abs(a) + 1e-8),
                                 source="xp.log(xp.abs({0}) + EPS)")])
    # a later definition replaces the base's in the derived table only
    one_more = plain.extended([Op("log", 1, np.log1p, source="xp.log1p({0})")])
    assert "log" not in CORE_OPS
    assert plain.get("log").numpy_impl is np.log and one_more.get("log").numpy_impl is np.log1p
    assert one_more.get("add") is CORE_OPS.get("add") and len(one_more) == len(CORE_OPS) + 1
    x = np.array([-0.5, 0.5, 3.0])
    results = {}
    for name, table in (("plain", plain), ("safe", safe), ("one_more", one_more)):
        signature = Signature(inputs=("x",), outputs=("f",), registry=table)
        p = parse("f = log(x) * 2", signature)
        validate(p, table)
        with np.errstate(invalid="ignore"):
            results[name] = run_numpy(p, {"x": x}, table)["f"]
    assert np.isnan(results["plain"][0]) and np.isfinite(results["safe"]).all()
    np.testing.assert_allclose(results["one_more"], 2 * np.log1p(x))
    with pytest.raises(ProgramError, match="unknown op 'log'"):
        validate(p, CORE_OPS)


def test_shared_tables_are_frozen_and_one_table_defines_a_name_once():
    for table in (CORE_OPS, CORE_OPS.extended([])):
        with pytest.raises(TypeError, match="frozen"):
            table.register(Op("twice", 1, lambda a: 2 * a))
    with pytest.raises(ValueError, match="already registered"):
        CORE_OPS.extended([Op("twice", 1, lambda a: 2 * a), Op("twice", 1, lambda a: a + a)])
    with pytest.raises(ValueError, match="not an identifier"):
        OpTable([Op("two words", 1, lambda a: a)])
    assert OpTable([Op("twice", 1, np.negative)]).names() == ["twice"]
    assert [op.name for op in CORE_OPS.ops()] == CORE_OPS.names()


def test_source_templates_per_flavor_and_named_fields():
    op = Op("sigmoid", 1, np.tanh, source="1.0 / (1.0 + xp.exp(-{0}))",
            sources={"jax": "jax.nn.sigmoid({0})"})
    assert op.code("python", ["x"]) == "1.0 / (1.0 + xp.exp(-x))"
    assert op.code("jax", ["x"]) == "jax.nn.sigmoid(x)"
    assert op.placeholders("python") == set()
    batch = Op("batch_mean", 1, np.mean, source="_batch({0}, params[{key!r}])")
    assert batch.placeholders("jax") == {"key"}
    assert batch.code("jax", ["s1"], key="s2_mean") == "_batch(s1, params['s2_mean'])"
    # fma rounds once: the numpy export calls the exported `_fma` (automl/fma.py), never
    # a * b + c, which rounds twice
    assert CORE_OPS.get("fma").code("python", ["a", "(-1.5)", "c"]) == "_fma(a, (-1.5), c)"
    with pytest.raises(ValueError, match="'cube' has no source template"):
        Op("cube", 1, lambda a: a ** 3).code("python", ["x"])


def test_test_local_registry_does_not_leak_into_global():
    assert "interp" in REG and "sign" in REG
    local = optimizer_registry()
    local.register(Op("only_in_this_test", 1, np.negative))
    assert "only_in_this_test" in local and "only_in_this_test" not in OPS


def test_error_class_hierarchy():
    assert issubclass(ProgramError, ValueError)


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def test_base_name_strips_version():
    assert base_name("m'2") == "m"
    assert base_name("m") == "m"
    assert base_name("t12'1") == "t12"


def test_parameter_sort_key_is_natural_order():
    names = ["c10", "c2", "c0", "c1", "b3"]
    assert sorted(names, key=parameter_sort_key) == ["b3", "c0", "c1", "c2", "c10"]


def test_signature_helpers():
    assert NUMERICS.is_parameter("c0") and NUMERICS.is_parameter("c17")
    assert not NUMERICS.is_parameter("c") and not NUMERICS.is_parameter("xc0")
    assert not NUMERICS.is_parameter("c0x")
    assert not Signature(inputs=("x",), outputs=("f",)).is_parameter("c0")
    restricted = Signature(inputs=("x",), outputs=("f",), ops=("add",))
    assert restricted.op_allowed("add") and not restricted.op_allowed("mul")
    assert not restricted.op_allowed("interp")
    assert OPTIMIZER.op_allowed("interp")


def test_uses_counts_reads_by_instructions_and_outputs():
    p = program([("t", "mul", ("x", "x")), ("f", "add", ("t", "x"))],
                outputs=(("f", "f"), ("g", "t")))
    assert uses(p) == {"x": 3, "t": 2, "f": 1}


def test_definition_index_and_len():
    p = program([("t", "mul", ("x", "c0")), ("f", "add", ("t", 1.0))], parameters=("c0",))
    assert len(p) == 2
    assert p.definition_index() == {"x": -1, "c0": -1, "t": 0, "f": 1}
    assert p.output_names == ("f",) and p.output_registers == ("f",)


def test_program_equality_ignores_cached_index():
    p = program([("f", "mul", ("x", 2.0))])
    q = program([("f", "mul", ("x", 2.0))])
    p.definition_index()
    assert p == q and hash(p) == hash(q)
    assert p.replace(outputs=(("f", "x"),)) != p


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


def test_validate_accepts_a_good_program():
    p = program([("t", "mul", ("c0", "x")), ("f", "add", ("t", 0.5))], parameters=("c0",))
    validate(p)
    validate(p, allowed_ops=("mul", "add"))


def test_validate_unknown_op():
    with pytest.raises(ProgramError, match="unknown op 'frobnicate'"):
        validate(program([("f", "frobnicate", ("x",))]))


def test_validate_op_outside_allowed_set():
    p = program([("f", "sqrt", ("x",))])
    with pytest.raises(ProgramError, match="statement 1: op 'sqrt' is not in this space"):
        validate(p, allowed_ops=("add", "mul"))


@pytest.mark.parametrize("args", [("x",), ("x", "x", "x"), ()])
def test_validate_wrong_arity(args):
    with pytest.raises(ProgramError, match=rf"statement 1: add takes 2 argument\(s\), got "
                                           rf"{len(args)}"):
        validate(program([("f", "add", args)]))


def test_validate_undefined_name():
    with pytest.raises(ProgramError, match="statement 2: 'y' is not defined"):
        validate(program([("t", "mul", ("x", "x")), ("f", "add", ("t", "y"))]))


def test_validate_undefined_versioned_register_names_base():
    with pytest.raises(ProgramError, match="'m' is not defined"):
        validate(program([("f", "add", ("x", "m'3"))]))


def test_validate_forward_reference_is_undefined():
    with pytest.raises(ProgramError, match="statement 1: 't' is not defined"):
        validate(program([("f", "add", ("x", "t")), ("t", "mul", ("x", "x"))]))


def test_validate_self_reference_is_undefined():
    with pytest.raises(ProgramError, match="statement 1: 'f' is not defined"):
        validate(program([("f", "add", ("x", "f"))]))


def test_validate_duplicate_register():
    with pytest.raises(ProgramError, match="statement 2: register 't' assigned twice"):
        validate(program([("t", "mul", ("x", "x")), ("t", "add", ("x", 1.0)),
                          ("f", "add", ("t", "t"))]))


def test_validate_register_shadowing_input_or_parameter():
    with pytest.raises(ProgramError, match="register 'x' assigned twice"):
        validate(program([("x", "mul", ("x", 2.0))], outputs=(("f", "x"),)))
    with pytest.raises(ProgramError, match="register 'c0' assigned twice"):
        validate(program([("c0", "mul", ("x", 2.0))], outputs=(("f", "c0"),),
                         parameters=("c0",)))


def test_validate_missing_output():
    with pytest.raises(ProgramError, match="output 'f' is never assigned"):
        validate(program([("t", "mul", ("x", "x"))], outputs=(("f", "f"),)))


def test_validate_output_named_twice():
    with pytest.raises(ProgramError, match="output is named twice"):
        validate(program([("f", "mul", ("x", "x"))], outputs=(("f", "f"), ("f", "x"))))


def test_validate_inputs_and_parameters_distinct():
    with pytest.raises(ProgramError, match="distinct names"):
        validate(program([("f", "mul", ("x", "x"))], parameters=("x",)))


def test_validate_rejects_non_float_argument():
    with pytest.raises(ProgramError, match="is not a name or a number"):
        validate(program([("f", "mul", ("x", 2))]))


def test_output_that_is_an_input_passes_through():
    p = program([("update", "mul", ("lr", "g"))], inputs=("w", "g", "m", "v", "lr"),
                outputs=(("update", "update"), ("m", "m"), ("v", "v")))
    validate(p)
    rng = np.random.default_rng(0)
    values = {name: rng.normal(size=5) for name in p.inputs}
    out = run_numpy(p, values)
    assert list(out) == ["update", "m", "v"]
    np.testing.assert_array_equal(out["m"], values["m"])
    np.testing.assert_array_equal(out["v"], values["v"])
    np.testing.assert_array_equal(out["update"], values["lr"] * values["g"])


def test_parsed_pass_through_output_is_the_input_register():
    p = parse("update = lr * g", OPTIMIZER)
    validate(p, REG)
    assert dict(p.outputs)["m"] == "m" and dict(p.outputs)["v"] == "v"


# --------------------------------------------------------------------------------------------
# run_numpy
# --------------------------------------------------------------------------------------------


def test_run_numpy_matches_numpy():
    p = program([("t", "fma", ("x", "c0", 1.5)), ("u", "sqrt", ("t",)),
                 ("f", "max", ("u", "x"))], parameters=("c0",),
                outputs=(("f", "f"), ("g", "t")))
    x = np.linspace(0.1, 3.0, 11)
    out = run_numpy(p, {"x": x, "c0": 0.7})
    t = fma(x, 0.7, 1.5)  # one rounding, not x * 0.7 + 1.5
    np.testing.assert_array_equal(out["g"], t)
    np.testing.assert_array_equal(out["f"], np.maximum(np.sqrt(t), x))


def test_run_numpy_uses_given_registry():
    local = optimizer_registry()
    local.register(Op("lerp_only_here", 3, lambda x, y, a: (1 - a) * x + a * y))
    p = program([("f", "lerp_only_here", ("x", "y", 0.25))], inputs=("x", "y"))
    with pytest.raises(ProgramError):
        run_numpy(p, {"x": 1.0, "y": 2.0})
    out = run_numpy(p, {"x": np.array([1.0, 4.0]), "y": np.array([3.0, 0.0])}, local)
    np.testing.assert_allclose(out["f"], [1.5, 3.0])


# --------------------------------------------------------------------------------------------
# cost
# --------------------------------------------------------------------------------------------


def test_cost_counts_only_ops_depending_on_inputs():
    p = parse("t = 2 * 3\nu = c0 * c1\ns = sqrt(u)\nf = x * t + s", NUMERICS)
    # t, u, s depend on constants only; `x * t` and `... + s` depend on x
    assert cost(p, ("x",)) == 2.0
    assert cost(p, ("c0",)) == 3.0  # u, s, and the final add
    assert cost(p, ("x", "c0")) == 4.0
    assert cost(p, ()) == 0.0


def test_cost_follows_dependencies_transitively():
    p = parse("a = x + 1\nb = a * 2\nk = 3 * 4\nf = b - k", NUMERICS)
    assert cost(p, ("x",)) == 3.0


def test_cost_uses_registry_costs():
    reg = OpRegistry()
    reg.register(Op("cheap", 2, np.add, cost=0.5))
    reg.register(Op("dear", 1, np.exp, cost=7.0))
    p = program([("k", "dear", (1.0,)), ("t", "cheap", ("x", "k")), ("f", "dear", ("t",))])
    assert cost(p, ("x",), reg) == 7.5


def test_cost_of_pass_through_is_zero():
    p = parse("update = m", OPTIMIZER)
    assert cost(p, OPTIMIZER.inputs, REG) == 0.0


# --------------------------------------------------------------------------------------------
# canonical_names
# --------------------------------------------------------------------------------------------


def test_canonical_names_reuses_base_name_for_reassignment():
    p = program([("m1", "mul", ("m", 0.9)), ("f", "add", ("m1", "x"))],
                inputs=("x", "m"), outputs=(("f", "f"), ("m", "m1")))
    c = canonical_names(p)
    validate(c)
    # m is not read after its reassignment, so the new value is a version of `m`
    assert c.instructions[0].register == "m'1"
    assert dict(c.outputs)["m"] == "m'1"


def test_canonical_names_keeps_parameters_unshadowed():
    p = program([("c0'1", "mul", ("c0", 2.0)), ("f", "add", ("c0'1", "x"))],
                parameters=("c0",))
    c = canonical_names(p)
    validate(c)
    assert all(base_name(ins.register) != "c0" for ins in c.instructions)


def test_canonical_names_preserves_function():
    p = program([("a", "mul", ("x", 3.0)), ("b", "add", ("a", 1.0)), ("f", "div", ("b", "a"))])
    c = canonical_names(p)
    x = np.linspace(1, 2, 7)
    np.testing.assert_array_equal(run_numpy(p, {"x": x})["f"], run_numpy(c, {"x": x})["f"])


def test_canonical_names_idempotent_on_parsed_programs():
    for text in [ADAM, "update = sign(m)\nm = interp(m, g, 0.9)\nv = v * 2",
                 "t = m * 2\nm = t + g\nupdate = m - t"]:
        p = parse(text, OPTIMIZER)
        assert canonical_names(p) == p


def test_canonical_names_idempotent_when_output_register_has_fresh_name():
    """BUG (automl/ir.py canonical_names): not idempotent.

    A register already given a fresh base name (``v1``, because output ``v`` cannot shadow the
    input ``v`` that is still read later) is renamed again to ``v2``, since ``_fresh_base``
    counts the register's own base ``v1`` as taken. Running it again gives ``v1``, and so on.
    """
    p = program([("v1", "sqrt", ("v",)), ("f", "add", ("v", 1.0))], inputs=("v",),
                outputs=(("v", "v1"), ("f", "f")))
    once = canonical_names(p)
    assert canonical_names(once) == once


@HYPOTHESIS
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=15))
def test_canonical_names_idempotent_on_mutated_numerics_programs(seeds):
    p = mutated(parse("f = c0 * x + c1", NUMERICS), NUMERICS,
                MutationSettings(ops=("add", "sub", "mul", "div"), parameter_stem="c"), seeds)
    validate(p)
    assert canonical_names(p) == p


@HYPOTHESIS
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=15))
def test_canonical_names_idempotent_on_mutated_optimizer_programs(seeds):
    """Fails with the canonical_names bug above (outputs named like inputs)."""
    p = mutated(parse(ADAM, OPTIMIZER), OPTIMIZER, OPTIMIZER_MUTATIONS, seeds)
    validate(p, REG)
    assert canonical_names(p) == p
