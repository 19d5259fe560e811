"""Training tasks for optimizer programs (Lion: Chen et al. 2023), in pure JAX.

The default tiers (`DEFAULT_TIERS`, issue 27) are minibatch tasks on data made on this machine:

* ``proxy`` tasks (an MLP on MNIST-1D, a convnet on randomly shifted digits; about a second
  per candidate and grid on one core) drive the search;
* ``funnel`` tasks are 4-10x larger (steps x parameters) versions of them, used to re-test
  the proxy winners;
* ``meta_validation`` tasks are held out of the search: a 2-layer character transformer on
  CPython's help text, a 1-D CNN and a deep MLP on MNIST-1D, a wider digits convnet.

`GPU_TIERS` gives the same roles to larger models for a GPU, the CPU tier's held-out tasks
beside a longer-trained, wider language model.

The full-batch tasks of before remain by name: proxies ``logreg_digits``, ``mlp_digits``,
``linreg_noisy``, ``spirals``; funnel ``mlp_digits_x10``, ``spirals_x10``; held out
``convnet_digits``, ``mlp_digits_wide``, ``spirals_deep``, ``linreg_large``.

Everything is float32 and jit/vmap friendly: parameters are a flat ``list[jax.Array]``
(``[W0, b0, W1, b1, ...]`` for the MLPs), losses are means over a batch with no Python control
flow on traced values, and the data are device arrays created once per task (``get_task`` is
cached).
Data are deterministic: the 8x8 digits shipped with scikit-learn split by a fixed permutation
(seed 0) into 1200 train / 597 validation images, and synthetic sets drawn from fixed numpy
seeds. Inputs are standardized with the training split's statistics. Classification tasks report
validation accuracy as ``metric``; regression tasks report the validation loss (mean squared
error). ``Task.validation_loss`` is always the training loss evaluated on the validation split.
Inputs have the samples on axis 0: (n, features) for every task except ``convnet_digits``,
whose inputs are precomputed 3x3 image patches of shape (n, 9, 4, 16) (see `_image_patches`),
and ``char_lm``, whose inputs and targets are (n, 64) character indexes (int32).

`Task` is public (``from search_spaces.optimizers import Task``): a user brings a task as a
function of no arguments returning one, named in the space's settings by an import string
``"package.module:make_task"`` beside the built-in names (`get_task`, `user_task`). The
built-in tasks are `Task`s built the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import platform
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from automl.environment import package_version
from automl.imports import made_by

Params = list[jax.Array]
F32 = jnp.float32


@dataclass(frozen=True, eq=False)  # eq=False: identity hash (the fields hold arrays)
class Task:
    """A problem an optimizer program is trained on: `steps` updates from `init_params(key)`
    on `loss(params, x, y)` over the training split (full-batch, or minibatches of
    `batch_size`), scored by the loss on the validation split (`validation_loss`, which
    `score` compares with tuned AdamW's).

    * `init_params(key)`: the initial parameters from a ``jax.random.PRNGKey``, a flat list of
      float32 arrays (every array is one "parameter tensor" the program sees);
    * `loss(params, x, y)`: a scalar, jit-able (no Python control flow on traced values), the
      mean over the samples on axis 0 of `x` and `y`;
    * the data: `train_x`, `train_y`, `valid_x`, `valid_y` (numpy or jax arrays, samples on
      axis 0; floating arrays become float32, others keep their kind);
    * `metric(params, x, y)`: reported per task beside the loss (default: the loss), named
      `metric_name` with `metric_direction` "minimize" or "maximize";
    * `kind`: "proxy", "funnel" or "meta_validation" for the built-in tasks, "user" for a
      user's (informational: which list a task goes in is the settings' choice);
    * `batch_size`: None (the default) trains full-batch; a positive integer (at most the
      training samples) makes every step a minibatch of that many training samples, drawn
      uniformly with replacement by counter-based randomness (`batch`): step t of a run from
      init seed s uses ``jax.random.fold_in(jax.random.PRNGKey(s), t)``, so a (program,
      seed) pair always trains on the same batches, whatever else is in its compiled batch;
    * `augment(key, x)`: optional, applied to each step's inputs (e.g. random shifts) with a
      key of that step's own (also counter-based); jit-able, same shape out as in.

    The arrays are fixed when the task is made: a campaign builds each task once per process.
    A `ValueError`/`TypeError` (one line) for a task that cannot train."""

    name: str
    steps: int
    init_params: Callable[[jax.Array], Params]
    loss: Callable[[Params, jax.Array, jax.Array], jax.Array]
    train_x: Any
    train_y: Any
    valid_x: Any
    valid_y: Any
    metric: Callable[[Params, jax.Array, jax.Array], jax.Array] | None = None
    metric_name: str = "loss"
    metric_direction: str = "minimize"
    kind: str = "user"
    batch_size: int | None = None
    augment: Callable[[jax.Array, jax.Array], jax.Array] | None = None

    def __post_init__(self) -> None:
        where = f"Task {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Task: name must be a non-empty string, got {self.name!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int | np.integer) \
                or self.steps < 1:
            raise ValueError(f"{where}: steps must be a positive integer, got {self.steps!r}")
        object.__setattr__(self, "steps", int(self.steps))
        for field in ("init_params", "loss", "metric", "augment"):
            value = getattr(self, field)
            if not (value is None and field in ("metric", "augment")) and not callable(value):
                raise TypeError(f"{where}: {field} must be callable, got "
                                f"{type(value).__name__}")
        if self.metric is None:
            object.__setattr__(self, "metric", self.loss)
        if self.metric_direction not in ("minimize", "maximize"):
            raise ValueError(f"{where}: metric_direction must be 'minimize' or 'maximize', "
                             f"got {self.metric_direction!r}")
        for split in ("train", "valid"):
            x, y = (_as_array(getattr(self, f"{split}_{axis}"), f"{where}: {split}_{axis}")
                    for axis in ("x", "y"))
            if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
                raise ValueError(f"{where}: {split}_x and {split}_y need the same positive "
                                 f"number of samples on axis 0, got shapes {x.shape} and "
                                 f"{y.shape}")
            object.__setattr__(self, f"{split}_x", x)
            object.__setattr__(self, f"{split}_y", y)
        if self.batch_size is not None:
            size = self.batch_size
            if isinstance(size, bool) or not isinstance(size, int | np.integer) or \
                    not 1 <= size <= self.train_x.shape[0]:
                raise ValueError(f"{where}: batch_size must be None (full batch) or an integer "
                                 f"from 1 to the {self.train_x.shape[0]} training samples, "
                                 f"got {size!r}")
            object.__setattr__(self, "batch_size", int(size))

    def batch(self, key: jax.Array, step: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The training inputs and targets of step `step` (1-based, an integer, may be traced)
        of a run whose randomness is `key` (``jax.random.PRNGKey(init_seed)``): the whole
        training split (full batch) or `batch_size` samples drawn uniformly with replacement
        under ``fold_in(key, step)``, then `augment`ed under a key split from it. A function of
        (key, step) alone: the same step of the same seed is the same batch."""
        x, y = self.train_x, self.train_y
        if self.batch_size is None and self.augment is None:
            return x, y
        sample_key, augment_key = jax.random.split(jax.random.fold_in(key, step))
        if self.batch_size is not None:
            index = jax.random.randint(sample_key, (self.batch_size,), 0, x.shape[0])
            x, y = x[index], y[index]
        if self.augment is not None:
            x = self.augment(augment_key, x)
        return x, y

    def validation_loss(self, params: Params) -> jax.Array:
        return self.loss(params, self.valid_x, self.valid_y)

    def train_loss(self, params: Params) -> jax.Array:
        return self.loss(params, self.train_x, self.train_y)

    @property
    def parameter_count(self) -> int:
        shapes = jax.eval_shape(self.init_params, jax.random.PRNGKey(0))
        return int(sum(np.prod(s.shape) for s in shapes))


def _as_array(value: Any, where: str) -> jax.Array:
    """A device array; floating data as float32 (what the interpreter trains in)."""
    try:
        array = jnp.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}: not an array ({type(value).__name__}: {error})") from None
    return array.astype(F32) if jnp.issubdtype(array.dtype, jnp.floating) else array


# -- data ----------------------------------------------------------------------------------
def _standardize(train: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)  # constant pixels (digits' border) stay at zero
    return (train - mean) / std, (valid - mean) / std


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """8x8 digits (1797 images, 64 features, 10 classes): 1200 train / 597 valid, standardized."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    x = data.data[order].astype(np.float64)
    y = data.target[order].astype(np.int32)
    train_x, valid_x = _standardize(x[:1200], x[1200:])
    return train_x, y[:1200], valid_x, y[1200:]


def _linear_regression(n_train: int, n_valid: int, features: int, noise: float, seed: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """y = x . w + 0.5 + noise, w ~ N(0, 1 / features) (signal variance ~1), with correlated
    features (singular values of the mixing matrix decay from 1 to 0.1, so the problem is mildly
    ill-conditioned even after standardizing)."""
    rng = np.random.default_rng(seed)
    n = n_train + n_valid
    basis, _ = np.linalg.qr(rng.normal(size=(features, features)))
    mixing = basis * np.geomspace(1.0, 0.1, features)
    x = rng.normal(size=(n, features)) @ mixing.T
    train_x, valid_x = _standardize(x[:n_train], x[n_train:])
    x = np.concatenate([train_x, valid_x])
    weights = rng.normal(size=features) / np.sqrt(features)
    y = x @ weights + 0.5 + noise * rng.normal(size=n)
    return train_x, y[:n_train], valid_x, y[n_train:]


def _two_spirals(n_train: int, n_valid: int, turns: float, noise: float, seed: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two interleaved spirals (labels 0 / 1), `turns` revolutions, Gaussian jitter."""
    rng = np.random.default_rng(seed)
    n = n_train + n_valid
    labels = rng.integers(0, 2, size=n)
    angle = np.sqrt(rng.uniform(0.0, 1.0, size=n)) * turns * 2 * np.pi
    radius = angle / (turns * 2 * np.pi)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    points = np.where(labels[:, None] == 1, -points, points)
    points = points + noise * rng.normal(size=points.shape)
    train_x, valid_x = _standardize(points[:n_train], points[n_train:])
    return train_x, labels[:n_train].astype(np.int32), valid_x, labels[n_train:].astype(np.int32)


# -- models --------------------------------------------------------------------------------
def _scaled_normal_init(weights: Sequence[tuple[tuple[int, ...], float]]
                        ) -> Callable[[jax.Array], Params]:
    """[W0, b0, W1, b1, ...]: W_i of shape `weights[i][0]` ~ N(0, weights[i][1]), zero biases
    (of W_i's last dimension). All weights come from one `jax.random.normal` draw: on CPU, XLA
    compiles one threefry call per distinct shape slowly (3 shapes: ~4 s, one draw: ~0.3 s)."""
    sizes = [int(np.prod(shape)) for shape, _ in weights]
    offsets = np.cumsum([0, *sizes])

    def init(key: jax.Array) -> Params:
        draw = jax.random.normal(key, (int(offsets[-1]),), F32)
        params: Params = []
        for (shape, variance), start, stop in zip(weights, offsets[:-1], offsets[1:],
                                                  strict=True):
            scale = jnp.sqrt(jnp.asarray(variance, F32))
            params.append(draw[start:stop].reshape(shape) * scale)
            params.append(jnp.zeros(shape[-1:], F32))
        return params

    return jax.jit(init)


def _dense_init(sizes: Sequence[int], gain: float) -> Callable[[jax.Array], Params]:
    """MLP layers `sizes[0] -> sizes[1] -> ...`: W ~ N(0, gain / fan_in), zero biases."""
    return _scaled_normal_init([((fan_in, fan_out), gain / fan_in)
                                for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True)])


def _mlp(activation: Callable[[jax.Array], jax.Array]
         ) -> Callable[[Params, jax.Array], jax.Array]:
    def apply(params: Params, x: jax.Array) -> jax.Array:
        for i in range(0, len(params) - 2, 2):
            x = activation(x @ params[i] + params[i + 1])
        return x @ params[-2] + params[-1]

    return apply


_CONV_DIMS = ("NHWC", "HWIO", "NHWC")


def _image_patches(images: np.ndarray) -> np.ndarray:
    """(n, 64) standardized digits -> (n, 9, 4, 16) patches: [:, k, d, b] is pixel offset
    k = 3 * ky + kx of the 3x3 neighbourhood (zero padded, SAME) of the pixel at position
    d = 2 * di + dj inside 2x2 block b = 4 * i + j, i.e. of pixel (2 * i + di, 2 * j + dj).
    Extracted once with `lax.conv_general_dilated` and an identity kernel.

    With this layout both convolutions of `_convnet` are plain matmuls with the samples on the
    wide axis. On a 2-core CPU, training the same network with `lax.conv_general_dilated` in the
    loss was ~15x slower (XLA's CPU convolutions, made grouped when the kernel is vmapped over
    learning rates), patches ordered (n, 8, 8, 9) ~2x slower; and XLA does not hoist a
    size-inflating patch extraction out of the training loop, so it is done here, once."""
    identity = jnp.eye(9, dtype=F32).reshape(3, 3, 1, 9)
    x = jnp.asarray(images, F32).reshape(-1, 8, 8, 1)
    patches = jax.lax.conv_general_dilated(x, identity, (1, 1), "SAME",
                                           dimension_numbers=_CONV_DIMS,
                                           precision=jax.lax.Precision.HIGHEST)
    patches = np.asarray(patches).reshape(-1, 4, 2, 4, 2, 9)  # (n, i, di, j, dj, k)
    return np.ascontiguousarray(patches.transpose(0, 5, 2, 4, 1, 3).reshape(-1, 9, 4, 16))


def _convnet_init(channels: tuple[int, int], classes: int) -> Callable[[jax.Array], Params]:
    """[3x3 kernel (3, 3, 1, c1), bias, 2x2 kernel (2, 2, c1, c2), bias, dense (16 c2, classes),
    bias]: He initialization for the convolutions, LeCun for the dense layer."""
    c1, c2 = channels
    return _scaled_normal_init([((3, 3, 1, c1), 2.0 / 9), ((2, 2, c1, c2), 2.0 / (4 * c1)),
                                ((4 * 4 * c2, classes), 1.0 / (16 * c2))])


def _convnet(params: Params, patches: jax.Array) -> jax.Array:
    """Digits given as patches (n, 9, 4, 16), see `_image_patches`: a 3x3 SAME convolution
    (1 -> c1) and ReLU, a 2x2 stride-2 convolution (c1 -> c2: 8x8 -> 4x4) and ReLU, a dense layer
    to the logits. Equal to `convnet_reference` on the images (see the tests); computed
    channels-first with the samples last, where every step is a matmul and reshapes are free."""
    w1, b1, w2, b2, w3, b3 = params
    n = patches.shape[0]
    c1, c2, classes = w1.shape[-1], w2.shape[-1], w3.shape[-1]
    x = jnp.moveaxis(patches, 0, -1).reshape(9, 4 * 16 * n)  # loop-invariant: hoisted by XLA
    h = jax.nn.relu(w1.reshape(9, c1).T @ x + b1[:, None])  # (c1, d, b, n)
    w2t = w2.reshape(4, c1, c2).transpose(2, 1, 0).reshape(c2, c1 * 4)  # (c2, (c1, d))
    h = jax.nn.relu(w2t @ h.reshape(c1 * 4, 16 * n) + b2[:, None])  # (c2, b, n)
    w3t = w3.reshape(16, c2, classes).transpose(2, 1, 0).reshape(classes, c2 * 16)
    return (w3t @ h.reshape(c2 * 16, n)).T + b3


def convnet_reference(params: Params, images: jax.Array) -> jax.Array:
    """`_convnet` written with `lax.conv_general_dilated` on (n, 64) images (for checking)."""
    w1, b1, w2, b2, w3, b3 = params
    h = images.reshape(images.shape[0], 8, 8, 1)
    h = jax.lax.conv_general_dilated(h, w1, (1, 1), "SAME", dimension_numbers=_CONV_DIMS)
    h = jax.nn.relu(h + b1)
    h = jax.lax.conv_general_dilated(h, w2, (2, 2), "VALID", dimension_numbers=_CONV_DIMS)
    h = jax.nn.relu(h + b2)
    return h.reshape(h.shape[0], -1) @ w3 + b3


@functools.cache
def _digits_patches() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    train_x, train_y, valid_x, valid_y = _digits()
    return _image_patches(train_x), train_y, _image_patches(valid_x), valid_y


# -- losses and metrics --------------------------------------------------------------------
def _softmax_loss(apply):
    def loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        logp = jax.nn.log_softmax(apply(params, x))
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    return loss


def _softmax_accuracy(apply):
    def accuracy(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean((jnp.argmax(apply(params, x), axis=1) == y).astype(F32))

    return accuracy


def _logistic_loss(apply):
    def loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        logits = apply(params, x)[:, 0]
        return jnp.mean(jax.nn.softplus(logits) - y.astype(F32) * logits)

    return loss


def _logistic_accuracy(apply):
    def accuracy(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean(((apply(params, x)[:, 0] > 0) == (y == 1)).astype(F32))

    return accuracy


def _squared_loss(apply):
    def loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean(jnp.square(apply(params, x)[:, 0] - y))

    return loss


# -- task builders -------------------------------------------------------------------------
def _as_jax(data, y_dtype) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    train_x, train_y, valid_x, valid_y = data
    return (jnp.asarray(train_x, F32), jnp.asarray(train_y, y_dtype),
            jnp.asarray(valid_x, F32), jnp.asarray(valid_y, y_dtype))


def _classifier(name: str, kind: str, steps: int, data, init, apply, binary: bool) -> Task:
    train_x, train_y, valid_x, valid_y = _as_jax(data, jnp.int32)
    loss, metric = ((_logistic_loss(apply), _logistic_accuracy(apply)) if binary
                    else (_softmax_loss(apply), _softmax_accuracy(apply)))
    return Task(name=name, steps=steps, init_params=init, loss=loss, metric=metric,
                metric_name="accuracy", metric_direction="maximize", train_x=train_x,
                train_y=train_y, valid_x=valid_x, valid_y=valid_y, kind=kind)


def _regression(name: str, kind: str, steps: int, data, init, apply) -> Task:
    train_x, train_y, valid_x, valid_y = _as_jax(data, F32)
    loss = _squared_loss(apply)
    return Task(name=name, steps=steps, init_params=init, loss=loss, metric=loss,
                metric_name="loss", metric_direction="minimize", train_x=train_x,
                train_y=train_y, valid_x=valid_x, valid_y=valid_y, kind=kind)


def _digits_mlp(name: str, kind: str, steps: int, hidden: Sequence[int]) -> Task:
    sizes = (64, *hidden, 10)
    return _classifier(name, kind, steps, _digits(), _dense_init(sizes, 2.0),
                       _mlp(jax.nn.relu), binary=False)


@functools.cache
def _spirals_data():
    return _two_spirals(n_train=400, n_valid=200, turns=1.5, noise=0.05, seed=1)


def _spirals_mlp(name: str, kind: str, steps: int, hidden: Sequence[int]) -> Task:
    sizes = (2, *hidden, 1)
    return _classifier(name, kind, steps, _spirals_data(), _dense_init(sizes, 1.0),
                       _mlp(jnp.tanh), binary=True)


def _linreg(name: str, kind: str, steps: int, n_train: int, n_valid: int, features: int,
            seed: int) -> Task:
    data = _linear_regression(n_train, n_valid, features, noise=0.5, seed=seed)
    return _regression(name, kind, steps, data, _dense_init((features, 1), 1.0),
                       _mlp(lambda h: h))


# -- minibatch tasks: MNIST-1D, digits with shifts, a character-level transformer ----------
DATASETS_ENV = "AUTOML_DATASETS"  # where generated datasets are cached
DEFAULT_DATASETS_DIRECTORY = os.path.join("results", "datasets")
MNIST1D_ARGS = {"num_samples": 5000, "train_split": 0.8, "final_seq_length": 40, "seed": 42}


def datasets_directory() -> str:
    """Where generated datasets are cached: ``$AUTOML_DATASETS``, else ``results/datasets``
    (beside the default database)."""
    return os.environ.get(DATASETS_ENV) or DEFAULT_DATASETS_DIRECTORY


def data_sources(names: Iterable[str]) -> dict[str, str]:
    """What made the data of the built-in tasks `names` beyond their own code: the `mnist1d`
    package's version (its generator's output may change between releases) and the Python
    version whose ``pydoc_data.topics`` the language model reads (regenerated each release).
    Part of the optimizer space's cache key (`SearchSpace.data_sources`)."""
    sources = {}
    for name in names:
        if "mnist1d" in name:
            sources["mnist1d"] = _package_version("mnist1d")
        if name.startswith("char_lm"):
            sources["pydoc_data"] = f"python {platform.python_version()}"
    return sources


def _package_version(package: str) -> str:
    return package_version(package) or "not installed"


def mnist1d_arrays(directory: str | None = None) -> dict[str, np.ndarray]:
    """MNIST-1D (Greydanus 2020) made by the `mnist1d` package's own generator
    (`make_dataset`, the package's default arguments with `MNIST1D_ARGS`): 4,000 training and
    1,000 test signals of length 40, 10 classes. Never downloaded (the package's
    `get_dataset` would fetch a pickle from GitHub; it is not called). Cached as
    ``mnist1d-<16 hex of the arguments' and the package version's SHA-256>.npz`` under
    `directory` (default
    `datasets_directory()`) and read from there afterwards; the generator's global
    numpy/random seeding is undone after it runs. A missing package is one line naming the
    extra (`automl.extras.MissingExtraError`)."""
    from automl.extras import require

    require({"mnist1d": "optimizers"}, "the MNIST-1D tasks")
    from mnist1d.data import get_dataset_args

    args = get_dataset_args(as_dict=True)
    args.pop("url", None)
    args.update(MNIST1D_ARGS)
    # the version too: another release of the generator may make other data from these args
    digest = hashlib.sha256(json.dumps({**args, "mnist1d": _package_version("mnist1d")},
                                       sort_keys=True).encode()).hexdigest()[:16]
    path = os.path.join(directory or datasets_directory(), f"mnist1d-{digest}.npz")
    if os.path.isfile(path):
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    from mnist1d.data import make_dataset
    from mnist1d.utils import ObjectView

    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(ObjectView(dict(args)))
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    arrays = {"x": np.asarray(data["x"], np.float32), "y": np.asarray(data["y"], np.int32),
              "x_test": np.asarray(data["x_test"], np.float32),
              "y_test": np.asarray(data["y_test"], np.int32)}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(partial, **arrays)
    os.replace(partial, path)  # atomic: a concurrent reader sees all of it or nothing
    return arrays


@functools.cache
def _mnist1d() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST-1D standardized per position with the training split's statistics."""
    arrays = mnist1d_arrays()
    train_x, valid_x = _standardize(arrays["x"].astype(np.float64),
                                    arrays["x_test"].astype(np.float64))
    return train_x, arrays["y"], valid_x, arrays["y_test"]


def _signal_patches(x: jax.Array, width: int) -> jax.Array:
    """(n, length) -> (n, length, width): the `width` neighbours (zero padded, SAME) of each
    position, as slices (a 1-D convolution is then a matmul)."""
    length = x.shape[1]
    before = (width - 1) // 2
    padded = jnp.pad(x, ((0, 0), (before, width - 1 - before)))
    return jnp.stack([padded[:, k:k + length] for k in range(width)], axis=-1)


def _cnn1d_init(channels: tuple[int, int, int], classes: int, width: int = 5
                ) -> Callable[[jax.Array], Params]:
    """[kernel (width, c1), bias, (2 c1, c2), bias, (2 c2, c3), bias, dense (10 c3, classes),
    bias]: He initialization for the convolutions, LeCun for the dense layer."""
    c1, c2, c3 = channels
    return _scaled_normal_init([((width, c1), 2.0 / width), ((2 * c1, c2), 2.0 / (2 * c1)),
                                ((2 * c2, c3), 2.0 / (2 * c2)),
                                ((10 * c3, classes), 1.0 / (10 * c3))])


def _cnn1d(params: Params, x: jax.Array) -> jax.Array:
    """MNIST-1D signals (n, 40): a SAME convolution (1 -> c1) and ReLU, then two stride-2
    width-2 convolutions (40 -> 20 -> 10 positions) with ReLU, a dense layer to the logits;
    every convolution a matmul on slices or reshapes."""
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    n = x.shape[0]
    h = jax.nn.relu(_signal_patches(x, w1.shape[0]) @ w1 + b1)  # (n, 40, c1)
    h = jax.nn.relu(h.reshape(n, 20, -1) @ w2 + b2)  # (n, 20, c2)
    h = jax.nn.relu(h.reshape(n, 10, -1) @ w3 + b3)  # (n, 10, c3)
    return h.reshape(n, -1) @ w4 + b4


def image_patches_in_graph(images: jax.Array) -> jax.Array:
    """`_image_patches` computed inside a jitted function from (n, 64) images (by slicing a
    zero-padded copy): for minibatches whose images are augmented each step."""
    n = images.shape[0]
    padded = jnp.pad(images.reshape(n, 8, 8), ((0, 0), (1, 1), (1, 1)))
    patches = jnp.stack([padded[:, ky:ky + 8, kx:kx + 8] for ky in range(3)
                         for kx in range(3)], axis=1)  # (n, k, 8, 8)
    patches = patches.reshape(n, 9, 4, 2, 4, 2)  # (n, k, i, di, j, dj)
    return patches.transpose(0, 1, 3, 5, 2, 4).reshape(n, 9, 4, 16)


def _convnet_on_images(params: Params, images: jax.Array) -> jax.Array:
    return _convnet(params, image_patches_in_graph(images))


def random_shifts(key: jax.Array, images: jax.Array, most: int = 1) -> jax.Array:
    """(n, 64) 8x8 images each shifted by its own random (dy, dx) in [-most, most]^2, zero
    filled (a standardized digit's background is ~0): the digits tasks' augmentation."""
    n = images.shape[0]
    padded = jnp.pad(images.reshape(n, 8, 8), ((0, 0), (most, most), (most, most)))
    offsets = jax.random.randint(key, (n, 2), 0, 2 * most + 1)
    shifted = jax.vmap(lambda image, at: jax.lax.dynamic_slice(image, at, (8, 8)))(
        padded, offsets)
    return shifted.reshape(n, 64)


@functools.cache
def _pydoc_text() -> tuple[str, str]:
    """CPython's own ``pydoc_data.topics`` (the help texts, ~465k characters; shipped with
    every Python, nothing downloaded), topics in name order, split by position: the first 90%
    for training, the rest for validation."""
    from pydoc_data.topics import topics

    text = "\n".join(topics[name] for name in sorted(topics))
    cut = int(0.9 * len(text))
    return text[:cut], text[cut:]


LM_CONTEXT = 64
LM_VALIDATION_WINDOWS = 128


@functools.cache
def _char_lm_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Training windows: the training text cut into consecutive windows of `LM_CONTEXT` + 1
    characters (inputs: the first 64, targets: the last 64); validation: 128 windows evenly
    spaced over the validation text. Characters are indexes into the sorted characters of the
    whole text. Returns (train_x, train_y, valid_x, valid_y, vocabulary size)."""
    train, valid = _pydoc_text()
    alphabet = {c: i for i, c in enumerate(sorted(set(train + valid)))}

    def windows(text: str, starts: np.ndarray) -> np.ndarray:
        codes = np.fromiter((alphabet[c] for c in text), np.int32, len(text))
        return codes[starts[:, None] + np.arange(LM_CONTEXT + 1)]

    span = LM_CONTEXT + 1
    train_windows = windows(train, np.arange(0, len(train) - span + 1, LM_CONTEXT))
    valid_windows = windows(valid, np.linspace(0, len(valid) - span,
                                               LM_VALIDATION_WINDOWS).astype(np.int64))
    return (train_windows[:, :-1], train_windows[:, 1:], valid_windows[:, :-1],
            valid_windows[:, 1:], len(alphabet))


def _normal_init(shapes: Sequence[tuple[tuple[int, ...], float]]
                 ) -> Callable[[jax.Array], Params]:
    """Parameters of the given shapes, each ~ N(0, variance) (variance 0: zeros), from one
    normal draw (see `_scaled_normal_init`)."""
    sizes = [int(np.prod(shape)) for shape, _ in shapes]
    offsets = np.cumsum([0, *sizes])

    def init(key: jax.Array) -> Params:
        draw = jax.random.normal(key, (int(offsets[-1]),), F32)
        return [draw[start:stop].reshape(shape) * jnp.sqrt(jnp.asarray(variance, F32))
                for (shape, variance), start, stop in zip(shapes, offsets[:-1], offsets[1:],
                                                          strict=True)]

    return jax.jit(init)


def _transformer_shapes(vocabulary: int, width: int, layers: int
                        ) -> list[tuple[tuple[int, ...], float]]:
    """[token embedding, position embedding, per layer: (query|key|value, output, MLP in, MLP
    in bias, MLP out, MLP out bias), unembedding, its bias] (GPT-2-like initialization:
    N(0, 0.02^2), output projections scaled by 1/sqrt(2 layers))."""
    std, out_std = 0.02, 0.02 / np.sqrt(2 * layers)
    shapes = [((vocabulary, width), std ** 2), ((LM_CONTEXT, width), std ** 2)]
    for _ in range(layers):
        shapes += [((width, 3 * width), std ** 2), ((width, width), out_std ** 2),
                   ((width, 4 * width), std ** 2), ((4 * width,), 0.0),
                   ((4 * width, width), out_std ** 2), ((width,), 0.0)]
    return shapes + [((width, vocabulary), std ** 2), ((vocabulary,), 0.0)]


def _rms_norm(x: jax.Array) -> jax.Array:
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + 1e-6)


def _transformer(heads: int):
    """A decoder-only transformer (pre-norm, parameter-free RMS norms, causal attention, GELU
    MLP): (n, context) character indexes -> (n, context, vocabulary) logits."""

    def apply(params: Params, x: jax.Array) -> jax.Array:
        embedding, position = params[0], params[1]
        n, context = x.shape
        width = embedding.shape[1]
        h = embedding[x] + position[:context]
        mask = jnp.tril(jnp.ones((context, context), bool))
        for i in range(2, len(params) - 2, 6):
            qkv, out, w_in, b_in, w_out, b_out = params[i:i + 6]
            q, k, v = jnp.split(_rms_norm(h) @ qkv, 3, axis=-1)
            q, k, v = (a.reshape(n, context, heads, width // heads) for a in (q, k, v))
            scores = jnp.einsum("nqhd,nkhd->nhqk", q, k) / np.sqrt(width // heads)
            weights = jax.nn.softmax(jnp.where(mask, scores, -1e9), axis=-1)
            attended = jnp.einsum("nhqk,nkhd->nqhd", weights, v).reshape(n, context, width)
            h = h + attended @ out
            h = h + jax.nn.gelu(_rms_norm(h) @ w_in + b_in) @ w_out + b_out
        return _rms_norm(h) @ params[-2] + params[-1]

    return apply


def _sequence_loss(apply):
    def loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        logp = jax.nn.log_softmax(apply(params, x))
        return -jnp.mean(jnp.take_along_axis(logp, y[..., None], axis=-1))

    return loss


def _char_lm(name: str, kind: str, steps: int, width: int, batch_size: int) -> Task:
    """Next-character prediction on `_pydoc_text` by a 2-layer transformer of `width` (4
    heads), context 64; loss and metric: the validation cross-entropy, nats per character."""
    train_x, train_y, valid_x, valid_y, vocabulary = _char_lm_data()
    loss = _sequence_loss(_transformer(heads=4))
    return Task(name=name, steps=steps, init_params=_normal_init(
        _transformer_shapes(vocabulary, width, layers=2)), loss=loss, metric=loss,
        train_x=train_x, train_y=train_y, valid_x=valid_x, valid_y=valid_y, kind=kind,
        batch_size=batch_size)


def _minibatch_classifier(name: str, kind: str, steps: int, data, init, apply,
                          batch_size: int, augment=None) -> Task:
    task = _classifier(name, kind, steps, data, init, apply, binary=False)
    return dataclasses.replace(task, batch_size=batch_size, augment=augment)


def _mnist1d_mlp(name: str, kind: str, steps: int, hidden: Sequence[int],
                 batch_size: int) -> Task:
    return _minibatch_classifier(name, kind, steps, _mnist1d(),
                                 _dense_init((40, *hidden, 10), 2.0), _mlp(jax.nn.relu),
                                 batch_size)


def _mnist1d_cnn(name: str, kind: str, steps: int, channels: tuple[int, int, int],
                 batch_size: int) -> Task:
    return _minibatch_classifier(name, kind, steps, _mnist1d(), _cnn1d_init(channels, 10),
                                 _cnn1d, batch_size)


def _digits_shift_cnn(name: str, kind: str, steps: int, channels: tuple[int, int],
                      batch_size: int) -> Task:
    return _minibatch_classifier(name, kind, steps, _digits(), _convnet_init(channels, 10),
                                 _convnet_on_images, batch_size, augment=random_shifts)


_BUILDERS: dict[str, tuple[str, Callable[[str, str], Task]]] = {
    # proxy
    "logreg_digits": ("proxy", lambda n, k: _digits_mlp(n, k, 100, ())),
    "mlp_digits": ("proxy", lambda n, k: _digits_mlp(n, k, 150, (32,))),
    "linreg_noisy": ("proxy", lambda n, k: _linreg(n, k, 100, 200, 200, 20, seed=2)),
    "spirals": ("proxy", lambda n, k: _spirals_mlp(n, k, 200, (32, 32))),
    # funnel: ~10x the proxy's steps x parameters
    "mlp_digits_x10": ("funnel", lambda n, k: _digits_mlp(n, k, 400, (128,))),
    "spirals_x10": ("funnel", lambda n, k: _spirals_mlp(n, k, 600, (64, 64))),
    # meta-validation: held out of the search
    "convnet_digits": ("meta_validation", lambda n, k: _classifier(
        n, k, 200, _digits_patches(), _convnet_init((8, 16), 10), _convnet, binary=False)),
    "mlp_digits_wide": ("meta_validation", lambda n, k: _digits_mlp(n, k, 500, (128, 128))),
    "spirals_deep": ("meta_validation",
                     lambda n, k: _spirals_mlp(n, k, 1000, (32, 32, 32, 32))),
    "linreg_large": ("meta_validation",
                     lambda n, k: _linreg(n, k, 500, 2000, 1000, 200, seed=3)),
    # minibatch tasks (issue 27)
    "mlp_mnist1d": ("proxy", lambda n, k: _mnist1d_mlp(n, k, 300, (64,), 64)),
    "cnn_digits_shift": ("proxy", lambda n, k: _digits_shift_cnn(n, k, 200, (8, 16), 64)),
    "mlp_mnist1d_x": ("funnel", lambda n, k: _mnist1d_mlp(n, k, 500, (96, 96), 64)),
    "cnn_digits_shift_x": ("funnel", lambda n, k: _digits_shift_cnn(n, k, 500, (16, 32), 64)),
    "char_lm": ("meta_validation", lambda n, k: _char_lm(n, k, 200, 64, 8)),
    "cnn1d_mnist1d": ("meta_validation", lambda n, k: _mnist1d_cnn(n, k, 400, (16, 32, 32), 64)),
    "mlp_mnist1d_deep": ("meta_validation",
                         lambda n, k: _mnist1d_mlp(n, k, 400, (64, 64, 64), 64)),
    "cnn_digits_shift_wide": ("meta_validation",
                              lambda n, k: _digits_shift_cnn(n, k, 300, (24, 48), 64)),
    # the GPU tiers (GPU_TIERS): the same families, larger models, longer training
    "mlp_mnist1d_l": ("proxy", lambda n, k: _mnist1d_mlp(n, k, 1000, (256, 256), 128)),
    "cnn_digits_shift_l": ("proxy", lambda n, k: _digits_shift_cnn(n, k, 600, (32, 64), 128)),
    "mlp_mnist1d_xl": ("funnel", lambda n, k: _mnist1d_mlp(n, k, 2000, (384, 384), 128)),
    "cnn_digits_shift_xl": ("funnel",
                            lambda n, k: _digits_shift_cnn(n, k, 1500, (48, 96), 128)),
    "char_lm_wide": ("meta_validation", lambda n, k: _char_lm(n, k, 2000, 128, 32)),
}

TASK_NAMES: dict[str, str] = {name: kind for name, (kind, _) in _BUILDERS.items()}
# the minibatch tiers (issue 27): proxies drive the search, the funnel re-tests proxy winners at
# 4-10x the cost, the held-out tasks (four families, the language model among them) are never
# searched on
DEFAULT_TIERS: dict[str, tuple[str, ...]] = {
    "proxy": ("mlp_mnist1d", "cnn_digits_shift"),
    "funnel": ("mlp_mnist1d_x", "cnn_digits_shift_x"),
    "meta_validation": ("char_lm", "cnn1d_mnist1d", "mlp_mnist1d_deep", "cnn_digits_shift_wide"),
}
# the same roles for a GPU (configs/optimizer_minibatch_gpu.yaml): proxies 18-80x the CPU
# proxies' steps x parameters (batches of 128), a funnel 4-10x those, and held out the
# language model at width 128 trained 10x longer on 4x the sequences (the CPU's char_lm stays
# near a bigram model's loss), beside the CPU tier's other three held-out tasks. Too slow to
# search on one core.
GPU_TIERS: dict[str, tuple[str, ...]] = {
    "proxy": ("mlp_mnist1d_l", "cnn_digits_shift_l"),
    "funnel": ("mlp_mnist1d_xl", "cnn_digits_shift_xl"),
    "meta_validation": ("char_lm_wide", "cnn1d_mnist1d", "mlp_mnist1d_deep",
                        "cnn_digits_shift_wide"),
}


def is_user_task(name: str) -> bool:
    """Whether a settings entry names a user's task by import string (not a built-in name)."""
    return ":" in name


def task_label(name: str) -> str:
    """How a task is named in objectives (``loss_<label>``): a built-in task's name, a user
    task's import string with its colon made a dot (``pkg.mod.make_task``)."""
    return name.replace(":", ".")


@functools.cache
def get_task(name: str) -> Task:
    """The task called `name`, a built-in name or a user's import string (built once per
    process); ValueError (`automl.imports.ImportStringError` for a user task: one line) for
    one that names nothing usable."""
    if is_user_task(name):
        return user_task(name)
    if name not in _BUILDERS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASK_NAMES)}")
    kind, build = _BUILDERS[name]
    return build(name, kind)


def user_task(spec: str, where: str = "") -> Task:
    """The `Task` that the user's ``make_task()`` named by `spec` (``"pkg.mod:make_task"``)
    returns; `automl.imports.ImportStringError`, one line naming `where`, the string and the
    reason, when it cannot be imported, raises or returns anything but a `Task`."""
    return made_by(spec, Task, where)
