"""Calibration against synthetic truth: measurements made from the scenario's own prediction
plus a known offset, slope and spatially correlated log-normal noise."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from simulator import load_scenario, run
from simulator.calibration import (calibrate, compare, error_stats, fit_correction,
                                   fit_exponential_correlation, residual_correlogram)
from simulator.calibration.fit import assign_folds, route_segments

from . import calibration_synth as syn

OFFSET_DB, SLOPE_DB, SIGMA_DB, CORR_M = 6.0, -4.0, 6.0, 100.0

# The synthetic-truth scenarios use Hata with 40 m towers: the free-space floor decides the
# loss near them and the run says so (a RuralsimWarning); that is not what these tests test.
pytestmark = pytest.mark.filterwarnings(
    "ignore:the free-space floor:simulator.errors.RuralsimWarning")


def _truth(tmp_path, seed, *, model="hata_1980", offset=OFFSET_DB, slope=SLOPE_DB,
           sigma=SIGMA_DB, site_offsets=None, n_routes=600, **prop):
    """(scenario path, measurement path, points, measured, predicted) for one seed."""
    rng = np.random.default_rng(seed)
    scen = syn.write_scenario(tmp_path / f"s{seed}.yaml", syn.scenario_dict(model, **prop))
    pts = syn.routes(rng, n_routes=n_routes)
    dummy = syn.write_measurements(tmp_path / f"dummy{seed}.csv", pts,
                                   np.full(len(pts["lon"]), -80.0))
    base = compare(scen, dummy).points
    d = base.distance_m
    truth = offset + slope * np.log10(d / 1000.0)
    if site_offsets:
        truth = truth + np.array([site_offsets[t] for t in base.transmitter])
    noise = syn.correlated_noise(rng, base.x_m, base.y_m, sigma_db=sigma,
                                 decorrelation_m=CORR_M)
    measured = syn.file_order(base, base.predicted - truth + noise)
    path = syn.write_measurements(tmp_path / f"m{seed}.csv", pts, np.round(measured, 3))
    return scen, path, base, measured


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_calibration_recovers_offset_slope_and_sigma(tmp_path, seed):
    scen, path, _, _ = _truth(tmp_path, seed)
    cal = calibrate(scen, path)
    c = cal.correction
    assert abs(c.offset_db - OFFSET_DB) <= 0.5
    assert abs(c.slope_db_per_decade - SLOPE_DB) <= 1.0
    assert abs(c.sigma_db / SIGMA_DB - 1.0) <= 0.10


def test_cross_validated_rmse_is_not_below_in_sample_on_average(tmp_path):
    cv, ins = [], []
    for seed in range(11, 17):
        scen, path, _, _ = _truth(tmp_path, seed, n_routes=150)
        cal = calibrate(scen, path, folds=5)
        ins.append(cal.statistics_after["all"]["rmse_db"])
        cv.append(cal.cross_validation["stats"]["all"]["rmse_db"])
        # folds hold out whole route pieces: no piece is split between folds
        assert cal.cross_validation["folds"] == 5
    assert np.mean(cv) >= np.mean(ins)


def test_per_transmitter_offsets_are_recovered(tmp_path):
    offsets = {name: o for (name, _, _), o in zip(syn.SITES, [5, -3, 0, 2, -1, 4, -4, 1, 3])}
    scen, path, _, _ = _truth(tmp_path, 7, offset=0.0, site_offsets=offsets)
    cal = calibrate(scen, path, per="transmitter")
    got = cal.correction.group_offsets_db
    for name, o in offsets.items():
        assert abs(got[name] - o) <= 1.0, (name, got)
    assert abs(cal.correction.slope_db_per_decade - SLOPE_DB) <= 1.0
    assert abs(cal.correction.sigma_within_db / SIGMA_DB - 1.0) <= 0.10
    # a site not fitted takes the pooled offset, the precision-weighted mean of the three
    assert min(offsets.values()) < cal.correction.offset_db < max(offsets.values())
    # the written sigma is what a new site sees: within-site spread plus the sites' spread
    assert cal.correction.sigma_db > cal.correction.sigma_within_db


def test_a_calibrated_scenario_reproduces_its_own_prediction(tmp_path):
    scen, path, _, _ = _truth(tmp_path, 8, n_routes=80)
    cal = calibrate(scen, path)
    out = cal.save(tmp_path / "out")
    again = compare(load_scenario(out / "calibrated_scenario.yaml"), path)
    np.testing.assert_allclose(again.points.predicted, cal.calibrated_points.predicted,
                               atol=1e-6)
    written = yaml.safe_load((out / "calibrated_scenario.yaml").read_text())
    c = written["propagation"]["calibration"]
    assert c["model"] == "hata_1980"
    assert c["offset_db"] == pytest.approx(cal.correction.offset_db, abs=1e-4)
    assert c["provenance"]["points_used"] == len(cal.points)
    # sigma applies as the shadowing sigma of the calibrated scenario
    assert load_scenario(out / "calibrated_scenario.yaml").propagation.shadowing_sigma_db == \
        pytest.approx(c["sigma_db"])
    # a second calibration on top of the first finds (nearly) nothing left to correct
    cal2 = calibrate(out / "calibrated_scenario.yaml", path)
    assert abs(cal2.correction.offset_db) < 1e-6 and abs(cal2.correction.slope_db_per_decade) < 1e-6
    c2 = cal2.calibrated_scenario.propagation.calibration
    assert c2.offset_db == pytest.approx(c["offset_db"], abs=1e-3)


@pytest.mark.parametrize("model, terrain, extra", [
    ("itm", {"synthetic": {"relief_m": 150}}, {}),
    ("deygout", {"synthetic": {"relief_m": 150}}, {"diffraction_base": "hata_1980"}),
    ("delta_bullington", {"synthetic": {"relief_m": 150}}, {}),
])
def test_terrain_methods_reproduce_their_calibrated_prediction(tmp_path, model, terrain, extra):
    rng = np.random.default_rng(4)
    data = syn.scenario_dict(model, terrain=terrain, resolution_m=200.0, **extra)
    scen = syn.write_scenario(tmp_path / "s.yaml", data)
    pts = syn.routes(rng, n_routes=15, points=10, step_m=100.0)
    dummy = syn.write_measurements(tmp_path / "d.csv", pts, np.full(len(pts["lon"]), -80.0))
    base = compare(scen, dummy).points
    assert base.line_of_sight is not None and base.line_of_sight.any() and \
        not base.line_of_sight.all()
    measured = syn.file_order(base, base.predicted - (
        4.0 - 3.0 * np.log10(base.distance_m / 1000.0)) + rng.normal(0, 3.0, len(base)))
    path = syn.write_measurements(tmp_path / "m.csv", pts, np.round(measured, 3))
    cal = calibrate(scen, path, folds=3)
    assert abs(cal.correction.offset_db - 4.0) < 1.0
    out = cal.save(tmp_path / "out")
    again = compare(load_scenario(out / "calibrated_scenario.yaml"), path)
    np.testing.assert_allclose(again.points.predicted, cal.calibrated_points.predicted,
                               atol=1e-6)


def test_run_applies_the_calibration_to_every_cell(tmp_path):
    """One site, area model: the calibrated run's path loss is the uncalibrated one plus
    offset + slope log10(d / 1 km) at each cell's distance from the site."""
    data = syn.scenario_dict("hata_1980")
    data["region"].update(width_km=16.0, height_km=16.0, resolution_m=200.0)
    data["sites"]["existing"][0]["positions"] = [{"name": "only", "lon": syn.CENTRE[0],
                                                  "lat": syn.CENTRE[1]}]
    plain = run(load_scenario(syn.write_scenario(tmp_path / "a.yaml", data)))
    data["propagation"]["calibration"] = {"model": "hata_1980", "offset_db": 27.5,
                                          "slope_db_per_decade": 3.0, "sigma_db": 5.0}
    cal = run(load_scenario(syn.write_scenario(tmp_path / "b.yaml", data)))
    g = plain.grid
    xs, ys = np.meshgrid(g.x_centres(0, g.ncols), g.y_centres(0, g.nrows))
    d = np.hypot(xs - plain.sites.x_m[0], ys - plain.sites.y_m[0])
    both = np.isfinite(plain.fields.path_loss_db) & np.isfinite(cal.fields.path_loss_db)
    expect = 27.5 + 3.0 * np.log10(np.maximum(d, 1.0) / 1000.0)
    np.testing.assert_allclose((cal.fields.path_loss_db - plain.fields.path_loss_db)[both],
                               expect[both], atol=2e-3)
    assert cal.summary["area_covered_km2"] < plain.summary["area_covered_km2"]
    # the calibration's sigma is the run's shadowing sigma (the fade margin follows)
    assert cal.scenario.propagation.shadowing_sigma_db == 5.0
    assert cal.summary["fade_margin_db"] != plain.summary["fade_margin_db"]


def test_itm_run_applies_the_offset_on_terrain(tmp_path):
    data = syn.scenario_dict("itm", terrain={"synthetic": {"relief_m": 100}})
    data["region"].update(width_km=6.0, height_km=6.0, resolution_m=200.0)
    data["sites"]["existing"][0]["positions"] = [{"name": "only", "lon": syn.CENTRE[0],
                                                  "lat": syn.CENTRE[1]}]
    plain = run(load_scenario(syn.write_scenario(tmp_path / "a.yaml", data)))
    data["propagation"]["calibration"] = {"model": "itm", "offset_db": 4.0}
    cal = run(load_scenario(syn.write_scenario(tmp_path / "b.yaml", data)))
    both = np.isfinite(plain.fields.path_loss_db) & np.isfinite(cal.fields.path_loss_db)
    assert both.sum() > 100
    np.testing.assert_allclose((cal.fields.path_loss_db - plain.fields.path_loss_db)[both], 4.0,
                               atol=2e-3)


def test_plan_uses_the_calibrated_model(tmp_path):
    from simulator import plan

    data = syn.scenario_dict("hata_1980")
    data["planning"] = {"max_sites": 2, "candidates": {"source": "grid", "spacing_km": 4,
                                                       "station": "tower"}}
    plain = plan(load_scenario(syn.write_scenario(tmp_path / "a.yaml", data)))
    data["propagation"]["calibration"] = {"model": "hata_1980", "offset_db": 25.0}
    cal = plan(load_scenario(syn.write_scenario(tmp_path / "b.yaml", data)))
    assert cal.summary["people_covered_after_plan"] < plain.summary["people_covered_after_plan"]


# --- censoring ---------------------------------------------------------------------------

def _censored_truth(tmp_path, seed, *, record_misses, random_loss=0.0, n_routes=1500):
    scen, _, base, measured = _truth(tmp_path, seed, n_routes=n_routes)
    floor = float(np.percentile(measured, 30))      # 30 % of the samples below the floor
    pts = syn.routes(np.random.default_rng(seed), n_routes=n_routes)
    rng = np.random.default_rng(seed + 100)
    below = measured < floor
    lost = rng.random(len(measured)) < random_loss
    miss = below | lost
    value = np.where(miss, np.nan, np.round(measured, 3))
    extra = {"floor_dbm": np.full(len(value), floor)}
    if record_misses:
        extra["censored"] = miss
    path = syn.write_measurements(tmp_path / f"c{seed}{record_misses}.csv", pts, value,
                                  extra=extra)
    return scen, path


@pytest.mark.parametrize("record_misses", [True, False], ids=["tobit", "truncated"])
def test_censored_fit_removes_the_bias_of_missing_weak_samples(tmp_path, record_misses):
    scen, path = _censored_truth(tmp_path, 21, record_misses=record_misses)
    ls = calibrate(scen, path)
    ml = calibrate(scen, path, censored_fit=True)
    # least squares on the received samples alone is biased toward too little loss ...
    assert ls.correction.offset_db < OFFSET_DB - 1.0
    # ... the censored / truncated likelihood is not. The slope is looser (1.5 dB/decade):
    # the samples lost are the far, weak ones, which carry the slope (its spread over seeds
    # here is about 0.6 dB/decade, against 0.4 with every sample).
    assert abs(ml.correction.offset_db - OFFSET_DB) <= 0.5
    assert abs(ml.correction.slope_db_per_decade - SLOPE_DB) <= 1.5
    assert abs(ml.correction.sigma_db / SIGMA_DB - 1.0) <= 0.10
    kind = "n_censored" if record_misses else "n_truncated"
    assert getattr(ml.correction, kind) > 0
    assert any("floor" in w for w in ls.warnings)


def test_censored_fit_separates_random_losses_from_weak_signal(tmp_path):
    scen, path = _censored_truth(tmp_path, 22, record_misses=True, random_loss=0.15)
    ml = calibrate(scen, path, censored_fit=True)
    assert abs(ml.correction.offset_db - OFFSET_DB) <= 0.5
    assert abs(ml.correction.sigma_db / SIGMA_DB - 1.0) <= 0.10
    assert ml.correction.random_loss_share == pytest.approx(0.15, abs=0.04)


# --- pieces --------------------------------------------------------------------------------

def test_error_stats_by_hand():
    # errors 1, -1, 3: mean 1, RMSE sqrt(11/3), std sqrt(((0)^2 + (-2)^2 + 2^2) / 3)
    s = error_stats([1.0, -1.0, 3.0], predicted=[1.0, 2.0, 6.0], measured=[0.0, 3.0, 3.0])
    assert s["n"] == 3 and s["mean_error_db"] == pytest.approx(1.0)
    assert s["rmse_db"] == pytest.approx(np.sqrt(11 / 3))
    assert s["std_db"] == pytest.approx(np.sqrt(8 / 3))
    assert s["mae_db"] == pytest.approx(5 / 3)
    assert s["correlation"] == pytest.approx(np.corrcoef([1, 2, 6], [0, 3, 3])[0, 1])
    assert error_stats([])["rmse_db"] is None


def test_least_squares_matches_numpy_lstsq():
    rng = np.random.default_rng(0)
    d = np.exp(rng.uniform(np.log(100), np.log(20000), 500))
    r = 3.0 + 2.0 * np.log10(d / 1000) + rng.normal(0, 4, 500)
    c = fit_correction(r, d)
    a = np.c_[np.ones(500), np.log10(d / 1000)]
    coef, res, *_ = np.linalg.lstsq(a, r, rcond=None)
    assert c.offset_db == pytest.approx(coef[0]) and c.slope_db_per_decade == pytest.approx(coef[1])
    assert c.sigma_db == pytest.approx(np.sqrt(res[0] / 498))


def test_route_segments_and_folds():
    x = np.r_[np.arange(0, 3000, 10.0), 50_000 + np.arange(0, 500, 10.0)]
    y = np.zeros_like(x)
    route = np.array(["a"] * 300 + ["b"] * 50)
    seg = route_segments(route, x, y, 1000.0)
    for s in set(seg):
        sel = seg == s
        assert x[sel].max() - x[sel].min() <= 1000.0
        assert len(set(route[sel])) == 1
    fold = assign_folds(seg, 3)
    for s in set(seg):
        assert len(set(fold[seg == s])) == 1          # a piece is never split
    assert set(fold) == {0, 1, 2}


def test_correlogram_finds_the_correlation_distance():
    rng = np.random.default_rng(5)
    pts = syn.routes(rng, n_routes=400, points=40, step_m=20.0)
    noise = syn.correlated_noise(rng, pts["x_m"], pts["y_m"], sigma_db=6.0,
                                 decorrelation_m=120.0, resolution_m=10.0)
    # one group: demeaning route by route would take out the long-lag correlation
    cg = residual_correlogram(pts["x_m"], pts["y_m"], noise, np.zeros(noise.size),
                              max_lag_m=600.0)
    fit = fit_exponential_correlation(cg)
    assert fit["status"] == "fitted"
    assert 120.0 / 1.5 < fit["correlation_distance_m"] < 120.0 * 1.5
    assert fit["nugget"] < 0.2


def test_calibration_json_counts_and_outputs(tmp_path):
    scen, path, _, _ = _truth(tmp_path, 9, n_routes=60)
    cal = calibrate(scen, path)
    out = cal.save(tmp_path / "out")
    names = {p.name for p in out.iterdir()}
    assert names == {"calibration.json", "points.csv", "calibrated_scenario.yaml",
                     "predicted_vs_measured.png", "error_vs_distance.png", "error_map.png",
                     "correlogram.png", "manifest.json"}
    assert json.loads((out / "manifest.json").read_text())["kind"] == "calibration"
    d = json.loads((out / "calibration.json").read_text())
    m = d["measurements"]
    assert m["used"] + sum(m["skipped"].values()) == m["rows"]
    assert d["statistics_before"]["all"]["n"] == m["received"]
    assert d["cross_validation"]["stats"]["all"]["n"] == m["received"]
    assert set(d["statistics_before"]["by_transmitter"]) == {n for n, _, _ in syn.SITES}
    assert (out / "predicted_vs_measured.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(Exception, match="already exists"):
        cal.save(tmp_path / "out")


@pytest.mark.parametrize("model, terrain", [("hata_1980", "flat"),
                                            ("itm", {"synthetic": {"relief_m": 100}})])
def test_tiled_run_of_a_calibrated_scenario_matches_in_memory(tmp_path, model, terrain):
    from simulator.pipeline.distributed import run_tiled

    data = syn.scenario_dict(model, terrain=terrain)
    data["region"].update(width_km=8.0, height_km=8.0, resolution_m=200.0, tile_size_cells=16)
    data["sites"]["existing"][0]["positions"] = data["sites"]["existing"][0]["positions"][4:5]
    data["propagation"]["calibration"] = {"model": model, "offset_db": 12.0,
                                          "slope_db_per_decade": 4.0, "sigma_db": 7.0}
    scen = load_scenario(syn.write_scenario(tmp_path / "c.yaml", data))
    mem = run(scen)
    tiled = run_tiled(scen, write_rasters=False)
    for key in ("people_covered", "people_covered_expected", "area_covered_km2",
                "fade_margin_db"):
        assert tiled.summary[key] == mem.summary[key], key
