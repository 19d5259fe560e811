"""Small NHWC convolutional networks in pure JAX whose every norm-activation pair is a searched
layer (EvoNorms: Liu et al. 2020).

The layer is injected (see `Layer`): a pair of callables

* ``init_layer(num_channels) -> (layer_params, layer_state)``
* ``apply(program, layer_params, layer_state, x, training) -> (y, new_layer_state)``

where ``program`` is a pytree of arrays (an encoded layer program; traced, so one compiled
network serves every program) and ``x`` is NHWC float32. A module that defines both functions
(the EvoNorm interpreter) satisfies the protocol, so does a `LayerFunctions`.

Four architectures, each small enough to train for a few hundred steps on a CPU:

* ``resnet``: pre-activation ResNet, a 16-channel stem, a 16-channel block and a 32-channel
  stride-2 block with a 1x1 projection shortcut, a final layer, global pooling (5 layer sites);
* ``mobilenetv2``: inverted residuals (1x1 expansion, 3x3 depthwise, linear 1x1 projection),
  16 -> 16 (x3, residual) and 16 -> 24 (x3, stride 2), a 1x1 head to 32 channels (6 sites);
* ``efficientnet``: MBConv blocks with squeeze-excitation (swish inside the SE branch, which is
  not a norm-activation pair), 16 -> 16 (no expansion, residual) and 16 -> 24 (x4, stride 2),
  a 1x1 head to 32 channels (5 sites);
* ``vgg``: the held-out architecture, never seen by the search: two 3x3 convolutions at 16
  channels, 2x2 max pooling, two at 32 channels (4 sites).

Each architecture is one Python function of an ``ops`` object, run once in init mode (which
allocates weights and layer parameters, in call order) and traced in apply mode. Parameters are
``{"weights": {name: array}, "layers": (layer_params per site, ...)}``; the state is
``(layer_state per site, ...)``. Convolutions followed by a layer have no bias (the layer has
its own beta); depthwise convolutions are written as 9 shifted multiply-adds, which XLA's CPU
backend runs faster than a grouped convolution at these sizes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from automl.imports import made_by

F32 = jnp.float32
Pytree = Any
_CONV_DIMS = ("NHWC", "HWIO", "NHWC")


class Layer(Protocol):
    """A normalization-activation layer (a module with these two functions qualifies)."""

    def init_layer(self, num_channels: int) -> tuple[Pytree, Pytree]: ...

    def apply(self, program: Pytree, layer_params: Pytree, layer_state: Pytree, x: jax.Array,
              training: bool) -> tuple[jax.Array, Pytree]: ...


@dataclass(frozen=True)
class LayerFunctions:
    """Two callables as a `Layer`."""

    init_layer: Callable[[int], tuple[Pytree, Pytree]]
    apply: Callable[..., tuple[jax.Array, Pytree]]


# -- ops: init mode and apply mode ----------------------------------------------------------
class _InitOps:
    """Allocates parameters in call order; activations are zero arrays of the right shape."""

    def __init__(self, layer: Layer, rng: np.random.Generator):
        self.layer, self.rng = layer, rng
        self.weights: dict[str, np.ndarray] = {}
        self.layer_params: list[Pytree] = []
        self.layer_state: list[Pytree] = []

    def _new(self, name: str, shape: tuple[int, ...], std: float) -> None:
        if name in self.weights:
            raise ValueError(f"duplicate parameter name {name!r}")
        value = self.rng.normal(0.0, std, size=shape) if std else np.zeros(shape)
        self.weights[name] = value.astype(np.float32)

    def conv(self, name: str, x, size: int, channels: int, stride: int = 1, bias: bool = False):
        n, h, w, c = x.shape
        self._new(name, (size, size, c, channels), np.sqrt(2.0 / (size * size * c)))
        if bias:
            self._new(name + "/b", (channels,), 0.0)
        return jnp.zeros((n, -(-h // stride), -(-w // stride), channels), F32)

    def depthwise(self, name: str, x, stride: int = 1):
        n, h, w, c = x.shape
        self._new(name, (3, 3, c), np.sqrt(2.0 / 9))
        return jnp.zeros((n, -(-h // stride), -(-w // stride), c), F32)

    def dense(self, name: str, x, features: int, std: float | None = None):
        fan_in = x.shape[-1]
        self._new(name, (fan_in, features), np.sqrt(1.0 / fan_in) if std is None else std)
        self._new(name + "/b", (features,), 0.0)
        return jnp.zeros((*x.shape[:-1], features), F32)

    def norm_act(self, x):
        params, state = self.layer.init_layer(int(x.shape[-1]))
        self.layer_params.append(params)
        self.layer_state.append(state)
        return x


class _ApplyOps:
    def __init__(self, layer: Layer, params: Pytree, state: Pytree, program: Pytree,
                 training: bool):
        self.layer, self.program, self.training = layer, program, training
        self.weights = params["weights"]
        self.layer_params, self.layer_state = params["layers"], state
        self.new_state: list[Pytree] = []

    def conv(self, name: str, x, size: int, channels: int, stride: int = 1, bias: bool = False):
        y = jax.lax.conv_general_dilated(x, self.weights[name], (stride, stride), "SAME",
                                         dimension_numbers=_CONV_DIMS)
        return y + self.weights[name + "/b"] if bias else y

    def depthwise(self, name: str, x, stride: int = 1):
        """3x3 depthwise convolution, SAME padding: 9 shifted products."""
        kernel = self.weights[name]
        _, h, w, _ = x.shape
        padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        y = sum(padded[:, dy:dy + h, dx:dx + w, :] * kernel[dy, dx]
                for dy in range(3) for dx in range(3))
        return y[:, ::stride, ::stride, :] if stride > 1 else y

    def dense(self, name: str, x, features: int, std: float | None = None):
        return x @ self.weights[name] + self.weights[name + "/b"]

    def norm_act(self, x):
        site = len(self.new_state)
        y, state = self.layer.apply(self.program, self.layer_params[site],
                                    self.layer_state[site], x, self.training)
        self.new_state.append(state)
        return y


def _global_pool(x):
    return jnp.mean(x, axis=(1, 2))


def _max_pool(x):
    n, h, w, c = x.shape
    return jnp.max(x.reshape(n, h // 2, 2, w // 2, 2, c), axis=(2, 4))


# -- architectures ----------------------------------------------------------------------------
def _resnet(ops, x, classes: int):
    def block(name, x, channels, stride):
        h = ops.norm_act(x)
        shortcut = (x if stride == 1 and x.shape[-1] == channels
                    else ops.conv(name + "/proj", h, 1, channels, stride))
        h = ops.conv(name + "/conv1", h, 3, channels, stride)
        h = ops.conv(name + "/conv2", ops.norm_act(h), 3, channels)
        return h + shortcut

    x = ops.conv("stem", x, 3, 16)
    x = block("block1", x, 16, 1)
    x = block("block2", x, 32, 2)
    return ops.dense("head", _global_pool(ops.norm_act(x)), classes)


def _inverted_residual(ops, name, x, channels, expansion, stride, squeeze_excite):
    inputs = x.shape[-1]
    h = x
    if expansion != 1:
        h = ops.norm_act(ops.conv(name + "/expand", h, 1, inputs * expansion))
    h = ops.norm_act(ops.depthwise(name + "/depthwise", h, stride))
    if squeeze_excite:
        s = jax.nn.swish(ops.dense(name + "/se_reduce", _global_pool(h), max(1, inputs // 4)))
        s = jax.nn.sigmoid(ops.dense(name + "/se_expand", s, h.shape[-1]))
        h = h * s[:, None, None, :]
    h = ops.conv(name + "/project", h, 1, channels, bias=True)  # linear bottleneck
    return h + x if stride == 1 and inputs == channels else h


def _mobilenetv2(ops, x, classes: int):
    x = ops.norm_act(ops.conv("stem", x, 3, 16))
    x = _inverted_residual(ops, "block1", x, 16, 3, 1, squeeze_excite=False)
    x = _inverted_residual(ops, "block2", x, 24, 3, 2, squeeze_excite=False)
    x = ops.norm_act(ops.conv("head_conv", x, 1, 32))
    return ops.dense("head", _global_pool(x), classes)


def _efficientnet(ops, x, classes: int):
    x = ops.norm_act(ops.conv("stem", x, 3, 16))
    x = _inverted_residual(ops, "block1", x, 16, 1, 1, squeeze_excite=True)
    x = _inverted_residual(ops, "block2", x, 24, 4, 2, squeeze_excite=True)
    x = ops.norm_act(ops.conv("head_conv", x, 1, 32))
    return ops.dense("head", _global_pool(x), classes)


def _vgg(ops, x, classes: int):
    x = ops.norm_act(ops.conv("conv1", x, 3, 16))
    x = _max_pool(ops.norm_act(ops.conv("conv2", x, 3, 16)))
    x = ops.norm_act(ops.conv("conv3", x, 3, 32))
    x = ops.norm_act(ops.conv("conv4", x, 3, 32))
    return ops.dense("head", _global_pool(x), classes)


@dataclass(frozen=True)
class Architecture:
    """A network whose norm-activation sites hold the layer under search (public:
    ``from search_spaces.evonorm import Architecture``; a user's ``make_net()`` returns one,
    see `user_architecture` for what `forward` may call)."""

    name: str
    forward: Callable[..., Any]

    def init(self, layer: Layer, input_shape: tuple[int, int, int], classes: int,
             seed: int = 0) -> tuple[Pytree, Pytree]:
        """(params, state) for inputs of shape (height, width, channels): He-normal
        convolutions, LeCun-normal dense layers, zero biases, `layer.init_layer` per site."""
        ops = _InitOps(layer, np.random.default_rng(seed))
        logits = self.forward(ops, jnp.zeros((1, *input_shape), F32), classes)
        if "head" not in ops.weights or tuple(getattr(logits, "shape", ())) != (1, classes):
            raise ValueError(f"network {self.name!r}: forward(ops, x, classes) must end with "
                             f"ops.dense('head', ..., classes) and return (n, classes) "
                             f"logits; got shape {tuple(getattr(logits, 'shape', ()))}")
        if not ops.layer_params:
            raise ValueError(f"network {self.name!r}: no ops.norm_act site, so the layer "
                             f"under search is never used")
        weights = {name: jnp.asarray(value) for name, value in ops.weights.items()}
        params = {"weights": weights, "layers": tuple(ops.layer_params)}
        return params, tuple(ops.layer_state)

    def apply(self, layer: Layer, params: Pytree, state: Pytree, program: Pytree, x: jax.Array,
              training: bool) -> tuple[jax.Array, Pytree]:
        """Logits (n, classes) and the new layer states (unchanged in use when the layer
        leaves them so with training=False)."""
        ops = _ApplyOps(layer, params, state, program, training)
        classes = params["weights"]["head"].shape[-1]
        logits = self.forward(ops, x, classes)
        if len(ops.new_state) != len(state):
            raise ValueError(f"{self.name}: {len(ops.new_state)} layer sites applied, "
                             f"{len(state)} initialized")
        return logits, tuple(ops.new_state)

    def sites(self, layer: Layer, input_shape: tuple[int, int, int] = (8, 8, 1)) -> int:
        """Number of norm-activation sites."""
        return len(self.init(layer, input_shape, 10)[1])


ARCHITECTURES: dict[str, Architecture] = {
    "resnet": Architecture("resnet", _resnet),
    "mobilenetv2": Architecture("mobilenetv2", _mobilenetv2),
    "efficientnet": Architecture("efficientnet", _efficientnet),
    "vgg": Architecture("vgg", _vgg),
}
PROXY_ARCHITECTURES = ("resnet", "mobilenetv2", "efficientnet")
HELDOUT_ARCHITECTURE = "vgg"


def get_architecture(name: str) -> Architecture:
    """A built-in architecture by name, or a user's network by import string
    (`user_architecture`)."""
    if ":" in name:
        return user_architecture(name)
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


@functools.cache
def user_architecture(spec: str, where: str = "") -> Architecture:
    """The `Architecture` that the user's ``make_net()`` named by `spec`
    (``"pkg.mod:make_net"``) returns, made once per process;
    `automl.imports.ImportStringError`, one line naming `where`, the string and the reason,
    when it cannot be imported, raises or returns anything but an `Architecture`.

    The network is ``forward(ops, x, classes) -> logits``, run once to allocate its weights
    (``x`` zeros) and traced to train: ``ops.conv(name, x, size, channels, stride=1,
    bias=False)`` (SAME padding), ``ops.depthwise(name, x, stride=1)`` (3x3),
    ``ops.dense(name, x, features)`` and ``ops.norm_act(x)``, the layer under search, at each
    of its sites; anything else is plain jax.numpy on NHWC ``x``. The last dense layer is
    named ``"head"`` (its width is the number of classes)."""
    return made_by(spec, Architecture, where)
