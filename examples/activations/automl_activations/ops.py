"""The space's op table: the core's arithmetic (`CORE_OPS`) plus the unary functions of the
paper's search (its Table 1) that the core lacks. numpy implementations (float64) are what
programs are hashed and simplified with; jax ones are what networks train with."""

from __future__ import annotations

import numpy as np
from scipy import special

from automl.ops import CORE_OPS, Op


def _jax():
    import jax  # imported when a network trains, not when the space is loaded

    return jax


def unary(name: str, numpy_impl, jax_impl, source: str, cost: float = 2.0) -> Op:
    """A one-argument op; transcendental ones cost 2 (the core's arithmetic costs 1)."""
    return Op(name, 1, numpy_impl, jax_impl, cost=cost, doc=source, source=source)


UNARY = [
    unary("abs", np.abs, lambda a: _jax().numpy.abs(a), "xp.abs({0})", cost=1.0),
    unary("exp", np.exp, lambda a: _jax().numpy.exp(a), "xp.exp({0})"),
    unary("sigmoid", special.expit, lambda a: _jax().nn.sigmoid(a), "1 / (1 + xp.exp(-{0}))"),
    unary("tanh", np.tanh, lambda a: _jax().numpy.tanh(a), "xp.tanh({0})"),
    unary("erf", special.erf, lambda a: _jax().scipy.special.erf(a), "erf({0})"),
    unary("sin", np.sin, lambda a: _jax().numpy.sin(a), "xp.sin({0})"),
    unary("cos", np.cos, lambda a: _jax().numpy.cos(a), "xp.cos({0})"),
    unary("atan", np.arctan, lambda a: _jax().numpy.arctan(a), "xp.arctan({0})"),
    unary("asinh", np.arcsinh, lambda a: _jax().numpy.arcsinh(a), "xp.arcsinh({0})"),
    unary("softplus", lambda a: np.logaddexp(0.0, a), lambda a: _jax().nn.softplus(a),
          "xp.logaddexp(0.0, {0})"),
    unary("gauss", lambda a: np.exp(-a * a), lambda a: _jax().numpy.exp(-a * a),
          "xp.exp(-{0} * {0})"),
    # the paper's log(|x| + eps): finite everywhere
    unary("log", lambda a: np.log(np.abs(a) + 1e-6),
          lambda a: _jax().numpy.log(_jax().numpy.abs(a) + 1e-6), "xp.log(xp.abs({0}) + 1e-6)"),
]
TABLE = CORE_OPS.extended(UNARY)
OP_NAMES = tuple(TABLE.names())  # the interpreter's op codes are positions in this tuple
# how an exported module gets erf (numpy has none; math.erf keeps the module numpy-only)
ERF_IMPORT = {"python": "import math\n\nerf = xp.vectorize(math.erf, otypes=[float])\n",
              "jax": "from jax.scipy.special import erf\n"}
