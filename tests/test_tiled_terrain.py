"""Tiled runs on a terrain: the site pass (memmapped fields reduced in site order) and the
tile pass give the in-memory run's numbers and rasters, whatever the tile size or the
number of Dask workers; the scratch folder never outlives the run."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.pipeline import distributed, flow

from simulator.pipeline import site_pass
from simulator.cli import main
from simulator.pipeline.distributed import connect, run_tiled
from simulator.errors import ScenarioError
from simulator.io.rasters import read_geotiff
from simulator.io.scenario_file import load_scenario
from simulator.pipeline.runner import run

# Some variants of BASE (smaller regions) place fewer poles than asked; that warning
# (simulator.errors.RuralsimWarning) says nothing about tiled against in-memory runs.
pytestmark = pytest.mark.filterwarnings(
    "ignore:sites.new.0. asked for:simulator.errors.RuralsimWarning")

# 12 x 9 km at 150 m (80 x 60 cells); a 6 km range cap keeps each site's disc smaller than
# the region, so discs straddle tiles and the grid's edges
BASE = {
    "name": "tiled-terrain",
    "seed": 3,
    "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 12, "height_km": 9,
               "resolution_m": 150, "tile_size_cells": 32},
    "population": {"synthetic": {"total_people": 12000, "settlements": 14}},
    "technology": "lte_900",
    "terrain": {"synthetic": {"relief_m": 500, "ridges": 2}},
    "propagation": {"model": "itm", "max_range_km": 6, "shadowing_sigma_db": 8},
    "radio": {"reuse_factor": 3},
    "indoor": {"share": 0.25},
    "sites": {"existing": [{"station": "macro", "count": 2}],
              "new": [{"station": "ruralstar_pro", "count": 5, "min_spacing_km": 2.5},
                      {"station": "small_cell", "placement": "random", "count": 2}]},
    "outputs": {"maps": False, "report": False},
}

RASTERS = ("population", "rx_power_dbm", "best_server", "covered", "path_loss_db", "sinr_db",
           "throughput_mbps", "coverage_probability", "limitation", "terrain",
           "line_of_sight")


def _scenario(tmp_path: Path, name: str = "s.yaml", **changes):
    data = json.loads(json.dumps(BASE))
    for key, value in changes.items():
        section, _, leaf = key.partition("__")
        if leaf:
            data[section][leaf] = value
        else:
            data[section] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(path)


def _compare_summaries(memory: dict, tiled: dict) -> None:
    # one pipeline, one reduction (float sums as exact 2**-24 fixed point in both modes):
    # every key, the rounded people counts included, is equal, and in the same order
    assert list(tiled) == list(memory)
    assert tiled == memory


@pytest.fixture(scope="module", params=["itm", "deygout", "delta_bullington"])
def reference(request, tmp_path_factory):
    """The in-memory run of BASE with ``request.param``, saved."""
    tmp = tmp_path_factory.mktemp(f"ref-{request.param}")
    scenario = _scenario(tmp, propagation__model=request.param)
    result = run(scenario)
    result.save(tmp / "memory", maps=False)
    return scenario, result, tmp / "memory"


def test_tiled_terrain_equals_in_memory_for_two_tile_sizes(reference, tmp_path):
    scenario, result, ref_dir = reference
    s = result.summary
    # the scenario exercises what the site pass carries: terrain-limited people, people
    # in line of sight, existing sites (baseline) and co-channel interference
    assert s["people_not_covered_by_cause"]["terrain_limited"] > 0
    assert 0 < s["people_in_line_of_sight"] < s["population_total"]
    assert 0 < s["people_covered_by_existing_sites"] < s["people_covered"]
    texts = []
    for tile in (16, 48):
        out = tmp_path / f"t{tile}"
        r = run_tiled(scenario, out_dir=out, tile_size_cells=tile)
        assert r.tiles == -(-60 // tile) * -(-80 // tile)
        assert r.site_pass["where"] == "driver" and r.site_pass["sites"] == len(r.sites)
        # each existing site's fan is computed once, for both reductions
        assert r.site_pass["discs_evaluated"] == len(r.sites) >= 8
        texts.append((out / "summary.json").read_bytes())
        _compare_summaries(s, json.loads(texts[-1]))
        info = json.loads((out / "run_info.json").read_text())
        assert info["terrain_site_pass"]["model"] == scenario.propagation.model
    # fixed-point sums: the tile size never changes a byte
    assert texts[0] == texts[1]


def test_tiled_terrain_rasters_equal_the_in_memory_ones(reference, tmp_path):
    scenario, _, ref_dir = reference
    out = tmp_path / "tiled"
    run_tiled(scenario, out_dir=out, tile_size_cells=16)
    for name in RASTERS:
        a, meta_a = read_geotiff(ref_dir / f"{name}.tif")
        b, meta_b = read_geotiff(out / f"{name}.tif")
        assert a.dtype == b.dtype and meta_a["transform"] == meta_b["transform"], name
        assert np.array_equal(a, b, equal_nan=True), name
    los, _ = read_geotiff(out / "line_of_sight.tif")
    assert los.dtype == np.uint8 and 0 < los.mean() < 1
    assert sorted(p.name for p in ref_dir.glob("*.tif")) == \
        sorted(p.name for p in out.glob("*.tif"))


def test_two_dask_workers_give_the_serial_bytes(tmp_path):
    scenario = _scenario(tmp_path)
    serial = tmp_path / "serial"
    run_tiled(scenario, out_dir=serial, tile_size_cells=32)
    with connect(workers=2, processes=False) as client:
        # max_in_flight=2: sites finish out of order and are held for the reduction
        r = run_tiled(scenario, out_dir=tmp_path / "dask", client=client,
                      tile_size_cells=32, max_in_flight=2)
    assert r.workers == 2 and r.site_pass["where"].startswith("dask")
    assert (tmp_path / "dask" / "summary.json").read_bytes() == \
        (serial / "summary.json").read_bytes()
    for name in ("rx_power_dbm", "best_server", "line_of_sight"):
        a, _ = read_geotiff(serial / f"{name}.tif")
        b, _ = read_geotiff(tmp_path / "dask" / f"{name}.tif")
        assert np.array_equal(a, b, equal_nan=True), name


def test_cli_workers_processes_give_the_serial_bytes(tmp_path):
    scenario = _scenario(tmp_path, region__width_km=7.5, region__height_km=6)
    serial = tmp_path / "serial"
    run_tiled(scenario, out_dir=serial)
    out = tmp_path / "cli"
    assert main(["run", str(scenario.source_path), "--out", str(out), "--workers", "2",
                 "--quiet"]) == 0
    assert (out / "summary.json").read_bytes() == (serial / "summary.json").read_bytes()
    info = json.loads((out / "run_info.json").read_text())
    assert info["mode"] == "tiled" and info["workers"] == 2
    assert info["terrain_site_pass"]["where"].startswith("dask workers")


def test_cli_switches_a_terrain_run_to_tiled_when_memory_is_short(tmp_path, monkeypatch,
                                                                  capsys):
    from simulator.pipeline import resources
    scenario = _scenario(tmp_path, region__width_km=7.5, region__height_km=6)
    tiled = tmp_path / "tiled"
    run_tiled(scenario, out_dir=tiled)
    # in memory: the 400 MiB interpreter allowance alone is too much; tiled: 3,000 cells x
    # 90 bytes and one site of 6 km at 150 m (a few MB) fit
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 60_000_000)
    out = tmp_path / "auto"
    scratch = tmp_path / "scratch"
    seen = []
    original = site_pass.TerrainScratch.__init__

    def spy(self, parent, *args, **kw):
        seen.append(Path(parent))
        original(self, parent, *args, **kw)

    monkeypatch.setattr(site_pass.TerrainScratch, "__init__", spy)
    assert main(["run", str(scenario.source_path), "--out", str(out), "--scratch-dir",
                 str(scratch)]) == 0
    assert seen == [scratch] and list(scratch.iterdir()) == []   # used, then removed
    assert "tiled run: " in capsys.readouterr().out
    assert (out / "summary.json").read_bytes() == (tiled / "summary.json").read_bytes()
    assert (out / "line_of_sight.tif").exists() and (out / "terrain.tif").exists()


def test_site_pass_reduces_in_site_order_whatever_the_arrival(monkeypatch):
    # later sites finish first; the driver must still reduce 0, 1, 2, ...
    def slow_early(job, which, k):
        time.sleep(0.05 * (5 - k) if k < 5 else 0.0)
        return (which, k)

    monkeypatch.setattr(site_pass, "site_task", slow_early)
    items = [site_pass._SiteItem("all", k, (("all", k),)) for k in range(8)]
    order = []
    with connect(workers=2, processes=False) as client:
        site_pass.run_site_pass(None, items, lambda it, disc: order.append(disc),
                                   client=client, retries=0, max_in_flight=3, progress=None)
    assert order == [("all", k) for k in range(8)]


def test_an_area_model_on_a_terrain_runs_tiled_as_in_memory(tmp_path):
    # rma_38901 on a terrain: the flat engine per tile (as in memory), terrain.tif, the
    # relief and Delta h in the summary, no line of sight (the in-memory run has none)
    scenario = _scenario(tmp_path, propagation={"model": "itm_area", "max_range_km": 6})
    ref = run(scenario)
    ref_dir = ref.save(tmp_path / "memory", maps=False)
    out = tmp_path / "tiled"
    r = run_tiled(scenario, out_dir=out, tile_size_cells=16)
    assert r.site_pass == {}
    _compare_summaries(ref.summary, r.summary)
    assert r.summary["terrain"] == "synthetic" and r.summary["terrain_delta_h_m"] > 0
    assert r.summary["people_in_line_of_sight"] is None
    a, _ = read_geotiff(ref_dir / "terrain.tif")
    b, _ = read_geotiff(out / "terrain.tif")
    assert np.array_equal(a, b)
    assert not (out / "line_of_sight.tif").exists()


def test_site_disc_is_the_same_with_a_float64_copy_of_the_dem(tmp_path):
    # the tiled site pass keeps the DEM as float64 (no per-site conversion): bit-identical
    from simulator.pipeline.engine import site_arrays
    from simulator.pipeline.engine_terrain import site_disc
    from simulator.pipeline.runner import prepare

    for model in ("itm", "bullington"):
        pre = prepare(_scenario(tmp_path, propagation={"model": model, "max_range_km": 4}))
        p = pre.scenario.propagation
        sa = site_arrays(pre.sites, pre.stations, pre.technology, pre.model,
                         ue_height_m=p.ue_height_m, floor_dbm=-140.0, max_range_m=4000.0)
        dem64 = pre.dem.astype(np.float64)
        for k in (0, len(sa) - 1):
            a = site_disc(pre.grid, pre.dem, sa, k, pre.technology, pre.method,
                          ue_height_m=p.ue_height_m)
            b = site_disc(pre.grid, dem64, sa, k, pre.technology, pre.method,
                          ue_height_m=p.ue_height_m)
            assert a.slices == b.slices
            assert a.rx_dbm.shape[0] < pre.grid.nrows or a.rx_dbm.shape[1] < pre.grid.ncols
            for f in ("rx_dbm", "path_loss_db", "line_of_sight"):
                assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), f


def _scratch_folders(parent: Path) -> list:
    return [p for p in parent.iterdir() if p.name.startswith(".ruralsim-terrain-")]


def test_scratch_folder_is_deleted_on_success_and_on_failure(tmp_path, monkeypatch):
    scenario = _scenario(tmp_path, region__width_km=6, region__height_km=4.5)
    scratch = tmp_path / "scratch"
    seen = []
    original = site_pass.TerrainScratch.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.folder)
        assert sorted(p.name for p in self.folder.iterdir())[:2] == [
            "all-best_server.bin", "all-best_value_dbm.bin"]

    monkeypatch.setattr(site_pass.TerrainScratch, "__init__", spy)
    run_tiled(scenario, out_dir=tmp_path / "ok", scratch_dir=scratch)
    assert seen[-1].parent == scratch and not _scratch_folders(scratch)
    # defaults: beside the results folder, else the system's temporary folder
    run_tiled(scenario, out_dir=tmp_path / "ok2")
    assert seen[-1].parent == tmp_path and not seen[-1].exists()
    run_tiled(scenario)
    assert seen[-1].parent == Path(tempfile.gettempdir()) and not seen[-1].exists()

    real = site_pass.site_task

    def failing(job, which, k):
        if k == 2:
            raise RuntimeError("bad ray")
        return real(job, which, k)

    monkeypatch.setattr(site_pass, "site_task", failing)
    with pytest.raises(RuntimeError, match="bad ray"):
        run_tiled(scenario, out_dir=tmp_path / "serial-fail", scratch_dir=scratch)
    assert not (tmp_path / "serial-fail").exists() and not _scratch_folders(scratch)
    with connect(workers=2, processes=False) as client:
        with pytest.raises(ScenarioError) as exc:
            run_tiled(scenario, out_dir=tmp_path / "dask-fail", client=client, retries=0,
                      scratch_dir=scratch)
    msg = str(exc.value)
    assert "site pass: site 3 of" in msg and "bad ray" in msg and "\n" not in msg
    assert not (tmp_path / "dask-fail").exists() and not _scratch_folders(scratch)
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_scratch_space_and_memory_are_checked_before_any_work(tmp_path, monkeypatch):
    scenario = _scenario(tmp_path)
    flat = _scenario(tmp_path, "flat.yaml", terrain="flat",
                     propagation={"model": "rma_38901"})
    # the driver holds the DEM and one site's rays on top of the people
    assert distributed.estimate_memory_bytes(scenario, "tiled") > \
        distributed.estimate_memory_bytes(flat, "tiled") + distributed.site_bytes(scenario)
    assert distributed.site_bytes(flat) == 0
    # 4,800 cells: 12 bytes (best value, server, path loss) + 1 (line of sight) + 3 x 8
    # (three channels), and 12 + 2 x 8 for the two existing sites on two channels
    assert flow.n_channels(np.array([0, 2, 1])) == 3
    assert site_pass.scratch_bytes(4800, 3, 2, True) == 4800 * (37 + 28)
    assert site_pass.scratch_bytes(4800, 0, 0, False) == 4800 * 13

    class Tiny:
        free = 1000
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Tiny)
    with pytest.raises(ScenarioError) as exc:
        run_tiled(scenario, out_dir=tmp_path / "x", scratch_dir=tmp_path / "scratch")
    assert exc.value.key == "region.resolution_m" and "scratch disk" in str(exc.value)
    assert not (tmp_path / "x").exists()
    monkeypatch.undo()
    from simulator.pipeline import resources
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 1_000_000)
    with pytest.raises(ScenarioError, match="terrain per cell"):
        run_tiled(scenario)


def test_monte_carlo_on_a_terrain_method_tiled_equals_in_memory(tmp_path):
    scenario = _scenario(tmp_path, region__width_km=6, region__height_km=4.5,
                         propagation={"model": "itm", "max_range_km": 6,
                                      "monte_carlo_realisations": 5})
    ref = run(scenario)
    mc = ref.summary["people_covered_monte_carlo"]
    assert mc["realisations"] == 5 and mc["p05"] <= mc["mean"] <= mc["p95"]
    ref_dir = ref.save(tmp_path / "memory", maps=False)
    r = run_tiled(scenario, out_dir=tmp_path / "tiled", tile_size_cells=16)
    assert r.summary["people_covered_monte_carlo"] == mc
    assert (tmp_path / "tiled" / "summary.json").read_bytes() == \
        (ref_dir / "summary.json").read_bytes()


def test_scratch_of_a_killed_run_is_removed_by_the_next_one(tmp_path):
    import subprocess
    import sys

    # a process that has exited stands for a run killed with SIGKILL
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(proc.stdout)
    stale = tmp_path / (site_pass._scratch_prefix(dead) + "abc")
    live = tmp_path / (site_pass._scratch_prefix() + "def")        # this process: alive
    other_host = tmp_path / f".ruralsim-terrain-some_other_host-{dead}-ghi"
    for folder in (stale, live, other_host):
        folder.mkdir()
        (folder / "all-best.bin").write_bytes(b"\0" * 16)
    assert site_pass.remove_stale_scratch(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and other_host.exists()
    # a new site pass in the same place cleans up first
    live.rename(tmp_path / (site_pass._scratch_prefix(dead) + "xyz"))
    scratch = site_pass.TerrainScratch(tmp_path, (4, 5), None, None, 0)
    try:
        assert [p.name for p in _scratch_folders(tmp_path) if p != scratch.folder] == \
            [other_host.name]
    finally:
        scratch.close()


def test_unusable_scratch_dir_is_one_line_and_nothing_is_written(tmp_path, capsys):
    scenario = _scenario(tmp_path, region__width_km=6, region__height_km=4.5)
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    out = tmp_path / "out"
    code = main(["run", str(scenario.source_path), "--tiled", "--out", str(out),
                 "--scratch-dir", str(not_a_folder), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "scratch" in err[0] and str(not_a_folder) in err[0]
    assert not out.exists()
