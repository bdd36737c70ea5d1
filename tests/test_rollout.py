"""Rollout by year and the viability gap (simulator/programme/rollout.py).

Expected values are worked by hand in the comments (discounting at 10 %, the Bass formula
written out here) or come from simulator.business.economics, the reference the rollout
must agree with for a site built in year 0; none is read back from the code under test.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.business import economics as ec
from simulator.programme.rollout import (
    NOT_BUILT,
    Rollout,
    rollout,
    schedule_builds,
    schedule_reasons,
    viability_gap_usd,
)


def bass(t, p=0.03, q=0.38):
    """Bass (1969) eq. (7), written out independently of simulator.business.adoption."""
    e = math.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


# ------------------------------------------------------------------ schedule_builds

def test_first_fit_worked_by_hand():
    # budget 100: year 0 takes 60, skips 50 (110), takes 40 (100), skips 30 (130);
    # year 1 takes 50 and 30 (80)
    b = schedule_builds([0, 1, 2, 3], [60, 50, 40, 30], 0.0, annual_capex_usd=100, n_years=5)
    assert b.tolist() == [0, 1, 0, 1]
    # the other priority: year 0 takes 30, 40 (70), skips 50 (120) and 60 (130);
    # year 1 takes 50, skips 60 (110); year 2 takes 60
    b = schedule_builds([3, 2, 1, 0], [60, 50, 40, 30], 0.0, annual_capex_usd=100, n_years=5)
    assert b.tolist() == [2, 1, 0, 0]
    # the years run out: two years of 100 cannot hold 60 + 50 + 40 + 30 + 90 = 270
    b = schedule_builds(np.arange(5), [60, 50, 40, 30, 90], 0.0, annual_capex_usd=100,
                        n_years=2)
    assert b.tolist() == [0, 1, 0, 1, NOT_BUILT]
    assert schedule_reasons(b, [60, 50, 40, 30, 90], 0.0, annual_capex_usd=100,
                            n_years=2).tolist() == ["", "", "", "", "budget_exhausted"]


def test_site_above_the_annual_budget_is_never_built_unless_budget_carries_over():
    b = schedule_builds([0, 1], [150, 10], 0.0, annual_capex_usd=100, n_years=10)
    assert b.tolist() == [NOT_BUILT, 0]
    r = schedule_reasons(b, [150, 10], 0.0, annual_capex_usd=100, n_years=10)
    assert r.tolist() == ["capex_above_annual_budget", ""]
    # carry-over: year 0 spends 10 and saves 90; year 1 has 190 and builds the 150 site
    b = schedule_builds([0, 1], [150, 10], 0.0, annual_capex_usd=100, n_years=10,
                        carry_over=True)
    assert b.tolist() == [1, 0]
    # above all the years' budget together, even with carry-over
    b = schedule_builds([0], [1000], 0.0, annual_capex_usd=100, n_years=5, carry_over=True)
    assert b.tolist() == [NOT_BUILT]
    assert schedule_reasons(b, [1000], 0.0, annual_capex_usd=100, n_years=5,
                            carry_over=True).tolist() == ["capex_above_total_budget"]


def test_opex_ceiling_counts_every_site_built_so_far():
    # opex 50 + 40 = 90 > 80, so site 1 waits; 50 + 30 = 80 fits; site 1 never fits again
    b = schedule_builds([0, 1, 2], [10, 10, 10], [50, 40, 30], annual_capex_usd=1000,
                        annual_opex_usd=80, n_years=5)
    assert b.tolist() == [0, NOT_BUILT, 0]
    b = schedule_builds([0, 1], [10, 10], [90, 10], annual_capex_usd=1000,
                        annual_opex_usd=80, n_years=5)
    assert b.tolist() == [NOT_BUILT, 0]
    assert schedule_reasons(b, [10, 10], [90, 10], annual_capex_usd=1000, annual_opex_usd=80,
                            n_years=5).tolist() == ["opex_above_opex_budget", ""]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 50)), min_size=0, max_size=25),
       st.integers(0, 300), st.one_of(st.none(), st.integers(0, 400)), st.integers(1, 8),
       st.booleans(), st.randoms(use_true_random=False))
def test_schedule_respects_budgets_order_and_first_fit(items, budget, opex_cap, years, carry,
                                                      rnd):
    # whole dollars: every sum below is exact in float64
    capex = np.array([c for c, _ in items], dtype=float)
    opex = np.array([o for _, o in items], dtype=float)
    order = list(range(len(items)))
    rnd.shuffle(order)
    b = schedule_builds(order, capex, opex, annual_capex_usd=budget, annual_opex_usd=opex_cap,
                        n_years=years, carry_over=carry)
    assert b.shape == (len(items),)
    assert set(b.tolist()) <= set(range(-1, years))
    spent_total = 0.0
    for y in range(years):
        spent = capex[b == y].sum()
        if carry:
            spent_total += spent
            assert spent_total <= budget * (y + 1)
        else:
            assert spent <= budget
        if opex_cap is not None:
            assert opex[(b >= 0) & (b <= y)].sum() <= opex_cap
    if not carry:
        assert np.all(b[capex > budget] == NOT_BUILT)
    # first fit: a site still waiting after year y did not fit at its turn in year y
    rank = np.empty(len(items), dtype=int)
    rank[order] = np.arange(len(items))
    saved = 0.0
    for y in range(years):
        avail = budget + saved
        for i in range(len(items)):
            if b[i] != NOT_BUILT and b[i] <= y:
                continue
            before = (b == y) & (rank < rank[i])
            cap_ok = capex[before].sum() + capex[i] <= avail
            on_air = ((b >= 0) & (b < y)) | before
            opex_ok = opex_cap is None or opex[on_air].sum() + opex[i] <= opex_cap
            assert not (cap_ok and opex_ok), (y, i)
        saved = (avail - capex[b == y].sum()) if carry else 0.0
    # order: of two identical sites the one earlier in the order is never built later
    for i in range(len(items)):
        for j in range(len(items)):
            if rank[i] < rank[j] and capex[i] == capex[j] and opex[i] == opex[j]:
                bi = years if b[i] == NOT_BUILT else b[i]
                bj = years if b[j] == NOT_BUILT else b[j]
                assert bi <= bj


# ------------------------------------------------------------------ rollout

def _r(build_year, **kw):
    args = {"people_covered": 1000.0, "potential_share": 0.2, "capex_usd": 20000.0,
            "opex_usd_per_year": 1500.0}
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    return rollout(build_year, args["people_covered"], args["potential_share"],
                   args["capex_usd"], args["opex_usd_per_year"],
                   **{"arpu_usd_per_month": 2.0, "horizon_years": 10, "discount_rate": 0.1,
                      **kw})


def test_users_start_at_the_build_year_and_follow_the_year_zero_curve():
    r = _r(np.array([0, 3, NOT_BUILT]))
    u = r.users_by_year
    assert u.shape == (3, 11)
    assert np.all(u[1, :4] == 0)              # nobody before year 3, nor in it (F(0) = 0)
    assert np.all(u[2] == 0)                  # not built: nobody, ever
    for k in range(8):
        assert u[1, 3 + k] == u[0, k]
    # the year-0 site: covered x potential x F(t), Bass written out above
    for t in range(11):
        assert u[0, t] == pytest.approx(1000 * 0.2 * bass(t), rel=1e-12, abs=1e-12)
    assert np.array_equal(r.covered_by_year, [1000] * 3 + [2000] * 8)
    assert np.allclose(r.connected_by_year, u.sum(axis=0))


def test_year_zero_site_npv_is_economics_npv_and_programme_npv_sums_sites():
    r = _r(np.array([0, 0, 4, 10, NOT_BUILT]), people_covered=[1000, 5000, 5000, 800, 900],
           capex_usd=[20000, 15000, 15000, 9000, 7000])
    users = 200.0 * np.array([bass(t) for t in range(1, 11)])            # years 1..10
    ref = ec.npv_usd(20000.0, 1500.0, users, 2.0, 0.1)
    assert r.site_npv_usd[0] == ref                                      # exactly
    ref1 = ec.npv_usd(15000.0, 1500.0, 5 * users, 2.0, 0.1)
    assert r.site_npv_usd[1] == pytest.approx(ref1, rel=1e-13)
    assert r.site_npv_usd[4] == 0.0
    assert r.npv_usd == pytest.approx(r.site_npv_usd.sum(), rel=1e-13)
    # the same NPV from the undiscounted cash flows of the years, discounted to year 0
    df = 1.1 ** -np.arange(11.0)
    assert r.npv_usd == pytest.approx(np.sum(r.cash_flow_by_year * df), rel=1e-10)
    # a site built in year 4 is worth (1.1)^-4 x its own NPV over its 6 years
    own = ec.npv_usd(15000.0, 1500.0, 5 * users[:6], 2.0, 0.1)
    assert r.site_npv_usd[2] == pytest.approx(own / 1.1**4, rel=1e-12)
    # built in the last year: capex only, discounted 10 years: -9000 / 1.1^10 = -3469.89
    assert r.site_npv_usd[3] == pytest.approx(-3469.89, abs=0.01)


def test_viability_gap_worked_by_hand_two_years():
    # nobody connects (potential 0): NPV = -1000 - 100/1.1 - 100/1.21
    #   = -1000 - 90.909091 - 82.644628 = -1173.553719; the gap is its opposite
    r = rollout(np.array([0]), [500.0], 0.0, 1000.0, 100.0, arpu_usd_per_month=5.0,
                horizon_years=2, discount_rate=0.1)
    assert r.site_npv_usd[0] == pytest.approx(-1173.553719, abs=1e-6)
    assert r.viability_gap_usd[0] == pytest.approx(1173.553719, abs=1e-6)
    assert r.subsidy_usd == pytest.approx(1173.553719, abs=1e-6)
    # built in year 1 of 2: -1000/1.1 - 100/1.21 = -909.090909 - 82.644628 = -991.735537
    r = rollout(np.array([1]), [500.0], 0.0, 1000.0, 100.0, arpu_usd_per_month=5.0,
                horizon_years=2, discount_rate=0.1)
    assert r.viability_gap_usd[0] == pytest.approx(991.735537, abs=1e-6)
    # with users: 10 000 people x 0.5, F(1), F(2) of Bass; revenue 12 x 5 x users
    cf = [12 * 5 * 5000 * bass(t) - 100 for t in (1, 2)]
    npv = -1000 + cf[0] / 1.1 + cf[1] / 1.21            # 5 a lot more than 1000: profitable
    r = rollout(np.array([0]), [10000.0], 0.5, 1000.0, 100.0, arpu_usd_per_month=5.0,
                horizon_years=2, discount_rate=0.1)
    assert r.site_npv_usd[0] == pytest.approx(npv, rel=1e-12)
    assert npv > 0 and r.viability_gap_usd[0] == 0.0 and r.subsidy_usd == 0.0


def test_viability_gap_function():
    assert viability_gap_usd([-5.0, 0.0, 3.0]).tolist() == [5.0, 0.0, 0.0]
    assert math.isnan(viability_gap_usd([np.nan])[0])
    assert not np.signbit(viability_gap_usd([0.0, -0.0])).any()


def test_yearly_totals_and_table_by_hand():
    # two sites, nobody connects: capex 100 in year 0 and 50 in year 2; opex 10 from year 1
    # and 5 from year 3
    r = rollout(np.array([0, 2]), [30.0, 20.0], 0.0, [100.0, 50.0], [10.0, 5.0],
                arpu_usd_per_month=1.0, horizon_years=4, discount_rate=0.0)
    assert isinstance(r, Rollout)
    assert r.capex_by_year.tolist() == [100, 0, 50, 0, 0]
    assert r.opex_by_year.tolist() == [0, 10, 10, 15, 15]
    assert r.cash_flow_by_year.tolist() == [-100, -10, -60, -15, -15]
    rows = r.table()
    assert [row["year"] for row in rows] == [0, 1, 2, 3, 4]
    assert [row["sites_built"] for row in rows] == [1, 0, 1, 0, 0]
    assert [row["sites_on_air"] for row in rows] == [1, 1, 2, 2, 2]
    assert [row["people_covered"] for row in rows] == [30, 30, 50, 50, 50]
    assert [row["cumulative_cash_flow_usd"] for row in rows] == [-100, -110, -170, -185, -200]
    assert r.npv_usd == -200.0                                 # rate 0: the plain sum


def test_logistic_curve_params_pass_through():
    r = rollout(np.array([0]), [100.0], 1.0, 0.0, 0.0, arpu_usd_per_month=0.0,
                horizon_years=3, discount_rate=0.0, curve="logistic",
                curve_params={"growth_rate_per_year": 1.0, "midpoint_year": 2.0})
    def lg(t):
        return 1 / (1 + math.exp(-(t - 2.0)))

    want = [100 * (lg(t) - lg(0)) / (1 - lg(0)) for t in range(4)]
    assert r.users_by_year[0] == pytest.approx(want, rel=1e-12, abs=1e-12)


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("kw, name", [
    ({"annual_capex_usd": -1.0}, "annual_capex_usd"),
    ({"annual_opex_usd": -1.0}, "annual_opex_usd"),
    ({"capex_usd": [10.0, -1.0]}, "capex_usd"),
    ({"opex_usd_per_year": [np.nan, 1.0]}, "opex_usd_per_year"),
    ({"n_years": 0}, "n_years"),
    ({"n_years": 2.5}, "n_years"),
    ({"order": [0, 0]}, "order"),
    ({"order": [0]}, "order"),
])
def test_schedule_bad_input_names_the_parameter(kw, name):
    args = {"order": [0, 1], "capex_usd": [10.0, 20.0], "opex_usd_per_year": [1.0, 1.0],
            "annual_capex_usd": 100.0, "n_years": 3}
    args.update(kw)
    with pytest.raises(ValueError, match=name) as exc:
        schedule_builds(args.pop("order"), args.pop("capex_usd"),
                        args.pop("opex_usd_per_year"), **args)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("kw, name", [
    ({"arpu_usd_per_month": -2.0}, "arpu_usd_per_month"),
    ({"capex_usd": -5.0}, "capex_usd"),
    ({"opex_usd_per_year": -5.0}, "opex_usd_per_year"),
    ({"people_covered": [-1.0, 2.0]}, "people_covered"),
    ({"potential_share": 1.5}, "potential_share"),
    ({"discount_rate": -0.1}, "discount_rate"),
    ({"horizon_years": 0}, "horizon_years"),
    ({"build_year": np.array([0, 11])}, "build_year"),
    ({"build_year": np.array([0, -2])}, "build_year"),
    ({"build_year": np.array([0.0, 1.0])}, "build_year"),
    ({"capex_usd": [1.0, 2.0, 3.0]}, "capex_usd"),
    ({"curve_params": {"r": 1.0}}, "curve_params"),
])
def test_rollout_bad_input_names_the_parameter(kw, name):
    args = {"build_year": np.array([0, 1]), "people_covered": [10.0, 20.0],
            "potential_share": 0.3, "capex_usd": 100.0, "opex_usd_per_year": 10.0,
            "arpu_usd_per_month": 2.0, "horizon_years": 10, "discount_rate": 0.1}
    args.update(kw)
    pos = [args.pop(k) for k in ("build_year", "people_covered", "potential_share",
                                 "capex_usd", "opex_usd_per_year")]
    with pytest.raises(ValueError, match=name) as exc:
        rollout(*pos, **args)
    assert "\n" not in str(exc.value)
