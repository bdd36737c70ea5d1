"""Covered -> connected -> cost, end to end through the scenario run (simulator/business.py).

Expected values are worked by hand in the comments (formulas of docs/economics.md with the
numbers the scenario sets), or come from tests/data/rural_site_anchors.csv (published
figures); none is read back from the code under test.
"""

import csv
import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import load_scenario, parse_scenario, run
from simulator.business.assessment import assess

from .conftest import DATA, ROOT

# ------------------------------------------------------------------ a tiny two-site scenario

TWO_SITES = {
    "name": "two-sites", "seed": 5,
    "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 10, "height_km": 10,
               "resolution_m": 250},
    "population": {"synthetic": {"total_people": 3000, "settlements": 4}},
    "sites": {
        "existing": [{"station": "macro", "placement": "list",
                      "positions": [{"lon": 35.0, "lat": -6.0}]}],
        # ~3.3 km east of the macro: inside relay reach (5 and 15 km), no fibre anywhere
        "new": [{"station": "ruralstar_pro", "placement": "list",
                 "positions": [{"lon": 35.03, "lat": -6.0}]}],
    },
    "adoption": {"price_usd_per_gb": 0.8, "median_income_usd_per_month": 40.0,
                 "smartphone_share": 0.45, "skills_baseline_share": 0.5,
                 "bass_p": 0.03, "bass_q": 0.38, "combine": "independent",
                 # one income everywhere and no relevance barrier: the arithmetic below
                 "income_model": "uniform", "relevance_share": 1.0},
    "economics": {
        "horizon_years": 10, "discount_rate": 0.10, "arpu_usd_per_month": 0.0,
        "station_costs": {
            "ruralstar_pro": {"equipment_usd": 7000, "pole_or_tower_usd": 2000,
                              "civil_works_usd": 1500, "installation_usd": 1500,
                              "site_rent_usd_per_year": 300, "maintenance_usd_per_year": 800,
                              "off_grid_power": "solar"},
            "macro": {"equipment_usd": 25000, "pole_or_tower_usd": 35000,
                      "civil_works_usd": 15000, "installation_usd": 8000,
                      "site_rent_usd_per_year": 1800, "maintenance_usd_per_year": 2000,
                      "off_grid_power": "solar"}}},
    "capacity": {"mbps_per_active_user": 0.001},
    "backhaul": {"fibre_nodes": "none",
                 "options": {"relay_los": {"capex_usd": 3000, "opex_usd_per_year": 300},
                             "satellite": {"capex_usd": 8000, "opex_usd_per_year": 6000}}},
    "power": {"grid_points": "none", "solar_yield_kwh_per_kwp_per_day": 4.5,
              "solar_days_of_autonomy": 3},
    "outputs": {"maps": False},
}


def _scenario(**changes):
    data = json.loads(json.dumps(TWO_SITES))
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split(".")
        for p in path:
            node = node.setdefault(p, {})
        node[last] = value
    return parse_scenario(data)


@pytest.fixture(scope="module")
def two_sites():
    return run(_scenario())


def test_two_sites_costs_worked_by_hand(two_sites):
    s = two_sites.summary
    # Annuity factor r = 10 %, n = 10: (1 - 1.1**-10) / 0.1 = (1 - 0.3855433) / 0.1 = 6.1445671
    a = 6.1445671
    # Solar for the 120 W pole (catalogue efficiency 0.75, DoD 0.8, USD 1000/kWp,
    # USD 350/kWh, BOS 1000, upkeep 200/yr, battery life 10 yr):
    #   E = 0.120 * 24 = 2.88 kWh/day; array = 2.88 / (4.5 * 0.75) = 0.853333 kWp;
    #   battery = 2.88 * 3 / 0.8 = 10.8 kWh; capex = 853.33 + 3780 + 1000 = 5633.33;
    #   opex = 200 + 10.8 * 350 / 10 = 578
    # Pole site: capex = 7000 + 2000 + 1500 + 1500 + 5633.33 + relay 3000 = 20633.33
    #            opex  = 300 + 800 + 578 + relay 300 = 1978
    assert s["capex_usd"] == pytest.approx(20633.33, abs=0.01)
    assert s["opex_usd_per_year"] == pytest.approx(1978.0, abs=0.01)
    # TCO = 20633.33 + 1978 * 6.1445671 = 20633.33 + 12153.95 = 32787.28
    assert s["tco_usd"] == pytest.approx(32787.28, abs=0.02)
    assert s["tco_usd"] == pytest.approx(20633.33 + 1978.0 * a, abs=0.02)
    # ARPU 0: no revenue, so NPV = -TCO and there is no payback
    assert s["npv_usd"] == pytest.approx(-32787.28, abs=0.02)
    assert s["payback_years"] is None
    # Existing macro, 1500 W on solar: E = 36 kWh/day; array = 36 / 3.375 = 10.666667 kWp;
    #   battery = 36 * 3 / 0.8 = 135 kWh; capex = 10666.67 + 47250 + 1000 = 58916.67;
    #   opex = 200 + 135 * 350 / 10 = 4925. No fibre, no other donor: satellite 8000 + 6000/yr.
    #   capex = 25000 + 35000 + 15000 + 8000 + 58916.67 + 8000 = 149916.67
    #   opex  = 1800 + 2000 + 4925 + 6000 = 14725
    assert s["network_capex_usd"] == pytest.approx(20633.33 + 149916.67, abs=0.02)
    assert s["network_opex_usd_per_year"] == pytest.approx(1978 + 14725, abs=0.02)
    # network TCO = 170550 + 16703 * 6.1445671 = 170550 + 102632.70 = 273182.70
    assert s["network_tco_usd"] == pytest.approx(273182.70, abs=0.1)
    assert s["backhaul_new_sites"] == {"relay_los": 1}
    assert s["power_new_sites"] == {"solar": 1}
    by = s["by_station_type"]
    assert by["macro"]["capex_usd"] == pytest.approx(149916.67, abs=0.01)
    assert by["ruralstar_pro"]["tco_usd"] == pytest.approx(32787.28, abs=0.02)
    # cost per person: the hand-worked TCOs over the people the coverage run reports
    assert s["marginal_cost_per_person_covered_usd"] == pytest.approx(
        32787.28 / s["people_newly_covered"], rel=1e-5)
    assert s["cost_per_person_covered_usd"] == pytest.approx(
        273182.70 / s["people_covered"], rel=1e-5)


def test_two_sites_people_connected_worked_by_hand(two_sites):
    s = two_sites.summary
    # price 0.8 USD/GB x 1 GB / 2 % = USD 40 needed = the median income -> affordable 0.5
    # potential = handset 0.45 x affordable 0.5 x skills 0.5 = 0.1125
    assert s["adoption_shares"]["affordability"] == pytest.approx(0.5, abs=1e-9)
    assert s["adoption_shares"]["potential"] == pytest.approx(0.1125, abs=1e-9)
    # Bass (1969): F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}), p = 0.03, q = 0.38
    for t, got in enumerate(s["people_connected_by_year"], start=1):
        e = math.exp(-0.41 * t)
        f = (1 - e) / (1 + (0.38 / 0.03) * e)
        assert abs(got - s["people_covered"] * 0.1125 * f) <= 0.5 + 1e-9
    # F(10) = (1 - e^-4.1) / (1 + 12.6667 e^-4.1) = 0.983427 / 1.209924 = 0.812802
    assert s["people_connected"] == round(s["people_covered"] * 0.1125 * 0.812802)
    assert s["people_connected"] <= s["people_covered"]


def test_sites_geojson_carries_backhaul_power_and_cost(two_sites, tmp_path):
    out = two_sites.save(tmp_path / "r", maps=False)
    gj = json.loads((out / "sites.geojson").read_text())
    props = {f["properties"]["station_type"]: f["properties"] for f in gj["features"]}
    pole, macro = props["ruralstar_pro"], props["macro"]
    assert pole["backhaul"] == "relay_los" and macro["backhaul"] == "satellite"
    assert pole["power"] == "solar"
    assert pole["capex_usd"] == pytest.approx(20633.33, abs=0.01)
    assert pole["opex_usd_per_year"] == pytest.approx(1978.0, abs=0.01)
    assert pole["backhaul_capacity_exceeded"] is False
    assert 0 <= pole["people_connected"] <= pole["people_served"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["people_connected"] == two_sites.summary["people_connected"]
    rows = dict(csv.reader((out / "summary.csv").read_text().splitlines()))
    assert float(rows["tco_usd"]) == pytest.approx(32787.28, abs=0.02)
    assert rows["payback_years"] == ""          # no payback: an empty cell, not NaN


def test_site_over_backhaul_capacity_is_flagged():
    # Only satellite (10 Mbit/s) allowed, and 1 Mbit/s per person served: every site that
    # serves more than 10 people cannot be carried.
    r = run(_scenario(**{"capacity.mbps_per_active_user": 1.0,
                         "capacity.busy_hour_active_share": 1.0,
                         "backhaul.options": {o: {"enabled": False} for o in
                                              ("fibre", "microwave", "relay_los",
                                               "relay_nlos")}}))
    b = r.business
    served = r.people_served_per_site
    np.testing.assert_array_equal(b.backhaul_capacity_exceeded, served > 10)
    assert r.summary["backhaul_capacity_exceeded_sites"] == int((served > 10).sum())


def test_same_seed_same_bytes_with_business_numbers(tmp_path):
    a = run(_scenario()).save(tmp_path / "a", maps=False)
    b = run(_scenario()).save(tmp_path / "b", maps=False)
    for name in ("summary.json", "summary.csv", "sites.geojson"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


# ----------------------------------------------------------------------------- monotonicity

@pytest.mark.parametrize("key,worse,better", [
    ("adoption.price_usd_per_gb", 3.0, 1.0),                 # lower price
    ("adoption.median_income_usd_per_month", 30.0, 90.0),    # higher income
    ("adoption.training_places", 0, 1500),                   # more training
])
def test_levers_never_give_fewer_connected_through_the_run(key, worse, better):
    lo = run(_scenario(**{key: worse})).summary
    hi = run(_scenario(**{key: better})).summary
    assert lo["people_covered"] == hi["people_covered"]   # coverage does not depend on them
    assert all(h >= w for h, w in zip(hi["people_connected_by_year"],
                                      lo["people_connected_by_year"]))
    assert hi["people_connected"] > lo["people_connected"]  # these changes are large
    assert hi["marginal_cost_per_person_connected_usd"] <= \
        lo["marginal_cost_per_person_connected_usd"]


@settings(max_examples=40, deadline=None)
@given(price=st.floats(0, 20), dp=st.floats(0, 20), income=st.floats(5, 500),
       di=st.floats(0, 500), places=st.integers(0, 20000), dt=st.integers(0, 20000),
       combine=st.sampled_from(["independent", "nested"]))
def test_connected_monotone_and_bounded_property(two_sites, price, dp, income, di, places, dt,
                                                 combine):
    r = two_sites

    def connected(**adopt):
        base = {"adoption.combine": combine}
        base.update({f"adoption.{k}": v for k, v in adopt.items()})
        b = assess(_scenario(**base), r.grid, r.sites, r.stations, r.people_served_per_site,
                   population_total=r.summary["population_total"],
                   people_covered=r.summary["people_covered"],
                   people_covered_existing=r.summary["people_covered_by_existing_sites"])
        return b

    ref = connected(price_usd_per_gb=price + dp, median_income_usd_per_month=income,
                    training_places=places)
    cheaper = connected(price_usd_per_gb=price, median_income_usd_per_month=income,
                        training_places=places)
    richer = connected(price_usd_per_gb=price + dp, median_income_usd_per_month=income + di,
                       training_places=places)
    trained = connected(price_usd_per_gb=price + dp, median_income_usd_per_month=income,
                        training_places=places + dt)
    for other in (cheaper, richer, trained):
        assert np.all(other.connected_by_year >= ref.connected_by_year - 1e-9)
        assert other.summary["people_connected"] >= ref.summary["people_connected"]
    served = r.people_served_per_site
    for b in (ref, cheaper, richer, trained):
        assert np.all(b.connected_by_year <= served[:, None] + 1e-9)
        assert np.all(np.diff(b.connected_by_year, axis=1) >= -1e-9)   # never fewer later
        assert b.summary["people_connected"] <= r.summary["people_covered"]
        assert b.summary["people_newly_connected"] <= r.summary["people_newly_covered"]


# --------------------------------------------------------------------- published anchors

def _anchors():
    with open(DATA / "rural_site_anchors.csv") as fh:
        return {row["quantity"]: (float(row["low"]), float(row["high"]))
                for row in csv.DictReader(fh)}


def test_default_scenario_against_published_anchors():
    anchors = _anchors()
    rs = run(load_scenario(ROOT / "scenarios" / "rural-district.yaml"))
    mo = run(load_scenario(ROOT / "scenarios" / "macro-only.yaml"))
    b = rs.business
    new = ~rs.sites.existing
    lo, hi = anchors["ruralstar_class_site_capex"]
    # every new pole site, with its chosen power and backhaul, costs USD 10k-30k up front
    assert np.all((b.capex_usd[new] >= lo) & (b.capex_usd[new] <= hi))
    # a new macro tower with diesel and its backhaul: "about $100,000" (we allow +-20 %)
    lo, hi = anchors["macro_site_capex"]
    mnew = ~mo.sites.existing
    assert np.all(np.abs(mo.business.capex_usd[mnew] - lo) <= 0.2 * lo)
    # people per rural site 1,500-3,000: the default district's 20 poles go to ever smaller
    # villages; their mean is the same order (measured 1,454). Allowed: 1,000-3,000.
    lo, hi = anchors["people_per_rural_site"]
    assert 1000 <= rs.summary["people_served_per_new_site_mean"] <= hi
    # RuralStar Pro ~120 W: the pole's draw sizes its solar system (0.85 kWp at the defaults)
    lo, _ = anchors["ruralstar_pro_power_draw"]
    assert rs.stations["ruralstar_pro"].power_draw_w == lo
    # the pole design costs less per person connected than the macro extension
    assert (rs.summary["marginal_cost_per_person_connected_usd"]
            < mo.summary["marginal_cost_per_person_connected_usd"])
    assert rs.summary["people_connected"] <= rs.summary["people_covered"]


# ------------------------------------------------------------------------------ bad input

GOOD = """\
name: t
region: {width_km: 6, height_km: 5, resolution_m: 250}
population: {synthetic: {total_people: 1000, settlements: 4}}
sites:
  new: [{station: ruralstar_pro, count: 2}]
"""

BAD = {
    "negative_price": (GOOD + "adoption: {price_usd_per_gb: -1}\n",
                       ["adoption.price_usd_per_gb", "greater than or equal to 0", "-1"]),
    "share_above_1": (GOOD + "adoption: {smartphone_share: 1.2}\n",
                      ["adoption.smartphone_share", "less than or equal to 1", "1.2"]),
    "shares_add_above_1": (GOOD + "adoption: {smartphone_share: 0.8, basic_phone_share: 0.3}\n",
                           ["adoption.basic_phone_share", "at most 1"]),
    "horizon_0": (GOOD + "economics: {horizon_years: 0}\n",
                  ["economics.horizon_years", "greater than or equal to 1", "0"]),
    "station_type_without_cost": (
        GOOD.replace("station: ruralstar_pro", "station: my_pole")
        + "stations: {my_pole: {base: ruralstar_pro, height_m: 12}}\n",
        ["sites.new.0.station", "my_pole", "no cost entry", "economics.station_costs.my_pole"]),
    "cost_for_unknown_type": (GOOD + "economics: {station_costs: {ruralstar_por: "
                                     "{equipment_usd: 5000}}}\n",
                              ["economics.station_costs.ruralstar_por", "ruralstar_pro"]),
    "negative_capex": (GOOD + "economics: {station_costs: {ruralstar_pro: "
                              "{equipment_usd: -5}}}\n",
                       ["economics.station_costs.ruralstar_pro.equipment_usd",
                        "greater than or equal to 0"]),
    "every_backhaul_disabled": (
        GOOD + "backhaul: {options: {" + ", ".join(
            f"{o}: {{enabled: false}}" for o in
            ("fibre", "microwave", "relay_los", "relay_nlos", "satellite")) + "}}\n",
        ["backhaul.options", "at least one"]),
}


def _cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_business_input_one_line_exit_2_nothing_written(case, tmp_path):
    text, must = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text))
    proc = _cli(["run", str(path), "--out", str(tmp_path / "out")], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("ruralsim: error: ") and str(path) in err
    for m in must:
        assert m in err, (m, err)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]
    # validate finds the same mistake without running
    v = _cli(["validate", str(path)], tmp_path)
    assert v.returncode == 2 and v.stderr.strip() == err


# -------------------------------------------------------------------------------- compare

def test_compare_writes_csv_png_and_prints_table(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text(textwrap.dedent(GOOD.replace("name: t", "name: poles")))
    b = tmp_path / "b.yaml"
    b.write_text(textwrap.dedent(GOOD.replace("name: t", "name: small-cells")
                                 .replace("station: ruralstar_pro", "station: small_cell")))
    # one input as a results folder of an earlier run
    r = _cli(["run", str(b), "--out", str(tmp_path / "res-b"), "--no-maps", "--quiet"], tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "cmp"
    proc = _cli(["compare", str(a), str(tmp_path / "res-b"), "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "people connected" in proc.stdout and "poles" in proc.stdout
    assert "small-cells" in proc.stdout and "per person newly connected" in proc.stdout
    rows = list(csv.DictReader((out / "comparison.csv").read_text().splitlines()))
    assert [row["scenario"] for row in rows] == ["poles", "small-cells"]
    summary_b = json.loads((tmp_path / "res-b" / "summary.json").read_text())
    assert int(rows[1]["people_connected"]) == summary_b["people_connected"]
    for row in rows:
        assert int(row["people_connected"]) <= int(row["people_covered"])
    png = (out / "comparison.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert sorted(p.name for p in out.iterdir()) == ["comparison.csv", "comparison.png",
                                                     "manifest.json"]
    # existing outputs are kept unless --overwrite
    again = _cli(["compare", str(a), "--out", str(out)], tmp_path)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert len(list(csv.DictReader((out / "comparison.csv").read_text().splitlines()))) == 2


def test_compare_bad_input_writes_nothing(tmp_path):
    good = tmp_path / "a.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD + "economics: {horizon_years: 0}\n")
    proc = _cli(["compare", str(good), str(bad), "--out", str(tmp_path / "cmp")], tmp_path)
    assert proc.returncode == 2
    assert "bad.yaml" in proc.stderr and "economics.horizon_years" in proc.stderr
    assert not (tmp_path / "cmp").exists()


def test_plot_scenario_comparison_returns_axes(two_sites):
    import matplotlib.pyplot as plt

    from simulator.plotting import plot_scenario_comparison

    fig, ax = plt.subplots()
    got = plot_scenario_comparison([two_sites, two_sites.summary], ax=ax)
    assert got is ax
    assert "connected" in ax.figure.axes[-1].get_ylabel()
    plt.close(fig)
