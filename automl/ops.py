"""Ops and op tables: what a program's statements may compute, and how each op is exported.

An `Op` holds its numpy implementation (what programs are hashed and simplified with), an
optional jax one, its cost, and its *source templates*: the op as a Python expression, for the
standalone modules the spaces export. An `OpTable` maps names to ops. The core's table,
`CORE_OPS`, holds the arithmetic every space shares; a space builds its own table from it with
`CORE_OPS.extended([...])`, and a name the space defines again replaces the core's op *in the
space's table only*, so two spaces can each define ``log`` their own way. Nothing registers
into a global table: a space's `Signature` carries its table, and everything that runs,
validates, simplifies or hashes one of its programs takes the table from there.

Templates. `Op.source` is a `str.format` template over ``xp`` (the exported module's numpy or
``jax.numpy``) whose positional fields ``{0}, {1}, ...`` are the op's arguments as source code
(names or literals); `Op.sources` overrides it per export flavour (e.g. ``{"jax":
"jax.nn.sigmoid({0})"}``). A template may also name fields (``{key!r}``) for what an op needs
beyond its arguments; which names exist, and what they mean, is the business of the space's
exporter (e.g. the moving statistic a batch aggregate owns). An empty template: not exportable.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from automl.fma import fma

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ProgramError(ValueError):
    """A program is malformed: unknown op, wrong arity, undefined name, missing output."""


@dataclass(frozen=True)
class Op:
    """One operation. `cost` is what the cost objectives count; `commutative` lets simplify
    and hashing treat ``add(a, b)`` and ``add(b, a)`` as the same statement. `source` is the
    op's export template over ``xp`` and ``{0}, {1}, ...``; `sources` maps an export flavour
    (``"python"``, ``"jax"``) to a template that replaces `source` for that flavour."""

    name: str
    arity: int
    numpy_impl: Callable[..., Any]
    jax_impl: Callable[..., Any] | None = None
    cost: float = 1.0
    commutative: bool = False
    doc: str = ""
    source: str = ""
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", dict(self.sources))  # a copy: not the caller's

    def template(self, flavor: str) -> str:
        """The export template for `flavor` ("" when the op cannot be exported)."""
        return self.sources.get(flavor, self.source)

    def placeholders(self, flavor: str) -> set[str]:
        """The named fields of the `flavor` template (positional ones excluded)."""
        return {name for _, name, _, _ in string.Formatter().parse(self.template(flavor))
                if name and not name.isdigit()}

    def code(self, flavor: str, args: Iterable[str], **named: Any) -> str:
        """The op applied to `args` (source code) as a `flavor` expression; `named` fills
        the template's named fields."""
        template = self.template(flavor)
        if not template:
            raise ValueError(f"op {self.name!r} has no source template; cannot export it")
        return template.format(*args, **named)


class OpTable:
    """Op name -> `Op`: a space's op set (the renamed `OpRegistry`).

    `register` adds an op to a table being built (a name defined twice must be defined alike);
    `extended` derives a new table in which later definitions replace the base's. Tables made
    with ``frozen=True`` (`CORE_OPS`, the spaces' tables, every `extended` one) refuse
    `register`: what another module defines cannot change under it."""

    def __init__(self, ops: Iterable[Op] = (), *, frozen: bool = False) -> None:
        self._ops: dict[str, Op] = {}
        self._frozen = False
        for op in ops:
            self.register(op)
        self._frozen = frozen

    def register(self, op: Op) -> Op:
        if self._frozen:
            raise TypeError("this op table is frozen; derive one with extended()")
        existing = self._ops.get(op.name)
        if existing is not None and existing != op:
            raise ValueError(f"op {op.name!r} is already registered with another definition")
        if not IDENTIFIER.match(op.name):
            raise ValueError(f"op name {op.name!r} is not an identifier")
        self._ops[op.name] = op
        return op

    def extended(self, ops: Iterable[Op]) -> OpTable:
        """A new frozen table: this table's ops, then `ops`; an op of `ops` named like one of
        this table's replaces it there (this table is unchanged)."""
        added = OpTable(ops)
        table = OpTable()
        table._ops = {**self._ops, **added._ops}
        table._frozen = True
        return table

    def get(self, name: str) -> Op:
        try:
            return self._ops[name]
        except KeyError:
            raise ProgramError(f"unknown op {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def __len__(self) -> int:
        return len(self._ops)

    def names(self) -> list[str]:
        return sorted(self._ops)

    def ops(self) -> tuple[Op, ...]:
        """Every op, by name."""
        return tuple(self._ops[name] for name in self.names())

    def __repr__(self) -> str:
        return f"OpTable({', '.join(self.names())})"


def _jnp() -> Any:
    import jax.numpy as jnp  # imported lazily: most numpy-only paths never need jax

    return jnp


# jax implementations are the same expressions; jax arrays support the operators.
CORE_OPS = OpTable([
    Op("add", 2, np.add, lambda a, b: a + b, commutative=True, doc="a + b",
       source="{0} + {1}"),
    Op("sub", 2, np.subtract, lambda a, b: a - b, doc="a - b", source="{0} - {1}"),
    Op("mul", 2, np.multiply, lambda a, b: a * b, commutative=True, doc="a * b",
       source="{0} * {1}"),
    Op("div", 2, np.divide, lambda a, b: a / b, doc="a / b (IEEE, no epsilon)",
       source="{0} / {1}"),
    Op("neg", 1, np.negative, lambda a: -a, doc="-a", source="-{0}"),
    # numpy: rounded once (automl.fma; a * b + c would round twice). jax: a * b + c, which XLA
    # on the CPU contracts into one fma instruction (it does so to a mul feeding an add too)
    Op("fma", 3, fma, lambda a, b, c: a * b + c, doc="a * b + c, rounded once",
       source="{0} * {1} + {2}", sources={"python": "_fma({0}, {1}, {2})"}),
    # safe, as in the Lion search's function set: no NaN from a negative argument
    Op("sqrt", 1, lambda a: np.sqrt(np.abs(a)), lambda a: _jnp().sqrt(_jnp().abs(a)),
       doc="square root of |a|", source="xp.sqrt(xp.abs({0}))"),
    Op("max", 2, np.maximum, lambda a, b: _jnp().maximum(a, b), commutative=True, doc="max",
       source="xp.maximum({0}, {1})"),
    Op("min", 2, np.minimum, lambda a, b: _jnp().minimum(a, b), commutative=True, doc="min",
       source="xp.minimum({0}, {1})"),
], frozen=True)
"""The core's shared table: the arithmetic every space starts from."""
