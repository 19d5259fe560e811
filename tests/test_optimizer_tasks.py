"""Training tasks of the optimizer space: deterministic data and initialization, finite losses
and gradients, funnel tasks ~10x the proxies, and full-batch Adam training (jit + lax.scan,
vmapped over learning rates) that learns each task while lr = 0 changes nothing."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax import lax

from search_spaces.optimizers.tasks import TASK_NAMES, convnet_reference, get_task

MINIBATCH_TASKS = {  # tests/test_optimizer_minibatch.py
    "mlp_mnist1d": "proxy", "cnn_digits_shift": "proxy", "mlp_mnist1d_x": "funnel",
    "cnn_digits_shift_x": "funnel", "char_lm": "meta_validation",
    "cnn1d_mnist1d": "meta_validation", "mlp_mnist1d_deep": "meta_validation",
    "cnn_digits_shift_wide": "meta_validation",
    # the GPU tiers
    "mlp_mnist1d_l": "proxy", "cnn_digits_shift_l": "proxy", "mlp_mnist1d_xl": "funnel",
    "cnn_digits_shift_xl": "funnel", "char_lm_wide": "meta_validation",
}
EXPECTED_TASKS = {  # full-batch
    "logreg_digits": "proxy", "mlp_digits": "proxy", "linreg_noisy": "proxy",
    "spirals": "proxy", "mlp_digits_x10": "funnel", "spirals_x10": "funnel",
    "convnet_digits": "meta_validation", "mlp_digits_wide": "meta_validation",
    "spirals_deep": "meta_validation", "linreg_large": "meta_validation",
}
FUNNEL_OF = {"mlp_digits_x10": "mlp_digits", "spirals_x10": "spirals"}

# Adam learning rate per task and the validation metric it must reach in the task's steps.
# Observed on a 2-core CPU (jax 0.10.2, optax 0.2.8), init key 0, at that lr:
#   logreg_digits acc 0.963 | mlp_digits acc 0.977 | linreg_noisy loss 0.299 (noise floor 0.25,
#   0.5^2) | spirals acc 0.985 | mlp_digits_x10 acc 0.977 | spirals_x10 acc 0.995 |
#   convnet_digits acc 0.973 | mlp_digits_wide acc 0.978 | spirals_deep acc 0.995 |
#   linreg_large loss 0.281. Thresholds leave a margin of >= 0.02 (accuracy) or ~15% (loss).
ADAM = {
    "logreg_digits": (3e-2, 0.93), "mlp_digits": (1e-2, 0.95), "linreg_noisy": (3e-2, 0.35),
    "spirals": (3e-2, 0.95), "mlp_digits_x10": (3e-3, 0.95), "spirals_x10": (1e-2, 0.96),
    "convnet_digits": (3e-3, 0.95), "mlp_digits_wide": (1e-3, 0.95),
    "spirals_deep": (3e-2, 0.96), "linreg_large": (1e-2, 0.32),
}


def learning_rates(name: str) -> jax.Array:
    """Lane 0 has lr = 0; the cheap proxy tasks get 4 lanes, the larger tasks 2 (test time)."""
    lr = ADAM[name][0]
    lanes = [0.0, lr / 10, lr / 3, lr] if TASK_NAMES[name] == "proxy" else [0.0, lr]
    return jnp.asarray(lanes, jnp.float32)


def adam_run(task):
    """lr -> (initial train loss, final train loss, validation loss, metric, final params)."""
    params0 = task.init_params(jax.random.PRNGKey(0))
    grad = jax.grad(task.loss)

    def run(lr):
        optimizer = optax.adam(lr)

        def step(state, _):
            params, opt_state = state
            updates, opt_state = optimizer.update(grad(params, task.train_x, task.train_y),
                                                  opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        (params, _), _ = lax.scan(step, (params0, optimizer.init(params0)), None,
                                  length=task.steps)
        return (task.loss(params0, task.train_x, task.train_y),
                task.loss(params, task.train_x, task.train_y), task.validation_loss(params),
                task.metric(params, task.valid_x, task.valid_y), params)

    return run


@functools.cache
def trained(name: str):
    """One compiled, vmapped training per task, shared by the tests below."""
    task = get_task(name)
    out = jax.jit(jax.vmap(adam_run(task)))(learning_rates(name))
    return jax.tree.map(np.asarray, out)


def parameter_count(task) -> int:
    count = sum(int(p.size) for p in task.init_params(jax.random.PRNGKey(0)))
    assert task.parameter_count == count
    return count


def test_task_names_and_unknown_name():
    assert TASK_NAMES == {**EXPECTED_TASKS, **MINIBATCH_TASKS}
    assert get_task("spirals") is get_task("spirals")  # cached: data built once
    with pytest.raises(ValueError, match="nope") as error:
        get_task("nope")
    assert all(name in str(error.value) for name in TASK_NAMES)
    assert all(get_task(name).batch_size is None for name in ("spirals", "logreg_digits"))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPECTED_TASKS))
def test_task_contract(name):
    task = get_task(name)
    assert task.name == name and task.kind == TASK_NAMES[name] and task.steps > 0
    classification = task.metric_name == "accuracy"
    assert task.metric_direction == ("maximize" if classification else "minimize")
    assert task.metric_name in ("accuracy", "loss")
    for x, y in ((task.train_x, task.train_y), (task.valid_x, task.valid_y)):
        assert x.dtype == jnp.float32 and x.shape[0] == y.shape[0] > 0
        assert y.dtype == (jnp.int32 if classification else jnp.float32)
    # inputs are standardized with the training split's statistics
    flat = np.asarray(task.train_x).reshape(task.train_x.shape[0], -1)
    assert np.abs(flat.mean(axis=0)).max() < 1e-4 and flat.std(axis=0).max() < 1.0 + 1e-4

    params = task.init_params(jax.random.PRNGKey(0))
    assert isinstance(params, list) and params
    assert all(p.dtype == jnp.float32 for p in params)
    again = task.init_params(jax.random.PRNGKey(0))
    assert all(np.array_equal(a, b) for a, b in zip(params, again, strict=True))
    other = task.init_params(jax.random.PRNGKey(1))
    assert any(not np.array_equal(a, b) for a, b in zip(params, other, strict=True))

    # jitted: compiling each function whole is faster than eager op-by-op dispatch
    loss = jax.jit(task.loss)(params, task.train_x, task.train_y)
    assert loss.shape == () and loss.dtype == jnp.float32 and np.isfinite(loss)
    grads = jax.jit(jax.grad(task.loss))(params, task.train_x, task.train_y)
    assert jax.tree.structure(grads) == jax.tree.structure(params)
    assert all(g.shape == p.shape and g.dtype == p.dtype and np.all(np.isfinite(g))
               for g, p in zip(grads, params, strict=True))
    assert any(np.abs(g).max() > 0 for g in grads)
    np.testing.assert_allclose(jax.jit(task.validation_loss)(params),
                               jax.jit(task.loss)(params, task.valid_x, task.valid_y),
                               rtol=1e-6)
    metric = jax.jit(task.metric)(params, task.valid_x, task.valid_y)
    assert metric.shape == () and np.isfinite(metric)
    if classification:
        labels = np.asarray(task.train_y)
        assert labels.min() == 0 and labels.max() == (1 if "spirals" in name else 9)
    else:
        np.testing.assert_allclose(metric, jax.jit(task.validation_loss)(params), rtol=1e-6)


def test_digits_split_is_fixed():
    task = get_task("logreg_digits")
    assert task.train_x.shape == (1200, 64) and task.valid_x.shape == (597, 64)
    assert len(set(np.asarray(task.valid_y).tolist())) == 10
    assert np.array_equal(get_task("mlp_digits").train_x, task.train_x)


@pytest.mark.slow
def test_convnet_equals_lax_convolutions():
    task = get_task("convnet_digits")
    params = task.init_params(jax.random.PRNGKey(3))
    patches = task.valid_x[:64]
    assert patches.shape == (64, 9, 4, 16)
    # the centre (k = 4) of every 3x3 patch is the pixel itself: [d = (di, dj), b = (i, j)]
    # holds pixel (2 i + di, 2 j + dj)
    centre = patches[:, 4].reshape(64, 2, 2, 4, 4)  # (n, di, dj, i, j)
    images = centre.transpose(0, 3, 1, 4, 2).reshape(64, 64)
    np.testing.assert_array_equal(images, get_task("logreg_digits").valid_x[:64])
    labels = task.valid_y[:64]
    logp = jax.nn.log_softmax(convnet_reference(params, images))
    expected = -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))
    np.testing.assert_allclose(task.loss(params, patches, labels), expected, rtol=1e-4)


@pytest.mark.slow
def test_float32_under_x64():
    jax.config.update("jax_enable_x64", True)
    try:
        task = get_task("mlp_digits")
        params = task.init_params(jax.random.PRNGKey(0))
        assert all(p.dtype == jnp.float32 for p in params)
        assert task.loss(params, task.train_x, task.train_y).dtype == jnp.float32
    finally:
        jax.config.update("jax_enable_x64", False)


@pytest.mark.parametrize(("funnel", "proxy"), list(FUNNEL_OF.items()))
def test_funnel_is_about_ten_times_larger(funnel, proxy):
    big, small = get_task(funnel), get_task(proxy)
    assert big.kind == "funnel" and small.kind == "proxy"
    ratio = big.steps * parameter_count(big) / (small.steps * parameter_count(small))
    assert ratio >= 5, ratio


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPECTED_TASKS))
def test_adam_learns_and_lr_zero_does_nothing(name):
    task = get_task(name)
    lrs = learning_rates(name)
    initial, final, valid_loss, metric, params = trained(name)
    lanes = len(lrs)
    assert initial.shape == final.shape == valid_loss.shape == metric.shape == (lanes,)
    params0 = task.init_params(jax.random.PRNGKey(0))
    assert [p.shape for p in params] == [(lanes, *p.shape) for p in params0]
    # lr = 0 (lane 0): parameters, training loss and metric unchanged
    assert all(np.array_equal(p[0], p0) for p, p0 in zip(params, params0, strict=True))
    np.testing.assert_allclose(final[0], initial[0], rtol=1e-6)
    np.testing.assert_allclose(metric[0], task.metric(params0, task.valid_x, task.valid_y),
                               rtol=1e-5)
    # different learning rates give different final losses
    assert len(set(final.tolist())) == lanes
    # the chosen lr (last lane) trains clearly and reaches a good validation metric
    assert np.all(np.isfinite(final)) and final[-1] < 0.25 * initial[-1]
    threshold = ADAM[name][1]
    if task.metric_direction == "maximize":
        assert metric[-1] > threshold, metric[-1]
    else:
        assert metric[-1] < threshold, metric[-1]


@pytest.mark.slow
def test_single_run_matches_vmapped_lane():
    name = "logreg_digits"
    single = jax.jit(adam_run(get_task(name)))(jnp.float32(ADAM[name][0]))
    batched = trained(name)
    for one, many in zip(single[:4], batched[:4], strict=True):
        np.testing.assert_allclose(one, many[-1], rtol=1e-4, atol=1e-6)
