"""Predictions at measurement points against hand-worked link budgets, the measurement
readers, and the model conventions (free-space floor, COST-231 a(h_m))."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from pyproj import Transformer

from simulator import ScenarioError
from simulator.calibration import compare
from simulator.errors import RuralsimWarning
from simulator.io.measurements import read_measurements, read_transmitters, write_table_csv
from simulator.radio.propagation.hata import (
    cost231_hata_loss_db,
    hata_1980_loss_db,
    mobile_height_correction_db,
)
from simulator.radio.propagation.models import PathLossModel, calibration_correction_db
from simulator.radio.propagation.rma import rma_38901_loss_db

from . import calibration_synth as syn
from .conftest import DATA

C = 299_792_458.0


def _fspl(d_m, f_mhz):
    """Free-space loss 20 log10(4 pi d f / c) (ITU-R P.525-4 eq. 4), typed here."""
    return 20 * np.log10(4 * np.pi * d_m * f_mhz * 1e6 / C)


def _points_near(n=12, seed=0):
    rng = np.random.default_rng(seed)
    to_ll = Transformer.from_crs(syn.EPSG, "EPSG:4326", always_xy=True)
    cx, cy = Transformer.from_crs("EPSG:4326", syn.EPSG, always_xy=True).transform(*syn.CENTRE)
    r = np.geomspace(50, 7000, n)
    a = rng.uniform(0, 2 * np.pi, n)
    x, y = cx + r * np.cos(a), cy + r * np.sin(a)
    lon, lat = to_ll.transform(x, y)
    return np.asarray(lon), np.asarray(lat), r


def _tx_table(path, **cols):
    row = dict(name="gw", lon=syn.CENTRE[0], lat=syn.CENTRE[1], height_m=20.0,
               frequency_mhz=868.0, tx_power_dbm=14.0, tx_gain_dbi=3.0, tx_loss_db=1.0,
               rx_gain_dbi=2.0, rx_loss_db=0.5)
    row.update(cols)
    write_table_csv(path, {k: [v] for k, v in row.items()})
    return str(path)


def test_free_space_point_prediction_is_the_link_budget(tmp_path):
    lon, lat, r = _points_near()
    scen = syn.write_scenario(tmp_path / "s.yaml", syn.scenario_dict("free_space"))
    tx = _tx_table(tmp_path / "tx.csv")
    m = write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat,
                                             "rssi_dbm": np.full(lon.size, -90.0),
                                             "transmitter": ["gw"] * lon.size,
                                             "rx_height_m": np.full(lon.size, 1.5)})
    pts = compare(scen, m, transmitters=tx).points
    # 14 + 3 - 1 + 2 - 0.5 = 17.5 dBm before the loss; free space over the slant path
    d3 = np.hypot(pts.distance_m, 20.0 - 1.5)
    np.testing.assert_allclose(pts.predicted, 17.5 - _fspl(d3, 868.0), atol=1e-6)
    # the UTM distance of the projected points: within a metre of the drawn radius
    np.testing.assert_allclose(np.sort(pts.distance_m), np.sort(r), rtol=2e-3)


def test_rsrp_of_a_table_transmitter_is_per_resource_element(tmp_path):
    lon, lat, _ = _points_near(4)
    scen = syn.write_scenario(tmp_path / "s.yaml", syn.scenario_dict("free_space"))
    tx = _tx_table(tmp_path / "tx.csv", tx_power_dbm=46.0, bandwidth_mhz=10.0)
    m = write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat,
                                             "rsrp_dbm": np.full(4, -90.0),
                                             "transmitter": ["gw"] * 4,
                                             "rx_height_m": np.full(4, 1.5)})
    rsrp = compare(scen, m, transmitters=tx).points
    m2 = write_table_csv(tmp_path / "m2.csv", {"lon": lon, "lat": lat,
                                               "rx_power_dbm": np.full(4, -90.0),
                                               "transmitter": ["gw"] * 4,
                                               "rx_height_m": np.full(4, 1.5)})
    total = compare(scen, m2, transmitters=tx).points
    # 10 MHz = 50 resource blocks (TS 36.104 Table 5.6-1): 600 subcarriers, 27.78 dB
    np.testing.assert_allclose(total.predicted - rsrp.predicted, 10 * np.log10(600), atol=1e-9)


def test_path_loss_kind_is_the_basic_loss_and_its_error_sign(tmp_path):
    lon, lat, _ = _points_near(5)
    scen = syn.write_scenario(tmp_path / "s.yaml", syn.scenario_dict("free_space"))
    tx = _tx_table(tmp_path / "tx.csv")
    m = write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat,
                                             "path_loss_db": np.full(5, 100.0),
                                             "transmitter": ["gw"] * 5,
                                             "rx_height_m": np.full(5, 1.5)})
    pts = compare(scen, m, transmitters=tx).points
    np.testing.assert_allclose(pts.predicted, _fspl(np.hypot(pts.distance_m, 18.5), 868.0),
                               atol=1e-6)
    # a model predicting too little loss has a positive loss residual for path loss too
    np.testing.assert_allclose(pts.loss_residual_db, 100.0 - pts.predicted)


def test_scenario_site_uses_the_station_and_technology_budget(tmp_path):
    """The scenario's own sites: the station's power, gain and feeder loss, the
    technology's metric offset, handset gain and body loss (catalogue values)."""
    import yaml

    from simulator.radio.stations import station_catalogue, technology_catalogue

    lon, lat, _ = _points_near(6)
    data = syn.scenario_dict("free_space")
    data["sites"]["existing"][0]["positions"] = [{"name": "only", "lon": syn.CENTRE[0],
                                                  "lat": syn.CENTRE[1]}]
    data["stations"]["tower"]["hpbw_v_deg"] = 180.0   # no vertical pattern to speak of
    scen = syn.write_scenario(tmp_path / "s.yaml", data)
    m = write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat,
                                             "rsrp_dbm": np.full(6, -90.0)})
    pts = compare(scen, m).points
    st = station_catalogue({"tower": {"base": "macro", "height_m": 40.0}})["tower"]
    tech = technology_catalogue()["lte_900"]
    with open(__import__("simulator").__path__[0] + "/data/technologies.yaml") as fh:
        raw = yaml.safe_load(fh)
    n_rb = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}[raw["lte_900"]["bandwidth_mhz"]]
    budget = (st.tx_power_dbm + st.antenna_gain_dbi - st.feeder_loss_db
              - 10 * np.log10(12 * n_rb) + tech.ue_antenna_gain_dbi - tech.body_loss_db)
    loss = _fspl(np.hypot(pts.distance_m, 40.0 - 1.5), tech.frequency_mhz)
    # the 3GPP vertical pattern with a 180 deg beam: at most 12 (theta/180)^2 dB down
    gain = pts.predicted - (budget - loss)
    assert np.all(gain <= 1e-6) and np.all(gain > -1.0)


def test_itm_on_a_flat_dem_is_itm_on_the_flat_profile(tmp_path):
    from simulator.radio.propagation.itm import itm_p2p_loss_db

    lon, lat, _ = _points_near(6)
    data = syn.scenario_dict("itm", terrain={"synthetic": {"relief_m": 0.0}},
                             resolution_m=200.0, sites=False)
    scen = syn.write_scenario(tmp_path / "s.yaml", data)
    tx = _tx_table(tmp_path / "tx.csv")
    m = write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat,
                                             "path_loss_db": np.full(6, 100.0),
                                             "rx_height_m": np.full(6, 1.5)})
    pts = compare(scen, m, transmitters=tx).points
    assert pts.line_of_sight.all()
    for d, got in zip(pts.distance_m, pts.predicted):
        n = max(2, int(np.ceil(d / 200.0 - 1e-9)) + 1)
        ref = itm_p2p_loss_db(np.full(n, 1000.0), d / (n - 1), 20.0, 1.5, 868.0, climate=2,
                              mdvar=12)
        assert got == pytest.approx(ref, abs=1e-6)


def test_line_of_sight_from_the_terrain(tmp_path):
    """A ridge east of the transmitter hides the points beyond it; west is open."""
    import rasterio
    from affine import Affine

    to_ll = Transformer.from_crs(syn.EPSG, "EPSG:4326", always_xy=True)
    cx, cy = Transformer.from_crs("EPSG:4326", syn.EPSG, always_xy=True).transform(*syn.CENTRE)
    n, res = 120, 100.0
    z = np.full((n, n), 500.0, np.float32)
    z[:, 70:72] = 900.0                     # a 400 m wall 1 km east of the centre
    with rasterio.open(tmp_path / "dem.tif", "w", driver="GTiff", height=n, width=n, count=1,
                       dtype="float32", crs=syn.EPSG,
                       transform=Affine(res, 0, cx - n * res / 2, 0, -res, cy + n * res / 2)) as f:
        f.write(z, 1)
    data = syn.scenario_dict("delta_bullington", terrain={"raster": {"file": "dem.tif"}},
                             width_km=10.0, resolution_m=100.0, sites=False)
    scen = syn.write_scenario(tmp_path / "s.yaml", data)
    tx = _tx_table(tmp_path / "tx.csv")
    xs = cx + np.array([-3000.0, -2000.0, 2500.0, 3500.0])
    lon, lat = to_ll.transform(xs, np.full(4, cy))
    m = write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat,
                                             "path_loss_db": np.full(4, 100.0)})
    c = compare(scen, m, transmitters=tx)
    los = dict(zip(np.round(c.points.x_m - cx), c.points.line_of_sight))
    assert los == {-3000.0: True, -2000.0: True, 2500.0: False, 3500.0: False}
    assert set(c.statistics["by_line_of_sight"]) == {"line_of_sight", "obstructed"}
    # the wall costs diffraction loss: well above free space behind it
    behind = c.points.x_m > cx
    assert np.all(c.points.predicted[behind] - _fspl(c.points.distance_m[behind], 868.0) > 15)


# --- readers -------------------------------------------------------------------------------

def test_reader_skips_and_counts_missing_values_and_sorts_by_time(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("lon,lat,rssi_dbm,transmitter,time\n"
                 "35.0,-6.0,-80,gw,2025-01-01T10:00:05\n"
                 "35.001,-6.0,,gw,2025-01-01T10:00:03\n"
                 "35.002,-6.0,-82.5,gw,2025-01-01T10:00:01\n")
    m = read_measurements(p)
    assert m.kind == "rssi" and len(m) == 2 and m.skipped == {"missing_value": 1}
    assert list(m.value) == [-82.5, -80.0] and list(m.line) == [4, 2]


def test_geojson_in_a_projected_crs(tmp_path):
    to_xy = Transformer.from_crs("EPSG:4326", syn.EPSG, always_xy=True)
    x, y = to_xy.transform(35.01, -6.02)
    p = tmp_path / "m.geojson"
    p.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32736"}},
        "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                      "properties": {"path_loss_db": 120.5, "transmitter": "gw"}}]}))
    m = read_measurements(p)
    assert m.kind == "path_loss" and m.where == "feature"
    assert m.lon[0] == pytest.approx(35.01, abs=1e-9) and m.lat[0] == pytest.approx(-6.02, abs=1e-9)


@pytest.mark.parametrize("text, match", [
    ("lon,lat,rssi_dbm\n", "no rows"),
    ("lon,lat,signal\n35,-6,-80\n", "no recognised value column"),
    ("lon,lat,rssi_dbm,rssi_dbm\n35,-6,-80,-81\n", "appears twice"),
    ("lon,lat,rssi_dbm\n35,-6,nan\n", "not a number"),
    ("lon,lat,rssi_dbm\n35,-6,45\n", "plausible range"),
    ("lon,lat,rssi_dbm\n35,-6,-250\n", "plausible range"),
    ("lon,lat,rssi_dbm,rsrp_dbm\n35,-6,-80,-90\n", "several value columns"),
    ("lon,lat,rssi_dbm\n35,-6,\n35,-6,\n", "no usable row"),
    ("lon,lat,rssi_dbm,censored\n35,-6,-80,maybe\n", "true/false"),
])
def test_reader_refuses_bad_files(tmp_path, text, match):
    p = tmp_path / "m.csv"
    p.write_text(text)
    with pytest.raises(ScenarioError, match=match) as exc:
        read_measurements(p)
    assert str(p) in exc.value.one_line()


def test_transmitter_table_checks(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("name,lon,lat,height_m,frequency_mhz\ngw,35,-6,-3,868\n")
    with pytest.raises(ScenarioError, match="height_m"):
        read_transmitters(p)
    p.write_text("name,lon,lat,height_m,frequency_mhz\ngw,35,-6,3,868\ngw,35,-6,4,868\n")
    with pytest.raises(ScenarioError, match="twice"):
        read_transmitters(p)
    p.write_text("name,lon,lat,height_m\ngw,35,-6,3\n")
    with pytest.raises(ScenarioError, match="frequency_mhz"):
        read_transmitters(p)


def test_rows_outside_the_region_are_skipped_and_counted(tmp_path):
    lon, lat, _ = _points_near(5)
    lon = np.r_[lon, 36.5, 20.0]
    lat = np.r_[lat, -6.0, 10.0]
    scen = syn.write_scenario(tmp_path / "s.yaml", syn.scenario_dict("free_space", sites=False))
    tx = _tx_table(tmp_path / "tx.csv")
    m = write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat,
                                             "rssi_dbm": np.r_[np.full(6, -90.0), np.nan]})
    c = compare(scen, m, transmitters=tx)
    assert len(c.points) == 5
    assert c.skipped == {"missing_value": 1, "outside_region": 1, "outside_dem": 0}
    out = c.save(tmp_path / "out")
    d = json.loads((out / "calibration.json").read_text())
    assert d["measurements"]["skipped"] == c.skipped and d["measurements"]["rows"] == 7
    with open(out / "points.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 5


# --- conventions ---------------------------------------------------------------------------

def _hata_open_by_hand(d_km, f, hb, hm):
    """Hata (1980) eqs. (3), (4), (7), typed from the paper's formulas."""
    a = (1.1 * np.log10(f) - 0.7) * hm - (1.56 * np.log10(f) - 0.8)
    lu = 69.55 + 26.16 * np.log10(f) - 13.82 * np.log10(hb) - a + \
        (44.9 - 6.55 * np.log10(hb)) * np.log10(d_km)
    return lu - 4.78 * np.log10(f) ** 2 + 18.33 * np.log10(f) - 40.94


def test_hata_free_space_floor_conventions():
    d = np.array([300.0, 1000.0, 1500.0, 5000.0, 30000.0])
    f, hb, hm = 1500.0, 200.0, 10.0
    raw = _hata_open_by_hand(d / 1000, f, hb, hm)
    fs = _fspl(d, f)
    assert raw[1] < fs[1] - 20   # inside the valid range the formula is below free space
    never = hata_1980_loss_db(d, f, hb, hm, environment="open", fspl_floor="never")
    always = hata_1980_loss_db(d, f, hb, hm, environment="open", fspl_floor="always")
    inside = hata_1980_loss_db(d, f, hb, hm, environment="open", fspl_floor="outside_validity")
    np.testing.assert_allclose(never, raw, atol=1e-9)
    np.testing.assert_allclose(always, np.maximum(raw, fs), atol=1e-3)   # P.525 rounding
    ok = (d >= 1000) & (d <= 20000)
    np.testing.assert_allclose(inside[ok], raw[ok], atol=1e-9)
    np.testing.assert_allclose(inside[~ok], np.maximum(raw, fs)[~ok], atol=1e-3)
    m = PathLossModel("hata_1980", environment="open", free_space_floor="outside_validity")
    np.testing.assert_allclose(m.loss_db(d, f, hb, hm), inside, atol=1e-9)
    assert m.floor_decided(d, f, hb, hm).tolist() == ((raw < fs) & ~ok).tolist()
    assert PathLossModel("hata_1980", environment="open").floor_decided(d, f, hb, hm)[:3].all()


def test_rma_floor_acts_inside_the_valid_range_only_when_always():
    # LOS at 20 m (h = 5 m): PL1 - FSPL = 0.478 log10 d - 0.70 + 0.0014 d < 0 (TR 38.901
    # Table 7.4.1-1 with h^1.72 = 15.94): the floor lifts it to free space
    d, f, hbs, hut = 20.0, 3500.0, 10.0, 1.5
    never = rma_38901_loss_db(d, f, hbs, hut, condition="los", fspl_floor="never")
    d3 = np.hypot(d, hbs - hut)
    h172 = 5.0 ** 1.72
    pl1 = 20 * np.log10(40 * np.pi * d3 * 3.5 / 3) + 0.03 * h172 * np.log10(d3) \
        - 0.044 * h172 + 0.002 * np.log10(5.0) * d3
    assert never == pytest.approx(pl1, abs=1e-9)
    fs = 20 * np.log10(4 * np.pi * d3 * 3.5e9 / C)
    assert pl1 < fs
    assert rma_38901_loss_db(d, f, hbs, hut, condition="los") == pytest.approx(fs, abs=1e-6)
    assert rma_38901_loss_db(d, f, hbs, hut, condition="los",
                             fspl_floor="outside_validity") == pytest.approx(pl1, abs=1e-9)


def test_cost231_mobile_correction_matches_cost231_as_quoted():
    """ns-3's COST-231 small-city case (150.64 dB, 2114 MHz, 2 km, h_b 30 m, h_m 1 m) is
    COST 231 with the small/medium-city a(h_m); a metropolitan centre adds C_m = 3 dB."""
    with open(DATA / "propagation" / "ns3_cost231.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    small = next(r for r in rows if r["city_size"] == "SmallCity")
    args = (float(small["d_3d_m"]), float(small["f_mhz"]), float(small["h_b_m"]),
            float(small["h_m_m"]))
    got = cost231_hata_loss_db(*args, environment="urban", city_size="large",
                               check_parameters=False, cost231_mobile_correction="small_medium")
    assert got == pytest.approx(float(small["expected_loss_db"]) + 3.0,
                                abs=float(small["ns3_test_tolerance_db"]))
    # the two conventions differ by a_large - a_small, Hata eqs. (4)-(5): 16 dB at 10 m
    kw = dict(environment="urban", city_size="large", check_parameters=False)
    diff = cost231_hata_loss_db(2000.0, 2000.0, 30.0, 10.0, **kw,
                                cost231_mobile_correction="small_medium") - \
        cost231_hata_loss_db(2000.0, 2000.0, 30.0, 10.0, **kw)
    lf = np.log10(2000.0)
    expect = (3.2 * np.log10(11.75 * 10) ** 2 - 4.97) - ((1.1 * lf - 0.7) * 10 - (1.56 * lf - 0.8))
    assert diff == pytest.approx(expect, abs=1e-9) and abs(diff) > 15
    assert mobile_height_correction_db(2000.0, 10.0, "large") != \
        mobile_height_correction_db(2000.0, 10.0, "small_medium")


def test_calibration_correction_by_hand():
    d = np.array([100.0, 1000.0, 10000.0])
    np.testing.assert_allclose(calibration_correction_db(d, 3.0, -2.0, 1000.0),
                               [5.0, 3.0, 1.0])
    assert calibration_correction_db(np.float32(500.0), 1.0, 0.0).dtype == np.float32
    m = PathLossModel("free_space", calibration_offset_db=2.0,
                      calibration_slope_db_per_decade=10.0)
    base = PathLossModel("free_space").loss_db(d, 900.0, 30.0, 1.5)
    np.testing.assert_allclose(m.loss_db(d, 900.0, 30.0, 1.5) - base, [-8.0, 2.0, 12.0])


def test_schema_calibration_rules():
    from simulator.schema import PropagationSpec

    p = PropagationSpec(model="hata_1980", calibration={"model": "hata_1980", "sigma_db": 6.5,
                                                        "correlation_distance_m": 80.0})
    assert p.shadowing_sigma_db == 6.5 and p.decorrelation_distance_m == 80.0
    with pytest.raises(ValueError, match="fitted for model 'hata_1980'"):
        PropagationSpec(model="rma_38901", calibration={"model": "hata_1980"})
    with pytest.raises(ValueError, match="differs from calibration.sigma_db"):
        PropagationSpec(model="hata_1980", shadowing_sigma_db=8.0,
                        calibration={"model": "hata_1980", "sigma_db": 6.0})


def test_run_reports_where_the_floor_decides(tmp_path):
    from simulator import load_scenario, run
    from simulator.radio.propagation.models import free_space_floor_reach_m

    data = syn.scenario_dict("hata_1980", environment="open")
    data["stations"]["tower"]["height_m"] = 150.0
    with pytest.warns(RuralsimWarning, match="the free-space floor"):
        s = run(load_scenario(syn.write_scenario(tmp_path / "s.yaml", data)))
    reach = free_space_floor_reach_m(PathLossModel("hata_1980", environment="open"),
                                     942.5, 150.0, 1.5, 40000.0)
    assert reach > 1000.0              # inside Hata's range: the floor overrides the formula
    assert any(f"within {reach:,.0f} m of tower sites" in w for w in s.summary["warnings"])
    data["propagation"]["free_space_floor"] = "outside_validity"
    with pytest.warns(RuralsimWarning, match="the free-space floor"):
        s2 = run(load_scenario(syn.write_scenario(tmp_path / "s2.yaml", data)))
    reach2 = free_space_floor_reach_m(
        PathLossModel("hata_1980", environment="open", free_space_floor="outside_validity"),
        942.5, 150.0, 1.5, 40000.0)
    assert 0 < reach2 < 1000.0         # only where Hata is extrapolated
    assert any(f"within {reach2:,.0f} m of tower sites" in w for w in s2.summary["warnings"])


@pytest.mark.filterwarnings("ignore:the free-space floor:simulator.errors.RuralsimWarning")
def test_clutter_loss_joins_the_point_prediction_once(tmp_path):
    """With ``clutter: synthetic`` each point's prediction drops by its class's P.2108
    terminal loss (the run's own layer), and a fit per clutter class is possible."""
    from simulator import load_scenario
    from simulator.calibration import calibrate
    from simulator.pipeline.runner import prepare

    rng = np.random.default_rng(3)
    pts = syn.routes(rng, n_routes=60)
    data = syn.scenario_dict("hata_1980")
    plain = syn.write_scenario(tmp_path / "a.yaml", data)
    data["clutter"] = "synthetic"
    cl = syn.write_scenario(tmp_path / "b.yaml", data)
    m = syn.write_measurements(tmp_path / "m.csv", pts, rng.normal(-90, 6, len(pts["lon"])))
    a, b = compare(plain, m).points, compare(cl, m).points
    layer = prepare(load_scenario(cl), mode="tiled").clutter
    loss = layer.loss_at_xy(b.x_m, b.y_m, frequency_mhz=942.5, terminal_height_m=1.5)
    assert loss.max() > 5.0 and (loss == 0).any()          # built-up / forest, and open
    np.testing.assert_allclose(a.predicted - b.predicted, loss, atol=1e-9)
    assert a.clutter_class is None and len(set(b.clutter_class)) > 1
    cal = calibrate(cl, m, per="clutter_class", folds=3)
    assert set(cal.correction.group_offsets_db) == set(b.clutter_class)
    assert "by_clutter_class" in cal.comparison.statistics


def test_samples_of_a_transmitter_off_the_dem_are_skipped(tmp_path):
    lon, lat, _ = _points_near(6)
    data = syn.scenario_dict("delta_bullington", terrain={"synthetic": {"relief_m": 50.0}},
                             width_km=16.0, resolution_m=200.0, sites=False)
    scen = syn.write_scenario(tmp_path / "s.yaml", data)
    write_table_csv(tmp_path / "tx.csv", {
        "name": ["in", "far"], "lon": [syn.CENTRE[0], syn.CENTRE[0] + 0.2],
        "lat": [syn.CENTRE[1], syn.CENTRE[1]], "height_m": [20.0, 20.0],
        "frequency_mhz": [868.0, 868.0], "tx_power_dbm": [14.0, 14.0]})
    names = ["in", "far"] * 3
    m = write_table_csv(tmp_path / "m.csv", {"lon": lon, "lat": lat, "transmitter": names,
                                             "rssi_dbm": np.full(6, -90.0)})
    c = compare(scen, m, transmitters=tmp_path / "tx.csv")
    assert len(c.points) == 3 and c.skipped == {"missing_value": 0, "outside_region": 0,
                                                "outside_dem": 3}
    assert set(c.points.transmitter) == {"in"}
    only_far = write_table_csv(tmp_path / "m2.csv", {"lon": lon, "lat": lat,
                                                     "transmitter": ["far"] * 6,
                                                     "rssi_dbm": np.full(6, -90.0)})
    with pytest.raises(ScenarioError, match="outside the region's DEM"):
        compare(scen, only_far, transmitters=tmp_path / "tx.csv")
