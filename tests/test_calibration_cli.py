"""``ruralsim calibrate`` end to end through a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import yaml

from simulator.io.measurements import write_table_csv

from . import calibration_synth as syn


def test_cli_calibrate_writes_everything_and_counts_what_it_skipped(tmp_path):
    rng = np.random.default_rng(2)
    pts = syn.routes(rng, n_routes=40)
    n = len(pts["lon"])
    value = rng.normal(-90, 8, n)
    value[:3] = np.nan                                   # missing: skipped and counted
    lon, lat = pts["lon"].copy(), pts["lat"].copy()
    lon[3:5] += 1.0                                      # outside the region
    write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat, "rsrp_dbm": value,
                                         "transmitter": pts["transmitter"],
                                         "route": pts["route"]})
    syn.write_scenario(tmp_path / "s.yaml", syn.scenario_dict("rma_38901"))
    env = dict(os.environ, PYTHONWARNINGS="error", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", "calibrate",
                           str(tmp_path / "s.yaml"), str(tmp_path / "m.csv"), "--out",
                           str(tmp_path / "out"), "--per", "transmitter"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "calibrated, 5-fold CV" in proc.stdout and "RMSE" in proc.stdout
    d = json.loads((tmp_path / "out" / "calibration.json").read_text())
    assert d["measurements"]["skipped"] == {"missing_value": 3, "outside_region": 2,
                                            "outside_dem": 0}
    assert d["measurements"]["used"] == n - 5
    assert d["calibration"]["per"] == "transmitter"
    cal = yaml.safe_load((tmp_path / "out" / "calibrated_scenario.yaml").read_text())
    assert cal["propagation"]["calibration"]["provenance"]["per_transmitter"] is True
    # a second run into the same folder is refused, and leaves it as it was
    before = sorted(p.name for p in (tmp_path / "out").iterdir())
    again = subprocess.run([sys.executable, "-m", "simulator.cli", "calibrate",
                            str(tmp_path / "s.yaml"), str(tmp_path / "m.csv"), "--out",
                            str(tmp_path / "out")], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=300)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == before
