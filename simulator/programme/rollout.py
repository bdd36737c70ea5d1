"""Rollout by year and the viability gap of a national programme of sites.

Pure, vectorised models (no I/O) on per-site arrays, built on
:mod:`simulator.business.economics` and :mod:`simulator.business.adoption`:

``schedule_builds``     the year each site is built, in priority order, under a yearly
                        capex (and optionally opex) budget (first fit)
``schedule_reasons``    why a site of a schedule is not built
``rollout``             users, costs, revenue and NPV per site and per year of a schedule
``viability_gap_usd``   the subsidy that brings a site's NPV to zero: ``max(-NPV, 0)``

Year convention (as :mod:`simulator.business.economics`)
--------------------------------------------------------
Years are points 0..H of the programme, H = ``horizon_years``. A site built in year b pays
its capex at t = b; its opex and revenue fall at the end of each later year t = b+1..H;
its users at t are ``covered x potential x F(t - b)`` (F the diffusion curve, F(0) = 0),
so nobody is connected at t = b. Everything is discounted to year 0 by
:math:`(1+r)^{-t}`. A site built in year 0 therefore has exactly the NPV of
:func:`simulator.business.economics.npv_usd` over n = H years. The horizon is the
programme's, not the site's: a site built in year b earns over H - b years and no value is
counted after H (no terminal value), so late sites look worse than they would over a
lifetime of their own.

Valid ranges are checked at the boundary; a value outside raises ``ValueError`` naming the
parameter and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._checks import check_horizon as _check_horizon
from .._checks import check_range as _check
from ..business import adoption as ad
from ..business import economics as ec

__all__ = ["NOT_BUILT", "REASONS", "Rollout", "rollout", "schedule_builds",
           "schedule_reasons", "viability_gap_usd"]

#: Build year of a site that is not built within the schedule.
NOT_BUILT = -1

#: Reasons :func:`schedule_reasons` gives for a site that is not built ("" when it is).
REASONS = ("capex_above_annual_budget", "capex_above_total_budget",
           "opex_above_opex_budget", "budget_exhausted")


# --------------------------------------------------------------------------------------
# checks (private)
# --------------------------------------------------------------------------------------

def _years(name: str, value) -> int:
    """A whole number of years >= 1 (the horizon check, under this parameter's name)."""
    try:
        return _check_horizon(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not allowed; use a whole number of years "
                         ">= 1") from None


def _per_site(name: str, value, n: int, lo=None, hi=None) -> np.ndarray:
    """A finite float array of shape (n,) (scalars broadcast) within [lo, hi]."""
    arr = _check(name, value, lo, hi, finite=True)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
        raise ValueError(f"{name} has shape {arr.shape}; allowed: a scalar or one value per "
                         f"site, shape ({n},)")
    return np.broadcast_to(arr, (n,)).astype(np.float64)


def _budget(name: str, value) -> float:
    arr = _check(name, value, 0.0, finite=True)
    if arr.ndim:
        raise ValueError(f"{name} has shape {arr.shape}; allowed: one number [USD/year]")
    return float(arr)


def _order(order, n: int) -> np.ndarray:
    o = np.asarray(order)
    if o.size == 0 and n == 0:
        return np.zeros(0, dtype=np.int64)
    if o.ndim != 1 or o.shape[0] != n or not np.issubdtype(o.dtype, np.integer):
        raise ValueError(f"order must be {n} integer site indices (a permutation of "
                         f"0..{n - 1}), got shape {o.shape} dtype {o.dtype}")
    if n and not np.array_equal(np.sort(o), np.arange(n)):
        raise ValueError(f"order is not a permutation of 0..{n - 1}: each site index must "
                         "appear exactly once")
    return o.astype(np.int64)


# --------------------------------------------------------------------------------------
# scheduling
# --------------------------------------------------------------------------------------

def schedule_builds(order, capex_usd, opex_usd_per_year, *, annual_capex_usd,
                    annual_opex_usd=None, n_years, carry_over=False) -> np.ndarray:
    """The year each site is built under a yearly budget, sites taken in priority order.

    First fit, year by year: in year y = 0, 1, ..., ``n_years`` - 1 the sites not yet built
    are taken in ``order``; a site is built in y when its capex fits in what is left of the
    year's capex budget and (with ``annual_opex_usd``) the yearly opex of every site built
    so far, itself included, stays within the opex budget. A site that does not fit waits
    for the next year, and later sites in the order may still fill the remainder of this
    year (so the order is a priority, not a strict queue). Without ``carry_over`` a site
    whose capex is above the whole ``annual_capex_usd`` is never built; with it, unspent
    budget moves to the next year, so such a site is built once enough has been saved
    (the sites after it keep spending meanwhile: first fit saves only what they leave).
    :func:`schedule_reasons` says why a site is not built.

    Parameters
    ----------
    order : array_like of int, shape (n,)
        Site indices, highest priority first (e.g. sorted by people per dollar); a
        permutation of 0..n-1.
    capex_usd : array_like, shape (n,)
        Capex of each site, >= 0. [USD]
    opex_usd_per_year : array_like, shape (n,)
        Yearly running cost of each site, >= 0. [USD/year]
    annual_capex_usd : float, keyword-only
        New capex allowed in each year, >= 0. [USD/year]
    annual_opex_usd : float, optional, keyword-only
        Ceiling on the yearly opex of all sites built so far, >= 0; None: no ceiling.
        [USD/year]
    n_years : int, keyword-only
        Build years 0..n_years-1, >= 1. [years]
    carry_over : bool, keyword-only
        Unspent capex budget is added to the next year's.

    Returns
    -------
    ndarray of int64, shape (n,)
        Build year of each site (in site order, not priority order), or
        :data:`NOT_BUILT` (-1) when it is not built within ``n_years``. In every year the
        capex of the sites built is at most the budget (plus what was carried over). [years]
    """
    capex = np.asarray(_check("capex_usd", capex_usd, 0.0, finite=True), dtype=np.float64)
    if capex.ndim != 1:
        raise ValueError(f"capex_usd has shape {capex.shape}; allowed: one value per site")
    n = capex.shape[0]
    opex = _per_site("opex_usd_per_year", opex_usd_per_year, n, 0.0)
    o = _order(order, n)
    budget = _budget("annual_capex_usd", annual_capex_usd)
    opex_cap = None if annual_opex_usd is None else _budget("annual_opex_usd", annual_opex_usd)
    years = _years("n_years", n_years)

    build = np.full(n, NOT_BUILT, dtype=np.int64)
    pending = [int(i) for i in o]
    cap_list, opex_list = capex.tolist(), opex.tolist()
    carried = 0.0
    running_opex = 0.0
    for y in range(years):
        available = budget + carried
        spent = 0.0
        left = []
        for i in pending:
            c = cap_list[i]
            fits = spent + c <= available
            if fits and opex_cap is not None:
                fits = running_opex + opex_list[i] <= opex_cap
            if fits:
                build[i] = y
                spent += c
                running_opex += opex_list[i]
            else:
                left.append(i)
        pending = left
        carried = (available - spent) if carry_over else 0.0
        if not pending:
            break
    return build


def schedule_reasons(build_year, capex_usd, opex_usd_per_year, *, annual_capex_usd,
                     annual_opex_usd=None, n_years, carry_over=False) -> np.ndarray:
    """Why each site of a :func:`schedule_builds` schedule is not built.

    Parameters
    ----------
    build_year : array_like of int, shape (n,)
        From :func:`schedule_builds` with the same other arguments.
    capex_usd, opex_usd_per_year, annual_capex_usd, annual_opex_usd, n_years, carry_over
        As given to :func:`schedule_builds`.

    Returns
    -------
    ndarray of str, shape (n,)
        ``""`` for a built site, else the first that applies of :data:`REASONS`:
        ``capex_above_annual_budget`` (capex above one year's budget, no carry-over: never
        fits), ``capex_above_total_budget`` (with carry-over, above the budget of all
        ``n_years``), ``opex_above_opex_budget`` (its own opex is above the opex ceiling),
        ``budget_exhausted`` (it would fit, but the years ran out before its turn).
    """
    b = np.asarray(build_year)
    capex = np.asarray(_check("capex_usd", capex_usd, 0.0, finite=True), dtype=np.float64)
    n = capex.shape[0] if capex.ndim == 1 else -1
    if b.ndim != 1 or b.shape[0] != n or not np.issubdtype(b.dtype, np.integer):
        raise ValueError(f"build_year must be one integer per site, shape ({max(n, 0)},), "
                         f"got shape {b.shape} dtype {b.dtype}")
    opex = _per_site("opex_usd_per_year", opex_usd_per_year, n, 0.0)
    budget = _budget("annual_capex_usd", annual_capex_usd)
    opex_cap = None if annual_opex_usd is None else _budget("annual_opex_usd", annual_opex_usd)
    years = _years("n_years", n_years)
    out = np.full(n, "", dtype=object)
    unbuilt = b == NOT_BUILT
    out[unbuilt] = "budget_exhausted"
    if opex_cap is not None:
        out[unbuilt & (opex > opex_cap)] = "opex_above_opex_budget"
    if carry_over:
        out[unbuilt & (capex > budget * years)] = "capex_above_total_budget"
    else:
        out[unbuilt & (capex > budget)] = "capex_above_annual_budget"
    return out


# --------------------------------------------------------------------------------------
# rollout
# --------------------------------------------------------------------------------------

def viability_gap_usd(npv_usd) -> np.ndarray:
    """Subsidy that brings each site's NPV to zero: ``max(-NPV, 0)``. [USD]

    Parameters
    ----------
    npv_usd : float or array_like
        Net present value per site (any sign). [USD]

    Returns
    -------
    ndarray
        0 where the site is profitable (NPV >= 0), -NPV otherwise; NaN propagates. Same
        shape as the input. In the present-value dollars of the NPV (year 0 for
        :func:`rollout`): paid in the build year b it is ``gap * (1+r)**b``. [USD]
    """
    npv = _check("npv_usd", npv_usd)
    with np.errstate(invalid="ignore"):
        return np.where(npv < 0, -npv, np.where(np.isnan(npv), np.nan, 0.0))


@dataclass(frozen=True)
class Rollout:
    """Users, costs and returns of a programme of sites built over the years.

    Year axis: t = 0..H (``years``), year 0 the first build year; per-year totals count
    each amount in the year it falls (capex at the build year, opex and revenue at the end
    of the later years).

    Attributes
    ----------
    years : ndarray of int, shape (H+1,)
    build_year : ndarray of int, shape (n,)
        -1: not built (contributes nothing).
    users_by_year : ndarray, shape (n, H+1)
        Connected users of each site [people] (expected values, not rounded).
    covered_by_year, connected_by_year : ndarray, shape (H+1,)
        People covered by the sites built so far / connected [people]: sums of the sites'
        marginal people, so no double count when the caller made them disjoint.
    capex_by_year, opex_by_year, revenue_by_year, cash_flow_by_year : ndarray, shape (H+1,)
        Undiscounted; cash flow = revenue - opex - capex. [USD]
    site_npv_usd : ndarray, shape (n,)
        NPV of each site discounted to year 0 (0 for an unbuilt site). [USD]
    npv_usd : float
        Programme NPV: the sum of the sites'. [USD]
    viability_gap_usd : ndarray, shape (n,)
        ``max(-site_npv, 0)``, the year-0 subsidy that makes each site break even. [USD]
    subsidy_usd : float
        Sum of the gaps. [USD]
    discount_rate : float
    """

    years: np.ndarray
    build_year: np.ndarray
    users_by_year: np.ndarray
    covered_by_year: np.ndarray
    connected_by_year: np.ndarray
    capex_by_year: np.ndarray
    opex_by_year: np.ndarray
    revenue_by_year: np.ndarray
    cash_flow_by_year: np.ndarray
    site_npv_usd: np.ndarray
    npv_usd: float
    viability_gap_usd: np.ndarray
    subsidy_usd: float
    discount_rate: float = 0.0

    def table(self) -> list[dict]:
        """One row per year (for ``rollout.csv``): ``year``, ``sites_built``,
        ``sites_on_air``, ``people_covered``, ``people_connected`` (whole people),
        ``capex_usd``, ``opex_usd``, ``revenue_usd``, ``cash_flow_usd``,
        ``discounted_cash_flow_usd`` (cash flow x (1+r)^-t), ``cumulative_cash_flow_usd``
        (money rounded to cents)."""
        built = self.build_year[self.build_year >= 0]
        df = (1.0 + self.discount_rate) ** (-self.years.astype(np.float64))
        cum = np.cumsum(self.cash_flow_by_year)
        rows = []
        for t in self.years.tolist():
            rows.append({
                "year": t,
                "sites_built": int(np.sum(built == t)),
                "sites_on_air": int(np.sum(built <= t)),
                "people_covered": round(float(self.covered_by_year[t])),
                "people_connected": round(float(self.connected_by_year[t])),
                "capex_usd": round(float(self.capex_by_year[t]), 2),
                "opex_usd": round(float(self.opex_by_year[t]), 2),
                "revenue_usd": round(float(self.revenue_by_year[t]), 2),
                "cash_flow_usd": round(float(self.cash_flow_by_year[t]), 2),
                "discounted_cash_flow_usd": round(float(self.cash_flow_by_year[t] * df[t]), 2),
                "cumulative_cash_flow_usd": round(float(cum[t]), 2),
            })
        return rows


def rollout(build_year, people_covered, potential_share, capex_usd, opex_usd_per_year, *,
            arpu_usd_per_month, horizon_years, discount_rate, curve="bass",
            curve_params: Mapping | None = None) -> Rollout:
    """Users, costs, revenue and NPV per site and year of a build schedule.

    .. math::
        U_i(t) = P_i\\, c_i(t - b_i)\\ (t \\ge b_i),\\ 0\\ \\text{before}; \\qquad
        NPV_i = -\\frac{C_i}{(1+r)^{b_i}} + \\sum_{t=b_i+1}^{H}
        \\frac{12\\,ARPU\\,U_i(t) - O_i}{(1+r)^t}

    with :math:`c_i(k)` = :func:`simulator.business.adoption.connected_fraction_by_year`
    (potential x F(k), c(0) = 0). Computed as :math:`(1+r)^{-b_i}` times
    :func:`simulator.business.economics.npv_usd` over the site's own years, so a site
    built in year 0 gets exactly ``economics.npv_usd``.

    Parameters
    ----------
    build_year : array_like of int, shape (n,)
        From :func:`schedule_builds`: 0..H, or -1 for a site not built (it contributes
        nothing). [years]
    people_covered : array_like, shape (n,)
        People each site adds (MARGINAL: the caller makes the sites' people disjoint),
        >= 0. [people]
    potential_share : float or array_like, shape (n,)
        Ultimate share of covered people who connect, in [0, 1]. [-]
    capex_usd : float or array_like, shape (n,)
        >= 0. [USD]
    opex_usd_per_year : float or array_like, shape (n,)
        >= 0. [USD/year]
    arpu_usd_per_month : float, keyword-only
        Revenue per user, >= 0; revenue = 12 x ARPU x users. [USD/month]
    horizon_years : int, keyword-only
        H >= 1: years 0..H. [years]
    discount_rate : float, keyword-only
        In [0, 1]. [-]
    curve : {"bass", "logistic"}, keyword-only
    curve_params : mapping, optional, keyword-only
        ``p``, ``q`` (Bass) or ``growth_rate_per_year``, ``midpoint_year`` (logistic), as
        :func:`simulator.business.adoption.connected_fraction_by_year`; default its defaults.

    Returns
    -------
    Rollout
    """
    b = np.asarray(build_year)
    if b.ndim != 1 or not (np.issubdtype(b.dtype, np.integer) or b.size == 0):
        raise ValueError(f"build_year must be one integer per site (shape (n,)), got shape "
                         f"{b.shape} dtype {b.dtype}")
    b = b.astype(np.int64)
    n = b.shape[0]
    h = _years("horizon_years", horizon_years)
    if n and (b.min() < NOT_BUILT or b.max() > h):
        bad = int(b[(b < NOT_BUILT) | (b > h)][0])
        raise ValueError(f"build_year={bad} is outside the allowed range [0, {h}] "
                         f"(horizon_years) or -1 (not built)")
    cov = _per_site("people_covered", people_covered, n, 0.0)
    pot = _per_site("potential_share", potential_share, n, 0.0, 1.0)
    capex = _per_site("capex_usd", capex_usd, n, 0.0)
    opex = _per_site("opex_usd_per_year", opex_usd_per_year, n, 0.0)
    arpu = float(_check("arpu_usd_per_month", arpu_usd_per_month, 0.0, finite=True))
    rate = float(_check("discount_rate", discount_rate, 0.0, 1.0, finite=True))
    params = dict(curve_params or {})
    allowed = {"p", "q", "growth_rate_per_year", "midpoint_year"}
    if set(params) - allowed:
        raise ValueError(f"curve_params has {sorted(set(params) - allowed)}; allowed keys: "
                         f"{sorted(allowed)}")

    built = b >= 0
    # c(k) for k = 0..H, c(0) = 0 (the same product potential x F as the run)
    frac = np.asarray(ad.connected_fraction_by_year(h, pot, curve=curve, **params),
                      dtype=np.float64).reshape(n, h)
    frac0 = np.concatenate([np.zeros((n, 1)), frac], axis=1)          # (n, H+1)
    years = np.arange(h + 1, dtype=np.int64)
    k = years[None, :] - b[:, None]                                   # years since build
    on = built[:, None] & (k >= 0)
    shifted = np.take_along_axis(frac0, np.clip(k, 0, h), axis=1)
    users = np.where(on, cov[:, None] * shifted, 0.0)

    capex_t = np.zeros(h + 1)
    np.add.at(capex_t, b[built], capex[built])
    running = built[:, None] & (k >= 1)                               # opex after the build
    opex_t = np.sum(np.where(running, opex[:, None], 0.0), axis=0)
    revenue_t = 12.0 * arpu * users.sum(axis=0)
    cash_t = revenue_t - opex_t - capex_t

    site_npv = np.zeros(n)
    for year in np.unique(b[built]).tolist():
        m = b == year
        disc = (1.0 + rate) ** (-year)
        if year < h:
            own = np.asarray(ec.npv_usd(capex[m], opex[m], users[m, year + 1:], arpu, rate),
                             dtype=np.float64).reshape(-1)
        else:                                   # built in the last year: capex only
            own = -capex[m]
        site_npv[m] = disc * own
    gap = viability_gap_usd(site_npv)
    return Rollout(
        years=years, build_year=b, users_by_year=users,
        covered_by_year=np.sum(np.where(on, cov[:, None], 0.0), axis=0),
        connected_by_year=users.sum(axis=0), capex_by_year=capex_t, opex_by_year=opex_t,
        revenue_by_year=revenue_t, cash_flow_by_year=cash_t, site_npv_usd=site_npv,
        npv_usd=float(site_npv.sum()), viability_gap_usd=gap, subsidy_usd=float(gap.sum()),
        discount_rate=rate)
