"""Tests for simulator.programme.relay: relay chains, donor capacity, link tests, costs.

Every expected value is worked out by hand below (geometry, lifetime costs, Fresnel radii) or
comes from an independent function of the package on the same input (``link_line_of_sight``,
``itm_p2p_loss_db``), never from the code under test.
"""

import numpy as np
import pytest

from simulator.business.costing import SiteCosts
from simulator.business.economics import load_cost_catalogue
from simulator.programme import relay as rl
from simulator.radio.propagation.itm import itm_p2p_loss_db
from simulator.region.terrain import link_line_of_sight, synthetic_dem

# Hand-worked parameters (independent of the catalogue). Annuity factor r = 10 %, n = 10:
# (1 - 1.1^-10) / 0.1 = 6.144567. Lifetime costs:
#   relay (LOS or not)  3,000 +   300 x 6.144567 =  4,843.37
#   microwave           6,000 + 1,000 x 6.144567 = 12,144.57
#   satellite           8,000 + 6,000 x 6.144567 = 44,867.40
# so a relay is always the cheapest when one reaches, then microwave, then satellite.
AF = 6.144567
OPTIONS = {
    "fibre": {"max_distance_m": 2000, "capex_usd": 5000, "capex_usd_per_km": 15000,
              "opex_usd_per_year": 500, "capacity_mbps": 1000},
    "microwave": {"max_distance_m": 30000, "capex_usd": 6000, "opex_usd_per_year": 1000,
                  "capacity_mbps": 200},
    "relay_los": {"max_distance_m": 15000, "capex_usd": 3000, "opex_usd_per_year": 300,
                  "capacity_mbps": 30},
    "relay_nlos": {"max_distance_m": 5000, "capex_usd": 3000, "opex_usd_per_year": 300,
                   "capacity_mbps": 10},
    "satellite": {"max_distance_m": float("inf"), "capex_usd": 8000,
                  "opex_usd_per_year": 6000, "capacity_mbps": 10},
}
CHAIN = {"hop_limit": 3, "fresnel_clearance": 0.6, "microwave_frequency_mhz": 8000.0,
         "relay_frequency_mhz": 806.0, "relay_tx_power_dbm": 23.0,
         "relay_tx_antenna_gain_dbi": 18.0, "relay_rx_antenna_gain_dbi": 15.0,
         "relay_rx_sensitivity_dbm": -101.5, "relay_fade_margin_db": 10.0,
         "upgrade_options": ["microwave", "satellite"]}


def params(drop=(), **chain):
    p = {k: dict(v) for k, v in OPTIONS.items() if k not in drop}
    p.update(CHAIN)
    p.update(chain)
    return p


def tree(sites, demand, *, donors=((0.0, 0.0),), donor_cap=150.0, site_cap=30.0,
         can_donate=True, height=15.0, donor_height=40.0, p=None, **kw):
    sites = np.asarray(sites, dtype=float).reshape(-1, 2)
    donors = np.asarray(donors, dtype=float).reshape(-1, 2)
    return rl.backhaul_tree(sites, height, demand, can_donate=can_donate,
                            site_capacity_mbps=site_cap, donor_xy_m=donors,
                            donor_height_m=donor_height, donor_capacity_mbps=donor_cap,
                            params=params() if p is None else p, **kw)


# ------------------------------------------------------------------------- chains, hop limit

# One donor at x = 0, poles every 12 km along x: only the first is within the relay's 15 km
# of the donor, each next one within 15 km of the one before; the third is 36 km from the
# donor, beyond microwave's 30 km, so its own option is satellite.
LINE = [(12_000.0, 0.0), (24_000.0, 0.0), (36_000.0, 0.0)]


def test_three_pole_chain_hops_parents_and_subtree_demand():
    t = tree(LINE, [1.0, 2.0, 3.0])
    assert list(t.link) == ["relay_los"] * 3
    assert list(t.hops) == [1, 2, 3]
    assert list(t.parent) == [-1, 0, 1]
    assert list(t.donor) == [0, 0, 0]
    np.testing.assert_allclose(t.link_distance_m, [12_000, 12_000, 12_000])
    # carried = own + everything downstream: 1+2+3, 2+3, 3
    np.testing.assert_allclose(t.carried_mbps, [6.0, 5.0, 3.0])
    np.testing.assert_allclose(t.donor_load_mbps, [6.0])
    np.testing.assert_allclose(t.capex_usd, [3000, 3000, 3000])
    np.testing.assert_allclose(t.opex_usd_per_year, [300, 300, 300])
    assert not t.capacity_exceeded.any() and not t.overload_found.any()
    assert list(t.upgrade) == ["", "", ""]
    segs = t.links(np.array(LINE), np.array([[0.0, 0.0]]))
    assert segs == [((0.0, 0.0), (12_000.0, 0.0), 0), ((12_000.0, 0.0), (24_000.0, 0.0), 1),
                    ((24_000.0, 0.0), (36_000.0, 0.0), 2)]


def test_hop_limit_two_sends_the_third_pole_to_its_direct_option():
    t = tree(LINE, [1.0, 2.0, 3.0], hop_limit=2)
    assert list(t.link) == ["relay_los", "relay_los", "satellite"]
    assert list(t.hops) == [1, 2, 0]
    assert list(t.parent) == [-1, 0, -1] and list(t.donor) == [0, 0, -1]
    np.testing.assert_allclose(t.carried_mbps, [3.0, 2.0, 3.0])
    assert t.capex_usd[2] == 8000 and t.opex_usd_per_year[2] == 6000
    assert np.isnan(t.link_distance_m[2])


def test_hop_limit_from_the_params_when_not_given():
    # hop_limit 1: pole 1 (24 km) is 2 hops away, so it takes microwave, and then roots
    # pole 2 one hop away (a new site with microwave can donate)
    t = tree(LINE, [1.0, 2.0, 3.0], p=params(hop_limit=1))
    assert list(t.link) == ["relay_los", "microwave", "relay_los"]
    assert list(t.hops) == [1, 0, 1] and list(t.parent) == [-1, -1, 1]


def test_a_site_that_cannot_donate_breaks_the_chain_and_a_microwave_site_roots_one():
    # pole 0 may not feed others: pole 1 (24 km from the donor) takes microwave and, as a
    # new site with microwave that can donate, feeds pole 2 over 12 km (1 hop from it).
    t = tree(LINE, [1.0, 2.0, 3.0], can_donate=np.array([False, True, True]))
    assert list(t.link) == ["relay_los", "microwave", "relay_los"]
    assert list(t.parent) == [-1, -1, 1]
    assert list(t.hops) == [1, 0, 1]
    assert list(t.donor) == [0, -1, -1]
    assert list(t.microwave_donor) == [-1, 0, -1]
    np.testing.assert_allclose(t.carried_mbps, [1.0, 5.0, 3.0])
    np.testing.assert_allclose(t.donor_load_mbps, [1.0])   # microwave does not load it
    np.testing.assert_allclose(t.capex_usd, [3000, 6000, 3000])
    segs = t.links(np.array(LINE), np.array([[0.0, 0.0]]))
    assert [s[2] for s in segs] == [0, 1, 2]
    assert segs[1][0] == (0.0, 0.0) and segs[2][0] == (24_000.0, 0.0)


def test_equal_links_from_an_existing_and_a_new_site_go_to_the_existing_one():
    # the same line, listed so that the microwave root (24 km) comes first: pole 1 (12 km)
    # is 12 km from the donor and 12 km from that root, one hop each: the existing site
    # feeds it (the new site's relay capacity is kept for pole 2)
    sites = [LINE[1], LINE[0], LINE[2]]
    t = tree(sites, [1.0, 1.0, 1.0], can_donate=np.array([True, False, True]))
    assert list(t.link) == ["microwave", "relay_los", "relay_los"]
    assert list(t.parent) == [-1, -1, 0]
    assert list(t.donor) == [-1, 0, -1]


def test_fibre_site_is_a_root_and_shortest_link_wins_among_same_hop_feeders():
    # Site 0 sits 500 m from a fibre node and 40 km from the donor: fibre
    # (5,000 + 15,000 x 0.5 = 12,500 capex). Site 2 is sqrt(26^2 + 10^2) = 27.9 km from the
    # donor: microwave. Site 1 (41 km from the donor, 9.5 km from the fibre node) is 10 km
    # from site 0 and 14 km from site 2, both roots: it takes the 10 km link to site 0.
    sites = [(40_000.0, 0.0), (40_000.0, 10_000.0), (26_000.0, 10_000.0)]
    t = tree(sites, [1.0, 1.0, 1.0], fibre_node_xy_m=np.array([[40_000.0, 500.0]]))
    assert t.link[0] == "fibre" and t.capex_usd[0] == pytest.approx(12_500.0)
    assert t.link_distance_m[0] == pytest.approx(500.0)
    assert t.link[2] == "microwave" and t.hops[2] == 0
    assert t.link[1] == "relay_los" and t.parent[1] == 0 and t.hops[1] == 1
    assert t.link_distance_m[1] == pytest.approx(10_000.0)


def test_a_site_takes_a_relay_only_when_it_is_cheaper_than_its_own_option():
    # cheap fibre: 1,000 capex, nothing per km or per year = 1,000 < 4,843.37 (relay). Site 0
    # is 5 km from the donor but 100 m from a fibre node: fibre, and as a root it feeds
    # site 1, which is 14 km from it and 14.87 km from the donor (the shorter wins)
    p = params()
    p["fibre"].update(capex_usd=1000, capex_usd_per_km=0, opex_usd_per_year=0)
    t = tree([(5_000.0, 0.0), (5_000.0, 14_000.0)], [1.0, 1.0], p=p,
             fibre_node_xy_m=np.array([[5_000.0, -100.0]]))
    assert list(t.link) == ["fibre", "relay_los"]
    assert list(t.parent) == [-1, 0] and list(t.hops) == [0, 1] and list(t.donor) == [-1, -1]
    np.testing.assert_allclose(t.capex_usd, [1000.0, 3000.0])
    np.testing.assert_allclose(t.carried_mbps, [2.0, 1.0])
    # the same when site 0 may not donate: it still keeps its cheaper fibre (not a relay),
    # and site 1 relays from the donor
    t = tree([(5_000.0, 0.0), (5_000.0, 14_000.0)], [1.0, 1.0], p=p,
             fibre_node_xy_m=np.array([[5_000.0, -100.0]]),
             can_donate=np.array([False, True]))
    assert list(t.link) == ["fibre", "relay_los"]
    assert list(t.parent) == [-1, -1] and list(t.donor) == [-1, 0]


# ------------------------------------------------------------------------ donor capacity

TWO = [(5_000.0, 0.0), (-5_000.0, 0.0)]   # both 5 km from the donor, 10 km apart


def test_two_poles_overload_a_shared_donor_and_one_is_upgraded():
    t = tree(TWO, [20.0, 20.0], donor_cap=30.0)
    # both hang directly on the donor (1 hop), 20 + 20 = 40 > 30: both chains flagged
    assert t.overload_found.all()
    # one upgrade fixes it: microwave (12,144.57) is cheaper than satellite, and satellite's
    # 10 Mbit/s could not carry 20; equal candidates -> the first
    assert list(t.upgrade) == ["microwave", ""]
    assert list(t.link) == ["microwave", "relay_los"]
    np.testing.assert_allclose(t.donor_load_mbps, [20.0])
    assert not t.capacity_exceeded.any()
    np.testing.assert_allclose(t.capex_usd, [6000, 3000])
    np.testing.assert_allclose(t.capacity_mbps, [200, 30])
    assert list(t.microwave_donor) == [0, -1]


def test_two_poles_within_donor_capacity_are_not_flagged():
    t = tree(TWO, [10.0, 10.0], donor_cap=30.0)
    assert list(t.link) == ["relay_los", "relay_los"]
    np.testing.assert_allclose(t.donor_load_mbps, [20.0])
    assert not t.overload_found.any() and not t.capacity_exceeded.any()
    assert list(t.upgrade) == ["", ""]


def test_a_pole_as_donor_passes_on_at_most_its_capacity():
    # pole 1 hangs on pole 0 (hop 2); pole 0 can pass on 5 Mbit/s, pole 1 needs 8: the
    # child gets its own backhaul, microwave (24 km from the donor, within 30 km)
    t = tree(LINE[:2], [1.0, 8.0], site_cap=5.0)
    # pole 0's own link and users are fine; the chain through it to pole 1 is not
    assert list(t.overload_found) == [False, True]
    assert list(t.upgrade) == ["", "microwave"]
    assert list(t.parent) == [-1, -1] and list(t.hops) == [1, 0]
    np.testing.assert_allclose(t.carried_mbps, [1.0, 8.0])
    assert not t.capacity_exceeded.any()


def test_overload_no_upgrade_can_carry_stays_flagged():
    # 40 Mbit/s on a 30 Mbit/s relay; microwave disabled, satellite carries 10 only
    t = tree(TWO[:1], [40.0], p=params(drop=("microwave",)))
    assert t.link[0] == "relay_los" and t.upgrade[0] == ""
    assert t.capacity_exceeded[0] and t.overload_found[0]


def test_upgrade_of_an_overloaded_link_reroots_its_subtree():
    # chain donor -> 0 -> 1 -> 2 with 15 Mbit/s each: pole 0's relay carries 45 > 30 (pole 1's
    # carries 30, within its 30; the donor's 150 holds). Upgrading pole 0 (microwave, 12 km)
    # carries all 45 on 200 Mbit/s in one step; poles 1 and 2 now count hops from pole 0.
    t = tree(LINE, [15.0, 15.0, 15.0], site_cap=100.0)
    assert t.overload_found.all()
    assert list(t.upgrade) == ["microwave", "", ""]
    assert list(t.hops) == [0, 1, 2]
    assert list(t.donor) == [-1, -1, -1]
    np.testing.assert_allclose(t.carried_mbps, [45.0, 30.0, 15.0])
    np.testing.assert_allclose(t.donor_load_mbps, [0.0])
    assert not t.capacity_exceeded.any()


# ---------------------------------------------------------------------- terrain: LOS method

def _ridge_dem():
    # 10 km x 20 km at 50 m, flat at 0, a 200 m wall for 9,000 <= x < 9,500 across the map
    res = 50.0
    z = np.zeros((200, 400))
    z[:, 180:190] = 200.0
    return z, res, (0.0, 10_000.0)


def test_ridge_blocks_relay_los_while_a_pole_on_the_donor_side_passes():
    z, res, origin = _ridge_dem()
    donor = [(2_000.0, 5_000.0)]
    # A behind the ridge (14 km), B on the donor's side (6 km, beyond relay_nlos's 5 km)
    sites = [(16_000.0, 5_000.0), (8_000.0, 5_000.0)]
    t = tree(sites, [1.0, 1.0], donors=donor, dem=z, dem_origin_m=origin,
             dem_resolution_m=res)
    assert t.link[1] == "relay_los" and t.parent[1] == -1 and t.donor[1] == 0
    assert t.link_clearance[1] >= 0.6
    # A: no relay to the donor or to B, no microwave line of sight: satellite
    assert t.link[0] == "satellite"
    # the same test as the terrain module's own line of sight
    los = link_line_of_sight(z, origin[0], origin[1], res, np.array(donor * 2),
                             40.0, np.array(sites), 15.0)
    assert list(los) == [False, True]


def _wall_case(wall_ratio):
    # Flat ground at 0 m, 10 m cells, antennas 60 m up at x = 1,005 and x = 11,005 on the
    # centre line of row 1, flat Earth. One wall cell at the midpoint (x = 6,005 m, cell
    # 600). First Fresnel radius at the midpoint, 806 MHz:
    #   lambda = 299,792,458 / 806e6 = 0.371951 m; r1 = sqrt(lambda 5000 5000 / 10000)
    # The wall top is wall_ratio x r1 below the ray (the ray is 60 m everywhere).
    lam = 299_792_458.0 / 806e6
    r1 = np.sqrt(lam * 5000.0 * 5000.0 / 10_000.0)
    z = np.zeros((3, 1200))
    z[:, 600] = 60.0 - wall_ratio * r1
    return z, (1_005.0, 15.0), (11_005.0, 15.0), r1


def test_fresnel_clearance_by_hand_at_a_wall():
    for ratio in (0.3, 0.9):
        z, a, b, _ = _wall_case(ratio)
        c = rl.fresnel_clearance(z, 0.0, 30.0, 10.0, [a], 60.0, [b], 60.0,
                                 frequency_mhz=806.0, k_factor=np.inf)
        # the samples next to the wall see half its height (bilinear) and a larger gap, and
        # the flat ground is 60 m = 1.97 r1 below the ray at the midpoint: the wall is the
        # minimum
        assert c[0] == pytest.approx(ratio, rel=1e-9)


def test_fresnel_rule_blocks_a_grazing_path_plain_line_of_sight_passes():
    z, a, b, _ = _wall_case(0.3)
    common = {"donors": [a], "height": 60.0, "donor_height": 60.0, "dem": z,
              "dem_origin_m": (0.0, 30.0), "dem_resolution_m": 10.0, "k_factor": np.inf}
    strict = tree([b], [1.0], p=params(drop=("microwave",)), **common)
    plain = tree([b], [1.0], p=params(drop=("microwave",), fresnel_clearance=0.0), **common)
    assert strict.link[0] == "satellite"
    assert plain.link[0] == "relay_los"
    assert plain.link_clearance[0] == pytest.approx(0.3, rel=1e-9)
    # the terrain module agrees: line of sight yes, 0.6 Fresnel clearance no
    args = (z, 0.0, 30.0, 10.0, np.array([a]), 60.0, np.array([b]), 60.0)
    assert link_line_of_sight(*args, k_factor=np.inf)[0]
    assert not link_line_of_sight(*args, k_factor=np.inf, clearance_fresnel=0.6,
                                  frequency_mhz=806.0)[0]
    # with 0.9 r1 clear the 0.6 rule passes
    z9, a9, b9, _ = _wall_case(0.9)
    ok = tree([b9], [1.0], p=params(drop=("microwave",)),
              **{**common, "dem": z9, "donors": [a9]})
    assert ok.link[0] == "relay_los"


def test_microwave_fresnel_radius_is_smaller_at_its_frequency():
    # the 0.3-r1 wall (at 806 MHz) leaves 0.3 x sqrt(8000/806) = 0.945 radii at 8 GHz:
    # relay_los is blocked, microwave passes
    z, a, b, _ = _wall_case(0.3)
    t = tree([b], [1.0], donors=[a], height=60.0, donor_height=60.0, dem=z,
             dem_origin_m=(0.0, 30.0), dem_resolution_m=10.0, k_factor=np.inf)
    assert t.link[0] == "microwave"
    assert t.link_clearance[0] == pytest.approx(0.3 * np.sqrt(8000.0 / 806.0), rel=1e-9)


def test_earth_bulge_blocks_a_long_flat_link():
    # flat ground, masts 20 m, 40 km: at the midpoint the effective Earth (k = 4/3) rises
    # 20,000^2 / (2 x 4/3 x 6,371,000) = 23.54 m above the chord, more than the masts
    z = np.zeros((3, 4200))
    a, b = [(500.0, 150.0)], [(40_500.0, 150.0)]
    curved = rl.fresnel_clearance(z, 0.0, 300.0, 10.0, a, 20.0, b, 20.0, frequency_mhz=806.0)
    flat = rl.fresnel_clearance(z, 0.0, 300.0, 10.0, a, 20.0, b, 20.0, frequency_mhz=806.0,
                                k_factor=np.inf)
    lam = 299_792_458.0 / 806e6
    r1_mid = np.sqrt(lam * 20_000.0 * 20_000.0 / 40_000.0)
    assert curved[0] <= (20.0 - 20_000.0**2 / (2 * 4 / 3 * 6_371_000.0)) / r1_mid + 1e-9
    assert curved[0] < 0 < flat[0]


def test_fresnel_clearance_agrees_with_link_line_of_sight_on_rough_terrain():
    rng = np.random.default_rng(7)
    z = synthetic_dem((120, 120), 30.0, relief_m=150.0, rng=rng)
    a = rng.uniform(100, 3500, size=(300, 2))
    b = rng.uniform(100, 3500, size=(300, 2))
    ha, hb = rng.uniform(5, 40, 300), rng.uniform(5, 40, 300)
    c = rl.fresnel_clearance(z, 0.0, 3600.0, 30.0, a, ha, b, hb, frequency_mhz=900.0)
    for q in (0.0, 0.6):
        ref = link_line_of_sight(z, 0.0, 3600.0, 30.0, a, ha, b, hb, clearance_fresnel=q,
                                 frequency_mhz=900.0)
        clear = np.abs(c - q) > 1e-6
        assert clear.sum() > 250
        np.testing.assert_array_equal((c >= q)[clear], ref[clear])
        assert 0 < ref.sum() < ref.size            # both outcomes occur


# ---------------------------------------------------------------------- terrain: ITM method

def test_itm_feasibility_flips_where_the_margin_crosses_zero():
    # A plane rising 2 m per km eastwards, 100 m cells; the donor at x = 1,000 m, sites 4,
    # 8 and 12 km east on the same row. Profiles as documented: n = ceil(d / 100) + 1 points,
    # the plane is exact under bilinear interpolation.
    res = 100.0
    cols = np.arange(200)
    z = np.tile(100.0 + 0.002 * ((cols + 0.5) * res), (5, 1))
    origin = (0.0, 500.0)
    y = 250.0
    donor = (1_000.0, y)
    dists = np.array([4_000.0, 8_000.0, 12_000.0])
    loss = []
    for d in dists:
        n = int(np.ceil(d / res)) + 1
        x = np.linspace(donor[0], donor[0] + d, n)
        loss.append(itm_p2p_loss_db(100.0 + 0.002 * x, d / (n - 1), 40.0, 15.0, 806.0))
    loss = np.array(loss)
    assert loss[0] < loss[1] < loss[2]
    # sensitivity so that the budget sits half-way between the 8 and 12 km losses
    budget = 0.5 * (loss[1] + loss[2])
    sens = 23.0 + 18.0 + 15.0 - 10.0 - budget
    p = params(drop=("microwave",), relay_rx_sensitivity_dbm=sens)
    sites = np.c_[donor[0] + dists, np.full(3, y)]
    t = tree(sites, [1.0, 1.0, 1.0], donors=[donor], p=p, dem=z, dem_origin_m=origin,
             dem_resolution_m=res, method="itm", hop_limit=1)
    assert list(t.link) == ["relay_los", "relay_los", "satellite"]
    np.testing.assert_allclose(t.link_margin_db[:2], budget - loss[:2], atol=1e-9)
    assert np.isnan(t.link_margin_db[2])
    # the plane is far below the masts: clear of the 0.6 Fresnel rule, so relay_los
    assert np.all(t.link_clearance[:2] >= 0.6)
    # a budget 1 dB above the 12 km loss lets that one through too
    p2 = params(drop=("microwave",), relay_rx_sensitivity_dbm=23 + 18 + 15 - 10 - loss[2] - 1)
    t2 = tree(sites, [1.0, 1.0, 1.0], donors=[donor], p=p2, dem=z, dem_origin_m=origin,
              dem_resolution_m=res, method="itm", hop_limit=1)
    assert list(t2.link) == ["relay_los"] * 3
    assert t2.link_margin_db[2] == pytest.approx(1.0, abs=1e-9)


def test_itm_across_a_ridge_is_relay_nlos_when_the_budget_allows():
    # the ridge map: donor 2 km west of the wall, site 2.5 km east of it (4.5 km, within
    # relay_nlos's 5 km). Profile by hand: n = ceil(4500 / 50) + 1 = 91 points every 50 m
    # along the row; every row is equal, so bilinear = linear between column centres.
    z, res, origin = _ridge_dem()
    donor, site = (7_000.0, 5_000.0), (11_500.0, 5_000.0)
    x = np.linspace(donor[0], site[0], 91)
    prof = np.interp(x, (np.arange(z.shape[1]) + 0.5) * res, z[0])
    loss = itm_p2p_loss_db(prof, 50.0, 40.0, 15.0, 806.0)
    out = {}
    for extra in (+5.0, -5.0):          # budget 5 dB above / below the loss
        sens = 23.0 + 18.0 + 15.0 - 10.0 - (loss + extra)
        out[extra] = tree([site], [1.0], donors=[donor], dem=z, dem_origin_m=origin,
                          dem_resolution_m=res, method="itm",
                          p=params(drop=("microwave",), relay_rx_sensitivity_dbm=sens))
    ok, short = out[5.0], out[-5.0]
    assert ok.link[0] == "relay_nlos"            # the wall blocks the line of sight
    assert ok.link_clearance[0] < 0
    assert ok.link_margin_db[0] == pytest.approx(5.0, abs=1e-6)
    np.testing.assert_allclose(ok.capacity_mbps, [10.0])
    assert short.link[0] == "satellite"


def test_relay_link_budget_by_hand():
    assert rl.relay_link_budget_db(CHAIN) == pytest.approx(23 + 18 + 15 + 101.5 - 10)


# ------------------------------------------------------------------ bad input, empty input

def test_hop_limit_zero_with_relay_required_names_hop_limit():
    with pytest.raises(ValueError, match="hop_limit"):
        tree(LINE, [1.0, 1.0, 1.0], hop_limit=0, require_relay=True)


def test_relay_required_without_a_relay_option():
    with pytest.raises(ValueError, match="relay_los or relay_nlos"):
        tree(LINE, [1.0, 1.0, 1.0], require_relay=True,
             p=params(drop=("relay_los", "relay_nlos")))


def test_ranges_include_their_limit():
    # exactly 15 km from the donor: relay_los (15,000 <= 15,000); exactly 30 km with
    # hop_limit 0: microwave
    t = tree([(15_000.0, 0.0), (0.0, 30_000.0)], [1.0, 1.0], hop_limit=1,
             p=params(drop=("relay_nlos",)))
    assert t.link[0] == "relay_los"
    t = tree([(0.0, 30_000.0)], [1.0], hop_limit=0)
    assert t.link[0] == "microwave"


def test_hop_limit_zero_means_no_relays():
    t = tree(LINE, [1.0, 1.0, 1.0], hop_limit=0)
    assert list(t.link) == ["microwave", "microwave", "satellite"]
    assert list(t.hops) == [0, 0, 0]


def test_required_relay_never_falls_back_to_microwave_or_satellite():
    # pole 2 with hop_limit 2 is out of reach: none (costs NaN), not satellite
    t = tree(LINE, [1.0, 1.0, 1.0], hop_limit=2, require_relay=True)
    assert list(t.link) == ["relay_los", "relay_los", "none"]
    assert np.isnan(t.capex_usd[2]) and t.capacity_mbps[2] == 0


@pytest.mark.parametrize("key, value", [("demand", -1.0), ("site_cap", -5.0),
                                        ("donor_cap", -1.0)])
def test_negative_demand_or_capacity_is_refused(key, value):
    names = {"demand": "demand_mbps", "site_cap": "site_capacity_mbps",
             "donor_cap": "donor_capacity_mbps"}
    demand = [1.0, value, 1.0] if key == "demand" else [1.0, 1.0, 1.0]
    kw = {} if key == "demand" else {key: value}
    with pytest.raises(ValueError, match=names[key]):
        tree(LINE, demand, **kw)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="method"):
        tree(LINE, 1.0, method="ray_tracing")
    with pytest.raises(ValueError, match="site_xy_m"):
        tree([(0.0, np.nan)], 1.0)
    with pytest.raises(ValueError, match="demand_mbps"):
        tree(LINE, [1.0, 2.0])
    with pytest.raises(ValueError, match="hop_limit"):
        tree(LINE, 1.0, hop_limit=1.5)


def test_empty_inputs():
    t = tree(np.zeros((0, 2)), np.zeros(0))
    assert len(t) == 0 and t.link.shape == (0,) and t.capex_usd.shape == (0,)
    np.testing.assert_allclose(t.donor_load_mbps, [0.0])
    assert t.links(np.zeros((0, 2)), np.zeros((1, 2))) == []
    # no existing donors at all: satellite for a lone site
    t = tree([(0.0, 0.0)], [1.0], donors=np.zeros((0, 2)), donor_cap=np.zeros(0),
             donor_height=np.zeros(0))
    assert list(t.link) == ["satellite"] and t.donor_load_mbps.shape == (0,)


def test_catalogue_relay_chain_section_drives_a_tree():
    cat = load_cost_catalogue()
    rc = cat["relay_chain"]
    assert rc["hop_limit"] == 3 and rc["fresnel_clearance"] == 0.6
    assert rc["donor_capacity_mbps"]["ruralstar_pro"] == cat["backhaul"]["relay_los"][
        "capacity_mbps"]
    t = rl.backhaul_tree(np.array(LINE), 15.0, [1.0, 1.0, 1.0], can_donate=True,
                         site_capacity_mbps=rc["donor_capacity_mbps"]["ruralstar_pro"],
                         donor_xy_m=np.array([[0.0, 0.0]]), donor_height_m=40.0,
                         donor_capacity_mbps=rc["donor_capacity_mbps"]["macro"],
                         params={**cat["backhaul"], **rc})
    assert list(t.hops) == [1, 2, 3]


# ------------------------------------------------------------------------------- costs

def test_tree_costs_replace_keeps_the_sums():
    t = tree(TWO, [20.0, 20.0], donor_cap=30.0)       # microwave + relay_los
    n = 2
    st_capex, pw_capex = np.array([12_000.0, 13_000.0]), np.array([5_000.0, 4_000.0])
    st_opex, pw_opex = np.array([700.0, 800.0]), np.array([100.0, 200.0])
    sc = SiteCosts(
        station_capex_usd=st_capex, power_capex_usd=pw_capex,
        backhaul_capex_usd=np.full(n, 3000.0), capex_usd=st_capex + pw_capex + 3000.0,
        station_opex_usd_per_year=st_opex, power_opex_usd_per_year=pw_opex,
        backhaul_opex_usd_per_year=np.full(n, 300.0),
        opex_usd_per_year=st_opex + pw_opex + 300.0, tco_usd=np.zeros(n),
        backhaul=np.array(["relay_los"] * n, dtype=object),
        power=np.array(["solar"] * n, dtype=object), backhaul_capacity_mbps=np.full(n, 30.0),
        backhaul_capacity_exceeded=np.zeros(n, bool), backhaul_distance_m=np.full(n, 5e3),
        demand_mbps=np.array([20.0, 20.0]), co2_kg_per_year=np.zeros(n))
    out = rl.tree_costs_replace(sc, t, 0.10, 10)
    np.testing.assert_allclose(out.backhaul_capex_usd, [6000.0, 3000.0])
    np.testing.assert_allclose(out.capex_usd, out.station_capex_usd + out.power_capex_usd
                               + out.backhaul_capex_usd)
    np.testing.assert_allclose(out.capex_usd, [23_000.0, 20_000.0])
    np.testing.assert_allclose(out.opex_usd_per_year, [1_800.0, 1_300.0])
    np.testing.assert_allclose(out.tco_usd, [23_000 + 1_800 * AF, 20_000 + 1_300 * AF],
                               rtol=1e-6)
    assert list(out.backhaul) == ["microwave", "relay_los"]
    np.testing.assert_allclose(out.backhaul_capacity_mbps, [200.0, 30.0])
    np.testing.assert_allclose(out.backhaul_distance_m, [5_000.0, 5_000.0])
    assert list(out.power) == ["solar", "solar"]            # untouched
    with pytest.raises(ValueError, match="tree has"):
        rl.tree_costs_replace(sc, tree(LINE, 1.0), 0.10, 10)
