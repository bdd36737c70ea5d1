"""Satellite community hotspots (simulator.programme.hotspot): coverage and costs by hand."""

import numpy as np
import pytest

from simulator.business import economics as ec
from simulator.programme.hotspot import hotspot_costs, hotspot_coverage, hotspot_params

P = {"terminal_capex_usd": 350.0, "subscription_usd_per_month": 50.0, "capacity_mbps": 50.0,
     "site_capex_usd": 2500.0, "maintenance_usd_per_year": 300.0, "wifi_radius_m": 300.0}


def test_coverage_is_cells_within_the_radius():
    cells = np.array([[0, 0], [250, 0], [301, 0], [0, -299], [1000, 1000]], float)
    a = hotspot_coverage(cells, [[0, 0], [1000, 1000]], 300.0).toarray()
    assert a.tolist() == [[True, True, False, True, False],
                          [False, False, False, False, True]]


def test_coverage_takes_the_nearest_cell_when_the_radius_holds_none():
    cells = np.array([[0, 0], [100, 0]], float)
    a = hotspot_coverage(cells, [[90, 0]], 5.0).toarray()
    assert a.tolist() == [[False, True]]


def test_costs_by_hand():
    # 1,000 people x 0.02 Mbit/s each = 20 Mbit/s -> one 50 Mbit/s terminal;
    # 4,000 people -> 80 Mbit/s -> two terminals
    c = hotspot_costs([1000, 4000, 0], P, demand_mbps_per_person=0.02, discount_rate=0.1,
                      horizon_years=10)
    assert c["terminals"].tolist() == [1, 2, 1]
    assert c["capex_usd"].tolist() == [2850.0, 3200.0, 2850.0]
    assert c["opex_usd_per_year"].tolist() == [900.0, 1500.0, 900.0]
    af = sum(1.1 ** -t for t in range(1, 11))
    assert c["tco_usd"][1] == pytest.approx(3200.0 + 1500.0 * af, rel=1e-12)


def test_demand_exactly_at_capacity_needs_one_terminal():
    c = hotspot_costs([2500], P, demand_mbps_per_person=0.02, discount_rate=0.1,
                      horizon_years=10)
    assert c["terminals"].tolist() == [1]


@pytest.mark.parametrize("key, value, match", [
    ("capacity_mbps", 0.0, "capacity_mbps"),
    ("subscription_usd_per_month", -1.0, "subscription_usd_per_month"),
    ("terminal_capex_usd", -5.0, "terminal_capex_usd"),
])
def test_bad_values(key, value, match):
    with pytest.raises(ValueError, match=match):
        hotspot_costs([10], {**P, key: value}, demand_mbps_per_person=0.02,
                      discount_rate=0.1, horizon_years=10)


def test_a_hotspot_that_costs_nothing_is_refused():
    free = {**P, "terminal_capex_usd": 0.0, "subscription_usd_per_month": 0.0,
            "site_capex_usd": 0.0, "maintenance_usd_per_year": 0.0}
    with pytest.raises(ValueError, match="no cost"):
        hotspot_costs([10], free, demand_mbps_per_person=0.02, discount_rate=0.1,
                      horizon_years=10)


def test_params_fall_back_to_the_catalogue():
    cat = ec.load_cost_catalogue()
    p = hotspot_params(cat, {"capacity_mbps": 20.0})
    assert p["capacity_mbps"] == 20.0
    assert p["subscription_usd_per_month"] == cat["satellite_hotspot"][
        "subscription_usd_per_month"]
