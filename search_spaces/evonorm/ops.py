"""The primitives of EvoNorm layers (Liu et al. 2020): element-wise ops and aggregates on NHWC.

Every op takes arrays of one NHWC shape (N, H, W, C) and returns that shape: aggregates compute
a statistic and broadcast it back. Per-channel values (the trainable ``v0``, ``v1``) and the
``zero`` tensor are broadcast to NHWC before a layer runs, so each op sees full tensors.

Element-wise ops (the paper's set), made safe so that no finite input gives NaN or overflows
float32 in the op itself:

* ``add``, ``mul``, ``max``, ``neg`` (the platform's arithmetic, `automl.ops.CORE_OPS`);
* ``sigmoid`` (``1 / (1 + exp(-x))``), ``tanh``, ``abs``, ``square`` (numpy's), this space's own;
* ``clamped_div`` (``/`` in the text form): ``x / d`` where the denominator's magnitude is
  clamped to at least ``EPS`` keeping its sign, 0 counting as positive:
  ``d = max(y, EPS)`` if ``y >= 0`` else ``min(y, -EPS)``. Normalizers divide by a std, which
  is at least ``sqrt(EPS)`` > ``EPS``, so they are unaffected;
* ``clipped_exp``: ``exp(min(x, 80))`` (exp(80) ~ 5.5e34 < float32's 3.4e38);
* ``signed_log``: ``sign(x) * log1p(|x|)``. The paper's "signed log" ``sign(x) * log|x|`` is
  undefined at 0 and not monotonic; this form is odd, monotonic, finite everywhere and ~log|x|
  for large |x|;
* ``signed_sqrt``: ``sign(x) * sqrt(|x|)``, written so that its gradient at 0 is 0, not NaN.

Aggregates ``{batch,instance,group}_{mean,var,std}``: statistics over (N, H, W) (batch), (H, W)
(instance, per sample and channel) and (H, W, C/G) (group, per sample and group of C/G
consecutive channels). ``var`` is the biased (population) variance; ``std`` is
``sqrt(var + EPS)`` with ``EPS = 1e-5``. The group count G is the largest divisor of C that is
at most ``min(groups, C // 4)`` (``groups`` = 32 by default; at least one group): 32 groups
from C = 128 on, fewer for narrow layers so that a group keeps at least 4 channels (8 for
C = 32, 4 for C = 16, 16 for C = 64, 24 for C = 96). With 32 groups at every width, the small
proxy networks' 16-32-channel layers got one channel per group: group norm became instance
norm, and GN-ReLU trained to chance.

The space's op table, `EVONORM_TABLE` (`CORE_OPS` extended with the ops above), holds the numpy
implementations (float64: what programs are hashed with) and each op's export template
(`export.py`); `jax_functions` gives the same expressions in JAX, with gradients that stay
finite (``jax.nn.sigmoid`` for sigmoid), for the interpreter. Batch aggregates at inference
(moving averages) are the interpreter's business: here they always use the batch's
statistics.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from automl.ir import Program
from automl.ops import CORE_OPS, Op, OpTable

EPS = 1e-5
EXP_CLIP = 80.0
DEFAULT_GROUPS = 32

SCOPES = ("batch", "instance", "group")
STATISTICS = ("mean", "var", "std")
AGGREGATES: tuple[str, ...] = tuple(f"{scope}_{statistic}" for scope in SCOPES
                                    for statistic in STATISTICS)
BATCH_AGGREGATES: tuple[str, ...] = tuple(f"batch_{statistic}" for statistic in STATISTICS)
# the core's arithmetic (same meaning there)
SHARED_ELEMENTWISE = ("add", "mul", "max", "neg")
# name -> (arity, doc, export template: `export.py` defines the helper functions they call)
NEW_ELEMENTWISE = {
    "sigmoid": (1, "1 / (1 + exp(-x))", "1.0 / (1.0 + xp.exp(-{0}))"),
    "tanh": (1, "tanh(x)", "xp.tanh({0})"),
    "abs": (1, "|x|", "xp.abs({0})"),
    "square": (1, "x * x", "xp.square({0})"),
    "clamped_div": (2, "x / y, |y| clamped to at least 1e-5 keeping its sign (0: +)",
                    "clamped_div({0}, {1})"),
    "clipped_exp": (1, "exp(min(x, 80))", "clipped_exp({0})"),
    "signed_log": (1, "sign(x) * log1p(|x|)", "signed_log({0})"),
    "signed_sqrt": (1, "sign(x) * sqrt(|x|)", "signed_sqrt({0})"),
}
# per export flavour, where a template differs from the one above
FLAVOR_SOURCES = {"sigmoid": {"jax": "jax.nn.sigmoid({0})"}}
# The search's primitives (what random layers and mutations draw from), in the paper's order.
EVONORM_OPS: tuple[str, ...] = (
    "add", "mul", "clamped_div", "max", "neg", "sigmoid", "tanh", "clipped_exp", "signed_log",
    "abs", "square", "signed_sqrt", *AGGREGATES,
)
# What the text form accepts: the primitives plus `sub` (``x - y``), a convenience for
# hand-written layers such as BN-ReLU; evolution never draws it.
TEXT_OPS: tuple[str, ...] = (*EVONORM_OPS, "sub")


MIN_CHANNELS_PER_GROUP = 4


def group_count(channels: int, groups: int = DEFAULT_GROUPS) -> int:
    """Number of groups for `channels`: the largest divisor of C at most min(groups, C // 4)
    (at least 4 channels per group, as group norm needs; at least one group)."""
    limit = max(1, min(int(groups), int(channels) // MIN_CHANNELS_PER_GROUP))
    return next(g for g in range(limit, 0, -1) if channels % g == 0)


def _signed_sqrt(xp: Any) -> Callable:
    def signed_sqrt(x):
        magnitude = xp.abs(x)
        positive = magnitude > 0
        # sqrt of a safe value where |x| = 0, so the unused branch has a finite gradient
        root = xp.sqrt(xp.where(positive, magnitude, 1.0))
        return xp.sign(x) * xp.where(positive, root, 0.0)

    return signed_sqrt


def elementwise_functions(xp: Any) -> dict[str, Callable]:
    """The element-wise ops this space adds to the core's, over `xp` (numpy or jax.numpy);
    sigmoid is ``1 / (1 + exp(-x))`` (the interpreter's jax one is ``jax.nn.sigmoid``)."""
    return {
        "sigmoid": lambda x: 1.0 / (1.0 + xp.exp(-x)),
        "tanh": xp.tanh,
        "abs": xp.abs,
        "square": xp.square,
        "clamped_div": lambda x, y: x / xp.where(y >= 0, xp.maximum(y, EPS),
                                                 xp.minimum(y, -EPS)),
        "clipped_exp": lambda x: xp.exp(xp.minimum(x, EXP_CLIP)),
        "signed_log": lambda x: xp.sign(x) * xp.log1p(xp.abs(x)),
        "signed_sqrt": _signed_sqrt(xp),
    }


def moments(xp: Any, x: Any, scope: str, groups: int = DEFAULT_GROUPS):
    """(view, mean, var) of NHWC `x` over `scope`: `view` is `x` (grouped for "group",
    shape (N, H, W, G, C/G)); mean and var keep the reduced axes (size 1)."""
    if xp.ndim(x) != 4:
        raise ValueError(f"aggregates need an NHWC tensor, got shape {xp.shape(x)}")
    if scope == "batch":
        view, axes = x, (0, 1, 2)
    elif scope == "instance":
        view, axes = x, (1, 2)
    elif scope == "group":
        n, h, w, c = x.shape
        g = group_count(c, groups)
        view, axes = x.reshape(n, h, w, g, c // g), (1, 2, 4)
    else:
        raise ValueError(f"unknown aggregate scope {scope!r}")
    mean = xp.mean(view, axis=axes, keepdims=True)
    var = xp.mean(xp.square(view - mean), axis=axes, keepdims=True)
    return view, mean, var


def aggregate(xp: Any, x: Any, scope: str, statistic: str, groups: int = DEFAULT_GROUPS):
    """The statistic of `x` over `scope`, broadcast back to x's shape."""
    view, mean, var = moments(xp, x, scope, groups)
    if statistic == "mean":
        value = mean
    elif statistic == "var":
        value = var
    elif statistic == "std":
        value = xp.sqrt(var + EPS)
    else:
        raise ValueError(f"unknown statistic {statistic!r}")
    return xp.broadcast_to(value, view.shape).reshape(x.shape)


def _split(name: str) -> tuple[str, str]:
    scope, statistic = name.split("_")
    return scope, statistic


def numpy_function(name: str, groups: int = DEFAULT_GROUPS, table: OpTable | None = None
                   ) -> Callable:
    """The numpy implementation of op `name` (group aggregates with `groups`; other ops
    from `table`, by default `EVONORM_TABLE`)."""
    if name in AGGREGATES:
        scope, statistic = _split(name)
        return functools.partial(aggregate, np, scope=scope, statistic=statistic, groups=groups)
    return (EVONORM_TABLE if table is None else table).get(name).numpy_impl


def jax_functions(groups: int = DEFAULT_GROUPS) -> dict[str, Callable]:
    """Name -> JAX implementation of every op in `TEXT_OPS`. Batch aggregates here use the
    batch's statistics (the interpreter adds the moving averages used at inference)."""
    import jax
    import jax.numpy as jnp

    functions: dict[str, Callable] = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "max": jnp.maximum,
        "neg": lambda a: -a,
        **elementwise_functions(jnp),
        "sigmoid": jax.nn.sigmoid,  # finite gradient for very negative inputs
    }
    for name in AGGREGATES:
        scope, statistic = _split(name)
        functions[name] = functools.partial(aggregate, jnp, scope=scope, statistic=statistic,
                                            groups=groups)
    return functions


class _JaxOp:
    """A table's jax implementation resolved on first call (importing this module needs no
    jax); compares by name, so that a table sees one definition."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args: Any) -> Any:
        return _jax_table()[self.name](*args)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _JaxOp) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("evonorm", self.name))


@functools.cache
def _jax_table() -> dict[str, Callable]:
    return jax_functions(DEFAULT_GROUPS)


def _table() -> OpTable:
    numpy_elementwise = elementwise_functions(np)
    ops = [Op(name, arity, numpy_elementwise[name], jax_impl=_JaxOp(name), doc=doc,
              source=source, sources=FLAVOR_SOURCES.get(name, {}))
           for name, (arity, doc, source) in NEW_ELEMENTWISE.items()]
    for name in AGGREGATES:
        scope, statistic = _split(name)
        axes = {"batch": "(N, H, W)", "instance": "(H, W)", "group": "(H, W, C/G)"}[scope]
        what = {"mean": "mean", "var": "variance", "std": "sqrt(variance + 1e-5)"}[statistic]
        # batch aggregates: `export.py` names the moving statistic each statement owns
        # ({mean_key}: a moving mean, {var_key}: a moving variance)
        key = "{mean_key!r}" if statistic == "mean" else "{var_key!r}"
        source = (f"_batch({{0}}, {statistic!r}, params[{key}], training, observed, {key})"
                  if scope == "batch" else f"{name}({{0}})")
        ops.append(Op(name, 1, numpy_function(name), jax_impl=_JaxOp(name),
                      doc=f"{what} over {axes}, broadcast to NHWC", source=source))
    return CORE_OPS.extended(ops)


EVONORM_TABLE = _table()
"""The space's op table: the core's arithmetic and the ops above, nothing of another space."""


def run_layer_numpy(program: Program, values: Mapping[str, Any],
                    groups: int = DEFAULT_GROUPS, table: OpTable | None = None
                    ) -> dict[str, np.ndarray]:
    """`automl.ir.run_numpy` with the group count of the space's settings (the table's group
    aggregates use `DEFAULT_GROUPS`) and `table` (by default `EVONORM_TABLE`) for the other
    ops. `values`: x, zero, v0, v1 as NHWC arrays."""
    env: dict[str, Any] = dict(values)
    functions: dict[str, Callable] = {}
    for ins in program.instructions:
        if ins.op not in functions:
            functions[ins.op] = numpy_function(ins.op, groups, table)
        env[ins.register] = functions[ins.op](
            *[env[a] if isinstance(a, str) else a for a in ins.args])
    return {name: env[register] for name, register in program.outputs}
