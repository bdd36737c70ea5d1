"""A coarse population raster on a fine grid: pycnophylactic spread and whole people.

The oracle is a known smooth density: aggregated into coarse cells (what a 1 km WorldPop
raster is), spread back onto a fine grid, it must come back close to the truth, much closer
than flat squares, with every coarse cell's people kept.
"""

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.io import rasters
from simulator.io.rasters import read_population_to_grid
from simulator.region.grid import Grid
from simulator.region.population import hilbert_index, integer_people, pycnophylactic


def _zones(shape, k):
    """Zone (coarse k x k block) of each fine cell, row-major over the blocks."""
    r = np.arange(shape[0]) // k
    c = np.arange(shape[1]) // k
    return r[:, None] * (-(-shape[1] // k)) + c[None, :]


def _truth(n=60):
    """A smooth density on an n x n grid: two Gaussian hills and a gentle slope."""
    y, x = np.mgrid[0:n, 0:n] + 0.5
    return (5.0 * np.exp(-((x - 18) ** 2 + (y - 20) ** 2) / (2 * 9.0 ** 2))
            + 3.0 * np.exp(-((x - 42) ** 2 + (y - 40) ** 2) / (2 * 6.0 ** 2)) + 0.02 * x)


def test_pycnophylactic_recovers_a_smooth_field_and_keeps_each_zone():
    truth = _truth()
    k = 10  # 6 x 6 coarse cells of 10 x 10 fine cells
    zones = _zones(truth.shape, k)
    totals = np.bincount(zones.ravel(), weights=truth.ravel())
    flat = (totals / k ** 2)[zones]        # the even spread: flat squares
    out, it, _ = pycnophylactic(flat, zones, totals, n_iter=300, tol=1e-7)
    np.testing.assert_allclose(np.bincount(zones.ravel(), weights=out.ravel()), totals,
                               rtol=1e-9)
    rmse_flat = np.sqrt(np.mean((flat - truth) ** 2))
    rmse = np.sqrt(np.mean((out - truth) ** 2))
    assert rmse < 0.4 * rmse_flat, (rmse, rmse_flat)
    # no cliffs: the largest step between neighbours is that of the truth, not a square's
    def step(a):
        return max(np.abs(np.diff(a, axis=0)).max(), np.abs(np.diff(a, axis=1)).max())
    assert step(out) < 0.5 * step(flat)


def test_pycnophylactic_keeps_empty_zones_empty_and_respects_the_mask():
    zones = _zones((20, 20), 5)
    totals = np.array([100.0, 0.0, 50.0, 10.0] * 4)
    mask = np.ones((20, 20), bool)
    mask[:, 18:] = False
    start = (totals / 25.0)[zones] * mask
    out, _, _ = pycnophylactic(start, zones, totals, mask=mask)
    assert (out[~mask] == 0).all()
    assert (out[(zones % 4) == 1] == 0).all()
    got = np.bincount(zones.ravel(), weights=out.ravel(), minlength=16)
    np.testing.assert_allclose(got, totals, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (4, 5), elements=st.floats(0, 1e4)), st.integers(1, 6))
def test_pycnophylactic_invariants(coarse, k):
    zones = _zones((4 * k, 5 * k), k)
    totals = coarse.ravel()
    out, _, _ = pycnophylactic((totals / k ** 2)[zones], zones, totals, n_iter=20)
    assert np.all(out >= 0) and np.all(np.isfinite(out))
    np.testing.assert_allclose(np.bincount(zones.ravel(), weights=out.ravel(),
                                           minlength=totals.size), totals,
                               rtol=1e-9, atol=1e-9)
    assert (out[(totals == 0)[zones]] == 0).all()


def _lonlat_raster(path, data, west, north, cell_deg):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(cell_deg, 0, west, 0, -cell_deg, north)) as dst:
        dst.write(data.astype(np.float32), 1)


def lake_near(zone):
    """Grid cells in the lake's source cells or in those around them."""
    return np.isin(zone, [r * 24 + c for r in range(7, 13) for c in range(13, 19)])


def test_reader_spreads_a_1km_raster_smoothly_and_keeps_every_source_cell(tmp_path):
    # a 1 km-class lon/lat raster (0.009 deg) of a smooth density, read onto a 100 m UTM grid
    cell = 0.009
    lon0, lat0 = 34.9, -5.9
    y, x = np.mgrid[0:24, 0:24] + 0.5
    coarse = 200.0 * np.exp(-((x - 10) ** 2 + (y - 13) ** 2) / (2 * 4.0 ** 2)) + 5.0
    coarse[8:12, 14:18] = 0.0  # a lake
    _lonlat_raster(tmp_path / "p.tif", coarse, lon0, lat0, cell)
    from pyproj import Transformer

    cx, cy = Transformer.from_crs("EPSG:4326", "EPSG:32736", always_xy=True).transform(
        lon0 + 12 * cell, lat0 - 12 * cell)
    grid = Grid.centred("EPSG:32736", cx, cy, 16_000, 16_000, 100.0)
    est, total, info = read_population_to_grid(tmp_path / "p.tif", grid)
    assert info["disaggregation"]["method"].startswith("pycnophylactic")
    assert est.sum() == pytest.approx(total, rel=1e-9)
    # each source cell keeps what the even spread gives it (the grid cells whose centre
    # falls in it)
    old = rasters.DISAGGREGATE_RATIO
    try:
        rasters.DISAGGREGATE_RATIO = np.inf
        flat, total_flat, info_flat = read_population_to_grid(tmp_path / "p.tif", grid)
    finally:
        rasters.DISAGGREGATE_RATIO = old
    assert info_flat["disaggregation"]["method"] == "area-weighted average"
    assert total_flat == total
    to_ll = Transformer.from_crs("EPSG:32736", "EPSG:4326", always_xy=True)
    gx, gy = np.meshgrid(grid.x_centres(), grid.y_centres())
    lon, lat = to_ll.transform(gx, gy)
    zone = (np.floor((lat0 - lat) / cell) * 24 + np.floor((lon - lon0) / cell)).astype(int)
    z_s = np.bincount(zone.ravel(), weights=est.ravel())
    z_f = np.bincount(zone.ravel(), weights=flat.ravel())
    np.testing.assert_allclose(z_s, z_f, rtol=1e-6, atol=1e-6)
    # the middle of the lake (source cells with only lake around them) stays empty
    lake = np.isin(zone, [r * 24 + c for r in (9, 10) for c in (15, 16)])
    assert lake.sum() > 50 and (est[lake] == 0).all()
    # smoother: away from the lake's shore, the steps between neighbouring cells are much
    # smaller (flat squares have all their change at their edges)
    far = ~lake_near(zone)
    step_s = np.abs(np.diff(est, axis=1))[far[:, 1:] & far[:, :-1]]
    step_f = np.abs(np.diff(flat, axis=1))[far[:, 1:] & far[:, :-1]]
    assert step_s.max() < 0.4 * step_f.max(), (step_s.max(), step_f.max())


# ---------------------------------------------------------------- whole people per cell
def test_hilbert_index_is_a_path_through_every_cell_by_neighbours():
    n = 32
    rows, cols = np.divmod(np.arange(n * n), n)
    d = hilbert_index(rows, cols, n)
    assert sorted(d) == list(range(n * n))
    order = np.argsort(d)
    step = np.abs(np.diff(rows[order])) + np.abs(np.diff(cols[order]))
    assert (step == 1).all()
    # every aligned 8 x 8 block is one run of the curve
    for r0 in range(0, n, 8):
        for c0 in range(0, n, 8):
            blk = np.sort(d[(rows // 8 == r0 // 8) & (cols // 8 == c0 // 8)])
            assert blk[-1] - blk[0] == 63


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 24), st.integers(1, 24)),
              elements=st.floats(0, 3)))
def test_whole_people_keep_total_cells_and_blocks(est):
    p = integer_people(est)
    assert p.sum() == round(est.sum())
    scaled = est * (p.sum() / est.sum()) if est.sum() > 0 else est
    assert np.all(np.abs(p - scaled) < 1 + 1e-9)
    assert (p[est == 0] == 0).all()
    # aligned 4 x 4 blocks hold their estimate to within one person
    nr, nc = est.shape
    for r0 in range(0, nr, 4):
        for c0 in range(0, nc, 4):
            if r0 + 4 <= nr and c0 + 4 <= nc:
                blk = (slice(r0, r0 + 4), slice(c0, c0 + 4))
                assert abs(p[blk].sum() - scaled[blk].sum()) < 1 + 1e-9


def test_sparse_people_stay_where_they_are():
    # 0.3 people a cell on the west half, 0.45 on the east half (a 1 km raster on a 100 m
    # grid in a thinly peopled area): 480 and 720 people
    est = np.zeros((40, 80))
    est[:, :40] = 0.3
    est[:, 40:] = 0.45
    p = integer_people(est)
    assert p.sum() == 1200
    assert abs(p[:, :40].sum() - 480) <= 1 and abs(p[:, 40:].sum() - 720) <= 1
    # largest remainders move every person of the west half east (larger fractions)
    lr = integer_people(est, method="largest_remainder")
    assert lr.sum() == 1200 and lr[:, :40].sum() == 0


def test_integer_people_refuses_bad_input():
    with pytest.raises(ValueError):
        integer_people(np.array([1.0, np.nan]))
    with pytest.raises(ValueError):
        integer_people(np.array([1.0]), method="round")


def _analytic_density(lon, lat):
    """People per km2: two towns on a gentle slope (km from 35 E, 6 S)."""
    x, y = (lon - 35.0) * 111.0, (lat + 6.0) * 110.6
    return (800 * np.exp(-((x - 2) ** 2 + (y - 1) ** 2) / (2 * 2.5 ** 2))
            + 500 * np.exp(-((x + 4) ** 2 + (y + 3) ** 2) / (2 * 1.5 ** 2)) + 100 + 5 * x)


@pytest.mark.parametrize("resolution_m", [100.0, 40.0])
def test_reader_spread_comes_close_to_the_true_density(tmp_path, resolution_m):
    """A known density, integrated over 0.009 deg cells (about 1 km, as WorldPop) and
    read onto a 100 m or 40 m grid, is recovered to a few percent (flat squares: 11 %)."""
    from pyproj import Transformer

    cell, n = 0.009, 30
    lon0, lat0 = 35.0 - n * cell / 2, -6.0 + n * cell / 2
    sub = (np.arange(10) + 0.5) / 10
    lons = lon0 + (np.arange(n)[:, None] + sub[None, :]).ravel() * cell
    lats = lat0 - (np.arange(n)[:, None] + sub[None, :]).ravel() * cell
    r = 6_371_007.2
    rows = np.arange(n)
    area_km2 = r * r * np.deg2rad(cell) * np.abs(
        np.sin(np.deg2rad(lat0 - rows * cell)) - np.sin(np.deg2rad(lat0 - (rows + 1) * cell))) / 1e6
    lon_g, lat_g = np.meshgrid(lons, lats)
    people = _analytic_density(lon_g, lat_g).reshape(n, 10, n, 10).mean(axis=(1, 3)) * \
        area_km2[:, None]
    _lonlat_raster(tmp_path / "p.tif", people, lon0, lat0, cell)
    cx, cy = Transformer.from_crs("EPSG:4326", "EPSG:32736", always_xy=True).transform(35, -6)
    grid = Grid.centred("EPSG:32736", cx, cy, 20_000, 20_000, resolution_m)
    gx, gy = np.meshgrid(grid.x_centres(), grid.y_centres())
    lon, lat = Transformer.from_crs("EPSG:32736", "EPSG:4326", always_xy=True).transform(gx, gy)
    truth = _analytic_density(lon, lat) * (resolution_m / 1000.0) ** 2
    est, total, info = read_population_to_grid(tmp_path / "p.tif", grid)
    old = rasters.DISAGGREGATE_RATIO
    try:
        rasters.DISAGGREGATE_RATIO = np.inf
        flat, _, _ = read_population_to_grid(tmp_path / "p.tif", grid)
    finally:
        rasters.DISAGGREGATE_RATIO = old
    inner = (slice(20, -20), slice(20, -20))
    mean = truth[inner].mean()

    def rmse(a):
        return np.sqrt(np.mean((a[inner] - truth[inner]) ** 2)) / mean

    def step(a):
        return np.abs(np.diff(a[inner], axis=1)).max() / mean

    assert rmse(flat) > 0.09
    assert rmse(est) < 0.3 * rmse(flat), (rmse(est), rmse(flat))
    assert step(est) < 1.5 * step(truth) < step(flat)
    assert est.sum() == pytest.approx(total, rel=1e-9)
    if resolution_m == 40.0:
        assert info["disaggregation"]["intermediate"]["resolution_m"] == 240.0
