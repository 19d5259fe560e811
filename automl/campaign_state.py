"""The campaign state written with every batch: what `resume` continues from after a crash.

Typed and versioned, in one format: the selection strategy's own state (its population, and
what a wrapper such as restart-on-stall adds) and where the fits of the candidates in flight
start (`automl.candidates.Candidate.start`: inherited from their parents, not in their text).
Everything else a resumed campaign needs is in the stored rows (counters, cache, front).

Version 1 is the untyped snapshot of campaigns stored before the state had a version
(``{"population": [...], "starts": {...}, "restart": {...}}``): it is read as it was meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from automl.evolution.selection import SelectionStrategy

VERSION = 2


class StateError(ValueError):
    """A stored campaign state that this code cannot continue from."""


@dataclass(frozen=True)
class CampaignState:
    strategy: Any  # the strategy's state: PopulationState, RestartState, ... (has to_json)
    # candidate number -> where its constants' fit starts, for candidates in flight
    starts: Mapping[int, Mapping[str, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"version": VERSION, "strategy": self.strategy.to_json(),
                "starts": {str(n): dict(values) for n, values in sorted(self.starts.items())}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], strategy: SelectionStrategy) -> CampaignState:
        """The stored state read back for `strategy` (the campaign's, built from its config)."""
        version = data.get("version", 1)
        try:
            if version == 1:
                typed = strategy.state_from_version_1(data)
            elif version == VERSION:
                typed = strategy.parse_state(data["strategy"])
            else:
                raise StateError(f"the stored campaign state has version {version!r}; this code "
                                 f"reads versions 1 to {VERSION} (upgrade automl-evolution)")
            starts = {int(n): {str(k): float(v) for k, v in values.items()}
                      for n, values in data.get("starts", {}).items()}
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, StateError):
                raise
            raise StateError(f"the stored campaign state (version {version}) does not fit a "
                             f"{strategy.name!r} campaign: {error}") from None
        return cls(typed, starts)
