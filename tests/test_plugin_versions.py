"""`automl reproduce` warns, in one line on stderr, when a user plug-in's declared
``__automl_version__`` differs from what its campaign recorded (issue 26): the campaign
records each plug-in's import string and version (`SearchSpace.plugins`) with its environment,
and reproduce compares them with what the space names now, for every space.

The plug-in here is an AutoNumerics target in a module written to a temporary directory and
imported from sys.path, as a user's own module would be; its version is changed between the
run and the reproduce."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import automl
from automl import environment
from automl.cli import app
from automl.imports import PluginRef
from automl.reproduce import reproduce_candidate

MODULE = "versioned_target_module"


def write_module(directory, version: str) -> None:
    (directory / f"{MODULE}.py").write_text(
        f'from mpmath import mp\n\n__automl_version__ = "{version}"\n\n\n'
        f"def f(x):\n    return mp.exp(x)\n")


def test_reproduce_warns_in_one_line_when_a_plugins_version_changed(tmp_path, monkeypatch):
    write_module(tmp_path, "1")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    config = {"space": {"name": "autonumerics", "settings": {
                  "target": {"function": f"{MODULE}:f", "interval": [0, 1]},
                  "grid_points": 64, "max_statements": 6}},
              "evolution": {"population_size": 6}, "budget": {"max_evaluations": 6}}
    run = automl.run(config, db=url, progress=False)
    with automl.open(url) as results:
        record = results.record(run.name)
        number = results.pareto(run.name)[0].number
        assert record.environment["plugins"] == {
            "target": {"identity": f"{MODULE}:f", "version": "1"}}
        assert not any("plug-in" in line for line in
                       reproduce_candidate(results, f"{run.name}:{number}", 1e-6).warnings)

    monkeypatch.delitem(sys.modules, MODULE)  # the user edits the module and bumps its version
    write_module(tmp_path, "2")
    result = CliRunner().invoke(app, ["reproduce", f"{run.name}:{number}", "--db", url])
    assert result.exit_code == 0, result.output  # the same function: the objectives agree
    warning = (f"warning: plug-in target '{MODULE}:f': version 1 then, 2 now")
    assert warning in " ".join(result.stderr.split())
    assert sum("plug-in" in line for line in result.stderr.splitlines()) == 1


def test_plugin_differences_name_a_changed_identity_and_version():
    recorded = {"plugins": {"target": {"identity": "a:f", "version": "1"},
                            "tasks[0]": {"identity": "b:g", "version": None}}}
    now = {"target": PluginRef("a:f", "1"), "tasks[0]": PluginRef("b:h", None)}
    assert environment.plugin_differences(recorded, now) == [
        "plug-in tasks[0]: b:g then, b:h now"]
    now = {"target": PluginRef("a:f", "2"), "tasks[0]": PluginRef("b:g", None)}
    assert environment.plugin_differences(recorded, now) == [
        "plug-in target 'a:f': version 1 then, 2 now"]
    assert environment.plugin_differences({}, {}) == []
    assert "plugins" not in environment.capture()  # campaigns without plug-ins as before


def test_a_campaign_without_recorded_plugins_warns_when_the_settings_hash_differs():
    """Campaigns stored before plug-in versions were recorded have only the settings hash,
    which holds them: a differing hash is the one line."""
    import user_target_functions  # noqa: F401 (tests/ is on sys.path)

    from automl.reproduce import plugin_warnings
    from search_spaces.autonumerics.space import AutoNumericsSpace

    space = AutoNumericsSpace({"target": {"function": "user_target_functions:gelu",
                                          "interval": [-4, 4]}, "grid_points": 64})
    old = SimpleNamespace(environment={"versions": {}}, settings_hash=space.settings_hash())
    assert plugin_warnings(old, space) == []
    old = SimpleNamespace(environment={"versions": {}}, settings_hash="0" * 32)
    (line,) = plugin_warnings(old, space)
    assert line.startswith("plug-in(s) target: the campaign recorded no versions")
    built_in = AutoNumericsSpace({"target": "gelu"})
    assert plugin_warnings(old, built_in) == []  # no plug-ins: nothing said


def test_one_cpu_is_one_device_whether_jax_was_loaded_or_not(monkeypatch):
    """`automl reproduce` compares the device a campaign recorded with today's: a campaign
    created in a process that had loaded jax, reproduced in one that has not (or recorded
    "cpu: cpu x1" by an older version), ran on the same CPU and must not warn."""
    jax = pytest.importorskip("jax")
    with_jax = environment.capture()
    assert jax.devices()[0].platform != "cpu" or with_jax["device"].startswith("cpu (")
    monkeypatch.delitem(sys.modules, "jax")
    without_jax = environment.capture()
    assert without_jax["device"].startswith("cpu (")
    if jax.devices()[0].platform == "cpu":
        assert environment.differences(with_jax, without_jax) == []
    older = {**without_jax, "device": "cpu: cpu x1"}
    assert environment.differences(older, without_jax) == []
    assert environment.differences({**without_jax, "device": "gpu: NVIDIA H100 x1"},
                                   without_jax) == [
        f"device gpu: NVIDIA H100 x1 then, {without_jax['device']} now"]
