"""Functional-equivalence cache: hits, in-flight dedup, aggregating and forgetful policies."""

import pytest

from automl.cache import FunctionalCache, LookupKind


def test_miss_then_in_flight_then_hit():
    cache = FunctionalCache("settings")
    assert cache.lookup("h", 0).kind is LookupKind.MISS
    in_flight = cache.lookup("h", 1)
    assert in_flight.kind is LookupKind.IN_FLIGHT and in_flight.original == 0
    entry, waiters = cache.complete("h", 0, {"loss": 1.5})
    assert waiters == [1]
    assert entry.hit_count == 1  # the twin that waited was answered by this entry
    hit = cache.lookup("h", 2)
    assert hit.kind is LookupKind.HIT and hit.original == 0
    assert hit.entry.objectives == {"loss": 1.5} and hit.entry.hit_count == 2
    stats = cache.statistics
    assert (stats.misses, stats.in_flight_hits, stats.hits) == (1, 1, 1)
    assert stats.hit_rate == pytest.approx(2 / 3)


def test_different_hashes_do_not_share():
    cache = FunctionalCache("settings")
    cache.lookup("a", 0)
    cache.complete("a", 0, {"loss": 1.0})
    assert cache.lookup("b", 1).kind is LookupKind.MISS


def test_disabled_cache_always_misses():
    cache = FunctionalCache("settings", enabled=False)
    cache.lookup("h", 0)
    cache.complete("h", 0, {"loss": 1.0})
    assert cache.lookup("h", 1).kind is LookupKind.MISS
    assert cache.statistics.hit_rate == 0.0


def test_aggregating_cache_evaluates_until_m_then_answers_the_mean():
    cache = FunctionalCache("settings", evaluations_per_entry=3)
    for number, value in enumerate([1.0, 2.0, 6.0]):
        assert cache.lookup("h", number).kind is LookupKind.MISS
        entry, _ = cache.complete("h", number, {"loss": value})
    assert entry.evaluation_count == 3
    hit = cache.lookup("h", 3)
    assert hit.kind is LookupKind.HIT
    assert hit.entry.objectives["loss"] == pytest.approx(3.0)
    assert hit.original == 0  # the first evaluated twin stays the original


def test_forgetful_cache_drops_an_entry_after_a_hit_when_the_draw_says_so():
    cache = FunctionalCache("settings", forget_probability=0.5)
    cache.lookup("h", 0)
    cache.complete("h", 0, {"loss": 1.0})
    assert cache.lookup("h", 1, forget_draw=0.9).kind is LookupKind.HIT  # kept
    assert cache.lookup("h", 2, forget_draw=0.1).kind is LookupKind.HIT  # answered, then dropped
    assert cache.lookup("h", 3).kind is LookupKind.MISS
    assert cache.statistics.forgotten == 1


def test_failed_evaluations_are_cached_as_failures():
    cache = FunctionalCache("settings", evaluations_per_entry=3)
    cache.lookup("h", 0)
    cache.complete("h", 0, None, "objective 'loss' is nan")
    hit = cache.lookup("h", 1)
    assert hit.kind is LookupKind.HIT and hit.entry.objectives is None
    assert hit.entry.error == "objective 'loss' is nan"


def test_changed_entries_are_reported_once_for_persistence():
    cache = FunctionalCache("settings")
    cache.lookup("h", 0)
    cache.complete("h", 0, {"loss": 1.0})
    changed, forgotten = cache.take_changed()
    assert [e.functional_hash for e in changed] == ["h"] and forgotten == []
    assert cache.take_changed() == ([], [])
    cache.lookup("h", 1)
    (changed,), _ = cache.take_changed()
    assert changed.hit_count == 1


def test_forgotten_entries_are_reported_for_deletion():
    cache = FunctionalCache("settings", forget_probability=1.0)
    cache.lookup("h", 0)
    cache.complete("h", 0, {"loss": 1.0})
    cache.take_changed()
    cache.lookup("h", 1, forget_draw=0.0)
    changed, forgotten = cache.take_changed()
    assert changed == [] and forgotten == ["h"]


def test_a_failed_re_evaluation_never_replaces_a_good_aggregate():
    cache = FunctionalCache("settings", evaluations_per_entry=2)
    cache.lookup("h", 0)
    cache.complete("h", 0, {"loss": 2.0})
    assert cache.lookup("h", 1).kind is LookupKind.MISS  # the aggregate wants a 2nd evaluation
    entry, _ = cache.complete("h", 1, None, "objective 'loss' is nan")
    assert entry.objectives == {"loss": 2.0} and entry.evaluation_count == 1
    assert cache.lookup("h", 2).kind is LookupKind.MISS  # still short of 2 evaluations


def test_aggregating_twins_wait_only_for_evaluations_that_fill_the_entry():
    cache = FunctionalCache("settings", evaluations_per_entry=3)
    kinds = [cache.lookup("h", n).kind for n in range(5)]
    # three evaluations are needed: three twins are dispatched, later ones wait for them
    assert kinds == [LookupKind.MISS] * 3 + [LookupKind.IN_FLIGHT] * 2
    assert cache.complete("h", 0, {"loss": 1.0})[1] == []  # others still in flight
    assert cache.complete("h", 1, {"loss": 2.0})[1] == []
    entry, waiters = cache.complete("h", 2, {"loss": 6.0})
    assert waiters == [3, 4]
    assert entry.evaluation_count == 3 and entry.objectives["loss"] == pytest.approx(3.0)


def test_transient_failures_are_not_remembered():
    cache = FunctionalCache("settings")
    cache.lookup("h", 0)
    cache.lookup("h", 1)  # waits
    entry, waiters = cache.complete("h", 0, None, "worker died", cacheable=False)
    assert entry is None and waiters == [1]
    assert cache.lookup("h", 2).kind is LookupKind.MISS  # evaluated again later


def test_invalid_policy_values_raise():
    with pytest.raises(ValueError):
        FunctionalCache("s", evaluations_per_entry=0)
    with pytest.raises(ValueError):
        FunctionalCache("s", forget_probability=1.5)


def _drive(cache: FunctionalCache, store: dict, seed: int) -> list[tuple]:
    """A random workload (lookups of 40 hashes, completions in random order, flushes into
    `store`, which stands for the database), and what the cache answered."""
    import copy
    import random

    rng = random.Random(seed)
    pending: list[tuple[str, int]] = []
    answers = []
    for number in range(600):
        functional_hash = f"h{min(int(rng.expovariate(0.08)), 39)}"
        lookup = cache.lookup(functional_hash, number, forget_draw=rng.random())
        answers.append((number, lookup.kind, lookup.original,
                        None if lookup.entry is None else lookup.entry.objectives))
        if lookup.kind is LookupKind.MISS:
            pending.append((functional_hash, number))
        while pending and rng.random() < 0.6:
            done_hash, done = pending.pop(rng.randrange(len(pending)))
            failed = rng.random() < 0.1
            entry, waiters = cache.complete(done_hash, done, None if failed else
                                            {"loss": float(number % 7)}, "boom" if failed else None)
            answers.append(("done", done, waiters, None if entry is None else entry.objectives))
        if rng.random() < 0.2:  # a flush: what changed reaches the store
            changed, forgotten = cache.take_changed()
            store.update({e.functional_hash: copy.deepcopy(e) for e in changed})
            for functional_hash in forgotten:
                store.pop(functional_hash, None)
        if cache.capacity is not None:
            assert len(cache) <= cache.capacity + len(cache._changed) + 1
    return answers


@pytest.mark.parametrize("policy", [{}, {"evaluations_per_entry": 2},
                                    {"forget_probability": 0.3}])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_bounded_cache_answers_as_an_unbounded_one(policy, seed):
    """With 5 of ~40 entries in memory and the store answering for the rest, every lookup
    and completion comes out as with everything in memory."""
    import copy

    unbounded = FunctionalCache("settings", **policy)
    store: dict = {}
    asked = []

    def backing(functional_hash):
        asked.append(functional_hash)
        entry = store.get(functional_hash)
        return None if entry is None else copy.deepcopy(entry)

    bounded = FunctionalCache("settings", capacity=5, backing=backing, **policy)
    assert _drive(bounded, store, seed) == _drive(unbounded, {}, seed)
    assert asked  # the store was consulted: memory alone could not have answered
    assert bounded.statistics == unbounded.statistics


def evaluate_each(cache: FunctionalCache, numbers: range, stored: bool = False) -> None:
    """Candidates h<number> looked up and evaluated (and flushed to the store if `stored`)."""
    for number in numbers:
        cache.lookup(f"h{number}", number)
        cache.complete(f"h{number}", number, {"loss": 1.0})
        if stored:
            cache.take_changed()


def test_a_bounded_cache_never_asks_the_store_while_everything_fits():
    asked = []
    cache = FunctionalCache("settings", capacity=100, backing=lambda h: asked.append(h))
    evaluate_each(cache, range(50))
    assert cache.lookup("h3", 99).kind is LookupKind.HIT
    assert cache.lookup("new", 100).kind is LookupKind.MISS
    assert asked == []  # nothing was ever dropped: a miss in memory is a miss
    cache.load([], complete=False)  # a resume that loaded only part of the stored entries
    cache.lookup("other", 101)
    assert asked == ["other"]


def test_the_seen_filter_never_forgets_a_hash_and_rarely_imagines_one():
    import secrets

    from automl.cache import SeenFilter

    seen = SeenFilter(bits=2**16)
    added = [secrets.token_hex(16) for _ in range(2000)]
    for functional_hash in added:
        seen.add(functional_hash)
    assert all(seen.maybe(h) for h in added)
    imagined = sum(seen.maybe(secrets.token_hex(16)) for _ in range(2000))
    assert imagined < 100  # (1 - e^(-4 * 2000 / 65536))^4 ~ 0.0002 of them


def test_a_bounded_cache_asks_the_store_only_about_hashes_it_once_held():
    asked = []
    cache = FunctionalCache("settings", capacity=3, backing=lambda h: asked.append(h))
    evaluate_each(cache, range(10), stored=True)  # stored: now they may leave memory
    for number in range(10, 20):  # new programs: memory cannot know, the filter does
        assert cache.lookup(f"h{number}", number).kind is LookupKind.MISS
    assert asked == []
    cache.lookup("h0", 99)  # held once, left memory: only the store can say
    assert asked == ["h0"]


def test_a_partial_load_without_the_stored_hashes_asks_the_store_about_every_miss():
    asked = []
    cache = FunctionalCache("settings", capacity=3, backing=lambda h: asked.append(h))
    cache.load([], complete=False)
    cache.lookup("new", 0)
    assert asked == ["new"]
    with_hashes = FunctionalCache("settings", capacity=3, backing=lambda h: asked.append(h))
    with_hashes.load([], complete=False, stored_hashes=["old"])
    with_hashes.lookup("new", 0)
    with_hashes.lookup("old", 1)
    assert asked == ["new", "old"]
