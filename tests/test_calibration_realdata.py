"""The real measurement sets of ../shared/realdata end to end (skipped when it is absent).

They check that each set runs through the readers, the prediction, the fit and the
cross-validation, and that the statistics are finite and consistent; not that they hit a
number (the figures are in docs/validation.md, printed by
benchmarks/validate_measurements.py).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.calibration import calibrate
from simulator.io import measurements as mio

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("RURALSIM_REALDATA", ROOT.parent / "shared" / "realdata"))
KARST = REALDATA / "measurements" / "karst_lora_si"
DORTMUND = REALDATA / "measurements" / "dortmund_lte_de"

pytestmark = pytest.mark.skipif(
    not (KARST.is_dir() and DORTMUND.is_dir()),
    reason=f"real measurement sets not found under {REALDATA / 'measurements'} (they are "
           "not shipped; CI has ../shared/realdata beside the repository, or set "
           "RURALSIM_REALDATA)")


def _scenario(tmp_path, lon, lat, model, technology, **prop):
    clon, clat = (lon.min() + lon.max()) / 2, (lat.min() + lat.max()) / 2
    w = (lon.max() - lon.min()) * 111.32 * math.cos(math.radians(clat)) + 6
    h = (lat.max() - lat.min()) * 110.57 + 6
    data = {"name": f"real-{model}", "seed": 1,
            "region": {"centre_lon_lat": [float(clon), float(clat)], "width_km": math.ceil(w),
                       "height_km": math.ceil(h), "resolution_m": 200},
            "population": {"synthetic": {"total_people": 500, "settlements": 2}},
            "technology": technology,
            "propagation": {"model": model, "extrapolate_parameters": True, **prop},
            "outputs": {"maps": False, "report": False}}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def _convert(tmp_path, tables):
    m, t = tmp_path / "m.csv", tmp_path / "t.csv"
    mio.write_table_csv(m, tables["measurements"])
    mio.write_table_csv(t, tables["transmitters"])
    return m, t


def _consistent(cal):
    d = cal.to_dict()
    m = d["measurements"]
    assert m["received"] + m["censored"] == m["used"] > 0
    assert m["used"] + sum(m["skipped"].values()) == m["rows"]
    for stats in (d["statistics_before"], d["statistics_after"], d["cross_validation"]["stats"]):
        a = stats["all"]
        assert a["n"] == m["received"]
        for k in ("mean_error_db", "rmse_db", "std_db"):
            assert math.isfinite(a[k])
        assert a["rmse_db"] ** 2 == pytest.approx(a["mean_error_db"] ** 2 + a["std_db"] ** 2)
        assert sum(s["n"] for s in stats["by_transmitter"].values()) == a["n"]
        assert sum(s["n"] for s in stats["by_distance"].values()) == a["n"]
    # least squares with an offset and a slope can only lower the in-sample RMSE
    assert d["statistics_after"]["all"]["rmse_db"] <= d["statistics_before"]["all"]["rmse_db"]
    assert math.isfinite(cal.correction.sigma_db) and cal.correction.sigma_db > 0
    assert np.isfinite(cal.cv_error_db[~cal.points.censored]).all()
    return d


def test_karst_lora_end_to_end(tmp_path):
    tables = mio.karst_lora_tables(KARST)
    m, t = _convert(tmp_path, tables)
    meas, tx = mio.read_measurements(m), mio.read_transmitters(t)
    scen = _scenario(tmp_path, np.r_[meas.lon, tx.lon], np.r_[meas.lat, tx.lat], "itm_area",
                     "lte_800", itm={"terrain_irregularity_m": 90.0})
    cal = calibrate(scen, m, transmitters=t)
    d = _consistent(cal)
    assert set(d["transmitters"]) == set(tx.name)
    assert all(v["source"] == "table" for v in d["transmitters"].values())
    # the author's SPLAT!/ITM prediction is compared on the received samples it covers
    peer = d["peer_statistics"]["all"]
    assert 0 < peer["n"] <= d["measurements"]["received"] and math.isfinite(peer["rmse_db"])
    # misses are recorded only where the file logs several gateways
    assert d["measurements"]["censored"] > 0
    cens = calibrate(scen, m, transmitters=t, censored_fit=True, per="transmitter")
    assert cens.correction.n_censored == d["measurements"]["censored"]
    assert cens.correction.n_truncated > 0 and 0 <= cens.correction.random_loss_share < 1
    fixed = tables["fixed_link"]["rssi_dbm"]
    assert fixed.size > 100 and np.isfinite(fixed).all()
    out = cal.save(tmp_path / "out")
    assert (out / "calibrated_scenario.yaml").is_file()


def test_dortmund_lte_end_to_end(tmp_path):
    tables = mio.dortmund_lte_tables(DORTMUND)
    m, t = _convert(tmp_path, tables)
    meas, tx = mio.read_measurements(m), mio.read_transmitters(t)
    scen = _scenario(tmp_path, np.r_[meas.lon, tx.lon], np.r_[meas.lat, tx.lat],
                     "cost231_hata", "lte_1800", environment="urban")
    cal = calibrate(scen, m, transmitters=t, per="transmitter")
    d = _consistent(cal)
    route_types = {p.stem.split("_", 1)[1] for p in DORTMUND.glob("*_*.csv")}
    assert set(d["cross_validation"]["stats"]["by_route_type"]) == route_types
    assert len(cal.correction.group_offsets_db) == len(tx.name)
    assert d["measurements"]["censored"] == 0


def test_validation_benchmark_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "validate_measurements.py"), "--data",
         str(REALDATA), "--models", "free_space,cost231,itm_area", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=1200,
        env=dict(os.environ, PYTHONWARNINGS="error", MPLBACKEND="Agg"))
    assert proc.returncode == 0, proc.stderr
    assert "targets (primary" in proc.stdout and "peer: author SPLAT!/ITM" in proc.stdout
    res = json.loads((tmp_path / "validation.json").read_text())
    assert {r["set"] for r in res} == {"karst", "dortmund"}
    for r in res:
        v = r["primary"]
        assert isinstance(v["meets_target"], bool) and math.isfinite(v["cv_route_rmse_db"])
        assert math.isfinite(r["baselines"]["free_space_per_transmitter"]["cv_route_rmse_db"])
        assert (tmp_path / f"{r['set']}-{v['model']}" / "calibration.json").is_file()
