"""EvoNorm space: the baselines in the DSL equal hand-written JAX layers, batch dependence of
B0 vs per-sample S0, numpy ops equal JAX ops, the interpreter equals run_numpy, the functional
hash, mutations within the node limit, and (when the training code is there) evaluation."""

from __future__ import annotations

import importlib.util
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from program_fixtures import EVONORM_TRAINING

from automl import dsl
from automl.ir import ProgramError, validate
from search_spaces.evonorm import interpreter
from search_spaces.evonorm.ops import (
    AGGREGATES,
    EPS,
    EVONORM_OPS,
    EVONORM_TABLE,
    TEXT_OPS,
    group_count,
    jax_functions,
    numpy_function,
    run_layer_numpy,
)
from search_spaces.evonorm.space import BASELINES, BATCH_SIZES, EvoNormSpace

SHAPES = [(4, 5, 5, 64), (3, 3, 4, 48)]  # 16 groups of 4 channels; 12 groups of 4


@pytest.fixture(scope="module")
def space() -> EvoNormSpace:
    return EvoNormSpace()


@pytest.fixture(scope="module")
def layer_fn():
    """apply, jitted once per (shape, training): the program is a traced argument."""
    return jax.jit(interpreter.apply, static_argnames=("training",))


@pytest.fixture
def float64():
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", False)


def random_layer_inputs(shape, seed=0):
    """x with per-channel offsets and scales, random layer params and moving statistics."""
    rng = np.random.default_rng(seed)
    c = shape[-1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 2.0, c) + rng.normal(0.0, 1.0, c)
    params = {"v0": rng.normal(0.0, 0.5, c), "v1": rng.uniform(0.5, 1.5, c),
              "gamma": rng.uniform(0.5, 1.5, c), "beta": rng.normal(0.0, 0.5, c)}
    state = {"moving_mean": rng.normal(0.0, 1.0, (interpreter.MAX_NODES, c)),
             "moving_var": rng.uniform(0.5, 2.0, (interpreter.MAX_NODES, c))}

    def as32(tree):
        return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), tree)

    return jnp.asarray(x, jnp.float32), as32(params), as32(state)


# -- hand-written layers (jnp, independent of ops.py) -----------------------------------------
def batch_moments(x):
    return jnp.mean(x, axis=(0, 1, 2)), jnp.var(x, axis=(0, 1, 2))


def instance_std(x):
    return jnp.sqrt(jnp.var(x, axis=(1, 2), keepdims=True) + EPS)


def group_moments(x, groups):
    n, h, w, c = x.shape
    grouped = x.reshape(n, h, w, groups, c // groups)
    mean = jnp.broadcast_to(jnp.mean(grouped, axis=(1, 2, 4), keepdims=True), grouped.shape)
    var = jnp.broadcast_to(jnp.var(grouped, axis=(1, 2, 4), keepdims=True), grouped.shape)
    return mean.reshape(x.shape), var.reshape(x.shape)


def relu_normalized(x, mean, var, p):
    z = (x - mean) / jnp.sqrt(var + EPS) * p["v1"] + p["v0"]
    return p["gamma"] * jnp.maximum(z, 0.0) + p["beta"]


def reference_bn_relu(x, p, moving, training):
    """moving: (mean, var) of the batch_mean and batch_std statements; returns y, new."""
    mean, var = batch_moments(x) if training else moving
    new = (0.9 * moving[0] + 0.1 * mean, 0.9 * moving[1] + 0.1 * var) if training else moving
    return relu_normalized(x, mean, var, p), new


def reference_gn_relu(x, p, groups):
    return relu_normalized(x, *group_moments(x, groups), p)


def reference_in_relu(x, p):
    mean, var = jnp.mean(x, axis=(1, 2), keepdims=True), jnp.var(x, axis=(1, 2), keepdims=True)
    return relu_normalized(x, mean, var, p)


def reference_b0(x, p, moving_var, training):
    var = batch_moments(x)[1] if training else moving_var
    new = 0.9 * moving_var + 0.1 * var if training else moving_var
    denominator = jnp.maximum(jnp.sqrt(var + EPS), p["v1"] * x + instance_std(x))
    return p["gamma"] * (x / denominator) + p["beta"], new


def reference_s0(x, p, groups):
    group_std = jnp.sqrt(group_moments(x, groups)[1] + EPS)
    return p["gamma"] * (x * jax.nn.sigmoid(p["v1"] * x) / group_std) + p["beta"]


def statement_index(program, op):
    (index,) = [i for i, ins in enumerate(program.instructions) if ins.op == op]
    return index


# -- DSL ----------------------------------------------------------------------------------------
def test_baselines_round_trip_through_the_dsl(space):
    assert set(BASELINES) == {"bn_relu", "gn_relu", "in_relu", "evonorm_b0", "evonorm_s0"}
    for name, text in space.baselines().items():
        program = space.parse(text, name)
        validate(program, space.signature.registry, space.signature.ops)
        assert space.parse(space.format(program)) == program
        simplified = space.simplify(program)[0]
        assert space.parse(space.format(simplified)) == simplified
    s0 = space.parse(BASELINES["evonorm_s0"])
    assert [ins.op for ins in s0.instructions] == ["mul", "sigmoid", "mul", "group_std",
                                                   "clamped_div"]


def test_literals_and_unknown_ops_are_rejected_with_a_location(space):
    with pytest.raises(ProgramError, match="no constants"):
        space.parse("y = x * 0.5")
    with pytest.raises(ProgramError, match="1:5: unknown op 'layer_std'"):
        space.parse("y = layer_std(x)")
    with pytest.raises(interpreter.EncodingError, match="literal"):
        interpreter.encode([dsl.parse("y = x * 0.5", space.signature)])


# -- baselines == hand-written JAX -----------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_baselines_equal_hand_written_layers(space, layer_fn, shape, training):
    x, p, state = random_layer_inputs(shape, seed=shape[0])
    groups = group_count(shape[-1])
    programs = {name: space.parse(text) for name, text in BASELINES.items()}
    encoded = interpreter.encode(list(programs.values()))
    outputs = {name: layer_fn(encoded.layer(i), p, state, x, training=training)
               for i, name in enumerate(programs)}

    def check(name, expected):
        np.testing.assert_allclose(np.asarray(outputs[name][0]), np.asarray(expected),
                                   rtol=1e-5, atol=1e-5, err_msg=name)

    check("gn_relu", reference_gn_relu(x, p, groups))
    check("in_relu", reference_in_relu(x, p))
    check("evonorm_s0", reference_s0(x, p, groups))
    for name in ("gn_relu", "in_relu", "evonorm_s0"):  # no batch statistics: state unchanged
        np.testing.assert_array_equal(outputs[name][1]["moving_var"], state["moving_var"])

    bn = programs["bn_relu"]
    i_mean, i_std = statement_index(bn, "batch_mean"), statement_index(bn, "batch_std")
    moving = (state["moving_mean"][i_mean], state["moving_var"][i_std])
    expected, (new_mean, new_var) = reference_bn_relu(x, p, moving, training)
    check("bn_relu", expected)
    bn_state = outputs["bn_relu"][1]
    np.testing.assert_allclose(bn_state["moving_mean"][i_mean], new_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn_state["moving_var"][i_std], new_var, rtol=1e-5, atol=1e-6)
    untouched = np.array([i for i in range(interpreter.MAX_NODES) if i != i_mean])
    np.testing.assert_array_equal(bn_state["moving_mean"][untouched],
                                  state["moving_mean"][untouched])

    b0 = programs["evonorm_b0"]
    i_std = statement_index(b0, "batch_std")
    expected, new_var = reference_b0(x, p, state["moving_var"][i_std], training)
    check("evonorm_b0", expected)
    np.testing.assert_allclose(outputs["evonorm_b0"][1]["moving_var"][i_std], new_var,
                               rtol=1e-5, atol=1e-6)


def test_initial_layer_parameters_and_state():
    params, state = interpreter.init_layer(24)
    np.testing.assert_array_equal(params["v0"], np.zeros(24))
    np.testing.assert_array_equal(params["v1"], np.ones(24))
    np.testing.assert_array_equal(params["gamma"], np.ones(24))
    np.testing.assert_array_equal(params["beta"], np.zeros(24))
    assert state["moving_mean"].shape == state["moving_var"].shape == (interpreter.MAX_NODES, 24)
    np.testing.assert_array_equal(state["moving_var"], 1.0)
    assert interpreter.init_layer(8, max_nodes=5)[1]["moving_mean"].shape == (5, 8)


def test_s0_is_per_sample_and_b0_depends_on_the_batch_in_training(space, layer_fn):
    shape = SHAPES[0]
    x, p, state = random_layer_inputs(shape, seed=7)
    other = random_layer_inputs(shape, seed=8)[0].at[0].set(x[0])  # same first sample
    s0, b0 = (interpreter.encode([space.parse(BASELINES[name])]).layer(0)
              for name in ("evonorm_s0", "evonorm_b0"))

    def first_sample(program, batch, training):
        return np.asarray(layer_fn(program, p, state, batch, training=training)[0][0])

    np.testing.assert_allclose(first_sample(s0, x, True), first_sample(s0, other, True),
                               rtol=1e-6, atol=1e-6)
    assert not np.allclose(first_sample(b0, x, True), first_sample(b0, other, True),
                           rtol=1e-3, atol=1e-3)
    # at inference B0 uses the moving variance: per sample again
    np.testing.assert_allclose(first_sample(b0, x, False), first_sample(b0, other, False),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_a_traced_training_flag_equals_the_static_one(space, layer_fn):
    x, p, state = random_layer_inputs(SHAPES[1], seed=3)
    bn = interpreter.encode([space.parse(BASELINES["bn_relu"])]).layer(0)
    traced = jax.jit(interpreter.apply)
    for training in (True, False):
        expected = layer_fn(bn, p, state, x, training=training)
        got = traced(bn, p, state, x, jnp.asarray(training))
        for a, b in zip(jax.tree_util.tree_leaves(expected), jax.tree_util.tree_leaves(got),
                        strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_layers_are_twice_differentiable_through_the_interpreter(space):
    """The stability check takes Hessian-vector products through the layer."""
    x, p, state = random_layer_inputs((2, 3, 3, 8), seed=4)
    encoded = interpreter.encode([space.parse(text) for text in BASELINES.values()])

    def loss(params, program):
        return jnp.sum(jnp.square(interpreter.apply(program, params, state, x, True)[0]))

    def hvp(params, program):
        gradient = jax.grad(lambda params: loss(params, program))
        return jax.jvp(gradient, (params,), (gradient(params),))[1]

    results = jax.jit(lambda e: jax.lax.map(lambda program: hvp(p, program), e))(encoded)
    for leaf in jax.tree_util.tree_leaves(results):
        assert np.isfinite(np.asarray(leaf)).all()


# -- ops ----------------------------------------------------------------------------------------
def op_inputs(shape=(3, 4, 2, 10), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 2.0, shape)
    a.flat[:6] = [0.0, -0.0, 100.0, -100.0, 1e-7, -1e-7]  # zeros, exp clipping, tiny values
    b = rng.normal(0.0, 2.0, shape)
    b.flat[:6] = [0.0, 1e-7, -1e-7, 3.0, 0.0, -2e-6]  # zero / tiny denominators
    return a, b


@pytest.mark.slow
def test_numpy_ops_equal_jax_ops():
    a, b = op_inputs()
    jax_ops = jax_functions()
    for name in TEXT_OPS:
        arity = EVONORM_TABLE.get(name).arity
        args = (a, b)[:arity]
        expected = numpy_function(name)(*args)
        for implementation in (jax_ops[name], EVONORM_TABLE.get(name).jax_impl):
            got = np.asarray(implementation(*(jnp.asarray(v, jnp.float32) for v in args)))
            assert got.shape == a.shape, name
            np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-5, err_msg=name)
        assert np.isfinite(expected).all(), name


@pytest.mark.slow
def test_ops_are_safe_and_their_gradients_finite():
    a, b = op_inputs(seed=1)
    jax_ops = jax_functions()
    with np.errstate(all="raise"):
        assert numpy_function("clamped_div")(a, b).max() <= np.abs(a).max() / EPS
        assert numpy_function("clipped_exp")(np.array(1e4)) == math.exp(80.0)
    assert numpy_function("signed_log")(np.array(-(math.e - 1))) == pytest.approx(-1.0)
    assert numpy_function("signed_sqrt")(np.array(-4.0)) == -2.0
    for name in TEXT_OPS:
        arity = EVONORM_TABLE.get(name).arity
        args = tuple(jnp.asarray(v, jnp.float32) for v in (a, b)[:arity])
        gradients = jax.grad(lambda *v, name=name: jnp.sum(jax_ops[name](*v)),
                             argnums=tuple(range(arity)))(*args)
        for gradient in gradients:
            assert np.isfinite(np.asarray(gradient)).all(), name
    sigmoid_gradient = jax.grad(lambda v: jax_ops["sigmoid"](v))(jnp.float32(-200.0))
    assert np.isfinite(sigmoid_gradient)


def test_aggregates_keep_the_shape_and_use_the_documented_groups():
    assert [group_count(c) for c in (8, 16, 32, 48, 64, 72, 96, 40, 128, 256, 3)] == \
        [2, 4, 8, 12, 16, 18, 24, 10, 32, 32, 1]
    assert group_count(64, groups=1) == 1
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 64))
    for name in AGGREGATES:
        assert numpy_function(name)(x).shape == x.shape
    # 64 channels: group_mean averages each run of 4 channels; with one group, all of them
    quads = x.reshape(2, 3, 3, 16, 4).mean(axis=(1, 2, 4))
    np.testing.assert_allclose(numpy_function("group_mean")(x)[:, 0, 0, ::4], quads)
    np.testing.assert_allclose(numpy_function("group_mean", groups=1)(x)[:, 0, 0, 0],
                               x.mean(axis=(1, 2, 3)))


# -- interpreter == run_numpy -----------------------------------------------------------------
def random_layers(space, count, seed):
    rng = np.random.default_rng(seed)
    layers = []
    while len(layers) < count:
        program = space.random(rng)
        for _ in range(int(rng.integers(0, 12))):
            program, _ = space.mutate(program, rng)
        layers.append(program)
    return layers


@pytest.mark.slow
def test_interpreter_equals_run_numpy_on_random_layers(space, float64):
    layers = random_layers(space, 40, seed=5)
    assert max(len(layer) for layer in layers) > 6
    encoded = interpreter.encode(layers)
    shape = (3, 2, 3, 40)  # 10 groups of 4 channels
    x, p, state = random_layer_inputs(shape, seed=2)
    p = {k: jnp.asarray(v, jnp.float64) for k, v in p.items()}
    p["gamma"], p["beta"] = jnp.ones(shape[-1]), jnp.zeros(shape[-1])
    x = jnp.asarray(x, jnp.float64)
    run = jax.jit(lambda e: jax.lax.map(
        lambda program: interpreter.apply(program, p, state, x, True)[0], e))
    outputs = np.asarray(run(encoded))
    values = {"x": np.asarray(x), "zero": np.zeros(shape),
              "v0": np.broadcast_to(np.asarray(p["v0"]), shape),
              "v1": np.broadcast_to(np.asarray(p["v1"]), shape)}
    with np.errstate(all="ignore"):
        for layer, output in zip(layers, outputs, strict=True):
            expected = run_layer_numpy(layer, values)["y"]
            np.testing.assert_allclose(output, expected, rtol=1e-6, atol=1e-9, equal_nan=True,
                                       err_msg=space.format(layer))


@pytest.mark.slow
@pytest.mark.parametrize("training", [True, False])
def test_unrolled_layer_equals_the_interpreter(space, training):
    """The per-program code path (scripts/bench_evonorm.py's per-candidate jit) computes what
    the interpreter computes: output and new moving statistics, B0's batch statistics too."""
    layers = random_layers(space, 12, seed=9) + [space.parse(BASELINES["evonorm_b0"])]
    shape = (3, 2, 3, 40)
    x, p, state = random_layer_inputs(shape, seed=4)
    x = jnp.asarray(x, jnp.float32)
    p = {k: jnp.asarray(v, jnp.float32) for k, v in p.items()}
    state = {k: jnp.asarray(v, jnp.float32) for k, v in state.items()}
    encoded = interpreter.encode(layers)
    for index, layer in enumerate(layers):
        expected, expected_state = interpreter.apply(encoded.layer(index), p, state, x,
                                                     training)
        unrolled = interpreter.unrolled_layer(layer)
        assert jax.tree_util.tree_map(jnp.shape, unrolled.init_layer(40)) == \
            jax.tree_util.tree_map(jnp.shape, interpreter.init_layer(40))
        output, new_state = unrolled.apply(None, p, state, x, training)
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6, equal_nan=True,
                                   err_msg=space.format(layer))
        for key in ("moving_mean", "moving_var"):
            np.testing.assert_allclose(new_state[key], expected_state[key], rtol=1e-5,
                                       atol=1e-6, err_msg=f"{key}: {space.format(layer)}")


def test_encoding_pads_and_checks_sizes(space):
    s0 = space.parse(BASELINES["evonorm_s0"])
    encoded = interpreter.encode([s0, s0], max_nodes=8)
    assert encoded.opcodes.shape == (2, 8) and encoded.args.shape == (2, 8, 2)
    assert (encoded.opcodes[:, 5:] == interpreter.PAD_OPCODE).all()
    assert list(encoded.lengths) == [5, 5] and encoded.count == 2
    assert encoded.layer(1).opcodes.shape == (8,)
    with pytest.raises(interpreter.EncodingError, match="at most 4"):
        interpreter.encode([s0], max_nodes=4)


# -- hashing ------------------------------------------------------------------------------------
def test_hash_equal_for_equivalent_layers_written_differently(space):
    variants = [
        BASELINES["evonorm_s0"],
        "y = sigmoid(x * v1) * x / group_std(x)",
        "s = group_std(x)\nt = v1 * x\ng = sigmoid(t)\ny = g * x / s",
        "y = x * sigmoid(v1 * x) / group_std(x)\nunused = batch_std(x)",
    ]
    digests = {space.fingerprint(space.parse(text)) for text in variants}
    assert len(digests) == 1
    bn = space.fingerprint(space.parse(BASELINES["bn_relu"]))
    assert bn == space.fingerprint(space.parse(
        "y = max(zero, v0 + v1 * ((x + -batch_mean(x)) / batch_std(x)))"))


def test_hash_differs_for_different_layers(space):
    texts = [
        *BASELINES.values(),
        "y = x * sigmoid(v0 * x) / group_std(x)",  # v0 instead of v1
        "y = x * sigmoid(v1 * x) / instance_std(x)",  # instance instead of group
        "y = x * sigmoid(v1 * x) / batch_std(x)",
        "y = x / max(batch_std(x), v0 * x + instance_std(x))",
        "y = x / max(batch_std(x), v1 * x + group_std(x))",
        "y = max(x, zero)",
        "y = max(x * v1 + v0, zero)",
        "y = max(x * v0 + v1, zero)",
    ]
    digests = [space.fingerprint(space.parse(text)) for text in texts]
    assert len(set(digests)) == len(texts)


def test_hash_follows_the_group_setting():
    s0 = EvoNormSpace().parse(BASELINES["evonorm_s0"])
    in_s0 = EvoNormSpace().parse("y = x * sigmoid(v1 * x) / instance_std(x)")
    assert EvoNormSpace().fingerprint(s0) != EvoNormSpace().fingerprint(in_s0)
    # the group setting changes what group_std computes on the probes, hence the hash
    default = EvoNormSpace().fingerprint(s0)
    assert EvoNormSpace({"groups": 4}).fingerprint(s0) != default
    assert EvoNormSpace({"groups": 1}).fingerprint(s0) != default


# -- evolution ----------------------------------------------------------------------------------
@pytest.mark.parametrize("max_nodes", [6, 14])
def test_mutations_keep_layers_valid_and_within_max_nodes(max_nodes):
    space = EvoNormSpace({"max_nodes": max_nodes})
    rng = np.random.default_rng(max_nodes)
    # start at the limit: a chain of max_nodes statements
    program = space.parse("\n".join(["y = x * v1"] + ["y = tanh(y) + v0"] * ((max_nodes - 1) // 2)
                                    + ["y = sigmoid(y)"] * ((max_nodes - 1) % 2)))
    assert len(program) == max_nodes
    kinds = set()
    longest = 0
    for _ in range(300):
        program, kind = space.mutate(program, rng)
        kinds.add(kind)
        validate(program, space.signature.registry, space.signature.ops)
        assert len(program) <= max_nodes
        assert all(isinstance(a, str) for ins in program.instructions for a in ins.args)
        assert {ins.op for ins in program.instructions} <= set(EVONORM_OPS) | {"sub"}
        assert space.parse(space.format(program)) == program
        interpreter.encode([program], max_nodes)
        longest = max(longest, len(program))
    assert kinds == {"insert_statement", "delete_statement", "change_argument", "change_op"}
    assert longest == max_nodes


def test_random_layers_are_valid_small_and_mostly_distinct(space):
    rng = np.random.default_rng(11)
    layers = space.initial_population(rng, 30)
    for layer in layers:
        validate(layer, space.signature.registry, space.signature.ops)
        assert 1 <= len(layer) <= space.settings.max_initial_nodes
        assert {ins.op for ins in layer.instructions} <= set(EVONORM_OPS)
    assert len({space.fingerprint(layer) for layer in layers}) >= 25


def test_settings_validate_architectures():
    with pytest.raises(ValueError, match="unknown architecture"):
        EvoNormSpace({"architectures": ["transformer"]})
    names = [o.name for o in EvoNormSpace().objectives]
    assert names == ["accuracy_resnet", "accuracy_mobilenet", "accuracy_efficientnet"]
    assert all(o.direction == "maximize" for o in EvoNormSpace().objectives)


# -- evaluation ---------------------------------------------------------------------------------
TRAINING = importlib.util.find_spec("search_spaces.evonorm.training") is not None


@pytest.mark.slow
@pytest.mark.skipif(not TRAINING, reason="search_spaces/evonorm/training.py not there yet")
def test_evaluate_trains_a_batch_and_fails_unencodable_layers_alone():
    space = EvoNormSpace(EVONORM_TRAINING)
    limit = space.settings.max_nodes
    long_layer = space.parse("\n".join(["y = x"] + ["y = tanh(y)"] * (limit + 1)))
    programs = [space.parse(BASELINES["evonorm_s0"]), space.parse(BASELINES["bn_relu"]),
                long_layer]
    first, second, third = space.evaluate(programs)
    for evaluation in (first, second):
        assert evaluation.ok, evaluation.error
        assert 0.0 <= evaluation.objectives["accuracy_resnet"] <= 1.0
    assert not third.ok and f"at most {limit}" in third.error


@pytest.mark.slow
@pytest.mark.skipif(not TRAINING, reason="search_spaces/evonorm/training.py not there yet")
def test_length_buckets_and_padding_do_not_change_results():
    """run_phase encodes each program in its length bucket and pads chunks with rows the
    trainers skip: a mixed batch scores each layer as training it alone, at full length."""
    network = "user_evonorm_nets:tiny_net"  # one convolution: compiles fast
    space = EvoNormSpace({**EVONORM_TRAINING, "architectures": [network]})
    programs = [space.parse(BASELINES["bn_relu"]), space.parse("y = x * sigmoid(v1 * x)"),
                space.parse(BASELINES["evonorm_s0"])]
    assert [len(p) for p in programs] == [7, 3, 5]
    assert [space.length_bucket(p) for p in programs] == [8, 4, 8]  # max_nodes is 8
    from search_spaces.evonorm.training import make_trainer

    together = space.run_phase("proxy", programs)
    alone = make_trainer(network, space.layer(), space.settings.batch_size,
                         space.settings.steps, space.settings.learning_rate, num_programs=1)
    for program, row in zip(programs, together, strict=True):
        expected = alone(interpreter.encode([program], space.settings.max_nodes))
        accuracy = row[0][f"accuracy_{network.replace(':', '.')}"]
        assert accuracy == pytest.approx(float(expected.accuracy[0]), abs=1e-6), \
            space.format(program)
        assert row[1]["validation_loss"][network] == pytest.approx(float(expected.loss[0]),
                                                                    rel=1e-4)
    # a padding row is skipped: zeros out, not a trained program's result
    size = BATCH_SIZES[0]
    encoded = interpreter.encode(programs[:1] * size, space.settings.max_nodes)
    encoded = encoded._replace(lengths=np.array([7] + [-1] * (size - 1), np.int32))
    result = space._compiled("proxy", size)(encoded)[network]
    assert result.accuracy[0] > 0.0 and (result.accuracy[1:] == 0.0).all()
    assert (result.loss[1:] == 0.0).all() and np.isfinite(result.loss[0])


@pytest.mark.slow
def test_vmapped_programs_score_as_mapped_ones():
    """program_batching "vmap" (all programs at once, as on a GPU) trains each layer as "map"
    (one after another) does, batch statistics and padding rows included. (Kept small: a
    vmapped network compiles slowly on a CPU; the one-convolution user network of
    tests/user_evonorm_nets.py takes 15 s of CPU here where VGG took 40 s.)"""
    network = "user_evonorm_nets:tiny_net"
    results = {}
    for batching in ("map", "vmap"):
        space = EvoNormSpace({"architectures": [network], "steps": 10,
                              "program_batching": batching})
        programs = [space.parse(BASELINES[name]) for name in ("bn_relu", "evonorm_s0")]
        results[batching] = space.evaluate(programs)
    accuracy = f"accuracy_{network.replace(':', '.')}"
    for mapped, vmapped in zip(results["map"], results["vmap"], strict=True):
        assert mapped.ok and vmapped.ok, (mapped.error, vmapped.error)
        assert vmapped.objectives[accuracy] == pytest.approx(mapped.objectives[accuracy],
                                                             abs=2e-3)
        assert vmapped.metrics["validation_loss"][network] == pytest.approx(
            mapped.metrics["validation_loss"][network], rel=1e-3)
    losses = [e.metrics["validation_loss"][network] for e in results["map"]]
    assert abs(losses[0] - losses[1]) > 1e-2  # the two layers are told apart


@pytest.mark.slow
@pytest.mark.skipif(not TRAINING, reason="search_spaces/evonorm/training.py not there yet")
def test_rejection_protocols_reject_before_training():
    space = EvoNormSpace({**EVONORM_TRAINING, "quality_check": True, "stability_check": True})
    # the rejected layers are written 5 statements long so that all three share the good
    # layer's length bucket (8): each check then compiles once, not once per bucket (~25 s
    # each for the stability check's second derivatives)
    texts = [BASELINES["evonorm_b0"],
             "y = x * sigmoid(v1 * x) / (v0 * v1)",  # v0 starts at 0: divides by ~0
             "y = zero * (x * sigmoid(v1 * x + v0))"]  # constant output: chance accuracy
    programs = [space.parse(text) for text in texts]
    assert {space.length_bucket(program) for program in programs} == {8}
    good, unstable, useless = space.evaluate(programs)
    assert good.ok, good.error
    assert good.metrics["diverged"] == []
    assert unstable.rejected and unstable.error.startswith("unstable")
    assert useless.rejected and useless.error.startswith("quality")
