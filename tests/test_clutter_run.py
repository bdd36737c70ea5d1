"""Clutter end to end: inside the link budget, fewer or equal people covered, open
everywhere equals no clutter exactly, in memory equals tiled (byte-identical summary.json,
equal rasters), a land-cover raster through the scenario path, the map."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.errors import RuralsimWarning
from simulator.io.rasters import read_geotiff
from simulator.io.scenario_file import load_scenario
from simulator.pipeline.distributed import run_tiled
from simulator.pipeline.engine import CoverageFields
from simulator.pipeline.runner import run
from simulator.radio.serving import ServingParams, serve
from simulator.region.clutter import apply_terminal_loss

from .test_clutter_landcover import CORE, _grid, _worldcover_lonlat

SMALL = {
    "name": "small-clutter",
    "seed": 7,
    "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 14, "height_km": 11,
               "resolution_m": 100, "tile_size_cells": 64},
    "population": {"synthetic": {"total_people": 20000, "settlements": 20}},
    "technology": "lte_900",
    "propagation": {"model": "rma_38901", "shadowing_sigma_db": 8},
    "indoor": {"share": 0.3},
    "clutter": "synthetic",
    "sites": {"existing": [{"station": "macro", "placement": "largest_settlements",
                            "count": 1}],
              "new": [{"station": "ruralstar_pro", "placement": "largest_settlements",
                       "count": 5, "min_spacing_km": 2}]},
    "outputs": {"maps": False, "report": False},
}

RASTERS = ("population", "rx_power_dbm", "best_server", "covered", "path_loss_db", "sinr_db",
           "throughput_mbps", "coverage_probability", "limitation", "clutter")


def _write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _data(**changes) -> dict:
    data = json.loads(json.dumps(SMALL))
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """In-memory runs of SMALL with and without clutter, saved."""
    tmp = tmp_path_factory.mktemp("clutter")
    with_c = load_scenario(_write(tmp, _data(), "with.yaml"))
    without = load_scenario(_write(tmp, _data(clutter=None), "without.yaml"))
    a, b = run(with_c), run(without)
    a.save(tmp / "with", maps=False)
    b.save(tmp / "without", maps=False)
    return with_c, a, b, tmp


def test_clutter_covers_fewer_or_equal_people_cell_by_cell(pair):
    _, a, b, _ = pair
    assert (a.serving.people_covered <= b.serving.people_covered).all()
    assert (a.covered <= b.covered).all()
    sa, sb = a.summary, b.summary
    assert sa["people_covered"] < sb["people_covered"]          # forest and villages cost
    assert sa["people_covered_by_existing_sites"] <= sb["people_covered_by_existing_sites"]
    c = sa["clutter"]
    # the people the clutter decided are exactly the difference
    assert sa["people_covered"] + c["people_not_covered_because_of_clutter"] == \
        sb["people_covered"]
    classes = c["classes"]
    assert sum(v["people"] for v in classes.values()) == sa["population_total"]
    assert sum(v["people_covered"] for v in classes.values()) == sa["people_covered"]
    assert sum(v["cells"] for v in classes.values()) == a.grid.n_cells
    assert classes["cropland"]["people_not_covered_because_of_clutter"] == 0
    assert classes["cropland"]["loss_db"] == 0.0
    assert classes["tree_cover"]["loss_db"] > 20 and classes["built_up"]["loss_db"] > 15
    assert c["source"] == "synthetic" and c["frequency_mhz"] == a.technology.frequency_mhz
    # the loss is inside the fields: signal lower by exactly the class loss where served
    loss = a.clutter.loss_db()
    reach = b.fields.best_server >= 0
    np.testing.assert_array_equal(a.fields.best_server, b.fields.best_server)
    np.testing.assert_array_equal(a.fields.rx_dbm[reach], (b.fields.rx_dbm - loss)[reach])


def test_open_everywhere_equals_no_clutter_exactly(tmp_path, pair):
    _, _, b, tmp = pair
    opened = _data(clutter={"synthetic": {}, "classes": {10: {"type": "open"},
                                                         50: {"type": "open"}}})
    r = run(load_scenario(_write(tmp_path, opened)))
    r.save(tmp_path / "open", maps=False)
    s = dict(r.summary)
    c = s.pop("clutter")
    assert c["people_not_covered_because_of_clutter"] == 0
    assert all(v["loss_db"] == 0.0 for v in c["classes"].values())
    ref = dict(b.summary)
    s.pop("scenario"), ref.pop("scenario")
    assert s == ref
    for name in RASTERS[:-1]:
        x, _ = read_geotiff(tmp_path / "open" / f"{name}.tif")
        y, _ = read_geotiff(tmp / "without" / f"{name}.tif")
        assert np.array_equal(x, y, equal_nan=True), name


def test_memory_and_tiled_give_byte_identical_summaries_and_equal_rasters(pair, tmp_path):
    scenario, _, _, tmp = pair
    texts = []
    for tile in (16, 10_000):
        out = tmp_path / f"t{tile}"
        run_tiled(scenario, out_dir=out, tile_size_cells=tile)
        texts.append((out / "summary.json").read_bytes())
    assert texts[0] == texts[1] == (tmp / "with" / "summary.json").read_bytes()
    for name in RASTERS:
        x, _ = read_geotiff(tmp / "with" / f"{name}.tif")
        y, _ = read_geotiff(tmp_path / "t16" / f"{name}.tif")
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), name


def test_two_dask_workers_give_the_serial_summary(pair, tmp_path):
    """The tiles (each with its window of clutter classes) as Dask tasks on two threads.
    The cluster is made here with a random dashboard port (":0"), so a dashboard another
    process holds on the default 8787 cannot turn into a warning."""
    from distributed import Client, LocalCluster

    scenario, _, _, tmp = pair
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        run_tiled(scenario, out_dir=tmp_path / "dask", client=client, tile_size_cells=32,
                  max_in_flight=3)
    assert (tmp_path / "dask" / "summary.json").read_bytes() == \
        (tmp / "with" / "summary.json").read_bytes()


def test_terrain_method_with_clutter_memory_equals_tiled(tmp_path):
    data = _data(terrain={"synthetic": {"relief_m": 300}},
                 propagation={"model": "deygout", "max_range_km": 5, "shadowing_sigma_db": 8})
    data["region"].update(width_km=6, height_km=5, resolution_m=150, tile_size_cells=16)
    data["population"]["synthetic"].update(total_people=6000, settlements=8)
    data["sites"]["new"][0]["count"] = 3      # what 6 x 5 km holds 2 km apart (no warning)
    scenario = load_scenario(_write(tmp_path, data))
    mem = run(scenario)
    mem.save(tmp_path / "mem", maps=False)
    run_tiled(scenario, out_dir=tmp_path / "tiled")
    tiled = json.loads((tmp_path / "tiled" / "summary.json").read_text())
    assert tiled["clutter"] == mem.summary["clutter"]
    assert tiled["people_covered"] == mem.summary["people_covered"]
    assert tiled["people_not_covered_by_cause"] == mem.summary["people_not_covered_by_cause"]
    for name in ("rx_power_dbm", "covered", "clutter", "line_of_sight"):
        x, _ = read_geotiff(tmp_path / "mem" / f"{name}.tif")
        y, _ = read_geotiff(tmp_path / "tiled" / f"{name}.tif")
        assert np.array_equal(x, y, equal_nan=True), name


def test_the_loss_acts_on_downlink_uplink_and_sinr():
    """serve() on fields with the loss: both margins drop by the loss, the SINR drops where
    noise matters and not where interference dominates."""
    from simulator.radio.stations import technology_catalogue

    tech = technology_catalogue()["lte_900"]
    params = ServingParams(fade_margin_db=0.0, sigma_db=8.0)
    rx = np.array([[-90.0, -60.0]], np.float32)
    interf = np.array([[-140.0, -70.0]], np.float32)   # noise-limited, interference-limited
    f = CoverageFields(rx, np.zeros((1, 2), np.int32), np.array([[130, 100]], np.float32),
                       interf)
    loss = np.full((1, 2), 20.0, np.float32)
    tx = np.array([46.0 - tech.metric_offset_db])
    people = np.array([[10, 10]])
    s0 = serve(f, tx, people, tech, params, 1)
    s1 = serve(apply_terminal_loss(f, loss), tx, people, tech, params, 1)
    np.testing.assert_allclose(s0.dl_margin_db - s1.dl_margin_db, 20.0, atol=1e-4)
    np.testing.assert_allclose(s0.ul_margin_db - s1.ul_margin_db, 20.0, atol=1e-4)
    d_sinr = s0.sinr_db - s1.sinr_db
    assert d_sinr[0, 0] > 15.0            # noise-limited: the SINR falls with the signal
    assert d_sinr[0, 1] < 1.0             # interference arrives through the same clutter


def test_a_worldcover_raster_through_the_scenario(tmp_path):
    g = _grid()
    _worldcover_lonlat(tmp_path / "wc.tif", g)
    data = _data(clutter={"raster": {"file": "wc.tif"}})
    data["region"].update(width_km=0.8, height_km=0.6, resolution_m=100,
                          crs="EPSG:32736", tile_size_cells=16)
    data["population"]["synthetic"].update(total_people=500, settlements=2)
    data["sites"] = {"new": [{"station": "small_cell", "count": 1}]}
    scenario = load_scenario(_write(tmp_path, data))
    # a 10 m small cell in a 0.8 km region: the free-space floor decides its first metres
    with pytest.warns(RuralsimWarning, match="the free-space floor"):
        r = run(scenario)
    np.testing.assert_array_equal(r.clutter.classes, CORE)
    out = r.save(tmp_path / "out", maps=False)
    x, _ = read_geotiff(out / "clutter.tif")
    np.testing.assert_array_equal(x, CORE)
    c = r.summary["clutter"]
    assert c["source"] == "raster" and c["input"]["crs"] == "EPSG:4326"
    assert sum(v["cells"] for v in c["classes"].values()) == g.n_cells
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["clutter.raster.file"]["sha256"]
    # the written scenario reloads (class codes become strings in JSON/YAML and back)
    again = load_scenario(out / "scenario.yaml")
    assert again.clutter == scenario.clutter


def test_hata_environment_warning_and_the_map(tmp_path):
    data = _data(propagation={"model": "hata_1980", "environment": "suburban",
                              "extrapolate_parameters": True})
    data["outputs"] = {"maps": True, "report": False}
    from simulator.errors import RuralsimWarning

    with pytest.warns(RuralsimWarning, match="environment: open"):
        r = run(load_scenario(_write(tmp_path, data)))
    assert any("environment: open" in w for w in r.summary["warnings"])
    out = r.save(tmp_path / "out")
    assert (out / "coverage_map.png").stat().st_size > 10_000
    from matplotlib.figure import Figure

    from simulator.plotting import plot_coverage_map

    ax = plot_coverage_map(r, ax=Figure().subplots())
    labels = ax.get_legend().get_texts()
    assert any(t.get_text().startswith("clutter: tree cover (+") for t in labels)


def test_the_planner_applies_the_clutter(tmp_path):
    """ruralsim plan sees the same clutter as a run: the kept sites cover what the run's
    existing sites cover, and each candidate covers a subset of its cells without clutter."""
    from simulator.planning.planner import plan

    planning = {"max_sites": 2, "candidates": {"source": "grid", "spacing_km": 3}}
    with_c = load_scenario(_write(tmp_path, _data(planning=planning), "w.yaml"))
    without = load_scenario(_write(tmp_path, _data(clutter=None, planning=planning), "n.yaml"))
    a, b = plan(with_c), plan(without)
    np.testing.assert_array_equal(a.coverage.cell_index, b.coverage.cell_index)
    ma, mb = a.coverage.matrix.astype(np.int8), b.coverage.matrix.astype(np.int8)
    assert (ma - mb).max() <= 0 and ma.nnz < mb.nnz
    # kept sites = the scenario's sites (existing and new groups); the planner counts the
    # people of the cells covered outdoors, as the run's covered raster
    r = run(with_c)
    assert a.summary["people_covered_by_kept_sites"] == int(r.population.people[r.covered].sum())
    assert a.summary["people_covered_by_kept_sites"] < b.summary["people_covered_by_kept_sites"]
