"""Tests for simulator.business.adoption: closed forms, independent oracles, invariants."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from simulator.business import adoption as ad
def _phi(x):
    """Standard normal CDF from math.erf (independent of scipy and of the code)."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


# ----------------------------------------------------------------------------- handsets

def test_handset_share_hand_case():
    # 45 % smartphones + 0.5 x 30 % basic phones = 0.45 + 0.15 = 0.60
    assert ad.handset_share(0.45, 0.30, basic_phone_weight=0.5) == pytest.approx(0.60)
    # default weight 0: only smartphones count
    assert ad.handset_share(0.45, 0.30) == pytest.approx(0.45)


def test_handset_share_rejects_shares_adding_above_one():
    with pytest.raises(ValueError, match="smartphone_share \\+ basic_phone_share"):
        ad.handset_share(0.7, 0.5)


# ------------------------------------------------------------------------ affordability

def test_affordability_hand_case_median():
    # 2 USD/GB x 1 GB = 2 USD; 2 USD / 0.02 = 100 USD/month needed = the median -> half.
    assert ad.affordability_share(2.0, 100.0, 0.9) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("price, median, sigma, gb, theta", [
    (1.5, 40.0, 0.8, 1.0, 0.02),
    (3.0, 60.0, 1.1, 2.0, 0.05),
    (0.5, 25.0, 0.5, 1.0, 0.02),
    (10.0, 300.0, 1.4, 1.5, 0.02),
])
def test_affordability_matches_normal_cdf_closed_form(price, median, sigma, gb, theta):
    # A = 1 - Phi((ln(c/theta) - ln m) / sigma), c = price * gb
    z = (math.log(price * gb / theta) - math.log(median)) / sigma
    expected = 1.0 - _phi(z)
    got = ad.affordability_share(price, median, sigma, bundle_gb=gb, threshold_share=theta)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_affordability_matches_scipy_monte_carlo_sample():
    # Independent oracle: draw incomes with numpy's lognormal (mean of log = ln median)
    rng = np.random.default_rng(12345)
    incomes = rng.lognormal(mean=math.log(50.0), sigma=0.9, size=400_000)
    empirical = np.mean(incomes >= 1.5 * 1.0 / 0.02)
    assert ad.affordability_share(1.5, 50.0, 0.9) == pytest.approx(empirical, abs=3e-3)


def test_affordability_zero_price_everyone():
    assert ad.affordability_share(0.0, 30.0, 1.0) == pytest.approx(1.0)


def test_affordability_vectorised_over_sites():
    prices = np.array([0.5, 1.0, 2.0, 4.0])
    out = ad.affordability_share(prices, np.array([40.0, 40.0, 40.0, 40.0]), 0.8)
    assert out.shape == (4,)
    assert np.all(np.diff(out) < 0)


def test_gini_sigma_round_trip_and_known_value():
    # Log-normal Gini G = 2 Phi(sigma/sqrt2) - 1; sigma = 1 -> 2 Phi(0.70711) - 1 = 0.52050
    g = 2.0 * _phi(1.0 / math.sqrt(2.0)) - 1.0
    assert g == pytest.approx(0.5205, abs=1e-4)
    assert ad.lognormal_sigma_from_gini(g) == pytest.approx(1.0, rel=1e-9)


def test_gini_sigma_against_sample_gini():
    # Gini of a large log-normal sample (mean absolute difference / (2 mean)) ~ formula
    sigma = ad.lognormal_sigma_from_gini(0.40)
    rng = np.random.default_rng(7)
    x = np.sort(rng.lognormal(0.0, sigma, size=200_000))
    n = x.size
    gini_sample = (2.0 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum())) - (n + 1) / n
    assert gini_sample == pytest.approx(0.40, abs=5e-3)


def test_median_from_mean():
    # mean = median * exp(sigma^2 / 2): median 100, sigma 1 -> mean 164.872
    assert ad.lognormal_median_from_mean(100.0 * math.exp(0.5), 1.0) == pytest.approx(100.0)
    assert stats.lognorm(s=1.0, scale=100.0).mean() == pytest.approx(100.0 * math.exp(0.5))


# ------------------------------------------------------------------------------- skills

def test_skills_hand_cases():
    # 0.5 + 1000 trained / 10000 adults = 0.6
    assert ad.skills_share(0.5, 1000, 10000) == pytest.approx(0.6)
    # capped at 0.8: 0.5 + 5000/10000 = 1.0 -> 0.8
    assert ad.skills_share(0.5, 5000, 10000, max_share=0.8) == pytest.approx(0.8)
    # a baseline above the cap is kept (cap limits training, never lowers the baseline)
    assert ad.skills_share(0.9, 100, 1000, max_share=0.8) == pytest.approx(0.9)
    # effectiveness 0.5: 0.5 + 0.5 * 0.1 = 0.55
    assert ad.skills_share(0.5, 1000, 10000, training_effectiveness=0.5) == pytest.approx(0.55)


# ------------------------------------------------------------------------------- curves

@pytest.mark.parametrize("p, q", [(0.03, 0.38), (0.01, 0.5), (0.1, 0.0), (0.00471, 0.506)])
def test_bass_closed_form(p, q):
    t = np.array([0.0, 1.0, 2.5, 5.0, 10.0, 30.0])
    e = np.exp(-(p + q) * t)
    expected = (1.0 - e) / (1.0 + (q / p) * e)
    np.testing.assert_allclose(ad.bass_cumulative(t, p, q), expected, rtol=1e-12)


def test_bass_solves_its_differential_equation():
    # dF/dt = (p + q F)(1 - F), F(0) = 0, integrated numerically (independent of closed form)
    p, q = 0.03, 0.38
    sol = integrate.solve_ivp(lambda t, f: (p + q * f) * (1 - f), (0, 20), [0.0],
                              t_eval=[1, 5, 10, 20], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.bass_cumulative(sol.t, p, q), sol.y[0], atol=1e-7)


def test_bass_hand_value():
    # p=0.03, q=0.38, t=5: e^{-0.41*5} = e^{-2.05} = 0.128735
    # F = (1 - 0.128735) / (1 + 12.6667 * 0.128735) = 0.871265 / 2.630643 = 0.331199
    assert ad.bass_cumulative(5.0, 0.03, 0.38) == pytest.approx(0.331199, abs=1e-6)


def test_logistic_hand_value_and_zero_start():
    # k=1, t0=3: L(3)=0.5, L(0)=1/(1+e^3)=0.0474259; F(3)=(0.5-0.0474259)/(1-0.0474259)=0.475106
    assert ad.logistic_cumulative(3.0, 1.0, 3.0) == pytest.approx(0.475106, abs=1e-6)
    assert ad.logistic_cumulative(0.0, 1.0, 3.0) == pytest.approx(0.0, abs=1e-15)
    assert ad.logistic_cumulative(3.0, 1.0, 3.0, start_at_zero=False) == pytest.approx(0.5)


def test_connected_fraction_shape_and_values():
    frac = ad.connected_fraction_by_year(10, np.array([0.2, 0.4]), p=0.03, q=0.38)
    assert frac.shape == (2, 10)
    # year 5 for potential 0.4: 0.4 * 0.331199 = 0.1324796
    assert frac[1, 4] == pytest.approx(0.4 * 0.331199, abs=1e-6)
    assert np.all(np.diff(frac, axis=-1) > 0)


def test_connected_people_end_to_end_hand_case():
    # potential = 0.5 (handset) * 0.5 (afford: median case) * 0.6 (skills) = 0.15
    res = ad.connected_people(np.array([2000.0, 0.0]), horizon_years=5, price_usd_per_gb=2.0,
                              median_income_usd_per_month=100.0, income_sigma=1.0,
                              smartphone_share=0.5, skills_baseline_share=0.5,
                              people_trained=200.0, p=0.03, q=0.38)
    # skills for the 2000-person site: 0.5 + 200/2000 = 0.6
    assert res.skills_share[0] == pytest.approx(0.6)
    assert res.potential_share[0] == pytest.approx(0.15)
    # year 5: 2000 * 0.15 * 0.331199 = 99.3597
    assert res.people_by_year[0, 4] == pytest.approx(99.3597, abs=1e-3)
    assert np.all(res.people_by_year[1] == 0.0)


# ----------------------------------------------------------------------------- validation

@pytest.mark.parametrize("call, name", [
    (lambda: ad.affordability_share(-1.0, 50, 1), "price_usd_per_gb"),
    (lambda: ad.affordability_share(1.0, 0.0, 1), "median_income_usd_per_month"),
    (lambda: ad.affordability_share(1.0, 50, 0.0), "income_sigma"),
    (lambda: ad.affordability_share(1.0, 50, 1, threshold_share=1.5), "threshold_share"),
    (lambda: ad.handset_share(1.2), "smartphone_share"),
    (lambda: ad.handset_share(0.5, -0.1), "basic_phone_share"),
    (lambda: ad.skills_share(0.5, -1, 100), "people_trained"),
    (lambda: ad.skills_share(0.5, 1, 0), "adult_population"),
    (lambda: ad.skills_share(1.5, 1, 10), "baseline_share"),
    (lambda: ad.bass_cumulative(1.0, 0.0, 0.3), "p"),
    (lambda: ad.bass_cumulative(-1.0, 0.03, 0.3), "t_years"),
    (lambda: ad.connected_fraction_by_year(0, 0.5), "horizon_years"),
    (lambda: ad.connected_fraction_by_year(2.5, 0.5), "horizon_years"),
    (lambda: ad.connected_fraction_by_year(5, 1.2), "potential_share"),
    (lambda: ad.connected_people_by_year(-5.0, [0.1]), "covered_people"),
])
def test_bad_input_raises_naming_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_bad_input_message_has_range():
    with pytest.raises(ValueError, match=r"allowed range \[0, 1\]"):
        ad.handset_share(1.2)


def test_unknown_options_raise():
    with pytest.raises(ValueError, match="combine"):
        ad.adoption_potential(0.5, 0.5, 0.5, combine="magic")
    with pytest.raises(ValueError, match="curve"):
        ad.connected_fraction_by_year(3, 0.5, curve="gompertz")


# ------------------------------------------------------------------------------ properties

shares = st.floats(0.0, 1.0)
prices = st.floats(0.0, 50.0)
incomes = st.floats(1.0, 2000.0)
sigmas = st.floats(0.1, 2.0)


def _run(price, income, trained, covered=1500.0, combine="independent"):
    return ad.connected_people(covered, horizon_years=8, price_usd_per_gb=price,
                               median_income_usd_per_month=income, income_sigma=0.8,
                               smartphone_share=0.45, basic_phone_share=0.3,
                               basic_phone_weight=0.2, skills_baseline_share=0.4,
                               people_trained=trained, skills_max_share=0.9,
                               combine=combine).people_by_year


@settings(max_examples=60, deadline=None)
@given(prices, prices, incomes, st.floats(0.0, 3000.0), st.sampled_from(["independent", "nested"]))
def test_lower_price_never_fewer_users(p1, p2, income, trained, combine):
    lo, hi = min(p1, p2), max(p1, p2)
    assert np.all(_run(lo, income, trained, combine=combine)
                  >= _run(hi, income, trained, combine=combine) - 1e-9)


@settings(max_examples=60, deadline=None)
@given(prices, incomes, incomes, st.floats(0.0, 3000.0))
def test_higher_income_never_fewer_users(price, i1, i2, trained):
    lo, hi = min(i1, i2), max(i1, i2)
    assert np.all(_run(price, hi, trained) >= _run(price, lo, trained) - 1e-9)


@settings(max_examples=60, deadline=None)
@given(prices, incomes, st.floats(0.0, 5000.0), st.floats(0.0, 5000.0))
def test_more_training_never_fewer_users(price, income, t1, t2):
    lo, hi = min(t1, t2), max(t1, t2)
    assert np.all(_run(price, income, hi) >= _run(price, income, lo) - 1e-9)


@settings(max_examples=80, deadline=None)
@given(st.floats(0.0, 1e6), prices, incomes, sigmas, shares, shares, shares,
       st.integers(1, 30), st.sampled_from(["bass", "logistic"]))
def test_connected_never_exceeds_covered(covered, price, income, sigma, smart, k0, w,
                                         horizon, curve):
    res = ad.connected_people(covered, horizon_years=horizon, price_usd_per_gb=price,
                              median_income_usd_per_month=income, income_sigma=sigma,
                              smartphone_share=smart, basic_phone_share=1.0 - smart,
                              basic_phone_weight=w, skills_baseline_share=k0, curve=curve)
    assert res.people_by_year.shape == (horizon,)
    assert np.all(res.people_by_year >= 0.0)
    assert np.all(res.people_by_year <= covered * (1 + 1e-12))
    assert np.all(np.diff(res.people_by_year) >= -1e-9)
