"""Costs and returns of rural sites: capex, opex, TCO, NPV, payback, cost per person.

Pure, vectorised models (no I/O), except :func:`load_cost_catalogue`, which reads the
packaged default-parameter catalogue ``simulator/data/costs.yaml``.

Conventions
-----------
* Capex is paid at the start (year 0); opex and revenue fall at the end of each year
  t = 1..n and are discounted by :math:`(1+r)^{-t}` ("ordinary annuity").
* Amounts are in US dollars of one price year; the discount rate is a real rate if the
  amounts are constant prices.
* Broadcasting: per-site arguments have shape ``S`` (any shape, usually ``(n_sites,)``);
  arguments with a year axis have shape ``S + (n_years,)`` with the year LAST.

Valid ranges are checked at the boundary; values outside raise ``ValueError`` naming the
parameter, the value and the allowed range. NaN inputs propagate.

References
----------
Brealey, Myers & Allen, *Principles of Corporate Finance*, ch. 2-3 (present value of an
annuity, :math:`PV = C\\,[1-(1+r)^{-n}]/r`; net present value).
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Mapping

import numpy as np

from .._checks import check_horizon as _check_horizon
from .._checks import check_range as _check
from .._checks import scalar_or_array as _ret
import yaml

__all__ = [
    "annuity_factor",
    "capex_usd",
    "cash_flows_usd",
    "cost_per_person_usd",
    "discount_factors",
    "load_cost_catalogue",
    "marginal_cost_per_person_usd",
    "npv_usd",
    "opex_usd_per_year",
    "payback_year",
    "present_value_usd",
    "station_capex_usd",
    "station_opex_usd_per_year",
    "tco_usd",
]


# --------------------------------------------------------------------------------------
# validation helpers (private)
# --------------------------------------------------------------------------------------

def _strip_sources(node):
    """Replace every ``{value: x, source: ...}`` leaf by ``x``."""
    if isinstance(node, dict):
        if "value" in node and "source" in node:
            return node["value"]
        return {k: _strip_sources(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_strip_sources(v) for v in node]
    return node


def load_cost_catalogue(path=None, *, with_sources: bool = False) -> dict:
    """Read the default-parameter catalogue (``simulator/data/costs.yaml``).

    Parameters
    ----------
    path : str or os.PathLike, optional
        Another YAML file of the same layout. Default: the packaged catalogue, read with
        :mod:`importlib.resources`.
    with_sources : bool, keyword-only
        Keep each leaf as ``{"value": ..., "source": ...}``. Default False: leaves are
        replaced by their value, so ``cat["power"]["solar"]["days_of_autonomy"] == 3``.

    Returns
    -------
    dict
        Sections ``station_types``, ``backhaul``, ``power``, ``adoption``, ``economics``.
        A fresh copy on every call (mutating it does not affect later calls).
    """
    if path is None:
        text = resources.files("simulator").joinpath("data/costs.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"cost catalogue {path or 'costs.yaml'} is not a YAML mapping")
    return copy.deepcopy(data) if with_sources else _strip_sources(data)


# --------------------------------------------------------------------------------------
# capex and opex
# --------------------------------------------------------------------------------------

def capex_usd(*, equipment_usd=0.0, pole_or_tower_usd=0.0, civil_works_usd=0.0,
              installation_usd=0.0, power_system_usd=0.0, backhaul_usd=0.0):
    """Up-front cost of a site: the sum of its components (each >= 0, broadcast). [USD]"""
    parts = {
        "equipment_usd": equipment_usd, "pole_or_tower_usd": pole_or_tower_usd,
        "civil_works_usd": civil_works_usd, "installation_usd": installation_usd,
        "power_system_usd": power_system_usd, "backhaul_usd": backhaul_usd,
    }
    total = sum(_check(k, v, 0.0) for k, v in parts.items())
    return _ret(total)


def opex_usd_per_year(*, site_rent_usd=0.0, maintenance_usd=0.0, energy_usd=0.0,
                      backhaul_fees_usd=0.0):
    """Yearly running cost of a site: rent + maintenance + energy + backhaul fees. [USD/year]

    Each component is >= 0 and in USD per year; arrays broadcast.
    """
    parts = {
        "site_rent_usd": site_rent_usd, "maintenance_usd": maintenance_usd,
        "energy_usd": energy_usd, "backhaul_fees_usd": backhaul_fees_usd,
    }
    total = sum(_check(k, v, 0.0) for k, v in parts.items())
    return _ret(total)


def _station(catalogue: Mapping, station_type: str) -> Mapping:
    try:
        types = catalogue["station_types"]
    except (KeyError, TypeError) as exc:
        raise ValueError("catalogue has no 'station_types' section") from exc
    if station_type not in types:
        raise ValueError(f"station_type={station_type!r} is not in the catalogue; "
                         f"allowed: {sorted(types)}")
    return types[station_type]


def station_capex_usd(catalogue: Mapping, station_type: str, *, power_system_usd=0.0,
                      backhaul_usd=0.0):
    """Capex of one station type from a catalogue, plus its power system and backhaul.

    Parameters
    ----------
    catalogue : mapping
        As returned by :func:`load_cost_catalogue` (values only).
    station_type : str
        Key under ``station_types`` (``ruralstar_pro``, ``macro``, ``small_cell``).
    power_system_usd, backhaul_usd : float or array_like, keyword-only
        From :mod:`simulator.business.power` and :mod:`simulator.business.backhaul` (per site). [USD]

    Returns
    -------
    float or ndarray
        Capex per site. [USD]
    """
    c = _station(catalogue, station_type)["capex_usd"]
    return capex_usd(equipment_usd=c["equipment"], pole_or_tower_usd=c["pole_or_tower"],
                     civil_works_usd=c["civil_works"], installation_usd=c["installation"],
                     power_system_usd=power_system_usd, backhaul_usd=backhaul_usd)


def station_opex_usd_per_year(catalogue: Mapping, station_type: str, *, energy_usd=0.0,
                              backhaul_fees_usd=0.0):
    """Opex of one station type from a catalogue, plus energy and backhaul fees. [USD/year]"""
    o = _station(catalogue, station_type)["opex_usd_per_year"]
    return opex_usd_per_year(site_rent_usd=o["site_rent"], maintenance_usd=o["maintenance"],
                             energy_usd=energy_usd, backhaul_fees_usd=backhaul_fees_usd)


# --------------------------------------------------------------------------------------
# discounting
# --------------------------------------------------------------------------------------

def annuity_factor(discount_rate, horizon_years):
    """Present value of 1 USD paid at the end of each year for n years.

    .. math:: a(r, n) = \\frac{1 - (1+r)^{-n}}{r}, \\qquad a(0, n) = n

    Parameters
    ----------
    discount_rate : float or array_like
        Yearly rate r, in [0, 1]. [-]
    horizon_years : int
        n >= 1. [years]

    Returns
    -------
    float or ndarray
        a(r, n). [years]
    """
    r = _check("discount_rate", discount_rate, 0.0, 1.0)
    n = _check_horizon(horizon_years)
    # 1 - (1+r)^-n written as -expm1(-n log1p(r)): no cancellation for tiny r
    safe_r = np.where(r > 0, r, 1.0)
    af = np.where(r > 0, -np.expm1(-n * np.log1p(r)) / safe_r, float(n))
    af = np.where(np.isnan(r), np.nan, af)
    return _ret(af)


def discount_factors(discount_rate, horizon_years):
    """Discount factors :math:`(1+r)^{-t}` for t = 1..n; shape ``shape(r) + (n,)``. [-]"""
    r = _check("discount_rate", discount_rate, 0.0, 1.0)
    n = _check_horizon(horizon_years)
    t = np.arange(1, n + 1, dtype=np.float64)
    return (1.0 + r[..., None]) ** (-t)


def present_value_usd(amount_usd_per_year, discount_rate, horizon_years):
    """Present value of a constant yearly amount over n years: ``amount * a(r, n)``. [USD]

    Parameters
    ----------
    amount_usd_per_year : float or array_like
        Yearly amount (any sign). [USD/year]
    discount_rate, horizon_years
        See :func:`annuity_factor`.
    """
    amount = _check("amount_usd_per_year", amount_usd_per_year)
    return _ret(amount * annuity_factor(discount_rate, horizon_years))


def tco_usd(capex, opex_per_year, discount_rate, horizon_years):
    """Total cost of ownership: capex + present value of opex over the horizon.

    .. math:: TCO = C_0 + O \\cdot a(r, n)

    Parameters
    ----------
    capex : float or array_like
        Up-front cost, >= 0. [USD]
    opex_per_year : float or array_like
        Yearly running cost, >= 0. [USD/year]
    discount_rate : float
        In [0, 1]. [-]
    horizon_years : int
        >= 1. [years]

    Returns
    -------
    float or ndarray
        TCO per site. [USD]
    """
    c = _check("capex_usd", capex, 0.0)
    o = _check("opex_usd_per_year", opex_per_year, 0.0)
    return _ret(c + o * annuity_factor(discount_rate, horizon_years))


def cash_flows_usd(opex_per_year, users_by_year, arpu_usd_per_month):
    """Net operating cash flow of each year: ``12 * ARPU * users(t) - opex``.

    Parameters
    ----------
    opex_per_year : float or array_like
        Yearly running cost, >= 0, shape ``S`` (constant over the years). [USD/year]
    users_by_year : array_like
        Paying users in each year t = 1..n, >= 0, shape ``S + (n,)`` (e.g.
        ``simulator.business.adoption.connected_people(...).people_by_year``). [people]
    arpu_usd_per_month : float or array_like
        Average revenue per user per month, >= 0, shape ``S``. [USD/month]

    Returns
    -------
    ndarray
        Shape ``S + (n,)``. [USD/year]
    """
    o = _check("opex_usd_per_year", opex_per_year, 0.0)
    u = _check("users_by_year", users_by_year, 0.0)
    arpu = _check("arpu_usd_per_month", arpu_usd_per_month, 0.0)
    if u.ndim < 1:
        raise ValueError("users_by_year must have a year axis (last axis), got a scalar")
    return 12.0 * arpu[..., None] * u - o[..., None]


def npv_usd(capex, opex_per_year, users_by_year, arpu_usd_per_month, discount_rate):
    """Net present value of a site over the horizon given by the users' year axis.

    .. math:: NPV = -C_0 + \\sum_{t=1}^{n} \\frac{12\\,ARPU\\,U_t - O}{(1+r)^t}

    Parameters
    ----------
    capex : float or array_like
        Up-front cost, >= 0, shape ``S``. [USD]
    opex_per_year, users_by_year, arpu_usd_per_month
        See :func:`cash_flows_usd`; the horizon n is ``users_by_year.shape[-1]``.
    discount_rate : float or array_like
        In [0, 1], shape ``S``. [-]

    Returns
    -------
    float or ndarray
        NPV per site, shape ``S``. [USD]
    """
    c = _check("capex_usd", capex, 0.0)
    cf = cash_flows_usd(opex_per_year, users_by_year, arpu_usd_per_month)
    df = discount_factors(discount_rate, cf.shape[-1])
    return _ret(-c + np.sum(cf * df, axis=-1))


def payback_year(capex, opex_per_year, users_by_year, arpu_usd_per_month, *,
                 discount_rate=0.0):
    """First year in which the cumulative (discounted) cash flow repays the capex.

    Parameters
    ----------
    capex, opex_per_year, users_by_year, arpu_usd_per_month
        See :func:`npv_usd`.
    discount_rate : float, keyword-only
        0 (default) gives the simple payback; > 0 the discounted payback. [-]

    Returns
    -------
    float or ndarray
        Year t in 1..n (as float) at the end of which the site has paid back, or NaN if it
        does not pay back within the horizon. Shape ``S``. [years]
    """
    c = _check("capex_usd", capex, 0.0)
    cf = cash_flows_usd(opex_per_year, users_by_year, arpu_usd_per_month)
    df = discount_factors(discount_rate, cf.shape[-1])
    cum = np.cumsum(cf * df, axis=-1)
    paid = cum >= c[..., None]
    any_paid = paid.any(axis=-1)
    first = np.argmax(paid, axis=-1).astype(np.float64) + 1.0
    return _ret(np.where(any_paid, first, np.nan))


# --------------------------------------------------------------------------------------
# cost per person
# --------------------------------------------------------------------------------------

def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den with den == 0 -> +inf (num > 0), NaN (num == 0), -inf (num < 0); no warnings."""
    num, den = np.broadcast_arrays(num, den)
    out = np.full(num.shape, np.nan)
    nz = den != 0
    np.divide(num, den, out=out, where=nz)
    out = np.where(~nz & (num > 0), np.inf, out)
    out = np.where(~nz & (num < 0), -np.inf, out)
    return out


def cost_per_person_usd(cost, people):
    """Average cost per person: ``cost / people``.

    Use TCO (or capex) with people *covered* for the cost per person covered, and with
    people *connected* (e.g. the last year of ``people_by_year``) for the cost per person
    connected. Sum over sites first for a programme-level figure.

    Parameters
    ----------
    cost : float or array_like
        Cost, >= 0. [USD]
    people : float or array_like
        People, >= 0. [people]

    Returns
    -------
    float or ndarray
        USD per person; +inf where people is 0 and cost > 0, NaN where both are 0.
        [USD/person]
    """
    c = _check("cost_usd", cost, 0.0)
    p = _check("people", people, 0.0)
    return _ret(_safe_ratio(c, p))


def marginal_cost_per_person_usd(cumulative_cost, cumulative_people):
    """Cost of each extra person reached along a sequence of growing deployments.

    The inputs are cumulative totals along the LAST axis (e.g. programmes with 10, 20, 30
    sites, or sites added in order of cost-effectiveness). Step i costs
    :math:`(C_i - C_{i-1}) / (P_i - P_{i-1})` with :math:`C_{-1} = P_{-1} = 0`, so the first
    entry is the average cost of the first step.

    Parameters
    ----------
    cumulative_cost : array_like
        Cumulative cost, >= 0, shape ``(..., k)``. [USD]
    cumulative_people : array_like
        Cumulative people (covered or connected), >= 0, shape ``(..., k)``. [people]

    Returns
    -------
    ndarray
        Shape ``(..., k)``; +inf where a step adds cost but nobody, NaN where it adds
        neither. [USD/person]
    """
    c = _check("cumulative_cost_usd", cumulative_cost, 0.0)
    p = _check("cumulative_people", cumulative_people, 0.0)
    if c.ndim < 1 or p.ndim < 1:
        raise ValueError("cumulative_cost and cumulative_people need a sequence axis (last axis)")
    dc = np.diff(c, axis=-1, prepend=0.0)
    dp = np.diff(p, axis=-1, prepend=0.0)
    return _safe_ratio(dc, dp)
