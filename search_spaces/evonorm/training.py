"""Training and rejection for EvoNorm layer programs (Liu et al. 2020), compiled once per
(architecture, batch size, steps) and run on a batch of programs.

* Data: the 8x8 digits shipped with scikit-learn as NHWC (n, 8, 8, 1), split by a fixed
  permutation (seed 0) into 1200 train / 597 validation images (the split of
  `search_spaces.optimizers.tasks`), standardized per pixel with the training statistics; or
  CIFAR-10 read from a local directory (`load_cifar10`, `cifar10_dataset`); or a user's
  images and labels in a ``.npz`` file (`npz_dataset`). `load_dataset` reads what a space's
  ``dataset`` setting names.
* `make_trainer` compiles a function that trains every program of a batch (`lax.map` over
  programs: one compiled network serves every program) from the same initial weights, on the
  same minibatch sequence, with SGD-momentum or Adam and a cosine-decayed learning rate, and
  returns the validation accuracy (layer in inference mode) of each. A program whose training
  or evaluation produces a non-finite value gets `failure_value` and `diverged=True`.
* Rejection protocols: `make_quality_check` (accuracy after a short training under a
  threshold) and `make_stability_check` (normalized gradient ascent on the weights to maximize
  the gradient norm; reject when it exceeds a bound or becomes non-finite).
* `make_proxy` trains on each proxy architecture (the search's K objectives); `rerank` re-ranks
  the top programs on the held-out architecture at a held-out batch size.

Programs are pytrees of arrays whose leaves have the program axis first (size `num_programs`).
"""

from __future__ import annotations

import functools
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from automl.batching import over_programs
from search_spaces.evonorm.models import (
    HELDOUT_ARCHITECTURE,
    PROXY_ARCHITECTURES,
    Layer,
    Pytree,
    get_architecture,
)

F32 = jnp.float32
PROXY_BATCH_SIZE = 4  # small batches are where batch normalization suffers
HELDOUT_BATCH_SIZE = 16  # re-ranking: a batch size the search never saw
DEFAULT_STEPS = 300
QUALITY_STEPS = 100
QUALITY_THRESHOLD = 0.2  # digits has 10 classes: chance is 0.1
STABILITY_THRESHOLD = 1e8


# -- data ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    train_x: np.ndarray  # (n, h, w, c) float32
    train_y: np.ndarray  # (n,) int32
    valid_x: np.ndarray
    valid_y: np.ndarray
    classes: int

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.train_x.shape[1:])


@functools.cache
def digits() -> Dataset:
    """8x8 digits as NHWC (n, 8, 8, 1): 1200 train / 597 validation, standardized per pixel
    (constant pixels stay at zero)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    x = data.data[order].astype(np.float64)
    y = data.target[order].astype(np.int32)
    mean, std = x[:1200].mean(axis=0), x[:1200].std(axis=0)
    x = (x - mean) / np.where(std > 1e-6, std, 1.0)
    x = x.reshape(-1, 8, 8, 1).astype(np.float32)
    return Dataset("digits", x[:1200], y[:1200], x[1200:], y[1200:], classes=10)


CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"


def _read_cifar_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"CIFAR-10 batch file not found: {path}")
    with open(path, "rb") as handle:
        batch = pickle.load(handle, encoding="bytes")
    try:
        data, labels = batch[b"data"], batch[b"labels"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a CIFAR-10 python batch (a dict with b'data' and "
                         f"b'labels')") from error
    data = np.asarray(data, np.uint8)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise ValueError(f"{path}: b'data' must be uint8 (N, 3072) with N labels, got "
                         f"{data.shape} and {len(labels)} labels")
    # rows: 1024 red, 1024 green, 1024 blue values, each a row-major 32x32 plane
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, np.asarray(labels, np.int32)


def load_cifar10(directory: str | os.PathLike
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10 from the python-pickle batches (data_batch_1..5, test_batch) in `directory`
    (or in its ``cifar-10-batches-py`` subdirectory): (train_x, train_y, test_x, test_y),
    images NHWC float32 in [0, 1], labels int32. FileNotFoundError names what is missing."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"CIFAR-10 directory not found: {directory}")
    nested = os.path.join(directory, "cifar-10-batches-py")
    if not os.path.exists(os.path.join(directory, CIFAR10_TRAIN_FILES[0])) and \
            os.path.isdir(nested):
        directory = nested
    train = [_read_cifar_batch(os.path.join(directory, name)) for name in CIFAR10_TRAIN_FILES]
    test_x, test_y = _read_cifar_batch(os.path.join(directory, CIFAR10_TEST_FILE))
    train_x = np.concatenate([x for x, _ in train]).astype(np.float32) / 255.0
    train_y = np.concatenate([y for _, y in train])
    return train_x, train_y, test_x.astype(np.float32) / 255.0, test_y


def cifar10_dataset(directory: str | os.PathLike, train_size: int | None = None,
                    valid_size: int | None = None) -> Dataset:
    """CIFAR-10 as a `Dataset` (the test batch as validation), standardized per channel with
    the training statistics, optionally cut to the first `train_size` / `valid_size` images."""
    train_x, train_y, valid_x, valid_y = load_cifar10(directory)
    train_x, train_y = train_x[:train_size], train_y[:train_size]
    valid_x, valid_y = valid_x[:valid_size], valid_y[:valid_size]
    mean = train_x.mean(axis=(0, 1, 2))
    std = np.maximum(train_x.std(axis=(0, 1, 2)), 1e-6)
    return Dataset("cifar10", ((train_x - mean) / std).astype(np.float32), train_y,
                   ((valid_x - mean) / std).astype(np.float32), valid_y, classes=10)


NPZ_VALID_FRACTION = 1 / 3  # of x, y in an .npz without its own validation split


def _standardized_images(images: np.ndarray, where: str) -> np.ndarray:
    """NHWC images as float (uint8 divided by 255), checked."""
    images = np.asarray(images)
    if images.ndim != 4 or min(images.shape) < 1:
        raise ValueError(f"{where}: images must be NHWC (n, height, width, channels), got "
                         f"shape {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    if not np.issubdtype(images.dtype, np.floating) or not np.isfinite(images).all():
        raise ValueError(f"{where}: images must be uint8 or finite floats, got {images.dtype}")
    return images.astype(np.float32)


def _labels(labels: np.ndarray, count: int, where: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (count,) or not np.issubdtype(labels.dtype, np.integer) or \
            (count and labels.min() < 0):
        raise ValueError(f"{where}: labels must be {count} integers >= 0, got "
                         f"{labels.dtype} of shape {labels.shape}")
    return labels.astype(np.int32)


def npz_dataset(path: str) -> Dataset:
    """`read_npz(path)`, read again when the file changed (its modification time or size):
    the cache key holds the file's digest, so results on changed images must be computed on
    them, in a notebook or a reused worker process too."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"dataset file not found: {path}")
    stat = os.stat(path)
    return _read_npz_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_npz_cached(path: str, modified_ns: int, size: int) -> Dataset:
    return read_npz(path)


def read_npz(path: str) -> Dataset:
    """Images and integer labels from a numpy ``.npz`` file: ``train_x``, ``train_y``,
    ``valid_x``, ``valid_y``; or ``x`` and ``y``, split by a fixed permutation (seed 0) into
    the first two thirds for training and the rest for validation. Images are NHWC, uint8
    (divided by 255) or float; they are standardized per channel with the training split's
    statistics (as `cifar10_dataset`). Classes: the largest label + 1. ValueError or
    FileNotFoundError, one line naming the file, for anything else."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"dataset file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a numpy .npz file ({error})") from None
    if {"train_x", "train_y", "valid_x", "valid_y"} <= set(arrays):
        train_x = _standardized_images(arrays["train_x"], f"{path}: train_x")
        valid_x = _standardized_images(arrays["valid_x"], f"{path}: valid_x")
        train_y = _labels(arrays["train_y"], len(train_x), f"{path}: train_y")
        valid_y = _labels(arrays["valid_y"], len(valid_x), f"{path}: valid_y")
    elif {"x", "y"} <= set(arrays):
        x = _standardized_images(arrays["x"], f"{path}: x")
        y = _labels(arrays["y"], len(x), f"{path}: y")
        order = np.random.default_rng(0).permutation(len(y))
        cut = len(y) - int(round(len(y) * NPZ_VALID_FRACTION))
        if not 0 < cut < len(y):
            raise ValueError(f"{path}: {len(y)} images are too few to split")
        train_x, train_y = x[order[:cut]], y[order[:cut]]
        valid_x, valid_y = x[order[cut:]], y[order[cut:]]
    else:
        raise ValueError(f"{path}: needs arrays train_x, train_y, valid_x, valid_y, or x and "
                         f"y; has {', '.join(sorted(arrays)) or 'none'}")
    if train_x.shape[1:] != valid_x.shape[1:]:
        raise ValueError(f"{path}: training images {train_x.shape[1:]} and validation "
                         f"images {valid_x.shape[1:]} differ in shape")
    mean = train_x.mean(axis=(0, 1, 2))
    std = np.maximum(train_x.std(axis=(0, 1, 2)), 1e-6)
    classes = int(max(train_y.max(), valid_y.max())) + 1
    return Dataset(os.path.basename(path), ((train_x - mean) / std).astype(np.float32),
                   train_y, ((valid_x - mean) / std).astype(np.float32), valid_y, classes)


def load_dataset(spec: str | dict) -> Dataset:
    """The dataset a space's settings name: ``"digits"``, ``{"npz": path}`` (`npz_dataset`)
    or ``{"cifar10": directory}`` (`cifar10_dataset`)."""
    if spec == "digits":
        return digits()
    if isinstance(spec, dict) and set(spec) == {"npz"}:
        return npz_dataset(os.fspath(spec["npz"]))
    if isinstance(spec, dict) and set(spec) == {"cifar10"}:
        return _cifar10_cached(os.fspath(spec["cifar10"]))
    raise ValueError(f"unknown dataset {spec!r}: digits, {{npz: path}} or {{cifar10: "
                     f"directory}}")


@functools.cache
def _cifar10_cached(directory: str) -> Dataset:
    return cifar10_dataset(directory)


def minibatch_indices(num_examples: int, batch_size: int, steps: int, seed: int = 0
                      ) -> np.ndarray:
    """(steps, batch_size) training indices: consecutive shuffled epochs (the same for every
    program, so programs differ only by their layer)."""
    rng = np.random.default_rng(seed)
    epochs = -(-steps * batch_size // num_examples)
    order = np.concatenate([rng.permutation(num_examples) for _ in range(epochs)])
    return order[:steps * batch_size].reshape(steps, batch_size).astype(np.int32)


# -- training -------------------------------------------------------------------------------
def _cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def _all_finite(tree: Pytree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def _tree_norm(tree: Pytree) -> jax.Array:
    return jnp.sqrt(sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree_util.tree_leaves(tree)))


def _optimizer(name: str, learning_rate: float, steps: int, momentum: float = 0.9):
    """(init(params) -> opt_state, update(grads, opt_state, params, step) -> (params,
    opt_state)): SGD with (heavy-ball) momentum or Adam, learning rate cosine-decayed to 0."""
    tree_map = jax.tree_util.tree_map

    def rate(step):
        return learning_rate * 0.5 * (1.0 + jnp.cos(jnp.pi * step / steps))

    if name == "momentum":
        def init(params):
            return tree_map(jnp.zeros_like, params)

        def update(grads, velocity, params, step):
            velocity = tree_map(lambda v, g: momentum * v + g, velocity, grads)
            lr = rate(step)
            return tree_map(lambda p, v: p - lr * v, params, velocity), velocity

    elif name == "adam":
        b1, b2, eps = 0.9, 0.999, 1e-8

        def init(params):
            return tree_map(jnp.zeros_like, params), tree_map(jnp.zeros_like, params)

        def update(grads, state, params, step):
            m, v = state
            m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
            v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
            t = step + 1.0
            lr = rate(step) * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            params = tree_map(lambda p, m, v: p - lr * m / (jnp.sqrt(v) + eps), params, m, v)
            return params, (m, v)

    else:
        raise ValueError(f"unknown optimizer {name!r}: 'momentum' or 'adam'")
    return init, update


@dataclass(frozen=True)
class TrainResult:
    accuracy: np.ndarray  # (P,) validation accuracy; failure_value where diverged
    loss: np.ndarray  # (P,) validation cross-entropy; inf where diverged
    diverged: np.ndarray  # (P,) bool: a non-finite parameter, state, logit or loss


def _skipping_padding(function: Callable, is_padding: Callable | None) -> Callable:
    """`function(program, *rest)`, except that a program for which `is_padding(program)` holds
    returns zeros without running it. Inside `lax.map` the predicate is a scalar, so the
    condition really skips the work: padding a batch up to a compiled size costs nothing."""
    if is_padding is None:
        return function

    def run(program, *rest):
        def zeros(program, *rest):
            shapes = jax.eval_shape(function, program, *rest)
            return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

        return jax.lax.cond(is_padding(program), zeros, function, program, *rest)

    return run


def _num_programs(programs: Pytree) -> int:
    leaves = jax.tree_util.tree_leaves(programs)
    if not leaves:
        raise ValueError("programs must be a pytree of arrays with the program axis first")
    sizes = {int(np.shape(leaf)[0]) if np.ndim(leaf) else -1 for leaf in leaves}
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(f"program leaves disagree on the program axis: {sorted(sizes)}")
    return sizes.pop()


def make_trainer(arch: str, layer: Layer, batch_size: int = PROXY_BATCH_SIZE,
                 steps: int = DEFAULT_STEPS, learning_rate: float = 0.05,
                 num_programs: int = 1, *, optimizer: str = "momentum",
                 data: Dataset | None = None, seed: int = 0, failure_value: float = 0.0,
                 is_padding: Callable[[Pytree], jax.Array] | None = None,
                 batching: str = "map") -> Callable[[Pytree], TrainResult]:
    """Compile (on first call) a function: programs (pytree, program axis first, size
    `num_programs`) -> `TrainResult`. Every program trains `steps` minibatches of
    `batch_size` from the same initial weights (`seed`) on the same minibatch sequence; the
    accuracy is measured on the whole validation split with the layer in inference mode.
    Programs for which `is_padding(program)` holds are skipped (their rows are zeros).
    `batching`: "map" (programs one after another) or "vmap" (all at once; see
    `automl.batching.resolve_program_batching`)."""
    data = digits() if data is None else data
    model = get_architecture(arch)
    params0, state0 = model.init(layer, data.input_shape, data.classes, seed)
    indices = minibatch_indices(len(data.train_y), batch_size, steps, seed)
    opt_init, opt_update = _optimizer(optimizer, learning_rate, steps)

    def loss_fn(params, state, program, x, y):
        logits, state = model.apply(layer, params, state, program, x, True)
        return _cross_entropy(logits, y), state

    grad_fn = jax.grad(loss_fn, has_aux=True)

    def train_one(program, train_x, train_y, valid_x, valid_y, indices, params0, state0):
        def step(carry, inputs):
            params, state, opt_state = carry
            batch, t = inputs
            grads, state = grad_fn(params, state, program, train_x[batch], train_y[batch])
            params, opt_state = opt_update(grads, opt_state, params, t)
            return (params, state, opt_state), None

        steps_f = jnp.arange(indices.shape[0], dtype=F32)
        (params, state, _), _ = jax.lax.scan(step, (params0, state0, opt_init(params0)),
                                             (indices, steps_f))
        logits, _ = model.apply(layer, params, state, program, valid_x, False)
        loss = _cross_entropy(logits, valid_y)
        accuracy = jnp.mean((jnp.argmax(logits, axis=1) == valid_y).astype(F32))
        finite = _all_finite((params, state, logits)) & jnp.isfinite(loss)
        return (jnp.where(finite, accuracy, failure_value), jnp.where(finite, loss, jnp.inf),
                ~finite)

    train_or_skip = _skipping_padding(train_one, is_padding)

    @jax.jit
    def train_batch(programs, *arrays):
        return over_programs(lambda program: train_or_skip(program, *arrays), programs,
                              batching)

    arrays = (jnp.asarray(data.train_x), jnp.asarray(data.train_y), jnp.asarray(data.valid_x),
              jnp.asarray(data.valid_y), jnp.asarray(indices), params0, state0)

    def run(programs: Pytree) -> TrainResult:
        count = _num_programs(programs)
        if count != num_programs:
            raise ValueError(f"trainer compiled for {num_programs} programs, got {count}")
        accuracy, loss, diverged = train_batch(programs, *arrays)
        return TrainResult(np.asarray(accuracy), np.asarray(loss), np.asarray(diverged))

    return run


# -- rejection protocols ---------------------------------------------------------------------
@dataclass(frozen=True)
class QualityResult:
    reject: np.ndarray  # (P,) bool
    accuracy: np.ndarray  # (P,)
    diverged: np.ndarray  # (P,) bool (always rejected)


def make_quality_check(arch: str, layer: Layer, batch_size: int = PROXY_BATCH_SIZE,
                       num_programs: int = 1, steps: int = QUALITY_STEPS,
                       threshold: float = QUALITY_THRESHOLD, learning_rate: float = 0.05,
                       **trainer_options) -> Callable[[Pytree], QualityResult]:
    """Reject a program whose validation accuracy after `steps` training steps is under
    `threshold`, or whose training diverged."""
    trainer = make_trainer(arch, layer, batch_size, steps, learning_rate, num_programs,
                           **trainer_options)

    def check(programs: Pytree) -> QualityResult:
        result = trainer(programs)
        return QualityResult((result.accuracy < threshold) | result.diverged, result.accuracy,
                             result.diverged)

    return check


@dataclass(frozen=True)
class StabilityResult:
    reject: np.ndarray  # (P,) bool
    max_grad_norm: np.ndarray  # (P,) largest gradient norm seen (inf when non-finite)


def make_stability_check(arch: str, layer: Layer, batch_size: int = PROXY_BATCH_SIZE,
                         num_programs: int = 1, steps: int = 10, step_size: float = 0.5,
                         threshold: float = STABILITY_THRESHOLD, *,
                         data: Dataset | None = None, seed: int = 0,
                         is_padding: Callable[[Pytree], jax.Array] | None = None,
                         batching: str = "map") -> Callable[[Pytree], StabilityResult]:
    """Adversarial stability check: from the initial weights, `steps` steps of normalized
    gradient ascent on all parameters (weights and layer parameters) to maximize the norm of the
    training-loss gradient on one minibatch (layer in training mode),

        theta <- theta + step_size * d / ||d||,   d = grad ||grad L(theta)||  (= H g / ||g||),

    with d computed as a Hessian-vector product (forward-over-reverse, so `layer.apply` must be
    differentiable twice). Rejects a program when the gradient norm, at any of the `steps` + 1
    points, exceeds `threshold` or is not finite. Each step moves the weights by `step_size`,
    so a layer passes only if no nearby weights make its gradients explode. Programs for
    which `is_padding(program)` holds are skipped; `batching` as in `make_trainer`."""
    data = digits() if data is None else data
    model = get_architecture(arch)
    params0, state0 = model.init(layer, data.input_shape, data.classes, seed)
    batch = minibatch_indices(len(data.train_y), batch_size, 1, seed)[0]
    x, y = jnp.asarray(data.train_x[batch]), jnp.asarray(data.train_y[batch])
    tree_map = jax.tree_util.tree_map

    def check_one(program, x, y, params0, state0):
        def loss(params):
            logits, _ = model.apply(layer, params, state0, program, x, True)
            return _cross_entropy(logits, y)

        grad = jax.grad(loss)

        def norm_and_ascent(params):
            g = grad(params)
            _, hg = jax.jvp(grad, (params,), (g,))
            return _tree_norm(g), hg

        def step(carry, _):
            params, worst = carry
            norm, direction = norm_and_ascent(params)
            scale = step_size / (_tree_norm(direction) + 1e-30)
            params = tree_map(lambda p, d: p + scale * d, params, direction)
            worst = jnp.maximum(worst, jnp.where(jnp.isfinite(norm), norm, jnp.inf))
            return (params, worst), None

        (params, worst), _ = jax.lax.scan(step, (params0, jnp.zeros((), F32)), None,
                                          length=steps)
        final = _tree_norm(grad(params))
        return jnp.maximum(worst, jnp.where(jnp.isfinite(final), final, jnp.inf))

    check_or_skip = _skipping_padding(check_one, is_padding)

    @jax.jit
    def check_batch(programs, x, y, params0, state0):
        return over_programs(lambda program: check_or_skip(program, x, y, params0, state0),
                              programs, batching)

    def check(programs: Pytree) -> StabilityResult:
        count = _num_programs(programs)
        if count != num_programs:
            raise ValueError(f"stability check compiled for {num_programs} programs, "
                             f"got {count}")
        norms = np.asarray(check_batch(programs, x, y, params0, state0))
        return StabilityResult(~(norms <= threshold), norms)

    return check


# -- search objectives and held-out re-ranking ----------------------------------------------
def make_proxy(layer: Layer, num_programs: int = 1,
               architectures: Sequence[str] = PROXY_ARCHITECTURES,
               batch_size: int = PROXY_BATCH_SIZE, steps: int = DEFAULT_STEPS,
               learning_rate: float = 0.05, **trainer_options
               ) -> Callable[[Pytree], dict[str, TrainResult]]:
    """The search's objectives: programs -> {architecture: TrainResult} (one trainer each)."""
    trainers = {arch: make_trainer(arch, layer, batch_size, steps, learning_rate, num_programs,
                                   **trainer_options) for arch in architectures}
    return lambda programs: {arch: train(programs) for arch, train in trainers.items()}


def rerank(layer: Layer, programs: Pytree, arch: str = HELDOUT_ARCHITECTURE,
           batch_size: int = HELDOUT_BATCH_SIZE, steps: int = DEFAULT_STEPS,
           learning_rate: float = 0.05, **trainer_options) -> tuple[np.ndarray, TrainResult]:
    """Held-out evaluation of the search's top programs: train each on `arch` at `batch_size`
    (neither seen by the search); returns (indices best first, TrainResult). Ties keep the
    given order (pass the programs in search rank)."""
    result = make_trainer(arch, layer, batch_size, steps, learning_rate,
                          _num_programs(programs), **trainer_options)(programs)
    return np.argsort(-result.accuracy, kind="stable"), result
