"""User optimizer tasks (issue 26): ``tasks: ["pkg.mod:make_task", logreg_digits]`` where
``make_task()`` returns the public `search_spaces.optimizers.Task`; the one-line errors of a
task that cannot be used, the cache key's record of it, and a short campaign, ``automl eval``
and ``automl reproduce`` run end to end on one.

The user's tasks live in ``tests/user_optimizer_tasks.py``, imported by import string as a
user's own module would be.
"""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest
import user_optimizer_tasks
from typer.testing import CliRunner

import automl
from automl.cli import app
from automl.config import ConfigError, config_from_mapping
from automl.imports import ImportStringError
from search_spaces.optimizers import OptimizersSpace, Task
from search_spaces.optimizers import tasks as tasks_module
from search_spaces.optimizers.space import ADAMW
from search_spaces.optimizers.validation import MetaValidationOptions

LINEAR = "user_optimizer_tasks:linear_task"
SMALL = {"funnel_tasks": [], "learning_rates": [0.01, 0.1]}


def space(*task_names, **settings):
    return OptimizersSpace({"tasks": list(task_names), **SMALL, **settings})


# -- the public Task --------------------------------------------------------------------------
def test_built_in_tasks_are_the_public_task():
    for name in ("logreg_digits", "linreg_noisy"):
        task = tasks_module.get_task(name)
        assert type(task) is Task and task.kind == "proxy"
    assert Task is tasks_module.Task


def test_a_task_defaults_its_metric_to_the_loss_and_converts_its_data():
    task = user_optimizer_tasks.linear_task()
    assert task.metric is task.loss and task.metric_name == "loss"
    assert task.metric_direction == "minimize" and task.kind == "user"
    assert task.train_x.dtype == jnp.float32 and task.train_x.shape == (48, 4)
    assert task.parameter_count == 5
    labels = Task(name="c", steps=1, init_params=task.init_params, loss=task.loss,
                  train_x=task.train_x, train_y=np.zeros(48, np.int64),
                  valid_x=task.valid_x, valid_y=np.zeros(32, np.int64))
    assert jnp.issubdtype(labels.train_y.dtype, jnp.integer)  # labels stay integers


@pytest.mark.parametrize(("change", "message"), [
    ({"steps": 0}, "Task 'linear': steps must be a positive integer, got 0"),
    ({"steps": 2.5}, "steps must be a positive integer, got 2.5"),
    ({"loss": 3}, "Task 'linear': loss must be callable, got int"),
    ({"name": ""}, "Task: name must be a non-empty string"),
    ({"metric_direction": "up"}, "metric_direction must be 'minimize' or 'maximize'"),
    ({"valid_y": np.zeros(5)}, "valid_x and valid_y need the same positive number of samples"),
    ({"train_x": "text"}, "Task 'linear': train_x: not an array (str: "),
])
def test_a_task_that_cannot_train_is_refused_in_one_line(change, message):
    task = user_optimizer_tasks.linear_task()
    fields = {"name": "linear", "steps": 30, "init_params": task.init_params,
              "loss": task.loss, "train_x": task.train_x, "train_y": task.train_y,
              "valid_x": task.valid_x, "valid_y": task.valid_y, **change}
    with pytest.raises((ValueError, TypeError)) as caught:
        Task(**fields)
    assert message in str(caught.value) and "\n" not in str(caught.value)


# -- settings, the cache key ------------------------------------------------------------------
def test_a_user_task_is_named_by_its_import_string_beside_built_in_names():
    mixed = space(LINEAR, "linreg_noisy")
    assert [o.name for o in mixed.objectives] == [
        "score", "loss_user_optimizer_tasks.linear_task", "loss_linreg_noisy"]
    assert tasks_module.get_task(LINEAR) is tasks_module.get_task(LINEAR)  # made once


def test_cache_key_records_each_user_tasks_identity_and_version(monkeypatch):
    mixed = space("linreg_noisy", LINEAR)
    assert mixed.evaluation_settings()["plugins"] == {
        "tasks[1]": {"identity": LINEAR, "version": "1"}}
    assert "plugins" not in space("linreg_noisy").evaluation_settings()
    assert "plugins" not in OptimizersSpace().evaluation_settings()  # built-in keys unchanged
    funnel = space("linreg_noisy", funnel_tasks=["user_optimizer_tasks:linear_task_v2"])
    assert funnel.plugins()["funnel_tasks[0]"].version == "2"  # the function's own wins
    before = mixed.settings_hash()
    monkeypatch.setattr(user_optimizer_tasks, "__automl_version__", "1.1")
    assert space("linreg_noisy", LINEAR).settings_hash() != before


def test_a_passed_task_function_is_recorded_by_its_import_string():
    passed = space(user_optimizer_tasks.linear_task)
    assert passed.settings.tasks == (LINEAR,)
    assert passed.settings_hash() == space(LINEAR).settings_hash()
    with pytest.raises(ValueError, match="lambda or a function defined inside"):
        space(lambda: None)


@pytest.mark.parametrize(("task_names", "message"), [
    (["user_optimizer_tasks.linear_task"], "unknown task 'user_optimizer_tasks.linear_task'; "
                                           "allowed: logreg_digits"),
    (["user_optimizer_tasks:linear_task()"], "not an import string"),
    ([LINEAR, LINEAR], "task 'user_optimizer_tasks.linear_task' is named twice"),
])
def test_malformed_task_lists_are_refused_by_the_settings_in_one_line(task_names, message):
    with pytest.raises(ValueError) as caught:
        space(*task_names)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("field", "spec", "message"), [
    ("tasks", "nowhere_tasks:make", "'nowhere_tasks:make': module 'nowhere_tasks' not found"),
    ("tasks", "user_optimizer_tasks:missing",
     "'user_optimizer_tasks:missing': 'user_optimizer_tasks' has no attribute 'missing'"),
    ("tasks", "user_optimizer_tasks:NOT_CALLABLE", "is a int, not a callable"),
    ("tasks", "user_optimizer_tasks:returns_dict",
     "'user_optimizer_tasks:returns_dict': returned dict, not a search_spaces.optimizers.Task"),
    ("funnel_tasks", "user_optimizer_tasks:raises",
     "'user_optimizer_tasks:raises': raised RuntimeError: the user's data is missing"),
    ("tasks", "user_optimizer_tasks:bad_steps",
     "raised ValueError: Task 'bad': steps must be a positive integer, got 0"),
])
def test_a_campaign_config_imports_and_makes_each_user_task(field, spec, message):
    settings = {"tasks": ["linreg_noisy"], "funnel_tasks": [], field: [spec]}
    config = {"space": {"name": "optimizers", "settings": settings}}
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(config, "mine")
    assert str(caught.value).startswith(f"mine: space.settings.{field}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_get_task_of_a_bad_import_string_is_one_line():
    with pytest.raises(ImportStringError, match="returned dict, not a"):
        tasks_module.get_task("user_optimizer_tasks:returns_dict")


def test_meta_validation_takes_user_tasks():
    options = MetaValidationOptions(tasks=[LINEAR, "convnet_digits"])
    assert options.tasks == (LINEAR, "convnet_digits")
    with pytest.raises(ValueError, match="or a user's task as an import string"):
        MetaValidationOptions(tasks=["linreg_noisy"])


# -- end to end -------------------------------------------------------------------------------
def test_campaign_eval_and_reproduce_on_a_user_task(tmp_path, monkeypatch):
    """A short campaign (automl.run), `automl eval` and `automl reproduce` on the user's
    linear model; AdamW, the seed, scores 1 against itself (the reference's decay its own,
    0.01); bumping the task's
    ``__automl_version__`` makes reproduce warn in one line (and still agree)."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'tasks.db'}"
    config = {"name": "mine", "space": {"name": "optimizers", "settings": {
                  "tasks": [LINEAR], **SMALL}},
              "evolution": {"population_size": 4}, "budget": {"max_evaluations": 6},
              "executor": {"batch_size": 4}}
    run = automl.run(config, db=url, progress=False)
    assert run.summary.evaluations == 6
    with run.results() as results:
        objectives = [o.name for o in results.objectives(run.name)]
        assert objectives == ["score", "loss_user_optimizer_tasks.linear_task"]
        best = results.pareto(run.name)[0]
    (tmp_path / "adamw.dsl").write_text(ADAMW)
    runner = CliRunner()
    evaluated = runner.invoke(app, ["eval", "adamw.dsl", "--space", "optimizers", "--set",
                                    f"tasks=[{LINEAR}]", "--set", "funnel_tasks=[]", "--set",
                                    "learning_rates=[0.01, 0.1]", "--set",
                                    "reference_weight_decays=[0.01]", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    payload = json.loads(evaluated.stdout)
    assert payload["objectives"]["score"] == pytest.approx(1.0)
    assert payload["metrics"]["learning_rate"] == {LINEAR: 0.1}

    reference = f"{run.name}:{best.number}"
    same = runner.invoke(app, ["reproduce", reference, "--db", url])
    assert same.exit_code == 0, same.output
    assert "plug-in" not in same.output
    monkeypatch.setattr(user_optimizer_tasks, "__automl_version__", "2")
    bumped = runner.invoke(app, ["reproduce", reference, "--db", url])
    assert bumped.exit_code == 0, bumped.output  # the objectives still agree
    assert ("warning: plug-in tasks[0] 'user_optimizer_tasks:linear_task': "
            "version 1 then, 2 now") in " ".join(bumped.stderr.split())
