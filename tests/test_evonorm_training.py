"""EvoNorm proxy training: architectures, batched trainer, rejection protocols, CIFAR loader.

The layers here are hand-written with the interpreter's signature
``apply(program, layer_params, layer_state, x, training) -> (y, layer_state)``; `menu(...)` picks
one of them by ``program[0]`` with `lax.switch` (so one compiled trainer runs several layers, as
it will run several encoded programs)."""

from __future__ import annotations

import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from search_spaces.evonorm import models, training
from search_spaces.evonorm.models import LayerFunctions

EPS = 1e-5


def init_layer(channels: int):
    params = {"v0": jnp.ones(channels), "v1": jnp.ones(channels),
              "gamma": jnp.ones(channels), "beta": jnp.zeros(channels)}
    state = {"mean": jnp.zeros(channels), "var": jnp.ones(channels)}
    return params, state


def bn_relu(program, params, state, x, training):
    if training:
        mean, var = jnp.mean(x, axis=(0, 1, 2)), jnp.var(x, axis=(0, 1, 2))
        state = {"mean": 0.9 * state["mean"] + 0.1 * mean,
                 "var": 0.9 * state["var"] + 0.1 * var}
    else:
        mean, var = state["mean"], state["var"]
    y = (x - mean) * lax.rsqrt(var + EPS) * params["gamma"] + params["beta"]
    return jax.nn.relu(y), state


def gn_relu(program, params, state, x, training, groups: int = 4):
    n, h, w, c = x.shape
    g = x.reshape(n, h, w, groups, c // groups)
    mean = jnp.mean(g, axis=(1, 2, 4), keepdims=True)
    var = jnp.var(g, axis=(1, 2, 4), keepdims=True)
    y = ((g - mean) * lax.rsqrt(var + EPS)).reshape(x.shape)
    return jax.nn.relu(y * params["gamma"] + params["beta"]), state


def zeros(program, params, state, x, training):
    return jnp.zeros_like(x), state


def nan(program, params, state, x, training):
    return x * jnp.nan, state


def exp_exp(program, params, state, x, training):
    return jnp.exp(jnp.exp(x * params["gamma"])), state


BN_RELU = LayerFunctions(init_layer, bn_relu)


def menu(*layers) -> LayerFunctions:
    """A layer that runs ``layers[program[0]]`` (a `lax.switch` on the traced program)."""

    def apply(program, params, state, x, training):
        branches = [lambda p, s, x, f=f: f(None, p, s, x, training) for f in layers]
        return lax.switch(program[0], branches, params, state, x)

    return LayerFunctions(init_layer, apply)


def programs(*codes: int) -> jax.Array:
    return jnp.asarray([[code] for code in codes], jnp.int32)


# -- models ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_architectures_sites_and_shapes():
    sites = {"resnet": 5, "mobilenetv2": 6, "efficientnet": 5, "vgg": 4}
    assert set(models.ARCHITECTURES) == set(sites)
    assert models.HELDOUT_ARCHITECTURE not in models.PROXY_ARCHITECTURES
    x = jnp.asarray(training.digits().train_x[:3])
    for name, count in sites.items():
        arch = models.get_architecture(name)
        params, state = arch.init(BN_RELU, (8, 8, 1), 10)
        assert len(params["layers"]) == len(state) == count
        logits, new_state = jax.eval_shape(
            lambda p, s, arch=arch: arch.apply(BN_RELU, p, s, jnp.zeros(1), x, True),
            params, state)
        assert logits.shape == (3, 10)
        assert jax.tree_util.tree_structure(new_state) == jax.tree_util.tree_structure(state)
    with pytest.raises(ValueError, match="unknown architecture"):
        models.get_architecture("alexnet")


@pytest.mark.slow
def test_depthwise_matches_grouped_convolution():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 8, 8, 5)), jnp.float32)
    kernel = jnp.asarray(np.random.default_rng(1).normal(size=(3, 3, 5)), jnp.float32)
    ops = models._ApplyOps(BN_RELU, {"weights": {"dw": kernel}, "layers": ()}, (), None, True)
    reference = lax.conv_general_dilated(x, kernel[:, :, None, :], (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                         feature_group_count=5,
                                         precision=lax.Precision.HIGHEST)
    np.testing.assert_allclose(ops.depthwise("dw", x), reference, rtol=1e-5, atol=1e-5)
    assert ops.depthwise("dw", x, stride=2).shape == (2, 4, 4, 5)


# -- training -------------------------------------------------------------------------------
def test_digits_split():
    data = training.digits()
    assert data.train_x.shape == (1200, 8, 8, 1) and data.valid_x.shape == (597, 8, 8, 1)
    assert data.train_x.dtype == np.float32 and data.classes == 10
    assert abs(float(data.train_x.mean())) < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("arch", sorted(models.ARCHITECTURES))
def test_bn_relu_trains_every_architecture(arch):
    train = training.make_trainer(arch, BN_RELU, batch_size=4, steps=300,
                                  learning_rate=0.05, num_programs=1)
    result = train(jnp.zeros((1, 1), jnp.int32))
    assert not result.diverged[0]
    assert result.accuracy[0] > 0.5, result.accuracy  # chance: 0.1


@pytest.mark.slow
def test_batched_trainer_equals_training_each_program_alone():
    """Held-out re-ranking trains the batch with one compiled trainer (VGG at the held-out
    batch size); each program trained alone gets the same result."""
    layer = menu(bn_relu, gn_relu)
    order, together = training.rerank(layer, programs(0, 1), steps=50)
    alone = training.make_trainer(models.HELDOUT_ARCHITECTURE, layer,
                                  training.HELDOUT_BATCH_SIZE, 50, 0.05, num_programs=1)
    separately = [alone(programs(code)) for code in (0, 1)]
    np.testing.assert_allclose(together.accuracy, [r.accuracy[0] for r in separately])
    np.testing.assert_allclose(together.loss, [r.loss[0] for r in separately], rtol=1e-5)
    assert together.accuracy[0] != together.accuracy[1]  # the program argument matters
    assert order.tolist() == np.argsort(-together.accuracy).tolist()
    with pytest.raises(ValueError, match="compiled for 1 programs"):
        alone(programs(0, 1))


@pytest.mark.slow
def test_nan_layer_is_a_failure_value_not_an_exception():
    proxy = training.make_proxy(menu(nan, bn_relu), 2, architectures=("vgg",), steps=10,
                                failure_value=-1.0)
    results = proxy(programs(0, 1))
    assert list(results) == ["vgg"]
    result = results["vgg"]
    assert result.diverged.tolist() == [True, False]
    assert result.accuracy[0] == -1.0 and result.loss[0] == np.inf
    assert 0.0 <= result.accuracy[1] <= 1.0 and np.isfinite(result.loss[1])


@pytest.mark.slow
def test_quality_check_rejects_a_zero_layer_and_keeps_bn_relu():
    check = training.make_quality_check("resnet", menu(zeros, bn_relu, nan), num_programs=3)
    result = check(programs(0, 1, 2))
    assert result.reject.tolist() == [True, False, True]
    assert result.diverged.tolist() == [False, False, True]
    assert result.accuracy[0] < training.QUALITY_THRESHOLD < result.accuracy[1]


@pytest.mark.slow
def test_stability_check_flags_an_exploding_layer_not_bn_relu():
    check = training.make_stability_check("vgg", menu(bn_relu, exp_exp), num_programs=2)
    result = check(programs(0, 1))
    assert result.reject.tolist() == [False, True]
    assert result.max_grad_norm[0] < 1e4


# -- CIFAR-10 -------------------------------------------------------------------------------
def _write_cifar(directory, rng, count: int = 3):
    batches = {}
    for name in (*training.CIFAR10_TRAIN_FILES, training.CIFAR10_TEST_FILE):
        batch = {b"batch_label": name.encode(),
                 b"data": rng.integers(0, 256, size=(count, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, size=count).tolist(),
                 b"filenames": [f"{name}_{i}.png".encode() for i in range(count)]}
        with open(directory / name, "wb") as handle:
            pickle.dump(batch, handle, protocol=2)
        batches[name] = batch
    return batches


def test_cifar10_loader_reads_the_pickle_format(tmp_path):
    batches = _write_cifar(tmp_path, np.random.default_rng(0))
    train_x, train_y, test_x, test_y = training.load_cifar10(tmp_path)
    assert train_x.shape == (15, 32, 32, 3) and test_x.shape == (3, 32, 32, 3)
    assert train_x.dtype == np.float32 and train_y.dtype == np.int32
    first = batches["data_batch_1"]
    # pixel (row 2, column 5) of image 1: red at 2 * 32 + 5, green 1024 later, blue 2048 later
    np.testing.assert_allclose(train_x[1, 2, 5] * 255,
                               first[b"data"][1, [69, 1024 + 69, 2048 + 69]], atol=1e-3)
    assert train_y[:3].tolist() == first[b"labels"]
    assert test_y.tolist() == batches["test_batch"][b"labels"]
    data = training.cifar10_dataset(tmp_path, train_size=10)
    assert data.input_shape == (32, 32, 3) and len(data.train_y) == 10


def test_cifar10_loader_errors_name_what_is_missing(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="CIFAR-10 directory not found.*nowhere"):
        training.load_cifar10(missing)
    _write_cifar(tmp_path, np.random.default_rng(0))
    (tmp_path / "data_batch_4").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_4"):
        training.load_cifar10(tmp_path)


@pytest.mark.slow
def test_cifar10_trains_a_program_batch(tmp_path):
    _write_cifar(tmp_path, np.random.default_rng(0), count=4)
    data = training.cifar10_dataset(tmp_path)
    train = training.make_trainer("vgg", BN_RELU, 2, 3, 0.05, num_programs=1, data=data)
    result = train(jnp.zeros((1, 1), jnp.int32))
    assert result.accuracy.shape == (1,) and not result.diverged[0]
