"""Exported approximations (`AutoNumericsSpace.export`): standalone modules defining ``f(x)``
that compute exactly what the stored program computes, with its fitted constants inlined."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from automl.hashing import functional_hash, hash_program
from automl.ir import (
    OPS,
    Instruction,
    Op,
    OpRegistry,
    Program,
    Signature,
    cost,
    parameter_sort_key,
    run_numpy,
)
from automl.plugins import get_space
from search_spaces.autonumerics import targets
from search_spaces.autonumerics.space import constant_probe_value
from tests.standalone import imported_packages, load_standalone

ALL_OPS = ["add", "sub", "mul", "div", "fma", "sqrt"]
BASELINES = ("taylor_3", "minimax_4", "horner_fitted_3", "taylor_6")


def load_module(source: str, tmp_path, name: str, allowed: set[str]):
    """The exported module, which must import exactly `allowed`."""
    assert imported_packages(source) == allowed
    return load_standalone(source, tmp_path, name, allowed)


def probe_constants(program: Program) -> dict[str, float]:
    """The values `fingerprint` gives the fitted constants: exporting with them must hash alike."""
    return {name: constant_probe_value(parameter_sort_key(name)[1])
            for name in program.parameters}


def programs(space) -> list[Program]:
    """Baselines (literal and fitted coefficients), every op on x, and random mutants that
    depend on x."""
    found = [space.parse(space.baselines()[name]) for name in BASELINES]
    found.append(space.parse("f = sqrt(x - c0) * c1 + fma(x, -0.5, x / c2) - -0.0\n"))
    rng = np.random.default_rng(11)
    program = space.random(rng)
    while len(found) < len(BASELINES) + 11:
        program = space.simplify(space.mutate(program, rng)[0])[0]
        if cost(program, ("x",)) > 0 and program not in found:
            found.append(program)
    return found


@pytest.fixture(params=["exp2", "log"])
def space(request):
    return get_space("autonumerics", {"target": request.param, "ops": ALL_OPS})


@pytest.fixture
def float64():
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", False)


@pytest.mark.slow
def test_numpy_export_is_exact_and_hashes_like_the_program(space, tmp_path):
    x = targets.validation_points(space.target, 2000)
    for index, program in enumerate(programs(space)):
        constants = probe_constants(program)
        source = space.export(program, "python", {"constants": constants})
        assert space.format(program).splitlines()[0] in source  # the DSL is in the header
        module = load_module(source, tmp_path, f"exported_{index}", {"numpy"})
        expected = run_numpy(program, {"x": x, **constants})["f"]
        with np.errstate(all="ignore"):
            got = module.f(x)
            assert got.dtype == np.float64
            np.testing.assert_array_equal(got, expected, err_msg=source)  # 0 ulp, NaN alike
            # scalars and lists work elementwise too
            assert np.array_equal(module.f(float(x[7])), expected[7], equal_nan=True)
            np.testing.assert_array_equal(module.f(list(x[:5])), expected[:5])
        exported = functional_hash(lambda x, module=module, **_: module.f(x),
                                   space.probes_for(program), space.settings.mantissa_bits)
        assert exported == space.fingerprint(program), source


def test_fitted_constants_are_inlined(tmp_path):
    """Without `constants` the program is fitted, as its evaluation fits it, and the fitted
    values are inlined exactly (repr round-trips)."""
    space = get_space("autonumerics", {"target": "exp2"})
    program = space.parse(space.baselines()["horner_fitted_4"])
    fitted = space.evaluate_one(program)[1]["constants"]
    source = space.export(program, "python")
    for value in fitted.values():
        assert repr(value) in source
    module = load_module(source, tmp_path, "fitted", {"numpy"})
    x = targets.validation_points(space.target, 2000)
    np.testing.assert_array_equal(module.f(x), run_numpy(program, {"x": x, **fitted})["f"])
    probe = {**space.probe()[0], **fitted}
    assert functional_hash(lambda x, **_: module.f(x), probe) == hash_program(program, probe)
    # the fitted approximation is good: error near the degree-4 minimax error of 2^x
    error = targets.relative_error(module.f(x), targets.ground_truth(space.target, x))
    assert np.max(error) < 1e-5


def test_constant_statements_fold_and_constant_outputs_broadcast(tmp_path):
    space = get_space("autonumerics", {"ops": ALL_OPS})
    program = space.parse("t = sqrt(c0 - 3.0)\nf = fma(x, t, -1.5 / c1)\n")
    source = space.export(program, "python", {"constants": {"c0": 7.0, "c1": 0.5}})
    assert "c0" not in source.split('"""')[-1]  # 7.0 - 3.0 and -1.5 / 0.5 are folded
    module = load_module(source, tmp_path, "folded", {"numpy"})
    np.testing.assert_array_equal(module.f(np.array([0.0, 1.0])), [-3.0, -1.0])
    constant = space.parse("f = c0 * 2.0\n")
    source = space.export(constant, "python", {"constants": {"c0": -0.25}})
    np.testing.assert_array_equal(load_module(source, tmp_path, "constant", {"numpy"}).f(
        np.zeros(3)), [-0.5] * 3)


@pytest.mark.slow
def test_jax_export_matches_in_float64(space, tmp_path, float64):
    x = targets.validation_points(space.target, 2000)
    for index, program in enumerate(programs(space)):
        constants = probe_constants(program)
        source = space.export(program, "jax", {"constants": constants})
        module = load_module(source, tmp_path, f"exported_jax_{index}", {"jax"})
        expected = run_numpy(program, {"x": x, **constants})["f"]
        got = np.asarray(module.f(x))
        assert got.dtype == np.float64
        with np.errstate(all="ignore"):
            # XLA's CPU division is not always correctly rounded (1-2 ulp off), so not 0 ulp
            np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
            # under jit XLA also rewrites x / c as x * (1 / c) and reassociates sums: allow a
            # few ulps of these order-one values
            np.testing.assert_allclose(np.asarray(jax.jit(module.f)(x)), expected, rtol=1e-15,
                                       atol=1e-14)


@pytest.mark.slow
def test_jax_export_runs_in_float32_by_default(tmp_path):
    space = get_space("autonumerics", {"target": "exp2"})
    program = space.parse(space.baselines()["minimax_5"])
    module = load_module(space.export(program, "jax"), tmp_path, "exported_f32", {"jax"})
    x = targets.validation_points(space.target, 500)
    got = module.f(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.asarray(got), run_numpy(program, {"x": x})["f"], rtol=1e-6)


def test_unknown_flavor_and_unexportable_ops_are_errors():
    space = get_space("autonumerics", {"target": "exp2"})
    program = space.parse(space.baselines()["horner_fitted_3"])
    with pytest.raises(ValueError, match="allowed: python, jax"):
        space.export(program, "dsl")
    with pytest.raises(ValueError, match="c3"):
        space.export(program, "python", {"constants": {"c0": 1.0, "c1": 1.0, "c2": 1.0}})
    # an op with no source template (here: a registry of its own) is refused, not guessed
    registry = OpRegistry()
    for name in ("add", "mul"):
        registry.register(OPS.get(name))
    registry.register(Op("cube", 1, lambda a: a ** 3))
    space.__dict__["signature"] = Signature(("x",), ("f",), registry=registry)
    cube = Program(("x",), (), (Instruction("f", "cube", ("x",)),), (("f", "f"),))
    with pytest.raises(ValueError, match="'cube' has no source template"):
        space.export(cube, "python")


def test_a_float32_evaluation_exports_the_constants_its_ulps_were_measured_with(tmp_path):
    """The jax module (float32) of a float32-mode evaluation inlines its refined
    `float32_constants` and reproduces its max ULP error; the numpy module (float64) inlines
    the float64 fit; a zoo entry carries both, and `exported_constants` reads them back."""
    from automl import zoo
    from search_spaces.autonumerics import float32
    from search_spaces.autonumerics.space import exported_constants

    space = get_space("autonumerics", {"target": "exp2", "precision": "float32",
                                       "float32_check_points": 1024, "timing_repeats": 3,
                                       "float32_refine_rounds": 20})
    program = space.parse(space.baselines()["horner_fitted_4"])
    objectives, metrics = space.evaluate_one(program)
    assert metrics["float32_constants"] != metrics["constants"]
    module = load_module(space.export(program, "jax", metrics), tmp_path, "f32", {"jax"})
    x, exact = space.float32_checks
    got = np.asarray(jax.jit(module.f)(x))  # measured jitted, as XLA fuses it
    assert got.dtype == np.float32
    assert np.max(float32.ulp_errors(got, exact)) == pytest.approx(objectives["max_ulp_error"])
    numpy_source = space.export(program, "python", metrics)
    assert all(repr(value) in numpy_source for value in metrics["constants"].values())
    path = tmp_path / "entry.dsl"
    path.write_text(zoo.entry_text("autonumerics", space.settings.model_dump(mode="json"),
                                   objectives, space.format(program), metrics["constants"],
                                   float32_constants=metrics["float32_constants"]))
    stored = zoo.read_entry(path).metrics
    assert exported_constants(stored) == metrics["float32_constants"]
    assert exported_constants(stored, "python") == metrics["constants"]


def test_each_statement_is_its_op_template_in_the_space_table(tmp_path):
    """The module writes each op as the space's op table says, per flavour: a table whose mul
    is another template exports that template (and the module still computes the program)."""
    import dataclasses

    space = get_space("autonumerics", {"target": "exp2"})
    program = space.parse(space.baselines()["taylor_3"])
    assert "xp.multiply" not in space.export(program, "python")
    mul = space.signature.registry.get("mul")
    table = space.signature.registry.extended([dataclasses.replace(
        mul, source="xp.multiply({0}, {1})", sources={"jax": "xp.multiply({1}, {0})"})])
    space.__dict__["signature"] = dataclasses.replace(space.signature, registry=table)
    source = space.export(program, "python")
    assert "r0 = xp.multiply(x, 0.05550410866482158)" in source
    assert "r0 = xp.multiply(0.05550410866482158, x)" in space.export(program, "jax")
    x = np.linspace(0.0, 1.0, 33)
    module = load_module(source, tmp_path, "multiply", {"numpy"})
    np.testing.assert_array_equal(module.f(x), run_numpy(program, {"x": x}, table)["f"])


def test_the_numpy_export_rounds_fma_once(tmp_path):
    """``fma`` exports as ``_fma``, the code of `automl.fma` copied into the module (numpy
    only): the module computes the correctly rounded a * b + c where a * b + c in numpy, two
    roundings, is off (checked against exact rational arithmetic), as the space does."""
    from tests.test_fma import exact_fma, near_ties

    space = get_space("autonumerics", {"ops": ALL_OPS})
    program = space.parse("t = fma(x, c0, c1)\nf = fma(x, x, t)\n")
    source = space.export(program, "python", {"constants": {"c0": -1.0, "c1": 0.0}})
    assert "_fma(x, x, r0)" in source and "automl" not in source.split('"""')[-1]
    module = load_module(source, tmp_path, "fma_once", {"numpy"})
    x = np.array([1.0 + 2.0**-30, 1.0 + 2.0**-27, 0.75, 1.0 + 2.0**-52])
    # x * x - x: its fma is exact (x^2 - x fits in 53 bits), numpy's two roundings are not
    expected = [exact_fma(v, v, -v) for v in x]
    np.testing.assert_array_equal(module.f(x), expected)
    assert not np.array_equal(x * x + -x, expected)
    evaluated = run_numpy(program, {"x": x, "c0": -1.0, "c1": 0.0}, space.signature.registry)
    np.testing.assert_array_equal(module.f(x), evaluated["f"])
    a, b, c = near_ties(np.random.default_rng(3), 500)
    helper = module._fma(a, b, c)
    assert all(helper[i] == exact_fma(a[i], b[i], c[i]) for i in range(a.size))
