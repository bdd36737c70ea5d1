"""Tiled and Dask runs: equal to the in-memory run whatever the tile size or worker count;
clear errors for an unreachable scheduler, a failing tile and a region too large."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.pipeline import resources, tiles
from simulator.cli import main
from simulator.pipeline.distributed import connect, run_tiled
from simulator.pipeline.sweeps import run_sweep
from simulator.errors import ScenarioError
from simulator.io.rasters import read_geotiff
from simulator.io.scenario_file import load_scenario
from simulator.pipeline.runner import run

SMALL = {
    "name": "small-tiled",
    "seed": 7,
    "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 14, "height_km": 11,
               "resolution_m": 100, "tile_size_cells": 64},
    "population": {"synthetic": {"total_people": 20000, "settlements": 20}},
    "technology": "lte_900",
    "propagation": {"model": "rma_38901", "shadowing_sigma_db": 8},
    "indoor": {"share": 0.3},
    "sites": {"existing": [{"station": "macro", "placement": "largest_settlements",
                            "count": 1}],
              "new": [{"station": "ruralstar_pro", "placement": "largest_settlements",
                       "count": 5, "min_spacing_km": 2}]},
    "outputs": {"maps": False, "report": False},
}

INT_KEYS = ("population_total", "people_covered", "people_covered_downlink_only",
            "people_covered_by_existing_sites", "people_newly_covered",
            "people_not_covered_by_cause", "people_covered_by_service",
            "sites_over_capacity", "sites_total", "people_connected")

RASTERS = ("population", "rx_power_dbm", "best_server", "covered", "path_loss_db", "sinr_db",
           "throughput_mbps", "coverage_probability", "limitation")


def _write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The in-memory run of SMALL, saved."""
    tmp = tmp_path_factory.mktemp("ref")
    path = _write(tmp, SMALL)
    scenario = load_scenario(path)
    result = run(scenario)
    result.save(tmp / "memory", maps=False)
    return scenario, result, tmp / "memory"


def test_summary_is_byte_identical_across_tile_sizes(reference, tmp_path):
    scenario, result, ref_dir = reference
    texts = []
    for tile in (16, 64, 10_000):      # 10,000: one tile holds the whole region
        out = tmp_path / f"t{tile}"
        r = run_tiled(scenario, out_dir=out, tile_size_cells=tile)
        assert r.tiles == (1 if tile == 10_000 else
                           -(-110 // tile) * -(-140 // tile))
        texts.append((out / "summary.json").read_bytes())
    assert texts[0] == texts[1] == texts[2]
    tiled = json.loads(texts[0])
    for key in INT_KEYS:
        assert tiled[key] == result.summary[key], key
    # here the float sums round alike too: the whole summary equals the in-memory one
    assert texts[0] == (ref_dir / "summary.json").read_bytes()


def test_rasters_written_tile_by_tile_equal_the_in_memory_ones(reference, tmp_path):
    scenario, _, ref_dir = reference
    out = tmp_path / "tiled"
    run_tiled(scenario, out_dir=out, tile_size_cells=16)
    for name in RASTERS:
        a, meta_a = read_geotiff(ref_dir / f"{name}.tif")
        b, meta_b = read_geotiff(out / f"{name}.tif")
        assert a.dtype == b.dtype and meta_a["transform"] == meta_b["transform"], name
        assert np.array_equal(a, b, equal_nan=True), name
    assert (out / "sites.geojson").read_text() == (ref_dir / "sites.geojson").read_text()


def test_a_site_near_a_tile_edge_covers_the_neighbouring_tile(tmp_path):
    data = json.loads(json.dumps(SMALL))
    data["region"].update(width_km=6.4, height_km=3.2, tile_size_cells=16)
    # the grid's west edge is at x0; tile columns 0-15, 16-31 ...: put the site 50 m west
    # of the boundary between tile columns 1 and 2 (x0 + 3,200 m), on the centre row
    scenario = load_scenario(_write(tmp_path, data))
    from simulator.pipeline.runner import make_grid

    g = make_grid(scenario)
    x = g.x_min_m + 32 * 100.0 - 50.0
    y = g.y_max_m - 16 * 100.0 - 50.0
    data["sites"] = {"new": [{"station": "ruralstar_pro", "placement": "list",
                              "positions": [{"x_m": x, "y_m": y}]}]}
    scenario = load_scenario(_write(tmp_path, data))
    ref = run(scenario)
    out = tmp_path / "edge"
    tiled = run_tiled(scenario, out_dir=out)
    covered, _ = read_geotiff(out / "covered.tif")
    best, _ = read_geotiff(out / "best_server.tif")
    assert np.array_equal(covered.astype(bool), ref.covered)
    # served on both sides of the tile boundary (column 32), and beyond the next tile
    assert (best[:, 32:48] == 0).any() and (best[:, 16:32] == 0).any()
    assert (best[:, 48:] == 0).any()
    assert tiled.summary["people_covered"] == ref.summary["people_covered"]


def test_two_dask_workers_give_the_serial_summary_threads(reference, tmp_path):
    scenario, _, ref_dir = reference
    with connect(workers=2, processes=False) as client:
        r = run_tiled(scenario, out_dir=tmp_path / "dask", client=client,
                      tile_size_cells=16, max_in_flight=3)
    assert r.workers == 2
    assert (tmp_path / "dask" / "summary.json").read_bytes() == \
        (ref_dir / "summary.json").read_bytes()


def test_cli_workers_processes_give_the_serial_summary(reference, tmp_path, capsys):
    scenario, _, ref_dir = reference
    out = tmp_path / "cli"
    assert main(["run", str(scenario.source_path), "--out", str(out), "--workers", "2",
                 "--tile-size", "32", "--quiet"]) == 0
    assert (out / "summary.json").read_bytes() == (ref_dir / "summary.json").read_bytes()
    info = json.loads((out / "run_info.json").read_text())
    assert info["mode"] == "tiled" and info["workers"] == 2


def test_unreachable_scheduler_is_one_line_exit_2(reference, tmp_path, capsys):
    scenario, _, _ = reference
    out = tmp_path / "never"
    code = main(["run", str(scenario.source_path), "--out", str(out), "--scheduler",
                 "tcp://127.0.0.1:9", "--scheduler-timeout", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "cannot reach scheduler at tcp://127.0.0.1:9" in err[0]
    assert not out.exists()


def test_a_failing_tile_is_a_clear_error_and_no_results_folder(reference, tmp_path,
                                                              monkeypatch):
    scenario, _, _ = reference
    original = tiles.tile_task

    def failing(job, index, tile, *args):
        if index == 3:
            raise RuntimeError("disk on fire")
        return original(job, index, tile, *args)

    monkeypatch.setattr(tiles, "tile_task", failing)
    out = tmp_path / "failed"
    with connect(workers=2, processes=False) as client:
        with pytest.raises(ScenarioError) as exc:
            run_tiled(scenario, out_dir=out, client=client, tile_size_cells=16, retries=1)
    msg = str(exc.value)
    assert "tile 4 of" in msg and "failed after 1 retries" in msg and "disk on fire" in msg
    assert "\n" not in msg
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".failed")]


def _dies_once(job, index, tile, *args):
    """Kill the worker process the first time tile 2 runs (a flag file marks it)."""
    flag = Path(os.environ["RURALSIM_TEST_DIE_FLAG"])
    if index == 2 and not flag.exists():
        flag.write_text("died")
        os._exit(1)
    from simulator.pipeline.tiles import tile_task

    return tile_task(job, index, tile, *args)


def test_a_worker_that_dies_is_retried(reference, tmp_path, monkeypatch):
    scenario, _, ref_dir = reference
    flag = tmp_path / "died.flag"
    monkeypatch.setenv("RURALSIM_TEST_DIE_FLAG", str(flag))
    monkeypatch.setattr(tiles, "tile_task", _dies_once)
    out = tmp_path / "survived"
    with connect(workers=2) as client:
        run_tiled(scenario, out_dir=out, client=client, tile_size_cells=32, retries=2)
    assert flag.exists()
    assert (out / "summary.json").read_bytes() == (ref_dir / "summary.json").read_bytes()


def test_memory_guard_refuses_in_memory_and_cli_switches_to_tiled(reference, tmp_path,
                                                                  monkeypatch, capsys):
    scenario, _, ref_dir = reference
    # in memory: 640 MiB interpreter + 15,400 cells x 256 bytes; tiled: 15,400 x 30 = 0.46 MB
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 2_000_000)
    with pytest.raises(ScenarioError, match="run it tiled"):
        run(scenario)
    out = tmp_path / "auto"
    assert main(["run", str(scenario.source_path), "--out", str(out), "--tile-size",
                 "16"]) == 0
    assert "tiled run: " in capsys.readouterr().out
    assert (out / "summary.json").read_bytes() == (ref_dir / "summary.json").read_bytes()
    code = main(["run", str(scenario.source_path), "--out", str(tmp_path / "forced"),
                 "--in-memory"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "need about" in err[0]
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 100_000)
    with pytest.raises(ScenarioError, match="even tiled"):
        run_tiled(scenario)


def test_monte_carlo_tiled_equals_in_memory(tmp_path):
    # the shadowing fields are drawn over the whole grid on the driver, like the people;
    # the tiles send back their best server's worst-link margin: the same counts in memory,
    # tiled, for any tile size and on Dask
    data = json.loads(json.dumps(SMALL))
    data["terrain"] = {"synthetic": {"relief_m": 100}}
    data["region"].update(width_km=5, height_km=4)
    data["propagation"].update(monte_carlo_realisations=6, decorrelation_distance_m=300)
    scenario = load_scenario(_write(tmp_path, data))
    ref = run(scenario)
    mc = ref.summary["people_covered_monte_carlo"]
    assert mc["realisations"] == 6 and mc["p05"] < mc["mean"] < mc["p95"]
    ref_dir = ref.save(tmp_path / "memory", maps=False)
    for tile in (16, 48):
        r = run_tiled(scenario, out_dir=tmp_path / f"t{tile}", tile_size_cells=tile)
        assert r.summary["people_covered_monte_carlo"] == mc
        assert r.summary["terrain"] == "synthetic" and r.summary["terrain_relief_m"] > 0
        assert (tmp_path / f"t{tile}" / "summary.json").read_bytes() == \
            (ref_dir / "summary.json").read_bytes()
    with connect(workers=2, processes=False) as client:
        r = run_tiled(scenario, client=client, tile_size_cells=16)
    assert r.summary["people_covered_monte_carlo"] == mc
    # and the counts are those of the margins: a field of zeros would give the plain count
    assert mc["mean"] != ref.summary["people_covered"]


def test_sweep_runs_on_dask_and_writes_a_comparison(tmp_path, capsys):
    data = json.loads(json.dumps(SMALL))
    data["sweep"] = {"parameter": "sites.new.0.count", "values": [1, 3]}
    path = _write(tmp_path, data)
    scenario = load_scenario(path)
    serial = run_sweep(scenario)
    assert [s["sites_new"] for s in serial] == [1, 3]
    assert [s["scenario"] for s in serial] == ["small-tiled-count-1", "small-tiled-count-3"]
    assert serial[0]["people_covered"] <= serial[1]["people_covered"]
    out = tmp_path / "sweep"
    assert main(["run", str(path), "--out", str(out), "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert "small-tiled-count-3" in printed
    rows = (out / "comparison.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].startswith("small-tiled-count-1,")
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    assert [r["summary"] for r in runs] == serial
    assert (out / "comparison.png").stat().st_size > 0


def test_sweep_unknown_key_is_a_scenario_error(tmp_path, capsys):
    data = json.loads(json.dumps(SMALL))
    data["sweep"] = {"parameter": "sites.new.3.count", "values": [1]}
    code = main(["run", str(_write(tmp_path, data)), "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "sweep.parameter" in err[0] and "sites.new.3" in err[0]
