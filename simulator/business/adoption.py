"""Covered -> connected: who can and will use the service, year by year.

Pure, vectorised models (no I/O). Being *covered* (the signal reaches a person) is not
being *connected*: a person also needs a handset, a data bundle they can afford and the
skills to use it (ITU: "connectivity alone is not enough. It must be affordable ... and
users must have the skills"). This module turns those three barriers into shares of the
covered population and spreads the resulting potential over time with a diffusion curve.

Building blocks
---------------
``handset_share``                share able to use the service on a handset they own
``affordability_share``          share whose income covers the entry bundle (log-normal)
``lognormal_sigma_from_gini``    income spread from a Gini coefficient
``lognormal_median_from_mean``   median income from a mean (e.g. GNI per capita)
``skills_share``                 baseline digital skills raised by training places
``adoption_potential``           ultimate share of covered people who become users
``binding_barrier``              which barrier sets the potential (nested) / is smallest
``price_for_affordability``      highest data price at which a target share can afford it
``income_for_affordability``     lowest median income at which a target share can afford it
``training_places_for_skills``   training places that lift skills to a target share
``income_density_factor``        income relative to a reference, from population density
``bass_cumulative``              Bass (1969) diffusion, share of potential adopted by t
``logistic_cumulative``          logistic diffusion, share of potential adopted by t
``connected_fraction_by_year``   potential x diffusion for years 1..horizon
``connected_people_by_year``     covered people x connected fraction
``connected_people``             all of the above in one call

Broadcasting: every argument may be a scalar or an array; arrays broadcast with numpy
rules (typically one value per site). Functions that add a time axis put it LAST.

Valid ranges are checked at the boundary; a value outside raises ``ValueError`` naming
the parameter, the value and the allowed range. NaN inputs propagate to NaN outputs
(they are not rejected), except where noted.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import check_horizon as _check_horizon
from .._checks import check_range as _check
from .._checks import scalar_or_array as _ret
from scipy import special, stats

__all__ = [
    "AdoptionResult",
    "BARRIERS",
    "adoption_potential",
    "affordability_share",
    "binding_barrier",
    "bass_cumulative",
    "connected_fraction_by_year",
    "connected_people",
    "connected_people_by_year",
    "handset_share",
    "income_density_factor",
    "income_for_affordability",
    "logistic_cumulative",
    "lognormal_median_from_mean",
    "lognormal_sigma_from_gini",
    "price_for_affordability",
    "skills_share",
    "training_places_for_skills",
]

#: The barriers between covered and connected, in the order they are reported.
BARRIERS = ("handset", "affordability", "skills", "relevance")


# --------------------------------------------------------------------------------------
# validation helpers (private)
# --------------------------------------------------------------------------------------

def handset_share(smartphone_share, basic_phone_share=0.0, *, basic_phone_weight=0.0):
    """Share of people whose own handset lets them use the service.

    .. math:: h = s_{smart} + w \\, s_{basic}

    Parameters
    ----------
    smartphone_share : float or array_like
        Share of people owning a smartphone, in [0, 1]. [-]
    basic_phone_share : float or array_like
        Share owning only a basic (voice/SMS or feature) phone, in [0, 1]; the two shares
        must not add up to more than 1. [-]
    basic_phone_weight : float or array_like, keyword-only
        How much a basic phone counts as "connected", in [0, 1]: 0 counts mobile-internet
        users only (ITU's internet-user definition needs a data-capable device), 1 counts
        voice/SMS users too. [-]

    Returns
    -------
    float or ndarray
        Share in [0, 1], broadcast shape of the inputs. [-]

    Raises
    ------
    ValueError
        A share or the weight outside [0, 1], or smartphone + basic shares above 1.
    """
    s = _check("smartphone_share", smartphone_share, 0.0, 1.0)
    b = _check("basic_phone_share", basic_phone_share, 0.0, 1.0)
    w = _check("basic_phone_weight", basic_phone_weight, 0.0, 1.0)
    total = s + b
    if np.any(total > 1.0 + 1e-12):
        first = float(np.asarray(total)[np.asarray(total) > 1.0 + 1e-12].flat[0])
        raise ValueError(
            f"smartphone_share + basic_phone_share={first:g} is outside the allowed range [0, 1]")
    return _ret(s + w * b)


def lognormal_sigma_from_gini(gini):
    """Log-normal shape parameter sigma for a given Gini coefficient.

    For a log-normal income distribution, :math:`G = 2\\Phi(\\sigma/\\sqrt{2}) - 1`
    (Aitchison & Brown, *The Lognormal Distribution*, 1957), hence
    :math:`\\sigma = \\sqrt{2}\\,\\Phi^{-1}((G+1)/2)`.

    Parameters
    ----------
    gini : float or array_like
        Gini coefficient of income, in (0, 1). [-]

    Returns
    -------
    float or ndarray
        sigma, the standard deviation of log income. [-]
    """
    g = _check("gini", gini, 0.0, 1.0, lo_open=True, hi_open=True)
    return _ret(np.sqrt(2.0) * special.ndtri((g + 1.0) / 2.0))


def lognormal_median_from_mean(mean_income, sigma):
    """Median of a log-normal distribution with the given mean: ``mean * exp(-sigma**2/2)``.

    Useful because published income figures (GNI per capita) are means while
    :func:`affordability_share` takes the median.

    Parameters
    ----------
    mean_income : float or array_like
        Mean income, >= 0. [USD per month]
    sigma : float or array_like
        Standard deviation of log income, >= 0. [-]

    Returns
    -------
    float or ndarray
        Median income. [USD per month]
    """
    m = _check("mean_income", mean_income, 0.0)
    s = _check("sigma", sigma, 0.0)
    return _ret(m * np.exp(-0.5 * s * s))


def affordability_share(price_usd_per_gb, median_income_usd_per_month, income_sigma, *,
                        bundle_gb=1.0, threshold_share=0.02):
    """Share of people for whom the entry data bundle costs at most a threshold of income.

    Income :math:`Y` is log-normal with median :math:`m` and log-sd :math:`\\sigma`. A person
    can afford the bundle when :math:`c = \\text{price} \\times \\text{gb} \\le \\theta\\,Y`, so

    .. math:: A = P(Y \\ge c/\\theta) = 1 - \\Phi\\left(\\frac{\\ln(c/\\theta) - \\ln m}{\\sigma}\\right)

    computed with ``scipy.stats.lognorm(s=sigma, scale=median).sf``. The default threshold is
    the Broadband Commission 2025 Target 2 / A4AI "1 for 2": 1 GB for at most 2 % of monthly
    income (the Commission measures it against mean GNI per capita; here it is applied to
    each person's own income, which is what "can this person afford it" asks).

    Parameters
    ----------
    price_usd_per_gb : float or array_like
        Retail data price, >= 0. A price of 0 gives a share of 1. [USD per GB]
    median_income_usd_per_month : float or array_like
        Median of the per-person income distribution, > 0. [USD per month]
    income_sigma : float or array_like
        Standard deviation of log income, > 0 (see :func:`lognormal_sigma_from_gini`). [-]
    bundle_gb : float or array_like, keyword-only
        Size of the entry bundle, > 0. [GB per month]
    threshold_share : float or array_like, keyword-only
        Largest share of monthly income a person spends on the bundle, in (0, 1]. [-]

    Returns
    -------
    float or ndarray
        Share of people who can afford the bundle, in [0, 1]. [-]
        Non-increasing in price and bundle size; non-decreasing in income and threshold.
    """
    price = _check("price_usd_per_gb", price_usd_per_gb, 0.0)
    median = _check("median_income_usd_per_month", median_income_usd_per_month, 0.0, lo_open=True)
    sigma = _check("income_sigma", income_sigma, 0.0, lo_open=True)
    gb = _check("bundle_gb", bundle_gb, 0.0, lo_open=True)
    theta = _check("threshold_share", threshold_share, 0.0, 1.0, lo_open=True)
    income_needed = price * gb / theta
    return _ret(stats.lognorm.sf(income_needed, s=sigma, scale=median))


def skills_share(baseline_share, people_trained=0.0, adult_population=1.0, *,
                 max_share=1.0, training_effectiveness=1.0):
    """Share of adults with the digital skills to use mobile internet.

    Training raises the baseline by the trained share of adults, up to a cap:

    .. math:: k = \\max\\left(k_0,\\ \\min\\left(k_0 + e\\,\\frac{N_{trained}}{N_{adults}},\\ k_{max}\\right)\\right)

    Trainees are assumed to come from the people without skills (so one place adds one
    skilled adult, times the effectiveness). The cap stands for people training cannot reach
    (e.g. illiteracy, age); it never lowers a baseline that is already above it.

    Parameters
    ----------
    baseline_share : float or array_like
        Share with basic digital skills before training, in [0, 1]. [-]
    people_trained : float or array_like
        Training places delivered, >= 0. [people]
    adult_population : float or array_like
        Adults in the area, > 0. [people]
    max_share : float or array_like, keyword-only
        Cap on the share reachable through training, in [0, 1]. [-]
    training_effectiveness : float or array_like, keyword-only
        Share of trainees who end up with usable skills, in [0, 1]. [-]

    Returns
    -------
    float or ndarray
        Skills share in [0, 1]; non-decreasing in ``people_trained``. [-]
    """
    k0 = _check("baseline_share", baseline_share, 0.0, 1.0)
    trained = _check("people_trained", people_trained, 0.0)
    adults = _check("adult_population", adult_population, 0.0, lo_open=True)
    cap = _check("max_share", max_share, 0.0, 1.0)
    eff = _check("training_effectiveness", training_effectiveness, 0.0, 1.0)
    raised = np.minimum(k0 + eff * trained / adults, cap)
    return _ret(np.maximum(k0, raised))


def adoption_potential(handset, affordable, skills, relevance=1.0, *, combine="independent"):
    """Ultimate share of covered people who become connected users.

    Parameters
    ----------
    handset, affordable, skills : float or array_like
        Shares from :func:`handset_share`, :func:`affordability_share`, :func:`skills_share`,
        each in [0, 1]. [-]
    relevance : float or array_like
        Share of people who see a reason to use mobile internet (content in their language,
        services they need), in [0, 1]; 1 (default) leaves it out. GSMA's consumer surveys
        name it among the main barriers after skills and affordability. [-]
    combine : {"independent", "nested"}, keyword-only
        ``"independent"``: the barriers are independent, potential is their product
        (a lower bound when the barriers hit the same people). ``"nested"``: the barriers
        hit the same people (the poorest lack phone, money and skills together), potential
        is the smallest share (an upper bound). Reality lies between the two.

    Returns
    -------
    float or ndarray
        Potential share in [0, 1], non-decreasing in each input. [-]
    """
    h = _check("handset_share", handset, 0.0, 1.0)
    a = _check("affordability_share", affordable, 0.0, 1.0)
    k = _check("skills_share", skills, 0.0, 1.0)
    r = _check("relevance_share", relevance, 0.0, 1.0)
    if combine == "independent":
        out = h * a * k * r
    elif combine == "nested":
        out = np.minimum(np.minimum(np.minimum(h, a), k), r)
    else:
        raise ValueError(f"combine={combine!r} is not allowed; use 'independent' or 'nested'")
    return _ret(out)


def binding_barrier(handset, affordable, skills, relevance=1.0):
    """Index into :data:`BARRIERS` of the smallest share (ties: the first in that order).

    Under ``combine="nested"`` this barrier alone sets the potential: raising any other
    changes nothing until it rises above the binding one. Under ``"independent"`` every
    barrier counts; the smallest is the one whose relative rise helps most.

    Parameters
    ----------
    handset, affordable, skills, relevance : float or array_like
        Shares in [0, 1], broadcast together. [-]

    Returns
    -------
    int or ndarray of int
        0 handset, 1 affordability, 2 skills, 3 relevance; broadcast shape.
    """
    arrs = np.broadcast_arrays(_check("handset_share", handset, 0.0, 1.0),
                               _check("affordability_share", affordable, 0.0, 1.0),
                               _check("skills_share", skills, 0.0, 1.0),
                               _check("relevance_share", relevance, 0.0, 1.0))
    out = np.argmin(np.stack(arrs, axis=0), axis=0)
    return int(out) if np.ndim(out) == 0 else out


def price_for_affordability(target_share, median_income_usd_per_month, income_sigma, *,
                            bundle_gb=1.0, threshold_share=0.02):
    """Highest data price at which ``target_share`` of people can afford the entry bundle.

    Inverse of :func:`affordability_share` in the price: with :math:`z = \\Phi^{-1}(1-A)`,

    .. math:: p^* = \\frac{\\theta\\, m\\, e^{\\sigma z}}{\\text{gb}}

    Parameters
    ----------
    target_share : float or array_like
        Affordability share wanted, in (0, 1). [-]
    median_income_usd_per_month, income_sigma, bundle_gb, threshold_share
        As in :func:`affordability_share`.

    Returns
    -------
    float or ndarray
        Price [USD per GB]; ``affordability_share(p*, ...) == target_share``.
    """
    a = _check("target_share", target_share, 0.0, 1.0, lo_open=True, hi_open=True)
    median = _check("median_income_usd_per_month", median_income_usd_per_month, 0.0, lo_open=True)
    sigma = _check("income_sigma", income_sigma, 0.0, lo_open=True)
    gb = _check("bundle_gb", bundle_gb, 0.0, lo_open=True)
    theta = _check("threshold_share", threshold_share, 0.0, 1.0, lo_open=True)
    z = special.ndtri(1.0 - a)
    return _ret(theta * median * np.exp(sigma * z) / gb)


def income_for_affordability(target_share, price_usd_per_gb, income_sigma, *, bundle_gb=1.0,
                             threshold_share=0.02):
    """Lowest median income at which ``target_share`` of people can afford the entry bundle.

    Inverse of :func:`affordability_share` in the median income:

    .. math:: m^* = \\frac{p\\,\\text{gb}/\\theta}{e^{\\sigma z}}, \\quad z = \\Phi^{-1}(1-A)

    Parameters
    ----------
    target_share : float or array_like
        Affordability share wanted, in (0, 1). [-]
    price_usd_per_gb : float or array_like
        Data price, > 0 (at price 0 every income affords it). [USD per GB]
    income_sigma, bundle_gb, threshold_share
        As in :func:`affordability_share`.

    Returns
    -------
    float or ndarray
        Median income [USD per month].
    """
    a = _check("target_share", target_share, 0.0, 1.0, lo_open=True, hi_open=True)
    price = _check("price_usd_per_gb", price_usd_per_gb, 0.0, lo_open=True)
    sigma = _check("income_sigma", income_sigma, 0.0, lo_open=True)
    gb = _check("bundle_gb", bundle_gb, 0.0, lo_open=True)
    theta = _check("threshold_share", threshold_share, 0.0, 1.0, lo_open=True)
    z = special.ndtri(1.0 - a)
    return _ret(price * gb / theta / np.exp(sigma * z))


def training_places_for_skills(target_share, baseline_share, adult_population, *,
                               max_share=1.0, training_effectiveness=1.0):
    """Training places that lift the skills share to ``target_share`` (inverse of
    :func:`skills_share`): :math:`N = (k^* - k_0)\\, N_{adults} / e`.

    Parameters
    ----------
    target_share : float or array_like
        Skills share wanted, in [0, 1]. [-]
    baseline_share, adult_population, max_share, training_effectiveness
        As in :func:`skills_share`.

    Returns
    -------
    float or ndarray
        Places [people]: 0 when the baseline already reaches the target; ``inf`` when the
        target is above ``max_share`` or the effectiveness is 0 (training cannot get there).
    """
    t = _check("target_share", target_share, 0.0, 1.0)
    k0 = _check("baseline_share", baseline_share, 0.0, 1.0)
    adults = _check("adult_population", adult_population, 0.0, lo_open=True)
    cap = _check("max_share", max_share, 0.0, 1.0)
    eff = _check("training_effectiveness", training_effectiveness, 0.0, 1.0)
    need = np.maximum(t - k0, 0.0) * adults
    with np.errstate(divide="ignore", invalid="ignore"):
        places = np.where(need > 0, need / eff, 0.0)
    places = np.where((t > cap + 1e-12) & (t > k0), np.inf, places)
    return _ret(places)


def income_density_factor(density_per_km2, reference_density_per_km2, *, elasticity):
    """Income relative to a reference place, from the population density around it.

    .. math:: \\frac{m}{m_{ref}} = \\left(\\frac{D}{D_{ref}}\\right)^{\\varepsilon}

    A constant-elasticity agglomeration relation: nominal incomes rise with the density of
    people around a place. The World Bank's review of agglomeration estimates puts the
    elasticity of nominal wages with respect to density at around 0.17 for six African
    countries (Ethiopia, Ghana, Malawi, Nigeria, Tanzania, Uganda; Henderson, Nigmatulina and
    Kriticos 2019), 0.04-0.05 in advanced economies.

    Parameters
    ----------
    density_per_km2 : float or array_like
        People per km2 around the place, >= 0; 0 is treated as the smallest positive density
        of the input (a place with nobody near it still has someone), and a density below a
        millionth of the reference as that millionth (so the factor stays > 0). [1/km2]
    reference_density_per_km2 : float
        Density at which the factor is 1, > 0. [1/km2]
    elasticity : float, keyword-only
        In [0, 1]; 0 gives 1 everywhere. [-]

    Returns
    -------
    float or ndarray
        Factor > 0, non-decreasing in the density. [-]
    """
    d = _check("density_per_km2", density_per_km2, 0.0)
    ref = _check("reference_density_per_km2", reference_density_per_km2, 0.0, lo_open=True)
    e = _check("elasticity", elasticity, 0.0, 1.0)
    pos = d[d > 0]
    floor = float(pos.min()) if pos.size else float(ref)
    ratio = np.maximum(np.maximum(d, floor) / ref, 1e-6)
    return _ret(ratio ** e)


# --------------------------------------------------------------------------------------
# diffusion over time
# --------------------------------------------------------------------------------------

def bass_cumulative(t_years, p, q):
    """Bass (1969) diffusion: share of the ultimate potential adopted by time t.

    Closed-form solution of :math:`f/(1-F) = p + qF`, :math:`F(0)=0`
    (Bass, F. M., "A New Product Growth Model for Consumer Durables",
    *Management Science* 15(5), 1969, eq. (7)):

    .. math:: F(t) = \\frac{1 - e^{-(p+q)t}}{1 + (q/p)\\,e^{-(p+q)t}}

    Parameters
    ----------
    t_years : float or array_like
        Time since coverage arrived, >= 0. [years]
    p : float or array_like
        Coefficient of innovation (external influence), > 0. [1/year]
    q : float or array_like
        Coefficient of imitation (word of mouth), >= 0. [1/year]

    Returns
    -------
    float or ndarray
        F(t) in [0, 1), increasing in t, p and q. [-]
    """
    t = _check("t_years", t_years, 0.0)
    p_ = _check("p", p, 0.0, lo_open=True)
    q_ = _check("q", q, 0.0)
    e = np.exp(-(p_ + q_) * t)
    return _ret((1.0 - e) / (1.0 + (q_ / p_) * e))


def logistic_cumulative(t_years, growth_rate_per_year, midpoint_year, *, start_at_zero=True):
    """Logistic (S-curve) diffusion: share of the ultimate potential adopted by time t.

    .. math:: L(t) = \\frac{1}{1 + e^{-k (t - t_0)}}

    With ``start_at_zero`` (default) the curve is rescaled so nobody is connected when
    coverage arrives: :math:`F(t) = (L(t) - L(0)) / (1 - L(0))`, which still tends to 1.

    Parameters
    ----------
    t_years : float or array_like
        Time since coverage arrived, >= 0. [years]
    growth_rate_per_year : float or array_like
        Steepness k, > 0. [1/year]
    midpoint_year : float or array_like
        Time t0 of fastest growth, >= 0. [years]
    start_at_zero : bool, keyword-only
        Rescale so that F(0) = 0.

    Returns
    -------
    float or ndarray
        F(t) in [0, 1), non-decreasing in t. [-]
    """
    t = _check("t_years", t_years, 0.0)
    k = _check("growth_rate_per_year", growth_rate_per_year, 0.0, lo_open=True)
    t0 = _check("midpoint_year", midpoint_year, 0.0)
    lt = special.expit(k * (t - t0))
    if start_at_zero:
        l0 = special.expit(-k * t0)
        lt = (lt - l0) / (1.0 - l0)
    return _ret(lt)


def connected_fraction_by_year(horizon_years, potential_share, *, curve="bass",
                               p=0.03, q=0.38, growth_rate_per_year=1.0, midpoint_year=3.0):
    """Share of covered people connected at the end of each year 1..horizon.

    .. math:: c(t) = \\text{potential} \\times F(t), \\quad t = 1, \\dots, n

    Parameters
    ----------
    horizon_years : int
        Number of years, >= 1.
    potential_share : float or array_like
        Ultimate share from :func:`adoption_potential`, in [0, 1]; shape ``S``. [-]
    curve : {"bass", "logistic"}, keyword-only
        Diffusion curve.
    p, q : float, keyword-only
        Bass coefficients (``curve="bass"``), see :func:`bass_cumulative`. [1/year]
    growth_rate_per_year, midpoint_year : float, keyword-only
        Logistic parameters (``curve="logistic"``), see :func:`logistic_cumulative`.

    Returns
    -------
    ndarray
        Shape ``S + (horizon_years,)``; values in [0, potential]. [-]
    """
    n = _check_horizon(horizon_years)
    pot = _check("potential_share", potential_share, 0.0, 1.0)
    t = np.arange(1, n + 1, dtype=np.float64)
    if curve == "bass":
        f = np.asarray(bass_cumulative(t, p, q))
    elif curve == "logistic":
        f = np.asarray(logistic_cumulative(t, growth_rate_per_year, midpoint_year))
    else:
        raise ValueError(f"curve={curve!r} is not allowed; use 'bass' or 'logistic'")
    return pot[..., None] * f


def connected_people_by_year(covered_people, fraction_by_year):
    """People connected each year: ``covered_people[..., None] * fraction_by_year``.

    Parameters
    ----------
    covered_people : float or array_like
        People covered (e.g. per site), >= 0; shape ``S``. [people]
    fraction_by_year : array_like
        From :func:`connected_fraction_by_year`, values in [0, 1]; shape broadcastable to
        ``S + (n_years,)``. [-]

    Returns
    -------
    ndarray
        Connected people, shape ``S + (n_years,)``; never more than ``covered_people``.
        Not rounded (expected values). [people]
    """
    cov = _check("covered_people", covered_people, 0.0)
    frac = _check("fraction_by_year", fraction_by_year, 0.0, 1.0)
    return cov[..., None] * frac


class AdoptionResult(NamedTuple):
    """Result of :func:`connected_people`. Shapes: ``S`` = broadcast shape of the inputs."""

    handset_share: np.ndarray       #: [-], shape S
    affordability_share: np.ndarray  #: [-], shape S
    skills_share: np.ndarray        #: [-], shape S
    potential_share: np.ndarray     #: [-], shape S
    fraction_by_year: np.ndarray    #: [-], shape S + (horizon,)
    people_by_year: np.ndarray      #: [people], shape S + (horizon,)


def connected_people(covered_people, *, horizon_years, price_usd_per_gb,
                     median_income_usd_per_month, income_sigma, smartphone_share,
                     basic_phone_share=0.0, basic_phone_weight=0.0, bundle_gb=1.0,
                     threshold_share=0.02, skills_baseline_share=0.5, people_trained=0.0,
                     adult_population=None, skills_max_share=1.0,
                     training_effectiveness=1.0, combine="independent", curve="bass",
                     p=0.03, q=0.38, growth_rate_per_year=1.0, midpoint_year=3.0):
    """Covered people -> connected people per year, combining all barriers and diffusion.

    ``potential = handset x affordable x skills`` (or their minimum, ``combine="nested"``),
    ``connected(t) = covered x potential x F(t)`` for t = 1..horizon.

    Parameters
    ----------
    covered_people : float or array_like
        People covered, >= 0 (e.g. one value per site). [people]
    horizon_years : int, keyword-only
        Years to simulate, >= 1.
    adult_population : float or array_like, optional, keyword-only
        Adults among the covered, for the training uplift. Defaults to ``covered_people``
        (then zero covered people gives no uplift, not an error).
    other parameters
        See :func:`handset_share`, :func:`affordability_share`, :func:`skills_share`,
        :func:`adoption_potential`, :func:`connected_fraction_by_year`.

    Returns
    -------
    AdoptionResult
        Shares and the connected people per year (last axis = year). Monotone: a lower
        price, a higher income or more training never gives fewer connected people, and
        connected never exceeds covered.
    """
    cov = _check("covered_people", covered_people, 0.0)
    h = np.asarray(handset_share(smartphone_share, basic_phone_share,
                                 basic_phone_weight=basic_phone_weight))
    a = np.asarray(affordability_share(price_usd_per_gb, median_income_usd_per_month,
                                       income_sigma, bundle_gb=bundle_gb,
                                       threshold_share=threshold_share))
    if adult_population is None:
        adults = np.where(cov > 0, cov, 1.0)  # no people -> no uplift needed; avoid 0/0
        trained = _check("people_trained", people_trained, 0.0)
        trained = np.where(cov > 0, trained, 0.0)
    else:
        adults = adult_population
        trained = people_trained
    k = np.asarray(skills_share(skills_baseline_share, trained, adults,
                                max_share=skills_max_share,
                                training_effectiveness=training_effectiveness))
    pot = np.asarray(adoption_potential(h, a, k, combine=combine))
    frac = connected_fraction_by_year(horizon_years, pot, curve=curve, p=p, q=q,
                                      growth_rate_per_year=growth_rate_per_year,
                                      midpoint_year=midpoint_year)
    people = connected_people_by_year(cov, frac)
    return AdoptionResult(h, a, k, pot, frac, people)
