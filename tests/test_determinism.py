"""Determinism: the same inputs give byte-identical summary.json and sites.geojson across
runs, processes (other hash seeds) and engine tile sizes; no NaN or infinity in a summary."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from simulator import parse_scenario, run

FLAT = {
    "name": "det-flat", "seed": 7,
    "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 8, "height_km": 6,
               "resolution_m": 100},
    "population": {"synthetic": {"total_people": 6000, "settlements": 8}},
    "sites": {"existing": [{"station": "macro", "count": 1}],
              "new": [{"station": "ruralstar_pro", "count": 3, "min_spacing_km": 1.5},
                      {"station": "small_cell", "placement": "random", "count": 2}]},
    "radio": {"reuse_factor": 3},
    "propagation": {"monte_carlo_realisations": 5},
    "indoor": {"share": 0.3},
    "outputs": {"maps": False, "report": False},
}


def _terrain(model):
    return {**FLAT, "name": f"det-{model}",
            "region": {**FLAT["region"], "width_km": 4, "height_km": 4, "resolution_m": 200},
            "terrain": {"synthetic": {"relief_m": 300, "ridges": 1}},
            "propagation": {"model": model},
            "sites": {"existing": [{"station": "macro", "count": 1}],
                      "new": [{"station": "ruralstar_pro", "count": 2,
                               "min_spacing_km": 1}]}}


SCENARIOS = {"flat": FLAT, "deygout": _terrain("deygout"), "itm": _terrain("itm")}


def _outputs(data, folder, tile=None) -> tuple[bytes, bytes]:
    out = run(parse_scenario(data), tile_size_cells=tile).save(folder)
    return (out / "summary.json").read_bytes(), (out / "sites.geojson").read_bytes()


def _numbers(obj, path="summary"):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_bytes_across_runs_and_tile_sizes(name, tmp_path):
    data = SCENARIOS[name]
    ref = _outputs(data, tmp_path / "ref")
    assert _outputs(data, tmp_path / "again") == ref
    side = max(parse_scenario(data).region.width_km, parse_scenario(data).region.height_km)
    whole = int(side * 1000 / data["region"]["resolution_m"])   # one tile holds the grid
    for tile in (16, 64, whole):
        assert _outputs(data, tmp_path / f"tile{tile}", tile) == ref, f"tile {tile}"
    summary = json.loads(ref[0])
    bad = [(p, v) for p, v in _numbers(summary) if not math.isfinite(v)]
    assert not bad, bad
    assert summary["population_total"] > 0 and summary["sites_total"] > 0


@pytest.mark.parametrize("name", ["flat", "deygout"])
def test_same_bytes_across_processes_with_other_hash_seeds(name, tmp_path):
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SCENARIOS[name], sort_keys=False))
    results = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"out{hash_seed}"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONWARNINGS="error")
        proc = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(path),
                               "--out", str(out), "--quiet"], capture_output=True, text=True,
                              env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        results.append(((out / "summary.json").read_bytes(),
                        (out / "sites.geojson").read_bytes()))
    assert results[0] == results[1]
    # and the same as in this process
    assert _outputs(SCENARIOS[name], tmp_path / "here") == results[0]


def test_summary_json_refuses_nan(tmp_path):
    """A NaN that reached a summary would stop the write instead of being written."""
    from simulator.io.results import write_summary

    with pytest.raises(ValueError):
        write_summary({"people_covered": float("nan")}, tmp_path)
