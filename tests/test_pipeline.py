"""One pipeline: the in-memory and the tiled run are the same flow (executor x sink), with
one estimator used by every caller, and every output option honoured in every mode."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from simulator.cli import main
from simulator.errors import ScenarioError
from simulator.io.scenario_file import load_scenario
from simulator.pipeline import resources
from simulator.pipeline.distributed import run_tiled
from simulator.pipeline.runner import run, validate

from .test_distributed import SMALL


def _write(tmp_path, data, name="s.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_one_estimator_for_validate_mode_choice_cli_and_run(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path, SMALL)
    scenario = load_scenario(path)
    need = resources.estimate_for_scenario(scenario).peak_memory_bytes
    tiled_need = resources.estimate_for_scenario(scenario, mode="tiled").peak_memory_bytes
    assert tiled_need < need
    calls = []
    real = resources.estimate_for_scenario

    def spy(s, n_cells=None, *, mode="memory"):
        est = real(s, n_cells, mode=mode)
        calls.append((mode, est.peak_memory_bytes))
        return est

    monkeypatch.setattr(resources, "estimate_for_scenario", spy)
    # one byte short of the in-memory estimate: every caller goes tiled, or refuses
    # in memory, on the same number
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: need - 1)
    assert resources.choose_mode(scenario) == "tiled"
    assert calls[-1] == ("memory", need)
    with pytest.raises(ScenarioError, match="run it tiled"):
        validate(scenario)                                # the in-memory run's checks
    with pytest.raises(ScenarioError, match="run it tiled"):
        run(scenario)
    validate(scenario, mode="auto")                       # what ruralsim run would do
    assert ("tiled", tiled_need) in calls
    calls.clear()
    assert main(["validate", str(path)]) == 0
    assert ("memory", need) in calls and ("tiled", tiled_need) in calls
    calls.clear()
    out = tmp_path / "auto"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    assert "tiled run: " in capsys.readouterr().out
    assert json.loads((out / "run_info.json").read_text())["mode"] == "tiled"
    assert ("memory", need) in calls and ("tiled", tiled_need) in calls
    # one byte over: in memory everywhere
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: need)
    assert resources.choose_mode(scenario) == "memory"
    validate(scenario)
    out = tmp_path / "memory"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    assert "tiled run: " not in capsys.readouterr().out
    assert (out / "summary.json").read_bytes() == (tmp_path / "auto" / "summary.json") \
        .read_bytes()


def _is_cog(path) -> bool:
    import rasterio

    with rasterio.open(path) as src:
        return src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


@pytest.mark.parametrize("mode", ["memory", "tiled"])
def test_cloud_optimised_is_honoured_in_every_mode(tmp_path, mode):
    data = json.loads(json.dumps(SMALL))
    data["outputs"]["cloud_optimised"] = True
    scenario = load_scenario(_write(tmp_path, data))
    out = tmp_path / mode
    if mode == "memory":
        run(scenario).save(out)
    else:
        run_tiled(scenario, out_dir=out)
    tifs = sorted(out.glob("*.tif"))
    assert len(tifs) >= 9 and all(_is_cog(p) for p in tifs)
    # and the pixels are those of a plain GeoTIFF
    from simulator.io.rasters import read_geotiff

    plain = run(load_scenario(_write(tmp_path, SMALL, "plain.yaml"))).save(tmp_path / "plain")
    assert not _is_cog(plain / "rx_power_dbm.tif")
    for p in tifs:
        a, _ = read_geotiff(p)
        b, _ = read_geotiff(plain / p.name)
        assert np.array_equal(a, b, equal_nan=True), p.name


def test_in_memory_and_tiled_are_one_result_type(tmp_path):
    from simulator import ScenarioResult
    from simulator.pipeline.distributed import TiledResult

    scenario = load_scenario(_write(tmp_path, SMALL))
    mem = run(scenario)
    tiled = run_tiled(scenario, out_dir=tmp_path / "t")
    assert TiledResult is ScenarioResult
    assert type(mem) is type(tiled) is ScenarioResult
    assert (mem.mode, tiled.mode) == ("memory", "tiled")
    assert mem.summary == tiled.summary
    assert np.array_equal(mem.people_served_per_site, tiled.people_served_per_site)
    # the fields of a run on disk are its rasters
    for name in ("rx_power_dbm", "best_server", "covered", "limitation"):
        assert np.array_equal(mem.read(name), tiled.read(name), equal_nan=True), name
    # the existing sites' fields come out of the same engine pass as the full result, and
    # equal a run of the existing sites alone
    only = json.loads(json.dumps(SMALL))
    only["sites"].pop("new")
    alone = run(load_scenario(_write(tmp_path, only, "existing.yaml")))
    assert alone.summary["people_covered"] == mem.summary["people_covered_by_existing_sites"]
    for name in ("rx_dbm", "best_server", "path_loss_db", "interference_dbm"):
        a, b = getattr(alone.fields, name), getattr(mem.fields_existing, name)
        assert np.array_equal(a, b, equal_nan=True), name
    assert np.array_equal(alone.covered, mem.covered_existing)


def test_in_memory_run_on_dask_workers_is_the_serial_run(tmp_path):
    # either sink on either executor: the in-memory result with its tiles on Dask
    from simulator.pipeline.distributed import connect

    path = _write(tmp_path, SMALL)
    scenario = load_scenario(path)
    ref = run(scenario, tile_size_cells=32)
    with connect(workers=2, processes=False) as client:
        r = run(scenario, tile_size_cells=32, client=client)
    assert r.mode == "memory" and r.workers == 2 and r.summary == ref.summary
    for name in ("rx_power_dbm", "covered", "sinr_db"):
        assert np.array_equal(r.read(name), ref.read(name), equal_nan=True), name
    out = tmp_path / "cli"
    assert main(["run", str(path), "--out", str(out), "--in-memory", "--workers", "2",
                 "--quiet"]) == 0
    assert json.loads((out / "summary.json").read_text()) == ref.summary
    assert not (out / "run_info.json").exists()          # an in-memory results folder
