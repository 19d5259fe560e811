"""User optimizer tasks for tests/test_user_tasks.py, imported by import string
(``user_optimizer_tasks:linear_task``) as a user's own module would be: pytest puts tests/ on
sys.path; a subprocess gets it through PYTHONPATH."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from search_spaces.optimizers import Task

__automl_version__ = "1"


def linear_task() -> Task:
    """Least squares y = x . w + 0.1 noise: 4 features, 48 train / 32 validation samples,
    30 full-batch steps from W ~ N(0, 1/4)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=80)

    def init(key):
        return [jax.random.normal(key, (4, 1)) * 0.5, jnp.zeros((1,))]

    def loss(params, x, y):
        weights, bias = params
        return jnp.mean(jnp.square((x @ weights)[:, 0] + bias[0] - y))

    return Task(name="linear", steps=30, init_params=init, loss=loss,
                train_x=x[:48], train_y=y[:48], valid_x=x[48:], valid_y=y[48:])


def linear_task_v2() -> Task:
    return linear_task()


linear_task_v2.__automl_version__ = "2"


def returns_dict():
    return {"init": None}


def raises():
    raise RuntimeError("the user's data is missing")


def bad_steps() -> Task:
    task = linear_task()
    return Task(name="bad", steps=0, init_params=task.init_params, loss=task.loss,
                train_x=task.train_x, train_y=task.train_y, valid_x=task.valid_x,
                valid_y=task.valid_y)


NOT_CALLABLE = 3


def minibatch_task() -> Task:
    """`linear_task` trained on minibatches of 8 of its 48 training samples."""
    task = linear_task()
    return Task(name="linear_minibatch", steps=20, init_params=task.init_params,
                loss=task.loss, train_x=task.train_x, train_y=task.train_y,
                valid_x=task.valid_x, valid_y=task.valid_y, batch_size=8)


def nan_minibatch_task() -> Task:
    """A minibatch task whose loss is NaN from the first step (sqrt of a negative)."""
    task = minibatch_task()

    def loss(params, x, y):
        return jnp.sqrt(task.loss(params, x, y) - 1e6)

    return Task(name="nan", steps=5, init_params=task.init_params, loss=loss,
                train_x=task.train_x, train_y=task.train_y, valid_x=task.valid_x,
                valid_y=task.valid_y, batch_size=8)


def diverging_minibatch_task() -> Task:
    """A minibatch task whose parameters blow up under any descent step: the loss is
    -exp(w . w), so every step grows w."""
    task = minibatch_task()

    def loss(params, x, y):
        return -jnp.exp(jnp.sum(jnp.square(params[0])) * 50.0) + 0.0 * task.loss(params, x, y)

    return Task(name="diverging", steps=40, init_params=task.init_params, loss=loss,
                train_x=task.train_x, train_y=task.train_y, valid_x=task.valid_x,
                valid_y=task.valid_y, batch_size=8)
