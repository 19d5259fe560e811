"""scripts/bench_collisions.py: the hash-collision study counts what it claims to count."""

from __future__ import annotations

import pytest

from automl.plugins import get_space
from tests.standalone import script_module

SETTINGS = {"target": "exp2", "fit_constants": True}


@pytest.fixture(scope="module")
def bench():
    with script_module("bench_collisions") as module:
        yield module


def figure(figures: list[dict], metric: str, bits: int) -> dict:
    (line,) = [f for f in figures if f["metric"] == metric and f.get("bits") == bits]
    return line


def test_fewer_bits_never_give_more_distinct_hashes(bench):
    space = get_space("autonumerics", SETTINGS)
    texts = bench.drift_stream(space, 300, seed=3, population=30)
    assert len(texts) == 300
    programs = {text: space.parse(text) for text in dict.fromkeys(texts)}
    distinct = [len(bench.hash_groups(bench.space_with_bits("autonumerics", SETTINGS, bits),
                                      texts, programs))
                for bits in (1, 3, 5, 7, 12, 24, 52)]
    # rounding twice could in principle break this (a pair straddling a coarse rounding
    # boundary), but not on a stream like this one
    assert distinct == sorted(distinct)
    assert distinct[0] < distinct[-1] <= len(programs)  # 1 bit does merge something


def test_merged_different_programs_are_counted_and_equivalent_ones_are_not(bench):
    different = ["f = x * c0\n", "t1 = x * c0\nf = t1 + 1e-09\n"]
    equivalent = ["f = x + x\n", "f = x * 2.0\n"]
    # stream order: each first program is what the cache would evaluate
    texts = [different[0], equivalent[0], different[1], equivalent[1], different[1]]
    figures = bench.study("autonumerics", SETTINGS, texts, bits=(1, 24), seed=0)

    one_bit = {line["metric"]: line for line in figures if line.get("bits") == 1}
    assert one_bit["collisions_distinct_hashes"]["value"] == 2  # both pairs merged
    assert one_bit["collisions_cache_hit_rate"]["value"] == pytest.approx(0.6)
    assert one_bit["collisions_candidates_per_hash"]["max_group_size"] == 3
    for criterion in ("objectives", "outputs", "outputs_bitwise"):
        merged = one_bit[f"collisions_merged_groups_by_{criterion}"]
        assert merged["groups_checked"] == 2
        assert merged["value"] == 1, criterion  # the x * c0 pair, not x + x vs x * 2.0
        affected = one_bit[f"collisions_affected_fraction_by_{criterion}"]
        assert affected["affected_in_checked_groups"] == 2  # both copies of the + 1e-9 one
        assert affected["value"] == pytest.approx(2 / 5)

    # at 24 bits the + 1e-9 program has its own hash; x + x and x * 2.0 still share one
    assert figure(figures, "collisions_distinct_hashes", 24)["value"] == 3
    merged = figure(figures, "collisions_merged_groups_by_outputs_bitwise", 24)
    assert (merged["groups_checked"], merged["value"]) == (1, 0)


def test_outputs_differ_separates_round_off_from_real_differences(bench):
    import numpy as np

    x = np.linspace(0.0, 1.0, 101)
    reassociated = (x * 0.1) * 3.0
    assert (reassociated != x * (0.1 * 3.0)).any()  # the last bit differs somewhere
    assert bench.outputs_differ([x * (0.1 * 3.0)], [reassociated], 1e-9) == (True, False)
    assert bench.outputs_differ([x], [x + 1e-6], 1e-9) == (True, True)
    nan = np.array([np.nan, 1.0])
    assert bench.outputs_differ([nan], [nan.copy()], 1e-9) == (False, False)
    assert bench.outputs_differ([nan], [np.array([0.0, 1.0])], 1e-9) == (True, True)
