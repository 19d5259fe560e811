"""The campaign loop end to end with the local executor and a real SQLite store."""

from __future__ import annotations

import math

import pytest

from automl.config import ConfigError, parse_config
from automl.controller import CampaignController
from automl.evolution.selection import Member
from automl.results import Results
from automl.store import Store
from search_spaces.autonumerics import AutoNumericsSpace


def make_config(seed: int = 0, evaluations: int = 150, **extra: str):
    cache = extra.get("cache", "{enabled: true}")
    strategy = extra.get("strategy", "nsga2")
    evolution = extra.get("evolution", "")  # more evolution settings: ", key: value ..."
    return parse_config(f"""
seed: {seed}
space:
  name: autonumerics
  settings: {{target: exp2, fit_constants: false, max_statements: 10}}
evolution: {{strategy: {strategy}, population_size: 20, tournament_size: 2{evolution}}}
budget: {{max_evaluations: {evaluations}}}
cache: {cache}
executor: {{kind: local, batch_size: 4}}
""")


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'campaigns.db'}") as opened:
        yield opened


def run_campaign(store, config, name, **kwargs):
    controller = CampaignController.create(config, store, name, **kwargs)
    return controller, controller.run()


def candidate_sequence(store, campaign_id):
    return [(c.number, c.program, c.functional_hash, c.parents, c.mutation, c.status)
            for c in store.load_candidates(campaign_id)]


def test_same_seed_gives_the_same_candidates_and_another_seed_does_not(store):
    _, first = run_campaign(store, make_config(seed=3), "first")
    _, second = run_campaign(store, make_config(seed=3), "second")
    _, other = run_campaign(store, make_config(seed=4), "other")
    sequence = candidate_sequence(store, first.campaign.id)
    assert len(sequence) == first.candidates > 0
    assert sequence == candidate_sequence(store, second.campaign.id)
    assert sequence != candidate_sequence(store, other.campaign.id)


@pytest.mark.parametrize("strategy", ["nsga2", "regularized", "pareto_tournament"])
def test_every_candidate_is_stored_and_the_budget_counts_evaluations(store, strategy):
    _, summary = run_campaign(store, make_config(evaluations=120, strategy=strategy), strategy)
    candidates = store.load_candidates(summary.campaign.id)
    assert [c.number for c in candidates] == list(range(summary.candidates))
    evaluated = [c for c in candidates if c.status != "duplicate"]
    assert len(evaluated) == summary.evaluations == 120
    rows = store.load_evaluations(summary.campaign.id)
    # cache hits written differently from their twin (another cost) have a row of their own
    assert len([row for row in rows if row.worker != "cache"]) == 120
    assert store.get_campaign(summary.campaign.id).evaluation_count == 120
    assert store.get_campaign(summary.campaign.id).status == "finished"
    # children after the initial population name a parent that exists earlier
    for candidate in candidates[20:]:
        for parent in candidate.parents:
            assert parent < candidate.number


def test_a_stalled_regularized_search_restarts_from_the_best_so_far(store):
    config = make_config(evaluations=150, strategy="regularized",
                         evolution=", objective: max_relative_error, restart_after: 15")
    controller = CampaignController.create(config, store, "restarts")
    population = controller.population.inner  # the regularized strategy the wrapper restarts
    index = population.objective_index
    joined: list[float] = []  # the selected objective of every member, in the order it joined
    numbers: list[int] = []  # and its candidate number
    restarts: list[tuple[int, Member, int]] = []  # (members joined before, from, next number)
    add, restart = population.add, population.restart

    def spy_add(member):
        joined.append(member.objectives[index])
        numbers.append(member.number)
        add(member)

    def spy_restart(member):
        restarts.append((len(joined), member, controller.next_number))
        restart(member)  # re-adds the member: through spy_add, so it is in `joined` too
        assert population.members() == [member]

    population.add, population.restart = spy_add, spy_restart
    summary = controller.run()
    assert summary.restarts == len(restarts) >= 2
    stored = {c.number: c for c in store.load_candidates(summary.campaign.id)}
    previous = 0
    for count, member, next_number in restarts:
        # from the best member so far, after 15 members in a row that did not improve on it
        value = member.objectives[index]
        # (up to float noise: a gain within a relative 1e-9 is not an improvement)
        assert value == pytest.approx(min(joined[:count - 15]), rel=1e-9)
        assert value == pytest.approx(min(joined[:count]), rel=1e-9)
        assert count - previous >= 15
        previous = count + 1
        # the next child's parent is the restart point or joined after it (the rest of the
        # batch that ended the stall): nothing older survives a restart
        if next_number in stored:
            (parent,) = stored[next_number].parents
            assert parent in numbers[count:]


def test_restart_after_needs_a_strategy_that_can_restart():
    with pytest.raises(ValueError, match=r"<config>:\d+: evolution.restart_after: needs a "
                                         r"strategy that selects on one objective .* not 'nsga2'"):
        make_config(evolution=", restart_after: 10")


def test_a_stored_config_that_no_longer_validates_is_named_on_resume(store):
    summary = CampaignController.create(make_config(evaluations=5), store, "gone").run()
    with store.engine.begin() as conn:  # as if its space had been uninstalled since
        conn.exec_driver_sql("UPDATE campaigns SET config = replace(config, "
                             "'autonumerics', 'uninstalled') WHERE id = ?",
                             (summary.campaign.id,))
    with pytest.raises(ConfigError, match=r"campaign 'gone': its stored config: space.name: "
                                          r"unknown search space 'uninstalled'"):
        CampaignController.resume(store, "gone")


def test_the_cache_never_evaluates_one_function_twice(store):
    _, summary = run_campaign(store, make_config(evaluations=200), "cached")
    candidates = store.load_candidates(summary.campaign.id)
    evaluated_hashes = [c.functional_hash for c in candidates if c.status != "duplicate"]
    assert len(evaluated_hashes) == len(set(evaluated_hashes))
    by_number = {c.number: c for c in candidates}
    duplicates = [c for c in candidates if c.status == "duplicate"]
    assert duplicates, "a 200-evaluation search produces functional duplicates"
    for duplicate in duplicates:
        original = by_number[duplicate.duplicate_of]
        assert original.status != "duplicate"
        assert original.functional_hash == duplicate.functional_hash
        assert original.number < duplicate.number
    assert summary.cache_hit_rate == pytest.approx(len(duplicates) / len(candidates))
    cache_rows = store.load_cache(summary.campaign.id, summary.campaign.settings_hash)
    assert {row.functional_hash for row in cache_rows} == set(evaluated_hashes)
    assert sum(row.hit_count for row in cache_rows) == len(duplicates)


def test_a_cache_hit_keeps_its_own_cost(store):
    """Twins by functional hash can be written at different costs (`x*c0 + x*c1` and
    `x*(c0 + c1)`): the hit takes its twin's error but its own cost, and is stored with it."""
    controller, summary = run_campaign(store, make_config(evaluations=200), "costs")
    space = controller.space
    candidates = {c.number: c for c in store.load_candidates(summary.campaign.id)}
    rows = {row.candidate_number: row for row in store.load_evaluations(summary.campaign.id)}
    own_cost = [number for number, row in rows.items() if row.worker == "cache"]
    assert own_cost, "a 200-evaluation search writes some function at two costs"
    infos = Results(store).candidates(summary.campaign.id, own_cost)
    for number in own_cost:
        duplicate = candidates[number]
        twin = rows[duplicate.duplicate_of]
        program = space.parse(duplicate.program, "duplicate")
        assert rows[number].objectives["cost"] == space.structural_objectives(program)["cost"]
        assert rows[number].objectives["cost"] != twin.objectives["cost"]
        assert rows[number].objectives["max_relative_error"] == \
            twin.objectives["max_relative_error"]
        assert rows[number].metrics == {"answered_by": twin.candidate_number}
        assert infos[number].objectives == rows[number].objectives


def test_without_the_cache_twins_are_evaluated_again(store):
    _, summary = run_campaign(store, make_config(evaluations=200, cache="{enabled: false}"),
                              "uncached")
    candidates = store.load_candidates(summary.campaign.id)
    assert all(c.status != "duplicate" for c in candidates)
    hashes = [c.functional_hash for c in candidates]
    assert len(set(hashes)) < len(hashes)


class FlakySpace(AutoNumericsSpace):
    """Raises for programs with a division and returns NaN for programs with 3+ statements."""

    def evaluate_one(self, program):
        if any(ins.op == "div" for ins in program.instructions):
            raise ZeroDivisionError("division is not allowed here")
        objectives, metrics = super().evaluate_one(program)
        if len(program) >= 3:
            objectives["max_relative_error"] = math.nan
        return objectives, metrics


def test_failing_candidates_are_stored_with_their_reason_and_the_campaign_goes_on(store):
    config = make_config(evaluations=100)
    space = FlakySpace(config.space.settings)
    _, summary = run_campaign(store, config, "flaky", space=space)
    evaluations = store.load_evaluations(summary.campaign.id)
    errors = [e.error for e in evaluations if e.error]
    assert any("ZeroDivisionError: division is not allowed here" in e for e in errors)
    assert any("'max_relative_error' is nan" in e for e in errors)
    assert summary.failed == len(errors)
    assert store.get_campaign(summary.campaign.id).status == "finished"
    statuses = {c.number: c.status for c in store.load_candidates(summary.campaign.id)}
    for evaluation in evaluations:
        assert (statuses[evaluation.candidate_number] == "failed") == (evaluation.error is not None)


def test_interrupt_stops_cleanly_with_everything_so_far_stored(store):
    seen = []

    def interrupt_after_a_while(progress):
        seen.append(progress.candidates)
        if progress.evaluations >= 40:
            raise KeyboardInterrupt

    _, summary = run_campaign(store, make_config(evaluations=500), "interrupted",
                              on_progress=interrupt_after_a_while)
    record = store.get_campaign(summary.campaign.id)
    assert record.status == "stopped"
    stored = store.load_candidates(record.id)
    assert 40 <= sum(c.status != "duplicate" for c in stored) < 500
    assert [c.number for c in stored] == list(range(len(stored)))


def test_resume_continues_from_the_database_with_its_cache(store):
    config = make_config(evaluations=60)
    _, first = run_campaign(store, config, "resumable")
    cache_before = store.load_cache(first.campaign.id, first.campaign.settings_hash)
    # raise the budget in the stored config, as `automl resume --max-evals` would
    record = first.campaign
    stored_config = dict(record.config)
    stored_config["budget"] = {**stored_config["budget"], "max_evaluations": 120}
    with store.engine.begin() as connection:
        from automl.store.models import CAMPAIGNS

        connection.execute(CAMPAIGNS.update().where(CAMPAIGNS.c.id == record.id)
                           .values(config=stored_config))
    resumed = CampaignController.resume(store, record.id)
    assert resumed.next_number == first.candidates
    assert resumed.evaluations == 60
    assert len(resumed.cache) == len(cache_before)
    assert len(resumed.population) > 0
    summary = resumed.run()
    candidates = store.load_candidates(record.id)
    assert [c.number for c in candidates] == list(range(len(candidates)))
    evaluated = [c.functional_hash for c in candidates if c.status != "duplicate"]
    assert len(evaluated) == 120 == summary.evaluations
    assert len(evaluated) == len(set(evaluated)), "the resumed cache still dedups old programs"


def test_the_front_is_non_dominated_and_complete(store):
    controller, summary = run_campaign(store, make_config(evaluations=150), "front")
    front = summary.front
    assert front
    evaluations = [e for e in store.load_evaluations(summary.campaign.id) if e.objectives]

    def dominated(a, b):  # b dominates a (both objectives minimized)
        keys = ("max_relative_error", "cost")
        return (all(b[k] <= a[k] for k in keys) and any(b[k] < a[k] for k in keys))

    for member in front:
        assert not any(dominated(member.objectives, e.objectives) for e in evaluations)
    front_numbers = {m.number for m in front}
    for evaluation in evaluations:
        if evaluation.candidate_number not in front_numbers:
            assert any(dominated(evaluation.objectives, m.objectives) or
                       evaluation.objectives == m.objectives for m in front)
    assert summary.hypervolume is not None and summary.hypervolume > 0


def test_forgotten_cache_entries_are_deleted_from_the_store_too(store):
    config = make_config(evaluations=150, cache="{enabled: true, forget_probability: 0.5}")
    controller, summary = run_campaign(store, config, "forgetful")
    assert controller.cache.statistics.forgotten > 0
    stored = {row.functional_hash
              for row in store.load_cache(summary.campaign.id, summary.campaign.settings_hash)}
    assert len(stored) == len(controller.cache)
    assert all(controller.cache.get(h) is not None for h in stored)


def test_resume_refuses_changed_evaluation_settings(store):
    _, summary = run_campaign(store, make_config(evaluations=30), "versioned")

    class NewerEvaluator(AutoNumericsSpace):
        evaluator_version = AutoNumericsSpace.evaluator_version + 1

    with pytest.raises(ValueError, match="evaluation settings changed"):
        CampaignController.resume(store, summary.campaign.id,
                                  space=NewerEvaluator(summary.campaign.config["space"]["settings"]))


def test_the_stored_config_never_holds_a_database_password(store):
    config = make_config(evaluations=5)
    config.database = "postgresql+psycopg://alice:s3cret@db.example/automl"
    _, summary = run_campaign(store, config, "secret")
    stored = store.get_campaign(summary.campaign.id).config
    assert "s3cret" not in str(stored)
    assert stored["database"].startswith("postgresql+psycopg://alice:***@")


def test_a_campaign_with_a_tiny_cache_memory_stops_and_resumes_as_an_unbounded_one(store):
    """Five entries in memory, the store answering for the rest (and, after the resume, the
    stored hashes telling new programs apart): stopped part-way and resumed, the campaign makes
    the candidates of one that keeps every entry in memory, stopped and resumed alike."""
    def stop_and_resume(name: str, memory: str) -> list[tuple]:
        config = make_config(evaluations=120,
                             cache=f"{{enabled: true, memory_entries: {memory}}}")
        first = CampaignController.create(config, store, name)
        first.max_evaluations = 50  # stop part-way (as a Ctrl-C would, at a safe point)
        first.run()
        resumed = CampaignController.resume(store, name)
        if memory != "null":
            assert len(resumed.cache) <= int(memory) and resumed.cache._seen is not None
        summary = resumed.run()
        assert summary.evaluations == 120
        return [(r.number, r.program, r.status, r.duplicate_of)
                for r in store.load_candidates(summary.campaign.id)]

    assert stop_and_resume("tiny", "5") == stop_and_resume("unbounded", "null")
