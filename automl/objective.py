"""An objective of a search: its name, direction and scale. A plain value, below everything
that compares candidates (the space contract, the Pareto front, the store, reports)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Objective:
    name: str
    direction: Literal["minimize", "maximize"]
    # compare on log10 (errors spanning 1e-3..1e-15): selection and hypervolume use this scale
    log_scale: bool = False
    # hypervolume reference point on the minimization scale (None: no hypervolume)
    reference: float | None = None
    # a wall-clock measurement (float32 AutoNumerics' time beside jnp.exp2): it varies from
    # run to run and machine to machine, so `automl reproduce` shows it but does not fail on it
    measured: bool = False

    def better(self, value: float, than: float | None) -> bool:
        if than is None:
            return True
        return value < than if self.direction == "minimize" else value > than

    def to_minimization(self, value: float) -> float:
        if self.log_scale:
            value = math.log10(max(value, 1e-300))
        return value if self.direction == "minimize" else -value
