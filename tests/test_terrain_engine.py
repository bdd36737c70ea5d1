"""The terrain engine: radial profiles, ITM / diffraction per profile, mapping to cells."""

import numpy as np
import pytest

from simulator import ScenarioError, parse_scenario, run
from simulator.pipeline.engine import compute_fields, site_arrays
from simulator.pipeline.engine_terrain import (TerrainMethod, compute_fields_terrain,
                                      site_profile_losses)
from simulator.region.grid import Grid
from simulator.radio.propagation.diffraction import knife_edge_j_db
from simulator.radio.propagation.fspl import free_space_loss_db
from simulator.radio.propagation.itm import itm_p2p_loss_db
from simulator.radio.propagation.models import PathLossModel
from simulator.radio.stations import Sites, station_catalogue, technology_catalogue

TECH = technology_catalogue()["lte_900"]
GRID = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 10_100.0, 10_100.0, 100.0)
STATIONS = station_catalogue({"omni": {"base": "small_cell", "hpbw_v_deg": 180.0,
                                       "downtilt_deg": 0.0, "height_m": 20.0}})
SITE = Sites(["s"], [500_000.0], [9_300_000.0], ["omni"], [False])


def _site_arrays(model):
    return site_arrays(SITE, STATIONS, TECH, model, ue_height_m=1.5, floor_dbm=-200.0,
                       max_range_m=8_000.0)


def test_flat_terrain_deygout_equals_free_space_engine():
    # On flat ground with a flat Earth (k = inf) there is nothing to diffract over: the
    # terrain engine must give the flat engine's free-space field.
    dem = np.full(GRID.shape, 1200.0, np.float32)
    base = PathLossModel("free_space")
    sa = _site_arrays(base)
    flat = compute_fields(GRID, sa, TECH, base, ue_height_m=1.5, tile_size_cells=64)
    terr, tf = compute_fields_terrain(GRID, dem, sa, TECH,
                                      TerrainMethod("deygout", base=base, k_factor=np.inf),
                                      ue_height_m=1.5)
    both = np.isfinite(flat.rx_dbm) & np.isfinite(terr.rx_dbm)
    assert both.sum() > 0.9 * np.isfinite(flat.rx_dbm).sum()
    np.testing.assert_allclose(terr.rx_dbm[both], flat.rx_dbm[both], atol=0.02)
    assert tf.line_of_sight[both].all()


def test_single_ridge_gives_the_knife_edge_loss():
    # A 60 m wall running north-south 2 km east of the site; a cell 3 km further east.
    # Receiver 10 m above ground so the flat ground itself stays out of the Fresnel zone.
    dem = np.zeros(GRID.shape, np.float32)
    col_wall = GRID.cell_of(502_000.0, 9_300_000.0)[1]
    dem[:, col_wall] = 60.0
    method = TerrainMethod("deygout", base=PathLossModel("free_space"), k_factor=np.inf,
                           max_profile_points=4096)
    geom, loss, los = site_profile_losses(dem, GRID, 500_000.0, 9_300_000.0, 20.0, 6_000.0,
                                          TECH, 10.0, method)
    ray = int(np.argmin(np.abs(geom.azimuth_deg - 90.0)))   # due east
    j = int(np.argmin(np.abs(geom.distance_m - 5_000.0)))
    d = geom.distance_m[j]
    d1 = GRID.x_centres()[col_wall] - 500_000.0                # wall cell centre
    # ridge height above the straight line from the antenna (20 m) to the receiver (10 m)
    h = 60.0 - (20.0 + (10.0 - 20.0) * d1 / d)
    lam = 299_792_458.0 / (TECH.frequency_mhz * 1e6)
    nu = h * np.sqrt(2.0 / lam * (1.0 / d1 + 1.0 / (d - d1)))
    expected = knife_edge_j_db(nu) + free_space_loss_db(d, TECH.frequency_mhz)
    # the wall is one cell wide; bilinear ray sampling sees its full height at the centre
    assert loss[ray, j] == pytest.approx(expected, abs=0.6)
    assert not los[ray, j] and los[ray, 5]


def test_flat_terrain_delta_bullington_is_free_space_plus_spherical_earth():
    # P.526-15 §4.5 on smooth ground: the smooth surface is the ground, so the effective
    # heights are the antenna heights, L_bulla = L_bulls and the loss is free space +
    # max(L_dsph, L_bulls); beyond ~2 km the spherical-Earth loss is the larger (at 2 km
    # 4.27 against 2.74 dB, at 6 km 14.06 against 7.41 dB), so there the loss is exactly
    # free space + the spherical-Earth loss (oracles: the two model functions, each checked
    # against the ITU-R P.1812 validation data in tests/test_delta_bullington.py).
    from simulator.radio.propagation.delta_bullington import spherical_earth_diffraction_db
    from simulator.radio.propagation.diffraction import bullington_loss_db

    dem = np.full(GRID.shape, 1200.0, np.float32)
    method = TerrainMethod("delta_bullington")       # free-space base, k = 4/3
    geom, loss, _ = site_profile_losses(dem, GRID, 500_000.0, 9_300_000.0, 20.0, 6_000.0,
                                        TECH, 1.5, method)
    f = TECH.frequency_mhz
    d = geom.distance_m[1:]
    free = free_space_loss_db(np.hypot(d, 20.0 - 1.5), f)
    sph = spherical_earth_diffraction_db(d, 20.0, 1.5, f)
    # Bullington over zero heights on the engine's resampled profiles (<= 128 points)
    n = np.minimum(np.arange(2, d.size + 2), method.max_profile_points)
    zeros = np.where(np.arange(n.max())[None, :] < n[:, None], 0.0, np.nan)
    bulls = bullington_loss_db(zeros, d / (n - 1), 20.0, 1.5, f, n_points=n,
                               empirical_correction=True)
    expected = free + np.maximum(sph, bulls)
    np.testing.assert_allclose(loss[:, 1:], np.broadcast_to(expected, loss[:, 1:].shape),
                               rtol=0, atol=1e-6)
    far = d >= 2_000.0
    assert far.sum() >= 30 and np.all(sph[far] > bulls[far]) and sph[far].min() > 4.0
    np.testing.assert_allclose(loss[0, 1:][far] - free[far], sph[far], rtol=0, atol=1e-6)


def test_delta_bullington_scenario_runs():
    # propagation.model: delta_bullington from a scenario: free-space base, the terrain
    # method built by the runner, a complete run
    from simulator.pipeline.runner import path_loss_model, terrain_method

    scen = _scen(propagation={"model": "delta_bullington", "k_factor": 1.4})
    base = path_loss_model(scen)
    method = terrain_method(scen, base)
    assert base.name == "free_space"
    assert method.name == "delta_bullington" and method.k_factor == 1.4
    s = run(scen).summary
    assert 0 < s["people_covered"] <= s["population_total"]
    assert s["people_in_line_of_sight"] > 0


def test_engine_itm_equals_itm_on_each_prefix_profile():
    # every ray sample is the receiver of the ray's prefix profile at full resolution;
    # with Delta_h computed for every path the engine is exactly ITM on that profile
    rng = np.random.default_rng(4)
    dem = (1000.0 + np.cumsum(rng.normal(0, 2.0, GRID.shape), axis=1)).astype(np.float32)
    method = TerrainMethod("itm", itm={"delta_h_knot_fraction": 0.0})
    geom, loss, _ = site_profile_losses(dem, GRID, 500_000.0, 9_300_000.0, 20.0, 5_000.0,
                                        TECH, 1.5, method)
    from simulator.region.terrain import radial_profiles

    elev, _ = radial_profiles(dem, (500_000.0, 9_300_000.0), GRID.x_min_m, GRID.y_max_m,
                              100.0, radius_m=5_000.0, step_m=100.0)
    # rays evaluated at every step (the thinning near the site keeps ray 0 at all steps)
    for ray in (0,):
        for j in (1, 3, 17, 33, geom.n_steps - 1):
            one = itm_p2p_loss_db(elev[ray, : j + 1], 100.0, 20.0, 1.5, TECH.frequency_mhz,
                                  mdvar=12)
            assert loss[ray, j] == pytest.approx(float(one), abs=1e-6)
    # the far samples of every ray are evaluated on their own ray
    for ray in (7, 50, geom.n_rays - 1):
        j = geom.n_steps - 1
        one = itm_p2p_loss_db(elev[ray, : j + 1], 100.0, 20.0, 1.5, TECH.frequency_mhz,
                              mdvar=12)
        assert loss[ray, j] == pytest.approx(float(one), abs=1e-6)


SCEN = {
    "name": "t", "seed": 2,
    "region": {"width_km": 8, "height_km": 6, "resolution_m": 200},
    "population": {"synthetic": {"total_people": 5000, "settlements": 8}},
    "terrain": {"synthetic": {"relief_m": 300, "ridges": 1}},
    "propagation": {"model": "itm"},
    "sites": {"new": [{"station": "ruralstar_pro", "count": 3, "min_spacing_km": 2}]},
}


def _scen(**changes):
    d = dict(SCEN)
    d.update(changes)
    return parse_scenario(d)


def test_terrain_run_reports_terrain_limited_people_and_is_reproducible():
    a = run(_scen()).summary
    b = run(_scen()).summary
    assert a == b
    assert a["terrain"] == "synthetic" and a["terrain_relief_m"] == pytest.approx(300, abs=0.01)
    causes = a["people_not_covered_by_cause"]
    assert a["people_covered"] + sum(causes.values()) == a["population_total"]
    assert "terrain_limited" in causes
    assert 0 < a["people_in_line_of_sight"] <= a["population_total"]


def test_hills_cost_coverage_against_a_flat_district():
    hilly = run(_scen(terrain={"synthetic": {"relief_m": 600, "ridges": 2}})).summary
    flat = run(_scen(terrain={"synthetic": {"relief_m": 0.0}})).summary
    assert hilly["people_covered"] <= flat["people_covered"]


@pytest.mark.parametrize("changes, key, fragment", [
    (dict(terrain="flat"), "propagation.model", "terrain profiles"),
    (dict(terrain="flat", propagation={"model": "delta_bullington"}), "propagation.model",
     "terrain profiles"),
    (dict(technology={"base": "lte_900", "frequency_mhz": 25000.0}), "propagation.model",
     "20-20000 MHz"),
    (dict(propagation={"model": "itm", "ue_height_m": 0.3}), "propagation.model", "0.5-3000 m"),
    (dict(terrain={"raster": {"file": "nope.tif"}}), "terrain.raster.file", "not found"),
])
def test_terrain_bad_input(changes, key, fragment):
    with pytest.raises(ScenarioError) as err:
        run(_scen(**changes))
    assert key in str(err.value) and fragment in str(err.value)


def test_link_line_of_sight_for_backhaul():
    from simulator.region.terrain import link_line_of_sight

    flat = np.zeros((50, 700), np.float32)            # 100 m cells: 70 km east-west
    a = np.array([[500.0, -2500.0]])
    b = np.array([[60_500.0, -2500.0]])               # 60 km apart
    # flat Earth: clear; 4/3 Earth: the bulge at mid-path is 30 km * 30 km / (2 * 4/3 *
    # 6371 km) = 53.0 m, above a line between two 10 m masts
    assert link_line_of_sight(flat, 0.0, 0.0, 100.0, a, 10.0, b, 10.0, k_factor=np.inf)[0]
    assert not link_line_of_sight(flat, 0.0, 0.0, 100.0, a, 10.0, b, 10.0)[0]
    assert link_line_of_sight(flat, 0.0, 0.0, 100.0, a, 60.0, b, 60.0)[0]
    wall = flat.copy()
    wall[:, 300] = 25.0                                # a 25 m ridge between 10 m masts
    assert not link_line_of_sight(wall, 0.0, 0.0, 100.0, a, 10.0, b, 10.0, k_factor=np.inf)[0]
    assert link_line_of_sight(wall, 0.0, 0.0, 100.0, a, 30.0, b, 30.0, k_factor=np.inf)[0]
