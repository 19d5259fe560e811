"""scripts/bench_fec.py: the paired saved ratio and the answer-agreement check measure what
they claim to."""

from __future__ import annotations

import math

import pytest

from automl.plugins import get_space
from automl.store.records import CandidateRow, EvaluationRow
from tests.standalone import script_module


@pytest.fixture(scope="module")
def bench():
    with script_module("bench_fec") as module:
        yield module


def test_paired_cost_counts_every_candidate_and_cached_cost_only_evaluations(bench):
    # (evaluations spent, candidates generated, best so far): the best 0.5 is first reached at
    # candidate 6, after 3 evaluations (three of the six were hits)
    curve = [(1, 1, 2.0), (1, 2, 2.0), (2, 3, 1.0), (2, 4, 1.0), (2, 5, 1.0), (3, 6, 0.5),
             (4, 7, 0.5)]
    assert bench.evaluations_to_reach(curve, 0.5) == 3
    assert bench.evaluations_to_reach(curve, 0.5, paired=True) == 6
    assert bench.evaluations_to_reach(curve, 1.0, paired=True) == 3
    assert bench.evaluations_to_reach(curve, 0.1) is None


def row(number: int, program: str, status: str, duplicate_of: int | None = None):
    return CandidateRow(number, program, (), "test", "0" * 32, status, duplicate_of)


def test_agreement_reevaluates_only_differently_written_hits_and_finds_a_wrong_answer(bench):
    space = get_space("autonumerics", {"target": "exp2", "fit_constants": False})
    original = "t = x * 0.7\nf = t + 1.0\n"
    rewritten = "t = 0.7 * x\nf = 1.0 + t\n"  # the same function, written differently
    other = "t = x * 0.6\nf = t + 1.0\n"  # a different function
    (right,) = space.evaluate([space.parse(original)])
    (wrong,) = space.evaluate([space.parse(other)])
    rows = [row(0, original, "evaluated"), row(1, other, "evaluated"),
            row(2, original, "duplicate", 0),  # its twin's own text: not re-evaluated
            row(3, rewritten, "duplicate", 0),  # answered rightly
            row(4, rewritten, "duplicate", 1)]  # answered with another function's result
    evaluations = {0: EvaluationRow(0, right.objectives, {}, "w", 0.0, None),
                   1: EvaluationRow(1, wrong.objectives, {}, "w", 0.0, None)}
    report = bench.reevaluate_hits(space, rows, evaluations, sample=10, seed=0)
    assert report["hits"] == 3 and report["differently_written"] == 2
    differences = sorted(report["differences"])
    assert differences[0] < 1e-12  # the rewritten twin scores what the cache answered
    error_right = right.objectives["max_relative_error"]
    error_wrong = wrong.objectives["max_relative_error"]
    assert math.isclose(differences[1], abs(error_right - error_wrong) / error_wrong,
                        rel_tol=1e-9)
    # cost depends on the text, so it never counts as a disagreement
    assert "cost" in right.objectives


def test_restart_after_reaches_the_search(bench):
    settings = "{target: exp2, fit_constants: false, max_statements: 8}"
    runs = {restart_after: bench.run("autonumerics", True, 300, 20, 2, 0, 4, settings,
                                     restart_after=restart_after)
            for restart_after in (None, 20)}
    assert runs[None]["restarts"] == 0
    assert runs[20]["restarts"] >= 2
    # a restart changes which parents are picked, so the candidates differ from there on
    assert runs[20]["curve"] != runs[None]["curve"]
