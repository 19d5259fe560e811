"""Export an optimizer program as a standalone module (numpy or JAX), free of this platform.

The module defines ``init(params) -> state`` and ``update(grads, state, params, lr) ->
(updates, state)`` over pytrees (nested dicts/lists/tuples of arrays), with ``params - updates``
the next parameters, like an optax transformation. Every statement runs once per parameter
tensor; `global_norm` and `clip_by_global_norm` reduce over all tensors, as in the search.
"""

from __future__ import annotations

from automl.ir import Program
from search_spaces.optimizers.interpreter import INPUTS, OUTPUTS
from search_spaces.optimizers.ops import EPS, GLOBAL_OPS, SOURCE

_HEADER = {
    "jax": ("import jax\nimport jax.numpy as xp\n\n"
            "_flatten = jax.tree_util.tree_flatten\n"
            "_unflatten = jax.tree_util.tree_unflatten\n"),
    "python": ("import numpy as xp\n\n\n"
               "def _flatten(tree):\n"
               "    if isinstance(tree, dict):\n"
               "        keys = sorted(tree)\n"
               "        parts = [_flatten(tree[k]) for k in keys]\n"
               "        return [x for leaves, _ in parts for x in leaves], "
               "('dict', keys, [d for _, d in parts])\n"
               "    if isinstance(tree, (list, tuple)):\n"
               "        parts = [_flatten(x) for x in tree]\n"
               "        return [x for leaves, _ in parts for x in leaves], "
               "(type(tree), None, [d for _, d in parts])\n"
               "    return [tree], None\n\n\n"
               "def _unflatten(definition, leaves):\n"
               "    leaves = list(leaves)\n\n"
               "    def build(d):\n"
               "        if d is None:\n"
               "            return leaves.pop(0)\n"
               "        kind, keys, children = d\n"
               "        values = [build(c) for c in children]\n"
               "        return dict(zip(keys, values)) if kind == 'dict' else kind(values)\n\n"
               "    return build(definition)\n"),
}
# erf only when the program uses it: numpy has none, and the contract is "numpy only"
_ERF = {
    "jax": "from jax.scipy.special import erf\n",
    "python": "import math\n\nerf = xp.vectorize(math.erf, otypes=[float])\n",
}


def export_module(program: Program, text: str, flavor: str = "jax") -> str:
    """Source of a standalone module implementing `program` (`flavor`: "jax" or "python")."""
    if flavor not in _HEADER:
        raise ValueError(f"unknown export format {flavor!r}; allowed: jax, python")
    lines = [f'"""Optimizer update rule exported by automl-evolution.\n\n{text.strip()}\n"""',
             "", _HEADER[flavor],
             *([_ERF[flavor]] if any(ins.op == "erf" for ins in program.instructions) else []),
             f"EPS = {EPS!r}", "CLIP1 = 1.0 - 1e-6", "", "",
             "def init(params):",
             "    leaves, definition = _flatten(params)",
             "    zeros = [xp.zeros_like(x) for x in leaves]",
             "    return {'m': _unflatten(definition, zeros), "
             "'v': _unflatten(definition, zeros), 't': 0}", "", "",
             "def _global_norm(tensors):",
             "    return xp.sqrt(sum(xp.sum(x * x) for x in tensors))", "", "",
             "def update(grads, state, params, lr):",
             "    w, definition = _flatten(params)",
             "    g = _flatten(grads)[0]",
             "    m = _flatten(state['m'])[0]",
             "    v = _flatten(state['v'])[0]",
             "    t = state['t'] + 1",
             "    n = range(len(w))"]
    names = {name: name for name in INPUTS}
    for index, ins in enumerate(program.instructions):
        target = f"r{index}"
        names[ins.register] = target
        if ins.op in GLOBAL_OPS:
            norm = f"_global_norm({_tensors(ins.args[0], names)})"
            if ins.op == "global_norm":
                lines.append(f"    {target} = [xp.broadcast_to({norm}, xp.shape(w[i])) "
                             f"for i in n]")
            else:
                bound = _leaf(ins.args[1], names)
                lines.append(f"    _norm = {norm}")
                lines.append(f"    {target} = [{_leaf(ins.args[0], names)} * xp.minimum("
                             f"1.0, xp.abs({bound}) / (_norm + EPS)) for i in n]")
            continue
        expression = SOURCE[ins.op].format(*(_leaf(arg, names) for arg in ins.args))
        lines.append(f"    {target} = [{expression} for i in n]")
    outputs = dict(program.outputs)
    result = {name: _tensors(outputs[name], names) for name in OUTPUTS}
    lines += [
        f"    updates = [xp.broadcast_to(u, xp.shape(w[i])) for i, u in "
        f"enumerate({result['update']})]",
        f"    m = [xp.broadcast_to(x, xp.shape(w[i])) for i, x in enumerate({result['m']})]",
        f"    v = [xp.broadcast_to(x, xp.shape(w[i])) for i, x in enumerate({result['v']})]",
        "    return _unflatten(definition, updates), {'m': _unflatten(definition, m), "
        "'v': _unflatten(definition, v), 't': t}", ""]
    return "\n".join(lines)


def _leaf(argument, names: dict[str, str]) -> str:
    """Expression for the i-th tensor of an argument (a literal is a scalar)."""
    if isinstance(argument, float):
        return repr(argument)
    name = names[argument]
    return name if name in ("lr", "t") else f"{name}[i]"


def _tensors(argument, names: dict[str, str]) -> str:
    """Expression for the list of all tensors of an argument."""
    if isinstance(argument, float) or names[argument] in ("lr", "t"):
        return f"[{_leaf(argument, names)} for i in n]"
    return names[argument]
