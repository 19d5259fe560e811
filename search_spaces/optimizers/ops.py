"""The function set of optimizer programs (Chen et al. 2023, google/automl hero/fn_lib.py).

Every op works on a *tensor stack*: an array of shape (tensors, size), one row per parameter
tensor of the model (zero-padded to a common size; the interpreter masks the padding). Element-
wise ops act on every entry; `norm`, `dot`, `cosine_sim` reduce within each row (one parameter
tensor), `global_norm` and `clip_by_global_norm` over all rows, and broadcast back, so every op
returns the shape of its inputs. Ops are "safe" as in the paper: no NaN from a domain error
(division adds 1e-8 to the denominator, sqrt/log take |x|, inverse trig functions clip).

The numpy and jax implementations are the same expressions over `np`/`jnp`, which is what lets
the controller hash programs in numpy and the workers train with them in JAX.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from automl.ir import OPS, Op

EPS = 1e-8


def _jnp() -> Any:
    import jax.numpy as jnp

    return jnp


def _erf(xp: Any) -> Callable:
    if xp is np:
        from scipy.special import erf

        return erf
    import jax.scipy.special

    return jax.scipy.special.erf


def _unary(xp: Any) -> dict[str, Callable]:
    clip1 = 1.0 - 1e-6
    return {
        "abs": xp.abs,
        "sign": xp.sign,
        "square": xp.square,
        "cube": lambda x: x * x * x,
        "exp": xp.exp,
        "log": lambda x: xp.log(xp.abs(x) + EPS),
        "log1p": lambda x: xp.log1p(xp.abs(x)),
        "sin": xp.sin,
        "cos": xp.cos,
        "tan": xp.tan,
        "arcsin": lambda x: xp.arcsin(xp.clip(x, -clip1, clip1)),
        "arccos": lambda x: xp.arccos(xp.clip(x, -clip1, clip1)),
        "arctan": xp.arctan,
        "sinh": xp.sinh,
        "cosh": xp.cosh,
        "tanh": xp.tanh,
        "arcsinh": xp.arcsinh,
        "arctanh": lambda x: xp.arctanh(xp.clip(x, -clip1, clip1)),
        "sigmoid": lambda x: 1.0 / (1.0 + xp.exp(-x)),
        "relu": lambda x: xp.maximum(x, 0.0),
        "softplus": lambda x: xp.logaddexp(x, 0.0),
        "softsign": lambda x: x / (1.0 + xp.abs(x)),
        "erf": lambda x: _erf(xp)(x),
        "reciprocal": lambda x: 1.0 / (x + EPS),
        "rsqrt": lambda x: 1.0 / (xp.sqrt(xp.abs(x)) + EPS),
    }


def _binary(xp: Any) -> dict[str, Callable]:
    # reductions over the last axis (one row = one parameter tensor); a scalar (a literal
    # argument) is a tensor of one element
    def per_row_sum(z):
        z = xp.asarray(z)
        return z if z.ndim == 0 else xp.broadcast_to(xp.sum(z, axis=-1, keepdims=True),
                                                     z.shape)

    def norm(x):
        return xp.sqrt(per_row_sum(x * x))

    def global_norm(x):
        x = xp.asarray(x)
        return xp.broadcast_to(xp.sqrt(xp.sum(x * x)), x.shape)

    def dot(x, y):
        return per_row_sum(x * y)

    return {
        "safe_div": lambda x, y: x / (y + EPS),
        "power": lambda x, y: xp.sign(x) * xp.abs(x) ** xp.clip(y, -8.0, 8.0),
        "clip": lambda x, bound: xp.clip(x, -xp.abs(bound), xp.abs(bound)),
        "dot": dot,
        "cosine_sim": lambda x, y: dot(x, y) / (norm(x) * norm(y) + EPS),
        "clip_by_global_norm": lambda x, c: x * xp.minimum(1.0, xp.abs(c) / (global_norm(x)
                                                                          + EPS)),
        "_norm": norm,
        "_global_norm": global_norm,
    }


# name -> (arity, commutative)
_SIGNATURES: dict[str, tuple[int, bool]] = {
    **{name: (1, False) for name in _unary(np)},
    "safe_div": (2, False),
    "power": (2, False),
    "clip": (2, False),
    "dot": (2, True),
    "cosine_sim": (2, True),
    "clip_by_global_norm": (2, False),
}


def _register() -> None:
    numpy_unary, numpy_binary = _unary(np), _binary(np)
    for name, (arity, commutative) in _SIGNATURES.items():
        numpy_impl = numpy_unary.get(name) or numpy_binary[name]
        OPS.register(Op(
            name, arity, numpy_impl,
            jax_impl=_lazy_jax(name), commutative=commutative,
        ))
    OPS.register(Op("norm", 1, numpy_binary["_norm"], jax_impl=_lazy_jax("_norm"),
                    doc="L2 norm of each parameter tensor, broadcast"))
    OPS.register(Op("global_norm", 1, numpy_binary["_global_norm"],
                    jax_impl=_lazy_jax("_global_norm"),
                    doc="L2 norm over all parameter tensors, broadcast"))
    OPS.register(Op("interp", 3, lambda x, y, a: (1.0 - a) * x + a * y,
                    jax_impl=lambda x, y, a: (1.0 - a) * x + a * y,
                    doc="(1 - a) * x + a * y"))


class _LazyJax:
    """A jax implementation resolved on first call, so importing this module needs no jax."""

    def __init__(self, name: str):
        self.name = name
        self.function: Callable | None = None

    def __call__(self, *args: Any) -> Any:
        if self.function is None:
            jnp = _jnp()
            self.function = {**_unary(jnp), **_binary(jnp)}[self.name]
        return self.function(*args)

    def __eq__(self, other: object) -> bool:  # re-registration compares ops by value
        return isinstance(other, _LazyJax) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def _lazy_jax(name: str) -> _LazyJax:
    return _LazyJax(name)


_register()

# the function set of the space: the ops above plus the platform's arithmetic (`/` is safe_div)
OPTIMIZER_OPS: tuple[str, ...] = (
    "add", "sub", "mul", "safe_div", "max", "min", "neg", "sqrt", "interp", "norm",
    "global_norm",
    *_SIGNATURES,
)
OPTIMIZER_OPS = tuple(dict.fromkeys(OPTIMIZER_OPS))
NAMED_CONSTANTS: tuple[tuple[str, float], ...] = (("pi", math.pi), ("e", math.e), ("eps", EPS))

# Source of each op for exported modules (`export.py`): `xp` is `np` or `jnp`, arguments are
# one parameter tensor each. Per-tensor reductions reduce the whole tensor; `global_norm` and
# `clip_by_global_norm` are written over all tensors by the exporter itself.
SOURCE: dict[str, str] = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}",
    "safe_div": "{0} / ({1} + EPS)", "div": "{0} / {1}",
    "max": "xp.maximum({0}, {1})", "min": "xp.minimum({0}, {1})", "neg": "-{0}",
    "sqrt": "xp.sqrt(xp.abs({0}))",
    "interp": "(1.0 - {2}) * {0} + {2} * {1}",
    "abs": "xp.abs({0})", "sign": "xp.sign({0})", "square": "xp.square({0})",
    "cube": "{0} * {0} * {0}", "exp": "xp.exp({0})", "log": "xp.log(xp.abs({0}) + EPS)",
    "log1p": "xp.log1p(xp.abs({0}))", "sin": "xp.sin({0})", "cos": "xp.cos({0})",
    "tan": "xp.tan({0})", "arcsin": "xp.arcsin(xp.clip({0}, -CLIP1, CLIP1))",
    "arccos": "xp.arccos(xp.clip({0}, -CLIP1, CLIP1))", "arctan": "xp.arctan({0})",
    "sinh": "xp.sinh({0})", "cosh": "xp.cosh({0})", "tanh": "xp.tanh({0})",
    "arcsinh": "xp.arcsinh({0})", "arctanh": "xp.arctanh(xp.clip({0}, -CLIP1, CLIP1))",
    "sigmoid": "1.0 / (1.0 + xp.exp(-{0}))", "relu": "xp.maximum({0}, 0.0)",
    "softplus": "xp.logaddexp({0}, 0.0)", "softsign": "{0} / (1.0 + xp.abs({0}))",
    "erf": "erf({0})", "reciprocal": "1.0 / ({0} + EPS)",
    "rsqrt": "1.0 / (xp.sqrt(xp.abs({0})) + EPS)",
    "power": "xp.sign({0}) * xp.abs({0}) ** xp.clip({1}, -8.0, 8.0)",
    "clip": "xp.clip({0}, -xp.abs({1}), xp.abs({1}))",
    "norm": "xp.broadcast_to(xp.sqrt(xp.sum({0} * {0})), xp.shape({0}))",
    "dot": "xp.broadcast_to(xp.sum({0} * {1}), xp.shape({0}))",
    "cosine_sim": "xp.broadcast_to(xp.sum({0} * {1}) / (xp.sqrt(xp.sum({0} * {0})) * "
                  "xp.sqrt(xp.sum({1} * {1})) + EPS), xp.shape({0}))",
}
GLOBAL_OPS = ("global_norm", "clip_by_global_norm")
