"""Optimised placement: plan() against the optimisers' guarantees, the engine and run()."""

import json
import math

import numpy as np
import pytest
import yaml

from simulator import ScenarioError, load_scenario, parse_scenario, run
from simulator.cli import main
from simulator.planning.optimise import brute_force_max_coverage
from simulator.planning.planner import plan


def scenario_data(**planning):
    data = {
        "name": "plan-small", "seed": 3,
        "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 16, "height_km": 12,
                   "resolution_m": 200},
        "population": {"synthetic": {"total_people": 12000, "settlements": 20}},
        "sites": {"existing": [{"station": "macro", "count": 1, "min_spacing_km": 5}]},
        "planning": {"candidates": {"source": "settlements", "spacing_km": 1},
                     "max_sites": 5, "method": "both"},
    }
    data["planning"].update(planning)
    return data


@pytest.fixture(scope="module")
def both_k5():
    return plan(parse_scenario(scenario_data()))


@pytest.mark.parametrize("limits", [{"max_sites": 2}, {"max_sites": 5},
                                    {"max_sites": None, "budget_usd": 50_000},
                                    {"max_sites": None, "budget_usd": 120_000,
                                     "candidates": {"source": "grid", "spacing_km": 2,
                                                    "station": ["ruralstar_pro", "macro"]}}])
def test_ilp_never_below_greedy_and_greedy_within_its_bound(limits):
    r = plan(parse_scenario(scenario_data(**limits)))
    g, ilp = r.placements["greedy"], r.placements["ilp"]
    assert ilp.optimal
    assert ilp.people_covered >= g.people_covered - 1e-9
    if limits.get("max_sites"):
        assert g.guarantee == pytest.approx(1 - 1 / math.e)
        assert g.people_covered >= (1 - 1 / math.e) * ilp.people_covered - 1e-9
    else:
        assert g.people_covered >= g.guarantee * ilp.people_covered - 1e-9
        assert ilp.cost_usd <= limits["budget_usd"] and g.cost_usd <= limits["budget_usd"]
    assert r.placement is ilp


def test_ilp_equals_brute_force_on_a_tiny_real_scenario():
    data = scenario_data(max_sites=3, method="ilp")
    data["planning"]["candidates"]["max_count"] = 14
    r = plan(parse_scenario(data))
    assert len(r.candidates) == 14
    bf = brute_force_max_coverage(r.coverage.matrix, r.coverage.people,
                                  r.candidate_cost_usd, max_sites=3,
                                  already_covered=r.already_covered)
    assert r.placement.optimal
    assert r.placement.people_covered == pytest.approx(bf.people_covered)
    assert bf.people_covered > 0


def test_people_counted_once_and_existing_not_credited(both_k5):
    r = both_k5
    cm, chosen = r.coverage, r.placement.chosen
    # independent count: union of the chosen rows, minus cells the kept sites cover
    union = np.zeros(cm.matrix.shape[1], bool)
    for i in chosen:
        union[cm.matrix[[i]].indices] = True
    expected = cm.people[union & ~r.already_covered].sum()
    assert r.summary["people_newly_covered"] == expected == r.chosen_people.sum()
    # the chosen footprints overlap (or touch existing coverage): adding each site's own
    # people would count someone twice
    standalone = sum(cm.people[cm.matrix[[i]].indices].sum() for i in chosen)
    assert standalone > expected
    # the kept macro's people are in the baseline, not in the plan
    assert r.summary["people_covered_by_kept_sites"] > 0
    assert (r.summary["people_covered_after_plan"]
            == r.summary["people_covered_by_kept_sites"] + expected)


def test_candidate_on_an_existing_site_adds_nobody(tmp_path):
    base = run(parse_scenario(scenario_data()))
    mx, my = base.sites.x_m[0], base.sites.y_m[0]
    (tmp_path / "c.csv").write_text(
        f"x_m,y_m,station,name\n{mx},{my},macro,on-the-macro\n{mx},{my},macro,twin\n"
        f"{mx + 6000},{my},ruralstar_pro,far\n")
    data = scenario_data(max_sites=3, method="ilp")
    data["planning"]["candidates"] = {"source": "file", "file": "c.csv"}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    r = plan(load_scenario(tmp_path / "s.yaml"))
    gains = [r.coverage.people[r.coverage.matrix[[i]].indices
                               [~r.already_covered[r.coverage.matrix[[i]].indices]]].sum()
             for i in range(3)]
    assert gains[0] == gains[1] == 0  # same footprint as the existing macro
    assert r.chosen.names == ["planned-1-far"] or gains[2] == 0
    assert r.summary["people_newly_covered"] == gains[2]


@pytest.mark.parametrize("with_new_group", [False, True])
def test_planned_scenario_reproduces_the_plan_through_run(with_new_group):
    data = scenario_data(max_sites=4, method="greedy")
    if with_new_group:  # sites the scenario already adds are kept as they are
        data["sites"]["new"] = [{"station": "ruralstar_pro", "count": 3, "min_spacing_km": 3}]
    r = plan(parse_scenario(data))
    planned = r.planned_scenario()
    # round trip through YAML as the CLI writes it
    planned = parse_scenario(yaml.safe_load(yaml.safe_dump(planned.model_dump(mode="json"))))
    out = run(planned)
    assert out.summary["people_covered"] == r.summary["people_covered_after_plan"]
    if not with_new_group:  # the only new sites are the planned ones
        assert out.summary["people_newly_covered"] == r.summary["people_newly_covered"]
    else:  # the kept new group covers more than the existing macro alone
        assert r.summary["people_covered_by_kept_sites"] \
            > out.summary["people_covered_by_existing_sites"]
    assert out.summary["sites_new"] == len(r.chosen) + (3 if with_new_group else 0)
    assert planned.planning is None and planned.name == "plan-small-planned"


def test_people_connected_weights_people_by_the_adoption_share():
    a = plan(parse_scenario(scenario_data(method="greedy")))
    b = plan(parse_scenario(scenario_data(method="greedy", objective="people_connected",
                                          adoption_share=0.4)))
    np.testing.assert_array_equal(a.placement.chosen, b.placement.chosen)
    assert b.placement.people_covered == pytest.approx(0.4 * a.placement.people_covered)
    assert b.summary["people_newly_covered"] == a.summary["people_newly_covered"]


def test_hilltop_candidates_from_a_dem():
    s = parse_scenario(scenario_data(method="greedy", max_sites=2,
                                     candidates={"source": "hilltops", "spacing_km": 3}))
    with pytest.raises(ScenarioError, match="need a DEM"):
        plan(s)
    rows, cols = 60, 80  # 12 km x 16 km at 200 m
    yy, xx = np.mgrid[0:rows, 0:cols]
    dem = 100 * np.exp(-((xx - 20) ** 2 + (yy - 30) ** 2) / 50.0) \
        + 80 * np.exp(-((xx - 60) ** 2 + (yy - 15) ** 2) / 50.0)
    r = plan(s, dem=dem)
    assert len(r.candidates) >= 2
    # the highest candidate is the top of the first hill, cell (30, 20)
    g = r.grid
    assert r.candidates.x_m[0] == g.x_centres()[20] and r.candidates.y_m[0] == g.y_centres()[30]


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_plan_end_to_end(tmp_path, capsys):
    data = scenario_data(max_sites=None, budget_usd=60_000)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    out = tmp_path / "plan"
    assert main(["plan", str(tmp_path / "s.yaml"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "people newly covered" in text and "proven optimal" in text
    summary = json.loads((out / "plan_summary.json").read_text())
    assert summary["cost_usd"] <= 60_000 and summary["method"] == "ilp"
    assert set(summary["methods"]) == {"greedy", "ilp"}
    gj = json.loads((out / "chosen_sites.geojson").read_text())
    assert len(gj["features"]) == summary["sites_chosen"] > 0
    lon, lat = gj["features"][0]["geometry"]["coordinates"]
    assert 34.8 < lon < 35.2 and -6.2 < lat < -5.8
    lines = (out / "marginal_curve.csv").read_text().splitlines()
    assert lines[0].startswith("method,sites,")
    ilp_rows = [ln for ln in lines[1:] if ln.startswith("ilp,")]
    assert len(ilp_rows) == summary["sites_chosen"] + 1
    assert int(ilp_rows[-1].split(",")[5]) == summary["people_newly_covered"]
    assert (out / "marginal_curve.png").read_bytes()[:4] == b"\x89PNG"
    # the planned scenario runs and reproduces the plan
    assert main(["run", str(out / "planned_scenario.yaml"), "--out", str(tmp_path / "run"),
                 "--no-maps", "--quiet"]) == 0
    ran = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert ran["people_covered"] == summary["people_covered_after_plan"]
    # an existing folder is refused without --overwrite, replaced with it
    assert main(["plan", str(tmp_path / "s.yaml"), "--out", str(out)]) == 2
    assert main(["plan", str(tmp_path / "s.yaml"), "--out", str(out), "--overwrite",
                 "--method", "greedy", "--quiet"]) == 0
    assert json.loads((out / "plan_summary.json").read_text())["methods"].keys() == {"greedy"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("change, csv_text, key, message", [
    ({"max_sites": None, "budget_usd": 5000}, None, "planning.budget_usd",
     "below the cheapest candidate"),
    ({"candidates": {"source": "file", "file": "c.csv"}},
     "x_m,y_m\n0,0\n", "line 2", "outside the region"),
    ({"candidates": {"source": "file", "file": "c.csv"}},
     "lon,lat\n35.0,-6.0\n36.5,-6.0\n", "line 3", "outside the region"),
    ({"candidates": {"source": "file", "file": "c.csv"}}, "x_m,y_m\n", None, "no candidates"),
    ({"max_sites": None}, None, "planning", "give a budget"),
    ({"candidates": {"source": "grid", "spacing_km": 2, "station": "tower9"}}, None,
     "planning.candidates.station", "unknown station type"),
    ({"methd": "ilp"}, None, "planning.methd", "unknown key"),
])
def test_cli_plan_bad_input(tmp_path, capsys, change, csv_text, key, message):
    data = scenario_data(**change)
    if csv_text is not None:
        (tmp_path / "c.csv").write_text(csv_text)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    out = tmp_path / "plan"
    assert main(["plan", str(tmp_path / "s.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("ruralsim: error: ")
    assert message in err
    if key:
        assert key in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_no_candidates_when_there_are_no_settlements():
    data = scenario_data()
    data["population"]["synthetic"]["settlements"] = 0
    with pytest.raises(ScenarioError, match="no candidates") as e:
        plan(parse_scenario(data))
    assert e.value.key == "planning.candidates.source"
