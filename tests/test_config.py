"""Campaign configs: valid files load; a wrong field names file, line, field and what is allowed."""

from pathlib import Path

import pytest

from automl.config import CampaignConfig, ConfigError, load_config, parse_config

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((REPOSITORY / "configs").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    assert isinstance(load_config(path), CampaignConfig)


def test_defaults_and_normalized_space_settings():
    config = parse_config("space: {name: autonumerics}\n")
    assert config.evolution.strategy == "nsga2"
    assert config.executor.kind == "local"
    assert config.space.settings["target"] == "exp2"  # the space's defaults are filled in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("space:\n  name: autonumerics\nevolution:\n  strategy: tournament\n",
         "bad.yaml:4: evolution.strategy: unknown selection strategy; allowed: nsga2, "
         "pareto_tournament, regularized (got 'tournament')"),
        ("space:\n  name: autonumerics\nbudget:\n  max_evaluations: -3\n",
         "bad.yaml:4: budget.max_evaluations: Input should be greater than or equal to 1"),
        ("space:\n  name: nowhere\n", "bad.yaml:2: space.name: unknown search space 'nowhere'"),
        ("space:\n  name: autonumerics\n  settings:\n    target: sinh\n",
         "bad.yaml:4: space.settings.target: unknown target 'sinh'; allowed: exp2"),
        ("space:\n  name: autonumerics\n  settings:\n    ops: [add, pow]\n",
         "bad.yaml:4: space.settings.ops: ops must be a non-empty subset of add, sub"),
        ("space:\n  name: autonumerics\nexecuter:\n  kind: ray\n",
         "bad.yaml:3: executer: unknown field (allowed: name, seed, database, space, evolution,"),
        ("space:\n  name: autonumerics\nevolution:\n  stratgy: nsga2\n",
         "bad.yaml:4: evolution.stratgy: unknown field (allowed: strategy, population_size"),
        ("evolution: {}\n", "bad.yaml:1: space: Field required"),
        ("space: [unclosed\n", "bad.yaml:2: not valid YAML"),
        ("- a\n- b\n", "bad.yaml: a campaign config must be a mapping"),
    ],
)
def test_errors_name_file_line_field_and_allowed_values(text, expected):
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "bad.yaml")
    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)


def test_overrides_apply_dotted_fields_and_are_validated():
    config = parse_config("space: {name: autonumerics}\n", overrides={
        "budget.max_evaluations": 7, "seed": 11, "executor.kind": "ray"})
    assert (config.budget.max_evaluations, config.seed, config.executor.kind) == (7, 11, "ray")
    with pytest.raises(ConfigError, match="executor.kind"):
        parse_config("space: {name: autonumerics}\n", overrides={"executor.kind": "slurm"})


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")
