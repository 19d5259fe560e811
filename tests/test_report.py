"""The HTML campaign report: a real short autonumerics campaign, reported once per module."""

from __future__ import annotations

import base64
import dataclasses
import re
from html import escape

import numpy as np
import pytest

import automl
from automl.config import parse_config
from automl.controller import CampaignController
from automl.report import (
    _histogram,
    _progress_section,
    best_over_evaluations,
    hypervolume_over_evaluations,
    parallel_coordinates,
    write_report,
)
from automl.space import Objective
from automl.store import EvaluationRow, Store

NAME = "demo<b>"  # markup in the name: the page must escape it
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CONFIG = """
seed: 0
space: {name: autonumerics, settings: {target: exp2, fit_constants: true, max_statements: 12}}
evolution: {strategy: nsga2, population_size: 20}
budget: {max_evaluations: 150}
executor: {kind: local, batch_size: 16}
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'campaigns.db'}"
    store = Store.open(url)
    CampaignController.create(parse_config(CONFIG), store, NAME).run()
    store.close()
    with automl.open(url) as opened:
        yield opened


@pytest.fixture(scope="module")
def page(results, tmp_path_factory):
    path = write_report(results, NAME, tmp_path_factory.mktemp("out") / "report")
    assert path.name == "index.html" and path.is_file()
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_page_is_self_contained(page):
    assert "<script" not in page
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<link\b", page)
    # every image is inline
    sources = re.findall(r'<img[^>]*src="([^"]*)"', page)
    assert len(sources) == 3
    assert all(source.startswith("data:image/png;base64,") for source in sources)


def test_images_are_png(page):
    for data in re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]+)"', page):
        assert base64.b64decode(data, validate=True).startswith(PNG_MAGIC)


def test_campaign_name_is_escaped(page):
    assert "demo&lt;b&gt;" in page
    assert NAME not in page


def test_header_counts_and_config(results, page):
    info = results.campaign(NAME)
    statuses = [row["status"] for row in results.records(NAME)]
    duplicates = statuses.count("duplicate")
    assert duplicates > 0  # the short campaign does hit the cache
    assert f"{duplicates} of {len(statuses)} candidates ({duplicates / len(statuses):.1%})" \
        in page
    assert f"<td>evaluations</td><td>{info.evaluations}</td>" in page
    assert escape(info.environment["device"]) in page
    assert "max_evaluations: 150" in page  # the config, as YAML


def test_front_members_and_programs_appear(results, page):
    front = results.pareto(NAME)
    assert front
    front_table = page.split("<h2>Pareto front (")[1].split("</table>")[0]
    for member in front[:20]:
        assert f"<td>{member.number}</td>" in front_table
        assert f"<pre>{escape(member.program)}</pre>" in front_table
    top_table = page.split("<h2>Top 10 by max_relative_error</h2>")[1].split("</table>")[0]
    for candidate in results.top(NAME, 10):
        assert f"<td>{candidate.number}</td>" in top_table


def test_baselines_appear(results, page):
    baselines = page.split("<h2>Baselines</h2>")[1]
    for name, text in results.space(NAME).baselines().items():
        assert f"<td>{escape(name)}</td>" in baselines
        assert escape(text) in baselines
    assert "class=error" not in baselines  # the autonumerics baselines all evaluate


@pytest.mark.slow
def test_a_broken_baseline_shows_its_error(results, tmp_path, monkeypatch):
    space = results.space(NAME)
    monkeypatch.setattr(space, "baselines",
                        lambda: {"good": "f = x + 1.0", "bad<1>": "f = nonsense(x"})
    text = write_report(results, NAME, tmp_path).read_text(encoding="utf-8")
    baselines = text.split("<h2>Baselines</h2>")[1]
    assert "<td>good</td>" in baselines and "<td>bad&lt;1&gt;</td>" in baselines
    assert baselines.count("class=error") == 1


@pytest.mark.slow
def test_without_baselines(results, tmp_path):
    text = write_report(results, NAME, tmp_path, baselines=False).read_text(encoding="utf-8")
    assert "<h2>Baselines</h2>" not in text


def test_hypervolume_over_evaluations_ends_at_the_fronts(results):
    evaluations = results.evaluations(NAME)
    counts, volumes = hypervolume_over_evaluations(evaluations, results.objectives(NAME))
    assert counts[-1] == len(evaluations) and len(counts) <= 200
    assert np.all(np.diff(counts) > 0)
    assert np.all(np.diff(volumes) >= 0)
    assert volumes[-1] == pytest.approx(results.hypervolume(NAME), rel=1e-9)
    assert volumes[-1] > volumes[0]


def test_hypervolume_checkpoints_match_a_full_recomputation():
    # incremental merging must give what the hypervolume of every point so far gives
    from automl.evolution.pareto import hypervolume

    rng = np.random.default_rng(1)
    objectives = (Objective("a", "minimize", reference=1.0),
                  Objective("b", "maximize", reference=0.0),
                  Objective("c", "minimize", log_scale=True, reference=0.0))
    rows = [EvaluationRow(i, None if i % 7 == 3 else
                          {"a": rng.random(), "b": rng.random(), "c": 10 ** -rng.random()},
                          {}, None, 0.0, None) for i in range(500)]
    counts, volumes = hypervolume_over_evaluations(rows, objectives, checkpoints=25)
    for count, volume in zip(counts, volumes, strict=True):
        points = [[o.to_minimization(row.objectives[o.name]) for o in objectives]
                  for row in rows[:count] if row.objectives]
        assert volume == pytest.approx(hypervolume(np.asarray(points).reshape(-1, 3),
                                                   [o.reference for o in objectives]),
                                       rel=1e-12, abs=1e-15)


def test_best_over_evaluations_is_the_fallback_without_a_reference(results):
    evaluations = results.evaluations(NAME)
    first = results.objectives(NAME)[0]
    counts, best = best_over_evaluations(evaluations, first)
    finite = best[np.isfinite(best)]
    assert np.all(np.diff(finite) <= 0)  # minimized: the best so far only improves
    assert best[-1] == pytest.approx(results.best(NAME)[first.name], rel=1e-9)
    unreferenced = [dataclasses.replace(o, reference=None) for o in results.objectives(NAME)]
    section = _progress_section(evaluations, unreferenced)
    assert f"Best {first.name} over evaluations" in section
    assert "no hypervolume reference" in section


def test_parallel_coordinates_for_three_objectives():
    objectives = (Objective("error", "minimize", log_scale=True),
                  Objective("cost", "minimize"), Objective("accuracy", "maximize"))
    rng = np.random.default_rng(0)
    front = np.column_stack([10 ** -rng.uniform(0, 6, 12), rng.integers(0, 10, 12),
                             np.full(12, 0.5)])  # a constant axis must not divide by zero
    assert parallel_coordinates(front, objectives).startswith(PNG_MAGIC)
    assert parallel_coordinates(np.zeros((0, 3)), objectives).startswith(PNG_MAGIC)


def test_single_objective_histogram():
    values = 10 ** -np.random.default_rng(0).uniform(0, 6, 100)
    assert _histogram(values, Objective("error", "minimize", log_scale=True)
                      ).startswith(PNG_MAGIC)


def test_the_front_plot_view_leaves_outliers_at_the_edge():
    """A few huge errors (1e51) must not stretch the axis: the view spans the front and the
    bulk of the evaluated points, at most 3 decades beyond the front's worst on a log axis."""
    from automl.report import view_range

    rng = np.random.default_rng(0)
    front = np.array([1e-12, 1e-9, 1e-6, 1e-3])
    evaluated = np.concatenate([10.0 ** rng.uniform(-12, 0, 500), [1e51, 1e40, np.inf]])
    low, high = view_range(front, evaluated, log_scale=True)
    assert low <= 1e-12 and 1e-3 <= high <= 1e0 * 10 ** 0.5
    linear_front = np.array([1.0, 2.0, 5.0])
    low, high = view_range(linear_front, np.array([1.0, 3.0, 4.0, 1e30]), log_scale=False)
    assert low < 1.0 and 5.0 < high < 10.0  # a span of the front's width beyond it at most
    # only non-finite values: still a usable range
    assert view_range(np.array([]), np.array([np.nan]), log_scale=True) == (0.1, 10.0)


def test_image_formats_come_from_the_suffix():
    from automl.report import image_format_of

    assert image_format_of("front.PNG") == "png" and image_format_of("a/b.svg") == "svg"
    with pytest.raises(ValueError, match=r"front\.jpeg2: cannot tell"):
        image_format_of("front.jpeg2")
    with pytest.raises(ValueError, match=r"\(none\)"):
        image_format_of("front")

