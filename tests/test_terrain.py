"""Tests for simulator.region.terrain.

Expected values are hand-worked (arithmetic in comments), come from textbook
geometry (radio horizon, planes), or from brute-force oracles written here
independently of the code under test.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.region import terrain as t
R_E = 6_371_000.0


# --------------------------------------------------------------------------- DEM
def test_same_seed_same_dem():
    a = t.synthetic_dem((64, 80), 30.0, relief_m=200.0, ridges=1, valleys=1, rng=7)
    b = t.synthetic_dem((64, 80), 30.0, relief_m=200.0, ridges=1, valleys=1, rng=7)
    c = t.synthetic_dem((64, 80), 30.0, relief_m=200.0, ridges=1, valleys=1,
                        rng=np.random.default_rng(7))
    d = t.synthetic_dem((64, 80), 30.0, relief_m=200.0, ridges=1, valleys=1, rng=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)  # a seed and a Generator seeded alike agree
    assert not np.array_equal(a, d)
    assert a.dtype == np.float32 and a.shape == (64, 80)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(2, 40),
    cols=st.integers(2, 40),
    relief=st.floats(0.5, 3000.0),
    base=st.floats(-400.0, 4000.0),
    rough=st.floats(0.0, 1.0),
    ridges=st.integers(0, 2),
    valleys=st.integers(0, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_relief_range_exact(rows, cols, relief, base, rough, ridges, valleys, seed):
    z = t.synthetic_dem((rows, cols), 25.0, relief_m=relief, roughness=rough, ridges=ridges,
                        valleys=valleys, base_elevation_m=base, rng=seed)
    # exact up to float32 rounding of the two extreme values
    tol = 2 * np.spacing(np.float32(abs(base) + relief))
    assert abs(float(z.min()) - base) <= tol
    assert abs((float(z.max()) - float(z.min())) - relief) <= 2 * tol


def test_zero_relief_is_flat():
    z = t.synthetic_dem((10, 12), 30.0, relief_m=0.0, base_elevation_m=123.0, rng=1)
    assert np.all(z == np.float32(123.0))


def _variogram_slope(z, lags):
    g = []
    for lag in lags:
        dx = (z[:, lag:] - z[:, :-lag]).ravel()
        dy = (z[lag:, :] - z[:-lag, :]).ravel()
        g.append(0.5 * np.mean(np.concatenate([dx, dy]) ** 2))
    return np.polyfit(np.log(lags), np.log(g), 1)[0]


def test_roughness_controls_hurst_exponent():
    # fBm theory: semivariogram ~ r^(2H), H = 1 - roughness (documented mapping).
    lags = np.array([1, 2, 4, 8, 16])
    slopes = {}
    for rough in (0.2, 0.5):
        s = [_variogram_slope(t.synthetic_dem((256, 256), 30.0, relief_m=500.0,
                                              roughness=rough, rng=seed).astype(float), lags)
             for seed in range(4)]
        slopes[rough] = float(np.mean(s))
        assert slopes[rough] == pytest.approx(2 * (1 - rough), abs=0.25)
    assert slopes[0.2] > slopes[0.5] + 0.3


def test_dem_is_not_periodic():
    # A plain FFT surface wraps around; ours is cropped from a larger field, so the first
    # and last columns are not more alike than columns a map-width apart would be.
    z = t.synthetic_dem((128, 128), 30.0, relief_m=500.0, roughness=0.1, rng=3).astype(float)
    edge_diff = np.mean(np.abs(z[:, 0] - z[:, -1]))
    neighbour_diff = np.mean(np.abs(z[:, 0] - z[:, 1]))
    assert edge_diff > 5 * neighbour_diff


def test_ridge_option_changes_the_dem():
    # Same seed with and without a ridge: the ridge option is not ignored.
    a = t.synthetic_dem((100, 100), 30.0, relief_m=100.0, rng=11).astype(float)
    b = t.synthetic_dem((100, 100), 30.0, relief_m=100.0, ridges=1, rng=11).astype(float)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("kwargs", [
    dict(shape=(1, 5), resolution_m=30.0, relief_m=10.0),
    dict(shape=(5, 5), resolution_m=0.0, relief_m=10.0),
    dict(shape=(5, 5), resolution_m=30.0, relief_m=-1.0),
    dict(shape=(5, 5), resolution_m=30.0, relief_m=10.0, roughness=1.5),
    dict(shape=(5, 5), resolution_m=30.0, relief_m=10.0, ridges=-1),
    dict(shape=(5, 5), resolution_m=30.0, relief_m=10.0, valleys=0.5),
])
def test_dem_invalid_arguments(kwargs):
    shape = kwargs.pop("shape")
    res = kwargs.pop("resolution_m")
    with pytest.raises(ValueError):
        t.synthetic_dem(shape, res, **kwargs)


# --------------------------------------------------------------------------- hillshade
def test_hillshade_flat_and_planes():
    flat = np.zeros((5, 6))
    # flat: shade = sin(altitude) = sin(45 deg) = 0.70711
    np.testing.assert_allclose(t.hillshade(flat, 10.0), math.sin(math.radians(45)), atol=1e-12)
    # plane rising to the east at 45 deg: z = x (res 10 m -> +10 m per column)
    plane = np.tile(np.arange(6) * 10.0, (5, 1))
    # normal = (-1, 0, 1)/sqrt2. Sun in the east, alt 45: s = (cos45, 0, sin45) -> dot = 0
    np.testing.assert_allclose(t.hillshade(plane, 10.0, azimuth_deg=90, altitude_deg=45), 0.0,
                               atol=1e-12)
    # sun in the west: s = (-cos45, 0, sin45) -> dot = (0.7071 + 0.7071)/1.4142 = 1
    np.testing.assert_allclose(t.hillshade(plane, 10.0, azimuth_deg=270, altitude_deg=45), 1.0,
                               atol=1e-12)
    # plane rising to the north (row 0 is north): z = 10 m per row going north
    north = np.tile((4 - np.arange(5))[:, None] * 10.0, (1, 6))
    # sun in the south faces this slope: s = (0, -cos45, sin45), n = (0, -1, 1)/sqrt2 -> 1
    np.testing.assert_allclose(t.hillshade(north, 10.0, azimuth_deg=180, altitude_deg=45), 1.0,
                               atol=1e-12)


# --------------------------------------------------------------------------- curvature
def test_earth_bulge_hand_worked():
    # d1 = d2 = 10 km, k = 4/3: 1e4*1e4 / (2 * 4/3 * 6.371e6) = 1e8 / 1.698933e7 = 5.8861 m
    assert t.earth_bulge_m(10_000.0, 10_000.0) == pytest.approx(5.8861, abs=1e-4)
    # k = 1: 1e8 / 1.2742e7 = 7.8481 m
    assert t.earth_bulge_m(10_000.0, 10_000.0, k_factor=1.0) == pytest.approx(7.8481, abs=1e-4)
    assert t.earth_bulge_m(10_000.0, 10_000.0, k_factor=np.inf) == 0.0
    out = t.earth_bulge_m(np.array([0.0, 1000.0]), np.array([[5000.0], [0.0]]))
    assert out.shape == (2, 2) and out[1, 0] == 0.0 and out[0, 0] == 0.0
    with pytest.raises(ValueError):
        t.earth_bulge_m(1.0, 1.0, k_factor=0.0)
    with pytest.raises(ValueError):
        t.earth_bulge_m(-1.0, 1.0)


# --------------------------------------------------------------------------- radial profiles
def _plane_dem(shape, x0, y0, res, a, b, c):
    rows, cols = shape
    xc = x0 + (np.arange(cols) + 0.5) * res
    yc = y0 - (np.arange(rows) + 0.5) * res
    return a * xc[None, :] + b * yc[:, None] + c


def test_radial_profiles_bilinear_exact_on_plane():
    # bilinear interpolation reproduces a plane exactly
    x0, y0, res = 1000.0, 9000.0, 30.0
    dem = _plane_dem((200, 220), x0, y0, res, 0.01, -0.02, 300.0)
    origin = (x0 + 110 * res + 7.0, y0 - 100 * res - 3.0)
    elev, geom = t.radial_profiles(dem, origin, x0, y0, res, radius_m=2000.0)
    az = np.deg2rad(np.arange(geom.n_rays) * 360.0 / geom.n_rays)[:, None]
    d = np.arange(geom.n_steps)[None, :] * res
    x = origin[0] + d * np.sin(az)
    y = origin[1] + d * np.cos(az)
    np.testing.assert_allclose(elev, 0.01 * x - 0.02 * y + 300.0, atol=1e-9)
    # adjacent rays at most one cell apart at the outer radius
    assert 2 * math.pi * 2000.0 / geom.n_rays <= res
    assert geom.distance_m[-1] >= 2000.0
    assert geom.distance_m[0] == 0.0


def test_radial_profiles_outside_dem_is_nan():
    dem = np.zeros((20, 20))
    elev, geom = t.radial_profiles(dem, (300.0, -300.0), 0.0, 0.0, 30.0, radius_m=1000.0,
                                   n_rays=8)
    x, y = geom.sample_xy_m()
    outside = (x < 0) | (x > 600) | (y > 0) | (y < -600)
    assert np.all(np.isnan(elev[outside]))
    assert np.all(elev[~outside] == 0.0)


@settings(max_examples=25, deadline=None)
@given(
    ox=st.floats(0.0, 1.0),
    oy=st.floats(0.0, 1.0),
    radius_cells=st.floats(0.75, 40.0),
    res=st.sampled_from([10.0, 30.0, 90.0]),
)
def test_rays_to_grid_no_holes_and_nearest_sample(ox, oy, radius_cells, res):
    shape = (100, 100)
    x0, y0 = 500_000.0, 4_000_000.0
    origin = (x0 + (50 + ox) * res, y0 - (50 + oy) * res)
    radius = radius_cells * res
    dem = np.ones(shape)
    elev, geom = t.radial_profiles(dem, origin, x0, y0, res, radius_m=radius)
    xs, ys = geom.sample_xy_m()
    gx = t.rays_to_grid(xs, geom, x0, y0, res, shape)
    gy = t.rays_to_grid(ys, geom, x0, y0, res, shape)
    xc = x0 + (np.arange(shape[1]) + 0.5) * res
    yc = y0 - (np.arange(shape[0]) + 0.5) * res
    dist = np.hypot(xc[None, :] - origin[0], yc[:, None] - origin[1])
    within = dist <= radius
    assert within.any()
    # every cell within the radius gets a value, none outside
    assert np.all(np.isfinite(gx[within])) and np.all(np.isnan(gx[~within]))
    # ... and it is the value of a sample close to the cell centre: radial error <= step/2,
    # tangential error <= half the ray spacing (<= res/2): |error| <= res/sqrt(2)
    err = np.hypot(gx[within] - np.broadcast_to(xc[None, :], shape)[within],
                   gy[within] - np.broadcast_to(yc[:, None], shape)[within])
    assert err.max() <= res / math.sqrt(2) + 1e-6
    # the elevation (all ones) maps back without holes too
    ge = t.rays_to_grid(elev, geom, x0, y0, res, shape)
    np.testing.assert_allclose(ge[within], 1.0, rtol=1e-12)


def test_rays_to_grid_shape_mismatch():
    elev, geom = t.radial_profiles(np.zeros((10, 10)), (150, -150), 0, 0, 30.0, radius_m=100.0)
    with pytest.raises(ValueError):
        t.rays_to_grid(elev[:, :-1], geom, 0, 0, 30.0, (10, 10))


def test_one_ray_grid_index_maps_several_arrays_as_separate_calls():
    rng = np.random.default_rng(5)
    dem = rng.normal(100.0, 20.0, (60, 50))
    elev, geom = t.radial_profiles(dem, (700.0, -820.0), 0.0, 0.0, 30.0, radius_m=600.0)
    shape = (60, 50)
    index = t.ray_grid_index(geom, 0.0, 0.0, 30.0, shape)
    loss = rng.normal(120.0, 10.0, elev.shape).astype(np.float32)
    los = rng.random(elev.shape) < 0.5
    for values, fill in ((loss, np.nan), (los, False), (elev, -1.0)):
        alone = t.rays_to_grid(values, geom, 0.0, 0.0, 30.0, shape, fill_value=fill)
        shared = t.rays_to_grid(values, geom, 0.0, 0.0, 30.0, shape, fill_value=fill,
                                index=index)
        np.testing.assert_array_equal(alone, shared)
        assert shared.dtype == alone.dtype
    # the disc is mapped (not all fill), and an index of another grid is refused
    assert np.isfinite(t.rays_to_grid(loss, geom, 0.0, 0.0, 30.0, shape, index=index)).sum() > 900
    with pytest.raises(ValueError, match="index shape"):
        t.rays_to_grid(loss, geom, 0.0, 0.0, 30.0, (40, 50), index=index)
    # a disc entirely off the grid maps to fill only
    far = t.ray_grid_index(geom, 1e6, 1e6, 30.0, shape)
    assert np.isnan(t.rays_to_grid(loss, geom, 1e6, 1e6, 30.0, shape, index=far)).all()


# --------------------------------------------------------------------------- line of sight
def _los_oracle(h, d, tx_height, rx_height, k):
    """Brute force: the chord from antenna to receiver must clear every intermediate
    sample, with the effective-Earth bulge d_i (d_j - d_i) / (2 k R) added to it."""
    n_rays, n = h.shape
    out = np.ones((n_rays, n), dtype=bool)
    for r in range(n_rays):
        ht = h[r, 0] + tx_height
        for j in range(1, n):
            hr = h[r, j] + rx_height
            for i in range(1, j):
                bulge = 0.0 if np.isinf(k) else d[i] * (d[j] - d[i]) / (2 * k * R_E)
                line = ht + (hr - ht) * d[i] / d[j]
                if h[r, i] + bulge > line + 1e-9:
                    out[r, j] = False
                    break
    return out


def test_los_flat_earth_k_inf_all_true():
    h = np.full((5, 200), 100.0)
    d = np.arange(200) * 30.0
    for tx in (0.0, 10.0):
        assert t.line_of_sight(h, d, tx_height_m=tx, k_factor=np.inf).all()


def test_los_radio_horizon_smooth_earth():
    # Smooth Earth, k = 4/3, tx 30 m, rx on the ground: the geometric radio horizon is
    # sqrt(2 k R h) = sqrt(2 * 4/3 * 6.371e6 * 30) = sqrt(5.0968e8) = 22 576 m.
    d = np.arange(0, 40_000.0, 50.0)
    h = np.zeros((1, d.size))
    los = t.line_of_sight(h, d, tx_height_m=30.0)[0]
    horizon = math.sqrt(2 * 4 / 3 * R_E * 30.0)
    assert horizon == pytest.approx(22_576, abs=1)
    assert los[d <= horizon - 50].all()
    assert not los[d >= horizon + 50].any()


def test_los_ridge_shadows_cells_behind_it():
    # DEM with a north-south wall 50 m high, 300-360 m east of the site
    res = 30.0
    dem = np.zeros((60, 60))
    dem[:, 40:42] = 50.0
    origin = (30 * res + 15, -(30 * res + 15))  # centre of cell (30, 30)
    elev, geom = t.radial_profiles(dem, origin, 0.0, 0.0, res, radius_m=800.0)
    los = t.line_of_sight(elev, geom.distance_m, tx_height_m=10.0, k_factor=np.inf)
    grid = t.rays_to_grid(los.astype(np.float64), geom, 0.0, 0.0, res, dem.shape)
    # row 30 (due east): cells before the wall visible, cells well behind it shadowed
    assert np.all(grid[30, 31:40] == 1.0)
    assert np.all(grid[30, 44:56] == 0.0)
    # due west there is no wall
    assert np.all(grid[30, 5:30] == 1.0)


def test_los_vectorised_equals_per_profile_and_oracle():
    rng = np.random.default_rng(5)
    d = np.arange(60) * 100.0
    h = np.cumsum(rng.normal(0, 8, size=(12, 60)), axis=1) + 200.0
    for k in (4 / 3, np.inf):
        vec = t.line_of_sight(h, d, tx_height_m=15.0, rx_height_m=1.5, k_factor=k)
        per = np.vstack([t.line_of_sight(h[r:r + 1], d, tx_height_m=15.0, rx_height_m=1.5,
                                         k_factor=k) for r in range(h.shape[0])])
        np.testing.assert_array_equal(vec, per)
        np.testing.assert_array_equal(vec, _los_oracle(h, d, 15.0, 1.5, k))
        assert 0 < vec.mean() < 1  # the random profiles contain both cases


def test_los_invalid():
    with pytest.raises(ValueError):
        t.line_of_sight(np.zeros((2, 3)), np.array([0.0, 1.0]), tx_height_m=1.0)
    with pytest.raises(ValueError):
        t.line_of_sight(np.zeros((2, 3)), np.array([1.0, 2.0, 3.0]), tx_height_m=1.0)
    with pytest.raises(ValueError):
        t.line_of_sight(np.zeros((2, 3)), np.array([0.0, 1.0, 2.0]), tx_height_m=1.0,
                        k_factor=-1.0)
