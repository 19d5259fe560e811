"""Restart on stall, as a wrapper around a strategy (as optax wraps a transformation):
``WithRestarts(RegularizedEvolution(...), after=500)``.

The Lion search restarted its population from the best program when the search stalled
(PAPERS.md). Here: after `after` members in a row joined without improving the best value of
the selected objective, the population restarts from the best member alone, and its children
refill it. A gain within a relative 1e-9 is not an improvement: a resumed campaign refits its
parents' constants from their stored values and can land 1e-14 away, which must not change
when it restarts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl import plugins
from automl.evolution.selection import Member, MemberFactory, PopulationState, SelectionStrategy


@dataclass(frozen=True)
class RestartState:
    """The wrapped strategy's state, the best member so far (number and vector), how many
    members joined since it did, and how many restarts there were."""

    inner: PopulationState
    best: tuple[int, tuple[float, ...]] | None
    stalled: int
    restarts: int

    def numbers(self) -> set[int]:
        """The candidates `restore` needs."""
        return self.inner.numbers() | ({self.best[0]} if self.best is not None else set())

    def to_json(self) -> dict[str, Any]:
        best = None if self.best is None else [self.best[0], list(self.best[1])]
        return {"kind": "restarts", "inner": self.inner.to_json(), "best": best,
                "stalled": self.stalled, "restarts": self.restarts}


class WithRestarts(SelectionStrategy):
    """`inner` restarted from its best member on a stall. `inner` is `restartable`: it selects
    on one objective (``objective_index``) and has ``restart(member)``."""

    def __init__(self, inner: SelectionStrategy, after: int) -> None:
        if not inner.restartable:
            raise ValueError(f"restarts need a strategy that selects on one objective and can "
                             f"restart from its best member, not {inner.name!r}")
        if after < 1:
            raise ValueError(f"restart after must be a positive integer, got {after!r}")
        self.inner, self.after = inner, after
        self.name = inner.name
        self.population_size, self.tournament_size = inner.population_size, inner.tournament_size
        self.best: Member | None = None
        self.stalled = 0
        self.restarts = 0

    def select_parent(self, rng: np.random.Generator) -> Member:
        return self.inner.select_parent(rng)

    def members(self) -> list[Member]:
        return self.inner.members()

    def __len__(self) -> int:
        return len(self.inner)

    def add(self, member: Member) -> None:
        self.inner.add(member)
        index = self.inner.objective_index  # type: ignore[attr-defined]
        value, best = member.objectives[index], self.best
        if best is None or (value < best.objectives[index]
                            and not math.isclose(value, best.objectives[index], rel_tol=1e-9)):
            self.best, self.stalled = member, 0
            return
        self.stalled += 1
        if self.stalled >= self.after:
            self.inner.restart(best)  # type: ignore[attr-defined]
            self.stalled = 0
            self.restarts += 1

    # -- state ------------------------------------------------------------------------------
    def state(self) -> RestartState:
        best = self.best
        return RestartState(self.inner.state(),
                            None if best is None else (best.number,
                                                       tuple(best.objectives.tolist())),
                            self.stalled, self.restarts)

    def parse_state(self, data: Mapping[str, Any]) -> RestartState:
        if data.get("kind") != "restarts":
            raise ValueError(f"not a restart state: kind {data.get('kind')!r}")
        best = data["best"]
        return RestartState(self.inner.parse_state(data["inner"]),
                            None if best is None else (int(best[0]),
                                                       tuple(float(x) for x in best[1])),
                            int(data["stalled"]), int(data["restarts"]))

    def state_from_version_1(self, snapshot: Mapping[str, Any]) -> RestartState:
        """The untyped snapshot's ``restart`` entry (absent before the first member joined)."""
        inner = self.inner.state_from_version_1(snapshot)
        restart = snapshot.get("restart")
        if restart is None:
            return RestartState(inner, None, 0, 0)
        number, vector = restart["best"]
        return RestartState(inner, (int(number), tuple(float(x) for x in vector)),
                            int(restart["stalled"]), int(restart["restarts"]))

    def restore(self, state: RestartState, member: MemberFactory) -> None:  # type: ignore[override]
        self.inner.restore(state.inner, member)
        self.best = None if state.best is None else member(*state.best)
        self.stalled, self.restarts = state.stalled, state.restarts

    @classmethod
    def from_config(cls, evolution: Any, objectives: Sequence[str]) -> SelectionStrategy:
        raise TypeError("WithRestarts wraps a strategy: build the strategy, then wrap it")


def configured_strategy(evolution: Any, objectives: Sequence[str]) -> SelectionStrategy:
    """The registered strategy a campaign's ``evolution`` config names (built by its
    ``from_config``), wrapped to restart on a stall when ``restart_after`` is set."""
    strategy = plugins.STRATEGIES.load(evolution.strategy).from_config(evolution, objectives)
    if evolution.restart_after is not None:
        strategy = WithRestarts(strategy, evolution.restart_after)
    return strategy
