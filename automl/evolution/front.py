"""The Pareto front of a campaign, kept incrementally: the one front computation that the
controller, the store, the results API and the report share.

Members are compared on each objective's minimization scale (`Objective.to_minimization`:
maximized objectives negated, log-scaled ones as log10), and equal points never dominate each
other, so twins are all kept (`pareto.non_dominated_mask`). A batch merges in with one dominance
filter over (front + batch), so keeping the front costs the front's size per batch, not the
number of candidates seen. A candidate with a missing, non-numeric or non-finite objective
never joins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np

from automl.evolution.pareto import hypervolume, non_dominated_mask
from automl.objective import Objective


def sign_only(directions: Iterable[tuple[str, str]]) -> tuple[Objective, ...]:
    """Objectives from (name, direction) pairs alone: compared on the directions' signs, with
    no log scale and no hypervolume reference. That is all a store knows of a campaign's
    objectives, and all that dominance needs (it depends on each objective's order only)."""
    return tuple(Objective(name, direction)  # type: ignore[arg-type]
                 for name, direction in directions)


@dataclass(frozen=True)
class FrontMember:
    number: int  # the candidate
    objectives: Mapping[str, float]  # as evaluated (the objectives' own scales)
    payload: Any = field(default=None, compare=False)  # what the owner keeps with it (a text)


class Front:
    """The non-dominated members among everything `add`ed so far."""

    def __init__(self, objectives: Sequence[Objective], members: Iterable[FrontMember] = ()):
        self.objectives = tuple(objectives)
        self._members: list[FrontMember] = []
        self._points = np.zeros((0, len(self.objectives)))
        self.add(members)

    @classmethod
    def restore(cls, objectives: Sequence[Objective], members: Iterable[FrontMember]) -> Front:
        """A front from members that formed one when they were saved (e.g. rows read back from
        a database): they are taken as they are, without a dominance filter, since the next
        `add` filters them together with its arrivals anyway. Members that could never have
        joined (a missing or non-finite objective) are left out."""
        front = cls(objectives)
        kept = [(member, point) for member in members
                if (point := front.point(member.objectives)) is not None]
        front._members = [member for member, _ in kept]
        front._points = np.asarray([point for _, point in kept],
                                   dtype=float).reshape(-1, len(front.objectives))
        return front

    def point(self, objectives: Mapping[str, Any] | None) -> list[float] | None:
        """`objectives` on the minimization scales, or None when there are none (a failed
        candidate) or one is missing, not a number (e.g. a stored "nan") or not finite: such a
        candidate cannot be on the front."""
        if objectives is None:
            return None
        values = []
        for objective in self.objectives:
            value = objectives.get(objective.name)
            if not isinstance(value, Real) or not math.isfinite(value):
                return None
            values.append(objective.to_minimization(float(value)))
        return values

    def add(self, members: Iterable[FrontMember]) -> tuple[list[FrontMember], list[FrontMember]]:
        """Merge `members` in; returns (those that joined, those that left the front)."""
        arrivals, points = [], []
        for member in members:
            point = self.point(member.objectives)
            if point is not None:
                arrivals.append(member)
                points.append(point)
        if not arrivals:
            return [], []
        merged = np.concatenate([self._points, np.asarray(points, dtype=float)])
        keep = non_dominated_mask(merged)
        old = len(self._members)
        dropped = [m for m, kept in zip(self._members, keep[:old], strict=True) if not kept]
        joined = [m for m, kept in zip(arrivals, keep[old:], strict=True) if kept]
        self._members = [m for m, kept in zip([*self._members, *arrivals], keep, strict=True)
                         if kept]
        self._points = merged[keep]
        return joined, dropped

    def members(self) -> list[FrontMember]:
        """The front, in the order members joined (candidate order, when added in order)."""
        return list(self._members)

    def points(self) -> np.ndarray:
        """The members' minimization-scale points, aligned with `members`, shape (n, m)."""
        return self._points.copy()

    def hypervolume(self) -> float | None:
        """Dominated hypervolume against the objectives' reference point; None when an
        objective has no reference."""
        reference = [o.reference for o in self.objectives]
        if any(r is None for r in reference):
            return None
        return hypervolume(self._points, reference)

    def __len__(self) -> int:
        return len(self._members)
