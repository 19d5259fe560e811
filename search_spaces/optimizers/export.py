"""Export an optimizer program as a standalone module (numpy or JAX), free of this platform.

The module defines ``init(params) -> state`` and ``update(grads, state, params, lr) ->
(updates, state)`` over pytrees (nested dicts/lists/tuples of arrays), with ``params - updates``
the next parameters, like an optax transformation. Every statement runs once per parameter
tensor; `global_norm` and `clip_by_global_norm` reduce over all tensors, as in the search.

Each statement's expression is its op's template in the space's op table (`ops.py`): ``{0},
{1}, ...`` are the i-th tensor of each argument, ``{tensorsK}`` the list of all the tensors of
argument K, and ``{global_normK}`` their global norm, computed once before the statement.
"""

from __future__ import annotations

import re

from automl.ir import Program
from automl.ops import OpTable
from search_spaces.optimizers.interpreter import INPUTS, OUTPUTS
from search_spaces.optimizers.ops import EPS

_PLACEHOLDER = re.compile(r"(tensors|global_norm)(\d+)\Z")

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


def export_module(program: Program, text: str, table: OpTable, flavor: str = "jax") -> str:
    """Source of a standalone module implementing `program` (`flavor`: "jax" or "python"),
    with `text` (its DSL form) as the docstring and each op written as `table`'s template."""
    if flavor not in _HEADER:
        raise ValueError(f"unknown export format {flavor!r}; allowed: jax, python")
    names = {name: name for name in INPUTS}
    body = []
    for index, ins in enumerate(program.instructions):
        op = table.get(ins.op)
        named = {}
        for placeholder in sorted(op.placeholders(flavor)):
            match = _PLACEHOLDER.match(placeholder)
            if match is None or int(match[2]) >= len(ins.args):
                raise ValueError(f"op {ins.op!r}: unknown template field {{{placeholder}}}")
            tensors = _tensors(ins.args[int(match[2])], names)
            if match[1] == "tensors":
                named[placeholder] = tensors
            else:  # computed once, not once per tensor
                named[placeholder] = "_norm" + (match[2] if match[2] != "0" else "")
                body.append(f"    {named[placeholder]} = _global_norm({tensors})")
        expression = op.code(flavor, (_leaf(arg, names) for arg in ins.args), **named)
        names[ins.register] = f"r{index}"
        body.append(f"    r{index} = [{expression} for i in n]")
    uses_erf = any(re.search(r"\berf\(", line) for line in body)
    lines = [f'"""Optimizer update rule exported by automl-evolution.\n\n{text.strip()}\n"""',
             "", _HEADER[flavor], *([_ERF[flavor]] if uses_erf else []),
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
             "    n = range(len(w))", *body]
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
