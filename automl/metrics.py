"""Campaign metrics for the Ray dashboard (Prometheus, via `ray.util.metrics`).

STUB: the interface the controller calls; the implementation is being written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class CampaignMetrics:
    """Metrics of one campaign; every method is a no-op when Ray is not initialized."""

    def __init__(self, campaign: str, space: str, objectives: Sequence[str]) -> None:
        self.campaign, self.space, self.objectives = campaign, space, tuple(objectives)

    def evaluation(self, status: str) -> None:
        """One finished evaluation: status evaluated, failed or rejected."""

    def cache_hit(self) -> None:
        """One candidate answered by the functional cache (duplicate)."""

    def gauges(self, *, in_flight: int, population: int, best: Mapping[str, float],
               hypervolume: float | None) -> None:
        """Current values (called at most ~10 times a second)."""
