"""The programme end to end (simulator.programme, ruralsim programme) on a small district.

Expected values come from the definitions (people counted once, each year's budget, the
viability gap, the site costs run gives), not from the code under test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from simulator import parse_scenario
from simulator.programme import programme

BASE = {
    "name": "prog-small", "seed": 5,
    "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 24, "height_km": 18,
               "resolution_m": 200},
    "population": {"synthetic": {"total_people": 12000, "settlements": 14,
                                 "dispersed_share": 0.1}},
    "technology": "lte_900",
    "propagation": {"model": "rma_38901", "shadowing_sigma_db": 8,
                    "location_reliability": 0.75},
    "sites": {"existing": [{"station": "macro", "count": 1}]},
    "outputs": {"report": False},
}


def scenario(programme_section: dict, **extra):
    data = {**BASE, **extra, "programme": programme_section}
    return parse_scenario(data)


@pytest.fixture(scope="module")
def mix():
    return programme(scenario({"target": {"share": 0.7}, "annual_capex_usd": 60000,
                               "method": "ilp"}))


def test_target_is_met_and_people_count_once(mix):
    s = mix.summary
    assert s["people_covered"] >= 0.7 * s["population_total"] - 1
    # the marginal people of the sites add up to the people covered beyond the existing
    # network: a village served by two options counts once
    assert s["people_covered"] - s["people_covered_existing"] == sum(mix.sites["people_added"])
    assert s["people_covered"] <= s["population_total"]


def test_no_double_counting_of_a_village_with_a_hotspot_and_a_cell_site():
    # hotspots everywhere and a macro in the same village: the union is counted, not the sum
    r = programme(scenario({"budget_usd": 5e6, "cost_basis": "capex", "method": "ilp"}))
    assert r.summary["people_covered"] <= r.summary["population_total"]
    assert r.summary["people_covered"] - r.summary["people_covered_existing"] == \
        sum(r.sites["people_added"])


def test_each_location_gets_at_most_one_option(mix):
    locs = mix.sites["location"]
    assert len(locs) == len(set(locs))


def test_rollout_respects_every_years_budget(mix):
    by_year = {}
    for c, y in zip(mix.sites["capex_usd"], mix.sites["build_year"]):
        if y >= 0:
            by_year[int(y)] = by_year.get(int(y), 0.0) + float(c)
    assert by_year, "nothing built"
    assert max(by_year.values()) <= 60000 * (1 + 1e-9)
    table = {row["year"]: row for row in mix.rollout.table()}
    for y, total in by_year.items():
        assert table[y]["capex_usd"] == pytest.approx(total, rel=1e-9, abs=0.01)


def test_nobody_connects_before_their_site_is_built(mix):
    users = np.asarray(mix.rollout.users_by_year)
    for j, y in enumerate(mix.sites["build_year"]):
        if y > 0:
            assert np.all(users[j, :y] == 0)


def test_viability_gap_is_minus_npv_where_negative(mix):
    npv = np.asarray(mix.sites["npv_usd"])
    gap = np.asarray(mix.sites["viability_gap_usd"])
    assert np.allclose(gap, np.where(npv < 0, -npv, 0.0))
    assert mix.summary["viability_gap_usd"] == pytest.approx(gap.sum(), abs=0.02)
    assert mix.summary["npv_usd"] == pytest.approx(npv.sum(), abs=0.02)


def test_mix_never_costs_more_than_one_technology_alone():
    target = {"share": 0.6}
    mixed = programme(scenario({"target": target, "method": "ilp"}))
    for opt, spec in (("pole", {"station": "ruralstar_pro"}), ("macro", {"station": "macro"})):
        try:
            alone = programme(scenario({"target": target, "method": "ilp",
                                        "options": {opt: spec}}))
        except Exception as exc:  # out of reach with this technology alone
            assert "out of reach" in str(exc)
            continue
        assert mixed.summary["solver"]["cost_usd"] <= alone.summary["solver"]["cost_usd"] + 1e-6


def test_cell_sites_cost_what_run_costs_them(mix, tmp_path):
    """The programme scenario (the chosen cell sites as groups) run: its new sites' capex is
    the programme's cell-site capex (before relay chains change a site's backhaul)."""
    from simulator import run

    r = programme(scenario({"target": {"share": 0.6}, "relay": {"enabled": False},
                            "options": {"pole": {"station": "ruralstar_pro"},
                                        "macro": {"station": "macro"}}}))
    sc = r.programme_scenario()
    res = run(sc)
    cell = [i for i, k in enumerate(r.sites["kind"]) if k == "cell"]
    want = sum(r.sites["capex_usd"][i] for i in cell)
    assert res.summary["capex_usd"] == pytest.approx(want, abs=0.02)


def test_cli_writes_the_programme_folder(tmp_path):
    import yaml

    from simulator.cli import main

    p = tmp_path / "prog.yaml"
    p.write_text(yaml.safe_dump({**BASE, "outputs": {"report": True},
                                 "programme": {"target": {"share": 0.6},
                                               "annual_capex_usd": 80000}}))
    out = tmp_path / "out"
    assert main(["programme", str(p), "--out", str(out), "--quiet"]) == 0
    for f in ("programme_summary.json", "villages.csv", "villages.geojson",
              "programme_sites.geojson", "backhaul_links.geojson", "rollout.csv",
              "cost_curve.csv", "technology_map.png", "viability_map.png", "cost_curve.png",
              "rollout.png", "programme_scenario.yaml", "report.html", "manifest.json"):
        assert (out / f).is_file(), f
    s = json.loads((out / "programme_summary.json").read_text())
    assert s["people_covered"] >= 0.6 * s["population_total"] - 1
    villages = (out / "villages.csv").read_text().splitlines()
    assert len(villages) == s["locations"] + 1
    assert all(r.split(",")[0] for r in villages[1:])
    html = (out / "report.html").read_text()
    for key in ('id="viability-gap"', 'id="technology-mix"', 'id="rollout"', 'id="villages"',
                'id="fig-technology_map"'):
        assert key in html
    assert f"{s['viability_gap_usd']:,.0f}" in html
