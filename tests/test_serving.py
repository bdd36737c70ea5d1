"""Uplink, interference, SINR, coverage probability and capacity through the engine."""

import numpy as np
import pytest
from scipy.special import ndtr

from simulator import ScenarioError, parse_scenario, run
from simulator.radio.capacity import thermal_noise_dbm
from simulator.pipeline.engine import compute_fields, site_arrays
from simulator.region.grid import Grid
from simulator.radio.propagation.models import PathLossModel
from simulator.radio.serving import MAX_SINR_DB, ServingParams, serve
from simulator.radio.stations import Sites, station_catalogue, technology_catalogue
from simulator.radio.variability import area_coverage_fraction

TECH = technology_catalogue()["lte_900"]
OMNI = {"omni": {"base": "small_cell", "hpbw_v_deg": 180.0, "downtilt_deg": 0.0,
                 "tx_power_dbm": 30.0, "antenna_gain_dbi": 0.0, "feeder_loss_db": 0.0}}


def _engine(grid, sites, stations, model, channel=None, ue_h=1.5):
    sa = site_arrays(sites, stations, TECH, model, ue_height_m=ue_h, floor_dbm=-160.0,
                     max_range_m=30_000.0)
    return sa, compute_fields(grid, sa, TECH, model, ue_height_m=ue_h, tile_size_cells=64,
                              channel=channel)


def test_equal_interferers_add_3_01_db_and_one_site_sinr_is_snr():
    grid = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 4_100.0, 4_100.0, 100.0)
    stations = station_catalogue(OMNI)
    model = PathLossModel("free_space")
    yc, xc = grid.y_centres()[20], grid.x_centres()[20]  # the centre cell
    # three omni sites 1 km from the centre cell, at 0, 120 and 240 degrees
    ang = np.radians([0.0, 120.0, 240.0])
    sites = Sites(["a", "b", "c"], xc + 1000 * np.sin(ang), yc + 1000 * np.cos(ang),
                  ["omni"] * 3, [False] * 3)
    _, one = _engine(grid, sites.subset([0]), stations, model, channel=np.zeros(1, int))
    _, three = _engine(grid, sites, stations, model, channel=np.zeros(3, int))
    rx1 = one.rx_dbm[20, 20]
    # two equal interferers at the centre: 10 log10(2) = 3.0103 dB above one of them
    assert three.interference_dbm[20, 20] == pytest.approx(rx1 + 10 * np.log10(2), abs=1e-3)
    # one site: no interference, SINR == SNR = RSRP - (kTB(15 kHz) + NF_UE)
    assert np.isneginf(one.interference_dbm[20, 20])
    params = ServingParams(fade_margin_db=0.0, sigma_db=8.0)
    sv = serve(one, np.array([30.0 - TECH.metric_offset_db]), np.ones(grid.shape, int), TECH,
               params, 1)
    # kT at 290 K = 1.380649e-23 J/K x 290 K -> -173.975 dBm/Hz (the familiar -174 rounded)
    kt_dbm_per_hz = 10 * np.log10(1.380649e-23 * 290.0 * 1000.0)
    noise = kt_dbm_per_hz + 10 * np.log10(15e3) + TECH.ue_noise_figure_db
    # (capped at the receiver ceiling, TS 36.104 EVM 3.5 %: 1 km of free space is far above it)
    assert rx1 - noise > MAX_SINR_DB
    assert sv.sinr_db[20, 20] == pytest.approx(MAX_SINR_DB, abs=1e-3)
    # below the ceiling SINR is SNR: the same field 60 dB weaker
    import dataclasses

    weaker = dataclasses.replace(one, rx_dbm=(one.rx_dbm - 60.0).astype(np.float32))
    sv_w = serve(weaker, np.array([30.0 - TECH.metric_offset_db]), np.ones(grid.shape, int),
                 TECH, params, 1)
    assert rx1 - 60.0 - noise < MAX_SINR_DB
    assert sv_w.sinr_db[20, 20] == pytest.approx(rx1 - 60.0 - noise, abs=1e-3)
    assert thermal_noise_dbm(15e3, noise_figure_db=TECH.ue_noise_figure_db) == pytest.approx(
        -174.0 + 10 * np.log10(15e3) + TECH.ue_noise_figure_db, abs=0.03)
    # with different channels (reuse 3) nobody interferes
    _, reuse = _engine(grid, sites, stations, model, channel=np.arange(3))
    assert np.all(np.isneginf(reuse.interference_dbm))


def test_area_coverage_probability_matches_jakes_reudink():
    # One omni site, Hata open area (log-distance in d_2D with exponent n = B/10), UE at
    # ground level handled by the model; log-normal shadowing sigma = 8 dB. The mean of the
    # per-cell coverage probability over the disc of radius R equals Jakes' closed form for
    # the edge margin at R (Jakes 1974; Rappaport eq. 4.79-4.81), within 0.5 points.
    grid = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 24_100.0, 24_100.0, 100.0)
    stations = station_catalogue({"tower": {"base": "macro", "sectors": 1, "hpbw_h_deg": 360.0,
                                            "hpbw_v_deg": 180.0, "downtilt_deg": 0.0,
                                            "height_m": 30.0}})
    model = PathLossModel("hata_1980", environment="suburban")
    site = Sites(["t"], [500_000.0], [9_300_000.0], ["tower"], [False])
    sa, f = _engine(grid, site, stations, model)
    sigma = 8.0
    params = ServingParams(fade_margin_db=0.0, sigma_db=sigma, uplink=False)
    sv = serve(f, sa.tx_metric_dbm, np.ones(grid.shape, int), TECH, params, 1)
    r_cell = 8_000.0
    xx, yy = np.meshgrid(grid.x_centres() - 500_000.0, grid.y_centres() - 9_300_000.0)
    rr = np.hypot(xx, yy)
    inside = (rr <= r_cell) & (rr >= 100.0)
    edge_loss = model.loss_db(np.array([r_cell], np.float64), TECH.frequency_mhz, 30.0, 1.5)
    edge_rx = sa.eirp_metric_dbm[0] - edge_loss[0]
    edge_margin = edge_rx - TECH.dl_threshold_dbm
    from simulator.radio.propagation.hata import hata_coefficients

    _, slope = hata_coefficients(TECH.frequency_mhz, 30.0, 1.5, environment="suburban")
    expected = area_coverage_fraction(edge_margin, sigma, slope / 10.0)
    got = sv.coverage_probability[inside].mean()
    assert got == pytest.approx(expected, abs=0.005)
    # and each cell's probability is Phi(margin / sigma)
    m = sv.dl_margin_db[inside]
    np.testing.assert_allclose(sv.coverage_probability[inside], ndtr(m / sigma), atol=1e-5)


GOOD = {
    "name": "s", "seed": 1,
    "region": {"width_km": 12, "height_km": 10, "resolution_m": 200},
    "population": {"synthetic": {"total_people": 8000, "settlements": 10}},
    "sites": {"existing": [{"station": "macro", "count": 1, "min_spacing_km": 5}],
              "new": [{"station": "ruralstar_pro", "count": 4, "min_spacing_km": 2}]},
}


def _run(**changes):
    data = dict(GOOD)
    data.update(changes)
    return run(parse_scenario(data)).summary


def test_uplink_limits_coverage_when_the_handset_is_weak():
    base = _run()
    weak = _run(technology={"base": "lte_900", "ue_tx_power_dbm": 0.0})
    assert weak["people_covered_downlink_only"] == base["people_covered_downlink_only"]
    assert weak["people_covered"] < base["people_covered"]
    assert weak["people_not_covered_by_cause"]["uplink_limited"] > 0
    total = weak["people_covered"] + sum(weak["people_not_covered_by_cause"].values())
    assert total == weak["population_total"]


def test_indoor_users_lose_coverage_and_expected_value_is_reported():
    out = _run()
    ind = _run(indoor={"share": 0.5})
    assert ind["building_entry_loss_db"] > 5  # P.2109 median, traditional, 942.5 MHz
    assert ind["people_covered"] < out["people_covered"]
    assert 0 < out["people_covered_expected"] <= out["population_total"]


def test_capacity_limits_people_served_not_covered():
    light = _run()
    heavy = _run(capacity={"busy_hour_active_share": 0.2, "mbps_per_active_user": 5.0})
    assert heavy["people_covered"] == light["people_covered"]
    assert heavy["people_served_busy_hour"] < light["people_served_busy_hour"]
    assert heavy["sites_over_capacity"] >= 1


def test_reuse_reduces_interference_limited_people():
    r1 = _run(radio={"reuse_factor": 1, "interference_load": 1.0})
    r3 = _run(radio={"reuse_factor": 3, "interference_load": 1.0})
    assert (r3["people_not_covered_by_cause"]["interference_limited"]
            <= r1["people_not_covered_by_cause"]["interference_limited"])
    assert r3["people_covered"] >= r1["people_covered"]


def test_service_no_technology_can_meet_is_refused():
    with pytest.raises(ScenarioError, match="services.video.min_dl_throughput_mbps"):
        _run(technology="gsm_900", services={"video": {"min_dl_throughput_mbps": 1.0}})
    with pytest.raises(ScenarioError, match="peaks at"):
        _run(services={"fast": {"min_dl_throughput_mbps": 500.0}})


def test_reuse_factor_zero_is_refused():
    with pytest.raises(ScenarioError, match="radio.reuse_factor"):
        _run(radio={"reuse_factor": 0})


def test_monte_carlo_mean_converges_to_the_expected_value():
    out = _run(propagation={"monte_carlo_realisations": 300, "decorrelation_distance_m": 100.0})
    mc = out["people_covered_monte_carlo"]
    assert mc["p05"] <= mc["mean"] <= mc["p95"]
    # standard error of the mean from the interval (normal approx.: p95 - p05 = 3.29 sd)
    se = (mc["p95"] - mc["p05"]) / 3.29 / np.sqrt(300)
    assert abs(mc["mean"] - out["people_covered_expected"]) <= 4 * se + 1.0


def test_scenario_without_existing_sites_runs():
    out = _run(sites={"new": [{"station": "ruralstar_pro", "count": 3}]})
    assert out["people_covered_by_existing_sites"] == 0
    assert out["people_newly_covered"] == out["people_covered"] > 0
