"""Grid geometry and the synthetic population."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.region.grid import Grid, utm_epsg_for
from simulator.region.population import synthetic_population


def test_utm_zone_from_lon_lat():
    # Zone = floor((lon + 180) / 6) + 1: 35E -> zone 36; south -> 327xx, north -> 326xx.
    assert utm_epsg_for(35.0, -6.0) == 32736
    assert utm_epsg_for(-0.1, 51.5) == 32630
    assert utm_epsg_for(179.9, 10.0) == 32660
    with pytest.raises(ValueError):
        utm_epsg_for(35.0, -85.0)


def test_grid_centres_transform_and_tiles():
    g = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 10_000.0, 6_000.0, 100.0)
    assert g.shape == (60, 100)
    assert g.bounds == (495_000.0, 9_297_000.0, 505_000.0, 9_303_000.0)
    # cell (0, 0) centre is half a cell in from the north-west corner
    assert g.x_centres()[0] == 495_050.0 and g.y_centres()[0] == 9_302_950.0
    t = g.transform
    assert (t.a, t.c, t.e, t.f) == (100.0, 495_000.0, -100.0, 9_303_000.0)
    row, col = g.cell_of(495_050.0, 9_302_950.0)
    assert (row, col) == (0, 0)
    covered = np.zeros(g.shape, int)
    for tile in g.tiles(32):
        covered[tile.slices] += 1
    assert np.all(covered == 1)


@settings(max_examples=25, deadline=None)
@given(total=st.integers(0, 200_000), n=st.integers(0, 60),
       dispersed=st.floats(0, 1), seed=st.integers(0, 2**32))
def test_population_total_is_exact(total, n, dispersed, seed):
    g = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 8_000.0, 5_000.0, 100.0)
    pop = synthetic_population(g, total_people=total, n_settlements=n,
                               dispersed_share=dispersed, rng=seed)
    assert pop.people.dtype == np.int64
    assert pop.people.min() >= 0
    assert pop.people.sum() == total
    assert pop.settlement_people.sum() + pop.dispersed_people == total


def test_population_is_reproducible_and_seed_dependent():
    g = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 20_000.0, 20_000.0, 100.0)
    a = synthetic_population(g, total_people=30_000, n_settlements=30, rng=7)
    b = synthetic_population(g, total_people=30_000, n_settlements=30, rng=7)
    c = synthetic_population(g, total_people=30_000, n_settlements=30, rng=8)
    assert np.array_equal(a.people, b.people)
    assert not np.array_equal(a.people, c.people)


def test_settlements_inside_region_sorted_and_heavy_tailed():
    g = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 40_000.0, 30_000.0, 100.0)
    pop = synthetic_population(g, total_people=200_000, n_settlements=400, size_sigma=1.2,
                               dispersed_share=0.0, rng=3)
    assert np.all(g.contains(pop.settlement_x_m, pop.settlement_y_m))
    assert np.all(np.diff(pop.settlement_people) <= 0)
    # log-normal sizes: the largest village is several times the median (heavy upper tail),
    # and log sizes are close to normal with the configured sigma (sizes are a multinomial
    # split of lognormal weights, so sigma is reproduced approximately).
    sizes = pop.settlement_people[pop.settlement_people > 0]
    assert sizes.max() > 5 * np.median(sizes)
    assert np.std(np.log(sizes)) == pytest.approx(1.2, abs=0.15)


def test_dispersed_share_and_clustering():
    g = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 30_000.0, 30_000.0, 100.0)
    pop = synthetic_population(g, total_people=50_000, n_settlements=40, dispersed_share=0.2,
                               rng=11)
    assert pop.dispersed_people == 10_000
    # clustered: the 2 % most populated cells hold most people (uniform would give ~2 %)
    flat = np.sort(pop.people.ravel())[::-1]
    assert flat[: flat.size // 50].sum() > 0.5 * pop.total


def test_population_rejects_bad_parameters():
    g = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 1_000.0, 1_000.0, 100.0)
    with pytest.raises(ValueError):
        synthetic_population(g, total_people=-1, n_settlements=3)
    with pytest.raises(ValueError):
        synthetic_population(g, total_people=10, n_settlements=3, dispersed_share=1.5)
