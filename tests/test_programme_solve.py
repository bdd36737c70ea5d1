"""Tests of simulator.programme.solve: least-cost technology mix (ILP and greedy), cost curve.

Oracles are independent of the code under test: a hand-worked toy (arithmetic in the
comments) and a brute force over every subset written here (people counted with Python sets,
groups checked explicitly).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from simulator.programme.solve import MixResult, cost_curve, least_cost_mix, reachable_people

# ------------------------------------------------------------------------------------------
# Independent oracles
# ------------------------------------------------------------------------------------------


def people_of(dense, weights, chosen, already_covered=None):
    """People newly covered by ``chosen``, each cell once, with Python sets."""
    cells = set()
    for i in chosen:
        cells |= {j for j in range(dense.shape[1]) if dense[i, j]}
    if already_covered is not None:
        cells -= {j for j in range(dense.shape[1]) if already_covered[j]}
    return float(sum(weights[j] for j in cells))


def respects_groups(chosen, groups):
    if groups is None:
        return True
    g = [groups[i] for i in chosen]
    return len(g) == len(set(g))


def subsets(n, groups):
    for k in range(n + 1):
        for s in itertools.combinations(range(n), k):
            if respects_groups(s, groups):
                yield s


def brute_target(dense, w, c, groups, target, already=None):
    """Least cost of a subset with already + new people >= target (None if none)."""
    base = 0.0 if already is None else float(w[already].sum())
    best = None
    for s in subsets(dense.shape[0], groups):
        if base + people_of(dense, w, s, already) >= target - 1e-9:
            cost = float(sum(c[i] for i in s))
            if best is None or cost < best:
                best = cost
    return best


def brute_budget(dense, w, c, groups, budget, already=None):
    best = 0.0
    for s in subsets(dense.shape[0], groups):
        if sum(c[i] for i in s) <= budget + 1e-9:
            best = max(best, people_of(dense, w, s, already))
    return best


def brute_max(dense, w, groups, already=None):
    return max(people_of(dense, w, s, already) for s in subsets(dense.shape[0], groups))


# ------------------------------------------------------------------------------------------
# Toy: three villages, a pole and a macro at each
# ------------------------------------------------------------------------------------------

# One cell per village: V1 100 people, V2 200, V3 300 (600 in all).
# Location k has a pole covering its village and a macro covering it and the next village.
TOY_DENSE = np.array([
    [1, 0, 0],  # 0 pole  @V1, 10
    [1, 1, 0],  # 1 macro @V1 (V1+V2), 25
    [0, 1, 0],  # 2 pole  @V2, 20
    [0, 1, 1],  # 3 macro @V2 (V2+V3), 40
    [0, 0, 1],  # 4 pole  @V3, 30
    [1, 0, 1],  # 5 macro @V3 (V3+V1), 35
], dtype=bool)
TOY_W = np.array([100.0, 200.0, 300.0])
TOY_C = np.array([10.0, 25.0, 20.0, 40.0, 30.0, 35.0])
TOY_G = np.array([0, 0, 1, 1, 2, 2])
TOY_TECH = np.array(["pole", "macro"] * 3)


def toy(**kw):
    return least_cost_mix(sp.csr_array(TOY_DENSE), TOY_W, TOY_C, TOY_G, mip_rel_gap=0.0, **kw)


def test_toy_target_500_by_hand():
    # 500 people: V2 and V3 needed. macro@V2 alone 40; poles V2+V3 50; macro@V1 + pole V3 55;
    # macro@V3 + pole V2 55. Optimum {3} at 40 USD.
    r = toy(target_people=500)
    assert isinstance(r, MixResult)
    assert r.method == "ilp" and r.optimal and r.fallback == ""
    assert r.chosen.tolist() == [3]
    assert r.cost_usd == 40.0 and r.people == 500.0
    assert r.reachable_people == 600.0


def test_toy_target_600_by_hand():
    # Everyone: pole V1 + macro V2 = 50 (poles 60; macro V1 + pole V3 55; macro V3 + pole V2
    # 55; macro V1 + macro V2 65). Optimum {0, 3} at 50 USD.
    r = toy(target_people=600)
    assert r.chosen.tolist() == [0, 3] and r.cost_usd == 50.0 and r.people == 600.0
    assert r.optimal


def test_toy_budget_by_hand():
    # 45 USD: macro V2 (40) covers 500; no pair within 45 covers V2 and V3 (50, 55, 55).
    r = toy(budget_usd=45)
    assert r.chosen.tolist() == [3] and r.people == 500.0 and r.optimal
    # 50 USD: pole V1 + macro V2 = 50 covers all 600.
    r = toy(budget_usd=50)
    assert r.chosen.tolist() == [0, 3] and r.people == 600.0


def test_toy_greedy_reports_and_ilp_not_worse():
    for kw in ({"target_people": 500}, {"target_people": 600}):
        r = toy(**kw)
        g = toy(method="greedy", **kw)
        assert g.method == "greedy" and not g.optimal
        assert g.cost_usd == r.greedy_cost_usd and g.people == r.greedy_people
        assert r.cost_usd <= g.cost_usd
        assert g.people_total >= kw["target_people"]


def test_toy_already_covered_not_credited():
    # V3 already covered: 600 needs V1 and V2 -> macro V1 (25) alone; new people 300 only.
    already = np.array([False, False, True])
    r = toy(target_people=600, already_covered=already)
    assert r.chosen.tolist() == [1] and r.cost_usd == 25.0
    assert r.people == 300.0 and r.already_people == 300.0 and r.people_total == 600.0
    # target below the existing coverage: nothing to build
    r = toy(target_people=250, already_covered=already)
    assert r.chosen.size == 0 and r.cost_usd == 0.0 and r.people == 0.0
    # budget: macro V2 for 40 covers V2 and V3 but only V2's 200 are new; pole V1 + pole V2
    # (30) gives 300 new; macro V1 (25) gives 300 new at lower cost.
    r = toy(budget_usd=40, already_covered=already)
    assert r.people == 300.0


def test_target_above_reachable_raises_with_maximum():
    with pytest.raises(ValueError, match=r"reachable maximum 600"):
        toy(target_people=601)
    with pytest.raises(ValueError, match=r"reachable maximum 600"):
        toy(target_people=601, method="greedy")


def test_non_nested_groups_unreachable_target_raises_exact_maximum():
    # One location, two options covering different villages: at most one can be built,
    # so the reachable maximum is max(100, 200) = 200, not the union 300.
    dense = np.array([[1, 0], [0, 1]], dtype=bool)
    w = np.array([100.0, 200.0])
    for method in ("ilp", "greedy"):
        with pytest.raises(ValueError, match=r"reachable maximum 200"):
            least_cost_mix(sp.csr_array(dense), w, [1.0, 1.0], [7, 7], target_people=250,
                           method=method)
    assert reachable_people(sp.csr_array(dense), w, [7, 7]) == (200.0, True)
    assert reachable_people(sp.csr_array(dense), w) == (300.0, True)


@pytest.mark.parametrize("kw, match", [
    ({"costs": [-1.0, 1, 1, 1, 1, 1], "target_people": 100}, "costs"),
    ({"costs": [np.inf, 1, 1, 1, 1, 1], "target_people": 100}, "costs"),
    ({"weights": [-1.0, 1, 1], "target_people": 1}, "weights"),
    ({"budget_usd": -5.0}, "budget_usd"),
    ({"target_people": -5.0}, "target_people"),
    ({}, "exactly one"),
    ({"target_people": 1, "budget_usd": 1}, "exactly one"),
    ({"target_people": 1, "method": "lp"}, "method"),
    ({"target_people": 1, "time_limit_s": 0}, "time_limit_s"),
    ({"target_people": 1, "mip_rel_gap": 1.0}, "mip_rel_gap"),
    ({"target_people": 1, "groups": [0.5] * 6}, "groups"),
    ({"target_people": 1, "already_covered": [0, 1, 0]}, "already_covered"),
])
def test_bad_input_names_the_parameter(kw, match):
    args = {"weights": TOY_W, "costs": TOY_C, "groups": TOY_G}
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    with pytest.raises(ValueError, match=match):
        least_cost_mix(sp.csr_array(TOY_DENSE), args["weights"], args["costs"],
                       args["groups"], **kw)


def test_zero_costs_allowed():
    c = np.array([0.0, 25.0, 0.0, 40.0, 30.0, 35.0])
    r = least_cost_mix(sp.csr_array(TOY_DENSE), TOY_W, c, TOY_G, target_people=600,
                       mip_rel_gap=0.0)
    assert r.cost_usd == brute_target(TOY_DENSE, TOY_W, c, TOY_G, 600) == 30.0


# ------------------------------------------------------------------------------------------
# Random small instances against brute force
# ------------------------------------------------------------------------------------------


def random_instance(seed, n_opt=None, n_cells=None):
    rng = np.random.default_rng(seed)
    n_opt = n_opt or int(rng.integers(2, 13))
    n_cells = n_cells or int(rng.integers(3, 16))
    dense = rng.random((n_opt, n_cells)) < rng.uniform(0.15, 0.5)
    w = rng.integers(0, 50, n_cells).astype(float)
    c = np.round(rng.uniform(0, 100, n_opt))
    c[rng.random(n_opt) < 0.1] = 0.0
    groups = rng.integers(0, max(1, n_opt // 2), n_opt) if rng.random() < 0.7 else None
    already = rng.random(n_cells) < 0.2 if rng.random() < 0.5 else None
    if rng.random() < 0.3:  # a hotspot duplicating a cell site's village
        dense[-1] = dense[0]
    return rng, dense, w, c, groups, already


@pytest.mark.parametrize("seed", range(60))
def test_random_target_ilp_equals_brute_force(seed):
    rng, dense, w, c, groups, already = random_instance(seed)
    base = 0.0 if already is None else float(w[already].sum())
    best_people = base + brute_max(dense, w, groups, already)
    target = float(np.floor(rng.uniform(0.3, 1.0) * best_people))
    opt = brute_target(dense, w, c, groups, target, already)
    A = sp.csr_array(dense)
    r = least_cost_mix(A, w, c, groups, target_people=target, already_covered=already,
                       mip_rel_gap=0.0)
    g = least_cost_mix(A, w, c, groups, target_people=target, already_covered=already,
                       method="greedy")
    for res in (r, g):
        assert respects_groups(res.chosen.tolist(), groups)
        assert res.people == people_of(dense, w, res.chosen, already)
        assert res.people_total >= target - 1e-9
        assert res.cost_usd == pytest.approx(float(c[res.chosen].sum()))
    assert r.cost_usd == pytest.approx(opt, abs=1e-9)
    assert r.optimal
    assert g.cost_usd >= opt - 1e-9
    assert r.greedy_cost_usd == pytest.approx(g.cost_usd)


@pytest.mark.parametrize("seed", range(60))
def test_random_budget_ilp_equals_brute_force(seed):
    rng, dense, w, c, groups, already = random_instance(seed + 1000)
    budget = float(np.round(rng.uniform(0, 1) * c.sum()))
    opt = brute_budget(dense, w, c, groups, budget, already)
    A = sp.csr_array(dense)
    r = least_cost_mix(A, w, c, groups, budget_usd=budget, already_covered=already,
                       mip_rel_gap=0.0)
    g = least_cost_mix(A, w, c, groups, budget_usd=budget, already_covered=already,
                       method="greedy")
    for res in (r, g):
        assert respects_groups(res.chosen.tolist(), groups)
        assert res.cost_usd <= budget + 1e-9
        assert res.people == people_of(dense, w, res.chosen, already)
    assert r.people == pytest.approx(opt, abs=1e-9)
    assert g.people <= opt + 1e-9


@pytest.mark.parametrize("seed", range(30))
def test_random_unreachable_target_raises(seed):
    _, dense, w, c, groups, already = random_instance(seed + 2000)
    base = 0.0 if already is None else float(w[already].sum())
    best = base + brute_max(dense, w, groups, already)
    with pytest.raises(ValueError, match="reachable maximum"):
        least_cost_mix(sp.csr_array(dense), w, c, groups, target_people=best + 0.5,
                       already_covered=already)
    assert reachable_people(sp.csr_array(dense), w, groups,
                            already_covered=already)[0] == pytest.approx(best)


def test_hotspot_and_cell_site_on_one_village_counted_once():
    # A cell site covering villages 0 and 1, and a hotspot on village 0 (other location):
    # building both covers 100 + 50, not 100 + 100 + 50.
    dense = np.array([[1, 1], [1, 0]], dtype=bool)
    w = np.array([100.0, 50.0])
    r = least_cost_mix(sp.csr_array(dense), w, [5.0, 1.0], budget_usd=10)
    assert r.people == 150.0 and r.people_total == 150.0


@pytest.mark.parametrize("seed", range(20))
def test_mix_never_costs_more_than_a_single_technology(seed):
    rng, dense, w, c, groups, already = random_instance(seed + 3000, n_opt=12)
    tech = rng.choice(["pole", "macro", "hotspot"], dense.shape[0])
    A = sp.csr_array(dense)
    for t in np.unique(tech):
        rows = np.flatnonzero(tech == t)
        g_t = None if groups is None else groups[rows]
        base = 0.0 if already is None else float(w[already].sum())
        reach_t = base + brute_max(dense[rows], w, g_t, already)
        target = np.floor(0.8 * reach_t)
        single = least_cost_mix(A[rows], w, c[rows], g_t, target_people=target,
                                already_covered=already, mip_rel_gap=0.0)
        mix = least_cost_mix(A, w, c, groups, target_people=target, already_covered=already,
                             mip_rel_gap=0.0)
        assert mix.cost_usd <= single.cost_usd + 1e-9
        assert single.cost_usd == pytest.approx(
            brute_target(dense[rows], w, c[rows], g_t, target, already))


# ------------------------------------------------------------------------------------------
# Time limit, larger instances
# ------------------------------------------------------------------------------------------


def disc_instance(seed, n_loc=150, n_side=60):
    """Villages on a grid of cells; per location a pole (radius 2) and a macro (radius 5)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n_side, 0:n_side]
    w = rng.poisson(0.3, n_side * n_side).astype(float)
    for cx, cy in rng.uniform(0, n_side, (40, 2)):
        w += np.round(rng.uniform(5, 60) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 4.0)
                      ).reshape(-1)
    loc = rng.uniform(0, n_side, (n_loc, 2))
    rows, costs, groups, tech = [], [], [], []
    for k, (x, y) in enumerate(loc):
        d2 = ((xx - x) ** 2 + (yy - y) ** 2).reshape(-1)
        for r, cost, t in ((2.0, 10.0, "pole"), (5.0, 45.0, "macro")):
            rows.append(d2 <= r * r)
            costs.append(cost * rng.uniform(0.8, 1.2))
            groups.append(k)
            tech.append(t)
    return (sp.csr_array(np.array(rows)), w, np.array(costs), np.array(groups),
            np.array(tech))


def test_tiny_time_limit_still_feasible_and_honest():
    A, w, c, g, _ = disc_instance(1)
    reach = reachable_people(A, w, g)[0]
    target = 0.95 * reach
    r = least_cost_mix(A, w, c, g, target_people=target, time_limit_s=1e-3)
    dense = A.toarray()
    assert r.people == pytest.approx(float(w[dense[r.chosen].any(axis=0)].sum()))
    assert r.people_total >= target * (1 - 1e-9)
    assert respects_groups(r.chosen.tolist(), g)
    assert r.cost_usd <= r.greedy_cost_usd + 1e-9
    if r.method == "greedy":
        assert not r.optimal and r.fallback != ""
    if r.optimal:
        assert r.method == "ilp" and r.mip_gap <= 1e-4 + 1e-12
    rb = least_cost_mix(A, w, c, g, budget_usd=300.0, time_limit_s=1e-3)
    assert rb.cost_usd <= 300.0 and rb.people >= rb.greedy_people - 1e-9
    assert rb.optimal == (rb.method == "ilp" and rb.mip_gap <= 1e-4 + 1e-12) or not rb.optimal


def test_ilp_not_worse_than_greedy_and_bound_consistent():
    A, w, c, g, _ = disc_instance(2)
    reach = reachable_people(A, w, g)[0]
    r = least_cost_mix(A, w, c, g, target_people=0.9 * reach, time_limit_s=30)
    assert r.cost_usd <= r.greedy_cost_usd + 1e-9
    assert r.objective_bound <= r.cost_usd * (1 + 1e-9)  # a lower bound on the cost
    if r.optimal:
        assert (r.cost_usd - r.objective_bound) <= 1e-4 * r.cost_usd + 1e-6


# ------------------------------------------------------------------------------------------
# Cost curve
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["greedy", "ilp"])
def test_cost_curve_monotone_and_mix_beats_single_technologies(method):
    A, w, c, g, tech = disc_instance(3, n_loc=60, n_side=40)
    rows = cost_curve(A, w, c, g, technology=tech, method=method, time_limit_s=20,
                      mip_rel_gap=0.0)
    plans = {}
    for row in rows:
        plans.setdefault(row["plan"], []).append(row)
    assert list(plans) == ["mix", "pole", "macro"]
    dense = A.toarray()
    for name, curve in plans.items():
        shares = [row["share"] for row in curve]
        assert shares == sorted(shares) and len(shares) == 10
        costs = [row["cost_usd"] for row in curve if row["feasible"]]
        assert all(b >= a for a, b in itertools.pairwise(costs))
        for row in curve:
            if not row["feasible"]:
                continue
            ch = row["chosen"]
            assert row["people_total"] >= row["target_people"] * (1 - 1e-9)
            assert row["people"] == pytest.approx(float(w[dense[ch].any(axis=0)].sum()))
            assert row["cost_usd"] == pytest.approx(float(c[ch].sum()))
            if name != "mix":
                assert set(tech[ch]) <= {name}
            bt = row["by_technology"]
            assert sum(v["n_options"] for v in bt.values()) == row["n_options"]
            assert sum(v["cost_usd"] for v in bt.values()) == pytest.approx(row["cost_usd"])
    assert all(row["feasible"] for row in plans["mix"])
    if method == "ilp":  # proven optima (gap 0): the mix is never dearer
        for k, row in enumerate(plans["mix"]):
            for name in ("pole", "macro"):
                other = plans[name][k]
                if other["feasible"] and other["optimal"] and row["optimal"]:
                    assert row["cost_usd"] <= other["cost_usd"] + 1e-6


def test_cost_curve_bad_input():
    with pytest.raises(ValueError, match="shares"):
        cost_curve(sp.csr_array(TOY_DENSE), TOY_W, TOY_C, TOY_G, technology=TOY_TECH,
                   shares=[0.0, 0.5])
    with pytest.raises(ValueError, match="technology"):
        cost_curve(sp.csr_array(TOY_DENSE), TOY_W, TOY_C, TOY_G, technology=TOY_TECH[:3])


def test_cost_curve_toy_by_hand():
    # reachable 600; shares 500/600 and 1.0: mix 40 and 50 (as above); poles only: 500 needs
    # V2 + V3 poles = 50, 600 all poles = 60; macros only: 500 -> macro V2 = 40, 600 -> two
    # macros: V1+V2 & V3 = 25+35 = 60, V1 & V2 = 65, V2 & V3 = 75 -> 60.
    rows = cost_curve(sp.csr_array(TOY_DENSE), TOY_W, TOY_C, TOY_G, technology=TOY_TECH,
                      shares=[500 / 600, 1.0], method="ilp", mip_rel_gap=0.0)
    got = {(r["plan"], round(r["share"], 4)): r["cost_usd"] for r in rows}
    assert got == {("mix", 0.8333): 40.0, ("mix", 1.0): 50.0, ("pole", 0.8333): 50.0,
                   ("pole", 1.0): 60.0, ("macro", 0.8333): 40.0, ("macro", 1.0): 60.0}


# ------------------------------------------------------------------------------------------
# Large-model path (core problem + Lagrangian bound), forced on small instances
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_core_path_feasible_with_valid_bounds(seed, monkeypatch):
    from simulator.programme import solve

    monkeypatch.setattr(solve, "_FULL_MODEL_MAX_NNZ", -1)
    monkeypatch.setattr(solve, "_CORE_OPTIONS", 3)
    _, dense, w, c, groups, already = random_instance(seed + 4000, n_opt=12)
    base = 0.0 if already is None else float(w[already].sum())
    target = float(np.floor(0.8 * (base + brute_max(dense, w, groups, already))))
    opt = brute_target(dense, w, c, groups, target, already)
    A = sp.csr_array(dense)
    r = least_cost_mix(A, w, c, groups, target_people=target, already_covered=already,
                       mip_rel_gap=0.0)
    assert r.people_total >= target - 1e-9 and respects_groups(r.chosen.tolist(), groups)
    assert r.cost_usd <= r.greedy_cost_usd + 1e-9
    if target > base:
        assert r.extra["ilp_scope"] == "core"
        assert r.objective_bound <= opt + 1e-6  # a valid lower bound of the whole problem
    assert r.cost_usd >= opt - 1e-9
    if r.optimal:
        assert r.cost_usd == pytest.approx(opt, abs=1e-6)
    budget = float(np.round(0.4 * c.sum()))
    best = brute_budget(dense, w, c, groups, budget, already)
    rb = least_cost_mix(A, w, c, groups, budget_usd=budget, already_covered=already,
                        mip_rel_gap=0.0)
    assert rb.cost_usd <= budget + 1e-9 and respects_groups(rb.chosen.tolist(), groups)
    assert rb.people <= best + 1e-9 and rb.people >= rb.greedy_people - 1e-9
    if rb.extra.get("ilp_scope") == "core":
        assert rb.objective_bound >= best - 1e-6  # a valid upper bound
    if rb.optimal:
        assert rb.people == pytest.approx(best, abs=1e-6)


# ------------------------------------------------------------------------------------------
# Local search after the greedy (drop and refill)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(80))
def test_local_search_never_worse_than_plain_greedy_nor_below_brute_force(seed):
    from simulator.programme import solve as S

    rng, dense, w, c, groups, already = random_instance(1000 + seed)
    base = 0.0 if already is None else float(w[already].sum())
    target = float(np.floor(rng.uniform(0.3, 1.0) * (base + brute_max(dense, w, groups,
                                                                       already))))
    opt = brute_target(dense, w, c, groups, target, already)
    A = sp.csr_array(dense)
    g = least_cost_mix(A, w, c, groups, target_people=target, already_covered=already,
                       method="greedy")
    assert respects_groups(g.chosen.tolist(), groups)
    assert g.people == people_of(dense, w, g.chosen, already)
    assert g.people_total >= target - 1e-9
    assert g.cost_usd >= opt - 1e-9  # never below the optimum
    # the plain greedy, run here on its own (private functions, no local search)
    P = S._prepare(A, w, c, groups, already)
    need = target - P.already_people
    if need <= 1e-9 * max(target, 1.0):
        return
    plain = np.asarray(S._greedy_target(P, min(need, P.upper_people))[0], dtype=np.int64)
    plain_people = people_of(dense, w, P.opt[plain], already)
    if base + plain_people >= target - 1e-9:  # plain greedy feasible (no restart needed)
        plain_cost = float(c[P.opt[plain]].sum())
        assert g.cost_usd <= plain_cost + 1e-9
        assert g.extra["local_search"]["cost_before"] == pytest.approx(plain_cost)
    ls = g.extra["local_search"]
    assert ls["cost_after"] == pytest.approx(g.cost_usd)
    assert ls["cost_after"] <= ls["cost_before"] + 1e-9
    assert ls["passes"] <= S._LS_MAX_PASSES and "local search" in g.status


def test_local_search_undoes_greedy_stuck_into_a_macro():
    # Cells: a 100 (village A), a2 50 (around A), b 100, b2 50, c 100 (village C).
    # Options: hotspot A {a} 10, pole A {a, a2} 20, hotspot B {b} 10, pole B {b, b2} 20,
    # hotspot C {c} 10, macro C {c, a2, b2} 28. Target 350 of 400.
    # Plain greedy: the three hotspots (10 per 100 people, best ratio) give 300 and fill
    # every group; stuck, it exchanges by cost per person: hotspot C -> macro C adds 100
    # for 18 (0.18 per person) before hotspot A -> pole A, 50 for 10 (0.2): 10+10+28 = 48,
    # and nothing can be reverse-deleted (each option carries 100 people alone).
    # Optimum by hand: a, b and c must all be covered (missing one loses 100 > 50), at least
    # 30 (three hotspots, 300 people); 50 more need a2 or b2: pole (+10) or macro (+18).
    # So pole A + hotspot B + hotspot C = 40 (or pole B instead of pole A).
    dense = np.array([
        [1, 0, 0, 0, 0],  # 0 hotspot A
        [1, 1, 0, 0, 0],  # 1 pole A
        [0, 0, 1, 0, 0],  # 2 hotspot B
        [0, 0, 1, 1, 0],  # 3 pole B
        [0, 0, 0, 0, 1],  # 4 hotspot C
        [0, 1, 0, 1, 1],  # 5 macro C
    ], dtype=bool)
    w = np.array([100.0, 50.0, 100.0, 50.0, 100.0])
    c = np.array([10.0, 20.0, 10.0, 20.0, 10.0, 28.0])
    groups = np.array([0, 0, 1, 1, 2, 2])
    assert brute_target(dense, w, c, groups, 350.0) == 40.0
    from simulator.programme import solve as S

    P = S._prepare(sp.csr_array(dense), w, c, groups, None)
    plain = sorted(P.opt[np.asarray(S._greedy_target(P, 350.0)[0])].tolist())
    assert plain == [0, 2, 5]  # the hand-traced plain greedy: stuck into the macro, 48
    g = least_cost_mix(sp.csr_array(dense), w, c, groups, target_people=350.0,
                       method="greedy")
    assert g.cost_usd == 40.0 and g.people == 350.0
    assert g.chosen.tolist() in ([1, 2, 4], [0, 3, 4])
    ls = g.extra["local_search"]
    assert ls["cost_before"] == 48.0 and ls["cost_after"] == 40.0 and ls["moves_kept"] >= 1
    r = least_cost_mix(sp.csr_array(dense), w, c, groups, target_people=350.0, mip_rel_gap=0)
    assert r.cost_usd == 40.0 and r.greedy_cost_usd == 40.0
