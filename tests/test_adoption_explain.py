"""The inverse adoption formulas, the binding barrier, income by density, and the cost basis
as one function (issue 15). Expected values are worked by hand or are round trips through
the forward formulas (whose own tests check them against scipy and published figures)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.business import adoption as ad
from simulator.business.explain import adoption_explanation
from simulator.business.income import block_people, disc_density_per_km2


def test_price_for_affordability_by_hand():
    # median 40, sigma 0.8, 1 GB at 2 %: A = 0.5 needs income 40 -> price 0.02 x 40 = 0.8
    assert ad.price_for_affordability(0.5, 40.0, 0.8) == pytest.approx(0.8, rel=1e-12)
    # A = 1 - Phi(1) = 0.158655: z = Phi^-1(1 - A) = 1, price = 0.02 x 40 x e^{0.8 x 1}
    assert ad.price_for_affordability(1 - 0.8413447460685429, 40.0, 0.8) == \
        pytest.approx(0.02 * 40 * math.exp(0.8), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.01, 0.99), median=st.floats(5, 500), sigma=st.floats(0.2, 2.0),
       gb=st.floats(0.2, 5), theta=st.floats(0.005, 0.2))
def test_inverses_round_trip_through_affordability(a, median, sigma, gb, theta):
    price = ad.price_for_affordability(a, median, sigma, bundle_gb=gb, threshold_share=theta)
    assert ad.affordability_share(price, median, sigma, bundle_gb=gb,
                                  threshold_share=theta) == pytest.approx(a, abs=1e-9)
    m = ad.income_for_affordability(a, price, sigma, bundle_gb=gb, threshold_share=theta)
    assert m == pytest.approx(median, rel=1e-9)


def test_training_places_for_skills_by_hand_and_cap():
    # baseline 0.5, 10,000 adults, effectiveness 0.8: to 0.6 -> 0.1 x 10,000 / 0.8 = 1,250
    assert ad.training_places_for_skills(0.6, 0.5, 10_000, max_share=0.9,
                                         training_effectiveness=0.8) == pytest.approx(1250)
    assert ad.skills_share(0.5, 1250, 10_000, max_share=0.9,
                           training_effectiveness=0.8) == pytest.approx(0.6)
    assert ad.training_places_for_skills(0.4, 0.5, 10_000) == 0.0     # already there
    assert math.isinf(ad.training_places_for_skills(0.95, 0.5, 10_000, max_share=0.9))


def test_binding_barrier_and_relevance_in_the_potential():
    assert ad.binding_barrier(0.45, 0.2, 0.5, 0.9) == 1
    np.testing.assert_array_equal(ad.binding_barrier(0.45, [0.2, 0.6], 0.5, 0.9), [1, 0])
    assert ad.binding_barrier(0.3, 0.3, 0.5) == 0                       # ties: the first
    assert ad.adoption_potential(0.45, 0.2, 0.5, 0.9, combine="nested") == 0.2
    assert ad.adoption_potential(0.45, 0.2, 0.5, 0.9, combine="independent") == \
        pytest.approx(0.45 * 0.2 * 0.5 * 0.9)
    assert ad.adoption_potential(0.45, 0.2, 0.5) == pytest.approx(0.045)   # relevance 1


@settings(max_examples=60, deadline=None)
@given(d=st.lists(st.floats(0.0, 1e5), min_size=1, max_size=20), ref=st.floats(0.1, 1e4),
       e=st.floats(0.0, 1.0))
def test_income_density_factor_monotone_and_one_at_the_reference(d, ref, e):
    d = np.asarray(d)
    f = np.atleast_1d(ad.income_density_factor(np.r_[d, ref], ref, elasticity=e))
    assert f[-1] == pytest.approx(1.0)
    order = np.argsort(d, kind="stable")
    assert np.all(np.diff(f[:-1][order]) >= -1e-12) and np.all(f > 0)


def test_block_sums_and_disc_density_by_hand():
    people = np.arange(30, dtype=np.int32).reshape(5, 6)
    b = block_people(people, 2)      # blocks of 2 x 2, partial at the edge
    assert b.shape == (3, 3) and b.sum() == people.sum()
    assert b[0, 0] == 0 + 1 + 6 + 7 and b[2, 2] == 28 + 29
    # a single block of 100 people, 1 km blocks, radius 1 km: the disc holds 5 blocks (a plus)
    one = np.zeros((5, 5))
    one[2, 2] = 100.0
    dens = disc_density_per_km2(one, 1000.0, 1000.0)
    assert dens[2, 2] == pytest.approx(100.0 / 5.0) and dens[2, 3] == pytest.approx(20.0)
    assert dens[3, 3] == 0.0


def _a(**kw):
    a = {"combine": "nested", "income_sigma": 0.8, "bundle_gb": 1.0, "threshold_share": 0.02,
         "price_usd_per_gb": 1.5, "median_income_usd_per_month": 40.0,
         "skills_baseline_share": 0.5, "skills_max_share": 0.9, "training_effectiveness": 0.8,
         "training_places": 0, "basic_phone_weight": 0.0, "basic_phone_share": 0.3,
         "smartphone_share": 0.45}
    a.update(kw)
    return a


def test_explanation_names_the_binding_barrier_and_the_dead_levers():
    aff = float(ad.affordability_share(1.5, 40.0, 0.8))
    ex = adoption_explanation(_a(), handset=0.45, affordability_by_site=np.array([aff, aff]),
                              skills=0.5, relevance=0.9, served=np.array([100, 300]),
                              income_by_site=np.array([40.0, 40.0]), population_total=1000,
                              income_model="uniform")
    assert ex["binding"] == "affordability" and ex["next_barrier"] == "handset"
    assert ex["people_bound_by"] == {"handset": 0, "affordability": 400, "skills": 0,
                                     "relevance": 0}
    assert set(ex["no_effect"]) == {"handset", "skills", "relevance"}
    assert ex["to_move_binding"]["price_usd_per_gb"] == pytest.approx(
        ad.price_for_affordability(0.45, 40.0, 0.8), abs=1e-4)
    assert any("training places have no effect while affordability binds" in n
               for n in ex["notes"])


def test_explanation_when_the_binding_barrier_differs_between_sites():
    # site 0: poor (affordability 0.1 binds); site 1: rich (handset 0.45 binds)
    ex = adoption_explanation(_a(), handset=0.45, affordability_by_site=np.array([0.1, 0.8]),
                              skills=0.5, relevance=0.9, served=np.array([100, 300]),
                              income_by_site=np.array([20.0, 200.0]), population_total=1000,
                              income_model="density")
    assert ex["binding"] == "handset"            # binds for 300 of the 400 people
    assert ex["people_bound_by"]["affordability"] == 100
    assert "affordability" not in ex["no_effect"] and "skills" in ex["no_effect"]
    assert any("differs between sites" in n for n in ex["notes"])


def test_independent_combination_says_every_lever_counts():
    ex = adoption_explanation(_a(combine="independent"), handset=0.45,
                              affordability_by_site=np.array([0.2]), skills=0.5,
                              relevance=0.9, served=np.array([100]),
                              income_by_site=np.array([40.0]), population_total=1000,
                              income_model="uniform")
    assert ex["no_effect"] == [] and "every lever counts" in ex["notes"][0]


def test_assess_and_plan_cost_with_the_same_function(monkeypatch):
    """Both paths go through CostBasis.site_costs (one function, not two copies)."""
    from simulator import parse_scenario, run
    from simulator.business import costing
    from simulator.planning.planner import plan

    calls = []
    real = costing.CostBasis.site_costs

    def spy(self, *args, **kwargs):
        calls.append(len(args[0]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(costing.CostBasis, "site_costs", spy)
    data = {"name": "spy", "seed": 3,
            "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 10, "height_km": 8,
                       "resolution_m": 250},
            "population": {"synthetic": {"total_people": 5000, "settlements": 8}},
            "sites": {"existing": [{"station": "macro", "count": 1}]},
            "planning": {"max_sites": 2}}
    run(parse_scenario(data))
    assert calls == [1]
    calls.clear()
    plan(parse_scenario(data))
    assert len(calls) >= 2          # the candidates, then the chosen sites in the network
