"""Export an approximation as a standalone module: ``f(x)`` with the fitted constants inlined.

The module imports numpy (flavor "python") or jax.numpy (flavor "jax") and nothing of this
platform, so a discovered approximation can be copied into any project. Statements that read
only constants are folded into one literal here, in float64 as `run_numpy` computes them (which
is why the cost objective counts them as free); the rest is straight-line code, one assignment
per statement in the program's order, so the numpy module computes bit for bit what the
program computes. Each op's code is its export template in the space's op table (the core's
`automl.ops.CORE_OPS`), over ``xp`` and its arguments ``{0}, {1}, ...``.

``fma`` rounds once, as the space computes it: the numpy module gets ``_fma``, the source of
`automl.fma` (numpy only) copied in below ``f``; the jax module writes ``a * b + c``, which XLA
contracts into one fma instruction on the CPU (docs/architecture.md, "fma").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

import automl.fma
from automl.ir import Program
from automl.ops import OpTable
from search_spaces.autonumerics.targets import Target

# flavor -> (import line, dtype expression for x, what the docstring says about precision)
_FLAVORS = {
    "python": ("import numpy as xp", "xp.float64", "numpy only; computes in float64"),
    # `float` is jax's default float: float64 under jax_enable_x64, float32 otherwise
    "jax": ("import jax.numpy as xp", "float",
            "jax only; float64 under jax_enable_x64, else float32; jit-able"),
}


def export_module(program: Program, text: str, table: OpTable, target: Target,
                  constants: Mapping[str, float], flavor: str = "jax") -> str:
    """Source of a module defining ``f(x)`` for `program` (`flavor`: "jax" or "python"):
    `text` is its DSL form (for the docstring), `table` the space's op table, `target` the
    function it approximates, `constants` the fitted values by name."""
    check_flavor(flavor)
    missing = [name for name in program.parameters if name not in constants]
    if missing:
        raise ValueError(f"no value for fitted constant(s) {', '.join(missing)}")
    known = {name: float(constants[name]) for name in program.parameters}  # register -> value
    names = {name: name for name in program.inputs}  # registers that depend on x -> variable
    body = []
    for ins in program.instructions:
        op = table.get(ins.op)
        if all(isinstance(a, float) or a in known for a in ins.args):
            with np.errstate(all="ignore"):  # inf/nan constants are exported as they are
                known[ins.register] = float(op.numpy_impl(
                    *(known[a] if isinstance(a, str) else a for a in ins.args)))
            continue
        args = (names[a] if isinstance(a, str) and a in names
                else _literal(known[a] if isinstance(a, str) else a) for a in ins.args)
        expression = op.code(flavor, args)
        names[ins.register] = f"r{len(body)}"
        body.append(f"    {names[ins.register]} = {expression}")
    output = dict(program.outputs)["f"]
    # f is elementwise even when it does not depend on x (the space's model broadcasts too)
    result = (names[output] if output in names
              else f"xp.full(xp.shape(x), {_literal(known[output])})")
    header = [f"f(x) approximating {target.name}(x) on [{target.lower!r}, {target.upper!r}].",
              "", "Exported by automl-evolution from the autonumerics search space.",
              f"Standalone ({_FLAVORS[flavor][2]}).",
              "f takes a scalar or an array and works elementwise.",
              "", "Program (autonumerics DSL):", "",
              *(f"    {line}" for line in text.splitlines())]
    if program.parameters:
        header += ["", "Fitted constants (inlined below):", "",
                   *(f"    {name} = {known[name]!r}" for name in program.parameters)]
    imports, dtype, _ = _FLAVORS[flavor]
    helpers = [fma_helper()] if any("_fma(" in line for line in body) else []
    return "\n".join(['"""' + header[0], *header[1:], '"""', "", imports, "", "",
                      "def f(x):", f"    x = xp.asarray(x, dtype={dtype})", *body,
                      f"    return {result}", "", *helpers])


def fma_helper() -> str:
    """``_fma(a, b, c)``, a * b + c rounded once, for an exported numpy module: the code of
    `automl.fma` (numpy, fractions and typing only), its docstring cut to a line."""
    source = Path(automl.fma.__file__).read_text()
    body = source[source.index("from __future__ import annotations\n") +
                  len("from __future__ import annotations\n"):]
    body = body.replace('__all__ = ["add_round_to_odd", "fast_path", "fma", "two_product", '
                        '"two_sum"]\n', "")
    body = body.replace("\ndef fma(", "\ndef _fma(")
    return ("\n# _fma(a, b, c): a * b + c rounded once (numpy has no fma), as automl.fma computes "
            "it:\n# Dekker's exact product, TwoSum, and Boldo and Melquiond's rounding to odd"
            f"\n{body.strip()}\n")


def check_flavor(flavor: str) -> None:
    if flavor not in _FLAVORS:
        raise ValueError(f"unknown export format {flavor!r}; allowed: {', '.join(_FLAVORS)}")


def _literal(value: float) -> str:
    """`value` as Python source: repr round-trips exactly; a negative one is parenthesized
    so that no template (``-{0}``, ``{0} ** 2``) can change its meaning."""
    if not math.isfinite(value):
        return f"float('{value}')"
    return f"({value!r})" if math.copysign(1.0, value) < 0 else repr(value)
