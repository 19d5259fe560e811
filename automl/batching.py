"""How a space's compiled evaluator runs a batch of programs: one after another or all at once.

Shared by every space whose evaluator is a compile-once JAX interpreter. JAX is imported only
when a function here runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

ProgramBatching = Literal["auto", "map", "vmap"]


def resolve_program_batching(setting: ProgramBatching) -> Literal["map", "vmap"]:
    """How a compiled evaluator runs a batch of programs. "map": one program after another
    (`lax.map`), so each statement's op-code switch runs only the op it names: best on a CPU.
    "vmap": all programs at once, the switch becoming a select over every op: far more
    arithmetic, but one wide kernel per op instead of a chain of tiny ones, host-synchronised
    per statement: best on a GPU. "auto": vmap on an accelerator, map on the CPU."""
    if setting != "auto":
        return setting
    import jax

    return "map" if jax.default_backend() == "cpu" else "vmap"


def over_programs(function: Callable, programs: Any, batching: str) -> Any:
    """`function` of each program of `programs` (a pytree, program axis first), one after
    another (`lax.map`, "map") or all at once (`vmap`, "vmap"); call inside a jitted
    function. See `resolve_program_batching`."""
    import jax

    if batching == "vmap":
        return jax.vmap(function)(programs)
    if batching == "map":
        return jax.lax.map(function, programs)
    raise ValueError(f"batching must be 'map' or 'vmap', got {batching!r}")
