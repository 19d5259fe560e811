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

from automl.ops import CORE_OPS, Op, OpTable

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


# name -> (arity, commutative, source template for exported modules): `export.py` fills
# {0}, {1}, ... with one parameter tensor of each argument (per-tensor reductions reduce the
# whole tensor), {tensors0} with the list of all the tensors of argument 0 and {global_norm0}
# with their global norm, computed once per statement; `EPS`, `CLIP1` and `erf` are defined by
# the exported module
_SIGNATURES: dict[str, tuple[int, bool, str]] = {
    "abs": (1, False, "xp.abs({0})"),
    "sign": (1, False, "xp.sign({0})"),
    "square": (1, False, "xp.square({0})"),
    "cube": (1, False, "{0} * {0} * {0}"),
    "exp": (1, False, "xp.exp({0})"),
    "log": (1, False, "xp.log(xp.abs({0}) + EPS)"),
    "log1p": (1, False, "xp.log1p(xp.abs({0}))"),
    "sin": (1, False, "xp.sin({0})"),
    "cos": (1, False, "xp.cos({0})"),
    "tan": (1, False, "xp.tan({0})"),
    "arcsin": (1, False, "xp.arcsin(xp.clip({0}, -CLIP1, CLIP1))"),
    "arccos": (1, False, "xp.arccos(xp.clip({0}, -CLIP1, CLIP1))"),
    "arctan": (1, False, "xp.arctan({0})"),
    "sinh": (1, False, "xp.sinh({0})"),
    "cosh": (1, False, "xp.cosh({0})"),
    "tanh": (1, False, "xp.tanh({0})"),
    "arcsinh": (1, False, "xp.arcsinh({0})"),
    "arctanh": (1, False, "xp.arctanh(xp.clip({0}, -CLIP1, CLIP1))"),
    "sigmoid": (1, False, "1.0 / (1.0 + xp.exp(-{0}))"),
    "relu": (1, False, "xp.maximum({0}, 0.0)"),
    "softplus": (1, False, "xp.logaddexp({0}, 0.0)"),
    "softsign": (1, False, "{0} / (1.0 + xp.abs({0}))"),
    "erf": (1, False, "erf({0})"),
    "reciprocal": (1, False, "1.0 / ({0} + EPS)"),
    "rsqrt": (1, False, "1.0 / (xp.sqrt(xp.abs({0})) + EPS)"),
    "safe_div": (2, False, "{0} / ({1} + EPS)"),
    "power": (2, False, "xp.sign({0}) * xp.abs({0}) ** xp.clip({1}, -8.0, 8.0)"),
    "clip": (2, False, "xp.clip({0}, -xp.abs({1}), xp.abs({1}))"),
    "dot": (2, True, "xp.broadcast_to(xp.sum({0} * {1}), xp.shape({0}))"),
    "cosine_sim": (2, True, "xp.broadcast_to(xp.sum({0} * {1}) / (xp.sqrt(xp.sum({0} * {0})) "
                            "* xp.sqrt(xp.sum({1} * {1})) + EPS), xp.shape({0}))"),
    "clip_by_global_norm": (2, False, "{0} * xp.minimum(1.0, xp.abs({1}) / ({global_norm0} "
                                      "+ EPS))"),
}


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

    def __eq__(self, other: object) -> bool:  # tables compare ops by value
        return isinstance(other, _LazyJax) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def _table() -> OpTable:
    numpy_unary, numpy_binary = _unary(np), _binary(np)
    return CORE_OPS.extended([
        *(Op(name, arity, numpy_unary.get(name) or numpy_binary[name], jax_impl=_LazyJax(name),
             commutative=commutative, source=source)
          for name, (arity, commutative, source) in _SIGNATURES.items()),
        Op("norm", 1, numpy_binary["_norm"], jax_impl=_LazyJax("_norm"),
           doc="L2 norm of each parameter tensor, broadcast",
           source="xp.broadcast_to(xp.sqrt(xp.sum({0} * {0})), xp.shape({0}))"),
        Op("global_norm", 1, numpy_binary["_global_norm"], jax_impl=_LazyJax("_global_norm"),
           doc="L2 norm over all parameter tensors, broadcast",
           source="xp.broadcast_to(_global_norm({tensors0}), xp.shape(w[i]))"),
        Op("interp", 3, lambda x, y, a: (1.0 - a) * x + a * y,
           jax_impl=lambda x, y, a: (1.0 - a) * x + a * y, doc="(1 - a) * x + a * y",
           source="(1.0 - {2}) * {0} + {2} * {1}"),
    ])


OPTIMIZER_TABLE = _table()
"""The space's op table: the core's arithmetic (`/` is safe_div in the text form) and the ops
above; the only table its programs are parsed, hashed, run and exported with."""

# the function set of the space: the ops above plus the platform's arithmetic (`/` is safe_div)
OPTIMIZER_OPS: tuple[str, ...] = (
    "add", "sub", "mul", "safe_div", "max", "min", "neg", "sqrt", "interp", "norm",
    "global_norm",
    *_SIGNATURES,
)
OPTIMIZER_OPS = tuple(dict.fromkeys(OPTIMIZER_OPS))
NAMED_CONSTANTS: tuple[tuple[str, float], ...] = (("pi", math.pi), ("e", math.e), ("eps", EPS))
