"""CampaignMetrics: a no-op without Ray, batched counts with it, and the values a real campaign
on the Ray executor exports on the node's Prometheus endpoint."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from automl import metrics as metrics_module
from automl.config import parse_config
from automl.controller import CampaignController
from automl.metrics import CampaignMetrics
from automl.space import best_values
from automl.store import Store

ray = pytest.importorskip("ray")
ray_metrics = pytest.importorskip("ray.util.metrics")

OBJECTIVES = ("max_relative_error", "cost")
SCRAPE_SECONDS = 30.0  # metrics reach the agent every report interval (1 s here)


# -- without Prometheus ---------------------------------------------------------------------
def test_without_ray_nothing_is_imported_and_every_call_is_a_no_op():
    """The local executor never starts Ray: the metrics must not import it either."""
    script = (
        "import sys\n"
        "from automl.metrics import CampaignMetrics\n"
        "m = CampaignMetrics('c', 'autonumerics', ['error'])\n"
        "m.evaluation('evaluated'); m.evaluation('rejected'); m.cache_hit()\n"
        "m.gauges(in_flight=1, population=2, best={'error': 0.5}, hypervolume=None)\n"
        "m.flush()\n"
        "assert not m.enabled and 'ray' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ray_imported_but_not_initialized_is_a_no_op(monkeypatch):
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    recorded = FakeMetric.install(monkeypatch)
    campaign = CampaignMetrics("c", "s", OBJECTIVES)
    campaign.evaluation("evaluated")
    campaign.cache_hit()
    campaign.gauges(in_flight=1, population=2, best={"cost": 3.0}, hypervolume=1.0)
    assert not campaign.enabled and recorded == []


class FakeMetric:
    """Stands in for ray.util.metrics.Counter and Gauge; records (name, tags, value)."""

    def __init__(self, recorded: list[tuple[str, dict[str, str], float]], name: str,
                 description: str = "", tag_keys: tuple[str, ...] | None = None):
        self.recorded, self.name, self.tag_keys = recorded, name, tag_keys or ()
        self.default_tags: dict[str, str] = {}

    def set_default_tags(self, tags: dict[str, str]) -> FakeMetric:
        assert set(tags) <= set(self.tag_keys)
        self.default_tags = tags
        return self

    def _record(self, value: float, tags: dict[str, str] | None) -> None:
        final = {**self.default_tags, **(tags or {})}
        assert set(final) == set(self.tag_keys), (self.name, final)
        assert all(isinstance(v, str) for v in final.values())
        self.recorded.append((self.name, final, value))

    def inc(self, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        assert isinstance(value, int | float) and value > 0
        self._record(value, tags)

    def set(self, value: float, tags: dict[str, str] | None = None) -> None:
        assert isinstance(value, int | float)
        self._record(value, tags)

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, str], float]]:
        recorded: list[tuple[str, dict[str, str], float]] = []
        for kind in ("Counter", "Gauge"):
            monkeypatch.setattr(ray_metrics, kind,
                                lambda *args, **kwargs: cls(recorded, *args, **kwargs))
        return recorded


def test_counts_are_batched_until_gauges_and_hypervolume_none_keeps_the_last(monkeypatch):
    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    recorded = FakeMetric.install(monkeypatch)
    campaign = CampaignMetrics("camp", "autonumerics", OBJECTIVES)
    for status in ["evaluated"] * 3 + ["rejected"] * 2 + ["failed"]:
        campaign.evaluation(status)
    for _ in range(4):
        campaign.cache_hit()
    assert recorded == []  # the hot path only counts
    campaign.gauges(in_flight=3, population=5, best={"max_relative_error": 0.25, "cost": 4},
                    hypervolume=1.5)
    tags = {"campaign": "camp", "space": "autonumerics"}
    assert sorted(recorded, key=repr) == sorted([
        ("automl_evaluations", {**tags, "status": "evaluated"}, 3),
        ("automl_evaluations", {**tags, "status": "rejected"}, 2),
        ("automl_evaluations", {**tags, "status": "failed"}, 1),
        ("automl_rejections", tags, 2),
        ("automl_cache_hits", tags, 4),
        ("automl_in_flight", tags, 3),
        ("automl_population_size", tags, 5),
        ("automl_best_value", {**tags, "objective": "max_relative_error"}, 0.25),
        ("automl_best_value", {**tags, "objective": "cost"}, 4.0),
        ("automl_hypervolume", tags, 1.5),
    ], key=repr)

    recorded.clear()
    campaign.gauges(in_flight=0, population=6, best={}, hypervolume=None)
    assert [(name, value) for name, _, value in recorded] == [
        ("automl_in_flight", 0), ("automl_population_size", 6)]  # nothing to add, hv kept

    recorded.clear()  # counts that wait too long go out from the hot path itself
    monkeypatch.setattr(metrics_module, "FLUSH_SECONDS", 0.0)
    campaign.cache_hit()
    assert recorded == [("automl_cache_hits", tags, 1)]

    recorded.clear()  # Ray shut down under a live campaign object: recording stops
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    campaign.evaluation("evaluated")
    campaign.gauges(in_flight=0, population=6, best={"cost": 1.0}, hypervolume=2.0)
    assert recorded == [] and not campaign.enabled


# -- a real campaign, scraped from Ray's Prometheus endpoint --------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: the metrics test must not be skipped)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def metrics_port() -> Iterator[int]:
    """A fresh local Ray (never another session's cluster on this machine: address='local')
    whose metrics agent serves Prometheus text on a free port, reporting every second."""
    if ray.is_initialized():
        ray.shutdown()
    saved_address = os.environ.pop("RAY_ADDRESS", None)  # would override address='local'
    port = free_port()
    try:
        ray.init(address="local", num_cpus=2, include_dashboard=False,
                 _metrics_export_port=port, logging_level="ERROR",
                 _system_config={"metrics_report_interval_ms": 1000})
    except Exception as error:  # noqa: BLE001 - any failure to start means: cannot test here
        unavailable(f"cannot start Ray with a metrics export port: {error}")
    try:
        deadline = time.monotonic() + SCRAPE_SECONDS
        while True:
            try:
                fetch(port)
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    unavailable(f"Ray's metrics agent never served http://127.0.0.1:{port}"
                                f"/metrics: {error}")
                time.sleep(0.2)
        yield port
    finally:
        ray.shutdown()
        if saved_address is not None:
            os.environ["RAY_ADDRESS"] = saved_address


RAY_LABELS = {"Component", "NodeAddress", "SessionName", "Version", "WorkerId"}


def scrape(port: int, campaign: str) -> dict[tuple[str, str | None], float]:
    """Our series of one campaign: (sample name, status or objective tag) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[tuple[str, str | None], float] = {}
    for family in text_string_to_metric_families(fetch(port)):
        for sample in family.samples:
            if not sample.name.startswith("ray_automl_"):
                continue
            labels = {k: v for k, v in sample.labels.items()
                      if k not in RAY_LABELS and not k.startswith("otel_")}
            if labels.pop("campaign", None) != campaign:
                continue
            assert labels.pop("space") == "autonumerics", sample
            assert len(labels) <= 1, sample  # status or objective, nothing else
            found[sample.name, next(iter(labels.values()), None)] = sample.value
    return found


@pytest.mark.slow
def test_a_ray_campaign_exports_its_metrics_to_prometheus(metrics_port, tmp_path):
    config = parse_config("""
seed: 1
space:
  name: autonumerics
  settings: {target: exp2, fit_constants: false, max_statements: 8}
evolution: {strategy: nsga2, population_size: 8}
budget: {max_evaluations: 60}
executor: {kind: ray, workers: 1, batch_size: 8}
""")
    with Store.open(f"sqlite:///{tmp_path}/m.db") as store:
        controller = CampaignController.create(config, store, "metrics-test")
        summary = controller.run()
        campaign_id = summary.campaign.id
        counts = store.status_counts(campaign_id)
        best = best_values(controller.objectives,
                           [e.objectives for e in store.load_evaluations(campaign_id)])
    assert controller.metrics is not None and controller.metrics.enabled
    assert counts["evaluated"] + counts["failed"] + counts["rejected"] == 60
    assert counts["duplicate"] == summary.duplicates > 0, "the campaign should hit the cache"
    assert best == controller.best and set(best) == set(OBJECTIVES)
    hypervolume = controller.hypervolume()
    assert hypervolume is not None and hypervolume > 0

    expected: dict[tuple[str, str | None], float] = {
        ("ray_automl_cache_hits_total", None): summary.duplicates,
        ("ray_automl_in_flight", None): 0,
        ("ray_automl_population_size", None): len(controller.population),
        ("ray_automl_hypervolume", None): hypervolume,
        **{("ray_automl_best_value", name): value for name, value in best.items()},
        # a counter that was never incremented has no series at all
        **{("ray_automl_evaluations_total", status): counts[status]
           for status in ("evaluated", "failed", "rejected") if counts[status]},
    }
    if counts["rejected"]:
        expected["ray_automl_rejections_total", None] = counts["rejected"]
    absent = {("ray_automl_evaluations_total", status)
              for status in ("evaluated", "failed", "rejected") if not counts[status]}
    if not counts["rejected"]:
        absent.add(("ray_automl_rejections_total", None))

    # the final values reach the agent with the next report: poll until they are all there
    deadline = time.monotonic() + SCRAPE_SECONDS
    while True:
        found = scrape(metrics_port, "metrics-test")
        observed: dict[Any, Any] = {key: found.get(key) for key in expected}
        if (observed == pytest.approx(expected, rel=1e-9, abs=1e-12)
                or time.monotonic() > deadline):
            break
        time.sleep(0.25)
    assert observed == pytest.approx(expected, rel=1e-9, abs=1e-12), found
    assert not absent & found.keys(), found
