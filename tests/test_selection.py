"""Tests for automl.evolution.selection."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pareto_reference import bf_crowding, bf_dominates, bf_ranks

import automl.evolution.selection as selection
from automl.evolution.selection import (
    NSGA2,
    Member,
    ParetoTournament,
    RegularizedEvolution,
    SelectionStrategy,
)

INF = math.inf


def mk(number: int, *objectives: float, payload=None) -> Member:
    return Member(number, np.array(objectives, dtype=float), payload)


def twin(rng: np.random.Generator) -> np.random.Generator:
    """An independent generator in the same state (to replay what a call will draw)."""
    other = np.random.default_rng()
    other.bit_generator.state = rng.bit_generator.state
    return other


def replay_sample(rng: np.random.Generator, n: int, k: int) -> list[int]:
    """Indices the next tournament will sample: k uniform draws with replacement, which is
    the first thing every strategy takes from the rng."""
    return twin(rng).integers(0, n, size=k).tolist()


ALL = [RegularizedEvolution, ParetoTournament, NSGA2]


def build(cls, population_size=5, tournament_size=2):
    return cls(population_size=population_size, tournament_size=tournament_size)


# --------------------------------------------------------------------------- Member


def test_member_equality_hash_and_immutability():
    a = mk(1, 0.5, 2.0)
    b = Member(1, [9.0, 9.0], payload="other")
    assert a == b and hash(a) == hash(b)  # identity is the candidate number
    assert a != mk(2, 0.5, 2.0)
    assert a.objectives.dtype == float
    with pytest.raises(ValueError):
        a.objectives[0] = 3.0  # read-only: strategies cache derived data
    src = np.array([1.0, 2.0])
    c = Member(3, src)
    src[0] = 100.0
    assert c.objectives.tolist() == [1.0, 2.0]  # private copy


@pytest.mark.parametrize("bad", [[], [[1.0, 2.0]], [1.0, math.nan]])
def test_member_rejects_bad_objectives(bad):
    with pytest.raises(ValueError):
        Member(1, np.array(bad, dtype=float))


# --------------------------------------------------------------------------- common behaviour


@pytest.mark.parametrize("cls", ALL)
def test_empty_population_raises(cls):
    with pytest.raises(ValueError):
        build(cls).select_parent(np.random.default_rng(0))


@pytest.mark.parametrize("cls", ALL)
def test_rejects_duplicate_numbers_and_objective_count_mismatch(cls):
    s = build(cls)
    s.add(mk(1, 1.0, 2.0))
    with pytest.raises(ValueError):
        s.add(mk(1, 0.0, 0.0))
    with pytest.raises(ValueError):
        s.add(mk(2, 0.0, 0.0, 0.0))
    with pytest.raises(TypeError):
        s.add((3, np.array([1.0, 1.0])))  # type: ignore[arg-type]
    assert len(s) == 1


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(population_size=0),
        dict(tournament_size=0),
        dict(population_size=2.5),
        dict(tournament_size=True),
    ],
)
def test_rejects_bad_sizes(cls, kwargs):
    args = dict(population_size=5, tournament_size=2) | kwargs
    with pytest.raises(ValueError):
        cls(**args)


@pytest.mark.parametrize("cls", ALL)
def test_population_never_exceeds_size_and_state_is_json(cls):
    rng = np.random.default_rng(1)
    s = build(cls, population_size=7, tournament_size=3)
    for i in range(40):
        s.add(mk(i, *rng.integers(0, 5, size=2).astype(float), payload=object()))
        assert len(s) == min(i + 1, 7) == len(s.members())
        s.select_parent(rng)
    state = s.state()
    assert [number for number, _ in state.members] == [mb.number for mb in s.members()]
    stored = json.loads(json.dumps(state.to_json(), allow_nan=False))
    assert s.parse_state(stored) == state
    # a fresh strategy restored from the state continues exactly as the original
    payloads = {mb.number: mb.payload for mb in s.members()}
    again = build(cls, population_size=7, tournament_size=3)
    again.restore(s.parse_state(stored),
                  lambda number, vector: Member(number, np.array(vector), payloads[number]))
    assert [(m.number, m.payload) for m in again.members()] == \
        [(m.number, m.payload) for m in s.members()]
    first, second = np.random.default_rng(9), np.random.default_rng(9)
    assert [s.select_parent(first).number for _ in range(20)] == \
        [again.select_parent(second).number for _ in range(20)]


def _run_sequence(cls, seed: int, kwargs: dict) -> list[int]:
    data_rng = np.random.default_rng(1234)  # same members for every run
    s = cls(**kwargs)
    rng = np.random.default_rng(seed)
    picks = []
    number = 0
    for step in range(300):
        if step % 3 == 0 or len(s) == 0:
            s.add(mk(number, *data_rng.integers(0, 6, size=3).astype(float)))
            number += 1
        picks.append(s.select_parent(rng).number)
    return picks


@pytest.mark.parametrize("cls", ALL)
def test_determinism(cls):
    kwargs = dict(population_size=10, tournament_size=3)
    a = _run_sequence(cls, 7, kwargs)
    b = _run_sequence(cls, 7, kwargs)
    assert a == b
    assert a != _run_sequence(cls, 8, kwargs)  # the rng really drives the picks


# --------------------------------------------------------------------------- aging strategies


@pytest.mark.parametrize("cls", [RegularizedEvolution, ParetoTournament])
def test_aging_removes_oldest_not_worst(cls):
    s = build(cls, population_size=3)
    # best member first, worst members last; add order differs from number order
    s.add(mk(5, 0.0, 0.0))  # oldest and best (dominates everybody)
    s.add(mk(2, 9.0, 9.0))
    s.add(mk(3, 8.0, 8.0))
    s.add(mk(1, 10.0, 10.0))  # worst, newest
    assert [m.number for m in s.members()] == [2, 3, 1]
    s.add(mk(9, 11.0, 11.0))
    assert [m.number for m in s.members()] == [3, 1, 9]
    assert len(s) == 3


def test_regularized_picks_best_of_replayed_sample_and_ties_to_lowest_number():
    values = [3.0, 1.0, 2.0, 1.0, 5.0, 1.0]
    numbers = [10, 7, 3, 12, 1, 4]  # members with value 1.0: numbers 7, 12, 4
    s = RegularizedEvolution(population_size=6, tournament_size=6)
    for num, v in zip(numbers, values, strict=True):
        s.add(mk(num, v, -v))
    pop = s.members()
    rng = np.random.default_rng(42)
    for _ in range(500):
        sample = [pop[i] for i in replay_sample(rng, 6, 6)]
        best = min(sample, key=lambda m: (m.objectives[0], m.number))
        assert s.select_parent(rng) is best


def test_regularized_tournament_of_population_size_picks_the_best():
    """With sampling WITH replacement, tournament_size == population_size includes the best
    member with probability 1 - (1 - 1/n)^n, and whenever it is sampled it must win."""
    n = 8
    s = RegularizedEvolution(population_size=n, tournament_size=n)
    rng = np.random.default_rng(3)
    perm = rng.permutation(n)
    for i in range(n):
        s.add(mk(i, float(perm[i])))
    best_number = int(np.argmin(perm))
    hits = 0
    draws = 4000
    for _ in range(draws):
        sampled = {s.members()[i].number for i in replay_sample(rng, n, n)}
        picked = s.select_parent(rng).number
        if best_number in sampled:
            assert picked == best_number
            hits += 1
        else:
            assert picked != best_number
    expected = 1 - (1 - 1 / n) ** n
    assert abs(hits / draws - expected) < 0.03
    # a tournament far larger than the population practically always contains the best
    big = RegularizedEvolution(population_size=n, tournament_size=400)
    for mb in s.members():
        big.add(mb)
    assert all(big.select_parent(rng).number == best_number for _ in range(200))


def test_regularized_objective_index():
    s = RegularizedEvolution(population_size=3, tournament_size=200, objective_index=1)
    s.add(mk(1, 0.0, 5.0))
    s.add(mk(2, 5.0, 0.0))
    s.add(mk(3, 1.0, 1.0))
    rng = np.random.default_rng(0)
    assert all(s.select_parent(rng).number == 2 for _ in range(50))
    with pytest.raises(ValueError):
        s.add(mk(4, 1.0))  # objective 1 missing
    with pytest.raises(ValueError):
        RegularizedEvolution(3, 2, objective_index=-1)


def test_regularized_restart_keeps_only_the_given_member_until_children_refill_it():
    s = RegularizedEvolution(population_size=3, tournament_size=2)
    for number, value in [(1, 0.5), (2, 0.1), (3, 0.9)]:
        s.add(mk(number, value))
    evicted_best = mk(0, 0.05)  # the best need not still be in the (aging) population
    s.restart(evicted_best)
    assert [mb.number for mb in s.members()] == [0] and len(s) == 1
    rng = np.random.default_rng(0)
    assert all(s.select_parent(rng).number == 0 for _ in range(20))
    for number in (4, 5, 6):  # children refill it, and the restart point ages out first
        s.add(mk(number, 1.0))
    assert [mb.number for mb in s.members()] == [4, 5, 6]
    s.add(mk(1, 0.3))  # numbers evicted by the restart may not block anything
    assert 1 in {mb.number for mb in s.members()}


@pytest.mark.slow
def test_pareto_tournament_only_returns_sample_front_members():
    # A dominates B and C; D is mutually non-dominated with A; E is dominated by everybody
    objs = {1: (0.0, 2.0), 2: (1.0, 3.0), 3: (0.5, 2.5), 4: (2.0, 0.0), 5: (5.0, 5.0)}
    s = ParetoTournament(population_size=5, tournament_size=2)
    for num, o in objs.items():
        s.add(mk(num, *o))
    pop = s.members()
    rng = np.random.default_rng(11)
    counts: Counter[int] = Counter()
    for _ in range(5000):
        sample = [pop[i] for i in replay_sample(rng, 5, 2)]
        picked = s.select_parent(rng)
        assert picked in sample
        assert not any(bf_dominates(o.objectives, picked.objectives) for o in sample)
        counts[picked.number] += 1
    # dominated members are still picked when their sample holds no dominator
    assert set(counts) == {1, 2, 3, 4, 5}
    # E is picked only from the sample (E, E): probability 1/25 -> ~200 of 5000
    assert 120 < counts[5] < 280


@pytest.mark.slow
def test_pareto_tournament_uniform_over_sample_front():
    s = ParetoTournament(population_size=4, tournament_size=300)
    for num, o in {1: (0.0, 3.0), 2: (1.0, 1.0), 3: (3.0, 0.0), 4: (2.0, 2.0)}.items():
        s.add(mk(num, *o))
    rng = np.random.default_rng(5)
    counts = Counter(s.select_parent(rng).number for _ in range(6000))
    assert counts[4] == 0  # (2,2) is dominated by (1,1), which is always sampled here
    for num in (1, 2, 3):
        assert abs(counts[num] / 6000 - 1 / 3) < 0.03


def test_pareto_tournament_duplicates_all_on_front():
    s = ParetoTournament(population_size=3, tournament_size=300)
    s.add(mk(1, 1.0, 1.0, 1.0))
    s.add(mk(2, 1.0, 1.0, 1.0))
    s.add(mk(3, 2.0, 2.0, 2.0))
    rng = np.random.default_rng(0)
    counts = Counter(s.select_parent(rng).number for _ in range(2000))
    assert counts[3] == 0 and counts[1] > 800 and counts[2] > 800


# --------------------------------------------------------------------------- NSGA-II


def test_nsga2_removes_dominated_before_front_members():
    s = NSGA2(population_size=4)
    for num, o in {1: (0.0, 4.0), 2: (1.0, 1.0), 3: (2.0, 2.0), 4: (4.0, 0.0)}.items():
        s.add(mk(num, *o))
    # (2,2) is the only dominated member; it is removed even though it is not the oldest
    s.add(mk(5, 3.0, 0.5))
    assert sorted(m.number for m in s.members()) == [1, 2, 4, 5]
    # a newcomer that is dominated is itself evicted right away
    s.add(mk(6, 5.0, 5.0))
    assert sorted(m.number for m in s.members()) == [1, 2, 4, 5]
    assert len(s) == 4


def test_nsga2_crowding_then_age_tie_breaks():
    # one front: interior member with the smallest crowding distance goes first
    s = NSGA2(population_size=4)
    for num, o in {1: (0.0, 10.0), 2: (1.0, 9.0), 3: (4.0, 6.0), 4: (10.0, 0.0)}.items():
        s.add(mk(num, *o))
    s.add(mk(5, 9.0, 1.0))
    # crowding in the single 5-member front (ranges 10 and 10): 1 and 4 are boundaries (inf),
    # 2 -> (4-0)/10 + (10-6)/10 = 0.8, 3 -> (9-1)/10 + (9-1)/10 = 1.6, 5 -> 0.6 + 0.6 = 1.2
    assert sorted(m.number for m in s.members()) == [1, 3, 4, 5]

    # last front of two members, both with infinite crowding: the older one goes
    for first, second in ((11, 12), (12, 11)):
        t = NSGA2(population_size=3)
        t.add(mk(10, 0.0, 0.0))
        objs = {11: (1.0, 2.0), 12: (2.0, 1.0)}
        t.add(mk(first, *objs[first]))
        t.add(mk(second, *objs[second]))
        t.add(mk(13, 0.5, 0.5))  # pushes 11 and 12 to front 2
        assert sorted(m.number for m in t.members()) == sorted([10, 13, second])


@st.composite
def add_sequences(draw):
    m = draw(st.sampled_from([2, 3]))
    size = draw(st.integers(1, 8))
    n = draw(st.integers(1, 30))
    values = st.sampled_from([0.0, 1.0, 2.0, 3.0, 4.5])
    objs = [draw(st.lists(values, min_size=m, max_size=m)) for _ in range(n)]
    return size, objs


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(add_sequences())
def test_nsga2_eviction_matches_reference(data):
    size, objs = data
    s = NSGA2(population_size=size)
    for num, o in enumerate(objs):
        before = s.members() + [mk(num, *o)]
        s.add(mk(num, *o))
        after = s.members()
        assert len(s) == min(num + 1, size) == len(after)
        if len(before) <= size:
            assert after == before
            continue
        (evicted,) = [m for m in before if m not in after]
        pts = [m.objectives for m in before]
        ranks = bf_ranks(pts)
        worst_rank = max(ranks)
        i = before.index(evicted)
        assert ranks[i] == worst_rank  # dominated members go before front members
        front = [k for k in range(len(before)) if ranks[k] == worst_rank]
        cd = dict(zip(front, bf_crowding([pts[k] for k in front]), strict=True))
        assert cd[i] == min(cd.values())
        assert i == min(k for k in front if cd[k] == cd[i])  # then the oldest
        # the incrementally maintained cache equals a fresh computation
        rest = [m.objectives for m in after]
        assert s.ranks().tolist() == bf_ranks(rest)
        want = [0.0] * len(rest)
        rr = bf_ranks(rest)
        for r in set(rr):
            idx = [k for k in range(len(rest)) if rr[k] == r]
            for k, c in zip(idx, bf_crowding([rest[k] for k in idx]), strict=True):
                want[k] = c
        assert s.crowding().tolist() == pytest.approx(want)


def test_nsga2_tournament_winner_matches_replayed_sample():
    rng = np.random.default_rng(9)
    s = NSGA2(population_size=12, tournament_size=3)
    for num in range(20):
        s.add(mk(num, *rng.integers(0, 4, size=2).astype(float)))
    pop = s.members()
    ranks, crowd = s.ranks(), s.crowding()
    for _ in range(2000):
        idx = replay_sample(rng, len(pop), 3)
        keys = [(ranks[i], -crowd[i]) for i in idx]
        expected = pop[idx[keys.index(min(keys))]]  # ties: first sampled
        assert s.select_parent(rng) is expected


def test_nsga2_ranks_its_fronts():
    s = NSGA2(population_size=5)
    for num, o in {4: (0.0, 0.0), 2: (1.0, 1.0), 9: (0.0, 3.0), 1: (2.0, 2.0)}.items():
        s.add(mk(num, *o))
    assert [m.number for m in s.members()] == [4, 2, 9, 1]
    assert s.ranks().tolist() == [0, 1, 1, 2]


def test_nsga2_cache_is_recomputed_only_when_membership_changes(monkeypatch):
    calls = []
    real = selection.non_dominated_sort

    def counting(points):
        calls.append(len(points))
        return real(points)

    monkeypatch.setattr(selection, "non_dominated_sort", counting)
    s = NSGA2(population_size=3)
    rng = np.random.default_rng(0)
    s.add(mk(1, 0.0, 1.0))
    s.add(mk(2, 1.0, 0.0))
    assert calls == []  # lazy: nothing computed by adds below capacity
    for _ in range(1000):
        s.select_parent(rng)
    assert calls == [2]
    s.add(mk(3, 2.0, 2.0))
    s.add(mk(4, 0.5, 0.5))
    s.add(mk(5, 3.0, 3.0))
    assert calls == [2]  # eviction is deferred to the next read
    for _ in range(1000):
        s.select_parent(rng)
    # two over capacity: one computation chooses both evictions (a batch costs one sort)
    assert calls == [2, 5]
    assert {m.number for m in s.members()} == {1, 2, 4}
    assert calls == [2, 5]  # eviction left the cache valid


# --------------------------------------------------------------------------- registry


def test_the_registered_strategies_build_themselves_from_an_evolution_config():
    from types import SimpleNamespace

    from automl import plugins

    assert set(plugins.STRATEGIES.names()) >= {"regularized", "pareto_tournament", "nsga2"}
    evolution = SimpleNamespace(population_size=4, tournament_size=3, objective="cost")
    for name in ("regularized", "pareto_tournament", "nsga2"):
        cls = plugins.STRATEGIES.load(name)
        assert issubclass(cls, SelectionStrategy) and cls.name == name
        built = cls.from_config(evolution, ["error", "cost"])
        assert (built.population_size, built.tournament_size) == (4, 3)
    regularized = plugins.STRATEGIES.load("regularized").from_config(evolution, ["error", "cost"])
    assert regularized.objective_index == 1 and regularized.restartable
    with pytest.raises(ValueError, match="'cost' is not one of"):
        RegularizedEvolution.from_config(evolution, ["error"])


def test_a_plugin_strategy_needs_only_select_add_and_members():
    """`len` and the state come from `members()`: a strategy that keeps its own list works."""

    class Newest(SelectionStrategy):
        name = "newest"

        def __init__(self, population_size: int, tournament_size: int) -> None:
            super().__init__(population_size, tournament_size)
            self.kept: list[Member] = []

        def select_parent(self, rng):
            return self.kept[-1]

        def add(self, member):
            self.kept = [*self.kept, member][-self.population_size:]

        def members(self):
            return list(self.kept)

    strategy = Newest(population_size=2, tournament_size=1)
    assert len(strategy) == 0
    for number in range(3):
        strategy.add(mk(number, float(number)))
    assert len(strategy) == 2 and [n for n, _ in strategy.state().members] == [1, 2]


def test_nsga2_keeps_one_copy_per_identity_while_aging_strategies_keep_copies():
    nsga = NSGA2(population_size=4)
    aging = RegularizedEvolution(population_size=4, tournament_size=2)
    for number in range(3):
        for strategy in (nsga, aging):
            strategy.add(Member(number, np.array([1.0, 1.0]), identity="same-function"))
    assert [m.number for m in nsga.members()] == [0]
    assert [m.number for m in aging.members()] == [0, 1, 2]
    nsga.add(Member(3, np.array([0.0, 2.0]), identity="other"))
    assert [m.number for m in nsga.members()] == [0, 3]


def test_nsga2_copy_that_dominates_replaces_the_member_it_copies():
    """The same function written more cheaply (lower cost, same error) takes its twin's place;
    a copy that is only different, or worse, does not enter."""
    nsga = NSGA2(population_size=4)
    nsga.add(Member(0, np.array([-3.0, 5.0]), identity="f"))
    nsga.add(Member(1, np.array([-2.0, 1.0]), identity="g"))
    nsga.add(Member(2, np.array([-3.0, 4.0]), identity="f"))  # cheaper twin of 0
    assert sorted(m.number for m in nsga.members()) == [1, 2]
    nsga.add(Member(3, np.array([-3.5, 6.0]), identity="f"))  # trade-off, not dominating
    nsga.add(Member(4, np.array([-3.0, 4.0]), identity="f"))  # equal, not better
    assert sorted(m.number for m in nsga.members()) == [1, 2]
    # ranks stay consistent after the replacement: 2 and 1 are both non-dominated
    assert nsga.ranks().tolist() == [0, 0]
