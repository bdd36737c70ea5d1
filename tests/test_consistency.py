"""Numbers a planner can defend (issue 15): one cost basis for plan and run, adoption that
explains itself, per-site truth, warnings everywhere, permissions, whole people.

Each test would fail on the code before issue 15: plan costed candidates without power and
backhaul; adoption had one potential for the region and said nothing about levers;
sites.geojson had no load; warnings stayed in summary.json; results folders were 0700.
"""

from __future__ import annotations

import json
import logging
import math
import os
import stat
import warnings

import numpy as np
import pytest
import yaml

from simulator import parse_scenario, run
from simulator.cli import main
from simulator.errors import RuralsimWarning
from simulator.planning.planner import plan


def small(**changes) -> dict:
    data = {
        "name": "c15", "seed": 3,
        "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 16, "height_km": 12,
                   "resolution_m": 200},
        "population": {"synthetic": {"total_people": 12000, "settlements": 20}},
        "sites": {"existing": [{"station": "macro", "count": 1, "min_spacing_km": 5}]},
        "outputs": {"maps": False, "report": False},
    }
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split(".")
        for p in path:
            node = node.setdefault(p, {})
        node[last] = value
    return data


def _geojson_props(path):
    return {f["properties"]["name"]: f["properties"]
            for f in json.loads(path.read_text())["features"]}


# ------------------------------------------------------------------------- one cost basis

@pytest.mark.parametrize("terrain", [False, True])
def test_plan_capex_equals_the_run_capex_of_the_planned_scenario(tmp_path, terrain):
    """The plan's capex (power and backhaul included) is what run reports, within rounding,
    in total and site by site; the plan stays within its budget when run."""
    changes = {"planning": {"candidates": {"source": "settlements", "spacing_km": 1},
                            "budget_usd": 90_000, "method": "greedy"}}
    if terrain:   # line of sight to the donor over the DEM decides microwave / relay
        changes["terrain"] = {"synthetic": {"relief_m": 400, "ridges": 2}}
    r = plan(parse_scenario(small(**changes)))
    s = r.summary
    assert s["sites_chosen"] >= 2
    out = r.save(tmp_path / "plan")
    planned = yaml.safe_load((out / "planned_scenario.yaml").read_text())
    ran = run(parse_scenario(planned))
    rs = ran.summary
    # the run's new sites are exactly the planned ones
    assert rs["sites_new"] == s["sites_chosen"]
    assert rs["capex_usd"] == pytest.approx(s["capex_usd"], abs=0.02)
    assert rs["tco_usd"] == pytest.approx(s["tco_usd"], abs=0.02)
    assert rs["opex_usd_per_year"] == pytest.approx(s["opex_usd_per_year"], abs=0.02)
    assert rs["capex_usd"] <= 90_000
    assert rs["people_covered"] == s["people_covered_when_run"]
    # site by site, through the files both write
    saved = ran.save(tmp_path / "run", maps=False)
    run_sites = _geojson_props(saved / "sites.geojson")
    for name, p in _geojson_props(out / "chosen_sites.geojson").items():
        assert run_sites[name]["capex_usd"] == pytest.approx(p["capex_usd"], abs=0.01)
        assert run_sites[name]["backhaul"] == p["backhaul"]
        assert run_sites[name]["power"] == p["power"]
    # the station part alone (what the plan used to count) is far below the full capex
    station_only = float(r.chosen_costs.station_capex_usd.sum())
    assert s["capex_usd"] > station_only + 2_000 * s["sites_chosen"]


def test_plan_budget_on_tco_holds_when_run():
    budget = 150_000
    r = plan(parse_scenario(small(planning={"max_sites": 10, "budget_usd": budget,
                                            "cost_basis": "tco"})))
    assert r.summary["cost_basis"] == "tco"
    assert r.summary["tco_usd"] <= budget
    assert r.summary["cost_usd"] == r.summary["tco_usd"]
    ran = run(r.planned_scenario())
    assert ran.summary["tco_usd"] == pytest.approx(r.summary["tco_usd"], abs=0.02)


def test_plan_without_a_planning_section_from_the_command_line(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(small()))
    out = tmp_path / "p"
    assert main(["plan", str(tmp_path / "s.yaml"), "--max-sites", "3", "--budget-usd",
                 "200000", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    summary = json.loads((out / "plan_summary.json").read_text())
    assert summary["candidate_source"] == "settlements" and summary["sites_chosen"] == 3
    assert summary["stop_reason"] == "max_sites=3 reached"
    # capex and 10-year TCO per site and in total, and why it stopped
    assert "stopped" in text and "max_sites=3 reached" in text
    assert f"{summary['capex_usd']:,.0f}" in text and f"{summary['tco_usd']:,.0f}" in text
    for site in summary["sites"]:
        assert site["name"] in text and f"{site['tco_usd']:,.0f}" in text
    assert math.isclose(sum(x["capex_usd"] for x in summary["sites"]), summary["capex_usd"],
                        abs_tol=0.05)


def test_plan_says_why_it_stopped_on_the_budget():
    r = plan(parse_scenario(small(planning={"budget_usd": 50_000})))
    s = r.summary
    left = 50_000 - s["capex_usd"]
    assert s["budget_left_usd"] == pytest.approx(left, abs=0.01)
    assert s["stop_reason"].startswith(f"budget left USD {left:,.0f}: no affordable "
                                       "candidate adds people")
    # no candidate left out fits into what is left (costed as the selection costed them)
    unchosen = np.setdiff1d(np.arange(len(r.candidates)), r.placement.chosen)
    assert (r.candidate_cost_usd[unchosen] > left).all()


def test_a_shipped_scenario_plans_from_its_planning_section(tmp_path):
    from .conftest import ROOT

    scen = ROOT / "scenarios" / "rural-district-plan.yaml"
    readme = (ROOT / "README.md").read_text()
    assert "ruralsim plan scenarios/rural-district-plan.yaml" in readme
    assert main(["plan", str(scen), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    s = json.loads((tmp_path / "p" / "plan_summary.json").read_text())
    assert 0 < s["capex_usd"] <= s["budget_usd"]


# --------------------------------------------------------------------- adoption explained

def _summary(**adoption):
    return run(parse_scenario(small(**{f"adoption.{k}": v for k, v in adoption.items()}))
               ).summary


def test_a_lever_that_does_not_bind_changes_no_number_and_says_so(capsys, tmp_path):
    base = _summary()
    trained = _summary(training_places=5000)
    ab = base["adoption_barriers"]
    assert ab["combine"] == "nested" and ab["binding"] == "affordability"
    assert "skills" in ab["no_effect"]
    # every number but the skills share (and the echo of the lever) is the same
    same = {k: v for k, v in base.items() if k not in ("adoption_shares", "assumptions",
                                                        "adoption_barriers")}
    assert {k: trained[k] for k in same} == same
    assert trained["adoption_shares"]["skills"] > base["adoption_shares"]["skills"]
    note = "training places have no effect while affordability binds"
    assert any(n.startswith(note) for n in trained["adoption_barriers"]["notes"])
    # and the run table says it
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(small(**{"adoption.training_places": 5000})))
    assert main(["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "r")]) == 0
    assert note in capsys.readouterr().out


def test_raising_the_binding_lever_raises_people_connected():
    base = _summary()
    richer = _summary(median_income_usd_per_month=60.0)
    cheaper = _summary(price_usd_per_gb=1.0)
    for s in (richer, cheaper):
        assert s["people_covered"] == base["people_covered"]
        assert s["people_connected"] > base["people_connected"]


def test_the_suggested_price_lifts_the_binding_barrier_to_the_next_one():
    """With one income everywhere the suggestion is exact: at the price it names,
    affordability equals the next barrier's share (handset 45 %)."""
    base = _summary(income_model="uniform")
    need = base["adoption_barriers"]["to_move_binding"]
    assert base["adoption_barriers"]["next_barrier"] == "handset"
    at = _summary(income_model="uniform", price_usd_per_gb=need["price_usd_per_gb"])
    assert at["adoption_shares"]["affordability"] == pytest.approx(0.45, abs=2e-4)
    at_income = _summary(income_model="uniform",
                         median_income_usd_per_month=need["median_income_usd_per_month"])
    assert at_income["adoption_shares"]["affordability"] == pytest.approx(0.45, abs=2e-4)


def test_skills_binding_names_the_training_places_it_needs():
    """Skills bind (baseline 10 %); the places named lift skills to the next barrier."""
    s = _summary(skills_baseline_share=0.1, income_model="uniform", price_usd_per_gb=0.1)
    ab = s["adoption_barriers"]
    assert ab["binding"] == "skills"
    places = ab["to_move_binding"]["training_places"]
    nxt = ab["next_share"]
    # skills = 0.1 + 0.8 x places / 12,000 people (effectiveness 0.8) = next
    assert 0.1 + 0.8 * places / 12000 == pytest.approx(nxt, abs=1e-4)
    more = _summary(skills_baseline_share=0.1, income_model="uniform", price_usd_per_gb=0.1,
                    training_places=places)
    assert more["people_connected"] > s["people_connected"]
    assert more["adoption_shares"]["skills"] == pytest.approx(nxt, abs=1e-4)


def test_income_follows_density_so_scenarios_differ():
    dense = run(parse_scenario(small(**{"population.synthetic.settlement_size_sigma": 1.3,
                                        "sites.new": [{"station": "ruralstar_pro",
                                                       "count": 6}]})))
    b = dense.business
    inc, share = b.income_usd_per_month, b.affordability_by_site
    assert inc.min() < inc.max()                 # not one income everywhere
    order = np.argsort(inc)
    assert np.all(np.diff(share[order]) >= -1e-12)   # richer places afford more
    uniform = run(parse_scenario(small(**{"population.synthetic.settlement_size_sigma": 1.3,
                                          "sites.new": [{"station": "ruralstar_pro",
                                                         "count": 6}],
                                          "adoption.income_model": "uniform"})))
    assert np.ptp(uniform.business.affordability_by_site) == 0
    a = dense.summary["people_connected_fraction_of_covered"]
    c = uniform.summary["people_connected_fraction_of_covered"]
    assert a != c


def test_income_raster_is_read_at_each_site(tmp_path):
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    # WGS 84 raster over the region: USD 20 a month west of 35.0 E, USD 200 east of it
    data = np.where(np.arange(40)[None, :] < 20, 20.0, 200.0).astype("float32")
    data = np.repeat(data, 40, axis=0)
    with rasterio.open(tmp_path / "income.tif", "w", driver="GTiff", height=40, width=40,
                       count=1, dtype="float32", crs="EPSG:4326", nodata=-1.0,
                       transform=Affine(0.005, 0.0, 34.9, 0.0, -0.005, -5.9)) as dst:
        dst.write(data, 1)
    scen = small(**{"adoption.income_model": "raster",
                    "adoption.income_raster": {"file": "income.tif"},
                    "sites.existing": [{"station": "macro", "placement": "list",
                                        "positions": [{"lon": 34.95, "lat": -6.0},
                                                      {"lon": 35.05, "lat": -6.0}]}]})
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scen))
    from simulator import load_scenario

    r = run(load_scenario(tmp_path / "s.yaml"))
    np.testing.assert_allclose(r.business.income_usd_per_month, [20.0, 200.0])
    assert r.summary["adoption_barriers"]["income"]["model"] == "raster"
    assert "adoption.income_raster.file" in r.input_files


# ----------------------------------------------------------------------------- per site

def test_over_capacity_sites_are_named_and_carry_their_load(tmp_path):
    scen = small(**{"sites.new": [{"station": "ruralstar_pro", "count": 4}],
                    "capacity.mbps_per_active_user": 2.0,
                    "outputs.report": True})
    r = run(parse_scenario(scen))
    s = r.summary
    load = r.serving.site_load.load
    assert s["sites_over_capacity"] > 0
    expected = [r.sites.names[i] for i in np.argsort(-load, kind="stable") if load[i] > 1]
    assert s["sites_over_capacity_names"] == expected
    out = r.save(tmp_path / "r", maps=False)
    props = _geojson_props(out / "sites.geojson")
    gj = json.loads((out / "sites.geojson").read_text())
    for f in gj["features"]:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        assert p["lon"] == pytest.approx(lon, abs=1e-6) and p["lat"] == pytest.approx(lat, abs=1e-6)
    for i, name in enumerate(r.sites.names):
        p = props[name]
        assert p["busy_hour_load"] == pytest.approx(load[i], abs=1e-4)
        assert p["over_capacity"] is bool(load[i] > 1)
        # people unserved = people served x (1 - 1/load) above capacity
        want = round(p["people_served"] * (1 - 1 / load[i])) if load[i] > 1 else 0
        assert p["people_unserved"] == want
        assert {"backhaul", "power", "capex_usd", "opex_usd_per_year"} <= set(p)
    html = (out / "report.html").read_text()
    for name in expected:
        assert name in html.split('id="over-capacity"')[1].split("</p>")[0]
    assert 'id="sites"' in html and "busy-hour load" in html and "people unserved" in html


def test_people_counts_are_whole_people_and_sinr_is_capped():
    from simulator.radio.serving import MAX_SINR_DB

    r = run(parse_scenario(small(**{"sites.new": [{"station": "ruralstar_pro",
                                                   "count": 4}]})))
    s = r.summary
    for key in ("people_served_busy_hour", "people_capacity_limited",
                "people_covered_expected", "people_covered", "people_connected"):
        assert isinstance(s[key], int), key
    # TS 36.104 Table 6.5.2-1: EVM 3.5 % (256QAM) -> SINR <= -20 log10(0.035) = 29.12 dB
    assert MAX_SINR_DB == pytest.approx(29.12, abs=0.01)
    sinr = r.serving.sinr_db[np.isfinite(r.serving.sinr_db)]
    assert sinr.max() <= MAX_SINR_DB + 1e-4
    assert (sinr >= MAX_SINR_DB - 1e-3).any()     # next to a site it is the cap that holds


# ----------------------------------------------------------------------------- warnings

def _sweep_scenario(tmp_path):
    scen = small(**{"sites.new": [{"station": "ruralstar_pro", "count": 5,
                                   "min_spacing_km": 2}]})
    scen["sweep"] = {"parameter": "sites.new.0.count", "values": [5, 40]}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(scen))
    return path


def test_a_sweep_warning_reaches_warnings_logging_and_stdout(tmp_path, capsys, caplog):
    from simulator import load_scenario
    from simulator.pipeline.sweeps import run_sweep

    path = _sweep_scenario(tmp_path)
    with caplog.at_level(logging.WARNING, logger="simulator"):
        with pytest.warns(RuralsimWarning, match="asked for 40 sites on settlements"):
            summaries = run_sweep(load_scenario(path))
    assert any("asked for 40" in rec.getMessage() for rec in caplog.records)
    assert summaries[1]["warnings"] and not summaries[0]["warnings"]
    assert summaries[1]["sites_new"] < summaries[1]["sites_new_requested"] == 40
    # the command line: per run, and the table marks the short run
    assert main(["run", str(path), "--out", str(tmp_path / "sw")]) == 0
    out = capsys.readouterr().out
    assert "warning: c15-count-40: sites.new.0: asked for 40" in out
    assert "* placed fewer new sites than the scenario asks for" in out
    row = next(line for line in out.splitlines() if line.startswith("new sites "))
    assert row.rstrip().endswith("*") and row.count("*") == 1
    sweep = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert sweep["runs"][1]["summary"]["warnings"] == summaries[1]["warnings"]


def test_compare_prints_each_runs_warnings_and_v_logs_them(tmp_path, capsys):
    scen = small(**{"sites.new": [{"station": "ruralstar_pro", "count": 40,
                                   "min_spacing_km": 2}]})
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(scen))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(small(name="other")))
    assert main(["-v", "compare", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"),
                 "--out", str(tmp_path / "cmp")]) == 0
    cap = capsys.readouterr()
    assert "warning: c15: sites.new.0: asked for 40" in cap.out
    assert "WARNING simulator: sites.new.0: asked for 40" in cap.err
    # the Python API warns through the project's category
    with pytest.warns(RuralsimWarning):
        run(parse_scenario(scen))


def test_shipped_scenarios_do_not_warn():
    from simulator import load_scenario

    from .conftest import ROOT

    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        s = load_scenario(path)
        if s.sweep is not None or s.region.width_km * s.region.height_km > 2000:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuralsimWarning)
            from simulator.pipeline.runner import prepare

            pre = prepare(s)
        assert pre.warnings == [], path.name


# --------------------------------------------------------------------- files and folders

@pytest.mark.parametrize("mask, dmode, fmode", [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600),
                                                (0o002, 0o775, 0o664)])
def test_outputs_follow_the_umask(tmp_path, mask, dmode, fmode):
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(small(planning={"max_sites": 1})))
    old = os.umask(mask)
    try:
        assert main(["run", str(scen), "--out", str(tmp_path / "run"), "--quiet"]) == 0
        assert main(["compare", str(scen), "--out", str(tmp_path / "cmp"), "--quiet"]) == 0
        assert main(["plan", str(scen), "--out", str(tmp_path / "plan"), "--quiet"]) == 0
    finally:
        os.umask(old)
    for folder in ("run", "plan"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == dmode, folder
        for f in (tmp_path / folder).iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == fmode, f
    for f in ("comparison.csv", "comparison.png"):
        assert stat.S_IMODE((tmp_path / "cmp" / f).stat().st_mode) == fmode, f


def test_compare_checks_its_inputs_before_its_outputs(tmp_path, capsys):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "comparison.csv").write_text("old\n")
    assert main(["compare", str(tmp_path / "nonexist.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "nonexist.yaml" in err and "not found" in err and "already exist" not in err
    assert (out / "comparison.csv").read_text() == "old\n"
