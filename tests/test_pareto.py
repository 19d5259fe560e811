"""Tests for automl.evolution.pareto against brute-force references and hand computations, and
for the incremental `Front` built on it (automl.evolution.front)."""

from __future__ import annotations

import itertools
import math

import moocore
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pareto_reference import bf_crowding, bf_dominates, bf_ranks

from automl.evolution.front import Front, FrontMember, sign_only
from automl.evolution.pareto import (
    crowding_distance,
    dominates,
    frontwise_crowding_distance,
    hypervolume,
    non_dominated_mask,
    non_dominated_sort,
    pareto_front,
)
from automl.space import Objective

INF = math.inf

# --------------------------------------------------------------------------- brute-force refs


def bf_mask(points: list[list[float]]) -> list[bool]:
    return [
        not any(bf_dominates(q, p) for j, q in enumerate(points) if j != i)
        for i, p in enumerate(points)
    ]


def bf_hypervolume_integer(points: list[list[int]], ref: list[int]) -> int:
    """Count unit cells [c, c+1) inside the box below ``ref`` dominated by some point.

    Exact for integer coordinates: a cell is in the dominated region iff some point p
    satisfies p <= c (componentwise)."""
    lo = [min([0] + [p[j] for p in points]) for j in range(len(ref))]
    count = 0
    for cell in itertools.product(*(range(lo[j], ref[j]) for j in range(len(ref)))):
        if any(all(p[j] <= cell[j] for j in range(len(ref))) for p in points):
            count += 1
    return count


# --------------------------------------------------------------------------- strategies

# a small value alphabet forces many duplicates and ties; inf is allowed (NaN is not)
VALUES = st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.0, INF, -INF])
FINITE_VALUES = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 7.25])


@st.composite
def point_sets(draw, values=VALUES, dims=(2, 3), max_n=25):
    m = draw(st.sampled_from(dims))
    n = draw(st.integers(0, max_n))
    base = [draw(st.lists(values, min_size=m, max_size=m)) for _ in range(n)]
    # append exact duplicates of existing rows
    if base:
        extra = draw(st.lists(st.integers(0, len(base) - 1), max_size=5))
        base += [list(base[i]) for i in extra]
    return base, m


def as_array(points: list[list[float]], m: int) -> np.ndarray:
    return np.array(points, dtype=float).reshape(len(points), m)


# --------------------------------------------------------------------------- dominates


def test_dominates_basic():
    assert dominates([1, 2], [1, 3])
    assert dominates([0, 0, 0], [1, 1, 1])
    assert not dominates([1, 3], [1, 2])
    assert not dominates([1, 2], [1, 2])  # equal points never dominate
    assert not dominates([0, 3], [1, 2])  # incomparable
    assert not dominates([1, 2], [0, 3])
    assert dominates([-INF, 5], [0, INF])
    assert not dominates([INF, INF], [INF, INF])


def test_dominates_shape_mismatch():
    with pytest.raises(ValueError):
        dominates([1, 2], [1, 2, 3])


@pytest.mark.slow
@given(point_sets(max_n=6))
def test_dominates_matches_reference(data):
    points, _ = data
    for a, b in itertools.product(points, repeat=2):
        assert dominates(a, b) == bf_dominates(a, b)
        assert not (dominates(a, b) and dominates(b, a))


# --------------------------------------------------------------------------- non_dominated_mask


@pytest.mark.slow
@settings(max_examples=300)
@given(point_sets(dims=(1, 2, 3, 4)))
def test_non_dominated_mask_matches_brute_force(data):
    points, m = data
    mask = non_dominated_mask(as_array(points, m))
    assert mask.dtype == bool
    assert mask.tolist() == bf_mask(points)


@pytest.mark.slow
@settings(max_examples=100)
@given(st.integers(0, 10_000), st.integers(1, 400), st.sampled_from([2, 3]))
def test_non_dominated_mask_larger_random_sets(seed, n, m):
    rng = np.random.default_rng(seed)
    pts = rng.integers(0, 12, size=(n, m)).astype(float)  # plenty of ties at this size
    ref = [not any(dominates(q, p) for q in pts) for p in pts]
    assert non_dominated_mask(pts).tolist() == ref


def test_non_dominated_mask_keeps_duplicates_2d_and_3d():
    pts2 = np.array([[1, 1], [0, 1], [1, 0], [1, 0], [0, 1], [2, 2]], dtype=float)
    assert non_dominated_mask(pts2).tolist() == [False, True, True, True, True, False]
    pts3 = np.array([[1, 2, 3], [1, 2, 3], [0, 5, 5], [1, 2, 4]], dtype=float)
    assert non_dominated_mask(pts3).tolist() == [True, True, True, False]


def test_moocore_keep_weakly_semantics():
    """Pins the moocore behaviour that non_dominated_mask relies on for m >= 3:
    keep_weakly=False drops all but the first copy of a duplicated non-dominated point,
    keep_weakly=True keeps every copy."""
    pts = np.array([[1, 2, 3], [0, 5, 5], [1, 2, 3], [2, 2, 3]], dtype=float)
    assert moocore.is_nondominated(pts, keep_weakly=False).tolist() == [True, True, False, False]
    assert moocore.is_nondominated(pts, keep_weakly=True).tolist() == [True, True, True, False]


def test_non_dominated_mask_edge_cases():
    assert non_dominated_mask(np.zeros((0, 2))).tolist() == []
    assert non_dominated_mask(np.zeros((0, 3))).tolist() == []
    assert non_dominated_mask(np.array([[3.0, 4.0]])).tolist() == [True]
    assert non_dominated_mask(np.array([[2.0], [1.0], [1.0]])).tolist() == [False, True, True]
    # first point has the smallest f1 but f2 = inf: nothing dominates it
    assert non_dominated_mask(np.array([[0.0, INF], [1.0, 5.0]])).tolist() == [True, True]
    assert non_dominated_mask(np.array([[0.0, INF], [0.0, 5.0]])).tolist() == [False, True]
    with pytest.raises(ValueError):
        non_dominated_mask(np.array([1.0, 2.0]))


# --------------------------------------------------------------------------- non_dominated_sort


@settings(max_examples=300)
@given(point_sets(dims=(1, 2, 3, 4)))
def test_non_dominated_sort_matches_brute_force(data):
    points, m = data
    ranks = non_dominated_sort(as_array(points, m))
    assert np.issubdtype(ranks.dtype, np.integer)
    assert ranks.tolist() == bf_ranks(points)


@given(point_sets())
def test_non_dominated_sort_front_zero_is_mask(data):
    points, m = data
    pts = as_array(points, m)
    assert (non_dominated_sort(pts) == 0).tolist() == non_dominated_mask(pts).tolist()


def test_non_dominated_sort_hand_example():
    pts = np.array([[0, 0], [1, 1], [1, 1], [2, 0.5], [3, 3], [0, 5]], dtype=float)
    # (0,0) dominates every other point, (0,5) included; (1,1) dominates (3,3)
    assert non_dominated_sort(pts).tolist() == [0, 1, 1, 1, 2, 1]


# --------------------------------------------------------------------------- crowding distance


def test_crowding_distance_hand_examples():
    # symmetric 2-D front, ranges 4 and 4
    cd = crowding_distance(np.array([[0, 4], [1, 2], [2, 1], [4, 0]], dtype=float))
    assert cd[0] == INF and cd[3] == INF
    assert cd[1] == pytest.approx(2 / 4 + 3 / 4)
    assert cd[2] == pytest.approx(3 / 4 + 2 / 4)

    # input order must not matter
    cd = crowding_distance(np.array([[3, 2], [10, 0], [0, 10], [1, 5]], dtype=float))
    assert cd[1] == INF and cd[2] == INF
    assert cd[3] == pytest.approx((3 - 0) / 10 + (10 - 2) / 10)
    assert cd[0] == pytest.approx((10 - 1) / 10 + (5 - 0) / 10)

    # normalization by each objective's own range
    cd = crowding_distance(np.array([[0, 100], [1, 50], [2, 0]], dtype=float))
    assert cd.tolist() == [INF, pytest.approx(2 / 2 + 100 / 100), INF]

    # 3-D front
    cd = crowding_distance(np.array([[0, 0, 1], [0.5, 0.5, 0.5], [1, 1, 0]], dtype=float))
    assert cd[0] == INF and cd[2] == INF
    assert cd[1] == pytest.approx(3.0)


def test_crowding_distance_small_and_degenerate():
    assert crowding_distance(np.zeros((0, 2))).tolist() == []
    assert crowding_distance(np.array([[1.0, 2.0]])).tolist() == [INF]
    assert crowding_distance(np.array([[1.0, 2.0], [2.0, 1.0]])).tolist() == [INF, INF]
    # second objective constant: it adds nothing to the interior point
    cd = crowding_distance(np.array([[0, 5], [1, 5], [2, 5]], dtype=float))
    assert cd.tolist() == [INF, 1.0, INF]
    # duplicates: ties broken by position, interior copies get the neighbours' gap
    cd = crowding_distance(np.array([[1, 1], [1, 1], [1, 1]], dtype=float))
    assert cd.tolist() == [INF, 0.0, INF]
    assert not np.isnan(crowding_distance(np.array([[0, INF], [1, 2], [2, 1], [INF, 0]]))).any()


@pytest.mark.slow
@settings(max_examples=200)
@given(point_sets(values=FINITE_VALUES, dims=(1, 2, 3)))
def test_crowding_distance_matches_reference(data):
    points, m = data
    cd = crowding_distance(as_array(points, m))
    ref = bf_crowding(points)
    assert len(cd) == len(ref)
    for got, want in zip(cd.tolist(), ref, strict=True):
        assert got == pytest.approx(want)


@pytest.mark.slow
@settings(max_examples=200)
@given(point_sets(values=FINITE_VALUES, dims=(2, 3)))
def test_frontwise_crowding_equals_per_front(data):
    points, m = data
    pts = as_array(points, m)
    ranks = np.array(bf_ranks(points), dtype=int)
    got = frontwise_crowding_distance(pts, ranks)
    for r in set(ranks.tolist()):
        idx = np.flatnonzero(ranks == r)
        want = bf_crowding([points[i] for i in idx])
        for g, w in zip(got[idx].tolist(), want, strict=True):
            assert g == pytest.approx(w)


# --------------------------------------------------------------------------- hypervolume


def test_hypervolume_2d_staircase():
    stairs = np.array([[1, 3], [2, 2], [3, 1]], dtype=float)
    # bands y in [3,4): width 3; [2,3): width 2; [1,2): width 1
    assert hypervolume(stairs, [4, 4]) == pytest.approx(6.0)
    assert hypervolume(np.array([[0.0, 0.0]]), [2, 3]) == pytest.approx(6.0)
    assert hypervolume(np.array([[1, 2], [3, 1]], dtype=float), [4, 4]) == pytest.approx(
        3 * 2 + 1 * 1
    )


def test_hypervolume_ignores_points_beyond_reference_and_dominated():
    stairs = np.array([[1, 3], [2, 2], [3, 1]], dtype=float)
    extra = np.array(
        [
            [5, 0],  # beyond the reference in f1
            [0, 5],  # beyond in f2
            [4, 0.5],  # on the reference boundary: no volume
            [INF, -1],
            [3, 3],  # dominated
            [2, 2],  # duplicate
        ],
        dtype=float,
    )
    assert hypervolume(np.vstack([stairs, extra]), [4, 4]) == pytest.approx(6.0)
    assert hypervolume(extra[:4], [4, 4]) == 0.0
    assert hypervolume(np.zeros((0, 2)), [1, 1]) == 0.0


def test_hypervolume_3d_hand_example():
    assert hypervolume(np.array([[0.0, 0.0, 0.0]]), [1, 2, 3]) == pytest.approx(6.0)
    # 2*2*1 + 1*1*2 - overlap 1*1*1
    pts = np.array([[0, 0, 1], [1, 1, 0]], dtype=float)
    assert hypervolume(pts, [2, 2, 2]) == pytest.approx(5.0)


def test_hypervolume_reference_shape_checked():
    with pytest.raises(ValueError):
        hypervolume(np.array([[1.0, 1.0]]), [2.0, 2.0, 2.0])


@settings(max_examples=100)
@given(
    st.sampled_from([2, 3]).flatmap(
        lambda m: st.tuples(
            st.just(m),
            st.lists(st.lists(st.integers(-1, 6), min_size=m, max_size=m), max_size=8),
        )
    )
)
def test_hypervolume_matches_cell_count(data):
    m, points = data
    ref = [5] * m
    got = hypervolume(np.array(points, dtype=float).reshape(len(points), m), ref)
    assert got == pytest.approx(bf_hypervolume_integer(points, ref))


# --------------------------------------------------------------------------- pareto_front


@pytest.mark.slow
@settings(max_examples=200)
@given(point_sets(dims=(1, 2, 3)))
def test_pareto_front_indices(data):
    points, m = data
    pts = as_array(points, m)
    idx = pareto_front(pts)
    assert sorted(idx.tolist()) == [i for i, keep in enumerate(bf_mask(points)) if keep]
    first = pts[idx, 0] if len(idx) else np.zeros(0)
    assert np.all(first[:-1] <= first[1:])


def test_pareto_front_hand_example():
    pts = np.array([[3, 1], [2, 2], [5, 5], [1, 3], [2, 2]], dtype=float)
    assert pareto_front(pts).tolist() == [3, 1, 4, 0]


def test_minus_inf_does_not_crash_moocore():
    """moocore 0.3.2 segfaults on this input; the wrappers must not."""
    pts = np.array([[0.0, -INF, 1.0], [0.0, 0.0, 0.0]])
    assert non_dominated_mask(pts).tolist() == [True, True]
    assert non_dominated_sort(pts).tolist() == [0, 0]
    assert hypervolume(pts, [10, 10, 10]) == INF
    assert hypervolume(np.array([[-INF, 0.0], [5.0, 5.0]]), [10, 10]) == INF
    with pytest.raises(ValueError):
        hypervolume(pts, [INF, 10, 10])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 300), st.sampled_from([4, 5]))
def test_sort_larger_sets_many_objectives(seed, n, m):
    rng = np.random.default_rng(seed)
    pts = rng.integers(0, 4, size=(n, m)).astype(float)
    pts = np.vstack([pts, pts[: n // 3]])  # duplicates
    le = (pts[:, None, :] <= pts[None, :, :]).all(-1)
    lt = (pts[:, None, :] < pts[None, :, :]).any(-1)
    dominated = (le & lt).any(0)
    assert non_dominated_mask(pts).tolist() == (~dominated).tolist()
    ranks = non_dominated_sort(pts)
    # rank r > 0 iff dominated by someone of rank r - 1 and by nobody of rank >= r
    dom = le & lt
    for i in range(len(pts)):
        dominators = ranks[dom[:, i]]
        expected = 0 if dominators.size == 0 else int(dominators.max()) + 1
        assert ranks[i] == expected


# --------------------------------------------------------------------------- Front (incremental)

MIN2 = (Objective("a", "minimize"), Objective("b", "minimize"))


def members_of(points: list[list[float]], names: tuple[str, ...]) -> list[FrontMember]:
    return [FrontMember(i, dict(zip(names, p, strict=True))) for i, p in enumerate(points)]


@settings(deadline=None)
@given(point_sets(values=FINITE_VALUES, dims=(1, 2, 3), max_n=30), st.data())
def test_front_incremental_adds_equal_one_mask_over_everything(data, choices):
    points, m = data
    names = ("a", "b", "c")[:m]
    objectives = [Objective(name, "minimize") for name in names]
    members = members_of(points, names)
    front = Front(objectives)
    cuts = sorted(choices.draw(st.lists(st.integers(0, len(members)), max_size=4)))
    for start, end in zip([0, *cuts], [*cuts, len(members)], strict=True):
        before = {mb.number for mb in front.members()}
        joined, dropped = front.add(members[start:end])
        after = {mb.number for mb in front.members()}
        assert {mb.number for mb in joined} == after - before
        assert {mb.number for mb in dropped} == before - after
    expected = np.flatnonzero(non_dominated_mask(as_array(points, m))).tolist()
    assert [mb.number for mb in front.members()] == expected  # in the order they were added
    assert len(front) == len(expected)
    assert front.points().tolist() == [points[i] for i in expected]


def test_front_keeps_ties_and_twins():
    front = Front(MIN2, members_of([[1.0, 2.0], [2.0, 1.0]], ("a", "b")))
    joined, dropped = front.add([FrontMember(7, {"a": 1.0, "b": 2.0}),  # a twin of 0
                                 FrontMember(8, {"a": 1.5, "b": 1.5})])
    assert [m.number for m in joined] == [7, 8] and dropped == []
    assert [m.number for m in front.members()] == [0, 1, 7, 8]
    joined, dropped = front.add([FrontMember(9, {"a": 1.0, "b": 1.0})])  # dominates them all
    assert [m.number for m in joined] == [9]
    assert [m.number for m in dropped] == [0, 1, 7, 8]
    assert [m.number for m in front.members()] == [9]


def test_front_refuses_missing_and_non_finite_objectives():
    front = Front(MIN2)
    bad = [FrontMember(0, {"a": 0.0}), FrontMember(1, {"a": math.nan, "b": 0.0}),
           FrontMember(2, {"a": -INF, "b": 0.0}), FrontMember(3, {"a": 0.0, "b": INF}),
           FrontMember(4, {"a": 0.0, "b": "nan"}),  # a stored, encoded non-finite value
           FrontMember(5, None)]  # type: ignore[arg-type]  # a failed candidate
    assert front.add(bad) == ([], [])
    assert len(front) == 0 and front.points().shape == (0, 2)
    joined, _ = front.add([*bad, FrontMember(6, {"a": 5.0, "b": 5.0, "extra": math.nan})])
    assert [m.number for m in joined] == [6]  # objectives it does not compare do not matter
    assert front.point({"a": 1.0, "b": math.nan}) is None
    assert front.point({"a": 1, "b": np.float32(2.0)}) == [1.0, 2.0]


def test_front_on_maximized_and_log_scaled_objectives():
    objectives = (Objective("error", "minimize", log_scale=True),
                  Objective("accuracy", "maximize"))
    front = Front(objectives)
    assert front.point({"error": 1e-3, "accuracy": 0.5}) == [-3.0, -0.5]
    front.add([FrontMember(0, {"error": 1e-3, "accuracy": 0.5}),
               FrontMember(1, {"error": 1e-6, "accuracy": 0.4}),
               FrontMember(2, {"error": 1e-2, "accuracy": 0.3}),  # dominated by 0
               FrontMember(3, {"error": 1e-3, "accuracy": 0.9})])  # dominates 0
    assert [m.number for m in front.members()] == [1, 3]
    assert front.points().tolist() == [[-6.0, -0.4], [-3.0, -0.9]]
    assert front.members()[1].objectives == {"error": 1e-3, "accuracy": 0.9}  # as evaluated


def test_front_hypervolume_needs_every_reference():
    assert Front(MIN2, members_of([[1.0, 1.0]], ("a", "b"))).hypervolume() is None
    half = (Objective("a", "minimize", reference=4.0), Objective("b", "minimize"))
    assert Front(half, members_of([[1.0, 1.0]], ("a", "b"))).hypervolume() is None
    objectives = (Objective("a", "minimize", reference=4.0),
                  Objective("b", "maximize", reference=0.0))
    assert Front(objectives).hypervolume() == 0.0
    # b = 3 is -3 on the minimization scale: the box from (1, -3) to (4, 0)
    front = Front(objectives, [FrontMember(0, {"a": 1.0, "b": 3.0}),
                               FrontMember(1, {"a": 2.0, "b": 1.0})])  # dominated
    assert front.hypervolume() == pytest.approx(9.0)
    assert front.hypervolume() == hypervolume(front.points(), [4.0, 0.0])


def test_front_on_directions_alone_is_the_stores_comparison():
    objectives = sign_only([("error", "minimize"), ("accuracy", "maximize")])
    assert objectives == (Objective("error", "minimize"), Objective("accuracy", "maximize"))
    assert Front(objectives).point({"error": 1e-3, "accuracy": 0.5}) == [1e-3, -0.5]


def test_front_restored_from_saved_members_filters_them_at_the_next_add():
    saved = [FrontMember(0, {"a": 1.0, "b": 2.0}, payload="row 10"),
             FrontMember(1, {"a": 2.0, "b": 1.0}, payload="row 11"),
             FrontMember(2, {"a": 1.0}, payload="row 12")]  # could never have joined
    front = Front.restore(MIN2, saved)
    assert [m.payload for m in front.members()] == ["row 10", "row 11"]
    joined, dropped = front.add([FrontMember(3, {"a": 1.0, "b": 1.5})])
    assert [m.number for m in joined] == [3]
    assert [m.payload for m in dropped] == ["row 10"]
    assert [m.number for m in front.members()] == [1, 3]
    assert Front.restore(MIN2, []).points().shape == (0, 2)
