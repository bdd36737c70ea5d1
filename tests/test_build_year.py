"""A site group built later: ``sites.new[].build_year`` through the scenario run.

The scenario is the two-site one of tests/test_business.py (an existing macro and a new
pole). Expected values are worked by hand in the comments (discounting at 10 %) or come
from the same scenario run with every site built in year 0 (shifted by the build year),
and from simulator.business.economics; none is read back from the code under test.
"""

import json

import numpy as np
import pytest

from simulator import parse_scenario, run
from simulator.business import economics as ec
from simulator.errors import ScenarioError
from simulator.radio.stations import Sites

from .test_business import TWO_SITES

ARPU = 100.0


def _scenario(**changes):
    data = json.loads(json.dumps(TWO_SITES))
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split(".")
        for p in path:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        node[last] = value
    return parse_scenario(data)


@pytest.fixture(scope="module")
def runs():
    """Year 0, year 3 for the new pole; both with revenue (ARPU 100) and no adoption
    barrier (potential 1) so that the pole pays back within the horizon."""
    arpu = {"economics.arpu_usd_per_month": ARPU, "adoption.smartphone_share": 1.0,
            "adoption.basic_phone_share": 0.0, "adoption.price_usd_per_gb": 0.0,
            "adoption.skills_baseline_share": 1.0}
    return (run(_scenario(**arpu)),
            run(_scenario(**arpu, **{"sites.new.0.build_year": 3})))


def test_build_year_zero_gives_the_same_summary_as_no_key():
    a = run(_scenario()).summary
    b = run(_scenario(**{"sites.new.0.build_year": 0})).summary
    for s in (a, b):
        s.pop("timings_s", None)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_sites_carry_the_build_year(runs):
    r0, r3 = runs
    assert r0.sites.build_year.tolist() == [0, 0]
    assert r3.sites.build_year.tolist() == [0, 3]          # existing macro, new pole
    assert r3.business.build_year.tolist() == [0, 3]


def test_group_built_in_year_3_connects_nobody_before_and_then_follows_year_0(runs):
    r0, r3 = runs
    c0, c3 = r0.business.connected_by_year, r3.business.connected_by_year   # (2, 10)
    assert c0.shape == c3.shape == (2, 10)
    # the existing macro (row 0) is the same in both runs
    assert np.array_equal(c3[0], c0[0])
    # the new pole: nobody in years 1..3 (columns 0..2), then year 3 + k as year k
    assert np.all(c3[1, :3] == 0)
    assert c0[1, 0] > 0
    for t in range(4, 11):
        assert c3[1, t - 1] == c0[1, t - 4]
    # and the summary's people connected by year is the sum of the two rows
    s3 = r3.summary["people_connected_by_year"]
    assert s3 == [round(float(v)) for v in c0[0] + np.r_[0, 0, 0, c0[1, :7]]]
    assert s3[:3] == [round(float(v)) for v in c0[0, :3]]
    # coverage is the same map (one run with every site on air)
    assert r3.summary["people_covered"] == r0.summary["people_covered"]


def test_npv_and_payback_start_at_the_build_year(runs):
    r0, r3 = runs
    b0, b3 = r0.business, r3.business
    capex, opex = b0.capex_usd[1], b0.opex_usd_per_year[1]
    assert b3.capex_usd[1] == capex and b3.opex_usd_per_year[1] == opex
    # NPV = -C/1.1^3 + sum_{t=4}^{10} (1200 U_t - O)/1.1^t = (1.1^-3) x the site's own NPV
    # over its 7 years, with U_{3+k} = the year-0 run's U_k
    own = ec.npv_usd(capex, opex, b0.connected_by_year[1, :7], ARPU, 0.1)
    assert b3.npv_usd[1] == pytest.approx(own / 1.1**3, rel=1e-12)
    assert b3.npv_usd[0] == b0.npv_usd[0]
    # the same by hand from the yearly cash flows, independent of economics.npv_usd
    t = np.arange(1, 11)
    u = b3.connected_by_year[1]
    cf = 12 * ARPU * u - opex * (t > 3)
    assert b3.npv_usd[1] == pytest.approx(-capex / 1.331 + np.sum(cf / 1.1**t), rel=1e-12)
    assert r3.summary["npv_usd"] == pytest.approx(b3.npv_usd[1], abs=0.01)
    # payback is a year of the programme: 3 + the site's own (simple) payback over its
    # 7 years; here within them, and the pole's station-type group says the same
    own_pb = ec.payback_year(capex, opex, b0.connected_by_year[1, :7], ARPU)
    assert 1 <= own_pb <= 7
    assert b3.payback_years[1] == 3 + own_pb
    assert r3.summary["payback_years"] == 3 + own_pb
    assert r3.summary["by_station_type"]["ruralstar_pro"]["payback_years"] == 3 + own_pb
    # the existing macro's payback does not move
    assert b3.payback_years[0] == b0.payback_years[0]


def test_npv_with_no_revenue_worked_by_hand():
    # ARPU 0 (the scenario's): NPV = -20633.33 / 1.1^3 - 1978 x sum_{t=4}^{10} 1.1^-t
    #   1.1^3 = 1.331: 20633.33 / 1.331 = 15502.13
    #   sum_{t=4}^{10} 1.1^-t = a(10) - a(3) = 6.1445671 - 2.4868520 = 3.6577151
    #   1978 x 3.6577151 = 7234.96; NPV = -22737.09
    s = run(_scenario(**{"sites.new.0.build_year": 3})).summary
    assert s["npv_usd"] == pytest.approx(-22737.09, abs=0.02)
    assert s["capex_usd"] == pytest.approx(20633.33, abs=0.01)       # undiscounted, as before
    assert s["payback_years"] is None


def test_group_payback_counts_each_capex_in_its_year():
    from simulator.business.assessment import _group_payback

    # two sites, no discounting: capex 100 at year 0, 100 at year 2; opex 0; net 60 a year
    # from users (12 x ARPU 5 x 1 user). Cumulative: t=1: -100+60 = -40; t=2: 120-200 = -80;
    # t=3: 180-200 = -20; t=4: 240-200 = 40 -> year 4 (after the last build year 2)
    users = np.ones(6)
    pb = _group_payback(np.array([100.0, 100.0]), np.array([0.0, 0.0]), users, 5.0, 0.0,
                        np.array([0, 2]))
    assert pb == 4.0
    # (site 2 has no users). One site built in year 2, one user from year 3 (60/yr):
    # t=3: 60 - 100 = -40; t=4: 120 - 100 = 20 -> year 4, its 2nd year after the build
    users = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    assert _group_payback(np.array([100.0]), np.array([0.0]), users, 5.0, 0.0,
                          np.array([2])) == 4.0
    # with opex 70 from year 3 it never pays back within the 6 years
    assert np.isnan(_group_payback(np.array([100.0]), np.array([70.0]), users, 5.0, 0.0,
                                   np.array([2])))


def test_position_build_year_overrides_the_group():
    sc = _scenario(**{"sites.new.0.build_year": 1,
                      "sites.new.0.positions": [{"lon": 35.03, "lat": -6.0, "build_year": 4},
                                                {"lon": 34.97, "lat": -6.0}]})
    r = run(sc)
    assert r.sites.build_year.tolist() == [0, 4, 1]


@pytest.mark.parametrize("changes, key", [
    ({"sites.existing.0.build_year": 2}, "sites.existing.0.build_year"),
    ({"sites.new.0.build_year": 10}, "sites.new.0.build_year"),       # horizon 10: 0..9
    ({"sites.new.0.positions": [{"lon": 35.03, "lat": -6.0, "build_year": 12}]},
     "sites.new.0.positions.0.build_year"),
])
def test_bad_build_year_is_a_scenario_error_naming_the_key(changes, key):
    from simulator.pipeline.runner import validate

    with pytest.raises(ScenarioError) as exc:
        validate(_scenario(**changes))
    assert exc.value.key == key
    assert "\n" not in str(exc.value)


def test_build_year_out_of_schema_range_is_refused():
    with pytest.raises(ScenarioError):
        _scenario(**{"sites.new.0.build_year": -1})
    with pytest.raises(ScenarioError):
        _scenario(**{"sites.new.0.build_year": 101})


def test_sites_subset_and_concat_keep_the_build_year():
    a = Sites(["a", "b"], [0, 1], [0, 1], ["macro"] * 2, [True, False], None, [0, 5])
    b = Sites(["c"], [2], [2], ["macro"], [False])
    assert b.build_year.tolist() == [0]
    ab = a.concat(b)
    assert ab.build_year.tolist() == [0, 5, 0]
    assert ab.subset([1, 2]).build_year.tolist() == [5, 0]
    assert ab.subset(np.array([False, True, False])).build_year.tolist() == [5]
    assert Sites.empty().concat(a).build_year.tolist() == [0, 5]


def test_shipped_scenario_with_the_new_group_built_in_year_3():
    """scenarios/rural-district.yaml (3 existing macros, 20 new poles), copied with
    ``build_year: 3`` on the new group: per site, the pole rows are the year-0 rows moved
    on by 3 years, the macro rows do not change."""
    import yaml

    from .conftest import ROOT

    path = ROOT / "scenarios" / "rural-district.yaml"
    data = yaml.safe_load(path.read_text())
    r0 = run(parse_scenario(json.loads(json.dumps(data)), path))
    data["sites"]["new"][0]["build_year"] = 3
    r3 = run(parse_scenario(data, path))
    new = ~np.asarray(r3.sites.existing)
    assert new.sum() > 0 and (~new).sum() > 0
    assert r3.sites.names == r0.sites.names
    assert np.all(r3.sites.build_year[new] == 3) and np.all(r3.sites.build_year[~new] == 0)
    c0, c3 = r0.business.connected_by_year, r3.business.connected_by_year
    n_years = c0.shape[1]
    assert np.array_equal(c3[~new], c0[~new])
    assert np.all(c3[new, :3] == 0) and np.all(c0[new, :3].sum(axis=1) > 0)
    assert np.array_equal(c3[new, 3:], c0[new, :n_years - 3])
    # the summary: before year 4 only the macros connect anybody
    by3 = r3.summary["people_connected_by_year"]
    assert by3[:3] == [round(float(v)) for v in c0[~new, :3].sum(axis=0)]
    assert by3[3:] == [round(float(v)) for v in
                       c0[~new, 3:].sum(axis=0) + c0[new, :n_years - 3].sum(axis=0)]
    # the poles' capex is discounted from year 3 and they earn over fewer years: the new
    # sites' NPV is (1+r)^-3 x their NPV over the horizon minus the last 3 years
    rate = r0.summary["discount_rate"]
    arpu = r0.business.params["economics"]["arpu_usd_per_month"]
    own = ec.npv_usd(r0.business.capex_usd[new], r0.business.opex_usd_per_year[new],
                     c0[new, :n_years - 3], arpu, rate)
    assert r3.business.npv_usd[new] == pytest.approx(own / (1 + rate) ** 3, rel=1e-12)
    assert r3.summary["capex_usd"] == r0.summary["capex_usd"]            # undiscounted
