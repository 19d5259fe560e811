"""Contract every registered search space passes (like evosax's registry-wide API tests).

A new space registered under the ``automl.search_spaces`` entry point gets these for free.
"""

from __future__ import annotations

import math

import numpy as np
import pydantic
import pytest
from program_fixtures import EVONORM_TRAINING

from automl.ir import validate
from automl.plugins import available_spaces, get_space
from automl.space import Evaluation, SearchSpace, SpaceSettings, key_setting, undeclared_settings

SPACES = sorted(available_spaces())


@pytest.fixture(params=SPACES)
def space(request) -> SearchSpace:
    return get_space(request.param)


def test_registry_finds_the_shipped_spaces():
    assert "autonumerics" in SPACES
    for name, cls in available_spaces().items():
        assert cls.name == name


def test_random_programs_are_valid_and_print_exactly(space):
    rng = np.random.default_rng(0)
    for program in space.initial_population(rng, 20):
        validate(program, space.signature.registry, space.signature.ops)
        assert space.parse(space.format(program)) == program


def test_mutations_yield_valid_programs_that_round_trip(space):
    rng = np.random.default_rng(1)
    parent = space.random(rng)
    program = parent
    changed = 0
    for _ in range(60):
        child, kind = space.mutate(program, rng)
        validate(child, space.signature.registry, space.signature.ops)
        assert space.parse(space.format(child)) == child, kind
        simplified, removed = space.simplify(child)
        assert removed >= 0 and len(simplified) == len(child) - removed
        assert space.parse(space.format(simplified)) == simplified
        program = child
        # a chain can drift into programs whose outputs are all NaN (they hash alike), so
        # count children of the one parent that compute something else
        sibling = space.simplify(space.mutate(parent, rng)[0])[0]
        changed += space.fingerprint(sibling) != space.fingerprint(parent)
    assert changed > 20, "mutations mostly change what the program computes"


def test_fingerprint_is_deterministic_across_instances_and_ignores_text(space):
    rng = np.random.default_rng(2)
    other = get_space(space.name)
    for program in space.initial_population(rng, 10):
        digest = space.fingerprint(program)
        assert len(digest) == 32
        assert digest == other.fingerprint(program)
        assert digest == space.fingerprint(space.simplify(program)[0])


def test_settings_hash_is_stable_and_tracks_settings(space):
    assert space.settings_hash() == get_space(space.name).settings_hash()
    assert space.evaluation_settings()["evaluator_version"] == space.evaluator_version


@pytest.mark.parametrize("name", SPACES)
def test_every_setting_declares_whether_it_is_in_the_cache_key(name):
    """Declared with `key_setting`, `other_setting` or `key_setting_unless_default`: a setting
    that declares neither would enter the cache key by default, unreviewed."""
    assert undeclared_settings(available_spaces()[name].Settings) == []


def test_an_undeclared_setting_is_found():
    class Settings(SpaceSettings):
        declared: int = key_setting(1)
        plain: int = 2
        constrained: int = pydantic.Field(3, ge=0)

    assert undeclared_settings(Settings) == ["plain", "constrained"]


# settings that keep a space's whole baseline table cheap to evaluate (EvoNorm's defaults train
# every baseline layer in three networks: 140 s of the suite; the optimizers' compile a trainer
# for each of four proxy and two funnel tasks: 45 s; the activations' two networks at two
# encoded lengths: ~40 s)
CHEAP_BASELINE_SETTINGS = {
    "evonorm": EVONORM_TRAINING,
    "optimizers": {"tasks": ["logreg_digits", "linreg_noisy"], "funnel_tasks": []},
    # examples/activations (installed with the dev extra): the MLP alone, briefly; GELU's 5
    # statements encoded at 5, not 8 (max_statements changes no result)
    "activations": {"networks": ["mlp"], "steps": 50, "max_statements": 5},
}


@pytest.mark.slow
def test_baselines_parse_and_evaluate_to_finite_objectives(space):
    space = get_space(space.name, CHEAP_BASELINE_SETTINGS.get(space.name, {}))
    baselines = space.baselines()
    assert baselines
    programs = [space.simplify(space.parse(text, name))[0] for name, text in baselines.items()]
    evaluations = space.evaluate(programs)
    assert len(evaluations) == len(programs)
    names = {objective.name for objective in space.objectives}
    for name, evaluation in zip(baselines, evaluations, strict=True):
        assert evaluation.ok, (name, evaluation.error)
        assert set(evaluation.objectives) == names
        assert all(math.isfinite(v) for v in evaluation.objectives.values())


def test_a_raising_evaluator_becomes_failed_results(space, monkeypatch):
    programs = space.initial_population(np.random.default_rng(3), 2)

    def explode(_programs):
        raise RuntimeError("simulated evaluator crash")

    monkeypatch.setattr(space, "evaluate_batch", explode)
    evaluations = space.evaluate(programs)
    assert len(evaluations) == 2
    for evaluation in evaluations:
        assert isinstance(evaluation, Evaluation)
        assert not evaluation.ok and evaluation.objectives is None
        assert "simulated evaluator crash" in evaluation.error


def test_a_candidate_that_raises_fails_alone(monkeypatch):
    """Per-candidate evaluation (the default `evaluate_batch`): one raising candidate fails,
    the others in its batch are evaluated."""
    space = get_space("autonumerics", {"fit_constants": False})
    good, bad = (space.parse(space.baselines()[name]) for name in ("minimax_3", "minimax_4"))
    original = space.evaluate_one

    def evaluate_one(program):
        if program is bad:
            raise RuntimeError("simulated candidate crash")
        return original(program)

    monkeypatch.setattr(space, "evaluate_one", evaluate_one)
    first, second = space.evaluate([good, bad])
    assert first.ok and not second.ok and "simulated candidate crash" in second.error


def test_objectives_declare_directions(space):
    for objective in space.objectives:
        assert objective.direction in ("minimize", "maximize")
        better, worse = (1.0, 2.0) if objective.direction == "minimize" else (2.0, 1.0)
        assert objective.to_minimization(better) < objective.to_minimization(worse)
