"""Resource guard: memory and time estimate, refusal with the key to change."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simulator import ScenarioError, load_scenario, parse_scenario
from simulator.pipeline import resources as rs
from simulator.pipeline.runner import validate

from .conftest import ROOT

GB = 2**30


def _scenario(**region):
    return parse_scenario({"name": "r", "region": {"width_km": 40, "height_km": 30,
                                                   "resolution_m": 100, **region},
                           "sites": {"new": [{"station": "ruralstar_pro", "count": 20}]}})


def test_estimate_by_hand():
    # 1,000 x 1,000 cells, 20 sites, area model, 256-cell tiles:
    # base 400 MiB + 1e6 * 256 B + 65,536 cells * 20 sites * 32 B
    e = rs.estimate_resources(1_000_000, 20, model="rma_38901", tile_size_cells=256)
    assert e.peak_memory_bytes == 400 * 2**20 + 256_000_000 + 65_536 * 20 * 32
    assert e.time_s == pytest.approx(1.0)
    # Monte Carlo adds 64 B per cell
    e2 = rs.estimate_resources(1_000_000, 20, tile_size_cells=256, monte_carlo=True)
    assert e2.peak_memory_bytes - e.peak_memory_bytes == 64_000_000
    # terrain: a disc of radius 10 km / 100 m = 100 cells holds pi * 100^2 = 31,416 samples;
    # times 64 profile points = 2.01e6 points (under the 4e6 batch) at 160 B (Deygout),
    # plus 40 B per sample
    e3 = rs.estimate_resources(1_000_000, 20, model="deygout", resolution_m=100,
                               max_range_km=10, tile_size_cells=256)
    samples = 3.141592653589793 * 100 ** 2
    assert e3.peak_memory_bytes == e.peak_memory_bytes + int(samples * 64 * 160 + samples * 40)
    # a 40 km disc is past the batch limit: 4e6 points
    e4 = rs.estimate_resources(1_000_000, 20, model="deygout", resolution_m=100,
                               max_range_km=40, tile_size_cells=256)
    samples4 = 3.141592653589793 * 400 ** 2
    assert e4.peak_memory_bytes == e.peak_memory_bytes + int(4e6 * 160 + samples4 * 40)
    assert e3.time_s == pytest.approx(1.0 + 20 * samples * 7e-6)


def test_estimate_grows_with_cells_and_sites():
    a = rs.estimate_resources(10_000, 5)
    assert rs.estimate_resources(20_000, 5).peak_memory_bytes > a.peak_memory_bytes
    assert rs.estimate_resources(10_000, 50).peak_memory_bytes >= a.peak_memory_bytes
    with pytest.raises(ValueError):
        rs.estimate_resources(-1, 0)


def test_available_memory_is_reported_here():
    avail = rs.available_memory_bytes()
    assert avail is None or avail > 0


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_shipped_scenarios_fit_in_two_gigabytes(path):
    """The threshold is generous: every shipped scenario passes with 2 GB available."""
    validate(load_scenario(path), available_memory_bytes=2 * GB)


def test_refusal_names_the_key_and_a_resolution_that_fits():
    s = _scenario(width_km=200, height_km=200, resolution_m=20)   # 1e8 cells
    avail = 4 * GB
    with pytest.raises(ScenarioError) as info:
        validate(s, available_memory_bytes=avail)
    err = info.value
    assert err.key == "region.resolution_m"
    assert "region.width_km" in err.message and "GB" in err.message
    # the resolution the message proposes does fit
    proposed = float(err.message.split("about ")[-1].split(" m or more")[0].replace(",", ""))
    assert proposed > 20
    validate(_scenario(width_km=200, height_km=200, resolution_m=proposed),
             available_memory_bytes=avail)


def test_check_resources_returns_the_estimate_when_it_fits():
    est = rs.check_resources(_scenario(), available_bytes=64 * GB)
    assert est.cells == 400 * 300 and est.sites == 20


def test_cli_refuses_before_any_work(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: huge\nregion: {width_km: 3000, height_km: 3000, resolution_m: 5}\n")
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "region.resolution_m" in proc.stderr and "memory" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.yaml"]


# Peak RSS of the child's own address space: VmHWM of /proc/self/status. (ru_maxrss is not
# used: Linux carries the parent's RSS over fork + exec into it, so it reported the size of
# the pytest process that started the child, late in a long session.)
MEASURE = """
import json, sys
from simulator import parse_scenario, run
s = parse_scenario(json.loads(sys.argv[1]))
r = run(s)
r.save(sys.argv[2], maps=False)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
print(json.dumps({"peak": hwm * 1024, "cells": r.grid.n_cells}))
"""


@pytest.mark.parametrize("model, region", [
    ("rma_38901", {"width_km": 70, "height_km": 70, "resolution_m": 100}),
    ("itm", {"width_km": 10, "height_km": 10, "resolution_m": 100})])
def test_estimate_is_not_below_a_measured_run(model, region, tmp_path):
    """Peak RSS of a real run (whole process, results written) <= the estimate."""
    data = {"name": "m", "seed": 1, "region": region,
            "population": {"synthetic": {"total_people": 20000, "settlements": 20}},
            "sites": {"new": [{"station": "ruralstar_pro", "count": 4}]},
            "propagation": {"model": model}, "outputs": {"report": False}}
    if model == "itm":
        data["terrain"] = {"synthetic": {"relief_m": 200}}
    proc = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(data),
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    est = rs.estimate_for_scenario(parse_scenario(data), measured["cells"])
    assert measured["peak"] <= est.peak_memory_bytes
    assert est.peak_memory_bytes < 4 * measured["peak"]   # generous, not absurd
