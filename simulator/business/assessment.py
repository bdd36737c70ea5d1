"""From covered to connected, and what it costs: the business side of a scenario run.

Orchestration (no I/O): takes what the coverage run produced (the sites, the people each
site serves, the people covered with and without the new sites) and calls the pure models
in :mod:`simulator.business.adoption`, :mod:`simulator.business.backhaul`, :mod:`simulator.business.power` and
:mod:`simulator.business.economics` with the scenario's parameters merged over the sourced defaults
of ``simulator/data/costs.yaml`` (one source of truth: an empty scenario key means "the
catalogue value").

Definitions (docs/economics.md explains them in plain words):

* people connected in year t = people each site serves x that site's potential x F(t); the
  potential (handset x affordability x skills x relevance, or their minimum) varies between
  sites where the income does (:mod:`simulator.business.income`: ``adoption.income_model``);
  training places are spread over the region's whole population; the summary's
  ``adoption_barriers`` says which barrier binds and what a lever would need
  (:mod:`simulator.business.explain`);
* costs per site come from one function, :meth:`simulator.business.costing.CostBasis.
  site_costs`, which ``ruralsim plan`` calls too: new sites get the cheapest feasible
  backhaul, with the existing sites as donors and the fibre nodes of ``backhaul:``; existing
  sites are costed at replacement cost with fibre (if a node is within reach) or satellite,
  so the "network" totals say what the whole network would cost to build; power: the grid
  where it is within reach, else each type's off-grid default; capex = station (equipment,
  pole/tower, civil works, installation) + power system + backhaul; opex = rent +
  maintenance + energy/upkeep + backhaul fees;
* a site built in programme year b (``build_year`` of its group, 0 by default) connects
  ``covered x potential x F(t - b)`` in year t >= b and nobody before; its capex falls in
  year b (discounted by (1+r)^-b) and its opex and revenue from year b+1; payback years
  count from year 0 of the programme, not from the site's build year;
* revenue = 12 x ARPU x the site's connected users in each year;
* totals (``cost_per_person_*``) use the whole network's TCO over all people covered /
  connected; marginal figures (``marginal_cost_per_person_*``) use the new sites' TCO over
  the people newly covered / newly connected (scenario minus the existing network alone).
  People connected are those of the last year of the horizon.
"""

from __future__ import annotations

import copy
import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from . import adoption as ad
from . import economics as ec
from .backhaul import BACKHAUL_OPTIONS
from .costing import CostBasis, SiteCosts, cost_basis
from ..errors import ScenarioError

_log = logging.getLogger("simulator.business")

__all__ = ["BusinessResult", "assess", "resolve_parameters", "scenario_cost_basis",
           "site_incomes"]

_ADOPTION_KEYS = ("smartphone_share", "basic_phone_share", "basic_phone_weight",
                  "price_usd_per_gb", "bundle_gb", "threshold_share",
                  "median_income_usd_per_month", "income_sigma", "skills_baseline_share",
                  "skills_max_share", "training_effectiveness", "combine", "bass_p", "bass_q",
                  "logistic_growth_rate_per_year", "logistic_midpoint_year",
                  "relevance_share", "income_model", "income_density_elasticity",
                  "income_density_radius_km")
_CAPEX_KEYS = {"equipment_usd": "equipment", "pole_or_tower_usd": "pole_or_tower",
               "civil_works_usd": "civil_works", "installation_usd": "installation"}
_OPEX_KEYS = {"site_rent_usd_per_year": "site_rent", "maintenance_usd_per_year": "maintenance"}


def _src(scenario) -> str | None:
    return str(scenario.source_path) if scenario.source_path else None


@contextmanager
def _as_scenario_error(scenario, key: str):
    """Turn a model's ValueError into a ScenarioError naming the scenario key."""
    try:
        yield
    except ValueError as exc:
        raise ScenarioError(str(exc), file=_src(scenario), key=key) from None


def _station_uses(scenario) -> dict[str, str]:
    """Station type -> key path of its first use in ``sites:``."""
    uses: dict[str, str] = {}
    for status in ("existing", "new"):
        for g, group in enumerate(getattr(scenario.sites, status)):
            uses.setdefault(group.station, f"sites.{status}.{g}.station")
    for t, towers in enumerate(getattr(scenario.sites, "existing_towers", None) or []):
        for radio, station in (towers.radio_map or {}).items():
            uses.setdefault(station, f"sites.existing_towers.{t}.radio_map.{radio}")
        if getattr(towers, "default_station", None):
            uses.setdefault(towers.default_station, f"sites.existing_towers.{t}.default_station")
    return uses


def resolve_parameters(scenario, station_names, *, extra_types=(),
                       extra_key: str = "planning.candidates.station") -> dict:
    """The scenario's adoption, economics, backhaul, power and station-cost parameters.

    Catalogue defaults (``simulator/data/costs.yaml``) with the scenario's keys applied.

    Parameters
    ----------
    scenario : Scenario
    station_names : iterable of str
        Every station type the scenario knows (catalogue plus ``stations:``).
    extra_types : iterable of str, keyword-only
        Station types to cost besides those the sites use (the planner's candidates), named
        by ``extra_key`` in an error.

    Returns
    -------
    dict
        ``adoption``, ``economics``, ``traffic``, ``backhaul``, ``power``, ``station_costs``
        (entries for the station types the sites use).

    Raises
    ------
    ScenarioError
        A station type used by a site with no cost entry, a cost entry for an unknown type,
        shares that add up to more than 1, every backhaul option disabled.
    """
    cat = ec.load_cost_catalogue()
    src = _src(scenario)

    spec = scenario.adoption
    adopt = {k: (getattr(spec, k) if getattr(spec, k) is not None else cat["adoption"][k])
             for k in _ADOPTION_KEYS}
    adopt["training_places"] = spec.training_places
    adopt["curve"] = spec.curve
    if spec.income_raster is not None:        # absent otherwise (no null in the report)
        adopt["income_raster"] = spec.income_raster.model_dump()
    if adopt["income_model"] == "raster" and spec.income_raster is None:
        raise ScenarioError("income_model 'raster' needs income_raster: {file: income.tif}",
                            file=src, key="adoption.income_model", value="raster")
    if spec.income_raster is not None:
        from ..pipeline.runner import resolve_path

        path = resolve_path(scenario, spec.income_raster.file)
        if not path.is_file():
            raise ScenarioError(f"income raster not found at {path} (paths are relative to "
                                "the scenario file's folder)", file=src,
                                key="adoption.income_raster.file", value=spec.income_raster.file)
    if adopt["smartphone_share"] + adopt["basic_phone_share"] > 1.0 + 1e-12:
        key = ("adoption.basic_phone_share" if spec.basic_phone_share is not None
               else "adoption.smartphone_share")
        raise ScenarioError(
            f"smartphone_share + basic_phone_share = {adopt['smartphone_share']:g} + "
            f"{adopt['basic_phone_share']:g} is more than 1; allowed: shares adding up to "
            "at most 1", file=src, key=key,
            value=getattr(spec, key.split(".")[1]))

    e = scenario.economics
    econ = {k: (getattr(e, k) if getattr(e, k) is not None else cat["economics"][k])
            for k in ("horizon_years", "discount_rate", "arpu_usd_per_month")}
    econ["horizon_years"] = int(econ["horizon_years"])
    econ["discounted_payback"] = e.discounted_payback
    _check_build_years(scenario, econ["horizon_years"])

    b = scenario.backhaul
    traffic = {k: getattr(scenario.capacity, k)
               for k in ("busy_hour_active_share", "mbps_per_active_user")}
    backhaul = copy.deepcopy(cat["backhaul"])
    for name, change in b.options.items():
        if not change.enabled:
            backhaul.pop(name, None)
            continue
        backhaul[name].update(change.model_dump(exclude_none=True, exclude={"enabled"}))
    if not backhaul:
        raise ScenarioError("every backhaul option is disabled; allowed: keep at least one "
                            "(satellite is available everywhere)", file=src,
                            key="backhaul.options")

    p = scenario.power
    power = copy.deepcopy(cat["power"])
    for key, (section, name) in {
            "grid_max_distance_m": ("grid", "max_distance_m"),
            "grid_tariff_usd_per_kwh": ("grid", "tariff_usd_per_kwh"),
            "solar_yield_kwh_per_kwp_per_day": ("solar", "yield_kwh_per_kwp_per_day"),
            "solar_days_of_autonomy": ("solar", "days_of_autonomy"),
            "diesel_fuel_price_usd_per_l": ("diesel", "fuel_price_usd_per_l")}.items():
        if getattr(p, key) is not None:
            power[section][name] = getattr(p, key)

    known = set(station_names)
    cat_types = cat["station_types"]
    for name in e.station_costs:
        if name not in known:
            raise ScenarioError(f"not a station type of this scenario; allowed: "
                                f"{', '.join(sorted(known))}", file=src,
                                key=f"economics.station_costs.{name}", value=name)
    costs: dict[str, dict] = {}
    uses = _station_uses(scenario)
    for name in extra_types:
        uses.setdefault(name, extra_key)
    for name, where in uses.items():
        sc = e.station_costs.get(name)
        if sc is None:
            if name not in cat_types:
                raise ScenarioError(
                    f"station type '{name}' has no cost entry (the cost catalogue has "
                    f"{', '.join(sorted(cat_types))}); add economics.station_costs.{name} "
                    f"with base: <one of those> or all its capex and opex keys",
                    file=src, key=where, value=name)
            entry = copy.deepcopy(cat_types[name])
        else:
            base = sc.base if sc.base is not None else (name if name in cat_types else None)
            if base is not None and base not in cat_types:
                raise ScenarioError(f"unknown cost-catalogue station type; allowed: "
                                    f"{', '.join(sorted(cat_types))}", file=src,
                                    key=f"economics.station_costs.{name}.base", value=base)
            if base is None:
                missing = [k for k in (*_CAPEX_KEYS, *_OPEX_KEYS) if getattr(sc, k) is None]
                if missing:
                    raise ScenarioError(
                        f"station type '{name}' is not in the cost catalogue, so its cost "
                        f"entry needs base: ({', '.join(sorted(cat_types))}) or every cost "
                        f"key; missing: {', '.join(missing)}", file=src,
                        key=f"economics.station_costs.{name}")
                entry = {"capex_usd": {}, "opex_usd_per_year": {}, "default_power": "solar"}
            else:
                entry = copy.deepcopy(cat_types[base])
            for k, leaf in _CAPEX_KEYS.items():
                if getattr(sc, k) is not None:
                    entry["capex_usd"][leaf] = getattr(sc, k)
            for k, leaf in _OPEX_KEYS.items():
                if getattr(sc, k) is not None:
                    entry["opex_usd_per_year"][leaf] = getattr(sc, k)
            if sc.off_grid_power is not None:
                entry["default_power"] = sc.off_grid_power
        if p.off_grid is not None and (sc is None or sc.off_grid_power is None):
            entry["default_power"] = p.off_grid
        costs[name] = entry
    return {"adoption": adopt, "economics": econ, "traffic": traffic, "backhaul": backhaul,
            "power": power, "station_costs": costs}


def _check_build_years(scenario, horizon_years: int) -> None:
    """Existing sites are on air (build year 0); new ones are built before the horizon."""
    src = _src(scenario)
    for status in ("existing", "new"):
        for g, group in enumerate(getattr(scenario.sites, status)):
            key = f"sites.{status}.{g}"
            found = [(f"{key}.build_year", group.build_year)]
            found += [(f"{key}.positions.{p}.build_year", pos.build_year)
                      for p, pos in enumerate(group.positions or []) if pos.build_year is not None]
            for where, year in found:
                if status == "existing" and year:
                    raise ScenarioError("an existing site is on air already; allowed: 0 "
                                        "(build_year goes with sites.new groups)", file=src,
                                        key=where, value=year)
                if year >= horizon_years:
                    raise ScenarioError(
                        f"a site built in year {year} earns nothing within the horizon of "
                        f"{horizon_years} years; allowed: 0..{horizon_years - 1} (or raise "
                        "economics.horizon_years)", file=src, key=where, value=year)


def _site_npv_payback(capex, opex, connected, arpu, rate, pb_rate, build):
    """NPV (discounted to year 0) and payback year (counted from year 0) of each site; a
    site built in year b: (1+r)^-b x its NPV over years b+1..n, b + its own payback."""
    n = len(capex)
    if not np.any(build):                     # everything at the start: as before
        npv = np.asarray(ec.npv_usd(capex, opex, connected, arpu, rate)).reshape(n)
        payback = np.asarray(ec.payback_year(capex, opex, connected, arpu,
                                             discount_rate=pb_rate)).reshape(n)
        return npv, payback
    npv, payback = np.zeros(n), np.full(n, np.nan)
    for b in np.unique(build).tolist():
        m = build == b
        own = connected[m, b:]                 # years b+1..n (column t-1 is year t)
        npv[m] = (1.0 + rate) ** (-b) * np.asarray(
            ec.npv_usd(capex[m], opex[m], own, arpu, rate)).reshape(-1)
        payback[m] = b + np.asarray(ec.payback_year(capex[m], opex[m], own, arpu,
                                                    discount_rate=pb_rate)).reshape(-1)
    return npv, payback


def _group_payback(capex, opex, users, arpu, pb_rate, build) -> float:
    """Payback year (from year 0) of a group of sites built in different years: the first
    year t after the last build year whose cumulative (discounted) cash flow, every capex
    counted in its build year, is >= 0; NaN if none within the horizon."""
    n_years = users.shape[-1]
    t = np.arange(1, n_years + 1)
    df = (1.0 + pb_rate) ** (-t.astype(np.float64))
    running = t[None, :] > build[:, None]
    net = 12.0 * arpu * users - np.sum(np.where(running, opex[:, None], 0.0), axis=0)
    paid_out = np.zeros(n_years + 1)
    np.add.at(paid_out, build, capex)
    capex_pv = np.cumsum(paid_out * (1.0 + pb_rate) ** (-np.arange(n_years + 1.0)))[1:]
    cum = np.cumsum(net * df) - capex_pv
    ok = (cum >= 0) & (t > build.max())
    return float(t[np.argmax(ok)]) if ok.any() else math.nan


@dataclass
class BusinessResult:
    """Adoption, backhaul, power and costs of a run (arrays per site, in ``sites`` order).

    Attributes
    ----------
    params : dict
        The parameters used (see :func:`resolve_parameters`).
    shares : dict
        ``handset``, ``affordability``, ``skills``, ``potential`` shares [-].
    fraction_by_year : ndarray, shape (n_years,)
        Share of covered people connected at the end of each year [-].
    connected_by_year : ndarray, shape (n_sites, n_years)
        Connected people per site and year (expected values, not rounded) [people].
    connected_total_by_year, connected_baseline_by_year : ndarray, shape (n_years,)
        Connected people with all sites / with the existing sites alone [people].
    demand_mbps, backhaul_capacity_mbps : ndarray
        Busy-hour demand and capacity of the chosen link [Mbit/s].
    backhaul, power : ndarray of str
        Chosen option per site.
    backhaul_capacity_exceeded : ndarray of bool
    capex_usd, opex_usd_per_year, tco_usd, npv_usd, payback_years : ndarray
        Per site [USD], [USD/year], [USD], [USD], [years] (NaN: no payback in the horizon).
    co2_kg_per_year : ndarray
        From the power system [kg/year].
    costs : SiteCosts
        The per-site cost breakdown (:meth:`simulator.business.costing.CostBasis.site_costs`).
    income_usd_per_month, affordability_by_site, potential_by_site : ndarray
        Median income of each site's users [USD/month], their affordability and adoption
        potential [-].
    binding_by_site : ndarray of str
        The smallest barrier at each site (:data:`simulator.business.adoption.BARRIERS`).
    build_year : ndarray of int
        Programme year each site is built in (0: at the start) [years].
    """

    params: dict
    shares: dict
    fraction_by_year: np.ndarray
    connected_by_year: np.ndarray
    connected_total_by_year: np.ndarray
    connected_baseline_by_year: np.ndarray
    demand_mbps: np.ndarray
    backhaul: np.ndarray
    backhaul_capacity_mbps: np.ndarray
    backhaul_capacity_exceeded: np.ndarray
    power: np.ndarray
    capex_usd: np.ndarray
    opex_usd_per_year: np.ndarray
    tco_usd: np.ndarray
    npv_usd: np.ndarray
    payback_years: np.ndarray
    co2_kg_per_year: np.ndarray
    costs: SiteCosts | None = None
    income_usd_per_month: np.ndarray | None = None
    affordability_by_site: np.ndarray | None = None
    potential_by_site: np.ndarray | None = None
    binding_by_site: np.ndarray | None = None
    summary: dict = field(default_factory=dict)
    build_year: np.ndarray | None = None


def _num(x, ndigits: int = 2):
    """A JSON-safe rounded float: None for NaN or infinity."""
    x = float(x)
    return round(x, ndigits) if math.isfinite(x) else None


def _people(x) -> int:
    return int(round(float(x)))


def scenario_cost_basis(scenario, grid, sites, stations, *, params=None, dem=None,
                        extra_types=()) -> CostBasis:
    """The :class:`~simulator.business.costing.CostBasis` of a scenario whose existing sites
    are those of ``sites`` (donors, fibre nodes and grid points as ``backhaul:`` and
    ``power:`` say). ``params`` default: :func:`resolve_parameters` (with ``extra_types``)."""
    if params is None:
        params = resolve_parameters(scenario, stations, extra_types=extra_types)
    ex = np.asarray(sites.existing, dtype=bool)
    xy = np.column_stack([np.asarray(sites.x_m, float), np.asarray(sites.y_m, float)])
    st = [t for t, e in zip(sites.station, ex) if e]
    return cost_basis(scenario, grid, stations, xy.reshape(-1, 2)[ex], st, params=params,
                      dem=dem)


def site_incomes(scenario, params, grid, population, xy) -> dict:
    """Median income of each site's users (:func:`simulator.business.income.
    site_incomes_usd_per_month`) for the scenario's ``adoption.income_model``."""
    from .income import site_incomes_usd_per_month

    a = params["adoption"]
    model = a["income_model"]
    if model == "density" and population is None:
        model = "uniform"          # no people given (a direct call): one income
    raster = None
    if model == "raster":
        from ..io.income import sample_income_raster
        from ..pipeline.runner import resolve_path

        spec = a["income_raster"]
        raster = sample_income_raster(resolve_path(scenario, spec["file"]), xy, grid.crs,
                                      band=spec["band"], scenario_file=_src(scenario))
    with _as_scenario_error(scenario, "adoption"):
        return site_incomes_usd_per_month(
            a["median_income_usd_per_month"], model=model, grid=grid, population=population,
            site_xy_m=xy, elasticity=a["income_density_elasticity"],
            radius_km=a["income_density_radius_km"], raster_values=raster)


def assess(scenario, grid, sites, stations, people_served_per_site, *, population_total,
           people_covered, people_covered_existing, dem=None, population=None) -> BusinessResult:
    """Adoption, backhaul, power and costs of every site of a run.

    Parameters
    ----------
    scenario : Scenario
    grid : Grid
        For the CRS of explicit fibre nodes / grid points.
    sites : Sites
    stations : dict of StationType
        For each type's power draw [W].
    people_served_per_site : ndarray, shape (n_sites,)
        People in covered cells whose best server is each site [people].
    population_total, people_covered, people_covered_existing : int
        People in the region, covered by all sites, covered by the existing sites alone.
    dem : ndarray, optional
        Elevation per cell, for the line of sight of backhaul links [m].
    population : Population, optional
        People per cell and settlements, for ``adoption.income_model: density`` (without
        it, one income for the whole region).

    Returns
    -------
    BusinessResult
    """
    from .explain import adoption_explanation

    params = resolve_parameters(scenario, stations)
    a, econ = params["adoption"], params["economics"]
    n_years, rate, arpu = econ["horizon_years"], econ["discount_rate"], econ["arpu_usd_per_month"]
    n = len(sites)
    xy = np.column_stack([np.asarray(sites.x_m, float), np.asarray(sites.y_m, float)])
    xy = xy.reshape(n, 2)
    ex = np.asarray(sites.existing, dtype=bool)
    served = np.asarray(people_served_per_site, dtype=np.float64)
    build = getattr(sites, "build_year", None)
    build = np.zeros(n, np.int64) if build is None else np.asarray(build, np.int64).reshape(n)
    if n and build.max() >= n_years:
        i = int(np.argmax(build))
        raise ScenarioError(f"site '{sites.names[i]}' is built in year {int(build[i])}, not "
                            f"before the horizon of {n_years} years; allowed: "
                            f"0..{n_years - 1}", file=_src(scenario),
                            key="economics.horizon_years", value=n_years)

    # ---- adoption: one potential per site (its users' income)
    incomes = site_incomes(scenario, params, grid, population, xy)
    income = incomes["income_usd_per_month"]
    h, aff, k, r, pot = _adoption_shares(scenario, a, income, population_total, n)
    with _as_scenario_error(scenario, "adoption"):
        frac_site = np.asarray(ad.connected_fraction_by_year(
            n_years, pot, curve=a["curve"], p=a["bass_p"], q=a["bass_q"],
            growth_rate_per_year=a["logistic_growth_rate_per_year"],
            midpoint_year=a["logistic_midpoint_year"])).reshape(n, n_years)
        bound = np.asarray(ad.binding_barrier(h, aff, k, r), dtype=np.int64).reshape(n)
    if np.any(build):
        # a site built in year b connects potential x F(t - b) in year t > b, nobody before
        t_since = np.arange(1, n_years + 1)[None, :] - build[:, None]
        frac_site = np.where(t_since >= 1, np.take_along_axis(
            frac_site, np.clip(t_since - 1, 0, n_years - 1), axis=1), 0.0)
    connected = served[:, None] * frac_site                       # (n_sites, n_years)
    connected_total = connected.sum(axis=0)
    total_served = float(served.sum())
    frac = (connected_total / total_served if total_served > 0 else
            (frac_site.mean(axis=0) if n else np.zeros(n_years)))
    # the existing sites alone: their people covered at the existing sites' mean fraction
    if ex.any():
        w_ex = served[ex]
        f_ex = (np.sum(w_ex[:, None] * frac_site[ex], axis=0) / w_ex.sum() if w_ex.sum() > 0
                else frac_site[ex].mean(axis=0))
    else:
        f_ex = np.zeros(n_years)
    # (never above the whole network's: a new site that takes over people from an existing
    # one gives them its own place's potential, which may be lower)
    connected_base = np.minimum(float(people_covered_existing) * f_ex, connected_total)

    # ---- costs: the one cost basis (the planner uses the same function)
    with _as_scenario_error(scenario, "backhaul"):
        basis = scenario_cost_basis(scenario, grid, sites, stations, params=params, dem=dem)
        c = basis.site_costs(xy, sites.station, existing=ex, people_served=served)
    if n and np.any(c.backhaul == "none"):
        i = int(np.flatnonzero(c.backhaul == "none")[0])
        raise ScenarioError(f"site '{sites.names[i]}' has no feasible backhaul option "
                            f"(enabled: {', '.join(params['backhaul'])}); allowed: keep "
                            "satellite enabled or put a fibre node or donor within reach",
                            file=_src(scenario), key="backhaul.options")
    with _as_scenario_error(scenario, "economics"):
        pb_rate = rate if econ["discounted_payback"] else 0.0
        npv, payback = _site_npv_payback(np.asarray(c.capex_usd, np.float64).reshape(n),
                                         np.asarray(c.opex_usd_per_year, np.float64).reshape(n),
                                         connected, arpu, rate, pb_rate, build)

    w = np.where(served > 0, served, 0.0)
    res = BusinessResult(
        params=params,
        shares={"handset": float(h),
                "affordability": (float(np.sum(aff * w) / w.sum()) if w.sum() > 0 else
                                  (float(aff.mean()) if n else float("nan"))),
                "skills": float(k), "relevance": float(r),
                "potential": (float(np.sum(pot * w) / w.sum()) if w.sum() > 0 else
                              (float(pot.mean()) if n else 0.0))},
        fraction_by_year=frac, connected_by_year=connected,
        connected_total_by_year=connected_total, connected_baseline_by_year=connected_base,
        demand_mbps=c.demand_mbps, backhaul=c.backhaul,
        backhaul_capacity_mbps=c.backhaul_capacity_mbps,
        backhaul_capacity_exceeded=c.backhaul_capacity_exceeded, power=c.power,
        capex_usd=c.capex_usd, opex_usd_per_year=c.opex_usd_per_year, tco_usd=c.tco_usd,
        npv_usd=npv, payback_years=payback, co2_kg_per_year=c.co2_kg_per_year, costs=c,
        income_usd_per_month=income, affordability_by_site=aff, potential_by_site=pot,
        binding_by_site=np.asarray(ad.BARRIERS, dtype=object)[bound] if n else
        np.zeros(0, dtype=object), build_year=build)
    res.summary = _summary(res, sites, served, people_covered, people_covered_existing)
    res.summary["adoption_barriers"] = adoption_explanation(
        a, handset=float(h), affordability_by_site=aff, skills=float(k), relevance=float(r),
        served=served, income_by_site=income, population_total=int(population_total),
        income_model=incomes["model"])
    ab = res.summary["adoption_barriers"]
    _log.info("adoption: %s binds (%s); income %s", ab["binding"],
              ", ".join(f"{k} {v}" for k, v in ab["shares"].items()), incomes["model"])
    return res


def _group(r: BusinessResult, mask: np.ndarray, people_covered: float,
           people_connected: float) -> dict:
    """Totals of a group of sites; cost per person over the people given."""
    econ = r.params["economics"]
    capex = float(r.capex_usd[mask].sum())
    opex = float(r.opex_usd_per_year[mask].sum())
    tco = float(r.tco_usd[mask].sum())
    users = r.connected_by_year[mask].sum(axis=0)
    pb_rate = econ["discount_rate"] if econ["discounted_payback"] else 0.0
    build = r.build_year[mask] if r.build_year is not None else np.zeros(0, np.int64)
    if not mask.any():
        payback = math.nan
    elif np.any(build):
        payback = _group_payback(r.capex_usd[mask], r.opex_usd_per_year[mask], users,
                                 econ["arpu_usd_per_month"], pb_rate, build)
    else:
        payback = ec.payback_year(capex, opex, users, econ["arpu_usd_per_month"],
                                  discount_rate=pb_rate)
    return {
        "capex_usd": _num(capex),
        "opex_usd_per_year": _num(opex),
        "tco_usd": _num(tco),
        "npv_usd": _num(r.npv_usd[mask].sum()),
        "payback_years": _num(payback, 0),
        "cost_per_person_covered_usd": _num(ec.cost_per_person_usd(tco, people_covered)),
        "cost_per_person_connected_usd": _num(ec.cost_per_person_usd(tco, people_connected)),
    }


def _summary(r: BusinessResult, sites, served, people_covered, people_covered_existing) -> dict:
    econ, a = r.params["economics"], r.params["adoption"]
    ex = np.asarray(sites.existing, dtype=bool)
    new = ~ex
    allm = np.ones(len(ex), dtype=bool)
    conn_last = float(r.connected_total_by_year[-1])
    newly_last = float(r.connected_total_by_year[-1] - r.connected_baseline_by_year[-1])
    network = _group(r, allm, people_covered, conn_last)
    marginal = _group(r, new, people_covered - people_covered_existing, newly_last)
    by_type = {}
    for t in dict.fromkeys(sites.station):
        m = np.array([s == t for s in sites.station], dtype=bool)
        cov_t = float(served[m].sum())
        conn_t = float(r.connected_by_year[m, -1].sum())
        by_type[t] = {"sites_existing": int((m & ex).sum()), "sites_new": int((m & new).sum()),
                      "people_covered": _people(cov_t), "people_connected": _people(conn_t),
                      **_group(r, m, cov_t, conn_t)}
    return {
        "horizon_years": econ["horizon_years"],
        "discount_rate": econ["discount_rate"],
        "people_connected": _people(conn_last),
        "people_connected_fraction_of_covered": (round(conn_last / people_covered, 6)
                                                 if people_covered else 0.0),
        "people_connected_by_year": [_people(v) for v in r.connected_total_by_year],
        "people_newly_connected": _people(newly_last),
        "people_connected_by_existing_sites": _people(r.connected_baseline_by_year[-1]),
        "adoption_shares": {k: (round(v, 6) if math.isfinite(v) else None)
                            for k, v in r.shares.items()},
        "capex_usd": marginal["capex_usd"],
        "opex_usd_per_year": marginal["opex_usd_per_year"],
        "tco_usd": marginal["tco_usd"],
        "npv_usd": marginal["npv_usd"],
        "payback_years": marginal["payback_years"],
        "cost_per_person_covered_usd": network["cost_per_person_covered_usd"],
        "cost_per_person_connected_usd": network["cost_per_person_connected_usd"],
        "marginal_cost_per_person_covered_usd": marginal["cost_per_person_covered_usd"],
        "marginal_cost_per_person_connected_usd": marginal["cost_per_person_connected_usd"],
        "network_capex_usd": network["capex_usd"],
        "network_opex_usd_per_year": network["opex_usd_per_year"],
        "network_tco_usd": network["tco_usd"],
        "network_npv_usd": network["npv_usd"],
        "by_station_type": by_type,
        "backhaul_new_sites": {o: int(np.sum(r.backhaul[new] == o)) for o in BACKHAUL_OPTIONS
                               if np.any(r.backhaul[new] == o)},
        "backhaul_capacity_exceeded_sites": int(r.backhaul_capacity_exceeded.sum()),
        "power_new_sites": {o: int(np.sum(r.power[new] == o)) for o in ("grid", "solar", "diesel")
                            if np.any(r.power[new] == o)},
        "co2_t_per_year_new_sites": _num(r.co2_kg_per_year[new].sum() / 1000.0, 3),
        "assumptions": {
            "price_usd_per_gb": a["price_usd_per_gb"],
            "median_income_usd_per_month": a["median_income_usd_per_month"],
            "income_model": a["income_model"],
            "threshold_share": a["threshold_share"],
            "training_places": a["training_places"],
            "combine": a["combine"],
            "curve": a["curve"],
            "arpu_usd_per_month": econ["arpu_usd_per_month"],
        },
    }


def _adoption_shares(scenario, a, income, population_total, n):
    """Handset, affordability (per position, from ``income``), skills and relevance shares
    and the adoption potential they combine to (per position) [0-1]."""
    with _as_scenario_error(scenario, "adoption"):
        h = ad.handset_share(a["smartphone_share"], a["basic_phone_share"],
                             basic_phone_weight=a["basic_phone_weight"])
        aff = np.asarray(ad.affordability_share(
            a["price_usd_per_gb"], income, a["income_sigma"], bundle_gb=a["bundle_gb"],
            threshold_share=a["threshold_share"]), dtype=np.float64).reshape(n)
        k = ad.skills_share(a["skills_baseline_share"], a["training_places"],
                            max(population_total, 1), max_share=a["skills_max_share"],
                            training_effectiveness=a["training_effectiveness"])
        r = a["relevance_share"]
        pot = np.asarray(ad.adoption_potential(h, aff, k, r, combine=a["combine"]),
                         dtype=np.float64).reshape(n)
    return h, aff, k, r, pot


def adoption_potential_at(scenario, params, grid, population, xy, *, population_total):
    """Adoption potential (share of covered people who can connect) at positions ``xy``.

    The same chain :func:`assess` applies per site (handset, affordability from the median
    income at the position for ``adoption.income_model``, skills, relevance), for any
    positions: the programme weighs cells and locations with it.

    Returns
    -------
    ndarray, shape (n,)
        Potential per position [0-1].
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    income = site_incomes(scenario, params, grid, population, xy)["income_usd_per_month"]
    return _adoption_shares(scenario, params["adoption"], income, population_total,
                            xy.shape[0])[4]
