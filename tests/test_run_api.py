"""`automl.run` (issue 26): a campaign created and run from Python as `automl run` runs one,
and the `CampaignRun` handle it returns."""

from __future__ import annotations

import dataclasses
import math
import os
import signal

import pytest
import user_target_functions

import automl
from automl.api import CampaignRun
from automl.config import ConfigError, parse_config
from automl.store import Store, StoreError

CONFIG = {
    "space": {"name": "autonumerics",
              "settings": {"target": "exp2", "max_statements": 6, "grid_points": 64}},
    "evolution": {"strategy": "nsga2", "population_size": 6},
    "budget": {"max_evaluations": 12},
    "executor": {"kind": "local", "batch_size": 4},
}
YAML = """
name: small
space:
  name: autonumerics
  settings: {target: exp2, max_statements: 6, grid_points: 64}
evolution: {strategy: nsga2, population_size: 6}
budget: {max_evaluations: 12}
executor: {kind: local, batch_size: 4}
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOML_DB", raising=False)
    return tmp_path


def stored(url: str, name: str):
    with Store.open(url) as store:
        return store.get_campaign(name)


def test_run_a_mapping_returns_a_frozen_handle_and_the_results_view(workdir):
    url = f"sqlite:///{workdir / 'runs' / 'a.db'}"  # its directory is made, as the CLI does
    run = automl.run(CONFIG, db=url, name="first", progress=False)
    assert isinstance(run, CampaignRun)
    assert (run.name, run.summary.evaluations, run.summary.stopped) == ("first", 12, False)
    assert "url" not in repr(run) and "first" in repr(run)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.name = "other"  # type: ignore[misc]
    results = run.results()
    try:
        assert results.campaign("first").id == run.id
        assert len(results.evaluations(run.name)) == 12
        assert results.pareto(run.name)
    finally:
        results.close()
    record = stored(url, "first")
    assert record.status == "finished"


def test_overrides_and_the_default_name(workdir):
    (workdir / "small.yaml").write_text(YAML)
    url = f"sqlite:///{workdir / 'b.db'}"
    run = automl.run(workdir / "small.yaml", db=url, max_evals=5, seed=3,
                     set={"budget.max_candidates": 400}, progress=False)
    assert run.name == "small-1"  # the config's name, then the next free N, as `automl run`
    record = stored(url, run.name)
    assert run.summary.evaluations == 5
    assert record.seed == 3 and record.config["budget"]["max_candidates"] == 400
    assert automl.run(workdir / "small.yaml", db=url, max_evals=1, progress=False).name == \
        "small-2"
    unnamed = automl.run(CONFIG, db=url, max_evals=2, progress=False)
    assert unnamed.name == "autonumerics-1"  # no name, no file: the space's name


def test_a_campaign_config_and_a_new_built_in_target(workdir):
    """A short campaign on one of the new targets (tanh, zero inside [-4, 4]) from a
    `CampaignConfig`, the target set by a dotted override."""
    config = parse_config(YAML)
    url = f"sqlite:///{workdir / 'c.db'}"
    run = automl.run(config, db=url, set={"space.settings.target": "tanh"}, progress=False)
    assert stored(url, run.name).config["space"]["settings"]["target"] == "tanh"
    assert run.summary.evaluations == 12 and run.summary.front
    assert config.space.settings["target"] == "exp2"  # the caller's config is not changed


def test_a_passed_user_function_runs_and_is_stored_by_its_import_string(workdir):
    url = f"sqlite:///{workdir / 'd.db'}"
    config = {**CONFIG, "space": {"name": "autonumerics", "settings": {
        "target": {"function": user_target_functions.gelu, "interval": [-4, 4]},
        "max_statements": 6, "grid_points": 64}}}
    run = automl.run(config, db=url, progress=False)
    record = stored(url, run.name)
    assert record.config["space"]["settings"]["target"] == {
        "function": "user_target_functions:gelu", "interval": [-4.0, 4.0], "name": "gelu"}
    # the same campaign from the import string has the same settings hash (cache key)
    again = automl.run({**config, "space": {**config["space"], "settings": {
        **config["space"]["settings"], "target": {"function": "user_target_functions:gelu",
                                                  "interval": [-4, 4]}}}},
        db=url, max_evals=1, progress=False)
    assert stored(url, again.name).settings_hash == record.settings_hash


def test_a_config_error_stores_nothing(workdir):
    bad = {**CONFIG, "budget": {"max_evaluations": 0}}
    with pytest.raises(ConfigError, match="<config>: budget.max_evaluations: Input should be"):
        automl.run(bad, db=f"sqlite:///{workdir / 'e.db'}")
    with pytest.raises(ConfigError, match="space.settings.target: function: "
                                          "'user_target_functions:nope'"):
        automl.run({**CONFIG, "space": {"name": "autonumerics", "settings": {
            "target": {"function": "user_target_functions:nope", "interval": [0, 1]}}}},
            db=f"sqlite:///{workdir / 'e.db'}")
    with pytest.raises(TypeError, match="config must be a path, a mapping"):
        automl.run(42, db=f"sqlite:///{workdir / 'e.db'}")
    assert not (workdir / "e.db").exists()


def test_a_damaged_sqlite_file_is_refused_before_writing(workdir):
    path = workdir / "damaged.db"
    automl.run(CONFIG, db=f"sqlite:///{path}", max_evals=40, progress=False)
    size = path.stat().st_size
    with open(path, "r+b") as file:  # 16 KiB of noise in the middle, as tests/test_lease.py
        file.seek(size // 2 // 4096 * 4096)
        file.write(bytes(range(256)) * 64)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is damaged.*refusing to write"):
        automl.run(CONFIG, db=f"sqlite:///{path}", progress=False)
    assert path.read_bytes() == before


def test_the_database_comes_from_automl_db_then_the_config(workdir, monkeypatch):
    monkeypatch.setenv("AUTOML_DB", f"sqlite:///{workdir / 'env.db'}")
    automl.run({**CONFIG, "database": f"sqlite:///{workdir / 'config.db'}"}, max_evals=1,
               progress=False)
    assert (workdir / "env.db").exists() and not (workdir / "config.db").exists()
    monkeypatch.delenv("AUTOML_DB")
    automl.run({**CONFIG, "database": f"sqlite:///{workdir / 'config.db'}"}, max_evals=1,
               progress=False)
    assert (workdir / "config.db").exists()


def test_progress_goes_to_a_callable_and_only_to_a_terminal(workdir, capsys):
    seen = []
    automl.run(CONFIG, db=f"sqlite:///{workdir / 'p.db'}", progress=seen.append)
    assert seen and seen[-1].evaluations == 12 and seen[-1].max_evaluations == 12
    capsys.readouterr()
    automl.run(CONFIG, db=f"sqlite:///{workdir / 'p.db'}")  # stderr is no terminal here
    automl.run(CONFIG, db=f"sqlite:///{workdir / 'p.db'}", progress=False)
    assert capsys.readouterr().err == ""
    automl.run(CONFIG, db=f"sqlite:///{workdir / 'p.db'}", progress=True)
    line = capsys.readouterr().err
    assert "12/12 hits" in line and "\n" in line  # the progress bar, its line ended


def test_ctrl_c_in_the_main_thread_stops_at_a_safe_point(workdir):
    """SIGINT while `automl.run` runs (here sent by the progress callback, as a terminal's
    Ctrl-C or a notebook's "interrupt kernel" would be) stops it as on the command line: what
    is in flight finishes, everything is stored, the campaign is stopped, `run` returns."""
    url = f"sqlite:///{workdir / 'stop.db'}"

    def interrupt(progress):
        if progress.evaluations >= 8:
            os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    run = automl.run(CONFIG, db=url, max_evals=10_000, progress=interrupt)
    assert run.summary.stopped and 8 <= run.summary.evaluations < 100
    assert signal.getsignal(signal.SIGINT) is before  # the handler is given back
    record = stored(url, run.name)
    assert record.status == "stopped"
    # everything made was stored: each candidate, and a row for each one that was evaluated
    # (the cache's duplicates get rows too, so rows >= evaluations dispatched)
    assert record.candidate_count == run.summary.candidates
    assert record.evaluation_count >= run.summary.evaluations


@pytest.mark.slow
@pytest.mark.parametrize("target", ["tanh", "sigmoid", "gelu", "softplus", "sin", "cos",
                                    "log1p", "expm1", "rsqrt"])
def test_a_short_campaign_on_each_new_target(workdir, target):
    url = f"sqlite:///{workdir / 'targets.db'}"
    run = automl.run(CONFIG, db=url, name=target, max_evals=8,
                     set={"space.settings.target": target}, progress=False)
    assert run.summary.evaluations == 8 and run.summary.front
    assert all(math.isfinite(member.objectives["max_relative_error"])
               for member in run.summary.front)
