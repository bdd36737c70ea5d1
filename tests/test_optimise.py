"""Tests of simulator.planning.optimise: greedy, ILP and brute-force maximum coverage.

Oracles are independent of the code under test: hand-worked instances (arithmetic in the
comments), a people count with Python sets, a plain (non-lazy) greedy written here from the
textbook definition, and ILP == brute force (two unrelated methods).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.planning.optimise import (
    PlacementResult,
    aggregate_cells,
    brute_force_max_coverage,
    greedy_max_coverage,
    ilp_max_coverage,
)

ONE_MINUS_INV_E = 1.0 - 1.0 / math.e


# ------------------------------------------------------------------------------------------
# Independent oracles
# ------------------------------------------------------------------------------------------


def people_of(dense, weights, chosen, already_covered=None):
    """People newly covered by ``chosen``, counted once per cell, with Python sets."""
    cells = set()
    for i in chosen:
        cells |= {j for j in range(dense.shape[1]) if dense[i, j]}
    if already_covered is not None:
        cells -= {j for j in range(dense.shape[1]) if already_covered[j]}
    return float(sum(weights[j] for j in cells))


def plain_greedy(dense, weights, costs=None, budget=None, max_sites=None):
    """Textbook greedy: recompute every gain each round, take the best (lowest index on ties).

    With a budget: gain/cost among affordable candidates, then compare with the best single
    affordable candidate; if the single wins, fill up from it (documented behaviour).
    """
    n = dense.shape[0]
    # the implementation's budget test: affordable up to a relative 1e-12 (a budget that
    # equals a sum of costs up to rounding admits it)
    limit = None if budget is None else budget * (1 + 1e-12)

    def run(start):
        chosen = list(start)
        spent = sum(costs[i] for i in chosen) if costs is not None else 0.0
        while max_sites is None or len(chosen) < max_sites:
            covered = dense[chosen].any(axis=0) if chosen else np.zeros(dense.shape[1], bool)
            best, best_key = None, 0.0
            for i in range(n):
                if i in chosen:
                    continue
                if budget is not None and spent + costs[i] > limit:
                    continue
                gain = float(weights[dense[i] & ~covered].sum())
                if gain <= 0:
                    continue
                key = gain / costs[i] if budget is not None else gain
                if best is None or key > best_key:
                    best, best_key = i, key
            if best is None:
                break
            chosen.append(best)
            if costs is not None:
                spent += costs[best]
        return chosen

    chosen = run([])
    if budget is not None:
        singles = [float(weights[dense[i]].sum()) if costs[i] <= limit else -1.0
                   for i in range(n)]
        b = int(np.argmax(singles))
        if singles[b] > people_of(dense, weights, chosen):
            chosen = run([b])
    return chosen


@st.composite
def instances(draw, max_cand=8, max_cells=14):
    n_cand = draw(st.integers(1, max_cand))
    n_cells = draw(st.integers(1, max_cells))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    density = draw(st.sampled_from([0.15, 0.3, 0.5]))
    dense = rng.random((n_cand, n_cells)) < density
    weights = rng.integers(0, 20, n_cells).astype(float)  # integers: sums are exact
    costs = rng.integers(1, 10, n_cand).astype(float)
    covered = rng.random(n_cells) < draw(st.sampled_from([0.0, 0.2]))
    return dense, weights, costs, covered


def check_consistent(res: PlacementResult, dense, weights, costs=None, covered=None):
    """The reported numbers agree with the chosen set, recomputed independently."""
    assert len(set(res.chosen.tolist())) == res.chosen.size
    assert res.people_covered == pytest.approx(people_of(dense, weights, res.chosen, covered))
    assert res.cumulative_people.shape == res.chosen.shape
    if res.chosen.size:
        assert res.cumulative_people[-1] == pytest.approx(res.people_covered)
        np.testing.assert_allclose(np.cumsum(res.marginal_people), res.cumulative_people)
        for k in range(res.chosen.size):
            assert res.cumulative_people[k] == pytest.approx(
                people_of(dense, weights, res.chosen[:k + 1], covered))
    if costs is not None:
        assert res.cost_usd == pytest.approx(costs[res.chosen].sum())
        np.testing.assert_allclose(res.cumulative_cost_usd, np.cumsum(costs[res.chosen]))


# ------------------------------------------------------------------------------------------
# Hand-worked cases
# ------------------------------------------------------------------------------------------

# Six cells of 1 person each. S0 = {0,1,2,3}, S1 = {0,1,4}, S2 = {2,3,5}.
# K = 2: greedy takes S0 (4 people), then S1 or S2 adds 1 (cell 4 or 5): 5 people, S1 by
# lowest index. Optimum S1 + S2 = 3 + 3 = 6 people. 5 >= (1 - 1/e) * 6 = 3.79.
HAND = np.array([[1, 1, 1, 1, 0, 0],
                 [1, 1, 0, 0, 1, 0],
                 [0, 0, 1, 1, 0, 1]], dtype=bool)


def test_hand_worked_greedy_vs_optimum():
    w = np.ones(6)
    g = greedy_max_coverage(sp.csr_array(HAND), w, max_sites=2)
    assert g.chosen.tolist() == [0, 1]
    assert g.marginal_people.tolist() == [4.0, 1.0]
    assert g.people_covered == 5.0
    assert g.guarantee == pytest.approx(ONE_MINUS_INV_E)
    assert not g.optimal and math.isnan(g.gap)
    for solver in (ilp_max_coverage, brute_force_max_coverage):
        r = solver(sp.csr_array(HAND), w, max_sites=2)
        assert sorted(r.chosen.tolist()) == [1, 2]
        assert r.people_covered == 6.0
        assert r.optimal and r.gap == pytest.approx(0.0, abs=1e-9)


def test_budget_ratio_greedy_alone_fails_best_single_rescues():
    # Candidate 0: 1 person for 1 USD (ratio 1). Candidate 1: 9 people for 10 USD (ratio 0.9).
    # Budget 10 USD: ratio greedy takes 0, then 1 no longer fits (1 + 10 > 10): 1 person.
    # The best single affordable site is candidate 1 with 9 people, which must win.
    A = np.zeros((2, 10), dtype=bool)
    A[0, 0] = True
    A[1, 1:] = True
    res = greedy_max_coverage(A, np.ones(10), np.array([1.0, 10.0]), budget_usd=10.0)
    assert res.chosen.tolist() == [1]
    assert res.people_covered == 9.0
    assert res.cost_usd == 10.0
    assert res.method == "greedy_ratio+best_single"
    assert res.guarantee == pytest.approx(0.5 * ONE_MINUS_INV_E)


def test_ratio_greedy_skips_unaffordable_and_continues():
    # Costs 6, 5, 5; gains 12, 9, 9 (disjoint cells), budget 10 USD.
    # Ratios 2.0, 1.8, 1.8: take 0 (spent 6); 1 and 2 cost 5 > 4 left: stop with 12 people.
    # Best single: 12 (candidate 0), not better. Optimum: 1 + 2 = 18 people for 10 USD.
    A = np.zeros((3, 30), dtype=bool)
    A[0, :12] = True
    A[1, 12:21] = True
    A[2, 21:30] = True
    costs = np.array([6.0, 5.0, 5.0])
    g = greedy_max_coverage(A, np.ones(30), costs, budget_usd=10.0)
    assert g.chosen.tolist() == [0] and g.people_covered == 12.0
    opt = ilp_max_coverage(A, np.ones(30), costs, budget_usd=10.0)
    assert sorted(opt.chosen.tolist()) == [1, 2] and opt.people_covered == 18.0
    # still within the guarantee: 12 >= 0.316 * 18
    assert g.people_covered >= 0.5 * ONE_MINUS_INV_E * opt.people_covered


def test_already_covered_gives_no_credit():
    # Cell 0 holds 100 people but an existing site covers it. Candidate 0 covers cells 0, 1
    # (100 + 1 people), candidate 1 covers cells 2, 3 (2 + 2 people).
    # New people: candidate 0 -> 1, candidate 1 -> 4, so one site must be candidate 1.
    A = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool)
    w = np.array([100.0, 1.0, 2.0, 2.0])
    covered = np.array([True, False, False, False])
    for solver in (greedy_max_coverage, ilp_max_coverage, brute_force_max_coverage):
        r = solver(A, w, max_sites=1, already_covered=covered)
        assert r.chosen.tolist() == [1], solver.__name__
        assert r.people_covered == 4.0
    r = greedy_max_coverage(A, w, max_sites=2, already_covered=covered)
    assert r.people_covered == 5.0  # 4 + 1, never the 100 already covered
    assert r.marginal_people.tolist() == [4.0, 1.0]


def test_cell_covered_twice_counts_once():
    # Both candidates cover cell 1 (10 people); candidate 0 also cell 0 (3), candidate 1 also
    # cell 2 (5). Both chosen: 3 + 10 + 5 = 18, not 3 + 10 + 10 + 5 = 28.
    A = np.array([[1, 1, 0], [0, 1, 1]], dtype=bool)
    w = np.array([3.0, 10.0, 5.0])
    for solver in (greedy_max_coverage, ilp_max_coverage, brute_force_max_coverage):
        r = solver(A, w, max_sites=2)
        assert sorted(r.chosen.tolist()) == [0, 1]
        assert r.people_covered == 18.0, solver.__name__
    g = greedy_max_coverage(A, w, max_sites=2)
    # greedy: candidate 1 first (15 > 13), then candidate 0 adds only cell 0: 3
    assert g.chosen.tolist() == [1, 0] and g.marginal_people.tolist() == [15.0, 3.0]


def test_no_budget_covers_everything_coverable():
    # No limit: greedy runs until nobody is left: all 6 people of HAND.
    r = greedy_max_coverage(HAND, np.ones(6))
    assert r.people_covered == 6.0
    assert "no candidate adds people" in r.status


def test_min_people_per_site_stops_the_curve():
    # Marginal gains on HAND: 4 then 1 then 1; with min 2 only the first site is kept.
    r = greedy_max_coverage(HAND, np.ones(6), min_people_per_site=2.0)
    assert r.chosen.tolist() == [0]
    assert r.guarantee == 0.0
    # threshold above every site: nothing chosen, empty arrays
    r = greedy_max_coverage(HAND, np.ones(6), np.ones(3), budget_usd=3.0,
                            min_people_per_site=5.0)
    assert r.chosen.size == 0 and r.people_covered == 0.0 and r.cost_usd == 0.0


def test_costs_none_gives_nan_costs():
    r = greedy_max_coverage(HAND, np.ones(6), max_sites=2)
    assert math.isnan(r.cost_usd) and np.all(np.isnan(r.cumulative_cost_usd))


# ------------------------------------------------------------------------------------------
# Random instances: properties
# ------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(inst=instances(), k=st.integers(1, 4))
def test_cardinality_ilp_equals_brute_force_and_bounds_greedy(inst, k):
    dense, w, costs, covered = inst
    A = sp.csr_array(dense)
    bf = brute_force_max_coverage(A, w, max_sites=k, already_covered=covered)
    ilp = ilp_max_coverage(A, w, max_sites=k, already_covered=covered)
    g = greedy_max_coverage(A, w, max_sites=k, already_covered=covered)
    for r in (bf, ilp, g):
        check_consistent(r, dense, w, None, covered)
        assert r.n_sites <= k
    assert ilp.optimal and not ilp.time_limit_reached
    assert ilp.people_covered == pytest.approx(bf.people_covered)
    assert ilp.objective_bound >= ilp.people_covered - 1e-6
    assert ilp.people_covered >= g.people_covered - 1e-9
    assert g.people_covered >= ONE_MINUS_INV_E * ilp.people_covered - 1e-9


@settings(max_examples=60, deadline=None)
@given(inst=instances(), budget_frac=st.floats(0.0, 1.0))
def test_budget_ilp_equals_brute_force_and_greedy_feasible(inst, budget_frac):
    dense, w, costs, covered = inst
    budget = costs.min() + budget_frac * (costs.sum() - costs.min())
    A = sp.csr_array(dense)
    bf = brute_force_max_coverage(A, w, costs, budget_usd=budget, already_covered=covered)
    ilp = ilp_max_coverage(A, w, costs, budget_usd=budget, already_covered=covered)
    g = greedy_max_coverage(A, w, costs, budget_usd=budget, already_covered=covered)
    for r in (bf, ilp, g):
        check_consistent(r, dense, w, costs, covered)
        assert r.cost_usd <= budget * (1 + 1e-9)  # budget respected
    assert ilp.people_covered == pytest.approx(bf.people_covered)
    assert ilp.people_covered >= g.people_covered - 1e-9
    assert g.people_covered >= 0.5 * ONE_MINUS_INV_E * ilp.people_covered - 1e-9


@settings(max_examples=40, deadline=None)
@given(inst=instances(), k=st.integers(1, 5), budget_frac=st.floats(0.0, 1.0))
def test_both_budgets_respected(inst, k, budget_frac):
    dense, w, costs, covered = inst
    budget = costs.min() + budget_frac * (costs.sum() - costs.min())
    res = [f(dense, w, costs, budget_usd=budget, max_sites=k, already_covered=covered)
           for f in (greedy_max_coverage, ilp_max_coverage, brute_force_max_coverage)]
    for r in res:
        assert r.n_sites <= k and r.cost_usd <= budget * (1 + 1e-9)
    assert res[1].people_covered == pytest.approx(res[2].people_covered)
    assert res[1].people_covered >= res[0].people_covered - 1e-9


@settings(max_examples=80, deadline=None)
@given(inst=instances(max_cand=12, max_cells=25), k=st.integers(1, 12))
def test_lazy_greedy_equals_plain_greedy_and_gains_non_increasing(inst, k):
    dense, w, _, covered = inst
    w_eff = np.where(covered, 0.0, w)
    g = greedy_max_coverage(sp.csr_array(dense), w, max_sites=k, already_covered=covered)
    assert g.chosen.tolist() == plain_greedy(dense, w_eff, max_sites=k)
    assert np.all(np.diff(g.marginal_people) <= 1e-12)
    assert np.all(g.marginal_people > 0)


@settings(max_examples=80, deadline=None)
@given(inst=instances(max_cand=12, max_cells=25), budget_frac=st.floats(0.0, 1.0))
def test_lazy_ratio_greedy_equals_plain_ratio_greedy(inst, budget_frac):
    dense, w, costs, covered = inst
    budget = costs.min() + budget_frac * (costs.sum() - costs.min())
    w_eff = np.where(covered, 0.0, w)
    g = greedy_max_coverage(dense, w, costs, budget_usd=budget, already_covered=covered)
    assert g.chosen.tolist() == plain_greedy(dense, w_eff, costs, budget=budget)


def test_lazy_greedy_equals_plain_on_larger_seeded_instance():
    rng = np.random.default_rng(7)
    dense = rng.random((60, 400)) < 0.05
    w = rng.integers(0, 50, 400).astype(float)
    g = greedy_max_coverage(sp.csr_array(dense), w, max_sites=25)
    assert g.chosen.tolist() == plain_greedy(dense, w, max_sites=25)


# ------------------------------------------------------------------------------------------
# Inputs, aggregation
# ------------------------------------------------------------------------------------------


def test_input_formats_agree():
    # dense bool, dense 0/1 int, csr_matrix, csc_array, COO with a duplicate entry
    rows, cols = np.nonzero(HAND)
    coo = sp.coo_array((np.ones(rows.size + 1), (np.r_[rows, 0], np.r_[cols, 0])),
                       shape=HAND.shape)  # entry (0, 0) twice -> summed to 2
    w = np.ones(6)
    for A in (HAND, HAND.astype(int), sp.csr_matrix(HAND), sp.csc_array(HAND)):
        assert greedy_max_coverage(A, w, max_sites=2).chosen.tolist() == [0, 1]
    with pytest.raises(ValueError, match="A must be boolean"):
        greedy_max_coverage(coo, w, max_sites=2)
    coo_bool = sp.coo_array((np.ones(rows.size + 1, bool), (np.r_[rows, 0], np.r_[cols, 0])),
                            shape=HAND.shape)
    assert ilp_max_coverage(coo_bool, w, max_sites=2).people_covered == 6.0


def test_input_matrix_not_modified():
    A = sp.csr_array(np.array([[1, 0, 2]], dtype=float) > 0)
    before = A.toarray().copy()
    greedy_max_coverage(A, np.ones(3), max_sites=1)
    ilp_max_coverage(A, np.ones(3), max_sites=1)
    np.testing.assert_array_equal(A.toarray(), before)


def test_aggregate_cells_merges_identical_columns():
    # Columns: c0 {0}, c1 {0,1}, c2 {0}, c3 {} (no candidate), c4 {0,1}, c5 {1} weight 0.
    A = sp.csr_array(np.array([[1, 1, 1, 0, 1, 0],
                               [0, 1, 0, 0, 1, 1]], dtype=bool))
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 0.0])
    B, gw, group = aggregate_cells(A, w)
    # groups: {0} with 1 + 3 = 4 people, {0,1} with 2 + 5 = 7; c3 and c5 dropped
    assert B.shape == (2, 2)
    assert group[3] == -1 and group[5] == -1
    assert group[0] == group[2] and group[1] == group[4] and group[0] != group[1]
    assert gw[group[0]] == 4.0 and gw[group[1]] == 7.0
    np.testing.assert_array_equal(B.toarray()[:, group[0]], [True, False])
    np.testing.assert_array_equal(B.toarray()[:, group[1]], [True, True])


def test_ilp_reduction_reported_and_duplicate_candidates():
    # Candidates 0 and 2 cover the same cells; 2 is cheaper, so 0 is dropped before solving.
    A = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0]], dtype=bool)
    w = np.array([5.0, 5.0, 1.0, 1.0])
    r = ilp_max_coverage(A, w, np.array([3.0, 1.0, 2.0]), max_sites=1)
    assert r.chosen.tolist() == [2] and r.people_covered == 10.0
    assert r.extra["n_candidates_reduced"] == 2
    assert r.extra["n_cell_groups"] == 2
    assert "HiGHS" in r.status and r.optimal and not r.time_limit_reached


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weights": -np.ones(6)}, r"weights\[0\]=-1.0 is negative"),
        ({"weights": np.ones(5)}, r"weights has shape \(5,\), expected \(6,\)"),
        ({"weights": np.r_[np.ones(5), np.nan]}, r"weights\[5\]=nan is not finite"),
        ({"costs": np.ones(2), "budget_usd": 1.0}, r"costs has shape \(2,\), expected \(3,\)"),
        ({"costs": np.array([1.0, 0.0, 1.0]), "max_sites": 1}, r"costs\[1\]=0.0"),
        ({"costs": np.array([5.0, 4.0, 6.0]), "budget_usd": 3.0},
         r"budget_usd=3.0 is below the cheapest candidate cost 4.0"),
        ({"budget_usd": 3.0}, "budget_usd is given but costs is None"),
        ({"max_sites": 0}, r"max_sites=0 is invalid"),
        ({"max_sites": 1.5}, r"max_sites=1.5 must be an integer"),
        ({"max_sites": 1, "already_covered": np.zeros(6)}, "already_covered must be a boolean"),
        ({"max_sites": 1, "already_covered": np.zeros(4, bool)},
         r"already_covered has shape \(4,\)"),
    ],
)
def test_validation_errors(kwargs, match):
    args = {"weights": np.ones(6), **kwargs}
    for solver in (greedy_max_coverage, ilp_max_coverage, brute_force_max_coverage):
        with pytest.raises(ValueError, match=match):
            solver(HAND, **args) if "max_sites" in args or "budget_usd" in args else \
                solver(HAND, **args, max_sites=1)


def test_validation_no_candidates_and_options():
    with pytest.raises(ValueError, match="no candidates"):
        greedy_max_coverage(sp.csr_array((0, 5), dtype=bool), np.ones(5))
    with pytest.raises(ValueError, match="needs budget_usd or max_sites"):
        ilp_max_coverage(HAND, np.ones(6))
    with pytest.raises(ValueError, match="time_limit_s=0"):
        ilp_max_coverage(HAND, np.ones(6), max_sites=1, time_limit_s=0)
    with pytest.raises(ValueError, match="mip_rel_gap=1.5"):
        ilp_max_coverage(HAND, np.ones(6), max_sites=1, mip_rel_gap=1.5)
    with pytest.raises(ValueError, match="min_people_per_site=-1"):
        greedy_max_coverage(HAND, np.ones(6), min_people_per_site=-1)
    with pytest.raises(ValueError, match="at most 20"):
        brute_force_max_coverage(np.ones((21, 3), bool), np.ones(3), max_sites=1)


def test_ilp_time_limit_falls_back_to_greedy_when_better(monkeypatch):
    # A fake HiGHS stopped by its time limit with a poor incumbent (only candidate 2 on HAND,
    # 3 people) and a dual bound of 6.5 people. Greedy with K=2 covers 5 (see above), so the
    # greedy selection [0, 1] is returned with gap (6.5 - 5) / 5 = 0.3.
    import scipy.optimize

    import simulator.planning.optimise as opt

    def fake_milp(c, *, integrality, bounds, constraints, options):
        x = np.zeros(c.size)
        x[2] = 1.0  # x variables come first; all 3 candidates survive the reduction
        return scipy.optimize.OptimizeResult(
            status=1, message="Time limit reached.", x=x, fun=-3.0, mip_gap=(6.5 - 3) / 3,
            mip_dual_bound=-6.5, mip_node_count=7)

    monkeypatch.setattr(opt, "milp", fake_milp)
    r = opt.ilp_max_coverage(HAND, np.ones(6), max_sites=2)
    assert r.time_limit_reached and not r.optimal
    assert r.method == "ilp+greedy_incumbent"
    assert r.chosen.tolist() == [0, 1] and r.people_covered == 5.0
    assert r.objective_bound == 6.5 and r.gap == pytest.approx(0.3)
    r = opt.ilp_max_coverage(HAND, np.ones(6), max_sites=2, greedy_fallback=False)
    assert r.method == "ilp" and r.chosen.tolist() == [2] and r.people_covered == 3.0
    assert r.gap == pytest.approx(3.5 / 3)
