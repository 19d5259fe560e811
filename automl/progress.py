"""What a running campaign reports as it goes (`Progress`, to a progress bar and the Ray
dashboard) and when it ends (`CampaignSummary`, which `automl run` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field

from automl.evolution.front import FrontMember
from automl.store import CampaignRecord


@dataclass
class Progress:
    candidates: int
    evaluations: int
    max_evaluations: int
    cache_hit_rate: float
    failed: int
    best: dict[str, float]


@dataclass
class CampaignSummary:
    campaign: CampaignRecord
    candidates: int
    evaluations: int
    failed: int
    duplicates: int
    cache_hits: int
    in_flight_hits: int
    cache_hit_rate: float
    seconds: float
    stopped: bool
    # the Pareto front, best first by the first objective; each payload is the program's text
    front: list[FrontMember] = field(default_factory=list)
    hypervolume: float | None = None
    restarts: int = 0  # evolution.restart_after: times the population restarted from the best
