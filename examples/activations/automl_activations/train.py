"""Training networks with a program as their activation, compiled once per batch of programs.

`encode` turns programs into arrays (`Code`); `activation` runs one with a `lax.switch` per
statement, and `automl.batching.over_programs` maps the trainer over the batch with `lax.map`
(under vmap a switch becomes a select over every op, and the unselected ops' gradients, 0 *
inf, would poison training). Data: scikit-learn's digits, a fixed 80/20 split. Networks: an
MLP with two hidden layers and a CNN of two 3x3 convolutions, minibatch SGD with momentum.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from automl.batching import over_programs
from automl.ir import Program
from automl_activations.ops import OP_NAMES, TABLE


class Code(NamedTuple):
    ops: np.ndarray  # (L,) op code per statement (a position in OP_NAMES)
    slots: np.ndarray  # (L, 3) the slot each argument reads
    reads: np.ndarray  # (L, 3) 1 where the argument reads its slot, 0 where it is a literal
    literals: np.ndarray  # (L, 3)
    output: np.ndarray  # () the slot of y
    valid: np.ndarray  # () False on a padding row: not trained


def encode(programs: list[Program], length: int, rows: int) -> Code:
    """`programs` as `rows` rows of `length` statements (the missing ones compute 0 + 0, read by
    nothing; missing rows copy the first program, marked not valid)."""
    codes = []
    for program in programs + programs[:1] * (rows - len(programs)):
        slot = {"x": 0, **{ins.register: i + 1 for i, ins in enumerate(program.instructions)}}
        ops = np.full(length, OP_NAMES.index("add"), np.int32)
        slots = np.zeros((length, 3), np.int32)
        reads, literals = np.zeros((2, length, 3), np.float32)
        for i, ins in enumerate(program.instructions):
            ops[i] = OP_NAMES.index(ins.op)
            for k, arg in enumerate(ins.args):
                slots[i, k], reads[i, k], literals[i, k] = (
                    (slot[arg], 1.0, 0.0) if isinstance(arg, str) else (0, 0.0, arg))
        codes.append((ops, slots, reads, literals, np.int32(slot[program.outputs[0][1]]),
                      np.bool_(len(codes) < len(programs))))
    return Code(*(np.stack(column) for column in zip(*codes, strict=True)))


def activation(code: Code, x):
    branches = [lambda a, b, c, op=op: op.jax_impl(*(a, b, c)[:op.arity])
                for op in TABLE.ops()]  # in OP_NAMES order
    slots = jnp.zeros((len(code.ops) + 1, *x.shape), x.dtype).at[0].set(x)
    for i in range(len(code.ops)):
        args = [slots[code.slots[i, k]] * code.reads[i, k] + code.literals[i, k]
                for k in range(3)]
        slots = slots.at[i + 1].set(jax.lax.switch(code.ops[i], branches, *args))
    return slots[code.output]


@functools.cache
def digits() -> tuple[np.ndarray, ...]:
    """Train images, labels, validation images, labels (NHWC, scaled to [0, 1])."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    images = (data.images[order] / 16.0).astype(np.float32)[..., None]
    labels = data.target[order].astype(np.int32)
    cut = len(labels) * 4 // 5
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


def init(network: str, key, width: int) -> list:
    shapes = {"mlp": [(64, width), (width, width), (width, 10)],
              "cnn": [(3, 3, 1, width // 2), (3, 3, width // 2, width), (16 * width, 10)]}[network]
    keys = jax.random.split(key, len(shapes))
    return [(jax.random.normal(k, s) * np.sqrt(2.0 / np.prod(s[:-1])), np.zeros(s[-1]))
            for k, s in zip(keys, shapes, strict=True)]


def forward(network: str, params: list, code: Code, images):
    hidden = images if network == "cnn" else images.reshape(len(images), -1)
    for (w, b), stride in zip(params[:-1], (1, 2), strict=True):
        linear = conv3x3(hidden, w, stride) if network == "cnn" else hidden @ w
        hidden = activation(code, linear + b)
    w, b = params[-1]
    return hidden.reshape(len(hidden), -1) @ w + b


def conv3x3(images, w, stride: int):
    """A 3x3 'same' convolution as one matrix product over shifted copies (im2col): on the
    CPU, XLA's convolution inside this nest of scan, map and cond runs ~20x slower."""
    height, width = images.shape[1:3]
    padded = jnp.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    patches = jnp.concatenate([padded[:, i:i + height:stride, j:j + width:stride]
                               for i in range(3) for j in range(3)], axis=-1)
    return patches @ w.reshape(-1, w.shape[-1])


def train(network: str, code: Code, seed, steps: int, batch_size: int, learning_rate: float,
          width: int):
    """Validation accuracy and loss of `network` with the activation `code`, after `steps`
    minibatch steps of SGD with momentum 0.9 from `seed`."""
    train_x, train_y, val_x, val_y = (jnp.asarray(a) for a in digits())
    init_key, data_key = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(seed),
                                                             ("mlp", "cnn").index(network)))

    def loss(params, images, labels):
        logits = jax.nn.log_softmax(forward(network, params, code, images))
        return -jnp.take_along_axis(logits, labels[:, None], axis=1).mean(), logits

    def step(carry, i):
        params, momentum = carry
        batch = jax.random.randint(jax.random.fold_in(data_key, i), (batch_size,), 0,
                                   len(train_y))
        grads = jax.grad(lambda p: loss(p, train_x[batch], train_y[batch])[0])(params)
        momentum = jax.tree_util.tree_map(lambda m, g: 0.9 * m + g, momentum, grads)
        params = jax.tree_util.tree_map(lambda p, m: p - learning_rate * m, params, momentum)
        return (params, momentum), None

    params = init(network, init_key, width)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    (params, _), _ = jax.lax.scan(step, (params, zeros), jnp.arange(steps))
    value, logits = loss(params, val_x, val_y)
    return (logits.argmax(axis=1) == val_y).mean(), value


@functools.cache
def trainer(networks: tuple[str, ...], steps: int, batch_size: int, learning_rate: float,
            width: int):
    """A jitted function (codes, seed) -> array (programs, 2, networks) of validation
    accuracies ([:, 0]) and losses ([:, 1])."""
    def one(code, seed):
        return jnp.array([train(n, code, seed, steps, batch_size, learning_rate, width)
                          for n in networks], jnp.float32).T

    def guarded(code, seed):
        skip = jnp.zeros((2, len(networks)), jnp.float32)
        return jax.lax.cond(code.valid, one, lambda *_: skip, code, seed)

    return jax.jit(lambda codes, seed: over_programs(lambda c: guarded(c, seed), codes, "map"))
