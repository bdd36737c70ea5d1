"""Tests for simulator.radio.variability.

Oracles: standard normal quantiles (textbook values), scipy.integrate.quad over the disc
(independent of the closed-form Jakes formula), the defining exponential correlation
exp(-d/d_corr), and the analytic expectation sum(people * P(cover)).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import norm

from simulator.radio import variability as var


def test_location_probability_textbook_points():
    # Q(-M/sigma): margin 0 -> 0.5; margin = sigma -> Phi(1) = 0.841345; -sigma -> 0.158655
    p = var.location_coverage_probability(np.array([0.0, 8.0, -8.0]), 8.0)
    np.testing.assert_allclose(p, [0.5, 0.841345, 0.158655], atol=1e-6)


def test_fade_margin_textbook_points():
    # z_0.90 = 1.281552, z_0.95 = 1.644854 (standard normal tables)
    np.testing.assert_allclose(var.fade_margin_db(8.0, [0.9, 0.95, 0.5]),
                               [8 * 1.281552, 8 * 1.644854, 0.0], atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.floats(1.0, 15.0), st.floats(0.001, 0.999))
def test_fade_margin_inverts_coverage_probability(sigma, p):
    m = var.fade_margin_db(sigma, p)
    assert var.location_coverage_probability(m, sigma) == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize("call, name", [
    (lambda: var.location_coverage_probability(0.0, 0.0), "sigma_db"),
    (lambda: var.location_coverage_probability(0.0, -2.0), "sigma_db"),
    (lambda: var.fade_margin_db(8.0, 1.0), "reliability"),
    (lambda: var.fade_margin_db(8.0, 0.0), "reliability"),
    (lambda: var.fade_margin_db(0.0, 0.9), "sigma_db"),
    (lambda: var.area_coverage_fraction(0.0, 8.0, 0.0), "path_loss_exponent"),
    (lambda: var.area_coverage_fraction(0.0, -8.0, 3.0), "sigma_db"),
])
def test_invalid_inputs_raise_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# --------------------------------------------------------------------------- area coverage


def _disc_fraction_quad(margin_db, sigma_db, n):
    """Oracle: (2/R^2) int_0^R r P(cover at r) dr with R = 1.

    Mean power at radius r is P(R) + 10 n log10(R/r), so the point margin is
    margin_db - 10 n log10(r), and P(cover) = Phi(point margin / sigma).
    """
    def f(r):
        return 2.0 * r * norm.cdf((margin_db - 10.0 * n * math.log10(r)) / sigma_db)
    val, _ = integrate.quad(f, 0.0, 1.0, limit=200)
    return val


@pytest.mark.parametrize("margin", [-10.0, -4.0, 0.0, 3.0, 8.0, 15.0])
@pytest.mark.parametrize("sigma, n", [(4.0, 2.0), (8.0, 3.5), (8.0, 4.0), (12.0, 2.7)])
def test_area_coverage_matches_numerical_integration(margin, sigma, n):
    got = var.area_coverage_fraction(margin, sigma, n)
    assert got == pytest.approx(_disc_fraction_quad(margin, sigma, n), abs=0.005)


def test_area_coverage_rappaport_fig_4_18_reading():
    # sigma/n = 2 with 50 % at the edge: Rappaport Fig. 4.18 reads about 0.77.
    # The assert is the quadrature oracle; the figure reading is a loose check.
    got = var.area_coverage_fraction(0.0, 8.0, 4.0)
    assert got == pytest.approx(_disc_fraction_quad(0.0, 8.0, 4.0), abs=0.005)
    assert got == pytest.approx(0.77, abs=0.02)


def test_area_coverage_large_margin_no_overflow():
    # warnings are errors in this suite: a large margin must not overflow exp()
    f = var.area_coverage_fraction(np.array([60.0, 200.0, -200.0]), 6.0, 3.0)
    np.testing.assert_allclose(f, [1.0, 1.0, 0.0], atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(-20, 20), st.floats(2, 14), st.floats(1.5, 6))
def test_area_coverage_bounded_and_above_edge_probability(m, sigma, n):
    # inside the cell the mean is higher than at the edge, so the area average exceeds
    # the edge probability
    f = var.area_coverage_fraction(m, sigma, n)
    assert 0.0 <= f <= 1.0
    assert f >= var.location_coverage_probability(m, sigma) - 1e-12


# --------------------------------------------------------------------------- correlated fields
SHAPE, RES, DCORR, SIGMA = (192, 192), 10.0, 50.0, 8.0


@pytest.fixture(scope="module")
def fields():
    return var.shadowing_fields(8, SHAPE, RES, sigma_db=SIGMA, decorrelation_m=DCORR, rng=7)


def test_field_shape_mean_and_std(fields):
    assert fields.shape == (8,) + SHAPE
    assert np.std(fields) == pytest.approx(SIGMA, rel=0.06)
    assert abs(np.mean(fields)) < 0.1 * SIGMA


@pytest.mark.parametrize("lag_cells", [1, 5, 10])
def test_field_correlation_is_exponential(fields, lag_cells):
    # empirical correlation at lag d (both axes), zero mean known
    x = fields / SIGMA
    c_cols = np.mean(x[:, :, :-lag_cells] * x[:, :, lag_cells:])
    c_rows = np.mean(x[:, :-lag_cells, :] * x[:, lag_cells:, :])
    expected = math.exp(-lag_cells * RES / DCORR)  # 0.819, 0.368, 0.135
    assert c_cols == pytest.approx(expected, abs=0.06)
    assert c_rows == pytest.approx(expected, abs=0.06)


def test_field_diagonal_correlation_is_isotropic(fields):
    # diagonal lag (7, 7) cells: d = 7 sqrt(2) * 10 m = 98.99 m -> exp(-1.980) = 0.138
    x = fields / SIGMA
    c = np.mean(x[:, :-7, :-7] * x[:, 7:, 7:])
    assert c == pytest.approx(math.exp(-7 * math.sqrt(2) * RES / DCORR), abs=0.06)


def test_same_rng_same_field_and_different_seed_differs():
    kw = dict(sigma_db=6.0, decorrelation_m=300.0)
    a = var.correlated_shadowing_field((40, 30), 100.0, rng=np.random.default_rng(3), **kw)
    b = var.correlated_shadowing_field((40, 30), 100.0, rng=np.random.default_rng(3), **kw)
    c = var.correlated_shadowing_field((40, 30), 100.0, rng=np.random.default_rng(4), **kw)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fields_of_different_sites_are_independent(fields):
    x = fields / SIGMA
    c = np.mean(x[0] * x[1])
    assert abs(c) < 0.1


def test_long_decorrelation_on_small_grid_works():
    # d_corr 10x the grid extent: the embedding is padded until it is positive definite
    f = var.correlated_shadowing_field((10, 10), 100.0, sigma_db=8.0, decorrelation_m=10_000.0,
                                       rng=1)
    assert f.shape == (10, 10) and np.all(np.isfinite(f))


@pytest.mark.parametrize("kw, name", [
    (dict(sigma_db=0.0, decorrelation_m=100.0), "sigma_db"),
    (dict(sigma_db=8.0, decorrelation_m=0.0), "decorrelation_m"),
])
def test_field_rejects_bad_parameters(kw, name):
    with pytest.raises(ValueError, match=name):
        var.correlated_shadowing_field((10, 10), 100.0, rng=0, **kw)


# --------------------------------------------------------------------------- Monte Carlo


def test_monte_carlo_mean_converges_to_analytic_expectation():
    rng = np.random.default_rng(11)
    shape = (40, 40)
    people = rng.integers(0, 50, shape).astype(float)
    margin = rng.normal(2.0, 8.0, shape)
    sigma = 8.0
    expected = float(np.sum(people * norm.cdf(margin / sigma)))  # analytic, via scipy.stats

    def sampler(g):
        return var.correlated_shadowing_field(shape, 100.0, sigma_db=sigma,
                                              decorrelation_m=300.0, rng=g)

    r = var.monte_carlo_covered_people(people, margin, sampler, n_realisations=300, rng=5)
    se = r.samples.std(ddof=1) / math.sqrt(len(r.samples))
    assert abs(r.mean - expected) < 4 * se + 1e-9
    assert r.low <= r.mean <= r.high
    assert var.expected_covered_people(people, margin, sigma) == pytest.approx(expected)
    # reproducible
    r2 = var.monte_carlo_covered_people(people, margin, sampler, n_realisations=300, rng=5)
    np.testing.assert_array_equal(r.samples, r2.samples)


def test_monte_carlo_no_variability_is_deterministic():
    people = np.array([10.0, 20.0, 30.0])
    r = var.monte_carlo_covered_people(people, np.array([1.0, -1.0, 0.0]),
                                       lambda g: np.zeros(3), n_realisations=5, rng=0)
    # cells with margin >= 0 are covered: 10 + 30 = 40
    assert r.mean == 40.0 and r.low == 40.0 and r.high == 40.0


def test_monte_carlo_rejects_bad_input():
    with pytest.raises(ValueError, match="n_realisations"):
        var.monte_carlo_covered_people([1.0], [0.0], lambda g: 0.0, n_realisations=0, rng=0)
    with pytest.raises(ValueError, match="quantiles"):
        var.monte_carlo_covered_people([1.0], [0.0], lambda g: 0.0, n_realisations=2, rng=0,
                                       quantiles=(0.9, 0.1))


@pytest.mark.parametrize("target", [0.5, 0.75, 0.9, 0.95])
def test_edge_margin_for_area_coverage_against_quadrature(target):
    m = var.edge_margin_for_area_coverage_db(target, 8.0, 3.5)
    # the quadrature oracle at the returned margin gives back the target fraction
    assert _disc_fraction_quad(m, 8.0, 3.5) == pytest.approx(target, abs=0.005)


def test_edge_margin_for_area_coverage_rejects_bad_fraction():
    for bad in (0.0, 1.0, 1.2):
        with pytest.raises(ValueError, match="area_fraction"):
            var.edge_margin_for_area_coverage_db(bad, 8.0, 3.5)
