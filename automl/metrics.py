"""Campaign metrics for the Ray dashboard (Prometheus, via `ray.util.metrics`).

One `CampaignMetrics` per running campaign, in the controller's process (the Ray driver).
Every series carries the tags ``campaign`` and ``space``:

=================================  =======  =====================================================
``automl_evaluations``             counter  finished evaluations, tag ``status``: evaluated,
                                            failed or rejected
``automl_rejections``              counter  evaluations rejected before running (also counted in
                                            ``automl_evaluations{status="rejected"}``)
``automl_cache_hits``              counter  candidates answered by the functional cache
``automl_in_flight``               gauge    candidates dispatched or waiting on one in flight
``automl_population_size``         gauge    members of the population
``automl_best_value``              gauge    best value so far, tag ``objective``
``automl_hypervolume``             gauge    hypervolume of the evaluated points
=================================  =======  =====================================================

Ray exports them on each node's metrics agent (``ray.init(_metrics_export_port=...)``, or the
port in ``/tmp/ray/prom_metrics_service_discovery.json``) with the prefix ``ray_``, and counters
with the suffix ``_total``: ``ray_automl_evaluations_total{campaign, space, status}``,
``ray_automl_best_value{campaign, space, objective}``. Values reach Prometheus every
``metrics_report_interval_ms`` (Ray's default: 10 s).

Without Ray (the local executor never starts it) every method is a no-op: Ray is not even
imported. With Ray, the per-candidate calls (`evaluation`, `cache_hit`) only count in a dict;
the counts go to Ray with the next `gauges` call (the controller makes at most ten a second, and
one with the final values when the run ends), or after a second at the latest.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

# Counts that wait longer than this go to Ray from the hot path itself (when `gauges` is not
# being called); normally `gauges` sends them first.
FLUSH_SECONDS = 1.0


def _ray_initialized() -> bool:
    """True when this process is connected to Ray; never imports Ray to find out."""
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


class CampaignMetrics:
    """Metrics of one campaign; every method is a no-op when Ray is not initialized."""

    def __init__(self, campaign: str, space: str, objectives: Sequence[str]) -> None:
        self.campaign, self.space, self.objectives = campaign, space, tuple(objectives)
        self.enabled = _ray_initialized()
        self._pending: dict[str, int] = {}  # evaluations by status, not yet sent to Ray
        self._pending_hits = 0
        self._flushed = time.monotonic()
        if not self.enabled:
            return
        from ray.util import metrics

        tags = {"campaign": str(campaign), "space": str(space)}
        keys = tuple(tags)

        def make(kind: Any, name: str, description: str, *extra: str) -> Any:
            return kind(name, description, tag_keys=keys + extra).set_default_tags(tags)

        self._evaluations = make(metrics.Counter, "automl_evaluations",
                                 "Finished evaluations by status (evaluated, failed, rejected)",
                                 "status")
        self._rejections = make(metrics.Counter, "automl_rejections",
                                "Evaluations rejected before running")
        self._cache_hits = make(metrics.Counter, "automl_cache_hits",
                                "Candidates answered by the functional cache (duplicates)")
        self._in_flight = make(metrics.Gauge, "automl_in_flight",
                               "Candidates being evaluated or waiting on an identical one")
        self._population = make(metrics.Gauge, "automl_population_size",
                                "Members of the population")
        self._best = make(metrics.Gauge, "automl_best_value",
                          "Best value so far per objective", "objective")
        self._hypervolume = make(metrics.Gauge, "automl_hypervolume",
                                 "Hypervolume of the evaluated points (minimization form)")

    def evaluation(self, status: str) -> None:
        """One finished evaluation: status evaluated, failed or rejected."""
        if not self.enabled:
            return
        self._pending[status] = self._pending.get(status, 0) + 1
        if time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self.flush()

    def cache_hit(self) -> None:
        """One candidate answered by the functional cache (duplicate)."""
        if not self.enabled:
            return
        self._pending_hits += 1
        if time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self.flush()

    def gauges(self, *, in_flight: int, population: int, best: Mapping[str, float],
               hypervolume: float | None) -> None:
        """Current values (called at most ~10 times a second); sends the pending counts too.
        `hypervolume` None: not recomputed this time, the gauge keeps its last value."""
        if not self.enabled or not self._still_connected():
            return
        self.flush()
        self._in_flight.set(int(in_flight))
        self._population.set(int(population))
        for objective, value in best.items():
            self._best.set(float(value), tags={"objective": str(objective)})
        if hypervolume is not None:
            self._hypervolume.set(float(hypervolume))

    def flush(self) -> None:
        """Send the counts gathered since the last flush to Ray."""
        self._flushed = time.monotonic()
        if not self.enabled or not (self._pending or self._pending_hits):
            return
        if not self._still_connected():
            return
        pending, hits = self._pending, self._pending_hits
        self._pending, self._pending_hits = {}, 0
        for status, count in pending.items():
            self._evaluations.inc(count, tags={"status": status})
        if pending.get("rejected"):
            self._rejections.inc(pending["rejected"])
        if hits:
            self._cache_hits.inc(hits)

    def _still_connected(self) -> bool:
        """Ray may be shut down while the campaign object lives on: stop recording then."""
        if not _ray_initialized():
            self.enabled = False
        return self.enabled
