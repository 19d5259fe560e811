"""Plug-ins: spaces, strategies and executors are found through entry points, the built-in
ones exactly like a third party's, and a process can register its own by name; a config
then names them like the built-in ones."""

from __future__ import annotations

from importlib.metadata import entry_points

import numpy as np
import pytest

from automl import plugins
from automl.config import ConfigError, parse_config
from automl.controller import CampaignController
from automl.evolution.selection import Member, RegularizedEvolution
from automl.executor import LocalExecutor
from automl.store import Store

CONFIG = """
seed: 3
space: {{name: autonumerics, settings: {{target: exp2, fit_constants: false}}}}
evolution: {{strategy: {strategy}, population_size: 8}}
budget: {{max_evaluations: 40}}
executor: {{kind: {executor}, batch_size: 4}}
"""


def test_the_built_in_parts_are_registered_as_entry_points():
    for group, names in [("automl.search_spaces", {"autonumerics", "optimizers", "evonorm"}),
                         ("automl.strategies", {"regularized", "pareto_tournament", "nsga2"}),
                         ("automl.executors", {"local", "ray"}),
                         ("automl.cli", {"cluster"}), ("automl.launchers", {"ray"})]:
        assert names <= {point.name for point in entry_points(group=group)}
    assert plugins.STRATEGIES.load("nsga2").__name__ == "NSGA2"
    assert plugins.EXECUTORS.load("local") is LocalExecutor


class YoungestParent(RegularizedEvolution):
    """A third party's strategy: always the most recent member."""

    name = "youngest"
    picked: list[int] = []

    def select_parent(self, rng: np.random.Generator) -> Member:
        member = self.members()[-1]
        YoungestParent.picked.append(member.number)
        return member


class CountingExecutor(LocalExecutor):
    submitted = 0

    def submit(self, tasks) -> None:
        CountingExecutor.submitted += len(tasks)
        super().submit(tasks)


@pytest.fixture
def registered():
    plugins.STRATEGIES.register("youngest", YoungestParent)
    plugins.EXECUTORS.register("counting", CountingExecutor)
    yield
    plugins.STRATEGIES.unregister("youngest")
    plugins.EXECUTORS.unregister("counting")


def test_a_registered_strategy_and_executor_run_a_campaign(registered):
    config = parse_config(CONFIG.format(strategy="youngest", executor="counting"))
    YoungestParent.picked.clear()
    CountingExecutor.submitted = 0
    with Store.open("sqlite:///:memory:") as store:
        summary = CampaignController.create(config, store, "plugins").run()
        rows = store.load_candidates(summary.campaign.id)
    assert summary.evaluations == 40 == CountingExecutor.submitted
    # every child's parent is the member picked for it: the youngest at the time
    children = [row for row in rows if row.parents]
    assert children and [row.parents[0] for row in children] == YoungestParent.picked


@pytest.mark.parametrize(("field", "value", "message"), [
    ("strategy", "youngest", "evolution.strategy: unknown selection strategy; allowed: nsga2, "
                             "pareto_tournament, regularized (got 'youngest')"),
    ("executor", "counting", "executor.kind: unknown executor; allowed: local, ray "
                             "(got 'counting')"),
])
def test_an_unregistered_name_is_refused_naming_what_exists(field, value, message):
    values = {"strategy": "nsga2", "executor": "local", field: value}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(CONFIG.format(**values), "c.yaml")


def test_an_unknown_space_names_the_available_ones():
    with pytest.raises(plugins.UnknownSpaceError, match="unknown search space 'nope' ") as error:
        plugins.get_space("nope")
    # every installed space (the test suite's venv adds examples/activations), in order
    assert f"(available: {', '.join(plugins.SPACES.names())})" in str(error.value)
    assert "autonumerics, evonorm, optimizers" in str(error.value)


def test_the_release_stamped_on_campaigns_is_the_package_version():
    import tomllib
    from pathlib import Path

    import automl
    from automl.controller import CODE_VERSION

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert automl.__version__ == project["project"]["version"] == CODE_VERSION
    with Store.open("sqlite:///:memory:") as store:
        config = parse_config(CONFIG.format(strategy="nsga2", executor="local"))
        campaign = CampaignController.create(config, store, "stamped").campaign
        assert campaign.code_version == automl.__version__
