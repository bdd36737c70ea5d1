"""Settlement clusters (the Degree of Urbanisation's rule) and one site per cluster.

Layouts are drawn by hand on a 1 km grid (one grid cell = one density cell), so which
cells form a cluster is known without running the code: dense cells (>= 300 people per
km2) touching by a side or a corner are one cluster, clusters under 500 people are dropped.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import parse_scenario, run
from simulator.errors import RuralsimWarning
from simulator.radio.deployment import cluster_positions
from simulator.region.grid import Grid
from simulator.region.population import Population, settlement_clusters

GRID = Grid("EPSG:32736", 500_000.0, 9_300_000.0, 1000.0, 12, 12)


def _pop(people):
    return Population(people=np.asarray(people, np.int64), settlement_x_m=np.zeros(0),
                      settlement_y_m=np.zeros(0), settlement_people=np.zeros(0, np.int64))


def _layout():
    p = np.zeros((12, 12), np.int64)
    p[1:3, 1:4] = 400          # village A: 6 cells, 2,400 people
    p[3, 4] = 350              # touches A by a corner only: part of A (8-connectivity)
    p[8:10, 8:10] = 300        # village B: exactly the threshold, 1,200 people
    p[6, 1] = 450              # a lone dense cell under 500 people: dropped
    p[10, 2] = 299             # just under the density threshold: not dense
    p[10, 3] = 299
    p[5, 7] = 100              # dispersed people
    return p


def test_clusters_follow_the_degurba_rule():
    cl = settlement_clusters(GRID, _layout(), rng=1)
    assert cl.n_connected == 2 and len(cl) == 2
    np.testing.assert_array_equal(cl.people, [2750, 1200])
    np.testing.assert_allclose(cl.area_km2, [7.0, 4.0])
    # each site sits on a populated cell of its cluster, the one nearest its centre
    rows, cols = GRID.cell_of(cl.x_m, cl.y_m)
    assert (_layout()[rows, cols] >= 300).all()
    assert 1 <= rows[0] <= 3 and 1 <= cols[0] <= 4
    assert 8 <= rows[1] <= 9 and 8 <= cols[1] <= 9


def test_thresholds_are_parameters():
    cl = settlement_clusters(GRID, _layout(), min_people=400, rng=1)
    assert len(cl) == 3 and 450 in cl.people
    cl = settlement_clusters(GRID, _layout(), min_density_per_km2=299, rng=1)
    assert 598 in cl.people
    cl = settlement_clusters(GRID, _layout(), min_density_per_km2=301, rng=1)
    assert list(cl.people) == [2750]
    assert len(settlement_clusters(GRID, np.zeros((12, 12), np.int64), rng=1)) == 0


def test_density_is_measured_on_1km_cells_of_a_finer_grid():
    # a 250 m grid: 16 cells per km2. 20 people in each of 16 cells of one km2 is
    # 320 per km2 (dense), spread over 2 x 2 km2 blocks of 4 km2 it is 80 per km2
    g = Grid("EPSG:32736", 500_000.0, 9_300_000.0, 250.0, 16, 16)
    p = np.zeros((16, 16), np.int64)
    p[4:8, 4:8] = 20
    p[12, 12] = 200
    cl = settlement_clusters(g, p, min_people=300, rng=1)
    assert len(cl) == 1 and cl.people[0] == 320 and cl.cell_m == 1000.0
    assert len(settlement_clusters(g, p, cell_m=2000.0, min_people=300, rng=1)) == 0


def test_a_wide_dense_area_is_split_into_discs():
    # a 10 x 10 km town of 1,000 people per km2: 100 km2, discs of 2 km radius hold
    # 12.57 km2, so ceil(100 / 12.57) = 8 clusters
    g = Grid("EPSG:32736", 500_000.0, 9_300_000.0, 1000.0, 14, 14)
    p = np.zeros((14, 14), np.int64)
    p[2:12, 2:12] = 1000
    cl = settlement_clusters(g, p, max_radius_m=2000.0, rng=3)
    assert len(cl) == 8 and cl.n_connected == 1
    assert cl.people.sum() == 100_000 and (cl.parent == 0).all()
    assert cl.area_km2.sum() == pytest.approx(100.0)
    assert (np.diff(cl.people) <= 0).all()
    # k-means parts are compact: every part is near a disc's worth of area
    assert cl.area_km2.max() <= 3 * np.pi * 4.0
    again = settlement_clusters(g, p, max_radius_m=2000.0, rng=3)
    np.testing.assert_array_equal(again.x_m, cl.x_m)
    one = settlement_clusters(g, p, max_radius_m=20_000.0, rng=3)
    assert len(one) == 1


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(500.0, 6000.0))
def test_cluster_invariants(seed, radius_m):
    rng = np.random.default_rng(seed)
    p = (rng.random((12, 12)) < 0.35) * rng.integers(0, 2000, (12, 12))
    cl = settlement_clusters(GRID, p, max_radius_m=radius_m, rng=seed)
    dense = p >= 300
    assert cl.people.sum() <= p[dense].sum()
    rows, cols = GRID.cell_of(cl.x_m, cl.y_m)
    assert dense[rows, cols].all()
    assert len(set(zip(rows, cols))) == len(cl)   # one site per cluster, no two on a cell
    assert (cl.people >= 1).all()


def test_cluster_positions_cap_and_keep_away_from_earlier_sites():
    placed_x, placed_y = [], []
    xs, ys, cl = cluster_positions(GRID, _pop(_layout()), placed_x=placed_x,
                                   placed_y=placed_y, rng=1)
    assert len(xs) == 2 and placed_x == list(xs)
    xs, ys, cl = cluster_positions(GRID, _pop(_layout()), count=1, placed_x=[],
                                   placed_y=[], rng=1)
    assert len(xs) == 1 and xs[0] == cl.x_m[0]
    # an existing site on village A: only B gets a new site
    xs, ys, _ = cluster_positions(GRID, _pop(_layout()), spacing_m=3000.0,
                                  placed_x=[cl.x_m[0]], placed_y=[cl.y_m[0]], rng=1)
    assert len(xs) == 1 and xs[0] == cl.x_m[1]


def test_one_site_per_cluster_of_a_synthetic_population():
    base = {"name": "clusters", "seed": 5,
            "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 20, "height_km": 20,
                       "resolution_m": 200},
            "population": {"synthetic": {"total_people": 30000, "settlements": 25}},
            "outputs": {"maps": False}}
    r = run(parse_scenario({**base, "sites": {"new": [
        {"station": "ruralstar_pro", "placement": "settlement_clusters",
         "clusters": {"min_people": 800}}]}}))
    cl = settlement_clusters(r.grid, r.population.people, min_people=800)
    assert r.summary["sites_new"] == len(cl) > 0
    rows, cols = r.grid.cell_of(r.sites.x_m, r.sites.y_m)
    assert (r.population.people[rows, cols] > 0).all()
    assert r.summary["warnings"] == []
    empty = parse_scenario({**base, "sites": {"new": [
        {"station": "ruralstar_pro", "placement": "settlement_clusters",
         "clusters": {"min_density_per_km2": 1e6}}]}})
    with pytest.warns(RuralsimWarning, match="no settlement cluster"):
        r = run(empty)
    assert r.summary["sites_new"] == 0
    assert any("no settlement cluster" in w and "sites.new.0.clusters" in w
               for w in r.summary["warnings"])


def test_clusters_key_only_with_that_placement():
    from simulator.errors import ScenarioError

    with pytest.raises((ScenarioError, ValueError), match="settlement_clusters"):
        parse_scenario({"name": "x", "sites": {"new": [
            {"station": "macro", "placement": "grid", "count": 2,
             "clusters": {"min_people": 10}}]}})
