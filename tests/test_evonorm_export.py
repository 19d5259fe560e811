"""EvoNorm export: the standalone numpy module equals run_layer_numpy (training mode, with the
affine) and hashes like the program; the jax module equals the numpy one in training and, after
update_moving, inference mode; S0 is per sample; unknown flavors are refused."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from automl.hashing import functional_hash
from search_spaces.evonorm.ops import run_layer_numpy
from search_spaces.evonorm.space import EvoNormSpace
from tests.standalone import load_standalone

SHAPE = (4, 3, 5, 48)  # 12 groups of 4 channels
_counter = itertools.count()


@pytest.fixture(scope="module")
def space() -> EvoNormSpace:
    return EvoNormSpace()


def layers(space):
    named = {name: space.parse(text) for name, text in space.baselines().items()}
    rng = np.random.default_rng(7)
    for i in range(5):
        named[f"random{i}"] = space.simplify(space.random(rng))[0]
    return named


def load(space, program, flavor, directory):
    allowed = {"numpy"} if flavor == "python" else {"jax"}
    source = space.export(program, flavor)
    return load_standalone(source, directory, f"evonorm_{flavor}_{next(_counter)}", allowed)


def random_params(module, channels, rng):
    params = {key: np.asarray(value, np.float64) for key, value in module.init(channels).items()}
    params["v0"] = rng.normal(0.0, 0.5, channels)
    params["v1"] = rng.uniform(0.5, 1.5, channels)
    params["gamma"] = rng.uniform(0.5, 1.5, channels)
    params["beta"] = rng.normal(0.0, 0.5, channels)
    return params


def random_x(rng, shape=SHAPE):
    c = shape[-1]
    return rng.normal(size=shape) * rng.uniform(0.5, 2.0, c) + rng.normal(0.0, 1.0, c)


def test_numpy_export_equals_run_layer_numpy_and_hashes_like_the_program(space, tmp_path):
    rng = np.random.default_rng(0)
    for name, program in layers(space).items():
        module = load(space, program, "python", tmp_path)
        params = random_params(module, SHAPE[-1], rng)
        x = random_x(rng)
        values = {"x": x, "zero": np.zeros(SHAPE),
                  **{v: np.broadcast_to(params[v], SHAPE).copy() for v in ("v0", "v1")}}
        with np.errstate(all="ignore"):
            expected = params["gamma"] * run_layer_numpy(program, values)["y"] + params["beta"]
            actual = module.apply(params, x, True)
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10, err_msg=name)

        def exported(x, zero, v0, v1, module=module):
            probe_params = dict(module.init(x.shape[-1]), v0=v0[0, 0, 0], v1=v1[0, 0, 0])
            return module.apply(probe_params, x, True)

        assert (functional_hash(exported, space._probes, space.settings.mantissa_bits)
                == space.fingerprint(program)), name


@pytest.mark.slow
def test_jax_export_equals_numpy_export_in_training_and_inference(space, tmp_path):
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    for name, program in layers(space).items():
        numpy_module = load(space, program, "python", tmp_path)
        jax_module = load(space, program, "jax", tmp_path)
        params = random_params(numpy_module, SHAPE[-1], rng)
        jax_params = {key: jnp.asarray(value, jnp.float32) for key, value in params.items()}
        assert set(jax_module.init(SHAPE[-1])) == set(params)
        x, batch = random_x(rng), random_x(rng)
        params = numpy_module.update_moving(params, batch)
        jax_params = jax_module.update_moving(jax_params, jnp.asarray(batch, jnp.float32))
        for key in params:
            np.testing.assert_allclose(jax_params[key], params[key], rtol=1e-4, atol=1e-4,
                                       err_msg=f"{name}: {key}")
        for training in (True, False):
            with np.errstate(all="ignore"):
                expected = numpy_module.apply(params, x, training)
            actual = np.asarray(jax_module.apply(jax_params, jnp.asarray(x, jnp.float32),
                                                 training))
            finite = np.isfinite(expected) & (np.abs(expected) < 1e4)
            np.testing.assert_allclose(actual[finite], expected[finite], rtol=1e-4, atol=1e-4,
                                       err_msg=f"{name}, training={training}")


def test_moving_statistics_follow_the_interpreter(space, tmp_path):
    program = space.parse(space.baselines()["evonorm_b0"])
    module = load(space, program, "python", tmp_path)
    params = module.init(SHAPE[-1])
    assert sorted(params) == ["beta", "gamma", "s1_moving_var", "v0", "v1"]
    x = random_x(np.random.default_rng(2))
    updated = module.update_moving(params, x, momentum=0.9)
    np.testing.assert_allclose(updated["s1_moving_var"], 0.9 + 0.1 * x.var(axis=(0, 1, 2)))
    # apply leaves params alone; inference uses sqrt(moving_var + eps)
    module.apply(updated, x, True)
    y = module.apply(updated, x, False)
    expected = x / np.maximum(np.sqrt(updated["s1_moving_var"] + 1e-5),
                              x + module.instance_std(x))
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_s0_export_is_per_sample(space, tmp_path):
    module = load(space, space.parse(space.baselines()["evonorm_s0"]), "python", tmp_path)
    rng = np.random.default_rng(3)
    params = random_params(module, SHAPE[-1], rng)
    x, other = random_x(rng), random_x(rng)
    batch = np.concatenate([x[:1], other[1:]])
    for training in (True, False):
        np.testing.assert_array_equal(module.apply(params, x, training)[0],
                                      module.apply(params, batch, training)[0])


def test_unknown_flavor_is_refused(space):
    with pytest.raises(ValueError, match="allowed: python, jax"):
        space.export(space.parse(space.baselines()["evonorm_s0"]), "torch")


def test_each_statement_is_its_op_template_in_the_space_table(tmp_path):
    """Statements are the space's op table's templates, per flavour (sigmoid: jax.nn.sigmoid in
    jax); a table with other templates exports those, batch aggregates naming their moving
    statistic by template field; a field the exporter does not know is refused."""
    import dataclasses

    space = EvoNormSpace()
    layer = space.parse("y = sigmoid(batch_std(x)) * x")
    assert "s2 = jax.nn.sigmoid(s1)" in space.export(layer, "jax")
    assert "s2 = 1.0 / (1.0 + xp.exp(-s1))" in space.export(layer, "python")
    table = space.signature.registry
    sigmoid, batch_std = table.get("sigmoid"), table.get("batch_std")
    other = table.extended([
        dataclasses.replace(sigmoid, source="0.5 + 0.5 * xp.tanh(0.5 * {0})"),
        dataclasses.replace(batch_std, source="_batch({0}, 'std', params[{var_key!r}], "
                                              "training, observed, {var_key!r}) * 1.0")])
    space.__dict__["signature"] = dataclasses.replace(space.signature, registry=other)
    source = space.export(layer, "python")
    assert "s2 = 0.5 + 0.5 * xp.tanh(0.5 * s1)" in source
    assert "s2 = jax.nn.sigmoid(s1)" in space.export(layer, "jax")  # its jax template stays
    assert ("s1 = _batch(x, 'std', params['s1_moving_var'], training, observed, "
            "'s1_moving_var') * 1.0") in source
    module = load_standalone(source, tmp_path, "evonorm_other_templates", {"numpy"})
    rng = np.random.default_rng(4)
    params, x = random_params(module, SHAPE[-1], rng), random_x(rng)
    expected = run_layer_numpy(layer, {"x": x, "zero": np.zeros(SHAPE),
                                       "v0": np.broadcast_to(params["v0"], SHAPE),
                                       "v1": np.broadcast_to(params["v1"], SHAPE)})["y"]
    np.testing.assert_allclose(module.apply(params, x, True),
                               params["gamma"] * expected + params["beta"], rtol=1e-12)
    unknown = table.extended([dataclasses.replace(sigmoid, source="sigmoid({0}, {scale})")])
    space.__dict__["signature"] = dataclasses.replace(space.signature, registry=unknown)
    with pytest.raises(ValueError, match="unknown template field"):
        space.export(layer, "python")
