"""Population / parent-selection strategies for a steady-state asynchronous evolution loop.

All objective vectors are in minimization form (see :mod:`automl.evolution.pareto`).
Every strategy draws its randomness only from the ``rng`` handed to ``select_parent``, so
the same rng state and the same sequence of ``add``/``select_parent`` calls give the same
picks.

"Oldest" always means "added to the population earliest" (the order of ``add`` calls),
which is what ``members()`` returns first.

A strategy saves what it needs to continue exactly as a typed value (`state`, a
`PopulationState`; wrappers such as `automl.evolution.restarts.WithRestarts` add their own), which
is what the campaign state stores (`automl.campaign_state`), and `restore` continues from it.
Strategies are plug-ins: the built-in ones below are registered under the entry-point group
``automl.strategies`` like a third party's, and each builds itself from a campaign's
``evolution`` config (`from_config`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from automl.evolution.pareto import (
    crowding_distance,
    dominates,
    frontwise_crowding_distance,
    non_dominated_mask,
    non_dominated_sort,
)

__all__ = [
    "NSGA2",
    "Member",
    "PopulationState",
    "ParetoTournament",
    "RegularizedEvolution",
    "SelectionStrategy",
]


@dataclass(frozen=True)
class Member:
    """One evaluated candidate.  Equality and hashing use ``number`` only."""

    number: int  # candidate number (unique, increasing with creation time)
    objectives: np.ndarray = field(compare=False)  # shape (m,), minimization form
    payload: Any = field(default=None, compare=False)  # the owner's (the controller's Candidate)
    # what the member computes (its functional hash), for strategies that keep one copy
    identity: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        obj = np.array(self.objectives, dtype=float)  # private copy
        if obj.ndim != 1 or obj.shape[0] == 0:
            raise ValueError(f"objectives must be a non-empty 1-D vector, got shape {obj.shape}")
        if np.isnan(obj).any():
            raise ValueError(f"member {self.number}: objectives contain NaN: {obj}")
        obj.setflags(write=False)  # strategies cache derived data; keep it immutable
        object.__setattr__(self, "objectives", obj)


@dataclass(frozen=True)
class PopulationState:
    """A strategy's population as resume needs it: its members, oldest first, as (candidate
    number, minimization vector). Re-adding them in this order rebuilds the population."""

    members: tuple[tuple[int, tuple[float, ...]], ...]

    def numbers(self) -> set[int]:
        """The candidates `restore` needs."""
        return {number for number, _ in self.members}

    def to_json(self) -> dict[str, Any]:
        return {"kind": "population", "members": [[n, list(v)] for n, v in self.members]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PopulationState:
        if data.get("kind") != "population":
            raise ValueError(f"not a population state: kind {data.get('kind')!r}")
        return cls(tuple((int(n), tuple(float(x) for x in v)) for n, v in data["members"]))


MemberFactory = Callable[[int, Sequence[float]], Member]  # (number, vector) -> Member


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class SelectionStrategy(ABC):
    """A population plus a rule for picking parents from it.

    A plug-in strategy implements `select_parent`, `add` and `members` (and `from_config` if
    it takes more than the population and tournament sizes); the rest has defaults. One that
    selects on a single objective and can `restart(member)` from it sets `restartable`, so
    that ``evolution.restart_after`` can wrap it (`automl.evolution.restarts`)."""

    name: ClassVar[str]
    restartable: ClassVar[bool] = False

    def __init__(self, population_size: int, tournament_size: int) -> None:
        self.population_size = _positive_int(population_size, "population_size")
        self.tournament_size = _positive_int(tournament_size, "tournament_size")
        self._numbers: set[int] = set()
        self._num_objectives: int | None = None

    @abstractmethod
    def select_parent(self, rng: np.random.Generator) -> Member:
        """Pick a parent; raises ValueError when the population is empty."""

    @abstractmethod
    def add(self, member: Member) -> None:
        """Insert a newly evaluated member (evicting one when over ``population_size``)."""

    @abstractmethod
    def members(self) -> list[Member]:
        """The current population, oldest first."""

    def __len__(self) -> int:
        return len(self.members())

    @classmethod
    def from_config(cls, evolution: Any, objectives: Sequence[str]) -> SelectionStrategy:
        """The strategy a campaign's ``evolution`` config asks for, over `objectives` (the
        space's objective names, in order)."""
        return cls(population_size=evolution.population_size,
                   tournament_size=evolution.tournament_size)

    def state(self) -> PopulationState:
        """What `restore` needs to continue exactly (JSON via `to_json`)."""
        return PopulationState(tuple((m.number, tuple(m.objectives.tolist()))
                                     for m in self.members()))

    def parse_state(self, data: Mapping[str, Any]) -> PopulationState:
        """`state().to_json()` read back."""
        return PopulationState.from_json(data)

    def state_from_version_1(self, snapshot: Mapping[str, Any]) -> PopulationState:
        """The state in the untyped snapshot of campaigns stored before the state had a
        version (``{"population": [[number, vector], ...], ...}``)."""
        return PopulationState(tuple((int(n), tuple(float(x) for x in v))
                                     for n, v in snapshot["population"]))

    def restore(self, state: PopulationState, member: MemberFactory) -> None:
        """Continue from `state` (on an empty strategy); `member` rebuilds each member, with
        its payload, from its number and vector."""
        for number, vector in state.members:
            self.add(member(number, vector))

    # -- helpers -----------------------------------------------------------------------------

    def _check_new(self, member: Member) -> None:
        if not isinstance(member, Member):
            raise TypeError(f"expected a Member, got {type(member).__name__}")
        if member.number in self._numbers:
            raise ValueError(f"member {member.number} is already in the population")
        m = member.objectives.shape[0]
        if self._num_objectives is None:
            self._num_objectives = m
        elif m != self._num_objectives:
            raise ValueError(
                f"member {member.number} has {m} objectives, population has {self._num_objectives}"
            )

    def _sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``tournament_size`` population indices drawn uniformly WITH replacement."""
        if n == 0:
            raise ValueError(f"{type(self).__name__}: cannot select from an empty population")
        return rng.integers(0, n, size=self.tournament_size)


class _AgingStrategy(SelectionStrategy):
    """FIFO (aging) population: adding beyond capacity evicts the oldest member."""

    def __init__(self, population_size: int, tournament_size: int) -> None:
        super().__init__(population_size, tournament_size)
        self._pop: deque[Member] = deque()

    def add(self, member: Member) -> None:
        self._check_new(member)
        self._pop.append(member)
        self._numbers.add(member.number)
        while len(self._pop) > self.population_size:
            self._numbers.discard(self._pop.popleft().number)

    def members(self) -> list[Member]:
        return list(self._pop)

    def __len__(self) -> int:
        return len(self._pop)

    def restart(self, member: Member) -> None:
        """Empty the population down to `member` alone (in it or not): every tournament picks
        it until its children refill the population (the Lion search's restart from the best
        program when the search stalls)."""
        self._pop.clear()
        self._numbers.clear()
        self.add(member)


class RegularizedEvolution(_AgingStrategy):
    """Aging evolution (Real et al. 2019) on one objective.

    ``select_parent`` samples ``tournament_size`` members uniformly with replacement and
    returns the one with the lowest ``objectives[objective_index]`` (ties: lowest number).
    """

    name: ClassVar[str] = "regularized"
    restartable: ClassVar[bool] = True

    def __init__(self, population_size: int, tournament_size: int, objective_index: int = 0):
        super().__init__(population_size, tournament_size)
        if (
            isinstance(objective_index, bool)
            or not isinstance(objective_index, int | np.integer)
            or objective_index < 0
        ):
            raise ValueError(f"objective_index must be a non-negative int, got {objective_index!r}")
        self.objective_index = int(objective_index)

    def add(self, member: Member) -> None:
        if isinstance(member, Member) and self.objective_index >= member.objectives.shape[0]:
            raise ValueError(
                f"objective_index {self.objective_index} out of range for member "
                f"{member.number} with {member.objectives.shape[0]} objectives"
            )
        super().add(member)

    def select_parent(self, rng: np.random.Generator) -> Member:
        pop = self._pop
        idx = self._sample_indices(rng, len(pop))
        j = self.objective_index
        return min((pop[i] for i in idx.tolist()), key=lambda mb: (mb.objectives[j], mb.number))

    @classmethod
    def from_config(cls, evolution: Any, objectives: Sequence[str]) -> RegularizedEvolution:
        """Selects on ``evolution.objective`` (default: the first objective)."""
        objective = evolution.objective or objectives[0]
        if objective not in objectives:
            raise ValueError(f"evolution.objective {objective!r} is not one of "
                             f"{list(objectives)}")
        return cls(population_size=evolution.population_size,
                   tournament_size=evolution.tournament_size,
                   objective_index=list(objectives).index(objective))


class ParetoTournament(_AgingStrategy):
    """Aging population with multi-objective tournaments (EvoNorms, Liu et al. 2020).

    ``select_parent`` samples ``tournament_size`` members uniformly with replacement,
    computes the Pareto front of the distinct sampled members (members with equal objective
    vectors are all on it) and returns one of them uniformly at random.
    """

    name: ClassVar[str] = "pareto_tournament"

    def select_parent(self, rng: np.random.Generator) -> Member:
        pop = self._pop
        idx = self._sample_indices(rng, len(pop))
        distinct = np.unique(idx)  # sorted: the front is listed oldest first
        if distinct.size == 1:
            return pop[int(distinct[0])]
        sample = [pop[i] for i in distinct.tolist()]
        mask = non_dominated_mask(np.stack([mb.objectives for mb in sample]))
        front = np.flatnonzero(mask)
        return sample[int(front[rng.integers(0, front.size)])]


class NSGA2(SelectionStrategy):
    """Steady-state NSGA-II.

    ``add`` inserts; when the population exceeds ``population_size`` (checked at the next
    read, see ``_settle``) it removes the worst member, one at a time: highest non-domination
    rank, then smallest crowding distance (computed within its front), then oldest.
    ``select_parent`` runs a tournament of ``tournament_size`` members sampled uniformly with
    replacement, won by the smallest ``(rank, -crowding)``;
    ties go to the member sampled first.

    A member whose ``identity`` (functional hash) is already in the population is not added:
    with cached fitness, copies of the front's members arrive far faster than new programs,
    and copies of non-dominated points are never evicted, so the population collapses onto a
    few programs (pymoo's NSGA-II eliminates duplicates for the same reason). Unless the copy
    dominates the member it copies: the same function written more cheaply (an objective that
    depends on the text, like AutoNumerics' cost) then takes that member's place.

    Ranks and crowding distances are cached and recomputed lazily, only after membership
    changed.  An eviction keeps the cache valid: removing a member of the last front cannot
    change anybody's rank, so only that front's crowding distances are recomputed.
    """

    name: ClassVar[str] = "nsga2"

    def __init__(self, population_size: int, tournament_size: int = 2) -> None:
        super().__init__(population_size, tournament_size)
        self._pop: list[Member] = []
        self._identities: set[str | None] = set()
        self._objs: np.ndarray | None = None  # (len, m) objectives, aligned with _pop
        self._ranks: np.ndarray | None = None  # None <=> cache invalid
        self._crowding: np.ndarray | None = None
        self._rank_list: list[int] = []
        self._neg_crowding_list: list[float] = []

    # -- cache ---------------------------------------------------------------------------------

    def _ensure_cache(self) -> None:
        if self._ranks is not None:
            return
        if self._objs is None or not self._pop:
            ranks = np.zeros(0, dtype=np.intp)
            crowd = np.zeros(0, dtype=float)
        else:
            ranks = non_dominated_sort(self._objs)
            crowd = frontwise_crowding_distance(self._objs, ranks)
        self._set_cache(ranks, crowd)

    def _set_cache(self, ranks: np.ndarray, crowd: np.ndarray) -> None:
        self._ranks = ranks
        self._crowding = crowd
        # python lists make the per-call tournament cheap
        self._rank_list = ranks.tolist()
        self._neg_crowding_list = (-crowd).tolist()

    def _invalidate(self) -> None:
        self._ranks = None
        self._crowding = None

    # -- API -------------------------------------------------------------------------------------

    def add(self, member: Member) -> None:
        self._check_new(member)
        if member.identity is not None and member.identity in self._identities:
            index = next(i for i, m in enumerate(self._pop) if m.identity == member.identity)
            if not dominates(member.objectives, self._pop[index].objectives):
                return  # a copy of a member: it would only crowd the front (see docstring)
            self._remove(index)
        self._pop.append(member)
        self._numbers.add(member.number)
        if member.identity is not None:
            self._identities.add(member.identity)
        row = member.objectives[None, :]
        self._objs = row.copy() if self._objs is None else np.concatenate([self._objs, row])
        self._invalidate()

    def _remove(self, index: int) -> None:
        """Drop the member at `index` (the rank cache is the caller's business)."""
        removed = self._pop.pop(index)
        self._identities.discard(removed.identity)
        self._numbers.discard(removed.number)
        assert self._objs is not None
        self._objs = np.delete(self._objs, index, axis=0)

    def _settle(self) -> None:
        """Evict down to ``population_size``. Deferred from ``add`` to the next read: a batch of
        k results then costs one full non-dominated sort instead of k (the controller adds a
        whole batch before it selects again), and the surplus members are still compared
        against each other before any leaves."""
        while len(self._pop) > self.population_size:
            self._evict_worst()

    def _evict_worst(self) -> None:
        self._ensure_cache()
        ranks, crowd = self._ranks, self._crowding
        assert ranks is not None and crowd is not None
        age = np.arange(len(self._pop))  # 0 = oldest
        # lexsort: last key is primary -> rank descending, crowding ascending, oldest first
        worst = int(np.lexsort((age, crowd, -ranks))[0])
        worst_rank = ranks[worst]
        self._remove(worst)
        ranks = np.delete(ranks, worst)
        crowd = np.delete(crowd, worst)
        # the evicted member was in the last front: other ranks are unchanged and only that
        # front's crowding distances need recomputing
        in_front = np.flatnonzero(ranks == worst_rank)
        if in_front.size:
            crowd[in_front] = crowding_distance(self._objs[in_front])
        self._set_cache(ranks, crowd)

    def select_parent(self, rng: np.random.Generator) -> Member:
        self._settle()
        idx = self._sample_indices(rng, len(self._pop)).tolist()
        self._ensure_cache()
        rank, neg_crowd = self._rank_list, self._neg_crowding_list
        best = idx[0]
        best_key = (rank[best], neg_crowd[best])
        for i in idx[1:]:
            key = (rank[i], neg_crowd[i])
            if key < best_key:
                best, best_key = i, key
        return self._pop[best]

    def members(self) -> list[Member]:
        self._settle()
        return list(self._pop)

    def __len__(self) -> int:
        self._settle()
        return len(self._pop)

    def ranks(self) -> np.ndarray:
        """Non-domination rank of each member, aligned with ``members()`` (a copy)."""
        self._settle()
        self._ensure_cache()
        assert self._ranks is not None
        return self._ranks.copy()

    def crowding(self) -> np.ndarray:
        """Within-front crowding distance of each member, aligned with ``members()``."""
        self._settle()
        self._ensure_cache()
        assert self._crowding is not None
        return self._crowding.copy()
