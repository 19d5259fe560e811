"""The typed, versioned campaign state: what resume continues from. One format (version 2,
composed of the strategy's own state), and the untyped snapshots of older campaigns (version 1)
read as they were meant; a state this code cannot read is named, not guessed at."""

from __future__ import annotations

import json

import numpy as np
import pytest

from automl.campaign_state import CampaignState, StateError
from automl.evolution.restarts import RestartState, WithRestarts
from automl.evolution.selection import NSGA2, Member, PopulationState, RegularizedEvolution


def member(number: int, *values: float) -> Member:
    return Member(number, np.array(values), payload=f"program {number}")


def restarting() -> WithRestarts:
    return WithRestarts(RegularizedEvolution(population_size=4, tournament_size=2), after=3)


def test_the_state_round_trips_through_json():
    strategy = restarting()
    for number, value in enumerate([0.5, 0.25, 0.75, 0.9, 0.8]):
        strategy.add(member(number, value, 1.0))
    state = CampaignState(strategy.state(), {7: {"c0": 0.5, "c1": -1.25}})
    stored = json.loads(json.dumps(state.to_json()))
    assert stored["version"] == 2 and stored["strategy"]["kind"] == "restarts"
    assert CampaignState.from_json(stored, restarting()) == state
    assert state.strategy.best[0] == 1 and state.strategy.stalled == 0  # restarted at 4
    assert state.strategy.restarts == 1


def test_a_restored_restarting_strategy_continues_as_the_original():
    original, again = restarting(), restarting()
    for number, value in enumerate([0.5, 0.25, 0.75, 0.9]):
        original.add(member(number, value, 1.0))
    state = CampaignState.from_json(json.loads(json.dumps(
        CampaignState(original.state()).to_json())), again).strategy
    again.restore(state, lambda number, vector: member(number, *vector))
    for number, value in [(4, 0.6), (5, 0.7), (6, 0.95), (7, 0.1), (8, 0.3)]:
        original.add(member(number, value, 1.0))
        again.add(member(number, value, 1.0))
        assert original.state() == again.state()
    assert original.restarts == again.restarts == 1  # at candidate 4: third in a row above 0.25


def test_version_1_snapshots_read_as_they_were_meant():
    old = {"population": [[3, [0.5, 2.0]], [5, [0.25, 3.0]]],
           "starts": {"9": {"c0": 1.5}},
           "restart": {"best": [5, [0.25, 3.0]], "stalled": 2, "restarts": 4}}
    plain = CampaignState.from_json(old, NSGA2(population_size=4))
    assert plain.strategy == PopulationState(((3, (0.5, 2.0)), (5, (0.25, 3.0))))
    assert plain.starts == {9: {"c0": 1.5}}
    wrapped = CampaignState.from_json(old, restarting())
    assert wrapped.strategy == RestartState(plain.strategy, (5, (0.25, 3.0)), 2, 4)
    # a restarting campaign crashed before its first member joined has no restart entry yet
    early = CampaignState.from_json({"population": [], "starts": {}}, restarting())
    assert early.strategy == RestartState(PopulationState(()), None, 0, 0)


@pytest.mark.parametrize(("stored", "message"), [
    ({"version": 3, "strategy": {}}, "version 3; this code reads versions 1 to 2"),
    ({"version": 2, "strategy": {"kind": "restarts"}}, "does not fit a 'nsga2' campaign"),
    ({"version": 2}, "does not fit"),
    ({"population": [["x", [1.0]]]}, "does not fit"),
])
def test_a_state_this_code_cannot_read_is_named(stored, message):
    with pytest.raises(StateError, match=message):
        CampaignState.from_json(stored, NSGA2(population_size=4))
