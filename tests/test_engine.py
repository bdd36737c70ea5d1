"""The coverage engine: analytic checks, invariants and tile-size independence."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.radio.antenna import sector_3gpp_gain_dbi
from simulator.pipeline.engine import antenna_relative_gain_db, compute_fields, site_arrays
from simulator.region.grid import Grid
from simulator.radio.propagation.models import PathLossModel
from simulator.radio.stations import Sites, station_catalogue, technology_catalogue

GRID = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 30_000.0, 30_000.0, 100.0)
TECH = technology_catalogue()["lte_900"]


def _fields(sites, stations, model, grid=GRID, tile=64, floor=-135.0, tech=TECH, channel=None):
    sa = site_arrays(sites, stations, tech, model, ue_height_m=1.5, floor_dbm=floor,
                     max_range_m=40_000.0)
    return compute_fields(grid, sa, tech, model, ue_height_m=1.5, tile_size_cells=tile,
                          channel=channel)


def _one_site(station, x=500_000.0, y=9_300_000.0):
    return Sites(["s"], [x], [y], [station], [False])


def test_one_omni_site_free_space_covers_density_times_pi_r_squared():
    # An omni site (1 sector, 360 deg beam) over uniform people on flat ground, free space.
    stations = station_catalogue({"omni": {"base": "small_cell", "height_m": 10.0,
                                           "tx_power_dbm": 40.0, "antenna_gain_dbi": 0.0,
                                           "feeder_loss_db": 0.0, "hpbw_v_deg": 180.0,
                                           "downtilt_deg": 0.0}})
    model = PathLossModel("free_space")
    required = -100.0
    f = _fields(_one_site("omni"), stations, model)
    covered = f.rx_dbm >= required
    # Invert by hand: RSRP = 40 - 10log10(600) + 0 - 3 (body) - FSPL(d3D)
    #   FSPL = 20log10(d) + 20log10(942.5) - 27.5522   (P.525, d in m, f in MHz)
    eirp_re = 40.0 - 10 * np.log10(600.0) - 3.0
    d3d = 10 ** ((eirp_re - required - 20 * np.log10(942.5) + 27.55221) / 20)
    r = np.sqrt(d3d**2 - 8.5**2)
    density_per_cell = 7
    people = np.full(GRID.shape, density_per_cell)
    expected = density_per_cell * np.pi * r**2 / GRID.resolution_m**2
    got = people[covered].sum()
    # discretisation: at most the cells the circle's perimeter passes through
    assert abs(got - expected) <= density_per_cell * 2 * np.pi * r / GRID.resolution_m
    assert abs(got - expected) / expected < 0.02


def test_one_site_hata_radius_matches_inverted_formula():
    # Hata (open area) is L = A + B log10(d_km): the coverage radius is 10**((MAPL - A)/B) km.
    stations = station_catalogue({"tower": {"base": "macro", "sectors": 1, "hpbw_h_deg": 360.0,
                                            "height_m": 30.0, "hpbw_v_deg": 180.0,
                                            "downtilt_deg": 0.0}})
    model = PathLossModel("hata_1980", environment="open")
    required = -105.0
    f = _fields(_one_site("tower"), stations, model)
    covered = f.rx_dbm >= required
    # Hand computation, Hata 1980 eqs. (3), (4), (7), f = 942.5 MHz, hb = 30 m, hm = 1.5 m:
    lf, lh = np.log10(942.5), np.log10(30.0)
    a_hm = (1.1 * lf - 0.7) * 1.5 - (1.56 * lf - 0.8)
    a = 69.55 + 26.16 * lf - 13.82 * lh - a_hm - 4.78 * lf**2 + 18.33 * lf - 40.94
    b = 44.9 - 6.55 * lh
    eirp_re = 46.0 + 17.0 - 2.0 - 10 * np.log10(600.0) + 0.0 - 3.0
    r = 1000.0 * 10 ** ((eirp_re - required - a) / b)
    n_expected = np.pi * r**2 / GRID.resolution_m**2
    assert abs(covered.sum() - n_expected) <= 2 * np.pi * r / GRID.resolution_m


def test_results_do_not_depend_on_tile_size():
    stations = station_catalogue()
    rng = np.random.default_rng(5)
    n = 12
    sites = Sites([f"s{i}" for i in range(n)], rng.uniform(486_000, 514_000, n),
                  rng.uniform(9_286_000, 9_314_000, n),
                  list(rng.choice(["macro", "ruralstar_pro", "small_cell"], n)),
                  rng.random(n) < 0.3, rng.uniform(0, 120, n))
    model = PathLossModel("rma_38901")
    channel = np.arange(n) % 2
    ref = _fields(sites, stations, model, tile=GRID.ncols, channel=channel)
    for tile in (16, 37, 100):
        f = _fields(sites, stations, model, tile=tile, channel=channel)
        np.testing.assert_array_equal(f.interference_dbm, ref.interference_dbm)
        np.testing.assert_array_equal(f.best_server, ref.best_server)
        np.testing.assert_array_equal(f.rx_dbm, ref.rx_dbm)
        np.testing.assert_array_equal(f.path_loss_db, ref.path_loss_db)


def test_site_near_tile_edge_covers_the_neighbouring_tile():
    stations = station_catalogue()
    # a site 50 m west of a tile boundary (tile = 64 cells = 6.4 km from the west edge)
    x = GRID.x_min_m + 64 * 100.0 - 50.0
    f = _fields(_one_site("ruralstar_pro", x=x), stations, PathLossModel("rma_38901"))
    east = f.best_server[:, 64:80]
    assert np.any(east == 0)


def test_no_site_means_nothing_reaches():
    f = _fields(Sites.empty(), station_catalogue(), PathLossModel("rma_38901"))
    assert np.all(f.best_server == -1) and np.all(np.isnan(f.rx_dbm))


def _gain(dx, dy, dz, az, sectors, hpbw_h, hpbw_v=65.0, tilt=0.0):
    d = np.hypot(dx, dy)
    return antenna_relative_gain_db(dx, dy, d, np.array([dz]), np.array([az]),
                                    np.array([sectors]), np.array([hpbw_h]), np.array([hpbw_v]),
                                    np.array([tilt]))[0]


def test_sector_pattern_tr38901_horizontal_cut():
    # TR 38.901 Table 7.3-1: A(phi) = -min(12 (phi/65)^2, 30): 0 at boresight, -3 dB at 32.5 deg.
    ang = np.radians(np.array([0.0, 32.5, 90.0]))
    dx, dy = 1000 * np.sin(ang)[None, :], 1000 * np.cos(ang)[None, :]
    np.testing.assert_allclose(_gain(dx, dy, 0.0, 0.0, 1, 65.0),
                               [0.0, -3.0, -min(12 * (90 / 65) ** 2, 30)], atol=1e-4)
    # three sectors: the sector at 120 deg hears a bearing of 90 deg at 30 deg off boresight
    assert _gain(dx, dy, 0.0, 0.0, 3, 65.0)[2] == pytest.approx(-12 * (30 / 65) ** 2, abs=1e-4)
    assert np.all(_gain(dx, dy, 0.0, 0.0, 1, 360.0, hpbw_v=180.0) > -1e-5)


def test_best_sector_equals_max_over_sectors_of_the_antenna_pattern():
    rng = np.random.default_rng(2)
    dx, dy = rng.uniform(-5000, 5000, (1, 500)), rng.uniform(-5000, 5000, (1, 500))
    got = _gain(dx, dy, 28.5, 17.0, 3, 65.0, hpbw_v=10.0, tilt=2.0)
    bearing = np.degrees(np.arctan2(dx, dy))
    elev = -np.degrees(np.arctan2(28.5, np.hypot(dx, dy)))
    each = [sector_3gpp_gain_dbi(bearing - (17.0 + 120.0 * j), elev, max_gain_dbi=0.0,
                                 hpbw_v_deg=10.0, tilt_deg=2.0) for j in range(3)]
    np.testing.assert_allclose(got, np.max(each, axis=0)[0], atol=1e-3)


def test_vertical_pattern_no_loss_at_the_tilt_angle():
    # a cell seen 2 deg below the horizon, downtilt 2 deg: no vertical attenuation
    d = 28.5 / np.tan(np.radians(2.0))
    assert _gain(np.array([[0.0]]), np.array([[d]]), 28.5, 0.0, 3, 65.0, 10.0, 2.0)[0] == \
        pytest.approx(0.0, abs=1e-4)
    # 5 deg further down: -12 (5/10)^2 = -3 dB
    d5 = 28.5 / np.tan(np.radians(7.0))
    assert _gain(np.array([[0.0]]), np.array([[d5]]), 28.5, 0.0, 3, 65.0, 10.0, 2.0)[0] == \
        pytest.approx(-3.0, abs=1e-3)


SMALL = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 12_000.0, 12_000.0, 200.0)
site_strategy = st.lists(
    st.tuples(st.floats(494_000, 506_000), st.floats(9_294_000, 9_306_000),
              st.sampled_from(["macro", "ruralstar_pro", "small_cell"]),
              st.floats(0, 119)), min_size=1, max_size=6)


@settings(max_examples=20, deadline=None)
@given(sites=site_strategy, extra=st.tuples(st.floats(494_000, 506_000),
                                            st.floats(9_294_000, 9_306_000)),
       boost_db=st.floats(0.1, 10.0))
def test_more_sites_or_more_power_never_lower_coverage(sites, extra, boost_db):
    stations = station_catalogue()
    people = np.random.default_rng(0).integers(0, 20, SMALL.shape)
    model = PathLossModel("rma_38901")
    required = -105.0

    def covered_people(site_list, boost=0.0):
        xs, ys, types, az = zip(*site_list)
        cat = {k: v for k, v in stations.items()}
        if boost:
            cat = station_catalogue({t: {"tx_power_dbm": stations[t].tx_power_dbm + boost}
                                     for t in ("macro", "ruralstar_pro", "small_cell")})
        s = Sites([str(i) for i in range(len(xs))], xs, ys, list(types),
                  np.zeros(len(xs), bool), az)
        f = _fields(s, cat, model, grid=SMALL, tile=23, floor=-140.0)
        cov = f.rx_dbm >= required
        return people[cov].sum()

    base = covered_people(sites)
    assert base <= people.sum()
    assert covered_people(sites + [(extra[0], extra[1], "small_cell", 0.0)]) >= base
    assert covered_people(sites, boost=boost_db) >= base


def test_vendor_pattern_file_replaces_the_3gpp_pattern(tmp_path):
    # tests/data/antenna_test_pattern.msi (hand-made, see SOURCES.md): horizontal attenuation
    # 0.2 dB per degree (max 25), vertical 0.5 dB per degree (max 30), peak 15.85 dBd.
    from simulator import parse_scenario
    from simulator.pipeline.runner import make_stations

    from .conftest import DATA

    scen = parse_scenario({"name": "p", "stations": {"panel": {
        "base": "macro", "sectors": 1, "hpbw_h_deg": 65.0,
        "pattern_file": str(DATA / "antenna_test_pattern.msi")}}})
    st = make_stations(scen)["panel"]
    assert st.antenna_gain_dbi == pytest.approx(15.85 + 2.15)  # dBd -> dBi
    sa = site_arrays(Sites(["a"], [0.0], [0.0], ["panel"], [False], [0.0]),
                     {"panel": st}, TECH, PathLossModel("free_space"), ue_height_m=1.5,
                     floor_dbm=-200.0, max_range_m=1e4)
    ang = np.radians(np.array([0.0, 30.0, 90.0]))
    dx, dy = (5000 * np.sin(ang))[None, :], (5000 * np.cos(ang))[None, :]
    g = antenna_relative_gain_db(dx, dy, np.hypot(dx, dy), np.array([0.0]), sa.azimuth_deg,
                                 sa.sectors, sa.hpbw_h_deg, sa.hpbw_v_deg, sa.tilt_deg,
                                 sa.patterns)[0]
    np.testing.assert_allclose(g, [0.0, -6.0, -18.0], atol=0.01)


def test_unreadable_pattern_file_is_a_scenario_error(tmp_path):
    from simulator import ScenarioError, parse_scenario
    from simulator.pipeline.runner import make_stations

    bad = tmp_path / "bad.msi"
    bad.write_text("not a pattern\n")
    scen = parse_scenario({"name": "p", "stations": {"panel": {"base": "macro",
                                                               "pattern_file": str(bad)}}})
    with pytest.raises(ScenarioError, match="stations.panel.pattern_file"):
        make_stations(scen)


# --------------------------------------------------------------------------- exact kernels
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300)
@given(st.lists(st.floats(-2000.0, 2000.0, width=32), min_size=1, max_size=50),
       st.sampled_from([1, 2, 3, 4, 5, 6, 7, 11]))
def test_sector_offset_mod_is_numpy_mod_bit_for_bit(values, sectors):
    from simulator.pipeline.engine import _mod_f32

    x = np.array(values, np.float32)
    x = np.concatenate([x, np.nextafter(x, np.float32(np.inf)),
                        np.nextafter(x, np.float32(-np.inf)), np.float32([-0.0, 0.0])])
    b = np.float32(360.0 / sectors)
    assert np.array_equal(_mod_f32(x, b).view(np.int32), np.mod(x, b).view(np.int32))


def test_engine_by_site_windows_equals_all_sites_at_once():
    # the per-site windows and running best server give the vectorised engine's numbers:
    # compare with a direct evaluation of every pair at once (argmax over sites)
    from simulator.pipeline.engine import (_relative_gain_one, compute_tile_fields,
                                           site_arrays)
    from simulator.radio.propagation.models import PathLossModel
    from simulator.radio.stations import Sites, station_catalogue, technology_catalogue
    from simulator.region.grid import Grid, Tile

    grid = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 12_000.0, 9_000.0, 100.0)
    tech = technology_catalogue()["lte_900"]
    stations = station_catalogue()
    rng = np.random.default_rng(4)
    n = 9
    kinds = ["macro", "ruralstar_pro", "small_cell"]
    sites = Sites([str(i) for i in range(n)], rng.uniform(494_000, 506_000, n),
                  rng.uniform(9_295_500, 9_304_500, n), [kinds[i % 3] for i in range(n)],
                  np.arange(n) % 3 == 0, rng.uniform(0, 360, n))
    model = PathLossModel("rma_38901")
    sa = site_arrays(sites, stations, tech, model, ue_height_m=1.5, floor_dbm=-110.0,
                     max_range_m=8000.0)
    tile = Tile(0, grid.nrows, 0, grid.ncols)
    ch = np.arange(n) % 2
    existing = np.flatnonzero(sites.existing)
    f, base = compute_tile_fields(grid, tile, sa, np.arange(n), tech, model, 1.5, ch,
                                  existing=existing)
    dx = (grid.x_centres(0, grid.ncols)[None, :] - sa.x_m[:, None, None]).astype(np.float32)
    dy = (grid.y_centres(0, grid.nrows)[:, None] - sa.y_m[:, None, None]).astype(np.float32)
    rx = np.empty((n,) + grid.shape, np.float32)
    for k in range(n):
        d = np.sqrt(dx[k] * dx[k] + dy[k] * dy[k])
        loss = model.loss_db(d, tech.frequency_mhz, sa.height_m[k:k + 1, None], 1.5)
        rx[k] = np.float32(sa.eirp_metric_dbm[k]) - loss + _relative_gain_one(
            sa, k, np.broadcast_to(dx[k], d.shape), np.broadcast_to(dy[k], d.shape), d, 1.5)
        rx[k][d > np.float32(sa.reach_m[k])] = -np.inf
    best = np.argmax(rx, axis=0)
    none = ~np.isfinite(rx.max(axis=0))
    assert np.array_equal(np.where(none, -1, best), f.best_server)
    assert np.array_equal(np.where(none, np.nan, rx.max(axis=0)), f.rx_dbm, equal_nan=True)
    sub = rx[existing]
    b_best = np.argmax(sub, axis=0)
    b_none = ~np.isfinite(sub.max(axis=0))
    assert np.array_equal(np.where(b_none, -1, b_best), base.best_server)
    # interference: every other site on the serving channel, in mW
    lin = np.where(np.isfinite(rx), 10.0 ** (rx.astype(np.float64) / 10.0), 0.0)
    serving_ch = ch[best]
    same = (ch[:, None, None] == serving_ch[None]) & (np.arange(n)[:, None, None] != best[None])
    with np.errstate(divide="ignore"):
        expect = 10.0 * np.log10((lin * same).sum(axis=0))
    ok = ~none
    np.testing.assert_allclose(f.interference_dbm[ok], expect[ok], rtol=0, atol=1e-4)
    assert f.best_server.max() >= 1 and base.best_server.max() >= 0
