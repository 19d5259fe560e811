"""An optimizer task of your own: least squares on a linear model, in JAX."""
import jax
import jax.numpy as jnp
import numpy as np

from search_spaces.optimizers import Task

__automl_version__ = "1"  # bump it when the task changes: cached results are not reused


def linear_task() -> Task:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=80)

    def init(key):  # the parameters: a list of float32 arrays
        return [0.5 * jax.random.normal(key, (4,)), jnp.zeros(1)]

    def loss(params, x, y):  # a full-batch mean, jit-able
        w, b = params
        return jnp.mean(jnp.square(x @ w + b[0] - y))

    return Task(name="linear", steps=30, init_params=init, loss=loss,
                train_x=x[:48], train_y=y[:48], valid_x=x[48:], valid_y=y[48:])
