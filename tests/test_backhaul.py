"""Tests for simulator.business.backhaul: hand-worked choices, nearest neighbours, invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.business import backhaul as bh
from simulator.business.economics import load_cost_catalogue

# Hand-worked parameters (independent of the catalogue so the arithmetic below is fixed).
# Annuity factor r = 10 %, n = 10: (1 - 1.1^-10)/0.1 = 6.144567
AF = 6.144567
PARAMS = {
    "fibre": {"max_distance_m": 2000, "capex_usd": 5000, "capex_usd_per_km": 15000,
              "opex_usd_per_year": 500, "capacity_mbps": 1000},
    "microwave": {"max_distance_m": 30000, "capex_usd": 6000, "opex_usd_per_year": 1000,
                  "capacity_mbps": 200, "requires_los": True},
    "relay_los": {"max_distance_m": 15000, "capex_usd": 3000, "opex_usd_per_year": 300,
                  "capacity_mbps": 30, "requires_los": True},
    "relay_nlos": {"max_distance_m": 5000, "capex_usd": 3000, "opex_usd_per_year": 300,
                   "capacity_mbps": 10, "requires_los": False},
    "satellite": {"max_distance_m": float("inf"), "capex_usd": 8000,
                  "opex_usd_per_year": 6000, "capacity_mbps": 10},
}
# Lifetime costs:
#   relay (LOS or not)   3,000 + 300 x 6.144567   =  4,843.37
#   microwave            6,000 + 1,000 x 6.144567 = 12,144.57
#   satellite            8,000 + 6,000 x 6.144567 = 44,867.40
#   fibre at d km        5,000 + 15,000 d + 500 x 6.144567 = 8,072.28 + 15,000 d
RELAY, MW, SAT = 3000 + 300 * AF, 6000 + 1000 * AF, 8000 + 6000 * AF


def fibre_cost(d_km):
    return 5000 + 15000 * d_km + 500 * AF


def test_hand_worked_choices():
    sites = np.array([
        [0.0, 0.0],         # A: fibre 100 m, donor 10 km with LOS -> relay_los (4,843 < 9,572)
        [100_000.0, 0.0],   # B: fibre 1 km, donor 40 km -> fibre (23,072 < 44,867)
        [200_000.0, 0.0],   # C: donor 10 km, no LOS, no fibre -> satellite
        [300_000.0, 0.0],   # D: donor 3 km, no LOS -> relay_nlos
        [400_000.0, 0.0],   # E: donor 20 km with LOS -> microwave (relay reaches 15 km only)
    ])
    fibre = np.array([[0.0, 100.0], [101_000.0, 0.0]])
    donors = np.array([[0.0, 10_000.0], [140_000.0, 0.0], [210_000.0, 0.0],
                       [303_000.0, 0.0], [420_000.0, 0.0]])
    los = np.array([True, True, False, False, True])
    out = bh.choose_backhaul(sites, PARAMS, fibre_node_xy_m=fibre, donor_xy_m=donors,
                             los_to_donor=los, discount_rate=0.10, horizon_years=10)
    assert list(out.option) == ["relay_los", "fibre", "satellite", "relay_nlos", "microwave"]
    np.testing.assert_allclose(out.lifetime_cost_usd,
                               [RELAY, fibre_cost(1.0), SAT, RELAY, MW], atol=0.01)
    # fibre capex includes the per-km part: 5,000 + 15,000 x 1 = 20,000
    assert out.capex_usd[1] == pytest.approx(20000.0)
    np.testing.assert_allclose(out.distance_m[[0, 1, 3, 4]], [10_000, 1_000, 3_000, 20_000])
    assert np.isnan(out.distance_m[2]) and out.node_index[2] == -1
    assert list(out.node_index[[0, 1, 3, 4]]) == [0, 1, 3, 4]
    assert not out.capacity_exceeded.any()


def test_capacity_flag_and_requirement():
    sites = np.array([[0.0, 0.0], [50_000.0, 0.0]])
    donors = np.array([[0.0, 8_000.0], [50_000.0, 3_000.0]])
    los = np.array([True, False])
    demand = np.array([50.0, 20.0])
    out = bh.choose_backhaul(sites, PARAMS, donor_xy_m=donors, los_to_donor=los,
                             demand_mbps=demand)
    # cheapest is a relay in both cases, which cannot carry the demand (30 and 10 Mbit/s)
    assert list(out.option) == ["relay_los", "relay_nlos"]
    assert list(out.capacity_exceeded) == [True, True]
    req = bh.choose_backhaul(sites, PARAMS, donor_xy_m=donors, los_to_donor=los,
                             demand_mbps=demand, require_capacity=True)
    # site 0: microwave (200 Mbit/s, LOS, 8 km) carries 50; site 1: nothing carries 20
    # (satellite 10, no LOS for microwave, no fibre) -> fall back to cheapest, still flagged
    assert list(req.option) == ["microwave", "relay_nlos"]
    assert list(req.capacity_exceeded) == [False, True]


def test_no_nodes_no_donors_means_satellite_everywhere():
    out = bh.choose_backhaul(np.array([[0.0, 0.0], [5.0, 5.0]]), PARAMS)
    assert list(out.option) == ["satellite", "satellite"]


def test_none_when_no_option_is_feasible():
    params = {k: v for k, v in PARAMS.items() if k != "satellite"}
    out = bh.choose_backhaul(np.array([[0.0, 0.0]]), params, demand_mbps=1.0)
    assert out.option[0] == "none" and np.isnan(out.lifetime_cost_usd[0])
    assert out.capacity_exceeded[0]


def test_catalogue_params_work():
    params = load_cost_catalogue()["backhaul"]
    out = bh.choose_backhaul(np.array([[0.0, 0.0]]), params, donor_xy_m=np.array([[0.0, 5000.0]]))
    assert out.option[0] == "relay_los"
    assert out.capacity_mbps[0] == 30.0


def test_nearest_node_matches_brute_force():
    rng = np.random.default_rng(11)
    sites = rng.uniform(0, 50_000, (200, 2))
    nodes = rng.uniform(0, 50_000, (37, 2))
    d, i = bh.nearest_node(sites, nodes)
    brute = np.sqrt(((sites[:, None, :] - nodes[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(d, brute.min(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(i, brute.argmin(axis=1))


@pytest.mark.parametrize("kwargs, match", [
    (dict(site_xy_m=np.zeros((3, 3))), "site_xy_m"),
    (dict(site_xy_m=np.array([[np.nan, 0.0]])), "site_xy_m"),
    (dict(site_xy_m=np.zeros((2, 2)), demand_mbps=np.array([-1.0, 2.0])), "demand_mbps"),
    (dict(site_xy_m=np.zeros((2, 2)), los_to_donor=np.array([1, 0])), "los_to_donor"),
    (dict(site_xy_m=np.zeros((2, 2)), los_to_donor=np.array([True])), "los_to_donor"),
    (dict(site_xy_m=np.zeros((2, 2)), fibre_node_xy_m=np.zeros((2, 3))), "node_xy_m"),
])
def test_bad_input_raises(kwargs, match):
    site = kwargs.pop("site_xy_m")
    with pytest.raises(ValueError, match=match):
        bh.choose_backhaul(site, PARAMS, **kwargs)


def test_bad_params_raise():
    bad = {**PARAMS, "relay_los": {**PARAMS["relay_los"], "capex_usd": -1}}
    with pytest.raises(ValueError, match="relay_los.capex_usd"):
        bh.choose_backhaul(np.zeros((1, 2)), bad)


# ------------------------------------------------------------------------------ properties

coords = st.floats(0.0, 60_000.0)
points = st.lists(st.tuples(coords, coords), min_size=0, max_size=6)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(coords, coords), min_size=1, max_size=8), points, points,
       st.data(), st.booleans())
def test_cheapest_never_more_expensive_than_any_feasible(sites, fibre, donors, data, req):
    sites = np.array(sites)
    n = len(sites)
    los = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    demand = np.array(data.draw(st.lists(st.floats(0, 300), min_size=n, max_size=n)))
    out = bh.choose_backhaul(sites, PARAMS, fibre_node_xy_m=np.array(fibre).reshape(-1, 2),
                             donor_xy_m=np.array(donors).reshape(-1, 2), los_to_donor=los,
                             demand_mbps=demand, require_capacity=req)
    # satellite is always there, so every site gets an option
    assert not np.any(out.option == "none")
    finite = np.where(out.feasible, out.option_costs_usd, np.inf)
    assert np.all(out.lifetime_cost_usd <= finite.min(axis=1) + 1e-9)
    for j in range(len(bh.BACKHAUL_OPTIONS)):
        ok = out.feasible[:, j]
        assert np.all(out.lifetime_cost_usd[ok] <= out.option_costs_usd[ok, j] + 1e-9)
    assert np.array_equal(out.capacity_exceeded, demand > out.capacity_mbps)
