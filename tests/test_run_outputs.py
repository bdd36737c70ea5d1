"""End to end: a scenario runs and writes outputs that are right and georeferenced."""

import json
import subprocess
import sys

import numpy as np
import pytest
import rasterio

from simulator import load_scenario, parse_scenario, run

from .conftest import ROOT

DEFAULT = ROOT / "scenarios" / "rural-district.yaml"


def small_scenario(**changes):
    data = {
        "name": "small", "seed": 3,
        "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 12, "height_km": 10,
                   "resolution_m": 200},
        "population": {"synthetic": {"total_people": 8000, "settlements": 10}},
        "sites": {"existing": [{"station": "macro", "count": 1, "min_spacing_km": 5}],
                  "new": [{"station": "ruralstar_pro", "count": 4, "min_spacing_km": 2}]},
    }
    data.update(changes)
    return parse_scenario(data)


@pytest.fixture(scope="module")
def default_result():
    return run(load_scenario(DEFAULT))


def test_default_scenario_summary_is_consistent(default_result):
    s = default_result.summary
    assert s["population_total"] == 60_000
    assert 0 < s["people_covered"] <= s["population_total"]
    assert s["coverage_fraction"] == pytest.approx(s["people_covered"] / 60_000, abs=1e-6)
    assert s["people_covered"] == (s["people_covered_by_existing_sites"]
                                   + s["people_newly_covered"])
    assert s["sites_by_type"] == {"macro": {"existing": 3, "new": 0},
                                  "ruralstar_pro": {"existing": 0, "new": 20}}
    # every covered person is served by exactly one site
    assert default_result.people_served_per_site.sum() == s["people_covered"]
    assert s["area_covered_km2"] == pytest.approx(default_result.covered.sum() * 0.01)
    # the fade margin is sigma * Phi^-1(reliability) = 8 * 0.67449 for 75 %
    assert s["fade_margin_db"] == pytest.approx(8 * 0.6744898, abs=1e-4)


def test_outputs_are_written_and_georeferenced(default_result, tmp_path):
    out = default_result.save(tmp_path / "res")
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "summary.csv", "population.tif", "rx_power_dbm.tif",
            "best_server.tif", "covered.tif", "sites.geojson", "coverage_map.png",
            "manifest.json"} <= names
    g = default_result.grid
    with rasterio.open(out / "rx_power_dbm.tif") as src:
        assert src.crs.to_epsg() == 32736
        assert src.transform == g.transform
        assert src.dtypes[0] == "float32"
        rx = src.read(1)
        np.testing.assert_array_equal(np.isnan(rx), np.isnan(default_result.fields.rx_dbm))
        # a cell centre maps back to its coordinates
        x, y = src.xy(10, 20)
        assert (x, y) == (g.x_centres()[20], g.y_centres()[10])
    with rasterio.open(out / "population.tif") as src:
        assert src.read(1).sum() == 60_000
    with rasterio.open(out / "best_server.tif") as src:
        assert src.nodata == -1 and src.read(1).max() == len(default_result.sites) - 1
    with rasterio.open(out / "covered.tif") as src:
        np.testing.assert_array_equal(src.read(1).astype(bool), default_result.covered)
    gj = json.loads((out / "sites.geojson").read_text())
    assert len(gj["features"]) == 23
    props = gj["features"][0]["properties"]
    for key in ("station_type", "height_m", "tx_power_dbm", "frequency_mhz", "people_served"):
        assert key in props
    lon, lat = gj["features"][0]["geometry"]["coordinates"]
    assert 34.5 < lon < 35.5 and -6.5 < lat < -5.5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "rural-district" and summary["seed"] == 42
    assert "software_version" in summary


def test_existing_results_folder_is_not_overwritten(tmp_path):
    r = run(small_scenario())
    out = r.save(tmp_path / "res", maps=False)
    from simulator import ScenarioError

    with pytest.raises(ScenarioError, match="already exists"):
        r.save(out, maps=False)
    r.save(out, overwrite=True, maps=False)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_same_seed_same_bytes_other_seed_other_numbers(tmp_path):
    a = run(small_scenario()).save(tmp_path / "a", maps=False)
    b = run(small_scenario()).save(tmp_path / "b", maps=False)
    assert (a / "summary.json").read_bytes() == (b / "summary.json").read_bytes()
    c = run(small_scenario(seed=4))
    assert c.summary["people_covered"] != json.loads((a / "summary.json").read_text())[
        "people_covered"]


def test_tile_size_does_not_change_the_summary():
    ref = run(small_scenario(), tile_size_cells=16).summary
    assert run(small_scenario(), tile_size_cells=1000).summary == ref


def test_cli_run_prints_table_and_writes(tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(DEFAULT),
                           "--out", str(out), "--no-maps"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "people covered" in proc.stdout and "60,000" in proc.stdout
    assert (out / "summary.json").exists() and not (out / "coverage_map.png").exists()


def test_cli_validate(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", "validate", str(DEFAULT)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "valid scenario" in proc.stdout
