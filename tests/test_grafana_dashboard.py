"""docker/grafana/automl-dashboard.json queries only what automl/metrics.py exports.

The metrics are read out of metrics.py's source (its `make(metrics.Counter|Gauge, "name", ...)`
calls and the default tags), named as Ray exports them to Prometheus: ``ray_`` before the name
and ``_total`` after a counter's. A panel or variable that names a metric, a label in a
selector or a ``by (...)``, or a legend label that no longer exists fails here, without Grafana.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
DASHBOARD = REPOSITORY / "docker" / "grafana" / "automl-dashboard.json"
METRICS = REPOSITORY / "automl" / "metrics.py"
METRIC = re.compile(r"\b(ray_[A-Za-z0-9_]+)\b")
SELECTOR = re.compile(r"\b(ray_[A-Za-z0-9_]+)\s*\{([^}]*)\}")
MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
LEGEND = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# labels every Ray metric carries besides its own tags
RAY_LABELS = {"SessionName", "instance", "job", "Component", "NodeAddress", "WorkerId",
              "ray_io_cluster"}


def defined_metrics() -> dict[str, set[str]]:
    """{Prometheus name: its labels} of every metric `CampaignMetrics` makes."""
    tree = ast.parse(METRICS.read_text())
    default_tags: set[str] = set()
    made: dict[str, tuple[str, set[str]]] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "tags"
                and isinstance(node.value, ast.Dict)):
            default_tags = {key.value for key in node.value.keys if isinstance(key, ast.Constant)}
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "make" and len(node.args) >= 3
                and isinstance(node.args[0], ast.Attribute)):
            kind = node.args[0].attr
            name = node.args[1].value
            extra = {arg.value for arg in node.args[3:] if isinstance(arg, ast.Constant)}
            made[name] = (kind, extra)
    assert default_tags == {"campaign", "space"}, default_tags
    assert made, "no metric definitions found in automl/metrics.py"
    exported = {}
    for name, (kind, extra) in made.items():
        assert kind in ("Counter", "Gauge", "Histogram"), (name, kind)
        exported[f"ray_{name}_total" if kind == "Counter" else f"ray_{name}"] = (
            default_tags | extra)
    return exported


def all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Panels with those nested in collapsed rows."""
    found = []
    for panel in panels:
        found.append(panel)
        found.extend(all_panels(panel.get("panels", [])))
    return found


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(where, PromQL, legend) of every panel target and every query variable."""
    found = []
    for panel in all_panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            found.append((f"panel {panel['id']} {panel['title']!r}", target["expr"],
                          target.get("legendFormat")))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            assert variable["definition"] == text, variable["name"]
            found.append((f"variable {variable['name']}", text, None))
    return found


def test_every_metric_and_label_a_query_names_is_exported(dashboard: dict[str, Any]) -> None:
    exported = defined_metrics()
    assert "ray_automl_evaluations_total" in exported  # the name the README promises
    named = set()
    for where, expr, legend in queries(dashboard):
        metrics = set(METRIC.findall(expr))
        assert metrics, f"{where}: no ray_* metric in {expr!r}"
        unknown = metrics - exported.keys()
        assert not unknown, f"{where}: {sorted(unknown)} not defined in automl/metrics.py"
        named |= metrics
        labels = set().union(*(exported[m] for m in metrics)) | RAY_LABELS
        for metric, matchers in SELECTOR.findall(expr):
            for label in MATCHER.findall(matchers):
                assert label in exported[metric] | RAY_LABELS, f"{where}: {metric} has no {label}"
        grouped = set()
        for group in GROUPING.findall(expr):
            grouped |= {label.strip() for label in group.split(",") if label.strip()}
        assert grouped <= labels, f"{where}: grouping by {sorted(grouped - labels)}"
        for label in LEGEND.findall(legend or ""):
            assert label in (grouped or labels), f"{where}: legend names {label}"
    assert named == exported.keys(), f"metrics on no panel: {sorted(exported.keys() - named)}"


def test_a_renamed_metric_would_fail(dashboard: dict[str, Any]) -> None:
    exported = defined_metrics()
    exported.pop("ray_automl_hypervolume")
    used = {m for _, expr, _ in queries(dashboard) for m in METRIC.findall(expr)}
    assert used - exported.keys() == {"ray_automl_hypervolume"}


def test_panels_and_variables(dashboard: dict[str, Any]) -> None:
    panels = all_panels(dashboard["panels"])
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(ids)}"
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["campaign"]["query"]["query"] == (
        "label_values(ray_automl_evaluations_total, campaign)")
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and panel["title"], panel["id"]
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]
        if "repeat" in panel:
            assert panel["repeat"] in variables, panel["title"]
    for name, variable in variables.items():
        if variable["type"] == "query":
            assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        elsewhere = [json.dumps(p) for p in panels] + [
            json.dumps(other) for other in variables.values() if other is not variable]
        used = any(f"${name}" in text or f"${{{name}}}" in text for text in elsewhere)
        assert used, f"variable {name} is used nowhere"
    titles = {panel["title"] for panel in panels}
    for wanted in ("Evaluations/s by status", "Cache hit ratio", "Rejections/s", "In flight",
                   "Population", "Best $objective", "Hypervolume"):
        assert wanted in titles, wanted
